/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading a cachesweep.report/1 JSON report back into the model (purge --report, notify
 * --report). The file may come from anywhere, so it is hostile input: bounded in size, every
 * field checked for type and range, strings bounded, and every error names the JSON path and
 * what was expected. The summary is recounted from the statuses, never trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/limits.h>
#include <cachesweep/report.h>

#define PATH_MAX_LEN     192
#define MAX_INSTRUCTIONS 64
#define MAX_ACTIONS      64

struct rd {
	const char *name; /**< file name for messages */
	struct cs_error *err;
};

/* json_typeof names for "found ..." */
static const char *kind(const json_t *v)
{
	if (v == NULL) {
		return "nothing (missing)";
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

static enum cs_errc bad(struct rd *rd, const char *path, const char *expected, const json_t *v)
{
	return cs_error_set(rd->err, CS_ECONFIG, "%s: %s: expected %s, found %s", rd->name, path,
			    expected, kind(v));
}

static void sub(char *out, size_t size, const char *path, const char *key)
{
	(void)cs_snprintf(out, size, "%s%s%s", path, path[0] ? "." : "", key);
}

static void idx(char *out, size_t size, const char *path, size_t i)
{
	(void)cs_snprintf(out, size, "%s[%zu]", path, i);
}

/** A printable string of at most size-1 bytes into buf; null allowed when nullable. */
static enum cs_errc get_str(struct rd *rd, const json_t *obj, const char *path, const char *key,
			    bool required, bool nullable, char *buf, size_t size)
{
	char p[PATH_MAX_LEN];
	sub(p, sizeof(p), path, key);
	const json_t *v = json_object_get(obj, key);
	buf[0] = '\0';
	if (v == NULL && !required) {
		return CS_OK;
	}
	if (v != NULL && json_is_null(v) && nullable) {
		return CS_OK;
	}
	if (!json_is_string(v)) {
		return bad(rd, p, nullable ? "a string or null" : "a string", v);
	}
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len >= size) {
		return cs_error_set(
			rd->err, CS_ECONFIG,
			"%s: %s: expected a string of at most %zu bytes, found %zu bytes", rd->name,
			p, size - 1, len);
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f) {
			return cs_error_set(rd->err, CS_ECONFIG,
					    "%s: %s: expected printable text, found a control "
					    "character at byte %zu",
					    rd->name, p, i);
		}
	}
	memcpy(buf, s, len + 1);
	return CS_OK;
}

/** An integer in [min, max]; null allows *has = false when nullable. */
static enum cs_errc get_int(struct rd *rd, const json_t *obj, const char *path, const char *key,
			    bool nullable, json_int_t min, json_int_t max, bool *has,
			    json_int_t *out)
{
	char p[PATH_MAX_LEN];
	sub(p, sizeof(p), path, key);
	const json_t *v = json_object_get(obj, key);
	*out = 0;
	if (has != NULL) {
		*has = false;
	}
	if (nullable && (v == NULL || json_is_null(v))) {
		return CS_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		char want[96];
		(void)cs_snprintf(want, sizeof(want), "an integer %lld..%lld%s", (long long)min,
				  (long long)max, nullable ? " or null" : "");
		if (json_is_integer(v)) {
			return cs_error_set(rd->err, CS_ECONFIG, "%s: %s: expected %s, found %lld",
					    rd->name, p, want, (long long)json_integer_value(v));
		}
		return bad(rd, p, want, v);
	}
	*out = json_integer_value(v);
	if (has != NULL) {
		*has = true;
	}
	return CS_OK;
}

static enum cs_errc get_bool(struct rd *rd, const json_t *obj, const char *path, const char *key,
			     bool *out)
{
	char p[PATH_MAX_LEN];
	sub(p, sizeof(p), path, key);
	const json_t *v = json_object_get(obj, key);
	*out = false;
	if (v == NULL) {
		return CS_OK; /* optional: reports may come from older writers */
	}
	if (!json_is_boolean(v)) {
		return bad(rd, p, "true or false", v);
	}
	*out = json_is_true(v);
	return CS_OK;
}

