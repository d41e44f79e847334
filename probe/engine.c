/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probe engine. Each probe is a small state machine on the shared event loop:
 *
 *   queued ──► phase MAIN (CD=0) ──► [SERVFAIL and cd_followup] ──► phase CD (CD=1) ──► done
 *
 * A phase sends attempts (fresh ID each) until an acceptable reply arrives or its deadline,
 * timeout × (retries + 1) after the phase began, passes. A truncated UDP reply moves the same
 * attempt to TCP within that deadline. Replies that are not ours (wrong ID, wrong question)
 * are ignored and remembered for the detail.
 *
 * UDP queries go out on a few shared sockets per address family (sockets, not queries, are
 * what the kernel and the event loop pay for). A datagram is matched to its probe by the
 * socket it arrived on, its source address and port, and its ID; a datagram from a resolver
 * we asked that matches no ID is shown to that resolver's probes on that socket, which note
 * it as ignored. ICMP errors come from the sockets' error queues (IP_RECVERR) with the query
 * they answer, and end that query as unreachable. TCP, TLS and HTTPS queries get a
 * connection each.
 *
 * Resolvers are admitted into a window (limits.concurrency) as the source is read, and their
 * memory is freed when their last probe ends; see engine.h for what holds a place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/util.h>

#include <cachesweep/alloc.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/engine.h>
#include <cachesweep/log.h>

#include "doh.h"
#include "pace.h"
#include "tls.h"
#include "transport.h"
#include "wire.h"

/* Shared UDP sockets per address family: each has its own random source port. */
#define UDP_SOCKETS   8
#define UDP_BUF_BYTES (4 * 1024 * 1024)
/* What one small reply costs in a receive buffer (skb truesize, measured on loopback). */
#define UDP_REPLY_COST 1280
#define RX_SLOTS       32
#define RX_SLOT_SIZE   4096
/* Datagrams read in one go before the loop gets to run timers and other sockets. */
#define RX_BURST 1024
/* A send refused by a full socket buffer is tried again after this long. */
#define SEND_RETRY_MS    2
#define SLOT_HOLD_MIN_MS 10
#define MAX_ATTEMPTS     (CS_MAX_RETRIES + 2u) /* retries, plus one TCP fallback */
#define ID_POOL          256
#define WIRE_TPL         16 /* distinct questions whose query is kept built */
#define SEND_BATCH       64 /* queries in one sendmmsg */
/* Observations kept for reuse: one is made per probe end, and they are big. */
#define OBS_POOL 64

enum phase {
	PHASE_MAIN = 0,
	PHASE_CD,
};

enum conn_state {
	CONN_CONNECTING = 0,
	CONN_HANDSHAKE,
	CONN_OPEN,
};

struct conn;

enum pstate {
	PSTATE_QUEUED = 0,
	PSTATE_RUNNING,
	PSTATE_DONE,
};

struct tls_ctx_slot {
	char *ca_file; /* NULL = the system's CAs */
	struct cs_tls_ctx *ctx;
};

struct usock {
	int fd;
	struct event *ev;
};

/* The shared UDP sockets of one address family, opened at first use. */
struct ufamily {
	bool open;
	unsigned n; /* opened */
	unsigned next;
	struct usock s[UDP_SOCKETS];
};

struct rstate;

struct wire_tpl {
	struct cs_query q;
	uint8_t *wire;
	size_t len;
};

struct probe {
	struct cs_engine *eng;
	struct rstate *r;
	struct probe *next;          /* in the resolver's queue */
	struct probe *rnext, *rprev; /* in the resolver's running list */
	size_t k;                    /* index among the resolver's probes */
	enum pstate state;
	enum phase phase;
	const char *qname; /* borrowed from the source's spec */
	uint16_t qtype;
	uint16_t qclass;
	uint16_t id;
	bool rd;
	bool cd_followup;
	bool tcp;           /* this attempt is a stream (TCP, TLS or HTTPS) */
	bool fresh;         /* holds an in-flight place: a query out, not yet overdue */
	bool send_pending;  /* the socket buffer was full: the timer sends again */
	bool retry_pending; /* the resolver's pace asked to wait: the timer retries */
	const struct cs_keyset *keys;
	/* the observation, made when the first phase ends (NULL before) */
	struct cs_observation *obs;

	uint8_t *wire;
	size_t wire_len;
	int sock; /* the shared socket of the UDP query out, or -1 */
	/* IDs of this phase's UDP attempts and their sockets: a late reply to an earlier one is
	 * still the answer to our question */
	uint16_t ids[MAX_ATTEMPTS];
	uint8_t socks[MAX_ATTEMPTS];
	unsigned n_ids;
	struct event *ev_timer;
	uint64_t phase_start_ms;
	uint64_t deadline_ms;
	uint64_t attempt_start_ms;
	uint64_t attempt_end_ms;
	unsigned attempts;
	unsigned ignored;
	char *last_ignored;

	/* TCP and TLS: the resolver's connection the query waits on (RFC 7766), or NULL */
	struct conn *conn;
	struct cs_doh_req *doh_req;
};

/* One admitted resolver: its probes, queue and rate state. */
struct rstate {
	struct cs_engine *eng;
	size_t index;
	struct cs_sockaddr to;
	char address[64];
	enum cs_transport transport;
	const char *tls_auth_name; /* borrowed; NULL = verify the address */
	const char *tls_ca_file;   /* borrowed; NULL = the system's CAs */
	const char *url;           /* borrowed: DNS over HTTPS */
	size_t n_probes;
	struct probe *probes;
	struct probe *head, *tail; /* queued */
	struct probe *running;     /* sent, not ended */
	size_t remaining;          /* queued + running */
	size_t fresh;              /* running with a place in flight */
	bool in_window;
	bool in_ring;
	bool dead;         /* clearly dead (pace.h): nothing more is sent to it */
	struct conn *conn; /* TCP or TLS, when it has one */
	struct cs_bucket bucket;
	struct cs_backoff backoff;
	struct rstate *ring_next;
	struct rstate *hnext;         /* address table chain */
	struct rstate *onext, *oprev; /* open resolvers */
	struct rstate *reap_next;
};

/* What cs_engine_add queued, for the run. */
struct added {
	struct cs_probe_spec spec; /* address and qname point at the copies below */
	char *address;
	char *qname;
	struct cs_observation *obs;
};

struct cs_engine {
	struct event_base *base;
	struct tls_ctx_slot *tls_ctx; /* one per CA file, made at first use */
	size_t n_tls_ctx;
	struct cs_doh *doh; /* made at the first DNS-over-HTTPS probe */
	const struct cs_clock *clock;
	struct cs_probe_limits limits;
	uint32_t slot_hold_ms; /* the most a query holds its place (slot_hold()) */
	double srtt_ms;        /* smoothed reply time of UDP queries */
	int64_t rx_queued_ms;  /* the datagram being read waited this long in its socket */
	bool have_rtt;
	const struct timeval *tv_timeout; /* libevent common timeouts: O(1) queues */
	size_t n_resolvers;

	/* the source and how far it has been read */
	struct cs_engine_source src;
	bool have_src;
	size_t next_admit;
	size_t window;    /* resolvers holding a place */
	size_t in_flight; /* queries holding a place */
	size_t in_flight_cap;
	struct rstate *open; /* admitted, not done */
	size_t n_open;
	struct rstate *reap;
	struct rstate **table; /* open resolvers by address and port */
	size_t table_mask;
	struct rstate *ring;      /* resolvers with queued probes, round robin: the head */
	struct rstate *ring_tail; /* the one before the head: O(1) insert, rotate, remove */
	size_t n_ring;

	/* politeness (pace.h) */
	struct cs_bucket total;
	struct cs_pace_params pace;
	uint64_t send_blocked_until_ms;

	struct ufamily ufam[2]; /* AF_INET, AF_INET6 */
	uint8_t rx[RX_SLOTS][RX_SLOT_SIZE];
	struct cs_dgram dgrams[RX_SLOTS];

	struct event *ev_now;   /* dispatch soon (event_active) */
	struct event *ev_later; /* dispatch after a wait for tokens */
	bool now_armed;
	bool later_armed;

	/* cs_engine_add */
	struct added *added;
	size_t n_added;
	size_t cap_added;
	size_t *added_start; /* per resolver index: first in the sorted added[] */
	size_t *added_count;
	cs_engine_resolver_done_fn *done_fn;
	void *done_arg;

	bool has_deadline;
	uint64_t run_deadline_ms; /* on eng->clock; probes still open then end as timeouts */
	struct event *ev_deadline;
	bool cancelled;
	enum cs_errc fail_rc;
	struct cs_error fail_err;
	struct cs_engine_stats stats;
	bool batching; /* inside dispatch: UDP sends gather in batch[] */
	struct probe *batch[SEND_BATCH];
	size_t n_batch;
	unsigned batch_family;
	unsigned batch_sock;
	struct wire_tpl tpl[WIRE_TPL];
	size_t n_tpl;
	size_t next_tpl;
	uint16_t id_pool[ID_POOL];
	size_t n_ids_left;
	struct cs_observation *obs_pool[OBS_POOL];
	size_t n_obs_pool;
};

static void schedule_dispatch(struct cs_engine *eng);
static void ring_remove(struct cs_engine *eng, struct rstate *r);
static uint32_t random_u32(struct cs_engine *eng);
static uint64_t resolver_wait_ms(const struct rstate *r, uint64_t now);
static void note_signal(struct rstate *r, enum cs_pace_signal sig, uint64_t now);
static void note_rtt(struct cs_engine *eng, uint64_t rtt_ms);
static void conn_detach(struct probe *p);
static void conn_close(struct conn *c);
static void start_attempt(struct probe *p);
static void start_phase(struct probe *p, enum phase phase);
static void start_tcp(struct probe *p);

static uint64_t now_ms(const struct cs_engine *eng)
{
	return eng->clock->mono_ms(eng->clock);
}

static void arm_timer(struct cs_engine *eng, struct event *ev, uint64_t ms)
{
	if (ms == eng->limits.timeout_ms && eng->tv_timeout != NULL) {
		event_add(ev, eng->tv_timeout);
		return;
	}
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000u),
			      .tv_usec = (suseconds_t)((ms % 1000u) * 1000u) };
	event_add(ev, &tv);
}

static void fail_run(struct cs_engine *eng, enum cs_errc rc, const char *what)
{
	if (eng->fail_rc == CS_OK) {
		eng->fail_rc = cs_error_set(&eng->fail_err, rc, "%s", what);
	}
}

