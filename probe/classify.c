/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification: (truth, observation) → verdict. Pure: no I/O, no clock, no allocation.
 * Every branch here has a row in tests/unit/test_classify.c.
 */
#include <string.h>
#include <strings.h>

#include <cachesweep/classify.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>

struct verdict_row {
	enum cs_verdict verdict;
	const char *name;
	bool needs_purge;
	bool unjudged;
};

/* The contract strings (shared/design.md, "Verdicts"): one table for writer, reader and tests. */
static const struct verdict_row verdicts[CS_VERDICT_COUNT] = {
	{ CS_VERDICT_OK, "ok", false, false },
	{ CS_VERDICT_CACHED_NXDOMAIN, "cached_nxdomain", true, false },
	{ CS_VERDICT_CACHED_NODATA, "cached_nodata", true, false },
	{ CS_VERDICT_SERVFAIL_DNSSEC, "servfail_dnssec", true, false },
	{ CS_VERDICT_SERVFAIL_CACHED, "servfail_cached", true, false },
	{ CS_VERDICT_SERVFAIL, "servfail", false, false },
	{ CS_VERDICT_BOGUS_DATA, "bogus_data", true, false },
	{ CS_VERDICT_STALE_SERIAL, "stale_serial", true, false },
	{ CS_VERDICT_BAD_SERIAL, "bad_serial", true, false },
	{ CS_VERDICT_WRONG_DATA, "wrong_data", true, false },
	{ CS_VERDICT_REFUSED, "refused", false, true },
	{ CS_VERDICT_TIMEOUT, "timeout", false, true },
	{ CS_VERDICT_MALFORMED, "malformed", false, true },
};

static const char *const statuses[CS_STATUS_COUNT] = {
	"healthy", "needs_purge", "degraded", "refused", "unreachable",
};

const char *cs_verdict_name(enum cs_verdict v)
{
	if ((unsigned)v >= CS_VERDICT_COUNT) {
		return NULL;
	}
	return verdicts[v].name;
}

const char *cs_status_name(enum cs_status s)
{
	if ((unsigned)s >= CS_STATUS_COUNT) {
		return NULL;
	}
	return statuses[s];
}

int cs_verdict_parse(const char *s, enum cs_verdict *out)
{
	for (unsigned i = 0; i < CS_VERDICT_COUNT; i++) {
		if (strcmp(verdicts[i].name, s) == 0) {
			*out = verdicts[i].verdict;
			return 0;
		}
	}
	return -1;
}

int cs_status_parse(const char *s, enum cs_status *out)
{
	for (unsigned i = 0; i < CS_STATUS_COUNT; i++) {
		if (strcmp(statuses[i], s) == 0) {
			*out = (enum cs_status)i;
			return 0;
		}
	}
	return -1;
}

bool cs_verdict_needs_purge(enum cs_verdict v)
{
	return (unsigned)v < CS_VERDICT_COUNT && verdicts[v].needs_purge;
}

bool cs_verdict_unjudged(enum cs_verdict v)
{
	return (unsigned)v < CS_VERDICT_COUNT && verdicts[v].unjudged;
}

static bool has_ede(const struct cs_reply_facts *r, uint16_t lo, uint16_t hi, uint16_t *code)
{
	for (size_t i = 0; i < r->n_ede && i < CS_EDE_MAX; i++) {
		if (r->ede[i].code >= lo && r->ede[i].code <= hi) {
			if (code != NULL) {
				*code = r->ede[i].code;
			}
			return true;
		}
	}
	return false;
}

static bool serial_is_bad(const struct cs_classify_ctx *ctx, uint32_t serial)
{
	for (size_t i = 0; i < ctx->n_bad_serials; i++) {
		if (ctx->bad_serials[i] == serial) {
			return true;
		}
	}
	return false;
}

