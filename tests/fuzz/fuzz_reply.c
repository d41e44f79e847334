/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: reply bytes → cs_wire_read_reply → observation → cs_classify against a fixed
 * truth. The input is one DNS message as a resolver would send it, so a corpus file is a real
 * reply (dig +qr, or tests/fuzz/make_corpus.py). It is read as the answer to each of a few
 * fixed queries, with the query ID taken from the reply, so the fuzzer gets past the ID check
 * and into ldns and our own checks. Every string the reader promises to be printable and
 * terminated is checked, and so is every verdict; a broken promise aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cachesweep/classify.h>
#include <cachesweep/error.h>
#include <cachesweep/truth.h>

#include "fuzz.h"
#include "wire.h"

static const struct {
	const char *qname;
	uint16_t qtype;
	uint16_t qclass;
} queries[] = {
	{ "shop1.se.", CS_TYPE_A, 1 },  { "shop1.se.", CS_TYPE_AAAA, 1 },
	{ "se.", CS_TYPE_SOA, 1 },      { "iis.se.", CS_TYPE_NS, 1 },
	{ "www.bogus.", CS_TYPE_A, 1 }, { "version.bind.", CS_TYPE_TXT, 3 },
};

static void check_str(const char *s, size_t size)
{
	const char *end = memchr(s, '\0', size);
	if (end == NULL) {
		abort(); /* not terminated inside its buffer */
	}
	for (const char *c = s; c < end; c++) {
		if (*c < 0x20 || *c >= 0x7f) {
			abort(); /* promised printable */
		}
	}
}

static void check_facts(const struct cs_reply_facts *f)
{
	check_str(f->detail, sizeof(f->detail));
	check_str(f->cname_target, sizeof(f->cname_target));
	check_str(f->soa_owner, sizeof(f->soa_owner));
	check_str(f->nsid, sizeof(f->nsid));
	if (f->n_ede > CS_EDE_MAX) {
		abort();
	}
	for (size_t i = 0; i < f->n_ede; i++) {
		check_str(f->ede[i].text, sizeof(f->ede[i].text));
	}
	size_t shown = f->answer_count < CS_ANSWER_MAX ? f->answer_count : CS_ANSWER_MAX;
	for (size_t i = 0; i < shown; i++) {
		check_str(f->answers[i], sizeof(f->answers[i]));
	}
	if (f->has_data != (f->answer_count > 0)) {
		abort();
	}
}

/* The zone as truth sees it: signed, serial 2026112801, the 2009 serial known bad. */
static const uint32_t bad_serials[] = { 2009101201u };

static void judge(const struct cs_observation *obs, const char *qname, uint16_t qtype)
{
	struct cs_truth truth;
	memset(&truth, 0, sizeof(truth));
	(void)cs_strlcpy(truth.zone, "se.", sizeof(truth.zone));
	truth.have_serial = true;
	truth.serial = 2026112801u;
	truth.is_signed = true;
	const struct cs_classify_ctx ctx = { .truth = &truth,
					     .bad_serials = bad_serials,
					     .n_bad_serials = 1 };
	/* exists with data, exists without this type, does not exist, bogus at the source */
	static const struct {
		bool exists, has_type, secure, bogus;
	} rows[] = {
		{ true, true, true, false },
		{ true, false, true, false },
		{ false, false, true, false },
		{ true, true, false, true },
	};
	struct cs_finding findings[sizeof(rows) / sizeof(rows[0])];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cs_truth_name tn;
		memset(&tn, 0, sizeof(tn));
		(void)cs_strlcpy(tn.name, qname, sizeof(tn.name));
		tn.type = qtype;
		tn.exists = rows[i].exists;
		tn.has_type = rows[i].has_type;
		tn.secure = rows[i].secure;
		tn.bogus = rows[i].bogus;
		tn.ttl_s = 3600;
		enum cs_verdict v = cs_classify(&ctx, &tn, obs, &findings[i]);
		if (cs_verdict_name(v) == NULL || v != findings[i].verdict) {
			abort();
		}
		check_str(findings[i].detail, sizeof(findings[i].detail));
	}
	bool heals_known = false;
	uint32_t heals_in_s = 0;
	enum cs_status s =
		cs_status_of(findings, sizeof(rows) / sizeof(rows[0]), &heals_known, &heals_in_s);
	if (cs_status_name(s) == NULL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct cs_query q;
		memset(&q, 0, sizeof(q));
		(void)cs_strlcpy(q.qname, queries[i].qname, sizeof(q.qname));
		q.qtype = queries[i].qtype;
		q.qclass = queries[i].qclass;
		q.id = (uint16_t)(size >= 2 ? (data[0] << 8 | data[1]) : 0);
		q.rd = true;
		q.edns_do = true;

		struct cs_observation obs;
		memset(&obs, 0, sizeof(obs));
		char why[CS_DETAIL_MAX];
		enum cs_wire_verdict v =
			cs_wire_read_reply(&q, data, size, &obs.main, why, sizeof(why));
		check_str(why, sizeof(why));
		if (v == CS_WIRE_IGNORE) {
			continue;
		}
		if (v == CS_WIRE_MALFORMED) {
			obs.main.outcome = CS_OUTCOME_MALFORMED;
			(void)cs_strlcpy(obs.main.detail, why, sizeof(obs.main.detail));
		}
		check_facts(&obs.main);
		/* a SERVFAIL is followed by a CD=1 query: let the same bytes answer it too */
		if (v == CS_WIRE_ACCEPT && obs.main.rcode == CS_RCODE_SERVFAIL) {
			obs.cd_probed = true;
			obs.cd = obs.main;
		}
		judge(&obs, q.qname, q.qtype);
	}
	char txt[CS_EDE_TEXT_MAX];
	if (cs_wire_read_txt(data, size, txt, sizeof(txt)) == 0) {
		check_str(txt, sizeof(txt));
	}
	return 0;
}
