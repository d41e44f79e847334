/* SPDX-License-Identifier: BSD-3-Clause */
/* The human rendering: the truth, then a table per resolver. Colours only on a terminal. */
#include <stdio.h>
#include <string.h>

#include <cachesweep/clock.h>

#include "cli.h"

#define C_RED    "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN  "\033[32m"
#define C_BOLD   "\033[1m"
#define C_OFF    "\033[0m"

static const char *status_color(enum cs_status s)
{
	switch (s) {
	case CS_STATUS_HEALTHY:
		return C_GREEN;
	case CS_STATUS_NEEDS_PURGE:
		return C_RED;
	case CS_STATUS_DEGRADED:
	case CS_STATUS_REFUSED:
	case CS_STATUS_UNREACHABLE:
		return C_YELLOW;
	}
	return "";
}

void cli_duration(uint32_t s, char *buf, size_t size)
{
	if (s >= 86400u) {
		(void)cs_snprintf(buf, size, "%ud%02uh%02um", s / 86400u, s % 86400u / 3600u,
				  s % 3600u / 60u);
	} else if (s >= 3600u) {
		(void)cs_snprintf(buf, size, "%uh%02um%02us", s / 3600u, s % 3600u / 60u, s % 60u);
	} else if (s >= 60u) {
		(void)cs_snprintf(buf, size, "%um%02us", s / 60u, s % 60u);
	} else {
		(void)cs_snprintf(buf, size, "%us", s);
	}
}

static void truth_block(const struct cs_report *rep, FILE *fp, bool color)
{
	const struct cs_truth *t = rep->truth;
	char when[32];
	cs_clock_format_utc(rep->generated_at_s, when, sizeof(when));
	fprintf(fp, "%szone %s%s  serial %u  %s  truth from %s  at %s\n", color ? C_BOLD : "",
		rep->zone, color ? C_OFF : "", (unsigned)t->serial,
		t->is_signed ? "signed" : "unsigned", t->source, when);
	for (size_t i = 0; i < t->n_authorities; i++) {
		const struct cs_truth_authority *a = &t->authorities[i];
		if (!a->answered) {
			fprintf(fp, "  authority %-20s %sno answer%s: %s\n", a->address,
				color ? C_YELLOW : "", color ? C_OFF : "", a->error);
			continue;
		}
		bool lagging = cs_serial_cmp(a->serial, t->serial) < 0;
		fprintf(fp, "  authority %-20s serial %u%s%s%s\n", a->address, (unsigned)a->serial,
			lagging && color ? C_YELLOW : "",
			lagging ? "  LAGGING behind the zone" : "", lagging && color ? C_OFF : "");
	}
	if (t->soa_bogus) {
		fprintf(fp, "  %sthe zone's SOA fails validation at the authorities%s: %s\n",
			color ? C_RED : "", color ? C_OFF : "", t->soa_why_bogus);
	}
	for (size_t i = 0; i < t->n_names; i++) {
		if (t->names[i].bogus) {
			fprintf(fp, "  %s%s is bogus at the authorities%s: %s\n",
				color ? C_RED : "", t->names[i].name, color ? C_OFF : "",
				t->names[i].why_bogus);
		}
	}
	fputc('\n', fp);
}

static void finding_line(const struct cs_report_finding *f, FILE *fp, bool color)
{
	char type[16];
	char rcode[16] = "-";
	char left[32] = "";
	cs_type_format(f->type, type, sizeof(type));
	if (f->answered) {
		cs_rcode_format(f->rcode, rcode, sizeof(rcode));
	}
	if (cs_verdict_needs_purge(f->verdict)) {
		if (f->has_ttl) {
			char d[24];
			cli_duration(f->ttl_remaining_s, d, sizeof(d));
			(void)cs_snprintf(left, sizeof(left), "heals in %s", d);
		} else {
			(void)cs_strlcpy(left, "heal time unknown", sizeof(left));
		}
	}
	const char *on = "";
	if (color && f->verdict != CS_VERDICT_OK) {
		on = cs_verdict_needs_purge(f->verdict) ? C_RED : C_YELLOW;
	}
	char line[CS_NAME_STR_MAX + CS_DETAIL_MAX + 160];
	size_t n = 0;
	int w = snprintf(line, sizeof(line), "  %-28s %-6s %s%-16s%s %-9s %-3s %-18s", f->name,
			 type, on, cs_verdict_name(f->verdict), color && on[0] ? C_OFF : "", rcode,
			 f->ad ? "AD" : "", left);
	n = w < 0 ? 0 : ((size_t)w >= sizeof(line) ? sizeof(line) - 1 : (size_t)w);
	while (n > 0 && line[n - 1] == ' ') { /* no padding at the end of a line */
		line[--n] = '\0';
	}
	fputs(line, fp);
	if (f->not_validating) {
		fputs(" [not validating]", fp);
	}
	if (f->stale_answer) {
		fputs(" [stale]", fp);
	}
	if (f->verdict != CS_VERDICT_OK && f->detail[0] != '\0') {
		fprintf(fp, "  %s", f->detail);
	}
	fputc('\n', fp);
}

