/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The change-only report (--changes): a line per resolver whose status changed since the last
 * run, and nothing at all when nothing changed, so that cron mails only on a change.
 */
#include <stdio.h>

#include <cachesweep/clock.h>

#include "cli.h"

static void heal_note(const struct cs_resolver_report *rr, FILE *fp)
{
	if (rr->status != CS_STATUS_NEEDS_PURGE) {
		return;
	}
	if (!rr->heals_known) {
		fputs("; heal time unknown", fp);
		return;
	}
	char d[24];
	cli_duration(rr->heals_in_s, d, sizeof(d));
	fprintf(fp, "; heals by itself in %s", d);
}

void render_changes_human(const struct cs_report *rep, const struct cs_change *changes,
			  size_t n_changes, FILE *fp)
{
	for (size_t i = 0; i < n_changes; i++) {
		const struct cs_change *c = &changes[i];
		const struct cs_resolver_report *rr = &rep->resolvers[c->resolver_index];
		char since[32];
		char lasted[24];
		int64_t span = c->changed_at_s - c->since_s;
		cs_clock_format_utc(c->since_s, since, sizeof(since));
		cli_duration(span > 0 && span < (int64_t)UINT32_MAX ? (uint32_t)span : 0u, lasted,
			     sizeof(lasted));
		fprintf(fp, "%s (%s#%u): ", rr->id, rr->address, (unsigned)rr->port);
		switch (c->kind) {
		case CS_CHANGE_BAD:
			if (c->first_seen) {
				fprintf(fp, "BAD: %s (first seen)", cs_status_name(c->to));
			} else {
				fprintf(fp, "BAD: %s, was healthy since %s (%s)",
					cs_status_name(c->to), since, lasted);
			}
			break;
		case CS_CHANGE_HEALED:
			fprintf(fp, "HEALED: healthy, was %s since %s (%s)",
				cs_status_name(c->from), since, lasted);
			break;
		case CS_CHANGE_CHANGED:
			fprintf(fp, "CHANGED: %s, was %s since %s (%s)", cs_status_name(c->to),
				cs_status_name(c->from), since, lasted);
			break;
		}
		heal_note(rr, fp);
		fputc('\n', fp);
	}
}
