/* SPDX-License-Identifier: BSD-3-Clause */
/* The report model: classification of every resolver's observations. */
#include <stdint.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/report.h>

size_t cs_report_probe_count(const struct cs_config *cfg)
{
	return cfg->n_names + 1;
}

void cs_report_probe_name(const struct cs_config *cfg, size_t i, const char **name, uint16_t *type)
{
	if (i < cfg->n_names) {
		*name = cfg->names[i].name;
		*type = cfg->names[i].type;
		return;
	}
	*name = cfg->zone;
	*type = CS_TYPE_SOA;
}

static const char *software_hint(const char *s)
{
	return s != NULL ? s : "unknown";
}

void cs_judge_init(struct cs_judge *j, const struct cs_config *cfg, const struct cs_truth *truth)
{
	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	j->truth = truth;
	const size_t n_patterns = cs_config_incident_patterns(
		cfg, j->patterns, CS_MAX_INCIDENT_PATTERNS, j->builtin, sizeof(j->builtin));
	j->ctx = (struct cs_classify_ctx){
		.truth = truth,
		.bad_serials = cfg->bad_serials,
		.n_bad_serials = cfg->n_bad_serials,
		.defect_suffixes = j->patterns,
		.n_defect_suffixes = n_patterns,
	};
	/* the zone SOA is judged against a truth row of its own */
	j->zone_soa = (struct cs_truth_name){
		.type = CS_TYPE_SOA,
		.exists = true,
		.has_type = true,
		.secure = truth->is_signed && !truth->soa_bogus &&
			  strcmp(truth->source, "authorities") != 0,
		.bogus = truth->soa_bogus,
	};
	(void)cs_strlcpy(j->zone_soa.name, truth->zone, sizeof(j->zone_soa.name));
	(void)cs_strlcpy(j->zone_soa.why_bogus, truth->soa_why_bogus,
			 sizeof(j->zone_soa.why_bogus));
}

/*
 * Findings as the report holds them (struct cs_report_finding, report.h). While a resolver is
 * judged its probes end in any order: each finding is packed to its length in a block of its
 * own as it comes (rr->judging), and cs_judge_end repacks them into one block (repack). A
 * resolver in the window so holds its findings' real size, not the largest they could be.
 */

/* The most text one finding can hold: less than the struct whose arrays hold it. */
#define SLOT_TEXT sizeof(struct cs_finding)

/* A full-size finding seen as a packed one: its pointers are into f. */
static struct cs_report_finding view_of(const struct cs_finding *f,
					struct cs_report_ede ede[CS_EDE_MAX])
{
	const size_t n_ede = f->n_ede < CS_EDE_MAX ? f->n_ede : CS_EDE_MAX;
	for (size_t e = 0; e < n_ede; e++) {
		ede[e] = (struct cs_report_ede){ .code = f->ede[e].code, .text = f->ede[e].text };
	}
	return (struct cs_report_finding){
		.name = f->name,
		.defect = f->defect,
		.detail = f->detail,
		.ede = ede,
		.n_ede = n_ede,
		.sig = { .state = f->sig.state,
			 .key_tag = f->sig.key_tag,
			 .algorithm = f->sig.algorithm,
			 .reason = f->sig.reason },
		.verdict = f->verdict,
		.ttl_remaining_s = f->ttl_remaining_s,
		.serial = f->serial,
		.type = f->type,
		.rcode = f->rcode,
		.cd_rcode = f->cd_rcode,
		.has_ttl = f->has_ttl,
		.not_validating = f->not_validating,
		.stale_answer = f->stale_answer,
		.has_serial = f->has_serial,
		.known_bad_serial = f->known_bad_serial,
		.answered = f->answered,
		.ad = f->ad,
		.cd_probed = f->cd_probed,
		.cd_answered = f->cd_answered,
	};
}

/* Copy s to *text and move *text past it. */
static const char *pack_text(char **text, const char *s)
{
	char *copy = *text;
	const size_t size = strlen(s) + 1;
	memcpy(copy, s, size);
	*text += size;
	return copy;
}

/* The texts of f, NULs included. */
static size_t text_size(const struct cs_report_finding *f)
{
	size_t size =
		strlen(f->name) + strlen(f->defect) + strlen(f->detail) + strlen(f->sig.reason) + 4;
	for (size_t e = 0; e < f->n_ede; e++) {
		size += strlen(f->ede[e].text) + 1;
	}
	return size;
}

