/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Executing a plan through the operator's endpoint: exec (argv, never a shell), http (generic
 * templates), powerdns-api (PUT .../cache/flush with X-API-Key, JSON count checked) and
 * unbound-control (Unbound's remote-control protocol on its unix socket, flush.md §1.2).
 *
 * Every step becomes an action (ok, failed or skipped) and two audit lines (planned, done).
 * A failing step never stops the others. The secret is read once per resolver, substituted
 * only into what is sent, and every text that leaves (target, error, audit) is built from the
 * redacted template and passed through cs_redact() as well.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/log.h>
#include <cachesweep/purge.h>

#include "endpoint.h"

extern char **environ;

#define MAX_STEPS  64
#define SECRET_ENV "CACHESWEEP_SECRET"

static void strv_free(char **v)
{
	if (v == NULL) {
		return;
	}
	for (char **p = v; *p != NULL; p++) {
		cs_secret_wipe_free(*p);
	}
	cs_free(v);
}

static void step_clean(struct step *s)
{
	cs_free(s->shown);
	strv_free(s->argv);
	cs_secret_wipe_free(s->url);
	cs_free(s->method);
	strv_free(s->headers);
	cs_free(s->command);
	memset(s, 0, sizeof(*s));
}

void cs_run_redact(const struct run *r, char *buf, size_t size)
{
	cs_redact(buf, size, r->secret);
	cs_redact(buf, size, r->secret_url);
}

/* --- audit log: one JSON line per action, flushed before the action and after it --- */

static enum cs_errc audit(struct run *r, const char *phase, const struct cs_purge_action *a)
{
	FILE *fp = r->o->audit;
	if (fp == NULL) {
		return CS_OK;
	}
	char when[32];
	const struct cs_clock *clock = r->o->clock != NULL ? r->o->clock : cs_clock_system();
	cs_clock_format_utc(clock->wall_s(clock), when, sizeof(when));
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "time", when, "phase", phase,
			      "dry_run", !r->o->execute, "resolver", r->rr->id, "address",
			      r->rr->address, "endpoint", a->endpoint, "target", a->target);
	if (o == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "audit log: out of memory");
	}
	bool done = strcmp(phase, "done") == 0;
	int rc = 0;
	if (done) {
		rc |= json_object_set_new(o, "outcome",
					  json_string(cs_action_outcome_name(a->outcome)));
		rc |= json_object_set_new(o, "http_status",
					  a->http_status >= 0 ? json_integer(a->http_status)
							      : json_null());
		rc |= json_object_set_new(o, "exit_code",
					  a->exit_code >= 0 ? json_integer(a->exit_code)
							    : json_null());
		rc |= json_object_set_new(o, "error",
					  a->error[0] ? json_string(a->error) : json_null());
	}
	char *line = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (line == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "audit log: out of memory");
	}
	/* a last guard: the line is built from redacted texts, and must stay so */
	cs_redact(line, strlen(line) + 1, r->secret);
	int w = fprintf(fp, "%s\n", line);
	free(line); /* jansson's allocator */
	if (w < 0 || fflush(fp) != 0) {
		int e = errno;
		return cs_error_set(r->err, CS_EIO, "audit log: cannot write: %s", strerror(e));
	}
	return CS_OK;
}

/* --- back-off --- */

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

uint64_t cs_purge_now_ms(void)
{
	const struct cs_clock *c = cs_clock_system();
	return c->mono_ms(c);
}

/* --- steps --- */

