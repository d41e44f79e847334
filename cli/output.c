/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Files written atomically: a temporary file beside the target, fsync'd and renamed over it,
 * as node_exporter's textfile collector asks. The temporary name starts with a dot and does
 * not end in ".prom", so no collector reads it half-written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cachesweep/alloc.h>

#include "cli.h"

enum cs_errc cli_out_open(struct cli_out *out, const char *path, const char *what,
			  struct cs_error *err)
{
	memset(out, 0, sizeof(*out));
	out->path = path;
	if (path == NULL) {
		out->fp = stdout;
		return CS_OK;
	}
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - path) + 1 : 0;
	size_t size = strlen(path) + 16;
	out->tmp = cs_malloc(size);
	if (out->tmp == NULL) {
		return cs_error_set(err, CS_ENOMEM, "%s %s: out of memory", what, path);
	}
	(void)cs_snprintf(out->tmp, size, "%.*s.%s.XXXXXX", (int)dirlen, path, path + dirlen);
	int fd = mkstemp(out->tmp);
	if (fd < 0) {
		int e = errno;
		cs_free(out->tmp);
		out->tmp = NULL;
		enum cs_errc rc =
			cs_error_set(err, CS_EIO, "%s %s: cannot create a file beside it: %s", what,
				     path, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		return rc;
	}
	/* mkstemp makes 0600; a report is for others to read, as umask allows */
	mode_t mask = umask(0);
	umask(mask);
	(void)fchmod(fd, 0666 & ~mask);
	out->fp = fdopen(fd, "w");
	if (out->fp == NULL) {
		int e = errno;
		close(fd);
		cli_out_abort(out);
		return cs_error_set(err, CS_EIO, "%s %s: %s", what, path, strerror(e));
	}
	return CS_OK;
}

enum cs_errc cli_out_commit(struct cli_out *out, const char *what, struct cs_error *err)
{
	if (out->tmp == NULL) {
		return CS_OK; /* stdout: main() checks it at exit */
	}
	int e = 0;
	if (fflush(out->fp) != 0 || ferror(out->fp) || fsync(fileno(out->fp)) != 0) {
		e = errno != 0 ? errno : EIO;
	}
	if (fclose(out->fp) != 0 && e == 0) {
		e = errno;
	}
	out->fp = NULL;
	if (e == 0 && rename(out->tmp, out->path) != 0) {
		e = errno;
	}
	if (e != 0) {
		cli_out_abort(out);
		return cs_error_set(err, CS_EIO, "%s %s: %s", what, out->path, strerror(e));
	}
	cs_free(out->tmp);
	out->tmp = NULL;
	return CS_OK;
}

void cli_out_abort(struct cli_out *out)
{
	if (out->tmp == NULL) {
		return;
	}
	if (out->fp != NULL) {
		(void)fclose(out->fp);
		out->fp = NULL;
	}
	(void)unlink(out->tmp);
	cs_free(out->tmp);
	out->tmp = NULL;
}
