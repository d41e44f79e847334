/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration: the pure name/number/address parsers, loading every key, the list files,
 * the command-line setters, the embedded default, cs_config_finish, a corpus of good and bad
 * configs (tests/data/config/{good,bad}; each bad/X.json has an X.err holding the expected
 * message substring), and allocation failure at every step.
 *
 * Runs with tests/ as the working directory (tests/CMakeLists.txt).
 */
#include <dirent.h>
#include <errno.h>
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

#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/limits.h>
#include <cachesweep/observe.h>

#include "test_alloc.h"

#define DATA        "data/config"
#define GOOD_DIR    DATA "/good"
#define BAD_DIR     DATA "/bad"
#define RESOLV_TEST DATA "/resolv.conf"
#define SECRET      "hunter2" /* the literal secret used in bad configs: never in a message */

/** ctest runs us in tests/; from the repository root, move there. */
static int group_setup(void **state)
{
	(void)state;
	struct stat st;
	if (stat(DATA, &st) != 0 && stat("tests/" DATA, &st) == 0 && chdir("tests") != 0) {
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

/** Load a config that must load and finish. */
static struct cs_config *load_ok(const char *text)
{
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	enum cs_errc rc = cs_config_load_string(text, "t.json", &cfg, &err);
	if (rc != CS_OK) {
		fail_msg("load failed: %s", err.msg);
	}
	rc = cs_config_finish(cfg, &err);
	if (rc != CS_OK) {
		cs_config_free(cfg);
		fail_msg("finish failed: %s", err.msg);
	}
	return cfg;
}

/** Load (and finish) a config that must fail with a message containing want. */
static void load_bad(const char *text, enum cs_errc want_rc, const char *want)
{
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	enum cs_errc rc = cs_config_load_string(text, "t.json", &cfg, &err);
	if (rc == CS_OK) {
		rc = cs_config_finish(cfg, &err);
		cs_config_free(cfg);
	} else {
		assert_null(cfg);
	}
	if (rc != want_rc || strstr(err.msg, want) == NULL) {
		fail_msg("got rc %d \"%s\", want rc %d and \"%s\"", (int)rc, err.msg, (int)want_rc,
			 want);
	}
}

/* ------------------------------------------------------------------------------------------
 * names.c
 */

static void test_parse_u32_table(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint32_t min, max;
		int rc;
		uint32_t want;
	} rows[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -1, 0 },
		{ "0", 1, 10, -1, 0 },
		{ "00053", 1, 65535, 0, 53 },
		{ "65535", 1, 65535, 0, 65535 },
		{ "65536", 1, 65535, -1, 0 },
		{ "4294967295", 0, UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, -1, 0 },
		{ "99999999999999999999999", 0, UINT32_MAX, -1, 0 },
		{ "", 0, 10, -1, 0 },
		{ " 5", 0, 10, -1, 0 },
		{ "5 ", 0, 10, -1, 0 },
		{ "+5", 0, 10, -1, 0 },
		{ "-0", 0, 10, -1, 0 },
		{ "0x10", 0, 100, -1, 0 },
		{ "1e3", 0, 10000, -1, 0 },
		{ "abc", 0, 10, -1, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t got = 12345;
		int rc = cs_parse_u32(rows[i].s, rows[i].min, rows[i].max, &got);
		if (rc != rows[i].rc || (rc == 0 && got != rows[i].want)) {
			fail_msg("row %zu \"%s\": rc %d got %u", i, rows[i].s, rc, got);
		}
		if (rc != 0 && got != 12345) {
			fail_msg("row %zu \"%s\": out written on failure", i, rows[i].s);
		}
	}
	assert_int_equal(cs_parse_u32(NULL, 0, 10, NULL), -1);
}

static void test_name_normalize_table(void **state)
{
	(void)state;
	char label63[64];
	char label64[65];
	char long253[300];
	char long254[300];
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	/* 4 labels of 63 + 3 dots = 255; cut to 253 and 254 characters */
	char full[300];
	(void)snprintf(full, sizeof(full), "%s.%s.%s.%s", label63, label63, label63, label63);
	memcpy(long253, full, 253);
	long253[253] = '\0';
	long253[252] = 'b'; /* do not end on a dot */
	memcpy(long254, full, 254);
	long254[254] = '\0';
	long254[253] = 'b';

	static const struct {
		const char *in;
		const char *want; /* NULL: must fail */
	} rows[] = {
		{ "se", "se." },
		{ "se.", "se." },
		{ "SE.", "se." },
		{ "Shop1.SE", "shop1.se." },
		{ ".", "." },
		{ "_dmarc.iis.se", "_dmarc.iis.se." },
		{ "xn--rksmrgs-5wao1o.se", "xn--rksmrgs-5wao1o.se." },
		{ "", NULL },
		{ "..", NULL },
		{ "a..b", NULL },
		{ ".se", NULL },
		{ "se..", NULL },
		{ "s e", NULL },
		{ "a\\.b", NULL },
		{ "a\\046b", NULL },
		{ "shop1.se/AAAA", NULL },
		{ "*.se", NULL },
		{ "räksmörgås.se", NULL },
	};
	char out[CS_NAME_STR_MAX];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = cs_name_normalize(rows[i].in, out, sizeof(out));
		if (rows[i].want == NULL) {
			if (rc != -1) {
				fail_msg("row %zu \"%s\": accepted as \"%s\"", i, rows[i].in, out);
			}
			continue;
		}
		if (rc != 0 || strcmp(out, rows[i].want) != 0) {
			fail_msg("row %zu \"%s\": rc %d \"%s\"", i, rows[i].in, rc,
				 rc == 0 ? out : "");
		}
	}
	char in[80];
	(void)snprintf(in, sizeof(in), "%s.se", label63);
	assert_int_equal(cs_name_normalize(in, out, sizeof(out)), 0);
	(void)snprintf(in, sizeof(in), "%s.se", label64);
	assert_int_equal(cs_name_normalize(in, out, sizeof(out)), -1);
	assert_int_equal(cs_name_normalize(long253, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 254);
	assert_int_equal(out[253], '.');
	assert_int_equal(cs_name_normalize(long254, out, sizeof(out)), -1);
	/* a trailing dot does not count against the 253 */
	char with_dot[310];
	(void)snprintf(with_dot, sizeof(with_dot), "%s.", long253);
	assert_int_equal(cs_name_normalize(with_dot, out, sizeof(out)), 0);
	/* the output buffer is respected */
	char small[4];
	assert_int_equal(cs_name_normalize("se", small, sizeof(small)), 0);
	assert_string_equal(small, "se.");
	assert_int_equal(cs_name_normalize("nu.se", small, sizeof(small)), -1);
	assert_int_equal(cs_name_normalize(NULL, out, sizeof(out)), -1);
}

static void test_name_in_zone_table(void **state)
{
	(void)state;
	static const struct {
		const char *name, *zone;
		bool in;
	} rows[] = {
		{ "se.", "se.", true },
		{ "iis.se.", "se.", true },
		{ "a.b.iis.se.", "se.", true },
		{ "notse.", "se.", false },
		{ "se.", "iis.se.", false },
		{ "example.com.", "se.", false },
		{ "anything.", ".", true },
		{ ".", ".", true },
		{ ".", "se.", false },
		{ "IIS.SE.", "se.", true },
		{ "xiis.se.", "iis.se.", false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (cs_name_in_zone(rows[i].name, rows[i].zone) != rows[i].in) {
			fail_msg("row %zu: %s in %s", i, rows[i].name, rows[i].zone);
		}
	}
	assert_false(cs_name_in_zone(NULL, "se."));
}

static void test_addr_check_and_port_parse(void **state)
{
	(void)state;
	assert_int_equal(cs_addr_check("192.0.2.1"), 0);
	assert_int_equal(cs_addr_check("::1"), 0);
	assert_int_equal(cs_addr_check("2001:db8::53"), 0);
	assert_int_equal(cs_addr_check("::ffff:192.0.2.1"), 0);
	assert_int_equal(cs_addr_check("192.0.2.300"), -1);
	assert_int_equal(cs_addr_check("192.0.2"), -1);
	assert_int_equal(cs_addr_check("localhost"), -1);
	assert_int_equal(cs_addr_check("fe80::1%eth0"), -1);
	assert_int_equal(cs_addr_check("[::1]"), -1);
	assert_int_equal(cs_addr_check(""), -1);
	assert_int_equal(cs_addr_check(NULL), -1);

	char addr[64];
	uint16_t port = 0;
	assert_int_equal(cs_addr_port_parse("192.0.2.1", addr, sizeof(addr), &port, 53), 0);
	assert_string_equal(addr, "192.0.2.1");
	assert_int_equal(port, 53);
	assert_int_equal(cs_addr_port_parse("127.0.0.1#5353", addr, sizeof(addr), &port, 53), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 5353);
	assert_int_equal(cs_addr_port_parse("::1#5353", addr, sizeof(addr), &port, 53), 0);
	assert_string_equal(addr, "::1");
	assert_int_equal(port, 5353);
	assert_int_equal(cs_addr_port_parse("2001:db8::1", addr, sizeof(addr), &port, 853), 0);
	assert_int_equal(port, 853);
	static const char *const bad[] = {
		"127.0.0.1#99999", "127.0.0.1#0",  "127.0.0.1#", "#53",           "",
		"[::1]:53",        "127.0.0.1:53", "host#53",    "1.2.3.4#53#54",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cs_addr_port_parse(bad[i], addr, sizeof(addr), &port, 53) != -1) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
	}
	/* an address that does not fit the buffer */
	char tiny[4];
	assert_int_equal(cs_addr_port_parse("192.0.2.1", tiny, sizeof(tiny), &port, 53), -1);
}

/* ------------------------------------------------------------------------------------------
 * Loading
 */

static void test_config_load_full_every_field(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	enum cs_errc rc = cs_config_load(GOOD_DIR "/full.json", &cfg, &err);
	if (rc != CS_OK) {
		fail_msg("%s", err.msg);
	}
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);

	assert_string_equal(cfg->path, GOOD_DIR "/full.json");
	assert_string_equal(cfg->zone, "se.");

	assert_int_equal(cfg->n_names, 5);
	assert_string_equal(cfg->names[0].name, "shop1.se.");
	assert_int_equal(cfg->names[0].type, CS_TYPE_A);
	assert_string_equal(cfg->names[1].name, "shop2.se.");
	assert_int_equal(cfg->names[1].type, CS_TYPE_NS);
	assert_string_equal(cfg->names[2].name, "shop3.se.");
	assert_int_equal(cfg->names[2].type, CS_TYPE_A);
	assert_string_equal(cfg->names[3].name, "_dmarc.shop3.se.");
	assert_int_equal(cfg->names[3].type, CS_TYPE_TXT);
	assert_string_equal(cfg->names[4].name, "se.");
	assert_int_equal(cfg->names[4].type, 65);

	assert_int_equal(cfg->truth.mode, CS_TRUTH_PRIVATE_ROOT);
	assert_string_equal(cfg->truth.root_hints, GOOD_DIR "/lab/root.hints");
	assert_string_equal(cfg->truth.trust_anchor_file, "/etc/cachesweep/root.key");
	assert_int_equal(cfg->truth.n_authorities, 0);

	assert_int_equal(cfg->n_bad_serials, 3);
	/* incident patterns are names, normalised */
	assert_int_equal(cfg->n_incident_patterns, 2);
	assert_string_equal(cfg->incident_patterns[0], "se.se.");
	assert_string_equal(cfg->incident_patterns[1], "se.se.nu.");
	{
		const char *pats[4];
		char buf[2 * CS_NAME_STR_MAX];
		assert_int_equal(cs_config_incident_patterns(cfg, pats, 4, buf, sizeof(buf)), 2);
		assert_string_equal(pats[1], "se.se.nu.");
	}
	assert_int_equal(cfg->bad_serials[0], 2009101201u);
	assert_int_equal(cfg->bad_serials[1], 0);
	assert_int_equal(cfg->bad_serials[2], UINT32_MAX);

	assert_int_equal(cfg->limits.timeout_ms, 1500);
	assert_int_equal(cfg->limits.retries, 0);
	assert_int_equal(cfg->limits.concurrency, 1);
	assert_int_equal(cfg->limits.qps_per_resolver, 0);
	assert_int_equal(cfg->limits.qps_total, 0);
	assert_string_equal(cfg->audit_log, GOOD_DIR "/audit/purge.log");

	/* 5 from resolvers[], 5 from lists/resolvers.txt, 1 from lists/more.txt */
	assert_int_equal(cfg->n_resolvers, 11);
	const struct cs_resolver *r = &cfg->resolvers[0];
	assert_string_equal(r->id, "isp-1");
	assert_string_equal(r->address, "192.0.2.53");
	assert_int_equal(r->port, 53);
	assert_int_equal(r->transport, CS_TRANSPORT_UDP);
	assert_null(r->operator_name);
	assert_null(r->contact);
	assert_null(r->software);
	assert_false(r->has_purge);

	r = &cfg->resolvers[1];
	assert_string_equal(r->id, "isp-2");
	assert_string_equal(r->address, "2001:db8::53");
	assert_int_equal(r->port, 5353);
	assert_int_equal(r->transport, CS_TRANSPORT_TCP);
	assert_string_equal(r->operator_name, "Exempel AB");
	assert_string_equal(r->contact, "noc@example.net");
	assert_string_equal(r->software, "knot-resolver");
	assert_true(r->has_purge);
	assert_int_equal(r->purge.type, CS_PURGE_EXEC);
	assert_int_equal(r->purge.n_commands, 2);
	assert_string_equal(r->purge.commands[0][0], "kresctl");
	assert_string_equal(r->purge.commands[0][1], "cache");
	assert_string_equal(r->purge.commands[0][2], "clear");
	assert_string_equal(r->purge.commands[0][3], "{name}");
	assert_null(r->purge.commands[0][4]);
	assert_string_equal(r->purge.commands[1][0], "logger");
	assert_string_equal(r->purge.commands[1][1], "");
	assert_null(r->purge.commands[1][2]);
	assert_null(r->purge.url);
	assert_null(r->purge.method);

	r = &cfg->resolvers[2];
	assert_string_equal(r->id, "isp-3");
	assert_null(r->software); /* "unknown" is no hint */
	assert_true(r->has_purge);
	assert_int_equal(r->purge.type, CS_PURGE_INSTRUCTIONS);

	r = &cfg->resolvers[3];
	assert_string_equal(r->id, "pdns");
	assert_int_equal(r->port, 5300);
	assert_string_equal(r->software, "powerdns");
	assert_int_equal(r->purge.type, CS_PURGE_POWERDNS_API);
	assert_string_equal(r->purge.url, "http://127.0.0.1:8082");
	assert_string_equal(r->purge.api_key_env, "PDNS_API_KEY");
	assert_null(r->purge.secret_file);

	r = &cfg->resolvers[4];
	assert_string_equal(r->id, "web");
	assert_string_equal(r->software, "bind");
	assert_int_equal(r->purge.type, CS_PURGE_HTTP);
	assert_string_equal(r->purge.method, "PUT");
	assert_string_equal(r->purge.url,
			    "https://flush.example.net/v1/flush?zone={zone}&name={name}"
			    "&type={type}");
	assert_int_equal(r->purge.n_headers, 2);
	assert_string_equal(r->purge.headers[0].name, "Authorization");
	assert_string_equal(r->purge.headers[0].value, "Bearer {secret}");
	assert_string_equal(r->purge.headers[1].name, "X-Request-Source");
	assert_string_equal(r->purge.headers[1].value, "cachesweep");
	assert_string_equal(r->purge.secret_file, GOOD_DIR "/secrets/token");
	assert_null(r->purge.api_key_env);
	assert_int_equal(r->purge.n_expect_status, 2);
	assert_int_equal(r->purge.expect_status[0], 200);
	assert_int_equal(r->purge.expect_status[1], 204);

	/* list files: the id is the text as written */
	static const struct {
		const char *id, *address;
		uint16_t port;
	} listed[] = {
		{ "192.0.2.10", "192.0.2.10", 53 },     { "192.0.2.11#5353", "192.0.2.11", 5353 },
		{ "2001:db8::53", "2001:db8::53", 53 }, { "::1#5300", "::1", 5300 },
		{ "198.51.100.7", "198.51.100.7", 53 }, { "203.0.113.1", "203.0.113.1", 53 },
	};
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		r = &cfg->resolvers[5 + i];
		assert_string_equal(r->id, listed[i].id);
		assert_string_equal(r->address, listed[i].address);
		assert_int_equal(r->port, listed[i].port);
		assert_int_equal(r->transport, CS_TRANSPORT_UDP);
		assert_false(r->has_purge);
	}
	cs_config_free(cfg);
}

