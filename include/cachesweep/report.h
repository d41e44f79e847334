/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The report: one model, several renderings. The JSON form (schema cachesweep.report/1) is
 * the contract between probe and purge, and what scripts and monitoring read.
 *
 *	struct cs_report *rep = NULL;
 *	cs_report_build(cfg, truth, obs, clock->wall_s(clock), &rep, &err);
 *	cs_report_write_json(rep, stdout, true, &err);
 *	int code = cs_report_exit_code(rep);   // 0, 1 or 2
 *	cs_report_free(rep);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cachesweep/attr.h>
#include <cachesweep/classify.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/observe.h>
#include <cachesweep/truth.h>

#define CS_REPORT_SCHEMA "cachesweep.report/1"

/** The software of a resolver report. The texts are the report's (see
 *  cs_resolver_report_set_text), never NULL. */
struct cs_software {
	const char *name;    /**< "unbound", "bind", "powerdns", "knot-resolver", "unknown" */
	const char *version; /**< "" if unknown */
	const char *source;  /**< "config" (the operator's hint), "version.bind" */
};

/** What happened to one purge action (purge --execute, sweep). */
enum cs_action_outcome {
	CS_ACTION_OK = 0,
	CS_ACTION_FAILED,
	CS_ACTION_SKIPPED,
};

#define CS_ACTION_TARGET_MAX 256

/** One action of a purge: what was done through which endpoint, and how it ended. Never
 *  holds a secret: target is the redacted URL, argv or socket command. */
struct cs_purge_action {
	char endpoint[32];                 /**< "exec", "http", "powerdns-api", "unbound-control" */
	char target[CS_ACTION_TARGET_MAX]; /**< what was asked, redacted */
	enum cs_action_outcome outcome;
	int http_status; /**< -1 when none */
	int exit_code;   /**< -1 when none */
	char error[CS_DETAIL_MAX];
};

/** The per-resolver purge block: scope, the exact instructions for its software, the
 *  configured endpoint and (after --execute) the actions taken. All owned. */
struct cs_purge_block {
	bool present;
	char scope[CS_NAME_STR_MAX];
	size_t n_instructions;
	char **instructions;
	char endpoint[32]; /**< "" when none is configured */
	size_t n_actions;
	struct cs_purge_action *actions;
};

/** An EDE as the report holds it. text is "" when the resolver sent none. */
struct cs_report_ede {
	uint16_t code;
	const char *text;
};

/** struct cs_sig_facts as the report holds it. reason is "" when none. */
struct cs_report_sig {
	enum cs_sig_state state;
	uint16_t key_tag;
	uint8_t algorithm;
	const char *reason;
};

/**
 * A finding as the report holds it: struct cs_finding (classify.h, what classification fills)
 * with its texts stored to their length, about a tenth of its size. The fields mean what
 * cs_finding's do. The strings are never NULL ("" when empty).
 *
 * An array of them is one block made by cs_report_findings_pack() or the cs_judge_ functions:
 * the array, then the EDEs and the texts they point to. cs_free() of the array frees it all; the
 * array can be moved from one report to another as one pointer.
 */
struct cs_report_finding {
	const char *name;
	const char *defect;
	const char *detail;
	const struct cs_report_ede *ede; /**< n_ede entries (at most CS_EDE_MAX) */
	size_t n_ede;
	struct cs_report_sig sig;
	enum cs_verdict verdict;
	uint32_t ttl_remaining_s;
	uint32_t serial;
	uint16_t type;
	uint16_t rcode;
	uint16_t cd_rcode;
	bool has_ttl;
	bool not_validating;
	bool stale_answer;
	bool has_serial;
	bool known_bad_serial;
	bool answered;
	bool ad;
	bool cd_probed;
	bool cd_answered;
};

/**
 * Pack n findings of classification into one block of n struct cs_report_finding (see above).
 * n may be 0. The block is freed with cs_free().
 * \return the block, or NULL when out of memory
 */
CS_NODISCARD struct cs_report_finding *cs_report_findings_pack(const struct cs_finding *in,
							       size_t n);

/** A sweep's first probe of a resolver, before the purge. findings owned (one block). */
struct cs_before_block {
	enum cs_status status;
	bool heals_known;
	uint32_t heals_in_s;
	size_t n_findings;
	struct cs_report_finding *findings;
};

/**
 * The texts of a resolver report, set with cs_resolver_report_set_text() or _set_texts(). Each
 * holds at most its size - 1 bytes (CS_RR_*_SIZE, the sizes the report reader enforces).
 */
