/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cachesweep notify: one ready-to-send message per operator (grouped by operator and contact)
 * whose resolvers need a purge: what they serve, as of when, when it heals by itself, and the
 * exact purge commands for their software. Plain text (.txt) and Markdown (.md) in --out DIR.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/purge.h>

#include "cli.h"

/* A file name from the operator: lower-case letters, digits and '-', at most 64. */
static void slug(const char *s, char *out, size_t size)
{
	size_t n = 0;
	bool dash = false;
	for (; *s != '\0' && n + 1 < size && n < 64; s++) {
		char c = *s;
		if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			out[n++] = c;
			dash = false;
		} else if (!dash && n > 0) {
			out[n++] = '-';
			dash = true;
		}
	}
	while (n > 0 && out[n - 1] == '-') {
		n--;
	}
	out[n] = '\0';
	if (n == 0) {
		(void)cs_strlcpy(out, "unknown-operator", size);
	}
}

static void duration(uint32_t s, char *buf, size_t size)
{
	if (s >= 3600) {
		(void)cs_snprintf(buf, size, "%uh%02um", (unsigned)(s / 3600),
				  (unsigned)(s % 3600 / 60));
	} else if (s >= 60) {
		(void)cs_snprintf(buf, size, "%um%02us", (unsigned)(s / 60), (unsigned)(s % 60));
	} else {
		(void)cs_snprintf(buf, size, "%us", (unsigned)s);
	}
}

/* What a verdict means to someone who has not read our docs. */
static const char *verdict_plain(enum cs_verdict v)
{
	switch (v) {
	case CS_VERDICT_CACHED_NXDOMAIN:
		return "says the name does not exist, but it does";
	case CS_VERDICT_CACHED_NODATA:
		return "says the name has no such record, but it has";
	case CS_VERDICT_SERVFAIL_DNSSEC:
		return "fails: it holds data it judges bogus (DNSSEC)";
	case CS_VERDICT_SERVFAIL_CACHED:
		return "fails from a cached error";
	case CS_VERDICT_BOGUS_DATA:
		return "serves data that fails DNSSEC validation";
	case CS_VERDICT_STALE_SERIAL:
		return "serves an old version of the zone";
	case CS_VERDICT_BAD_SERIAL:
		return "serves the broken version of the zone";
	case CS_VERDICT_WRONG_DATA:
		return "serves other data than the zone holds";
	case CS_VERDICT_OK:
	case CS_VERDICT_SERVFAIL:
	case CS_VERDICT_REFUSED:
	case CS_VERDICT_TIMEOUT:
	case CS_VERDICT_MALFORMED:
		break;
	}
	return "differs from the zone";
}

static bool same_group(const struct cs_resolver_report *a, const struct cs_resolver_report *b)
{
	return strcmp(a->operator_name, b->operator_name) == 0 &&
	       strcmp(a->contact, b->contact) == 0;
}

/** Write one message for the group of resolvers like rep->resolvers[first]. */
static void message(const struct cs_report *rep, size_t first, FILE *fp, bool md)
{
	const struct cs_resolver_report *head = &rep->resolvers[first];
	char when[32];
	cs_clock_format_utc(rep->generated_at_s, when, sizeof(when));
	const char *who = head->operator_name[0] ? head->operator_name : "resolver operator";
	const char *h1 = md ? "# " : "";
	const char *h2 = md ? "## " : "";
	const char *code = md ? "    " : "    $ ";

	fprintf(fp, "%sStale DNS data for %s in your resolvers\n\n", h1, rep->zone);
	if (head->contact[0] != '\0') {
		fprintf(fp, "To: %s\n", head->contact);
	}
	fprintf(fp, "Operator: %s\n\n", who);
	fprintf(fp,
		"Hello,\n\nthe zone %s had a serious error that has since been corrected. As of "
		"%s, "
		"the resolvers listed below still serve the broken data from their caches: users "
		"of "
		"these resolvers cannot reach the names below. The entries expire by themselves at "
		"the time given, but a purge of %s fixes it now: please run the commands given for "
		"each resolver. They are limited to %s where the software allows it; where a "
		"command clears more (negative or bogus entries of other zones), those are simply "
		"fetched again.\n\n",
		rep->zone, when, rep->zone, rep->zone);
	for (size_t i = first; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		if (!same_group(rr, head) || rr->status != CS_STATUS_NEEDS_PURGE) {
			continue;
		}
		char heal[64] = "unknown";
		if (rr->heals_known) {
			char d[24];
			char at[32];
			duration(rr->heals_in_s, d, sizeof(d));
			cs_clock_format_utc(rep->generated_at_s + rr->heals_in_s, at, sizeof(at));
			(void)cs_snprintf(heal, sizeof(heal), "in %s (at %s)", d, at);
		}
		fprintf(fp, "%sResolver %s (%s port %u)\n\n", h2, rr->id, rr->address,
			(unsigned)rr->port);
		if (rr->has_software && strcmp(rr->software.name, "unknown") != 0) {
			fprintf(fp, "Software: %s%s%s (from %s)\n", rr->software.name,
				rr->software.version[0] ? " " : "", rr->software.version,
				rr->software.source);
		} else {
			fprintf(fp, "Software: not known to us (commands for common ones below)\n");
		}
		fprintf(fp, "Wrong as of: %s\nHeals by itself: %s\n\nWhat it serves:\n\n", when,
			heal);
		for (size_t f = 0; f < rr->n_findings; f++) {
			const struct cs_report_finding *fi = &rr->findings[f];
			if (!cs_verdict_needs_purge(fi->verdict)) {
				continue;
			}
			char type[16];
			char rcode[16] = "no answer";
			char ttl[32] = "";
			cs_type_format(fi->type, type, sizeof(type));
			if (fi->answered) {
				cs_rcode_format(fi->rcode, rcode, sizeof(rcode));
			}
			if (fi->has_ttl) {
				char d[24];
				duration(fi->ttl_remaining_s, d, sizeof(d));
				(void)cs_snprintf(ttl, sizeof(ttl), ", cached for %s more", d);
			}
			fprintf(fp, "%s%s %s: %s [%s, %s%s]\n", md ? "- " : "  - ", fi->name, type,
				verdict_plain(fi->verdict), cs_verdict_name(fi->verdict), rcode,
				ttl);
		}
		static const struct cs_purge_block no_purge;
		const struct cs_purge_block *pb = rr->purge != NULL ? rr->purge : &no_purge;
		fprintf(fp, "\nTo purge (scope %s):\n\n", pb->scope[0] ? pb->scope : rep->zone);
		for (size_t k = 0; k < pb->n_instructions; k++) {
			fprintf(fp, "%s%s\n", code, pb->instructions[k]);
		}
		for (size_t f = 0; f < rr->n_findings; f++) {
			const struct cs_report_finding *fi = &rr->findings[f];
			char type[16];
			if (!cs_verdict_needs_purge(fi->verdict)) {
				continue;
			}
			cs_type_format(fi->type, type, sizeof(type));
			fprintf(fp, "\nThen check (the answer should be NOERROR with data):\n\n");
			fprintf(fp, "%sdig @%s -p %u %s %s +dnssec\n", code, rr->address,
				(unsigned)rr->port, fi->name, type);
			break;
		}
		fputc('\n', fp);
	}
	fprintf(fp, "Thank you.\n");
}