/* Append to the finding's detail; a cut detail is still useful, so the result is ignored. */
static void detail(struct cs_finding *f, const char *text)
{
	size_t used = strlen(f->detail);
	if (used > 0 && used + 2 < sizeof(f->detail)) {
		memcpy(f->detail + used, "; ", 3);
		used += 2;
	}
	(void)cs_strlcpy(f->detail + used, text, sizeof(f->detail) - used);
}

static void ede_detail(struct cs_finding *f, const struct cs_reply_facts *r)
{
	for (size_t i = 0; i < r->n_ede && i < CS_EDE_MAX; i++) {
		char line[CS_EDE_TEXT_MAX + 64];
		(void)cs_snprintf(line, sizeof(line), "EDE %u (%s)%s%s%s", (unsigned)r->ede[i].code,
				  cs_ede_name(r->ede[i].code), r->ede[i].text[0] ? ": \"" : "",
				  r->ede[i].text, r->ede[i].text[0] ? "\"" : "");
		detail(f, line);
	}
}

static enum cs_verdict set(struct cs_finding *f, enum cs_verdict v)
{
	f->verdict = v;
	return v;
}

/* RFC 2308 §5: the TTL of the SOA in a cached negative answer counts down; it is the time
 * left before the resolver asks again. */
static void negative_ttl(const struct cs_classify_ctx *ctx, const struct cs_reply_facts *r,
			 struct cs_finding *f)
{
	char line[CS_NAME_STR_MAX + 160];
	if (!r->has_soa) {
		detail(f, "no SOA in the authority section: the time left in cache is unknown");
		return;
	}
	f->has_ttl = true;
	f->ttl_remaining_s = r->soa_ttl_s;
	f->has_serial = true;
	f->serial = r->soa_serial;
	(void)cs_snprintf(line, sizeof(line), "negative answer from SOA %s serial %u, %u s left",
			  r->soa_owner, (unsigned)r->soa_serial, (unsigned)r->soa_ttl_s);
	detail(f, line);
	if (strcasecmp(r->soa_owner, ctx->truth->zone) != 0) {
		(void)cs_snprintf(line, sizeof(line), "the SOA is of %s, not of the zone %s",
				  r->soa_owner, ctx->truth->zone);
		detail(f, line);
	}
	if (serial_is_bad(ctx, r->soa_serial)) {
		f->known_bad_serial = true;
		(void)cs_snprintf(line, sizeof(line), "serial %u is a known-bad serial",
				  (unsigned)r->soa_serial);
		detail(f, line);
	}
	if (r->soa_ttl_s == 0) {
		detail(f, "TTL 0: not held in cache; an authority the resolver asks still denies "
			  "the name");
	}
}

/* The TTL of what a CD=1 query got: how long the resolver keeps the data it rejects. */
static void cd_ttl(const struct cs_reply_facts *cd, struct cs_finding *f)
{
	if (cd->has_data) {
		f->has_ttl = true;
		f->ttl_remaining_s = cd->answer_ttl_s;
	} else if (cd->has_soa) {
		f->has_ttl = true;
		f->ttl_remaining_s = cd->soa_ttl_s;
	}
}

static void sig_detail(struct cs_finding *f, const struct cs_sig_facts *sig, const char *what)
{
	char line[CS_DETAIL_MAX + 96];
	switch (sig->state) {
	case CS_SIG_BOGUS:
		(void)cs_snprintf(line, sizeof(line),
				  "%s fails validation against the zone's keys (RRSIG key tag %u, "
				  "algorithm %u: %s)",
				  what, (unsigned)sig->key_tag, (unsigned)sig->algorithm,
				  sig->reason);
		break;
	case CS_SIG_VALID:
		(void)cs_snprintf(line, sizeof(line),
				  "%s validates against the zone's keys (key tag %u)", what,
				  (unsigned)sig->key_tag);
		break;
	case CS_SIG_MISSING:
		(void)cs_snprintf(line, sizeof(line),
				  "%s came without RRSIGs although DO=1 was set", what);
		break;
	case CS_SIG_OTHER_SIGNER:
	case CS_SIG_UNCHECKED:
	default:
		return;
	}
	detail(f, line);
}

