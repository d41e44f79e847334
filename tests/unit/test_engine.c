/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine against a lying resolver: a scripted responder on a loopback socket, served
 * from the same event loop. Each qname selects a behaviour. A mock stands in here because no
 * real resolver sends wrong IDs or compression loops on demand.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/engine.h>

#include "test_alloc.h"

#define TIMEOUT_MS 150u
#define RETRIES    1u

struct responder {
	int udp;
	int tcp_listen;
	uint16_t port;
	struct event *ev_udp;
	struct event *ev_tcp;
	struct event_base *base; /* the loop it answers on, for the engines under test */
	unsigned queries_seen;
	uint64_t refused_at_ms[8]; /* when each "refused" query arrived */
	unsigned n_refused;
};

static struct responder R;

/* Reply = the query with QR (and RA) set, rcode, and answers for some behaviours. */
static size_t make_reply(const uint8_t *q, size_t qlen, uint8_t *out, unsigned rcode, bool tc,
			 bool with_a)
{
	/* copy header + question; drop the OPT (ARCOUNT 0) */
	size_t qend = 12;
	while (qend < qlen && q[qend] != 0) {
		qend += (size_t)q[qend] + 1;
	}
	qend += 5;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	out[3] = (uint8_t)(0x80 | (rcode & 0x0f));
	out[10] = 0;
	out[11] = 0;
	size_t n = qend;
	if (with_a) {
		static const uint8_t a[] = {
			0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 9
		};
		memcpy(out + n, a, sizeof(a));
		n += sizeof(a);
		out[7] = 1;
	}
	return n;
}

static bool qname_is(const uint8_t *q, size_t qlen, const char *label)
{
	size_t len = strlen(label);
	return qlen > 13 + len && q[12] == len && memcmp(q + 13, label, len) == 0;
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	uint8_t q[1500];
	uint8_t out[1500];
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t n = recvfrom((int)fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	if (n < 12) {
		return;
	}
	size_t qlen = (size_t)n;
	bool cd = (q[3] & 0x10) != 0;
	size_t rlen = 0;
	R.queries_seen++;
	if (qname_is(q, qlen, "ok")) {
		rlen = make_reply(q, qlen, out, 0, false, true);
	} else if (qname_is(q, qlen, "wrongid")) {
		rlen = make_reply(q, qlen, out, 0, false, true);
		out[0] ^= 0xff; /* first a reply with a wrong ID ... */
		sendto((int)fd, out, rlen, 0, (struct sockaddr *)&from, flen);
		out[0] ^= 0xff; /* ... then the right one */
	} else if (qname_is(q, qlen, "wrongq")) {
		rlen = make_reply(q, qlen, out, 0, false, true);
		out[13] = 'x'; /* a reply for another name, never ours */
	} else if (qname_is(q, qlen, "tc")) {
		rlen = make_reply(q, qlen, out, 0, true, false);
	} else if (qname_is(q, qlen, "servfail")) {
		rlen = make_reply(q, qlen, out, cd ? 0 : 2, false, cd);
	} else if (qname_is(q, qlen, "version")) {
		/* version.bind. CH TXT, as Unbound answers it; REFUSED in any other class */
		size_t qend = 12;
		while (qend < qlen && q[qend] != 0) {
			qend += (size_t)q[qend] + 1;
		}
		bool ch = qend + 4 < qlen && q[qend + 3] == 0 && q[qend + 4] == 3;
		rlen = make_reply(q, qlen, out, ch ? 0 : 5, false, false);
		if (ch) {
			static const uint8_t txt[] = { 0xc0, 0x0c, 0,   16,  0,   3,   0,
						       0,    0,    0,   0,   15,  14,  'u',
						       'n',  'b',  'o', 'u', 'n', 'd', ' ',
						       '1',  '.',  '1', '7', '.', '1' };
			memcpy(out + rlen, txt, sizeof(txt));
			rlen += sizeof(txt);
			out[7] = 1;
		}
	} else if (qname_is(q, qlen, "refused")) {
		if (R.n_refused < 8) {
			const struct cs_clock *clock = cs_clock_system();
			R.refused_at_ms[R.n_refused++] = clock->mono_ms(clock);
		}
		rlen = make_reply(q, qlen, out, 5, false, false);
	} else if (qname_is(q, qlen, "garbage")) {
		memset(out, 0xee, 300);
		out[0] = q[0];
		out[1] = q[1];
		out[2] = 0x80;
		out[3] = 0;
		rlen = 300;
	} else if (qname_is(q, qlen, "loop")) {
		rlen = make_reply(q, qlen, out, 0, false, true);
		/* make the answer's owner point at itself */
		size_t at = rlen - 16;
		out[at] = (uint8_t)(0xc0 | (at >> 8));
		out[at + 1] = (uint8_t)(at & 0xff);
	} else {
		return; /* "silent": no answer at all */
	}
	sendto((int)fd, out, rlen, 0, (struct sockaddr *)&from, flen);
}

/* TCP: one query per connection, answered in full (for the TC fallback). Event-driven, so
 * the responder never blocks the loop the engine runs on. */
struct tcp_conn {
	int fd;
	struct event *ev;
	uint8_t buf[1600];
	size_t have;
};

static void on_tcp_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tcp_conn *c = arg;
	ssize_t n = recv((int)fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
	if (n > 0) {
		c->have += (size_t)n;
	}
	bool complete = c->have >= 2 && c->have >= 2u + (size_t)(c->buf[0] << 8 | c->buf[1]);
	if (!complete && n > 0 && c->have < sizeof(c->buf)) {
		return; /* wait for the rest */
	}
	if (complete && c->have > 14) {
		uint8_t out[1600];
		size_t rlen = make_reply(c->buf + 2, c->have - 2, out + 2, 0, false, true);
		out[0] = (uint8_t)(rlen >> 8);
		out[1] = (uint8_t)(rlen & 0xff);
		ssize_t w = send((int)fd, out, rlen + 2, MSG_NOSIGNAL);
		(void)w;
	}
	event_free(c->ev);
	close(c->fd);
	free(c);
}

static void on_tcp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct event_base *base = arg;
	int s = accept((int)fd, NULL, NULL);
	if (s < 0) {
		return;
	}
	(void)fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
	struct tcp_conn *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->fd = s;
	c->ev = event_new(base, s, EV_READ | EV_PERSIST, on_tcp_read, c);
	event_add(c->ev, NULL);
}

