/* SPDX-License-Identifier: BSD-3-Clause */
#include "liar.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#define FLOOD_COUNT      2000
#define TC_STORM_COUNT   50
#define SLOWLORIS_GAP_MS 20

struct liar;

struct server {
	struct liar *owner;
	size_t index;
	enum liar_mode mode;
	int udp;
	int tcp;
	int other_udp; /* LIAR_WRONG_PORT replies from here */
	uint16_t port;
	struct event *ev_udp;
	struct event *ev_tcp;
	atomic_uint queries;
};

struct conn {
	struct server *s;
	int fd;
	struct event *ev;
	struct event *ev_drip;
	uint8_t buf[1024];
	size_t have;
	unsigned dripped;
	struct conn *next;
};

struct liar {
	struct event_base *base;
	pthread_t thread;
	bool running;
	int stop_pipe[2];
	struct event *ev_stop;
	size_t n;
	struct server *servers;
	struct conn *conns;
};

const char *liar_mode_name(enum liar_mode m)
{
	static const char *const names[LIAR_MODE_COUNT] = {
		"honest-ok", "honest-nxdomain", "honest-dnssec", "honest-tcp",
		"wrong-id",  "wrong-question",  "wrong-port",    "truncated",
		"tc-storm",  "huge-ttl",        "other-name",    "compression-loop",
		"slowloris", "flood",           "silent",        "authority",
	};
	return (unsigned)m < LIAR_MODE_COUNT ? names[m] : "?";
}

