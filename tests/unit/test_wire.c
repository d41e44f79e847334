/* SPDX-License-Identifier: BSD-3-Clause */
/* Replies from resolvers are hostile: crafted bytes for every way a reply can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>

#include "test_alloc.h"
#include "wire.h"

/* A tiny reply builder: enough to say exactly which bytes a test sends. */
struct msg {
	uint8_t b[70000];
	size_t n;
};

static void u8(struct msg *m, unsigned v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct msg *m, unsigned v)
{
	u8(m, (v >> 8) & 0xff);
	u8(m, v & 0xff);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v & 0xffff);
}

static void name(struct msg *m, const char *dotted)
{
	const char *p = dotted;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		u8(m, (unsigned)len);
		memcpy(m->b + m->n, p, len);
		m->n += len;
		p += len + (dot ? 1 : 0);
	}
	u8(m, 0);
}

/* header: id, flags (QR set by caller), counts */
static void header(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an,
		   unsigned ns, unsigned ar)
{
	m->n = 0;
	u16(m, id);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void question(struct msg *m, const char *qname, unsigned type)
{
	name(m, qname);
	u16(m, type);
	u16(m, 1);
}

static void rr_a(struct msg *m, const char *owner, uint32_t ttl, const uint8_t ip[4])
{
	name(m, owner);
	u16(m, 1);
	u16(m, 1);
	u32(m, ttl);
	u16(m, 4);
	memcpy(m->b + m->n, ip, 4);
	m->n += 4;
}

static void rr_cname(struct msg *m, const char *owner, const char *target)
{
	name(m, owner);
	u16(m, 5);
	u16(m, 1);
	u32(m, 300);
	size_t len_at = m->n;
	u16(m, 0);
	size_t start = m->n;
	name(m, target);
	m->b[len_at] = (uint8_t)((m->n - start) >> 8);
	m->b[len_at + 1] = (uint8_t)((m->n - start) & 0xff);
}

static void rr_soa(struct msg *m, const char *owner, uint32_t ttl, uint32_t serial,
		   uint32_t minimum)
{
	name(m, owner);
	u16(m, 6);
	u16(m, 1);
	u32(m, ttl);
	size_t len_at = m->n;
	u16(m, 0);
	size_t start = m->n;
	name(m, "ns1.se");
	name(m, "hostmaster.se");
	u32(m, serial);
	u32(m, 7200);
	u32(m, 3600);
	u32(m, 864000);
	u32(m, minimum);
	m->b[len_at] = (uint8_t)((m->n - start) >> 8);
	m->b[len_at + 1] = (uint8_t)((m->n - start) & 0xff);
}

/* OPT (RFC 6891) with DO, an extended rcode byte and raw option bytes */
static void opt(struct msg *m, unsigned ext_rcode, const uint8_t *opts, size_t opts_len)
{
	u8(m, 0);
	u16(m, 41);
	u16(m, 1232);
	u8(m, ext_rcode);
	u8(m, 0);
	u16(m, 0x8000);
	u16(m, (unsigned)opts_len);
	if (opts_len > 0) {
		memcpy(m->b + m->n, opts, opts_len);
		m->n += opts_len;
	}
}

#define QR 0x8000u
#define AA 0x0400u
#define TC 0x0200u
#define RD 0x0100u
#define RA 0x0080u
#define AD 0x0020u

static const struct cs_query q_shop = {
	.qname = "shop1.se.", .qtype = 1, .qclass = 1, .id = 0x1234, .rd = true, .edns_do = true
};

static struct msg m;

static enum cs_wire_verdict read(const struct cs_query *q, struct cs_reply_facts *f, char *why)
{
	memset(f, 0x5a, sizeof(*f)); /* garbage: the reader must set every field it reports */
	return cs_wire_read_reply(q, m.b, m.n, f, why, CS_DETAIL_MAX);
}

static void test_wire_nxdomain_with_soa_ede_and_nsid(void **state)
{
	(void)state;
	static const uint8_t opts[] = { 0,   15,  0, 6, 0,   9,   'k', 'e',
					'y', 's',                             /* EDE 9 "keys" */
					0,   3,   0, 4, 'n', 's', '-', '1' }; /* NSID */
	header(&m, 0x1234, QR | RD | RA | AD | 3, 1, 0, 1, 1);
	question(&m, "shop1.se", 1);
	rr_soa(&m, "se", 3412, 2009101201, 3600);
	opt(&m, 0, opts, sizeof(opts));
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_int_equal(f.outcome, CS_OUTCOME_ANSWER);
	assert_int_equal(f.rcode, 3);
	assert_true(f.ad);
	assert_true(f.ra);
	assert_false(f.tc);
	assert_false(f.has_data);
	assert_true(f.has_soa);
	assert_false(f.soa_in_answer);
	assert_string_equal(f.soa_owner, "se.");
	assert_int_equal(f.soa_ttl_s, 3412);
	assert_int_equal(f.soa_serial, 2009101201u);
	assert_int_equal(f.soa_minimum_s, 3600);
	assert_true(f.has_edns);
	assert_true(f.edns_do);
	assert_int_equal(f.n_ede, 1);
	assert_int_equal(f.ede[0].code, 9);
	assert_string_equal(f.ede[0].text, "keys");
	assert_string_equal(f.nsid, "ns-1");
}

static void test_wire_cname_chain_is_followed(void **state)
{
	(void)state;
	static const uint8_t ip[4] = { 192, 0, 2, 7 };
	header(&m, 0x1234, QR | RD | RA, 1, 2, 0, 0);
	question(&m, "shop1.se", 1);
	rr_cname(&m, "shop1.se", "web.shop1.se");
	rr_a(&m, "web.shop1.se", 120, ip);
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_true(f.has_data);
	assert_int_equal(f.answer_count, 1);
	assert_int_equal(f.answer_ttl_s, 120);
	assert_string_equal(f.answers[0], "192.0.2.7");
	assert_string_equal(f.cname_target, "web.shop1.se.");
	assert_false(f.has_soa);
	assert_false(f.has_edns);
	assert_int_equal(f.n_ede, 0);
}

static void test_wire_question_match_ignores_case(void **state)
{
	(void)state;
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	header(&m, 0x1234, QR | RD | RA, 1, 1, 0, 0);
	question(&m, "ShOp1.Se", 1);
	rr_a(&m, "ShOp1.Se", 60, ip);
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_true(f.has_data);
}

static void test_wire_ttl_with_top_bit_is_zero(void **state)
{
	(void)state;
	/* RFC 2181 §8: 2^31 and above read as 0; 2^31 - 1 is still a (long) TTL */
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	header(&m, 0x1234, QR | RD | RA | 3, 1, 0, 1, 0);
	question(&m, "shop1.se", 1);
	rr_soa(&m, "se", 0xffffffffu, 2009101201, 0x80000000u);
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_true(f.has_soa);
	assert_int_equal(f.soa_ttl_s, 0);
	assert_int_equal(f.soa_minimum_s, 0);
	header(&m, 0x1234, QR | RD | RA, 1, 2, 0, 0);
	question(&m, "shop1.se", 1);
	rr_a(&m, "shop1.se", 0x7fffffffu, ip);
	rr_a(&m, "shop1.se", 0x80000001u, ip);
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_int_equal(f.answer_count, 2);
	assert_int_equal(f.answer_ttl_s, 0);
	header(&m, 0x1234, QR | RD | RA, 1, 1, 0, 0);
	question(&m, "shop1.se", 1);
	rr_a(&m, "shop1.se", 0x7fffffffu, ip);
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_int_equal(f.answer_ttl_s, 0x7fffffffu);
}

static void test_wire_extended_rcode_from_opt(void **state)
{
	(void)state;
	header(&m, 0x1234, QR, 1, 0, 0, 1); /* rcode 0 in the header */
	question(&m, "shop1.se", 1);
	opt(&m, 1, NULL, 0); /* BADVERS = 16 */
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_int_equal(f.rcode, 16);
}

static void test_wire_truncated_flag_is_reported(void **state)
{
	(void)state;
	header(&m, 0x1234, QR | TC | RD | RA, 1, 0, 0, 0);
	question(&m, "shop1.se", 1);
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_true(f.tc);
}

struct bad {
	const char *why;
	enum cs_wire_verdict want;
	const char *want_text;
};

static void expect(const struct bad *b)
{
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	enum cs_wire_verdict v = read(&q_shop, &f, why);
	if (v != b->want) {
		fail_msg("%s: got verdict %d (%s), want %d", b->why, (int)v, why, (int)b->want);
	}
	if (b->want_text != NULL && strstr(why, b->want_text) == NULL) {
		fail_msg("%s: reason \"%s\" lacks \"%s\"", b->why, why, b->want_text);
	}
}

static void test_wire_wrong_id_is_ignored(void **state)
{
	(void)state;
	header(&m, 0x4321, QR | RD | RA, 1, 0, 0, 0);
	question(&m, "shop1.se", 1);
	expect(&(struct bad){ "wrong ID", CS_WIRE_IGNORE, "wrong ID" });
}

static void test_wire_query_not_reply_is_ignored(void **state)
{
	(void)state;
	header(&m, 0x1234, RD, 1, 0, 0, 0);
	question(&m, "shop1.se", 1);
	expect(&(struct bad){ "QR=0", CS_WIRE_IGNORE, "QR=0" });
}

static void test_wire_wrong_question_is_ignored(void **state)
{
	(void)state;
	header(&m, 0x1234, QR | RD | RA, 1, 0, 0, 0);
	question(&m, "shop2.se", 1);
	expect(&(struct bad){ "other name", CS_WIRE_IGNORE, "wrong question" });
	header(&m, 0x1234, QR | RD | RA, 1, 0, 0, 0);
	question(&m, "shop1.se", 28);
	expect(&(struct bad){ "other type", CS_WIRE_IGNORE, "wrong question" });
	header(&m, 0x1234, QR | RD | RA, 0, 0, 0, 0);
	expect(&(struct bad){ "no question", CS_WIRE_IGNORE, "no question" });
	header(&m, 0x1234, QR | RD | RA, 2, 0, 0, 0);
	question(&m, "shop1.se", 1);
	question(&m, "shop1.se", 1);
	expect(&(struct bad){ "two questions", CS_WIRE_IGNORE, "wrong question" });
}

static void test_wire_short_reply_is_ignored(void **state)
{
	(void)state;
	header(&m, 0x1234, QR, 1, 0, 0, 0);
	m.n = 5;
	expect(&(struct bad){ "5 bytes", CS_WIRE_IGNORE, "short reply" });
	m.n = 0;
	expect(&(struct bad){ "0 bytes", CS_WIRE_IGNORE, "short reply" });
}

static void test_wire_truncated_body_is_malformed(void **state)
{
	(void)state;
	static const uint8_t ip[4] = { 192, 0, 2, 1 };
	header(&m, 0x1234, QR | RD | RA, 1, 1, 0, 0);
	question(&m, "shop1.se", 1);
	rr_a(&m, "shop1.se", 60, ip);
	m.n -= 3; /* rdata cut short */
	expect(&(struct bad){ "cut rdata", CS_WIRE_MALFORMED, "unparseable" });
	header(&m, 0x1234, QR | RD | RA, 1, 5, 0,
	       0); /* counts promise records that are not there */
	question(&m, "shop1.se", 1);
	expect(&(struct bad){ "missing records", CS_WIRE_MALFORMED, "unparseable" });
}

static void test_wire_compression_loop_is_malformed(void **state)
{
	(void)state;
	header(&m, 0x1234, QR | RD | RA, 1, 1, 0, 0);
	question(&m, "shop1.se", 1);
	size_t at = m.n;
	u16(&m, 0xc000 | (unsigned)at); /* owner name: a pointer to itself */
	u16(&m, 1);
	u16(&m, 1);
	u32(&m, 60);
	u16(&m, 4);
	u32(&m, 0x7f000001);
	expect(&(struct bad){ "pointer loop", CS_WIRE_MALFORMED, NULL });
	/* and a loop inside the question itself */
	header(&m, 0x1234, QR | RD | RA, 1, 0, 0, 0);
	u16(&m, 0xc00c);
	u16(&m, 1);
	u16(&m, 1);
	expect(&(struct bad){ "question loop", CS_WIRE_MALFORMED, NULL });
}

static void test_wire_ede_with_bad_length_is_safe(void **state)
{
	(void)state;
	/* option length 1: too short for an info code; then one claiming more than is there */
	static const uint8_t short_ede[] = { 0, 15, 0, 1, 7 };
	header(&m, 0x1234, QR | RD | RA | 2, 1, 0, 0, 1);
	question(&m, "shop1.se", 1);
	opt(&m, 0, short_ede, sizeof(short_ede));
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	enum cs_wire_verdict v = read(&q_shop, &f, why);
	if (v == CS_WIRE_ACCEPT) {
		assert_int_equal(f.n_ede, 0);
		assert_int_equal(f.rcode, 2);
	} else {
		assert_int_equal(v, CS_WIRE_MALFORMED);
	}
	static const uint8_t long_ede[] = { 0, 15, 0, 200, 0, 6 };
	header(&m, 0x1234, QR | RD | RA | 2, 1, 0, 0, 1);
	question(&m, "shop1.se", 1);
	opt(&m, 0, long_ede, sizeof(long_ede));
	v = read(&q_shop, &f, why);
	assert_true(v == CS_WIRE_MALFORMED || (v == CS_WIRE_ACCEPT && f.n_ede == 0));
}

static void test_wire_too_many_edes_are_bounded(void **state)
{
	(void)state;
	uint8_t opts[10 * 6];
	for (size_t i = 0; i < 10; i++) {
		uint8_t one[6] = { 0, 15, 0, 2, 0, (uint8_t)i };
		memcpy(opts + 6 * i, one, 6);
	}
	header(&m, 0x1234, QR | RD | RA | 2, 1, 0, 0, 1);
	question(&m, "shop1.se", 1);
	opt(&m, 0, opts, sizeof(opts));
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(read(&q_shop, &f, why), CS_WIRE_ACCEPT);
	assert_int_equal(f.n_ede, CS_EDE_MAX);
}

static void test_wire_chain_option_does_not_crash(void **state)
{
	(void)state;
	/* shared/notes/resolvers.md Q6: crashes ldns_pkt2str in 1.8.3; we never print packets */
	static const uint8_t crash[] = { 0x10, 0x92, 0x81, 0x82, 0x00, 0x01, 0x00, 0x00, 0x00,
					 0x00, 0x00, 0x01, 0x03, 0x77, 0x77, 0x77, 0x05, 0x62,
					 0x6f, 0x67, 0x75, 0x73, 0x00, 0x00, 0x01, 0x00, 0x01,
					 0x00, 0x00, 0x29, 0x02, 0x00, 0x00, 0x00, 0x80, 0x00,
					 0x00, 0x06, 0x00, 0x0d, 0x00, 0x02, 0x00, 0x07 };
	const struct cs_query q = { .qname = "www.bogus.", .qtype = 1, .qclass = 1, .id = 0x1092 };
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	assert_int_equal(cs_wire_read_reply(&q, crash, sizeof(crash), &f, why, sizeof(why)),
			 CS_WIRE_ACCEPT);
	assert_int_equal(f.rcode, 2);
}

static void test_wire_junk_and_oversize(void **state)
{
	(void)state;
	/* 65535 bytes of junk behind a header that matches ID and QR */
	srand(7);
	header(&m, 0x1234, QR | RD | RA, 1, 0x7fff, 0x7fff, 0x7fff);
	for (size_t i = m.n; i < 65535; i++) {
		m.b[i] = (uint8_t)rand();
	}
	m.n = 65535;
	struct cs_reply_facts f;
	char why[CS_DETAIL_MAX];
	enum cs_wire_verdict v = read(&q_shop, &f, why);
	assert_true(v == CS_WIRE_MALFORMED || v == CS_WIRE_IGNORE);
	m.n = 65536;
	expect(&(struct bad){ "over 65535", CS_WIRE_MALFORMED, "oversized" });
}

static void test_wire_opcode_is_checked(void **state)
{
	(void)state;
	header(&m, 0x1234, QR | (5u << 11), 1, 0, 0, 0); /* UPDATE */
	question(&m, "shop1.se", 1);
	expect(&(struct bad){ "opcode 5", CS_WIRE_MALFORMED, "opcode 5" });
}

static void test_wire_build_sets_bits_and_options(void **state)
{
	(void)state;
	struct cs_query q = q_shop;
	q.cd = true;
	q.nsid = true;
	uint8_t *wire = NULL;
	size_t len = 0;
	struct cs_error err = { 0 };
	assert_int_equal(cs_wire_build(&q, &wire, &len, &err), CS_OK);
	assert_non_null(wire);
	assert_int_equal(wire[0], 0x12);
	assert_int_equal(wire[1], 0x34);
	assert_int_equal(wire[2] & 0x80, 0);    /* QR=0 */
	assert_int_equal(wire[2] & 0x01, 0x01); /* RD */
	assert_int_equal(wire[3] & 0x10, 0x10); /* CD */
	assert_int_equal(wire[11], 1);          /* ARCOUNT: the OPT */
	/* question "shop1.se." (10 bytes) + type + class, then OPT: root, 41, 1232, ext, ver, DO */
	const uint8_t *o = wire + 12 + 10 + 4;
	assert_int_equal(o[0], 0);
	assert_int_equal(o[1] << 8 | o[2], 41);
	assert_int_equal(o[3] << 8 | o[4], CS_EDNS_UDP_SIZE);
	assert_int_equal(o[7] & 0x80, 0x80);     /* DO */
	assert_int_equal(o[9] << 8 | o[10], 4);  /* rdlength: one empty option */
	assert_int_equal(o[11] << 8 | o[12], 3); /* NSID */
	assert_int_equal(len, (size_t)(12 + 10 + 4 + 11 + 4));
	cs_free(wire);

	q.cd = false;
	q.rd = false;
	assert_int_equal(cs_wire_build(&q, &wire, &len, &err), CS_OK);
	assert_int_equal(wire[2] & 0x01, 0);
	assert_int_equal(wire[3] & 0x10, 0);
	cs_free(wire);
}

static void test_wire_printable(void **state)
{
	(void)state;
	char out[8];
	static const uint8_t in[] = { 'a', 0, 0x1b, '[', 'z', 0xff, 'q', 'r', 's' };
	cs_wire_printable(in, sizeof(in), out, sizeof(out));
	assert_string_equal(out, "a??[z?q");
}

static int setup(void **state)
{
	(void)state;
	test_alloc_install();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_wire_nxdomain_with_soa_ede_and_nsid, setup),
		cmocka_unit_test_setup(test_wire_cname_chain_is_followed, setup),
		cmocka_unit_test_setup(test_wire_question_match_ignores_case, setup),
		cmocka_unit_test_setup(test_wire_ttl_with_top_bit_is_zero, setup),
		cmocka_unit_test_setup(test_wire_extended_rcode_from_opt, setup),
		cmocka_unit_test_setup(test_wire_truncated_flag_is_reported, setup),
		cmocka_unit_test_setup(test_wire_wrong_id_is_ignored, setup),
		cmocka_unit_test_setup(test_wire_query_not_reply_is_ignored, setup),
		cmocka_unit_test_setup(test_wire_wrong_question_is_ignored, setup),
		cmocka_unit_test_setup(test_wire_short_reply_is_ignored, setup),
		cmocka_unit_test_setup(test_wire_truncated_body_is_malformed, setup),
		cmocka_unit_test_setup(test_wire_compression_loop_is_malformed, setup),
		cmocka_unit_test_setup(test_wire_ede_with_bad_length_is_safe, setup),
		cmocka_unit_test_setup(test_wire_too_many_edes_are_bounded, setup),
		cmocka_unit_test_setup(test_wire_chain_option_does_not_crash, setup),
		cmocka_unit_test_setup(test_wire_junk_and_oversize, setup),
		cmocka_unit_test_setup(test_wire_opcode_is_checked, setup),
		cmocka_unit_test_setup(test_wire_build_sets_bits_and_options, setup),
		cmocka_unit_test_setup(test_wire_printable, setup),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