static enum cs_errc get_array(struct rd *rd, const json_t *obj, const char *path, const char *key,
			      bool required, size_t max, const json_t **out)
{
	char p[PATH_MAX_LEN];
	sub(p, sizeof(p), path, key);
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (v == NULL && !required) {
		return CS_OK;
	}
	if (!json_is_array(v)) {
		return bad(rd, p, "an array", v);
	}
	if (json_array_size(v) > max) {
		return cs_error_set(rd->err, CS_ECONFIG,
				    "%s: %s: expected at most %zu entries, found %zu", rd->name, p,
				    max, json_array_size(v));
	}
	*out = v;
	return CS_OK;
}

static enum cs_errc want_object(struct rd *rd, const json_t *v, const char *path)
{
	return json_is_object(v) ? CS_OK : bad(rd, path, "an object", v);
}

static enum cs_errc get_type(struct rd *rd, const json_t *obj, const char *path, uint16_t *out)
{
	char buf[16];
	enum cs_errc rc = get_str(rd, obj, path, "type", true, false, buf, sizeof(buf));
	if (rc == CS_OK && cs_type_parse(buf, out) != 0) {
		rc = cs_error_set(
			rd->err, CS_ECONFIG,
			"%s: %s.type: expected an RR type (A, AAAA, TYPE65), found \"%s\"",
			rd->name, path, buf);
	}
	return rc;
}

static int rcode_parse(const char *s, uint16_t *out)
{
	for (uint16_t i = 0; i < 16; i++) {
		const char *n = cs_rcode_name(i);
		if (n != NULL && strcmp(n, s) == 0) {
			*out = i;
			return 0;
		}
	}
	uint32_t v = 0;
	if (strncmp(s, "RCODE", 5) == 0 && cs_parse_u32(s + 5, 0, 4095, &v) == 0) {
		*out = (uint16_t)v;
		return 0;
	}
	return -1;
}

static enum cs_errc get_rcode(struct rd *rd, const json_t *obj, const char *path, const char *key,
			      bool *has, uint16_t *out)
{
	char buf[16];
	enum cs_errc rc = get_str(rd, obj, path, key, false, true, buf, sizeof(buf));
	*has = false;
	*out = 0;
	if (rc != CS_OK || buf[0] == '\0') {
		return rc;
	}
	if (rcode_parse(buf, out) != 0) {
		return cs_error_set(rd->err, CS_ECONFIG,
				    "%s: %s.%s: expected an rcode (NOERROR, NXDOMAIN, RCODE12), "
				    "found \"%s\"",
				    rd->name, path, key, buf);
	}
	*has = true;
	return CS_OK;
}

/* "2026-11-28T16:00:00Z" → seconds since the epoch (days from civil, no libc time zone). */
static int parse_utc(const char *s, int64_t *out)
{
	unsigned v[6];
	static const char seps[] = "--T::Z";
	static const unsigned widths[] = { 4, 2, 2, 2, 2, 2 };
	const char *p = s;
	for (size_t i = 0; i < 6; i++) {
		v[i] = 0;
		for (unsigned k = 0; k < widths[i]; k++, p++) {
			if (*p < '0' || *p > '9') {
				return -1;
			}
			v[i] = v[i] * 10 + (unsigned)(*p - '0');
		}
		if (*p++ != seps[i]) {
			return -1;
		}
	}
	if (*p != '\0' || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60 || v[0] < 1970) {
		return -1;
	}
	int64_t y = (int64_t)v[0] - (v[1] <= 2 ? 1 : 0);
	int64_t era = y / 400;
	int64_t yoe = y - era * 400;
	int64_t m = v[1];
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + (int64_t)v[2] - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	*out = days * 86400 + (int64_t)v[3] * 3600 + (int64_t)v[4] * 60 + (int64_t)v[5];
	return 0;
}

