/* SPDX-License-Identifier: BSD-3-Clause */
/* Classification, table-driven: truth × observation → verdict. Links only cs_core. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/classify.h>

#define ZONE       "se."
#define SERIAL     2026112802u
#define BAD_SERIAL 2009101201u
#define OLD_SERIAL 2026112700u

static const uint32_t bad_serials[] = { BAD_SERIAL };

static struct cs_truth truth = {
	.zone = ZONE,
	.have_serial = true,
	.serial = SERIAL,
	.is_signed = true,
};

static const struct cs_classify_ctx ctx = {
	.truth = &truth,
	.bad_serials = bad_serials,
	.n_bad_serials = 1,
};

/* Truth rows: a name that exists with data, one that exists without this type, one that
 * does not exist, one that is bogus at the source, and the zone SOA. */
#define T_EXISTS                                                                                 \
	{                                                                                        \
		.name = "shop1.se.", .type = 1, .exists = true, .has_type = true, .secure = true \
	}
#define T_NOTYPE                                                                                   \
	{                                                                                          \
		.name = "shop1.se.", .type = 28, .exists = true, .has_type = false, .secure = true \
	}
#define T_NXDOMAIN                                                             \
	{                                                                      \
		.name = "gone.se.", .type = 1, .exists = false, .secure = true \
	}
#define T_BOGUS                                                                                 \
	{                                                                                       \
		.name = "shop1.se.", .type = 1, .exists = true, .has_type = true, .bogus = true \
	}
#define T_SOA                                                                              \
	{                                                                                  \
		.name = "se.", .type = 6, .exists = true, .has_type = true, .secure = true \
	}
#define T_INSECURE                                                               \
	{                                                                        \
		.name = "shop1.se.", .type = 1, .exists = true, .has_type = true \
	}

#define NEG_SOA(ttl)                                                                  \
	.has_soa = true, .soa_owner = ZONE, .soa_ttl_s = (ttl), .soa_serial = SERIAL, \
	.soa_minimum_s = 3600
#define ANSWER(rc) .outcome = CS_OUTCOME_ANSWER, .rcode = (rc)

struct row {
	const char *why;
	struct cs_truth_name truth;
	struct cs_observation obs;
	enum cs_verdict want;
	bool want_ttl;
	uint32_t want_ttl_s;
};

