/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A clock whose time moves only when the test says so (fake_clock_advance), for TTL
 * countdowns, "since when" and deadlines without sleeping.
 */
#pragma once

#include <stdint.h>

#include <cachesweep/clock.h>

struct fake_clock {
	struct cs_clock clock; /**< pass &fc.clock where a const struct cs_clock * is wanted */
	uint64_t now_ms;       /**< monotonic */
	int64_t wall_s;        /**< seconds since the epoch */
};

/** Start at wall-clock second wall_s, monotonic 0. */
void fake_clock_init(struct fake_clock *fc, int64_t wall_s);
/** Move both clocks on by ms milliseconds (wall seconds by whole seconds passed). */
void fake_clock_advance(struct fake_clock *fc, uint64_t ms);
