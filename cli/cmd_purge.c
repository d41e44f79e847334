/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cachesweep purge: report (probed now, or --report) → fingerprint → plan per resolver that
 * needs a purge → (--execute) actions through the configured endpoints → report.
 * cachesweep sweep: the same with --execute, then --settle, then the purged resolvers probed
 * again: one report whose resolvers carry "before" and the state after; exit code from after.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/fingerprint.h>
#include <cachesweep/log.h>
#include <cachesweep/purge.h>

#include "cli.h"

#define DEFAULT_SETTLE_S 2

enum cs_errc cli_fingerprint(struct event_base *base, const struct cs_config *cfg,
			     struct cs_report *rep, struct cs_error *err)
{
	const size_t n = cfg->n_resolvers;
	bool *want = cs_calloc(n > 0 ? n : 1, sizeof(*want));
	struct cs_fingerprint *fp = cs_calloc(n > 0 ? n : 1, sizeof(*fp));
	enum cs_errc rc = CS_OK;
	size_t asked = 0;

	if (want == NULL || fp == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory for fingerprints");
		goto out;
	}
	for (size_t i = 0; i < n && i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		/* the operator's hint wins; a public service is known by its address; only a
		 * resolver that needs a purge needs its software known (a sweep of 10,000 healthy
		 * resolvers must not cost 30,000 CHAOS queries more) */
		want[i] = !rr->has_software &&
			  cs_software_by_address(rr->address) == CS_SW_UNKNOWN &&
			  rr->status == CS_STATUS_NEEDS_PURGE;
		asked += want[i];
	}
	if (asked > 0) {
		cs_log(CS_LOG_INFO, CS_LOG_PROBE, "fingerprinting %zu resolvers (CHAOS TXT)",
		       asked);
		rc = cs_fingerprint_gather(base, cfg, want, fp, err);
	}
	for (size_t i = 0; i < n && i < rep->n_resolvers && rc == CS_OK; i++) {
		struct cs_resolver_report *rr = &rep->resolvers[i];
		struct cs_software_guess g;
		enum cs_software_id pub = cs_software_by_address(rr->address);
		if (rr->has_software) {
			continue;
		}
		if (pub != CS_SW_UNKNOWN) {
			g = (struct cs_software_guess){ .id = pub };
			(void)cs_strlcpy(g.source, "address", sizeof(g.source));
		} else if (want[i]) {
			cs_fingerprint_classify(&fp[i], &g);
		} else {
			continue;
		}
		const char *texts[CS_RR_TEXT_COUNT] = {
			[CS_RR_SOFTWARE_NAME] = cs_software_name(g.id),
			[CS_RR_SOFTWARE_VERSION] = g.version,
			[CS_RR_SOFTWARE_SOURCE] = g.id == CS_SW_UNKNOWN ? "none" : g.source,
		};
		if (cs_resolver_report_set_texts(rr, texts) != CS_OK) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory for fingerprints");
			break;
		}
		rr->has_software = true;
	}
out:
	cs_free(want);
	cs_free(fp);
	return rc;
}

static const struct cs_resolver *find_resolver(const struct cs_config *cfg, const char *id)
{
	for (size_t i = 0; cfg != NULL && i < cfg->n_resolvers; i++) {
		if (strcmp(cfg->resolvers[i].id, id) == 0) {
			return &cfg->resolvers[i];
		}
	}
	return NULL;
}

static bool selected(const struct cli_args *args, const char *id)
{
	if (strcmp(args->command, "purge") != 0 || args->n_resolvers == 0) {
		return true;
	}
	for (size_t i = 0; i < args->n_resolvers; i++) {
		if (strcmp(args->resolvers[i], id) == 0) {
			return true;
		}
	}
	return false;
}

static FILE *open_audit(const struct cli_args *args, const struct cs_config *cfg,
			struct cs_error *err)
{
	const char *path = args->audit_log != NULL ? args->audit_log
			   : cfg != NULL           ? cfg->audit_log
						   : NULL;
	if (path == NULL) {
		return NULL;
	}
	FILE *fp = fopen(path, "a");
	if (fp == NULL) {
		int e = errno;
		cs_error_set(err, CS_EIO, "audit log %s: %s", path, strerror(e));
	}
	return fp;
}

/* Plan again; a report read back keeps the actions it records (what was done) unless this run
 * acts itself. */