static const struct row rows[] = {
	{ "exists, resolver serves it with AD",
	  T_EXISTS,
	  { .main = { ANSWER(0), .ad = true, .has_data = true, .answer_count = 1,
		      .answer_ttl_s = 300 } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "exists, resolver says NXDOMAIN, SOA counting down",
	  T_EXISTS,
	  { .main = { ANSWER(3), .ad = true, NEG_SOA(3412) } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  true,
	  3412 },
	{ "exists, NXDOMAIN with no SOA: heal time unknown",
	  T_EXISTS,
	  { .main = { ANSWER(3) } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  false,
	  0 },
	{ "exists, NXDOMAIN with the SOA of another zone (root)",
	  T_EXISTS,
	  { .main = { ANSWER(3), .has_soa = true, .soa_owner = ".", .soa_ttl_s = 86000,
		      .soa_serial = 1 } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  true,
	  86000 },
	{ "exists, NXDOMAIN with SOA TTL 0: not cached, still wrong",
	  T_EXISTS,
	  { .main = { ANSWER(3), NEG_SOA(0) } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  true,
	  0 },
	{ "exists, NXDOMAIN from a known-bad serial",
	  T_EXISTS,
	  { .main = { ANSWER(3), .has_soa = true, .soa_owner = ZONE, .soa_ttl_s = 100,
		      .soa_serial = BAD_SERIAL } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  true,
	  100 },
	{ "name truly does not exist, NXDOMAIN",
	  T_NXDOMAIN,
	  { .main = { ANSWER(3), .ad = true, NEG_SOA(3600) } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "name truly does not exist, resolver has data",
	  T_NXDOMAIN,
	  { .main = { ANSWER(0), .has_data = true, .answer_count = 1, .answer_ttl_s = 77 } },
	  CS_VERDICT_WRONG_DATA,
	  true,
	  77 },
	{ "name truly does not exist, resolver says NODATA",
	  T_NXDOMAIN,
	  { .main = { ANSWER(0), NEG_SOA(50) } },
	  CS_VERDICT_WRONG_DATA,
	  true,
	  50 },
	{ "type exists, resolver says NODATA",
	  T_EXISTS,
	  { .main = { ANSWER(0), .ad = true, NEG_SOA(1200) } },
	  CS_VERDICT_CACHED_NODATA,
	  true,
	  1200 },
	{ "type exists, NODATA without SOA",
	  T_EXISTS,
	  { .main = { ANSWER(0) } },
	  CS_VERDICT_CACHED_NODATA,
	  false,
	  0 },
	{ "type does not exist, NODATA is right",
	  T_NOTYPE,
	  { .main = { ANSWER(0), .ad = true, NEG_SOA(3600) } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "type does not exist, resolver serves data of it",
	  T_NOTYPE,
	  { .main = { ANSWER(0), .has_data = true, .answer_count = 1, .answer_ttl_s = 9 } },
	  CS_VERDICT_WRONG_DATA,
	  true,
	  9 },
	{ "REFUSED", T_EXISTS, { .main = { ANSWER(5) } }, CS_VERDICT_REFUSED, false, 0 },
	{ "timeout",
	  T_EXISTS,
	  { .main = { .outcome = CS_OUTCOME_TIMEOUT } },
	  CS_VERDICT_TIMEOUT,
	  false,
	  0 },
	{ "unreachable counts as timeout",
	  T_EXISTS,
	  { .main = { .outcome = CS_OUTCOME_UNREACHABLE, .detail = "connection refused" } },
	  CS_VERDICT_TIMEOUT,
	  false,
	  0 },
	{ "malformed reply",
	  T_EXISTS,
	  { .main = { .outcome = CS_OUTCOME_MALFORMED, .detail = "compression loop" } },
	  CS_VERDICT_MALFORMED,
	  false,
	  0 },
	{ "not probed is never ok",
	  T_EXISTS,
	  { .main = { .outcome = CS_OUTCOME_NONE } },
	  CS_VERDICT_MALFORMED,
	  false,
	  0 },
	{ "FORMERR is not a judgement",
	  T_EXISTS,
	  { .main = { ANSWER(1) } },
	  CS_VERDICT_MALFORMED,
	  false,
	  0 },
	{ "unassigned rcode 12",
	  T_EXISTS,
	  { .main = { ANSWER(12) } },
	  CS_VERDICT_MALFORMED,
	  false,
	  0 },
	{ "SERVFAIL cured by CD=1 (NOERROR): heals with the CD=1 data's TTL",
	  T_EXISTS,
	  { .main = { ANSWER(2) },
	    .cd_probed = true,
	    .cd = { ANSWER(0), .has_data = true, .answer_ttl_s = 55 } },
	  CS_VERDICT_SERVFAIL_DNSSEC,
	  true,
	  55 },
	{ "SERVFAIL cured by CD=1, EDE 6 agrees",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 6, "" } } },
	    .cd_probed = true,
	    .cd = { ANSWER(0), .has_data = true, .answer_ttl_s = 10 } },
	  CS_VERDICT_SERVFAIL_DNSSEC,
	  true,
	  10 },
	{ "SERVFAIL cured by CD=1 (NXDOMAIN: bogus denial)",
	  T_EXISTS,
	  { .main = { ANSWER(2) }, .cd_probed = true, .cd = { ANSWER(3) } },
	  CS_VERDICT_SERVFAIL_DNSSEC,
	  false,
	  0 },
	{ "SERVFAIL with EDE 7 and no CD=1 answer: EDE never decides",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 7, "6GJV" } } },
	    .cd_probed = true,
	    .cd = { .outcome = CS_OUTCOME_TIMEOUT } },
	  CS_VERDICT_SERVFAIL,
	  false,
	  0 },
	{ "SERVFAIL with EDE 12 (NSEC missing), no CD=1 query",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 12, "" } } } },
	  CS_VERDICT_SERVFAIL,
	  false,
	  0 },
	{ "SERVFAIL with EDE 7 that persists with CD=1: the resolver's own cached error",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 7, "" } } },
	    .cd_probed = true,
	    .cd = { ANSWER(2) } },
	  CS_VERDICT_SERVFAIL_CACHED,
	  false,
	  0 },
	{ "SERVFAIL with EDE 13 (cached error)",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 13, "" } } } },
	  CS_VERDICT_SERVFAIL_CACHED,
	  false,
	  0 },
	{ "SERVFAIL persists with CD=1 while truth is fine",
	  T_EXISTS,
	  { .main = { ANSWER(2) }, .cd_probed = true, .cd = { ANSWER(2) } },
	  CS_VERDICT_SERVFAIL_CACHED,
	  false,
	  0 },
	{ "SERVFAIL, CD=1 query timed out",
	  T_EXISTS,
	  { .main = { ANSWER(2) }, .cd_probed = true, .cd = { .outcome = CS_OUTCOME_TIMEOUT } },
	  CS_VERDICT_SERVFAIL,
	  false,
	  0 },
	{ "SERVFAIL, CD=1 REFUSED",
	  T_EXISTS,
	  { .main = { ANSWER(2) }, .cd_probed = true, .cd = { ANSWER(5) } },
	  CS_VERDICT_SERVFAIL,
	  false,
	  0 },
	{ "SERVFAIL with EDE 22 (no reachable authority) only",
	  T_EXISTS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 22, "QLPL" } } } },
	  CS_VERDICT_SERVFAIL,
	  false,
	  0 },
	{ "SERVFAIL for data bogus at the source, held with CD=1: purge after the fix",
	  T_BOGUS,
	  { .main = { ANSWER(2) },
	    .cd_probed = true,
	    .cd = { ANSWER(0), .has_data = true, .answer_ttl_s = 3600 } },
	  CS_VERDICT_SERVFAIL_DNSSEC,
	  true,
	  3600 },
	{ "SERVFAIL for data bogus at the source, no CD=1 answer: what a validator must say",
	  T_BOGUS,
	  { .main = { ANSWER(2) }, .cd_probed = true, .cd = { .outcome = CS_OUTCOME_TIMEOUT } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "SERVFAIL with EDE 13 for data bogus at the source",
	  T_BOGUS,
	  { .main = { ANSWER(2), .n_ede = 1, .ede = { { 13, "" } } } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "true NXDOMAIN, but its SOA has a known-bad serial",
	  T_NXDOMAIN,
	  { .main = { ANSWER(3), .has_soa = true, .soa_owner = ZONE, .soa_serial = BAD_SERIAL,
		      .soa_ttl_s = 1800 } },
	  CS_VERDICT_BAD_SERIAL,
	  true,
	  1800 },
	{ "true NODATA, but its SOA has a known-bad serial",
	  T_NOTYPE,
	  { .main = { ANSWER(0), .has_soa = true, .soa_owner = ZONE, .soa_serial = BAD_SERIAL,
		      .soa_ttl_s = 77 } },
	  CS_VERDICT_BAD_SERIAL,
	  true,
	  77 },
	{ "true NODATA from the current zone",
	  T_NOTYPE,
	  { .main = { ANSWER(0), .has_soa = true, .soa_owner = ZONE, .soa_serial = SERIAL,
		      .soa_ttl_s = 77 } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "data without AD whose RRSIG fails against the zone keys",
	  T_EXISTS,
	  { .main = { ANSWER(0), .has_data = true, .answer_ttl_s = 900, .has_rrsig = true,
		      .sig = { .state = CS_SIG_BOGUS,
			       .key_tag = 12345,
			       .algorithm = 13,
			       .reason = "Bogus DNSSEC signature" } } },
	  CS_VERDICT_BOGUS_DATA,
	  true,
	  900 },
	{ "data with AD whose RRSIG fails (a lying validator)",
	  T_EXISTS,
	  { .main = { ANSWER(0), .ad = true, .has_data = true, .answer_ttl_s = 5,
		      .sig = { .state = CS_SIG_BOGUS } } },
	  CS_VERDICT_BOGUS_DATA,
	  true,
	  5 },
	{ "zone SOA with a bad RRSIG (the 2009 interim zone) from a non-validator",
	  T_SOA,
	  { .main = { ANSWER(0), .has_data = true, .answer_ttl_s = 3500, .has_soa = true,
		      .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = SERIAL,
		      .soa_ttl_s = 3500, .sig = { .state = CS_SIG_BOGUS } } },
	  CS_VERDICT_BOGUS_DATA,
	  true,
	  3500 },
	{ "data without AD whose RRSIG verifies: ok, not validating",
	  T_EXISTS,
	  { .main = { ANSWER(0), .has_data = true, .answer_ttl_s = 900,
		      .sig = { .state = CS_SIG_VALID } } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "data of a signed zone without RRSIGs: not judged bogus",
	  T_EXISTS,
	  { .main = { ANSWER(0), .has_data = true, .sig = { .state = CS_SIG_MISSING } } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "data signed by another zone: keys unknown, not judged",
	  T_EXISTS,
	  { .main = { ANSWER(0), .has_data = true, .sig = { .state = CS_SIG_OTHER_SIGNER } } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "zone SOA current",
	  T_SOA,
	  { .main = { ANSWER(0), .ad = true, .has_data = true, .has_soa = true,
		      .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = SERIAL,
		      .soa_ttl_s = 3000 } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "zone SOA ahead of truth (authority just updated)",
	  T_SOA,
	  { .main = { ANSWER(0), .ad = true, .has_data = true, .has_soa = true,
		      .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = SERIAL + 1,
		      .soa_ttl_s = 3000 } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "zone SOA behind truth",
	  T_SOA,
	  { .main = { ANSWER(0), .ad = true, .has_data = true, .has_soa = true,
		      .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = OLD_SERIAL,
		      .soa_ttl_s = 1500 } },
	  CS_VERDICT_STALE_SERIAL,
	  true,
	  1500 },
	{ "zone SOA behind truth across the 2^32 wrap",
	  T_SOA,
	  { .main = { ANSWER(0), .has_data = true, .has_soa = true, .soa_in_answer = true,
		      .soa_owner = ZONE, .soa_serial = SERIAL + 0x80000001u, .soa_ttl_s = 10 } },
	  CS_VERDICT_STALE_SERIAL,
	  true,
	  10 },
	{ "zone SOA is a known-bad serial",
	  T_SOA,
	  { .main = { ANSWER(0), .has_data = true, .has_soa = true, .soa_in_answer = true,
		      .soa_owner = ZONE, .soa_serial = BAD_SERIAL, .soa_ttl_s = 7000 } },
	  CS_VERDICT_BAD_SERIAL,
	  true,
	  7000 },
	{ "zone SOA query answered NODATA",
	  T_SOA,
	  { .main = { ANSWER(0) } },
	  CS_VERDICT_CACHED_NODATA,
	  false,
	  0 },
	{ "zone SOA query NXDOMAIN: the whole zone denied",
	  T_SOA,
	  { .main = { ANSWER(3), .has_soa = true, .soa_owner = ".", .soa_ttl_s = 86400,
		      .soa_serial = 1 } },
	  CS_VERDICT_CACHED_NXDOMAIN,
	  true,
	  86400 },
	{ "stale answer with correct data is ok",
	  T_EXISTS,
	  { .main = { ANSWER(0), .has_data = true, .answer_ttl_s = 30, .n_ede = 1,
		      .ede = { { 3, "" } } } },
	  CS_VERDICT_OK,
	  false,
	  0 },
	{ "insecure name answered without AD is ok",
	  T_INSECURE,
	  { .main = { ANSWER(0), .has_data = true } },
	  CS_VERDICT_OK,
	  false,
	  0 },
};

static void test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cs_finding f;
		enum cs_verdict got = cs_classify(&ctx, &rows[i].truth, &rows[i].obs, &f);
		if (got != rows[i].want || f.verdict != got) {
			fail_msg("row %zu (%s): got %s, want %s (%s)", i, rows[i].why,
				 cs_verdict_name(got), cs_verdict_name(rows[i].want), f.detail);
		}
		if (f.has_ttl != rows[i].want_ttl ||
		    (f.has_ttl && f.ttl_remaining_s != rows[i].want_ttl_s)) {
			fail_msg("row %zu (%s): ttl %s %u, want %s %u", i, rows[i].why,
				 f.has_ttl ? "known" : "unknown", (unsigned)f.ttl_remaining_s,
				 rows[i].want_ttl ? "known" : "unknown",
				 (unsigned)rows[i].want_ttl_s);
		}
		if (strcmp(f.name, rows[i].truth.name) != 0 || f.type != rows[i].truth.type) {
			fail_msg("row %zu (%s): finding names %s/%u", i, rows[i].why, f.name,
				 (unsigned)f.type);
		}
	}
}

static void test_classify_every_verdict_has_a_row(void **state)
{
	(void)state;
	bool seen[CS_VERDICT_COUNT] = { false };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		seen[rows[i].want] = true;
	}
	for (unsigned v = 0; v < CS_VERDICT_COUNT; v++) {
		if (!seen[v]) {
			fail_msg("verdict %s has no row", cs_verdict_name((enum cs_verdict)v));
		}
	}
}

/* The RRSIG that decided bogus_data is named, with the key tag and ldns's reason. */
static void test_classify_bogus_data_names_the_signature(void **state)
{
	(void)state;
	struct cs_truth_name tn = T_SOA;
	struct cs_observation obs = {
		.main = { ANSWER(0), .has_data = true, .answer_ttl_s = 3500, .has_soa = true,
			  .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = BAD_SERIAL,
			  .soa_ttl_s = 3500,
			  .sig = { .state = CS_SIG_BOGUS,
				   .key_tag = 4711,
				   .algorithm = 13,
				   .reason = "Bogus DNSSEC signature" } },
	};
	struct cs_finding f;
	assert_int_equal(cs_classify(&ctx, &tn, &obs, &f), CS_VERDICT_BOGUS_DATA);
	assert_int_equal(f.sig.state, CS_SIG_BOGUS);
	assert_int_equal(f.sig.key_tag, 4711);
	assert_non_null(strstr(f.detail, "key tag 4711, algorithm 13: Bogus DNSSEC signature"));
	assert_non_null(strstr(f.detail, "(no AD)"));
	assert_true(f.not_validating);

	/* the CD=1 data of a SERVFAIL carries its check into the finding */
	struct cs_truth_name te = T_EXISTS;
	struct cs_observation sf = {
		.main = { ANSWER(2) },
		.cd_probed = true,
		.cd = { ANSWER(0), .has_data = true, .answer_ttl_s = 60,
			.sig = { .state = CS_SIG_VALID, .key_tag = 99 } },
	};
	assert_int_equal(cs_classify(&ctx, &te, &sf, &f), CS_VERDICT_SERVFAIL_DNSSEC);
	assert_int_equal(f.sig.state, CS_SIG_VALID);
	assert_non_null(strstr(f.detail, "validates against the zone's keys (key tag 99)"));
	assert_non_null(strstr(f.detail, "the resolver's own"));
}

/* known_bad_serial is flagged wherever the served SOA carries one: negative answers and the
 * zone SOA itself. */
static void test_classify_known_bad_serial_flag(void **state)
{
	(void)state;
	struct cs_truth_name tn = T_EXISTS;
	struct cs_observation nx = {
		.main = { ANSWER(3), .has_soa = true, .soa_owner = ZONE, .soa_ttl_s = 100,
			  .soa_serial = BAD_SERIAL },
	};
	struct cs_finding f;
	assert_int_equal(cs_classify(&ctx, &tn, &nx, &f), CS_VERDICT_CACHED_NXDOMAIN);
	assert_true(f.known_bad_serial);
	nx.main.soa_serial = OLD_SERIAL;
	cs_classify(&ctx, &tn, &nx, &f);
	assert_false(f.known_bad_serial);

	struct cs_truth_name soa = T_SOA;
	struct cs_observation so = {
		.main = { ANSWER(0), .ad = true, .has_data = true, .has_soa = true,
			  .soa_in_answer = true, .soa_owner = ZONE, .soa_serial = BAD_SERIAL,
			  .soa_ttl_s = 10 },
	};
	assert_int_equal(cs_classify(&ctx, &soa, &so, &f), CS_VERDICT_BAD_SERIAL);
	assert_true(f.known_bad_serial);
}

/* Incident signatures: names in served data that end in a defect pattern. */
static void test_classify_defect_patterns(void **state)
{
	(void)state;
	static const char *const patterns[] = { "se.se." };
	struct cs_classify_ctx pctx = ctx;
	pctx.defect_suffixes = patterns;
	pctx.n_defect_suffixes = 1;
	struct cs_truth_name tn = {
		.name = "shop1.se.", .type = 2, .exists = true, .has_type = true
	};
	struct cs_observation obs = {
		.main = { ANSWER(0), .has_data = true, .answer_count = 2,
			  .answers = { "ns1.shop1.se.", "ns2.shop1.se.se." } },
	};
	struct cs_finding f;
	cs_classify(&pctx, &tn, &obs, &f);
	assert_string_equal(f.defect, "ns2.shop1.se.se.");
	assert_non_null(strstr(f.detail, "ends in se.se.: a known defect pattern"));

	/* a label boundary is needed: "xse.se." is not "se.se." */
	(void)cs_strlcpy(obs.main.answers[1], "ns2.shop1.xse.se.", CS_ANSWER_TEXT_MAX);
	cs_classify(&pctx, &tn, &obs, &f);
	assert_string_equal(f.defect, "");

	/* words of rdata (an SOA's names, an MX target) and a followed CNAME count too */
	tn.type = 6;
	obs.main.answer_count = 1;
	(void)cs_strlcpy(obs.main.answers[0], "ns1.se.se. hostmaster.se. 1 2 3 4 5",
			 CS_ANSWER_TEXT_MAX);
	cs_classify(&pctx, &tn, &obs, &f);
	assert_string_equal(f.defect, "ns1.se.se.");
	obs.main.answer_count = 0;
	obs.main.has_data = false;
	(void)cs_strlcpy(obs.main.cname_target, "www.se.se.", CS_NAME_STR_MAX);
	cs_classify(&pctx, &tn, &obs, &f);
	assert_string_equal(f.defect, "www.se.se.");

	/* no patterns, no flag */
	cs_classify(&ctx, &tn, &obs, &f);
	assert_string_equal(f.defect, "");
}

static void test_classify_flags_stale_and_not_validating(void **state)
{
	(void)state;
	struct cs_truth_name tn = T_EXISTS;
	struct cs_observation obs = {
		.main = { ANSWER(0), .has_data = true, .n_ede = 1, .ede = { { 3, "6Q6X" } } },
	};
	struct cs_finding f;
	cs_classify(&ctx, &tn, &obs, &f);
	assert_true(f.stale_answer);
	assert_true(f.not_validating);
	assert_non_null(strstr(f.detail, "EDE 3 (Stale Answer): \"6Q6X\""));

	obs.main.ad = true;
	obs.main.ede[0].code = 19;
	cs_classify(&ctx, &tn, &obs, &f);
	assert_true(f.stale_answer);
	assert_false(f.not_validating);

	/* SERVFAIL says nothing about validation. */
	obs.main.rcode = CS_RCODE_SERVFAIL;
	obs.main.ad = false;
	cs_classify(&ctx, &tn, &obs, &f);
	assert_false(f.not_validating);
}

static void test_classify_detail_names_soa_and_bad_serial(void **state)
{
	(void)state;
	struct cs_truth_name tn = T_EXISTS;
	struct cs_observation obs = {
		.main = { ANSWER(3), .has_soa = true, .soa_owner = ".", .soa_ttl_s = 5,
			  .soa_serial = BAD_SERIAL },
	};
	struct cs_finding f;
	cs_classify(&ctx, &tn, &obs, &f);
	assert_non_null(strstr(f.detail, "the SOA is of ., not of the zone se."));
	assert_non_null(strstr(f.detail, "known-bad serial"));
	assert_true(f.has_serial);
	assert_int_equal(f.serial, BAD_SERIAL);
}

static void test_classify_out_of_range_ede_count_is_bounded(void **state)
{
	(void)state;
	struct cs_truth_name tn = T_EXISTS;
	struct cs_observation obs = { .main = { ANSWER(2), .n_ede = 1000 } };
	struct cs_finding f;
	/* n_ede beyond the array must not be read past CS_EDE_MAX. */
	assert_int_equal(cs_classify(&ctx, &tn, &obs, &f), CS_VERDICT_SERVFAIL);
}

static struct cs_finding finding(enum cs_verdict v, bool has_ttl, uint32_t ttl)
{
	struct cs_finding f;
	memset(&f, 0, sizeof(f));
	f.verdict = v;
	f.has_ttl = has_ttl;
	f.ttl_remaining_s = ttl;
	return f;
}

static void test_status_of(void **state)
{
	(void)state;
	bool known = false;
	uint32_t heals = 99;
	struct cs_finding f[3];
	memset(f, 0, sizeof(f));

	assert_int_equal(cs_status_of(f, 0, &known, &heals), CS_STATUS_HEALTHY);
	assert_false(known);

	f[0] = finding(CS_VERDICT_OK, false, 0);
	f[1] = finding(CS_VERDICT_OK, false, 0);
	assert_int_equal(cs_status_of(f, 2, &known, &heals), CS_STATUS_HEALTHY);

	f[1] = finding(CS_VERDICT_CACHED_NXDOMAIN, true, 3412);
	f[2] = finding(CS_VERDICT_CACHED_NODATA, true, 100);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_NEEDS_PURGE);
	assert_true(known);
	assert_int_equal(heals, 3412);

	/* one bad entry of unknown age makes the heal time unknown */
	f[2] = finding(CS_VERDICT_CACHED_NXDOMAIN, false, 0);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_NEEDS_PURGE);
	assert_false(known);

	/* a purge need wins over timeouts */
	f[0] = finding(CS_VERDICT_TIMEOUT, false, 0);
	f[2] = finding(CS_VERDICT_TIMEOUT, false, 0);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_NEEDS_PURGE);

	for (int i = 0; i < 3; i++) {
		f[i] = finding(CS_VERDICT_TIMEOUT, false, 0);
	}
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_UNREACHABLE);
	for (int i = 0; i < 3; i++) {
		f[i] = finding(CS_VERDICT_REFUSED, false, 0);
	}
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_REFUSED);
	f[0] = finding(CS_VERDICT_TIMEOUT, false, 0);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_DEGRADED);
	f[0] = finding(CS_VERDICT_OK, false, 0);
	f[1] = finding(CS_VERDICT_SERVFAIL, false, 0);
	f[2] = finding(CS_VERDICT_OK, false, 0);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_DEGRADED);
	f[1] = finding(CS_VERDICT_MALFORMED, false, 0);
	assert_int_equal(cs_status_of(f, 3, &known, &heals), CS_STATUS_DEGRADED);
}

