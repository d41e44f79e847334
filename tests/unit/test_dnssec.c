/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Signature checks against the zone's keys, with real crypto: a zone key made by ldns signs
 * an RRset, the reply carrying it goes through cs_dnssec_check(), and each way of being
 * wrong (flipped signature, changed data, expired, another signer, no RRSIG) is told apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <ldns/ldns.h>

#include <cachesweep/alloc.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/truth.h>

#include "test_alloc.h"

struct zone_keys {
	ldns_key_list *signing; /* private */
	ldns_rr *dnskey;        /* public, owner "se." */
	uint16_t tag;
};

static struct zone_keys K;

static ldns_rr *rr(const char *text)
{
	ldns_rr *r = NULL;
	assert_int_equal(ldns_rr_new_frm_str(&r, text, 3600, NULL, NULL), LDNS_STATUS_OK);
	return r;
}

static int setup(void **state)
{
	(void)state;
	ldns_key *key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);
	assert_non_null(key);
	ldns_rdf *owner = NULL;
	assert_int_equal(ldns_str2rdf_dname(&owner, "se."), LDNS_STATUS_OK);
	ldns_key_set_pubkey_owner(key, owner);
	ldns_key_set_flags(key, 257);
	K.dnskey = ldns_key2rr(key);
	assert_non_null(K.dnskey);
	K.tag = ldns_calc_keytag(K.dnskey);
	ldns_key_set_keytag(key, K.tag);
	K.signing = ldns_key_list_new();
	ldns_key_list_push_key(K.signing, key);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ldns_key_list_free(K.signing); /* frees the keys too */
	ldns_rr_free(K.dnskey);
	memset(&K, 0, sizeof(K));
	return 0;
}

/* A reply (QR, RD, RA) for qname/qtype with these answer RRs (taken over), as wire bytes. */
static uint8_t *reply_wire(const char *qname, ldns_rr_type qtype, ldns_rr_list *answer, size_t *len)
{
	ldns_rdf *q = NULL;
	assert_int_equal(ldns_str2rdf_dname(&q, qname), LDNS_STATUS_OK);
	ldns_pkt *pkt = ldns_pkt_query_new(q, qtype, LDNS_RR_CLASS_IN, 0);
	assert_non_null(pkt);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_ra(pkt, true);
	for (size_t i = 0; answer != NULL && i < ldns_rr_list_rr_count(answer); i++) {
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, ldns_rr_list_rr(answer, i));
	}
	ldns_rr_list_free(answer); /* the RRs now belong to pkt */
	uint8_t *wire = NULL;
	assert_int_equal(ldns_pkt2wire(&wire, pkt, len), LDNS_STATUS_OK);
	ldns_pkt_free(pkt);
	return wire;
}

/* The zone keys as truth holds them: a DNSKEY answer packet. */
static struct cs_keyset *keyset(void)
{
	ldns_rr_list *an = ldns_rr_list_new();
	ldns_rr_list_push_rr(an, ldns_rr_clone(K.dnskey));
	size_t len = 0;
	uint8_t *wire = reply_wire("se.", LDNS_RR_TYPE_DNSKEY, an, &len);
	struct cs_keyset *ks = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_keyset_from_packet("se.", wire, len, &ks, &err), CS_OK);
	assert_non_null(ks);
	assert_int_equal(cs_keyset_count(ks), 1);
	free(wire);
	return ks;
}

/* An A RRset for shop1.se. and its RRSIGs by the zone key. */
static ldns_rr_list *signed_a(const char *data_text)
{
	ldns_rr_list *set = ldns_rr_list_new();
	ldns_rr_list_push_rr(set, rr(data_text));
	ldns_rr_list *sigs = ldns_sign_public(set, K.signing);
	assert_non_null(sigs);
	assert_int_equal(ldns_rr_list_rr_count(sigs), 1);
	ldns_rr_list_cat(set, sigs);
	ldns_rr_list_free(sigs);
	return set;
}