/* The before state of a sweep, the purge plan and what was done. */
static void purge_lines(const struct cs_resolver_report *rr, FILE *fp, bool color)
{
	const struct cs_before_block *before = rr->before;
	if (before != NULL) {
		char d[24] = "";
		if (before->status == CS_STATUS_NEEDS_PURGE && before->heals_known) {
			cli_duration(before->heals_in_s, d, sizeof(d));
		}
		fprintf(fp, "  before the purge: %s%s%s\n", cs_status_name(before->status),
			d[0] ? ", would have healed by itself in " : "", d);
	}
	const struct cs_purge_block *pb = rr->purge;
	if (pb == NULL || !pb->present) {
		return;
	}
	fprintf(fp, "  purge %s%s%s:\n", pb->scope, pb->endpoint[0] ? " via " : "", pb->endpoint);
	for (size_t i = 0; i < pb->n_instructions; i++) {
		fprintf(fp, "    %s\n", pb->instructions[i]);
	}
	for (size_t i = 0; i < pb->n_actions; i++) {
		const struct cs_purge_action *a = &pb->actions[i];
		const char *on = "";
		if (color) {
			on = a->outcome == CS_ACTION_OK       ? C_GREEN
			     : a->outcome == CS_ACTION_FAILED ? C_RED
							      : C_YELLOW;
		}
		fprintf(fp, "    %s[%s]%s %s %s", on, cs_action_outcome_name(a->outcome),
			color ? C_OFF : "", a->endpoint, a->target);
		if (a->error[0] != '\0') {
			fprintf(fp, ": %s", a->error);
		}
		fputc('\n', fp);
	}
}

void render_human(const struct cs_report *rep, FILE *fp, bool color)
{
	truth_block(rep, fp, color);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		char heal[48] = "";
		if (rr->status == CS_STATUS_NEEDS_PURGE) {
			char d[24];
			cli_duration(rr->heals_in_s, d, sizeof(d));
			(void)cs_snprintf(heal, sizeof(heal), "  heals by itself in %s",
					  rr->heals_known ? d : "(unknown)");
		}
		fprintf(fp, "%s%s%s  %s#%u", color ? C_BOLD : "", rr->id, color ? C_OFF : "",
			rr->address, (unsigned)rr->port);
		if (rr->operator_name[0] != '\0') {
			fprintf(fp, "  %s", rr->operator_name);
		}
		if (rr->has_software) {
			fprintf(fp, "  (%s)", rr->software.name);
		}
		if (rr->nsid[0] != '\0') {
			fprintf(fp, "  nsid %s", rr->nsid);
		}
		fprintf(fp, "  %s%s%s%s\n", color ? status_color(rr->status) : "",
			cs_status_name(rr->status), color ? C_OFF : "", heal);
		for (size_t j = 0; j < rr->n_findings; j++) {
			finding_line(&rr->findings[j], fp, color);
		}
		purge_lines(rr, fp, color);
		fputc('\n', fp);
	}
	const struct cs_report_summary *s = &rep->summary;
	fprintf(fp,
		"%zu resolvers: %zu healthy, %zu need a purge, %zu degraded, %zu refused, "
		"%zu unreachable\n",
		s->resolvers, s->by_status[CS_STATUS_HEALTHY], s->by_status[CS_STATUS_NEEDS_PURGE],
		s->by_status[CS_STATUS_DEGRADED], s->by_status[CS_STATUS_REFUSED],
		s->by_status[CS_STATUS_UNREACHABLE]);
}

void cli_progress_format(size_t done, size_t total, uint64_t elapsed_ms, size_t probes_each,
			 char *buf, size_t size)
{
	double secs = (double)elapsed_ms / 1000.0;
	double rate = secs > 0.0 ? (double)(done * probes_each) / secs : 0.0;
	char left[24] = "?";
	if (done > 0 && done < total) {
		uint64_t eta_ms = elapsed_ms * (uint64_t)(total - done) / (uint64_t)done;
		cli_duration((uint32_t)(eta_ms / 1000u), left, sizeof(left));
	} else if (done >= total) {
		(void)cs_strlcpy(left, "0s", sizeof(left));
	}
	(void)cs_snprintf(buf, size, "probed %zu/%zu resolvers, %.0f answers/s, %s left", done,
			  total, rate, left);
}