static enum cs_errc replan(const struct cs_plan_input *in, struct cs_purge_block *pb,
			   struct cs_error *err)
{
	struct cs_purge_action *old = pb->actions;
	const size_t n_old = pb->n_actions;
	char endpoint[sizeof(pb->endpoint)];
	(void)cs_strlcpy(endpoint, pb->endpoint, sizeof(endpoint));
	pb->actions = NULL;
	pb->n_actions = 0;
	enum cs_errc rc = cs_plan_build(in, pb, err);
	if (rc == CS_OK && pb->endpoint[0] == '\0' && n_old > 0) {
		pb->actions = old;
		pb->n_actions = n_old;
		(void)cs_strlcpy(pb->endpoint, endpoint, sizeof(pb->endpoint));
		old = NULL;
	}
	cs_free(old);
	return rc;
}

/* A report read back may lack the software the config names: the hint fills it. */
static enum cs_errc hint_software(struct cs_resolver_report *rr, const struct cs_resolver *r,
				  struct cs_error *err)
{
	if (rr->has_software || r == NULL || r->software == NULL) {
		return CS_OK;
	}
	const char *texts[CS_RR_TEXT_COUNT] = {
		[CS_RR_SOFTWARE_NAME] = r->software,
		[CS_RR_SOFTWARE_SOURCE] = "config",
	};
	if (cs_resolver_report_set_texts(rr, texts) != CS_OK) {
		return cs_error_set(err, CS_ENOMEM, "out of memory planning resolver %s", rr->id);
	}
	rr->has_software = true;
	return CS_OK;
}

/* rr's software hint and purge plan; *pb is its purge block (made if it had none). */
static enum cs_errc plan_one(const struct cs_config *cfg, const struct cs_report *rep,
			     struct cs_resolver_report *rr, struct cs_purge_block **pb,
			     struct cs_error *err)
{
	const struct cs_resolver *r = find_resolver(cfg, rr->id);
	const struct cs_plan_input in = { .zone = rep->zone, .rr = rr, .cfg = r };
	*pb = NULL;
	enum cs_errc rc = hint_software(rr, r, err);
	if (rc != CS_OK) {
		return rc;
	}
	*pb = cs_resolver_report_purge(rr);
	if (*pb == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory planning resolver %s", rr->id);
	}
	return replan(&in, *pb, err);
}

enum cs_errc cli_plan(const struct cs_config *cfg, struct cs_report *rep, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	for (size_t i = 0; i < rep->n_resolvers && rc == CS_OK; i++) {
		struct cs_resolver_report *rr = &rep->resolvers[i];
		if (rr->status != CS_STATUS_NEEDS_PURGE) {
			continue;
		}
		struct cs_purge_block *pb = NULL;
		rc = plan_one(cfg, rep, rr, &pb, err);
	}
	return rc;
}

/** Plan (and with execute, act on) every selected resolver that needs a purge. */
static enum cs_errc plan_and_act(const struct cli_args *args, const struct cs_config *cfg,
				 struct cs_report *rep, FILE *audit, bool *purged,
				 struct cs_error *err)
{
	const struct cs_purge_opts opts = {
		.execute = args->execute,
		.timeout_ms = 10000,
		.attempts = 3,
		.backoff_ms = 500,
		.audit = audit,
		.clock = cs_clock_system(),
	};
	enum cs_errc rc = CS_OK;
	for (size_t i = 0; i < rep->n_resolvers && rc == CS_OK; i++) {
		struct cs_resolver_report *rr = &rep->resolvers[i];
		if (rr->status != CS_STATUS_NEEDS_PURGE || !selected(args, rr->id)) {
			continue;
		}
		const struct cs_resolver *r = find_resolver(cfg, rr->id);
		struct cs_purge_block *pb = NULL;
		rc = plan_one(cfg, rep, rr, &pb, err);
		if (rc == CS_OK && pb != NULL) {
			rc = cs_purge_execute(&opts, rep->zone, rr, r, pb, err);
		}
		if (purged != NULL) {
			purged[i] = pb != NULL && pb->n_actions > 0;
		}
	}
	return rc;
}

/* The report out, and the run's exit code from it (with --warning/--critical as for probe). */
static int write_and_judge(const struct cli_args *args, const struct cs_report *rep,
			   struct cs_error *err)
{
	if (cli_write_report(args, rep, err) != CS_OK) {
		return CLI_EXIT_UNKNOWN;
	}
	return cli_exit_code(rep, &args->warning, &args->critical);
}

