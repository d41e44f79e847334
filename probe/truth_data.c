/* SPDX-License-Identifier: BSD-3-Clause */
/* The truth's plain data: allocation and RFC 1982 serial arithmetic. Pure. */
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
	cs_free(truth);
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
