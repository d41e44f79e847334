/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The probe engine: every resolver × name in flight on one libevent loop. UDP queries share a
 * few sockets (replies matched by source address, port and ID; ICMP errors read from the
 * error queue); TCP, DNS over TLS and DNS over HTTPS get a connection per query. Within the
 * configured timeouts, retries, window and rates.
 *
 * Streaming, for any number of resolvers in bounded memory: the engine asks for a
 * resolver's probes when it admits it into the window and hands its observations back when
 * they have all ended.
 *
 *	struct cs_engine_source src = { .n_resolvers = n, .probes_of = ..., .spec = ...,
 *					.done = ..., .arg = ... };
 *	cs_engine_new(base, &cfg->limits, cs_clock_system(), n, &eng, &err);
 *	cs_engine_run_source(eng, &src, &err);
 *	cs_engine_free(eng);
 *
 * Or, for a few probes, all queued first with the caller's storage:
 *
 *	cs_engine_new(base, &cfg->limits, cs_clock_system(), n_resolvers, &eng, &err);
 *	for each resolver r, name n:
 *		cs_engine_add(eng, &(struct cs_probe_spec){ ... }, &obs[r * n_names + n], &err);
 *	cs_engine_set_deadline(eng, clock->mono_ms(clock) + 60000);   // optional
 *	cs_engine_run(eng, &err);       // returns when every probe has ended
 *	cs_engine_free(eng);
 *
 * The window (limits.concurrency) counts resolvers: a resolver holds a place from its
 * admission until its last probe ends, or until every query it has out has waited longer
 * than the slot hold (four times the run's smoothed reply time, from 10 ms up to a quarter of
 * the timeout, 50..1000 ms) and none is queued: a silent
 * resolver waits out its timeouts without holding anyone else back. Queries awaiting their
 * first reply are further bounded by what the shared sockets' receive buffers hold.
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
struct cs_keyset;

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
	/** The zone's keys (dnssec.h), or NULL: data served without AD is checked against them
	 *  (struct cs_sig_facts). Borrowed: must outlive cs_engine_run(). */
	const struct cs_keyset *keys;
	/** For CS_TRANSPORT_TLS (borrowed, must outlive cs_engine_run()): the name the
	 *  certificate must carry (NULL: the address), and a CA file (NULL: the system's). */
	const char *tls_auth_name;
	const char *tls_ca_file;
	/** For CS_TRANSPORT_HTTPS (borrowed): the DoH URL; its host is pinned to address.
	 *  tls_ca_file applies too. */
	const char *url;
};

/** What a streaming run probes. Every probe of a resolver must have the same address, port
 *  and transport settings. */
struct cs_engine_source {
	size_t n_resolvers;
	/** How many probes resolver r gets (0: skipped, no callback for it). */
	size_t (*probes_of)(void *arg, size_t r);
	/** Fill spec k of resolver r. Strings it points to (qname, tls names, url) and keys must
	 *  stay valid until done(r) returns. resolver_index is set by the engine. */
	enum cs_errc (*spec)(void *arg, size_t r, size_t k, struct cs_probe_spec *out,
			     struct cs_error *err);
	/** Probe k of r ended (in any order of k): obs is valid during the call only. */
	void (*probe_done)(void *arg, size_t r, size_t k, const struct cs_observation *obs);
	/** Every probe of r ended. May be NULL. */
	void (*done)(void *arg, size_t r);
	void *arg;
};

/** Run a streaming source to its end (the engine must be new, with n_resolvers ≥
 *  src->n_resolvers, and no cs_engine_add before). A deadline set before applies. CS_OK
 *  unless the loop failed, spec() failed or memory ran out. */
enum cs_errc cs_engine_run_source(struct cs_engine *eng, const struct cs_engine_source *src,
				  struct cs_error *err);

/** Counters of a finished run, for logs and the benchmark. */
struct cs_engine_stats {
	size_t queries_sent;      /**< UDP, TCP, TLS and HTTPS queries, retries included */
	size_t tcp_connections;   /**< TCP and TLS connections opened (queries share them) */
	size_t replies_late;      /**< replies to queries that had already timed out */
	size_t datagrams_stray;   /**< datagrams from no resolver we asked */
	size_t send_deferred;     /**< sends put off because the socket buffer was full */
	size_t peak_window;       /**< most resolvers in the window at once */
	size_t peak_in_flight;    /**< most queries awaiting a first reply at once */
	size_t udp_in_flight_cap; /**< the bound from the receive buffers */
};
void cs_engine_get_stats(const struct cs_engine *eng, struct cs_engine_stats *out);

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

/**
 * Give the run a deadline, in milliseconds on the engine's clock (mono_ms). When it passes,
 * every probe still queued or in flight ends at once with outcome CS_OUTCOME_TIMEOUT and a
 * detail saying the deadline cut it short; the resolver-done callbacks run for them as usual
 * and cs_engine_run() returns CS_OK. A deadline already past ends every probe unsent.
 * Call before cs_engine_run().
 */
void cs_engine_set_deadline(struct cs_engine *eng, uint64_t deadline_ms);

/** Run the loop until every queued probe has ended. CS_OK unless the loop itself failed. */
enum cs_errc cs_engine_run(struct cs_engine *eng, struct cs_error *err);

void cs_engine_free(struct cs_engine *eng);
