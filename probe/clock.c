/* SPDX-License-Identifier: BSD-3-Clause */
/* The only file that reads the system clock. */
#include <stdio.h>
#include <time.h>

#include <cachesweep/clock.h>

static uint64_t sys_mono_ms(const struct cs_clock *clock)
{
	(void)clock;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t sys_wall_s(const struct cs_clock *clock)
{
	(void)clock;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static const struct cs_clock system_clock = { sys_mono_ms, sys_wall_s };

const struct cs_clock *cs_clock_system(void)
{
	return &system_clock;
}

void cs_clock_format_utc(int64_t wall_s, char *buf, unsigned size)
{
	time_t t = (time_t)wall_s;
	struct tm tm;
	if (size == 0) {
		return;
	}
	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		buf[0] = '\0';
	}
}
