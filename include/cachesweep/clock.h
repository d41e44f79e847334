/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Time is injected, never read directly: the engine and the report take a struct cs_clock.
 * Tests use a fake whose time moves only when the test says so.
 */
#pragma once

#include <stdint.h>

struct cs_clock {
	/** Monotonic milliseconds, for timeouts and rate limits. */
	uint64_t (*mono_ms)(const struct cs_clock *clock);
	/** Wall-clock seconds since the epoch, for generated_at and the audit log. */
	int64_t (*wall_s)(const struct cs_clock *clock);
};

/** The system clock (CLOCK_MONOTONIC and CLOCK_REALTIME). Borrowed; never freed. */
const struct cs_clock *cs_clock_system(void);

/** Format wall-clock seconds as RFC 3339 UTC ("2026-11-28T16:00:00Z") into buf (>= 21 bytes). */
void cs_clock_format_utc(int64_t wall_s, char *buf, unsigned size);
