/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Software names and the fingerprint classifier, with real CHAOS answers (shared/notes/flush.md
 * §16.2, Debian 12 packages). Links cs_core only: classification does no I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/observe.h>
#include <cachesweep/software.h>

#define TXT(s)                                                                               \
	{                                                                                    \
		.answered = true, .rcode = CS_RCODE_NOERROR,                                 \
		.text = s /* NOLINT(bugprone-macro-parentheses): a char array needs the bare \
			     literal */                                                      \
	}
#define RC(r)                                  \
	{                                      \
		.answered = true, .rcode = (r) \
	}

static const struct row {
	const char *why;
	struct cs_fingerprint fp;
	enum cs_software_id want;
	const char *version;
	const char *source;
} rows[] = {
	{ "Unbound 1.17 default",
	  { .q = { TXT("unbound 1.17.1"), TXT("unbound 1.17.1"), TXT(". 20326") } },
	  CS_SW_UNBOUND,
	  "1.17.1",
	  "version.bind" },
	{ "Unbound with hide-version, trust anchor shown",
	  { .q = { RC(CS_RCODE_REFUSED), RC(CS_RCODE_REFUSED), TXT(". 20326 38696") } },
	  CS_SW_UNBOUND,
	  "",
	  "trustanchor.unbound" },
	{ "BIND 9.18 Debian",
	  { .q = { TXT("9.18.49-1~deb12u3-Debian"), RC(CS_RCODE_REFUSED) } },
	  CS_SW_BIND,
	  "9.18.49-1~deb12u3-Debian",
	  "version.bind" },
	{ "BIND 9.16 Ubuntu",
	  { .q = { TXT("9.16.1-Ubuntu") } },
	  CS_SW_BIND,
	  "9.16.1-Ubuntu",
	  "version.bind" },
	{ "PowerDNS Recursor 4.8.8 (built)",
	  { .q = { TXT("PowerDNS Recursor 4.8.8 (built Jan  1 2024 00:00:00 by root@localhost)"),
		   RC(CS_RCODE_REFUSED), RC(CS_RCODE_REFUSED),
		   TXT("PowerDNS Recursor 4.8.8 (built Jan  1 2024 00:00:00 by "
		       "root@localhost)") } },
	  CS_SW_POWERDNS,
	  "4.8.8",
	  "version.bind" },
	{ "PowerDNS with a custom version-string, version.pdns answers",
	  { .q = { TXT("go away"), RC(CS_RCODE_REFUSED), RC(CS_RCODE_REFUSED), TXT("go away") } },
	  CS_SW_POWERDNS,
	  "",
	  "version.pdns" },
	{ "dnsmasq 2.90", { .q = { TXT("dnsmasq-2.90") } }, CS_SW_DNSMASQ, "2.90", "version.bind" },
	{ "Pi-hole FTL",
	  { .q = { TXT("dnsmasq-pi-hole-v2.90") } },
	  CS_SW_DNSMASQ,
	  "pi-hole-v2.90",
	  "version.bind" },
	{ "Knot Resolver: NOTIMP for class CH",
	  { .q = { RC(CS_RCODE_NOTIMP), RC(CS_RCODE_NOTIMP), RC(CS_RCODE_NOTIMP),
		   RC(CS_RCODE_NOTIMP) } },
	  CS_SW_KNOT5,
	  "",
	  "behaviour" },
	{ "Knot Resolver 5.6 on Debian 12 (measured): SERVFAIL for every CH TXT with RD=1",
	  { .q = { RC(CS_RCODE_SERVFAIL), RC(CS_RCODE_SERVFAIL), RC(CS_RCODE_SERVFAIL),
		   RC(CS_RCODE_SERVFAIL) } },
	  CS_SW_KNOT5,
	  "",
	  "behaviour" },
	{ "one SERVFAIL beside an answer is not Knot",
	  { .q = { RC(CS_RCODE_SERVFAIL), TXT("unbound 1.17.1") } },
	  CS_SW_UNBOUND,
	  "1.17.1",
	  "version.server" },
	{ "Windows with EnableVersionQuery",
	  { .q = { TXT("Microsoft DNS 10.0.17763 (4732)") } },
	  CS_SW_WINDOWS,
	  "10.0.17763",
	  "version.bind" },
	{ "version.server only",
	  { .q = { RC(CS_RCODE_REFUSED), TXT("unbound 1.22.0") } },
	  CS_SW_UNBOUND,
	  "1.22.0",
	  "version.server" },
	{ "everything refused (Technitium, hidden)",
	  { .q = { RC(CS_RCODE_REFUSED), RC(CS_RCODE_REFUSED), RC(CS_RCODE_REFUSED),
		   RC(CS_RCODE_REFUSED) } },
	  CS_SW_UNKNOWN,
	  "",
	  "" },
	{ "nothing answered", { .q = { { 0 } } }, CS_SW_UNKNOWN, "", "" },
	{ "NOTIMP on some, refused on others is not Knot",
	  { .q = { RC(CS_RCODE_NOTIMP), RC(CS_RCODE_REFUSED) } },
	  CS_SW_UNKNOWN,
	  "",
	  "" },
	{ "a made-up version string",
	  { .q = { TXT("none of your business") } },
	  CS_SW_UNKNOWN,
	  "",
	  "" },
	{ "NSID that names the software",
	  { .q = { RC(CS_RCODE_REFUSED) }, .nsid = "unbound 1.17.1" },
	  CS_SW_UNBOUND,
	  "1.17.1",
	  "nsid" },
	{ "empty TXT is no answer",
	  { .q = { TXT(""), RC(CS_RCODE_REFUSED) } },
	  CS_SW_UNKNOWN,
	  "",
	  "" },
};

