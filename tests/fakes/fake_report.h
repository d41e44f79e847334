/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fixed report built in C, the input of the golden-file tests: one resolver of each kind
 * (needs_purge, healthy, unreachable, degraded), with an id and details that need escaping
 * in every rendering (quotes, comma, backslash, '|').
 */
#pragma once

#include <cachesweep/report.h>

#define FAKE_REPORT_AT 1795881600 /* 2026-11-28T16:00:00Z */

/** A new report; free with cs_report_free(). NULL when out of memory. */
struct cs_report *fake_report_new(void);
