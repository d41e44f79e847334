/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cachesweep/error.h>

static void mark_cut(char *buf, size_t size)
{
	if (size >= 4) {
		memcpy(buf + size - 4, "...", 4);
	}
}

CS_PRINTF(3, 0) static int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	if (size == 0) {
		return -1;
	}
	int n = vsnprintf(buf, size, fmt, ap);
	if (n < 0) {
		buf[0] = '\0';
		return -1;
	}
	if ((size_t)n >= size) {
		mark_cut(buf, size);
		return -1;
	}
	return 0;
}

int cs_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vformat(buf, size, fmt, ap);
	va_end(ap);
	return rc;
}

int cs_strlcpy(char *dst, const char *src, size_t size)
{
	if (size == 0) {
		return -1;
	}
	size_t len = strlen(src);
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

enum cs_errc cs_error_set(struct cs_error *err, enum cs_errc code, const char *fmt, ...)
{
	if (err == NULL) {
		return code;
	}
	err->code = code;
	err->sys_errno = 0;
	va_list ap;
	va_start(ap, fmt);
	(void)vformat(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

enum cs_errc cs_error_prefix(struct cs_error *err, const char *fmt, ...)
{
	if (err == NULL) {
		return CS_OK;
	}
	char prefix[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	(void)vformat(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	char joined[sizeof(err->msg)];
	(void)cs_snprintf(joined, sizeof(joined), "%s%s", prefix, err->msg);
	memcpy(err->msg, joined, sizeof(joined));
	return err->code;
}

const char *cs_errc_name(enum cs_errc code)
{
	switch (code) {
	case CS_OK:
		return "ok";
	case CS_ENOMEM:
		return "out of memory";
	case CS_EINVAL:
		return "invalid argument";
	case CS_ECONFIG:
		return "bad configuration";
	case CS_EIO:
		return "input/output error";
	case CS_ETRUTH:
		return "truth unavailable";
	case CS_EHTTP:
		return "http endpoint failed";
	}
	return "unknown error";
}
