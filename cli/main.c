/* SPDX-License-Identifier: BSD-3-Clause */
/* cachesweep: parse → run the command → clean up. Exit codes 0/1/2/3 (shared/design.md). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include <cachesweep/log.h>

#include "cli.h"

/* sd-daemon(3) priority prefixes, which journald reads off a stream: err, warning, info,
 * debug; trace is debug too. */
static const char *const journal_prefix[] = { "<3>", "<4>", "<6>", "<7>", "<7>" };
static bool journal_prefixes;

void cli_diag_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	journal_prefixes = (js != NULL && js[0] != '\0') || !isatty(STDERR_FILENO);
}

void cli_diag(enum cs_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	fprintf(stderr, "%scachesweep: %s\n",
		journal_prefixes && (unsigned)level <= CS_LOG_TRACE ? journal_prefix[level] : "",
		msg);
}

static void stderr_sink(void *ctx, enum cs_log_level level, enum cs_log_group group,
			const char *msg)
{
	(void)ctx;
	cli_diag(level, "%s: %s: %s", cs_log_level_name(level), cs_log_group_name(group), msg);
}

void cli_error(const struct cs_error *err)
{
	cli_diag(CS_LOG_ERROR, "%s", err->msg[0] ? err->msg : cs_errc_name(err->code));
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

	cli_diag_init();
	if (cli_args_parse(argc, argv, &args, &done, &err) != CS_OK) {
		cli_error(&err);
		cli_diag(CS_LOG_ERROR, "try 'cachesweep --help'");
		if (args.format == CLI_FORMAT_NAGIOS) {
			render_nagios_unknown(err.msg, stdout);
		}
		return CLI_EXIT_UNKNOWN;
	}
	if (done) {
		return fflush(stdout) == 0 && !ferror(stdout) ? CLI_EXIT_OK : CLI_EXIT_UNKNOWN;
	}
	enum cs_log_level level = args.quiet            ? CS_LOG_WARNING
				  : args.verbosity >= 3 ? CS_LOG_TRACE
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
	} else {
		cli_diag(CS_LOG_ERROR, "unknown command '%s'", args.command);
		if (args.format == CLI_FORMAT_NAGIOS) {
			render_nagios_unknown("unknown command", stdout);
		}
	}
	curl_global_cleanup();
	/* a report cut short by a full disk or a closed pipe is a failure */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_diag(CS_LOG_ERROR, "cannot write to standard output");
		return CLI_EXIT_UNKNOWN;
	}
	return code;
}