static void do_step(struct run *r, const struct step *s, struct cs_purge_action *a)
{
	unsigned attempts = r->o->attempts > 0 ? r->o->attempts : 3;
	uint32_t backoff = r->o->backoff_ms;
	for (unsigned i = 0; i < attempts; i++) {
		struct cs_retry retry = { 0 };
		a->error[0] = '\0';
		a->http_status = -1;
		a->exit_code = -1;
		switch (s->type) {
		case CS_PURGE_EXEC:
			cs_endpoint_exec(r, s, a, &retry);
			break;
		case CS_PURGE_HTTP:
		case CS_PURGE_POWERDNS_API:
			cs_endpoint_http(r, s, a, &retry);
			break;
		case CS_PURGE_UNBOUND_CONTROL:
			cs_endpoint_unbound(r, s, a, &retry);
			break;
		case CS_PURGE_INSTRUCTIONS:
			a->outcome = CS_ACTION_SKIPPED;
			break;
		}
		cs_run_redact(r, a->error, sizeof(a->error));
		if (a->outcome == CS_ACTION_OK || !retry.again || i + 1 == attempts) {
			return;
		}
		const uint32_t wait = retry.after_ms > backoff ? retry.after_ms : backoff;
		cs_log(CS_LOG_WARNING, CS_LOG_PURGE,
		       "resolver %s: %s %s: %s; trying again in %u ms", r->rr->id, a->endpoint,
		       a->target, a->error, (unsigned)wait);
		sleep_ms(wait);
		backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
	}
}

