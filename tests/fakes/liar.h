/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A lying resolver for tests: resolvers on 127.0.0.1 ephemeral ports (UDP and TCP on the same
 * port), served by a thread of their own with its own event loop, so the engine under test
 * gets no help from sharing a loop with them. Each resolver has one behaviour; the honest
 * ones give the answers a test can predict a verdict for.
 *
 *	struct liar *l = liar_start(modes, n);       // NULL if the sockets cannot be had
 *	... probe 127.0.0.1 port liar_port(l, i) ...
 *	liar_stop(l);
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum liar_mode {
	/* honest */
	LIAR_HONEST_OK = 0,   /**< NOERROR, A 192.0.2.7 TTL 300 for any name (SOA: se.) */
	LIAR_HONEST_NXDOMAIN, /**< NXDOMAIN, SOA se. TTL 3412 serial 2009101201 in authority */
	LIAR_HONEST_DNSSEC,   /**< SERVFAIL with CD=0, the A record with CD=1 */
	LIAR_HONEST_TCP,      /**< TC=1 over UDP, the A record over TCP */
	/* liars */
	LIAR_WRONG_ID,         /**< replies only with another ID */
	LIAR_WRONG_QUESTION,   /**< replies for another name, with the right ID */
	LIAR_WRONG_PORT,       /**< the right reply, from another source port */
	LIAR_TRUNCATED,        /**< the right reply cut inside its answer, TC=0 */
	LIAR_TC_STORM,         /**< 50 TC=1 replies per query; TCP: connection closed at once */
	LIAR_HUGE_TTL,         /**< NXDOMAIN with SOA TTL and MINIMUM 0xffffffff */
	LIAR_OTHER_NAME,       /**< NOERROR with records for other names, none for the question */
	LIAR_COMPRESSION_LOOP, /**< an answer whose owner name points at itself */
	LIAR_SLOWLORIS,        /**< TC=1 over UDP; TCP: promises 65535 bytes, sends 1 per 20 ms */
	LIAR_FLOOD,            /**< 2000 wrong replies per query, then the right one */
	LIAR_SILENT,           /**< never answers */
	/* an authoritative server for se., for truth (RD=0 is fine) */
	LIAR_AUTHORITY, /**< AA=1; A 192.0.2.7 for any name; SOA se. serial 2026112801 */
	LIAR_MODE_COUNT,
};

struct liar;

/** Start n resolvers; modes[i] is resolver i's behaviour. NULL on failure. */
struct liar *liar_start(const enum liar_mode *modes, size_t n);
uint16_t liar_port(const struct liar *l, size_t i);
/** Queries resolver i has received (UDP datagrams and TCP messages). */
unsigned liar_queries(const struct liar *l, size_t i);
const char *liar_mode_name(enum liar_mode m);
/** The mode named s ("honest-ok", "slowloris", ...); 0 and *out set, or -1. */
int liar_mode_parse(const char *s, enum liar_mode *out);
/** Stop the thread, close every socket, free l. */
void liar_stop(struct liar *l);