/*
 * SERVFAIL. RFC 4035 §3.2.2: CD=1 turns validation off, so data with CD=1 but SERVFAIL
 * without it is the dependable sign of a validation failure. EDE codes (RFC 8914) confirm
 * but never decide: BIND 9.18 sends none, Unbound and PowerDNS only when configured.
 */
static enum cs_verdict judge_servfail(const struct cs_truth_name *tn,
				      const struct cs_observation *obs, struct cs_finding *f)
{
	const struct cs_reply_facts *r = &obs->main;
	const struct cs_reply_facts *cd = &obs->cd;
	const bool cd_answered = obs->cd_probed && cd->outcome == CS_OUTCOME_ANSWER;
	const bool cd_data =
		cd_answered && (cd->rcode == CS_RCODE_NOERROR || cd->rcode == CS_RCODE_NXDOMAIN);
	uint16_t code = 0;
	const bool dnssec_ede = has_ede(r, 6, 12, &code);
	char line[CS_DETAIL_MAX];

	if (cd_data) {
		char rc[16];
		cs_rcode_format(cd->rcode, rc, sizeof(rc));
		(void)cs_snprintf(line, sizeof(line),
				  "SERVFAIL with CD=0 but %s with CD=1: the resolver holds data it "
				  "judges bogus",
				  rc);
		detail(f, line);
		if (dnssec_ede) {
			(void)cs_snprintf(line, sizeof(line), "EDE %u (%s) agrees", (unsigned)code,
					  cs_ede_name(code));
			detail(f, line);
		}
		f->sig = cd->sig;
		sig_detail(f, &cd->sig, "the CD=1 data");
		if (cd->sig.state == CS_SIG_VALID) {
			detail(f, "so the failure is the resolver's own (stale keys or a cached "
				  "bogus judgement)");
		}
		if (tn->bogus) {
			detail(f, "the authorities serve bogus data now too: purge once the fix is "
				  "published");
		}
		cd_ttl(cd, f);
		return set(f, CS_VERDICT_SERVFAIL_DNSSEC);
	}
	if (!tn->bogus && has_ede(r, 13, 13, NULL)) {
		detail(f, "SERVFAIL from the resolver's cache of errors (EDE 13) while the "
			  "authorities answer");
		return set(f, CS_VERDICT_SERVFAIL_CACHED);
	}
	if (!tn->bogus && cd_answered && cd->rcode == CS_RCODE_SERVFAIL) {
		detail(f, "SERVFAIL persists with CD=1 while the authorities answer: a cached "
			  "error");
		return set(f, CS_VERDICT_SERVFAIL_CACHED);
	}
	if (tn->bogus) {
		detail(f, "SERVFAIL matches truth: the data is bogus at the authorities");
		return set(f, CS_VERDICT_OK);
	}
	if (dnssec_ede) {
		(void)cs_snprintf(line, sizeof(line),
				  "EDE %u (%s) suggests DNSSEC, but without a CD=1 answer that "
				  "cannot be confirmed",
				  (unsigned)code, cs_ede_name(code));
		detail(f, line);
	}
	detail(f, obs->cd_probed ? "SERVFAIL; the CD=1 query got no answer"
				 : "SERVFAIL; no CD=1 query was made");
	return set(f, CS_VERDICT_SERVFAIL);
}

