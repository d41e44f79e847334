/* SPDX-License-Identifier: BSD-3-Clause */
/* The cachesweep program: arguments, commands, renderings. Only cli/ prints or exits. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <event2/event.h>

#include <cachesweep/attr.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/log.h>
#include <cachesweep/report.h>
#include <cachesweep/state.h>

#define CLI_EXIT_OK       0
#define CLI_EXIT_WARNING  1
#define CLI_EXIT_CRITICAL 2
#define CLI_EXIT_UNKNOWN  3

enum cli_format {
	CLI_FORMAT_HUMAN = 0,
	CLI_FORMAT_JSON,
	CLI_FORMAT_NDJSON,
	CLI_FORMAT_NAGIOS,
	CLI_FORMAT_PROMETHEUS,
	CLI_FORMAT_CSV,
};

/** A monitoring threshold: alert when more resolvers than this are bad. */
struct cli_threshold {
	bool set;
	bool percent;   /**< value is a share of all resolvers, in hundredths of a percent */
	uint32_t value; /**< a count of resolvers, or hundredths of a percent (5% = 500) */
};

#define CLI_MAX_ARGS 4096

struct cli_args {
	const char *command;
	const char *config_path;
	const char *zone;
	const char *names[CLI_MAX_ARGS];
	size_t n_names;
	const char *resolvers[CLI_MAX_ARGS];
	size_t n_resolvers;
	enum cli_format format;
	const char *output;
	int verbosity;
	bool color; /**< human output to a terminal */
	bool quiet; /**< -q: no report on stdout when all is well; warnings and errors only */
	struct cli_threshold warning;  /**< --warning: resolvers not healthy */
	struct cli_threshold critical; /**< --critical: resolvers that need a purge */
	const char *state_path;        /**< --state FILE */
	bool changes;                  /**< --changes: report only what changed since --state */
	const char *lock_path;         /**< --lock FILE */
	bool has_deadline;
	uint32_t deadline_s; /**< --deadline S: the whole run's budget */
	/* probe limits from the command line; has_* says it was given */
	bool has_timeout_ms, has_retries, has_concurrency, has_qps_per_resolver, has_qps_total;
	uint32_t timeout_ms, retries, concurrency, qps_per_resolver, qps_total;
	/* purge, sweep, notify */
	const char *report_path; /**< --report FILE|- */
	bool execute;            /**< --execute: act; else dry run */
	bool has_settle;
	uint32_t settle_s; /**< --settle S: wait before the re-probe (sweep) */
	const char *audit_log;
	const char *out_dir; /**< --out DIR (notify) */
	bool no_fingerprint; /**< --no-fingerprint: trust only the config's software hint */
};

/** Parse argv; on a usage error writes err and returns CS_EINVAL. *done is set for --help
 *  and --version, which print and succeed. */
enum cs_errc cli_args_parse(int argc, char **argv, struct cli_args *args, bool *done,
			    struct cs_error *err);

/** Load the config and apply the command line to it. */
enum cs_errc cli_config(const struct cli_args *args, struct cs_config **out, struct cs_error *err);

/** Run `cachesweep probe`; returns the exit code. */
int cmd_probe_run(const struct cli_args *args);
/** Run `cachesweep purge`, `sweep` and `notify`; return the exit code. */
int cmd_purge_run(const struct cli_args *args);
int cmd_sweep_run(const struct cli_args *args);
int cmd_notify_run(const struct cli_args *args);

/**
 * Probe every resolver of cfg (truth first) on base and build the report.
 * \param truth  out: the truth (kept for re-probes); caller frees with cs_truth_free()
 * \param out    out: the report; caller frees with cs_report_free()
 */
enum cs_errc cli_probe(struct event_base *base, const struct cs_config *cfg,
		       struct cs_truth **truth, struct cs_report **out, struct cs_error *err);
/** Probe cfg's resolvers (truth known: its zone keys check unvalidated answers) into obs
 *  (n_resolvers × probe count). */
enum cs_errc cli_probe_all(struct event_base *base, const struct cs_config *cfg,
			   const struct cs_truth *truth, struct cs_observation *obs,
			   struct cs_error *err);
/** Ask each resolver without a software hint which software it runs (CHAOS, NSID,
 *  behaviour) and record it in the report with its source. */