static struct cs_purge_action *new_action(struct run *r, const char *target)
{
	struct cs_purge_block *pb = r->pb;
	struct cs_purge_action *v = cs_reallocarray(pb->actions, pb->n_actions + 1, sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	pb->actions = v;
	struct cs_purge_action *a = &v[pb->n_actions++];
	memset(a, 0, sizeof(*a));
	(void)cs_strlcpy(a->endpoint, cs_purge_type_name(r->cfg->type), sizeof(a->endpoint));
	(void)cs_strlcpy(a->target, target, sizeof(a->target));
	cs_run_redact(r, a->target, sizeof(a->target));
	a->http_status = -1;
	a->exit_code = -1;
	return a;
}

static enum cs_errc run_step(struct run *r, const struct step *s)
{
	struct cs_purge_action *a = new_action(r, s->shown);
	if (a == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	enum cs_errc rc = audit(r, "planned", a);
	if (rc != CS_OK) {
		return rc;
	}
	if (!r->o->execute) {
		a->outcome = CS_ACTION_SKIPPED;
		(void)cs_strlcpy(a->error, "dry run: use --execute to act", sizeof(a->error));
		return CS_OK;
	}
	cs_log(CS_LOG_INFO, CS_LOG_PURGE, "resolver %s: %s %s", r->rr->id, a->endpoint, a->target);
	do_step(r, s, a);
	if (a->outcome == CS_ACTION_FAILED) {
		cs_log(CS_LOG_WARNING, CS_LOG_PURGE, "resolver %s: %s %s failed: %s", r->rr->id,
		       a->endpoint, a->target, a->error);
	}
	return audit(r, "done", a);
}

/** A failure to prepare a step (a bad template, a missing secret) is a failed action. */
static enum cs_errc failed_step(struct run *r, const char *target, const char *why)
{
	struct cs_purge_action *a = new_action(r, target);
	if (a == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	a->outcome = CS_ACTION_FAILED;
	(void)cs_strlcpy(a->error, why, sizeof(a->error));
	cs_run_redact(r, a->error, sizeof(a->error));
	enum cs_errc rc = audit(r, "planned", a);
	return rc == CS_OK ? audit(r, "done", a) : rc;
}

static char *join(char *const *argv);

enum cs_errc cs_argv_expand(char *const *tmpl, const struct cs_subst *s, char ***argv, char **shown,
			    struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	char **shown_v = NULL;
	size_t n = 0;

	*argv = NULL;
	*shown = NULL;
	while (tmpl[n] != NULL) {
		n++;
	}
	*argv = cs_calloc(n + 1, sizeof(char *));
	shown_v = cs_calloc(n + 1, sizeof(char *));
	if (*argv == NULL || shown_v == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	/* one template, one argument: no splitting, no shell, whatever the value holds */
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		rc = cs_template_expand(tmpl[i], s, CS_TMPL_PLAIN, &(*argv)[i], err);
		if (rc == CS_OK) {
			rc = cs_template_expand(tmpl[i], s, CS_TMPL_REDACT, &shown_v[i], err);
		}
	}
	if (rc == CS_OK) {
		*shown = join(shown_v);
		if (*shown == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		}
	}
	strv_free(shown_v);
	if (rc != CS_OK) {
		strv_free(*argv);
		*argv = NULL;
	}
	return rc;
}

static char *join(char *const *argv)
{
	char buf[CS_ACTION_TARGET_MAX];
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL && used + 1 < sizeof(buf); i++) {
		(void)cs_snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? " " : "", argv[i]);
		used = strlen(buf);
	}
	return cs_strdup(buf);
}

/** Expand one exec command or http request for subst s into a step. */
static enum cs_errc build_step(struct run *r, size_t cmd, const struct cs_subst *s, struct step *st,
			       struct cs_error *why)
{
	const struct cs_purge_cfg *c = r->cfg;
	enum cs_errc rc = CS_OK;
	st->type = c->type;
	if (c->type == CS_PURGE_EXEC) {
		return cs_argv_expand(c->commands[cmd], s, &st->argv, &st->shown, why);
	}
	/* http */
	char *shown_url = NULL;
	rc = cs_template_expand(c->url, s, CS_TMPL_URL, &st->url, why);
	if (rc == CS_OK) {
		rc = cs_template_expand(c->url, s, CS_TMPL_URL_REDACT, &shown_url, why);
	}
	st->method = cs_strdup(c->method != NULL ? c->method : "POST");
	st->headers = cs_calloc(c->n_headers + 1, sizeof(char *));
	if (rc == CS_OK && (st->method == NULL || st->headers == NULL)) {
		rc = cs_error_set(why, CS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->n_headers && rc == CS_OK && st->headers != NULL; i++) {
		char *v = NULL;
		rc = cs_template_expand(c->headers[i].value, s, CS_TMPL_PLAIN, &v, why);
		if (rc == CS_OK) {
			size_t len = strlen(c->headers[i].name) + strlen(v) + 3;
			st->headers[i] = cs_malloc(len);
			if (st->headers[i] == NULL) {
				rc = cs_error_set(why, CS_ENOMEM, "out of memory");
			} else {
				(void)cs_snprintf(st->headers[i], len, "%s: %s", c->headers[i].name,
						  v);
			}
		}
		cs_secret_wipe_free(v);
	}
	if (rc == CS_OK) {
		char t[CS_ACTION_TARGET_MAX];
		(void)cs_snprintf(t, sizeof(t), "%s %s", st->method, shown_url);
		st->shown = cs_strdup(t);
		rc = st->shown != NULL ? CS_OK : cs_error_set(why, CS_ENOMEM, "out of memory");
	}
	cs_free(shown_url);
	return rc;
}

static bool cfg_per_name(const struct cs_purge_cfg *c)
{
	if (c->type == CS_PURGE_HTTP) {
		bool per = cs_template_per_name(c->url);
		for (size_t i = 0; i < c->n_headers; i++) {
			per = per || cs_template_per_name(c->headers[i].value);
		}
		return per;
	}
	for (size_t i = 0; i < c->n_commands; i++) {
		for (char **a = c->commands[i]; *a != NULL; a++) {
			if (cs_template_per_name(*a)) {
				return true;
			}
		}
	}
	return false;
}

/** exec and http: each command (or the request) once, or once per bad (name, type). */
static enum cs_errc run_templates(struct run *r, const char *zone)
{
	const struct cs_purge_cfg *c = r->cfg;
	const size_t n_cmds = c->type == CS_PURGE_EXEC ? c->n_commands : 1;
	const bool per_name = cfg_per_name(c);
	const struct cs_resolver_report *rr = r->rr;
	enum cs_errc rc = CS_OK;
	size_t steps = 0;