static int responder_up(struct event_base *base)
{
	R.base = base;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	R.udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (R.udp < 0 || bind(R.udp, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		return -1;
	}
	socklen_t len = sizeof(sa);
	getsockname(R.udp, (struct sockaddr *)&sa, &len);
	R.port = ntohs(sa.sin_port);
	R.tcp_listen = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(R.tcp_listen, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(R.tcp_listen, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(R.tcp_listen, 16) != 0) {
		return -1;
	}
	R.ev_udp = event_new(base, R.udp, EV_READ | EV_PERSIST, on_udp, NULL);
	R.ev_tcp = event_new(base, R.tcp_listen, EV_READ | EV_PERSIST, on_tcp, base);
	event_add(R.ev_udp, NULL);
	event_add(R.ev_tcp, NULL);
	return 0;
}

static void responder_down(void)
{
	event_free(R.ev_udp);
	event_free(R.ev_tcp);
	close(R.udp);
	close(R.tcp_listen);
	memset(&R, 0, sizeof(R));
}

/* A closed port on loopback: ICMP port unreachable, seen as ECONNREFUSED. */
static uint16_t closed_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = 0 };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	close(s);
	return ntohs(sa.sin_port);
}

static const char *const names[] = { "ok.test.",   "wrongid.test.",  "wrongq.test.",
				     "tc.test.",   "servfail.test.", "garbage.test.",
				     "loop.test.", "silent.test." };
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static void test_engine_lying_resolver(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_non_null(base);
	assert_int_equal(responder_up(base), 0);
	const struct cs_probe_limits limits = { .timeout_ms = TIMEOUT_MS,
						.retries = RETRIES,
						.concurrency = 4,
						.qps_per_resolver = 0,
						.qps_total = 0 };
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	struct cs_observation obs[N_NAMES + 1];
	const struct cs_clock *clock = cs_clock_system();
	assert_int_equal(cs_engine_new(base, &limits, clock, 2, &eng, &err), CS_OK);
	for (size_t i = 0; i < N_NAMES; i++) {
		struct cs_probe_spec spec = { .resolver_index = 0,
					      .address = "127.0.0.1",
					      .port = R.port,
					      .qname = names[i],
					      .qtype = 1,
					      .cd_followup = true };
		assert_int_equal(cs_engine_add(eng, &spec, &obs[i], &err), CS_OK);
	}
	struct cs_probe_spec dead = { .resolver_index = 1,
				      .address = "127.0.0.1",
				      .port = closed_port(),
				      .qname = "ok.test.",
				      .qtype = 1 };
	assert_int_equal(cs_engine_add(eng, &dead, &obs[N_NAMES], &err), CS_OK);

	uint64_t t0 = clock->mono_ms(clock);
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	uint64_t elapsed = clock->mono_ms(clock) - t0;

	const struct cs_reply_facts *ok = &obs[0].main;
	assert_int_equal(ok->outcome, CS_OUTCOME_ANSWER);
	assert_true(ok->has_data);
	assert_string_equal(ok->answers[0], "192.0.2.9");
	assert_false(obs[0].cd_probed);

	const struct cs_reply_facts *wid = &obs[1].main;
	assert_int_equal(wid->outcome, CS_OUTCOME_ANSWER);
	assert_non_null(strstr(wid->detail, "wrong ID"));

	const struct cs_reply_facts *wq = &obs[2].main;
	assert_int_equal(wq->outcome, CS_OUTCOME_MALFORMED);
	assert_non_null(strstr(wq->detail, "wrong question"));
	assert_int_equal(wq->attempts, RETRIES + 1);

	const struct cs_reply_facts *tc = &obs[3].main;
	assert_int_equal(tc->outcome, CS_OUTCOME_ANSWER);
	assert_true(tc->via_tcp);
	assert_true(tc->has_data);

	assert_int_equal(obs[4].main.rcode, 2);
	assert_true(obs[4].cd_probed);
	assert_int_equal(obs[4].cd.outcome, CS_OUTCOME_ANSWER);
	assert_int_equal(obs[4].cd.rcode, 0);
	assert_true(obs[4].cd.has_data);

	assert_int_equal(obs[5].main.outcome, CS_OUTCOME_MALFORMED);
	assert_int_equal(obs[6].main.outcome, CS_OUTCOME_MALFORMED);

	const struct cs_reply_facts *silent = &obs[7].main;
	assert_int_equal(silent->outcome, CS_OUTCOME_TIMEOUT);
	assert_int_equal(silent->attempts, RETRIES + 1);
	/* the bound: timeout × (retries + 1), never more (generous slack for a loaded CI) */
	assert_true(silent->rtt_ms >= TIMEOUT_MS * (RETRIES + 1) - 5);
	assert_true(silent->rtt_ms <= TIMEOUT_MS * (RETRIES + 1) + 400);

	/* the dead resolver ends at once and never holds up the others */
	assert_int_equal(obs[N_NAMES].main.outcome, CS_OUTCOME_UNREACHABLE);
	assert_true(obs[N_NAMES].main.rtt_ms < TIMEOUT_MS);
	(void)elapsed;

	cs_engine_free(eng);
	responder_down();
	event_base_free(base);
}

