/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --lock FILE: one run at a time. flock(2) is released by the kernel when the process ends,
 * however it ends, so a crashed run never leaves a stale lock. The file keeps the holder's
 * pid for the message a second run prints; it is never removed (removal races a new run).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"

enum cs_errc cli_lock_acquire(const char *path, int *fd, struct cs_error *err)
{
	*fd = -1;
	int lfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (lfd < 0) {
		int e = errno;
		return cs_error_set(err, CS_EIO, "--lock %s: %s", path, strerror(e));
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char pid[24] = "";
		ssize_t n = e == EWOULDBLOCK ? pread(lfd, pid, sizeof(pid) - 1, 0) : -1;
		close(lfd);
		if (e != EWOULDBLOCK) {
			return cs_error_set(err, CS_EIO, "--lock %s: %s", path, strerror(e));
		}
		pid[n > 0 ? (size_t)n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (cs_parse_u32(pid, 1, UINT32_MAX, NULL) != 0) {
			(void)cs_strlcpy(pid, "unknown", sizeof(pid));
		}
		return cs_error_set(err, CS_EIO,
				    "--lock %s: another cachesweep run holds the lock (pid %s); "
				    "not starting a second one",
				    path, pid);
	}
	char line[24];
	(void)cs_snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(lfd, 0) != 0 || pwrite(lfd, line, strlen(line), 0) < 0) {
		/* the pid is a courtesy for the message; the lock holds without it */
		(void)0;
	}
	*fd = lfd;
	return CS_OK;
}

void cli_lock_release(int fd)
{
	if (fd >= 0) {
		(void)close(fd);
	}
}