static void test_config_load_minimal_defaults(void **state)
{
	(void)state;
	struct cs_config *cfg =
		load_ok("{ \"zone\": \"se\", \"names\": [ \"iis.se\" ],"
			" \"resolvers\": [ { \"id\": \"r\", \"address\": \"::1\" } ] }");
	assert_string_equal(cfg->path, "t.json");
	assert_string_equal(cfg->zone, "se.");
	assert_int_equal(cfg->n_names, 1);
	assert_string_equal(cfg->names[0].name, "iis.se.");
	assert_int_equal(cfg->names[0].type, CS_TYPE_A);
	assert_int_equal(cfg->truth.mode, CS_TRUTH_RECURSION);
	assert_null(cfg->truth.root_hints);
	assert_null(cfg->truth.authorities);
	assert_int_equal(cfg->n_bad_serials, 0);
	/* without incident_patterns the zone written twice stands in */
	{
		const char *pats[4];
		char buf[2 * CS_NAME_STR_MAX];
		assert_int_equal(cs_config_incident_patterns(cfg, pats, 4, buf, sizeof(buf)), 1);
		assert_string_equal(pats[0], "se.se.");
	}
	assert_int_equal(cfg->limits.timeout_ms, 2000);
	assert_int_equal(cfg->limits.retries, 2);
	assert_int_equal(cfg->limits.concurrency, 256);
	assert_int_equal(cfg->limits.qps_per_resolver, 10);
	assert_int_equal(cfg->limits.qps_total, 5000);
	assert_null(cfg->audit_log);
	assert_int_equal(cfg->n_resolvers, 1);
	assert_int_equal(cfg->resolvers[0].port, 53);
	assert_int_equal(cfg->resolvers[0].transport, CS_TRANSPORT_UDP);
	assert_false(cfg->resolvers[0].has_purge);
	cs_config_free(cfg);

	/* a partial probe object keeps the other defaults; http gets POST */
	cfg = load_ok(
		"{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], \"probe\": { \"retries\": 5 },"
		" \"resolvers\": [ { \"id\": \"w\", \"address\": \"192.0.2.1\", \"purge\":"
		" { \"type\": \"http\", \"url\": \"https://x.example/f?zone={zone}\" } } ] }");
	assert_int_equal(cfg->limits.retries, 5);
	assert_int_equal(cfg->limits.timeout_ms, 2000);
	assert_string_equal(cfg->resolvers[0].purge.method, "POST");
	assert_int_equal(cfg->resolvers[0].purge.n_expect_status, 0);
	assert_int_equal(cfg->resolvers[0].purge.n_headers, 0);
	cs_config_free(cfg);
}

