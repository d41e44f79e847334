/* SPDX-License-Identifier: BSD-3-Clause */
#include "fake_report.h"

#include <string.h>

#include <cachesweep/alloc.h>

static void finding(struct cs_finding *f, const char *name, uint16_t type, enum cs_verdict v,
		    bool answered, uint16_t rcode, const char *detail)
{
	memset(f, 0, sizeof(*f));
	(void)cs_strlcpy(f->name, name, sizeof(f->name));
	f->type = type;
	f->verdict = v;
	f->answered = answered;
	f->rcode = rcode;
	f->ad = answered && rcode != CS_RCODE_SERVFAIL;
	(void)cs_strlcpy(f->detail, detail, sizeof(f->detail));
}

static bool resolver(struct cs_resolver_report *rr, const char *id, const char *address,
		     uint16_t port, enum cs_status status)
{
	const char *texts[CS_RR_TEXT_COUNT] = { [CS_RR_ID] = id, [CS_RR_ADDRESS] = address };
	cs_resolver_report_init(rr);
	rr->port = port;
	rr->status = status;
	return cs_resolver_report_set_texts(rr, texts) == CS_OK;
}

static bool text(struct cs_resolver_report *rr, enum cs_rr_text field, const char *t)
{
	return cs_resolver_report_set_text(rr, field, t) == CS_OK;
}

/* The resolver keeps the findings w, packed as a report holds them. */
static bool keep(struct cs_resolver_report *rr, const struct cs_finding *w, size_t n)
{
	rr->findings = cs_report_findings_pack(w, n);
	rr->n_findings = rr->findings != NULL ? n : 0;
	return rr->findings != NULL;
}

struct cs_report *fake_report_new(void)
{
	struct cs_report *rep = cs_calloc(1, sizeof(*rep));
	if (rep == NULL) {
		return NULL;
	}
	rep->generated_at_s = FAKE_REPORT_AT;
	(void)cs_strlcpy(rep->zone, "se.", sizeof(rep->zone));
	rep->truth = cs_truth_new(2, 2);
	rep->resolvers = cs_calloc(4, sizeof(*rep->resolvers));
	rep->n_resolvers = rep->resolvers != NULL ? 4 : 0;
	if (rep->truth == NULL || rep->resolvers == NULL) {
		cs_report_free(rep);
		return NULL;
	}
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		cs_resolver_report_init(&rep->resolvers[i]);
	}
	struct cs_truth *t = rep->truth;
	(void)cs_strlcpy(t->zone, "se.", sizeof(t->zone));
	t->have_serial = true;
	t->serial = 2026112801;
	t->is_signed = true;
	(void)cs_strlcpy(t->source, "authorities", sizeof(t->source));
	(void)cs_strlcpy(t->authorities[0].address, "192.0.2.1", sizeof(t->authorities[0].address));
	t->authorities[0].answered = true;
	t->authorities[0].serial = 2026112801;
	(void)cs_strlcpy(t->authorities[1].address, "192.0.2.2", sizeof(t->authorities[1].address));
	t->authorities[1].answered = true;
	t->authorities[1].serial = 2026112800;
	static const char *const names[] = { "shop1.se.", "shop2.se." };
	for (size_t i = 0; i < 2; i++) {
		(void)cs_strlcpy(t->names[i].name, names[i], sizeof(t->names[i].name));
		t->names[i].type = CS_TYPE_A;
		t->names[i].exists = true;
		t->names[i].has_type = true;
		t->names[i].secure = true;
	}

	bool ok = true;
	struct cs_finding w[3];
	struct cs_resolver_report *rr = &rep->resolvers[0];
	ok = ok && resolver(rr, "isp-1", "192.0.2.53", 53, CS_STATUS_NEEDS_PURGE);
	ok = ok && text(rr, CS_RR_OPERATOR, "Example ISP");
	ok = ok && text(rr, CS_RR_CONTACT, "noc@example.net");
	rr->has_software = true;
	ok = ok && text(rr, CS_RR_SOFTWARE_NAME, "unbound");
	ok = ok && text(rr, CS_RR_SOFTWARE_SOURCE, "config");
	rr->heals_known = true;
	rr->heals_in_s = 3412;
	finding(&w[0], "shop1.se.", CS_TYPE_A, CS_VERDICT_CACHED_NXDOMAIN, true, CS_RCODE_NXDOMAIN,
		"NXDOMAIN for a name that exists");
	w[0].has_ttl = true;
	w[0].ttl_remaining_s = 3412;
	finding(&w[1], "shop2.se.", CS_TYPE_A, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	finding(&w[2], "se.", CS_TYPE_SOA, CS_VERDICT_STALE_SERIAL, true, CS_RCODE_NOERROR,
		"serial 2026112700 is behind 2026112801");
	w[2].has_serial = true;
	w[2].serial = 2026112700;
	w[2].has_ttl = true;
	w[2].ttl_remaining_s = 1200;
	ok = ok && keep(rr, w, 3);

	rr = &rep->resolvers[1];
	ok = ok && resolver(rr, "public-1", "198.51.100.1", 53, CS_STATUS_HEALTHY);
	ok = ok && text(rr, CS_RR_NSID, "anycast-fra-3");
	finding(&w[0], "shop1.se.", CS_TYPE_A, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	finding(&w[1], "shop2.se.", CS_TYPE_A, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	finding(&w[2], "se.", CS_TYPE_SOA, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	w[2].has_serial = true;
	w[2].serial = 2026112801;
	ok = ok && keep(rr, w, 3);

	rr = &rep->resolvers[2];
	ok = ok && resolver(rr, "dead-1", "203.0.113.7", 5353, CS_STATUS_UNREACHABLE);
	static const char *const qn[] = { "shop1.se.", "shop2.se.", "se." };
	for (size_t i = 0; i < 3; i++) {
		finding(&w[i], qn[i], i < 2 ? CS_TYPE_A : CS_TYPE_SOA, CS_VERDICT_TIMEOUT, false, 0,
			"no reply in 3 attempts over 6000 ms");
	}
	ok = ok && keep(rr, w, 3);

	rr = &rep->resolvers[3];
	ok = ok && resolver(rr, "isp-2 \"east\", b\\1", "2001:db8::53", 53, CS_STATUS_DEGRADED);
	rr->transport = CS_TRANSPORT_TCP;
	ok = ok && text(rr, CS_RR_OPERATOR, "East, \"Inc\"");
	finding(&w[0], "shop1.se.", CS_TYPE_A, CS_VERDICT_SERVFAIL, true, CS_RCODE_SERVFAIL,
		"SERVFAIL | upstream \"down\", CD=1 too");
	w[0].n_ede = 1;
	w[0].ede[0].code = 22;
	(void)cs_strlcpy(w[0].ede[0].text, "no reachable authority", sizeof(w[0].ede[0].text));
	w[0].cd_probed = true;
	w[0].cd_answered = true;
	w[0].cd_rcode = CS_RCODE_SERVFAIL;
	finding(&w[1], "shop2.se.", CS_TYPE_A, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	finding(&w[2], "se.", CS_TYPE_SOA, CS_VERDICT_OK, true, CS_RCODE_NOERROR, "");
	ok = ok && keep(rr, w, 3);
	if (!ok) {
		cs_report_free(rep);
		return NULL;
	}
	cs_report_summarize(rep);
	return rep;
}
