/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Politeness rules (probe/pace.h) with a fake clock that is just a number. Links cs_core
 * only: the module reads no clock and does no I/O.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pace.h"

#define T0 1000000u /* any start time: the module never assumes 0 */

/* A deterministic pseudo-random sequence for the property tests (Knuth's MMIX LCG). */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return *s >> 33;
}

static void empty(struct cs_bucket *b, uint64_t now)
{
	while (cs_bucket_take(b, now)) {
	}
}

/* ---- token bucket ---------------------------------------------------------------------- */

static void test_bucket_starts_full_then_empty(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 10, 10.0, T0);
	assert_true(b.tokens == 10.0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(cs_bucket_wait_ms(&b, T0), 0);
		assert_true(cs_bucket_take(&b, T0));
	}
	assert_false(cs_bucket_take(&b, T0));
	assert_int_equal(cs_bucket_wait_ms(&b, T0), 100);
}

static void test_bucket_refill_is_fractional(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 3, 2.0, T0);
	empty(&b, T0);
	/* 3 a second: a token every 333.3 ms, so the first is whole at 334 ms */
	assert_int_equal(cs_bucket_wait_ms(&b, T0), 334);
	assert_false(cs_bucket_take(&b, T0 + 100));
	assert_true(b.tokens == 0.3);
	assert_int_equal(cs_bucket_wait_ms(&b, T0 + 100), 234);
	assert_false(cs_bucket_take(&b, T0 + 333));
	assert_true(b.tokens == 0.999);
	assert_true(cs_bucket_take(&b, T0 + 334));
	assert_true(b.tokens == 0.002);
	/* the 0.002 carries over: the next token is whole at 667, not 668 */
	assert_int_equal(cs_bucket_wait_ms(&b, T0 + 334), 333);
	assert_true(cs_bucket_take(&b, T0 + 667));
}

/* Many refills in small steps add up exactly: no drift from floating point. */
static void test_bucket_small_steps_no_drift(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 10, 2.0, T0); /* room for a carry: a full bucket would drop it */
	empty(&b, T0);
	for (uint64_t t = T0 + 1; t < T0 + 100; t++) {
		assert_false(cs_bucket_take(&b, t));
		assert_int_equal(cs_bucket_wait_ms(&b, t), T0 + 100 - t);
	}
	assert_true(cs_bucket_take(&b, T0 + 100));
	/* 10 000 tokens over 1000 s, asked every 30 ms: exactly one per 100 ms */
	unsigned taken = 0;
	for (uint64_t t = T0 + 130; t <= T0 + 100 + 1000000; t += 30) {
		taken += cs_bucket_take(&b, t) ? 1 : 0;
	}
	assert_int_equal(taken, 9999);
}

/* For each rate, wait_ms is exact: take fails 1 ms before it ends and succeeds when it does. */
static void test_bucket_wait_exact_every_rate(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 1,   2,    3,    7,    10,   13,     333,
					  999, 1000, 1001, 4999, 5000, 100000, UINT32_MAX };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		const uint32_t rate = rates[i];
		struct cs_bucket b;
		cs_bucket_init(&b, rate, 2.0, T0);
		uint64_t now = T0;
		uint64_t milli = 0; /* thousandths left after each take: the carry */
		empty(&b, now);
		for (int cycle = 0; cycle < 50; cycle++) {
			const uint64_t want = (1000 - milli + rate - 1) / rate;
			const uint64_t w = cs_bucket_wait_ms(&b, now);
			if (w != want) {
				fail_msg("rate %u cycle %d: wait %llu, want %llu", (unsigned)rate,
					 cycle, (unsigned long long)w, (unsigned long long)want);
			}
			if (w > 0) { /* a carry of a whole token or more: 0, and take succeeds */
				struct cs_bucket copy = b;
				assert_false(cs_bucket_take(&copy, now + w - 1));
			}
			now += w;
			assert_true(cs_bucket_take(&b, now));
			milli += w * rate;
			milli = (milli > 2000 ? 2000 : milli) - 1000; /* burst 2 caps it */
		}
	}
}

static void test_bucket_burst_cap(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 10, 5.0, T0);
	empty(&b, T0);
	/* an hour idle holds no more than the burst */
	const uint64_t later = T0 + 3600u * 1000u;
	assert_int_equal(cs_bucket_wait_ms(&b, later), 0);
	unsigned taken = 0;
	while (cs_bucket_take(&b, later)) {
		taken++;
	}
	assert_int_equal(taken, 5);
	assert_true(b.tokens == 0.0);
	/* partly refilled: 3 tokens after 300 ms */
	for (int i = 0; i < 3; i++) {
		assert_true(cs_bucket_take(&b, later + 300));
	}
	assert_false(cs_bucket_take(&b, later + 300));
}