static enum cs_errc read_truth(struct rd *rd, const json_t *o, struct cs_report *rep)
{
	const char *path = "truth";
	const json_t *auths = NULL;
	const json_t *names = NULL;
	enum cs_errc rc = want_object(rd, o, path);
	if (rc == CS_OK) {
		rc = get_array(rd, o, path, "authorities", true, CS_MAX_AUTHORITIES, &auths);
	}
	if (rc == CS_OK) {
		rc = get_array(rd, o, path, "names", true, CS_MAX_NAMES, &names);
	}
	if (rc != CS_OK) {
		return rc;
	}
	rep->truth = cs_truth_new(json_array_size(names), json_array_size(auths));
	if (rep->truth == NULL) {
		return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
	}
	struct cs_truth *t = rep->truth;
	json_int_t v = 0;
	(void)cs_strlcpy(t->zone, rep->zone, sizeof(t->zone));
	rc = get_int(rd, o, path, "serial", true, 0, UINT32_MAX, &t->have_serial, &v);
	t->serial = (uint32_t)v;
	if (rc == CS_OK) {
		rc = get_bool(rd, o, path, "signed", &t->is_signed);
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "source", false, true, t->source, sizeof(t->source));
	}
	for (size_t i = 0; rc == CS_OK && i < t->n_authorities; i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), "truth.authorities", i);
		const json_t *a = json_array_get(auths, i);
		struct cs_truth_authority *ta = &t->authorities[i];
		rc = want_object(rd, a, p);
		if (rc == CS_OK) {
			rc = get_str(rd, a, p, "address", true, false, ta->address,
				     sizeof(ta->address));
		}
		if (rc == CS_OK) {
			rc = get_int(rd, a, p, "serial", true, 0, UINT32_MAX, &ta->answered, &v);
			ta->serial = (uint32_t)v;
		}
		if (rc == CS_OK) {
			rc = get_str(rd, a, p, "error", false, true, ta->error, sizeof(ta->error));
		}
	}
	for (size_t i = 0; rc == CS_OK && i < t->n_names; i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), "truth.names", i);
		const json_t *n = json_array_get(names, i);
		struct cs_truth_name *tn = &t->names[i];
		rc = want_object(rd, n, p);
		if (rc == CS_OK) {
			rc = get_str(rd, n, p, "name", true, false, tn->name, sizeof(tn->name));
		}
		if (rc == CS_OK) {
			rc = get_type(rd, n, p, &tn->type);
		}
		if (rc == CS_OK) {
			rc = get_bool(rd, n, p, "exists", &tn->exists);
		}
		if (rc == CS_OK) {
			rc = get_bool(rd, n, p, "has_type", &tn->has_type);
		}
		if (rc == CS_OK) {
			rc = get_bool(rd, n, p, "secure", &tn->secure);
		}
		if (rc == CS_OK) {
			rc = get_bool(rd, n, p, "bogus", &tn->bogus);
		}
	}
	return rc;
}

static enum cs_errc read_finding(struct rd *rd, const json_t *o, const char *path,
				 struct cs_finding *f)
{
	char verdict[32];
	const json_t *ede = NULL;
	json_int_t v = 0;
	enum cs_errc rc = want_object(rd, o, path);
	memset(f, 0, sizeof(*f));
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "name", true, false, f->name, sizeof(f->name));
	}
	if (rc == CS_OK) {
		rc = get_type(rd, o, path, &f->type);
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "verdict", true, false, verdict, sizeof(verdict));
	}
	if (rc == CS_OK && cs_verdict_parse(verdict, &f->verdict) != 0) {
		rc = cs_error_set(rd->err, CS_ECONFIG,
				  "%s: %s.verdict: expected a verdict (ok, cached_nxdomain, ...), "
				  "found \"%s\"",
				  rd->name, path, verdict);
	}
	if (rc == CS_OK) {
		rc = get_rcode(rd, o, path, "rcode", &f->answered, &f->rcode);
	}
	if (rc == CS_OK) {
		rc = get_bool(rd, o, path, "ad", &f->ad);
	}
	if (rc == CS_OK) {
		rc = get_array(rd, o, path, "ede", false, CS_EDE_MAX, &ede);
	}
	for (size_t i = 0; rc == CS_OK && ede != NULL && i < json_array_size(ede); i++) {
		char p[PATH_MAX_LEN];
		char ep[PATH_MAX_LEN];
		sub(ep, sizeof(ep), path, "ede");
		idx(p, sizeof(p), ep, i);
		const json_t *e = json_array_get(ede, i);
		rc = want_object(rd, e, p);
		if (rc == CS_OK) {
			rc = get_int(rd, e, p, "code", false, 0, UINT16_MAX, NULL, &v);
			f->ede[i].code = (uint16_t)v;
		}
		if (rc == CS_OK) {
			rc = get_str(rd, e, p, "text", false, true, f->ede[i].text,
				     sizeof(f->ede[i].text));
		}
		f->n_ede = i + 1;
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "ttl_remaining_s", true, 0, UINT32_MAX, &f->has_ttl, &v);
		f->ttl_remaining_s = (uint32_t)v;
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "serial", true, 0, UINT32_MAX, &f->has_serial, &v);
		f->serial = (uint32_t)v;
	}
	if (rc == CS_OK) {
		rc = get_bool(rd, o, path, "not_validating", &f->not_validating);
	}
	if (rc == CS_OK) {
		rc = get_bool(rd, o, path, "stale_answer", &f->stale_answer);
	}
	if (rc == CS_OK) {
		rc = get_rcode(rd, o, path, "cd_rcode", &f->cd_answered, &f->cd_rcode);
		f->cd_probed = f->cd_answered;
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "detail", false, true, f->detail, sizeof(f->detail));
	}
	return rc;
}

