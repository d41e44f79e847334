/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probe engine. Each probe is a small state machine on the shared event loop:
 *
 *   queued ──► phase MAIN (CD=0) ──► [SERVFAIL and cd_followup] ──► phase CD (CD=1) ──► done
 *
 * A phase sends attempts (fresh socket, fresh ID each) until an acceptable reply arrives or
 * its deadline, timeout × (retries + 1) after the phase began, passes. A truncated UDP reply
 * moves the same attempt to TCP within that deadline. Replies that are not ours (wrong ID,
 * wrong question, wrong source) are ignored and remembered for the detail.
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
#include "tls.h"
#include "transport.h"
#include "wire.h"

enum phase {
	PHASE_MAIN = 0,
	PHASE_CD,
};

struct probe;

/* Per-resolver queue and rate state. */
struct rstate {
	struct probe *head;
	struct probe *tail;
	size_t remaining; /* queued + in flight */
	double tokens;
	uint64_t refill_ms;
	bool in_ring;
	struct rstate *ring_next;
};

enum tcp_state {
	TCP_CONNECTING = 0,
	TCP_HANDSHAKE,
	TCP_WRITING,
	TCP_READING
};

struct tls_ctx_slot {
	char *ca_file; /* NULL = the system's CAs */
	struct cs_tls_ctx *ctx;
};

enum pstate {
	PSTATE_QUEUED = 0,
	PSTATE_RUNNING,
	PSTATE_DONE,
};

struct probe {
	struct cs_engine *eng;
	struct probe *next;
	enum pstate state;
	size_t resolver_index;
	struct cs_sockaddr to;
	char address[64];
	enum cs_transport transport;
	bool cd_followup;
	const struct cs_keyset *keys;
	struct cs_observation *obs;
	struct cs_reply_facts *cur;

	struct cs_query q;
	enum phase phase;
	uint8_t *wire;
	size_t wire_len;
	int fd;
	bool tcp;
	struct event *ev_io;
	struct event *ev_timer;
	uint64_t phase_start_ms;
	uint64_t deadline_ms;
	unsigned attempts;
	unsigned ignored;
	char last_ignored[CS_DETAIL_MAX];

	/* TCP (and TLS on it): 2-byte length prefix (RFC 1035 §4.2.2, RFC 7858 §3.3) */
	enum tcp_state tcp_state;
	const char *tls_auth_name; /* borrowed; NULL = verify the address */
	const char *tls_ca_file;   /* borrowed; NULL = the system's CAs */
	bool tls_wanted;
	struct cs_tls *tls;
	const char *url; /* borrowed: DNS over HTTPS */
	struct cs_doh_req *doh_req;
	size_t tcp_sent;
	uint8_t tcp_len[2];
	size_t tcp_have;
	size_t tcp_need;
	uint8_t *tcp_buf;
};

struct cs_engine {
	struct event_base *base;
	struct tls_ctx_slot *tls_ctx; /* one per CA file, made at first use */
	size_t n_tls_ctx;
	struct cs_doh *doh; /* made at the first DNS-over-HTTPS probe */
	const struct cs_clock *clock;
	struct cs_probe_limits limits;
	size_t n_resolvers;
	struct rstate *rs;
	struct rstate *ring;      /* resolvers with queued probes, round robin: the head */
	struct rstate *ring_tail; /* the one before the head: O(1) insert, rotate, remove */
	struct probe **all;
	size_t n_all;
	size_t cap_all;
	size_t in_flight;
	size_t remaining;
	double tokens;
	uint64_t refill_ms;
	struct event *ev_dispatch;
	bool dispatch_armed;
	bool in_dispatch;
	uint8_t rxbuf[CS_MAX_REPLY + 1];
	cs_engine_resolver_done_fn *done_fn;
	void *done_arg;
	bool has_deadline;
	uint64_t run_deadline_ms; /* on eng->clock; probes still open then end as timeouts */
	struct event *ev_deadline;
	bool cancelled;
};

static void dispatch(struct cs_engine *eng);
static void start_attempt(struct probe *p);

static uint64_t now_ms(const struct cs_engine *eng)
{
	return eng->clock->mono_ms(eng->clock);
}

static void arm_timer(struct event *ev, uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000u),
			      .tv_usec = (suseconds_t)((ms % 1000u) * 1000u) };
	event_add(ev, &tv);
}