static enum cs_sig_state check(const struct cs_keyset *ks, ldns_rr_list *answer, int64_t now,
			       struct cs_sig_facts *out)
{
	size_t len = 0;
	uint8_t *wire = reply_wire("shop1.se.", LDNS_RR_TYPE_A, answer, &len);
	cs_dnssec_check(ks, "shop1.se.", 1, wire, len, now, out);
	free(wire);
	return out->state;
}

static void test_valid_signature(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	struct cs_sig_facts sig;
	assert_int_equal(check(ks, signed_a("shop1.se. 3600 IN A 192.0.2.1"), time(NULL), &sig),
			 CS_SIG_VALID);
	assert_int_equal(sig.key_tag, K.tag);
	assert_int_equal(sig.algorithm, 13);
	assert_string_equal(sig.reason, "");
	cs_keyset_free(ks);
}

/* A cache counts TTLs down; the RRSIG's original TTL is what was signed (RFC 4035 §5.3.2). */
static void test_counted_down_ttl_still_valid(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	ldns_rr_list *answer = signed_a("shop1.se. 3600 IN A 192.0.2.1");
	for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
		ldns_rr_set_ttl(ldns_rr_list_rr(answer, i), 1234);
	}
	struct cs_sig_facts sig;
	assert_int_equal(check(ks, answer, time(NULL), &sig), CS_SIG_VALID);
	cs_keyset_free(ks);
}

static void test_flipped_signature_is_bogus(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	ldns_rr_list *answer = signed_a("shop1.se. 3600 IN A 192.0.2.1");
	ldns_rr *sig_rr = ldns_rr_list_rr(answer, 1);
	ldns_rdf *sigdata = ldns_rr_rdf(sig_rr, 8);
	ldns_rdf_data(sigdata)[5] ^= 0x55;
	struct cs_sig_facts sig;
	assert_int_equal(check(ks, answer, time(NULL), &sig), CS_SIG_BOGUS);
	assert_int_equal(sig.key_tag, K.tag);
	assert_true(strlen(sig.reason) > 0);
	cs_keyset_free(ks);
}

static void test_changed_data_is_bogus(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	ldns_rr_list *answer = signed_a("shop1.se. 3600 IN A 192.0.2.1");
	ldns_rr *forged = rr("shop1.se. 3600 IN A 203.0.113.66");
	ldns_rr_free(ldns_rr_list_set_rr(answer, forged, 0));
	struct cs_sig_facts sig;
	assert_int_equal(check(ks, answer, time(NULL), &sig), CS_SIG_BOGUS);
	cs_keyset_free(ks);
}

static void test_expired_is_bogus(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	struct cs_sig_facts sig;
	/* ldns signs for four weeks from now; a year later the signature has expired */
	assert_int_equal(check(ks, signed_a("shop1.se. 3600 IN A 192.0.2.1"),
			       (int64_t)time(NULL) + 365 * 86400, &sig),
			 CS_SIG_BOGUS);
	assert_non_null(strstr(sig.reason, "xpired"));
	cs_keyset_free(ks);
}

static void test_missing_and_other_signer(void **state)
{
	(void)state;
	struct cs_keyset *ks = keyset();
	struct cs_sig_facts sig;
	ldns_rr_list *plain = ldns_rr_list_new();
	ldns_rr_list_push_rr(plain, rr("shop1.se. 3600 IN A 192.0.2.1"));
	assert_int_equal(check(ks, plain, time(NULL), &sig), CS_SIG_MISSING);

	/* an RRSIG by shop1.se. (a signed delegation): keys not known here */
	ldns_rr_list *other = signed_a("shop1.se. 3600 IN A 192.0.2.1");
	ldns_rdf *signer = NULL;
	assert_int_equal(ldns_str2rdf_dname(&signer, "shop1.se."), LDNS_STATUS_OK);
	ldns_rdf_deep_free(ldns_rr_set_rdf(ldns_rr_list_rr(other, 1), signer, 7));
	assert_int_equal(check(ks, other, time(NULL), &sig), CS_SIG_OTHER_SIGNER);
	cs_keyset_free(ks);
}

