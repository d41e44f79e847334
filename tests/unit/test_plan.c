/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Purge plans for every software and public service, exact lines (shared/notes/flush.md);
 * the needs (negative, bogus, infra) drive Unbound's extra flushes; unknown software gets every
 * common one; templates substitute and percent-encode; redaction never lets a secret through;
 * secrets load from env and file with errors that never hold them; allocation failure is clean.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>
#include <cachesweep/purge.h>

#include "test_alloc.h"

#define SECRET "s3cr3t-T0ken"

static int setup(void **state)
{
	(void)state;
	test_alloc_install();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_alloc_fail_at(0);
	return 0;
}

static struct cs_report_finding findings[3];

/* A finding as a report holds it; the texts are static. */
static struct cs_report_finding finding(const char *name, uint16_t type, enum cs_verdict v)
{
	return (struct cs_report_finding){ .name = name,
					   .defect = "",
					   .detail = "",
					   .sig.reason = "",
					   .type = type,
					   .verdict = v };
}

static void make_rr(struct cs_resolver_report *rr, const char *software, const char *address,
		    enum cs_verdict v1, enum cs_verdict v2)
{
	const char *texts[CS_RR_TEXT_COUNT] = {
		[CS_RR_ID] = "r1",
		[CS_RR_ADDRESS] = address,
		[CS_RR_SOFTWARE_NAME] = software,
	};
	cs_resolver_report_init(rr);
	assert_int_equal(cs_resolver_report_set_texts(rr, texts), CS_OK);
	rr->has_software = software != NULL;
	findings[0] = finding("shop1.example.se.", CS_TYPE_A, v1);
	findings[1] = finding("www.example.se.", CS_TYPE_AAAA, v2);
	findings[2] = finding("se.", CS_TYPE_SOA, CS_VERDICT_OK);
	rr->findings = findings;
	rr->n_findings = 3;
	rr->status = CS_STATUS_NEEDS_PURGE;
	rr->heals_known = true;
	rr->heals_in_s = 3412;
}

/* Free what make_rr made; the findings are static. */
static void drop_rr(struct cs_resolver_report *rr)
{
	rr->findings = NULL;
	rr->n_findings = 0;
	cs_resolver_report_clean(rr);
}

struct plan_row {
	const char *why;
	const char *software; /* NULL: none */
	const char *address;
	enum cs_verdict v1, v2;
	const char *zone;
	const char *lines[12];
};