/* ---- places in flight and in the window ---- */

static void release_window(struct rstate *r)
{
	if (r->in_window && r->head == NULL && r->fresh == 0) {
		r->in_window = false;
		r->eng->window--;
		schedule_dispatch(r->eng);
	}
}

static void set_fresh(struct probe *p)
{
	if (!p->fresh) {
		p->fresh = true;
		p->r->fresh++;
		p->eng->in_flight++;
		if (p->eng->in_flight > p->eng->stats.peak_in_flight) {
			p->eng->stats.peak_in_flight = p->eng->in_flight;
		}
	}
}

static void unfresh(struct probe *p)
{
	if (p->fresh) {
		p->fresh = false;
		p->r->fresh--;
		p->eng->in_flight--;
		schedule_dispatch(p->eng);
		release_window(p->r);
	}
}

/* ---- the address table: which open resolvers a datagram may come from ---- */

static struct rstate **table_slot(struct cs_engine *eng, const struct cs_sockaddr *a)
{
	return &eng->table[cs_tp_hash(a) & eng->table_mask];
}

static void table_remove(struct rstate *r)
{
	struct rstate **pp = table_slot(r->eng, &r->to);
	while (*pp != NULL && *pp != r) {
		pp = &(*pp)->hnext;
	}
	if (*pp == r) {
		*pp = r->hnext;
	}
	r->hnext = NULL;
}

/* ---- ending probes and resolvers ---- */

static void close_attempt(struct probe *p)
{
	unfresh(p);
	p->sock = -1;
	p->send_pending = false;
	p->retry_pending = false;
	conn_detach(p);
	if (p->ev_timer != NULL) {
		event_del(p->ev_timer);
	}
	cs_doh_req_free(p->doh_req);
	p->doh_req = NULL;
}

static void resolver_done(struct rstate *r)
{
	struct cs_engine *eng = r->eng;
	table_remove(r);
	if (r->oprev != NULL) {
		r->oprev->onext = r->onext;
	} else {
		eng->open = r->onext;
	}
	if (r->onext != NULL) {
		r->onext->oprev = r->oprev;
	}
	eng->n_open--;
	if (r->in_window) {
		r->in_window = false;
		eng->window--;
	}
	if (eng->src.done != NULL) {
		eng->src.done(eng->src.arg, r->index);
	}
	/* freed at the next dispatch: callers up the stack may still hold its probes */
	r->reap_next = eng->reap;
	eng->reap = r;
	schedule_dispatch(eng);
}

static void put_obs(struct cs_engine *eng, struct cs_observation *o)
{
	if (o == NULL) {
		return;
	}
	if (eng->n_obs_pool < OBS_POOL) {
		eng->obs_pool[eng->n_obs_pool++] = o;
		return;
	}
	cs_free(o);
}

/* A probe's sockets, events and query: what it holds while it can still send. */
static void release_io(struct probe *p)
{
	close_attempt(p);
	if (p->ev_timer != NULL) {
		event_free(p->ev_timer);
		p->ev_timer = NULL;
	}
	cs_free(p->wire);
	p->wire = NULL;
}

static void free_probe_parts(struct probe *p)
{
	release_io(p);
	cs_free(p->last_ignored);
	p->last_ignored = NULL;
	put_obs(p->eng, p->obs);
	p->obs = NULL;
}

static void free_rstate(struct rstate *r)
{
	conn_close(r->conn);
	for (size_t k = 0; k < r->n_probes; k++) {
		free_probe_parts(&r->probes[k]);
	}
	cs_free(r->probes);
	cs_free(r);
}

static void reap(struct cs_engine *eng)
{
	while (eng->reap != NULL) {
		struct rstate *r = eng->reap;
		eng->reap = r->reap_next;
		free_rstate(r);
	}
}

/* The observation a phase's outcome goes into, made at the first end. NULL: out of memory
 * (the run fails; the probe still ends). */
static struct cs_observation *obs_of(struct probe *p)
{
	if (p->obs == NULL) {
		struct cs_engine *eng = p->eng;
		if (eng->n_obs_pool > 0) {
			p->obs = eng->obs_pool[--eng->n_obs_pool];
			memset(p->obs, 0, sizeof(*p->obs));
		} else {
			p->obs = cs_calloc(1, sizeof(*p->obs));
		}
		if (p->obs == NULL) {
			fail_run(p->eng, CS_ENOMEM, "out of memory for an observation");
		}
	}
	return p->obs;
}

static struct cs_reply_facts *cur_facts(struct probe *p)
{
	struct cs_observation *o = obs_of(p);
	if (o == NULL) {
		return NULL;
	}
	return p->phase == PHASE_CD ? &o->cd : &o->main;
}

static void running_remove(struct probe *p)
{
	struct rstate *r = p->r;
	if (p->rprev != NULL) {
		p->rprev->rnext = p->rnext;
	} else if (r->running == p) {
		r->running = p->rnext;
	}
	if (p->rnext != NULL) {
		p->rnext->rprev = p->rprev;
	}
	p->rnext = NULL;
	p->rprev = NULL;
}

/* Release a probe's resources, hand its observation over and account for its end. */
static void probe_finish(struct probe *p)
{
	struct cs_engine *eng = p->eng;
	struct rstate *r = p->r;
	release_io(p);
	if (p->state == PSTATE_RUNNING) {
		running_remove(p);
	}
	p->state = PSTATE_DONE;
	struct cs_observation *o = obs_of(p);
	if (o != NULL && eng->src.probe_done != NULL) {
		eng->src.probe_done(eng->src.arg, r->index, p->k, o);
	}
	free_probe_parts(p);
	r->remaining--;
	if (r->remaining == 0) {
		resolver_done(r);
	} else {
		release_window(r);
	}
	schedule_dispatch(eng);
}

/* A phase has its outcome in its facts: record timing and move on. */
static void end_phase(struct probe *p)
{
	uint64_t now = now_ms(p->eng);
	struct cs_reply_facts *f = cur_facts(p);
	if (f != NULL) {
		f->attempts = p->attempts;
		f->rtt_ms = (uint32_t)(now - p->phase_start_ms);
		f->via_tcp = p->tcp;
	}
	close_attempt(p);
	if (f != NULL) {
		cs_log(CS_LOG_DEBUG, CS_LOG_PROBE, "%s: %s/%u cd=%d: outcome %d rcode %u in %u ms",
		       p->r->address, p->qname, (unsigned)p->qtype, (int)(p->phase == PHASE_CD),
		       (int)f->outcome, (unsigned)f->rcode, (unsigned)f->rtt_ms);
	}
	if (f != NULL && p->phase == PHASE_MAIN && p->cd_followup &&
	    f->outcome == CS_OUTCOME_ANSWER && f->rcode == CS_RCODE_SERVFAIL) {
		start_phase(p, PHASE_CD);
		return;
	}
	probe_finish(p);
}

static void fail_phase(struct probe *p, enum cs_outcome outcome, const char *fmt, ...)
	CS_PRINTF(3, 4);

static void fail_phase(struct probe *p, enum cs_outcome outcome, const char *fmt, ...)
{
	struct cs_reply_facts *f = cur_facts(p);
	va_list ap;
	va_start(ap, fmt);
	if (f != NULL) {
		memset(f, 0, sizeof(*f));
		f->outcome = outcome;
		if (vsnprintf(f->detail, sizeof(f->detail), fmt, ap) < 0) {
			f->detail[0] = '\0';
		}
	}
	va_end(ap);
	end_phase(p);
}

static void note_ignored(struct probe *p, const char *why)
{
	p->ignored++;
	if (p->last_ignored == NULL) {
		p->last_ignored = cs_malloc(CS_DETAIL_MAX);
	}
	if (p->last_ignored != NULL) {
		(void)cs_strlcpy(p->last_ignored, why, CS_DETAIL_MAX);
	}
	cs_log(CS_LOG_DEBUG, CS_LOG_WIRE, "%s: %s/%u: ignored a reply: %s", p->r->address, p->qname,
	       (unsigned)p->qtype, why);
}

static const char *last_ignored(const struct probe *p)
{
	return p->last_ignored != NULL ? p->last_ignored : "";
}

static void query_of(const struct probe *p, uint16_t id, struct cs_query *q)
{
	memset(q, 0, sizeof(*q));
	(void)cs_strlcpy(q->qname, p->qname, sizeof(q->qname));
	q->qtype = p->qtype;
	q->qclass = p->qclass;
	q->id = id;
	q->rd = p->rd;
	q->cd = p->phase == PHASE_CD;
	q->edns_do = true;
	q->nsid = true;
}

/* A candidate reply (to query ID id): judge it, and end the phase, fall back to TCP, or keep
 * waiting. Returns true only when the probe keeps waiting. */
static bool on_reply(struct probe *p, uint16_t id, const uint8_t *buf, size_t len)
{
	char why[CS_DETAIL_MAX];
	struct cs_reply_facts facts;
	struct cs_query q;
	query_of(p, id, &q);
	enum cs_wire_verdict v = cs_wire_read_reply(&q, buf, len, &facts, why, sizeof(why));
	switch (v) {
	case CS_WIRE_IGNORE:
		if (p->tcp) {
			/* a TCP stream is ours alone: a stranger's reply on it is garbage */
			fail_phase(p, CS_OUTCOME_MALFORMED, "TCP reply not for our query: %s", why);
			return false;
		}
		note_ignored(p, why);
		return true;
	case CS_WIRE_MALFORMED:
		fail_phase(p, CS_OUTCOME_MALFORMED, "%s", why);
		return false;
	case CS_WIRE_ACCEPT:
		break;
	}
	uint16_t ede[CS_EDE_MAX];
	for (size_t i = 0; i < facts.n_ede && i < CS_EDE_MAX; i++) {
		ede[i] = facts.ede[i].code;
	}
	note_signal(p->r,
		    cs_pace_signal_of(facts.rcode, facts.tc && !p->tcp, ede,
				      facts.n_ede < CS_EDE_MAX ? facts.n_ede : CS_EDE_MAX),
		    now_ms(p->eng));
	if (!p->tcp && id == p->id && p->sock >= 0) {
		/* the network's share: what the reply spent in our socket, waiting for the loop,
		 * is our own load, not the resolver's */
		const uint64_t elapsed = now_ms(p->eng) - p->attempt_start_ms;
		const int64_t queued = p->eng->rx_queued_ms;
		note_rtt(p->eng, queued > 0 && (uint64_t)queued < elapsed
					 ? elapsed - (uint64_t)queued
					 : elapsed);
	}
	if (facts.tc && !p->tcp) {
		/* RFC 1035 §4.2.1, RFC 7766: truncated over UDP, ask again over TCP. */
		close_attempt(p);
		start_tcp(p);
		return false;
	}
	/* RFC 4035 §5.3: data no validator vouched for (no AD, or asked with CD=1) is checked
	 * against the zone keys truth validated; bogus_data is decided from this later */
	if (p->keys != NULL && facts.has_data && !facts.ad) {
		cs_dnssec_check(p->keys, facts.cname_target[0] ? facts.cname_target : p->qname,
				p->qtype, buf, len, p->eng->clock->wall_s(p->eng->clock),
				&facts.sig);
	}
	struct cs_reply_facts *f = cur_facts(p);
	if (f != NULL) {
		*f = facts;
		if (p->ignored > 0) {
			(void)cs_snprintf(f->detail, sizeof(f->detail),
					  "%u stray replies ignored (last: %s)", p->ignored,
					  last_ignored(p));
		}
	}
	end_phase(p);
	return false;
}