static void test_config_truth_authorities(void **state)
{
	(void)state;
	struct cs_config *cfg =
		load_ok("{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
			" \"truth\": { \"authorities\": [ \"192.0.2.1\", \"::1#5353\", "
			"\"192.0.2.2#53\" ] },"
			" \"resolvers\": [ { \"id\": \"r\", \"address\": \"127.0.0.1\" } ] }");
	assert_int_equal(cfg->truth.mode, CS_TRUTH_AUTHORITIES);
	assert_int_equal(cfg->truth.n_authorities, 3);
	assert_string_equal(cfg->truth.authorities[0], "192.0.2.1");
	assert_string_equal(cfg->truth.authorities[1], "::1#5353");
	assert_string_equal(cfg->truth.authorities[2], "192.0.2.2#53");
	cs_config_free(cfg);

	/* relative truth paths stay as written when the config has no directory */
	cfg = load_ok("{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
		      " \"truth\": { \"root_hints\": \"r.hints\", \"trust_anchor_file\": \"k\" },"
		      " \"resolvers\": [ { \"id\": \"r\", \"address\": \"127.0.0.1\" } ] }");
	assert_int_equal(cfg->truth.mode, CS_TRUTH_PRIVATE_ROOT);
	assert_string_equal(cfg->truth.root_hints, "r.hints");
	assert_string_equal(cfg->truth.trust_anchor_file, "k");
	cs_config_free(cfg);
}

