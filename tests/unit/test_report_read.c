/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Report reader: a good report loads with every field; the writer's output reads back to the
 * same JSON; every bad input is refused with the JSON path and what was expected; allocation
 * failure at every step is clean. Runs with tests/ as the working directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>
#include <cachesweep/report.h>

#include "test_alloc.h"

#define GOOD "data/report/good.json"

static int group_setup(void **state)
{
	(void)state;
	struct stat st;
	if (stat(GOOD, &st) != 0 && stat("tests/" GOOD, &st) == 0 && chdir("tests") != 0) {
		return -1;
	}
	return 0;
}

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

static void test_report_load_good_all_fields(void **state)
{
	(void)state;
	struct cs_report *rep = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_report_load(GOOD, &rep, &err), CS_OK);
	assert_string_equal(rep->zone, "se.");
	assert_int_equal(rep->generated_at_s, 1795881600);
	assert_true(rep->truth->have_serial);
	assert_int_equal(rep->truth->serial, 2026112801u);
	assert_int_equal(rep->truth->n_names, 1);
	assert_true(rep->truth->names[0].exists);
	assert_int_equal(rep->n_resolvers, 2);
	/* the summary is recounted, not trusted */
	assert_int_equal(rep->summary.resolvers, 2);
	assert_int_equal(rep->summary.by_status[CS_STATUS_NEEDS_PURGE], 1);
	assert_int_equal(rep->summary.by_status[CS_STATUS_HEALTHY], 1);
	const struct cs_resolver_report *r = &rep->resolvers[0];
	assert_string_equal(r->id, "isp-1");
	assert_int_equal(r->status, CS_STATUS_NEEDS_PURGE);
	assert_true(r->heals_known);
	assert_int_equal(r->heals_in_s, 3412);
	assert_true(r->has_software);
	assert_string_equal(r->software.name, "unbound");
	assert_string_equal(r->software.source, "version.bind");
	assert_int_equal(r->n_findings, 2);
	assert_int_equal(r->findings[0].verdict, CS_VERDICT_CACHED_NXDOMAIN);
	assert_int_equal(r->findings[0].rcode, 3);
	assert_int_equal(r->findings[0].n_ede, 1);
	assert_int_equal(r->findings[0].ede[0].code, 6);
	assert_true(r->findings[0].has_ttl);
	assert_true(r->findings[1].has_serial);
	assert_non_null(r->purge);
	assert_true(r->purge->present);
	assert_int_equal(r->purge->n_instructions, 1);
	assert_int_equal(r->purge->n_actions, 1);
	assert_int_equal(r->purge->actions[0].exit_code, 0);
	assert_int_equal(r->purge->actions[0].http_status, -1);
	const struct cs_resolver_report *r2 = &rep->resolvers[1];
	assert_int_equal(r2->port, 5353);
	assert_int_equal(r2->transport, CS_TRANSPORT_TCP);
	assert_false(r2->has_software);
	assert_null(r2->purge);
	assert_non_null(r2->before);
	assert_int_equal(r2->before->status, CS_STATUS_NEEDS_PURGE);
	cs_report_free(rep);
}

static char *dump(const struct cs_report *rep, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	assert_non_null(fp);
	struct cs_error err = { 0 };
	assert_int_equal(cs_report_write_json(rep, fp, false, &err), CS_OK);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

static void test_report_roundtrip_writer_reader_same_json(void **state)
{
	(void)state;
	struct cs_report *rep = NULL;
	struct cs_report *again = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_report_load(GOOD, &rep, &err), CS_OK);
	size_t len1 = 0;
	size_t len2 = 0;
	char *one = dump(rep, &len1);
	assert_int_equal(cs_report_load_string(one, len1, "one", &again, &err), CS_OK);
	char *two = dump(again, &len2);
	assert_string_equal(one, two);
	free(one); /* open_memstream allocates with libc */
	free(two);
	cs_report_free(rep);
	cs_report_free(again);
}

struct bad_row {
	const char *why;
	const char *json;
	const char *want; /**< substring of the message */
};

#define HEAD   "{\"schema\":\"cachesweep.report/1\",\"generated_at\":\"2026-11-28T16:00:00Z\","
#define TRUTH  "\"truth\":{\"serial\":1,\"signed\":false,\"authorities\":[],\"names\":[]},"
#define RES(x) HEAD "\"zone\":\"se.\"," TRUTH "\"resolvers\":[" x "]}"
#define R0     "\"id\":\"a\",\"address\":\"192.0.2.1\",\"port\":53,\"status\":\"healthy\","