/* The end of purge and sweep: say what failed, close the audit log (a log that cannot be
 * written fails the run), free everything. */
static int finish(int code, const struct cs_error *err, FILE *audit, struct cs_report *rep,
		  struct cs_truth *truth, struct event_base *base, struct cs_config *cfg)
{
	if (code == CLI_EXIT_UNKNOWN) {
		cli_error(err);
	}
	if (audit != NULL && fclose(audit) != 0 && code != CLI_EXIT_UNKNOWN) {
		cli_diag(CS_LOG_ERROR, "cannot write the audit log");
		code = CLI_EXIT_UNKNOWN;
	}
	cs_report_free(rep);
	cs_truth_free(truth);
	if (base != NULL) {
		event_base_free(base);
	}
	cs_config_free(cfg);
	return code;
}

enum cs_errc cli_report_or_probe(const struct cli_args *args, struct cs_config **cfg,
				 struct event_base **base, struct cs_truth **truth,
				 struct cs_report **rep, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	/* with --report and no -c there are no endpoints: instructions only */
	if (args->report_path == NULL || args->config_path != NULL) {
		rc = cli_config(args, cfg, err);
	}
	if (rc == CS_OK && args->report_path != NULL) {
		rc = cs_report_load(args->report_path, rep, err);
		if (rc == CS_OK && *cfg != NULL && strcmp((*cfg)->zone, (*rep)->zone) != 0) {
			rc = cs_error_set(err, CS_ECONFIG,
					  "--report %s is for zone %s, the config for %s",
					  args->report_path, (*rep)->zone, (*cfg)->zone);
		}
		return rc;
	}
	if (rc == CS_OK && (*base = event_base_new()) == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "cannot create the event loop");
	}
	if (rc == CS_OK) {
		rc = cli_probe(*base, *cfg, truth, rep, err);
	}
	if (rc == CS_OK && !args->no_fingerprint) {
		rc = cli_fingerprint(*base, *cfg, *rep, err);
	}
	return rc;
}

int cmd_purge_run(const struct cli_args *args)
{
	struct cs_error err = { 0 };
	struct cs_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cs_truth *truth = NULL;
	struct cs_report *rep = NULL;
	FILE *audit = NULL;
	int code = CLI_EXIT_UNKNOWN;

	if (cli_report_or_probe(args, &cfg, &base, &truth, &rep, &err) != CS_OK) {
		goto out;
	}
	for (size_t i = 0; i < args->n_resolvers; i++) {
		bool found = false;
		for (size_t k = 0; k < rep->n_resolvers && !found; k++) {
			found = strcmp(rep->resolvers[k].id, args->resolvers[i]) == 0;
		}
		if (!found) {
			cs_error_set(&err, CS_EINVAL, "--resolver %s: no resolver with that id",
				     args->resolvers[i]);
			goto out;
		}
	}
	audit = open_audit(args, cfg, &err);
	if (audit == NULL && err.code != CS_OK) {
		goto out;
	}
	if (plan_and_act(args, cfg, rep, audit, NULL, &err) != CS_OK) {
		goto out;
	}
	code = write_and_judge(args, rep, &err);
out:
	return finish(code, &err, audit, rep, truth, base, cfg);
}

