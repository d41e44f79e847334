/* SPDX-License-Identifier: BSD-3-Clause */
/* argv → struct cli_args, and the command line's additions to the config. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cachesweep/alloc.h>

#include "cli.h"

static const char usage[] =
	"usage: cachesweep probe  [-c FILE] [--zone Z] [--name N[/TYPE]]... [--resolver "
	"ADDR[#PORT]]...\n"
	"                         [--format human|json|ndjson|nagios|prometheus|csv] [-o FILE]\n"
	"                         [--warning N|P%] [--critical N|P%] [--state FILE [--changes]]\n"
	"                         [--lock FILE] [--deadline S] [--timeout-ms MS] [--retries N]\n"
	"                         [--concurrency N] [--qps-per-resolver N] [--qps-total N]\n"
	"                         [--no-fingerprint] [-q] [-v]...\n"
	"       cachesweep purge  [-c FILE] [--report FILE|-] [--execute] [--resolver ID]...\n"
	"                         [--audit-log FILE] [--format human|json] [-o FILE]\n"
	"       cachesweep sweep  [-c FILE] [--execute] [--settle S] [--audit-log FILE]\n"
	"                         [--format human|json] [-o FILE]\n"
	"       cachesweep notify [-c FILE] [--report FILE|-] --out DIR\n"
	"\n"
	"probe finds resolvers whose caches still serve a zone's bad past and says when each\n"
	"heals. Without -c the embedded default applies: zone se., sample .se names, the\n"
	"system's resolvers and well-known public services, truth from the real root.\n"
	"With -c, --name and --resolver add to the config; without it they stand in for the\n"
	"default's names and resolvers.\n"
	"-o writes the report atomically (a temporary file renamed into place).\n"
	"--warning/--critical: alert when more resolvers than N (or P% of them) are not healthy\n"
	"(warning) or need a purge (critical); without them any one counts.\n"
	"--state keeps each resolver's status between runs; --changes reports only what changed.\n"
	"--lock: a second run exits 3 while one holds FILE. --deadline: after S seconds, probes\n"
	"still open are reported as timeout and the report is written. -q: no report on stdout\n"
	"when all is well (or, with --changes, when nothing changed).\n"
	"Resolvers without a software hint are fingerprinted (CHAOS TXT) unless --no-fingerprint.\n"
	"\n"
	"purge plans the narrowest flush of the zone per resolver software and, with --execute,\n"
	"runs it through each resolver's configured endpoint (dry run by default; every action\n"
	"goes to the audit log). sweep probes, purges, waits --settle seconds (default 2) and\n"
	"probes the purged resolvers again: one report with before and after, the exit code\n"
	"from after. notify writes one message per operator (plain text and Markdown) into DIR.\n"
	"See cachesweep(1).\n"
	"\n"
	"exit: 0 all healthy, 1 some unreachable/refused/degraded, 2 some need a purge,\n"
	"      3 could not judge (usage, config, report, truth)\n";

enum {
	OPT_ZONE = 256,
	OPT_NAME,
	OPT_RESOLVER,
	OPT_FORMAT,
	OPT_TIMEOUT,
	OPT_RETRIES,
	OPT_CONCURRENCY,
	OPT_QPS_RESOLVER,
	OPT_QPS_TOTAL,
	OPT_VERSION,
	OPT_WARNING,
	OPT_CRITICAL,
	OPT_STATE,
	OPT_CHANGES,
	OPT_LOCK,
	OPT_DEADLINE,
	OPT_REPORT,
	OPT_EXECUTE,
	OPT_SETTLE,
	OPT_AUDIT_LOG,
	OPT_OUT,
	OPT_NO_FINGERPRINT,
};

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "zone", required_argument, NULL, OPT_ZONE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "resolver", required_argument, NULL, OPT_RESOLVER },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
	{ "qps-per-resolver", required_argument, NULL, OPT_QPS_RESOLVER },
	{ "qps-total", required_argument, NULL, OPT_QPS_TOTAL },
	{ "warning", required_argument, NULL, OPT_WARNING },
	{ "critical", required_argument, NULL, OPT_CRITICAL },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "changes", no_argument, NULL, OPT_CHANGES },
	{ "lock", required_argument, NULL, OPT_LOCK },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "execute", no_argument, NULL, OPT_EXECUTE },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "no-fingerprint", no_argument, NULL, OPT_NO_FINGERPRINT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	const char *name;
	enum cli_format format;
} formats[] = {
	{ "human", CLI_FORMAT_HUMAN },           { "json", CLI_FORMAT_JSON },
	{ "ndjson", CLI_FORMAT_NDJSON },         { "nagios", CLI_FORMAT_NAGIOS },
	{ "prometheus", CLI_FORMAT_PROMETHEUS }, { "csv", CLI_FORMAT_CSV },
};

static enum cs_errc number(const char *opt, const char *arg, uint32_t min, uint32_t max,
			   uint32_t *out, bool *has, struct cs_error *err)
{
	if (cs_parse_u32(arg, min, max, out) != 0) {
		return cs_error_set(err, CS_EINVAL,
				    "--%s: expected a whole number %u..%u, found \"%s\"", opt,
				    (unsigned)min, (unsigned)max, arg);
	}
	*has = true;
	return CS_OK;
}

static enum cs_errc push(const char **list, size_t *n, const char *opt, const char *arg,
			 struct cs_error *err)
{
	if (*n >= CLI_MAX_ARGS) {
		return cs_error_set(err, CS_EINVAL, "--%s: more than %d given", opt, CLI_MAX_ARGS);
	}
	list[(*n)++] = arg;
	return CS_OK;
}

static enum cs_errc one_option(int c, const char *arg, struct cli_args *a, struct cs_error *err)
{
	switch (c) {
	case 'c':
		a->config_path = arg;
		return CS_OK;
	case OPT_ZONE:
		a->zone = arg;
		return CS_OK;
	case OPT_NAME:
		return push(a->names, &a->n_names, "name", arg, err);
	case OPT_RESOLVER:
		return push(a->resolvers, &a->n_resolvers, "resolver", arg, err);
	case OPT_FORMAT:
		for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			if (strcmp(arg, formats[i].name) == 0) {
				a->format = formats[i].format;
				return CS_OK;
			}
		}
		return cs_error_set(err, CS_EINVAL,
				    "--format: expected human, json, ndjson, nagios, prometheus or "
				    "csv, found \"%s\"",
				    arg);
	case OPT_WARNING:
		return cli_threshold_parse("warning", arg, &a->warning, err);
	case OPT_CRITICAL:
		return cli_threshold_parse("critical", arg, &a->critical, err);
	case OPT_STATE:
		a->state_path = arg;
		return CS_OK;
	case OPT_CHANGES:
		a->changes = true;
		return CS_OK;
	case OPT_LOCK:
		a->lock_path = arg;
		return CS_OK;
	case OPT_DEADLINE:
		return number("deadline", arg, 1, 86400, &a->deadline_s, &a->has_deadline, err);
	case 'q':
		a->quiet = true;
		return CS_OK;
	case 'o':
		a->output = arg;
		return CS_OK;
	case OPT_TIMEOUT:
		return number("timeout-ms", arg, 1, CS_MAX_TIMEOUT_MS, &a->timeout_ms,
			      &a->has_timeout_ms, err);
	case OPT_RETRIES:
		return number("retries", arg, 0, CS_MAX_RETRIES, &a->retries, &a->has_retries, err);
	case OPT_CONCURRENCY:
		return number("concurrency", arg, 1, CS_MAX_CONCURRENCY, &a->concurrency,
			      &a->has_concurrency, err);
	case OPT_QPS_RESOLVER:
		return number("qps-per-resolver", arg, 0, 1000000, &a->qps_per_resolver,
			      &a->has_qps_per_resolver, err);
	case OPT_QPS_TOTAL:
		return number("qps-total", arg, 0, 10000000, &a->qps_total, &a->has_qps_total, err);
	case OPT_REPORT:
		a->report_path = arg;
		return CS_OK;
	case OPT_EXECUTE:
		a->execute = true;
		return CS_OK;
	case OPT_SETTLE:
		return number("settle", arg, 0, 3600, &a->settle_s, &a->has_settle, err);
	case OPT_AUDIT_LOG:
		a->audit_log = arg;
		return CS_OK;
	case OPT_OUT:
		a->out_dir = arg;
		return CS_OK;
	case OPT_NO_FINGERPRINT:
		a->no_fingerprint = true;
		return CS_OK;
	case 'v':
		a->verbosity++;
		return CS_OK;
	default:
		return cs_error_set(err, CS_EINVAL, "unknown option");
	}
}

enum cs_errc cli_args_parse(int argc, char **argv, struct cli_args *a, bool *done,
			    struct cs_error *err)
{
	memset(a, 0, sizeof(*a));
	*done = false;
	a->format = CLI_FORMAT_HUMAN;
	if (argc < 2) {
		fputs(usage, stderr);
		return cs_error_set(err, CS_EINVAL, "no command given");
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		*done = true;
		return CS_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("cachesweep %s\n", CS_VERSION);
		*done = true;
		return CS_OK;
	}
	a->command = argv[1];
	if (strcmp(a->command, "probe") != 0 && strcmp(a->command, "purge") != 0 &&
	    strcmp(a->command, "sweep") != 0 && strcmp(a->command, "notify") != 0) {
		return cs_error_set(
			err, CS_EINVAL,
			"unknown command \"%s\": expected probe, purge, sweep or notify",
			a->command);
	}
	opterr = 0;
	optind = 2;
	for (;;) {
		int c = getopt_long(argc, argv, ":c:o:qvh", options, NULL);
		if (c == -1) {
			break;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			*done = true;
			return CS_OK;
		}
		if (c == OPT_VERSION) {
			printf("cachesweep %s\n", CS_VERSION);
			*done = true;
			return CS_OK;
		}
		if (c == '?') {
			return cs_error_set(err, CS_EINVAL, "unknown option %s", argv[optind - 1]);
		}
		if (c == ':') {
			return cs_error_set(err, CS_EINVAL, "option %s needs a value",
					    argv[optind - 1]);
		}
		enum cs_errc rc = one_option(c, optarg, a, err);
		if (rc != CS_OK) {
			return rc;
		}
	}
	if (optind < argc) {
		return cs_error_set(err, CS_EINVAL, "unexpected argument \"%s\"", argv[optind]);
	}
	if (a->changes && a->state_path == NULL) {
		return cs_error_set(err, CS_EINVAL,
				    "--changes needs --state FILE (the last run to compare with)");
	}
	if (a->changes && a->format != CLI_FORMAT_HUMAN && a->format != CLI_FORMAT_JSON) {
		return cs_error_set(err, CS_EINVAL,
				    "--changes: the change-only report is human or json, not the "
				    "--format given");
	}
	const bool is_probe = strcmp(a->command, "probe") == 0;
	const bool is_sweep = strcmp(a->command, "sweep") == 0;
	const bool is_notify = strcmp(a->command, "notify") == 0;
	if (a->report_path != NULL && (is_probe || is_sweep)) {
		return cs_error_set(err, CS_EINVAL, "--report: only for purge and notify");
	}
	if (a->execute && (is_probe || is_notify)) {
		return cs_error_set(err, CS_EINVAL, "--execute: only for purge and sweep");
	}
	if (a->has_settle && !is_sweep) {
		return cs_error_set(err, CS_EINVAL, "--settle: only for sweep");
	}
	if ((a->out_dir != NULL) != is_notify) {
		return cs_error_set(err, CS_EINVAL,
				    is_notify ? "notify needs --out DIR"
					      : "--out: only for notify");
	}
	if ((a->changes || a->state_path != NULL) && !is_probe) {
		return cs_error_set(err, CS_EINVAL, "--state and --changes: only for probe");
	}
	a->color = a->format == CLI_FORMAT_HUMAN && a->output == NULL && isatty(STDOUT_FILENO);
	return CS_OK;
}

enum cs_errc cli_config(const struct cli_args *a, struct cs_config **out, struct cs_error *err)
{
	struct cs_config *cfg = NULL;
	enum cs_errc rc = CS_OK;

	*out = NULL;
	rc = a->config_path != NULL ? cs_config_load(a->config_path, &cfg, err)
				    : cs_config_new_default(&cfg, err);
	if (rc != CS_OK) {
		return rc;
	}
	if (a->zone != NULL) {
		rc = cs_config_set_zone(cfg, a->zone, err);
	}
	/* on the default, the command line's names and resolvers stand in for the built-in
	 * ones */
	if (rc == CS_OK && a->config_path == NULL && a->n_names > 0) {
		cs_config_clear_names(cfg);
	}
	if (rc == CS_OK && a->config_path == NULL && a->n_resolvers > 0 &&
	    strcmp(a->command, "purge") != 0 && strcmp(a->command, "notify") != 0) {
		cs_config_clear_resolvers(cfg);
	}
	for (size_t i = 0; i < a->n_names && rc == CS_OK; i++) {
		rc = cs_config_add_name(cfg, a->names[i], err);
	}
	/* purge and notify take resolver ids from a report, not addresses to probe */
	const bool ids = strcmp(a->command, "purge") == 0 || strcmp(a->command, "notify") == 0;
	for (size_t i = 0; i < a->n_resolvers && rc == CS_OK && !ids; i++) {
		rc = cs_config_add_resolver(cfg, a->resolvers[i], err);
	}
	if (a->has_timeout_ms) {
		cfg->limits.timeout_ms = a->timeout_ms;
	}
	if (a->has_retries) {
		cfg->limits.retries = a->retries;
	}
	if (a->has_concurrency) {
		cfg->limits.concurrency = a->concurrency;
	}
	if (a->has_qps_per_resolver) {
		cfg->limits.qps_per_resolver = a->qps_per_resolver;
	}
	if (a->has_qps_total) {
		cfg->limits.qps_total = a->qps_total;
	}
	if (rc == CS_OK) {
		rc = cs_config_finish(cfg, err);
	}
	if (rc != CS_OK) {
		cs_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return CS_OK;
}
