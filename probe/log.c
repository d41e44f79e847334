/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>

#include <cachesweep/log.h>

static cs_log_sink_fn *log_sink;
static void *log_ctx;
static enum cs_log_level log_max = CS_LOG_WARNING;

void cs_log_set_sink(cs_log_sink_fn *sink, void *ctx, enum cs_log_level max_level)
{
	log_sink = sink;
	log_ctx = ctx;
	log_max = max_level;
}

int cs_log_enabled(enum cs_log_level level)
{
	return log_sink != NULL && level <= log_max;
}

void cs_log(enum cs_log_level level, enum cs_log_group group, const char *fmt, ...)
{
	if (!cs_log_enabled(level)) {
		return;
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	log_sink(log_ctx, level, group, msg);
}

const char *cs_log_group_name(enum cs_log_group group)
{
	switch (group) {
	case CS_LOG_CONFIG:
		return "config";
	case CS_LOG_TRUTH:
		return "truth";
	case CS_LOG_PROBE:
		return "probe";
	case CS_LOG_WIRE:
		return "wire";
	case CS_LOG_PURGE:
		return "purge";
	case CS_LOG_HTTP:
		return "http";
	}
	return "?";
}

const char *cs_log_level_name(enum cs_log_level level)
{
	switch (level) {
	case CS_LOG_ERROR:
		return "error";
	case CS_LOG_WARNING:
		return "warning";
	case CS_LOG_INFO:
		return "info";
	case CS_LOG_DEBUG:
		return "debug";
	case CS_LOG_TRACE:
		return "trace";
	}
	return "?";
}