/* CLASS CH through the engine (fingerprints): the class goes on the wire and is matched on
 * the way back; the same name in class IN is another question. */
static void test_engine_chaos_class(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_non_null(base);
	assert_int_equal(responder_up(base), 0);
	const struct cs_probe_limits limits = { .timeout_ms = TIMEOUT_MS,
						.retries = RETRIES,
						.concurrency = 4 };
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	struct cs_observation obs[2];
	assert_int_equal(cs_engine_new(base, &limits, cs_clock_system(), 1, &eng, &err), CS_OK);
	const struct cs_probe_spec ch = { .address = "127.0.0.1",
					  .port = R.port,
					  .qname = "version.bind.",
					  .qtype = 16,
					  .qclass = 3 };
	const struct cs_probe_spec in = {
		.address = "127.0.0.1", .port = R.port, .qname = "version.bind.", .qtype = 16
	};
	assert_int_equal(cs_engine_add(eng, &ch, &obs[0], &err), CS_OK);
	assert_int_equal(cs_engine_add(eng, &in, &obs[1], &err), CS_OK);
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	assert_int_equal(obs[0].main.outcome, CS_OUTCOME_ANSWER);
	assert_int_equal(obs[0].main.rcode, 0);
	assert_true(obs[0].main.has_data);
	assert_string_equal(obs[0].main.answers[0], "\"unbound 1.17.1\"");
	assert_int_equal(obs[1].main.outcome, CS_OUTCOME_ANSWER);
	assert_int_equal(obs[1].main.rcode, 5);
	cs_engine_free(eng);
	responder_down();
	event_base_free(base);
}