static void test_bucket_burst_fractional_and_clamped(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 4, 2.5, T0);
	assert_true(b.burst == 2.5);
	assert_true(cs_bucket_take(&b, T0));
	assert_true(cs_bucket_take(&b, T0));
	assert_false(cs_bucket_take(&b, T0));
	assert_int_equal(cs_bucket_wait_ms(&b, T0), 125); /* 0.5 token at 4/s */

	/* below one token, zero, negative or NaN: one token, or it could never be taken */
	static const double small[] = { 0.0, 0.5, -3.0, (double)NAN };
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		cs_bucket_init(&b, 10, small[i], T0);
		assert_true(b.burst == 1.0);
		assert_true(cs_bucket_take(&b, T0));
		assert_false(cs_bucket_take(&b, T0));
	}
	cs_bucket_init(&b, 10, (double)INFINITY, T0);
	assert_true(b.burst == 4294967296.0);

	/* the engine's default: one second of queries */
	assert_true(cs_bucket_burst(10) == 10.0);
	assert_true(cs_bucket_burst(5000) == 5000.0);
	assert_true(cs_bucket_burst(0) == 0.0);
}

static void test_bucket_unlimited(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 0, 1.0, T0);
	for (int i = 0; i < 100000; i++) {
		assert_true(cs_bucket_take(&b, T0));
	}
	assert_int_equal(cs_bucket_wait_ms(&b, T0), 0);
	assert_true(cs_bucket_take(&b, 0));
	assert_true(cs_bucket_take(&b, UINT64_MAX));
	assert_int_equal(cs_bucket_wait_ms(&b, 0), 0);
}

static void test_bucket_clock_backwards(void **state)
{
	(void)state;
	struct cs_bucket b;
	cs_bucket_init(&b, 10, 2.0, T0 + 10000);
	empty(&b, T0 + 10000);
	assert_true(cs_bucket_take(&b, T0 + 10050) == false); /* half a token */
	assert_true(b.tokens == 0.5);

	/* 5 s back: nothing added, nothing lost, and the wait is still the 50 ms left */
	assert_int_equal(cs_bucket_wait_ms(&b, T0 + 5000), 50);
	assert_false(cs_bucket_take(&b, T0 + 5000));
	assert_true(b.tokens == 0.5);
	assert_int_equal(b.last_ms, T0 + 5000);
	/* and the bucket counts from the new time on, with no 5 s of starving */
	assert_int_equal(cs_bucket_wait_ms(&b, T0 + 5000), 50);
	assert_false(cs_bucket_take(&b, T0 + 5049));
	assert_true(cs_bucket_take(&b, T0 + 5050));

	/* extremes: no overflow in either direction */
	cs_bucket_init(&b, UINT32_MAX, 3.0, UINT64_MAX);
	empty(&b, UINT64_MAX);
	assert_false(cs_bucket_take(&b, 0));
	assert_true(b.tokens == 0.0);
	assert_int_equal(cs_bucket_wait_ms(&b, 0), 1);
	assert_true(cs_bucket_take(&b, UINT64_MAX)); /* 2^64 - 1 ms later: full, not wrapped */
	assert_true(b.tokens == 2.0);
	cs_bucket_init(&b, 1, 1.0, 0);
	empty(&b, 0);
	assert_int_equal(cs_bucket_wait_ms(&b, UINT64_MAX), 0);
	assert_true(cs_bucket_take(&b, UINT64_MAX));
	assert_true(b.tokens == 0.0);
}

/* Any walk of the clock, forwards in jumps and now and then backwards: wait_ms is 0 exactly
 * when take succeeds, and tokens stay within [0, burst]. */
static void test_bucket_wait_agrees_with_take(void **state)
{
	(void)state;
	static const uint32_t rates[] = { 1, 3, 10, 77, 1000, 5000 };
	uint64_t seed = 42;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct cs_bucket b;
		cs_bucket_init(&b, rates[i], 1.0 + (double)(i % 3), T0);
		uint64_t now = T0;
		for (int step = 0; step < 20000; step++) {
			const uint64_t r = lcg(&seed);
			if (r % 17 == 0 && now > 1000) {
				now -= r % 1000; /* backwards */
			} else {
				now += r % 50;
			}
			const uint64_t w = cs_bucket_wait_ms(&b, now);
			const bool took = cs_bucket_take(&b, now);
			if ((w == 0) != took) {
				fail_msg("rate %u step %d: wait %llu but take %d",
					 (unsigned)rates[i], step, (unsigned long long)w, took);
			}
			assert_true(b.tokens >= 0.0 && b.tokens <= b.burst);
		}
	}
}

