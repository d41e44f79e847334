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

/* A progress line on a terminal's stderr: resolvers done, answers/s, time left. */
struct progress {
	size_t done;
	size_t total;
	size_t probes_each;
	uint64_t start_ms;
	uint64_t shown_ms;
};

/* Where a round's results go, probe by probe and resolver by resolver. */
struct sink {
	void (*probe_done)(void *arg, size_t r, size_t k, const struct cs_observation *obs);
	void (*done)(void *arg, size_t r);
	void *arg;
	struct progress *pg; /* may be NULL */
};

/* One probe round: cfg's resolvers in the engine's window, the zone SOA last. */
struct round {
	const struct cs_config *cfg;
	const struct cs_keyset *keys;
	const struct sink *sink;
};

/* A report judged as the round goes, streamed as NDJSON when fp is set. */
struct judging {
	const struct cli_args *args;
	struct cs_judge judge;
	struct cs_report *rep;
	FILE *fp; /* NDJSON stream, or NULL */
	/* a healthy resolver's record is emptied once its line is out: an NDJSON sweep of
	 * 100,000 resolvers keeps the findings of those that need attention only (not with
	 * --state, which remembers every resolver) */
	bool drop_healthy;
	size_t n_judged; /* resolvers whose last probe ended */
	enum cs_errc rc;
	struct cs_error err;
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

static size_t round_probes_of(void *arg, size_t r)
{
	const struct round *rd = arg;
	(void)r;
	return cs_report_probe_count(rd->cfg);
}

static enum cs_errc round_spec(void *arg, size_t r, size_t k, struct cs_probe_spec *out,
			       struct cs_error *err)
{
	const struct round *rd = arg;
	const struct cs_resolver *res = &rd->cfg->resolvers[r];
	(void)err;
	*out = (struct cs_probe_spec){
		.resolver_index = r,
		.address = res->address,
		.port = res->port,
		.transport = res->transport,
		.cd_followup = true,
		.keys = rd->keys,
		.tls_auth_name = res->tls_auth_name,
		.tls_ca_file = res->tls_ca_file,
		.url = res->url,
	};
	cs_report_probe_name(rd->cfg, k, &out->qname, &out->qtype);
	return CS_OK;
}

static void round_probe_done(void *arg, size_t r, size_t k, const struct cs_observation *obs)
{
	const struct round *rd = arg;
	rd->sink->probe_done(rd->sink->arg, r, k, obs);
}

static void round_done(void *arg, size_t r)
{
	const struct round *rd = arg;
	if (rd->sink->done != NULL) {
		rd->sink->done(rd->sink->arg, r);
	}
	if (rd->sink->pg != NULL) {
		progress_tick(rd->sink->pg);
	}
}

/* One probe round over cfg's resolvers. The zone keys truth validated check answers no
 * validator vouched for; a deadline is optional. */
static enum cs_errc probe_round(struct event_base *base, const struct cs_config *cfg,
				const struct cs_truth *truth, const uint64_t *deadline_ms,
				const struct sink *sink, struct cs_error *err)
{
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
	if (sink->pg != NULL) {
		const struct cs_clock *clock = cs_clock_system();
		*sink->pg = (struct progress){ .total = cfg->n_resolvers,
					       .probes_each = n,
					       .start_ms = clock->mono_ms(clock) };
	}
	if (rc == CS_OK && deadline_ms != NULL) {
		cs_engine_set_deadline(eng, *deadline_ms);
	}
	/* name-major order within the window: each resolver's first name goes out before
	 * anyone's second */
	struct round rd = { .cfg = cfg, .keys = keys, .sink = sink };
	const struct cs_engine_source src = {
		.n_resolvers = cfg->n_resolvers,
		.probes_of = round_probes_of,
		.spec = round_spec,
		.probe_done = round_probe_done,
		.done = round_done,
		.arg = &rd,
	};
	const struct cs_clock *clock = cs_clock_system();
	const uint64_t t0 = clock->mono_ms(clock);
	if (rc == CS_OK) {
		rc = cs_engine_run_source(eng, &src, err);
	}
	if (eng != NULL) {
		struct cs_engine_stats es;
		cs_engine_get_stats(eng, &es);
		cs_log(CS_LOG_INFO, CS_LOG_PROBE,
		       "in %llu ms: %zu queries sent (%zu TCP or TLS connections), %zu late "
		       "replies taken, %zu stray datagrams, "
		       "%zu sends "
		       "deferred; at most %zu resolvers in the window and %zu queries in flight "
		       "(receive buffers hold %zu)",
		       (unsigned long long)(clock->mono_ms(clock) - t0), es.queries_sent,
		       es.tcp_connections, es.replies_late, es.datagrams_stray, es.send_deferred,
		       es.peak_window, es.peak_in_flight, es.udp_in_flight_cap);
	}
	cs_engine_free(eng);
	cs_keyset_free(keys);
	return rc;
}

/* cli_probe_all: every observation into the caller's array, resolver-major. */
struct obs_array {
	struct cs_observation *obs;
	size_t n;
};

static void array_probe_done(void *arg, size_t r, size_t k, const struct cs_observation *obs)
{
	struct obs_array *a = arg;
	a->obs[r * a->n + k] = *obs;
}

enum cs_errc cli_probe_all(struct event_base *base, const struct cs_config *cfg,
			   const struct cs_truth *truth, struct cs_observation *obs,
			   struct cs_error *err)
{
	struct obs_array a = { .obs = obs, .n = cs_report_probe_count(cfg) };
	const struct sink sink = { .probe_done = array_probe_done, .arg = &a };
	return probe_round(base, cfg, truth, NULL, &sink, err);
}

static void judging_probe_done(void *arg, size_t r, size_t k, const struct cs_observation *obs)
{
	struct judging *jg = arg;
	struct cs_resolver_report *rr = &jg->rep->resolvers[r];
	if (jg->rc != CS_OK) {
		return;
	}
	if (rr->findings == NULL) {
		jg->rc = cs_judge_begin(&jg->judge, r, rr, &jg->err);
		if (jg->rc != CS_OK) {
			return;
		}
	}
	jg->rc = cs_judge_probe(&jg->judge, rr, k, obs, &jg->err);
}

static void judging_done(void *arg, size_t r)
{
	struct judging *jg = arg;
	struct cs_resolver_report *rr = &jg->rep->resolvers[r];
	if (jg->rc != CS_OK) {
		return;
	}
	cs_judge_end(rr);
	jg->n_judged++;
	if (jg->fp != NULL && !(quiet_here(jg->args) && rr->status == CS_STATUS_HEALTHY)) {
		jg->rc = cs_report_write_ndjson_resolver(rr, jg->fp, &jg->err);
	}
	if (jg->drop_healthy && rr->status == CS_STATUS_HEALTHY) {
		cs_resolver_report_clean(rr); /* still healthy: the summary counts it */
	}
}

/* truth and the report of one probe round, judged as resolvers finish; ndjson (may be
 * NULL) streams each resolver's line, pg (may be NULL) shows progress. */
static enum cs_errc probe_report(struct event_base *base, const struct cli_args *args,
				 const struct cs_config *cfg, const uint64_t *deadline_ms,
				 FILE *ndjson, struct progress *pg, struct cs_truth **truth,
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
	struct judging *jg = cs_calloc(1, sizeof(*jg));
	if (jg == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for the report");
	}
	jg->args = args;
	jg->fp = ndjson;
	jg->drop_healthy = ndjson != NULL && args->state_path == NULL;
	cs_judge_init(&jg->judge, cfg, *truth);
	rc = cs_report_new(cfg, *truth, clock->wall_s(clock), &jg->rep, err);
	if (rc == CS_OK) {
		cs_log(CS_LOG_INFO, CS_LOG_PROBE, "probing %zu resolvers × %zu names",
		       cfg->n_resolvers, cs_report_probe_count(cfg));
		const struct sink sink = {
			.probe_done = judging_probe_done, .done = judging_done, .arg = jg, .pg = pg
		};
		rc = probe_round(base, cfg, *truth, deadline_ms, &sink, err);
		jg->rep->n_resolvers = cfg->n_resolvers;
	}
	if (rc == CS_OK && jg->rc != CS_OK) {
		*err = jg->err;
		rc = jg->rc;
	}
	/* every resolver was judged (the engine reports even those a deadline cut short) */
	if (rc == CS_OK && jg->n_judged != cfg->n_resolvers) {
		rc = cs_error_set(err, CS_EIO, "internal: %zu of %zu resolvers were not probed",
				  cfg->n_resolvers - jg->n_judged, cfg->n_resolvers);
	}
	if (rc == CS_OK) {
		cs_report_summarize(jg->rep);
		*out = jg->rep;
	} else {
		cs_report_free(jg->rep);
	}
	cs_free(jg);
	return rc;
}

enum cs_errc cli_probe(struct event_base *base, const struct cs_config *cfg,
		       struct cs_truth **truth, struct cs_report **out, struct cs_error *err)
{
	static const struct cli_args no_args;
	return probe_report(base, &no_args, cfg, NULL, NULL, NULL, truth, out, err);
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
	if (probe_report(base, args, cfg, args->has_deadline ? &deadline_ms : NULL,
			 streaming ? out.fp : NULL, show_progress ? &progress : NULL, &truth, &rep,
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