/* Read into full-size findings, then pack them as the report holds them. */
static enum cs_errc read_findings(struct rd *rd, const json_t *o, const char *path,
				  struct cs_report_finding **out, size_t *n)
{
	const json_t *arr = NULL;
	char fp[PATH_MAX_LEN];
	enum cs_errc rc = get_array(rd, o, path, "findings", true, CS_MAX_NAMES + 1, &arr);
	if (rc != CS_OK) {
		return rc;
	}
	size_t count = json_array_size(arr);
	if (count == 0) {
		return CS_OK;
	}
	struct cs_finding *work = cs_calloc(count, sizeof(*work));
	if (work == NULL) {
		return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
	}
	sub(fp, sizeof(fp), path, "findings");
	for (size_t i = 0; rc == CS_OK && i < count; i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), fp, i);
		rc = read_finding(rd, json_array_get(arr, i), p, &work[i]);
	}
	if (rc == CS_OK) {
		*out = cs_report_findings_pack(work, count);
		rc = *out != NULL ? CS_OK
				  : cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		*n = *out != NULL ? count : 0;
	}
	cs_free(work);
	return rc;
}

static enum cs_errc read_status(struct rd *rd, const json_t *o, const char *path,
				enum cs_status *out)
{
	char buf[32];
	enum cs_errc rc = get_str(rd, o, path, "status", true, false, buf, sizeof(buf));
	if (rc == CS_OK && cs_status_parse(buf, out) != 0) {
		rc = cs_error_set(rd->err, CS_ECONFIG,
				  "%s: %s.status: expected one of healthy, needs_purge, degraded, "
				  "refused, unreachable, found \"%s\"",
				  rd->name, path, buf);
	}
	return rc;
}

static enum cs_errc read_action(struct rd *rd, const json_t *o, const char *path,
				struct cs_purge_action *a)
{
	char outcome[16];
	json_int_t v = 0;
	bool has = false;
	enum cs_errc rc = want_object(rd, o, path);
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "endpoint", true, false, a->endpoint,
			     sizeof(a->endpoint));
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "target", false, true, a->target, sizeof(a->target));
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "outcome", true, false, outcome, sizeof(outcome));
	}
	if (rc == CS_OK) {
		if (strcmp(outcome, "ok") == 0) {
			a->outcome = CS_ACTION_OK;
		} else if (strcmp(outcome, "failed") == 0) {
			a->outcome = CS_ACTION_FAILED;
		} else if (strcmp(outcome, "skipped") == 0) {
			a->outcome = CS_ACTION_SKIPPED;
		} else {
			rc = cs_error_set(rd->err, CS_ECONFIG,
					  "%s: %s.outcome: expected ok, failed or skipped, found "
					  "\"%s\"",
					  rd->name, path, outcome);
		}
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "http_status", true, 100, 599, &has, &v);
		a->http_status = has ? (int)v : -1;
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "exit_code", true, 0, 255, &has, &v);
		a->exit_code = has ? (int)v : -1;
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "error", false, true, a->error, sizeof(a->error));
	}
	return rc;
}

