/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Purge: from a judged resolver to the narrowest action that clears everything bad it holds
 * in the zone (negative entries, NSEC-synthesised NXDOMAINs, bogus and failed keys), as exact
 * commands for its software (the plan, pure), and as actions run through the operator's
 * configured endpoint (exec, http, powerdns-api, unbound-control).
 *
 *	struct cs_purge_block *pb = cs_resolver_report_purge(rr);   // rr's, made on first use
 *	cs_plan_build(&(struct cs_plan_input){ .zone = rep->zone, .rr = rr, .cfg = r }, pb, &err);
 *	if (execute) cs_purge_execute(&opts, rep->zone, rr, r, pb, &err);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cachesweep/attr.h>
#include <cachesweep/clock.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/report.h>
#include <cachesweep/software.h>

/** What a plan is made from. Everything is borrowed. */
struct cs_plan_input {
	const char *zone;                    /**< normalised; the plan's scope */
	const struct cs_resolver_report *rr; /**< its findings and software */
	const struct cs_resolver *cfg;       /**< the configured resolver, or NULL (no endpoint) */
};

/** Which software the plan is for: the report's software, else the address of a public
 *  service, else unknown. */
enum cs_software_id cs_plan_software(const struct cs_resolver_report *rr);

/**
 * Build the plan of one resolver into *out (cleaned first): scope = the zone, the exact
 * instructions for its software (for unknown software, those of every common one), and the
 * configured endpoint's type. Pure: no I/O, no clock.
 * \return CS_OK or CS_ENOMEM
 */
CS_NODISCARD enum cs_errc cs_plan_build(const struct cs_plan_input *in, struct cs_purge_block *out,
					struct cs_error *err);

/** Contract name of an endpoint type ("exec", "http", "powerdns-api", "unbound-control",
 *  "instructions"). */
const char *cs_purge_type_name(enum cs_purge_type t);

/* --- templates and secrets --- */

/** The values substituted in templates; secret may be NULL (then "{secret}" is an error). */
struct cs_subst {
	const char *zone;
	const char *name;
	const char *type;
	const char *secret;
};

enum cs_tmpl_mode {
	CS_TMPL_PLAIN = 0,  /**< values as they are (argv, header values) */
	CS_TMPL_URL,        /**< values percent-encoded (RFC 3986 unreserved kept) */
	CS_TMPL_REDACT,     /**< as PLAIN, but {secret} shows as "<redacted>" */
	CS_TMPL_URL_REDACT, /**< as URL, but {secret} shows as "<redacted>" */
};

#define CS_REDACTED "<redacted>"

/**
 * Expand {zone}, {name}, {type} and {secret} in tmpl. Any other {word} is an error.
 * \param out  a new string; the caller frees it with cs_free() (cs_secret_wipe_free() when it
 *             may hold the secret)
 * \return CS_OK, CS_EINVAL (unknown placeholder, or {secret} without one), CS_ENOMEM
 */
CS_NODISCARD enum cs_errc cs_template_expand(const char *tmpl, const struct cs_subst *s,
					     enum cs_tmpl_mode mode, char **out,
					     struct cs_error *err);

/**
 * Build an exec argv from its templates: one template, one argument (never split, never a
 * shell). shown is the same joined by spaces with {secret} redacted, for reports and logs.
 * \param argv   a new NULL-terminated array; free each string with cs_secret_wipe_free(),
 *               then the array with cs_free()
 * \param shown  a new string; free with cs_free()
 */
CS_NODISCARD enum cs_errc cs_argv_expand(char *const *tmpl, const struct cs_subst *s, char ***argv,
					 char **shown, struct cs_error *err);

/** Does tmpl use {name} or {type} (then it runs once per bad name)? */
bool cs_template_per_name(const char *tmpl);

/** Replace every occurrence of secret in buf (NUL-terminated, in place) by "<redacted>"
 *  as far as it fits. No-op when secret is NULL or empty. */
void cs_redact(char *buf, size_t size, const char *secret);

/** Wipe a string's bytes, then free it. NULL-safe. */
void cs_secret_wipe_free(char *s);

/**
 * Read the secret a purge config references: the environment variable api_key_env or the
 * file secret_file (first line, at most 4096 bytes). Errors name the variable or file, never
 * the value. *out is NULL when the config references none.
 */
CS_NODISCARD enum cs_errc cs_secret_load(const struct cs_purge_cfg *p, char **out,
					 struct cs_error *err);

/* --- execution --- */

struct cs_purge_opts {
	bool execute;        /**< false: dry run, every action "skipped" and logged as planned */
	uint32_t timeout_ms; /**< per attempt; default 10000 */
	unsigned attempts;   /**< per action, retries included; default 3 */
	uint32_t backoff_ms; /**< before the 2nd attempt, doubled after; default 500 */
	FILE *audit;         /**< one JSON line per action planned and done, or NULL */
	const struct cs_clock *clock;
};

/**
 * Run the plan of one resolver through its configured endpoint, appending one action per
 * step to pb->actions. A failing step is an action with outcome "failed", never an error:
 * the others go on. Nothing written (actions, audit, logs) holds the secret.
 * \return CS_OK, or CS_ENOMEM / CS_EIO (audit log unwritable), which stop the run
 */
CS_NODISCARD enum cs_errc cs_purge_execute(const struct cs_purge_opts *opts, const char *zone,
					   const struct cs_resolver_report *rr,
					   const struct cs_resolver *r, struct cs_purge_block *pb,
					   struct cs_error *err);
