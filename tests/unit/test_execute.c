/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Purge execution without I/O beyond memory: argv building (one template, one argument, no
 * shell), dry runs of every endpoint type, and the secret grep: the audit log, the JSON report
 * and every log line are searched for the secret, raw and percent-encoded, and must not hold
 * it. A missing secret is a failed action that names the variable, never a stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>
#include <cachesweep/log.h>
#include <cachesweep/purge.h>

#include "test_alloc.h"

#define SECRET     "s3cr3t/+=T0k&n"
#define SECRET_URL "s3cr3t%2F%2B%3DT0k%26n"
#define ENV        "CS_TEST_EXECUTE_SECRET"

static char logbuf[16384];
static size_t loglen;

static void sink(void *ctx, enum cs_log_level level, enum cs_log_group group, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)group;
	int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%s\n", msg);
	if (n > 0 && loglen + (size_t)n < sizeof(logbuf)) {
		loglen += (size_t)n;
	}
}

static int setup(void **state)
{
	(void)state;
	test_alloc_install();
	loglen = 0;
	logbuf[0] = '\0';
	cs_log_set_sink(sink, NULL, CS_LOG_TRACE);
	setenv(ENV, SECRET, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_alloc_fail_at(0);
	cs_log_set_sink(NULL, NULL, CS_LOG_WARNING);
	unsetenv(ENV);
	return 0;
}

static void test_argv_expand_one_template_one_argument(void **state)
{
	(void)state;
	char *tmpl[] = { (char *)"flush", (char *)"{zone}", (char *)"a b;c $(x) {name}",
			 (char *)"--type={type}", NULL };
	const struct cs_subst s = {
		.zone = "se.", .name = "shop1.se.", .type = "A", .secret = SECRET
	};
	char **argv = NULL;
	char *shown = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_argv_expand(tmpl, &s, &argv, &shown, &err), CS_OK);
	assert_string_equal(argv[0], "flush");
	assert_string_equal(argv[1], "se.");
	assert_string_equal(argv[2], "a b;c $(x) shop1.se.");
	assert_string_equal(argv[3], "--type=A");
	assert_null(argv[4]);
	assert_string_equal(shown, "flush se. a b;c $(x) shop1.se. --type=A");
	for (size_t i = 0; argv[i] != NULL; i++) {
		cs_secret_wipe_free(argv[i]);
	}
	cs_free(argv);
	cs_free(shown);

	char *bad[] = { (char *)"x", (char *)"{nope}", NULL };
	assert_int_equal(cs_argv_expand(bad, &s, &argv, &shown, &err), CS_EINVAL);
	assert_null(argv);
	assert_null(shown);
}

static struct cs_report *one_resolver_report(void)
{
	struct cs_report *rep = cs_calloc(1, sizeof(*rep));
	assert_non_null(rep);
	rep->truth = cs_truth_new(0, 0);
	assert_non_null(rep->truth);
	(void)cs_strlcpy(rep->zone, "se.", sizeof(rep->zone));
	rep->resolvers = cs_calloc(1, sizeof(*rep->resolvers));
	assert_non_null(rep->resolvers);
	rep->n_resolvers = 1;
	struct cs_resolver_report *rr = &rep->resolvers[0];
	const char *texts[CS_RR_TEXT_COUNT] = { [CS_RR_ID] = "r1", [CS_RR_ADDRESS] = "192.0.2.1" };
	cs_resolver_report_init(rr);
	assert_int_equal(cs_resolver_report_set_texts(rr, texts), CS_OK);
	rr->port = 53;
	rr->status = CS_STATUS_NEEDS_PURGE;
	struct cs_finding f = { .type = CS_TYPE_A, .verdict = CS_VERDICT_CACHED_NXDOMAIN };
	(void)cs_strlcpy(f.name, "shop1.se.", sizeof(f.name));
	rr->findings = cs_report_findings_pack(&f, 1);
	assert_non_null(rr->findings);
	rr->n_findings = 1;
	cs_report_summarize(rep);
	return rep;
}