static const struct plan_row plan_rows[] = {
	{ "unbound, negative only",
	  "unbound",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "unbound-control flush_zone se.", "unbound-control flush_negative" } },
	{ "unbound, negative and bogus",
	  "unbound",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_SERVFAIL_DNSSEC,
	  "se.",
	  { "unbound-control flush_zone se.", "unbound-control flush_negative",
	    "unbound-control flush_bogus" } },
	{ "unbound, cached SERVFAIL: infra too",
	  "unbound",
	  "192.0.2.1",
	  CS_VERDICT_SERVFAIL_CACHED,
	  CS_VERDICT_OK,
	  "se.",
	  { "unbound-control flush_zone se.", "unbound-control flush_negative",
	    "unbound-control flush_infra all" } },
	{ "unbound, stale serial: the zone flush is enough",
	  "unbound",
	  "192.0.2.1",
	  CS_VERDICT_STALE_SERIAL,
	  CS_VERDICT_OK,
	  "se.",
	  { "unbound-control flush_zone se." } },
	{ "bind",
	  "bind",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_BOGUS_DATA,
	  "se.",
	  { "rndc flushtree se" } },
	{ "bind, second-level zone",
	  "bind",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "example.se.",
	  { "rndc flushtree example.se" } },
	{ "powerdns",
	  "powerdns",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "rec_control wipe-cache 'se$'", "curl -sS -X PUT -H \"X-API-Key: $PDNS_API_KEY\" "
					    "'http://127.0.0.1:8082/api/v1/servers/localhost/cache/"
					    "flush?domain=se.&subtree=true'" } },
	{ "knot 5",
	  "knot-resolver",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "echo \"cache.clear('se.')\" | socat - UNIX-CONNECT:/run/knot-resolver/control/1" } },
	{ "knot 6",
	  "knot-resolver-6",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "kresctl cache clear se." } },
	{ "dnsmasq",
	  "dnsmasq",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "kill -HUP $(pidof dnsmasq)" } },
	{ "systemd-resolved",
	  "systemd-resolved",
	  "127.0.0.53",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "resolvectl flush-caches" } },
	{ "windows",
	  "windows",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "dnscmd /NodeDelete ..Cache se /Tree /f",
	    "Clear-DnsServerCache -Force   # only if the line above is refused" } },
	{ "technitium",
	  "technitium",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "curl -sS -H \"Authorization: Bearer $TECHNITIUM_TOKEN\" "
	    "'http://192.0.2.1:5380/api/cache/delete?domain=se'" } },
	{ "technitium on IPv6",
	  "technitium",
	  "2001:db8::1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "curl -sS -H \"Authorization: Bearer $TECHNITIUM_TOKEN\" "
	    "'http://[2001:db8::1]:5380/api/cache/delete?domain=se'" } },
	{ "adguard home",
	  "adguard-home",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "curl -sS -u \"$ADGUARD_USER:$ADGUARD_PASSWORD\" -X POST "
	    "http://192.0.2.1:3000/control/cache_clear" } },
	{ "google by address: apex first, then each bad name and type",
	  NULL,
	  "8.8.8.8",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_CACHED_NODATA,
	  "se.",
	  { "open https://dns.google/cache and flush, in this order:", "  se. NS",
	    "  shop1.example.se. A", "  www.example.se. AAAA" } },
	{ "cloudflare: a TLD apex cannot be purged",
	  NULL,
	  "1.1.1.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "open https://one.one.one.one/purge-cache/ or run:",
	    "curl -sS -X POST "
	    "'https://one.one.one.one/api/v1/purge?domain=shop1.example.se.&type=A'" } },
	{ "cloudflare below a TLD: apex too",
	  "cloudflare",
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "example.se.",
	  { "open https://one.one.one.one/purge-cache/ or run:",
	    "curl -sS -X POST 'https://one.one.one.one/api/v1/purge?domain=example.se.&type=NS'",
	    "curl -sS -X POST "
	    "'https://one.one.one.one/api/v1/purge?domain=shop1.example.se.&type=A'" } },
	{ "opendns: A only",
	  NULL,
	  "208.67.222.222",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_CACHED_NXDOMAIN,
	  "se.",
	  { "open https://cachecheck.opendns.com/ and press \"Refresh cache\" for:",
	    "  shop1.example.se.", "  www.example.se. (A only: other types wait for the TTL)" } },
	{ "quad9: nothing to run, the heal time",
	  NULL,
	  "9.9.9.9",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "Quad9 offers no cache flush: the entries expire by themselves within 3412 s; report "
	    "the incident to Quad9" } },
	{ "unknown: every common one",
	  NULL,
	  "192.0.2.1",
	  CS_VERDICT_CACHED_NXDOMAIN,
	  CS_VERDICT_OK,
	  "se.",
	  { "Unbound: unbound-control flush_zone se.", "Unbound: unbound-control flush_negative",
	    "BIND 9: rndc flushtree se", "PowerDNS Recursor: rec_control wipe-cache 'se$'",
	    "PowerDNS Recursor: curl -sS -X PUT -H \"X-API-Key: $PDNS_API_KEY\" "
	    "'http://127.0.0.1:8082/api/v1/servers/localhost/cache/flush?domain=se.&subtree=true'",
	    "Knot Resolver 5: echo \"cache.clear('se.')\" | socat - "
	    "UNIX-CONNECT:/run/knot-resolver/control/1",
	    "Knot Resolver 6: kresctl cache clear se.", "dnsmasq: kill -HUP $(pidof dnsmasq)",
	    "systemd-resolved: resolvectl flush-caches",
	    "Windows Server DNS: dnscmd /NodeDelete ..Cache se /Tree /f",
	    "Windows Server DNS: Clear-DnsServerCache -Force   # only if the line above is refused",
	    "Technitium DNS Server: curl -sS -H \"Authorization: Bearer $TECHNITIUM_TOKEN\" "
	    "'http://192.0.2.1:5380/api/cache/delete?domain=se'" } },
};

static void test_plan_every_software_exact_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(plan_rows) / sizeof(plan_rows[0]); i++) {
		const struct plan_row *row = &plan_rows[i];
		struct cs_resolver_report rr;
		struct cs_purge_block pb = { 0 };
		struct cs_error err = { 0 };
		make_rr(&rr, row->software, row->address, row->v1, row->v2);
		struct cs_plan_input in = { .zone = row->zone, .rr = &rr };
		assert_int_equal(cs_plan_build(&in, &pb, &err), CS_OK);
		drop_rr(&rr);
		assert_true(pb.present);
		assert_string_equal(pb.scope, row->zone);
		assert_string_equal(pb.endpoint, "");
		size_t want = 0;
		while (want < 12 && row->lines[want] != NULL) {
			want++;
		}
		/* the unknown row lists the first 12 only */
		size_t check = pb.n_instructions < want ? pb.n_instructions : want;
		for (size_t k = 0; k < check; k++) {
			if (strcmp(pb.instructions[k], row->lines[k]) != 0) {
				fail_msg("row %zu (%s) line %zu:\n got  %s\n want %s", i, row->why,
					 k, pb.instructions[k], row->lines[k]);
			}
		}
		if (want < 12 && pb.n_instructions != want) {
			fail_msg("row %zu (%s): %zu lines, want %zu", i, row->why,
				 pb.n_instructions, want);
		}
		cs_purge_block_clean(&pb);
	}
}