int liar_mode_parse(const char *s, enum liar_mode *out)
{
	for (unsigned m = 0; m < LIAR_MODE_COUNT; m++) {
		if (strcmp(liar_mode_name((enum liar_mode)m), s) == 0) {
			*out = (enum liar_mode)m;
			return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------------------------------
 * Replies, byte by byte
 */

struct out {
	uint8_t *b;
	size_t n;
	size_t cap;
};

static void put(struct out *o, const void *data, size_t len)
{
	if (o->n + len <= o->cap) {
		memcpy(o->b + o->n, data, len);
	}
	o->n += len;
}

static void put8(struct out *o, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(o, &b, 1);
}

static void put16(struct out *o, unsigned v)
{
	put8(o, v >> 8);
	put8(o, v & 0xff);
}

static void put32(struct out *o, uint32_t v)
{
	put16(o, v >> 16);
	put16(o, v & 0xffff);
}

static void put_name(struct out *o, const char *dotted)
{
	const char *p = dotted;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		put8(o, (unsigned)len);
		put(o, p, len);
		p += len + (dot ? 1 : 0);
	}
	put8(o, 0);
}

static void set16(struct out *o, size_t at, unsigned v)
{
	if (at + 2 <= o->cap) {
		o->b[at] = (uint8_t)(v >> 8);
		o->b[at + 1] = (uint8_t)(v & 0xff);
	}
}

/* The question's end (after type and class), or 0 if the query is not one we can answer. */
static size_t question_end(const uint8_t *q, size_t len)
{
	size_t at = 12;
	while (at < len && q[at] != 0) {
		if ((q[at] & 0xc0) != 0) {
			return 0;
		}
		at += (size_t)q[at] + 1;
	}
	at += 5;
	return at <= len ? at : 0;
}

static void rr_a(struct out *o, uint32_t ttl)
{
	static const uint8_t ip[4] = { 192, 0, 2, 7 };
	put16(o, 0xc00c); /* the question's name */
	put16(o, 1);
	put16(o, 1);
	put32(o, ttl);
	put16(o, 4);
	put(o, ip, 4);
}

static void rr_soa_rest(struct out *o, uint32_t ttl, uint32_t serial, uint32_t minimum)
{
	put16(o, 6);
	put16(o, 1);
	put32(o, ttl);
	size_t len_at = o->n;
	put16(o, 0);
	size_t start = o->n;
	put_name(o, "a.ns.se");
	put_name(o, "hostmaster.se");
	put32(o, serial);
	put32(o, 7200);
	put32(o, 3600);
	put32(o, 864000);
	put32(o, minimum);
	set16(o, len_at, (unsigned)(o->n - start));
}

static void rr_soa(struct out *o, uint32_t ttl, uint32_t serial, uint32_t minimum)
{
	put_name(o, "se");
	rr_soa_rest(o, ttl, serial, minimum);
}

/* The SOA of se. as the answer (owner: the question's name, which for an SOA query to an
 * honest server is the zone itself). */
static void rr_soa_answer(struct out *o)
{
	put16(o, 0xc00c);
	rr_soa_rest(o, 3600, 2026112801u, 3600);
}

/* Header and question copied from the query; QR and RA set, RD and CD kept. */
static size_t begin(struct out *o, const uint8_t *q, size_t qend, unsigned rcode, bool tc,
		    unsigned an, unsigned ns)
{
	o->n = 0;
	put(o, q, qend);
	if (o->n > o->cap) {
		return 0;
	}
	o->b[2] = (uint8_t)(0x80 | (q[2] & 0x01) | (tc ? 0x02 : 0));
	o->b[3] = (uint8_t)(0x80 | (q[3] & 0x10) | (rcode & 0x0f));
	set16(o, 4, 1);
	set16(o, 6, an);
	set16(o, 8, ns);
	set16(o, 10, 0);
	return o->n;
}

/* The reply of an honest server in `mode`, over UDP (tcp false) or TCP. */
static size_t honest(enum liar_mode mode, const uint8_t *q, size_t qend, bool tcp, struct out *o)
{
	bool cd = (q[3] & 0x10) != 0;
	bool soa = q[qend - 4] == 0 && q[qend - 3] == 6;
	switch (mode) {
	case LIAR_HONEST_NXDOMAIN:
	case LIAR_HUGE_TTL: {
		bool huge = mode == LIAR_HUGE_TTL;
		begin(o, q, qend, 3, false, 0, 1);
		rr_soa(o, huge ? 0xffffffffu : 3412u, 2009101201u, huge ? 0xffffffffu : 3600u);
		return o->n;
	}
	case LIAR_HONEST_DNSSEC:
		if (!cd) {
			return begin(o, q, qend, 2, false, 0, 0);
		}
		break;
	case LIAR_HONEST_TCP:
	case LIAR_TC_STORM:
	case LIAR_SLOWLORIS:
		if (!tcp) {
			return begin(o, q, qend, 0, true, 0, 0);
		}
		break;
	case LIAR_AUTHORITY:
		begin(o, q, qend, 0, false, 1, 0);
		o->b[2] = (uint8_t)(o->b[2] | 0x04); /* AA */
		if (soa) {
			rr_soa_answer(o);
		} else {
			rr_a(o, 300);
		}
		return o->n;
	default:
		break;
	}
	begin(o, q, qend, 0, false, 1, 0);
	if (soa) {
		rr_soa_answer(o);
	} else {
		rr_a(o, 300);
	}
	return o->n;
}

/* ------------------------------------------------------------------------------------------
 * UDP
 */

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct server *s = arg;
	uint8_t q[1500];
	uint8_t buf[2048];
	struct out o = { buf, 0, sizeof(buf) };
	struct sockaddr_storage from;
	socklen_t flen = sizeof(from);
	ssize_t got = recvfrom((int)fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
	if (got < 12) {
		return;
	}
	size_t qend = question_end(q, (size_t)got);
	if (qend == 0) {
		return;
	}
	atomic_fetch_add(&s->queries, 1u);
	const struct sockaddr *to = (const struct sockaddr *)&from;
	size_t n = 0;
	switch (s->mode) {
	case LIAR_SILENT:
		return;
	case LIAR_WRONG_ID:
		n = honest(s->mode, q, qend, false, &o);
		for (unsigned i = 1; i <= 3; i++) {
			buf[1] = (uint8_t)(q[1] + i);
			(void)sendto((int)fd, buf, n, 0, to, flen);
		}
		return;
	case LIAR_WRONG_QUESTION:
		n = honest(s->mode, q, qend, false, &o);
		buf[13] = 'x'; /* another name: its first letter changed */
		break;
	case LIAR_WRONG_PORT:
		n = honest(s->mode, q, qend, false, &o);
		(void)sendto(s->other_udp, buf, n, 0, to, flen);
		return;
	case LIAR_TRUNCATED:
		n = honest(s->mode, q, qend, false, &o);
		n -= 7; /* inside the A record's fixed fields */
		break;
	case LIAR_TC_STORM:
		n = honest(s->mode, q, qend, false, &o);
		for (int i = 0; i < TC_STORM_COUNT; i++) {
			(void)sendto((int)fd, buf, n, 0, to, flen);
		}
		return;
	case LIAR_OTHER_NAME:
		begin(&o, q, qend, 0, false, 2, 0);
		put_name(&o, "evil.example");
		put16(&o, 1);
		put16(&o, 1);
		put32(&o, 86400);
		put16(&o, 4);
		put32(&o, 0xc6336401u);
		put_name(&o, "shop9.se");
		put16(&o, 1);
		put16(&o, 1);
		put32(&o, 86400);
		put16(&o, 4);
		put32(&o, 0xc6336402u);
		n = o.n;
		break;
	case LIAR_COMPRESSION_LOOP: {
		n = honest(s->mode, q, qend, false, &o);
		size_t at = qend; /* the answer's owner name: a pointer to itself */
		buf[at] = (uint8_t)(0xc0 | (at >> 8));
		buf[at + 1] = (uint8_t)(at & 0xff);
		break;
	}
	case LIAR_FLOOD:
		n = honest(s->mode, q, qend, false, &o);
		for (int i = 0; i < FLOOD_COUNT; i++) {
			uint8_t junk[sizeof(buf)];
			memcpy(junk, buf, n);
			junk[0] = (uint8_t)(q[0] ^ (i & 1 ? 0x5a : 0)); /* wrong ID ... */
			junk[1] = (uint8_t)(q[1] ^ 0xa5);
			if (i % 3 == 0) { /* ... or the right ID with another question */
				junk[0] = q[0];
				junk[1] = q[1];
				junk[qend - 3] = 28;
			}
			(void)sendto((int)fd, junk, n, 0, to, flen);
		}
		break;
	default:
		n = honest(s->mode, q, qend, false, &o);
		break;
	}
	if (n > 0 && n <= sizeof(buf)) {
		(void)sendto((int)fd, buf, n, 0, to, flen);
	}
}

/* ------------------------------------------------------------------------------------------
 * TCP
 */

static void conn_free(struct conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
	}
	if (c->ev_drip != NULL) {
		event_free(c->ev_drip);
	}
	close(c->fd);
	free(c);
}

static void conn_close(struct conn *c)
{
	struct liar *l = c->s->owner;
	for (struct conn **pp = &l->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	conn_free(c);
}

static void on_drip(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	/* RFC 1035 §4.2.2 length prefix 0xffff, then one byte at a time, forever */
	uint8_t b = c->dripped < 2 ? 0xff : (uint8_t)c->dripped;
	if (send(c->fd, &b, 1, MSG_NOSIGNAL) != 1) {
		conn_close(c);
		return;
	}
	c->dripped++;
	struct timeval tv = { 0, SLOWLORIS_GAP_MS * 1000 };
	event_add(c->ev_drip, &tv);
}

static void on_conn(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct conn *c = arg;
	ssize_t got = recv((int)fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
	if (got <= 0) {
		conn_close(c);
		return;
	}
	c->have += (size_t)got;
	if (c->have < 2) {
		return;
	}
	size_t mlen = (size_t)c->buf[0] << 8 | c->buf[1];
	if (c->have < 2 + mlen) {
		if (c->have == sizeof(c->buf)) {
			conn_close(c);
		}
		return;
	}
	const uint8_t *q = c->buf + 2;
	size_t qend = mlen >= 12 ? question_end(q, mlen) : 0;
	if (qend == 0) {
		conn_close(c);
		return;
	}
	atomic_fetch_add(&c->s->queries, 1u);
	if (c->s->mode == LIAR_SLOWLORIS) {
		event_del(c->ev);
		on_drip(-1, 0, c);
		return;
	}
	uint8_t buf[2048];
	struct out o = { buf + 2, 0, sizeof(buf) - 2 };
	size_t n = honest(c->s->mode, q, qend, true, &o);
	if (n > 0 && n <= o.cap) {
		buf[0] = (uint8_t)(n >> 8);
		buf[1] = (uint8_t)(n & 0xff);
		(void)send(c->fd, buf, n + 2, MSG_NOSIGNAL);
	}
	conn_close(c);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct server *s = arg;
	int cfd = accept((int)fd, NULL, NULL);
	if (cfd < 0) {
		return;
	}
	(void)fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
	if (s->mode == LIAR_TC_STORM || s->mode == LIAR_SILENT) {
		close(cfd); /* TC storm: a connection closed at once */
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(cfd);
		return;
	}
	c->s = s;
	c->fd = cfd;
	c->ev = event_new(s->owner->base, cfd, EV_READ | EV_PERSIST, on_conn, c);
	c->ev_drip = evtimer_new(s->owner->base, on_drip, c);
	if (c->ev == NULL || c->ev_drip == NULL) {
		conn_close(c);
		return;
	}
	c->next = s->owner->conns;
	s->owner->conns = c;
	event_add(c->ev, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Life cycle
 */

static int bind_loopback(int fd, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		return 0;
	}
	return ntohs(sa.sin_port);
}

/* UDP and TCP on one ephemeral port; a few tries in case TCP's half is taken. */
static int server_open(struct server *s)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->udp < 0 || bind_loopback(s->udp, 0) != 0) {
			return -1;
		}
		s->port = bound_port(s->udp);
		s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->tcp >= 0 && bind_loopback(s->tcp, s->port) == 0 && listen(s->tcp, 64) == 0) {
			break;
		}
		close(s->udp);
		if (s->tcp >= 0) {
			close(s->tcp);
		}
		s->udp = s->tcp = -1;
	}
	if (s->udp < 0) {
		return -1;
	}
	s->other_udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->other_udp < 0 || bind_loopback(s->other_udp, 0) != 0) {
		return -1;
	}
	s->ev_udp = event_new(s->owner->base, s->udp, EV_READ | EV_PERSIST, on_udp, s);
	s->ev_tcp = event_new(s->owner->base, s->tcp, EV_READ | EV_PERSIST, on_accept, s);
	if (s->ev_udp == NULL || s->ev_tcp == NULL) {
		return -1;
	}
	event_add(s->ev_udp, NULL);
	event_add(s->ev_tcp, NULL);
	return 0;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct liar *l = arg;
	event_base_loopbreak(l->base);
}