static enum cs_errc read_purge(struct rd *rd, const json_t *o, const char *path,
			       struct cs_resolver_report *rr)
{
	const json_t *ins = NULL;
	const json_t *acts = NULL;
	char ap[PATH_MAX_LEN];
	enum cs_errc rc = CS_OK;
	if (o == NULL || json_is_null(o)) {
		return CS_OK;
	}
	struct cs_purge_block *pb = cs_resolver_report_purge(rr);
	if (pb == NULL) {
		return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
	}
	rc = want_object(rd, o, path);
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "scope", true, false, pb->scope, sizeof(pb->scope));
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "endpoint", false, true, pb->endpoint,
			     sizeof(pb->endpoint));
	}
	if (rc == CS_OK) {
		rc = get_array(rd, o, path, "instructions", true, MAX_INSTRUCTIONS, &ins);
	}
	if (rc == CS_OK) {
		rc = get_array(rd, o, path, "actions", false, MAX_ACTIONS, &acts);
	}
	if (rc != CS_OK) {
		return rc;
	}
	pb->present = true;
	if (json_array_size(ins) > 0) {
		pb->instructions = cs_calloc(json_array_size(ins), sizeof(char *));
		if (pb->instructions == NULL) {
			return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		}
	}
	sub(ap, sizeof(ap), path, "instructions");
	for (size_t i = 0; rc == CS_OK && i < json_array_size(ins); i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), ap, i);
		const json_t *s = json_array_get(ins, i);
		if (!json_is_string(s) || json_string_length(s) > 1024 ||
		    strlen(json_string_value(s)) != json_string_length(s)) {
			return bad(rd, p, "a string of at most 1024 bytes", s);
		}
		pb->instructions[i] = cs_strdup(json_string_value(s));
		if (pb->instructions[i] == NULL) {
			return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		}
		pb->n_instructions = i + 1;
	}
	if (acts == NULL || json_array_size(acts) == 0) {
		return CS_OK;
	}
	pb->actions = cs_calloc(json_array_size(acts), sizeof(*pb->actions));
	if (pb->actions == NULL) {
		return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
	}
	sub(ap, sizeof(ap), path, "actions");
	for (size_t i = 0; rc == CS_OK && i < json_array_size(acts); i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), ap, i);
		rc = read_action(rd, json_array_get(acts, i), p, &pb->actions[i]);
		pb->n_actions = i + 1;
	}
	return rc;
}

/* A resolver's texts as read, each in a buffer of the size the report holds it to. */
struct rr_texts {
	char id[CS_RR_ID_SIZE];
	char address[CS_RR_ADDRESS_SIZE];
	char operator_name[CS_RR_OPERATOR_SIZE];
	char contact[CS_RR_CONTACT_SIZE];
	char nsid[CS_RR_NSID_SIZE];
	char sw_name[CS_RR_SOFTWARE_NAME_SIZE];
	char sw_version[CS_RR_SOFTWARE_VERSION_SIZE];
	char sw_source[CS_RR_SOFTWARE_SOURCE_SIZE];
};

