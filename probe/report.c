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

enum cs_errc cs_report_judge_resolver(const struct cs_config *cfg, const struct cs_truth *truth,
				      size_t resolver_index, const struct cs_observation *obs,
				      struct cs_resolver_report *rr, struct cs_error *err)
{
	const struct cs_resolver *r = &cfg->resolvers[resolver_index];
	const size_t n = cs_report_probe_count(cfg);
	const char *patterns[CS_MAX_INCIDENT_PATTERNS];
	char builtin[2 * CS_NAME_STR_MAX];
	const size_t n_patterns = cs_config_incident_patterns(
		cfg, patterns, CS_MAX_INCIDENT_PATTERNS, builtin, sizeof(builtin));
	const struct cs_classify_ctx ctx = {
		.truth = truth,
		.bad_serials = cfg->bad_serials,
		.n_bad_serials = cfg->n_bad_serials,
		.defect_suffixes = patterns,
		.n_defect_suffixes = n_patterns,
	};
	/* the zone SOA is judged against a truth row of its own */
	struct cs_truth_name zone_soa = {
		.type = CS_TYPE_SOA,
		.exists = true,
		.has_type = true,
		.secure = truth->is_signed && !truth->soa_bogus &&
			  strcmp(truth->source, "authorities") != 0,
		.bogus = truth->soa_bogus,
	};
	(void)cs_strlcpy(zone_soa.name, truth->zone, sizeof(zone_soa.name));
	(void)cs_strlcpy(zone_soa.why_bogus, truth->soa_why_bogus, sizeof(zone_soa.why_bogus));

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
	for (size_t i = 0; i < n; i++) {
		const struct cs_truth_name *tn = i < truth->n_names ? &truth->names[i] : &zone_soa;
		const struct cs_observation *o = &obs[resolver_index * n + i];
		cs_classify(&ctx, tn, o, &rr->findings[i]);
		if (rr->nsid[0] == '\0' && o->main.nsid[0] != '\0') {
			(void)cs_strlcpy(rr->nsid, o->main.nsid, sizeof(rr->nsid));
		}
	}
	rr->status = cs_status_of(rr->findings, n, &rr->heals_known, &rr->heals_in_s);
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
	enum cs_errc rc = CS_OK;
	*out = NULL;
	struct cs_report *rep = cs_calloc(1, sizeof(*rep));
	if (rep == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory building the report");
	}
	rep->generated_at_s = generated_at_s;
	(void)cs_strlcpy(rep->zone, cfg->zone, sizeof(rep->zone));
	rep->truth = cs_truth_copy(truth);
	rep->resolvers = cs_calloc(cfg->n_resolvers, sizeof(*rep->resolvers));
	if (rep->truth == NULL || rep->resolvers == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory building the report");
		goto out;
	}
	for (size_t i = 0; i < cfg->n_resolvers && rc == CS_OK; i++) {
		rc = cs_report_judge_resolver(cfg, truth, i, obs, &rep->resolvers[i], err);
		rep->n_resolvers = i + 1;
	}
	if (rc != CS_OK) {
		goto out;
	}
	cs_report_summarize(rep);
	*out = rep;
	rep = NULL;
out:
	cs_report_free(rep);
	return rc;
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
