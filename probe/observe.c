/* SPDX-License-Identifier: BSD-3-Clause */
/* Names for rcodes, RR types and EDE codes. Pure: used by classify and the renderers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/observe.h>

static const char *const rcode_names[] = {
	"NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
};

const char *cs_rcode_name(uint16_t rcode)
{
	if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0])) {
		return rcode_names[rcode];
	}
	return NULL;
}

void cs_rcode_format(uint16_t rcode, char *buf, size_t size)
{
	const char *name = cs_rcode_name(rcode);
	if (name != NULL) {
		(void)cs_strlcpy(buf, name, size);
		return;
	}
	(void)cs_snprintf(buf, size, "RCODE%u", (unsigned)rcode);
}

struct type_row {
	uint16_t type;
	const char *name;
};

static const struct type_row types[] = {
	{ 1, "A" },      { 2, "NS" },    { 5, "CNAME" },  { 6, "SOA" },    { 12, "PTR" },
	{ 15, "MX" },    { 16, "TXT" },  { 28, "AAAA" },  { 33, "SRV" },   { 35, "NAPTR" },
	{ 39, "DNAME" }, { 43, "DS" },   { 46, "RRSIG" }, { 47, "NSEC" },  { 48, "DNSKEY" },
	{ 50, "NSEC3" }, { 52, "TLSA" }, { 64, "SVCB" },  { 65, "HTTPS" }, { 99, "SPF" },
	{ 257, "CAA" },
};

void cs_type_format(uint16_t type, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i].type == type) {
			(void)cs_strlcpy(buf, types[i].name, size);
			return;
		}
	}
	(void)cs_snprintf(buf, size, "TYPE%u", (unsigned)type);
}

int cs_type_parse(const char *s, uint16_t *type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(types[i].name, s) == 0) {
			*type = types[i].type;
			return 0;
		}
	}
	if (strncasecmp(s, "TYPE", 4) == 0) {
		uint32_t v = 0;
		if (cs_parse_u32(s + 4, 1, 65535, &v) == 0) {
			*type = (uint16_t)v;
			return 0;
		}
	}
	return -1;
}

/* RFC 8914 §5.2 and the IANA "Extended DNS Error Codes" registry. */
static const char *const ede_names[] = {
	"Other Error",
	"Unsupported DNSKEY Algorithm",
	"Unsupported DS Digest Type",
	"Stale Answer",
	"Forged Answer",
	"DNSSEC Indeterminate",
	"DNSSEC Bogus",
	"Signature Expired",
	"Signature Not Yet Valid",
	"DNSKEY Missing",
	"RRSIGs Missing",
	"No Zone Key Bit Set",
	"NSEC Missing",
	"Cached Error",
	"Not Ready",
	"Blocked",
	"Censored",
	"Filtered",
	"Prohibited",
	"Stale NXDOMAIN Answer",
	"Not Authoritative",
	"Not Supported",
	"No Reachable Authority",
	"Network Error",
	"Invalid Data",
	"Signature Expired before Valid",
	"Too Early",
	"Unsupported NSEC3 Iterations Value",
	"Unable to conform to policy",
	"Synthesized",
	"Invalid Query Type",
};

const char *cs_ede_name(uint16_t code)
{
	if (code < sizeof(ede_names) / sizeof(ede_names[0])) {
		return ede_names[code];
	}
	return "unassigned";
}