static enum cs_errc write_file(const char *dir, const char *name, const char *ext,
			       const struct cs_report *rep, size_t first, struct cs_error *err)
{
	char path[4096];
	if (cs_snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext) != 0) {
		return cs_error_set(err, CS_EIO, "--out %s: path too long", dir);
	}
	FILE *fp = fopen(path, "w");
	if (fp == NULL) {
		int e = errno;
		return cs_error_set(err, CS_EIO, "%s: %s", path, strerror(e));
	}
	message(rep, first, fp, strcmp(ext, "md") == 0);
	if (ferror(fp) || fclose(fp) != 0) {
		int e = errno;
		return cs_error_set(err, CS_EIO, "%s: cannot write: %s", path, strerror(e));
	}
	return CS_OK;
}

int cmd_notify_run(const struct cli_args *args)
{
	struct cs_error err = { 0 };
	struct cs_config *cfg = NULL;
	struct event_base *base = NULL;
	struct cs_truth *truth = NULL;
	struct cs_report *rep = NULL;
	int code = CLI_EXIT_UNKNOWN;
	size_t written = 0;

	if (cli_report_or_probe(args, &cfg, &base, &truth, &rep, &err) != CS_OK) {
		goto out;
	}
	if (mkdir(args->out_dir, 0755) != 0 && errno != EEXIST) {
		int e = errno;
		cs_error_set(&err, CS_EIO, "--out %s: %s", args->out_dir, strerror(e));
		goto out;
	}
	/* plans for every resolver that needs one (a report read back may carry them already) */
	if (cli_plan(cfg, rep, &err) != CS_OK) {
		goto out;
	}
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		bool first = rr->status == CS_STATUS_NEEDS_PURGE;
		for (size_t k = 0; k < i && first; k++) {
			first = !(same_group(&rep->resolvers[k], rr) &&
				  rep->resolvers[k].status == CS_STATUS_NEEDS_PURGE);
		}
		if (!first) {
			continue;
		}
		char name[80];
		char base_name[96];
		slug(rr->operator_name[0] ? rr->operator_name : rr->contact, name, sizeof(name));
		/* two operators with the same slug must not overwrite each other */
		(void)cs_snprintf(base_name, sizeof(base_name), "%s", name);
		for (size_t k = 0; k < i; k++) {
			char other[80];
			const struct cs_resolver_report *o = &rep->resolvers[k];
			slug(o->operator_name[0] ? o->operator_name : o->contact, other,
			     sizeof(other));
			if (o->status == CS_STATUS_NEEDS_PURGE && strcmp(other, name) == 0 &&
			    !same_group(o, rr)) {
				(void)cs_snprintf(base_name, sizeof(base_name), "%s-%zu", name, i);
			}
		}
		if (write_file(args->out_dir, base_name, "txt", rep, i, &err) != CS_OK ||
		    write_file(args->out_dir, base_name, "md", rep, i, &err) != CS_OK) {
			goto out;
		}
		printf("%s/%s.txt\n%s/%s.md\n", args->out_dir, base_name, args->out_dir, base_name);
		written++;
	}
	fprintf(stderr, "cachesweep: %zu operator messages written to %s\n", written,
		args->out_dir);
	code = cs_report_exit_code(rep);
out:
	if (code == CLI_EXIT_UNKNOWN) {
		cli_error(&err);
	}
	cs_report_free(rep);
	cs_truth_free(truth);
	if (base != NULL) {
		event_base_free(base);
	}
	cs_config_free(cfg);
	return code;
}
