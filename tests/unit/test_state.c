/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * State between runs and the change-only report, with a fake clock: runs an hour apart,
 * resolvers going bad, changing, healing; a state file that is missing, corrupt or of
 * another schema loads as an error the CLI turns into a warning and a fresh start.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>
#include <cachesweep/state.h>

#include "fake_clock.h"
#include "fake_report.h"
#include "test_alloc.h"

#define HOUR_MS (3600u * 1000u)

/* One run: the report's statuses as given, judged at the clock's time. */
static void run(struct cs_report *rep, const enum cs_status *statuses, const struct fake_clock *fc,
		struct cs_state **state, struct cs_change **changes, size_t *n)
{
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		rep->resolvers[i].status = statuses[i];
	}
	rep->generated_at_s = fc->clock.wall_s(&fc->clock);
	struct cs_state *next = NULL;
	cs_free(*changes);
	assert_int_equal(cs_state_update(*state, rep, rep->generated_at_s, &next, changes, n, NULL),
			 CS_OK);
	cs_state_free(*state);
	*state = next;
}

static void test_state_changes_over_runs(void **state)
{
	(void)state;
	test_alloc_install();
	struct cs_report *rep = fake_report_new();
	assert_non_null(rep);
	struct fake_clock fc;
	fake_clock_init(&fc, FAKE_REPORT_AT);
	struct cs_state *st = NULL;
	struct cs_change *ch = NULL;
	size_t n = 99;
	const int64_t t0 = FAKE_REPORT_AT;

	/* run 1, fresh start: only the resolvers that are not healthy are news */
	const enum cs_status r1[] = { CS_STATUS_HEALTHY, CS_STATUS_HEALTHY, CS_STATUS_UNREACHABLE,
				      CS_STATUS_HEALTHY };
	run(rep, r1, &fc, &st, &ch, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].resolver_index, 2);
	assert_int_equal(ch[0].kind, CS_CHANGE_BAD);
	assert_true(ch[0].first_seen);
	assert_int_equal(st->n_entries, 4);
	assert_int_equal(st->entries[0].since_s, t0);

	/* run 2, an hour on, nothing changed: no changes, "since" stays */
	fake_clock_advance(&fc, HOUR_MS);
	run(rep, r1, &fc, &st, &ch, &n);
	assert_int_equal(n, 0);
	assert_null(ch);
	assert_int_equal(st->entries[2].since_s, t0);
	assert_int_equal(st->updated_at_s, t0 + 3600);

	/* run 3: isp-1 goes bad, dead-1 answers again but needs a purge */
	fake_clock_advance(&fc, HOUR_MS);
	const enum cs_status r3[] = { CS_STATUS_NEEDS_PURGE, CS_STATUS_HEALTHY,
				      CS_STATUS_NEEDS_PURGE, CS_STATUS_HEALTHY };
	run(rep, r3, &fc, &st, &ch, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ch[0].resolver_index, 0);
	assert_int_equal(ch[0].kind, CS_CHANGE_BAD);
	assert_false(ch[0].first_seen);
	assert_int_equal(ch[0].from, CS_STATUS_HEALTHY);
	assert_int_equal(ch[0].since_s, t0); /* healthy since the first run */
	assert_int_equal(ch[0].changed_at_s, t0 + 7200);
	assert_int_equal(ch[1].resolver_index, 2);
	assert_int_equal(ch[1].kind, CS_CHANGE_CHANGED);
	assert_int_equal(ch[1].from, CS_STATUS_UNREACHABLE);
	assert_int_equal(ch[1].to, CS_STATUS_NEEDS_PURGE);
	assert_int_equal(st->entries[0].since_s, t0 + 7200);

	/* run 4, 90 minutes on: isp-1 healed; bad since run 3 */
	fake_clock_advance(&fc, HOUR_MS + HOUR_MS / 2);
	const enum cs_status r4[] = { CS_STATUS_HEALTHY, CS_STATUS_HEALTHY, CS_STATUS_NEEDS_PURGE,
				      CS_STATUS_HEALTHY };
	run(rep, r4, &fc, &st, &ch, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].kind, CS_CHANGE_HEALED);
	assert_int_equal(ch[0].from, CS_STATUS_NEEDS_PURGE);
	assert_int_equal(ch[0].since_s, t0 + 7200);
	assert_int_equal(ch[0].changed_at_s, t0 + 7200 + 5400);
	assert_int_equal(st->entries[2].since_s, t0 + 7200);

	cs_free(ch);
	cs_state_free(st);
	cs_report_free(rep);
}