static void test_names_round_trip(void **state)
{
	(void)state;
	for (unsigned v = 0; v < CS_VERDICT_COUNT; v++) {
		enum cs_verdict back;
		const char *name = cs_verdict_name((enum cs_verdict)v);
		assert_non_null(name);
		assert_int_equal(cs_verdict_parse(name, &back), 0);
		assert_int_equal(back, v);
	}
	for (unsigned s = 0; s < CS_STATUS_COUNT; s++) {
		enum cs_status back;
		const char *name = cs_status_name((enum cs_status)s);
		assert_non_null(name);
		assert_int_equal(cs_status_parse(name, &back), 0);
		assert_int_equal(back, s);
	}
	enum cs_verdict v;
	assert_int_equal(cs_verdict_parse("cached-nxdomain", &v), -1);
	assert_null(cs_verdict_name((enum cs_verdict)CS_VERDICT_COUNT));
	assert_null(cs_status_name((enum cs_status)CS_STATUS_COUNT));
	assert_string_equal(cs_verdict_name(CS_VERDICT_CACHED_NXDOMAIN), "cached_nxdomain");
	assert_string_equal(cs_status_name(CS_STATUS_NEEDS_PURGE), "needs_purge");
}

static void test_purge_and_unjudged_sets(void **state)
{
	(void)state;
	static const enum cs_verdict purge[] = {
		CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_CACHED_NODATA, CS_VERDICT_SERVFAIL_DNSSEC,
		CS_VERDICT_SERVFAIL_CACHED, CS_VERDICT_BOGUS_DATA,    CS_VERDICT_STALE_SERIAL,
		CS_VERDICT_BAD_SERIAL,      CS_VERDICT_WRONG_DATA,
	};
	size_t n_purge = 0;
	for (unsigned v = 0; v < CS_VERDICT_COUNT; v++) {
		if (cs_verdict_needs_purge((enum cs_verdict)v)) {
			n_purge++;
		}
	}
	assert_int_equal(n_purge, sizeof(purge) / sizeof(purge[0]));
	for (size_t i = 0; i < sizeof(purge) / sizeof(purge[0]); i++) {
		assert_true(cs_verdict_needs_purge(purge[i]));
		assert_false(cs_verdict_unjudged(purge[i]));
	}
	assert_false(cs_verdict_needs_purge(CS_VERDICT_SERVFAIL));
	assert_true(cs_verdict_unjudged(CS_VERDICT_TIMEOUT));
	assert_true(cs_verdict_unjudged(CS_VERDICT_REFUSED));
	assert_true(cs_verdict_unjudged(CS_VERDICT_MALFORMED));
	assert_false(cs_verdict_unjudged(CS_VERDICT_OK));
}