/* Probe n times for qname at the responder, as one resolver, with limits; run to the end. */
static void probe_responder(const struct cs_probe_limits *limits, const char *qname,
			    struct cs_observation *obs, size_t n)
{
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_engine_new(R.base, limits, cs_clock_system(), 1, &eng, &err), CS_OK);
	for (size_t i = 0; i < n; i++) {
		struct cs_probe_spec spec = { .resolver_index = 0,
					      .address = "127.0.0.1",
					      .port = R.port,
					      .qname = qname,
					      .qtype = 1 };
		assert_int_equal(cs_engine_add(eng, &spec, &obs[i], &err), CS_OK);
	}
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	cs_engine_free(eng);
}

static void test_engine_concurrency_one_still_finishes(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_int_equal(responder_up(base), 0);
	const struct cs_probe_limits limits = { .timeout_ms = TIMEOUT_MS,
						.retries = 0,
						.concurrency = 1,
						.qps_per_resolver = 50,
						.qps_total = 0 };
	struct cs_observation obs[5];
	probe_responder(&limits, "ok.test.", obs, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(obs[i].main.outcome, CS_OUTCOME_ANSWER);
	}
	assert_int_equal(R.queries_seen, 5);
	responder_down();
	event_base_free(base);
}

static void test_engine_rejects_bad_target(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	const struct cs_probe_limits limits = { .timeout_ms = 100, .concurrency = 1 };
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	struct cs_observation obs;
	assert_int_equal(cs_engine_new(base, &limits, cs_clock_system(), 1, &eng, &err), CS_OK);
	struct cs_probe_spec spec = { .resolver_index = 0,
				      .address = "not-an-address",
				      .port = 53,
				      .qname = "ok.test.",
				      .qtype = 1 };
	assert_int_equal(cs_engine_add(eng, &spec, &obs, &err), CS_EINVAL);
	spec.address = "127.0.0.1";
	spec.resolver_index = 5;
	assert_int_equal(cs_engine_add(eng, &spec, &obs, &err), CS_EINVAL);
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	cs_engine_free(eng);
	event_base_free(base);
}

static void count_done(void *arg, size_t resolver_index)
{
	unsigned *done = arg;
	done[resolver_index]++;
}

/* A run deadline ends probes that would otherwise wait timeout × (retries + 1) = 15 s:
 * in-flight ones and ones still queued behind them become timeouts, answered ones stay. */
static void test_engine_deadline_ends_open_probes_as_timeouts(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_int_equal(responder_up(base), 0);
	const struct cs_probe_limits limits = { .timeout_ms = 5000,
						.retries = 2,
						.concurrency = 1,
						.qps_per_resolver = 0,
						.qps_total = 0 };
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	struct cs_observation obs[5];
	unsigned done[2] = { 0, 0 };
	const struct cs_clock *clock = cs_clock_system();
	static const char *const qnames[] = { "ok.test.", "silent.test.", "silent.test.",
					      "silent.test.", "ok.test." };
	assert_int_equal(cs_engine_new(base, &limits, clock, 2, &eng, &err), CS_OK);
	cs_engine_on_resolver_done(eng, count_done, done);
	for (size_t i = 0; i < 5; i++) {
		struct cs_probe_spec spec = { .resolver_index = i < 3 ? 0 : 1,
					      .address = "127.0.0.1",
					      .port = R.port,
					      .qname = qnames[i],
					      .qtype = 1 };
		assert_int_equal(cs_engine_add(eng, &spec, &obs[i], &err), CS_OK);
	}
	uint64_t t0 = clock->mono_ms(clock);
	cs_engine_set_deadline(eng, t0 + 300);
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	uint64_t elapsed = clock->mono_ms(clock) - t0;
	assert_true(elapsed >= 290);
	assert_true(elapsed < 2000);

	assert_int_equal(obs[0].main.outcome, CS_OUTCOME_ANSWER);
	for (size_t i = 1; i < 4; i++) {
		assert_int_equal(obs[i].main.outcome, CS_OUTCOME_TIMEOUT);
		assert_non_null(strstr(obs[i].main.detail, "deadline"));
	}
	/* a window of one resolver, held by the first (its silent queries are not overdue
	 * before the deadline): the second resolver's probes never left the queue */
	bool unsent = false;
	for (size_t i = 1; i < 5; i++) {
		unsent = unsent || strstr(obs[i].main.detail, "not sent") != NULL;
	}
	assert_true(unsent);
	assert_int_equal(done[0], 1);
	assert_int_equal(done[1], 1);
	cs_engine_free(eng);
	responder_down();
	event_base_free(base);
}

