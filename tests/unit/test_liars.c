/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One run against honest resolvers and every kind of liar (tests/fakes/liar.h) at once, the
 * way a sweep meets the Internet: the run must end within timeout × (retries + 1) plus slack,
 * every honest resolver must get its right verdict, and nothing a liar sends may crash or
 * hang the engine or put a name outside the zone into a finding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/event.h>

#include <cachesweep/classify.h>
#include <cachesweep/clock.h>
#include <cachesweep/config.h>
#include <cachesweep/engine.h>

#include "liar.h"
#include "test_alloc.h"

#define TIMEOUT_MS 300u
#define RETRIES    1u
#define BUDGET_MS  (TIMEOUT_MS * (RETRIES + 1u))
/* A phase may overrun its budget by one timer's lateness; the run, by the loop's work and a
 * loaded machine (CS_TEST_SLACK_MS raises it, e.g. under valgrind). */
#define PHASE_SLACK_MS 100u
#define RUN_SLACK_MS   1500u

static const char *const names[] = { "shop1.se.", "www.shop1.se." };
#define N_NAMES (sizeof(names) / sizeof(names[0]))
#define N_MODES ((size_t)LIAR_MODE_COUNT)

static uint64_t slack_ms(uint64_t dflt)
{
	const char *s = getenv("CS_TEST_SLACK_MS");
	uint32_t v = 0;
	if (s != NULL && cs_parse_u32(s, 0, 600000, &v) == 0) {
		return v;
	}
	return dflt;
}

struct run {
	struct cs_observation obs[N_MODES][N_NAMES];
	struct cs_finding f[N_MODES][N_NAMES];
	enum cs_status status[N_MODES];
	bool heals_known[N_MODES];
	uint32_t heals_in_s[N_MODES];
	uint64_t elapsed_ms;
	unsigned queries[N_MODES];
};

/* Probe every mode's resolver for every name in one engine run, then judge. */
static void sweep(struct run *r)
{
	enum liar_mode modes[N_MODES];
	for (size_t i = 0; i < N_MODES; i++) {
		modes[i] = (enum liar_mode)i;
	}
	struct liar *l = liar_start(modes, N_MODES);
	assert_non_null(l);
	struct event_base *base = event_base_new();
	assert_non_null(base);
	const struct cs_probe_limits limits = { .timeout_ms = TIMEOUT_MS,
						.retries = RETRIES,
						.concurrency = 1000,
						.qps_per_resolver = 0,
						.qps_total = 0 };
	const struct cs_clock *clock = cs_clock_system();
	struct cs_engine *eng = NULL;
	struct cs_error err = { 0 };
	assert_int_equal(cs_engine_new(base, &limits, clock, N_MODES, &eng, &err), CS_OK);
	for (size_t i = 0; i < N_MODES; i++) {
		for (size_t n = 0; n < N_NAMES; n++) {
			const struct cs_probe_spec spec = { .resolver_index = i,
							    .address = "127.0.0.1",
							    .port = liar_port(l, i),
							    .qname = names[n],
							    .qtype = CS_TYPE_A,
							    .cd_followup = true };
			assert_int_equal(cs_engine_add(eng, &spec, &r->obs[i][n], &err), CS_OK);
		}
	}
	uint64_t t0 = clock->mono_ms(clock);
	assert_int_equal(cs_engine_run(eng, &err), CS_OK);
	r->elapsed_ms = clock->mono_ms(clock) - t0;
	cs_engine_free(eng);
	event_base_free(base);
	for (size_t i = 0; i < N_MODES; i++) {
		r->queries[i] = liar_queries(l, i);
	}
	liar_stop(l);

	struct cs_truth truth;
	memset(&truth, 0, sizeof(truth));
	(void)cs_strlcpy(truth.zone, "se.", sizeof(truth.zone));
	const uint32_t bad[] = { 2009101201u };
	const struct cs_classify_ctx ctx = { .truth = &truth,
					     .bad_serials = bad,
					     .n_bad_serials = 1 };
	for (size_t i = 0; i < N_MODES; i++) {
		for (size_t n = 0; n < N_NAMES; n++) {
			struct cs_truth_name tn;
			memset(&tn, 0, sizeof(tn));
			(void)cs_strlcpy(tn.name, names[n], sizeof(tn.name));
			tn.type = CS_TYPE_A;
			tn.exists = true;
			tn.has_type = true;
			tn.ttl_s = 300;
			(void)cs_classify(&ctx, &tn, &r->obs[i][n], &r->f[i][n]);
		}
		r->status[i] =
			cs_status_of(r->f[i], N_NAMES, &r->heals_known[i], &r->heals_in_s[i]);
	}
}