static void test_config_contract_example(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	if (cs_config_load(GOOD_DIR "/contract.json", &cfg, &err) != CS_OK) {
		fail_msg("%s", err.msg);
	}
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);
	assert_int_equal(cfg->n_names, 2);
	assert_int_equal(cfg->names[1].type, CS_TYPE_NS);
	assert_int_equal(cfg->truth.mode, CS_TRUTH_AUTHORITIES);
	assert_int_equal(cfg->n_bad_serials, 1);
	assert_int_equal(cfg->limits.concurrency, 1000);
	assert_int_equal(cfg->n_resolvers, 3);
	assert_string_equal(cfg->resolvers[0].software, "unbound");
	assert_string_equal(cfg->resolvers[0].operator_name, "Example ISP");
	assert_string_equal(cfg->resolvers[2].id, "192.0.2.55#5353");
	assert_int_equal(cfg->resolvers[2].port, 5353);
	cs_config_free(cfg);
}

static void test_config_list_files(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	/* from a string, the name's directory is where list files are found */
	const char *text = "{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
			   " \"resolver_files\": [ \"lists/resolvers.txt\" ] }";
	assert_int_equal(cs_config_load_string(text, DATA "/virtual.json", &cfg, &err), CS_OK);
	assert_int_equal(cfg->n_resolvers, 5);
	assert_string_equal(cfg->resolvers[1].id, "192.0.2.11#5353");
	assert_int_equal(cfg->resolvers[1].port, 5353);
	assert_string_equal(cfg->resolvers[3].address, "::1");
	cs_config_free(cfg);
	cfg = NULL;

	/* the bad line is named by file and line */
	text = "{ \"zone\": \"se.\", \"resolver_files\": [ \"lists/bad_line.txt\" ] }";
	assert_int_equal(cs_config_load_string(text, DATA "/virtual.json", &cfg, &err), CS_ECONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, DATA "/lists/bad_line.txt:5: "));

	/* a missing list file is an I/O error with errno */
	text = "{ \"zone\": \"se.\", \"resolver_files\": [ \"lists/nope.txt\" ] }";
	assert_int_equal(cs_config_load_string(text, DATA "/virtual.json", &cfg, &err), CS_EIO);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.msg, "virtual.json: resolver_files[0]: " DATA
					"/lists/nope.txt: cannot open"));

	/* a directory is not a list */
	text = "{ \"zone\": \"se.\", \"resolver_files\": [ \"lists\" ] }";
	assert_int_equal(cs_config_load_string(text, DATA "/virtual.json", &cfg, &err), CS_EIO);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

/* A pipe (`-c <(lab env)`) is read to its end; the config is the same as from a file. */
static void test_config_load_from_pipe(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	static const char text[] =
		"{ \"zone\": \"se.\", \"names\": [\"shop.se.\"], "
		"\"resolvers\": [ { \"id\": \"r\", \"address\": \"127.0.0.1\" } ] }";
	assert_int_equal(write(fds[1], text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fds[1]);
	char path[64];
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_config_load(path, &cfg, &err), CS_OK);
	assert_non_null(cfg);
	assert_int_equal(cfg->n_resolvers, 1);
	cs_config_free(cfg);
	close(fds[0]);
}

/* DNS over TLS: port 853 unless given, the name without the root's dot, the CA file
 * relative to the config's directory. */
static void test_config_tls(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_config_load(DATA "/good/tls.json", &cfg, &err), CS_OK);
	assert_int_equal(cfg->n_resolvers, 3);
	assert_int_equal(cfg->resolvers[0].transport, CS_TRANSPORT_TLS);
	assert_int_equal(cfg->resolvers[0].port, 853);
	assert_string_equal(cfg->resolvers[0].tls_auth_name, "dns.example.net");
	assert_null(cfg->resolvers[0].tls_ca_file);
	assert_int_equal(cfg->resolvers[1].port, 8853);
	assert_string_equal(cfg->resolvers[1].tls_ca_file, DATA "/good/ca.pem");
	assert_int_equal(cfg->resolvers[2].transport, CS_TRANSPORT_UDP);
	assert_int_equal(cfg->resolvers[2].port, 53);
	assert_string_equal(cs_transport_name(CS_TRANSPORT_TLS), "tls");
	cs_config_free(cfg);
}

static void test_config_load_io_errors(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_config_load(DATA "/no-such.json", &cfg, &err), CS_EIO);
	assert_null(cfg);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_string_equal(err.msg, DATA "/no-such.json: cannot open: No such file or directory");
	assert_int_equal(cs_config_load(DATA, &cfg, &err), CS_EIO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(cs_config_load("", &cfg, &err), CS_EINVAL);
	assert_int_equal(cs_config_load(NULL, &cfg, &err), CS_EINVAL);
	assert_int_equal(cs_config_load_string(NULL, "x", &cfg, &err), CS_EINVAL);
	/* err may be NULL */
	assert_int_equal(cs_config_load(DATA "/no-such.json", &cfg, NULL), CS_EIO);
	assert_int_equal(cs_config_load_string("{", NULL, &cfg, NULL), CS_ECONFIG);
	cs_config_free(NULL);
}

static void test_config_messages(void **state)
{
	(void)state;
	/* syntax errors carry name:line:column */
	load_bad("{\n  \"zone\": \"se.\",\n  oops\n}", CS_ECONFIG, "t.json:3:");
	/* the exact shape of a semantic error */
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_config_load_string("{ \"zone\": \"se.\", \"resolvers\": [ { \"id\": "
					       "\"a\", \"address\": \"192.0.2.1\", \"port\": "
					       "\"abc\" } ] }",
					       "lab.json", &cfg, &err),
			 CS_ECONFIG);
	assert_string_equal(
		err.msg,
		"lab.json: resolvers[0].port: expected an integer 1..65535, found \"abc\"");
	/* long and odd values are cut and escaped */
	load_bad("{ \"zone\": \"a.b\\u0001c.................................................\" }",
		 CS_ECONFIG, "found \"a.b\\x01c..............................................\"");
	load_bad("{ \"zone\": \"se.\", \"audit_log\": null }", CS_ECONFIG,
		 "audit_log: expected a file name, found null");
	load_bad("{ \"zone\": \"se.\", \"audit_log\": { } }", CS_ECONFIG,
		 "audit_log: expected a file name, found an empty object");
	load_bad("{ \"zone\": \"se.\", \"audit_log\": 1e400 }", CS_ECONFIG, "t.json:1:");
	load_bad("{ \"zone\": \"se.\", \"audit_log\": 2.0 }", CS_ECONFIG, "found 2.0");
	/* odd keys are quoted in paths */
	load_bad("{ \"zone\": \"se.\", \"resolvers\": [ { \"id\": \"w\", \"address\": "
		 "\"192.0.2.1\", \"purge\": { \"type\": \"http\", \"url\": \"https://x.example/\","
		 " \"headers\": { \"X.Y\": \"{bad}\" } } } ] }",
		 CS_ECONFIG, "purge.headers[\"X.Y\"]: unknown substitution \"{bad}\"");
}