static char *temp_path(void)
{
	char *path = strdup("/tmp/cs-state-test.XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void test_state_roundtrip(void **state)
{
	(void)state;
	test_alloc_install();
	struct cs_report *rep = fake_report_new();
	struct cs_state *st = NULL;
	struct cs_state *back = NULL;
	struct cs_change *ch = NULL;
	size_t n = 0;
	assert_int_equal(cs_state_update(NULL, rep, FAKE_REPORT_AT, &st, &ch, &n, NULL), CS_OK);
	char *path = temp_path();
	FILE *fp = fopen(path, "w");
	assert_int_equal(cs_state_write_json(st, fp, NULL), CS_OK);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cs_state_load(path, &back, NULL), CS_OK);
	assert_string_equal(back->zone, "se.");
	assert_int_equal(back->updated_at_s, FAKE_REPORT_AT);
	assert_int_equal(back->n_entries, st->n_entries);
	for (size_t i = 0; i < st->n_entries; i++) {
		assert_string_equal(back->entries[i].id, st->entries[i].id);
		assert_int_equal(back->entries[i].status, st->entries[i].status);
		assert_int_equal(back->entries[i].since_s, st->entries[i].since_s);
	}
	unlink(path);
	free(path);
	cs_free(ch);
	cs_state_free(back);
	cs_state_free(st);
	cs_report_free(rep);
}

static void test_state_load_missing_or_corrupt(void **state)
{
	(void)state;
	test_alloc_install();
	struct cs_state *st = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_state_load("/nonexistent/cachesweep/state.json", &st, &err), CS_EIO);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_null(st);

	static const struct {
		const char *text;
		const char *want; /* in the message */
	} bad[] = {
		{ "", "" },
		{ "{ \"schema\": \"cachesweep.state/1\", ", ":1:" },
		{ "[]", "(top)" },
		{ "{ \"schema\": \"cachesweep.report/1\" }", "schema" },
		{ "{ \"schema\": \"cachesweep.state/1\", \"zone\": \"se.\", \"updated_at_s\": 1, "
		  "\"resolvers\": {} }",
		  "resolvers: expected an array" },
		{ "{ \"schema\": \"cachesweep.state/1\", \"zone\": \"se.\", \"updated_at_s\": 1, "
		  "\"resolvers\": [ { \"id\": \"a\", \"status\": \"sick\", \"since_s\": 1 } ] }",
		  "resolvers[0]: expected \"status\"" },
		{ "{ \"schema\": \"cachesweep.state/1\", \"zone\": \"se.\", \"updated_at_s\": 1, "
		  "\"resolvers\": [ { \"id\": \"a\", \"status\": \"healthy\", \"since_s\": -5 } ] "
		  "}",
		  "since_s" },
		{ "{ \"schema\": \"cachesweep.state/1\", \"zone\": \"se.\", \"zone\": \"nl.\" }",
		  "duplicate" },
	};
	char *path = temp_path();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i].text);
		memset(&err, 0, sizeof(err));
		if (cs_state_load(path, &st, &err) != CS_ECONFIG) {
			fail_msg("case %zu loaded: %s", i, bad[i].text);
		}
		assert_null(st);
		if (strstr(err.msg, bad[i].want) == NULL || strstr(err.msg, path) == NULL) {
			fail_msg("case %zu: message \"%s\" lacks \"%s\" or the path", i, err.msg,
				 bad[i].want);
		}
	}
	unlink(path);
	free(path);
}

static void test_state_update_out_of_memory(void **state)
{
	(void)state;
	test_alloc_install();
	struct cs_report *rep = fake_report_new();
	struct cs_state_entry e = { .id = "isp-1", .status = CS_STATUS_HEALTHY, .since_s = 1 };
	struct cs_state prev = { .zone = "se.", .n_entries = 1, .entries = &e };
	for (size_t k = 1;; k++) {
		struct cs_state *next = NULL;
		struct cs_change *ch = NULL;
		size_t n = 0;
		test_alloc_fail_at(k);
		enum cs_errc rc = cs_state_update(&prev, rep, 2, &next, &ch, &n, NULL);
		test_alloc_fail_at(0);
		if (rc == CS_OK) {
			assert_true(k > 1);
			cs_free(ch);
			cs_state_free(next);
			break;
		}
		assert_int_equal(rc, CS_ENOMEM);
		assert_null(next);
		assert_null(ch);
	}
	cs_report_free(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_changes_over_runs),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_load_missing_or_corrupt),
		cmocka_unit_test(test_state_update_out_of_memory),
	};
	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
