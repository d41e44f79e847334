/* SPDX-License-Identifier: BSD-3-Clause */
/* Politeness rules: pure arithmetic over times and random numbers the caller passes in. */
#include "pace.h"

#include <limits.h>
#include <string.h>

#include <cachesweep/observe.h>

/* ---- token bucket ---------------------------------------------------------------------- */

/* Tokens are counted in thousandths ("milli-tokens"): a millisecond at rate r adds exactly r of
 * them, so refill and wait are integer arithmetic with no rounding drift. The double fields
 * only ever hold milli / 1000.0, which converts back exactly (milli < 2^43 here). */
#define MILLI           1000u
#define BURST_MAX_TOKEN 4294967296.0 /* 2^32 tokens */

static uint64_t to_milli(double tokens)
{
	return (uint64_t)(tokens * (double)MILLI + 0.5); /* tokens >= 0: rounds to nearest */
}

static double from_milli(uint64_t milli)
{
	return (double)milli / (double)MILLI;
}

/* Milli-tokens the bucket holds at now_ms; a clock that went back counts as no time. */
static uint64_t milli_at(const struct cs_bucket *b, uint64_t now_ms)
{
	uint64_t have = to_milli(b->tokens);
	const uint64_t cap = to_milli(b->burst);
	if (now_ms <= b->last_ms || have >= cap || b->rate == 0) {
		return have < cap ? have : cap;
	}
	const uint64_t elapsed = now_ms - b->last_ms;
	/* compare before multiplying: elapsed × rate may not fit in 64 bits */
	const uint64_t need = cap - have;
	if (elapsed >= (need + b->rate - 1) / b->rate) {
		return cap;
	}
	return have + elapsed * b->rate; /* < need + rate: no overflow */
}

double cs_bucket_burst(uint32_t rate)
{
	return rate == 0 ? 0.0 : (double)rate;
}

void cs_bucket_init(struct cs_bucket *b, uint32_t rate, double burst, uint64_t now_ms)
{
	if (!(burst >= 1.0)) { /* also NaN */
		burst = 1.0;
	} else if (burst > BURST_MAX_TOKEN) {
		burst = BURST_MAX_TOKEN;
	}
	b->rate = rate;
	b->burst = from_milli(to_milli(burst));
	b->tokens = b->burst;
	b->last_ms = now_ms;
}

bool cs_bucket_take(struct cs_bucket *b, uint64_t now_ms)
{
	if (b->rate == 0) {
		return true;
	}
	uint64_t milli = milli_at(b, now_ms);
	b->last_ms = now_ms; /* forward: refilled up to now; backward: count from now on */
	if (milli < MILLI) {
		b->tokens = from_milli(milli);
		return false;
	}
	b->tokens = from_milli(milli - MILLI);
	return true;
}

uint64_t cs_bucket_wait_ms(const struct cs_bucket *b, uint64_t now_ms)
{
	if (b->rate == 0) {
		return 0;
	}
	const uint64_t milli = milli_at(b, now_ms);
	if (milli >= MILLI) {
		return 0;
	}
	return (MILLI - milli + b->rate - 1) / b->rate;
}

/* ---- back-off -------------------------------------------------------------------------- */

/* The wait at a level: 0 at level 0, then base × 2^(level-1), capped at max. */
static uint32_t step_at(unsigned level, const struct cs_pace_params *p)
{
	if (level == 0 || p->base_ms == 0) {
		return 0;
	}
	uint64_t step = p->base_ms;
	for (unsigned i = 1; i < level && step < p->max_ms; i++) {
		step *= 2;
	}
	return step < p->max_ms ? (uint32_t)step : p->max_ms;
}

/* The first level whose step is the cap: climbing further would change nothing but the
 * number of answers it takes to heal. */
static unsigned level_cap(const struct cs_pace_params *p)
{
	unsigned level = 1;
	while (step_at(level, p) < p->max_ms && p->base_ms != 0) {
		level++;
	}
	return level;
}

static void wait_from(struct cs_backoff *b, uint64_t now_ms, uint32_t step_ms)
{
	b->step_ms = step_ms;
	b->until_ms = now_ms > UINT64_MAX - step_ms ? UINT64_MAX : now_ms + step_ms;
}

