/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probe engine: every resolver × name in flight on one libevent loop, on our own
 * non-blocking UDP sockets (TCP when a reply is truncated or the resolver is TCP-only),
 * within the configured timeouts, retries, concurrency and rates.
 *
 *	struct cs_engine *eng = NULL;
 *	cs_engine_new(base, &cfg->limits, cs_clock_system(), n_resolvers, &eng, &err);
 *	for each resolver r, name n:
 *		cs_engine_add(eng, &(struct cs_probe_spec){ ... }, &obs[r * n_names + n], &err);
 *	cs_engine_run(eng, &err);       // returns when every probe has ended
 *	cs_engine_free(eng);
 *
 * A resolver's failure (timeout, refusal, garbage) is written into its observation; it is
 * never an error of the run. A probe costs at most timeout_ms × (retries + 1) per query.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/clock.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/observe.h>

struct event_base;
struct cs_engine;

struct cs_probe_spec {
	size_t resolver_index; /**< < n_resolvers given to cs_engine_new */
	const char *address;   /**< numeric; copied */
	uint16_t port;
	enum cs_transport transport;
	const char *qname; /**< normalised; copied */
	uint16_t qtype;
	uint16_t qclass;   /**< 0 or 1: IN; 3: CH (CHAOS, for fingerprints) */
	bool cd_followup;  /**< on SERVFAIL, ask again with CD=1 */
	bool no_recursion; /**< RD=0, for asking authoritative servers */
};

/** Called when every probe of one resolver has ended (for streaming output). */
typedef void cs_engine_resolver_done_fn(void *arg, size_t resolver_index);

/** \param out  a new engine; free with cs_engine_free(). base and clock are borrowed. */
enum cs_errc cs_engine_new(struct event_base *base, const struct cs_probe_limits *limits,
			   const struct cs_clock *clock, size_t n_resolvers, struct cs_engine **out,
			   struct cs_error *err);

/** Queue one probe. obs is borrowed and written when the probe ends. */
enum cs_errc cs_engine_add(struct cs_engine *eng, const struct cs_probe_spec *spec,
			   struct cs_observation *obs, struct cs_error *err);

void cs_engine_on_resolver_done(struct cs_engine *eng, cs_engine_resolver_done_fn *fn, void *arg);

/** Run the loop until every queued probe has ended. CS_OK unless the loop itself failed. */
enum cs_errc cs_engine_run(struct cs_engine *eng, struct cs_error *err);

void cs_engine_free(struct cs_engine *eng);
