/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RRSIG checks with ldns against the zone keys truth validated (RFC 4035 §5.3). The reply is
 * parsed again here: it was accepted by wire.c, so it parses, but nothing in it is trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>

#include <cachesweep/alloc.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/truth.h>

struct cs_keyset {
	ldns_rdf *zone;
	ldns_rr_list *keys; /**< deep copies, owned */
};

static const char *const sig_states[] = {
	[CS_SIG_UNCHECKED] = "unchecked",
	[CS_SIG_VALID] = "valid",
	[CS_SIG_BOGUS] = "bogus",
	[CS_SIG_MISSING] = "missing",
	[CS_SIG_OTHER_SIGNER] = "other_signer",
};

const char *cs_sig_state_name(enum cs_sig_state s)
{
	if ((unsigned)s >= sizeof(sig_states) / sizeof(sig_states[0])) {
		return "unchecked";
	}
	return sig_states[s];
}

void cs_keyset_free(struct cs_keyset *ks)
{
	if (ks == NULL) {
		return;
	}
	ldns_rdf_deep_free(ks->zone);
	ldns_rr_list_deep_free(ks->keys);
	cs_free(ks);
}

size_t cs_keyset_count(const struct cs_keyset *ks)
{
	return ks == NULL ? 0 : ldns_rr_list_rr_count(ks->keys);
}

enum cs_errc cs_keyset_from_packet(const char *zone, const uint8_t *packet, size_t len,
				   struct cs_keyset **out, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	ldns_pkt *pkt = NULL;
	struct cs_keyset *ks = NULL;
	const ldns_rr_list *an = NULL;

	*out = NULL;
	if (ldns_wire2pkt(&pkt, packet, len) != LDNS_STATUS_OK) {
		return cs_error_set(err, CS_ETRUTH,
				    "truth: the DNSKEY answer for %s does not parse", zone);
	}
	ks = cs_calloc(1, sizeof(*ks));
	if (ks == NULL || (ks->keys = ldns_rr_list_new()) == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		goto out;
	}
	if (ldns_str2rdf_dname(&ks->zone, zone) != LDNS_STATUS_OK) {
		rc = cs_error_set(err, CS_EINVAL, "cannot encode zone name %s", zone);
		goto out;
	}
	an = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY ||
		    ldns_dname_compare(ldns_rr_owner(rr), ks->zone) != 0) {
			continue;
		}
		ldns_rr *copy = ldns_rr_clone(rr);
		if (copy == NULL || !ldns_rr_list_push_rr(ks->keys, copy)) {
			ldns_rr_free(copy);
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (ldns_rr_list_rr_count(ks->keys) > 0) {
		*out = ks;
		ks = NULL;
	}
out:
	cs_keyset_free(ks);
	ldns_pkt_free(pkt);
	return rc;
}

enum cs_errc cs_keyset_from_truth(const struct cs_truth *truth, struct cs_keyset **out,
				  struct cs_error *err)
{
	*out = NULL;
	if (truth == NULL || truth->dnskey_packet == NULL || truth->dnskey_packet_len == 0) {
		return CS_OK;
	}
	return cs_keyset_from_packet(truth->zone, truth->dnskey_packet, truth->dnskey_packet_len,
				     out, err);
}

static uint16_t rrsig_covered(const ldns_rr *sig)
{
	const ldns_rdf *c = ldns_rr_rd_count(sig) > 0 ? ldns_rr_rdf(sig, 0) : NULL;
	return c != NULL && ldns_rdf_size(c) == 2 ? ldns_rdf2native_int16(c) : 0;
}

static void note_sig(const ldns_rr *sig, struct cs_sig_facts *out)
{
	const ldns_rdf *tag = ldns_rr_rrsig_keytag(sig);
	const ldns_rdf *alg = ldns_rr_rrsig_algorithm(sig);
	out->key_tag = tag != NULL && ldns_rdf_size(tag) == 2 ? ldns_rdf2native_int16(tag) : 0;
	out->algorithm = alg != NULL && ldns_rdf_size(alg) == 1 ? ldns_rdf2native_int8(alg) : 0;
}

