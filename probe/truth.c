/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Truth by libunbound on the shared event loop: validating recursion from the real root
 * (built-in trust anchor) or a private root, or stub queries to listed authorities. Then the
 * zone's SOA serial is asked of every authoritative server directly (RD=0), through the
 * probe engine, so that a lagging server shows.
 */
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <unbound-event.h>
#include <unbound.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/config.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/engine.h>
#include <cachesweep/log.h>
#include <cachesweep/truth.h>

#include "wire.h"

/* The root zone's KSKs as DS records (IANA root-anchors: KSK-2017 and KSK-2024). */
static const char *const root_anchors[] = {
	". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
	". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

#define TRUTH_GUARD_MS 60000u
#define MAX_NS_ADDRS   CS_MAX_AUTHORITIES

/* One libunbound question and where its answer goes. */
struct ask {
	struct gather *g;
	struct cs_query q;
	bool done;
	int rcode;
	int sec;
	bool have_facts;
	struct cs_reply_facts facts;
	char why_bogus[CS_DETAIL_MAX];
	bool keep_packet; /**< keep a copy of a secure answer (the zone's DNSKEYs) */
	uint8_t *packet;
	size_t packet_len;
};

struct gather {
	struct ub_ctx *ctx;
	size_t outstanding;
	bool timed_out;
};

static void on_answer(void *arg, int rcode, void *packet, int packet_len, int sec, char *why_bogus,
		      int was_ratelimited)
{
	struct ask *a = arg;
	(void)was_ratelimited;
	a->done = true;
	a->rcode = rcode;
	a->sec = sec;
	if (why_bogus != NULL) {
		cs_wire_printable((const uint8_t *)why_bogus, strlen(why_bogus), a->why_bogus,
				  sizeof(a->why_bogus));
	}
	/* unbound-event.h: for rcode != 0 (other than NXDOMAIN) the packet is not to be read */
	if ((rcode == 0 || rcode == 3) && packet != NULL && packet_len > 0) {
		char why[CS_DETAIL_MAX];
		a->have_facts = cs_wire_read_reply(&a->q, packet, (size_t)packet_len, &a->facts,
						   why, sizeof(why)) == CS_WIRE_ACCEPT;
		/* the callback's rcode is 0 for NXDOMAIN too (unbound-event.h: "0 on no error,
		 * nonzero for mostly SERVFAIL situations"): the packet's rcode is the answer */
		if (a->have_facts) {
			a->rcode = a->facts.rcode;
		}
		if (!a->have_facts) {
			(void)cs_snprintf(a->why_bogus, sizeof(a->why_bogus),
					  "unreadable answer from libunbound: %s", why);
		}
		/* the packet is libunbound's only during this callback */
		if (a->have_facts && a->keep_packet && sec == 2 && a->packet == NULL) {
			a->packet = cs_malloc((size_t)packet_len);
			if (a->packet != NULL) {
				memcpy(a->packet, packet, (size_t)packet_len);
				a->packet_len = (size_t)packet_len;
			}
		}
	}
	a->g->outstanding--;
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct gather *g = arg;
	g->timed_out = true;
}

static enum cs_errc ask_start(struct gather *g, struct ask *a, const char *name, uint16_t type,
			      struct cs_error *err)
{
	memset(a, 0, sizeof(*a));
	a->g = g;
	/* DNSKEY answers are kept for checking signatures (dnssec.c); set before asking, since
	 * libunbound may call back before ub_resolve_event() returns */
	a->keep_packet = type == CS_TYPE_DNSKEY;
	(void)cs_strlcpy(a->q.qname, name, sizeof(a->q.qname));
	a->q.qtype = type;
	a->q.qclass = 1;
	a->q.id = 0; /* libunbound's re-encoded packets carry ID 0 */
	g->outstanding++;
	int async_id = 0;
	/* for cached or local data the callback runs before this returns: state is set above */
	int rc = ub_resolve_event(g->ctx, name, type, 1, a, on_answer, &async_id);
	if (rc != 0) {
		g->outstanding--;
		return cs_error_set(err, CS_ETRUTH, "truth: cannot ask %s: %s", name,
				    ub_strerror(rc));
	}
	return CS_OK;
}

/* Run the loop until every question is answered, or the guard fires. */
static enum cs_errc ask_wait(struct event_base *base, struct gather *g, struct cs_error *err)
{
	struct event *guard = event_new(base, -1, 0, on_guard, g);
	if (guard == NULL) {
		return cs_error_set(err, CS_ENOMEM, "truth: out of memory");
	}
	struct timeval tv = { .tv_sec = TRUTH_GUARD_MS / 1000u, .tv_usec = 0 };
	event_add(guard, &tv);
	while (g->outstanding > 0 && !g->timed_out) {
		if (event_base_loop(base, EVLOOP_ONCE) < 0) {
			event_free(guard);
			return cs_error_set(err, CS_EIO, "truth: event loop failed");
		}
	}
	event_free(guard);
	if (g->timed_out) {
		return cs_error_set(err, CS_ETRUTH,
				    "truth: no answer from the authoritative side within %u s",
				    TRUTH_GUARD_MS / 1000u);
	}
	return CS_OK;
}

static enum cs_errc ub_check(int rc, const char *what, struct cs_error *err)
{
	if (rc != 0) {
		return cs_error_set(err, CS_ETRUTH, "truth: %s: %s", what, ub_strerror(rc));
	}
	return CS_OK;
}

static enum cs_errc configure(struct ub_ctx *ctx, const struct cs_config *cfg, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	/* keep the authorities' view clean: no RFC 8145 key-tag queries, no sentinel */
	rc = ub_check(ub_ctx_set_option(ctx, "trust-anchor-signaling:", "no"), "option", err);
	if (rc == CS_OK) {
		rc = ub_check(ub_ctx_set_option(ctx, "root-key-sentinel:", "no"), "option", err);
	}
	if (rc == CS_OK) {
		rc = ub_check(ub_ctx_set_option(ctx, "do-not-query-localhost:", "no"), "option",
			      err);
	}
	if (rc != CS_OK) {
		return rc;
	}
	switch (cfg->truth.mode) {
	case CS_TRUTH_RECURSION:
		for (size_t i = 0; i < sizeof(root_anchors) / sizeof(root_anchors[0]); i++) {
			rc = ub_check(ub_ctx_add_ta(ctx, root_anchors[i]), "root trust anchor",
				      err);
			if (rc != CS_OK) {
				return rc;
			}
		}
		return CS_OK;
	case CS_TRUTH_PRIVATE_ROOT:
		rc = ub_check(ub_ctx_set_option(ctx, "root-hints:", cfg->truth.root_hints),
			      cfg->truth.root_hints, err);
		if (rc == CS_OK) {
			size_t n_anchors = 0;
			rc = cs_trust_anchor_file_check(cfg->truth.trust_anchor_file, &n_anchors,
							err);
			cs_log(CS_LOG_DEBUG, CS_LOG_TRUTH, "trust anchors: %zu in %s", n_anchors,
			       cfg->truth.trust_anchor_file);
		}
		if (rc == CS_OK) {
			rc = ub_check(ub_ctx_add_ta_file(ctx, cfg->truth.trust_anchor_file),
				      cfg->truth.trust_anchor_file, err);
		}
		return rc;
	case CS_TRUTH_AUTHORITIES:
		for (size_t i = 0; i < cfg->truth.n_authorities; i++) {
			char addr[80];
			uint16_t port = 53;
			char stub[96];
			if (cs_addr_port_parse(cfg->truth.authorities[i], addr, sizeof(addr), &port,
					       53) != 0) {
				return cs_error_set(err, CS_ECONFIG,
						    "truth.authorities[%zu]: bad "
						    "address",
						    i);
			}
			(void)cs_snprintf(stub, sizeof(stub), "%s@%u", addr, (unsigned)port);
			rc = ub_check(ub_ctx_set_stub(ctx, cfg->zone, stub, 0), stub, err);
			if (rc != CS_OK) {
				return rc;
			}
		}
		return CS_OK;
	}
	return CS_OK;
}

static enum cs_errc name_truth(const struct ask *a, struct cs_truth_name *tn, struct cs_error *err)
{
	char type[16];
	cs_type_format(a->q.qtype, type, sizeof(type));
	(void)cs_strlcpy(tn->name, a->q.qname, sizeof(tn->name));
	tn->type = a->q.qtype;
	tn->bogus = a->sec == 1;
	tn->secure = a->sec == 2;
	(void)cs_strlcpy(tn->why_bogus, a->why_bogus, sizeof(tn->why_bogus));
	if (!a->done) {
		return cs_error_set(err, CS_ETRUTH, "truth: no answer for %s %s", a->q.qname, type);
	}
	if (a->rcode == 3) {
		tn->exists = false;
		tn->ttl_s = a->have_facts && a->facts.has_soa ? a->facts.soa_ttl_s : 0;
		return CS_OK;
	}
	if (a->rcode != 0 || !a->have_facts) {
		char rc[16];
		cs_rcode_format((uint16_t)a->rcode, rc, sizeof(rc));
		return cs_error_set(
			err, CS_ETRUTH, "truth: %s %s: the authoritative side answers %s%s%s",
			a->q.qname, type, rc, a->why_bogus[0] ? ": " : "", a->why_bogus);
	}
	tn->exists = true;
	tn->has_type = a->facts.has_data;
	tn->ttl_s = a->facts.has_data ? a->facts.answer_ttl_s : a->facts.soa_ttl_s;
	return CS_OK;
}

/* Collect the authoritative servers' addresses: listed, or resolved from the zone's NS set. */
static enum cs_errc find_authorities(struct event_base *base, struct gather *g,
				     const struct cs_config *cfg, const struct ask *ns,
				     char addrs[][64], uint16_t *ports, size_t *n,
				     struct cs_error *err)
{
	*n = 0;
	if (cfg->truth.mode == CS_TRUTH_AUTHORITIES) {
		for (size_t i = 0; i < cfg->truth.n_authorities && *n < MAX_NS_ADDRS; i++) {
			if (cs_addr_port_parse(cfg->truth.authorities[i], addrs[*n], 64, &ports[*n],
					       53) == 0) {
				(*n)++;
			}
		}
		return CS_OK;
	}
	if (!ns->have_facts || !ns->facts.has_data) {
		cs_log(CS_LOG_WARNING, CS_LOG_TRUTH,
		       "no NS set for %s: serials only from recursion", cfg->zone);
		return CS_OK;
	}
	size_t n_ns =
		ns->facts.answer_count < CS_ANSWER_MAX ? ns->facts.answer_count : CS_ANSWER_MAX;
	struct ask *asks = cs_calloc(n_ns * 2, sizeof(*asks));
	if (asks == NULL) {
		return cs_error_set(err, CS_ENOMEM, "truth: out of memory");
	}
	enum cs_errc rc = CS_OK;
	for (size_t i = 0; i < n_ns && rc == CS_OK; i++) {
		rc = ask_start(g, &asks[2 * i], ns->facts.answers[i], CS_TYPE_A, err);
		if (rc == CS_OK) {
			rc = ask_start(g, &asks[2 * i + 1], ns->facts.answers[i], CS_TYPE_AAAA,
				       err);
		}
	}
	if (rc == CS_OK) {
		rc = ask_wait(base, g, err);
	}
	for (size_t i = 0; i < n_ns * 2 && rc == CS_OK; i++) {
		const struct ask *a = &asks[i];
		if (!a->done || a->rcode != 0 || !a->have_facts) {
			continue;
		}
		size_t k = a->facts.answer_count < CS_ANSWER_MAX ? a->facts.answer_count
								 : CS_ANSWER_MAX;
		for (size_t j = 0; j < k && *n < MAX_NS_ADDRS; j++) {
			bool dup = false;
			for (size_t d = 0; d < *n; d++) {
				dup = dup || strcmp(addrs[d], a->facts.answers[j]) == 0;
			}
			if (!dup && cs_addr_check(a->facts.answers[j]) == 0) {
				(void)cs_strlcpy(addrs[*n], a->facts.answers[j], 64);
				ports[*n] = 53;
				(*n)++;
			}
		}
	}
	cs_free(asks);
	return rc;
}

/* Ask every authority for the zone SOA without recursion. */
static enum cs_errc ask_serials(struct event_base *base, const struct cs_config *cfg,
				char addrs[][64], const uint16_t *ports, size_t n,
				struct cs_truth *t, struct cs_error *err)
{
	struct cs_engine *eng = NULL;
	struct cs_observation *obs = NULL;
	struct cs_probe_limits limits = cfg->limits;
	enum cs_errc rc = CS_OK;

	limits.qps_per_resolver = 0;
	limits.qps_total = 0;
	obs = cs_calloc(n, sizeof(*obs));
	if (obs == NULL) {
		return cs_error_set(err, CS_ENOMEM, "truth: out of memory");
	}
	rc = cs_engine_new(base, &limits, cs_clock_system(), n, &eng, err);
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		struct cs_probe_spec spec = {
			.resolver_index = i,
			.address = addrs[i],
			.port = ports[i],
			.transport = CS_TRANSPORT_UDP,
			.qname = cfg->zone,
			.qtype = CS_TYPE_SOA,
			.no_recursion = true,
		};
		rc = cs_engine_add(eng, &spec, &obs[i], err);
	}
	if (rc == CS_OK) {
		rc = cs_engine_run(eng, err);
	}
	for (size_t i = 0; i < n && rc == CS_OK && t != NULL; i++) {
		struct cs_truth_authority *au = &t->authorities[i];
		const struct cs_reply_facts *r = &obs[i].main;
		if (ports[i] == 53) {
			(void)cs_strlcpy(au->address, addrs[i], sizeof(au->address));
		} else {
			(void)cs_snprintf(au->address, sizeof(au->address), "%s#%u", addrs[i],
					  (unsigned)ports[i]);
		}
		if (r->outcome != CS_OUTCOME_ANSWER) {
			(void)cs_strlcpy(au->error, r->detail[0] ? r->detail : "no reply",
					 sizeof(au->error));
		} else if (r->rcode != CS_RCODE_NOERROR || !r->soa_in_answer) {
			char rcs[16];
			cs_rcode_format(r->rcode, rcs, sizeof(rcs));
			(void)cs_snprintf(au->error, sizeof(au->error),
					  "%s without the zone's SOA (lame?)", rcs);
		} else {
			au->answered = true;
			au->serial = r->soa_serial;
			if (!r->aa) {
				(void)cs_strlcpy(au->error, "answer without AA", sizeof(au->error));
			}
		}
	}
	cs_engine_free(eng);
	cs_free(obs);
	return rc;
}

