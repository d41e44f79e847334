/* SPDX-License-Identifier: BSD-3-Clause */
/* The report model: classification of every resolver's observations. */
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

enum cs_errc cs_judge_begin(const struct cs_judge *j, size_t resolver_index,
			    struct cs_resolver_report *rr, struct cs_error *err)
{
	const struct cs_resolver *r = &j->cfg->resolvers[resolver_index];
	const size_t n = cs_report_probe_count(j->cfg);
	memset(rr, 0, sizeof(*rr));
	(void)cs_strlcpy(rr->id, r->id, sizeof(rr->id));
	(void)cs_strlcpy(rr->address, r->address, sizeof(rr->address));
	rr->port = r->port;
	rr->transport = r->transport;
	(void)cs_strlcpy(rr->operator_name, r->operator_name ? r->operator_name : "",
			 sizeof(rr->operator_name));
	(void)cs_strlcpy(rr->contact, r->contact ? r->contact : "", sizeof(rr->contact));
	if (r->software != NULL) {
		rr->has_software = true;
		(void)cs_strlcpy(rr->software.name, software_hint(r->software),
				 sizeof(rr->software.name));
		(void)cs_strlcpy(rr->software.source, "config", sizeof(rr->software.source));
	}
	rr->findings = cs_calloc(n, sizeof(*rr->findings));
	if (rr->findings == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory judging resolver %s", r->id);
	}
	rr->n_findings = n;
	return CS_OK;
}

void cs_judge_probe(const struct cs_judge *j, struct cs_resolver_report *rr, size_t k,
		    const struct cs_observation *obs)
{
	const struct cs_truth *truth = j->truth;
	if (k >= rr->n_findings) {
		return;
	}
	const struct cs_truth_name *tn = k < truth->n_names ? &truth->names[k] : &j->zone_soa;
	cs_classify(&j->ctx, tn, obs, &rr->findings[k]);
	/* the first probe's NSID that has one, in probe order */
	if (obs->main.nsid[0] != '\0' && (rr->nsid[0] == '\0' || k < rr->nsid_probe)) {
		(void)cs_strlcpy(rr->nsid, obs->main.nsid, sizeof(rr->nsid));
		rr->nsid_probe = k;
	}
}

void cs_judge_end(struct cs_resolver_report *rr)
{
	rr->status = cs_status_of(rr->findings, rr->n_findings, &rr->heals_known, &rr->heals_in_s);
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
	for (size_t i = 0; i < n; i++) {
		cs_judge_probe(&j, rr, i, &obs[resolver_index * n + i]);
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

void cs_resolver_report_clean(struct cs_resolver_report *rr)
{
	cs_free(rr->findings);
	rr->findings = NULL;
	rr->n_findings = 0;
	cs_purge_block_clean(&rr->purge);
	cs_free(rr->before.findings);
	memset(&rr->before, 0, sizeof(rr->before));
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