void cs_dnssec_check(const struct cs_keyset *ks, const char *owner, uint16_t qtype,
		     const uint8_t *reply, size_t len, int64_t now_s, struct cs_sig_facts *out)
{
	ldns_pkt *pkt = NULL;
	ldns_rdf *name = NULL;
	ldns_rr_list *rrset = NULL; /* pointers into pkt, not owned */
	ldns_rr_list *sigs = NULL;  /* pointers into pkt, not owned */
	const ldns_rr_list *an = NULL;
	bool checked = false;

	memset(out, 0, sizeof(*out));
	if (ks == NULL || ldns_wire2pkt(&pkt, reply, len) != LDNS_STATUS_OK ||
	    ldns_str2rdf_dname(&name, owner) != LDNS_STATUS_OK ||
	    (rrset = ldns_rr_list_new()) == NULL || (sigs = ldns_rr_list_new()) == NULL) {
		goto out;
	}
	an = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), name) != 0) {
			continue;
		}
		bool ok = true;
		if ((uint16_t)ldns_rr_get_type(rr) == qtype) {
			ok = ldns_rr_list_push_rr(rrset, rr);
		} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
			   rrsig_covered(rr) == qtype) {
			ok = ldns_rr_list_push_rr(sigs, rr);
		}
		if (!ok) {
			goto out; /* out of memory: unchecked */
		}
	}
	if (ldns_rr_list_rr_count(rrset) == 0) {
		goto out;
	}
	if (ldns_rr_list_rr_count(sigs) == 0) {
		out->state = CS_SIG_MISSING;
		goto out;
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
		const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
		const ldns_rdf *signer = ldns_rr_rrsig_signame(sig);
		if (signer == NULL || ldns_dname_compare(signer, ks->zone) != 0) {
			continue;
		}
		ldns_status st =
			ldns_verify_rrsig_keylist_time(rrset, sig, ks->keys, (time_t)now_s, NULL);
		if (st == LDNS_STATUS_OK) {
			note_sig(sig, out);
			out->state = CS_SIG_VALID;
			out->reason[0] = '\0';
			goto out;
		}
		if (!checked) {
			note_sig(sig, out);
			const char *why = ldns_get_errorstr_by_id(st);
			(void)cs_strlcpy(out->reason, why != NULL ? why : "verification failed",
					 sizeof(out->reason));
		}
		checked = true;
	}
	out->state = checked ? CS_SIG_BOGUS : CS_SIG_OTHER_SIGNER;
out:
	ldns_rr_list_free(sigs);
	ldns_rr_list_free(rrset);
	ldns_rdf_deep_free(name);
	ldns_pkt_free(pkt);
}

#define TA_FILE_MAX_RRS 1000 /* a trust-anchor file is a handful of records */

enum cs_errc cs_trust_anchor_file_check(const char *path, size_t *n_anchors, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	uint32_t ttl = 3600;
	ldns_rdf *origin = NULL;
	ldns_rdf *prev = NULL;
	int line = 1;
	size_t n_rrs = 0;

	*n_anchors = 0;
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		int e = errno;
		return cs_error_set(err, CS_ECONFIG, "trust_anchor_file %s: cannot open: %s", path,
				    strerror(e));
	}
	struct stat st_file;
	if (fstat(fileno(fp), &st_file) != 0 || !S_ISREG(st_file.st_mode)) {
		(void)fclose(fp);
		return cs_error_set(err, CS_ECONFIG, "trust_anchor_file %s: not a regular file",
				    path);
	}
	while (!feof(fp) && !ferror(fp) && n_rrs < TA_FILE_MAX_RRS) {
		ldns_rr *rr = NULL;
		const int start = line; /* one call reads one RR, comments before it too */
		ldns_status st = ldns_rr_new_frm_fp_l(&rr, fp, &ttl, &origin, &prev, &line);
		if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
		    st == LDNS_STATUS_SYNTAX_ORIGIN) {
			continue; /* comments, blank lines, $TTL, $ORIGIN */
		}
		if (st != LDNS_STATUS_OK) {
			rc = cs_error_set(err, CS_ECONFIG,
					  "trust_anchor_file %s:%d: cannot parse: %s", path,
					  line > start ? line - 1 : start, /* the line just read */
					  ldns_get_errorstr_by_id(st));
			break;
		}
		n_rrs++;
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DS ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNSKEY) {
			(*n_anchors)++;
		}
		ldns_rr_free(rr);
	}
	if (rc == CS_OK && ferror(fp)) {
		rc = cs_error_set(err, CS_ECONFIG, "trust_anchor_file %s: read error", path);
	}
	if (rc == CS_OK && *n_anchors == 0) {
		rc = cs_error_set(
			err, CS_ECONFIG,
			"trust_anchor_file %s: holds no DS or DNSKEY record (expected lines "
			"such as \". IN DS 20326 8 2 E06D...\")",
			path);
	}
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	(void)fclose(fp);
	return rc;
}