/* Plan, dry-run execute with the audit log and the JSON report in memory; return both. */
static void dry_run(const struct cs_resolver *r, char **audit, char **json, size_t *n_actions)
{
	struct cs_report *rep = one_resolver_report();
	struct cs_resolver_report *rr = &rep->resolvers[0];
	struct cs_purge_block *pb = cs_resolver_report_purge(rr);
	assert_non_null(pb);
	struct cs_error err = { 0 };
	size_t alen = 0;
	size_t jlen = 0;
	FILE *afp = open_memstream(audit, &alen);
	FILE *jfp = open_memstream(json, &jlen);
	assert_non_null(afp);
	assert_non_null(jfp);
	const struct cs_plan_input in = { .zone = "se.", .rr = rr, .cfg = r };
	assert_int_equal(cs_plan_build(&in, pb, &err), CS_OK);
	const struct cs_purge_opts opts = { .execute = false, .audit = afp };
	assert_int_equal(cs_purge_execute(&opts, "se.", rr, r, pb, &err), CS_OK);
	*n_actions = pb->n_actions;
	for (size_t i = 0; i < pb->n_actions; i++) {
		assert_int_equal(pb->actions[i].outcome, CS_ACTION_SKIPPED);
	}
	assert_int_equal(cs_report_write_json(rep, jfp, true, &err), CS_OK);
	assert_int_equal(fclose(afp), 0);
	assert_int_equal(fclose(jfp), 0);
	cs_report_free(rep);
}

static void assert_no_secret(const char *what, const char *text)
{
	if (strstr(text, SECRET) != NULL || strstr(text, SECRET_URL) != NULL) {
		fail_msg("the secret is in the %s:\n%s", what, text);
	}
}

static void test_dry_run_http_secret_nowhere(void **state)
{
	(void)state;
	struct cs_header h[] = { { (char *)"Authorization", (char *)"Bearer {secret}" } };
	struct cs_resolver r = { .id = (char *)"r1", .address = (char *)"192.0.2.1" };
	r.has_purge = true;
	r.purge.type = CS_PURGE_HTTP;
	r.purge.method = (char *)"POST";
	r.purge.url = (char *)"https://flush.example.net/v1/flush?zone={zone}&key={secret}";
	r.purge.api_key_env = (char *)ENV;
	r.purge.headers = h;
	r.purge.n_headers = 1;
	char *audit = NULL;
	char *json = NULL;
	size_t n = 0;
	dry_run(&r, &audit, &json, &n);
	assert_int_equal(n, 1);
	assert_no_secret("audit log", audit);
	assert_no_secret("report", json);
	assert_no_secret("log", logbuf);
	assert_non_null(strstr(json, "key=<redacted>"));
	assert_non_null(strstr(audit, "\"phase\":\"planned\""));
	assert_non_null(strstr(audit, "\"dry_run\":true"));
	free(audit);
	free(json);
}

static void test_dry_run_powerdns_and_exec_secret_nowhere(void **state)
{
	(void)state;
	struct cs_resolver p = { .id = (char *)"r1", .address = (char *)"192.0.2.1" };
	p.has_purge = true;
	p.purge.type = CS_PURGE_POWERDNS_API;
	p.purge.url = (char *)"http://127.0.0.1:8082";
	p.purge.api_key_env = (char *)ENV;
	char *audit = NULL;
	char *json = NULL;
	size_t n = 0;
	dry_run(&p, &audit, &json, &n);
	assert_int_equal(n, 1);
	assert_no_secret("audit log", audit);
	assert_no_secret("report", json);
	assert_non_null(strstr(json, "cache/flush?domain=se.&subtree=true"));
	free(audit);
	free(json);

	char *cmd[] = { (char *)"flush", (char *)"{zone}", NULL };
	char **cmds[] = { cmd };
	struct cs_resolver e = { .id = (char *)"r1", .address = (char *)"192.0.2.1" };
	e.has_purge = true;
	e.purge.type = CS_PURGE_EXEC;
	e.purge.api_key_env = (char *)ENV;
	e.purge.commands = cmds;
	e.purge.n_commands = 1;
	dry_run(&e, &audit, &json, &n);
	assert_int_equal(n, 1);
	assert_no_secret("audit log", audit);
	assert_no_secret("report", json);
	assert_no_secret("log", logbuf);
	assert_non_null(strstr(json, "\"target\": \"flush se.\""));
	free(audit);
	free(json);
}