enum cs_rr_text {
	CS_RR_ID = 0,
	CS_RR_ADDRESS,
	CS_RR_OPERATOR,
	CS_RR_CONTACT,
	CS_RR_SOFTWARE_NAME,
	CS_RR_SOFTWARE_VERSION,
	CS_RR_SOFTWARE_SOURCE,
	CS_RR_NSID,
};
#define CS_RR_TEXT_COUNT (CS_RR_NSID + 1)

#define CS_RR_ID_SIZE               256
#define CS_RR_ADDRESS_SIZE          64
#define CS_RR_OPERATOR_SIZE         128
#define CS_RR_CONTACT_SIZE          128
#define CS_RR_SOFTWARE_NAME_SIZE    32
#define CS_RR_SOFTWARE_VERSION_SIZE 64
#define CS_RR_SOFTWARE_SOURCE_SIZE  32
#define CS_RR_NSID_SIZE             CS_EDE_TEXT_MAX

/**
 * One resolver's part of the report. A report holds one per resolver (10,000 and more), so
 * it is small: the texts are pointers into one block per record, stored to their length.
 *
 * The texts (id, address, operator_name, contact, software.*, nsid) are never NULL ("" when
 * empty) in a record made by cs_resolver_report_init(), cs_judge_begin() or the report reader,
 * and are written only through cs_resolver_report_set_text() / _set_texts(): a setter may move
 * every text, so a pointer read from the record is good until the next set or clean.
 *
 * The purge and before blocks, which few resolvers have, are held apart (NULL when none).
 * The record owns its texts, findings, purge and before; cs_resolver_report_clean() frees them.
 * A copy by value makes two owners: move what you take (set it NULL in the source) instead.
 */
struct cs_resolver_report {
	const char *id;
	const char *address;
	const char *operator_name; /**< "" if unknown */
	const char *contact;
	const char *nsid;
	struct cs_software software;
	size_t nsid_probe; /**< which probe's NSID (the first that had one) */
	size_t n_findings;
	/** in the order of the names, zone SOA last; one block (cs_report_findings_pack) */
	struct cs_report_finding *findings;
	/** NULL when there is none (most resolvers); owned, made by cs_resolver_report_purge() */
	struct cs_purge_block *purge;
	/** NULL unless a sweep probed the resolver again after its purge; owned (cs_malloc) */
	struct cs_before_block *before;
	char *texts; /**< the block the texts are in, or NULL (private to the setters) */
	/** While the resolver is judged (cs_judge_begin .. cs_judge_end): each finding's own
	 *  packed block, or NULL; private to report.c */
	struct cs_report_finding **judging;
	uint16_t port;
	bool has_software;
	bool heals_known;
	enum cs_transport transport;
	enum cs_status status;
	uint32_t heals_in_s;
};

struct cs_report_summary {
	size_t resolvers;
	size_t by_status[CS_STATUS_COUNT];
};

struct cs_report {
	int64_t generated_at_s;
	char zone[CS_NAME_STR_MAX];
	struct cs_truth *truth; /**< owned */
	struct cs_report_summary summary;
	size_t n_resolvers;
	struct cs_resolver_report *resolvers;
};

/**
 * The probe names for cfg: the configured names, then the zone SOA (for serials).
 * *n is cfg->n_names + 1. Returns a borrowed name/type per index via the out arrays.
 */
size_t cs_report_probe_count(const struct cs_config *cfg);
void cs_report_probe_name(const struct cs_config *cfg, size_t i, const char **name, uint16_t *type);

/**
 * Classify every observation and build the report. obs holds n_resolvers × probe_count
 * observations, resolver-major. truth is copied in.
 * \param out  a new report; free with cs_report_free()
 */
enum cs_errc cs_report_build(const struct cs_config *cfg, const struct cs_truth *truth,
			     const struct cs_observation *obs, int64_t generated_at_s,
			     struct cs_report **out, struct cs_error *err);

/** Judge one resolver: fills rr from its observations (obs as for cs_report_build). */
enum cs_errc cs_report_judge_resolver(const struct cs_config *cfg, const struct cs_truth *truth,
				      size_t resolver_index, const struct cs_observation *obs,
				      struct cs_resolver_report *rr, struct cs_error *err);

/**
 * Judging as observations arrive, probe by probe in any order (streaming):
 *
 *	struct cs_judge j;
 *	cs_judge_init(&j, cfg, truth);             // both borrowed for j's life
 *	cs_judge_begin(&j, resolver_index, &rr, &err);
 *	cs_judge_probe(&j, &rr, k, &obs_k, &err);  // for each probe k < cs_report_probe_count
 *	cs_judge_end(&rr);                         // status and heals
 */