/* Copy f to *out with its EDEs from *ede on and its texts from *text on; both move on. */
static void pack_one(const struct cs_report_finding *f, struct cs_report_finding *out,
		     struct cs_report_ede **ede, char **text)
{
	*out = *f;
	out->name = pack_text(text, f->name);
	out->defect = pack_text(text, f->defect);
	out->detail = pack_text(text, f->detail);
	out->sig.reason = pack_text(text, f->sig.reason);
	out->ede = *ede;
	for (size_t e = 0; e < f->n_ede; e++) {
		(*ede)[e] = (struct cs_report_ede){ .code = f->ede[e].code,
						    .text = pack_text(text, f->ede[e].text) };
	}
	*ede += f->n_ede;
}

/* Put f in slot k of a block of n slots. */
static void slot_put(struct cs_report_finding *block, size_t n, size_t k,
		     const struct cs_finding *f)
{
	struct cs_report_ede ede_view[CS_EDE_MAX];
	const struct cs_report_finding v = view_of(f, ede_view);
	struct cs_report_ede *ede = (struct cs_report_ede *)(block + n) + k * CS_EDE_MAX;
	char *text = (char *)((struct cs_report_ede *)(block + n) + n * CS_EDE_MAX) + k * SLOT_TEXT;
	pack_one(&v, &block[k], &ede, &text);
}

/* n slots, each an empty finding (verdict ok, every text ""), in one block. */
static struct cs_report_finding *slots_new(size_t n)
{
	const size_t slot = sizeof(struct cs_report_finding) +
			    CS_EDE_MAX * sizeof(struct cs_report_ede) + SLOT_TEXT;
	if (n > SIZE_MAX / slot) {
		return NULL;
	}
	struct cs_report_finding *block = cs_malloc(n * slot);
	static const struct cs_finding empty;
	for (size_t k = 0; block != NULL && k < n; k++) {
		slot_put(block, n, k, &empty);
	}
	return block;
}

/* n findings packed to their length in one new block, or NULL when out of memory. */
static struct cs_report_finding *repack(const struct cs_report_finding *in, size_t n)
{
	size_t n_ede = 0;
	size_t texts = 0;
	for (size_t i = 0; i < n; i++) {
		n_ede += in[i].n_ede;
		texts += text_size(&in[i]);
	}
	/* no overflow: the sum is less than the slots in already take */
	struct cs_report_finding *out =
		cs_malloc(n * sizeof(*out) + n_ede * sizeof(struct cs_report_ede) + texts);
	if (out == NULL) {
		return NULL;
	}
	struct cs_report_ede *ede = (struct cs_report_ede *)(out + n);
	char *text = (char *)(ede + n_ede);
	for (size_t i = 0; i < n; i++) {
		pack_one(&in[i], &out[i], &ede, &text);
	}
	return out;
}

struct cs_report_finding *cs_report_findings_pack(const struct cs_finding *in, size_t n)
{
	struct cs_report_finding *slots = slots_new(n);
	if (slots == NULL) {
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		slot_put(slots, n, k, &in[k]);
	}
	struct cs_report_finding *out = repack(slots, n);
	cs_free(slots);
	return out;
}

/* The per-finding blocks of a resolver being judged. */
static void judging_free(struct cs_resolver_report *rr)
{
	for (size_t k = 0; rr->judging != NULL && k < rr->n_findings; k++) {
		cs_free(rr->judging[k]);
	}
	cs_free(rr->judging);
	rr->judging = NULL;
}

