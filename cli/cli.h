/* SPDX-License-Identifier: BSD-3-Clause */
/* The cachesweep program: arguments, commands, renderings. Only cli/ prints or exits. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <event2/event.h>

#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/report.h>

#define CLI_EXIT_OK       0
#define CLI_EXIT_WARNING  1
#define CLI_EXIT_CRITICAL 2
#define CLI_EXIT_UNKNOWN  3

enum cli_format {
	CLI_FORMAT_HUMAN = 0,
	CLI_FORMAT_JSON,
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
/** Probe cfg's resolvers (truth known) into obs (n_resolvers × probe count). */
enum cs_errc cli_probe_all(struct event_base *base, const struct cs_config *cfg,
			   struct cs_observation *obs, struct cs_error *err);
/** Ask each resolver without a software hint which software it runs (CHAOS, NSID,
 *  behaviour) and record it in the report with its source. */
enum cs_errc cli_fingerprint(struct event_base *base, const struct cs_config *cfg,
			     struct cs_report *rep, struct cs_error *err);
/** The purge plan of every resolver that needs one (cfg, for endpoints, may be NULL). */
enum cs_errc cli_plan(const struct cs_config *cfg, struct cs_report *rep, struct cs_error *err);
/** Write the report in the chosen format to -o FILE or stdout. */
enum cs_errc cli_write_report(const struct cli_args *args, const struct cs_report *rep,
			      struct cs_error *err);

/** The human rendering: a table per resolver. */
void render_human(const struct cs_report *rep, FILE *fp, bool color);

/** Print "cachesweep: msg" to stderr. */
void cli_error(const struct cs_error *err);