static void test_config_limits(void **state)
{
	(void)state;
	/* CS_MAX_NAMES + 1 names is named as a limit */
	size_t size = 64 + (CS_MAX_NAMES + 1) * 12;
	char *text = malloc(size);
	assert_non_null(text);
	size_t o = (size_t)snprintf(text, size, "{ \"zone\": \"se.\", \"names\": [");
	for (unsigned i = 0; i <= CS_MAX_NAMES; i++) {
		o += (size_t)snprintf(text + o, size - o, "%s\"n%u.se\"", i ? "," : "", i);
	}
	(void)snprintf(text + o, size - o, "] }");
	load_bad(text, CS_ECONFIG, "names: more than 1000 names (CS_MAX_NAMES)");
	free(text);

	/* too many authorities */
	size = 64 + (CS_MAX_AUTHORITIES + 1) * 16;
	text = malloc(size);
	assert_non_null(text);
	o = (size_t)snprintf(text, size, "{ \"zone\": \"se.\", \"truth\": { \"authorities\": [");
	for (unsigned i = 0; i <= CS_MAX_AUTHORITIES; i++) {
		o += (size_t)snprintf(text + o, size - o, "%s\"192.0.2.%u\"", i ? "," : "", i);
	}
	(void)snprintf(text + o, size - o, "] } }");
	load_bad(text, CS_ECONFIG, "more than 64 authorities (CS_MAX_AUTHORITIES)");
	free(text);
}