static enum cs_verdict judge_soa(const struct cs_classify_ctx *ctx, const struct cs_reply_facts *r,
				 struct cs_finding *f)
{
	char line[160];
	f->has_serial = true;
	f->serial = r->soa_serial;
	f->has_ttl = true;
	f->ttl_remaining_s = r->soa_ttl_s;
	if (serial_is_bad(ctx, r->soa_serial)) {
		f->known_bad_serial = true;
		(void)cs_snprintf(line, sizeof(line),
				  "serves SOA serial %u, a known-bad serial, for %u s more",
				  (unsigned)r->soa_serial, (unsigned)r->soa_ttl_s);
		detail(f, line);
		return set(f, CS_VERDICT_BAD_SERIAL);
	}
	if (ctx->truth->have_serial && cs_serial_cmp(r->soa_serial, ctx->truth->serial) < 0) {
		(void)cs_snprintf(line, sizeof(line),
				  "serves SOA serial %u, behind the authorities' %u, for %u s more",
				  (unsigned)r->soa_serial, (unsigned)ctx->truth->serial,
				  (unsigned)r->soa_ttl_s);
		detail(f, line);
		return set(f, CS_VERDICT_STALE_SERIAL);
	}
	f->has_ttl = false;
	f->ttl_remaining_s = 0;
	return set(f, CS_VERDICT_OK);
}

/* A negative answer that matches truth is right, unless the SOA that came with it is one
 * of the known-bad serials: then the resolver still holds the incident's zone apex. */
static enum cs_verdict judge_true_negative(const struct cs_classify_ctx *ctx,
					   const struct cs_reply_facts *r, struct cs_finding *f)
{
	if (r->has_soa && serial_is_bad(ctx, r->soa_serial)) {
		detail(f, "a true negative answer, but from the known-bad zone");
		negative_ttl(ctx, r, f);
		return set(f, CS_VERDICT_BAD_SERIAL);
	}
	return set(f, CS_VERDICT_OK);
}

static enum cs_verdict judge_noerror(const struct cs_classify_ctx *ctx,
				     const struct cs_truth_name *tn, const struct cs_reply_facts *r,
				     struct cs_finding *f)
{
	// cppcheck-suppress variableScope ; one buffer for the detail lines of every branch
	char line[160];
	/* Data no validator vouched for, whose signatures fail against the zone's keys (a
	 * non-validating resolver serving the 2009 interim zone, or a forgery). */
	if (r->has_data && r->sig.state == CS_SIG_BOGUS) {
		f->has_ttl = true;
		f->ttl_remaining_s = r->answer_ttl_s;
		sig_detail(f, &r->sig, r->ad ? "the data (with AD!)" : "the data (no AD)");
		(void)cs_snprintf(line, sizeof(line), "served for %u s more",
				  (unsigned)r->answer_ttl_s);
		detail(f, line);
		return set(f, CS_VERDICT_BOGUS_DATA);
	}
	if (r->sig.state == CS_SIG_MISSING && tn->secure) {
		sig_detail(f, &r->sig, "the data");
	}
	if (!tn->exists) {
		if (r->has_data) {
			f->has_ttl = true;
			f->ttl_remaining_s = r->answer_ttl_s;
			(void)cs_snprintf(line, sizeof(line),
					  "serves data for a name the authorities say does not "
					  "exist, for %u s more",
					  (unsigned)r->answer_ttl_s);
			detail(f, line);
			return set(f, CS_VERDICT_WRONG_DATA);
		}
		detail(f, "NOERROR without data for a name the authorities say does not exist");
		negative_ttl(ctx, r, f);
		return set(f, CS_VERDICT_WRONG_DATA);
	}
	if (tn->has_type) {
		if (r->has_data) {
			if (tn->type == CS_TYPE_SOA && r->soa_in_answer &&
			    strcasecmp(tn->name, ctx->truth->zone) == 0) {
				return judge_soa(ctx, r, f);
			}
			return set(f, CS_VERDICT_OK);
		}
		detail(f, "no data for a type that exists");
		negative_ttl(ctx, r, f);
		return set(f, CS_VERDICT_CACHED_NODATA);
	}
	if (r->has_data) {
		f->has_ttl = true;
		f->ttl_remaining_s = r->answer_ttl_s;
		detail(f, "serves data of a type the authorities do not have");
		return set(f, CS_VERDICT_WRONG_DATA);
	}
	return judge_true_negative(ctx, r, f);
}

