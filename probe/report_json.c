/* SPDX-License-Identifier: BSD-3-Clause */
/* The JSON rendering of the report (schema cachesweep.report/1, shared/design.md). */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/dnssec.h>
#include <cachesweep/report.h>

/* json_object_set_new() steals the value; a NULL value (out of memory) is caught here. */
static bool put(json_t *obj, const char *key, json_t *value)
{
	return value != NULL && json_object_set_new(obj, key, value) == 0;
}

static json_t *str_or_null(const char *s)
{
	return (s != NULL && s[0] != '\0') ? json_string(s) : json_null();
}

static json_t *type_json(uint16_t type)
{
	char buf[16];
	cs_type_format(type, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *rcode_json(uint16_t rcode)
{
	char buf[16];
	cs_rcode_format(rcode, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *truth_json(const struct cs_truth *t)
{
	json_t *o = json_object();
	json_t *auths = json_array();
	json_t *names = json_array();
	json_t *notes = json_array();
	/* attach the containers first: put() owns them from then on, whatever happens */
	bool ok =
		o != NULL &&
		put(o, "serial", t->have_serial ? json_integer(t->serial) : json_null()) &&
		put(o, "signed", json_boolean(t->is_signed)) &&
		put(o, "source", json_string(t->source)) &&
		put(o, "soa_bogus", json_boolean(t->soa_bogus)) &&
		put(o, "soa_why_bogus", t->soa_bogus ? json_string(t->soa_why_bogus) : json_null());
	ok = put(o, "authorities", auths) && ok;
	ok = put(o, "names", names) && ok;
	ok = put(o, "findings", notes) && ok;
	/* what is wrong on the authoritative side itself, in words */
	for (size_t i = 0; ok && i < t->n_authorities; i++) {
		const struct cs_truth_authority *a = &t->authorities[i];
		char line[CS_DETAIL_MAX + 96];
		if (!a->answered) {
			(void)cs_snprintf(line, sizeof(line), "authority %s did not answer: %s",
					  a->address, a->error);
		} else if (t->have_serial && cs_serial_cmp(a->serial, t->serial) < 0) {
			(void)cs_snprintf(line, sizeof(line),
					  "authority %s is lagging: serves serial %u, behind %u",
					  a->address, (unsigned)a->serial, (unsigned)t->serial);
		} else {
			continue;
		}
		ok = json_array_append_new(notes, json_string(line)) == 0;
	}
	if (ok && t->soa_bogus) {
		char line[CS_DETAIL_MAX + 64];
		(void)cs_snprintf(line, sizeof(line), "the zone's SOA fails validation: %s",
				  t->soa_why_bogus);
		ok = json_array_append_new(notes, json_string(line)) == 0;
	}
	for (size_t i = 0; ok && i < t->n_authorities; i++) {
		const struct cs_truth_authority *a = &t->authorities[i];
		json_t *ao = json_object();
		ok = ao != NULL && json_array_append_new(auths, ao) == 0 &&
		     put(ao, "address", json_string(a->address)) &&
		     put(ao, "serial", a->answered ? json_integer(a->serial) : json_null()) &&
		     put(ao, "lagging",
			 json_boolean(a->answered && t->have_serial &&
				      cs_serial_cmp(a->serial, t->serial) < 0)) &&
		     put(ao, "error", str_or_null(a->error));
	}
	for (size_t i = 0; ok && i < t->n_names; i++) {
		const struct cs_truth_name *n = &t->names[i];
		json_t *no = json_object();
		ok = no != NULL && json_array_append_new(names, no) == 0 &&
		     put(no, "name", json_string(n->name)) && put(no, "type", type_json(n->type)) &&
		     put(no, "exists", json_boolean(n->exists)) &&
		     put(no, "has_type", json_boolean(n->has_type)) &&
		     put(no, "secure", json_boolean(n->secure)) &&
		     put(no, "bogus", json_boolean(n->bogus)) &&
		     put(no, "why_bogus", n->bogus ? json_string(n->why_bogus) : json_null());
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* null when nothing was checked; else the state, and the RRSIG that decided it */
static json_t *sig_json(const struct cs_report_sig *sig)
{
	if (sig->state == CS_SIG_UNCHECKED) {
		return json_null();
	}
	json_t *o = json_object();
	bool has_sig = sig->state == CS_SIG_VALID || sig->state == CS_SIG_BOGUS;
	if (o == NULL || !put(o, "state", json_string(cs_sig_state_name(sig->state))) ||
	    !put(o, "key_tag", has_sig ? json_integer(sig->key_tag) : json_null()) ||
	    !put(o, "algorithm", has_sig ? json_integer(sig->algorithm) : json_null()) ||
	    !put(o, "reason", str_or_null(sig->reason))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *finding_json(const struct cs_report_finding *f)
{
	json_t *o = json_object();
	json_t *ede = json_array();
	bool ok = o != NULL && put(o, "name", json_string(f->name)) &&
		  put(o, "type", type_json(f->type)) &&
		  put(o, "verdict", json_string(cs_verdict_name(f->verdict))) &&
		  put(o, "rcode", f->answered ? rcode_json(f->rcode) : json_null()) &&
		  put(o, "ad", json_boolean(f->ad));
	ok = put(o, "ede", ede) && ok;
	for (size_t i = 0; ok && i < f->n_ede && i < CS_EDE_MAX; i++) {
		json_t *e = json_object();
		ok = e != NULL && json_array_append_new(ede, e) == 0 &&
		     put(e, "code", json_integer(f->ede[i].code)) &&
		     put(e, "name", json_string(cs_ede_name(f->ede[i].code))) &&
		     put(e, "text", json_string(f->ede[i].text));
	}
	ok = ok &&
	     put(o, "ttl_remaining_s",
		 f->has_ttl ? json_integer(f->ttl_remaining_s) : json_null()) &&
	     put(o, "serial", f->has_serial ? json_integer(f->serial) : json_null()) &&
	     put(o, "not_validating", json_boolean(f->not_validating)) &&
	     put(o, "stale_answer", json_boolean(f->stale_answer)) &&
	     put(o, "cd_rcode", f->cd_answered ? rcode_json(f->cd_rcode) : json_null()) &&
	     put(o, "known_bad_serial", json_boolean(f->known_bad_serial)) &&
	     put(o, "signature", sig_json(&f->sig)) && put(o, "defect", str_or_null(f->defect)) &&
	     put(o, "detail", json_string(f->detail));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *findings_json(const struct cs_report_finding *f, size_t n)
{
	json_t *a = json_array();
	bool ok = a != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		json_t *fo = finding_json(&f[i]);
		ok = fo != NULL && json_array_append_new(a, fo) == 0;
	}
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *action_json(const struct cs_purge_action *a)
{
	json_t *o = json_object();
	bool ok =
		o != NULL && put(o, "endpoint", json_string(a->endpoint)) &&
		put(o, "target", json_string(a->target)) &&
		put(o, "outcome", json_string(cs_action_outcome_name(a->outcome))) &&
		put(o, "http_status",
		    a->http_status >= 0 ? json_integer(a->http_status) : json_null()) &&
		put(o, "exit_code", a->exit_code >= 0 ? json_integer(a->exit_code) : json_null()) &&
		put(o, "error", str_or_null(a->error));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *purge_json(const struct cs_purge_block *pb)
{
	if (pb == NULL || !pb->present) {
		return json_null();
	}
	json_t *o = json_object();
	json_t *ins = json_array();
	json_t *acts = json_array();
	bool ok = o != NULL && put(o, "scope", json_string(pb->scope));
	ok = put(o, "instructions", ins) && ok;
	ok = ok && put(o, "endpoint", str_or_null(pb->endpoint));
	ok = put(o, "actions", acts) && ok;
	for (size_t i = 0; ok && i < pb->n_instructions; i++) {
		ok = json_array_append_new(ins, json_string(pb->instructions[i])) == 0;
	}
	for (size_t i = 0; ok && i < pb->n_actions; i++) {
		json_t *a = action_json(&pb->actions[i]);
		ok = a != NULL && json_array_append_new(acts, a) == 0;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *before_json(const struct cs_before_block *b)
{
	json_t *o = json_object();
	bool ok =
		o != NULL && put(o, "status", json_string(cs_status_name(b->status))) &&
		put(o, "heals_in_s", b->heals_known ? json_integer(b->heals_in_s) : json_null()) &&
		put(o, "findings", findings_json(b->findings, b->n_findings));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *resolver_json(const struct cs_resolver_report *rr)
{
	json_t *o = json_object();
	json_t *findings = json_array();
	json_t *sw = rr->has_software ? json_object() : json_null();
	bool ok = o != NULL && put(o, "id", json_string(rr->id)) &&
		  put(o, "address", json_string(rr->address)) &&
		  put(o, "port", json_integer(rr->port)) &&
		  put(o, "transport", json_string(cs_transport_name(rr->transport))) &&
		  put(o, "operator", str_or_null(rr->operator_name)) &&
		  put(o, "contact", str_or_null(rr->contact)) &&
		  put(o, "status", json_string(cs_status_name(rr->status))) &&
		  put(o, "heals_in_s",
		      rr->heals_known ? json_integer(rr->heals_in_s) : json_null()) &&
		  put(o, "nsid", str_or_null(rr->nsid));
	ok = put(o, "software", sw) && ok;
	ok = put(o, "findings", findings) && ok;
	if (ok && rr->has_software) {
		ok = put(sw, "name", json_string(rr->software.name)) &&
		     put(sw, "version", str_or_null(rr->software.version)) &&
		     put(sw, "source", json_string(rr->software.source));
	}
	for (size_t i = 0; ok && i < rr->n_findings; i++) {
		json_t *f = finding_json(&rr->findings[i]);
		ok = f != NULL && json_array_append_new(findings, f) == 0;
	}
	ok = ok && put(o, "purge", purge_json(rr->purge));
	if (ok && rr->before != NULL) {
		ok = put(o, "before", before_json(rr->before));
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *summary_json(const struct cs_report_summary *s)
{
	json_t *o = json_object();
	bool ok = o != NULL && put(o, "resolvers", json_integer((json_int_t)s->resolvers));
	for (unsigned i = 0; ok && i < CS_STATUS_COUNT; i++) {
		ok = put(o, cs_status_name((enum cs_status)i),
			 json_integer((json_int_t)s->by_status[i]));
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The top level without its resolvers: "resolvers" is an empty array, written in place. */
static json_t *report_head_json(const struct cs_report *rep)
{
	char when[32];
	cs_clock_format_utc(rep->generated_at_s, when, sizeof(when));
	json_t *o = json_object();
	bool ok =
		o != NULL && put(o, "schema", json_string(CS_REPORT_SCHEMA)) &&
		put(o, "generated_at", json_string(when)) &&
		put(o, "zone", json_string(rep->zone)) && put(o, "truth", truth_json(rep->truth)) &&
		put(o, "summary", summary_json(&rep->summary)) && put(o, "resolvers", json_array());
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A failed write: CS_EIO with errno's text. */
static enum cs_errc write_failed(struct cs_error *err)
{
	int e = errno;
	enum cs_errc code = cs_error_set(err, CS_EIO, "cannot write the report: %s", strerror(e));
	if (err != NULL) {
		err->sys_errno = e;
	}
	return code;
}

/* Dump root (stolen) and a newline; a failed write is an error with errno's text. */
static enum cs_errc dump(json_t *root, FILE *fp, size_t flags, struct cs_error *err)
{
	if (root == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory writing the report");
	}
	int rc = json_dumpf(root, fp, flags);
	json_decref(root);
	if (rc != 0 || fputc('\n', fp) == EOF) {
		return write_failed(err);
	}
	return CS_OK;
}

/* json_dump_callback's sink: gathers jansson's many small pieces into one buffer written in
 * large blocks, and when indent is set, indents every line after the first by it (a JSON
 * text has no raw newline inside a string). */
#define SINK_BUF 65536

struct sink {
	FILE *fp;
	const char *indent;
	size_t indent_len;
	size_t len;
	bool failed;
	char buf[SINK_BUF];
};

static void sink_flush(struct sink *s)
{
	if (s->len > 0 && !s->failed && fwrite(s->buf, 1, s->len, s->fp) != s->len) {
		s->failed = true;
	}
	s->len = 0;
}

static void sink_put(struct sink *s, const char *p, size_t n)
{
	if (s->len + n > sizeof(s->buf)) {
		sink_flush(s);
	}
	if (n > sizeof(s->buf)) {
		if (!s->failed && fwrite(p, 1, n, s->fp) != n) {
			s->failed = true;
		}
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static int sink_write(const char *buf, size_t size, void *data)
{
	struct sink *s = data;
	while (size > 0) {
		const char *nl = s->indent != NULL ? memchr(buf, '\n', size) : NULL;
		const size_t n = nl != NULL ? (size_t)(nl - buf) + 1 : size;
		sink_put(s, buf, n);
		if (nl != NULL) {
			sink_put(s, s->indent, s->indent_len);
		}
		buf += n;
		size -= n;
	}
	return s->failed ? -1 : 0;
}

/* Dump r into *buf (grown as needed: json_dumpb says how much it needs) and through the
 * sink, indented. False when memory ran out. */
static bool dump_indented(struct sink *sink, const json_t *r, size_t flags, char **buf, size_t *cap)
{
	size_t need = json_dumpb(r, *buf, *cap, flags);
	if (need == 0) {
		return false;
	}
	if (need > *cap) {
		char *grown = cs_reallocarray(*buf, need, 1);
		if (grown == NULL) {
			return false;
		}
		*buf = grown;
		*cap = need;
		need = json_dumpb(r, *buf, *cap, flags);
		if (need == 0 || need > *cap) {
			return false;
		}
	}
	(void)sink_write(*buf, need, sink);
	return true;
}

/*
 * The report, one resolver at a time: only one resolver's tree is ever built, and the bytes
 * are those json_dumpf would write for the whole tree. The top level is dumped with
 * "resolvers" as an empty array and cut at its "[]"; each resolver follows as an element, in
 * the pretty form indented to its depth (two levels of JSON_INDENT(2)).
 */
enum cs_errc cs_report_write_json(const struct cs_report *rep, FILE *fp, bool pretty,
				  struct cs_error *err)
{
	const size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	/* how the head's dump ends: the empty array, then the top level's closing brace */
	const char *const tail = pretty ? "[]\n}" : "[]}";
	json_t *head = report_head_json(rep);
	char *text = head != NULL ? json_dumps(head, flags) : NULL;
	json_decref(head);
	struct sink *sink = text != NULL ? cs_calloc(1, sizeof(*sink)) : NULL;
	json_malloc_t jmalloc = NULL;
	json_free_t jfree = NULL;
	json_get_alloc_funcs(&jmalloc, &jfree); /* json_dumps's text is jansson's to free */
	if (sink == NULL) {
		if (text != NULL) {
			jfree(text);
		}
		return cs_error_set(err, CS_ENOMEM, "out of memory writing the report");
	}
	sink->fp = fp;
	sink->indent = pretty ? "    " : NULL;
	sink->indent_len = pretty ? 4 : 0;
	const size_t len = strlen(text);
	const size_t tail_len = strlen(tail);
	if (len < tail_len || strcmp(text + len - tail_len, tail) != 0) {
		jfree(text);
		cs_free(sink);
		return cs_error_set(err, CS_EIO,
				    "cannot write the report: jansson's dump of the top level "
				    "does not end in an empty \"resolvers\" array");
	}
	sink_put(sink, text, len - tail_len);
	sink_put(sink, "[", 1);
	jfree(text);
	enum cs_errc rc = CS_OK;
	char *text_buf = NULL;
	size_t text_cap = 0;
	for (size_t i = 0; !sink->failed && i < rep->n_resolvers; i++) {
		json_t *r = resolver_json(&rep->resolvers[i]);
		if (r == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory writing the report");
			break;
		}
		if (i > 0) {
			sink_put(sink, ",", 1);
		}
		if (pretty) {
			sink_put(sink, "\n    ", 5);
		}
		if (!dump_indented(sink, r, flags, &text_buf, &text_cap)) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory writing the report");
			json_decref(r);
			break;
		}
		json_decref(r);
	}
	if (pretty && rep->n_resolvers > 0) {
		sink_put(sink, "\n  ", 3);
	}
	const char *end = pretty ? "]\n}\n" : "]}\n";
	sink_put(sink, end, strlen(end));
	sink_flush(sink);
	const bool failed = sink->failed;
	cs_free(sink);
	cs_free(text_buf);
	if (rc != CS_OK) {
		return rc;
	}
	return failed ? write_failed(err) : CS_OK;
}

/* An NDJSON record: {"kind": kind} followed by body's keys, in order (body is stolen). */
static json_t *ndjson_record(const char *kind, json_t *body)
{
	json_t *o = json_object();
	if (o == NULL || body == NULL || !put(o, "kind", json_string(kind)) ||
	    json_object_update(o, body) != 0) {
		json_decref(o);
		json_decref(body);
		return NULL;
	}
	json_decref(body);
	return o;
}

enum cs_errc cs_report_write_ndjson_resolver(const struct cs_resolver_report *rr, FILE *fp,
					     struct cs_error *err)
{
	json_t *o = ndjson_record("resolver", resolver_json(rr));
	enum cs_errc rc = dump(o, fp, JSON_PRESERVE_ORDER | JSON_COMPACT, err);
	if (rc == CS_OK && fflush(fp) != 0) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "cannot write the report: %s", strerror(e));
	}
	return rc;
}

enum cs_errc cs_report_write_ndjson_summary(const struct cs_report *rep, FILE *fp,
					    struct cs_error *err)
{
	char when[32];
	cs_clock_format_utc(rep->generated_at_s, when, sizeof(when));
	json_t *o = json_object();
	bool ok = o != NULL && put(o, "kind", json_string("summary")) &&
		  put(o, "schema", json_string(CS_REPORT_SCHEMA)) &&
		  put(o, "generated_at", json_string(when)) &&
		  put(o, "zone", json_string(rep->zone)) &&
		  put(o, "truth", truth_json(rep->truth)) &&
		  put(o, "summary", summary_json(&rep->summary));
	if (!ok) {
		json_decref(o);
		o = NULL;
	}
	return dump(o, fp, JSON_PRESERVE_ORDER | JSON_COMPACT, err);
}