struct cs_judge {
	const struct cs_config *cfg;
	const struct cs_truth *truth;
	const char *patterns[CS_MAX_INCIDENT_PATTERNS];
	char builtin[2 * CS_NAME_STR_MAX];
	struct cs_classify_ctx ctx;
	struct cs_truth_name zone_soa;
};
void cs_judge_init(struct cs_judge *j, const struct cs_config *cfg, const struct cs_truth *truth);
enum cs_errc cs_judge_begin(const struct cs_judge *j, size_t resolver_index,
			    struct cs_resolver_report *rr, struct cs_error *err);
/** \return CS_OK, or CS_ENOMEM when the NSID could not be stored (the finding is) */
CS_NODISCARD enum cs_errc cs_judge_probe(const struct cs_judge *j, struct cs_resolver_report *rr,
					 size_t k, const struct cs_observation *obs,
					 struct cs_error *err);
void cs_judge_end(struct cs_resolver_report *rr);

/** An empty report for cfg's resolvers (n_resolvers 0: fill resolvers[] and count them). */
enum cs_errc cs_report_new(const struct cs_config *cfg, const struct cs_truth *truth,
			   int64_t generated_at_s, struct cs_report **out, struct cs_error *err);

/** Recount the summary from the resolvers' statuses. */
void cs_report_summarize(struct cs_report *rep);

/** 0 all healthy; 1 some unreachable, refused or degraded; 2 some need a purge. */
int cs_report_exit_code(const struct cs_report *rep);

/** Contract strings of action outcomes ("ok", "failed", "skipped"). */
const char *cs_action_outcome_name(enum cs_action_outcome o);

/** Write the JSON report. pretty: indented; else one line. */
enum cs_errc cs_report_write_json(const struct cs_report *rep, FILE *fp, bool pretty,
				  struct cs_error *err);

/**
 * NDJSON (--format ndjson), one compact object a line. A resolver's line is its object of
 * the JSON report with "kind": "resolver" first, written and flushed at once so that a reader
 * sees each resolver as it finishes. The summary line ("kind": "summary") carries schema,
 * generated_at, zone, truth and summary, and comes last.
 * \return CS_OK, CS_ENOMEM or CS_EIO (the write failed)
 */
enum cs_errc cs_report_write_ndjson_resolver(const struct cs_resolver_report *rr, FILE *fp,
					     struct cs_error *err);
enum cs_errc cs_report_write_ndjson_summary(const struct cs_report *rep, FILE *fp,
					    struct cs_error *err);

void cs_report_free(struct cs_report *rep);

/**
 * Read a cachesweep.report/1 JSON report back into the model, as hostile input: at most
 * CS_MAX_REPORT_BYTES, every field checked; errors name the JSON path and what was expected.
 *
 * \param path  file to read; "-" reads standard input
 * \param out   on success a new report; free with cs_report_free()
 * \return CS_OK, CS_ECONFIG (bad report), CS_EIO, CS_ENOMEM
 */
CS_NODISCARD enum cs_errc cs_report_load(const char *path, struct cs_report **out,
					 struct cs_error *err);

/** Read a report from memory (tests, fuzzing); name is used in messages. */
CS_NODISCARD enum cs_errc cs_report_load_string(const char *text, size_t len, const char *name,
						struct cs_report **out, struct cs_error *err);

/** Free a purge block's contents and zero it. */
void cs_purge_block_clean(struct cs_purge_block *pb);

/** An empty resolver report: every text "", nothing owned. */
void cs_resolver_report_init(struct cs_resolver_report *rr);

/**
 * Set one text of rr to a copy of text (NULL is ""), cut to its CS_RR_*_SIZE - 1 bytes as the
 * fixed arrays it replaces did. text may point into rr's own texts.
 * \return CS_OK, CS_ENOMEM with rr unchanged, or CS_EINVAL for a field out of range
 */
CS_NODISCARD enum cs_errc cs_resolver_report_set_text(struct cs_resolver_report *rr,
						      enum cs_rr_text field, const char *text);

/**
 * Set several texts at once (one allocation): texts[f] for each field f, NULL keeping the
 * current text. As cs_resolver_report_set_text otherwise.
 */
CS_NODISCARD enum cs_errc cs_resolver_report_set_texts(struct cs_resolver_report *rr,
						       const char *const texts[CS_RR_TEXT_COUNT]);

/** rr's purge block, made (empty, not present) when rr has none.
 *  \return the block (rr's), or NULL when out of memory */
CS_NODISCARD struct cs_purge_block *cs_resolver_report_purge(struct cs_resolver_report *rr);

/** The size (with NUL) a text of a resolver report is cut to, CS_RR_*_SIZE. */
size_t cs_resolver_report_text_size(enum cs_rr_text field);

/** Free what a resolver report owns (texts, findings, purge, before) and make it as
 *  cs_resolver_report_init() does. */
void cs_resolver_report_clean(struct cs_resolver_report *rr);
