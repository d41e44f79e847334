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

/* Shared UDP sockets: one socket carries the queries to many resolvers (unconnected, bound
 * to a random ephemeral port by the kernel), replies are matched by source and ID. */

/** A UDP socket for family (AF_INET, AF_INET6) with receive and send buffers of about
 *  buf_bytes (SO_RCVBUFFORCE when allowed, else as much as rmem_max gives), ICMP errors
 *  queued (IP_RECVERR) and arrival timestamps (SO_TIMESTAMPNS). *rcvbuf_got is what the
 *  kernel granted. */
enum cs_tp_rc cs_tp_udp_shared(int family, int buf_bytes, int *fd, int *rcvbuf_got, int *sys_errno);
enum cs_tp_rc cs_tp_sendto(int fd, const uint8_t *buf, size_t len, const struct cs_sockaddr *to,
			   int *sys_errno);

/** One datagram slot for cs_tp_recv_batch. */
struct cs_dgram {
	uint8_t *buf;
	size_t size;
	size_t got;     /**< the datagram's real size (may exceed size: truncated) */
	bool truncated; /**< larger than size: the tail was dropped */
	struct cs_sockaddr from;
	/** How long it waited in the socket before it was read (the kernel's arrival
	 *  timestamp, SO_TIMESTAMPNS), in ms; -1 when unknown. */
	int64_t queued_ms;
};

/** Receive up to n datagrams (recvmmsg). *got how many; CS_TP_AGAIN when none waits. */
enum cs_tp_rc cs_tp_recv_batch(int fd, struct cs_dgram *d, size_t n, size_t *got, int *sys_errno);

/** One queued ICMP error (MSG_ERRQUEUE): the query it answers (its first bytes, in buf),
 *  where that query went, and the error (ECONNREFUSED, EHOSTUNREACH, ...). CS_TP_AGAIN when
 *  the queue is empty. */
enum cs_tp_rc cs_tp_recv_icmp(int fd, uint8_t *buf, size_t size, size_t *got,
			      struct cs_sockaddr *to, int *icmp_errno, int *sys_errno);

/** Same address family, address and port. */
bool cs_tp_same(const struct cs_sockaddr *a, const struct cs_sockaddr *b);
/** A hash of address and port, for tables. */
uint32_t cs_tp_hash(const struct cs_sockaddr *a);

/** One datagram for cs_tp_send_batch. */
struct cs_dgram_out {
	const uint8_t *buf;
	size_t len;
	const struct cs_sockaddr *to;
};

/** Send up to n datagrams (sendmmsg). *sent how many went, in order; when fewer than n,
 *  the next one failed: CS_TP_AGAIN (buffer full) or CS_TP_FAIL (*sys_errno). */
enum cs_tp_rc cs_tp_send_batch(int fd, const struct cs_dgram_out *d, size_t n, size_t *sent,
			       int *sys_errno);