enum cs_errc cs_judge_begin(const struct cs_judge *j, size_t resolver_index,
			    struct cs_resolver_report *rr, struct cs_error *err)
{
	const struct cs_resolver *r = &j->cfg->resolvers[resolver_index];
	const size_t n = cs_report_probe_count(j->cfg);
	cs_resolver_report_init(rr);
	rr->port = r->port;
	rr->transport = r->transport;
	rr->has_software = r->software != NULL;
	const char *texts[CS_RR_TEXT_COUNT] = {
		[CS_RR_ID] = r->id,
		[CS_RR_ADDRESS] = r->address,
		[CS_RR_OPERATOR] = r->operator_name,
		[CS_RR_CONTACT] = r->contact,
		[CS_RR_SOFTWARE_NAME] = rr->has_software ? software_hint(r->software) : NULL,
		[CS_RR_SOFTWARE_SOURCE] = rr->has_software ? "config" : NULL,
	};
	if (cs_resolver_report_set_texts(rr, texts) != CS_OK) {
		return cs_error_set(err, CS_ENOMEM, "out of memory judging resolver %s", r->id);
	}
	rr->findings = cs_calloc(n, sizeof(*rr->findings));
	rr->judging = cs_calloc(n, sizeof(*rr->judging)); // NOLINT(bugprone-sizeof-expression)
	if (rr->findings == NULL || rr->judging == NULL) {
		cs_resolver_report_clean(rr);
		return cs_error_set(err, CS_ENOMEM, "out of memory judging resolver %s", r->id);
	}
	/* a finding not judged yet reads as an empty one (verdict ok, every text "") */
	static const struct cs_finding empty;
	struct cs_report_ede ede_view[CS_EDE_MAX];
	for (size_t k = 0; k < n; k++) {
		rr->findings[k] = view_of(&empty, ede_view);
		rr->findings[k].ede = NULL;
	}
	rr->n_findings = n;
	return CS_OK;
}

enum cs_errc cs_judge_probe(const struct cs_judge *j, struct cs_resolver_report *rr, size_t k,
			    const struct cs_observation *obs, struct cs_error *err)
{
	const struct cs_truth *truth = j->truth;
	if (k >= rr->n_findings) {
		return CS_OK;
	}
	const struct cs_truth_name *tn = k < truth->n_names ? &truth->names[k] : &j->zone_soa;
	struct cs_finding f;
	cs_classify(&j->ctx, tn, obs, &f);
	struct cs_report_finding *packed = cs_report_findings_pack(&f, 1);
	if (packed == NULL || rr->judging == NULL) {
		cs_free(packed);
		return cs_error_set(err, CS_ENOMEM, "out of memory judging resolver %s", rr->id);
	}
	cs_free(rr->judging[k]);
	rr->judging[k] = packed;
	rr->findings[k] = *packed;
	/* the first probe's NSID that has one, in probe order */
	if (obs->main.nsid[0] != '\0' && (rr->nsid[0] == '\0' || k < rr->nsid_probe)) {
		if (cs_resolver_report_set_text(rr, CS_RR_NSID, obs->main.nsid) != CS_OK) {
			return cs_error_set(err, CS_ENOMEM, "out of memory judging resolver %s",
					    rr->id);
		}
		rr->nsid_probe = k;
	}
	return CS_OK;
}

void cs_judge_end(struct cs_resolver_report *rr)
{
	struct cs_status_acc acc;
	cs_status_acc_init(&acc);
	for (size_t i = 0; i < rr->n_findings; i++) {
		const struct cs_report_finding *f = &rr->findings[i];
		cs_status_acc_add(&acc, f->verdict, f->has_ttl, f->ttl_remaining_s);
	}
	rr->status = cs_status_acc_end(&acc, &rr->heals_known, &rr->heals_in_s);
	/* one block for all; out of memory keeps the blocks of each (valid findings too) */
	struct cs_report_finding *packed = repack(rr->findings, rr->n_findings);
	if (packed != NULL) {
		cs_free(rr->findings);
		rr->findings = packed;
		judging_free(rr);
	}
}

enum cs_errc cs_report_judge_resolver(const struct cs_config *cfg, const struct cs_truth *truth,
				      size_t resolver_index, const struct cs_observation *obs,
				      struct cs_resolver_report *rr, struct cs_error *err)
{
	struct cs_judge j;
	cs_judge_init(&j, cfg, truth);
	enum cs_errc rc = cs_judge_begin(&j, resolver_index, rr, err);
	if (rc != CS_OK) {
		return rc;
	}
	const size_t n = rr->n_findings;
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		rc = cs_judge_probe(&j, rr, i, &obs[resolver_index * n + i], err);
	}
	if (rc != CS_OK) {
		return rc;
	}
	cs_judge_end(rr);
	return CS_OK;
}

