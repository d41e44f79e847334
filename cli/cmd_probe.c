/* SPDX-License-Identifier: BSD-3-Clause */
/* cachesweep probe: config → truth → probe every resolver × name → classify → report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/engine.h>
#include <cachesweep/log.h>
#include <cachesweep/truth.h>

#include "cli.h"

enum cs_errc cli_probe_all(struct event_base *base, const struct cs_config *cfg,
			   struct cs_observation *obs, struct cs_error *err)
{
	struct cs_engine *eng = NULL;
	const size_t n = cs_report_probe_count(cfg);
	enum cs_errc rc =
		cs_engine_new(base, &cfg->limits, cs_clock_system(), cfg->n_resolvers, &eng, err);
	/* name-major order: each resolver's first name goes out before anyone's second */
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		for (size_t r = 0; r < cfg->n_resolvers && rc == CS_OK; r++) {
			struct cs_probe_spec spec = {
				.resolver_index = r,
				.address = cfg->resolvers[r].address,
				.port = cfg->resolvers[r].port,
				.transport = cfg->resolvers[r].transport,
				.cd_followup = true,
			};
			cs_report_probe_name(cfg, i, &spec.qname, &spec.qtype);
			rc = cs_engine_add(eng, &spec, &obs[r * n + i], err);
		}
	}
	if (rc == CS_OK) {
		rc = cs_engine_run(eng, err);
	}
	cs_engine_free(eng);
	return rc;
}

enum cs_errc cli_write_report(const struct cli_args *args, const struct cs_report *rep,
			      struct cs_error *err)
{
	FILE *fp = stdout;
	if (args->output != NULL) {
		fp = fopen(args->output, "w");
		if (fp == NULL) {
			int e = errno;
			return cs_error_set(err, CS_EIO, "-o %s: %s", args->output, strerror(e));
		}
	}
	enum cs_errc rc = CS_OK;
	if (args->format == CLI_FORMAT_JSON) {
		rc = cs_report_write_json(rep, fp, true, err);
	} else {
		render_human(rep, fp, args->color);
	}
	if (fp != stdout) {
		if (fclose(fp) != 0 && rc == CS_OK) {
			int e = errno;
			rc = cs_error_set(err, CS_EIO, "-o %s: %s", args->output, strerror(e));
		}
	}
	return rc;
}

enum cs_errc cli_probe(struct event_base *base, const struct cs_config *cfg,
		       struct cs_truth **truth, struct cs_report **out, struct cs_error *err)
{
	struct cs_observation *obs = NULL;
	const struct cs_clock *clock = cs_clock_system();
	enum cs_errc rc = CS_OK;

	*truth = NULL;
	*out = NULL;
	cs_log(CS_LOG_INFO, CS_LOG_TRUTH, "zone %s: asking the authoritative side (%zu names)",
	       cfg->zone, cfg->n_names);
	rc = cs_truth_gather(base, cfg, truth, err);
	if (rc != CS_OK) {
		return rc;
	}
	const size_t n = cs_report_probe_count(cfg);
	obs = cs_calloc(cfg->n_resolvers * n, sizeof(*obs));
	if (obs == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for %zu observations",
				    cfg->n_resolvers * n);
	}
	cs_log(CS_LOG_INFO, CS_LOG_PROBE, "probing %zu resolvers × %zu names", cfg->n_resolvers, n);
	rc = cli_probe_all(base, cfg, obs, err);
	if (rc == CS_OK) {
		rc = cs_report_build(cfg, *truth, obs, clock->wall_s(clock), out, err);
	}
	cs_free(obs);
	return rc;
}

int cmd_probe_run(const struct cli_args *args)
{
	struct cs_error err = { 0 };
	struct cs_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cs_truth *truth = NULL;
	struct cs_report *rep = NULL;
	int code = CLI_EXIT_UNKNOWN;

	if (cli_config(args, &cfg, &err) != CS_OK) {
		goto out;
	}
	base = event_base_new();
	if (base == NULL) {
		cs_error_set(&err, CS_ENOMEM, "cannot create the event loop");
		goto out;
	}
	if (cli_probe(base, cfg, &truth, &rep, &err) != CS_OK) {
		goto out;
	}
	if (!args->no_fingerprint && cli_fingerprint(base, cfg, rep, &err) != CS_OK) {
		goto out;
	}
	/* the report carries each purge plan: the contract between probe and purge */
	if (cli_plan(cfg, rep, &err) != CS_OK) {
		goto out;
	}
	if (cli_write_report(args, rep, &err) != CS_OK) {
		goto out;
	}
	code = cs_report_exit_code(rep);
out:
	if (code == CLI_EXIT_UNKNOWN) {
		cli_error(&err);
	}
	cs_report_free(rep);
	cs_truth_free(truth);
	if (base != NULL) {
		event_base_free(base);
	}
	cs_config_free(cfg);
	return code;
}