static void test_engine_deadline_past_sends_nothing(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_int_equal(responder_up(base), 0);
	const struct cs_probe_limits limits = { .timeout_ms = 100, .concurrency = 4 };
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	struct cs_observation obs[2];
	unsigned done[1] = { 0 };
	const struct cs_clock *clock = cs_clock_system();
	assert_int_equal(cs_engine_new(base, &limits, clock, 1, &eng, &err), CS_OK);
	cs_engine_on_resolver_done(eng, count_done, done);
	for (size_t i = 0; i < 2; i++) {
		struct cs_probe_spec spec = { .resolver_index = 0,
					      .address = "127.0.0.1",
					      .port = R.port,
					      .qname = "ok.test.",
					      .qtype = 1 };
		assert_int_equal(cs_engine_add(eng, &spec, &obs[i], &err), CS_OK);
	}
	cs_engine_set_deadline(eng, clock->mono_ms(clock));
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(obs[i].main.outcome, CS_OUTCOME_TIMEOUT);
		assert_int_equal(obs[i].main.attempts, 0);
		assert_non_null(strstr(obs[i].main.detail, "not sent"));
	}
	assert_int_equal(done[0], 1);
	assert_int_equal(R.queries_seen, 0);
	cs_engine_free(eng);
	responder_down();
	event_base_free(base);
}

/* A resolver that never answers is clearly dead once a query and its retries (at least two
 * attempts) have timed out: its queries not yet sent end unsent, and it is asked no further
 * (no waiting out a back-off for each of them). */
static void test_engine_gives_up_a_dead_resolver(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_int_equal(responder_up(base), 0);
	/* five queries a second: the first five go at once, the rest one every 200 ms */
	const struct cs_probe_limits limits = { .timeout_ms = 100,
						.retries = 0,
						.concurrency = 4,
						.qps_per_resolver = 5,
						.qps_total = 0 };
	enum {
		N = 20
	};
	struct cs_observation obs[N];
	probe_responder(&limits, "silent.test.", obs, N);
	size_t unsent = 0;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(obs[i].main.outcome, CS_OUTCOME_TIMEOUT);
		if (strstr(obs[i].main.detail, "not sent: no reply to") != NULL) {
			assert_int_equal(obs[i].main.attempts, 0);
			unsent++;
		}
	}
	assert_true(unsent > 0);
	assert_int_equal(R.queries_seen, N - unsent);
	responder_down();
	event_base_free(base);
}

/* REFUSED slows a resolver down beyond its token bucket (pace.h): two queries go at once
 * (a bucket of 2 a second), both are refused, and the third waits out the back-off (two
 * steps: 2 s), not the bucket's half second. */
static void test_engine_backs_off_on_refused(void **state)
{
	(void)state;
	test_alloc_install();
	struct event_base *base = event_base_new();
	assert_int_equal(responder_up(base), 0);
	R.n_refused = 0;
	const struct cs_probe_limits limits = { .timeout_ms = 100,
						.retries = 0,
						.concurrency = 4,
						.qps_per_resolver = 2,
						.qps_total = 0 };
	struct cs_observation obs[3];
	probe_responder(&limits, "refused.test.", obs, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(obs[i].main.outcome, CS_OUTCOME_ANSWER);
		assert_int_equal(obs[i].main.rcode, CS_RCODE_REFUSED);
	}
	assert_int_equal(R.n_refused, 3);
	assert_true(R.refused_at_ms[1] - R.refused_at_ms[0] < 400);
	assert_true(R.refused_at_ms[2] - R.refused_at_ms[1] >= 1500);
	responder_down();
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_lying_resolver),
		cmocka_unit_test(test_engine_concurrency_one_still_finishes),
		cmocka_unit_test(test_engine_chaos_class),
		cmocka_unit_test(test_engine_rejects_bad_target),
		cmocka_unit_test(test_engine_deadline_ends_open_probes_as_timeouts),
		cmocka_unit_test(test_engine_deadline_past_sends_nothing),
		cmocka_unit_test(test_engine_gives_up_a_dead_resolver),
		cmocka_unit_test(test_engine_backs_off_on_refused),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
