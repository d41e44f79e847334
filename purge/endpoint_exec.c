/* SPDX-License-Identifier: BSD-3-Clause */
/* The exec endpoint: argv run directly with posix_spawnp (never a shell), bounded in time,
 * its output kept (bounded, redacted) for the error text. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cachesweep/alloc.h>

#include "endpoint.h"

extern char **environ;

/* --- exec --- */

/** Run argv with stdout and stderr into a pipe, at most timeout_ms. Fills exit code or error.
 *  Returns true if it ran to an exit status. */
static bool run_argv(char *const argv[], char *const envp[], uint32_t timeout_ms, int *exit_code,
		     char *out, size_t out_size, char *error, size_t error_size)
{
	int fds[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	size_t used = 0;

	out[0] = '\0';
	*exit_code = -1;
	if (pipe(fds) != 0) {
		int e = errno;
		(void)cs_snprintf(error, error_size, "pipe: %s", strerror(e));
		return false;
	}
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	int se = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (se != 0) {
		close(fds[0]);
		(void)cs_snprintf(error, error_size, "cannot run %s: %s", argv[0], strerror(se));
		return false;
	}
	const uint64_t deadline = cs_purge_now_ms() + timeout_ms;
	bool timed_out = false;
	for (;;) {
		uint64_t now = cs_purge_now_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			timed_out = pr == 0;
			break;
		}
		char chunk[512];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n <= 0) {
			break; /* EOF: every writer closed */
		}
		size_t take = (size_t)n;
		if (used + take + 1 > out_size) {
			take = out_size - used - 1;
		}
		memcpy(out + used, chunk, take);
		used += take;
		out[used] = '\0';
	}
	close(fds[0]);
	if (timed_out) {
		(void)kill(pid, SIGKILL);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (timed_out) {
		(void)cs_snprintf(error, error_size, "%s: no exit within %u ms, killed", argv[0],
				  (unsigned)timeout_ms);
		return false;
	}
	if (WIFEXITED(status)) {
		*exit_code = WEXITSTATUS(status);
		return true;
	}
	(void)cs_snprintf(error, error_size, "%s: killed by signal %d", argv[0],
			  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return false;
}

/* The last non-empty line of a command's output, for the error text. */
static void last_line(const char *out, char *line, size_t size)
{
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
		n--;
	}
	size_t start = n;
	while (start > 0 && out[start - 1] != '\n') {
		start--;
	}
	size_t len = n - start;
	if (len >= size) {
		len = size - 1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[start + i];
		line[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	line[len] = '\0';
}

/** One attempt; *retry says whether another may help. */
void cs_endpoint_exec(const struct run *r, const struct step *s, struct cs_purge_action *a,
		      struct cs_retry *retry)
{
	char out[OUTPUT_MAX];
	char error[CS_DETAIL_MAX] = "";
	int code = -1;
	bool exited = run_argv(s->argv, r->envp != NULL ? r->envp : environ, r->o->timeout_ms,
			       &code, out, sizeof(out), error, sizeof(error));
	cs_run_redact(r, out, sizeof(out));
	a->exit_code = code;
	if (exited && code == 0) {
		a->outcome = CS_ACTION_OK;
		return;
	}
	a->outcome = CS_ACTION_FAILED;
	if (exited) {
		char line[CS_DETAIL_MAX - 32];
		last_line(out, line, sizeof(line));
		(void)cs_snprintf(a->error, sizeof(a->error), "exit %d%s%s", code,
				  line[0] ? ": " : "", line);
	} else {
		(void)cs_strlcpy(a->error, error, sizeof(a->error));
	}
	retry->again = true;
}
