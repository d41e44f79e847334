/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Errors: what stops a run from judging (bad config, no truth, out of memory, cannot write).
 * A resolver that times out or sends garbage is never an error: it is an observation.
 *
 *	struct cs_error err = { 0 };
 *	if (cs_config_load(path, &cfg, &err) != CS_OK)
 *		fprintf(stderr, "cachesweep: %s\n", err.msg);
 */
#pragma once

#include <stddef.h>

#include <cachesweep/attr.h>

enum cs_errc {
	CS_OK = 0,
	CS_ENOMEM,  /**< out of memory */
	CS_EINVAL,  /**< bad argument or usage */
	CS_ECONFIG, /**< bad configuration or report file */
	CS_EIO,     /**< a file or socket could not be read or written */
	CS_ETRUTH,  /**< the authoritative truth could not be established */
	CS_EHTTP,   /**< an HTTP endpoint failed */
};

struct cs_error {
	enum cs_errc code;
	int sys_errno; /**< errno at the failure, or 0 */
	char msg[512]; /**< "where: what was expected, what was found" */
};

/** Record an error; returns code so that `return cs_error_set(err, ...)` is one line.
 *  err may be NULL. A message cut by the buffer ends in "...". */
enum cs_errc cs_error_set(struct cs_error *err, enum cs_errc code, const char *fmt, ...)
	CS_PRINTF(3, 4);

/** Put context in front of the message already in err; returns err->code (CS_OK if err NULL). */
enum cs_errc cs_error_prefix(struct cs_error *err, const char *fmt, ...) CS_PRINTF(2, 3);

/** A static, human name for a code ("out of memory"). */
const char *cs_errc_name(enum cs_errc code);

/** Bounded, always-terminated formatting: returns 0, or -1 if the text was cut (marked "..."). */
int cs_snprintf(char *buf, size_t size, const char *fmt, ...) CS_PRINTF(3, 4);

/** Copy src into dst (size bytes, always terminated); returns -1 if cut. */
int cs_strlcpy(char *dst, const char *src, size_t size);