/* ---- shared UDP sockets ---- */

static void on_usock(evutil_socket_t fd, short what, void *arg);

static struct ufamily *family_of(struct cs_engine *eng, const struct cs_sockaddr *to)
{
	return &eng->ufam[to->ss.ss_family == AF_INET6 ? 1 : 0];
}

/* Open a family's sockets at first use; false (and *e) when none could be opened. */
static bool ufamily_open(struct cs_engine *eng, struct ufamily *uf, int family, int *e)
{
	if (uf->open) {
		return true;
	}
	long rcvbuf_total = 0;
	for (size_t i = 0; i < UDP_SOCKETS; i++) {
		int got = 0;
		uf->s[i].fd = -1;
		if (cs_tp_udp_shared(family, UDP_BUF_BYTES, &uf->s[i].fd, &got, e) != CS_TP_OK) {
			break;
		}
		uf->s[i].ev =
			event_new(eng->base, uf->s[i].fd, EV_READ | EV_PERSIST, on_usock, eng);
		if (uf->s[i].ev == NULL) {
			*e = ENOMEM;
			cs_tp_close(uf->s[i].fd);
			uf->s[i].fd = -1;
			break;
		}
		event_add(uf->s[i].ev, NULL);
		rcvbuf_total += got;
	}
	if (uf->s[0].fd < 0) {
		return false;
	}
	uf->n = 0;
	while (uf->n < UDP_SOCKETS && uf->s[uf->n].fd >= 0) {
		uf->n++;
	}
	uf->open = true;
	/* pace to what the receive buffers hold: the replies to every query in flight must fit
	 * if they all arrive before the loop reads them */
	size_t cap = (size_t)(rcvbuf_total / UDP_REPLY_COST);
	eng->in_flight_cap = cap < 64 ? 64 : cap;
	eng->stats.udp_in_flight_cap = eng->in_flight_cap;
	cs_log(CS_LOG_DEBUG, CS_LOG_PROBE,
	       "%u UDP sockets for family %d, %ld bytes of receive "
	       "buffer: at most %zu queries in flight",
	       uf->n, family, rcvbuf_total, eng->in_flight_cap);
	return true;
}

static int usock_index(const struct cs_engine *eng, int fd, int *family)
{
	for (int f = 0; f < 2; f++) {
		for (unsigned i = 0; eng->ufam[f].open && i < eng->ufam[f].n; i++) {
			if (eng->ufam[f].s[i].fd == fd) {
				*family = f;
				return (int)i;
			}
		}
	}
	return -1;
}

static bool attempt_id(const struct probe *p, uint16_t id, int sock)
{
	for (unsigned i = 0; i < p->n_ids; i++) {
		if (p->ids[i] == id && p->socks[i] == (uint8_t)sock) {
			return true;
		}
	}
	return false;
}

/* A reply with an unknown ID: note it on the queries to r on sock whose question it answers.
 * True if one did. */
static bool note_wrong_id(struct rstate *r, int sock, uint16_t id, const uint8_t *buf, size_t len)
{
	bool noted = false;
	for (struct probe *p = r->running; p != NULL; p = p->rnext) {
		if (p->tcp || p->sock != sock) {
			continue;
		}
		char why[CS_DETAIL_MAX];
		struct cs_reply_facts facts;
		struct cs_query q;
		query_of(p, id, &q);
		if (cs_wire_read_reply(&q, buf, len, &facts, why, sizeof(why)) == CS_WIRE_ACCEPT) {
			(void)cs_snprintf(why, sizeof(why), "wrong ID %u (expected %u)",
					  (unsigned)id, (unsigned)p->id);
			note_ignored(p, why);
			noted = true;
		}
	}
	return noted;
}

/* A datagram (or ICMP error for the query it quotes) from `from` on shared socket sock. */
static void on_datagram(struct cs_engine *eng, int family, int sock, const struct cs_sockaddr *from,
			const uint8_t *buf, size_t len, bool truncated, int icmp_errno)
{
	uint16_t id = len >= 2 ? (uint16_t)((unsigned)buf[0] << 8 | (unsigned)buf[1]) : 0;
	bool known = false;
	for (struct rstate *r = *table_slot(eng, from), *rn = NULL; r != NULL; r = rn) {
		rn = r->hnext;
		if (!cs_tp_same(from, &r->to) || family_of(eng, &r->to) != &eng->ufam[family]) {
			continue;
		}
		known = true;
		for (struct probe *p = r->running; len >= 2 && p != NULL; p = p->rnext) {
			if (!p->tcp && attempt_id(p, id, sock)) {
				if (p->sock < 0 || id != p->id) {
					eng->stats.replies_late++;
				}
				if (icmp_errno != 0) {
					fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s",
						   strerror(icmp_errno));
				} else if (truncated) {
					note_ignored(p, "oversized datagram");
				} else {
					(void)on_reply(p, id, buf, len);
				}
				return;
			}
		}
		if (icmp_errno != 0) {
			continue; /* an error for a query that has ended */
		}
		/* from a resolver we asked, but with no ID of ours: the query out on this socket
		 * whose question it answers notes it (a wrong ID); one that answers none of them,
		 * or cannot be read, is stray */
		if (!truncated && note_wrong_id(r, sock, id, buf, len)) {
			continue;
		}
		eng->stats.datagrams_stray++;
		cs_log(CS_LOG_DEBUG, CS_LOG_WIRE, "%s: a datagram of %zu bytes matches no query",
		       r->address, len);
	}
	if (!known) {
		eng->stats.datagrams_stray++;
	}
}

static void usock_drain(struct cs_engine *eng, int family, int sock)
{
	const int fd = eng->ufam[family].s[sock].fd;
	for (;;) {
		size_t got = 0;
		int icmp = 0;
		int e = 0;
		struct cs_sockaddr to;
		if (cs_tp_recv_icmp(fd, eng->rx[0], RX_SLOT_SIZE, &got, &to, &icmp, &e) !=
		    CS_TP_OK) {
			break;
		}
		if (icmp != 0) {
			on_datagram(eng, family, sock, &to, eng->rx[0], got, false, icmp);
		}
	}
	for (size_t burst = 0; burst < RX_BURST;) {
		size_t got = 0;
		int e = 0;
		for (size_t i = 0; i < RX_SLOTS; i++) {
			eng->dgrams[i].buf = eng->rx[i];
			eng->dgrams[i].size = RX_SLOT_SIZE;
		}
		enum cs_tp_rc rc = cs_tp_recv_batch(fd, eng->dgrams, RX_SLOTS, &got, &e);
		if (rc == CS_TP_AGAIN) {
			return;
		}
		if (rc == CS_TP_FAIL) {
			/* a pending ICMP error reported once (its details are in the error queue);
			 * anything else is worth a line */
			if (e != ECONNREFUSED && e != EHOSTUNREACH && e != ENETUNREACH &&
			    e != EHOSTDOWN) {
				cs_log(CS_LOG_WARNING, CS_LOG_PROBE, "UDP receive: %s",
				       strerror(e));
				return;
			}
			burst++;
			continue;
		}
		for (size_t i = 0; i < got; i++) {
			const struct cs_dgram *d = &eng->dgrams[i];
			eng->rx_queued_ms = d->queued_ms;
			on_datagram(eng, family, sock, &d->from, d->buf,
				    d->truncated ? d->size : d->got,
				    d->truncated || d->got > CS_MAX_REPLY, 0);
		}
		burst += got;
	}
}

static void on_usock(evutil_socket_t fd, short what, void *arg)
{
	struct cs_engine *eng = arg;
	int family = 0;
	(void)what;
	int sock = usock_index(eng, (int)fd, &family);
	if (sock >= 0) {
		usock_drain(eng, family, sock);
	}
}

/* ---- TCP and TLS: one connection per resolver, queries pipelined (RFC 7766 §6.2.1) ---- */

/* A resolver's stream: its TCP and TLS queries go out on it back to back, and replies, in
 * whatever order they come, are matched by ID. A connection that fails takes the queries
 * waiting on it along; one that a server closes after answering on it is opened again for
 * them. It closes when its resolver is done. */
struct conn {
	struct rstate *r;
	int fd;
	struct event *ev;
	short ev_what;
	enum conn_state state;
	struct cs_tls *tls;
	bool tls_wants_write;
	uint8_t *out; /* length-prefixed queries not yet written */
	size_t out_len;
	size_t out_cap;
	size_t out_off;
	uint8_t len2[2]; /* the reply being read: its length, then its bytes */
	size_t have;
	size_t need;
	uint8_t *msg;
	size_t bytes_in;
	size_t replies;
};

static void on_conn(evutil_socket_t fd, short what, void *arg);

static void conn_close(struct conn *c)
{
	if (c == NULL) {
		return;
	}
	if (c->r->conn == c) {
		c->r->conn = NULL;
	}
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	cs_tls_free(c->tls);
	cs_tp_close(c->fd);
	cs_free(c->out);
	cs_free(c->msg);
	cs_free(c);
}

static void conn_detach(struct probe *p)
{
	p->conn = NULL;
}

/* Watch for what the connection needs next. False: out of memory (the caller fails it). */
static bool conn_watch(struct conn *c)
{
	short what = EV_READ | EV_PERSIST;
	if (c->state == CONN_CONNECTING || c->tls_wants_write ||
	    (c->state == CONN_OPEN && c->out_off < c->out_len)) {
		what |= EV_WRITE;
	}
	if (c->ev != NULL && what == c->ev_what) {
		return true;
	}
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	c->ev = event_new(c->r->eng->base, c->fd, what, on_conn, c);
	if (c->ev == NULL) {
		return false;
	}
	c->ev_what = what;
	event_add(c->ev, NULL);
	return true;
}