static void test_plan_endpoint_named_and_pdns_url_from_config(void **state)
{
	(void)state;
	struct cs_resolver_report rr;
	struct cs_purge_block pb = { 0 };
	struct cs_error err = { 0 };
	struct cs_resolver r = { 0 };
	r.has_purge = true;
	r.purge.type = CS_PURGE_POWERDNS_API;
	r.purge.url = (char *)"http://127.56.0.3:8082/";
	r.purge.api_key_env = (char *)"LAB_PDNS_KEY";
	make_rr(&rr, "powerdns", "127.56.0.3", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_OK);
	struct cs_plan_input in = { .zone = "se.", .rr = &rr, .cfg = &r };
	assert_int_equal(cs_plan_build(&in, &pb, &err), CS_OK);
	assert_string_equal(pb.endpoint, "powerdns-api");
	assert_int_equal(pb.n_instructions, 2);
	assert_string_equal(pb.instructions[1],
			    "curl -sS -X PUT -H \"X-API-Key: $LAB_PDNS_KEY\" "
			    "'http://127.56.0.3:8082/api/v1/servers/localhost/cache/"
			    "flush?domain=se.&subtree=true'");
	cs_purge_block_clean(&pb);
	drop_rr(&rr);
}

static void test_plan_knot_version_6_from_fingerprint(void **state)
{
	(void)state;
	struct cs_resolver_report rr;
	make_rr(&rr, "knot-resolver", "192.0.2.1", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_OK);
	assert_int_equal(cs_resolver_report_set_text(&rr, CS_RR_SOFTWARE_VERSION, "6.0.8"), CS_OK);
	assert_int_equal(cs_plan_software(&rr), CS_SW_KNOT6);
	drop_rr(&rr);
}

static void test_plan_unknown_software_falls_back_to_address(void **state)
{
	(void)state;
	struct cs_resolver_report rr;
	make_rr(&rr, "unknown", "9.9.9.9", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_OK);
	assert_int_equal(cs_plan_software(&rr), CS_SW_QUAD9);
	drop_rr(&rr);
	make_rr(&rr, "Unbound", "192.0.2.1", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_OK);
	assert_int_equal(cs_plan_software(&rr), CS_SW_UNBOUND);
	drop_rr(&rr);
	make_rr(&rr, "something-else", "192.0.2.1", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_OK);
	assert_int_equal(cs_plan_software(&rr), CS_SW_UNKNOWN);
	drop_rr(&rr);
}

static void test_plan_hostile_names_skipped(void **state)
{
	(void)state;
	struct cs_resolver_report rr;
	struct cs_purge_block pb = { 0 };
	struct cs_error err = { 0 };
	make_rr(&rr, "google", "192.0.2.1", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_CACHED_NXDOMAIN);
	findings[0].name = "a.se'; rm -rf /";
	struct cs_plan_input in = { .zone = "se.", .rr = &rr };
	assert_int_equal(cs_plan_build(&in, &pb, &err), CS_OK);
	for (size_t i = 0; i < pb.n_instructions; i++) {
		assert_null(strstr(pb.instructions[i], "rm -rf"));
	}
	assert_int_equal(pb.n_instructions, 3);
	cs_purge_block_clean(&pb);
	drop_rr(&rr);
}

static void test_plan_alloc_fail_each_clean(void **state)
{
	(void)state;
	struct cs_resolver_report rr;
	make_rr(&rr, NULL, "192.0.2.1", CS_VERDICT_CACHED_NXDOMAIN, CS_VERDICT_SERVFAIL_DNSSEC);
	for (size_t n = 1; n < 100; n++) {
		struct cs_purge_block pb = { 0 };
		struct cs_error err = { 0 };
		struct cs_plan_input in = { .zone = "se.", .rr = &rr };
		test_alloc_fail_at(n);
		enum cs_errc rc = cs_plan_build(&in, &pb, &err);
		test_alloc_fail_at(0);
		if (rc == CS_OK) {
			cs_purge_block_clean(&pb);
			drop_rr(&rr);
			return;
		}
		assert_int_equal(rc, CS_ENOMEM);
		assert_false(pb.present);
	}
	fail_msg("still failing after 100 allocations");
}