static void test_fingerprint_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cs_software_guess g;
		cs_fingerprint_classify(&rows[i].fp, &g);
		if (g.id != rows[i].want || strcmp(g.version, rows[i].version) != 0 ||
		    strcmp(g.source, rows[i].source) != 0) {
			fail_msg("row %zu (%s): got %s \"%s\" from \"%s\", want %s \"%s\" from "
				 "\"%s\"",
				 i, rows[i].why, cs_software_name(g.id), g.version, g.source,
				 cs_software_name(rows[i].want), rows[i].version, rows[i].source);
		}
	}
}

static void test_software_names_roundtrip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < CS_SW_COUNT; i++) {
		enum cs_software_id id = CS_SW_COUNT;
		assert_int_equal(cs_software_parse(cs_software_name((enum cs_software_id)i), &id),
				 0);
		assert_int_equal(id, i);
		assert_non_null(cs_software_title((enum cs_software_id)i));
	}
	enum cs_software_id id = CS_SW_UNKNOWN;
	assert_int_equal(cs_software_parse("pdns", &id), 0);
	assert_int_equal(id, CS_SW_POWERDNS);
	assert_int_equal(cs_software_parse("named", &id), -1);
}

static void test_software_by_address_public(void **state)
{
	(void)state;
	assert_int_equal(cs_software_by_address("8.8.8.8"), CS_SW_GOOGLE);
	assert_int_equal(cs_software_by_address("2606:4700:4700::1111"), CS_SW_CLOUDFLARE);
	assert_int_equal(cs_software_by_address("208.67.222.222"), CS_SW_OPENDNS);
	assert_int_equal(cs_software_by_address("9.9.9.9"), CS_SW_QUAD9);
	assert_int_equal(cs_software_by_address("192.0.2.53"), CS_SW_UNKNOWN);
	assert_true(cs_software_is_public(CS_SW_GOOGLE));
	assert_false(cs_software_is_public(CS_SW_UNBOUND));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint_table),
		cmocka_unit_test(test_software_names_roundtrip),
		cmocka_unit_test(test_software_by_address_public),
	};
	return cmocka_run_group_tests_name("software", tests, NULL, NULL);
}