static void *run(void *arg)
{
	struct liar *l = arg;
	(void)event_base_dispatch(l->base);
	return NULL;
}

void liar_stop(struct liar *l)
{
	if (l == NULL) {
		return;
	}
	if (l->running) {
		ssize_t w = write(l->stop_pipe[1], "x", 1);
		(void)w;
		(void)pthread_join(l->thread, NULL);
	}
	while (l->conns != NULL) {
		struct conn *c = l->conns;
		l->conns = c->next;
		conn_free(c);
	}
	for (size_t i = 0; i < l->n; i++) {
		struct server *s = &l->servers[i];
		if (s->ev_udp != NULL) {
			event_free(s->ev_udp);
		}
		if (s->ev_tcp != NULL) {
			event_free(s->ev_tcp);
		}
		int fds[3] = { s->udp, s->tcp, s->other_udp };
		for (int k = 0; k < 3; k++) {
			if (fds[k] >= 0) {
				close(fds[k]);
			}
		}
	}
	if (l->ev_stop != NULL) {
		event_free(l->ev_stop);
	}
	for (int k = 0; k < 2; k++) {
		if (l->stop_pipe[k] >= 0) {
			close(l->stop_pipe[k]);
		}
	}
	if (l->base != NULL) {
		event_base_free(l->base);
	}
	free(l->servers);
	free(l);
}

struct liar *liar_start(const enum liar_mode *modes, size_t n)
{
	struct liar *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return NULL;
	}
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->servers = calloc(n, sizeof(*l->servers));
	l->base = event_base_new();
	if (l->servers == NULL || l->base == NULL || pipe(l->stop_pipe) != 0) {
		liar_stop(l);
		return NULL;
	}
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		struct server *s = &l->servers[i];
		s->owner = l;
		s->index = i;
		s->mode = modes[i];
		s->udp = s->tcp = s->other_udp = -1;
		atomic_init(&s->queries, 0u);
		if (server_open(s) != 0) {
			liar_stop(l);
			return NULL;
		}
	}
	l->ev_stop = event_new(l->base, l->stop_pipe[0], EV_READ, on_stop, l);
	if (l->ev_stop == NULL || event_add(l->ev_stop, NULL) != 0 ||
	    pthread_create(&l->thread, NULL, run, l) != 0) {
		liar_stop(l);
		return NULL;
	}
	l->running = true;
	return l;
}

uint16_t liar_port(const struct liar *l, size_t i)
{
	return l->servers[i].port;
}

unsigned liar_queries(const struct liar *l, size_t i)
{
	return atomic_load(&l->servers[i].queries);
}
