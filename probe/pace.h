/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Politeness (private to probe/): token buckets, back-off per resolver, and jitter, as pure
 * arithmetic. Nothing here reads a clock, a socket or a random source: the caller passes the
 * monotonic time in milliseconds and any random numbers, so the unit tests drive it with
 * plain numbers. docs/config.md "Politeness" gives the reasoning for each default.
 *
 *	struct cs_pace_params pp;
 *	cs_pace_params_default(&pp, limits->timeout_ms);
 *	cs_bucket_init(&total, limits->qps_total, cs_bucket_burst(limits->qps_total), now);
 *	cs_bucket_init(&r->bucket, limits->qps_per_resolver, cs_bucket_burst(...), now);
 *	struct cs_backoff bo;
 *	cs_backoff_init(&bo);
 *	...
 *	if (cs_backoff_dead(&bo, &pp))              -> end its queries as timeouts, unsent
 *	wait = max(cs_backoff_wait_ms(&bo, now), cs_bucket_wait_ms(&r->bucket, now), ...);
 *	if (wait == 0 && cs_bucket_take(&total, now) && cs_bucket_take(&r->bucket, now)) {
 *		send; cs_backoff_sent(&bo, now, &pp);
 *	}
 *	on a reply or a timeout: cs_backoff_note(&bo, signal, now, &pp);
 *
 * (Take from the per-resolver bucket only when its wait is 0, so a failed take of one bucket
 * never spends a token of the other.)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- token bucket ---------------------------------------------------------------------- */

/**
 * A token bucket: rate tokens a second, holding at most burst tokens. rate 0 = unlimited.
 *
 * Refill is exact: tokens are counted internally in thousandths, and a millisecond adds
 * exactly rate thousandths, so "a token every 1000/rate ms" holds with no drift. A clock
 * that goes backwards adds nothing: the bucket counts from the new time on (re-anchors),
 * and no elapsed time is ever negative or overflows.
 */
struct cs_bucket {
	double tokens;    /**< tokens now (a multiple of 1/1000), 0 <= tokens <= burst */
	double burst;     /**< capacity, at least 1 token */
	uint32_t rate;    /**< tokens a second; 0 = unlimited (take always succeeds) */
	uint64_t last_ms; /**< when tokens was last brought up to date */
};

/** The burst cs_bucket_init() gets from the engine by default: one second of queries, at
 *  least 1 (0 for an unlimited rate, where it does not matter). */
double cs_bucket_burst(uint32_t rate);

/** Start full (tokens = burst). burst below 1 (or NaN) counts as 1, above 2^32 as 2^32. */
void cs_bucket_init(struct cs_bucket *b, uint32_t rate, double burst, uint64_t now_ms);

/** Refill up to now_ms, then take one token if there is one. True if taken (always true
 *  for rate 0). */
bool cs_bucket_take(struct cs_bucket *b, uint64_t now_ms);

/** Milliseconds until a whole token is there, rounded up; 0 = cs_bucket_take() succeeds at
 *  now_ms. Never 0 when take would fail, and take succeeds at now_ms + the result. */
uint64_t cs_bucket_wait_ms(const struct cs_bucket *b, uint64_t now_ms);

/* ---- back-off per resolver ------------------------------------------------------------- */

/**
 * What one reply (or one attempt without a reply) tells about a resolver. Note one signal
 * per reply, the first that applies: CS_PACE_RATE_LIMITED if any of its EDE codes is one
 * cs_pace_ede_slow_down() accepts, else CS_PACE_REFUSED for rcode REFUSED, else
 * CS_PACE_TRUNCATED for TC=1 over UDP, else CS_PACE_ANSWER (any other rcode, SERVFAIL and
 * NXDOMAIN included: the resolver did its job). cs_pace_signal_of() does this mapping.
 */
enum cs_pace_signal {
	CS_PACE_ANSWER = 0,   /**< a usable answer: heal one step */
	CS_PACE_REFUSED,      /**< rcode REFUSED: back off one step */
	CS_PACE_TIMEOUT,      /**< an attempt got no reply: back off one step */
	CS_PACE_RATE_LIMITED, /**< the server asked us to slow down (an EDE that
				 cs_pace_ede_slow_down() accepts): back off one step */
	CS_PACE_TRUNCATED,    /**< TC=1 over UDP: counted; a storm of them backs off one step */
};

