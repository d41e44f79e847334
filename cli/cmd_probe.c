/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cachesweep probe: config → truth → probe every resolver × name → classify → fingerprint →
 * purge plan → report. Around it, what a cron job or a monitoring check needs: a lock against
 * overlapping runs, a deadline for the whole run, state kept between runs for a change-only
 * report, and output files replaced atomically. purge, sweep and notify reuse the probe
 * round (cli_probe, cli_probe_all) and the report writer (cli_write_report).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/engine.h>
#include <cachesweep/log.h>
#include <cachesweep/state.h>
#include <cachesweep/truth.h>

#include "cli.h"

/* What the NDJSON stream needs when a resolver finishes. */
struct stream {
	const struct cli_args *args;
	const struct cs_config *cfg;
	const struct cs_truth *truth;
	const struct cs_observation *obs;
	FILE *fp;
	enum cs_errc rc;
	struct cs_error err;
};

/* A progress line on a terminal's stderr: resolvers done, answers/s, time left. */
struct progress {
	size_t done;
	size_t total;
	size_t probes_each;
	uint64_t start_ms;
	uint64_t shown_ms;
};

/* What a resolver's end triggers: the stream, the progress line, or both (may be NULL). */
struct on_done {
	struct stream *st;
	struct progress *pg;
};

/* stdout stays silent under -q when there is nothing to say; a monitoring plugin must always
 * print its status line, so nagios output is never silenced. */
static bool quiet_here(const struct cli_args *args)
{
	return args->quiet && args->output == NULL && args->format != CLI_FORMAT_NAGIOS;
}

static void progress_tick(struct progress *pg)
{
	const struct cs_clock *clock = cs_clock_system();
	uint64_t now = clock->mono_ms(clock);
	pg->done++;
	/* at most five times a second, and always the last */
	if (pg->done < pg->total && now - pg->shown_ms < 200) {
		return;
	}
	pg->shown_ms = now;
	char line[160];
	cli_progress_format(pg->done, pg->total, now - pg->start_ms, pg->probes_each, line,
			    sizeof(line));
	fprintf(stderr, "\r%s\033[K%s", line, pg->done == pg->total ? "\n" : "");
	fflush(stderr);
}

static void stream_resolver(struct stream *st, size_t resolver_index)
{
	struct cs_resolver_report rr;
	if (st->rc != CS_OK) {
		return;
	}
	st->rc = cs_report_judge_resolver(st->cfg, st->truth, resolver_index, st->obs, &rr,
					  &st->err);
	if (st->rc == CS_OK && !(quiet_here(st->args) && rr.status == CS_STATUS_HEALTHY)) {
		st->rc = cs_report_write_ndjson_resolver(&rr, st->fp, &st->err);
	}
	cs_resolver_report_clean(&rr);
}

static void on_resolver_done(void *arg, size_t resolver_index)
{
	struct on_done *od = arg;
	if (od->st != NULL) {
		stream_resolver(od->st, resolver_index);
	}
	if (od->pg != NULL) {
		progress_tick(od->pg);
	}
}

/* One probe round over cfg's resolvers. The zone keys truth validated check answers no
 * validator vouched for; a deadline and an NDJSON stream are optional. */
static enum cs_errc probe_round(struct event_base *base, const struct cs_config *cfg,
				const struct cs_truth *truth, struct cs_observation *obs,
				const uint64_t *deadline_ms, struct stream *st, struct progress *pg,
				struct cs_error *err)
{
	struct on_done od = { .st = st, .pg = pg };
	struct cs_engine *eng = NULL;
	struct cs_keyset *keys = NULL;
	const size_t n = cs_report_probe_count(cfg);
	enum cs_errc rc = truth != NULL ? cs_keyset_from_truth(truth, &keys, err) : CS_OK;
	if (rc == CS_OK) {
		cs_log(CS_LOG_INFO, CS_LOG_TRUTH,
		       "zone %s: %zu validated DNSKEYs to check signatures with", cfg->zone,
		       cs_keyset_count(keys));
		rc = cs_engine_new(base, &cfg->limits, cs_clock_system(), cfg->n_resolvers, &eng,
				   err);
	}
	/* name-major order: each resolver's first name goes out before anyone's second */
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		for (size_t r = 0; r < cfg->n_resolvers && rc == CS_OK; r++) {
			struct cs_probe_spec spec = {
				.resolver_index = r,
				.address = cfg->resolvers[r].address,
				.port = cfg->resolvers[r].port,
				.transport = cfg->resolvers[r].transport,
				.cd_followup = true,
				.keys = keys,
				.tls_auth_name = cfg->resolvers[r].tls_auth_name,
				.tls_ca_file = cfg->resolvers[r].tls_ca_file,
				.url = cfg->resolvers[r].url,
			};
			cs_report_probe_name(cfg, i, &spec.qname, &spec.qtype);
			rc = cs_engine_add(eng, &spec, &obs[r * n + i], err);
		}
	}
	if (pg != NULL) {
		const struct cs_clock *clock = cs_clock_system();
		*pg = (struct progress){ .total = cfg->n_resolvers,
					 .probes_each = n,
					 .start_ms = clock->mono_ms(clock) };
	}
	if (rc == CS_OK && (st != NULL || pg != NULL)) {
		cs_engine_on_resolver_done(eng, on_resolver_done, &od);
	}
	if (rc == CS_OK && deadline_ms != NULL) {
		cs_engine_set_deadline(eng, *deadline_ms);
	}
	if (rc == CS_OK) {
		rc = cs_engine_run(eng, err);
	}
	cs_engine_free(eng);
	cs_keyset_free(keys);
	if (rc == CS_OK && st != NULL && st->rc != CS_OK) {
		*err = st->err;
		rc = st->rc;
	}
	return rc;
}

