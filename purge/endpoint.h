/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside cs_purge: what one step of a purge is, the state of one resolver's run, and the three
 * endpoints that carry a step out (exec, http and powerdns-api, unbound-control). Each endpoint
 * makes one attempt; execute.c retries, audits and reports.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/purge.h>

#define OUTPUT_MAX    4096
#define HTTP_BODY_MAX (64u * 1024u)

struct step {
	enum cs_purge_type type;
	char *shown;      /**< redacted target for the report and the audit log */
	char **argv;      /**< exec: real argv, NULL-terminated */
	char *url;        /**< http, powerdns-api: real URL */
	char *method;     /**< http, powerdns-api */
	char **headers;   /**< "Name: value", real, NULL-terminated */
	char *command;    /**< unbound-control: the command line after "UBCT1 " */
	bool check_count; /**< powerdns-api: the reply must be JSON with an integer "count" */
};

struct run {
	const struct cs_purge_opts *o;
	const struct cs_resolver_report *rr;
	const struct cs_purge_cfg *cfg;
	const char *secret;
	char *secret_url; /**< the secret percent-encoded, redacted too */
	char **envp;      /**< exec: environ plus CACHESWEEP_SECRET (never in argv), or NULL */
	struct cs_purge_block *pb;
	struct cs_error *err;
};

/** Replace the secret (raw and percent-encoded) in buf. */
void cs_run_redact(const struct run *r, char *buf, size_t size);
/** Monotonic milliseconds (the system clock; purge runs on wall time, not the engine's). */
uint64_t cs_purge_now_ms(void);

/** Whether another attempt may help, and how long the server asked us to wait first. */
struct cs_retry {
	bool again;
	uint32_t after_ms; /**< 0: our own back-off */
};

/* One attempt each. */
void cs_endpoint_exec(const struct run *r, const struct step *s, struct cs_purge_action *a,
		      struct cs_retry *retry);
void cs_endpoint_http(const struct run *r, const struct step *s, struct cs_purge_action *a,
		      struct cs_retry *retry);
void cs_endpoint_unbound(const struct run *r, const struct step *s, struct cs_purge_action *a,
			 struct cs_retry *retry);
