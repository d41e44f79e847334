/* SPDX-License-Identifier: BSD-3-Clause */
/* cachesweep: parse → run the command → clean up. Exit codes 0/1/2/3 (shared/design.md). */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include <cachesweep/log.h>

#include "cli.h"

static const char *const level_prefix[] = { "error", "warning", "info", "debug", "trace" };

static void stderr_sink(void *ctx, enum cs_log_level level, enum cs_log_group group,
			const char *msg)
{
	(void)ctx;
	fprintf(stderr, "cachesweep: %s: %s: %s\n", level_prefix[level], cs_log_group_name(group),
		msg);
}

void cli_error(const struct cs_error *err)
{
	fprintf(stderr, "cachesweep: %s\n", err->msg[0] ? err->msg : cs_errc_name(err->code));
}

/* Thousands of probes in flight need as many sockets: take the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	struct cli_args args;
	struct cs_error err = { 0 };
	bool done = false;

	if (cli_args_parse(argc, argv, &args, &done, &err) != CS_OK) {
		cli_error(&err);
		fprintf(stderr, "cachesweep: try 'cachesweep --help'\n");
		return CLI_EXIT_UNKNOWN;
	}
	if (done) {
		return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_UNKNOWN;
	}
	enum cs_log_level level = args.verbosity >= 3   ? CS_LOG_TRACE
				  : args.verbosity == 2 ? CS_LOG_DEBUG
				  : args.verbosity == 1 ? CS_LOG_INFO
							: CS_LOG_WARNING;
	cs_log_set_sink(stderr_sink, NULL, level);
	raise_fd_limit();

	int code = CLI_EXIT_UNKNOWN;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(args.command, "probe") == 0) {
		code = cmd_probe_run(&args);
	} else if (strcmp(args.command, "purge") == 0) {
		code = cmd_purge_run(&args);
	} else if (strcmp(args.command, "sweep") == 0) {
		code = cmd_sweep_run(&args);
	} else if (strcmp(args.command, "notify") == 0) {
		code = cmd_notify_run(&args);
	}
	curl_global_cleanup();
	/* a report cut short by a full disk or a closed pipe is a failure */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cachesweep: cannot write to standard output\n");
		return CLI_EXIT_UNKNOWN;
	}
	return code;
}