static enum cs_verdict judge_answer(const struct cs_classify_ctx *ctx,
				    const struct cs_truth_name *tn,
				    const struct cs_observation *obs, struct cs_finding *f)
{
	const struct cs_reply_facts *r = &obs->main;
	char rc[16];
	char line[96];

	switch (r->rcode) {
	case CS_RCODE_REFUSED:
		detail(f, "REFUSED: the resolver does not serve us");
		return set(f, CS_VERDICT_REFUSED);
	case CS_RCODE_SERVFAIL:
		return judge_servfail(tn, obs, f);
	case CS_RCODE_NXDOMAIN:
		if (!tn->exists) {
			return judge_true_negative(ctx, r, f);
		}
		detail(f, "NXDOMAIN for a name that exists");
		negative_ttl(ctx, r, f);
		return set(f, CS_VERDICT_CACHED_NXDOMAIN);
	case CS_RCODE_NOERROR:
		return judge_noerror(ctx, tn, r, f);
	default:
		break;
	}
	cs_rcode_format(r->rcode, rc, sizeof(rc));
	(void)cs_snprintf(line, sizeof(line), "unexpected rcode %s", rc);
	detail(f, line);
	return set(f, CS_VERDICT_MALFORMED);
}

/* Does name end in suffix at a label boundary ("ns.shop.se.se." ends in "se.se.")? */
static bool ends_in(const char *name, const char *suffix)
{
	size_t n = strlen(name);
	size_t k = strlen(suffix);
	if (k == 0 || k > n || strcasecmp(name + n - k, suffix) != 0) {
		return false;
	}
	return k == n || name[n - k - 1] == '.' || suffix[0] == '.';
}

/* Incident signatures: a name in the served data (NS/CNAME/MX targets, the SOA's names, a
 * CNAME followed) that shows a known defect pattern, such as the 2009 dropped trailing dot
 * that turned every "ns.shop.se" into "ns.shop.se.se.". A flag beside the verdict. */
static void find_defect(const struct cs_classify_ctx *ctx, const struct cs_reply_facts *r,
			struct cs_finding *f)
{
	char line[CS_NAME_STR_MAX + 96];
	for (size_t k = 0; k < ctx->n_defect_suffixes; k++) {
		const char *suffix = ctx->defect_suffixes[k];
		const char *hit = NULL;
		if (r->cname_target[0] != '\0' && ends_in(r->cname_target, suffix)) {
			hit = r->cname_target;
		}
		for (size_t i = 0; hit == NULL && i < r->answer_count && i < CS_ANSWER_MAX; i++) {
			/* rdata text: names are whitespace-separated words; check each */
			char word[CS_ANSWER_TEXT_MAX];
			const char *p = r->answers[i];
			while (hit == NULL && *p != '\0') {
				size_t w = strcspn(p, " \t");
				if (w > 0 && w < sizeof(word)) {
					memcpy(word, p, w);
					word[w] = '\0';
					if (ends_in(word, suffix)) {
						(void)cs_strlcpy(f->defect, word,
								 sizeof(f->defect));
						hit = f->defect;
					}
				}
				p += w;
				p += strspn(p, " \t");
			}
		}
		if (hit != NULL) {
			if (hit != f->defect) {
				(void)cs_strlcpy(f->defect, hit, sizeof(f->defect));
			}
			(void)cs_snprintf(line, sizeof(line),
					  "%s in the data ends in %s: a known defect pattern",
					  f->defect, suffix);
			detail(f, line);
			return;
		}
	}
}