static void start_tcp(struct probe *p);

/* The connection failed: every query waiting on it fails with why, or, when the server had
 * answered on it (it closed a working connection), tries again on a new one. */
static void conn_fail(struct conn *c, enum cs_outcome outcome, const char *why)
{
	struct rstate *r = c->r;
	char text[CS_DETAIL_MAX];
	(void)cs_strlcpy(text, why, sizeof(text));
	if (r->conn == c) {
		r->conn = NULL;
	}
	const bool reopen = c->replies > 0;
	struct probe *p = r->running;
	while (p != NULL) {
		struct probe *next = p->rnext;
		if (p->conn == c) {
			conn_detach(p);
			if (reopen && now_ms(r->eng) + 1 < p->deadline_ms) {
				start_tcp(p);
			} else {
				fail_phase(p, outcome, "%s", text);
			}
		}
		p = next;
	}
	conn_close(c);
}

/* The TLS context for this resolver's CA file, made at first use and shared. */
static struct cs_tls_ctx *tls_ctx_for(struct rstate *r, char *why, size_t why_size)
{
	struct cs_engine *eng = r->eng;
	for (size_t i = 0; i < eng->n_tls_ctx; i++) {
		const char *have = eng->tls_ctx[i].ca_file;
		if ((have == NULL && r->tls_ca_file == NULL) ||
		    (have != NULL && r->tls_ca_file != NULL && strcmp(have, r->tls_ca_file) == 0)) {
			return eng->tls_ctx[i].ctx;
		}
	}
	struct cs_error err = { 0 };
	struct cs_tls_ctx *ctx = NULL;
	if (cs_tls_ctx_new(r->tls_ca_file, &ctx, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, why_size);
		return NULL;
	}
	struct tls_ctx_slot *slots =
		cs_reallocarray(eng->tls_ctx, eng->n_tls_ctx + 1, sizeof(*slots));
	char *ca = r->tls_ca_file != NULL ? cs_strdup(r->tls_ca_file) : NULL;
	if (slots != NULL) {
		eng->tls_ctx = slots;
	}
	if (slots == NULL || (r->tls_ca_file != NULL && ca == NULL)) {
		cs_free(ca);
		cs_tls_ctx_free(ctx);
		(void)cs_strlcpy(why, "out of memory for a TLS context", why_size);
		return NULL;
	}
	slots[eng->n_tls_ctx].ca_file = ca;
	slots[eng->n_tls_ctx].ctx = ctx;
	eng->n_tls_ctx++;
	return ctx;
}

/* One step of the stream: through TLS when the connection has it, else the socket. */
static enum cs_tp_rc stream_io(struct conn *c, bool write, uint8_t *buf, size_t len, size_t *n,
			       char *why, size_t why_size)
{
	int e = 0;
	if (c->tls == NULL) {
		enum cs_tp_rc rc = write ? cs_tp_send(c->fd, buf, len, n, &e)
					 : cs_tp_read(c->fd, buf, len, n, &e);
		if (rc == CS_TP_FAIL) {
			(void)cs_snprintf(why, why_size, "TCP %s: %s", write ? "send" : "read",
					  strerror(e));
		}
		return rc;
	}
	enum cs_tls_rc rc = write ? cs_tls_write(c->tls, buf, len, n, why, why_size)
				  : cs_tls_read(c->tls, buf, len, n, why, why_size);
	switch (rc) {
	case CS_TLS_OK:
		return CS_TP_OK;
	case CS_TLS_CLOSED:
		*n = 0;
		return CS_TP_OK;
	case CS_TLS_WANT_READ:
		return CS_TP_AGAIN;
	case CS_TLS_WANT_WRITE:
		c->tls_wants_write = true;
		return CS_TP_AGAIN;
	case CS_TLS_FAIL:
	default:
		return CS_TP_FAIL;
	}
}

/* A whole reply came in: to the query waiting on this connection with its ID. One for a
 * query that has ended (timed out) is dropped. */
static void conn_deliver(struct conn *c, const uint8_t *msg, size_t len)
{
	const uint16_t id = (uint16_t)((unsigned)msg[0] << 8 | (unsigned)msg[1]);
	c->replies++;
	for (struct probe *p = c->r->running; p != NULL; p = p->rnext) {
		if (p->conn == c && p->id == id) {
			(void)on_reply(p, id, msg, len);
			return;
		}
	}
	c->r->eng->stats.replies_late++;
}

/* Connect, handshake, write what is queued, read what came. False when c is gone. */
static bool conn_pump(struct conn *c)
{
	char why[CS_DETAIL_MAX];
	int e = 0;
	if (c->state == CONN_CONNECTING) {
		enum cs_tp_rc rc = cs_tp_tcp_connected(c->fd, &e);
		if (rc == CS_TP_AGAIN) {
			return true;
		}
		if (rc == CS_TP_FAIL) {
			(void)cs_snprintf(why, sizeof(why), "TCP connect: %s", strerror(e));
			conn_fail(c, CS_OUTCOME_UNREACHABLE, why);
			return false;
		}
		c->state = CONN_OPEN;
		if (c->r->transport == CS_TRANSPORT_TLS) {
			struct cs_error err = { 0 };
			struct cs_tls_ctx *ctx = tls_ctx_for(c->r, why, sizeof(why));
			if (ctx == NULL) {
				conn_fail(c, CS_OUTCOME_UNREACHABLE, why);
				return false;
			}
			if (cs_tls_new(ctx, c->fd, c->r->tls_auth_name, c->r->address, &c->tls,
				       &err) != CS_OK) {
				conn_fail(c, CS_OUTCOME_UNREACHABLE, err.msg);
				return false;
			}
			c->state = CONN_HANDSHAKE;
		}
	}
	if (c->state == CONN_HANDSHAKE) {
		c->tls_wants_write = false;
		switch (cs_tls_handshake(c->tls, why, sizeof(why))) {
		case CS_TLS_OK:
			c->state = CONN_OPEN;
			break;
		case CS_TLS_WANT_READ:
			return true;
		case CS_TLS_WANT_WRITE:
			c->tls_wants_write = true;
			return true;
		case CS_TLS_CLOSED:
		case CS_TLS_FAIL:
		default:
			conn_fail(c, CS_OUTCOME_UNREACHABLE, why);
			return false;
		}
	}
	c->tls_wants_write = false;
	while (c->out_off < c->out_len) {
		size_t n = 0;
		enum cs_tp_rc rc = stream_io(c, true, c->out + c->out_off, c->out_len - c->out_off,
					     &n, why, sizeof(why));
		if (rc == CS_TP_FAIL) {
			conn_fail(c, CS_OUTCOME_UNREACHABLE, why);
			return false;
		}
		if (rc == CS_TP_AGAIN) {
			break;
		}
		c->out_off += n;
	}
	if (c->out_off == c->out_len) {
		c->out_off = 0;
		c->out_len = 0;
	}
	for (;;) {
		size_t got = 0;
		enum cs_tp_rc rc;
		if (c->need == 0) {
			rc = stream_io(c, false, c->len2 + c->have, 2 - c->have, &got, why,
				       sizeof(why));
		} else {
			rc = stream_io(c, false, c->msg + c->have, c->need - c->have, &got, why,
				       sizeof(why));
		}
		if (rc == CS_TP_AGAIN) {
			break;
		}
		if (rc == CS_TP_FAIL) {
			conn_fail(c, CS_OUTCOME_UNREACHABLE, why);
			return false;
		}
		if (got == 0) {
			(void)cs_snprintf(why, sizeof(why), "%s connection closed after %zu bytes",
					  c->tls != NULL ? "TLS" : "TCP", c->bytes_in);
			conn_fail(c, CS_OUTCOME_MALFORMED, why);
			return false;
		}
		c->have += got;
		c->bytes_in += got;
		if (c->need == 0 && c->have == 2) {
			c->need = (size_t)c->len2[0] << 8 | c->len2[1];
			c->have = 0;
			if (c->need < 12) {
				conn_fail(c, CS_OUTCOME_MALFORMED,
					  "TCP reply shorter than a DNS header");
				return false;
			}
			c->msg = cs_malloc(c->need);
			if (c->msg == NULL) {
				conn_fail(c, CS_OUTCOME_MALFORMED, "out of memory for a reply");
				return false;
			}
		} else if (c->need > 0 && c->have == c->need) {
			uint8_t *msg = c->msg;
			const size_t len = c->need;
			c->msg = NULL;
			c->need = 0;
			c->have = 0;
			conn_deliver(c, msg, len);
			cs_free(msg);
		}
	}
	if (!conn_watch(c)) {
		conn_fail(c, CS_OUTCOME_MALFORMED, "out of memory for a TCP event");
		return false;
	}
	return true;
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)conn_pump(arg);
}

/* r's connection, opened if it has none. NULL with why when it cannot be. */
static struct conn *conn_get(struct rstate *r, char *why, size_t why_size)
{
	if (r->conn != NULL) {
		return r->conn;
	}
	int e = 0;
	struct conn *c = cs_calloc(1, sizeof(*c));
	if (c == NULL) {
		(void)cs_strlcpy(why, "out of memory for a TCP connection", why_size);
		return NULL;
	}
	c->r = r;
	c->fd = -1;
	if (cs_tp_tcp_open(&r->to, &c->fd, &e) == CS_TP_FAIL) {
		(void)cs_snprintf(why, why_size, "TCP connect: %s", strerror(e));
		cs_free(c);
		return NULL;
	}
	c->state = CONN_CONNECTING;
	r->conn = c;
	r->eng->stats.tcp_connections++;
	if (!conn_watch(c)) {
		(void)cs_strlcpy(why, "out of memory for a TCP event", why_size);
		conn_close(c);
		return NULL;
	}
	return c;
}

/* Queue p's query (length prefix, then the message) on c. */
static bool conn_queue(struct conn *c, struct probe *p)
{
	const size_t need = c->out_len + 2 + p->wire_len;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap * 2 : 512;
		while (cap < need) {
			cap *= 2;
		}
		uint8_t *out = cs_reallocarray(c->out, cap, 1);
		if (out == NULL) {
			return false;
		}
		c->out = out;
		c->out_cap = cap;
	}
	c->out[c->out_len] = (uint8_t)(p->wire_len >> 8);
	c->out[c->out_len + 1] = (uint8_t)(p->wire_len & 0xff);
	memcpy(c->out + c->out_len + 2, p->wire, p->wire_len);
	c->out_len = need;
	p->conn = c;
	return conn_watch(c);
}