#define A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct bad_row bad_rows[] = {
	{ "not JSON", "{", "bad:1:" },
	{ "top level array", "[]", "(top level): expected an object, found an array" },
	{ "wrong schema", "{\"schema\":\"cachesweep.report/2\"}", "schema: expected \"cachesweep" },
	{ "schema missing", "{}", "schema: expected a string, found nothing" },
	{ "bad time", "{\"schema\":\"cachesweep.report/1\",\"generated_at\":\"yesterday\"}",
	  "generated_at: expected a UTC time" },
	{ "zone not a name", HEAD "\"zone\":\"a..b\"}", "zone: expected a domain name" },
	{ "truth missing", HEAD "\"zone\":\"se.\"}", "truth: expected an object, found nothing" },
	{ "truth names not array",
	  HEAD "\"zone\":\"se.\",\"truth\":{\"authorities\":[],\"names\":3}}",
	  "truth.names: expected an array, found an integer" },
	{ "truth serial too big",
	  HEAD
	  "\"zone\":\"se.\",\"truth\":{\"serial\":4294967296,\"authorities\":[],\"names\":[]}}",
	  "truth.serial: expected an integer 0..4294967295 or null, found 4294967296" },
	{ "truth name type bad",
	  HEAD "\"zone\":\"se.\",\"truth\":{\"authorities\":[],\"names\":[{\"name\":\"a.se.\","
	       "\"type\":\"BOGUS\"}]}}",
	  "truth.names[0].type: expected an RR type" },
	{ "resolvers missing", HEAD "\"zone\":\"se.\"," TRUTH "\"x\":1}",
	  "resolvers: expected an array, found nothing" },
	{ "resolver not object", RES("1"), "resolvers[0]: expected an object, found an integer" },
	{ "address not numeric", RES("{\"id\":\"a\",\"address\":\"ns.example.\"}"),
	  "resolvers[0].address: expected a numeric IPv4 or IPv6 address" },
	{ "port zero", RES("{\"id\":\"a\",\"address\":\"192.0.2.1\",\"port\":0}"),
	  "resolvers[0].port: expected an integer 1..65535, found 0" },
	{ "port string", RES("{\"id\":\"a\",\"address\":\"192.0.2.1\",\"port\":\"53\"}"),
	  "resolvers[0].port: expected an integer 1..65535, found a string" },
	{ "bad status",
	  RES("{\"id\":\"a\",\"address\":\"192.0.2.1\",\"port\":53,\"status\":\"sick\"}"),
	  "resolvers[0].status: expected one of healthy" },
	{ "negative heal", RES("{" R0 "\"heals_in_s\":-1}"),
	  "resolvers[0].heals_in_s: expected an integer 0..4294967295 or null, found -1" },
	{ "id too long",
	  RES("{\"id\":"
	      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aa"
	      "\"}"),
	  "resolvers[0].id: expected a string of at most 255 bytes" },
	/* the sizes the report holds its texts to (CS_RR_*_SIZE), checked, not cut */
	{ "software name too long", RES("{" R0 "\"software\":{\"name\":\"" A32 "\"}}"),
	  "resolvers[0].software.name: expected a string of at most 31 bytes, found 32 bytes" },
	{ "software version too long",
	  RES("{" R0 "\"software\":{\"name\":\"bind\",\"version\":\"" A32 A32 "\"}}"),
	  "resolvers[0].software.version: expected a string of at most 63 bytes, found 64" },
	{ "nsid too long", RES("{" R0 "\"nsid\":\"" A32 A32 A32 A32 "\"}"),
	  "resolvers[0].nsid: expected a string of at most 127 bytes, found 128 bytes" },
	{ "contact too long", RES("{" R0 "\"contact\":\"" A32 A32 A32 A32 "\"}"),
	  "resolvers[0].contact: expected a string of at most 127 bytes, found 128 bytes" },
	{ "control character", RES("{\"id\":\"a\\u0001b\"}"),
	  "resolvers[0].id: expected printable text" },
	{ "NUL in string", RES("{\"id\":\"a\\u0000b\"}"), "is not allowed" },
	{ "findings missing", RES("{" R0 "\"x\":1}"),
	  "resolvers[0].findings: expected an array, found nothing" },
	{ "bad verdict",
	  RES("{" R0 "\"findings\":[{\"name\":\"a.se.\",\"type\":\"A\",\"verdict\":\"meh\"}]}"),
	  "resolvers[0].findings[0].verdict: expected a verdict" },
	{ "bad rcode",
	  RES("{" R0 "\"findings\":[{\"name\":\"a.se.\",\"type\":\"A\",\"verdict\":\"ok\","
	      "\"rcode\":\"WAT\"}]}"),
	  "resolvers[0].findings[0].rcode: expected an rcode" },
	{ "too many EDE",
	  RES("{" R0 "\"findings\":[{\"name\":\"a.se.\",\"type\":\"A\",\"verdict\":\"ok\","
	      "\"ede\":[{},{},{},{},{}]}]}"),
	  "resolvers[0].findings[0].ede: expected at most 4 entries, found 5" },
	{ "ede code too big",
	  RES("{" R0 "\"findings\":[{\"name\":\"a.se.\",\"type\":\"A\",\"verdict\":\"ok\","
	      "\"ede\":[{\"code\":70000}]}]}"),
	  "resolvers[0].findings[0].ede[0].code: expected an integer 0..65535, found 70000" },
	{ "ad not bool",
	  RES("{" R0 "\"findings\":[{\"name\":\"a.se.\",\"type\":\"A\",\"verdict\":\"ok\","
	      "\"ad\":1}]}"),
	  "resolvers[0].findings[0].ad: expected true or false, found an integer" },
	{ "purge without scope", RES("{" R0 "\"findings\":[],\"purge\":{}}"),
	  "resolvers[0].purge.scope: expected a string, found nothing" },
	{ "instruction not string",
	  RES("{" R0 "\"findings\":[],\"purge\":{\"scope\":\"se.\",\"instructions\":[7]}}"),
	  "resolvers[0].purge.instructions[0]: expected a string" },
	{ "bad outcome",
	  RES("{" R0 "\"findings\":[],\"purge\":{\"scope\":\"se.\",\"instructions\":[],"
	      "\"actions\":[{\"endpoint\":\"exec\",\"outcome\":\"maybe\"}]}}"),
	  "resolvers[0].purge.actions[0].outcome: expected ok, failed or skipped" },
	{ "bad before",
	  RES("{" R0 "\"findings\":[],\"before\":{\"status\":\"healthy\",\"findings\":7}}"),
	  "resolvers[0].before.findings: expected an array, found an integer" },
	{ "duplicate ids", RES("{" R0 "\"findings\":[]},{" R0 "\"findings\":[]}"),
	  "resolvers[1].id: expected a unique id" },
	{ "duplicate key", "{\"schema\":\"a\",\"schema\":\"b\"}", "duplicate" },
};

