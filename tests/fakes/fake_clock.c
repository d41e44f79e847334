/* SPDX-License-Identifier: BSD-3-Clause */
#include "fake_clock.h"

#include <stddef.h>

static uint64_t fake_mono_ms(const struct cs_clock *clock)
{
	const struct fake_clock *fc = (const struct fake_clock *)clock;
	return fc->now_ms;
}

static int64_t fake_wall_s(const struct cs_clock *clock)
{
	const struct fake_clock *fc = (const struct fake_clock *)clock;
	return fc->wall_s;
}

void fake_clock_init(struct fake_clock *fc, int64_t wall_s)
{
	fc->clock.mono_ms = fake_mono_ms;
	fc->clock.wall_s = fake_wall_s;
	fc->now_ms = 0;
	fc->wall_s = wall_s;
}

void fake_clock_advance(struct fake_clock *fc, uint64_t ms)
{
	uint64_t before_s = fc->now_ms / 1000u;
	fc->now_ms += ms;
	fc->wall_s += (int64_t)(fc->now_ms / 1000u - before_s);
}
