/* SPDX-License-Identifier: BSD-3-Clause */
/* Resolver software names and the pure fingerprint classifier (shared/notes/flush.md §16). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <cachesweep/error.h>
#include <cachesweep/observe.h>
#include <cachesweep/software.h>

static const struct {
	const char *name;
	const char *title;
	bool is_public;
} sw_table[CS_SW_COUNT] = {
	[CS_SW_UNKNOWN] = { "unknown", "unknown software", false },
	[CS_SW_UNBOUND] = { "unbound", "Unbound", false },
	[CS_SW_BIND] = { "bind", "BIND 9", false },
	[CS_SW_POWERDNS] = { "powerdns", "PowerDNS Recursor", false },
	[CS_SW_KNOT5] = { "knot-resolver", "Knot Resolver 5", false },
	[CS_SW_KNOT6] = { "knot-resolver-6", "Knot Resolver 6", false },
	[CS_SW_DNSMASQ] = { "dnsmasq", "dnsmasq", false },
	[CS_SW_SYSTEMD_RESOLVED] = { "systemd-resolved", "systemd-resolved", false },
	[CS_SW_WINDOWS] = { "windows", "Windows Server DNS", false },
	[CS_SW_TECHNITIUM] = { "technitium", "Technitium DNS Server", false },
	[CS_SW_ADGUARD_HOME] = { "adguard-home", "AdGuard Home", false },
	[CS_SW_GOOGLE] = { "google", "Google Public DNS", true },
	[CS_SW_CLOUDFLARE] = { "cloudflare", "Cloudflare 1.1.1.1", true },
	[CS_SW_OPENDNS] = { "opendns", "OpenDNS / Cisco Umbrella", true },
	[CS_SW_QUAD9] = { "quad9", "Quad9", true },
};

const char *cs_software_name(enum cs_software_id id)
{
	return (unsigned)id < CS_SW_COUNT ? sw_table[id].name : "unknown";
}

const char *cs_software_title(enum cs_software_id id)
{
	return (unsigned)id < CS_SW_COUNT ? sw_table[id].title : "unknown software";
}

bool cs_software_is_public(enum cs_software_id id)
{
	return (unsigned)id < CS_SW_COUNT && sw_table[id].is_public;
}

int cs_software_parse(const char *s, enum cs_software_id *out)
{
	static const struct {
		const char *alias;
		enum cs_software_id id;
	} aliases[] = {
		{ "knot", CS_SW_KNOT5 },
		{ "kresd", CS_SW_KNOT5 },
		{ "knot-resolver-5", CS_SW_KNOT5 },
		{ "pdns", CS_SW_POWERDNS },
		{ "pdns-recursor", CS_SW_POWERDNS },
		{ "bind9", CS_SW_BIND },
		{ "adguard", CS_SW_ADGUARD_HOME },
		{ "umbrella", CS_SW_OPENDNS },
	};
	for (unsigned i = 0; i < CS_SW_COUNT; i++) {
		if (strcasecmp(s, sw_table[i].name) == 0) {
			*out = (enum cs_software_id)i;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		if (strcasecmp(s, aliases[i].alias) == 0) {
			*out = aliases[i].id;
			return 0;
		}
	}
	return -1;
}

enum cs_software_id cs_software_by_address(const char *address)
{
	static const struct {
		const char *address;
		enum cs_software_id id;
	} known[] = {
		{ "8.8.8.8", CS_SW_GOOGLE },
		{ "8.8.4.4", CS_SW_GOOGLE },
		{ "2001:4860:4860::8888", CS_SW_GOOGLE },
		{ "2001:4860:4860::8844", CS_SW_GOOGLE },
		{ "1.1.1.1", CS_SW_CLOUDFLARE },
		{ "1.0.0.1", CS_SW_CLOUDFLARE },
		{ "2606:4700:4700::1111", CS_SW_CLOUDFLARE },
		{ "2606:4700:4700::1001", CS_SW_CLOUDFLARE },
		{ "208.67.222.222", CS_SW_OPENDNS },
		{ "208.67.220.220", CS_SW_OPENDNS },
		{ "2620:119:35::35", CS_SW_OPENDNS },
		{ "2620:119:53::53", CS_SW_OPENDNS },
		{ "9.9.9.9", CS_SW_QUAD9 },
		{ "149.112.112.112", CS_SW_QUAD9 },
		{ "2620:fe::fe", CS_SW_QUAD9 },
		{ "2620:fe::9", CS_SW_QUAD9 },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcasecmp(address, known[i].address) == 0) {
			return known[i].id;
		}
	}
	return CS_SW_UNKNOWN;
}

const char *cs_fp_query_name(enum cs_fp_query q)
{
	switch (q) {
	case CS_FP_VERSION_BIND:
		return "version.bind.";
	case CS_FP_VERSION_SERVER:
		return "version.server.";
	case CS_FP_TRUSTANCHOR_UNBOUND:
		return "trustanchor.unbound.";
	case CS_FP_VERSION_PDNS:
		return "version.pdns.";
	}
	return "version.bind.";
}

/* The first run of version-ish characters (digits, dots, letters, - ~ +) after prefix. */
static void version_after(const char *text, size_t skip, char *out, size_t size)
{
	const char *p = text + skip;
	size_t n = 0;
	while (*p == ' ' || *p == '-') {
		p++;
	}
	while (p[n] != '\0' && p[n] != ' ' && p[n] != '(' && n + 1 < size) {
		n++;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static bool starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool cs_software_from_version(const char *text, enum cs_software_id *id, char *version, size_t size)
{
	version[0] = '\0';
	*id = CS_SW_UNKNOWN;
	if (starts_ci(text, "unbound")) {
		*id = CS_SW_UNBOUND;
		version_after(text, strlen("unbound"), version, size);
	} else if (starts_ci(text, "PowerDNS Recursor")) {
		*id = CS_SW_POWERDNS;
		version_after(text, strlen("PowerDNS Recursor"), version, size);
	} else if (starts_ci(text, "dnsmasq")) {
		*id = CS_SW_DNSMASQ; /* Pi-hole's FTL says "dnsmasq-pi-hole-v2.90" */
		version_after(text, strlen("dnsmasq"), version, size);
	} else if (starts_ci(text, "Knot Resolver")) {
		version_after(text, strlen("Knot Resolver"), version, size);
		*id = version[0] == '6' ? CS_SW_KNOT6 : CS_SW_KNOT5;
	} else if (starts_ci(text, "Microsoft DNS")) {
		*id = CS_SW_WINDOWS;
		version_after(text, strlen("Microsoft DNS"), version, size);
	} else if (starts_ci(text, "BIND ")) {
		*id = CS_SW_BIND;
		version_after(text, strlen("BIND"), version, size);
	} else if (text[0] == '9' && text[1] == '.' && isdigit((unsigned char)text[2])) {
		/* BIND answers its bare version: "9.18.49-1~deb12u3-Debian", "9.16.1-Ubuntu" */
		*id = CS_SW_BIND;
		version_after(text, 0, version, size);
	}
	return *id != CS_SW_UNKNOWN;
}

static void set_guess(struct cs_software_guess *out, enum cs_software_id id, const char *version,
		      const char *source)
{
	out->id = id;
	(void)cs_strlcpy(out->version, version, sizeof(out->version));
	(void)cs_strlcpy(out->source, source, sizeof(out->source));
}

static bool txt_ok(const struct cs_fp_answer *a)
{
	return a->answered && a->rcode == CS_RCODE_NOERROR && a->text[0] != '\0';
}

void cs_fingerprint_classify(const struct cs_fingerprint *fp, struct cs_software_guess *out)
{
	static const enum cs_fp_query version_queries[] = { CS_FP_VERSION_BIND,
							    CS_FP_VERSION_SERVER,
							    CS_FP_VERSION_PDNS };
	char version[64];
	enum cs_software_id id = CS_SW_UNKNOWN;

	memset(out, 0, sizeof(*out));
	/* 1. a version string that names its software (unless hidden or replaced) */
	for (size_t i = 0; i < sizeof(version_queries) / sizeof(version_queries[0]); i++) {
		const struct cs_fp_answer *a = &fp->q[version_queries[i]];
		if (txt_ok(a) && cs_software_from_version(a->text, &id, version, sizeof(version))) {
			char src[32];
			(void)cs_strlcpy(src, cs_fp_query_name(version_queries[i]), sizeof(src));
			src[strlen(src) - 1] = '\0'; /* no trailing dot in the source */
			set_guess(out, id, version, src);
			return;
		}
	}
	/* 2. names only one software answers */
	if (txt_ok(&fp->q[CS_FP_TRUSTANCHOR_UNBOUND])) {
		set_guess(out, CS_SW_UNBOUND, "", "trustanchor.unbound");
		return;
	}
	if (txt_ok(&fp->q[CS_FP_VERSION_PDNS])) {
		set_guess(out, CS_SW_POWERDNS, "", "version.pdns");
		return;
	}
	/* 3. an NSID that names the software */
	if (fp->nsid[0] != '\0' &&
	    cs_software_from_version(fp->nsid, &id, version, sizeof(version))) {
		set_guess(out, id, version, "nsid");
		return;
	}
	/* 4. behaviour: Knot Resolver has no CHAOS names at all. Its source answers NOTIMP for
	 * a class other than IN (flush.md §16.2); kresd 5.6.0 on Debian 12, asked with RD=1,
	 * answered SERVFAIL to every CH TXT query here (and REFUSED with RD=0). The software
	 * that answer CHAOS (BIND, Unbound, PowerDNS, dnsmasq) never fail all four. */
	bool any = false;
	bool all_fail = true;
	for (unsigned i = 0; i < CS_FP_COUNT; i++) {
		if (fp->q[i].answered) {
			any = true;
			all_fail = all_fail && (fp->q[i].rcode == CS_RCODE_NOTIMP ||
						fp->q[i].rcode == CS_RCODE_SERVFAIL);
		}
	}
	if (any && all_fail) {
		set_guess(out, CS_SW_KNOT5, "", "behaviour");
		return;
	}
	out->id = CS_SW_UNKNOWN;
}
