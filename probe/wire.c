/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queries built with ldns; replies parsed with ldns_wire2pkt() and then checked by hand.
 * Never call ldns_pkt2str()/ldns_pkt_print() here: ldns 1.8.3 crashes on EDNS option 13
 * (shared/notes/resolvers.md, Q6).
 */
#include "wire.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include <cachesweep/alloc.h>

#define EDNS_NSID      3  /* RFC 5001 */
#define EDNS_EDE       15 /* RFC 8914 */
#define MAX_CNAME_HOPS 16

void cs_wire_printable(const uint8_t *data, size_t len, char *out, size_t size)
{
	size_t o = 0;
	if (size == 0) {
		return;
	}
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		out[o++] = (data[i] >= 0x20 && data[i] < 0x7f) ? (char)data[i] : '?';
	}
	out[o] = '\0';
}

enum cs_errc cs_wire_build(const struct cs_query *q, uint8_t **wire, size_t *len,
			   struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	ldns_rdf *name = NULL;
	ldns_pkt *pkt = NULL;
	uint8_t *raw = NULL;
	size_t raw_len = 0;

	*wire = NULL;
	*len = 0;
	if (ldns_str2rdf_dname(&name, q->qname) != LDNS_STATUS_OK) {
		return cs_error_set(err, CS_EINVAL, "cannot encode name %s", q->qname);
	}
	pkt = ldns_pkt_query_new(name, (ldns_rr_type)q->qtype, (ldns_rr_class)q->qclass, 0);
	if (pkt == NULL) {
		ldns_rdf_deep_free(name);
		return cs_error_set(err, CS_ENOMEM, "out of memory building a query");
	}
	ldns_pkt_set_id(pkt, q->id);
	ldns_pkt_set_rd(pkt, q->rd);
	ldns_pkt_set_cd(pkt, q->cd);
	ldns_pkt_set_edns_udp_size(pkt, CS_EDNS_UDP_SIZE);
	ldns_pkt_set_edns_do(pkt, q->edns_do);
	if (q->nsid) {
		ldns_edns_option_list *opts = ldns_edns_option_list_new();
		ldns_edns_option *nsid = ldns_edns_new_from_data(EDNS_NSID, 0, NULL);
		if (opts == NULL || nsid == NULL || !ldns_edns_option_list_push(opts, nsid)) {
			ldns_edns_option_list_deep_free(opts);
			ldns_edns_deep_free(nsid);
			rc = cs_error_set(err, CS_ENOMEM, "out of memory building a query");
			goto out;
		}
		ldns_pkt_set_edns_option_list(pkt, opts);
	}
	if (ldns_pkt2wire(&raw, pkt, &raw_len) != LDNS_STATUS_OK || raw_len > CS_MAX_REPLY) {
		rc = cs_error_set(err, CS_EINVAL, "cannot encode the query for %s", q->qname);
		goto out;
	}
	*wire = cs_malloc(raw_len);
	if (*wire == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory building a query");
		goto out;
	}
	memcpy(*wire, raw, raw_len);
	*len = raw_len;
out:
	LDNS_FREE(raw);
	ldns_pkt_free(pkt);
	return rc;
}

static void lower(char *s)
{
	for (; *s != '\0'; s++) {
		*s = (char)tolower((unsigned char)*s);
	}
}

/* ldns's presentation form of rdf into out, printable and bounded; false when ldns cannot
 * write it. One buffer serves every call (ldns_rdf2str would allocate, copy and free one
 * each time: a tenth of a run's instructions at 10,000 resolvers). */
static bool rdf_text(const ldns_rdf *rdf, char *out, size_t size)
{
	static ldns_buffer *buf = NULL;
	if (buf == NULL) {
		buf = ldns_buffer_new(LDNS_MAX_DOMAINLEN + 1);
		if (buf == NULL) {
			return false;
		}
	}
	/* addresses, the most common data, without ldns's printf */
	const ldns_rdf_type t = ldns_rdf_get_type(rdf);
	if ((t == LDNS_RDF_TYPE_A && ldns_rdf_size(rdf) == 4) ||
	    (t == LDNS_RDF_TYPE_AAAA && ldns_rdf_size(rdf) == 16)) {
		char a[INET6_ADDRSTRLEN];
		if (inet_ntop(t == LDNS_RDF_TYPE_A ? AF_INET : AF_INET6, ldns_rdf_data(rdf), a,
			      sizeof(a)) != NULL) {
			(void)cs_strlcpy(out, a, size);
			return true;
		}
	}
	ldns_buffer_clear(buf);
	if (ldns_rdf2buffer_str(buf, rdf) != LDNS_STATUS_OK || !ldns_buffer_status_ok(buf)) {
		return false;
	}
	cs_wire_printable(ldns_buffer_begin(buf), ldns_buffer_position(buf), out, size);
	return true;
}