/* A temporary file of `size` bytes (sparse: nothing is written but the first bytes). */
static void sparse_file(char *path, size_t path_size, const char *head, off_t size)
{
	const char *tmp = getenv("TMPDIR");
	(void)snprintf(path, path_size, "%s/cs-limit.XXXXXX", tmp != NULL ? tmp : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t hl = strlen(head);
	assert_int_equal(write(fd, head, hl), (ssize_t)hl);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(close(fd), 0);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_config_limits_are_named(void **state)
{
	(void)state;
	size_t size = 64 + (CS_MAX_BAD_SERIALS + 1) * 12;
	char *text = malloc(size);
	assert_non_null(text);
	size_t o = (size_t)snprintf(text, size, "{ \"zone\": \"se.\", \"known_bad_serials\": [");
	for (unsigned i = 0; i <= CS_MAX_BAD_SERIALS; i++) {
		o += (size_t)snprintf(text + o, size - o, "%s%u", i ? "," : "", i);
	}
	(void)snprintf(text + o, size - o, "] }");
	load_bad(text, CS_ECONFIG, "more than 1000 serials (CS_MAX_BAD_SERIALS)");
	free(text);

	/* a config given as a string, one byte over CS_MAX_CONFIG_BYTES */
	text = repeat(' ', CS_MAX_CONFIG_BYTES + 1);
	load_bad(text, CS_ECONFIG, "larger than 16777216 bytes (CS_MAX_CONFIG_BYTES)");
	free(text);

	/* the probe section's bounds are in the message */
	load_bad("{ \"zone\": \"se.\", \"probe\": { \"timeout_ms\": 60001 } }", CS_ECONFIG,
		 "60000");
	load_bad("{ \"zone\": \"se.\", \"probe\": { \"retries\": 11 } }", CS_ECONFIG, "10");
	load_bad("{ \"zone\": \"se.\", \"probe\": { \"concurrency\": 100001 } }", CS_ECONFIG,
		 "100000");
}

static void test_config_file_limits_are_named(void **state)
{
	(void)state;
	char path[256];
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };

	/* a config file one byte over CS_MAX_CONFIG_BYTES: refused before it is read */
	sparse_file(path, sizeof(path), "{", (off_t)CS_MAX_CONFIG_BYTES + 1);
	assert_int_equal(cs_config_load(path, &cfg, &err), CS_ECONFIG);
	assert_null(cfg);
	assert_non_null(strstr(err.msg, "(CS_MAX_CONFIG_BYTES)"));
	assert_non_null(strstr(err.msg, path));
	unlink(path);

	/* a resolver list one byte over CS_MAX_LIST_BYTES */
	sparse_file(path, sizeof(path), "192.0.2.1\n", (off_t)CS_MAX_LIST_BYTES + 1);
	char text[512];
	(void)snprintf(text, sizeof(text),
		       "{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], \"resolver_files\": "
		       "[ \"%s\" ] }",
		       path);
	load_bad(text, CS_ECONFIG, "(CS_MAX_LIST_BYTES)");
	unlink(path);

	/* a list line one byte over CS_MAX_LIST_LINE */
	char *line = repeat('1', CS_MAX_LIST_LINE + 1);
	sparse_file(path, sizeof(path), line, (off_t)strlen(line));
	free(line);
	(void)snprintf(text, sizeof(text),
		       "{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], \"resolver_files\": "
		       "[ \"%s\" ] }",
		       path);
	load_bad(text, CS_ECONFIG, "line longer than 1024 bytes (CS_MAX_LIST_LINE)");
	unlink(path);
}

static void test_config_string_limits_are_named(void **state)
{
	(void)state;
	char text[1024];
	char *id = repeat('i', 129);
	(void)snprintf(text, sizeof(text),
		       "{ \"zone\": \"se.\", \"resolvers\": [ { \"id\": \"%s\", \"address\": "
		       "\"192.0.2.1\" } ] }",
		       id);
	load_bad(text, CS_ECONFIG, "an id of 1..128 printable characters");
	id[128] = '\0'; /* 128 is still an id */
	(void)snprintf(
		text, sizeof(text),
		"{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], \"resolvers\": [ { \"id\": "
		"\"%s\", \"address\": \"192.0.2.1\" } ] }",
		id);
	cs_config_free(load_ok(text));
	free(id);

	char *env = repeat('E', 129);
	(void)snprintf(text, sizeof(text),
		       "{ \"zone\": \"se.\", \"resolvers\": [ { \"id\": \"p\", \"address\": "
		       "\"192.0.2.1\", \"purge\": { \"type\": \"powerdns-api\", \"url\": "
		       "\"http://127.0.0.1:8082\", \"api_key_env\": \"%s\" } } ] }",
		       env);
	load_bad(text, CS_ECONFIG, "at most 128 characters");
	free(env);
}

static void test_config_probe_count_is_bounded(void **state)
{
	(void)state;
	/* CS_MAX_NAMES names, each resolver asked names + 1 queries: the smallest resolver
	 * count over CS_MAX_PROBES, from a list file, then one fewer */
	size_t per = CS_MAX_NAMES + 1;
	size_t over = CS_MAX_PROBES / per + 1;
	char path[256];
	char *list = malloc(over * 24);
	assert_non_null(list);
	size_t o = 0;
	for (size_t i = 0; i < over; i++) {
		o += (size_t)snprintf(list + o, over * 24 - o, "10.%zu.%zu.%zu\n", i >> 16,
				      (i >> 8) & 0xff, i & 0xff);
	}
	sparse_file(path, sizeof(path), list, (off_t)o);
	size_t size = 128 + CS_MAX_NAMES * 12 + sizeof(path);
	char *text = malloc(size);
	assert_non_null(text);
	size_t t = (size_t)snprintf(text, size, "{ \"zone\": \"se.\", \"names\": [");
	for (unsigned i = 0; i < CS_MAX_NAMES; i++) {
		t += (size_t)snprintf(text + t, size - t, "%s\"n%u.se\"", i ? "," : "", i);
	}
	(void)snprintf(text + t, size - t, "], \"resolver_files\": [ \"%s\" ] }", path);
	load_bad(text, CS_ECONFIG, "more than 2000000 probes in one run (CS_MAX_PROBES)");
	unlink(path);

	/* one resolver fewer is within the bound */
	char *last = strrchr(list, '\n');
	*last = '\0';
	last = strrchr(list, '\n');
	sparse_file(path, sizeof(path), list, (off_t)(last - list + 1));
	(void)snprintf(text + t, size - t, "], \"resolver_files\": [ \"%s\" ] }", path);
	struct cs_config *cfg = load_ok(text);
	assert_int_equal(cfg->n_resolvers, over - 1);
	cs_config_free(cfg);
	unlink(path);
	free(text);
	free(list);
}

static void test_config_cli_names_are_bounded(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	struct cs_config *cfg =
		load_ok("{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
			" \"resolvers\": [ { \"id\": \"r\", \"address\": \"::1\" } ] }");
	enum cs_errc rc = CS_OK;
	for (unsigned i = 1; i <= CS_MAX_NAMES && rc == CS_OK; i++) {
		char name[32];
		(void)snprintf(name, sizeof(name), "n%u.se", i);
		rc = cs_config_add_name(cfg, name, &err);
	}
	assert_int_equal(rc, CS_ECONFIG);
	assert_int_equal(cfg->n_names, CS_MAX_NAMES);
	assert_non_null(strstr(err.msg, "(CS_MAX_NAMES)"));
	cs_config_free(cfg);
}

/* ------------------------------------------------------------------------------------------
 * Command line, default, finish
 */

static void test_config_cli_additions(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	struct cs_config *cfg =
		load_ok("{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
			" \"resolvers\": [ { \"id\": \"r\", \"address\": \"::1\" } ] }");

	assert_int_equal(cs_config_add_resolver(cfg, "127.0.0.1#5353", &err), CS_OK);
	assert_int_equal(cs_config_add_resolver(cfg, "::1#5353", &err), CS_OK);
	assert_int_equal(cs_config_add_resolver(cfg, "192.0.2.7", &err), CS_OK);
	assert_int_equal(cfg->n_resolvers, 4);
	assert_string_equal(cfg->resolvers[1].id, "127.0.0.1#5353");
	assert_string_equal(cfg->resolvers[1].address, "127.0.0.1");
	assert_int_equal(cfg->resolvers[1].port, 5353);
	assert_string_equal(cfg->resolvers[2].address, "::1");
	assert_int_equal(cfg->resolvers[2].port, 5353);
	assert_int_equal(cfg->resolvers[3].port, 53);
	assert_int_equal(cfg->resolvers[3].transport, CS_TRANSPORT_UDP);

	assert_int_equal(cs_config_add_resolver(cfg, "127.0.0.1#99999", &err), CS_ECONFIG);
	assert_string_equal(err.msg,
			    "--resolver 127.0.0.1#99999: expected a port 1..65535 after \"#\", "
			    "found \"99999\"");
	assert_int_equal(cs_config_add_resolver(cfg, "resolver.example", &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "--resolver resolver.example: expected \"address\" or "
					"\"address#port\""));
	assert_int_equal(cs_config_add_resolver(cfg, "127.0.0.1:53", &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "(write a port as address#port)"));
	assert_int_equal(cs_config_add_resolver(cfg, "192.0.2.7", &err), CS_ECONFIG);
	assert_string_equal(err.msg, "--resolver 192.0.2.7: duplicate resolver id (also "
				     "resolvers[3])");
	assert_int_equal(cfg->n_resolvers, 4);

	assert_int_equal(cs_config_add_name(cfg, "shop1.se/AAAA", &err), CS_OK);
	assert_int_equal(cs_config_add_name(cfg, "Shop2.SE.", &err), CS_OK);
	assert_int_equal(cs_config_add_name(cfg, "shop3.se/type65", &err), CS_OK);
	assert_int_equal(cfg->n_names, 4);
	assert_string_equal(cfg->names[1].name, "shop1.se.");
	assert_int_equal(cfg->names[1].type, CS_TYPE_AAAA);
	assert_string_equal(cfg->names[2].name, "shop2.se.");
	assert_int_equal(cfg->names[2].type, CS_TYPE_A);
	assert_int_equal(cfg->names[3].type, 65);
	assert_int_equal(cs_config_add_name(cfg, "shop1.se/BOGUS", &err), CS_ECONFIG);
	assert_string_equal(err.msg, "--name shop1.se/BOGUS: expected an RR type such as \"A\", "
				     "\"AAAA\", \"NS\" or \"TYPE65\", found \"BOGUS\"");
	assert_int_equal(cs_config_add_name(cfg, "a..se", &err), CS_ECONFIG);
	assert_string_equal(err.msg, "--name a..se: expected a domain name, found \"a..se\" "
				     "(empty label)");
	assert_int_equal(cs_config_add_name(cfg, "", &err), CS_ECONFIG);
	assert_int_equal(cfg->n_names, 4);
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);

	/* --zone: the names must follow */
	assert_int_equal(cs_config_set_zone(cfg, "NU", &err), CS_OK);
	assert_string_equal(cfg->zone, "nu.");
	assert_int_equal(cs_config_finish(cfg, &err), CS_ECONFIG);
	assert_string_equal(err.msg, "t.json: names[0]: \"iis.se.\" is not inside zone \"nu.\"");
	assert_int_equal(cs_config_set_zone(cfg, "n u", &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "--zone n u: expected a domain name"));
	assert_string_equal(cfg->zone, "nu.");

	cs_config_clear_names(cfg);
	assert_int_equal(cfg->n_names, 0);
	assert_int_equal(cs_config_finish(cfg, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "no names to probe"));
	assert_int_equal(cs_config_add_name(cfg, "nic.nu/SOA", &err), CS_OK);
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);

	cs_config_clear_resolvers(cfg);
	assert_int_equal(cfg->n_resolvers, 0);
	assert_int_equal(cs_config_finish(cfg, &err), CS_ECONFIG);
	assert_non_null(strstr(err.msg, "no resolvers"));
	/* the command line stands in for the file's resolvers */
	assert_int_equal(cs_config_add_resolver(cfg, "::1", &err), CS_OK);
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);

	assert_int_equal(cs_config_add_resolver(NULL, "::1", &err), CS_EINVAL);
	assert_int_equal(cs_config_add_name(cfg, NULL, &err), CS_EINVAL);
	assert_int_equal(cs_config_set_zone(NULL, "se", &err), CS_EINVAL);
	assert_int_equal(cs_config_finish(NULL, &err), CS_EINVAL);
	cs_config_clear_names(NULL);
	cs_config_clear_resolvers(NULL);
	cs_config_free(cfg);
}