enum cs_errc cli_probe_all(struct event_base *base, const struct cs_config *cfg,
			   const struct cs_truth *truth, struct cs_observation *obs,
			   struct cs_error *err)
{
	return probe_round(base, cfg, truth, obs, NULL, NULL, NULL, err);
}

/* truth, the observations and the report of one probe round; st (may be NULL) streams, pg
 * (may be NULL) shows progress. */
static enum cs_errc probe_report(struct event_base *base, const struct cs_config *cfg,
				 const uint64_t *deadline_ms, struct stream *st,
				 struct progress *pg, struct cs_truth **truth,
				 struct cs_report **out, struct cs_error *err)
{
	const struct cs_clock *clock = cs_clock_system();
	*truth = NULL;
	*out = NULL;
	cs_log(CS_LOG_INFO, CS_LOG_TRUTH, "zone %s: asking the authoritative side (%zu names)",
	       cfg->zone, cfg->n_names);
	enum cs_errc rc = cs_truth_gather(base, cfg, truth, err);
	if (rc != CS_OK) {
		return rc;
	}
	const size_t n = cs_report_probe_count(cfg);
	struct cs_observation *obs = cs_calloc(cfg->n_resolvers * n, sizeof(*obs));
	if (obs == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for %zu observations",
				    cfg->n_resolvers * n);
	}
	if (st != NULL) {
		st->truth = *truth;
		st->obs = obs;
	}
	cs_log(CS_LOG_INFO, CS_LOG_PROBE, "probing %zu resolvers × %zu names", cfg->n_resolvers, n);
	rc = probe_round(base, cfg, *truth, obs, deadline_ms, st, pg, err);
	if (rc == CS_OK) {
		rc = cs_report_build(cfg, *truth, obs, clock->wall_s(clock), out, err);
	}
	cs_free(obs);
	return rc;
}

enum cs_errc cli_probe(struct event_base *base, const struct cs_config *cfg,
		       struct cs_truth **truth, struct cs_report **out, struct cs_error *err)
{
	return probe_report(base, cfg, NULL, NULL, NULL, truth, out, err);
}

/* The last run's state, or NULL for a fresh start; only running out of memory fails. */
static enum cs_errc load_state(const char *path, const char *zone, struct cs_state **out,
			       struct cs_error *err)
{
	struct cs_error lerr = { 0 };
	struct cs_state *st = NULL;
	enum cs_errc rc = cs_state_load(path, &st, &lerr);
	*out = NULL;
	if (rc == CS_ENOMEM) {
		*err = lerr;
		return rc;
	}
	if (rc == CS_EIO && lerr.sys_errno == ENOENT) {
		cs_log(CS_LOG_WARNING, CS_LOG_CONFIG,
		       "state file %s does not exist yet: starting afresh", path);
		return CS_OK;
	}
	if (rc != CS_OK) {
		cs_log(CS_LOG_WARNING, CS_LOG_CONFIG,
		       "state file unusable, starting afresh (it will be rewritten): %s", lerr.msg);
		return CS_OK;
	}
	if (strcmp(st->zone, zone) != 0) {
		cs_log(CS_LOG_WARNING, CS_LOG_CONFIG,
		       "state file %s is for zone %s, not %s: starting afresh", path, st->zone,
		       zone);
		cs_state_free(st);
		return CS_OK;
	}
	*out = st;
	return CS_OK;
}

static enum cs_errc save_state(const char *path, const struct cs_state *st, struct cs_error *err)
{
	struct cli_out out;
	enum cs_errc rc = cli_out_open(&out, path, "--state", err);
	if (rc == CS_OK) {
		rc = cs_state_write_json(st, out.fp, err);
	}
	if (rc == CS_OK) {
		rc = cli_out_commit(&out, "--state", err);
	}
	if (rc != CS_OK) {
		cs_error_prefix(err, "--state %s: ", path);
		cli_out_abort(&out);
	}
	return rc;
}