static void close_attempt(struct probe *p)
{
	if (p->ev_io != NULL) {
		event_free(p->ev_io);
		p->ev_io = NULL;
	}
	if (p->ev_timer != NULL) {
		event_del(p->ev_timer);
	}
	cs_tls_free(p->tls);
	p->tls = NULL;
	cs_doh_req_free(p->doh_req);
	p->doh_req = NULL;
	p->tcp_state = TCP_CONNECTING;
	cs_tp_close(p->fd);
	p->fd = -1;
	cs_free(p->tcp_buf);
	p->tcp_buf = NULL;
	p->tcp_have = 0;
	p->tcp_need = 0;
	p->tcp_sent = 0;
}

/* Release a probe's resources and account for its end; true if others remain. */
static bool probe_finish(struct probe *p)
{
	struct cs_engine *eng = p->eng;
	close_attempt(p);
	if (p->ev_timer != NULL) {
		event_free(p->ev_timer);
		p->ev_timer = NULL;
	}
	cs_free(p->wire);
	p->wire = NULL;
	if (p->state == PSTATE_RUNNING) {
		eng->in_flight--;
	}
	p->state = PSTATE_DONE;
	eng->remaining--;
	struct rstate *r = &eng->rs[p->resolver_index];
	r->remaining--;
	if (r->remaining == 0 && eng->done_fn != NULL) {
		eng->done_fn(eng->done_arg, p->resolver_index);
	}
	return eng->remaining > 0;
}

static void probe_done(struct probe *p)
{
	struct cs_engine *eng = p->eng;
	if (!probe_finish(p) || eng->cancelled) {
		return;
	}
	/* A probe that fails at once ends inside dispatch(): the running loop picks up the
	 * free slot, so no recursion (10 000 dead resolvers must not mean 10 000 frames). */
	if (!eng->in_dispatch) {
		dispatch(eng);
	}
}

static void start_phase(struct probe *p, enum phase phase);

/* A phase has its outcome in p->cur: record timing and move on. */
static void end_phase(struct probe *p)
{
	uint64_t now = now_ms(p->eng);
	p->cur->attempts = p->attempts;
	p->cur->rtt_ms = (uint32_t)(now - p->phase_start_ms);
	p->cur->via_tcp = p->tcp;
	close_attempt(p);
	cs_log(CS_LOG_DEBUG, CS_LOG_PROBE, "%s: %s/%u cd=%d: outcome %d rcode %u in %u ms",
	       p->address, p->q.qname, (unsigned)p->q.qtype, (int)p->q.cd, (int)p->cur->outcome,
	       (unsigned)p->cur->rcode, (unsigned)p->cur->rtt_ms);
	if (p->phase == PHASE_MAIN && p->cd_followup && p->cur->outcome == CS_OUTCOME_ANSWER &&
	    p->cur->rcode == CS_RCODE_SERVFAIL) {
		start_phase(p, PHASE_CD);
		return;
	}
	probe_done(p);
}

static void fail_phase(struct probe *p, enum cs_outcome outcome, const char *fmt, ...)
	CS_PRINTF(3, 4);

static void fail_phase(struct probe *p, enum cs_outcome outcome, const char *fmt, ...)
{
	memset(p->cur, 0, sizeof(*p->cur));
	p->cur->outcome = outcome;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p->cur->detail, sizeof(p->cur->detail), fmt, ap);
	va_end(ap);
	if (n < 0) {
		p->cur->detail[0] = '\0';
	}
	end_phase(p);
}

static void note_ignored(struct probe *p, const char *why)
{
	p->ignored++;
	(void)cs_strlcpy(p->last_ignored, why, sizeof(p->last_ignored));
	cs_log(CS_LOG_DEBUG, CS_LOG_WIRE, "%s: %s/%u: ignored a reply: %s", p->address, p->q.qname,
	       (unsigned)p->q.qtype, why);
}

static void start_tcp(struct probe *p);

/* A candidate reply: judge it, and end the phase, fall back to TCP, or keep waiting.
 * Returns true only when the probe keeps waiting on the same socket. */
