/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature checks against the zone's keys. truth validates the zone's DNSKEY RRset from the
 * trust anchor (libunbound); these functions check with ldns whether the data a resolver
 * serves is signed by those keys. That is how a non-validating resolver that still serves
 * the 2009 interim zone's bad RRSIG is caught (verdict bogus_data).
 *
 *	struct cs_keyset *keys = NULL;
 *	cs_keyset_from_truth(truth, &keys, &err);   // NULL when the zone is not secure
 *	spec.keys = keys;                           // the engine checks unvalidated answers
 *	...
 *	cs_keyset_free(keys);
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <cachesweep/error.h>
#include <cachesweep/observe.h>

struct cs_truth;
struct cs_keyset;

/**
 * The zone's DNSKEYs from truth. *out is NULL (and the result CS_OK) when truth holds no
 * secure DNSKEY RRset: nothing can be checked then.
 */
enum cs_errc cs_keyset_from_truth(const struct cs_truth *truth, struct cs_keyset **out,
				  struct cs_error *err);

/** Build a keyset from a DNSKEY answer packet (wire format) for zone. */
enum cs_errc cs_keyset_from_packet(const char *zone, const uint8_t *packet, size_t len,
				   struct cs_keyset **out, struct cs_error *err);

/** Number of keys in the set. */
size_t cs_keyset_count(const struct cs_keyset *ks);

void cs_keyset_free(struct cs_keyset *ks);

/**
 * Check the RRSIGs over the RRset (owner, qtype) in the answer section of reply (a reply
 * already accepted by the wire reader) at time now_s (UNIX seconds; RRSIG validity periods
 * are checked against it). Fills *out; never fails: what cannot be checked is
 * CS_SIG_UNCHECKED. Signatures by a zone other than the keyset's are CS_SIG_OTHER_SIGNER.
 */
void cs_dnssec_check(const struct cs_keyset *ks, const char *owner, uint16_t qtype,
		     const uint8_t *reply, size_t len, int64_t now_s, struct cs_sig_facts *out);

/**
 * Check a trust-anchor file (DS or DNSKEY records in zone-file format, as Unbound reads
 * them) before libunbound gets it: libunbound would only fail later, vaguely. Counts the
 * anchors into *n_anchors.
 * \return CS_OK; CS_ECONFIG when unreadable, unparsable (with the line) or without any
 *         DS/DNSKEY record.
 */
enum cs_errc cs_trust_anchor_file_check(const char *path, size_t *n_anchors, struct cs_error *err);

/** "valid", "bogus", "missing", "other_signer", "unchecked". */
const char *cs_sig_state_name(enum cs_sig_state s);
