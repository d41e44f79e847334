/* SPDX-License-Identifier: BSD-3-Clause */
/* The state file (schema cachesweep.state/1) and the changes report (cachesweep.changes/1). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/state.h>

/* json_object_set_new() steals the value; a NULL value (out of memory) is caught here. */
static bool put(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *when_json(int64_t s)
{
	char when[32];
	cs_clock_format_utc(s, when, sizeof(when));
	return json_string(when);
}

static enum cs_errc dump(json_t *root, FILE *fp, size_t flags, const char *what,
			 struct cs_error *err)
{
	if (root == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory writing the %s", what);
	}
	int rc = json_dumpf(root, fp, flags | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0 || fputc('\n', fp) == EOF) {
		int e = errno;
		enum cs_errc code =
			cs_error_set(err, CS_EIO, "cannot write the %s: %s", what, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		return code;
	}
	return CS_OK;
}

enum cs_errc cs_state_write_json(const struct cs_state *state, FILE *fp, struct cs_error *err)
{
	json_t *o = json_object();
	json_t *list = json_array();
	bool ok = o != NULL && put(o, "schema", json_string(CS_STATE_SCHEMA)) &&
		  put(o, "zone", json_string(state->zone)) &&
		  put(o, "updated_at", when_json(state->updated_at_s)) &&
		  put(o, "updated_at_s", json_integer(state->updated_at_s));
	ok = put(o, "resolvers", list) && ok;
	for (size_t i = 0; ok && i < state->n_entries; i++) {
		const struct cs_state_entry *e = &state->entries[i];
		json_t *eo = json_object();
		ok = eo != NULL && json_array_append_new(list, eo) == 0 &&
		     put(eo, "id", json_string(e->id)) &&
		     put(eo, "status", json_string(cs_status_name(e->status))) &&
		     put(eo, "since", when_json(e->since_s)) &&
		     put(eo, "since_s", json_integer(e->since_s));
	}
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, fp, JSON_INDENT(1), "state", err);
}

static enum cs_errc bad(struct cs_error *err, const char *path, const char *where, const char *what)
{
	return cs_error_set(err, CS_ECONFIG, "%s: %s: expected %s", path, where, what);
}

static enum cs_errc entry_from(json_t *eo, size_t i, const char *path, struct cs_state_entry *e,
			       struct cs_error *err)
{
	char where[48];
	(void)cs_snprintf(where, sizeof(where), "resolvers[%zu]", i);
	json_t *id = json_object_get(eo, "id");
	json_t *status = json_object_get(eo, "status");
	json_t *since = json_object_get(eo, "since_s");
	if (!json_is_object(eo)) {
		return bad(err, path, where, "an object");
	}
	if (!json_is_string(id) || json_string_length(id) == 0 ||
	    cs_strlcpy(e->id, json_string_value(id), sizeof(e->id)) != 0) {
		return bad(err, path, where, "\"id\", a string of 1..255 bytes");
	}
	if (!json_is_string(status) ||
	    cs_status_parse(json_string_value(status), &e->status) != 0) {
		return bad(err, path, where, "\"status\", a resolver status name");
	}
	if (!json_is_integer(since) || json_integer_value(since) < 0) {
		return bad(err, path, where, "\"since_s\", seconds since the epoch");
	}
	e->since_s = (int64_t)json_integer_value(since);
	return CS_OK;
}

static enum cs_errc state_from(json_t *root, const char *path, struct cs_state *st,
			       struct cs_error *err)
{
	json_t *schema = json_object_get(root, "schema");
	json_t *zone = json_object_get(root, "zone");
	json_t *updated = json_object_get(root, "updated_at_s");
	json_t *list = json_object_get(root, "resolvers");
	if (!json_is_object(root)) {
		return bad(err, path, "(top)", "an object");
	}
	if (!json_is_string(schema) || strcmp(json_string_value(schema), CS_STATE_SCHEMA) != 0) {
		return bad(err, path, "schema", "\"" CS_STATE_SCHEMA "\"");
	}
	if (!json_is_string(zone) ||
	    cs_strlcpy(st->zone, json_string_value(zone), sizeof(st->zone)) != 0) {
		return bad(err, path, "zone", "a domain name");
	}
	if (!json_is_integer(updated)) {
		return bad(err, path, "updated_at_s", "seconds since the epoch");
	}
	st->updated_at_s = (int64_t)json_integer_value(updated);
	if (!json_is_array(list)) {
		return bad(err, path, "resolvers", "an array");
	}
	size_t n = json_array_size(list);
	if (n > CS_MAX_RESOLVERS) {
		return cs_error_set(err, CS_ECONFIG, "%s: resolvers: expected at most %u entries",
				    path, (unsigned)CS_MAX_RESOLVERS);
	}
	if (n > 0) {
		st->entries = cs_calloc(n, sizeof(*st->entries));
		if (st->entries == NULL) {
			return cs_error_set(err, CS_ENOMEM, "out of memory reading %s", path);
		}
	}
	for (size_t i = 0; i < n; i++) {
		enum cs_errc rc =
			entry_from(json_array_get(list, i), i, path, &st->entries[i], err);
		if (rc != CS_OK) {
			return rc;
		}
		st->n_entries = i + 1;
	}
	return CS_OK;
}

enum cs_errc cs_state_load(const char *path, struct cs_state **out, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	json_error_t jerr;
	json_t *root = NULL;
	struct cs_state *st = NULL;
	FILE *fp = fopen(path, "r");

	*out = NULL;
	if (fp == NULL) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "%s: %s", path, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		return rc;
	}
	root = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
	(void)fclose(fp);
	if (root == NULL) {
		return cs_error_set(err, CS_ECONFIG, "%s:%d:%d: %s", path, jerr.line, jerr.column,
				    jerr.text);
	}
	st = cs_calloc(1, sizeof(*st));
	if (st == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	rc = state_from(root, path, st, err);
	if (rc != CS_OK) {
		goto out;
	}
	*out = st;
	st = NULL;
out:
	cs_state_free(st);
	json_decref(root);
	return rc;
}

static json_t *change_json(const struct cs_report *rep, const struct cs_change *c)
{
	const struct cs_resolver_report *rr = &rep->resolvers[c->resolver_index];
	json_t *o = json_object();
	bool ok =
		o != NULL && put(o, "id", json_string(rr->id)) &&
		put(o, "address", json_string(rr->address)) &&
		put(o, "port", json_integer(rr->port)) &&
		put(o, "kind", json_string(cs_change_kind_name(c->kind))) &&
		put(o, "first_seen", json_boolean(c->first_seen)) &&
		put(o, "from",
		    c->first_seen ? json_null() : json_string(cs_status_name(c->from))) &&
		put(o, "since", c->first_seen ? json_null() : when_json(c->since_s)) &&
		put(o, "to", json_string(cs_status_name(c->to))) &&
		put(o, "changed_at", when_json(c->changed_at_s)) &&
		put(o, "heals_in_s", rr->heals_known ? json_integer(rr->heals_in_s) : json_null());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

enum cs_errc cs_changes_write_json(const struct cs_report *rep, const struct cs_change *changes,
				   size_t n_changes, FILE *fp, struct cs_error *err)
{
	json_t *o = json_object();
	json_t *summary = json_object();
	json_t *list = json_array();
	bool ok = o != NULL && put(o, "schema", json_string(CS_CHANGES_SCHEMA)) &&
		  put(o, "generated_at", when_json(rep->generated_at_s)) &&
		  put(o, "zone", json_string(rep->zone));
	ok = put(o, "summary", summary) && ok;
	ok = put(o, "changes", list) && ok;
	ok = ok && put(summary, "resolvers", json_integer((json_int_t)rep->summary.resolvers));
	for (unsigned i = 0; ok && i < CS_STATUS_COUNT; i++) {
		ok = put(summary, cs_status_name((enum cs_status)i),
			 json_integer((json_int_t)rep->summary.by_status[i]));
	}
	for (size_t i = 0; ok && i < n_changes; i++) {
		json_t *c = change_json(rep, &changes[i]);
		ok = c != NULL && json_array_append_new(list, c) == 0;
	}
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, fp, JSON_INDENT(2), "changes", err);
}