enum cs_errc cli_fingerprint(struct event_base *base, const struct cs_config *cfg,
			     struct cs_report *rep, struct cs_error *err);
/**
 * purge and notify: the report from --report (checked against the config's zone when -c is
 * given too), or from probing now (with fingerprints). Outputs are the caller's to free,
 * also on failure.
 */
enum cs_errc cli_report_or_probe(const struct cli_args *args, struct cs_config **cfg,
				 struct event_base **base, struct cs_truth **truth,
				 struct cs_report **rep, struct cs_error *err);
/** The purge plan of every resolver that needs one (cfg, for endpoints, may be NULL). */
enum cs_errc cli_plan(const struct cs_config *cfg, struct cs_report *rep, struct cs_error *err);
/** Write the report in the chosen format to -o FILE or stdout. */
enum cs_errc cli_write_report(const struct cli_args *args, const struct cs_report *rep,
			      struct cs_error *err);

/** The human rendering: a table per resolver. */
void render_human(const struct cs_report *rep, FILE *fp, bool color);

/** "56m52s", "2h00m00s", "1d02h03m" into buf. */
void cli_duration(uint32_t s, char *buf, size_t size);
/** The progress line: "probed 120/1000 resolvers, 530 answers/s, 2m10s left". */
void cli_progress_format(size_t done, size_t total, uint64_t elapsed_ms, size_t probes_each,
			 char *buf, size_t size);

/** Parse "N" (a count) or "P%" (0..100, up to two decimals) for --warning/--critical. */
enum cs_errc cli_threshold_parse(const char *opt, const char *arg, struct cli_threshold *out,
				 struct cs_error *err);

/**
 * The exit code with thresholds: 2 when more resolvers need a purge than critical allows,
 * else 1 when more are not healthy than warning allows, else 0. An unset threshold allows
 * none, which is cs_report_exit_code()'s rule.
 */
int cli_exit_code(const struct cs_report *rep, const struct cli_threshold *warning,
		  const struct cli_threshold *critical);

/** The monitoring-plugin rendering: status line with perfdata, then the long output. */
void render_nagios(const struct cs_report *rep, int code, FILE *fp);
/** The plugin's line when the run could not judge: "CACHESWEEP UNKNOWN - msg". */
void render_nagios_unknown(const char *msg, FILE *fp);

/** The Prometheus text exposition format (version 0.0.4), for the textfile collector. */
void render_prometheus(const struct cs_report *rep, FILE *fp);

/** CSV (RFC 4180, CRLF line ends): a header, then one line per finding. */
void render_csv(const struct cs_report *rep, FILE *fp);

/** The change-only report, one line per change; nothing when nothing changed. */
void render_changes_human(const struct cs_report *rep, const struct cs_change *changes,
			  size_t n_changes, FILE *fp);

/**
 * Output to a file, made atomic: written to a temporary file in the same directory and
 * renamed over path only by cli_out_commit(), so a reader (node_exporter, a monitoring
 * check) never sees half a file. path NULL means standard output, written directly.
 */
struct cli_out {
	FILE *fp;
	const char *path;
	char *tmp;
};
enum cs_errc cli_out_open(struct cli_out *out, const char *path, const char *what,
			  struct cs_error *err);
/** Flush, sync and rename into place; the file is closed whatever happens. */
enum cs_errc cli_out_commit(struct cli_out *out, const char *what, struct cs_error *err);
/** Close and remove the temporary file (no-op after commit or for stdout). */
void cli_out_abort(struct cli_out *out);

/**
 * Take an exclusive lock on path (created if need be) for the life of the process, so that
 * overlapping runs from cron do not pile up. *fd is the lock's descriptor.
 * \return CS_OK, or CS_EIO with a message naming the holder's pid when another run holds it
 */
enum cs_errc cli_lock_acquire(const char *path, int *fd, struct cs_error *err);
void cli_lock_release(int fd);

/** Diagnostics to stderr, "cachesweep: msg", with a syslog priority prefix ("<3>") when
 *  journald or a pipe reads stderr (JOURNAL_STREAM set, or stderr not a terminal). */
void cli_diag_init(void);
void cli_diag(enum cs_log_level level, const char *fmt, ...) CS_PRINTF(2, 3);

/** Print "cachesweep: msg" to stderr. */
void cli_error(const struct cs_error *err);