/* With listed authorities, ask them for the zone's SOA first, with the probe's own timeouts:
 * when none answers, say so at once and by name, rather than after libunbound's long retry
 * schedule as a vague SERVFAIL. */
static enum cs_errc precheck_authorities(struct event_base *base, const struct cs_config *cfg,
					 char addrs[][64], uint16_t *ports, struct cs_error *err)
{
	size_t n = 0;
	enum cs_errc rc = CS_OK;
	for (size_t i = 0; i < cfg->truth.n_authorities && n < MAX_NS_ADDRS; i++) {
		if (cs_addr_port_parse(cfg->truth.authorities[i], addrs[n], 64, &ports[n], 53) ==
		    0) {
			n++;
		}
	}
	struct cs_truth *tmp = cs_truth_new(0, n);
	if (rc == CS_OK && tmp == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "truth: out of memory");
	}
	if (rc == CS_OK) {
		rc = ask_serials(base, cfg, addrs, ports, n, tmp, err);
	}
	bool any = false;
	for (size_t i = 0; rc == CS_OK && tmp != NULL && i < n; i++) {
		any = any || tmp->authorities[i].answered;
	}
	if (rc == CS_OK && !any && tmp != NULL) {
		char list[CS_DETAIL_MAX * 2] = "";
		size_t used = 0;
		for (size_t i = 0; i < n && used + 1 < sizeof(list); i++) {
			int w = snprintf(list + used, sizeof(list) - used, "%s%s: %s",
					 i ? "; " : "", tmp->authorities[i].address,
					 tmp->authorities[i].error);
			used = w < 0 ? used : used + (size_t)w;
		}
		rc = cs_error_set(err, CS_ETRUTH,
				  "truth: none of the authorities answers for the %s SOA (%s)",
				  cfg->zone, list);
	}
	cs_truth_free(tmp);
	return rc;
}

