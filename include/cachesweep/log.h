/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostics. Library code never prints: it calls cs_log() and the CLI installs the sink.
 * error and warning always show; info is per-resolver progress (-v), debug per query (-vv),
 * trace wire detail (-vvv). Never log a secret.
 */
#pragma once

#include <stdarg.h>

#include <cachesweep/attr.h>

enum cs_log_level {
	CS_LOG_ERROR = 0,
	CS_LOG_WARNING,
	CS_LOG_INFO,
	CS_LOG_DEBUG,
	CS_LOG_TRACE,
};

enum cs_log_group {
	CS_LOG_CONFIG = 0,
	CS_LOG_TRUTH,
	CS_LOG_PROBE,
	CS_LOG_WIRE,
	CS_LOG_PURGE,
	CS_LOG_HTTP,
};

typedef void cs_log_sink_fn(void *ctx, enum cs_log_level level, enum cs_log_group group,
			    const char *msg);

/** Install the sink and the highest level passed to it (NULL sink: drop everything). */
void cs_log_set_sink(cs_log_sink_fn *sink, void *ctx, enum cs_log_level max_level);

/** Is a message at this level wanted? Lets callers skip expensive formatting. */
int cs_log_enabled(enum cs_log_level level);

void cs_log(enum cs_log_level level, enum cs_log_group group, const char *fmt, ...) CS_PRINTF(3, 4);

const char *cs_log_group_name(enum cs_log_group group);
const char *cs_log_level_name(enum cs_log_level level);