	for (size_t f = 0; f < (per_name ? rr->n_findings : 1) && rc == CS_OK; f++) {
		char name[CS_NAME_STR_MAX] = "";
		char type[16] = "";
		if (per_name) {
			const struct cs_report_finding *fi = &rr->findings[f];
			if (!cs_verdict_needs_purge(fi->verdict) ||
			    cs_name_normalize(fi->name, name, sizeof(name)) != 0) {
				continue;
			}
			cs_type_format(fi->type, type, sizeof(type));
		}
		const struct cs_subst s = { .zone = zone,
					    .name = per_name ? name : NULL,
					    .type = per_name ? type : NULL,
					    .secret = r->secret };
		for (size_t k = 0; k < n_cmds && rc == CS_OK && steps < MAX_STEPS; k++, steps++) {
			struct step st = { 0 };
			struct cs_error why = { 0 };
			enum cs_errc b = build_step(r, k, &s, &st, &why);
			if (b == CS_ENOMEM) {
				rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
			} else if (b != CS_OK) {
				rc = failed_step(
					r, c->type == CS_PURGE_EXEC ? c->commands[k][0] : "request",
					why.msg);
			} else {
				rc = run_step(r, &st);
			}
			step_clean(&st);
		}
		if (steps >= MAX_STEPS && rc == CS_OK) {
			cs_log(CS_LOG_WARNING, CS_LOG_PURGE,
			       "resolver %s: more than %d purge steps; the rest were not run",
			       rr->id, MAX_STEPS);
			break;
		}
	}
	return rc;
}

static enum cs_errc run_powerdns(struct run *r, const char *zone)
{
	const struct cs_subst s = { .zone = zone, .secret = r->secret };
	struct step st = { .type = CS_PURGE_POWERDNS_API, .check_count = true };
	struct cs_error why = { 0 };
	char tmpl[1024];
	const char *url = r->cfg->url;
	size_t ul = strlen(url);
	/* flush.md §3.2: domain must be absolute; subtree=true clears the whole zone */
	(void)cs_snprintf(tmpl, sizeof(tmpl),
			  "%s%sapi/v1/servers/localhost/cache/flush?domain={zone}&subtree=true",
			  url, ul > 0 && url[ul - 1] == '/' ? "" : "/");
	char *shown = NULL;
	char *hdr = NULL;
	enum cs_errc rc = cs_template_expand(tmpl, &s, CS_TMPL_URL, &st.url, &why);
	if (rc == CS_OK) {
		rc = cs_template_expand(tmpl, &s, CS_TMPL_URL_REDACT, &shown, &why);
	}
	if (rc == CS_OK) {
		rc = cs_template_expand("X-API-Key: {secret}", &s, CS_TMPL_PLAIN, &hdr, &why);
	}
	st.method = cs_strdup("PUT");
	st.headers = cs_calloc(2, sizeof(char *));
	if (rc == CS_OK && (st.method == NULL || st.headers == NULL)) {
		rc = cs_error_set(&why, CS_ENOMEM, "out of memory");
	}
	if (rc == CS_OK && st.headers != NULL) {
		st.headers[0] = hdr;
		hdr = NULL;
		char t[CS_ACTION_TARGET_MAX];
		(void)cs_snprintf(t, sizeof(t), "PUT %s", shown);
		st.shown = cs_strdup(t);
		rc = st.shown != NULL ? CS_OK : cs_error_set(&why, CS_ENOMEM, "out of memory");
	}
	if (rc == CS_ENOMEM) {
		rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
	} else if (rc != CS_OK) {
		rc = failed_step(r, "cache/flush", why.msg);
	} else {
		rc = run_step(r, &st);
	}
	cs_secret_wipe_free(hdr);
	cs_free(shown);
	step_clean(&st);
	return rc;
}

static enum cs_errc run_unbound(struct run *r, const char *zone)
{
	static const char prefix[] = "unbound-control ";
	enum cs_errc rc = CS_OK;
	size_t done = 0;
	/* the plan's Unbound lines are the commands (for unknown software too, labelled) */
	for (size_t i = 0; i < r->pb->n_instructions && rc == CS_OK; i++) {
		const char *p = strstr(r->pb->instructions[i], prefix);
		if (p == NULL) {
			continue;
		}
		struct step st = { .type = CS_PURGE_UNBOUND_CONTROL };
		char t[CS_ACTION_TARGET_MAX];
		st.command = cs_strdup(p + strlen(prefix));
		(void)cs_snprintf(t, sizeof(t), "%s: %s", r->cfg->socket, p + strlen(prefix));
		st.shown = cs_strdup(t);
		if (st.command == NULL || st.shown == NULL) {
			rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
		} else {
			rc = run_step(r, &st);
			done++;
		}
		step_clean(&st);
	}
	if (rc == CS_OK && done == 0) {
		struct step st = { .type = CS_PURGE_UNBOUND_CONTROL };
		char t[CS_ACTION_TARGET_MAX];
		char cmd[CS_NAME_STR_MAX + 16];
		(void)cs_snprintf(cmd, sizeof(cmd), "flush_zone %s", zone);
		(void)cs_snprintf(t, sizeof(t), "%s: %s", r->cfg->socket, cmd);
		st.command = cs_strdup(cmd);
		st.shown = cs_strdup(t);
		rc = st.command != NULL && st.shown != NULL
			     ? run_step(r, &st)
			     : cs_error_set(r->err, CS_ENOMEM, "out of memory");
		step_clean(&st);
	}
	return rc;
}

/** environ without any CACHESWEEP_SECRET, plus ours: the secret never goes into argv. */
static enum cs_errc secret_env(struct run *r)
{
	size_t n = 0;
	while (environ[n] != NULL) {
		n++;
	}
	r->envp = cs_calloc(n + 2, sizeof(char *));
	size_t len = sizeof(SECRET_ENV) + 1 + strlen(r->secret);
	char *mine = cs_malloc(len);
	if (r->envp == NULL || mine == NULL) {
		cs_free(mine);
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], SECRET_ENV "=", sizeof(SECRET_ENV)) != 0) {
			r->envp[k++] = environ[i];
		}
	}
	(void)cs_snprintf(mine, len, "%s=%s", SECRET_ENV, r->secret);
	r->envp[k] = mine;
	return CS_OK;
}