/* Names seen lately, by their wire form: a run reads the same few names (the zone, the
 * sample names, their servers) in every reply, and ldns prints a name a character at a time. */
#define NAME_CACHE 32

struct name_cached {
	size_t len; /* 0: empty slot */
	uint8_t wire[LDNS_MAX_DOMAINLEN + 1];
	char text[CS_NAME_STR_MAX];
};

/* Presentation form of a name from the wire; printable, lower case, bounded. */
static void name_text(const ldns_rdf *rdf, char *out, size_t size)
{
	static struct name_cached cache[NAME_CACHE];
	static size_t next; // cppcheck-suppress variableScope ; a static: it must outlive the call
	const size_t len = ldns_rdf_size(rdf);
	const bool cacheable = ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_DNAME && len > 0 &&
			       len <= sizeof(cache[0].wire);
	for (size_t i = 0; cacheable && i < NAME_CACHE; i++) {
		if (cache[i].len == len && memcmp(cache[i].wire, ldns_rdf_data(rdf), len) == 0) {
			(void)cs_strlcpy(out, cache[i].text, size);
			return;
		}
	}
	if (!rdf_text(rdf, out, size)) {
		(void)cs_strlcpy(out, "?", size);
		return;
	}
	lower(out);
	if (cacheable && size >= sizeof(cache[0].text) && strlen(out) + 1 < sizeof(cache[0].text)) {
		struct name_cached *c = &cache[next];
		next = (next + 1) % NAME_CACHE;
		c->len = len;
		memcpy(c->wire, ldns_rdf_data(rdf), len);
		(void)cs_strlcpy(c->text, out, sizeof(c->text));
	}
}

static void rdata_text(const ldns_rr *rr, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		char field[CS_ANSWER_TEXT_MAX];
		if (!rdf_text(ldns_rr_rdf(rr, i), field, sizeof(field))) {
			break;
		}
		if (used > 0 && used + 1 < size) {
			out[used++] = ' ';
			out[used] = '\0';
		}
		if (used + 1 < size) {
			(void)cs_strlcpy(out + used, field, size - used);
			used = strlen(out);
		}
	}
}

/* RFC 2181 §8: a TTL with the most significant bit set is treated as zero. A resolver that
 * claims 4294967295 s (136 years) is not believed, nor is its heal time. */
static uint32_t ttl_of(uint32_t ttl)
{
	return ttl > 0x7fffffffu ? 0 : ttl;
}

static bool rdf_u32(const ldns_rr *rr, size_t i, uint32_t *v)
{
	if (ldns_rr_rd_count(rr) <= i) {
		return false;
	}
	const ldns_rdf *rdf = ldns_rr_rdf(rr, i);
	if (rdf == NULL || ldns_rdf_size(rdf) != 4) {
		return false;
	}
	*v = ldns_rdf2native_int32(rdf);
	return true;
}

static void read_soa(const ldns_rr *rr, struct cs_reply_facts *out)
{
	uint32_t serial = 0;
	uint32_t minimum = 0;
	if (!rdf_u32(rr, 2, &serial) || !rdf_u32(rr, 6, &minimum)) {
		return;
	}
	out->has_soa = true;
	out->soa_serial = serial;
	out->soa_minimum_s = ttl_of(minimum);
	out->soa_ttl_s = ttl_of(ldns_rr_ttl(rr));
	name_text(ldns_rr_owner(rr), out->soa_owner, sizeof(out->soa_owner));
}