static void test_unchecked_without_keys_or_data(void **state)
{
	(void)state;
	struct cs_sig_facts sig;
	assert_int_equal(check(NULL, signed_a("shop1.se. 3600 IN A 192.0.2.1"), time(NULL), &sig),
			 CS_SIG_UNCHECKED);
	struct cs_keyset *ks = keyset();
	/* data for another name only */
	ldns_rr_list *elsewhere = ldns_rr_list_new();
	ldns_rr_list_push_rr(elsewhere, rr("other.se. 3600 IN A 192.0.2.1"));
	assert_int_equal(check(ks, elsewhere, time(NULL), &sig), CS_SIG_UNCHECKED);
	/* garbage bytes never crash it */
	static const uint8_t junk[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c
	};
	cs_dnssec_check(ks, "shop1.se.", 1, junk, sizeof(junk), time(NULL), &sig);
	assert_int_equal(sig.state, CS_SIG_UNCHECKED);
	cs_keyset_free(ks);
}

static void test_keyset_from_truth(void **state)
{
	(void)state;
	struct cs_truth *t = cs_truth_new(0, 0);
	assert_non_null(t);
	struct cs_keyset *ks = (struct cs_keyset *)1;
	struct cs_error err = { 0 };
	/* no secure DNSKEYs: nothing to check with, and that is not an error */
	assert_int_equal(cs_keyset_from_truth(t, &ks, &err), CS_OK);
	assert_null(ks);
	/* a packet without a DNSKEY for the zone gives no keyset either */
	ldns_rr_list *an = ldns_rr_list_new();
	ldns_rr_list_push_rr(an, rr("se. 3600 IN A 192.0.2.1"));
	size_t len = 0;
	uint8_t *wire = reply_wire("se.", LDNS_RR_TYPE_DNSKEY, an, &len);
	assert_int_equal(cs_keyset_from_packet("se.", wire, len, &ks, &err), CS_OK);
	assert_null(ks);
	free(wire);
	/* unparsable bytes are a truth error that says so */
	static const uint8_t junk[] = { 1, 2, 3 };
	assert_int_equal(cs_keyset_from_packet("se.", junk, sizeof(junk), &ks, &err), CS_ETRUTH);
	assert_non_null(strstr(err.msg, "DNSKEY answer for se. does not parse"));
	cs_truth_free(t);
}

#define TA DATA_DIR "/ta/"

static void test_trust_anchor_files(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	size_t n = 0;
	assert_int_equal(cs_trust_anchor_file_check(TA "good-ds.txt", &n, &err), CS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cs_trust_anchor_file_check(TA "good-dnskey-multiline.txt", &n, &err),
			 CS_OK);
	assert_int_equal(n, 1);

	assert_int_equal(cs_trust_anchor_file_check(TA "no-such-file", &n, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "no-such-file: cannot open: No such file"));
	assert_int_equal(cs_trust_anchor_file_check(TA "no-anchor.txt", &n, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "no-anchor.txt: holds no DS or DNSKEY record"));
	assert_int_equal(cs_trust_anchor_file_check(TA "only-a.txt", &n, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "holds no DS or DNSKEY record"));
	assert_int_equal(cs_trust_anchor_file_check(TA "bad-line2.txt", &n, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "bad-line2.txt:2: cannot parse"));
	/* a directory is not a trust-anchor file */
	assert_int_equal(cs_trust_anchor_file_check(TA, &n, &err), CS_ECONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counted_down_ttl_still_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_signature_is_bogus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_data_is_bogus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_is_bogus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_other_signer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchecked_without_keys_or_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keyset_from_truth, setup, teardown),
		cmocka_unit_test(test_trust_anchor_files),
	};
	return cmocka_run_group_tests_name("dnssec", tests, NULL, NULL);
}