enum cs_verdict cs_classify(const struct cs_classify_ctx *ctx, const struct cs_truth_name *tn,
			    const struct cs_observation *obs, struct cs_finding *out)
{
	const struct cs_reply_facts *r = &obs->main;

	memset(out, 0, sizeof(*out));
	(void)cs_strlcpy(out->name, tn->name, sizeof(out->name));
	out->type = tn->type;
	out->answered = r->outcome == CS_OUTCOME_ANSWER;
	out->rcode = r->rcode;
	out->ad = r->ad;
	out->n_ede = r->n_ede < CS_EDE_MAX ? r->n_ede : CS_EDE_MAX;
	memcpy(out->ede, r->ede, sizeof(out->ede));
	out->cd_probed = obs->cd_probed;
	out->cd_answered = obs->cd_probed && obs->cd.outcome == CS_OUTCOME_ANSWER;
	out->cd_rcode = obs->cd.rcode;

	switch (r->outcome) {
	case CS_OUTCOME_NONE:
		detail(out, "not probed");
		return set(out, CS_VERDICT_MALFORMED);
	case CS_OUTCOME_TIMEOUT:
	case CS_OUTCOME_UNREACHABLE:
		detail(out, r->detail[0] ? r->detail : "no reply");
		return set(out, CS_VERDICT_TIMEOUT);
	case CS_OUTCOME_MALFORMED:
		detail(out, r->detail[0] ? r->detail : "malformed reply");
		return set(out, CS_VERDICT_MALFORMED);
	case CS_OUTCOME_ANSWER:
		break;
	}

	/* RFC 8914 §4.4 and §4.20: served stale. */
	out->stale_answer = has_ede(r, 3, 3, NULL) || has_ede(r, 19, 19, NULL);
	/* A name that validates at the source, answered without AD: the resolver does not
	 * validate (or did not for this answer). */
	out->not_validating = tn->secure && !r->ad &&
			      (r->rcode == CS_RCODE_NOERROR || r->rcode == CS_RCODE_NXDOMAIN);

	out->sig = r->sig;
	enum cs_verdict v = judge_answer(ctx, tn, obs, out);
	find_defect(ctx, obs->cd_probed && obs->cd.outcome == CS_OUTCOME_ANSWER ? &obs->cd : r,
		    out);
	ede_detail(out, r);
	return v;
}

void cs_status_acc_init(struct cs_status_acc *acc)
{
	*acc = (struct cs_status_acc){ .known = true, .all_timeout = true, .all_refused = true };
}

void cs_status_acc_add(struct cs_status_acc *acc, enum cs_verdict v, bool has_ttl,
		       uint32_t ttl_remaining_s)
{
	acc->n++;
	if (cs_verdict_needs_purge(v)) {
		acc->purge = true;
		if (has_ttl) {
			acc->heals = ttl_remaining_s > acc->heals ? ttl_remaining_s : acc->heals;
		} else {
			acc->known = false;
		}
	}
	acc->all_timeout = acc->all_timeout && v == CS_VERDICT_TIMEOUT;
	acc->all_refused = acc->all_refused && v == CS_VERDICT_REFUSED;
	acc->any_bad = acc->any_bad || v != CS_VERDICT_OK;
}

enum cs_status cs_status_acc_end(const struct cs_status_acc *acc, bool *heals_known,
				 uint32_t *heals_in_s)
{
	*heals_known = acc->purge && acc->known;
	*heals_in_s = acc->purge ? acc->heals : 0;
	if (acc->purge) {
		return CS_STATUS_NEEDS_PURGE;
	}
	if (acc->n > 0 && acc->all_timeout) {
		return CS_STATUS_UNREACHABLE;
	}
	if (acc->n > 0 && acc->all_refused) {
		return CS_STATUS_REFUSED;
	}
	return acc->any_bad ? CS_STATUS_DEGRADED : CS_STATUS_HEALTHY;
}

enum cs_status cs_status_of(const struct cs_finding *findings, size_t n, bool *heals_known,
			    uint32_t *heals_in_s)
{
	struct cs_status_acc acc;
	cs_status_acc_init(&acc);
	for (size_t i = 0; i < n; i++) {
		cs_status_acc_add(&acc, findings[i].verdict, findings[i].has_ttl,
				  findings[i].ttl_remaining_s);
	}
	return cs_status_acc_end(&acc, heals_known, heals_in_s);
}