static void test_template_substitution_and_encoding(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	char *out = NULL;
	const struct cs_subst s = {
		.zone = "se.", .name = "a b&c.se.", .type = "AAAA", .secret = SECRET
	};
	assert_int_equal(
		cs_template_expand("flush {zone} {name}/{type}", &s, CS_TMPL_PLAIN, &out, &err),
		CS_OK);
	assert_string_equal(out, "flush se. a b&c.se./AAAA");
	cs_free(out);
	assert_int_equal(cs_template_expand("https://x/f?d={name}&t={type}&k={secret}", &s,
					    CS_TMPL_URL, &out, &err),
			 CS_OK);
	assert_string_equal(out, "https://x/f?d=a%20b%26c.se.&t=AAAA&k=s3cr3t-T0ken");
	cs_secret_wipe_free(out);
	assert_int_equal(cs_template_expand("Bearer {secret}", &s, CS_TMPL_REDACT, &out, &err),
			 CS_OK);
	assert_string_equal(out, "Bearer <redacted>");
	cs_free(out);
	assert_int_equal(cs_template_expand("{zone}{zone}", &s, CS_TMPL_PLAIN, &out, &err), CS_OK);
	assert_string_equal(out, "se.se.");
	cs_free(out);
	assert_int_equal(cs_template_expand("no placeholders, } {", &s, CS_TMPL_PLAIN, &out, &err),
			 CS_EINVAL);
	assert_null(out);
	assert_int_equal(cs_template_expand("{path}", &s, CS_TMPL_PLAIN, &out, &err), CS_EINVAL);
	assert_non_null(strstr(err.msg, "unknown placeholder"));
	const struct cs_subst nosecret = { .zone = "se." };
	assert_int_equal(cs_template_expand("{secret}", &nosecret, CS_TMPL_PLAIN, &out, &err),
			 CS_EINVAL);
	assert_true(cs_template_per_name("x {name}"));
	assert_true(cs_template_per_name("x {type}"));
	assert_false(cs_template_per_name("x {zone} {secret}"));
}

static void test_redact_every_occurrence(void **state)
{
	(void)state;
	char buf[128] = "curl: (22) 401 for key=" SECRET " and again " SECRET "!";
	cs_redact(buf, sizeof(buf), SECRET);
	assert_null(strstr(buf, SECRET));
	assert_string_equal(buf, "curl: (22) 401 for key=<redacted> and again <redacted>!");
	char tight[sizeof("k=" SECRET)] = "k=" SECRET;
	cs_redact(tight, sizeof(tight), "s3cr3t-T0ken");
	assert_null(strstr(tight, SECRET));
	char none[16] = "nothing";
	cs_redact(none, sizeof(none), NULL);
	assert_string_equal(none, "nothing");
}

static void test_secret_load_env_and_file(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	char *s = NULL;
	struct cs_purge_cfg p = { 0 };
	p.api_key_env = (char *)"CS_TEST_PLAN_SECRET";
	unsetenv("CS_TEST_PLAN_SECRET");
	assert_int_equal(cs_secret_load(&p, &s, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "CS_TEST_PLAN_SECRET is not set"));
	setenv("CS_TEST_PLAN_SECRET", SECRET, 1);
	assert_int_equal(cs_secret_load(&p, &s, &err), CS_OK);
	assert_string_equal(s, SECRET);
	cs_secret_wipe_free(s);
	unsetenv("CS_TEST_PLAN_SECRET");

	char path[] = "/tmp/cs_test_secret_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, SECRET "\nignored\n", sizeof(SECRET "\nignored\n") - 1),
			 (ssize_t)(sizeof(SECRET "\nignored\n") - 1));
	close(fd);
	struct cs_purge_cfg f = { 0 };
	f.secret_file = path;
	assert_int_equal(cs_secret_load(&f, &s, &err), CS_OK);
	assert_string_equal(s, SECRET);
	cs_secret_wipe_free(s);
	unlink(path);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cs_secret_load(&f, &s, &err), CS_EIO);
	assert_non_null(strstr(err.msg, path));
	assert_null(strstr(err.msg, SECRET));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_every_software_exact_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan_endpoint_named_and_pdns_url_from_config,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_knot_version_6_from_fingerprint, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan_unknown_software_falls_back_to_address,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_hostile_names_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_alloc_fail_each_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_substitution_and_encoding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redact_every_occurrence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_load_env_and_file, setup, teardown),
	};
	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