/* ---- back-off -------------------------------------------------------------------------- */

static const struct cs_pace_params P = {
	.base_ms = 2000, .max_ms = 16000, .dead_after = 10, .tc_storm = 4, .tc_window_ms = 2000
};

static void test_pace_params_default(void **state)
{
	(void)state;
	struct cs_pace_params p;
	cs_pace_params_default(&p, 2000); /* the config's default timeout */
	assert_int_equal(p.base_ms, 2000);
	assert_int_equal(p.max_ms, 16000);
	assert_int_equal(p.dead_after, 10);
	assert_int_equal(p.tc_storm, 4);
	assert_int_equal(p.tc_window_ms, 2000);

	cs_pace_params_default(&p, 1); /* a short timeout: still a second */
	assert_int_equal(p.base_ms, 1000);
	assert_int_equal(p.max_ms, 16000);
	assert_int_equal(p.tc_window_ms, 1000);

	cs_pace_params_default(&p, 60000); /* the longest timeout: max is never below base */
	assert_int_equal(p.base_ms, 60000);
	assert_int_equal(p.max_ms, 60000);
	assert_int_equal(p.tc_window_ms, 60000);
}

static void test_backoff_fresh_may_send(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	assert_int_equal(b.level, 0);
	assert_int_equal(cs_backoff_wait_ms(&b, 0), 0);
	assert_int_equal(cs_backoff_wait_ms(&b, T0), 0);
	cs_backoff_sent(&b, T0, &P); /* at level 0 a send changes nothing */
	assert_int_equal(cs_backoff_wait_ms(&b, T0), 0);
	assert_false(cs_backoff_dead(&b, &P));
}

static void test_backoff_doubles_to_cap(void **state)
{
	(void)state;
	static const enum cs_pace_signal bad[] = { CS_PACE_REFUSED, CS_PACE_TIMEOUT,
						   CS_PACE_RATE_LIMITED };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		static const uint64_t want[] = { 2000, 4000, 8000, 16000, 16000, 16000 };
		struct cs_backoff b;
		cs_backoff_init(&b);
		uint64_t now = T0;
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			cs_backoff_note(&b, bad[k], now, &P);
			if (cs_backoff_wait_ms(&b, now) != want[i]) {
				fail_msg("signal %d, #%zu: wait %llu, want %llu", (int)bad[k],
					 i + 1, (unsigned long long)cs_backoff_wait_ms(&b, now),
					 (unsigned long long)want[i]);
			}
			now += 123;
		}
		assert_int_equal(b.level, 4); /* the level stops where the step reaches max_ms */
	}
}

static void test_backoff_wait_starts_at_now(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	cs_backoff_note(&b, CS_PACE_REFUSED, T0, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, T0), 2000);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 500), 1500);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 1999), 1);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 2000), 0);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 99999), 0);
	/* the next signal counts from its own time */
	cs_backoff_note(&b, CS_PACE_TIMEOUT, T0 + 3000, &P);
	assert_int_equal(b.until_ms, T0 + 3000 + 4000);
}

static void test_backoff_heals_one_step(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	for (int i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_TIMEOUT, T0, &P);
	}
	assert_int_equal(b.level, 4);
	static const uint64_t want[] = { 8000, 4000, 2000, 0, 0 };
	uint64_t now = T0 + 20000;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cs_backoff_note(&b, CS_PACE_ANSWER, now, &P);
		assert_int_equal(cs_backoff_wait_ms(&b, now), want[i]);
		now += 10;
	}
	assert_int_equal(b.level, 0);
}

/* Twenty timeouts of queries in flight together climb no higher than the cap, so the
 * resolver heals in as many answers as there are levels. */
static void test_backoff_no_hidden_levels(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	for (int i = 0; i < 20; i++) {
		cs_backoff_note(&b, CS_PACE_TIMEOUT, T0 + (uint64_t)i, &P);
	}
	assert_int_equal(b.level, 4);
	for (int i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_ANSWER, T0 + 30000, &P);
	}
	assert_int_equal(b.level, 0);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 30000), 0);
}

