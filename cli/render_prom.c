/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition format (version 0.0.4), for node_exporter's textfile
 * collector. Metric names are the contract of shared/design.md. Every series carries the
 * zone, so that several runs (one file each, one zone each) never collide in the collector.
 */
#include <stdio.h>

#include "cli.h"

/* Label values escape backslash, double quote and newline (exposition format). */
static void label_value(const char *s, FILE *fp)
{
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', fp);
			fputc(*s, fp);
		} else if (*s == '\n') {
			fputs("\\n", fp);
		} else {
			fputc(*s, fp);
		}
	}
	fputc('"', fp);
}

static void family(const char *name, const char *help, FILE *fp)
{
	fprintf(fp, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* name{zone="…",resolver="…" */
static void series(const char *name, const struct cs_report *rep, const char *resolver, FILE *fp)
{
	fprintf(fp, "%s{zone=", name);
	label_value(rep->zone, fp);
	if (resolver != NULL) {
		fputs(",resolver=", fp);
		label_value(resolver, fp);
	}
}

void render_prometheus(const struct cs_report *rep, FILE *fp)
{
	family("cachesweep_resolver_healthy",
	       "1 if the resolver serves the zone as its authoritative servers do, else 0.", fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		series("cachesweep_resolver_healthy", rep, rr->id, fp);
		fprintf(fp, "} %d\n", rr->status == CS_STATUS_HEALTHY ? 1 : 0);
	}

	family("cachesweep_resolver_status",
	       "1 for the resolver's status (healthy, needs_purge, degraded, refused, "
	       "unreachable), 0 for the others.",
	       fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		for (unsigned s = 0; s < CS_STATUS_COUNT; s++) {
			series("cachesweep_resolver_status", rep, rr->id, fp);
			fprintf(fp, ",status=\"%s\"} %d\n", cs_status_name((enum cs_status)s),
				rr->status == (enum cs_status)s ? 1 : 0);
		}
	}

	family("cachesweep_resolver_heals_in_seconds",
	       "Seconds until the resolver's bad cache entries expire by themselves; 0 when it "
	       "needs no purge, absent when unknown.",
	       fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		if (rr->status == CS_STATUS_NEEDS_PURGE && !rr->heals_known) {
			continue;
		}
		series("cachesweep_resolver_heals_in_seconds", rep, rr->id, fp);
		fprintf(fp, "} %u\n",
			rr->status == CS_STATUS_NEEDS_PURGE ? (unsigned)rr->heals_in_s : 0u);
	}

	family("cachesweep_findings",
	       "Probed (name, type) pairs per resolver and verdict; verdicts not seen are absent.",
	       fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		size_t count[CS_VERDICT_COUNT] = { 0 };
		for (size_t j = 0; j < rr->n_findings; j++) {
			if ((unsigned)rr->findings[j].verdict < CS_VERDICT_COUNT) {
				count[rr->findings[j].verdict]++;
			}
		}
		for (unsigned v = 0; v < CS_VERDICT_COUNT; v++) {
			if (count[v] == 0) {
				continue;
			}
			series("cachesweep_findings", rep, rr->id, fp);
			fprintf(fp, ",verdict=\"%s\"} %zu\n", cs_verdict_name((enum cs_verdict)v),
				count[v]);
		}
	}

	family("cachesweep_resolvers", "Resolvers probed, by status.", fp);
	for (unsigned s = 0; s < CS_STATUS_COUNT; s++) {
		series("cachesweep_resolvers", rep, NULL, fp);
		fprintf(fp, ",status=\"%s\"} %zu\n", cs_status_name((enum cs_status)s),
			rep->summary.by_status[s]);
	}

	if (rep->truth != NULL && rep->truth->have_serial) {
		family("cachesweep_zone_serial",
		       "The zone's SOA serial on its authoritative servers (the newest).", fp);
		series("cachesweep_zone_serial", rep, NULL, fp);
		fprintf(fp, "} %u\n", (unsigned)rep->truth->serial);
	}

	family("cachesweep_last_run_timestamp_seconds",
	       "When this report was made, in seconds since the epoch.", fp);
	series("cachesweep_last_run_timestamp_seconds", rep, NULL, fp);
	fprintf(fp, "} %lld\n", (long long)rep->generated_at_s);
}