/* ---- attempts and phases ---- */

static uint64_t attempt_budget(const struct probe *p)
{
	uint64_t now = now_ms(p->eng);
	uint64_t left = p->deadline_ms > now ? p->deadline_ms - now : 1;
	uint64_t t = p->eng->limits.timeout_ms;
	return left < t ? left : t;
}

/* How long a query holds its place in flight before it counts as overdue: four times the
 * run's smoothed reply time (RFC 6298's gain of 1/8), at least SLOT_HOLD_MIN_MS, at most the
 * configured hold (a quarter of the timeout, 50..1000 ms), which is also what it is before
 * the first reply. An overdue query still gets its answer; it only stops holding back the
 * resolvers behind it, and a silent resolver leaves the window in a few replies' time. */
static uint64_t slot_hold(const struct cs_engine *eng)
{
	if (!eng->have_rtt) {
		return eng->slot_hold_ms;
	}
	const double h = 4.0 * eng->srtt_ms;
	if (h < SLOT_HOLD_MIN_MS) {
		return SLOT_HOLD_MIN_MS;
	}
	return h > (double)eng->slot_hold_ms ? eng->slot_hold_ms : (uint64_t)h;
}

static void note_rtt(struct cs_engine *eng, uint64_t rtt_ms)
{
	if (!eng->have_rtt) {
		eng->srtt_ms = (double)rtt_ms;
		eng->have_rtt = true;
		return;
	}
	eng->srtt_ms += ((double)rtt_ms - eng->srtt_ms) / 8.0;
}

/* Arm the attempt's timer: first at the slot hold (to give its place up), then at its end. */
static void arm_attempt(struct probe *p)
{
	const uint64_t budget = attempt_budget(p);
	const uint64_t hold = slot_hold(p->eng);
	p->attempt_start_ms = now_ms(p->eng);
	p->attempt_end_ms = p->attempt_start_ms + budget;
	set_fresh(p);
	arm_timer(p->eng, p->ev_timer, budget > hold ? hold : budget);
}

static void timeout_phase(struct probe *p, uint64_t now)
{
	struct cs_reply_facts *f = cur_facts(p);
	if (f != NULL) {
		memset(f, 0, sizeof(*f));
		if (p->ignored > 0) {
			f->outcome = CS_OUTCOME_MALFORMED;
			(void)cs_snprintf(
				f->detail, sizeof(f->detail),
				"no acceptable reply in %u attempts; %u ignored (last: %s)",
				p->attempts, p->ignored, last_ignored(p));
		} else {
			f->outcome = CS_OUTCOME_TIMEOUT;
			(void)cs_snprintf(f->detail, sizeof(f->detail),
					  "no reply in %u attempts over %u ms", p->attempts,
					  (unsigned)(now - p->phase_start_ms));
		}
	}
	end_phase(p);
}

/* The resolver is clearly dead (pace.h): its queries not yet sent end now, unsent. */
static void mark_dead(struct rstate *r)
{
	struct cs_engine *eng = r->eng;
	r->dead = true;
	cs_log(CS_LOG_INFO, CS_LOG_PROBE,
	       "%s: no reply to %u queries in a row: not asked any further", r->address,
	       r->backoff.timeouts);
	if (r->in_ring) {
		ring_remove(eng, r);
	}
	struct probe *p = r->head;
	r->head = NULL;
	r->tail = NULL;
	while (p != NULL) {
		struct probe *next = p->next;
		p->next = NULL;
		struct cs_observation *o = obs_of(p);
		if (o != NULL) {
			o->main.outcome = CS_OUTCOME_TIMEOUT;
			(void)cs_snprintf(o->main.detail, sizeof(o->main.detail),
					  "not sent: no reply to %u queries in a row",
					  r->backoff.timeouts);
		}
		probe_finish(p);
		p = next;
	}
}

/* What a reply, or an attempt without one, says about the resolver's pace. */
static void note_signal(struct rstate *r, enum cs_pace_signal sig, uint64_t now)
{
	cs_backoff_note(&r->backoff, sig, now, &r->eng->pace);
	if (sig == CS_PACE_TIMEOUT && !r->dead && cs_backoff_dead(&r->backoff, &r->eng->pace)) {
		mark_dead(r);
	}
}

/* The next attempt of p's phase, when the token buckets allow, with jitter so that
 * resolvers waiting together do not come back together. The back-off does not hold a retry:
 * the attempt that timed out already waited a timeout, and the retry is what gets a lost
 * datagram answered; the back-off holds the resolver's queries not yet sent. An attempt that
 * could not start before the phase's deadline ends the phase as a timeout. */
static void retry(struct probe *p, uint64_t now)
{
	struct cs_engine *eng = p->eng;
	struct rstate *r = p->r;
	const uint64_t w = cs_bucket_wait_ms(&r->bucket, now);
	const uint64_t t = cs_bucket_wait_ms(&eng->total, now);
	uint64_t wait = w > t ? w : t;
	if (wait > 0) {
		wait += cs_jitter_ms((uint32_t)(wait / 8 < 250 ? wait / 8 : 250), random_u32(eng));
		if (now + wait + 1 >= p->deadline_ms) {
			timeout_phase(p, now);
			return;
		}
		p->retry_pending = true;
		arm_timer(eng, p->ev_timer, wait);
		return;
	}
	(void)cs_bucket_take(&eng->total, now);
	(void)cs_bucket_take(&r->bucket, now);
	cs_backoff_sent(&r->backoff, now, &eng->pace);
	start_attempt(p);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct cs_engine *eng = p->eng;
	(void)fd;
	(void)what;
	if (p->send_pending) {
		p->send_pending = false;
		start_attempt(p);
		return;
	}
	if (p->retry_pending) {
		p->retry_pending = false;
		retry(p, now_ms(eng));
		return;
	}
	/* A reply may sit unread in the socket: with thousands of queries in flight the loop can
	 * run this timer before the read event of the same round. Read it before giving up. */
	if (!p->tcp && p->sock >= 0) {
		const unsigned attempts_before = p->attempts;
		const enum phase phase_before = p->phase;
		const struct ufamily *uf = family_of(eng, &p->r->to);
		usock_drain(eng, (int)(uf - eng->ufam), p->sock);
		if (p->state != PSTATE_RUNNING || p->phase != phase_before ||
		    p->attempts != attempts_before || p->tcp || p->sock < 0) {
			return; /* the reply ended the attempt */
		}
	}
	uint64_t now = now_ms(eng);
	if (p->fresh && now + 1 < p->attempt_end_ms) {
		/* overdue: the query keeps waiting, without holding a place in flight */
		unfresh(p);
		arm_timer(eng, p->ev_timer, p->attempt_end_ms - now);
		return;
	}
	close_attempt(p);
	note_signal(p->r, CS_PACE_TIMEOUT, now);
	if (now + 1 >= p->deadline_ms || p->attempts > eng->limits.retries || p->r->dead) {
		timeout_phase(p, now);
		return;
	}
	retry(p, now);
}

/* A query ID from the secure RNG, drawn in bulk: one getrandom a query cost more than the
 * query's own send. */
static uint16_t random_id(struct cs_engine *eng)
{
	if (eng->n_ids_left == 0) {
		evutil_secure_rng_get_bytes(eng->id_pool, sizeof(eng->id_pool));
		eng->n_ids_left = ID_POOL;
	}
	return eng->id_pool[--eng->n_ids_left];
}

static uint32_t random_u32(struct cs_engine *eng)
{
	return (uint32_t)random_id(eng) << 16 | random_id(eng);
}

static bool same_question(const struct cs_query *a, const struct cs_query *b)
{
	return a->qtype == b->qtype && a->qclass == b->qclass && a->rd == b->rd && a->cd == b->cd &&
	       a->edns_do == b->edns_do && a->nsid == b->nsid && strcmp(a->qname, b->qname) == 0;
}

/* Every resolver is asked the same few questions: a query built once (by ldns) is copied
 * and given its own ID, which is all that differs. */
static bool wire_from_template(const struct cs_engine *eng, const struct cs_query *q,
			       uint8_t **wire, size_t *len)
{
	for (size_t i = 0; i < eng->n_tpl; i++) {
		const struct wire_tpl *t = &eng->tpl[i];
		if (same_question(&t->q, q)) {
			*wire = cs_malloc(t->len);
			if (*wire == NULL) {
				return false;
			}
			memcpy(*wire, t->wire, t->len);
			(*wire)[0] = (uint8_t)(q->id >> 8);
			(*wire)[1] = (uint8_t)(q->id & 0xff);
			*len = t->len;
			return true;
		}
	}
	return false;
}

static void remember_template(struct cs_engine *eng, const struct cs_query *q, const uint8_t *wire,
			      size_t len)
{
	struct wire_tpl *t = &eng->tpl[eng->next_tpl];
	uint8_t *copy = cs_malloc(len);
	if (copy == NULL) {
		return;
	}
	memcpy(copy, wire, len);
	cs_free(t->wire);
	t->q = *q;
	t->wire = copy;
	t->len = len;
	eng->next_tpl = (eng->next_tpl + 1) % WIRE_TPL;
	if (eng->n_tpl < WIRE_TPL) {
		eng->n_tpl++;
	}
}

static bool new_query(struct probe *p)
{
	struct cs_error err = { 0 };
	const uint16_t id = random_id(p->eng);
	/* RFC 8484 §4.1: DoH queries carry ID 0, so HTTP caches can share answers */
	p->id = p->r->transport == CS_TRANSPORT_HTTPS ? 0 : id;
	if (p->wire != NULL && p->wire_len >= 2) {
		/* the same question: only the ID changes */
		p->wire[0] = (uint8_t)(p->id >> 8);
		p->wire[1] = (uint8_t)(p->id & 0xff);
		return true;
	}
	struct cs_query q;
	query_of(p, p->id, &q);
	if (wire_from_template(p->eng, &q, &p->wire, &p->wire_len)) {
		return true;
	}
	if (cs_wire_build(&q, &p->wire, &p->wire_len, &err) != CS_OK) {
		char why[CS_DETAIL_MAX];
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_MALFORMED, "cannot build query: %s", why);
		return false;
	}
	remember_template(p->eng, &q, p->wire, p->wire_len);
	return true;
}