static bool on_reply(struct probe *p, const uint8_t *buf, size_t len)
{
	char why[CS_DETAIL_MAX];
	struct cs_reply_facts facts;
	enum cs_wire_verdict v = cs_wire_read_reply(&p->q, buf, len, &facts, why, sizeof(why));
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
	if (facts.tc && !p->tcp) {
		/* RFC 1035 §4.2.1, RFC 7766: truncated over UDP, ask again over TCP. */
		close_attempt(p);
		start_tcp(p);
		return false;
	}
	/* RFC 4035 §5.3: data no validator vouched for (no AD, or asked with CD=1) is checked
	 * against the zone keys truth validated; bogus_data is decided from this later */
	if (p->keys != NULL && facts.has_data && !facts.ad) {
		cs_dnssec_check(p->keys, facts.cname_target[0] ? facts.cname_target : p->q.qname,
				p->q.qtype, buf, len, p->eng->clock->wall_s(p->eng->clock),
				&facts.sig);
	}
	*p->cur = facts;
	if (p->ignored > 0) {
		(void)cs_snprintf(p->cur->detail, sizeof(p->cur->detail),
				  "%u stray replies ignored (last: %s)", p->ignored,
				  p->last_ignored);
	}
	end_phase(p);
	return false;
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	(void)what;
	for (int i = 0; i < 64; i++) {
		size_t got = 0;
		bool from_ok = false;
		int e = 0;
		enum cs_tp_rc rc = cs_tp_udp_recv((int)fd, &p->to, p->eng->rxbuf,
						  sizeof(p->eng->rxbuf), &got, &from_ok, &e);
		if (rc == CS_TP_AGAIN) {
			return;
		}
		if (rc == CS_TP_FAIL) {
			/* ICMP port or host unreachable on a connected UDP socket */
			fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", strerror(e));
			return;
		}
		if (!from_ok) {
			note_ignored(p, "reply from another address or port");
			continue;
		}
		if (got > CS_MAX_REPLY) {
			note_ignored(p, "oversized datagram");
			continue;
		}
		if (!on_reply(p, p->eng->rxbuf, got)) {
			return; /* the socket is gone: the phase ended or moved to TCP */
		}
	}
}

static void on_tcp(evutil_socket_t fd, short what, void *arg);

static void tcp_want(struct probe *p, short what)
{
	if (p->ev_io != NULL) {
		event_free(p->ev_io);
	}
	p->ev_io = event_new(p->eng->base, p->fd, what, on_tcp, p);
	if (p->ev_io == NULL) {
		fail_phase(p, CS_OUTCOME_MALFORMED, "%s", "out of memory for a TCP event");
		return;
	}
	event_add(p->ev_io, NULL);
}