static void test_config_default(void **state)
{
	(void)state;
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(setenv("CACHESWEEP_RESOLV_CONF", RESOLV_TEST, 1), 0);
	enum cs_errc rc = cs_config_new_default(&cfg, &err);
	assert_int_equal(unsetenv("CACHESWEEP_RESOLV_CONF"), 0);
	if (rc != CS_OK) {
		fail_msg("%s", err.msg);
	}
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);
	assert_string_equal(cfg->path, "(default)");
	assert_string_equal(cfg->zone, "se.");
	assert_int_equal(cfg->truth.mode, CS_TRUTH_RECURSION);
	assert_true(cfg->n_names >= 8);
	bool has_ns = false;
	bool has_iis = false;
	for (size_t i = 0; i < cfg->n_names; i++) {
		assert_true(cs_name_in_zone(cfg->names[i].name, "se."));
		has_ns = has_ns || cfg->names[i].type == CS_TYPE_NS;
		has_iis = has_iis || strcmp(cfg->names[i].name, "iis.se.") == 0;
	}
	assert_true(has_ns);
	assert_true(has_iis);
	assert_int_equal(cfg->limits.timeout_ms, 2000);

	/* numeric nameservers only; 8.8.8.8 is already a public entry */
	static const struct {
		const char *id, *address;
		bool has_operator;
	} want[] = {
		{ "system-1", "127.0.0.53", false },     { "system-2", "192.0.2.1", false },
		{ "system-3", "2001:db8::1", false },    { "google-1", "8.8.8.8", true },
		{ "google-2", "8.8.4.4", true },         { "cloudflare-1", "1.1.1.1", true },
		{ "cloudflare-2", "1.0.0.1", true },     { "quad9-1", "9.9.9.9", true },
		{ "opendns-1", "208.67.222.222", true },
	};
	assert_int_equal(cfg->n_resolvers, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cs_resolver *r = &cfg->resolvers[i];
		assert_string_equal(r->id, want[i].id);
		assert_string_equal(r->address, want[i].address);
		assert_int_equal(r->port, 53);
		assert_false(r->has_purge);
		assert_true((r->operator_name != NULL) == want[i].has_operator);
		assert_true((r->contact != NULL) == want[i].has_operator);
	}
	assert_string_equal(cfg->resolvers[3].operator_name, "Google Public DNS");
	cs_config_free(cfg);
	cfg = NULL;

	/* no resolv.conf: the public services alone */
	assert_int_equal(setenv("CACHESWEEP_RESOLV_CONF", DATA "/no-such-resolv.conf", 1), 0);
	rc = cs_config_new_default(&cfg, &err);
	assert_int_equal(unsetenv("CACHESWEEP_RESOLV_CONF"), 0);
	assert_int_equal(rc, CS_OK);
	assert_int_equal(cfg->n_resolvers, 6);
	assert_string_equal(cfg->resolvers[0].id, "google-1");
	cs_config_free(cfg);
	assert_int_equal(cs_config_new_default(NULL, &err), CS_EINVAL);
}

static void test_config_finish_errors(void **state)
{
	(void)state;
	struct cs_error err = { 0 };
	struct cs_config *cfg = load_ok("{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ],"
					" \"resolvers\": [ { \"id\": \"a\", \"address\": \"::1\" },"
					" { \"id\": \"b\", \"address\": \"::1\" } ] }");
	/* ids made equal behind the loader's back: finish names both indexes */
	cfg->resolvers[1].id[0] = 'a';
	assert_int_equal(cs_config_finish(cfg, &err), CS_ECONFIG);
	assert_string_equal(
		err.msg,
		"t.json: resolvers[1].id: duplicate resolver id \"a\" (also resolvers[0])");
	cfg->resolvers[1].id[0] = 'b';
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);

	char *zone = cfg->zone;
	cfg->zone = NULL;
	assert_int_equal(cs_config_finish(cfg, &err), CS_ECONFIG);
	assert_string_equal(err.msg, "t.json: no zone: set \"zone\" or use --zone");
	cfg->zone = zone;

	/* the root zone holds every name */
	assert_int_equal(cs_config_set_zone(cfg, ".", &err), CS_OK);
	assert_int_equal(cs_config_add_name(cfg, "example.com", &err), CS_OK);
	assert_int_equal(cs_config_finish(cfg, &err), CS_OK);
	cs_config_free(cfg);
}

/* ------------------------------------------------------------------------------------------
 * Corpus
 */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/** The sorted names in dir ending in suffix; *n gets the count. Caller frees. */
static char **list_dir(const char *dir, const char *suffix, size_t *n)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fail_msg("cannot open %s: %s", dir, strerror(errno));
		return NULL;
	}
	char **names = NULL;
	size_t count = 0;
	size_t slen = strlen(suffix);
	const struct dirent *e = NULL;
	for (e = readdir(d); e != NULL; e = readdir(d)) {
		size_t len = strlen(e->d_name);
		if (len <= slen || strcmp(e->d_name + len - slen, suffix) != 0) {
			continue;
		}
		char **grown = realloc(names, (count + 1) * sizeof(*names));
		assert_non_null(grown);
		names = grown;
		names[count] = strdup(e->d_name);
		assert_non_null(names[count]);
		count++;
	}
	closedir(d);
	if (count > 0) {
		qsort(names, count, sizeof(*names), cmp_str);
	}
	*n = count;
	return names;
}

static void free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
	}
	free(names);
}

static void test_config_corpus_good(void **state)
{
	(void)state;
	size_t n = 0;
	char **names = list_dir(GOOD_DIR, ".json", &n);
	size_t failed = 0;
	assert_true(n >= 5);
	for (size_t i = 0; i < n; i++) {
		char path[512];
		struct cs_config *cfg = NULL;
		struct cs_error err = { 0 };
		(void)snprintf(path, sizeof(path), "%s/%s", GOOD_DIR, names[i]);
		enum cs_errc rc = cs_config_load(path, &cfg, &err);
		if (rc == CS_OK) {
			rc = cs_config_finish(cfg, &err);
		}
		if (rc != CS_OK) {
			print_error("good/%s: %s\n", names[i], err.msg);
			failed++;
		}
		cs_config_free(cfg);
	}
	free_list(names, n);
	if (failed > 0) {
		fail_msg("%zu good configs failed", failed);
	}
}

