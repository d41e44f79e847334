/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification: a pure function from (truth, observation) to a verdict per name and a
 * status per resolver. No I/O, no clock: everything it needs is passed in.
 *
 *	struct cs_finding f;
 *	cs_classify(&ctx, &truth->names[i], &obs[i], &f);
 *	...
 *	enum cs_status s = cs_status_of(findings, n, &heals_known, &heals_in_s);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/observe.h>
#include <cachesweep/truth.h>

/** Verdict per resolver × name (shared/design.md). Strings come from cs_verdict_name(). */
enum cs_verdict {
	CS_VERDICT_OK = 0,
	CS_VERDICT_CACHED_NXDOMAIN,
	CS_VERDICT_CACHED_NODATA,
	CS_VERDICT_SERVFAIL_DNSSEC,
	CS_VERDICT_SERVFAIL_CACHED,
	CS_VERDICT_SERVFAIL,
	CS_VERDICT_BOGUS_DATA,
	CS_VERDICT_STALE_SERIAL,
	CS_VERDICT_BAD_SERIAL,
	CS_VERDICT_WRONG_DATA,
	CS_VERDICT_REFUSED,
	CS_VERDICT_TIMEOUT,
	CS_VERDICT_MALFORMED,
};
#define CS_VERDICT_COUNT (CS_VERDICT_MALFORMED + 1)

enum cs_status {
	CS_STATUS_HEALTHY = 0,
	CS_STATUS_NEEDS_PURGE,
	CS_STATUS_DEGRADED,
	CS_STATUS_REFUSED,
	CS_STATUS_UNREACHABLE,
};
#define CS_STATUS_COUNT (CS_STATUS_UNREACHABLE + 1)

/** The judgement of one resolver × (name, type), as classification fills it. A report keeps
 *  its findings packed to their length (struct cs_report_finding, report.h). */
struct cs_finding {
	char name[CS_NAME_STR_MAX];
	uint16_t type;
	enum cs_verdict verdict;
	bool has_ttl;             /**< ttl_remaining_s is known */
	uint32_t ttl_remaining_s; /**< how long the bad entry stays cached on its own */
	bool not_validating;      /**< a signed zone answered without AD */
	bool stale_answer;        /**< EDE 3 or 19: served stale */
	bool has_serial;          /**< serial is the SOA serial the resolver served */
	uint32_t serial;
	bool known_bad_serial; /**< that serial is one of the config's known-bad serials */
	/** The signature check of the data served (CD=0, or CD=1 after a SERVFAIL). */
	struct cs_sig_facts sig;
	/** A name in the data that matches an incident pattern (e.g. "ns.shop.se.se."), or "". */
	char defect[CS_NAME_STR_MAX];
	/* what was served, copied from the observation for the report */
	bool answered; /**< a reply was read (rcode, ad, ede are meaningful) */
	uint16_t rcode;
	bool ad;
	size_t n_ede;
	struct cs_ede ede[CS_EDE_MAX];
	bool cd_probed; /**< a CD=1 query followed a SERVFAIL */
	bool cd_answered;
	uint16_t cd_rcode;
	char detail[2 * CS_DETAIL_MAX];
};

/** What classification needs beyond one name: the zone-wide truth and the config's lists. */
struct cs_classify_ctx {
	const struct cs_truth *truth;
	const uint32_t *bad_serials; /**< known-bad serials (config), may be NULL */
	size_t n_bad_serials;
	/** Name suffixes that mark a known defect in served data (NS targets, CNAME targets,
	 *  SOA names), e.g. "se.se." for the 2009 dropped trailing dot. May be NULL. */
	const char *const *defect_suffixes;
	size_t n_defect_suffixes;
};

/** Judge one observation. Fills *out completely and returns out->verdict. */
enum cs_verdict cs_classify(const struct cs_classify_ctx *ctx, const struct cs_truth_name *tn,
			    const struct cs_observation *obs, struct cs_finding *out);

/** Does this verdict call for a purge? */
bool cs_verdict_needs_purge(enum cs_verdict v);
/** Is this verdict a failure to judge (refused, timeout, malformed)? */
bool cs_verdict_unjudged(enum cs_verdict v);

/**
 * A resolver's status from its findings: needs_purge if any finding needs a purge (then
 * *heals_in_s is the longest remaining TTL among them, *heals_known false if none is known);
 * unreachable if every probe timed out or the network refused; refused if every answer was
 * REFUSED; degraded if anything else is not ok; healthy otherwise.
 */
enum cs_status cs_status_of(const struct cs_finding *findings, size_t n, bool *heals_known,
			    uint32_t *heals_in_s);

/** cs_status_of one finding at a time, for findings kept in another form (report.h). */
struct cs_status_acc {
	size_t n;
	bool purge, known, all_timeout, all_refused, any_bad;
	uint32_t heals;
};
void cs_status_acc_init(struct cs_status_acc *acc);
void cs_status_acc_add(struct cs_status_acc *acc, enum cs_verdict v, bool has_ttl,
		       uint32_t ttl_remaining_s);
enum cs_status cs_status_acc_end(const struct cs_status_acc *acc, bool *heals_known,
				 uint32_t *heals_in_s);

/** Contract strings: "cached_nxdomain", "needs_purge". NULL for out-of-range values. */
const char *cs_verdict_name(enum cs_verdict v);
const char *cs_status_name(enum cs_status s);
/** Reverse lookups for reading reports; return 0 and set *out, or -1. */
int cs_verdict_parse(const char *s, enum cs_verdict *out);
int cs_status_parse(const char *s, enum cs_status *out);
