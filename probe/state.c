/* SPDX-License-Identifier: BSD-3-Clause */
/* State between runs and the changes since the last one: pure, time comes in as a number. */
#include <stdlib.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/state.h>

const char *cs_change_kind_name(enum cs_change_kind kind)
{
	switch (kind) {
	case CS_CHANGE_BAD:
		return "bad";
	case CS_CHANGE_HEALED:
		return "healed";
	case CS_CHANGE_CHANGED:
		return "changed";
	}
	return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct cs_state_entry *const *x = a;
	const struct cs_state_entry *const *y = b;
	return strcmp((*x)->id, (*y)->id);
}

static const struct cs_state_entry *find(const struct cs_state_entry **sorted, size_t n,
					 const char *id)
{
	struct cs_state_entry key;
	const struct cs_state_entry *keyp = &key;
	if (n == 0 || cs_strlcpy(key.id, id, sizeof(key.id)) != 0) {
		return NULL;
	}
	/* an array of pointers: sizeof(*sorted) is a pointer's size, as meant */
	// NOLINTBEGIN(bugprone-sizeof-expression)
	const struct cs_state_entry **hit = bsearch(&keyp, sorted, n, sizeof(*sorted), entry_cmp);
	// NOLINTEND(bugprone-sizeof-expression)
	return hit != NULL ? *hit : NULL;
}

/* The change from prev (NULL: first seen) to now, if it is one worth saying. */
static bool change_of(const struct cs_state_entry *prev, enum cs_status now,
		      enum cs_change_kind *kind)
{
	bool healthy = now == CS_STATUS_HEALTHY;
	if (prev == NULL) {
		*kind = CS_CHANGE_BAD;
		return !healthy;
	}
	if (prev->status == now) {
		return false;
	}
	if (healthy) {
		*kind = CS_CHANGE_HEALED;
	} else if (prev->status == CS_STATUS_HEALTHY) {
		*kind = CS_CHANGE_BAD;
	} else {
		*kind = CS_CHANGE_CHANGED;
	}
	return true;
}

enum cs_errc cs_state_update(const struct cs_state *prev, const struct cs_report *rep,
			     int64_t now_s, struct cs_state **next, struct cs_change **changes,
			     size_t *n_changes, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	const struct cs_state_entry **sorted = NULL;
	struct cs_change *out = NULL;
	size_t n_out = 0;
	size_t n_prev = prev != NULL ? prev->n_entries : 0;
	struct cs_state *st = cs_calloc(1, sizeof(*st));

	*next = NULL;
	*changes = NULL;
	*n_changes = 0;
	if (st == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for the state");
	}
	(void)cs_strlcpy(st->zone, rep->zone, sizeof(st->zone));
	st->updated_at_s = now_s;
	if (rep->n_resolvers > 0) {
		st->entries = cs_calloc(rep->n_resolvers, sizeof(*st->entries));
		out = cs_calloc(rep->n_resolvers, sizeof(*out));
	}
	if (n_prev > 0) {
		// NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers
		sorted = cs_calloc(n_prev, sizeof(*sorted));
	}
	if ((rep->n_resolvers > 0 && (st->entries == NULL || out == NULL)) ||
	    (n_prev > 0 && sorted == NULL)) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory for the state");
		goto out;
	}
	for (size_t i = 0; i < n_prev; i++) {
		sorted[i] = &prev->entries[i];
	}
	if (n_prev > 1) {
		// an array of pointers: sizeof(*sorted) is a pointer's size, as meant
		// NOLINTBEGIN(bugprone-sizeof-expression)
		qsort(sorted, n_prev, sizeof(*sorted), entry_cmp);
		// NOLINTEND(bugprone-sizeof-expression)
	}
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		const struct cs_resolver_report *rr = &rep->resolvers[i];
		const struct cs_state_entry *pe = find(sorted, n_prev, rr->id);
		struct cs_state_entry *e = &st->entries[i];
		enum cs_change_kind kind = CS_CHANGE_BAD;
		(void)cs_strlcpy(e->id, rr->id, sizeof(e->id));
		e->status = rr->status;
		e->since_s = pe != NULL && pe->status == rr->status ? pe->since_s : now_s;
		if (!change_of(pe, rr->status, &kind)) {
			continue;
		}
		struct cs_change *c = &out[n_out++];
		c->resolver_index = i;
		c->kind = kind;
		c->first_seen = pe == NULL;
		c->from = pe != NULL ? pe->status : CS_STATUS_HEALTHY;
		c->since_s = pe != NULL ? pe->since_s : now_s;
		c->to = rr->status;
		c->changed_at_s = now_s;
	}
	st->n_entries = rep->n_resolvers;
	*next = st;
	st = NULL;
	if (n_out > 0) {
		*changes = out;
		*n_changes = n_out;
		out = NULL;
	}
out:
	cs_free(sorted);
	cs_free(out);
	cs_state_free(st);
	return rc;
}

void cs_state_free(struct cs_state *state)
{
	if (state == NULL) {
		return;
	}
	cs_free(state->entries);
	cs_free(state);
}
