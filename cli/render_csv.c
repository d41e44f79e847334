/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CSV for a spreadsheet: one line per finding (resolver × name), RFC 4180: CRLF line ends,
 * a field with a comma, a double quote, CR or LF is quoted and its quotes doubled.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void field(const char *s, FILE *fp)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"') {
			fputc('"', fp);
		}
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void sep(FILE *fp)
{
	fputc(',', fp);
}

static void u32_or_empty(bool known, uint32_t v, FILE *fp)
{
	if (known) {
		fprintf(fp, "%u", (unsigned)v);
	}
}

static void ede_field(const struct cs_report_finding *f, FILE *fp)
{
	char buf[CS_EDE_MAX * (CS_EDE_TEXT_MAX + 48)] = "";
	size_t used = 0;
	for (size_t i = 0; i < f->n_ede && i < CS_EDE_MAX; i++) {
		int n = snprintf(buf + used, sizeof(buf) - used, "%s%u %s%s%s", i > 0 ? "; " : "",
				 (unsigned)f->ede[i].code, cs_ede_name(f->ede[i].code),
				 f->ede[i].text[0] != '\0' ? ": " : "", f->ede[i].text);
		if (n < 0 || (size_t)n >= sizeof(buf) - used) {
			break;
		}
		used += (size_t)n;
	}
	field(buf, fp);
}

void render_csv(const struct cs_report *rep, FILE *fp)
{
	fputs("resolver,address,port,status,heals_in_s,name,type,verdict,rcode,ad,"
	      "ttl_remaining_s,serial,ede,detail\r\n",
	      fp);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		for (size_t j = 0; j < rr->n_findings; j++) {
			const struct cs_report_finding *f = &rr->findings[j];
			char type[16];
			char rcode[16] = "";
			cs_type_format(f->type, type, sizeof(type));
			if (f->answered) {
				cs_rcode_format(f->rcode, rcode, sizeof(rcode));
			}
			field(rr->id, fp);
			sep(fp);
			field(rr->address, fp);
			fprintf(fp, ",%u,%s,", (unsigned)rr->port, cs_status_name(rr->status));
			u32_or_empty(rr->heals_known, rr->heals_in_s, fp);
			sep(fp);
			field(f->name, fp);
			fprintf(fp, ",%s,%s,%s,%s,", type, cs_verdict_name(f->verdict), rcode,
				f->answered ? (f->ad ? "1" : "0") : "");
			u32_or_empty(f->has_ttl, f->ttl_remaining_s, fp);
			sep(fp);
			u32_or_empty(f->has_serial, f->serial, fp);
			sep(fp);
			ede_field(f, fp);
			sep(fp);
			field(f->detail, fp);
			fputs("\r\n", fp);
		}
	}
}
