/* SPDX-License-Identifier: BSD-3-Clause */
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
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