void cs_pace_params_default(struct cs_pace_params *p, uint32_t timeout_ms)
{
	const uint32_t at_least_1s = timeout_ms > 1000 ? timeout_ms : 1000;
	p->base_ms = at_least_1s;
	p->max_ms = at_least_1s > 16000 ? at_least_1s : 16000;
	p->dead_after = 10;
	p->tc_storm = 4;
	p->tc_window_ms = at_least_1s;
}

void cs_backoff_init(struct cs_backoff *b)
{
	memset(b, 0, sizeof(*b));
}

static void slow_down(struct cs_backoff *b, uint64_t now_ms, const struct cs_pace_params *p)
{
	if (b->level < level_cap(p)) {
		b->level++;
	}
	wait_from(b, now_ms, step_at(b->level, p));
}

/* RRL answers a share of rate-limited queries with TC=1 ("slip"): many in a short window are
 * a rate limit, where one now and then is a large answer. */
static bool tc_storm(struct cs_backoff *b, uint64_t now_ms, const struct cs_pace_params *p)
{
	if (b->tc_recent == 0 || now_ms < b->tc_window_start_ms ||
	    now_ms - b->tc_window_start_ms >= p->tc_window_ms) {
		b->tc_recent = 0;
		b->tc_window_start_ms = now_ms;
	}
	b->tc_recent++;
	if (b->tc_recent <= p->tc_storm) {
		return false;
	}
	b->tc_recent = 0;
	return true;
}

void cs_backoff_note(struct cs_backoff *b, enum cs_pace_signal s, uint64_t now_ms,
		     const struct cs_pace_params *p)
{
	if (s == CS_PACE_TIMEOUT) {
		if (b->timeouts < UINT_MAX) {
			b->timeouts++;
		}
		slow_down(b, now_ms, p);
		return;
	}
	b->replied = true;
	b->timeouts = 0;
	switch (s) {
	case CS_PACE_ANSWER:
		if (b->level > 0) {
			b->level--;
			wait_from(b, now_ms, step_at(b->level, p));
		}
		break;
	case CS_PACE_TRUNCATED:
		if (tc_storm(b, now_ms, p)) {
			slow_down(b, now_ms, p);
		}
		break;
	case CS_PACE_REFUSED:
	case CS_PACE_RATE_LIMITED:
	case CS_PACE_TIMEOUT:
	default:
		slow_down(b, now_ms, p);
		break;
	}
}

void cs_backoff_sent(struct cs_backoff *b, uint64_t now_ms, const struct cs_pace_params *p)
{
	if (b->level > 0) {
		wait_from(b, now_ms, step_at(b->level, p));
	}
}

uint64_t cs_backoff_wait_ms(const struct cs_backoff *b, uint64_t now_ms)
{
	if (now_ms >= b->until_ms) {
		return 0;
	}
	const uint64_t left = b->until_ms - now_ms;
	return left < b->step_ms ? left : b->step_ms;
}

bool cs_backoff_dead(const struct cs_backoff *b, const struct cs_pace_params *p)
{
	return p->dead_after > 0 && !b->replied && b->timeouts >= p->dead_after;
}

/* RFC 8914 §4.15: 14 Not Ready, "The server is unable to answer the query, as it was not
 * fully functional when the query was received." See pace.h for why 18 and the rest are not. */
#define EDE_NOT_READY 14u

bool cs_pace_ede_slow_down(uint16_t code)
{
	return code == EDE_NOT_READY;
}

enum cs_pace_signal cs_pace_signal_of(unsigned rcode, bool tc_udp, const uint16_t *ede,
				      size_t n_ede)
{
	for (size_t i = 0; i < n_ede; i++) {
		if (cs_pace_ede_slow_down(ede[i])) {
			return CS_PACE_RATE_LIMITED;
		}
	}
	if (rcode == CS_RCODE_REFUSED) {
		return CS_PACE_REFUSED;
	}
	return tc_udp ? CS_PACE_TRUNCATED : CS_PACE_ANSWER;
}

/* ---- jitter ---------------------------------------------------------------------------- */

uint64_t cs_jitter_ms(uint32_t max_ms, uint32_t rnd)
{
	/* rnd / 2^32 scaled to max_ms: even, no modulo bias, and below max_ms for every rnd */
	return ((uint64_t)rnd * max_ms) >> 32;
}
