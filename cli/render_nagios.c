/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monitoring-plugin rendering (Nagios plugin API, also read by Icinga 2 and Naemon):
 * one status line "CACHESWEEP <STATE> - text | perfdata", then the long output, a line per
 * resolver that is not healthy and a line per finding that is not ok. The exit code is the
 * plugin's state. Thresholds (--warning, --critical) are counts or shares of resolvers.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const state_word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

/* '|' starts the perfdata and a newline ends the line: neither may come from the data. */
static void put_clean(const char *s, FILE *fp)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		if (c == '|') {
			c = '/';
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			c = ' ';
		}
		fputc(c, fp);
	}
}

enum cs_errc cli_threshold_parse(const char *opt, const char *arg, struct cli_threshold *out,
				 struct cs_error *err)
{
	size_t len = strlen(arg);
	memset(out, 0, sizeof(*out));
	if (len > 0 && arg[len - 1] == '%') {
		char whole[16] = "";
		const char *dot = strchr(arg, '.');
		size_t wlen = (dot != NULL ? (size_t)(dot - arg) : len - 1);
		size_t flen = dot != NULL ? (size_t)(arg + len - 1 - (dot + 1)) : 0;
		uint32_t w = 0;
		uint32_t f = 0;
		bool ok =
			wlen > 0 && wlen < sizeof(whole) && flen <= 2 && (dot == NULL || flen > 0);
		if (ok) {
			char frac[3] = "00"; /* "5.5%" is 5.50% */
			memcpy(whole, arg, wlen);
			whole[wlen] = '\0';
			if (flen > 0) {
				memcpy(frac, dot + 1, flen);
			}
			ok = cs_parse_u32(whole, 0, 100, &w) == 0 &&
			     cs_parse_u32(frac, 0, 99, &f) == 0 && (w < 100 || f == 0);
		}
		if (!ok) {
			return cs_error_set(err, CS_EINVAL,
					    "--%s: expected a count N or a percentage 0%%..100%% "
					    "(up to two decimals), found \"%s\"",
					    opt, arg);
		}
		out->set = true;
		out->percent = true;
		out->value = w * 100u + f;
		return CS_OK;
	}
	if (cs_parse_u32(arg, 0, CS_MAX_RESOLVERS, &out->value) != 0) {
		return cs_error_set(
			err, CS_EINVAL,
			"--%s: expected a count N or a percentage 0%%..100%%, found \"%s\"", opt,
			arg);
	}
	out->set = true;
	return CS_OK;
}

/* Does count out of total exceed the threshold? Unset: any at all. */
static bool exceeds(const struct cli_threshold *t, size_t count, size_t total)
{
	if (!t->set) {
		return count > 0;
	}
	if (t->percent) {
		/* count / total > value / 10000, without floating point */
		return (uint64_t)count * 10000u > (uint64_t)t->value * total;
	}
	return count > t->value;
}

int cli_exit_code(const struct cs_report *rep, const struct cli_threshold *warning,
		  const struct cli_threshold *critical)
{
	const struct cs_report_summary *s = &rep->summary;
	size_t purge = s->by_status[CS_STATUS_NEEDS_PURGE];
	size_t unhealthy = s->resolvers - s->by_status[CS_STATUS_HEALTHY];
	if (exceeds(critical, purge, s->resolvers)) {
		return CLI_EXIT_CRITICAL;
	}
	if (exceeds(warning, unhealthy, s->resolvers)) {
		return CLI_EXIT_WARNING;
	}
	return CLI_EXIT_OK;
}