enum cs_errc cs_report_new(const struct cs_config *cfg, const struct cs_truth *truth,
			   int64_t generated_at_s, struct cs_report **out, struct cs_error *err)
{
	*out = NULL;
	struct cs_report *rep = cs_calloc(1, sizeof(*rep));
	if (rep == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory building the report");
	}
	rep->generated_at_s = generated_at_s;
	(void)cs_strlcpy(rep->zone, cfg->zone, sizeof(rep->zone));
	rep->truth = cs_truth_copy(truth);
	rep->resolvers =
		cs_calloc(cfg->n_resolvers > 0 ? cfg->n_resolvers : 1, sizeof(*rep->resolvers));
	if (rep->truth == NULL || rep->resolvers == NULL) {
		cs_report_free(rep);
		return cs_error_set(err, CS_ENOMEM, "out of memory building the report");
	}
	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		cs_resolver_report_init(&rep->resolvers[i]);
	}
	*out = rep;
	return CS_OK;
}

void cs_report_summarize(struct cs_report *rep)
{
	memset(&rep->summary, 0, sizeof(rep->summary));
	rep->summary.resolvers = rep->n_resolvers;
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		enum cs_status s = rep->resolvers[i].status;
		if ((unsigned)s < CS_STATUS_COUNT) {
			rep->summary.by_status[s]++;
		}
	}
}

enum cs_errc cs_report_build(const struct cs_config *cfg, const struct cs_truth *truth,
			     const struct cs_observation *obs, int64_t generated_at_s,
			     struct cs_report **out, struct cs_error *err)
{
	struct cs_report *rep = NULL;
	*out = NULL;
	enum cs_errc rc = cs_report_new(cfg, truth, generated_at_s, &rep, err);
	if (rc != CS_OK || rep == NULL) {
		return rc != CS_OK ? rc : cs_error_set(err, CS_ENOMEM, "no report was made");
	}
	for (size_t i = 0; i < cfg->n_resolvers && rc == CS_OK; i++) {
		rc = cs_report_judge_resolver(cfg, truth, i, obs, &rep->resolvers[i], err);
		rep->n_resolvers = i + 1;
	}
	if (rc != CS_OK) {
		cs_report_free(rep);
		return rc;
	}
	cs_report_summarize(rep);
	*out = rep;
	return CS_OK;
}

int cs_report_exit_code(const struct cs_report *rep)
{
	const size_t *s = rep->summary.by_status;
	if (s[CS_STATUS_NEEDS_PURGE] > 0) {
		return 2;
	}
	if (s[CS_STATUS_UNREACHABLE] + s[CS_STATUS_REFUSED] + s[CS_STATUS_DEGRADED] > 0) {
		return 1;
	}
	return 0;
}

const char *cs_action_outcome_name(enum cs_action_outcome o)
{
	switch (o) {
	case CS_ACTION_OK:
		return "ok";
	case CS_ACTION_FAILED:
		return "failed";
	case CS_ACTION_SKIPPED:
		return "skipped";
	}
	return NULL;
}

void cs_purge_block_clean(struct cs_purge_block *pb)
{
	for (size_t i = 0; i < pb->n_instructions; i++) {
		cs_free(pb->instructions[i]);
	}
	cs_free(pb->instructions);
	cs_free(pb->actions);
	memset(pb, 0, sizeof(*pb));
}

/*
 * A resolver report's texts: fields point into one block (rr->texts) holding each text to its
 * length, or at the shared "" when empty. A set builds the block anew from the texts kept and
 * the texts given, then frees the old one, so a text may come from the block itself.
 */
static const char empty_text[] = "";

static const size_t text_sizes[CS_RR_TEXT_COUNT] = {
	[CS_RR_ID] = CS_RR_ID_SIZE,
	[CS_RR_ADDRESS] = CS_RR_ADDRESS_SIZE,
	[CS_RR_OPERATOR] = CS_RR_OPERATOR_SIZE,
	[CS_RR_CONTACT] = CS_RR_CONTACT_SIZE,
	[CS_RR_SOFTWARE_NAME] = CS_RR_SOFTWARE_NAME_SIZE,
	[CS_RR_SOFTWARE_VERSION] = CS_RR_SOFTWARE_VERSION_SIZE,
	[CS_RR_SOFTWARE_SOURCE] = CS_RR_SOFTWARE_SOURCE_SIZE,
	[CS_RR_NSID] = CS_RR_NSID_SIZE,
};

size_t cs_resolver_report_text_size(enum cs_rr_text field)
{
	return (unsigned)field < CS_RR_TEXT_COUNT ? text_sizes[field] : 0;
}