/* Refused, refused, refused, answered, refused: the level stays high, not back to one. */
static void test_backoff_flapping_stays_slow(void **state)
{
	(void)state;
	static const enum cs_pace_signal seq[] = { CS_PACE_REFUSED, CS_PACE_REFUSED,
						   CS_PACE_REFUSED, CS_PACE_ANSWER,
						   CS_PACE_REFUSED };
	struct cs_backoff b;
	cs_backoff_init(&b);
	uint64_t now = T0;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		cs_backoff_note(&b, seq[i], now, &P);
		now += cs_backoff_wait_ms(&b, now);
	}
	assert_int_equal(b.level, 3);
	assert_int_equal(cs_backoff_wait_ms(&b, b.until_ms - 8000), 8000);
}

static void test_backoff_sent_spaces_queries(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	cs_backoff_note(&b, CS_PACE_REFUSED, T0, &P);
	cs_backoff_note(&b, CS_PACE_REFUSED, T0, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 4000), 0);
	/* the wait is over: one query, and the next waits a full step again */
	cs_backoff_sent(&b, T0 + 4000, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 4000), 4000);
	/* its answer heals a step and shortens the wait to the lower step from then */
	cs_backoff_note(&b, CS_PACE_ANSWER, T0 + 4100, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 4100), 2000);
	cs_backoff_sent(&b, T0 + 6100, &P);
	cs_backoff_note(&b, CS_PACE_ANSWER, T0 + 6150, &P);
	assert_int_equal(b.level, 0);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 6150), 0);
	cs_backoff_sent(&b, T0 + 6150, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 6150), 0);
}

static void test_backoff_clock_backwards(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	cs_backoff_note(&b, CS_PACE_TIMEOUT, T0 + 10000, &P);
	/* before the wait began: the whole step, not the step plus the jump */
	assert_int_equal(cs_backoff_wait_ms(&b, T0), 2000);
	assert_int_equal(cs_backoff_wait_ms(&b, 0), 2000);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 11000), 1000);
	/* near the end of time: no wrap */
	cs_backoff_note(&b, CS_PACE_TIMEOUT, UINT64_MAX - 100000, &P);
	assert_int_equal(cs_backoff_wait_ms(&b, UINT64_MAX - 100000), 4000);
}

static void test_backoff_base_zero_disables(void **state)
{
	(void)state;
	const struct cs_pace_params off = { .base_ms = 0, .max_ms = 16000, .dead_after = 3 };
	struct cs_backoff b;
	cs_backoff_init(&b);
	for (int i = 0; i < 5; i++) {
		cs_backoff_note(&b, CS_PACE_REFUSED, T0, &off);
		cs_backoff_sent(&b, T0, &off);
		assert_int_equal(cs_backoff_wait_ms(&b, T0), 0);
	}
	/* base above max: every step is max */
	const struct cs_pace_params flat = { .base_ms = 5000, .max_ms = 3000 };
	cs_backoff_init(&b);
	cs_backoff_note(&b, CS_PACE_REFUSED, T0, &flat);
	cs_backoff_note(&b, CS_PACE_REFUSED, T0, &flat);
	assert_int_equal(b.level, 1);
	assert_int_equal(cs_backoff_wait_ms(&b, T0), 3000);
}

static void test_backoff_dead_after_timeouts(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	for (unsigned i = 1; i < P.dead_after; i++) {
		cs_backoff_note(&b, CS_PACE_TIMEOUT, T0 + i, &P);
		assert_false(cs_backoff_dead(&b, &P));
	}
	cs_backoff_note(&b, CS_PACE_TIMEOUT, T0 + 100, &P);
	assert_true(cs_backoff_dead(&b, &P));

	/* dead_after 0: never */
	const struct cs_pace_params never = { .base_ms = 2000, .max_ms = 16000 };
	assert_false(cs_backoff_dead(&b, &never));
}

/* Any reply at all, even REFUSED or TC, proves it is there: silence later is a rate limit
 * that drops, or loss, and is met with back-off rather than giving up. */