static void test_missing_secret_is_a_failed_action_naming_the_variable(void **state)
{
	(void)state;
	struct cs_resolver p = { .id = (char *)"r1", .address = (char *)"192.0.2.1" };
	p.has_purge = true;
	p.purge.type = CS_PURGE_POWERDNS_API;
	p.purge.url = (char *)"http://127.0.0.1:8082";
	p.purge.api_key_env = (char *)"CS_TEST_EXECUTE_UNSET";
	unsetenv("CS_TEST_EXECUTE_UNSET");
	struct cs_report *rep = one_resolver_report();
	struct cs_resolver_report *rr = &rep->resolvers[0];
	struct cs_purge_block *pb = cs_resolver_report_purge(rr);
	assert_non_null(pb);
	struct cs_error err = { 0 };
	const struct cs_purge_opts opts = { .execute = true };
	assert_int_equal(cs_purge_execute(&opts, "se.", rr, &p, pb, &err), CS_OK);
	assert_int_equal(pb->n_actions, 1);
	assert_int_equal(pb->actions[0].outcome, CS_ACTION_FAILED);
	assert_non_null(strstr(pb->actions[0].error, "CS_TEST_EXECUTE_UNSET is not set"));
	cs_report_free(rep);
}

/* Runs real (tiny) processes: a command that echoes the secret it got in CACHESWEEP_SECRET
 * and fails, and one that outlives its time limit. */
static void test_exec_failure_text_redacted_and_timeout_killed(void **state)
{
	(void)state;
	char *echo[] = { (char *)"sh", (char *)"-c",
			 (char *)"echo \"refused key $CACHESWEEP_SECRET\" >&2; exit 3", NULL };
	char *slow[] = { (char *)"sleep", (char *)"5", NULL };
	char **cmds[] = { echo, slow };
	struct cs_resolver e = { .id = (char *)"r1", .address = (char *)"192.0.2.1" };
	e.has_purge = true;
	e.purge.type = CS_PURGE_EXEC;
	e.purge.api_key_env = (char *)ENV;
	e.purge.commands = cmds;
	e.purge.n_commands = 2;
	struct cs_report *rep = one_resolver_report();
	struct cs_resolver_report *rr = &rep->resolvers[0];
	struct cs_purge_block *pb = cs_resolver_report_purge(rr);
	assert_non_null(pb);
	struct cs_error err = { 0 };
	char *audit = NULL;
	size_t alen = 0;
	FILE *afp = open_memstream(&audit, &alen);
	assert_non_null(afp);
	const struct cs_purge_opts opts = {
		.execute = true, .timeout_ms = 300, .attempts = 1, .audit = afp
	};
	assert_int_equal(cs_purge_execute(&opts, "se.", rr, &e, pb, &err), CS_OK);
	assert_int_equal(fclose(afp), 0);
	assert_int_equal(pb->n_actions, 2);
	const struct cs_purge_action *a = &pb->actions[0];
	assert_int_equal(a->outcome, CS_ACTION_FAILED);
	assert_int_equal(a->exit_code, 3);
	assert_string_equal(a->error, "exit 3: refused key <redacted>");
	const struct cs_purge_action *b = &pb->actions[1];
	assert_int_equal(b->outcome, CS_ACTION_FAILED);
	assert_int_equal(b->exit_code, -1);
	assert_non_null(strstr(b->error, "no exit within 300 ms, killed"));
	assert_no_secret("audit log", audit);
	assert_no_secret("log", logbuf);
	free(audit);
	cs_report_free(rep);
}

static void test_instructions_only_no_actions(void **state)
{
	(void)state;
	struct cs_report *rep = one_resolver_report();
	struct cs_resolver_report *rr = &rep->resolvers[0];
	struct cs_purge_block *pb = cs_resolver_report_purge(rr);
	assert_non_null(pb);
	struct cs_error err = { 0 };
	const struct cs_purge_opts opts = { .execute = true };
	assert_int_equal(cs_purge_execute(&opts, "se.", rr, NULL, pb, &err), CS_OK);
	assert_int_equal(pb->n_actions, 0);
	cs_report_free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argv_expand_one_template_one_argument, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_http_secret_nowhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_powerdns_and_exec_secret_nowhere,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_missing_secret_is_a_failed_action_naming_the_variable, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_exec_failure_text_redacted_and_timeout_killed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_instructions_only_no_actions, setup, teardown),
	};
	return cmocka_run_group_tests_name("execute", tests, NULL, NULL);
}