/* The TLS context for this probe's CA file, made at first use and shared. */
static struct cs_tls_ctx *tls_ctx_for(struct probe *p, char *why, size_t why_size)
{
	struct cs_engine *eng = p->eng;
	for (size_t i = 0; i < eng->n_tls_ctx; i++) {
		const char *have = eng->tls_ctx[i].ca_file;
		if ((have == NULL && p->tls_ca_file == NULL) ||
		    (have != NULL && p->tls_ca_file != NULL && strcmp(have, p->tls_ca_file) == 0)) {
			return eng->tls_ctx[i].ctx;
		}
	}
	struct cs_error err = { 0 };
	struct cs_tls_ctx *ctx = NULL;
	if (cs_tls_ctx_new(p->tls_ca_file, &ctx, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, why_size);
		return NULL;
	}
	struct tls_ctx_slot *slots =
		cs_reallocarray(eng->tls_ctx, eng->n_tls_ctx + 1, sizeof(*slots));
	char *ca = p->tls_ca_file != NULL ? cs_strdup(p->tls_ca_file) : NULL;
	if (slots != NULL) {
		eng->tls_ctx = slots;
	}
	if (slots == NULL || (p->tls_ca_file != NULL && ca == NULL)) {
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

/* One step of the stream: through TLS when the probe has it, else the socket. AGAIN means
 * "wait for *want". */
static enum cs_tp_rc stream_io(struct probe *p, bool write, uint8_t *buf, size_t len, size_t *n,
			       short *want, char *why, size_t why_size)
{
	int e = 0;
	*want = write ? EV_WRITE : EV_READ;
	if (p->tls == NULL) {
		enum cs_tp_rc rc = write ? cs_tp_send(p->fd, buf, len, n, &e)
					 : cs_tp_read(p->fd, buf, len, n, &e);
		if (rc == CS_TP_FAIL) {
			(void)cs_snprintf(why, why_size, "TCP %s: %s", write ? "send" : "read",
					  strerror(e));
		}
		return rc;
	}
	enum cs_tls_rc rc = write ? cs_tls_write(p->tls, buf, len, n, why, why_size)
				  : cs_tls_read(p->tls, buf, len, n, why, why_size);
	switch (rc) {
	case CS_TLS_OK:
		return CS_TP_OK;
	case CS_TLS_CLOSED:
		*n = 0;
		return CS_TP_OK;
	case CS_TLS_WANT_READ:
		*want = EV_READ;
		return CS_TP_AGAIN;
	case CS_TLS_WANT_WRITE:
		*want = EV_WRITE;
		return CS_TP_AGAIN;
	case CS_TLS_FAIL:
	default:
		return CS_TP_FAIL;
	}
}

/* Connected: start TLS on the socket. False when the phase ended. */
static bool tls_begin(struct probe *p)
{
	char why[CS_DETAIL_MAX];
	struct cs_tls_ctx *ctx = tls_ctx_for(p, why, sizeof(why));
	if (ctx == NULL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return false;
	}
	struct cs_error err = { 0 };
	if (cs_tls_new(ctx, p->fd, p->tls_auth_name, p->address, &p->tls, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return false;
	}
	return true;
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	char why[CS_DETAIL_MAX];
	short want = 0;
	int e = 0;
	(void)fd;
	(void)what;
	if (p->tcp_state == TCP_CONNECTING) {
		if (cs_tp_tcp_connected(p->fd, &e) == CS_TP_FAIL) {
			fail_phase(p, CS_OUTCOME_UNREACHABLE, "TCP connect: %s", strerror(e));
			return;
		}
		if (p->tls_wanted && !tls_begin(p)) {
			return;
		}
		p->tcp_state = p->tls != NULL ? TCP_HANDSHAKE : TCP_WRITING;
	}
	if (p->tcp_state == TCP_HANDSHAKE) {
		switch (cs_tls_handshake(p->tls, why, sizeof(why))) {
		case CS_TLS_OK:
			p->tcp_state = TCP_WRITING;
			break;
		case CS_TLS_WANT_READ:
			tcp_want(p, EV_READ | EV_PERSIST);
			return;
		case CS_TLS_WANT_WRITE:
			tcp_want(p, EV_WRITE | EV_PERSIST);
			return;
		case CS_TLS_CLOSED:
		case CS_TLS_FAIL:
		default:
			fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
			return;
		}
	}
	if (p->tcp_state == TCP_WRITING) {
		/* length prefix and message in one buffer keeps the write simple */
		uint8_t *out = p->eng->rxbuf;
		out[0] = (uint8_t)(p->wire_len >> 8);
		out[1] = (uint8_t)(p->wire_len & 0xff);
		memcpy(out + 2, p->wire, p->wire_len);
		size_t total = p->wire_len + 2;
		while (p->tcp_sent < total) {
			size_t sent = 0;
			enum cs_tp_rc rc =
				stream_io(p, true, out + p->tcp_sent, total - p->tcp_sent, &sent,
					  &want, why, sizeof(why));
			if (rc == CS_TP_FAIL) {
				fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
				return;
			}
			if (rc == CS_TP_AGAIN) {
				tcp_want(p, (short)(want | EV_PERSIST));
				return;
			}
			p->tcp_sent += sent;
		}
		p->tcp_state = TCP_READING;
		tcp_want(p, EV_READ | EV_PERSIST);
		if (p->tls == NULL) {
			return; /* nothing to read yet; TLS may have buffered data: read on */
		}
	}
	for (;;) {
		size_t got = 0;
		enum cs_tp_rc rc;
		if (p->tcp_need == 0) {
			rc = stream_io(p, false, p->tcp_len + p->tcp_have, 2 - p->tcp_have, &got,
				       &want, why, sizeof(why));
		} else {
			rc = stream_io(p, false, p->tcp_buf + p->tcp_have,
				       p->tcp_need - p->tcp_have, &got, &want, why, sizeof(why));
		}
		if (rc == CS_TP_AGAIN) {
			if (want != EV_READ) {
				tcp_want(p, (short)(want | EV_PERSIST));
			}
			return;
		}
		if (rc == CS_TP_FAIL) {
			fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
			return;
		}
		if (got == 0) {
			(void)cs_snprintf(why, sizeof(why), "%s connection closed after %zu bytes",
					  p->tls != NULL ? "TLS" : "TCP",
					  p->tcp_have + (p->tcp_need ? 2 : 0));
			fail_phase(p, CS_OUTCOME_MALFORMED, "%s", why);
			return;
		}
		p->tcp_have += got;
		if (p->tcp_need == 0 && p->tcp_have == 2) {
			p->tcp_need = (size_t)p->tcp_len[0] << 8 | p->tcp_len[1];
			p->tcp_have = 0;
			if (p->tcp_need < 12) {
				fail_phase(p, CS_OUTCOME_MALFORMED, "%s",
					   "TCP reply shorter than a DNS header");
				return;
			}
			p->tcp_buf = cs_malloc(p->tcp_need);
			if (p->tcp_buf == NULL) {
				fail_phase(p, CS_OUTCOME_MALFORMED, "%s",
					   "out of memory for a reply");
				return;
			}
		} else if (p->tcp_need > 0 && p->tcp_have == p->tcp_need) {
			(void)on_reply(p, p->tcp_buf, p->tcp_need);
			return;
		}
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	(void)fd;
	(void)what;
	/* A reply may sit unread in the socket: with thousands of probes in flight the loop can
	 * run this timer before the read event of the same round. Read it before giving up. */
	if (!p->tcp && p->fd >= 0) {
		const int fd_before = p->fd;
		const enum phase phase_before = p->phase;
		const unsigned attempts_before = p->attempts;
		on_udp(p->fd, EV_READ, p);
		if (p->fd != fd_before || p->phase != phase_before ||
		    p->attempts != attempts_before || p->tcp) {
			return; /* the reply ended the attempt */
		}
	}
	uint64_t now = now_ms(p->eng);
	close_attempt(p);
	if (now + 1 >= p->deadline_ms || p->attempts > p->eng->limits.retries) {
		memset(p->cur, 0, sizeof(*p->cur));
		if (p->ignored > 0) {
			p->cur->outcome = CS_OUTCOME_MALFORMED;
			(void)cs_snprintf(
				p->cur->detail, sizeof(p->cur->detail),
				"no acceptable reply in %u attempts; %u ignored (last: %s)",
				p->attempts, p->ignored, p->last_ignored);
		} else {
			p->cur->outcome = CS_OUTCOME_TIMEOUT;
			(void)cs_snprintf(p->cur->detail, sizeof(p->cur->detail),
					  "no reply in %u attempts over %u ms", p->attempts,
					  (unsigned)(now - p->phase_start_ms));
		}
		end_phase(p);
		return;
	}
	start_attempt(p);
}

static uint64_t attempt_budget(const struct probe *p)
{
	uint64_t now = now_ms(p->eng);
	uint64_t left = p->deadline_ms > now ? p->deadline_ms - now : 1;
	uint64_t t = p->eng->limits.timeout_ms;
	return left < t ? left : t;
}

static bool new_query(struct probe *p)
{
	uint16_t id = 0;
	struct cs_error err = { 0 };
	evutil_secure_rng_get_bytes(&id, sizeof(id));
	/* RFC 8484 §4.1: DoH queries carry ID 0, so HTTP caches can share answers */
	p->q.id = p->transport == CS_TRANSPORT_HTTPS ? 0 : id;
	cs_free(p->wire);
	p->wire = NULL;
	if (cs_wire_build(&p->q, &p->wire, &p->wire_len, &err) != CS_OK) {
		char why[CS_DETAIL_MAX];
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_MALFORMED, "cannot build query: %s", why);
		return false;
	}
	return true;
}

static void start_tcp(struct probe *p)
{
	int e = 0;
	p->tcp = true;
	p->tcp_state = TCP_CONNECTING;
	p->tls_wanted = p->transport == CS_TRANSPORT_TLS;
	if (!new_query(p)) {
		return;
	}
	enum cs_tp_rc rc = cs_tp_tcp_open(&p->to, &p->fd, &e);
	if (rc == CS_TP_FAIL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "TCP connect: %s", strerror(e));
		return;
	}
	tcp_want(p, EV_WRITE | EV_PERSIST);
	arm_timer(p->ev_timer, attempt_budget(p));
}

static void on_doh_done(void *arg, bool ok, const uint8_t *body, size_t len, const char *why)
{
	struct probe *p = arg;
	if (!ok) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	(void)on_reply(p, body, len);
}

static void start_https(struct probe *p)
{
	struct cs_error err = { 0 };
	char why[CS_DETAIL_MAX];
	p->tcp = true; /* a stream: no UDP read-ahead, no TC fallback */
	if (!new_query(p)) {
		return;
	}
	if (p->eng->doh == NULL && cs_doh_new(p->eng->base, &p->eng->doh, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	uint64_t budget = attempt_budget(p);
	if (cs_doh_start(p->eng->doh, p->url, p->address, p->tls_ca_file, p->wire, p->wire_len,
			 (uint32_t)budget, on_doh_done, p, &p->doh_req, &err) != CS_OK) {
		(void)cs_strlcpy(why, err.msg, sizeof(why));
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "%s", why);
		return;
	}
	arm_timer(p->ev_timer, budget);
}

static void start_attempt(struct probe *p)
{
	int e = 0;
	size_t sent = 0;
	p->attempts++;
	if (p->transport == CS_TRANSPORT_HTTPS) {
		start_https(p);
		return;
	}
	if (p->transport == CS_TRANSPORT_TCP || p->transport == CS_TRANSPORT_TLS) {
		start_tcp(p);
		return;
	}
	p->tcp = false;
	if (!new_query(p)) {
		return;
	}
	if (cs_tp_udp_open(&p->to, &p->fd, &e) == CS_TP_FAIL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "UDP socket: %s", strerror(e));
		return;
	}
	p->ev_io = event_new(p->eng->base, p->fd, EV_READ | EV_PERSIST, on_udp, p);
	if (p->ev_io == NULL) {
		fail_phase(p, CS_OUTCOME_MALFORMED, "%s", "out of memory for a UDP event");
		return;
	}
	event_add(p->ev_io, NULL);
	if (cs_tp_send(p->fd, p->wire, p->wire_len, &sent, &e) == CS_TP_FAIL) {
		fail_phase(p, CS_OUTCOME_UNREACHABLE, "UDP send: %s", strerror(e));
		return;
	}
	arm_timer(p->ev_timer, attempt_budget(p));
}

static void start_phase(struct probe *p, enum phase phase)
{
	p->phase = phase;
	p->q.cd = phase == PHASE_CD;
	p->cur = phase == PHASE_CD ? &p->obs->cd : &p->obs->main;
	if (phase == PHASE_CD) {
		p->obs->cd_probed = true;
	}
	p->attempts = 0;
	p->ignored = 0;
	p->last_ignored[0] = '\0';
	p->phase_start_ms = now_ms(p->eng);
	p->deadline_ms = p->phase_start_ms +
			 (uint64_t)p->eng->limits.timeout_ms * (p->eng->limits.retries + 1u);
	start_attempt(p);
}

static void on_dispatch(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cs_engine *eng = arg;
	eng->dispatch_armed = false;
	dispatch(eng);
}

/* Token buckets hold at most one second's worth of queries. */
static void refill(double *tokens, uint64_t *last_ms, uint32_t qps, uint64_t now)
{
	if (qps == 0) {
		return;
	}
	double add = (double)(now - *last_ms) * (double)qps / 1000.0;
	*last_ms = now;
	*tokens += add;
	if (*tokens > (double)qps) {
		*tokens = (double)qps;
	}
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
	r->in_ring = false;
	r->ring_next = NULL;
}

/* The head goes to the back of the ring. */
static void ring_rotate(struct cs_engine *eng)
{
	eng->ring_tail = eng->ring;
	eng->ring = eng->ring->ring_next;
}

static void dispatch(struct cs_engine *eng)
{
	eng->in_dispatch = true;
	uint64_t now = now_ms(eng);
	uint64_t wait_ms = 0;
	refill(&eng->tokens, &eng->refill_ms, eng->limits.qps_total, now);

	size_t blocked = 0;
	while (eng->ring != NULL && eng->in_flight < eng->limits.concurrency) {
		if (eng->limits.qps_total != 0 && eng->tokens < 1.0) {
			wait_ms = (uint64_t)((1.0 - eng->tokens) * 1000.0 / eng->limits.qps_total) +
				  1;
			break;
		}
		struct rstate *r = eng->ring;
		refill(&r->tokens, &r->refill_ms, eng->limits.qps_per_resolver, now);
		if (eng->limits.qps_per_resolver != 0 && r->tokens < 1.0) {
			uint64_t w = (uint64_t)((1.0 - r->tokens) * 1000.0 /
						eng->limits.qps_per_resolver) +
				     1;
			wait_ms = (wait_ms == 0 || w < wait_ms) ? w : wait_ms;
			ring_rotate(eng);
			/* every resolver in the ring is waiting for tokens: sleep */
			if (++blocked > eng->n_resolvers) {
				break;
			}
			continue;
		}
		blocked = 0;
		struct probe *p = r->head;
		r->head = p->next;
		if (r->head == NULL) {
			r->tail = NULL;
			ring_remove_head(eng);
		} else {
			ring_rotate(eng);
		}
		p->next = NULL;
		r->tokens -= 1.0;
		eng->tokens -= 1.0;
		eng->in_flight++;
		p->state = PSTATE_RUNNING;
		start_phase(p, PHASE_MAIN);
		/* start_phase may finish the probe at once (socket error): re-read state */
		now = now_ms(eng);
	}
	if (eng->ring != NULL && eng->in_flight < eng->limits.concurrency && wait_ms > 0 &&
	    !eng->dispatch_armed) {
		eng->dispatch_armed = true;
		arm_timer(eng->ev_dispatch, wait_ms);
	}
	eng->in_dispatch = false;
}

/* The run's deadline passed: every probe still open ends now as a timeout, so the report
 * can still be written. Queued probes were never sent; running ones lose their phase. */
static void cancel_open_probes(struct cs_engine *eng)
{
	uint64_t now = now_ms(eng);
	eng->cancelled = true;
	eng->ring = NULL;
	eng->ring_tail = NULL;
	for (size_t i = 0; i < eng->n_all; i++) {
		struct probe *p = eng->all[i];
		if (p->state == PSTATE_DONE) {
			continue;
		}
		struct cs_reply_facts *f = p->state == PSTATE_RUNNING ? p->cur : &p->obs->main;
		unsigned attempts = p->state == PSTATE_RUNNING ? p->attempts : 0;
		uint64_t began = p->state == PSTATE_RUNNING ? p->phase_start_ms : now;
		memset(f, 0, sizeof(*f));
		f->outcome = CS_OUTCOME_TIMEOUT;
		f->attempts = attempts;
		f->rtt_ms = (uint32_t)(now - began);
		(void)cs_snprintf(f->detail, sizeof(f->detail), "%s",
				  attempts > 0 ? "no reply before the run's deadline"
					       : "not sent before the run's deadline");
		cs_log(CS_LOG_DEBUG, CS_LOG_PROBE, "%s: %s/%u cd=%d: %s", p->address, p->q.qname,
		       (unsigned)p->q.qtype, (int)p->q.cd, f->detail);
		(void)probe_finish(p);
	}
	for (size_t i = 0; i < eng->n_resolvers; i++) {
		eng->rs[i].head = NULL;
		eng->rs[i].tail = NULL;
		eng->rs[i].in_ring = false;
		eng->rs[i].ring_next = NULL;
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cs_engine *eng = arg;
	size_t open = eng->remaining;
	cancel_open_probes(eng);
	if (open > 0) {
		cs_log(CS_LOG_WARNING, CS_LOG_PROBE,
		       "run deadline reached: %zu unfinished probes reported as timeout", open);
	}
}

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
	eng->n_resolvers = n_resolvers;
	eng->rs = cs_calloc(n_resolvers, sizeof(*eng->rs));
	eng->ev_dispatch = event_new(base, -1, 0, on_dispatch, eng);
	eng->ev_deadline = event_new(base, -1, 0, on_deadline, eng);
	if (eng->rs == NULL || eng->ev_dispatch == NULL || eng->ev_deadline == NULL) {
		cs_engine_free(eng);
		return cs_error_set(err, CS_ENOMEM, "out of memory for the probe engine");
	}
	uint64_t now = now_ms(eng);
	eng->tokens = (double)limits->qps_total;
	eng->refill_ms = now;
	for (size_t i = 0; i < n_resolvers; i++) {
		eng->rs[i].tokens = (double)limits->qps_per_resolver;
		eng->rs[i].refill_ms = now;
	}
	*out = eng;
	return CS_OK;
}

enum cs_errc cs_engine_add(struct cs_engine *eng, const struct cs_probe_spec *spec,
			   struct cs_observation *obs, struct cs_error *err)
{
	if (spec->resolver_index >= eng->n_resolvers) {
		return cs_error_set(err, CS_EINVAL, "probe for resolver %zu of %zu",
				    spec->resolver_index, eng->n_resolvers);
	}
	if (eng->n_all == eng->cap_all) {
		size_t cap = eng->cap_all ? eng->cap_all * 2 : 64;
		/* an array of pointers: sizeof(*all) is the pointer's size, as meant */
		struct probe **all = cs_reallocarray(
			eng->all, cap, sizeof(*all)); // NOLINT(bugprone-sizeof-expression)
		if (all == NULL) {
			return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
		}
		eng->all = all;
		eng->cap_all = cap;
	}
	struct probe *p = cs_calloc(1, sizeof(*p));
	if (p == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
	}
	p->fd = -1;
	p->eng = eng;
	p->obs = obs;
	p->resolver_index = spec->resolver_index;
	p->transport = spec->transport;
	p->cd_followup = spec->cd_followup;
	p->keys = spec->keys;
	p->tls_auth_name = spec->tls_auth_name;
	p->tls_ca_file = spec->tls_ca_file;
	p->url = spec->url;
	if (p->transport == CS_TRANSPORT_HTTPS && p->url == NULL) {
		cs_free(p);
		return cs_error_set(err, CS_EINVAL, "DNS over HTTPS to %s needs a URL",
				    spec->address);
	}
	memset(obs, 0, sizeof(*obs));
	if (cs_tp_addr(spec->address, spec->port, &p->to) != 0 ||
	    cs_strlcpy(p->address, spec->address, sizeof(p->address)) != 0 ||
	    cs_strlcpy(p->q.qname, spec->qname, sizeof(p->q.qname)) != 0) {
		cs_free(p);
		return cs_error_set(err, CS_EINVAL, "bad probe target %s for %s", spec->address,
				    spec->qname);
	}
	p->q.qtype = spec->qtype;
	p->q.qclass = spec->qclass != 0 ? spec->qclass : 1;
	p->q.rd = !spec->no_recursion;
	p->q.edns_do = true;
	p->q.nsid = true;
	p->ev_timer = event_new(eng->base, -1, 0, on_timer, p);
	if (p->ev_timer == NULL) {
		cs_free(p);
		return cs_error_set(err, CS_ENOMEM, "out of memory queueing probes");
	}
	eng->all[eng->n_all++] = p;

	struct rstate *r = &eng->rs[spec->resolver_index];
	if (r->tail == NULL) {
		r->head = p;
	} else {
		r->tail->next = p;
	}
	r->tail = p;
	r->remaining++;
	eng->remaining++;
	if (!r->in_ring) {
		r->in_ring = true;
		if (eng->ring == NULL) {
			r->ring_next = r;
			eng->ring = r;
			eng->ring_tail = r;
		} else {
			/* at the back, behind the tail, so new resolvers wait their turn */
			eng->ring_tail->ring_next = r;
			r->ring_next = eng->ring;
			eng->ring_tail = r;
		}
	}
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

enum cs_errc cs_engine_run(struct cs_engine *eng, struct cs_error *err)
{
	if (eng->remaining == 0) {
		return CS_OK;
	}
	if (eng->has_deadline) {
		uint64_t now = now_ms(eng);
		if (now >= eng->run_deadline_ms) {
			on_deadline(-1, 0, eng);
			return CS_OK;
		}
		arm_timer(eng->ev_deadline, eng->run_deadline_ms - now);
	}
	dispatch(eng);
	while (eng->remaining > 0) {
		int rc = event_base_loop(eng->base, EVLOOP_ONCE);
		if (rc < 0) {
			return cs_error_set(err, CS_EIO, "event loop failed");
		}
		if (rc == 1) {
			return cs_error_set(err, CS_EIO,
					    "internal: %zu probes pending, nothing to wait for",
					    eng->remaining);
		}
	}
	event_del(eng->ev_deadline);
	return CS_OK;
}

void cs_engine_free(struct cs_engine *eng)
{
	if (eng == NULL) {
		return;
	}
	for (size_t i = 0; i < eng->n_all; i++) {
		struct probe *p = eng->all[i];
		if (p->ev_io != NULL) {
			event_free(p->ev_io);
		}
		if (p->ev_timer != NULL) {
			event_free(p->ev_timer);
		}
		cs_tls_free(p->tls);
		cs_doh_req_free(p->doh_req);
		cs_tp_close(p->fd);
		cs_free(p->tcp_buf);
		cs_free(p->wire);
		cs_free(p);
	}
	cs_free(eng->all);
	for (size_t i = 0; i < eng->n_tls_ctx; i++) {
		cs_free(eng->tls_ctx[i].ca_file);
		cs_tls_ctx_free(eng->tls_ctx[i].ctx);
	}
	cs_free(eng->tls_ctx);
	cs_doh_free(eng->doh);
	if (eng->ev_dispatch != NULL) {
		event_free(eng->ev_dispatch);
	}
	if (eng->ev_deadline != NULL) {
		event_free(eng->ev_deadline);
	}
	cs_free(eng->rs);
	cs_free(eng);
}