static void test_backoff_any_reply_means_alive(void **state)
{
	(void)state;
	static const enum cs_pace_signal replies[] = { CS_PACE_ANSWER, CS_PACE_REFUSED,
						       CS_PACE_RATE_LIMITED, CS_PACE_TRUNCATED };
	for (size_t k = 0; k < sizeof(replies) / sizeof(replies[0]); k++) {
		struct cs_backoff b;
		cs_backoff_init(&b);
		for (int i = 0; i < 5; i++) {
			cs_backoff_note(&b, CS_PACE_TIMEOUT, T0, &P);
		}
		cs_backoff_note(&b, replies[k], T0, &P);
		assert_int_equal(b.timeouts, 0);
		for (int i = 0; i < 100; i++) {
			cs_backoff_note(&b, CS_PACE_TIMEOUT, T0, &P);
		}
		assert_int_equal(b.timeouts, 100);
		assert_false(cs_backoff_dead(&b, &P));
	}
}

static void test_backoff_tc_storm(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	/* tc_storm (4) truncated replies in the window are large answers, not a storm */
	for (uint64_t i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + i * 400, &P);
		assert_int_equal(b.level, 0);
		assert_int_equal(cs_backoff_wait_ms(&b, T0 + i * 400), 0);
	}
	/* the fifth within 2000 ms of the first is */
	cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 1999, &P);
	assert_int_equal(b.level, 1);
	assert_int_equal(cs_backoff_wait_ms(&b, T0 + 1999), 2000);
	/* the count starts again: four more change nothing, the fifth climbs a level */
	for (uint64_t i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 2000 + i, &P);
		assert_int_equal(b.level, 1);
	}
	cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 2010, &P);
	assert_int_equal(b.level, 2);
	/* truncation neither heals nor is a timeout */
	assert_int_equal(b.timeouts, 0);
	assert_true(b.replied);
}

static void test_backoff_tc_window_slides(void **state)
{
	(void)state;
	struct cs_backoff b;
	cs_backoff_init(&b);
	/* four at the start of a window, the fifth just after it ends: a new window, no storm */
	for (uint64_t i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + i, &P);
	}
	cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 2000, &P);
	assert_int_equal(b.level, 0);
	assert_int_equal(b.tc_window_start_ms, T0 + 2000);
	assert_int_equal(b.tc_recent, 1);
	/* the new window began at that TC: four more within 2000 ms of it are a storm */
	for (uint64_t i = 1; i <= 3; i++) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 2000 + i * 600, &P);
		assert_int_equal(b.level, 0);
	}
	cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 3999, &P);
	assert_int_equal(b.level, 1);

	/* one TC a window, for a long time: never a storm */
	cs_backoff_init(&b);
	for (uint64_t t = T0; t < T0 + 1000u * 2000u; t += 2000) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, t, &P);
	}
	assert_int_equal(b.level, 0);
	/* four a window, just as long: never a storm either */
	for (uint64_t t = T0; t < T0 + 1000u * 2000u; t += 500) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, t, &P);
	}
	assert_int_equal(b.level, 0);

	/* a clock that went back starts a new window rather than counting into an old one */
	cs_backoff_init(&b);
	for (uint64_t i = 0; i < 4; i++) {
		cs_backoff_note(&b, CS_PACE_TRUNCATED, T0 + 5000 + i, &P);
	}
	cs_backoff_note(&b, CS_PACE_TRUNCATED, T0, &P);
	assert_int_equal(b.level, 0);
	assert_int_equal(b.tc_recent, 1);
}

/* ---- which replies slow us down -------------------------------------------------------- */

static void test_pace_ede_slow_down_every_code(void **state)
{
	(void)state;
	for (uint32_t code = 0; code <= UINT16_MAX; code++) {
		const bool want = code == 14; /* Not Ready */
		if (cs_pace_ede_slow_down((uint16_t)code) != want) {
			fail_msg("EDE %u: want %d", (unsigned)code, want);
		}
	}
	assert_false(cs_pace_ede_slow_down(18)); /* Prohibited: an ACL, not a rate */
}