static enum cs_errc read_resolver(struct rd *rd, const json_t *o, const char *path,
				  struct cs_resolver_report *rr)
{
	char transport[8];
	struct rr_texts t;
	json_int_t v = 0;
	cs_resolver_report_init(rr);
	memset(&t, 0, sizeof(t));
	enum cs_errc rc = want_object(rd, o, path);
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "id", true, false, t.id, sizeof(t.id));
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "address", true, false, t.address, sizeof(t.address));
	}
	if (rc == CS_OK && cs_addr_check(t.address) != 0) {
		rc = cs_error_set(rd->err, CS_ECONFIG,
				  "%s: %s.address: expected a numeric IPv4 or IPv6 address, found "
				  "\"%s\"",
				  rd->name, path, t.address);
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "port", false, 1, 65535, NULL, &v);
		rr->port = (uint16_t)v;
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "transport", false, false, transport, sizeof(transport));
	}
	if (rc == CS_OK) {
		if (transport[0] == '\0' || strcmp(transport, "udp") == 0) {
			rr->transport = CS_TRANSPORT_UDP;
		} else if (strcmp(transport, "tcp") == 0) {
			rr->transport = CS_TRANSPORT_TCP;
		} else {
			rc = cs_error_set(rd->err, CS_ECONFIG,
					  "%s: %s.transport: expected \"udp\" or \"tcp\", found "
					  "\"%s\"",
					  rd->name, path, transport);
		}
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "operator", false, true, t.operator_name,
			     sizeof(t.operator_name));
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "contact", false, true, t.contact, sizeof(t.contact));
	}
	if (rc == CS_OK) {
		rc = read_status(rd, o, path, &rr->status);
	}
	if (rc == CS_OK) {
		rc = get_int(rd, o, path, "heals_in_s", true, 0, UINT32_MAX, &rr->heals_known, &v);
		rr->heals_in_s = (uint32_t)v;
	}
	if (rc == CS_OK) {
		rc = get_str(rd, o, path, "nsid", false, true, t.nsid, sizeof(t.nsid));
	}
	const json_t *sw = json_object_get(o, "software");
	if (rc == CS_OK && sw != NULL && !json_is_null(sw)) {
		char p[PATH_MAX_LEN];
		sub(p, sizeof(p), path, "software");
		rc = want_object(rd, sw, p);
		if (rc == CS_OK) {
			rc = get_str(rd, sw, p, "name", true, false, t.sw_name, sizeof(t.sw_name));
		}
		if (rc == CS_OK) {
			rc = get_str(rd, sw, p, "version", false, true, t.sw_version,
				     sizeof(t.sw_version));
		}
		if (rc == CS_OK) {
			rc = get_str(rd, sw, p, "source", false, true, t.sw_source,
				     sizeof(t.sw_source));
		}
		rr->has_software = rc == CS_OK;
	}
	if (rc == CS_OK) {
		const char *texts[CS_RR_TEXT_COUNT] = {
			[CS_RR_ID] = t.id,
			[CS_RR_ADDRESS] = t.address,
			[CS_RR_OPERATOR] = t.operator_name,
			[CS_RR_CONTACT] = t.contact,
			[CS_RR_SOFTWARE_NAME] = t.sw_name,
			[CS_RR_SOFTWARE_VERSION] = t.sw_version,
			[CS_RR_SOFTWARE_SOURCE] = t.sw_source,
			[CS_RR_NSID] = t.nsid,
		};
		if (cs_resolver_report_set_texts(rr, texts) != CS_OK) {
			rc = cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		}
	}
	if (rc == CS_OK) {
		rc = read_findings(rd, o, path, &rr->findings, &rr->n_findings);
	}
	if (rc == CS_OK) {
		char p[PATH_MAX_LEN];
		sub(p, sizeof(p), path, "purge");
		rc = read_purge(rd, json_object_get(o, "purge"), p, rr);
	}
	const json_t *before = json_object_get(o, "before");
	if (rc == CS_OK && before != NULL && !json_is_null(before)) {
		char p[PATH_MAX_LEN];
		sub(p, sizeof(p), path, "before");
		rr->before = cs_calloc(1, sizeof(*rr->before));
		rc = rr->before != NULL
			     ? want_object(rd, before, p)
			     : cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		if (rc == CS_OK) {
			rc = read_status(rd, before, p, &rr->before->status);
		}
		if (rc == CS_OK) {
			rc = get_int(rd, before, p, "heals_in_s", true, 0, UINT32_MAX,
				     &rr->before->heals_known, &v);
			rr->before->heals_in_s = (uint32_t)v;
		}
		if (rc == CS_OK) {
			rc = read_findings(rd, before, p, &rr->before->findings,
					   &rr->before->n_findings);
		}
	}
	return rc;
}