enum cs_errc cs_purge_execute(const struct cs_purge_opts *opts, const char *zone,
			      const struct cs_resolver_report *rr, const struct cs_resolver *res,
			      struct cs_purge_block *pb, struct cs_error *err)
{
	struct cs_purge_opts o = *opts;
	struct run r = { .o = &o, .rr = rr, .pb = pb, .err = err };
	char *secret = NULL;
	enum cs_errc rc = CS_OK;

	if (o.timeout_ms == 0) {
		o.timeout_ms = 10000;
	}
	if (o.attempts == 0) {
		o.attempts = 3;
	}
	if (res == NULL || !res->has_purge || res->purge.type == CS_PURGE_INSTRUCTIONS) {
		return CS_OK; /* instructions only: nothing to run */
	}
	r.cfg = &res->purge;
	struct cs_error serr = { 0 };
	if (cs_secret_load(r.cfg, &secret, &serr) != CS_OK) {
		if (serr.code == CS_ENOMEM) {
			return cs_error_set(err, CS_ENOMEM, "out of memory");
		}
		return failed_step(&r, cs_purge_type_name(r.cfg->type), serr.msg);
	}
	r.secret = secret;
	if (secret != NULL) {
		const struct cs_subst s = { .secret = secret };
		if (cs_template_expand("{secret}", &s, CS_TMPL_URL, &r.secret_url, err) != CS_OK) {
			cs_secret_wipe_free(secret);
			return cs_error_set(err, CS_ENOMEM, "out of memory");
		}
	}
	if (secret != NULL && r.cfg->type == CS_PURGE_EXEC) {
		rc = secret_env(&r);
		if (rc != CS_OK) {
			cs_secret_wipe_free(r.secret_url);
			cs_secret_wipe_free(secret);
			return rc;
		}
	}
	switch (r.cfg->type) {
	case CS_PURGE_EXEC:
	case CS_PURGE_HTTP:
		rc = run_templates(&r, zone);
		break;
	case CS_PURGE_POWERDNS_API:
		rc = run_powerdns(&r, zone);
		break;
	case CS_PURGE_UNBOUND_CONTROL:
		rc = run_unbound(&r, zone);
		break;
	case CS_PURGE_INSTRUCTIONS:
		break;
	}
	if (r.envp != NULL) {
		/* only our own entry is ours: the rest belong to environ */
		for (char **e = r.envp; *e != NULL; e++) {
			if (strncmp(*e, SECRET_ENV "=", sizeof(SECRET_ENV)) == 0) {
				cs_secret_wipe_free(*e);
			}
		}
		cs_free(r.envp);
	}
	cs_secret_wipe_free(r.secret_url);
	cs_secret_wipe_free(secret);
	return rc;
}