static struct run *R;

static int group_setup(void **state)
{
	(void)state;
	R = calloc(1, sizeof(*R));
	if (R == NULL) {
		return -1;
	}
	test_alloc_install();
	sweep(R);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(R);
	R = NULL;
	return 0;
}

static void want_verdict(enum liar_mode m, enum cs_verdict want)
{
	for (size_t n = 0; n < N_NAMES; n++) {
		const struct cs_finding *f = &R->f[m][n];
		if (f->verdict != want) {
			fail_msg("%s, %s: verdict %s, want %s (%s)", liar_mode_name(m), names[n],
				 cs_verdict_name(f->verdict), cs_verdict_name(want), f->detail);
		}
	}
}

static void test_liars_run_ends_within_its_bound(void **state)
{
	(void)state;
	uint64_t bound = BUDGET_MS + slack_ms(RUN_SLACK_MS);
	if (R->elapsed_ms > bound) {
		fail_msg("the run took %llu ms, bound %llu ms", (unsigned long long)R->elapsed_ms,
			 (unsigned long long)bound);
	}
	/* and each phase of each probe kept its own budget, whatever the liar did */
	for (size_t i = 0; i < N_MODES; i++) {
		for (size_t n = 0; n < N_NAMES; n++) {
			const struct cs_observation *o = &R->obs[i][n];
			uint64_t phase_bound = BUDGET_MS + slack_ms(PHASE_SLACK_MS);
			if (o->main.rtt_ms > phase_bound ||
			    (o->cd_probed && o->cd.rtt_ms > phase_bound)) {
				fail_msg("%s, %s: a phase took %u/%u ms, bound %llu",
					 liar_mode_name((enum liar_mode)i), names[n],
					 (unsigned)o->main.rtt_ms, (unsigned)o->cd.rtt_ms,
					 (unsigned long long)phase_bound);
			}
			if (o->main.attempts > RETRIES + 1) {
				fail_msg("%s: %u attempts", liar_mode_name((enum liar_mode)i),
					 o->main.attempts);
			}
		}
	}
}

static void test_liars_honest_resolvers_get_their_verdicts(void **state)
{
	(void)state;
	want_verdict(LIAR_HONEST_OK, CS_VERDICT_OK);
	assert_int_equal(R->status[LIAR_HONEST_OK], CS_STATUS_HEALTHY);

	want_verdict(LIAR_HONEST_NXDOMAIN, CS_VERDICT_CACHED_NXDOMAIN);
	assert_int_equal(R->status[LIAR_HONEST_NXDOMAIN], CS_STATUS_NEEDS_PURGE);
	assert_true(R->heals_known[LIAR_HONEST_NXDOMAIN]);
	assert_int_equal(R->heals_in_s[LIAR_HONEST_NXDOMAIN], 3412);

	want_verdict(LIAR_HONEST_DNSSEC, CS_VERDICT_SERVFAIL_DNSSEC);
	assert_int_equal(R->status[LIAR_HONEST_DNSSEC], CS_STATUS_NEEDS_PURGE);

	want_verdict(LIAR_HONEST_TCP, CS_VERDICT_OK);
	for (size_t n = 0; n < N_NAMES; n++) {
		assert_true(R->obs[LIAR_HONEST_TCP][n].main.via_tcp);
	}
}