enum cs_errc cs_truth_gather(struct event_base *base, const struct cs_config *cfg,
			     struct cs_truth **out, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	struct gather g = { 0 };
	struct ask *asks = NULL;
	struct cs_truth *t = NULL;
	char(*addrs)[64] = NULL;
	uint16_t *ports = NULL;
	size_t n_addrs = 0;
	const size_t n = cfg->n_names;
	const struct ask *soa = NULL;

	*out = NULL;
	g.ctx = ub_ctx_create_event(base);
	asks = cs_calloc(n + 3, sizeof(*asks));
	addrs = cs_calloc(MAX_NS_ADDRS, sizeof(*addrs));
	ports = cs_calloc(MAX_NS_ADDRS, sizeof(*ports));
	if (g.ctx == NULL || asks == NULL || addrs == NULL || ports == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "truth: out of memory");
		goto out;
	}
	rc = configure(g.ctx, cfg, err);
	if (rc == CS_OK && cfg->truth.mode == CS_TRUTH_AUTHORITIES) {
		rc = precheck_authorities(base, cfg, addrs, ports, err);
	}
	/* the zone: SOA (serial, signed?), DNSKEY, NS (where its authorities are) */
	if (rc == CS_OK) {
		rc = ask_start(&g, &asks[n], cfg->zone, CS_TYPE_SOA, err);
	}
	if (rc == CS_OK) {
		rc = ask_start(&g, &asks[n + 1], cfg->zone, CS_TYPE_NS, err);
	}
	if (rc == CS_OK) {
		rc = ask_start(&g, &asks[n + 2], cfg->zone, CS_TYPE_DNSKEY, err);
	}
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		rc = ask_start(&g, &asks[i], cfg->names[i].name, cfg->names[i].type, err);
	}
	if (rc == CS_OK) {
		rc = ask_wait(base, &g, err);
	}
	if (rc != CS_OK) {
		goto out;
	}
	rc = find_authorities(base, &g, cfg, &asks[n + 1], addrs, ports, &n_addrs, err);
	if (rc != CS_OK) {
		goto out;
	}
	t = cs_truth_new(n, n_addrs);
	if (t == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "truth: out of memory");
		goto out;
	}
	(void)cs_strlcpy(t->zone, cfg->zone, sizeof(t->zone));
	(void)cs_strlcpy(t->source,
			 cfg->truth.mode == CS_TRUTH_AUTHORITIES    ? "authorities"
			 : cfg->truth.mode == CS_TRUTH_PRIVATE_ROOT ? "private-root"
								    : "recursion",
			 sizeof(t->source));
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		rc = name_truth(&asks[i], &t->names[i], err);
	}
	if (rc != CS_OK) {
		goto out;
	}
	soa = &asks[n];
	if (soa->rcode != 0 || !soa->have_facts || !soa->facts.soa_in_answer) {
		rc = cs_error_set(err, CS_ETRUTH, "truth: no SOA for the zone %s%s%s", cfg->zone,
				  soa->why_bogus[0] ? ": " : "", soa->why_bogus);
		goto out;
	}
	t->have_serial = true;
	t->serial = soa->facts.soa_serial;
	t->is_signed = soa->sec == 2 || (asks[n + 2].rcode == 0 && asks[n + 2].have_facts &&
					 asks[n + 2].facts.has_data);
	/* e.g. the 2009 interim zone: correct data, an invalid RRSIG over the SOA */
	t->soa_bogus = soa->sec == 1;
	if (t->soa_bogus) {
		(void)cs_strlcpy(t->soa_why_bogus, soa->why_bogus, sizeof(t->soa_why_bogus));
	}
	t->dnskey_packet = asks[n + 2].packet; /* moved: NULL unless the keys are secure */
	t->dnskey_packet_len = asks[n + 2].packet_len;
	asks[n + 2].packet = NULL;
	rc = ask_serials(base, cfg, addrs, ports, n_addrs, t, err);
	if (rc != CS_OK) {
		goto out;
	}
	/* the newest serial any authority serves is the truth; older ones are lagging */
	for (size_t i = 0; i < t->n_authorities; i++) {
		if (t->authorities[i].answered &&
		    cs_serial_cmp(t->authorities[i].serial, t->serial) > 0) {
			t->serial = t->authorities[i].serial;
		}
	}
	*out = t;
	t = NULL;
out:
	/* delete the context first: it frees pending questions without calling back */
	if (g.ctx != NULL) {
		ub_ctx_delete(g.ctx);
	}
	cs_truth_free(t);
	for (size_t i = 0; asks != NULL && i < n + 3; i++) {
		cs_free(asks[i].packet);
	}
	cs_free(ports);
	cs_free(addrs);
	cs_free(asks);
	return rc;
}