static void test_config_corpus_bad(void **state)
{
	(void)state;
	size_t n = 0;
	size_t n_err = 0;
	char **names = list_dir(BAD_DIR, ".json", &n);
	char **errs = list_dir(BAD_DIR, ".err", &n_err);
	size_t failed = 0;

	assert_true(n >= 25);
	if (n != n_err) {
		fail_msg("%zu .json files but %zu .err files in %s", n, n_err, BAD_DIR);
	}
	for (size_t i = 0; i < n; i++) {
		char path[512];
		char want[512] = "";
		struct cs_config *cfg = NULL;
		struct cs_error err = { 0 };
		size_t stem = strlen(names[i]) - strlen(".json");

		(void)snprintf(path, sizeof(path), "%s/%.*s.err", BAD_DIR, (int)stem, names[i]);
		FILE *f = fopen(path, "r");
		if (f == NULL || fgets(want, sizeof(want), f) == NULL) {
			fail_msg("%s: cannot read", path);
		}
		fclose(f);
		want[strcspn(want, "\n")] = '\0';
		assert_true(want[0] != '\0');

		(void)snprintf(path, sizeof(path), "%s/%s", BAD_DIR, names[i]);
		enum cs_errc rc = cs_config_load(path, &cfg, &err);
		if (rc == CS_OK) {
			rc = cs_config_finish(cfg, &err);
			cs_config_free(cfg);
		} else if (cfg != NULL) {
			fail_msg("bad/%s: *out set on failure", names[i]);
		}
		if (rc == CS_OK) {
			print_error("bad/%s: loaded, want \"%s\"\n", names[i], want);
			failed++;
		} else if (strstr(err.msg, want) == NULL) {
			print_error("bad/%s:\n  got  \"%s\"\n  want \"%s\"\n", names[i], err.msg,
				    want);
			failed++;
		} else if (strstr(err.msg, SECRET) != NULL) {
			print_error("bad/%s: the secret is in the message: %s\n", names[i],
				    err.msg);
			failed++;
		} else if (err.msg[strlen(err.msg) - 1] == '.' && strstr(err.msg, "...") == NULL) {
			print_error("bad/%s: message ends in a period: %s\n", names[i], err.msg);
			failed++;
		}
	}
	free_list(names, n);
	free_list(errs, n_err);
	if (failed > 0) {
		fail_msg("%zu bad configs failed", failed);
	}
}

/* ------------------------------------------------------------------------------------------
 * Allocation failure: every allocation, in turn, fails; each run must end in CS_ENOMEM with
 * nothing leaked (cmocka checks at the end of the test), until the run needs no more.
 */

enum step {
	STEP_LOAD_FULL,
	STEP_LOAD_LISTS,
	STEP_DEFAULT,
};

static enum cs_errc run_step(enum step step)
{
	struct cs_config *cfg = NULL;
	struct cs_error err = { 0 };
	enum cs_errc rc = CS_OK;

	switch (step) {
	case STEP_LOAD_FULL:
		rc = cs_config_load(GOOD_DIR "/full.json", &cfg, &err);
		break;
	case STEP_LOAD_LISTS:
		/* fails on the duplicate, which is found after every allocation */
		rc = cs_config_load(BAD_DIR "/list_dup_with_json.json", &cfg, &err);
		if (rc == CS_ECONFIG && strstr(err.msg, "duplicate resolver id") != NULL) {
			rc = CS_OK;
		}
		break;
	case STEP_DEFAULT:
		rc = cs_config_new_default(&cfg, &err);
		break;
	}
	if (rc == CS_OK && cfg != NULL) {
		rc = cs_config_finish(cfg, &err);
	}
	if (rc != CS_OK && rc != CS_ENOMEM) {
		fail_msg("step %d: %s", (int)step, err.msg);
	}
	if (rc == CS_ENOMEM && strcmp(err.msg, "out of memory") != 0) {
		fail_msg("step %d: ENOMEM with \"%s\"", (int)step, err.msg);
	}
	cs_config_free(cfg);
	return rc;
}

static void check_all_failures(enum step step)
{
	for (size_t n = 1;; n++) {
		test_alloc_fail_at(n);
		enum cs_errc rc = run_step(step);
		size_t used = test_alloc_count();
		test_alloc_fail_at(0);
		if (rc == CS_OK) {
			assert_true(used < n);
			break;
		}
		assert_int_equal(rc, CS_ENOMEM);
		if (n > 100000) {
			fail_msg("step %d never succeeded", (int)step);
		}
	}
}

static void test_config_alloc_failures(void **state)
{
	(void)state;
	check_all_failures(STEP_LOAD_FULL);
	check_all_failures(STEP_LOAD_LISTS);
	assert_int_equal(setenv("CACHESWEEP_RESOLV_CONF", RESOLV_TEST, 1), 0);
	check_all_failures(STEP_DEFAULT);
	assert_int_equal(unsetenv("CACHESWEEP_RESOLV_CONF"), 0);
}

static void test_config_alloc_failures_cli(void **state)
{
	(void)state;
	for (size_t n = 1;; n++) {
		struct cs_error err = { 0 };
		struct cs_config *cfg = NULL;
		assert_int_equal(
			cs_config_load_string("{ \"zone\": \"se.\", \"resolvers\": "
					      "[ { \"id\": \"a\", \"address\": \"::1\" } ] }",
					      "t.json", &cfg, &err),
			CS_OK);
		test_alloc_fail_at(n);
		enum cs_errc rc = cs_config_add_name(cfg, "x.se/AAAA", &err);
		if (rc == CS_OK) {
			rc = cs_config_add_resolver(cfg, "192.0.2.9#5353", &err);
		}
		if (rc == CS_OK) {
			rc = cs_config_set_zone(cfg, "SE", &err);
		}
		if (rc == CS_OK) {
			rc = cs_config_finish(cfg, &err);
		}
		test_alloc_fail_at(0);
		if (rc == CS_OK) {
			assert_int_equal(cfg->n_names, 1);
			assert_int_equal(cfg->n_resolvers, 2);
			cs_config_free(cfg);
			break;
		}
		assert_int_equal(rc, CS_ENOMEM);
		/* a failed setter leaves no half entry behind */
		for (size_t i = 0; i < cfg->n_resolvers; i++) {
			assert_non_null(cfg->resolvers[i].id);
			assert_non_null(cfg->resolvers[i].address);
		}
		for (size_t i = 0; i < cfg->n_names; i++) {
			assert_non_null(cfg->names[i].name);
		}
		cs_config_free(cfg);
		assert_true(n < 1000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_u32_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_normalize_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_in_zone_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addr_check_and_port_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_full_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_minimal_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_truth_authorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_contract_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_list_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_io_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_from_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_limits_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file_limits_are_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_string_limits_are_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_cli_names_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_probe_count_is_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_cli_additions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_finish_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_corpus_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_corpus_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_alloc_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_alloc_failures_cli, setup, teardown),
	};
	return cmocka_run_group_tests_name("config", tests, group_setup, NULL);
}