static void start_tcp(struct probe *p)
{
	char why[CS_DETAIL_MAX];
	struct rstate *r = p->r;
	p->tcp = true;
	/* an ID no other query waiting on the connection has */
	for (int tries = 0; tries < 16; tries++) {
		if (!new_query(p)) {
			return;
		}
		bool taken = false;
		for (const struct probe *o = r->running; o != NULL && !taken; o = o->rnext) {
			taken = o != p && o->conn != NULL && o->conn == r->conn && o->id == p->id;
		}
		if (!taken) {
			break;
		}
	}
	struct conn *c = conn_get(r, why, sizeof(why));
	if (c == NULL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	if (!conn_queue(c, p)) {
		conn_detach(p);
		fail_phase(p, CS_OUTCOME_MALFORMED, "%s", "out of memory for a TCP query");
		return;
	}
	p->eng->stats.queries_sent++;
	arm_attempt(p);
}

static void on_doh_done(void *arg, bool ok, const uint8_t *body, size_t len, const char *why)
{
	struct probe *p = arg;
	if (!ok) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	(void)on_reply(p, 0, body, len);
}

static void start_https(struct probe *p)
{
	struct cs_error err = { 0 };
	char why[CS_DETAIL_MAX];
	struct cs_engine *eng = p->eng;
	p->tcp = true; /* a stream: no UDP read-ahead, no TC fallback */
	if (!new_query(p)) {
		return;
	}
	if (eng->doh == NULL && cs_doh_new(eng->base, &eng->doh, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	uint64_t budget = attempt_budget(p);
	eng->stats.queries_sent++;
	if (cs_doh_start(eng->doh, p->r->url, p->r->address, p->r->tls_ca_file, p->wire,
			 p->wire_len, (uint32_t)budget, on_doh_done, p, &p->doh_req,
			 &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	arm_attempt(p);
}

/* The socket buffer is full: not an attempt; send again shortly, and give the loop time to
 * drain before anyone else sends. */
static void udp_deferred(struct probe *p)
{
	struct cs_engine *eng = p->eng;
	p->attempts--;
	p->send_pending = true;
	eng->stats.send_deferred++;
	eng->send_blocked_until_ms = now_ms(eng) + SEND_RETRY_MS;
	set_fresh(p);
	arm_timer(eng, p->ev_timer, SEND_RETRY_MS);
}

static void udp_sent(struct probe *p, unsigned sock)
{
	p->eng->stats.queries_sent++;
	if (p->n_ids < MAX_ATTEMPTS) {
		p->ids[p->n_ids] = p->id;
		p->socks[p->n_ids] = (uint8_t)sock;
		p->n_ids++;
	}
	p->sock = (int)sock;
	arm_attempt(p);
}

/* udp_sent, undone: the batch it was in did not go out. */
static void udp_unsent(struct probe *p)
{
	p->eng->stats.queries_sent--;
	if (p->n_ids > 0) {
		p->n_ids--;
	}
	p->sock = -1;
}

/* A fresh query with an ID no other query of ours to this resolver on this socket has. */
static bool pick_id(struct probe *p, unsigned sock)
{
	for (int tries = 0; tries < 16; tries++) {
		if (!new_query(p)) {
			return false;
		}
		bool taken = false;
		for (const struct probe *o = p->r->running; o != NULL && !taken; o = o->rnext) {
			taken = o != p && !o->tcp && attempt_id(o, p->id, (int)sock);
		}
		if (!taken) {
			break;
		}
	}
	return true;
}

/* Send what dispatch gathered, in one sendmmsg a batch. */
static void batch_flush(struct cs_engine *eng)
{
	const size_t n = eng->n_batch;
	struct cs_dgram_out d[SEND_BATCH];
	const int fd = eng->ufam[eng->batch_family].s[eng->batch_sock].fd;
	eng->n_batch = 0;
	for (size_t i = 0; i < n; i++) {
		const struct probe *p = eng->batch[i];
		d[i] = (struct cs_dgram_out){ .buf = p->wire, .len = p->wire_len, .to = &p->r->to };
	}
	size_t off = 0;
	bool retried = false;
	while (off < n) {
		size_t sent = 0;
		int e = 0;
		enum cs_tp_rc rc = cs_tp_send_batch(fd, d + off, n - off, &sent, &e);
		off += sent;
		if (rc == CS_TP_OK) {
			retried = false;
			if (sent == 0) {
				break;
			}
			continue;
		}
		if (rc == CS_TP_AGAIN) {
			for (size_t i = off; i < n; i++) {
				udp_unsent(eng->batch[i]);
				udp_deferred(eng->batch[i]);
			}
			return;
		}
		if ((e == ECONNREFUSED || e == EHOSTUNREACH) && !retried) {
			/* an earlier query's ICMP error, reported on this send: the error queue
			 * has it */
			retried = true;
			continue;
		}
		retried = false;
		udp_unsent(eng->batch[off]);
		fail_phase(eng->batch[off], CS_OUTCOME_UNREACHABLE, "UDP send: %s", strerror(e));
		off++;
	}
}

/* Send the UDP query on one of the shared sockets; inside dispatch, in a batch. */
static void start_udp(struct probe *p)
{
	struct cs_engine *eng = p->eng;
	struct rstate *r = p->r;
	int e = 0;
	p->tcp = false;
	struct ufamily *uf = family_of(eng, &r->to);
	const unsigned family = (unsigned)(uf - eng->ufam);
	if (!ufamily_open(eng, uf, r->to.ss.ss_family, &e)) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "UDP socket: %s", strerror(e));
		return;
	}
	unsigned sock = 0;
	if (eng->batching) {
		if (eng->n_batch > 0 &&
		    (eng->batch_family != family || eng->n_batch == SEND_BATCH)) {
			batch_flush(eng);
		}
		if (eng->n_batch == 0) {
			eng->batch_family = family;
			eng->batch_sock = uf->next++ % uf->n;
		}
		sock = eng->batch_sock;
	} else {
		sock = uf->next++ % uf->n;
	}
	if (!pick_id(p, sock)) {
		return;
	}
	if (eng->batching) {
		eng->batch[eng->n_batch++] = p;
		udp_sent(p, sock);
		return;
	}
	enum cs_tp_rc rc = cs_tp_sendto(uf->s[sock].fd, p->wire, p->wire_len, &r->to, &e);
	if (rc == CS_TP_FAIL && (e == ECONNREFUSED || e == EHOSTUNREACH)) {
		/* an earlier query's ICMP error, reported on this send: the error queue has it */
		rc = cs_tp_sendto(uf->s[sock].fd, p->wire, p->wire_len, &r->to, &e);
	}
	if (rc == CS_TP_AGAIN) {
		udp_deferred(p);
		return;
	}
	if (rc == CS_TP_FAIL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "UDP send: %s", strerror(e));
		return;
	}
	udp_sent(p, sock);
}

static void start_attempt(struct probe *p)
{
	p->attempts++;
	switch (p->r->transport) {
	case CS_TRANSPORT_HTTPS:
		start_https(p);
		return;
	case CS_TRANSPORT_TCP:
	case CS_TRANSPORT_TLS:
		start_tcp(p);
		return;
	case CS_TRANSPORT_UDP:
	default:
		start_udp(p);
		return;
	}
}

static void start_phase(struct probe *p, enum phase phase)
{
	p->phase = phase;
	if (phase == PHASE_CD) {
		struct cs_observation *o = obs_of(p);
		if (o != NULL) {
			o->cd_probed = true;
		}
		cs_free(p->wire); /* CD=1 is another question */
		p->wire = NULL;
	}
	p->attempts = 0;
	p->ignored = 0;
	p->n_ids = 0;
	if (p->last_ignored != NULL) {
		p->last_ignored[0] = '\0';
	}
	p->phase_start_ms = now_ms(p->eng);
	p->deadline_ms = p->phase_start_ms +
			 (uint64_t)p->eng->limits.timeout_ms * (p->eng->limits.retries + 1u);
	start_attempt(p);
}

/* ---- admission and dispatch ---- */

static void on_dispatch(evutil_socket_t fd, short what, void *arg);

static void schedule_dispatch(struct cs_engine *eng)
{
	if (!eng->now_armed && eng->ev_now != NULL) {
		eng->now_armed = true;
		event_active(eng->ev_now, EV_TIMEOUT, 0);
	}
}

static void schedule_later(struct cs_engine *eng, uint64_t wait_ms)
{
	if (!eng->later_armed) {
		eng->later_armed = true;
		arm_timer(eng, eng->ev_later, wait_ms);
	}
}

static void ring_add(struct cs_engine *eng, struct rstate *r)
{
	r->in_ring = true;
	eng->n_ring++;
	if (eng->ring == NULL) {
		r->ring_next = r;
		eng->ring = r;
		eng->ring_tail = r;
		return;
	}
	/* at the back, behind the tail, so new resolvers wait their turn */
	eng->ring_tail->ring_next = r;
	r->ring_next = eng->ring;
	eng->ring_tail = r;
}

static void ring_remove_head(struct cs_engine *eng)
{
	struct rstate *r = eng->ring;
	if (r == NULL) {
		return;
	}
	if (r->ring_next == r) {
		eng->ring = NULL;
		eng->ring_tail = NULL;
	} else {
		eng->ring_tail->ring_next = r->ring_next;
		eng->ring = r->ring_next;
	}
	eng->n_ring--;
	r->in_ring = false;
	r->ring_next = NULL;
}

/* Take r out of the ring wherever it is (rare: a dead resolver). */
static void ring_remove(struct cs_engine *eng, struct rstate *r)
{
	if (eng->ring == NULL || !r->in_ring) {
		return;
	}
	if (eng->ring == r) {
		ring_remove_head(eng);
		return;
	}
	struct rstate *prev = eng->ring;
	while (prev->ring_next != r && prev->ring_next != eng->ring) {
		prev = prev->ring_next;
	}
	if (prev->ring_next != r) {
		return;
	}
	prev->ring_next = r->ring_next;
	if (eng->ring_tail == r) {
		eng->ring_tail = prev;
	}
	eng->n_ring--;
	r->in_ring = false;
	r->ring_next = NULL;
}

/* The head goes to the back of the ring. */
static void ring_rotate(struct cs_engine *eng)
{
	eng->ring_tail = eng->ring;
	eng->ring = eng->ring->ring_next;
}

static bool same_target(const struct cs_probe_spec *a, const struct cs_probe_spec *b)
{
	return strcmp(a->address, b->address) == 0 && a->port == b->port &&
	       a->transport == b->transport;
}

/* Read resolver i's probes from the source and queue them. NULL when it has none, or on an
 * error (then eng->fail_rc is set). */
static struct rstate *admit(struct cs_engine *eng, size_t i)
{
	const size_t n = eng->src.probes_of(eng->src.arg, i);
	if (n == 0) {
		return NULL;
	}
	struct rstate *r = cs_calloc(1, sizeof(*r));
	struct probe *probes = cs_calloc(n, sizeof(*probes));
	if (r == NULL || probes == NULL) {
		cs_free(r);
		cs_free(probes);
		fail_run(eng, CS_ENOMEM, "out of memory admitting a resolver");
		return NULL;
	}
	r->eng = eng;
	r->index = i;
	r->n_probes = n;
	r->probes = probes;
	struct cs_probe_spec first = { 0 };
	struct cs_error err = { 0 };
	for (size_t k = 0; k < n; k++) {
		struct cs_probe_spec spec = { 0 };
		enum cs_errc rc = eng->src.spec(eng->src.arg, i, k, &spec, &err);
		if (rc == CS_OK && k == 0) {
			first = spec;
			if (spec.address == NULL ||
			    cs_tp_addr(spec.address, spec.port, &r->to) != 0 ||
			    cs_strlcpy(r->address, spec.address, sizeof(r->address)) != 0) {
				rc = cs_error_set(&err, CS_EINVAL, "bad probe target %s",
						  spec.address != NULL ? spec.address : "(none)");
			}
			r->transport = spec.transport;
			r->tls_auth_name = spec.tls_auth_name;
			r->tls_ca_file = spec.tls_ca_file;
			r->url = spec.url;
			if (rc == CS_OK && r->transport == CS_TRANSPORT_HTTPS && r->url == NULL) {
				rc = cs_error_set(&err, CS_EINVAL,
						  "DNS over HTTPS to %s needs a URL", spec.address);
			}
		} else if (rc == CS_OK && !same_target(&first, &spec)) {
			rc = cs_error_set(&err, CS_EINVAL,
					  "probes of one resolver go to %s port %u, not %s port %u",
					  first.address, (unsigned)first.port, spec.address,
					  (unsigned)spec.port);
		}
		if (rc == CS_OK && (spec.qname == NULL || strlen(spec.qname) >= CS_NAME_STR_MAX)) {
			rc = cs_error_set(&err, CS_EINVAL, "bad probe name for %s", r->address);
		}
		struct probe *p = &probes[k];
		p->eng = eng;
		p->r = r;
		p->k = k;
		p->sock = -1;
		if (rc == CS_OK) {
			p->ev_timer = event_new(eng->base, -1, 0, on_timer, p);
			if (p->ev_timer == NULL) {
				rc = cs_error_set(&err, CS_ENOMEM, "out of memory queueing probes");
			}
		}
		if (rc != CS_OK) {
			if (eng->fail_rc == CS_OK) {
				eng->fail_rc = rc;
				eng->fail_err = err;
			}
			free_rstate(r);
			return NULL;
		}
		p->qname = spec.qname;
		p->qtype = spec.qtype;
		p->qclass = spec.qclass != 0 ? spec.qclass : 1;
		p->rd = !spec.no_recursion;
		p->cd_followup = spec.cd_followup;
		p->keys = spec.keys;
		if (r->tail == NULL) {
			r->head = p;
		} else {
			r->tail->next = p;
		}
		r->tail = p;
	}
	r->remaining = n;
	cs_bucket_init(&r->bucket, eng->limits.qps_per_resolver,
		       cs_bucket_burst(eng->limits.qps_per_resolver), now_ms(eng));
	cs_backoff_init(&r->backoff);
	r->onext = eng->open;
	if (eng->open != NULL) {
		eng->open->oprev = r;
	}
	eng->open = r;
	eng->n_open++;
	struct rstate **slot = table_slot(eng, &r->to);
	r->hnext = *slot;
	*slot = r;
	return r;
}

/* Admit resolvers while the window has room. */
static void admit_some(struct cs_engine *eng)
{
	while (eng->window < eng->limits.concurrency && eng->next_admit < eng->src.n_resolvers &&
	       eng->fail_rc == CS_OK && !eng->cancelled) {
		struct rstate *r = admit(eng, eng->next_admit++);
		if (r == NULL) {
			continue;
		}
		r->in_window = true;
		eng->window++;
		if (eng->window > eng->stats.peak_window) {
			eng->stats.peak_window = eng->window;
		}
		ring_add(eng, r);
	}
}

/* How long resolver r must wait before its next query: its token bucket and its back-off. */
static uint64_t resolver_wait_ms(const struct rstate *r, uint64_t now)
{
	const uint64_t tokens = cs_bucket_wait_ms(&r->bucket, now);
	const uint64_t backoff = cs_backoff_wait_ms(&r->backoff, now);
	return tokens > backoff ? tokens : backoff;
}

static void dispatch(struct cs_engine *eng)
{
	reap(eng);
	if (eng->cancelled) {
		return;
	}
	uint64_t now = now_ms(eng);
	uint64_t wait_ms = 0;
	if (now < eng->send_blocked_until_ms) {
		schedule_later(eng, eng->send_blocked_until_ms - now);
		return;
	}
	size_t blocked = 0;
	eng->batching = true;
	for (;;) {
		admit_some(eng);
		if (eng->ring == NULL || eng->in_flight >= eng->in_flight_cap ||
		    now < eng->send_blocked_until_ms) {
			break;
		}
		const uint64_t total_wait = cs_bucket_wait_ms(&eng->total, now);
		if (total_wait > 0) {
			wait_ms = total_wait;
			break;
		}
		struct rstate *r = eng->ring;
		const uint64_t w = resolver_wait_ms(r, now);
		if (w > 0) {
			wait_ms = (wait_ms == 0 || w < wait_ms) ? w : wait_ms;
			ring_rotate(eng);
			/* every resolver in the ring is waiting (tokens, back-off): sleep */
			if (++blocked > eng->n_ring) {
				break;
			}
			continue;
		}
		blocked = 0;
		struct probe *p = r->head;
		r->head = p->next;
		p->next = NULL;
		if (r->head == NULL) {
			r->tail = NULL;
			ring_remove_head(eng);
		} else {
			ring_rotate(eng);
		}
		(void)cs_bucket_take(&eng->total, now);
		(void)cs_bucket_take(&r->bucket, now);
		cs_backoff_sent(&r->backoff, now, &eng->pace);
		p->state = PSTATE_RUNNING;
		p->rnext = r->running;
		if (r->running != NULL) {
			r->running->rprev = p;
		}
		r->running = p;
		start_phase(p, PHASE_MAIN);
		/* start_phase may end the probe at once (socket error) */
		release_window(r);
		now = now_ms(eng);
	}
	eng->batching = false;
	if (eng->n_batch > 0) {
		batch_flush(eng);
	}
	if (eng->ring != NULL && wait_ms > 0) {
		schedule_later(eng, wait_ms);
	}
}

static void on_dispatch(evutil_socket_t fd, short what, void *arg)
{
	struct cs_engine *eng = arg;
	(void)fd;
	(void)what;
	eng->now_armed = false;
	dispatch(eng);
}

static void on_dispatch_later(evutil_socket_t fd, short what, void *arg)
{
	struct cs_engine *eng = arg;
	(void)fd;
	(void)what;
	eng->later_armed = false;
	dispatch(eng);
}

/* ---- the run's deadline ---- */

static void cancel_probe(struct probe *p, uint64_t now)
{
	const bool running = p->state == PSTATE_RUNNING;
	struct cs_reply_facts *f = running ? cur_facts(p) : NULL;
	if (!running) {
		struct cs_observation *o = obs_of(p);
		f = o != NULL ? &o->main : NULL;
	}
	unsigned attempts = running ? p->attempts : 0;
	if (f != NULL) {
		memset(f, 0, sizeof(*f));
		f->outcome = CS_OUTCOME_TIMEOUT;
		f->attempts = attempts;
		f->rtt_ms = (uint32_t)(now - (running ? p->phase_start_ms : now));
		(void)cs_snprintf(f->detail, sizeof(f->detail), "%s",
				  attempts > 0 ? "no reply before the run's deadline"
					       : "not sent before the run's deadline");
	}
	cs_log(CS_LOG_DEBUG, CS_LOG_PROBE, "%s: %s/%u: %s", p->r->address, p->qname,
	       (unsigned)p->qtype,
	       attempts > 0 ? "no reply before the run's deadline"
			    : "not sent before the run's deadline");
	probe_finish(p);
}

static void cancel_resolver(struct rstate *r, uint64_t now)
{
	for (size_t k = 0; k < r->n_probes; k++) {
		if (r->probes[k].state != PSTATE_DONE) {
			cancel_probe(&r->probes[k], now);
		}
	}
}

/* The run's deadline passed: every probe still open ends now as a timeout, so the report
 * can still be written. Queued probes were never sent; running ones lose their phase. */
static void cancel_open_probes(struct cs_engine *eng)
{
	uint64_t now = now_ms(eng);
	eng->cancelled = true;
	eng->ring = NULL;
	eng->ring_tail = NULL;
	eng->n_ring = 0;
	while (eng->open != NULL) {
		cancel_resolver(eng->open, now);
		reap(eng);
	}
	/* those never admitted are reported too, one at a time */
	while (eng->next_admit < eng->src.n_resolvers && eng->fail_rc == CS_OK) {
		struct rstate *r = admit(eng, eng->next_admit++);
		if (r != NULL) {
			cancel_resolver(r, now);
			reap(eng);
		}
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct cs_engine *eng = arg;
	(void)fd;
	(void)what;
	size_t open = eng->n_open + (eng->src.n_resolvers - eng->next_admit);
	cancel_open_probes(eng);
	if (open > 0) {
		cs_log(CS_LOG_WARNING, CS_LOG_PROBE,
		       "run deadline reached: %zu unfinished resolvers reported as timeout", open);
	}
}

/* ---- the API ---- */

enum cs_errc cs_engine_new(struct event_base *base, const struct cs_probe_limits *limits,
			   const struct cs_clock *clock, size_t n_resolvers, struct cs_engine **out,
			   struct cs_error *err)
{
	*out = NULL;
	struct cs_engine *eng = cs_calloc(1, sizeof(*eng));
	if (eng == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for the probe engine");
	}
	eng->base = base;
	eng->clock = clock;
	eng->limits = *limits;
	if (eng->limits.concurrency == 0) {
		eng->limits.concurrency = 1;
	}
	if (eng->limits.timeout_ms == 0) {
		eng->limits.timeout_ms = 1;
	}
	uint32_t hold = eng->limits.timeout_ms / 4;
	eng->slot_hold_ms = hold < 50 ? 50 : hold > 1000 ? 1000 : hold;
	eng->in_flight_cap = SIZE_MAX; /* until the UDP sockets say what they hold */
	eng->n_resolvers = n_resolvers;
	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; i < UDP_SOCKETS; i++) {
			eng->ufam[f].s[i].fd = -1;
		}
	}
	/* the address table: about two buckets per resolver the window can hold */
	size_t want = (size_t)eng->limits.concurrency * 2;
	if (want > n_resolvers * 2 + 64) {
		want = n_resolvers * 2 + 64;
	}
	size_t size = 64;
	while (size < want && size < ((size_t)1 << 20)) {
		size <<= 1;
	}
	/* an array of pointers: sizeof(*table) is the pointer's size, as meant */
	eng->table = cs_calloc(size, sizeof(*eng->table)); // NOLINT(bugprone-sizeof-expression)
	eng->table_mask = size - 1;
	eng->ev_now = event_new(base, -1, 0, on_dispatch, eng);
	eng->ev_later = event_new(base, -1, 0, on_dispatch_later, eng);
	eng->ev_deadline = event_new(base, -1, 0, on_deadline, eng);
	if (eng->table == NULL || eng->ev_now == NULL || eng->ev_later == NULL ||
	    eng->ev_deadline == NULL) {
		cs_engine_free(eng);
		return cs_error_set(err, CS_ENOMEM, "out of memory for the probe engine");
	}
	struct timeval tv = { .tv_sec = (time_t)(eng->limits.timeout_ms / 1000u),
			      .tv_usec = (suseconds_t)((eng->limits.timeout_ms % 1000u) * 1000u) };
	eng->tv_timeout = event_base_init_common_timeout(base, &tv);
	cs_bucket_init(&eng->total, eng->limits.qps_total, cs_bucket_burst(eng->limits.qps_total),
		       now_ms(eng));
	cs_pace_params_default(&eng->pace, eng->limits.timeout_ms);
	/* clearly dead: one query and all its retries went unanswered, and nothing ever came
	 * back (docs/config.md "Politeness") */
	eng->pace.dead_after = eng->limits.retries + 1 < 2 ? 2 : eng->limits.retries + 1;
	*out = eng;
	return CS_OK;
}

static char *dup_or_null(const char *s, bool *oom)
{
	if (s == NULL) {
		return NULL;
	}
	char *d = cs_strdup(s);
	*oom = *oom || d == NULL;
	return d;
}

enum cs_errc cs_engine_add(struct cs_engine *eng, const struct cs_probe_spec *spec,
			   struct cs_observation *obs, struct cs_error *err)
{
	struct cs_sockaddr to;
	if (spec->resolver_index >= eng->n_resolvers) {
		return cs_error_set(err, CS_EINVAL, "probe for resolver %zu of %zu",
				    spec->resolver_index, eng->n_resolvers);
	}
	if (spec->transport == CS_TRANSPORT_HTTPS && spec->url == NULL) {
		return cs_error_set(err, CS_EINVAL, "DNS over HTTPS to %s needs a URL",
				    spec->address);
	}
	if (spec->address == NULL || spec->qname == NULL ||
	    cs_tp_addr(spec->address, spec->port, &to) != 0 || strlen(spec->address) >= 64 ||
	    strlen(spec->qname) >= CS_NAME_STR_MAX) {
		return cs_error_set(err, CS_EINVAL, "bad probe target %s for %s",
				    spec->address != NULL ? spec->address : "(none)",
				    spec->qname != NULL ? spec->qname : "(none)");
	}
	if (eng->n_added == eng->cap_added) {
		size_t cap = eng->cap_added ? eng->cap_added * 2 : 64;
		struct added *a = cs_reallocarray(eng->added, cap, sizeof(*a));
		if (a == NULL) {
			return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
		}
		eng->added = a;
		eng->cap_added = cap;
	}
	bool oom = false;
	struct added *a = &eng->added[eng->n_added];
	a->spec = *spec;
	a->address = dup_or_null(spec->address, &oom);
	a->qname = dup_or_null(spec->qname, &oom);
	a->obs = obs;
	if (oom) {
		cs_free(a->address);
		cs_free(a->qname);
		return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
	}
	a->spec.address = a->address;
	a->spec.qname = a->qname;
	eng->n_added++;
	memset(obs, 0, sizeof(*obs));
	return CS_OK;
}

void cs_engine_on_resolver_done(struct cs_engine *eng, cs_engine_resolver_done_fn *fn, void *arg)
{
	eng->done_fn = fn;
	eng->done_arg = arg;
}

void cs_engine_set_deadline(struct cs_engine *eng, uint64_t deadline_ms)
{
	eng->has_deadline = true;
	eng->run_deadline_ms = deadline_ms;
}

void cs_engine_get_stats(const struct cs_engine *eng, struct cs_engine_stats *out)
{
	*out = eng->stats;
}

/* cs_engine_add's probes as a source: grouped by resolver, in the order added. */
static size_t added_probes_of(void *arg, size_t r)
{
	const struct cs_engine *eng = arg;
	return eng->added_count[r];
}

static enum cs_errc added_spec(void *arg, size_t r, size_t k, struct cs_probe_spec *out,
			       struct cs_error *err)
{
	const struct cs_engine *eng = arg;
	(void)err;
	*out = eng->added[eng->added_start[r] + k].spec;
	return CS_OK;
}

static void added_probe_done(void *arg, size_t r, size_t k, const struct cs_observation *obs)
{
	const struct cs_engine *eng = arg;
	*eng->added[eng->added_start[r] + k].obs = *obs;
}

static void added_done(void *arg, size_t r)
{
	const struct cs_engine *eng = arg;
	if (eng->done_fn != NULL) {
		eng->done_fn(eng->done_arg, r);
	}
}

enum cs_errc cs_engine_run(struct cs_engine *eng, struct cs_error *err)
{
	if (eng->have_src) {
		return cs_error_set(err, CS_EINVAL, "internal: the engine has run already");
	}
	if (eng->n_added == 0) {
		return CS_OK;
	}
	eng->added_start = cs_calloc(eng->n_resolvers, sizeof(*eng->added_start));
	eng->added_count = cs_calloc(eng->n_resolvers, sizeof(*eng->added_count));
	if (eng->added_start == NULL || eng->added_count == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
	}
	/* a stable sort by resolver: an index to sort by keeps the order of adding */
	for (size_t i = 0; i < eng->n_added; i++) {
		eng->added_count[eng->added[i].spec.resolver_index]++;
	}
	size_t at = 0;
	for (size_t r = 0; r < eng->n_resolvers; r++) {
		eng->added_start[r] = at;
		at += eng->added_count[r];
	}
	struct added *sorted = cs_calloc(eng->n_added, sizeof(*sorted));
	size_t *fill = cs_calloc(eng->n_resolvers, sizeof(*fill));
	if (sorted == NULL || fill == NULL) {
		cs_free(sorted);
		cs_free(fill);
		return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
	}
	for (size_t i = 0; i < eng->n_added; i++) {
		size_t r = eng->added[i].spec.resolver_index;
		sorted[eng->added_start[r] + fill[r]++] = eng->added[i];
	}
	cs_free(fill);
	cs_free(eng->added);
	eng->added = sorted;
	eng->cap_added = eng->n_added;
	const struct cs_engine_source src = {
		.n_resolvers = eng->n_resolvers,
		.probes_of = added_probes_of,
		.spec = added_spec,
		.probe_done = added_probe_done,
		.done = added_done,
		.arg = eng,
	};
	return cs_engine_run_source(eng, &src, err);
}

enum cs_errc cs_engine_run_source(struct cs_engine *eng, const struct cs_engine_source *src,
				  struct cs_error *err)
{
	if (eng->have_src) {
		return cs_error_set(err, CS_EINVAL, "internal: the engine has run already");
	}
	eng->src = *src;
	eng->have_src = true;
	if (eng->has_deadline) {
		uint64_t now = now_ms(eng);
		if (now >= eng->run_deadline_ms) {
			on_deadline(-1, 0, eng);
			reap(eng);
			goto out;
		}
		arm_timer(eng, eng->ev_deadline, eng->run_deadline_ms - now);
	}
	dispatch(eng);
	while (eng->open != NULL ||
	       (eng->next_admit < src->n_resolvers && eng->fail_rc == CS_OK && !eng->cancelled)) {
		int rc = event_base_loop(eng->base, EVLOOP_ONCE);
		if (rc < 0) {
			return cs_error_set(err, CS_EIO, "event loop failed");
		}
		if (rc == 1) {
			return cs_error_set(err, CS_EIO,
					    "internal: %zu resolvers open, nothing to wait for",
					    eng->n_open);
		}
	}
	reap(eng);
	event_del(eng->ev_deadline);
out:
	if (eng->fail_rc != CS_OK) {
		*err = eng->fail_err;
		return eng->fail_rc;
	}
	return CS_OK;
}

void cs_engine_free(struct cs_engine *eng)
{
	if (eng == NULL) {
		return;
	}
	reap(eng);
	while (eng->open != NULL) {
		struct rstate *r = eng->open;
		eng->open = r->onext;
		free_rstate(r);
	}
	for (size_t i = 0; i < eng->n_added; i++) {
		cs_free(eng->added[i].address);
		cs_free(eng->added[i].qname);
	}
	cs_free(eng->added);
	cs_free(eng->added_start);
	cs_free(eng->added_count);
	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; i < UDP_SOCKETS; i++) {
			if (eng->ufam[f].s[i].ev != NULL) {
				event_free(eng->ufam[f].s[i].ev);
			}
			cs_tp_close(eng->ufam[f].s[i].fd);
		}
	}
	for (size_t i = 0; i < eng->n_tls_ctx; i++) {
		cs_free(eng->tls_ctx[i].ca_file);
		cs_tls_ctx_free(eng->tls_ctx[i].ctx);
	}
	cs_free(eng->tls_ctx);
	cs_doh_free(eng->doh);
	if (eng->ev_now != NULL) {
		event_free(eng->ev_now);
	}
	if (eng->ev_later != NULL) {
		event_free(eng->ev_later);
	}
	if (eng->ev_deadline != NULL) {
		event_free(eng->ev_deadline);
	}
	while (eng->n_obs_pool > 0) {
		cs_free(eng->obs_pool[--eng->n_obs_pool]);
	}
	for (size_t i = 0; i < WIRE_TPL; i++) {
		cs_free(eng->tpl[i].wire);
	}
	cs_free(eng->table);
	cs_free(eng);
}