/* Follow CNAMEs from the query name (RFC 1034 §3.6.2) and collect the asked type. */
static void read_answer(const struct cs_query *q, ldns_pkt *pkt, struct cs_reply_facts *out)
{
	ldns_rr_list *an = ldns_pkt_answer(pkt);
	size_t count = ldns_rr_list_rr_count(an);
	const ldns_rdf *current = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0));

	for (int hop = 0; hop <= MAX_CNAME_HOPS && current != NULL; hop++) {
		const ldns_rdf *next = NULL;
		for (size_t i = 0; i < count; i++) {
			const ldns_rr *rr = ldns_rr_list_rr(an, i);
			if (ldns_dname_compare(ldns_rr_owner(rr), current) != 0 ||
			    ldns_rr_get_class(rr) != (ldns_rr_class)q->qclass) {
				continue;
			}
			ldns_rr_type t = ldns_rr_get_type(rr);
			if ((uint16_t)t == q->qtype) {
				uint32_t ttl = ttl_of(ldns_rr_ttl(rr));
				if (out->answer_count == 0 || ttl < out->answer_ttl_s) {
					out->answer_ttl_s = ttl;
				}
				if (out->answer_count < CS_ANSWER_MAX) {
					rdata_text(rr, out->answers[out->answer_count],
						   sizeof(out->answers[0]));
				}
				out->answer_count++;
				if (t == LDNS_RR_TYPE_SOA && !out->has_soa) {
					read_soa(rr, out);
					out->soa_in_answer = out->has_soa;
				}
			} else if (t == LDNS_RR_TYPE_RRSIG && ldns_rr_rd_count(rr) > 0 &&
				   ldns_rdf_size(ldns_rr_rdf(rr, 0)) == 2 &&
				   ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)) == q->qtype) {
				out->has_rrsig = true;
			} else if (t == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1 &&
				   next == NULL) {
				next = ldns_rr_rdf(rr, 0);
			}
		}
		if (out->answer_count > 0 || next == NULL || q->qtype == LDNS_RR_TYPE_CNAME) {
			break;
		}
		name_text(next, out->cname_target, sizeof(out->cname_target));
		current = next;
	}
	out->has_data = out->answer_count > 0;
}

static void read_authority(ldns_pkt *pkt, struct cs_reply_facts *out)
{
	if (out->has_soa) {
		return;
	}
	ldns_rr_list *ns = ldns_pkt_authority(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(ns, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA) {
			read_soa(rr, out);
			if (out->has_soa) {
				return;
			}
		}
	}
}

static void read_nsid(const uint8_t *data, size_t size, struct cs_reply_facts *out)
{
	bool printable = size > 0;
	for (size_t i = 0; i < size; i++) {
		printable = printable && data[i] >= 0x20 && data[i] < 0x7f;
	}
	if (printable) {
		cs_wire_printable(data, size, out->nsid, sizeof(out->nsid));
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < size && o + 2 < sizeof(out->nsid); i++) {
		out->nsid[o++] = hex[data[i] >> 4];
		out->nsid[o++] = hex[data[i] & 0xf];
	}
	out->nsid[o] = '\0';
}

/* RFC 6891 options: EDE (RFC 8914 §2: 16-bit info code, then UTF-8 text) and NSID. */
static void read_edns(ldns_pkt *pkt, struct cs_reply_facts *out)
{
	out->has_edns = ldns_pkt_edns(pkt);
	if (!out->has_edns) {
		return;
	}
	out->edns_do = ldns_pkt_edns_do(pkt);
	ldns_edns_option_list *opts = ldns_pkt_edns_get_option_list(pkt);
	if (opts == NULL) {
		return;
	}
	size_t n = ldns_edns_option_list_get_count(opts);
	for (size_t i = 0; i < n; i++) {
		ldns_edns_option *opt = ldns_edns_option_list_get_option(opts, i);
		if (opt == NULL) {
			continue;
		}
		size_t size = ldns_edns_get_size(opt);
		const uint8_t *data = ldns_edns_get_data(opt);
		if (size > 0 && data == NULL) {
			continue;
		}
		switch (ldns_edns_get_code(opt)) {
		case EDNS_EDE:
			if (size < 2 || out->n_ede >= CS_EDE_MAX) {
				break;
			}
			out->ede[out->n_ede].code = (uint16_t)((data[0] << 8) | data[1]);
			cs_wire_printable(data + 2, size - 2, out->ede[out->n_ede].text,
					  sizeof(out->ede[0].text));
			out->n_ede++;
			break;
		case EDNS_NSID:
			read_nsid(data, size, out);
			break;
		default:
			break;
		}
	}
}

static enum cs_wire_verdict ignore(char *why, size_t why_size, const char *text)
{
	(void)cs_strlcpy(why, text, why_size);
	return CS_WIRE_IGNORE;
}