static enum cs_errc render(const struct cli_args *args, const struct cs_report *rep, int code,
			   const struct cs_change *changes, size_t n_changes, FILE *fp,
			   struct cs_error *err)
{
	if (args->changes) {
		if (quiet_here(args) && n_changes == 0) {
			return CS_OK;
		}
		if (args->format == CLI_FORMAT_JSON) {
			return cs_changes_write_json(rep, changes, n_changes, fp, err);
		}
		render_changes_human(rep, changes, n_changes, fp);
		return CS_OK;
	}
	if (quiet_here(args) && code == CLI_EXIT_OK) {
		return CS_OK;
	}
	switch (args->format) {
	case CLI_FORMAT_JSON:
		return cs_report_write_json(rep, fp, true, err);
	case CLI_FORMAT_NDJSON:
		return cs_report_write_ndjson_summary(rep, fp, err);
	case CLI_FORMAT_NAGIOS:
		render_nagios(rep, code, fp);
		return CS_OK;
	case CLI_FORMAT_PROMETHEUS:
		render_prometheus(rep, fp);
		return CS_OK;
	case CLI_FORMAT_CSV:
		render_csv(rep, fp);
		return CS_OK;
	case CLI_FORMAT_HUMAN:
		render_human(rep, fp, args->color);
		return CS_OK;
	}
	return CS_OK;
}

enum cs_errc cli_write_report(const struct cli_args *args, const struct cs_report *rep,
			      struct cs_error *err)
{
	struct cli_out out = { 0 };
	enum cs_errc rc = cli_out_open(&out, args->output, "-o", err);
	if (rc == CS_OK) {
		rc = render(args, rep, cli_exit_code(rep, &args->warning, &args->critical), NULL, 0,
			    out.fp, err);
	}
	if (rc == CS_OK) {
		rc = cli_out_commit(&out, "-o", err);
	}
	if (rc != CS_OK) {
		cli_out_abort(&out);
	}
	return rc;
}

int cmd_probe_run(const struct cli_args *args)
{
	struct cs_error err = { 0 };
	struct cs_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cs_truth *truth = NULL;
	struct cs_report *rep = NULL;
	struct cs_state *prev = NULL;
	struct cs_state *next = NULL;
	struct cs_change *changes = NULL;
	size_t n_changes = 0;
	struct cli_out out = { 0 };
	struct stream st = { 0 };
	struct progress progress = { 0 };
	const bool streaming = args->format == CLI_FORMAT_NDJSON && !args->changes;
	/* a progress line only for a person watching: stderr a terminal, not -q */
	const bool show_progress = !args->quiet && isatty(STDERR_FILENO);
	int lock_fd = -1;
	bool reported = false; /* the report is out: no second status line for nagios */
	int code = CLI_EXIT_UNKNOWN;
	int result = CLI_EXIT_UNKNOWN;
	const struct cs_clock *clock = cs_clock_system();
	const uint64_t deadline_ms = clock->mono_ms(clock) + (uint64_t)args->deadline_s * 1000u;

	if (args->lock_path != NULL && cli_lock_acquire(args->lock_path, &lock_fd, &err) != CS_OK) {
		goto out;
	}
	if (cli_config(args, &cfg, &err) != CS_OK) {
		goto out;
	}
	base = event_base_new();
	if (base == NULL) {
		cs_error_set(&err, CS_ENOMEM, "cannot create the event loop");
		goto out;
	}
	if (cli_out_open(&out, args->output, "-o", &err) != CS_OK) {
		goto out;
	}
	st = (struct stream){ .args = args, .cfg = cfg, .fp = out.fp, .rc = CS_OK };
	if (probe_report(base, cfg, args->has_deadline ? &deadline_ms : NULL,
			 streaming ? &st : NULL, show_progress ? &progress : NULL, &truth, &rep,
			 &err) != CS_OK) {
		goto out;
	}
	if (rep == NULL) {
		cs_error_set(&err, CS_ENOMEM, "no report was built");
		goto out;
	}
	if (!args->no_fingerprint && cli_fingerprint(base, cfg, rep, &err) != CS_OK) {
		goto out;
	}
	/* the report carries each purge plan: the contract between probe and purge */
	if (cli_plan(cfg, rep, &err) != CS_OK) {
		goto out;
	}
	result = cli_exit_code(rep, &args->warning, &args->critical);
	if (args->state_path != NULL) {
		if (load_state(args->state_path, cfg->zone, &prev, &err) != CS_OK ||
		    cs_state_update(prev, rep, rep->generated_at_s, &next, &changes, &n_changes,
				    &err) != CS_OK) {
			goto out;
		}
	}
	if (render(args, rep, result, changes, n_changes, out.fp, &err) != CS_OK ||
	    cli_out_commit(&out, "-o", &err) != CS_OK) {
		goto out;
	}
	reported = true;
	/* the state moves on only once the report that tells the change is out */
	if (next != NULL && save_state(args->state_path, next, &err) != CS_OK) {
		goto out;
	}
	code = result;
out:
	if (code == CLI_EXIT_UNKNOWN) {
		cli_out_abort(&out);
		cli_error(&err);
		if (args->format == CLI_FORMAT_NAGIOS && !reported) {
			render_nagios_unknown(err.msg, stdout);
		}
	}
	cs_free(changes);
	cs_state_free(next);
	cs_state_free(prev);
	cs_report_free(rep);
	cs_truth_free(truth);
	if (base != NULL) {
		event_base_free(base);
	}
	cs_config_free(cfg);
	cli_lock_release(lock_fd);
	return code;
}
