/* SPDX-License-Identifier: BSD-3-Clause */
/* recvmmsg, sendmmsg, SO_RCVBUFFORCE: glibc declares them only for _GNU_SOURCE */
#define _GNU_SOURCE // NOLINT(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int cs_tp_addr(const char *address, uint16_t port, struct cs_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		out->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		out->len = sizeof(*v6);
		return 0;
	}
	return -1;
}

/* EAGAIN and EWOULDBLOCK are the same value on Linux, not everywhere. */
static bool is_transient(int e)
{
	return e == EAGAIN || e == EINTR || e == EWOULDBLOCK;
}

static bool same_addr(const struct sockaddr_storage *a, const struct cs_sockaddr *b)
{
	if (a->ss_family != b->ss.ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;
		return x->sin_port == y->sin_port &&
		       memcmp(&x->sin_addr, &y->sin_addr, sizeof(x->sin_addr)) == 0;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

static enum cs_tp_rc open_socket(const struct cs_sockaddr *to, int type, int *fd, int *sys_errno)
{
	*fd = socket(to->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		*sys_errno = errno;
		return CS_TP_FAIL;
	}
	if (connect(*fd, (const struct sockaddr *)&to->ss, to->len) != 0) {
		int e = errno;
		if (e == EINPROGRESS) {
			return CS_TP_AGAIN;
		}
		close(*fd);
		*fd = -1;
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_udp_open(const struct cs_sockaddr *to, int *fd, int *sys_errno)
{
	return open_socket(to, SOCK_DGRAM, fd, sys_errno);
}

enum cs_tp_rc cs_tp_tcp_open(const struct cs_sockaddr *to, int *fd, int *sys_errno)
{
	return open_socket(to, SOCK_STREAM, fd, sys_errno);
}

enum cs_tp_rc cs_tp_tcp_connected(int fd, int *sys_errno)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0) {
		*sys_errno = errno;
		return CS_TP_FAIL;
	}
	if (soerr == EINPROGRESS) {
		return CS_TP_AGAIN;
	}
	if (soerr != 0) {
		*sys_errno = soerr;
		return CS_TP_FAIL;
	}
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_send(int fd, const uint8_t *buf, size_t len, size_t *sent, int *sys_errno)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
	if (n < 0) {
		int e = errno;
		if (is_transient(e)) {
			*sent = 0;
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	*sent = (size_t)n;
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_udp_recv(int fd, const struct cs_sockaddr *expect, uint8_t *buf, size_t size,
			     size_t *got, bool *from_ok, int *sys_errno)
{
	struct sockaddr_storage from;
	socklen_t from_len = sizeof(from);
	memset(&from, 0, sizeof(from));
	ssize_t n = recvfrom(fd, buf, size, MSG_TRUNC, (struct sockaddr *)&from, &from_len);
	if (n < 0) {
		int e = errno;
		if (is_transient(e)) {
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	/* MSG_TRUNC: n is the datagram's real size, which may exceed the buffer. */
	*got = (size_t)n;
	*from_ok = same_addr(&from, expect);
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_read(int fd, uint8_t *buf, size_t size, size_t *got, int *sys_errno)
{
	ssize_t n = recv(fd, buf, size, 0);
	if (n < 0) {
		int e = errno;
		if (is_transient(e)) {
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	*got = (size_t)n;
	return CS_TP_OK;
}

void cs_tp_close(int fd)
{
	if (fd >= 0) {
		close(fd);
	}
}

bool cs_tp_same(const struct cs_sockaddr *a, const struct cs_sockaddr *b)
{
	return same_addr(&a->ss, b);
}

uint32_t cs_tp_hash(const struct cs_sockaddr *a)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	uint16_t port = 0;
	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
		p = (const uint8_t *)&v4->sin_addr;
		n = sizeof(v4->sin_addr);
		port = v4->sin_port;
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
		p = (const uint8_t *)&v6->sin6_addr;
		n = sizeof(v6->sin6_addr);
		port = v6->sin6_port;
	}
	/* FNV-1a: the table is ours and its keys are the configured resolvers */
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ p[i]) * 16777619u;
	}
	h = (h ^ (uint32_t)(port & 0xff)) * 16777619u;
	h = (h ^ (uint32_t)(port >> 8)) * 16777619u;
	return h;
}

enum cs_tp_rc cs_tp_udp_shared(int family, int buf_bytes, int *fd, int *rcvbuf_got, int *sys_errno)
{
	*fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0) {
		*sys_errno = errno;
		return CS_TP_FAIL;
	}
	/* FORCE needs CAP_NET_ADMIN; without it the kernel caps at net.core.rmem_max */
	if (setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf_bytes, sizeof(buf_bytes)) != 0) {
		(void)setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof(buf_bytes));
	}
	if (setsockopt(*fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf_bytes, sizeof(buf_bytes)) != 0) {
		(void)setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof(buf_bytes));
	}
	int on = 1;
	(void)setsockopt(*fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	if (family == AF_INET6) {
		(void)setsockopt(*fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof(on));
	} else {
		(void)setsockopt(*fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	}
	int got = 0;
	socklen_t len = sizeof(got);
	if (getsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0) {
		got = 0;
	}
	*rcvbuf_got = got;
	return CS_TP_OK;
}

#define CS_TP_BATCH_MAX 64

/* The arrival timestamp's cmsg, if any: how long ago, in ms, or -1. */
static int64_t queued_ms(struct msghdr *m, const struct timespec *now)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			int64_t ms = ((int64_t)now->tv_sec - (int64_t)ts.tv_sec) * 1000 +
				     ((int64_t)now->tv_nsec - (int64_t)ts.tv_nsec) / 1000000;
			return ms < 0 ? 0 : ms;
		}
	}
	return -1;
}

enum cs_tp_rc cs_tp_recv_batch(int fd, struct cs_dgram *d, size_t n, size_t *got, int *sys_errno)
{
	struct mmsghdr msgs[CS_TP_BATCH_MAX];
	struct iovec iov[CS_TP_BATCH_MAX];
	/* control space for one timestamp a datagram, aligned for cmsghdr */
	uint64_t ctl[CS_TP_BATCH_MAX][(CMSG_SPACE(sizeof(struct timespec)) + 7) / 8];
	if (n > CS_TP_BATCH_MAX) {
		n = CS_TP_BATCH_MAX;
	}
	memset(msgs, 0, n * sizeof(msgs[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = d[i].buf;
		iov[i].iov_len = d[i].size;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &d[i].from.ss;
		msgs[i].msg_hdr.msg_namelen = sizeof(d[i].from.ss);
		msgs[i].msg_hdr.msg_control = ctl[i];
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
	}
	*got = 0;
	int r = recvmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
	struct timespec now = { 0, 0 };
	(void)clock_gettime(CLOCK_REALTIME, &now); /* the clock the kernel stamps with */
	if (r < 0) {
		int e = errno;
		if (is_transient(e)) {
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	for (int i = 0; i < r; i++) {
		d[i].from.len = msgs[i].msg_hdr.msg_namelen;
		d[i].truncated = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
		d[i].got = msgs[i].msg_len;
		d[i].queued_ms = queued_ms(&msgs[i].msg_hdr, &now);
	}
	*got = (size_t)r;
	return r == 0 ? CS_TP_AGAIN : CS_TP_OK;
}

enum cs_tp_rc cs_tp_recv_icmp(int fd, uint8_t *buf, size_t size, size_t *got,
			      struct cs_sockaddr *to, int *icmp_errno, int *sys_errno)
{
	union {
		struct cmsghdr align;
		uint8_t bytes[512];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr m;
	memset(&m, 0, sizeof(m));
	memset(to, 0, sizeof(*to));
	m.msg_name = &to->ss;
	m.msg_namelen = sizeof(to->ss);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = control.bytes;
	m.msg_controllen = sizeof(control.bytes);
	ssize_t n = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
	if (n < 0) {
		int e = errno;
		if (is_transient(e)) {
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	to->len = m.msg_namelen;
	*got = (size_t)n;
	*icmp_errno = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
		if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
		     (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct sock_extended_err))) {
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			*icmp_errno = (int)ee.ee_errno;
		}
	}
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_send_batch(int fd, const struct cs_dgram_out *d, size_t n, size_t *sent,
			       int *sys_errno)
{
	struct mmsghdr msgs[CS_TP_BATCH_MAX];
	struct iovec iov[CS_TP_BATCH_MAX];
	if (n > CS_TP_BATCH_MAX) {
		n = CS_TP_BATCH_MAX;
	}
	memset(msgs, 0, n * sizeof(msgs[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = (void *)d[i].buf;
		iov[i].iov_len = d[i].len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = (void *)&d[i].to->ss;
		msgs[i].msg_hdr.msg_namelen = d[i].to->len;
	}
	*sent = 0;
	int r = sendmmsg(fd, msgs, (unsigned)n, MSG_NOSIGNAL);
	if (r < 0) {
		int e = errno;
		if (is_transient(e) || e == ENOBUFS) {
			return CS_TP_AGAIN;
		}
		*sys_errno = e;
		return CS_TP_FAIL;
	}
	*sent = (size_t)r;
	return CS_TP_OK;
}

enum cs_tp_rc cs_tp_sendto(int fd, const uint8_t *buf, size_t len, const struct cs_sockaddr *to,
			   int *sys_errno)
{
	const struct cs_dgram_out d = { .buf = buf, .len = len, .to = to };
	size_t sent = 0;
	return cs_tp_send_batch(fd, &d, 1, &sent, sys_errno);
}