static void test_pace_signal_of(void **state)
{
	(void)state;
	static const uint16_t not_ready[] = { 3, 14 };
	static const uint16_t prohibited[] = { 18 };
	static const struct {
		const char *why;
		unsigned rcode;
		bool tc_udp;
		const uint16_t *ede;
		size_t n_ede;
		enum cs_pace_signal want;
	} rows[] = {
		{ "NOERROR", 0, false, NULL, 0, CS_PACE_ANSWER },
		{ "NXDOMAIN", 3, false, NULL, 0, CS_PACE_ANSWER },
		{ "SERVFAIL is the resolver's verdict", 2, false, NULL, 0, CS_PACE_ANSWER },
		{ "REFUSED", 5, false, NULL, 0, CS_PACE_REFUSED },
		{ "REFUSED + Prohibited is REFUSED", 5, false, prohibited, 1, CS_PACE_REFUSED },
		{ "NOERROR + Prohibited is an answer", 0, false, prohibited, 1, CS_PACE_ANSWER },
		{ "SERVFAIL + Not Ready", 2, false, not_ready, 2, CS_PACE_RATE_LIMITED },
		{ "REFUSED + Not Ready", 5, false, not_ready, 2, CS_PACE_RATE_LIMITED },
		{ "TC over UDP", 0, true, NULL, 0, CS_PACE_TRUNCATED },
		{ "TC + REFUSED", 5, true, NULL, 0, CS_PACE_REFUSED },
		{ "TC + Not Ready", 0, true, not_ready, 2, CS_PACE_RATE_LIMITED },
		{ "EDE list not read past n_ede", 0, false, not_ready, 1, CS_PACE_ANSWER },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const enum cs_pace_signal got = cs_pace_signal_of(rows[i].rcode, rows[i].tc_udp,
								  rows[i].ede, rows[i].n_ede);
		if (got != rows[i].want) {
			fail_msg("row %zu (%s): got %d, want %d", i, rows[i].why, (int)got,
				 (int)rows[i].want);
		}
	}
}

/* ---- jitter ---------------------------------------------------------------------------- */

static void test_jitter_bounds(void **state)
{
	(void)state;
	static const uint32_t maxes[] = {
		1, 2, 3, 7, 100, 1000, 65536, UINT32_MAX - 1, UINT32_MAX
	};
	for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
		const uint32_t m = maxes[i];
		assert_int_equal(cs_jitter_ms(m, 0), 0);
		assert_int_equal(cs_jitter_ms(m, UINT32_MAX), (uint64_t)m - 1);
		assert_int_equal(cs_jitter_ms(m, 1u << 31), m / 2);
	}
	assert_int_equal(cs_jitter_ms(0, 0), 0);
	assert_int_equal(cs_jitter_ms(0, UINT32_MAX), 0);
	uint64_t seed = 7;
	for (int i = 0; i < 100000; i++) {
		const uint32_t m = (uint32_t)lcg(&seed);
		const uint32_t rnd = (uint32_t)lcg(&seed);
		if (m > 0) {
			assert_true(cs_jitter_ms(m, rnd) < m);
		}
	}
}

/* Evenly spread: rnd in equal steps lands equally often in every millisecond. */
static void test_jitter_even(void **state)
{
	(void)state;
	unsigned count[10] = { 0 };
	for (uint64_t rnd = 0; rnd <= UINT32_MAX; rnd += 1u << 16) {
		count[cs_jitter_ms(10, (uint32_t)rnd)]++;
	}
	for (int i = 0; i < 10; i++) {
		assert_in_range(count[i], 6553, 6554); /* 65536 / 10 */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_starts_full_then_empty),
		cmocka_unit_test(test_bucket_refill_is_fractional),
		cmocka_unit_test(test_bucket_small_steps_no_drift),
		cmocka_unit_test(test_bucket_wait_exact_every_rate),
		cmocka_unit_test(test_bucket_burst_cap),
		cmocka_unit_test(test_bucket_burst_fractional_and_clamped),
		cmocka_unit_test(test_bucket_unlimited),
		cmocka_unit_test(test_bucket_clock_backwards),
		cmocka_unit_test(test_bucket_wait_agrees_with_take),
		cmocka_unit_test(test_pace_params_default),
		cmocka_unit_test(test_backoff_fresh_may_send),
		cmocka_unit_test(test_backoff_doubles_to_cap),
		cmocka_unit_test(test_backoff_wait_starts_at_now),
		cmocka_unit_test(test_backoff_heals_one_step),
		cmocka_unit_test(test_backoff_no_hidden_levels),
		cmocka_unit_test(test_backoff_flapping_stays_slow),
		cmocka_unit_test(test_backoff_sent_spaces_queries),
		cmocka_unit_test(test_backoff_clock_backwards),
		cmocka_unit_test(test_backoff_base_zero_disables),
		cmocka_unit_test(test_backoff_dead_after_timeouts),
		cmocka_unit_test(test_backoff_any_reply_means_alive),
		cmocka_unit_test(test_backoff_tc_storm),
		cmocka_unit_test(test_backoff_tc_window_slides),
		cmocka_unit_test(test_pace_ede_slow_down_every_code),
		cmocka_unit_test(test_pace_signal_of),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_jitter_even),
	};
	return cmocka_run_group_tests_name("pace", tests, NULL, NULL);
}