static bool question_matches(const struct cs_query *q, ldns_pkt *pkt)
{
	ldns_rr_list *qd = ldns_pkt_question(pkt);
	if (ldns_pkt_qdcount(pkt) != 1 || ldns_rr_list_rr_count(qd) != 1) {
		return false;
	}
	const ldns_rr *rr = ldns_rr_list_rr(qd, 0);
	char name[CS_NAME_STR_MAX];
	name_text(ldns_rr_owner(rr), name, sizeof(name));
	return strcasecmp(name, q->qname) == 0 && (uint16_t)ldns_rr_get_type(rr) == q->qtype &&
	       (uint16_t)ldns_rr_get_class(rr) == q->qclass;
}

enum cs_wire_verdict cs_wire_read_reply(const struct cs_query *q, const uint8_t *buf, size_t len,
					struct cs_reply_facts *out, char *why, size_t why_size)
{
	ldns_pkt *pkt = NULL;
	enum cs_wire_verdict v = CS_WIRE_ACCEPT;

	why[0] = '\0';
	/* RFC 1035 §4.1.1: ID(16) | QR Opcode(4) AA TC RD | RA Z AD CD RCODE(4) | 4 counts */
	if (len < 12) {
		(void)cs_snprintf(why, why_size, "short reply (%zu bytes)", len);
		return CS_WIRE_IGNORE;
	}
	if (((uint16_t)(buf[0] << 8) | buf[1]) != q->id) {
		return ignore(why, why_size, "wrong ID");
	}
	if ((buf[2] & 0x80) == 0) {
		return ignore(why, why_size, "not a response (QR=0)");
	}
	if (len > CS_MAX_REPLY) {
		(void)cs_snprintf(why, why_size, "oversized reply (%zu bytes)", len);
		return CS_WIRE_MALFORMED;
	}
	if (((buf[2] >> 3) & 0x0f) != 0) {
		(void)cs_snprintf(why, why_size, "opcode %u in reply to a QUERY",
				  (unsigned)((buf[2] >> 3) & 0x0f));
		return CS_WIRE_MALFORMED;
	}
	ldns_status st = ldns_wire2pkt(&pkt, buf, len);
	if (st != LDNS_STATUS_OK) {
		(void)cs_snprintf(why, why_size, "unparseable reply (%zu bytes): %s", len,
				  ldns_get_errorstr_by_id(st));
		return CS_WIRE_MALFORMED;
	}
	if (!question_matches(q, pkt)) {
		v = ignore(why, why_size,
			   ldns_pkt_qdcount(pkt) == 0 ? "no question" : "wrong question");
		goto out;
	}
	if (ldns_pkt_tsig(pkt) != NULL) {
		v = CS_WIRE_MALFORMED;
		(void)cs_strlcpy(why, "unexpected TSIG in reply", why_size);
		goto out;
	}

	memset(out, 0, sizeof(*out));
	out->outcome = CS_OUTCOME_ANSWER;
	/* RFC 6891 §6.1.3: the OPT record carries the upper 8 bits of the rcode. */
	out->rcode =
		(uint16_t)(ldns_pkt_edns(pkt) ? (unsigned)ldns_pkt_edns_extended_rcode(pkt) << 4
					      : 0u);
	out->rcode = (uint16_t)(out->rcode | (unsigned)ldns_pkt_get_rcode(pkt));
	out->aa = ldns_pkt_aa(pkt);
	out->tc = ldns_pkt_tc(pkt);
	out->ra = ldns_pkt_ra(pkt);
	out->ad = ldns_pkt_ad(pkt);
	out->cd = ldns_pkt_cd(pkt);
	read_answer(q, pkt, out);
	read_authority(pkt, out);
	read_edns(pkt, out);
out:
	ldns_pkt_free(pkt);
	return v;
}

int cs_wire_read_txt(const uint8_t *buf, size_t len, char *out, size_t size)
{
	ldns_pkt *pkt = NULL;
	int rc = -1;
	out[0] = '\0';
	if (ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK) {
		return -1;
	}
	ldns_rr_list *an = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an) && rc != 0; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT || ldns_rr_rd_count(rr) < 1) {
			continue;
		}
		const ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
		size_t n = ldns_rdf_size(rdf);
		const uint8_t *d = ldns_rdf_data(rdf);
		/* a character-string: length byte, then text */
		if (n >= 1 && d[0] <= n - 1) {
			cs_wire_printable(d + 1, d[0], out, size);
			rc = 0;
		}
	}
	ldns_pkt_free(pkt);
	return rc;
}