static void test_report_load_bad_inputs_name_path(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct cs_report *rep = NULL;
		struct cs_error err = { 0 };
		const struct bad_row *b = &bad_rows[i];
		enum cs_errc rc =
			cs_report_load_string(b->json, strlen(b->json), "bad", &rep, &err);
		if (rc != CS_ECONFIG || rep != NULL || strstr(err.msg, b->want) == NULL) {
			fail_msg("row %zu (%s): rc %d, message \"%s\", want \"%s\"", i, b->why,
				 (int)rc, err.msg, b->want);
		}
	}
}

static void test_report_load_too_large_refused(void **state)
{
	(void)state;
	struct cs_report *rep = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(
		cs_report_load_string("{}", (size_t)CS_MAX_REPORT_BYTES + 1, "big", &rep, &err),
		CS_ECONFIG);
	assert_non_null(
		strstr(err.msg, "larger than the limit of 67108864 bytes (CS_MAX_REPORT_BYTES)"));
}

static void test_report_load_missing_file_eio(void **state)
{
	(void)state;
	struct cs_report *rep = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_report_load("data/report/nope.json", &rep, &err), CS_EIO);
	assert_non_null(strstr(err.msg, "nope.json"));
}

static void test_report_load_alloc_fail_each_clean(void **state)
{
	(void)state;
	for (size_t n = 1; n < 200; n++) {
		struct cs_report *rep = NULL;
		struct cs_error err = { 0 };
		test_alloc_fail_at(n);
		enum cs_errc rc = cs_report_load(GOOD, &rep, &err);
		test_alloc_fail_at(0);
		if (rc == CS_OK) {
			cs_report_free(rep);
			return;
		}
		assert_int_equal(rc, CS_ENOMEM);
		assert_null(rep);
	}
	fail_msg("still failing after 200 allocations");
}

/* A deterministic mutation run over the good report: flipped bytes, cuts, inserted quotes
 * and brackets. Every input ends in CS_OK or CS_ECONFIG, never a crash or a leak (ASan and
 * cmocka's allocator watch). */
static void test_report_load_mutations_never_crash(void **state)
{
	(void)state;
	FILE *fp = fopen(GOOD, "rb");
	assert_non_null(fp);
	char base[8192];
	size_t n = fread(base, 1, sizeof(base), fp);
	fclose(fp);
	assert_true(n > 100 && n < sizeof(base));
	static const char junk[] = "\"{}[],:0-9eE.\\u\x01\xff ntf";
	uint32_t seed = 2009101201u;
	char buf[8192];
	for (unsigned round = 0; round < 3000; round++) {
		memcpy(buf, base, n);
		size_t len = n;
		unsigned edits = 1 + round % 4;
		for (unsigned k = 0; k < edits; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 16) % 3) {
			case 0:
				buf[at] = junk[(seed >> 4) % (sizeof(junk) - 1)];
				break;
			case 1:
				len = at + 1; /* cut */
				break;
			default:
				buf[at] = (char)(seed >> 24);
				break;
			}
		}
		struct cs_report *rep = NULL;
		struct cs_error err = { 0 };
		enum cs_errc rc = cs_report_load_string(buf, len, "mutant", &rep, &err);
		if (rc != CS_OK && rc != CS_ECONFIG) {
			fail_msg("round %u: rc %d (%s)", round, (int)rc, err.msg);
		}
		assert_true((rc == CS_OK) == (rep != NULL));
		cs_report_free(rep);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_load_good_all_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_roundtrip_writer_reader_same_json,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_load_bad_inputs_name_path, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report_load_too_large_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report_load_missing_file_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_load_alloc_fail_each_clean, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_report_load_mutations_never_crash, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("report_read", tests, group_setup, NULL);
}
