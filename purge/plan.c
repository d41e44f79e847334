/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The purge plan: per software, the narrowest commands that clear everything bad in the zone.
 * Pure: findings and software in, instruction lines out. Sources: shared/notes/flush.md.
 *
 * Why the zone and not the names: after a bad zone, a validating resolver synthesises NXDOMAIN
 * from cached NSEC records for names nobody asked (RFC 8198), and keeps bad DS/DNSKEY entries
 * at the apex; only a purge at the zone apex clears those (flush.md §0).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/purge.h>

struct lines {
	char **v;
	size_t n;
	size_t cap;
	bool oom;
};

static void add(struct lines *l, const char *fmt, ...) CS_PRINTF(2, 3);

static void add(struct lines *l, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	if (l->oom) {
		return;
	}
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		l->oom = true; /* cannot happen with bounded names; treat as failure */
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 8 : l->cap * 2;
		char **v = cs_reallocarray(l->v, cap, sizeof(*v));
		if (v == NULL) {
			l->oom = true;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = cs_strdup(buf);
	if (l->v[l->n] == NULL) {
		l->oom = true;
		return;
	}
	l->n++;
}

const char *cs_purge_type_name(enum cs_purge_type t)
{
	switch (t) {
	case CS_PURGE_INSTRUCTIONS:
		return "instructions";
	case CS_PURGE_POWERDNS_API:
		return "powerdns-api";
	case CS_PURGE_HTTP:
		return "http";
	case CS_PURGE_EXEC:
		return "exec";
	case CS_PURGE_UNBOUND_CONTROL:
		return "unbound-control";
	}
	return "instructions";
}

enum cs_software_id cs_plan_software(const struct cs_resolver_report *rr)
{
	enum cs_software_id id = CS_SW_UNKNOWN;
	if (rr->has_software && cs_software_parse(rr->software.name, &id) == 0 &&
	    id != CS_SW_UNKNOWN) {
		if (id == CS_SW_KNOT5 && rr->software.version[0] == '6') {
			id = CS_SW_KNOT6;
		}
		return id;
	}
	return cs_software_by_address(rr->address);
}

/** What the findings call for, beyond the zone-wide flush. */
struct needs {
	bool negative; /* NXDOMAIN/NODATA (incl. NSEC-synthesised) or a cached SERVFAIL */
	bool bogus;    /* DNSSEC: bogus data or a validation failure */
	bool infra;    /* a cached failure that may be server reputation (lameness, timeouts) */
	bool any;
};

static struct needs needs_of(const struct cs_resolver_report *rr)
{
	struct needs nd = { 0 };
	for (size_t i = 0; i < rr->n_findings; i++) {
		const enum cs_verdict v = rr->findings[i].verdict;
		nd.any = nd.any || cs_verdict_needs_purge(v);
		switch (v) {
		case CS_VERDICT_CACHED_NXDOMAIN:
		case CS_VERDICT_CACHED_NODATA:
			nd.negative = true;
			break;
		case CS_VERDICT_SERVFAIL_DNSSEC:
		case CS_VERDICT_BOGUS_DATA:
			nd.bogus = true;
			break;
		case CS_VERDICT_SERVFAIL_CACHED:
			nd.negative = true;
			nd.infra = true;
			break;
		case CS_VERDICT_OK:
		case CS_VERDICT_SERVFAIL:
		case CS_VERDICT_STALE_SERIAL:
		case CS_VERDICT_BAD_SERIAL:
		case CS_VERDICT_WRONG_DATA:
		case CS_VERDICT_REFUSED:
		case CS_VERDICT_TIMEOUT:
		case CS_VERDICT_MALFORMED:
			break;
		}
	}
	return nd;
}

/* "se." → "se" (rndc, rec_control, Technitium and Windows take the name without the root
 * dot); the root stays "." */
static void bare(const char *zone, char *out, size_t size)
{
	(void)cs_strlcpy(out, zone, size);
	size_t n = strlen(out);
	if (n > 1 && out[n - 1] == '.') {
		out[n - 1] = '\0';
	}
}

/* The zone has only label characters (cs_name_normalize), so no quoting is needed beyond
 * what each line shows. */
static void plan_unbound(struct lines *l, const char *zone, const struct needs *nd,
			 const char *prefix)
{
	/* expires rrsets, messages and key entries at or below the zone (flush.md §1.1) */
	add(l, "%sunbound-control flush_zone %s", prefix, zone);
	if (nd->negative) {
		/* negative messages and bad keys that flush_zone's walk may leave (serve-expired)
		 */
		add(l, "%sunbound-control flush_negative", prefix);
	}
	if (nd->bogus) {
		add(l, "%sunbound-control flush_bogus", prefix);
	}
	if (nd->infra) {
		add(l, "%sunbound-control flush_infra all", prefix);
	}
}

static void plan_bind(struct lines *l, const char *zone, const char *prefix)
{
	char b[CS_NAME_STR_MAX];
	bare(zone, b, sizeof(b));
	/* cache, ADB, bad cache and SERVFAIL cache of the subtree, in every view (flush.md §2.1) */
	add(l, "%srndc flushtree %s", prefix, b);
}

static void plan_powerdns(struct lines *l, const char *zone, const struct cs_resolver *cfg,
			  const char *prefix)
{
	char b[CS_NAME_STR_MAX];
	bare(zone, b, sizeof(b));
	/* record, packet, negative and aggressive-NSEC caches of the subtree (flush.md §3) */
	add(l, "%srec_control wipe-cache '%s$'", prefix, b);
	const char *url = "http://127.0.0.1:8082";
	const char *env = "PDNS_API_KEY";
	if (cfg != NULL && cfg->has_purge && cfg->purge.type == CS_PURGE_POWERDNS_API) {
		url = cfg->purge.url;
		if (cfg->purge.api_key_env != NULL) {
			env = cfg->purge.api_key_env;
		}
	}
	size_t ul = strlen(url);
	const char *slash = ul > 0 && url[ul - 1] == '/' ? "" : "/";
	add(l,
	    "%scurl -sS -X PUT -H \"X-API-Key: $%s\" "
	    "'%s%sapi/v1/servers/localhost/cache/flush?domain=%s&subtree=true'",
	    prefix, env, url, slash, zone);
}

static void plan_knot5(struct lines *l, const char *zone, const char *prefix)
{
	/* negative proofs live at the apex: clear the whole zone subtree (flush.md §4.2) */
	add(l, "%secho \"cache.clear('%s')\" | socat - UNIX-CONNECT:/run/knot-resolver/control/1",
	    prefix, zone);
}

static void plan_knot6(struct lines *l, const char *zone, const char *prefix)
{
	add(l, "%skresctl cache clear %s", prefix, zone);
}

static void plan_dnsmasq(struct lines *l, const char *prefix)
{
	/* whole cache only (flush.md §6) */
	add(l, "%skill -HUP $(pidof dnsmasq)", prefix);
}

static void plan_resolved(struct lines *l, const char *prefix)
{
	add(l, "%sresolvectl flush-caches", prefix);
}

static void plan_windows(struct lines *l, const char *zone, const char *prefix)
{
	char b[CS_NAME_STR_MAX];
	bare(zone, b, sizeof(b));
	/* the server cache is the pseudo-zone ..cache (flush.md §12); the whole-cache clear is
	 * the documented fallback */
	add(l, "%sdnscmd /NodeDelete ..Cache %s /Tree /f", prefix, b);
	add(l, "%sClear-DnsServerCache -Force   # only if the line above is refused", prefix);
}

static void plan_technitium(struct lines *l, const char *zone, const char *address,
			    const char *prefix)
{
	char b[CS_NAME_STR_MAX];
	bare(zone, b, sizeof(b));
	const bool v6 = strchr(address, ':') != NULL;
	add(l,
	    "%scurl -sS -H \"Authorization: Bearer $TECHNITIUM_TOKEN\" "
	    "'http://%s%s%s:5380/api/cache/delete?domain=%s'",
	    prefix, v6 ? "[" : "", address, v6 ? "]" : "", b);
}

static void plan_adguard(struct lines *l, const char *address, const char *prefix)
{
	const bool v6 = strchr(address, ':') != NULL;
	add(l,
	    "%scurl -sS -u \"$ADGUARD_USER:$ADGUARD_PASSWORD\" -X POST "
	    "http://%s%s%s:3000/control/cache_clear",
	    prefix, v6 ? "[" : "", address, v6 ? "]" : "");
}

/** Each bad (name, type), normalised; names that do not normalise are skipped. */
static size_t bad_names(const struct cs_resolver_report *rr, size_t i, char *name, size_t size,
			char *type, size_t tsize)
{
	for (; i < rr->n_findings; i++) {
		const struct cs_report_finding *f = &rr->findings[i];
		if (cs_verdict_needs_purge(f->verdict) &&
		    cs_name_normalize(f->name, name, size) == 0) {
			cs_type_format(f->type, type, tsize);
			return i;
		}
	}
	return rr->n_findings;
}

static unsigned label_count(const char *zone)
{
	unsigned n = 0;
	for (const char *p = zone; *p != '\0'; p++) {
		n += *p == '.';
	}
	return strcmp(zone, ".") == 0 ? 0 : n;
}

static void plan_public(struct lines *l, enum cs_software_id id, const char *zone,
			const struct cs_resolver_report *rr, uint32_t heals_in_s, bool heals_known)
{
	char name[CS_NAME_STR_MAX];
	char type[16];
	switch (id) {
	case CS_SW_GOOGLE:
		/* one (name, type) per submission, reCAPTCHA: by hand; apex first (flush.md §15.1)
		 */
		add(l, "open https://dns.google/cache and flush, in this order:");
		add(l, "  %s NS", zone);
		for (size_t i = bad_names(rr, 0, name, sizeof(name), type, sizeof(type));
		     i < rr->n_findings;
		     i = bad_names(rr, i + 1, name, sizeof(name), type, sizeof(type))) {
			add(l, "  %s %s", name, type);
		}
		return;
	case CS_SW_CLOUDFLARE:
		/* unofficial API behind https://one.one.one.one/purge-cache/; a TLD itself is
		 * refused ("must be below a top level domain") (flush.md §15.2) */
		add(l, "open https://one.one.one.one/purge-cache/ or run:");
		if (label_count(zone) > 1) {
			add(l,
			    "curl -sS -X POST "
			    "'https://one.one.one.one/api/v1/purge?domain=%s&type=NS'",
			    zone);
		}
		for (size_t i = bad_names(rr, 0, name, sizeof(name), type, sizeof(type));
		     i < rr->n_findings;
		     i = bad_names(rr, i + 1, name, sizeof(name), type, sizeof(type))) {
			if (label_count(name) <= 1) {
				continue;
			}
			add(l,
			    "curl -sS -X POST "
			    "'https://one.one.one.one/api/v1/purge?domain=%s&type=%s'",
			    name, type);
		}
		return;
	case CS_SW_OPENDNS:
		/* CacheCheck refreshes A records only, at every location (flush.md §15.4) */
		add(l, "open https://cachecheck.opendns.com/ and press \"Refresh cache\" for:");
		for (size_t i = bad_names(rr, 0, name, sizeof(name), type, sizeof(type));
		     i < rr->n_findings;
		     i = bad_names(rr, i + 1, name, sizeof(name), type, sizeof(type))) {
			add(l, "  %s%s", name,
			    strcmp(type, "A") == 0 ? ""
						   : " (A only: other types wait for the TTL)");
		}
		return;
	case CS_SW_QUAD9:
		if (heals_known) {
			add(l,
			    "Quad9 offers no cache flush: the entries expire by themselves within "
			    "%u s; report the incident to Quad9",
			    (unsigned)heals_in_s);
		} else {
			add(l,
			    "Quad9 offers no cache flush: wait for the TTL; report the incident to "
			    "Quad9");
		}
		return;
	case CS_SW_UNKNOWN:
	case CS_SW_UNBOUND:
	case CS_SW_BIND:
	case CS_SW_POWERDNS:
	case CS_SW_KNOT5:
	case CS_SW_KNOT6:
	case CS_SW_DNSMASQ:
	case CS_SW_SYSTEMD_RESOLVED:
	case CS_SW_WINDOWS:
	case CS_SW_TECHNITIUM:
	case CS_SW_ADGUARD_HOME:
		return;
	}
}

static void plan_software(struct lines *l, enum cs_software_id id, const struct cs_plan_input *in,
			  const struct needs *nd, const char *prefix)
{
	const char *zone = in->zone;
	const char *address = in->rr->address;
	switch (id) {
	case CS_SW_UNBOUND:
		plan_unbound(l, zone, nd, prefix);
		return;
	case CS_SW_BIND:
		plan_bind(l, zone, prefix);
		return;
	case CS_SW_POWERDNS:
		plan_powerdns(l, zone, in->cfg, prefix);
		return;
	case CS_SW_KNOT5:
		plan_knot5(l, zone, prefix);
		return;
	case CS_SW_KNOT6:
		plan_knot6(l, zone, prefix);
		return;
	case CS_SW_DNSMASQ:
		plan_dnsmasq(l, prefix);
		return;
	case CS_SW_SYSTEMD_RESOLVED:
		plan_resolved(l, prefix);
		return;
	case CS_SW_WINDOWS:
		plan_windows(l, zone, prefix);
		return;
	case CS_SW_TECHNITIUM:
		plan_technitium(l, zone, address, prefix);
		return;
	case CS_SW_ADGUARD_HOME:
		plan_adguard(l, address, prefix);
		return;
	case CS_SW_GOOGLE:
	case CS_SW_CLOUDFLARE:
	case CS_SW_OPENDNS:
	case CS_SW_QUAD9:
		plan_public(l, id, zone, in->rr, in->rr->heals_in_s, in->rr->heals_known);
		return;
	case CS_SW_UNKNOWN:
		return;
	}
}

enum cs_errc cs_plan_build(const struct cs_plan_input *in, struct cs_purge_block *out,
			   struct cs_error *err)
{
	/* what an operator of unknown software may run: every common one, labelled */
	static const enum cs_software_id common[] = {
		CS_SW_UNBOUND,    CS_SW_BIND,         CS_SW_POWERDNS,         CS_SW_KNOT5,
		CS_SW_KNOT6,      CS_SW_DNSMASQ,      CS_SW_SYSTEMD_RESOLVED, CS_SW_WINDOWS,
		CS_SW_TECHNITIUM, CS_SW_ADGUARD_HOME,
	};
	struct lines l = { 0 };
	const struct needs nd = needs_of(in->rr);
	const enum cs_software_id id = cs_plan_software(in->rr);

	cs_purge_block_clean(out);
	out->present = true;
	(void)cs_strlcpy(out->scope, in->zone, sizeof(out->scope));
	if (in->cfg != NULL && in->cfg->has_purge && in->cfg->purge.type != CS_PURGE_INSTRUCTIONS) {
		(void)cs_strlcpy(out->endpoint, cs_purge_type_name(in->cfg->purge.type),
				 sizeof(out->endpoint));
	}
	if (id == CS_SW_UNKNOWN) {
		for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
			char prefix[48];
			(void)cs_snprintf(prefix, sizeof(prefix),
					  "%s: ", cs_software_title(common[i]));
			plan_software(&l, common[i], in, &nd, prefix);
		}
	} else {
		plan_software(&l, id, in, &nd, "");
	}
	if (l.oom) {
		for (size_t i = 0; i < l.n; i++) {
			cs_free(l.v[i]);
		}
		cs_free(l.v);
		cs_purge_block_clean(out);
		return cs_error_set(err, CS_ENOMEM, "out of memory planning the purge of %s",
				    in->rr->id);
	}
	out->instructions = l.v;
	out->n_instructions = l.n;
	return CS_OK;
}