static void test_liars_get_unjudged_verdicts(void **state)
{
	(void)state;
	want_verdict(LIAR_WRONG_ID, CS_VERDICT_MALFORMED);
	want_verdict(LIAR_WRONG_QUESTION, CS_VERDICT_MALFORMED);
	/* the kernel drops datagrams from another port on a connected socket: nothing came */
	want_verdict(LIAR_WRONG_PORT, CS_VERDICT_TIMEOUT);
	want_verdict(LIAR_TRUNCATED, CS_VERDICT_MALFORMED);
	want_verdict(LIAR_COMPRESSION_LOOP, CS_VERDICT_MALFORMED);
	want_verdict(LIAR_SLOWLORIS, CS_VERDICT_TIMEOUT);
	want_verdict(LIAR_SILENT, CS_VERDICT_TIMEOUT);
	assert_int_equal(R->status[LIAR_SILENT], CS_STATUS_UNREACHABLE);
	for (size_t n = 0; n < N_NAMES; n++) {
		/* a TC storm: 50 truncated replies start one TCP try, and the reset ends the
		 * probe at once (unreachable, so "timeout"), not 50 connections */
		const struct cs_finding *f = &R->f[LIAR_TC_STORM][n];
		if (!cs_verdict_unjudged(f->verdict)) {
			fail_msg("tc-storm, %s: verdict %s (%s)", names[n],
				 cs_verdict_name(f->verdict), f->detail);
		}
		assert_int_equal(R->obs[LIAR_TC_STORM][n].main.attempts, 1);
		assert_true(R->obs[LIAR_TC_STORM][n].main.rtt_ms < TIMEOUT_MS);
	}
}

static void test_liars_answers_for_other_names_count_for_nothing(void **state)
{
	(void)state;
	/* records for evil.example. and shop9.se.: none is an answer to the question */
	want_verdict(LIAR_OTHER_NAME, CS_VERDICT_CACHED_NODATA);
	for (size_t n = 0; n < N_NAMES; n++) {
		const struct cs_reply_facts *f = &R->obs[LIAR_OTHER_NAME][n].main;
		assert_false(f->has_data);
		assert_int_equal(f->answer_count, 0);
	}
}

static void test_liars_enormous_ttl_is_not_believed(void **state)
{
	(void)state;
	/* RFC 2181 §8: a TTL with the top bit set is read as 0, not as 136 years */
	want_verdict(LIAR_HUGE_TTL, CS_VERDICT_CACHED_NXDOMAIN);
	assert_true(R->heals_known[LIAR_HUGE_TTL]);
	assert_int_equal(R->heals_in_s[LIAR_HUGE_TTL], 0);
}

static void test_liars_flood_ends_and_is_judged(void **state)
{
	(void)state;
	for (size_t n = 0; n < N_NAMES; n++) {
		const struct cs_finding *f = &R->f[LIAR_FLOOD][n];
		/* the right reply may be lost in the flood (socket buffer), never misread */
		if (f->verdict != CS_VERDICT_OK && f->verdict != CS_VERDICT_MALFORMED) {
			fail_msg("flood, %s: verdict %s (%s)", names[n],
				 cs_verdict_name(f->verdict), f->detail);
		}
	}
}

static void test_liars_findings_stay_in_the_zone(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_MODES; i++) {
		for (size_t n = 0; n < N_NAMES; n++) {
			const struct cs_finding *f = &R->f[i][n];
			assert_string_equal(f->name, names[n]);
			assert_true(cs_name_in_zone(f->name, "se."));
			assert_non_null(cs_verdict_name(f->verdict));
		}
		assert_non_null(cs_status_name(R->status[i]));
		/* a liar heard our query (the test did test something) */
		if (R->queries[i] == 0) {
			fail_msg("%s: received no query", liar_mode_name((enum liar_mode)i));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_liars_run_ends_within_its_bound),
		cmocka_unit_test(test_liars_honest_resolvers_get_their_verdicts),
		cmocka_unit_test(test_liars_get_unjudged_verdicts),
		cmocka_unit_test(test_liars_answers_for_other_names_count_for_nothing),
		cmocka_unit_test(test_liars_enormous_ttl_is_not_believed),
		cmocka_unit_test(test_liars_flood_ends_and_is_judged),
		cmocka_unit_test(test_liars_findings_stay_in_the_zone),
	};
	return cmocka_run_group_tests_name("liars", tests, group_setup, group_teardown);
}