static void status_line(const struct cs_report *rep, int code, FILE *fp)
{
	const struct cs_report_summary *s = &rep->summary;
	const size_t *by = s->by_status;
	uint32_t longest = 0;
	bool unknown_heal = false;
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		if (rr->status != CS_STATUS_NEEDS_PURGE) {
			continue;
		}
		if (!rr->heals_known) {
			unknown_heal = true;
		} else if (rr->heals_in_s > longest) {
			longest = rr->heals_in_s;
		}
	}
	fprintf(fp, "CACHESWEEP %s - zone ", state_word[code]);
	put_clean(rep->zone, fp);
	fprintf(fp, ": %zu of %zu resolvers healthy", by[CS_STATUS_HEALTHY], s->resolvers);
	if (by[CS_STATUS_HEALTHY] != s->resolvers) {
		if (by[CS_STATUS_NEEDS_PURGE] > 0) {
			char d[24];
			cli_duration(longest, d, sizeof(d));
			fprintf(fp, ", %zu need a purge (%s%s)", by[CS_STATUS_NEEDS_PURGE],
				unknown_heal ? "some heal time unknown, longest known "
					     : "all heal by themselves within ",
				d);
		}
		static const enum cs_status others[] = { CS_STATUS_DEGRADED, CS_STATUS_REFUSED,
							 CS_STATUS_UNREACHABLE };
		for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
			if (by[others[i]] > 0) {
				fprintf(fp, ", %zu %s", by[others[i]], cs_status_name(others[i]));
			}
		}
	}
	fprintf(fp, " | resolvers=%zu", s->resolvers);
	for (unsigned i = 0; i < CS_STATUS_COUNT; i++) {
		fprintf(fp, " %s=%zu", cs_status_name((enum cs_status)i), by[i]);
	}
	if (by[CS_STATUS_NEEDS_PURGE] > 0 && !unknown_heal) {
		fprintf(fp, " heals_in=%us", (unsigned)longest);
	}
	fputc('\n', fp);
}

static void finding_line(const struct cs_report_finding *f, FILE *fp)
{
	char type[16];
	char rcode[16] = "no reply";
	cs_type_format(f->type, type, sizeof(type));
	if (f->answered) {
		cs_rcode_format(f->rcode, rcode, sizeof(rcode));
	}
	fputs("  ", fp);
	put_clean(f->name, fp);
	fprintf(fp, "/%s %s (%s)", type, cs_verdict_name(f->verdict), rcode);
	if (f->has_ttl && cs_verdict_needs_purge(f->verdict)) {
		fprintf(fp, " ttl %us", (unsigned)f->ttl_remaining_s);
	}
	if (f->has_serial) {
		fprintf(fp, " serial %u", (unsigned)f->serial);
	}
	if (f->detail[0] != '\0') {
		fputs(": ", fp);
		put_clean(f->detail, fp);
	}
	fputc('\n', fp);
}

void render_nagios(const struct cs_report *rep, int code, FILE *fp)
{
	if (code < 0 || code > CLI_EXIT_UNKNOWN) {
		code = CLI_EXIT_UNKNOWN;
	}
	status_line(rep, code, fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		if (rr->status == CS_STATUS_HEALTHY) {
			continue;
		}
		put_clean(rr->id, fp);
		fputs(" (", fp);
		put_clean(rr->address, fp);
		fprintf(fp, "#%u): %s", (unsigned)rr->port, cs_status_name(rr->status));
		if (rr->status == CS_STATUS_NEEDS_PURGE) {
			if (rr->heals_known) {
				char d[24];
				cli_duration(rr->heals_in_s, d, sizeof(d));
				fprintf(fp, ", heals by itself in %s", d);
			} else {
				fputs(", heal time unknown", fp);
			}
		}
		if (rr->operator_name[0] != '\0' || rr->contact[0] != '\0') {
			fputs(", operator ", fp);
			put_clean(rr->operator_name[0] != '\0' ? rr->operator_name : "?", fp);
			if (rr->contact[0] != '\0') {
				fputs(" <", fp);
				put_clean(rr->contact, fp);
				fputc('>', fp);
			}
		}
		fputc('\n', fp);
		for (size_t j = 0; j < rr->n_findings; j++) {
			if (rr->findings[j].verdict != CS_VERDICT_OK) {
				finding_line(&rr->findings[j], fp);
			}
		}
	}
}

void render_nagios_unknown(const char *msg, FILE *fp)
{
	fputs("CACHESWEEP UNKNOWN - ", fp);
	put_clean(msg, fp);
	fputc('\n', fp);
}
