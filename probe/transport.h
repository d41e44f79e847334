/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sockets for probes (private to probe/). The only place that calls socket(), connect(),
 * send() and recv*(). All sockets are non-blocking and close-on-exec.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct cs_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/** Numeric address and port → sockaddr. 0 on success. */
int cs_tp_addr(const char *address, uint16_t port, struct cs_sockaddr *out);

/** Result of a socket call: done, would block, or failed (errno in *sys_errno). */
enum cs_tp_rc {
	CS_TP_OK = 0,
	CS_TP_AGAIN,
	CS_TP_FAIL,
};

/** A UDP socket connected to the resolver (the kernel then drops other sources; we check
 *  again on receipt). A fresh socket per attempt gives a fresh random source port. */
enum cs_tp_rc cs_tp_udp_open(const struct cs_sockaddr *to, int *fd, int *sys_errno);
enum cs_tp_rc cs_tp_send(int fd, const uint8_t *buf, size_t len, size_t *sent, int *sys_errno);
/** Receive one datagram; *from_ok says whether it came from `expect` (address and port). */
enum cs_tp_rc cs_tp_udp_recv(int fd, const struct cs_sockaddr *expect, uint8_t *buf, size_t size,
			     size_t *got, bool *from_ok, int *sys_errno);

/** A non-blocking TCP connect; CS_TP_AGAIN while in progress. */
enum cs_tp_rc cs_tp_tcp_open(const struct cs_sockaddr *to, int *fd, int *sys_errno);
/** After the socket turns writable: did the connect succeed? */
enum cs_tp_rc cs_tp_tcp_connected(int fd, int *sys_errno);
/** Read what is there; *got 0 with CS_TP_OK means the peer closed. */
enum cs_tp_rc cs_tp_read(int fd, uint8_t *buf, size_t size, size_t *got, int *sys_errno);

void cs_tp_close(int fd);
