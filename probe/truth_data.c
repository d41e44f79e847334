/* SPDX-License-Identifier: BSD-3-Clause */
/* The truth's plain data: allocation and RFC 1982 serial arithmetic. Pure. */
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/truth.h>

struct cs_truth *cs_truth_new(size_t n_names, size_t n_authorities)
{
	struct cs_truth *t = cs_calloc(1, sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	t->names = cs_calloc(n_names, sizeof(*t->names));
	t->authorities = cs_calloc(n_authorities, sizeof(*t->authorities));
	if (t->names == NULL || t->authorities == NULL) {
		cs_truth_free(t);
		return NULL;
	}
	t->n_names = n_names;
	t->n_authorities = n_authorities;
	return t;
}

void cs_truth_free(struct cs_truth *truth)
{
	if (truth == NULL) {
		return;
	}
	cs_free(truth->names);
	cs_free(truth->authorities);
	cs_free(truth->dnskey_packet);
	cs_free(truth);
}

struct cs_truth *cs_truth_copy(const struct cs_truth *t)
{
	struct cs_truth *c = cs_truth_new(t->n_names, t->n_authorities);
	if (c == NULL) {
		return NULL;
	}
	struct cs_truth_name *names = c->names;
	struct cs_truth_authority *auth = c->authorities;
	*c = *t;
	c->names = names;
	c->authorities = auth;
	c->dnskey_packet = NULL;
	c->dnskey_packet_len = 0;
	if (t->n_names > 0) {
		memcpy(c->names, t->names, t->n_names * sizeof(*t->names));
	}
	if (t->n_authorities > 0) {
		memcpy(c->authorities, t->authorities, t->n_authorities * sizeof(*t->authorities));
	}
	if (t->dnskey_packet != NULL && t->dnskey_packet_len > 0) {
		c->dnskey_packet = cs_malloc(t->dnskey_packet_len);
		if (c->dnskey_packet == NULL) {
			cs_truth_free(c);
			return NULL;
		}
		memcpy(c->dnskey_packet, t->dnskey_packet, t->dnskey_packet_len);
		c->dnskey_packet_len = t->dnskey_packet_len;
	}
	return c;
}

/* RFC 1982 §3.2: s1 < s2 when (s1 < s2 and s2 - s1 < 2^31) or (s1 > s2 and s1 - s2 > 2^31).
 * The undefined case (distance exactly 2^31) counts as ahead, so it never looks stale. */
int cs_serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b) {
		return 0;
	}
	uint32_t diff = b - a; /* modulo 2^32 */
	if (diff < 0x80000000u) {
		return -1;
	}
	return 1;
}