static enum cs_errc read_report(struct rd *rd, const json_t *root, struct cs_report *rep)
{
	char schema[32];
	char when[32];
	const json_t *resolvers = NULL;
	enum cs_errc rc = want_object(rd, root, "(top level)");
	if (rc == CS_OK) {
		rc = get_str(rd, root, "", "schema", true, false, schema, sizeof(schema));
	}
	if (rc == CS_OK && strcmp(schema, CS_REPORT_SCHEMA) != 0) {
		rc = cs_error_set(rd->err, CS_ECONFIG, "%s: schema: expected \"%s\", found \"%s\"",
				  rd->name, CS_REPORT_SCHEMA, schema);
	}
	if (rc == CS_OK) {
		rc = get_str(rd, root, "", "generated_at", true, false, when, sizeof(when));
	}
	if (rc == CS_OK && parse_utc(when, &rep->generated_at_s) != 0) {
		rc = cs_error_set(rd->err, CS_ECONFIG,
				  "%s: generated_at: expected a UTC time like "
				  "\"2026-11-28T16:00:00Z\", found \"%s\"",
				  rd->name, when);
	}
	if (rc == CS_OK) {
		rc = get_str(rd, root, "", "zone", true, false, rep->zone, sizeof(rep->zone));
	}
	if (rc == CS_OK) {
		char norm[CS_NAME_STR_MAX];
		if (cs_name_normalize(rep->zone, norm, sizeof(norm)) != 0) {
			rc = cs_error_set(rd->err, CS_ECONFIG,
					  "%s: zone: expected a domain name, found \"%s\"",
					  rd->name, rep->zone);
		} else {
			(void)cs_strlcpy(rep->zone, norm, sizeof(rep->zone));
		}
	}
	if (rc == CS_OK) {
		rc = read_truth(rd, json_object_get(root, "truth"), rep);
	}
	if (rc == CS_OK) {
		rc = get_array(rd, root, "", "resolvers", true, CS_MAX_RESOLVERS, &resolvers);
	}
	if (rc != CS_OK) {
		return rc;
	}
	size_t n = json_array_size(resolvers);
	if (n > 0) {
		rep->resolvers = cs_calloc(n, sizeof(*rep->resolvers));
		if (rep->resolvers == NULL) {
			return cs_error_set(rd->err, CS_ENOMEM, "%s: out of memory", rd->name);
		}
	}
	for (size_t i = 0; rc == CS_OK && i < n; i++) {
		char p[PATH_MAX_LEN];
		idx(p, sizeof(p), "resolvers", i);
		rep->n_resolvers = i + 1;
		rc = read_resolver(rd, json_array_get(resolvers, i), p, &rep->resolvers[i]);
	}
	for (size_t i = 0; rc == CS_OK && i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(rep->resolvers[i].id, rep->resolvers[j].id) == 0) {
				return cs_error_set(rd->err, CS_ECONFIG,
						    "%s: resolvers[%zu].id: expected a unique id, "
						    "\"%s\" is also resolvers[%zu]",
						    rd->name, i, rep->resolvers[i].id, j);
			}
		}
	}
	if (rc == CS_OK) {
		cs_report_summarize(rep);
	}
	return rc;
}

enum cs_errc cs_report_load_string(const char *text, size_t len, const char *name,
				   struct cs_report **out, struct cs_error *err)
{
	json_error_t jerr;
	struct rd rd = { .name = name, .err = err };
	struct cs_report *rep = NULL;
	enum cs_errc rc = CS_OK;

	*out = NULL;
	if (len > CS_MAX_REPORT_BYTES) {
		return cs_error_set(err, CS_ECONFIG,
				    "%s: larger than the limit of %u bytes (CS_MAX_REPORT_BYTES)",
				    name, (unsigned)CS_MAX_REPORT_BYTES);
	}
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		return cs_error_set(err, CS_ECONFIG, "%s:%d:%d: %s", name, jerr.line, jerr.column,
				    jerr.text);
	}
	rep = cs_calloc(1, sizeof(*rep));
	if (rep == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	rc = read_report(&rd, root, rep);
	if (rc != CS_OK) {
		goto out;
	}
	*out = rep;
	rep = NULL;
out:
	cs_report_free(rep);
	json_decref(root);
	return rc;
}

enum cs_errc cs_report_load(const char *path, struct cs_report **out, struct cs_error *err)
{
	const bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(stdin)" : path;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	enum cs_errc rc = CS_OK;

	*out = NULL;
	if (fp == NULL) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "%s: %s", path, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		return rc;
	}
	/* one byte more than the limit tells "too large" from "exactly the limit" */
	buf = cs_malloc((size_t)CS_MAX_REPORT_BYTES + 1);
	if (buf == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "%s: out of memory", name);
		goto out;
	}
	len = fread(buf, 1, (size_t)CS_MAX_REPORT_BYTES + 1, fp);
	if (ferror(fp)) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "%s: cannot read: %s", name, strerror(e));
		goto out;
	}
	rc = cs_report_load_string(buf, len, name, out, err);
out:
	cs_free(buf);
	if (!is_stdin) {
		fclose(fp);
	}
	return rc;
}