static void wait_s(uint32_t s)
{
	struct timespec ts = { .tv_sec = (time_t)s, .tv_nsec = 0 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/**
 * Probe again the resolvers marked in redo (a sub-config of them shares the frozen config's
 * strings), and move the first state to "before" and the new one in place.
 */
static enum cs_errc reprobe(struct event_base *base, const struct cs_config *cfg,
			    const struct cs_truth *truth, struct cs_report *rep, bool *redo,
			    bool keep_before, struct cs_error *err)
{
	struct cs_config sub = *cfg;
	struct cs_resolver *rs = NULL;
	size_t *map = NULL;
	struct cs_observation *obs = NULL;
	enum cs_errc rc = CS_OK;
	size_t k = 0;
	size_t n = 0;

	rs = cs_calloc(cfg->n_resolvers, sizeof(*rs));
	map = cs_calloc(cfg->n_resolvers, sizeof(*map));
	if (rs == NULL || map == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory for the re-probe");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		if (redo[i]) {
			rs[k] = cfg->resolvers[i]; /* shallow: borrowed strings */
			map[k++] = i;
		}
	}
	if (k == 0) {
		goto out;
	}
	sub.resolvers = rs;
	sub.n_resolvers = k;
	n = cs_report_probe_count(&sub);
	obs = cs_calloc(k * n, sizeof(*obs));
	if (obs == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory for the re-probe");
		goto out;
	}
	cs_log(CS_LOG_INFO, CS_LOG_PROBE, "probing again %zu purged resolvers", k);
	rc = cli_probe_all(base, &sub, truth, obs, err);
	for (size_t j = 0; j < k && rc == CS_OK; j++) {
		struct cs_resolver_report after;
		struct cs_resolver_report *rr = &rep->resolvers[map[j]];
		rc = cs_report_judge_resolver(&sub, truth, j, obs, &after, err);
		if (rc != CS_OK) {
			cs_resolver_report_clean(&after);
			break;
		}
		if (!keep_before) {
			if (rr->before == NULL) {
				rr->before = cs_calloc(1, sizeof(*rr->before));
			}
			if (rr->before == NULL) {
				cs_resolver_report_clean(&after);
				rc = cs_error_set(err, CS_ENOMEM, "out of memory for the re-probe");
				break;
			}
			cs_free(rr->before->findings);
			*rr->before = (struct cs_before_block){
				.status = rr->status,
				.heals_known = rr->heals_known,
				.heals_in_s = rr->heals_in_s,
				.findings = rr->findings,
				.n_findings = rr->n_findings,
			};
		} else {
			cs_free(rr->findings);
		}
		rr->findings = after.findings;
		rr->n_findings = after.n_findings;
		after.findings = NULL;
		rr->status = after.status;
		rr->heals_known = after.heals_known;
		rr->heals_in_s = after.heals_in_s;
		if (after.nsid[0] != '\0') {
			rc = cs_resolver_report_set_text(rr, CS_RR_NSID, after.nsid);
			if (rc != CS_OK) {
				rc = cs_error_set(err, CS_ENOMEM, "out of memory for the re-probe");
			}
		}
		cs_resolver_report_clean(&after);
		redo[map[j]] = rr->status == CS_STATUS_NEEDS_PURGE;
	}
	cs_report_summarize(rep);
out:
	cs_free(obs);
	cs_free(map);
	cs_free(rs);
	return rc;
}

int cmd_sweep_run(const struct cli_args *args)
{
	struct cs_error err = { 0 };
	struct cs_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cs_truth *truth = NULL;
	struct cs_report *rep = NULL;
	bool *purged = NULL;
	FILE *audit = NULL;
	int code = CLI_EXIT_UNKNOWN;
	const uint32_t settle = args->has_settle ? args->settle_s : DEFAULT_SETTLE_S;
	bool any = false;
	bool again = false;

	if (cli_config(args, &cfg, &err) != CS_OK) {
		goto out;
	}
	base = event_base_new();
	purged = cs_calloc(cfg->n_resolvers, sizeof(*purged));
	if (base == NULL || purged == NULL) {
		cs_error_set(&err, CS_ENOMEM, "cannot create the event loop");
		goto out;
	}
	if (cli_probe(base, cfg, &truth, &rep, &err) != CS_OK) {
		goto out;
	}
	if (!args->no_fingerprint && cli_fingerprint(base, cfg, rep, &err) != CS_OK) {
		goto out;
	}
	audit = open_audit(args, cfg, &err);
	if (audit == NULL && err.code != CS_OK) {
		goto out;
	}
	if (plan_and_act(args, cfg, rep, audit, purged, &err) != CS_OK) {
		goto out;
	}
	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		/* only what was acted on is probed again; a dry run changes nothing */
		purged[i] = purged[i] && args->execute;
		any = any || purged[i];
	}
	if (any) {
		cs_log(CS_LOG_INFO, CS_LOG_PURGE, "waiting %u s for the purges to settle",
		       (unsigned)settle);
		wait_s(settle);
		if (reprobe(base, cfg, truth, rep, purged, false, &err) != CS_OK) {
			goto out;
		}
		/* serve-expired can hand out one more stale answer after a flush (flush.md §0):
		 * whoever still looks bad is asked once more before the verdict stands */
		for (size_t i = 0; i < cfg->n_resolvers; i++) {
			again = again || purged[i];
		}
		if (again) {
			wait_s(1);
			if (reprobe(base, cfg, truth, rep, purged, true, &err) != CS_OK) {
				goto out;
			}
		}
	}
	code = write_and_judge(args, rep, &err);
out:
	cs_free(purged);
	return finish(code, &err, audit, rep, truth, base, cfg);
}