static const char **text_field(struct cs_resolver_report *rr, enum cs_rr_text field)
{
	switch (field) {
	case CS_RR_ID:
		return &rr->id;
	case CS_RR_ADDRESS:
		return &rr->address;
	case CS_RR_OPERATOR:
		return &rr->operator_name;
	case CS_RR_CONTACT:
		return &rr->contact;
	case CS_RR_SOFTWARE_NAME:
		return &rr->software.name;
	case CS_RR_SOFTWARE_VERSION:
		return &rr->software.version;
	case CS_RR_SOFTWARE_SOURCE:
		return &rr->software.source;
	case CS_RR_NSID:
		break;
	}
	return &rr->nsid;
}

/* The length text is kept to: at most size - 1 bytes, as cs_strlcpy into the array did. */
static size_t text_len(const char *text, size_t size)
{
	size_t len = 0;
	while (len < size - 1 && text[len] != '\0') {
		len++;
	}
	return len;
}

void cs_resolver_report_init(struct cs_resolver_report *rr)
{
	memset(rr, 0, sizeof(*rr));
	for (size_t f = 0; f < CS_RR_TEXT_COUNT; f++) {
		*text_field(rr, (enum cs_rr_text)f) = empty_text;
	}
}

enum cs_errc cs_resolver_report_set_texts(struct cs_resolver_report *rr,
					  const char *const texts[CS_RR_TEXT_COUNT])
{
	const char *src[CS_RR_TEXT_COUNT];
	size_t len[CS_RR_TEXT_COUNT];
	size_t total = 0;
	for (size_t f = 0; f < CS_RR_TEXT_COUNT; f++) {
		const char *cur = *text_field(rr, (enum cs_rr_text)f);
		src[f] = texts[f] != NULL ? texts[f] : cur != NULL ? cur : empty_text;
		len[f] = text_len(src[f], text_sizes[f]);
		total += len[f] > 0 ? len[f] + 1 : 0;
	}
	char *block = NULL;
	if (total > 0) {
		block = cs_malloc(total);
		if (block == NULL) {
			return CS_ENOMEM;
		}
	}
	char *at = block;
	const char *dst[CS_RR_TEXT_COUNT];
	for (size_t f = 0; f < CS_RR_TEXT_COUNT; f++) {
		dst[f] = empty_text;
		if (len[f] > 0) {
			memcpy(at, src[f], len[f]);
			at[len[f]] = '\0';
			dst[f] = at;
			at += len[f] + 1;
		}
	}
	/* only now: src may point into the old block */
	for (size_t f = 0; f < CS_RR_TEXT_COUNT; f++) {
		*text_field(rr, (enum cs_rr_text)f) = dst[f];
	}
	cs_free(rr->texts);
	rr->texts = block;
	return CS_OK;
}

enum cs_errc cs_resolver_report_set_text(struct cs_resolver_report *rr, enum cs_rr_text field,
					 const char *text)
{
	const char *texts[CS_RR_TEXT_COUNT] = { NULL };
	if ((unsigned)field >= CS_RR_TEXT_COUNT) {
		return CS_EINVAL;
	}
	texts[field] = text != NULL ? text : empty_text;
	return cs_resolver_report_set_texts(rr, texts);
}

struct cs_purge_block *cs_resolver_report_purge(struct cs_resolver_report *rr)
{
	if (rr->purge == NULL) {
		rr->purge = cs_calloc(1, sizeof(*rr->purge));
	}
	return rr->purge;
}

void cs_resolver_report_clean(struct cs_resolver_report *rr)
{
	judging_free(rr);
	cs_free(rr->findings);
	if (rr->purge != NULL) {
		cs_purge_block_clean(rr->purge);
		cs_free(rr->purge);
	}
	if (rr->before != NULL) {
		cs_free(rr->before->findings);
		cs_free(rr->before);
	}
	cs_free(rr->texts);
	cs_resolver_report_init(rr);
}

void cs_report_free(struct cs_report *rep)
{
	if (rep == NULL) {
		return;
	}
	for (size_t i = 0; rep->resolvers != NULL && i < rep->n_resolvers; i++) {
		cs_resolver_report_clean(&rep->resolvers[i]);
	}
	cs_free(rep->resolvers);
	cs_truth_free(rep->truth);
	cs_free(rep);
}