static void test_serial_cmp(void **state)
{
	(void)state;
	assert_int_equal(cs_serial_cmp(1, 1), 0);
	assert_true(cs_serial_cmp(1, 2) < 0);
	assert_true(cs_serial_cmp(2, 1) > 0);
	assert_true(cs_serial_cmp(0xFFFFFFFFu, 0) < 0); /* wrapped: 0 is newer */
	assert_true(cs_serial_cmp(0, 0xFFFFFFFFu) > 0);
	assert_true(cs_serial_cmp(0, 0x80000000u) > 0); /* undefined distance: not stale */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_classify_every_verdict_has_a_row),
		cmocka_unit_test(test_classify_flags_stale_and_not_validating),
		cmocka_unit_test(test_classify_detail_names_soa_and_bad_serial),
		cmocka_unit_test(test_classify_out_of_range_ede_count_is_bounded),
		cmocka_unit_test(test_classify_bogus_data_names_the_signature),
		cmocka_unit_test(test_classify_known_bad_serial_flag),
		cmocka_unit_test(test_classify_defect_patterns),
		cmocka_unit_test(test_status_of),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_purge_and_unjudged_sets),
		cmocka_unit_test(test_serial_cmp),
	};
	return cmocka_run_group_tests_name("classify", tests, NULL, NULL);
}