/** Back-off tuning; cs_pace_params_default() fills it. */
struct cs_pace_params {
	uint32_t base_ms;      /**< the first back-off step; 0 disables back-off */
	uint32_t max_ms;       /**< no step is longer */
	unsigned dead_after;   /**< this many timeouts and never a reply = dead; 0 = never */
	unsigned tc_storm;     /**< more than this many truncated replies ... */
	uint32_t tc_window_ms; /**< ... within this long is a rate-limit signal (RRL "slip") */
};

/**
 * State of one resolver. All zeros (cs_backoff_init()) is a fresh resolver that may be asked
 * at once. step_ms is the wait that began at until_ms - step_ms.
 */
struct cs_backoff {
	unsigned level;              /**< 0 = no back-off; n: steps of base_ms × 2^(n-1) */
	uint64_t until_ms;           /**< no query before this */
	uint32_t step_ms;            /**< length of the wait that ends at until_ms */
	unsigned tc_recent;          /**< truncated replies in the current TC window */
	uint64_t tc_window_start_ms; /**< when the current TC window began (its first TC) */
	unsigned timeouts;           /**< timeouts since the last reply of any kind */
	bool replied;                /**< any reply at all, ever (REFUSED and TC count) */
};

/** Defaults for a run whose attempts wait timeout_ms for a reply (see docs/config.md):
 *  base max(timeout_ms, 1000), max max(base, 16000), dead_after 10, tc_storm 4,
 *  tc_window max(timeout_ms, 1000). */
void cs_pace_params_default(struct cs_pace_params *p, uint32_t timeout_ms);

/** A fresh resolver: no back-off, no history. */
void cs_backoff_init(struct cs_backoff *b);

/**
 * Fold one signal in at now_ms.
 *
 * - REFUSED, TIMEOUT, RATE_LIMITED: one level up (at most to the level whose step reaches
 *   max_ms, so healing never has hidden levels to work off) and a wait of that level's step,
 *   base_ms × 2^(level-1) capped at max_ms, starting at now_ms.
 * - ANSWER: one level down, not to zero at once, and the wait becomes the lower level's step
 *   from now_ms (none at level 0). A flapping resolver keeps a high level.
 * - TRUNCATED: counted in a window that begins at the first TC and lasts tc_window_ms; the
 *   (tc_storm + 1)th TC inside it counts as RATE_LIMITED and starts a fresh count. A TC after
 *   the window has ended begins a new window at that TC.
 *
 * Every signal but TIMEOUT is a reply: it clears the timeout count and marks the resolver
 * alive for good (cs_backoff_dead() is then false for the rest of the run).
 */
void cs_backoff_note(struct cs_backoff *b, enum cs_pace_signal s, uint64_t now_ms,
		     const struct cs_pace_params *p);

/**
 * A query was sent to this resolver at now_ms. While it is backing off (level > 0), the next
 * query waits a full step from now: one query a step, so the end of a wait does not release
 * a burst. At level 0 this does nothing.
 */
void cs_backoff_sent(struct cs_backoff *b, uint64_t now_ms, const struct cs_pace_params *p);

/** Milliseconds until this resolver may be asked; 0 = now. If the clock went back before
 *  the wait began, the answer is the whole step, never more. */
uint64_t cs_backoff_wait_ms(const struct cs_backoff *b, uint64_t now_ms);

/** Clearly dead: dead_after (> 0) timeouts in a row and not a single reply of any kind since
 *  the run began. The engine then ends its remaining queries as timeouts without sending. */
bool cs_backoff_dead(const struct cs_backoff *b, const struct cs_pace_params *p);

/**
 * Does this Extended DNS Error (RFC 8914) ask us to slow down? True only for 14 (Not Ready:
 * "not fully functional when the query was received"): asking again soon cannot help.
 * False for 18 (Prohibited): it annotates a REFUSED, which backs off by itself, and says we
 * are not allowed, which no amount of waiting changes. False for every other code, which
 * describe the data or the resolver's own upstreams, not our query rate.
 */
bool cs_pace_ede_slow_down(uint16_t code);

/** The signal of one reply, as enum cs_pace_signal describes: rcode as on the wire, tc_udp
 *  for TC=1 on a UDP reply, and its EDE codes (ede may be NULL when n_ede is 0). */
enum cs_pace_signal cs_pace_signal_of(unsigned rcode, bool tc_udp, const uint16_t *ede,
				      size_t n_ede);

/* ---- jitter ---------------------------------------------------------------------------- */

/** A delay in [0, max_ms) from a random 32-bit number the caller supplies, spread evenly
 *  (rnd scaled, not taken modulo): 0 for rnd 0, max_ms - 1 for UINT32_MAX, 0 if max_ms is 0. */
uint64_t cs_jitter_ms(uint32_t max_ms, uint32_t rnd);
