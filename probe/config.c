/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration: load → validate → normalise, all before the first packet (style B8).
 *
 * Each JSON object is described by a schema table, one row per key. walk() checks the keys
 * (unknown ones are errors, with a "did you mean" suggestion; inline secrets get their own
 * message), then takes each row in table order: type check, range or choice check, an
 * optional check callback, and then either a plain store at an offset or an apply callback.
 * Errors name the file and the JSON path built while descending ("resolvers[3].port").
 *
 * Every path in a config file (truth files, resolver_files, secret_file, audit_log) is
 * relative to the config file's directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/limits.h>
#include <cachesweep/observe.h>

#define WHERE_MAX    256 /* a JSON path or command-line "where" */
#define FOUND_MAX    96  /* a rendered value in "found ..." */
#define QUOTE_CHARS  48  /* characters of a user string shown before "..." */
#define ADDR_MAX     64  /* a numeric address, with room for a scope */
#define ID_MAX       128 /* a resolver id */
#define ENV_NAME_MAX 128 /* an environment variable name */
#define SUGGEST_MAX  2   /* largest edit distance for "did you mean" */
#define DEFAULT_PORT 53
#define RESOLV_CONF  "/etc/resolv.conf"
#define RESOLV_ENV   "CACHESWEEP_RESOLV_CONF"
#define DEFAULT_ZONE "se."
#define DEFAULT_PATH "(default)"
#define SUBST_HELP   "only {zone}, {name}, {type} and {secret} are substituted"
#define SECRET_SOURCE \
	"name an environment variable with \"api_key_env\" or a file with \"secret_file\""

/* ------------------------------------------------------------------------------------------
 * The loader and its error helpers
 */

/** Where list-file resolvers came from, for duplicate-id messages. */
struct list_origin {
	char *path;   /* the list file, as resolved */
	size_t first; /* index in cfg->resolvers of its first resolver */
};

struct loader {
	const char *file; /* name in messages; NULL for the command line */
	char *dir;        /* relative paths are resolved against it; NULL: as written */
	struct cs_config *cfg;
	struct cs_error *err;
	size_t n_json_resolvers; /* resolvers[] entries; list-file ones follow them */
	size_t n_lists;
	struct list_origin *lists;
	size_t n_lines;
	uint32_t *lines; /* line of each list-file resolver, in order */
};

CS_PRINTF(5, 0)
static enum cs_errc vfail(struct cs_error *err, enum cs_errc code, const char *file,
			  const char *where, const char *fmt, va_list ap)
{
	char msg[sizeof(err->msg)];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0) {
		msg[0] = '\0';
	}
	bool has_file = file != NULL && file[0] != '\0';
	bool has_where = where != NULL && where[0] != '\0';
	return cs_error_set(err, code, "%s%s%s%s%s", has_file ? file : "", has_file ? ": " : "",
			    has_where ? where : "", has_where ? ": " : "", msg);
}

/** A semantic error: "FILE: where: message". */
CS_PRINTF(3, 4)
static enum cs_errc fail(struct loader *ld, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum cs_errc rc = vfail(ld->err, CS_ECONFIG, ld->file, where, fmt, ap);
	va_end(ap);
	return rc;
}

/** An error in a list file: "PATH:LINE: message". */
CS_PRINTF(4, 5)
static enum cs_errc fail_line(struct loader *ld, const char *path, size_t line, const char *fmt,
			      ...)
{
	char label[WHERE_MAX];
	(void)cs_snprintf(label, sizeof(label), "%s:%zu", path, line);
	va_list ap;
	va_start(ap, fmt);
	enum cs_errc rc = vfail(ld->err, CS_ECONFIG, label, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

static enum cs_errc oom(struct loader *ld)
{
	return cs_error_set(ld->err, CS_ENOMEM, "out of memory");
}

/** Quote a user string for a message: printable ASCII, escapes, cut at QUOTE_CHARS. */
static void quote(const char *s, char *buf, size_t size)
{
	size_t o = 0;
	size_t shown = 0;
	if (size < 8) {
		if (size > 0) {
			buf[0] = '\0';
		}
		return;
	}
	buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (shown == QUOTE_CHARS) {
			if (o + 5 <= size) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		char tmp[5];
		size_t len = 1;
		if (*p == '"' || *p == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)*p;
			len = 2;
		} else if (*p < 0x20 || *p >= 0x7f) {
			(void)snprintf(tmp, sizeof(tmp), "\\x%02x", *p);
			len = 4;
		} else {
			tmp[0] = (char)*p;
		}
		if (o + len + 2 > size) {
			break;
		}
		memcpy(buf + o, tmp, len);
		o += len;
		shown++;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

/** What a JSON value is, for "found ...". */
static void describe(const json_t *v, char *buf, size_t size)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		(void)cs_snprintf(buf, size,
				  json_object_size(v) == 0 ? "an empty object" : "an object");
		return;
	case JSON_ARRAY:
		(void)cs_snprintf(buf, size,
				  json_array_size(v) == 0 ? "an empty array" : "an array");
		return;
	case JSON_STRING:
		quote(json_string_value(v), buf, size);
		return;
	case JSON_INTEGER:
		(void)cs_snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL: {
		char num[48];
		(void)cs_snprintf(num, sizeof(num), "%g", json_real_value(v));
		bool looks_real = strpbrk(num, ".eEin") != NULL;
		(void)cs_snprintf(buf, size, "%s%s", num, looks_real ? "" : ".0");
		return;
	}
	case JSON_TRUE:
		(void)cs_snprintf(buf, size, "true");
		return;
	case JSON_FALSE:
		(void)cs_snprintf(buf, size, "false");
		return;
	case JSON_NULL:
		(void)cs_snprintf(buf, size, "null");
		return;
	}
	(void)cs_snprintf(buf, size, "something else");
}

static enum cs_errc expected(struct loader *ld, const char *where, const char *what,
			     const json_t *found)
{
	char f[FOUND_MAX];
	describe(found, f, sizeof(f));
	return fail(ld, where, "expected %s, found %s", what, f);
}

static enum cs_errc expected_str(struct loader *ld, const char *where, const char *what,
				 const char *found)
{
	char f[FOUND_MAX];
	quote(found, f, sizeof(f));
	return fail(ld, where, "expected %s, found %s", what, f);
}

static bool is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/** where + ".key", or where + "[\"key\"]" when the key is not a plain word. */
static void path_key(char *buf, size_t size, const char *where, const char *key)
{
	bool plain = key[0] != '\0';
	for (const char *p = key; *p != '\0'; p++) {
		if (!is_ident_char(*p)) {
			plain = false;
			break;
		}
	}
	bool top = where == NULL || where[0] == '\0';
	if (plain) {
		(void)cs_snprintf(buf, size, "%s%s%s", top ? "" : where, top ? "" : ".", key);
		return;
	}
	char q[FOUND_MAX];
	quote(key, q, sizeof(q));
	(void)cs_snprintf(buf, size, "%s[%s]", top ? "" : where, q);
}

static void path_index(char *buf, size_t size, const char *where, size_t i)
{
	(void)cs_snprintf(buf, size, "%s[%zu]", where, i);
}

/* ------------------------------------------------------------------------------------------
 * Small helpers: allocation, paths, strings
 */

/** Capacity rule for the growing arrays: 0, then 4, 8, 16, ... Every append goes through
 *  grow(), so the capacity follows from the count and no capacity field is needed. */
static size_t slots_for(size_t n)
{
	if (n == 0) {
		return 0;
	}
	size_t c = 4;
	while (c < n) {
		c *= 2;
	}
	return c;
}

/** Make room for element number n (0-based). */
static int grow(void **arr, size_t n, size_t elem)
{
	size_t have = slots_for(n);
	size_t want = slots_for(n + 1);
	if (want == have && *arr != NULL) {
		return 0;
	}
	void *p = cs_reallocarray(*arr, want, elem);
	if (p == NULL) {
		return -1;
	}
	*arr = p;
	return 0;
}

static void replace_str(char **slot, char *value)
{
	cs_free(*slot);
	*slot = value;
}

/** A path from the config, resolved against the config's directory. */
static char *resolve_path(const struct loader *ld, const char *rel)
{
	if (rel[0] == '/' || ld->dir == NULL) {
		return cs_strdup(rel);
	}
	size_t dlen = strlen(ld->dir);
	size_t rlen = strlen(rel);
	char *out = cs_malloc(dlen + 1 + rlen + 1);
	if (out == NULL) {
		return NULL;
	}
	memcpy(out, ld->dir, dlen);
	out[dlen] = '/';
	memcpy(out + dlen + 1, rel, rlen + 1);
	return out;
}

/** The directory part of a file name, or NULL (and CS_OK) when it has none. */
static enum cs_errc dir_of(const char *file, char **out)
{
	*out = NULL;
	const char *slash = strrchr(file, '/');
	if (slash == NULL) {
		return CS_OK;
	}
	size_t len = slash == file ? 1 : (size_t)(slash - file);
	char *dir = cs_malloc(len + 1);
	if (dir == NULL) {
		return CS_ENOMEM;
	}
	memcpy(dir, file, len);
	dir[len] = '\0';
	*out = dir;
	return CS_OK;
}

static bool has_control_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			return true;
		}
	}
	return false;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/** Case-insensitive substring test (strcasestr is a GNU extension). */
static bool contains_ci(const char *s, const char *part)
{
	size_t n = strlen(part);
	for (const char *p = s; *p != '\0'; p++) {
		if (strncasecmp(p, part, n) == 0) {
			return true;
		}
	}
	return n == 0;
}

/** Optimal string alignment distance (Levenshtein plus adjacent swaps), capped inputs. */
static size_t edit_distance(const char *a, const char *b)
{
	enum {
		MAXLEN = 64
	};
	size_t la = strlen(a);
	size_t lb = strlen(b);
	if (la > MAXLEN || lb > MAXLEN) {
		return SIZE_MAX;
	}
	size_t d[MAXLEN + 1][MAXLEN + 1];
	for (size_t i = 0; i <= la; i++) {
		d[i][0] = i;
	}
	for (size_t j = 0; j <= lb; j++) {
		d[0][j] = j;
	}
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
			size_t best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best) {
				best = d[i][j - 1] + 1;
			}
			if (d[i - 1][j - 1] + cost < best) {
				best = d[i - 1][j - 1] + cost;
			}
			if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < best) {
				best = d[i - 2][j - 2] + 1;
			}
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/** Does a key or parameter name look like it holds a secret ("api_key", "X-Auth-Token")? */
static bool is_secret_name(const char *name)
{
	static const char *const exact[] = {
		"apikey", "key",    "token",       "accesstoken", "authtoken",     "apitoken",
		"bearer", "passwd", "pass",        "pwd",         "secret",        "apisecret",
		"auth",   "cred",   "credentials", "credential",  "authorization",
	};
	static const char *const parts[] = { "password", "secret", "token", "apikey", "passwd" };
	char norm[64];
	size_t n = 0;
	for (const char *p = name; *p != '\0' && n + 1 < sizeof(norm); p++) {
		if (*p != '-' && *p != '_') {
			norm[n++] = lower(*p);
		}
	}
	norm[n] = '\0';
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(norm, exact[i]) == 0) {
			return true;
		}
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (strstr(norm, parts[i]) != NULL) {
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------------------------
 * Files
 */

/** Read a whole regular file (or standard input for "-") into a NUL-terminated buffer.
 *  Errors say "PATH: what". */
static enum cs_errc read_all(const char *path, size_t max, const char *limit_name, char **out,
			     size_t *out_len, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = -1;
	char *buf = NULL;
	size_t len = 0;
	size_t cap = 0;
	struct stat st;

	*out = NULL;
	*out_len = 0;
	/* O_NONBLOCK: a named FIFO without a writer must not hang the open */
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "%s: cannot open: %s", path, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		int e = errno;
		rc = cs_error_set(err, CS_EIO, "%s: cannot stat: %s", path, strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		goto out;
	}
	if (!is_stdin && !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
		rc = cs_error_set(err, CS_EIO, "%s: not a regular file or pipe", path);
		goto out;
	}
	/* a pipe (`-c <(lab env)`) is read to its end like standard input; only the open had
	 * to be non-blocking */
	if (!is_stdin && S_ISFIFO(st.st_mode)) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
			int e = errno;
			rc = cs_error_set(err, CS_EIO, "%s: cannot read: %s", path, strerror(e));
			goto out;
		}
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 && (uintmax_t)st.st_size > max) {
		rc = cs_error_set(err, CS_ECONFIG, "%s: larger than %zu bytes (%s)", path, max,
				  limit_name);
		goto out;
	}
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = cs_malloc(cap + 1);
	if (buf == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				rc = cs_error_set(err, CS_ECONFIG, "%s: larger than %zu bytes (%s)",
						  path, max, limit_name);
				goto out;
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nbuf = cs_reallocarray(buf, ncap + 1, 1);
			if (nbuf == NULL) {
				rc = cs_error_set(err, CS_ENOMEM, "out of memory");
				goto out;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			int e = errno;
			if (e == EINTR) {
				continue;
			}
			rc = cs_error_set(err, CS_EIO, "%s: cannot read: %s", path, strerror(e));
			if (err != NULL) {
				err->sys_errno = e;
			}
			goto out;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	if (len > max) {
		rc = cs_error_set(err, CS_ECONFIG, "%s: larger than %zu bytes (%s)", path, max,
				  limit_name);
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL; /* moved to caller */
out:
	if (fd >= 0 && !is_stdin) {
		(void)close(fd);
	}
	cs_free(buf);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Config object
 */

static void purge_free(struct cs_purge_cfg *p)
{
	cs_free(p->url);
	cs_free(p->method);
	cs_free(p->api_key_env);
	cs_free(p->secret_file);
	cs_free(p->socket);
	for (size_t i = 0; i < p->n_headers; i++) {
		cs_free(p->headers[i].name);
		cs_free(p->headers[i].value);
	}
	cs_free(p->headers);
	cs_free(p->expect_status);
	for (size_t i = 0; i < p->n_commands; i++) {
		for (char **a = p->commands[i]; a != NULL && *a != NULL; a++) {
			cs_free(*a);
		}
		cs_free(p->commands[i]);
	}
	cs_free(p->commands);
	memset(p, 0, sizeof(*p));
}

static void resolver_free(struct cs_resolver *r)
{
	cs_free(r->id);
	cs_free(r->address);
	cs_free(r->operator_name);
	cs_free(r->contact);
	cs_free(r->software);
	cs_free(r->tls_auth_name);
	cs_free(r->tls_ca_file);
	cs_free(r->url);
	purge_free(&r->purge);
}

void cs_config_clear_names(struct cs_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->n_names; i++) {
		cs_free(cfg->names[i].name);
	}
	cs_free(cfg->names);
	cfg->names = NULL;
	cfg->n_names = 0;
}

void cs_config_clear_resolvers(struct cs_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		resolver_free(&cfg->resolvers[i]);
	}
	cs_free(cfg->resolvers);
	cfg->resolvers = NULL;
	cfg->n_resolvers = 0;
}

void cs_config_free(struct cs_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	cs_config_clear_names(cfg);
	cs_config_clear_resolvers(cfg);
	for (size_t i = 0; i < cfg->truth.n_authorities; i++) {
		cs_free(cfg->truth.authorities[i]);
	}
	cs_free(cfg->truth.authorities);
	cs_free(cfg->truth.root_hints);
	cs_free(cfg->truth.trust_anchor_file);
	cs_free(cfg->bad_serials);
	for (size_t i = 0; cfg->incident_patterns != NULL && i < cfg->n_incident_patterns; i++) {
		cs_free(cfg->incident_patterns[i]);
	}
	cs_free(cfg->incident_patterns);
	cs_free(cfg->audit_log);
	cs_free(cfg->zone);
	cs_free(cfg->path);
	cs_free(cfg);
}

static struct cs_config *config_new(const char *path)
{
	struct cs_config *cfg = cs_calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		return NULL;
	}
	cfg->path = cs_strdup(path);
	if (cfg->path == NULL) {
		cs_free(cfg);
		return NULL;
	}
	cfg->truth.mode = CS_TRUTH_RECURSION;
	cfg->limits.timeout_ms = 2000;
	cfg->limits.retries = 2;
	cfg->limits.concurrency = 256;
	cfg->limits.qps_per_resolver = 10;
	cfg->limits.qps_total = 5000;
	return cfg;
}

/** A new zeroed resolver at the end, with its defaults; NULL when out of memory. */
static struct cs_resolver *append_resolver(struct cs_config *cfg)
{
	void *arr = cfg->resolvers;
	if (grow(&arr, cfg->n_resolvers, sizeof(*cfg->resolvers)) != 0) {
		return NULL;
	}
	cfg->resolvers = arr;
	struct cs_resolver *r = &cfg->resolvers[cfg->n_resolvers];
	memset(r, 0, sizeof(*r));
	r->port = DEFAULT_PORT;
	r->transport = CS_TRANSPORT_UDP;
	cfg->n_resolvers++;
	return r;
}

static struct cs_name_spec *append_name(struct cs_config *cfg)
{
	void *arr = cfg->names;
	if (grow(&arr, cfg->n_names, sizeof(*cfg->names)) != 0) {
		return NULL;
	}
	cfg->names = arr;
	struct cs_name_spec *n = &cfg->names[cfg->n_names];
	n->name = NULL;
	n->type = CS_TYPE_A;
	cfg->n_names++;
	return n;
}

/* ------------------------------------------------------------------------------------------
 * Value checks shared by the file, the list files and the command line
 */

/** Why a domain name failed cs_name_normalize(), for the message. */
static const char *name_problem(const char *s)
{
	size_t len = strlen(s);
	if (len == 0) {
		return "the name is empty";
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (!is_ident_char(*p) && *p != '.') {
			return "only letters, digits, \"-\", \"_\" and \".\" are allowed";
		}
	}
	if (len > 1 && s[len - 1] == '.') {
		len--;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0) {
				return "empty label";
			}
			label = 0;
			continue;
		}
		label++;
		if (label > 63) {
			return "a label is longer than 63 characters";
		}
	}
	if (label == 0) {
		return "empty label";
	}
	return "longer than 253 characters";
}

/** Normalise a domain name into a new string. */
static enum cs_errc take_domain(struct loader *ld, const char *where, const char *s, char **out)
{
	char buf[CS_NAME_STR_MAX];
	if (cs_name_normalize(s, buf, sizeof(buf)) != 0) {
		char q[FOUND_MAX];
		quote(s, q, sizeof(q));
		return fail(ld, where, "expected a domain name, found %s (%s)", q, name_problem(s));
	}
	char *dup = cs_strdup(buf);
	if (dup == NULL) {
		return oom(ld);
	}
	replace_str(out, dup);
	return CS_OK;
}

static enum cs_errc take_type(struct loader *ld, const char *where, const char *s, uint16_t *out)
{
	if (cs_type_parse(s, out) != 0) {
		return expected_str(ld, where,
				    "an RR type such as \"A\", \"AAAA\", \"NS\" or \"TYPE65\"", s);
	}
	return CS_OK;
}

/** "addr" or "addr#port" with specific messages; addr gets the address part. */
static enum cs_errc take_addr_spec(struct loader *ld, const char *where, const char *spec,
				   char *addr, size_t size, uint16_t *port)
{
	const char *hash = strchr(spec, '#');
	size_t alen = hash != NULL ? (size_t)(hash - spec) : strlen(spec);
	if (alen == 0 || alen >= size) {
		return expected_str(ld, where, "\"address\" or \"address#port\"", spec);
	}
	memcpy(addr, spec, alen);
	addr[alen] = '\0';
	if (cs_addr_check(addr) != 0) {
		char q[FOUND_MAX];
		quote(spec, q, sizeof(q));
		bool colon_port = strchr(spec, ']') != NULL ||
				  (strchr(spec, '.') != NULL && strchr(spec, ':') != NULL);
		return fail(ld, where,
			    "expected \"address\" or \"address#port\" with a numeric IPv4 or IPv6 "
			    "address, found %s%s",
			    q, colon_port ? " (write a port as address#port)" : "");
	}
	uint32_t p = DEFAULT_PORT;
	if (hash != NULL && cs_parse_u32(hash + 1, 1, 65535, &p) != 0) {
		return expected_str(ld, where, "a port 1..65535 after \"#\"", hash + 1);
	}
	*port = (uint16_t)p;
	return CS_OK;
}

/** Only {zone}, {name}, {type} and {secret}. */
static enum cs_errc check_subst(struct loader *ld, const char *where, const char *s)
{
	static const char *const allowed[] = { "zone", "name", "type", "secret" };
	for (const char *p = strchr(s, '{'); p != NULL; p = strchr(p, '{')) {
		const char *close = strchr(p, '}');
		if (close == NULL) {
			return fail(ld, where, "unmatched \"{\"; %s", SUBST_HELP);
		}
		size_t len = (size_t)(close - p - 1);
		bool ok = false;
		for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
			if (strlen(allowed[i]) == len && strncmp(p + 1, allowed[i], len) == 0) {
				ok = true;
			}
		}
		if (!ok) {
			char name[40];
			char q[FOUND_MAX];
			size_t n = len + 2 < sizeof(name) ? len + 2 : sizeof(name) - 1;
			memcpy(name, p, n);
			name[n] = '\0';
			quote(name, q, sizeof(q));
			return fail(ld, where, "unknown substitution %s; %s", q, SUBST_HELP);
		}
		p = close + 1;
	}
	return CS_OK;
}

/* ------------------------------------------------------------------------------------------
 * Schema tables
 */

enum ftype {
	FT_STRING, /* non-empty, no control characters */
	FT_INT,    /* integer in [min, max] */
	FT_ARRAY,
	FT_OBJECT,
};

enum fstore {
	ST_NONE, /* apply (or nothing) */
	ST_STR,  /* char * at off */
	ST_PATH, /* char * at off, resolved against the config's directory */
	ST_U16,  /* uint16_t at off */
	ST_U32,  /* uint32_t at off */
};

#define F_REQUIRED 1u

struct choice {
	const char *name;
	int value;
};

/** A value that passed its row's checks. */
struct fval {
	json_t *json;
	const char *s; /* FT_STRING */
	uint32_t u;    /* FT_INT */
	int choice;    /* FT_STRING with choices */
};

struct loader;
struct field;

typedef enum cs_errc (*check_fn)(struct loader *ld, const struct field *f, const char *where,
				 const char *s);
typedef enum cs_errc (*apply_fn)(struct loader *ld, const struct field *f, const char *where,
				 const struct fval *val, void *target);

struct field {
	const char *key;
	enum ftype type;
	unsigned flags;
	const char *expect;           /* "a numeric IPv4 or IPv6 address"; FT_INT builds its own */
	uint32_t min, max;            /* FT_INT */
	const struct choice *choices; /* FT_STRING: one of these (NULL-terminated) */
	enum fstore store;
	size_t off;
	check_fn check;          /* FT_STRING: more checks before storing */
	apply_fn apply;          /* instead of store */
	const struct field *sub; /* FT_OBJECT: walk these into target + off */
};

static enum cs_errc walk(struct loader *ld, const char *where, json_t *obj,
			 const struct field *fields, void *target);

static const struct field *find_field(const struct field *fields, const char *key)
{
	for (const struct field *f = fields; f->key != NULL; f++) {
		if (strcmp(f->key, key) == 0) {
			return f;
		}
	}
	return NULL;
}

static enum cs_errc unknown_key(struct loader *ld, const char *where, const char *key,
				const struct field *fields)
{
	char child[WHERE_MAX];
	char q[FOUND_MAX];
	path_key(child, sizeof(child), where, key);
	if (is_secret_name(key)) {
		return fail(ld, child, "secrets must not be inline; %s", SECRET_SOURCE);
	}
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t klen = strlen(key);
	for (const struct field *f = fields; f->key != NULL; f++) {
		size_t d = edit_distance(key, f->key);
		/* a key without its unit or suffix: "timeout" for "timeout_ms" */
		if (klen >= 4 && strncmp(f->key, key, klen) == 0 && f->key[klen] == '_') {
			d = 1;
		}
		if (d < best_d) {
			best_d = d;
			best = f->key;
		}
	}
	quote(key, q, sizeof(q));
	if (best != NULL && best_d <= SUGGEST_MAX) {
		return fail(ld, where, "unknown key %s (did you mean \"%s\"?)", q, best);
	}
	return fail(ld, where, "unknown key %s", q);
}

static enum cs_errc check_keys(struct loader *ld, const char *where, json_t *obj,
			       const struct field *fields)
{
	const char *key = NULL;
	json_t *v = NULL;
	json_object_foreach(obj, key, v)
	{
		if (find_field(fields, key) == NULL) {
			return unknown_key(ld, where, key, fields);
		}
	}
	return CS_OK;
}

static enum cs_errc store(struct loader *ld, const struct field *f, const struct fval *val,
			  void *target)
{
	void *slot = (char *)target + f->off;
	char **sp = slot;
	uint16_t *u16 = slot;
	uint32_t *u32 = slot;
	char *dup = NULL;

	switch (f->store) {
	case ST_NONE:
		return CS_OK;
	case ST_STR:
		dup = cs_strdup(val->s);
		if (dup == NULL) {
			return oom(ld);
		}
		replace_str(sp, dup);
		return CS_OK;
	case ST_PATH:
		dup = resolve_path(ld, val->s);
		if (dup == NULL) {
			return oom(ld);
		}
		replace_str(sp, dup);
		return CS_OK;
	case ST_U16:
		*u16 = (uint16_t)val->u;
		return CS_OK;
	case ST_U32:
		*u32 = val->u;
		return CS_OK;
	}
	return CS_OK;
}

static enum cs_errc take_field(struct loader *ld, const struct field *f, const char *where,
			       json_t *v, void *target)
{
	enum cs_errc rc = CS_OK;
	struct fval val = { .json = v, .s = NULL, .u = 0, .choice = 0 };
	char what[64];

	switch (f->type) {
	case FT_STRING:
		if (!json_is_string(v)) {
			return expected(ld, where, f->expect, v);
		}
		val.s = json_string_value(v);
		if (val.s[0] == '\0' || has_control_chars(val.s)) {
			return expected(ld, where, f->expect, v);
		}
		if (f->choices != NULL) {
			const struct choice *c = f->choices;
			while (c->name != NULL && strcmp(c->name, val.s) != 0) {
				c++;
			}
			if (c->name == NULL) {
				return expected(ld, where, f->expect, v);
			}
			val.choice = c->value;
		}
		if (f->check != NULL) {
			rc = f->check(ld, f, where, val.s);
		}
		break;
	case FT_INT:
		(void)cs_snprintf(what, sizeof(what), "an integer %" PRIu32 "..%" PRIu32, f->min,
				  f->max);
		if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)f->min ||
		    json_integer_value(v) > (json_int_t)f->max) {
			return expected(ld, where, f->expect != NULL ? f->expect : what, v);
		}
		val.u = (uint32_t)json_integer_value(v);
		break;
	case FT_ARRAY:
		if (!json_is_array(v)) {
			return expected(ld, where, f->expect, v);
		}
		break;
	case FT_OBJECT:
		if (!json_is_object(v)) {
			return expected(ld, where, f->expect, v);
		}
		if (f->sub != NULL) {
			rc = walk(ld, where, v, f->sub, (char *)target + f->off);
		}
		break;
	}
	if (rc != CS_OK) {
		return rc;
	}
	if (f->apply != NULL) {
		return f->apply(ld, f, where, &val, target);
	}
	return store(ld, f, &val, target);
}

/** Check an object against a schema and take every row, in table order. */
static enum cs_errc walk(struct loader *ld, const char *where, json_t *obj,
			 const struct field *fields, void *target)
{
	enum cs_errc rc = check_keys(ld, where, obj, fields);
	if (rc != CS_OK) {
		return rc;
	}
	for (const struct field *f = fields; f->key != NULL; f++) {
		json_t *v = json_object_get(obj, f->key);
		if (v == NULL) {
			if ((f->flags & F_REQUIRED) != 0) {
				return fail(ld, where, "missing required key \"%s\" (%s)", f->key,
					    f->expect);
			}
			continue;
		}
		char child[WHERE_MAX];
		path_key(child, sizeof(child), where, f->key);
		rc = take_field(ld, f, child, v, target);
		if (rc != CS_OK) {
			return rc;
		}
	}
	return CS_OK;
}

/* --- checks used by the tables --- */

static enum cs_errc check_id(struct loader *ld, const struct field *f, const char *where,
			     const char *s)
{
	size_t len = strlen(s);
	bool ok = len <= ID_MAX;
	for (const char *p = s; ok && *p != '\0'; p++) {
		ok = *p > 0x20 && *p < 0x7f;
	}
	if (!ok) {
		return expected_str(ld, where, f->expect, s);
	}
	return CS_OK;
}

static enum cs_errc check_address(struct loader *ld, const struct field *f, const char *where,
				  const char *s)
{
	if (cs_addr_check(s) == 0) {
		return CS_OK;
	}
	char q[FOUND_MAX];
	quote(s, q, sizeof(q));
	return fail(ld, where, "expected %s, found %s%s", f->expect, q,
		    strchr(s, '#') != NULL ? " (put the port in \"port\")" : "");
}

static enum cs_errc check_env_name(struct loader *ld, const struct field *f, const char *where,
				   const char *s)
{
	bool ok = strlen(s) <= ENV_NAME_MAX && !(s[0] >= '0' && s[0] <= '9');
	for (const char *p = s; ok && *p != '\0'; p++) {
		ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		     (*p >= '0' && *p <= '9') || *p == '_';
	}
	if (!ok) {
		/* never echo it: a secret pasted here by mistake must not reach a log */
		return fail(ld, where,
			    "expected %s, found something else (not shown: it may be the secret "
			    "itself)",
			    f->expect);
	}
	return CS_OK;
}

/** Secret-looking parameters in a URL's query must be "{secret}". */
static bool url_query_has_secret(const char *query)
{
	const char *p = query;
	while (*p != '\0' && *p != '#') {
		const char *end = p + strcspn(p, "&#");
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			char name[64];
			size_t n = (size_t)(eq - p);
			if (n < sizeof(name)) {
				memcpy(name, p, n);
				name[n] = '\0';
				size_t vlen = (size_t)(end - eq - 1);
				bool subst = vlen >= 8 && strncmp(eq + 1, "{secret}", 8) == 0;
				if (is_secret_name(name) && vlen > 0 && !subst) {
					return true;
				}
			}
		}
		p = *end == '&' ? end + 1 : end;
	}
	return false;
}

static enum cs_errc check_url(struct loader *ld, const struct field *f, const char *where,
			      const char *s)
{
	size_t skip = 0;
	if (strncasecmp(s, "https://", 8) == 0) {
		skip = 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		skip = 7;
	}
	const char *host = s + skip;
	size_t hlen = strcspn(host, "/?#");
	/* Credentials in the URL would be inline secrets: never echo the URL then. */
	if (memchr(host, '@', hlen) != NULL) {
		return fail(ld, where,
			    "secrets must not be inline (user:password@ in the url); use "
			    "{secret} in a header and %s",
			    SECRET_SOURCE);
	}
	const char *query = strchr(s, '?');
	if (query != NULL && url_query_has_secret(query + 1)) {
		return fail(ld, where,
			    "secrets must not be inline (a key or token in the query); write "
			    "{secret} in its place and %s",
			    SECRET_SOURCE);
	}
	if (skip == 0 || hlen == 0 || strchr(s, ' ') != NULL) {
		return expected_str(ld, where, f->expect, s);
	}
	return check_subst(ld, where, s);
}

/* --- enums --- */

static const struct choice transports[] = {
	{ "udp", CS_TRANSPORT_UDP },
	{ "tcp", CS_TRANSPORT_TCP },
	{ "tls", CS_TRANSPORT_TLS },
	{ "https", CS_TRANSPORT_HTTPS },
	{ NULL, 0 },
};

static const struct choice softwares[] = {
	{ "unbound", 1 },          { "bind", 1 },
	{ "powerdns", 1 },         { "knot-resolver", 1 },
	{ "knot-resolver-6", 1 },  { "dnsmasq", 1 },
	{ "systemd-resolved", 1 }, { "windows", 1 },
	{ "technitium", 1 },       { "adguard-home", 1 },
	{ "google", 1 },           { "cloudflare", 1 },
	{ "opendns", 1 },          { "quad9", 1 },
	{ "unknown", 0 },          { NULL, 0 },
};

static const struct choice purge_types[] = {
	{ "instructions", CS_PURGE_INSTRUCTIONS },
	{ "powerdns-api", CS_PURGE_POWERDNS_API },
	{ "http", CS_PURGE_HTTP },
	{ "exec", CS_PURGE_EXEC },
	{ "unbound-control", CS_PURGE_UNBOUND_CONTROL },
	{ NULL, 0 },
};

static const struct choice methods[] = {
	{ "GET", 0 }, { "POST", 0 }, { "PUT", 0 }, { "DELETE", 0 }, { NULL, 0 },
};

static const char *choice_name(const struct choice *choices, int value)
{
	for (const struct choice *c = choices; c->name != NULL; c++) {
		if (c->value == value) {
			return c->name;
		}
	}
	return "?";
}

static enum cs_errc apply_transport(struct loader *ld, const struct field *f, const char *where,
				    const struct fval *val, void *target)
{
	(void)ld;
	(void)f;
	(void)where;
	struct cs_resolver *r = target;
	r->transport = (enum cs_transport)val->choice;
	return CS_OK;
}

static enum cs_errc apply_software(struct loader *ld, const struct field *f, const char *where,
				   const struct fval *val, void *target)
{
	(void)f;
	(void)where;
	struct cs_resolver *r = target;
	char *dup = NULL;
	if (val->choice != 0) { /* "unknown" is stored as no hint */
		dup = cs_strdup(val->s);
		if (dup == NULL) {
			return oom(ld);
		}
	}
	replace_str(&r->software, dup);
	return CS_OK;
}

static enum cs_errc apply_purge_type(struct loader *ld, const struct field *f, const char *where,
				     const struct fval *val, void *target)
{
	(void)ld;
	(void)f;
	(void)where;
	struct cs_purge_cfg *p = target;
	p->type = (enum cs_purge_type)val->choice;
	return CS_OK;
}

/* --- purge --- */

static enum cs_errc apply_headers(struct loader *ld, const struct field *f, const char *where,
				  const struct fval *val, void *target)
{
	(void)f;
	struct cs_purge_cfg *p = target;
	const char *name = NULL;
	json_t *v = NULL;
	size_t n = json_object_size(val->json);

	if (n == 0) {
		return fail(ld, where,
			    "expected an object of header names to values, found an "
			    "empty object");
	}
	p->headers = cs_calloc(n, sizeof(*p->headers));
	if (p->headers == NULL) {
		return oom(ld);
	}
	json_object_foreach(val->json, name, v)
	{
		char child[WHERE_MAX];
		path_key(child, sizeof(child), where, name);
		/* RFC 9110 §5.6.2: a field name is a token */
		bool name_ok = name[0] != '\0';
		for (const char *c = name; name_ok && *c != '\0'; c++) {
			name_ok = is_ident_char(*c) || strchr("!#$%&'*+.^`|~", *c) != NULL;
		}
		if (!name_ok) {
			return expected_str(ld, where,
					    "header names made of letters, digits and "
					    "!#$%&'*+-.^_`|~",
					    name);
		}
		if (!json_is_string(v)) {
			return expected(ld, child, "a string", v);
		}
		const char *value = json_string_value(v);
		if (has_control_chars(value)) {
			return fail(ld, child,
				    "expected a header value without control characters "
				    "(no line breaks)");
		}
		enum cs_errc rc = check_subst(ld, child, value);
		if (rc != CS_OK) {
			return rc;
		}
		bool secret_header = is_secret_name(name) || strcasecmp(name, "cookie") == 0 ||
				     contains_ci(name, "auth") || contains_ci(name, "key");
		bool credential_value = strncasecmp(value, "bearer ", 7) == 0 ||
					strncasecmp(value, "basic ", 6) == 0 ||
					strncasecmp(value, "token ", 6) == 0;
		if ((secret_header || credential_value) && strstr(value, "{secret}") == NULL) {
			/* the value is never echoed */
			return fail(ld, child,
				    "looks like a literal credential; secrets must not be inline: "
				    "write {secret} in its place (e.g. \"Bearer {secret}\") and %s",
				    SECRET_SOURCE);
		}
		struct cs_header *h = &p->headers[p->n_headers];
		h->name = cs_strdup(name);
		h->value = cs_strdup(value);
		p->n_headers++; /* counted first, so a partial entry is freed */
		if (h->name == NULL || h->value == NULL) {
			return oom(ld);
		}
	}
	return CS_OK;
}

static enum cs_errc apply_expect_status(struct loader *ld, const struct field *f, const char *where,
					const struct fval *val, void *target)
{
	struct cs_purge_cfg *p = target;
	size_t n = json_array_size(val->json);
	size_t i = 0;
	json_t *v = NULL;

	if (n == 0) {
		return expected(ld, where, f->expect, val->json);
	}
	p->expect_status = cs_calloc(n, sizeof(*p->expect_status));
	if (p->expect_status == NULL) {
		return oom(ld);
	}
	json_array_foreach(val->json, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 100 ||
		    json_integer_value(v) > 599) {
			char child[WHERE_MAX];
			path_index(child, sizeof(child), where, i);
			return expected(ld, child, "an HTTP status 100..599", v);
		}
		p->expect_status[i] = (uint16_t)json_integer_value(v);
		p->n_expect_status = i + 1;
	}
	return CS_OK;
}

static enum cs_errc apply_commands(struct loader *ld, const struct field *f, const char *where,
				   const struct fval *val, void *target)
{
	struct cs_purge_cfg *p = target;
	size_t n = json_array_size(val->json);
	size_t i = 0;
	json_t *cmd = NULL;

	if (n == 0) {
		return expected(ld, where, f->expect, val->json);
	}
	p->commands = cs_calloc(n, sizeof(*p->commands));
	if (p->commands == NULL) {
		return oom(ld);
	}
	json_array_foreach(val->json, i, cmd)
	{
		char child[WHERE_MAX];
		path_index(child, sizeof(child), where, i);
		if (!json_is_array(cmd) || json_array_size(cmd) == 0) {
			return expected(ld, child,
					"a non-empty array of strings (program and arguments, run "
					"without a shell)",
					cmd);
		}
		size_t argc = json_array_size(cmd);
		char **argv = cs_calloc(argc + 1, sizeof(*argv));
		if (argv == NULL) {
			return oom(ld);
		}
		p->commands[i] = argv; /* NULL-terminated while it fills */
		p->n_commands = i + 1;
		size_t j = 0;
		json_t *arg = NULL;
		json_array_foreach(cmd, j, arg)
		{
			char argw[WHERE_MAX];
			path_index(argw, sizeof(argw), child, j);
			if (!json_is_string(arg) || has_control_chars(json_string_value(arg)) ||
			    (j == 0 && json_string_value(arg)[0] == '\0')) {
				return expected(ld, argw,
						j == 0 ? "a program name" : "a string argument",
						arg);
			}
			enum cs_errc rc = check_subst(ld, argw, json_string_value(arg));
			if (rc != CS_OK) {
				return rc;
			}
			/* the process list shows every argument to every user */
			if (strstr(json_string_value(arg), "{secret}") != NULL) {
				return fail(
					ld, argw,
					"{secret} in an argument would show in the process list; "
					"the command finds the secret in the environment variable "
					"CACHESWEEP_SECRET");
			}
			argv[j] = cs_strdup(json_string_value(arg));
			if (argv[j] == NULL) {
				return oom(ld);
			}
		}
	}
	return CS_OK;
}

enum {
	PK_TYPE,
	PK_URL,
	PK_METHOD,
	PK_HEADERS,
	PK_ENV,
	PK_FILE,
	PK_STATUS,
	PK_COMMANDS,
	PK_SOCKET,
	PK_COUNT,
};

#define PB(k) (1u << (k))

static const struct field purge_fields[] = {
	[PK_TYPE] = { "type", FT_STRING, F_REQUIRED,
		      "one of \"instructions\", \"powerdns-api\", \"http\", \"exec\", "
		      "\"unbound-control\"",
		      .choices = purge_types, .apply = apply_purge_type },
	[PK_URL] = { "url", FT_STRING, 0, "an http:// or https:// URL", .check = check_url,
		     .store = ST_STR, .off = offsetof(struct cs_purge_cfg, url) },
	[PK_METHOD] = { "method", FT_STRING, 0, "one of \"GET\", \"POST\", \"PUT\", \"DELETE\"",
			.choices = methods, .store = ST_STR,
			.off = offsetof(struct cs_purge_cfg, method) },
	[PK_HEADERS] = { "headers", FT_OBJECT, 0, "an object of header names to values",
			 .apply = apply_headers },
	[PK_ENV] = { "api_key_env", FT_STRING, 0,
		     "an environment variable name (A-Z, 0-9, _) of at most 128 characters",
		     .check = check_env_name, .store = ST_STR,
		     .off = offsetof(struct cs_purge_cfg, api_key_env) },
	[PK_FILE] = { "secret_file", FT_STRING, 0, "a file name", .store = ST_PATH,
		      .off = offsetof(struct cs_purge_cfg, secret_file) },
	[PK_STATUS] = { "expect_status", FT_ARRAY, 0, "a non-empty array of HTTP statuses 100..599",
			.apply = apply_expect_status },
	[PK_COMMANDS] = { "commands", FT_ARRAY, 0,
			  "a non-empty array of commands, each an array of strings",
			  .apply = apply_commands },
	[PK_SOCKET] = { "socket", FT_STRING, 0, "the path of Unbound's control socket",
			.store = ST_PATH, .off = offsetof(struct cs_purge_cfg, socket) },
	[PK_COUNT] = { .key = NULL },
};

/** Which keys each purge type takes, and which it needs. */
static const struct purge_rule {
	enum cs_purge_type type;
	unsigned allowed;
	unsigned required;
	bool needs_secret;
} purge_rules[] = {
	{ CS_PURGE_INSTRUCTIONS, PB(PK_TYPE), PB(PK_TYPE), false },
	{ CS_PURGE_POWERDNS_API, PB(PK_TYPE) | PB(PK_URL) | PB(PK_ENV) | PB(PK_FILE),
	  PB(PK_TYPE) | PB(PK_URL), true },
	{ CS_PURGE_HTTP,
	  PB(PK_TYPE) | PB(PK_URL) | PB(PK_METHOD) | PB(PK_HEADERS) | PB(PK_ENV) | PB(PK_FILE) |
		  PB(PK_STATUS),
	  PB(PK_TYPE) | PB(PK_URL), false },
	{ CS_PURGE_EXEC, PB(PK_TYPE) | PB(PK_COMMANDS) | PB(PK_ENV) | PB(PK_FILE),
	  PB(PK_TYPE) | PB(PK_COMMANDS), false },
	{ CS_PURGE_UNBOUND_CONTROL, PB(PK_TYPE) | PB(PK_SOCKET), PB(PK_TYPE) | PB(PK_SOCKET),
	  false },
};

static bool purge_uses_secret(const struct cs_purge_cfg *p)
{
	if (p->url != NULL && strstr(p->url, "{secret}") != NULL) {
		return true;
	}
	for (size_t i = 0; i < p->n_headers; i++) {
		if (strstr(p->headers[i].value, "{secret}") != NULL) {
			return true;
		}
	}
	for (size_t i = 0; i < p->n_commands; i++) {
		for (char **a = p->commands[i]; *a != NULL; a++) {
			if (strstr(*a, "{secret}") != NULL) {
				return true;
			}
		}
	}
	return false;
}

static enum cs_errc apply_purge(struct loader *ld, const struct field *f, const char *where,
				const struct fval *val, void *target)
{
	(void)f;
	struct cs_resolver *r = target;
	struct cs_purge_cfg *p = &r->purge;
	json_t *obj = val->json;
	enum cs_errc rc = CS_OK;
	char child[WHERE_MAX];

	r->has_purge = true;
	rc = check_keys(ld, where, obj, purge_fields);
	if (rc != CS_OK) {
		return rc;
	}
	/* the type first: it decides which other keys belong */
	json_t *type = json_object_get(obj, "type");
	if (type == NULL) {
		return fail(ld, where, "missing required key \"type\" (%s)",
			    purge_fields[PK_TYPE].expect);
	}
	path_key(child, sizeof(child), where, "type");
	rc = take_field(ld, &purge_fields[PK_TYPE], child, type, p);
	if (rc != CS_OK) {
		return rc;
	}
	const struct purge_rule *rule = &purge_rules[0];
	for (size_t i = 0; i < sizeof(purge_rules) / sizeof(purge_rules[0]); i++) {
		if (purge_rules[i].type == p->type) {
			rule = &purge_rules[i];
		}
	}
	const char *tname = choice_name(purge_types, (int)p->type);
	for (unsigned k = 0; k < PK_COUNT; k++) {
		bool present = json_object_get(obj, purge_fields[k].key) != NULL;
		if (present && (rule->allowed & PB(k)) == 0) {
			return fail(ld, where, "\"%s\" is not used by type \"%s\"",
				    purge_fields[k].key, tname);
		}
		if (!present && (rule->required & PB(k)) != 0) {
			return fail(ld, where, "type \"%s\" needs \"%s\" (%s)", tname,
				    purge_fields[k].key, purge_fields[k].expect);
		}
	}
	bool has_env = json_object_get(obj, "api_key_env") != NULL;
	bool has_file = json_object_get(obj, "secret_file") != NULL;
	if (has_env && has_file) {
		return fail(ld, where, "set \"api_key_env\" or \"secret_file\", not both");
	}
	if (rule->needs_secret && !has_env && !has_file) {
		return fail(ld, where, "type \"%s\" needs \"api_key_env\" or \"secret_file\"",
			    tname);
	}
	rc = walk(ld, where, obj, purge_fields, p);
	if (rc != CS_OK) {
		return rc;
	}
	if (purge_uses_secret(p) && !has_env && !has_file) {
		return fail(ld, where,
			    "{secret} is used but neither \"api_key_env\" nor \"secret_file\" is "
			    "set");
	}
	if (p->type == CS_PURGE_HTTP && p->method == NULL) {
		p->method = cs_strdup("POST");
		if (p->method == NULL) {
			return oom(ld);
		}
	}
	return CS_OK;
}

/* --- resolvers --- */

static enum cs_errc apply_url(struct loader *ld, const struct field *f, const char *where,
			      const struct fval *val, void *target)
{
	struct cs_resolver *r = target;
	const char *u = val->s;
	/* the rest is libcurl's to parse; here only what would surprise: another scheme, no host,
	 * spaces or control characters */
	bool ok = strncmp(u, "https://", 8) == 0 && u[8] != '\0' && u[8] != '/' && strlen(u) < 1024;
	for (const char *c = u; ok && *c != '\0'; c++) {
		ok = (unsigned char)*c > 0x20 && (unsigned char)*c < 0x7f;
	}
	if (!ok) {
		return expected_str(ld, where, f->expect, u);
	}
	char *dup = cs_strdup(u);
	if (dup == NULL) {
		return oom(ld);
	}
	replace_str(&r->url, dup);
	return CS_OK;
}

static enum cs_errc apply_tls_auth_name(struct loader *ld, const struct field *f, const char *where,
					const struct fval *val, void *target)
{
	(void)f;
	struct cs_resolver *r = target;
	char *name = NULL;
	enum cs_errc rc = take_domain(ld, where, val->s, &name);
	if (rc != CS_OK) {
		return rc;
	}
	if (name == NULL) {
		return oom(ld);
	}
	/* certificates name hosts without the root's dot */
	size_t n = strlen(name);
	if (n > 1 && name[n - 1] == '.') {
		name[n - 1] = '\0';
	}
	replace_str(&r->tls_auth_name, name);
	return CS_OK;
}

static const struct field resolver_fields[] = {
	{ "id", FT_STRING, F_REQUIRED, "an id of 1..128 printable characters without spaces",
	  .check = check_id, .store = ST_STR, .off = offsetof(struct cs_resolver, id) },
	{ "address", FT_STRING, F_REQUIRED, "a numeric IPv4 or IPv6 address",
	  .check = check_address, .store = ST_STR, .off = offsetof(struct cs_resolver, address) },
	{ "port", FT_INT, 0, NULL, .min = 1, .max = 65535, .store = ST_U16,
	  .off = offsetof(struct cs_resolver, port) },
	{ "transport", FT_STRING, 0, "\"udp\", \"tcp\", \"tls\" or \"https\"",
	  .choices = transports, .apply = apply_transport },
	{ "url", FT_STRING, 0, "an https:// URL", .apply = apply_url },
	{ "tls_auth_name", FT_STRING, 0, "a host name the resolver's certificate carries",
	  .apply = apply_tls_auth_name },
	{ "tls_ca_file", FT_STRING, 0, "a file name", .store = ST_PATH,
	  .off = offsetof(struct cs_resolver, tls_ca_file) },
	{ "operator", FT_STRING, 0, "a string", .store = ST_STR,
	  .off = offsetof(struct cs_resolver, operator_name) },
	{ "contact", FT_STRING, 0, "a string", .store = ST_STR,
	  .off = offsetof(struct cs_resolver, contact) },
	{ "software", FT_STRING, 0,
	  "one of \"unbound\", \"bind\", \"powerdns\", \"knot-resolver\", \"knot-resolver-6\", "
	  "\"dnsmasq\", \"systemd-resolved\", \"windows\", \"technitium\", \"adguard-home\", "
	  "\"google\", \"cloudflare\", \"opendns\", \"quad9\", \"unknown\"",
	  .choices = softwares, .apply = apply_software },
	{ "purge", FT_OBJECT, 0, "a purge object", .apply = apply_purge },
	{ .key = NULL },
};

static enum cs_errc apply_resolvers(struct loader *ld, const struct field *f, const char *where,
				    const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	size_t i = 0;
	json_t *item = NULL;

	if (json_array_size(val->json) > CS_MAX_RESOLVERS - cfg->n_resolvers) {
		return fail(ld, where, "more than %u resolvers (CS_MAX_RESOLVERS)",
			    (unsigned)CS_MAX_RESOLVERS);
	}
	json_array_foreach(val->json, i, item)
	{
		char child[WHERE_MAX];
		path_index(child, sizeof(child), where, i);
		if (!json_is_object(item)) {
			return expected(ld, child, "a resolver object", item);
		}
		struct cs_resolver *r = append_resolver(cfg);
		if (r == NULL) {
			return oom(ld);
		}
		enum cs_errc rc = walk(ld, child, item, resolver_fields, r);
		if (rc != CS_OK) {
			return rc;
		}
		/* RFC 7858 §3.1: DNS over TLS listens on 853 */
		if (r->transport == CS_TRANSPORT_TLS && json_object_get(item, "port") == NULL) {
			r->port = 853;
		}
		if (r->transport != CS_TRANSPORT_TLS && r->tls_auth_name != NULL) {
			return fail(ld, child, "\"tls_auth_name\" needs \"transport\": \"tls\"%s",
				    r->transport == CS_TRANSPORT_HTTPS
					    ? " (for https the URL's host is the name)"
					    : "");
		}
		if (r->transport != CS_TRANSPORT_TLS && r->transport != CS_TRANSPORT_HTTPS &&
		    r->tls_ca_file != NULL) {
			return fail(ld, child,
				    "\"tls_ca_file\" needs \"transport\": \"tls\" or \"https\"");
		}
		if ((r->transport == CS_TRANSPORT_HTTPS) != (r->url != NULL)) {
			return fail(ld, child,
				    r->url != NULL ? "\"url\" needs \"transport\": \"https\""
						   : "\"transport\": \"https\" needs a \"url\"");
		}
	}
	ld->n_json_resolvers = cfg->n_resolvers;
	return CS_OK;
}

/** A resolver from "addr" or "addr#port"; its id is the spec as written. */
static enum cs_errc add_spec_resolver(struct loader *ld, const char *where, const char *spec)
{
	char addr[ADDR_MAX];
	uint16_t port = DEFAULT_PORT;
	enum cs_errc rc = take_addr_spec(ld, where, spec, addr, sizeof(addr), &port);
	if (rc != CS_OK) {
		return rc;
	}
	if (ld->cfg->n_resolvers >= CS_MAX_RESOLVERS) {
		return fail(ld, where, "more than %u resolvers (CS_MAX_RESOLVERS)",
			    (unsigned)CS_MAX_RESOLVERS);
	}
	struct cs_resolver *r = append_resolver(ld->cfg);
	if (r == NULL) {
		return oom(ld);
	}
	r->port = port;
	r->id = cs_strdup(spec);
	r->address = cs_strdup(addr);
	if (r->id == NULL || r->address == NULL) {
		resolver_free(r); /* no half entry is left behind */
		ld->cfg->n_resolvers--;
		return oom(ld);
	}
	return CS_OK;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/** One line of a list file: blank, a comment, or "address[#port] [# comment]". */
static enum cs_errc list_line(struct loader *ld, const char *path, size_t lineno, char *line)
{
	char *p = line;
	while (is_blank(*p)) {
		p++;
	}
	if (*p == '\0' || *p == '#') {
		return CS_OK;
	}
	char *tok = p;
	while (*p != '\0' && !is_blank(*p)) {
		p++;
	}
	char *tok_end = p;
	while (is_blank(*p)) {
		p++;
	}
	if (*p != '\0' && *p != '#') {
		char q[FOUND_MAX];
		quote(p, q, sizeof(q));
		return fail_line(ld, path, lineno,
				 "unexpected text after the address: %s (one address a line; "
				 "\"#\" starts a comment)",
				 q);
	}
	*tok_end = '\0';

	char label[WHERE_MAX];
	(void)cs_snprintf(label, sizeof(label), "%s:%zu", path, lineno);
	const char *saved = ld->file;
	ld->file = label; /* messages read "PATH:LINE: expected ..." */
	enum cs_errc rc = add_spec_resolver(ld, NULL, tok);
	ld->file = saved;
	if (rc != CS_OK) {
		return rc;
	}
	void *arr = ld->lines;
	if (grow(&arr, ld->n_lines, sizeof(*ld->lines)) != 0) {
		return oom(ld);
	}
	ld->lines = arr;
	ld->lines[ld->n_lines++] = lineno > UINT32_MAX ? UINT32_MAX : (uint32_t)lineno;
	return CS_OK;
}

static enum cs_errc read_list(struct loader *ld, const char *where, const char *rel)
{
	enum cs_errc rc = CS_OK;
	char *path = NULL;
	char *buf = NULL;
	size_t len = 0;
	void *arr = NULL;
	const char *lpath = NULL;
	size_t lineno = 0;

	path = resolve_path(ld, rel);
	if (path == NULL) {
		rc = oom(ld);
		goto out;
	}
	rc = read_all(path, CS_MAX_LIST_BYTES, "CS_MAX_LIST_BYTES", &buf, &len, ld->err);
	if (rc != CS_OK) {
		if (rc != CS_ENOMEM) {
			(void)cs_error_prefix(ld->err, "%s: %s: ", ld->file, where);
		}
		goto out;
	}
	arr = ld->lists;
	if (grow(&arr, ld->n_lists, sizeof(*ld->lists)) != 0) {
		rc = oom(ld);
		goto out;
	}
	ld->lists = arr;
	ld->lists[ld->n_lists].path = path;
	ld->lists[ld->n_lists].first = ld->cfg->n_resolvers;
	ld->n_lists++;
	lpath = path;
	path = NULL; /* moved to ld->lists */

	for (size_t pos = 0; pos < len;) {
		char line[CS_MAX_LIST_LINE + 1];
		const char *start = buf + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - start) : len - pos;
		pos += llen + 1;
		lineno++;
		if (llen > CS_MAX_LIST_LINE) {
			rc = fail_line(ld, lpath, lineno,
				       "line longer than %u bytes (CS_MAX_LIST_LINE)",
				       (unsigned)CS_MAX_LIST_LINE);
			goto out;
		}
		if (memchr(start, '\0', llen) != NULL) {
			rc = fail_line(ld, lpath, lineno, "a NUL byte in the line");
			goto out;
		}
		memcpy(line, start, llen);
		line[llen] = '\0';
		rc = list_line(ld, lpath, lineno, line);
		if (rc != CS_OK) {
			goto out;
		}
	}
out:
	cs_free(buf);
	cs_free(path);
	return rc;
}

static enum cs_errc apply_resolver_files(struct loader *ld, const struct field *f,
					 const char *where, const struct fval *val, void *target)
{
	(void)f;
	(void)target;
	size_t i = 0;
	json_t *item = NULL;

	json_array_foreach(val->json, i, item)
	{
		char child[WHERE_MAX];
		path_index(child, sizeof(child), where, i);
		if (!json_is_string(item) || json_string_value(item)[0] == '\0' ||
		    has_control_chars(json_string_value(item))) {
			return expected(ld, child, "a file name", item);
		}
		enum cs_errc rc = read_list(ld, child, json_string_value(item));
		if (rc != CS_OK) {
			return rc;
		}
	}
	return CS_OK;
}

/* --- names, truth, serials --- */

static enum cs_errc apply_spec_name(struct loader *ld, const struct field *f, const char *where,
				    const struct fval *val, void *target)
{
	(void)f;
	struct cs_name_spec *n = target;
	return take_domain(ld, where, val->s, &n->name);
}

static enum cs_errc apply_spec_type(struct loader *ld, const struct field *f, const char *where,
				    const struct fval *val, void *target)
{
	(void)f;
	struct cs_name_spec *n = target;
	return take_type(ld, where, val->s, &n->type);
}

static const struct field name_fields[] = {
	{ "name", FT_STRING, F_REQUIRED, "a domain name", .apply = apply_spec_name },
	{ "type", FT_STRING, 0, "an RR type such as \"A\", \"AAAA\", \"NS\" or \"TYPE65\"",
	  .apply = apply_spec_type },
	{ .key = NULL },
};

static enum cs_errc apply_names(struct loader *ld, const struct field *f, const char *where,
				const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	size_t i = 0;
	json_t *item = NULL;

	if (json_array_size(val->json) > CS_MAX_NAMES - cfg->n_names) {
		return fail(ld, where, "more than %u names (CS_MAX_NAMES)", (unsigned)CS_MAX_NAMES);
	}
	json_array_foreach(val->json, i, item)
	{
		char child[WHERE_MAX];
		path_index(child, sizeof(child), where, i);
		if (!json_is_string(item) && !json_is_object(item)) {
			return expected(ld, child,
					"a domain name or {\"name\": ..., \"type\": ...}", item);
		}
		struct cs_name_spec *n = append_name(cfg);
		if (n == NULL) {
			return oom(ld);
		}
		enum cs_errc rc = CS_OK;
		if (json_is_string(item)) {
			rc = take_domain(ld, child, json_string_value(item), &n->name);
		} else {
			rc = walk(ld, child, item, name_fields, n);
		}
		if (rc != CS_OK) {
			return rc;
		}
	}
	return CS_OK;
}

static enum cs_errc apply_zone(struct loader *ld, const struct field *f, const char *where,
			       const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	return take_domain(ld, where, val->s, &cfg->zone);
}

static enum cs_errc apply_serials(struct loader *ld, const struct field *f, const char *where,
				  const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	size_t n = json_array_size(val->json);
	size_t i = 0;
	json_t *v = NULL;

	if (n > CS_MAX_BAD_SERIALS) {
		return fail(ld, where, "more than %u serials (CS_MAX_BAD_SERIALS)",
			    (unsigned)CS_MAX_BAD_SERIALS);
	}
	cs_free(cfg->bad_serials);
	cfg->n_bad_serials = 0;
	cfg->bad_serials = cs_calloc(n, sizeof(*cfg->bad_serials));
	if (cfg->bad_serials == NULL) {
		return oom(ld);
	}
	json_array_foreach(val->json, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)UINT32_MAX) {
			char child[WHERE_MAX];
			path_index(child, sizeof(child), where, i);
			return expected(ld, child, "an SOA serial 0..4294967295", v);
		}
		cfg->bad_serials[i] = (uint32_t)json_integer_value(v);
		cfg->n_bad_serials = i + 1;
	}
	return CS_OK;
}

static enum cs_errc apply_patterns(struct loader *ld, const struct field *f, const char *where,
				   const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	size_t n = json_array_size(val->json);
	size_t i = 0;
	json_t *v = NULL;

	if (n > CS_MAX_INCIDENT_PATTERNS) {
		return fail(ld, where, "more than %u patterns (CS_MAX_INCIDENT_PATTERNS)",
			    (unsigned)CS_MAX_INCIDENT_PATTERNS);
	}
	cfg->incident_patterns = cs_calloc(n + 1, sizeof(*cfg->incident_patterns));
	if (cfg->incident_patterns == NULL) {
		return oom(ld);
	}
	json_array_foreach(val->json, i, v)
	{
		char child[WHERE_MAX];
		path_index(child, sizeof(child), where, i);
		if (!json_is_string(v) || json_string_length(v) == 0) {
			return expected(ld, child, "a name suffix such as \"se.se.\"", v);
		}
		enum cs_errc rc =
			take_domain(ld, child, json_string_value(v), &cfg->incident_patterns[i]);
		if (rc != CS_OK) {
			return rc;
		}
		cfg->n_incident_patterns = i + 1; /* owned from here, even if rejected below */
		if (strcmp(cfg->incident_patterns[i], ".") == 0) {
			return fail(ld, child, "the root \".\" would match every name");
		}
	}
	return CS_OK;
}

const char *cs_transport_name(enum cs_transport t)
{
	for (const struct choice *c = transports; c->name != NULL; c++) {
		if (c->value == (int)t) {
			return c->name;
		}
	}
	return "udp";
}

size_t cs_config_incident_patterns(const struct cs_config *cfg, const char **out, size_t max,
				   char *buf, size_t buf_size)
{
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_incident_patterns && n < max; i++) {
		out[n++] = cfg->incident_patterns[i];
	}
	if (cfg->n_incident_patterns > 0 || n >= max || cfg->zone == NULL ||
	    strcmp(cfg->zone, ".") == 0) {
		return n;
	}
	if (cs_snprintf(buf, buf_size, "%s%s", cfg->zone, cfg->zone) >= 0 &&
	    strlen(buf) < CS_NAME_STR_MAX) {
		out[n++] = buf;
	}
	return n;
}

static enum cs_errc apply_authorities(struct loader *ld, const struct field *f, const char *where,
				      const struct fval *val, void *target)
{
	struct cs_truth_cfg *t = target;
	size_t n = json_array_size(val->json);
	size_t i = 0;
	json_t *v = NULL;

	if (n == 0) {
		return expected(ld, where, f->expect, val->json);
	}
	if (n > CS_MAX_AUTHORITIES) {
		return fail(ld, where, "more than %u authorities (CS_MAX_AUTHORITIES)",
			    (unsigned)CS_MAX_AUTHORITIES);
	}
	t->authorities = cs_calloc(n, sizeof(*t->authorities));
	if (t->authorities == NULL) {
		return oom(ld);
	}
	json_array_foreach(val->json, i, v)
	{
		char child[WHERE_MAX];
		char addr[ADDR_MAX];
		uint16_t port = DEFAULT_PORT;
		path_index(child, sizeof(child), where, i);
		if (!json_is_string(v)) {
			return expected(ld, child, "\"address\" or \"address#port\"", v);
		}
		enum cs_errc rc =
			take_addr_spec(ld, child, json_string_value(v), addr, sizeof(addr), &port);
		if (rc != CS_OK) {
			return rc;
		}
		t->authorities[i] = cs_strdup(json_string_value(v));
		if (t->authorities[i] == NULL) {
			return oom(ld);
		}
		t->n_authorities = i + 1;
	}
	return CS_OK;
}

static const struct field truth_fields[] = {
	{ "authorities", FT_ARRAY, 0, "a non-empty array of \"address\" or \"address#port\"",
	  .apply = apply_authorities },
	{ "root_hints", FT_STRING, 0, "a file name", .store = ST_PATH,
	  .off = offsetof(struct cs_truth_cfg, root_hints) },
	{ "trust_anchor_file", FT_STRING, 0, "a file name", .store = ST_PATH,
	  .off = offsetof(struct cs_truth_cfg, trust_anchor_file) },
	{ .key = NULL },
};

static enum cs_errc apply_truth(struct loader *ld, const struct field *f, const char *where,
				const struct fval *val, void *target)
{
	(void)f;
	struct cs_config *cfg = target;
	json_t *obj = val->json;
	enum cs_errc rc = check_keys(ld, where, obj, truth_fields);
	if (rc != CS_OK) {
		return rc;
	}
	bool auth = json_object_get(obj, "authorities") != NULL;
	bool hints = json_object_get(obj, "root_hints") != NULL;
	bool anchor = json_object_get(obj, "trust_anchor_file") != NULL;
	if (auth && (hints || anchor)) {
		return fail(ld, where,
			    "use either \"authorities\" or \"root_hints\" with "
			    "\"trust_anchor_file\", not both");
	}
	if (hints != anchor) {
		return fail(ld, where,
			    "\"%s\" needs \"%s\" (recursion from a private root needs both)",
			    hints ? "root_hints" : "trust_anchor_file",
			    hints ? "trust_anchor_file" : "root_hints");
	}
	if (!auth && !hints) {
		return fail(ld, where,
			    "expected \"authorities\", or \"root_hints\" with "
			    "\"trust_anchor_file\" (leave \"truth\" out to recurse from "
			    "the real root)");
	}
	rc = walk(ld, where, obj, truth_fields, &cfg->truth);
	if (rc != CS_OK) {
		return rc;
	}
	cfg->truth.mode = auth ? CS_TRUTH_AUTHORITIES : CS_TRUTH_PRIVATE_ROOT;
	return CS_OK;
}

static const struct field probe_fields[] = {
	{ "timeout_ms", FT_INT, 0, NULL, .min = 1, .max = CS_MAX_TIMEOUT_MS, .store = ST_U32,
	  .off = offsetof(struct cs_probe_limits, timeout_ms) },
	{ "retries", FT_INT, 0, NULL, .min = 0, .max = CS_MAX_RETRIES, .store = ST_U32,
	  .off = offsetof(struct cs_probe_limits, retries) },
	{ "concurrency", FT_INT, 0, NULL, .min = 1, .max = CS_MAX_CONCURRENCY, .store = ST_U32,
	  .off = offsetof(struct cs_probe_limits, concurrency) },
	{ "qps_per_resolver", FT_INT, 0, NULL, .min = 0, .max = UINT32_MAX, .store = ST_U32,
	  .off = offsetof(struct cs_probe_limits, qps_per_resolver) },
	{ "qps_total", FT_INT, 0, NULL, .min = 0, .max = UINT32_MAX, .store = ST_U32,
	  .off = offsetof(struct cs_probe_limits, qps_total) },
	{ .key = NULL },
};

/* Table order is processing order: resolver_files come after resolvers. */
static const struct field config_fields[] = {
	{ "zone", FT_STRING, F_REQUIRED, "a domain name such as \"se.\"", .apply = apply_zone },
	{ "names", FT_ARRAY, 0, "an array of names", .apply = apply_names },
	{ "truth", FT_OBJECT, 0, "an object", .apply = apply_truth },
	{ "known_bad_serials", FT_ARRAY, 0, "an array of SOA serials", .apply = apply_serials },
	{ "incident_patterns", FT_ARRAY, 0, "an array of name suffixes", .apply = apply_patterns },
	{ "resolvers", FT_ARRAY, 0, "an array of resolver objects", .apply = apply_resolvers },
	{ "resolver_files", FT_ARRAY, 0, "an array of file names", .apply = apply_resolver_files },
	{ "probe", FT_OBJECT, 0, "an object", .sub = probe_fields,
	  .off = offsetof(struct cs_config, limits) },
	{ "audit_log", FT_STRING, 0, "a file name", .store = ST_PATH,
	  .off = offsetof(struct cs_config, audit_log) },
	{ .key = NULL },
};

/* ------------------------------------------------------------------------------------------
 * Unique ids
 */

struct id_ref {
	const char *id;
	size_t index;
};

static int id_ref_cmp(const void *a, const void *b)
{
	const struct id_ref *x = a;
	const struct id_ref *y = b;
	int c = strcmp(x->id, y->id);
	if (c != 0) {
		return c;
	}
	return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/** Where resolver i came from: "resolvers[i]" in the file, or a list file's "PATH:LINE". */
static void origin_of(const struct loader *ld, size_t i, char *buf, size_t size, bool *in_list)
{
	*in_list = false;
	if (ld != NULL && i >= ld->n_json_resolvers && i - ld->n_json_resolvers < ld->n_lines) {
		const struct list_origin *o = NULL;
		for (size_t k = 0; k < ld->n_lists; k++) {
			if (ld->lists[k].first <= i) {
				o = &ld->lists[k];
			}
		}
		if (o != NULL) {
			*in_list = true;
			(void)cs_snprintf(buf, size, "%s:%" PRIu32, o->path,
					  ld->lines[i - ld->n_json_resolvers]);
			return;
		}
	}
	(void)cs_snprintf(buf, size, "resolvers[%zu]", i);
}

/** Every resolver id once. ld (may be NULL) tells where each came from. */
static enum cs_errc check_unique_ids(const struct cs_config *cfg, const struct loader *ld,
				     struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	struct id_ref *refs = NULL;
	size_t n = cfg->n_resolvers;

	if (n < 2) {
		return CS_OK;
	}
	refs = cs_calloc(n, sizeof(*refs));
	if (refs == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		refs[i].id = cfg->resolvers[i].id != NULL ? cfg->resolvers[i].id : "";
		refs[i].index = i;
	}
	qsort(refs, n, sizeof(*refs), id_ref_cmp);
	/* of all clashes, report the one whose second use comes first */
	size_t first = SIZE_MAX;
	size_t second = SIZE_MAX;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(refs[i - 1].id, refs[i].id) == 0 && refs[i].index < second) {
			first = refs[i - 1].index;
			second = refs[i].index;
			/* the earliest use of this id is the one to name */
			for (size_t k = i - 1; k > 0 && strcmp(refs[k - 1].id, refs[i].id) == 0;
			     k--) {
				first = refs[k - 1].index;
			}
		}
	}
	if (second != SIZE_MAX) {
		char where[WHERE_MAX];
		char also[WHERE_MAX];
		char q[FOUND_MAX];
		bool in_list = false;
		bool also_list = false;
		origin_of(ld, second, where, sizeof(where), &in_list);
		origin_of(ld, first, also, sizeof(also), &also_list);
		quote(cfg->resolvers[second].id, q, sizeof(q));
		if (in_list) {
			rc = cs_error_set(err, CS_ECONFIG,
					  "%s: duplicate resolver id %s (also %s%s%s)", where, q,
					  also_list ? "" : cfg->path, also_list ? "" : ": ", also);
		} else {
			rc = cs_error_set(err, CS_ECONFIG,
					  "%s: %s.id: duplicate resolver id %s (also %s)",
					  cfg->path, where, q, also);
		}
	}
	cs_free(refs);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Loading
 */

static void loader_clean(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_lists; i++) {
		cs_free(ld->lists[i].path);
	}
	cs_free(ld->lists);
	cs_free(ld->lines);
	cs_free(ld->dir);
}

static enum cs_errc load_buffer(const char *text, size_t len, const char *name,
				struct cs_config **out, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	json_error_t jerr;
	json_t *root = NULL;
	struct cs_config *cfg = NULL;
	struct loader ld = { .file = name, .err = err };

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		rc = cs_error_set(err, CS_ECONFIG, "%s:%d:%d: %s", name, jerr.line, jerr.column,
				  jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = expected(&ld, "top level", "an object", root);
		goto out;
	}
	cfg = config_new(name);
	if (cfg == NULL) {
		rc = oom(&ld);
		goto out;
	}
	ld.cfg = cfg;
	if (dir_of(name, &ld.dir) != CS_OK) {
		rc = oom(&ld);
		goto out;
	}
	rc = walk(&ld, NULL, root, config_fields, cfg);
	if (rc != CS_OK) {
		goto out;
	}
	rc = check_unique_ids(cfg, &ld, err);
	if (rc != CS_OK) {
		goto out;
	}
	*out = cfg;
	cfg = NULL; /* moved to caller */
out:
	loader_clean(&ld);
	cs_config_free(cfg);
	json_decref(root);
	return rc;
}

enum cs_errc cs_config_load(const char *path, struct cs_config **out, struct cs_error *err)
{
	char *text = NULL;
	size_t len = 0;

	if (out == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_load: no output");
	}
	*out = NULL;
	if (path == NULL || path[0] == '\0') {
		return cs_error_set(err, CS_EINVAL, "config: no file name");
	}
	enum cs_errc rc =
		read_all(path, CS_MAX_CONFIG_BYTES, "CS_MAX_CONFIG_BYTES", &text, &len, err);
	if (rc != CS_OK) {
		return rc;
	}
	rc = load_buffer(text, len, path, out, err);
	cs_free(text);
	return rc;
}

enum cs_errc cs_config_load_string(const char *text, const char *name, struct cs_config **out,
				   struct cs_error *err)
{
	if (out == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_load_string: no output");
	}
	*out = NULL;
	if (text == NULL) {
		return cs_error_set(err, CS_EINVAL, "config: no text");
	}
	if (strlen(text) > CS_MAX_CONFIG_BYTES) {
		return cs_error_set(
			err, CS_ECONFIG, "%s: larger than %u bytes (CS_MAX_CONFIG_BYTES)",
			name != NULL ? name : "(string)", (unsigned)CS_MAX_CONFIG_BYTES);
	}
	return load_buffer(text, strlen(text), name != NULL ? name : "(string)", out, err);
}

/* ------------------------------------------------------------------------------------------
 * The embedded default
 */

static const struct {
	const char *name;
	uint16_t type;
} default_names[] = {
	{ "iis.se.", CS_TYPE_A },          { "internetstiftelsen.se.", CS_TYPE_A },
	{ "riksdagen.se.", CS_TYPE_A },    { "regeringen.se.", CS_TYPE_A },
	{ "svt.se.", CS_TYPE_A },          { "kth.se.", CS_TYPE_A },
	{ "polisen.se.", CS_TYPE_A },      { "sverigesradio.se.", CS_TYPE_A },
	{ "skatteverket.se.", CS_TYPE_A }, { "iis.se.", CS_TYPE_NS },
};

/* Public services; their flush pages are in the contact field (shared/notes/flush.md §15). */
static const struct {
	const char *id;
	const char *address;
	const char *operator_name;
	const char *contact;
} public_resolvers[] = {
	{ "google-1", "8.8.8.8", "Google Public DNS",
	  "https://developers.google.com/speed/public-dns/cache" },
	{ "google-2", "8.8.4.4", "Google Public DNS",
	  "https://developers.google.com/speed/public-dns/cache" },
	{ "cloudflare-1", "1.1.1.1", "Cloudflare 1.1.1.1", "https://one.one.one.one/purge-cache/" },
	{ "cloudflare-2", "1.0.0.1", "Cloudflare 1.1.1.1", "https://one.one.one.one/purge-cache/" },
	{ "quad9-1", "9.9.9.9", "Quad9", "https://quad9.net/" },
	{ "opendns-1", "208.67.222.222", "OpenDNS (Cisco Umbrella)",
	  "https://cachecheck.opendns.com/" },
};

static bool is_public_address(const char *addr)
{
	for (size_t i = 0; i < sizeof(public_resolvers) / sizeof(public_resolvers[0]); i++) {
		if (strcmp(public_resolvers[i].address, addr) == 0) {
			return true;
		}
	}
	return false;
}

/** The next blank-separated word of line[*pos..len), copied into word; false at the end. */
static bool next_word(const char *line, size_t len, size_t *pos, char *word, size_t size)
{
	size_t p = *pos;
	while (p < len && is_blank(line[p])) {
		p++;
	}
	size_t start = p;
	while (p < len && !is_blank(line[p])) {
		p++;
	}
	*pos = p;
	if (p == start) {
		return false;
	}
	size_t n = p - start;
	if (n >= size) {
		n = size - 1; /* too long to be anything we take; cut and let the check fail */
	}
	memcpy(word, line + start, n);
	word[n] = '\0';
	return true;
}

/** The numeric "nameserver" lines of resolv.conf, as system-1, system-2, ... A missing or
 *  unreadable file gives none; only running out of memory is an error. */
static enum cs_errc add_system_resolvers(struct cs_config *cfg, struct cs_error *err)
{
	const char *path = getenv(RESOLV_ENV);
	char *buf = NULL;
	size_t len = 0;
	struct cs_error local = { 0 };
	unsigned n_system = 0;

	if (path == NULL || path[0] == '\0') {
		path = RESOLV_CONF;
	}
	enum cs_errc rc =
		read_all(path, CS_MAX_CONFIG_BYTES, "CS_MAX_CONFIG_BYTES", &buf, &len, &local);
	if (rc == CS_ENOMEM) {
		return cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	if (rc != CS_OK) {
		return CS_OK;
	}
	for (size_t pos = 0; pos < len && rc == CS_OK;) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = nl != NULL ? (size_t)(nl - line) : len - pos;
		size_t p = 0;
		char key[16];
		char addr[ADDR_MAX];
		pos += llen + 1;
		if (!next_word(line, llen, &p, key, sizeof(key)) ||
		    strcmp(key, "nameserver") != 0 ||
		    !next_word(line, llen, &p, addr, sizeof(addr))) {
			continue;
		}
		/* "fe80::1%eth0" and names are skipped: we only probe numeric addresses */
		if (cs_addr_check(addr) != 0 || is_public_address(addr)) {
			continue;
		}
		char id[32];
		(void)cs_snprintf(id, sizeof(id), "system-%u", ++n_system);
		struct cs_resolver *r = append_resolver(cfg);
		if (r == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			break;
		}
		r->id = cs_strdup(id);
		r->address = cs_strdup(addr);
		if (r->id == NULL || r->address == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		}
	}
	cs_free(buf);
	return rc;
}

enum cs_errc cs_config_new_default(struct cs_config **out, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	struct cs_config *cfg = NULL;

	if (out == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_new_default: no output");
	}
	*out = NULL;
	cfg = config_new(DEFAULT_PATH);
	if (cfg == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		goto out;
	}
	cfg->zone = cs_strdup(DEFAULT_ZONE);
	if (cfg->zone == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sizeof(default_names) / sizeof(default_names[0]); i++) {
		struct cs_name_spec *n = append_name(cfg);
		if (n == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			goto out;
		}
		n->type = default_names[i].type;
		n->name = cs_strdup(default_names[i].name);
		if (n->name == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = add_system_resolvers(cfg, err);
	if (rc != CS_OK) {
		goto out;
	}
	for (size_t i = 0; i < sizeof(public_resolvers) / sizeof(public_resolvers[0]); i++) {
		struct cs_resolver *r = append_resolver(cfg);
		if (r == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			goto out;
		}
		r->id = cs_strdup(public_resolvers[i].id);
		r->address = cs_strdup(public_resolvers[i].address);
		r->operator_name = cs_strdup(public_resolvers[i].operator_name);
		r->contact = cs_strdup(public_resolvers[i].contact);
		if (r->id == NULL || r->address == NULL || r->operator_name == NULL ||
		    r->contact == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = cfg;
	cfg = NULL; /* moved to caller */
out:
	cs_config_free(cfg);
	return rc;
}

/* ------------------------------------------------------------------------------------------
 * Command-line additions
 */

/** "--flag VALUE" for messages, with the value made printable. */
static void cli_where(char *buf, size_t size, const char *flag, const char *value)
{
	char q[FOUND_MAX];
	quote(value, q, sizeof(q));
	/* drop the quotes: "--resolver 127.0.0.1#99999" reads like the command line */
	size_t qlen = strlen(q);
	if (qlen >= 2) {
		q[qlen - 1] = '\0';
	}
	(void)cs_snprintf(buf, size, "%s %s", flag, qlen >= 2 ? q + 1 : q);
}

enum cs_errc cs_config_set_zone(struct cs_config *cfg, const char *zone, struct cs_error *err)
{
	if (cfg == NULL || zone == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_set_zone: no config or zone");
	}
	struct loader ld = { .file = NULL, .cfg = cfg, .err = err };
	char where[WHERE_MAX];
	cli_where(where, sizeof(where), "--zone", zone);
	return take_domain(&ld, where, zone, &cfg->zone);
}

enum cs_errc cs_config_add_name(struct cs_config *cfg, const char *spec, struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	char name[CS_NAME_STR_MAX + 1];
	uint16_t type = CS_TYPE_A;
	char *norm = NULL;
	struct cs_name_spec *n = NULL;

	if (cfg == NULL || spec == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_add_name: no config or name");
	}
	struct loader ld = { .file = NULL, .cfg = cfg, .err = err };
	char where[WHERE_MAX];
	cli_where(where, sizeof(where), "--name", spec);
	const char *slash = strrchr(spec, '/');
	size_t nlen = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
	if (nlen >= sizeof(name)) {
		nlen = sizeof(name) - 1; /* too long anyway: normalising fails and says so */
	}
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	if (slash != NULL) {
		rc = take_type(&ld, where, slash + 1, &type);
		if (rc != CS_OK) {
			goto out;
		}
	}
	rc = take_domain(&ld, where, name, &norm);
	if (rc != CS_OK) {
		goto out;
	}
	if (cfg->n_names >= CS_MAX_NAMES) {
		rc = fail(&ld, where, "more than %u names (CS_MAX_NAMES)", (unsigned)CS_MAX_NAMES);
		goto out;
	}
	n = append_name(cfg);
	if (n == NULL) {
		rc = oom(&ld);
		goto out;
	}
	n->name = norm;
	n->type = type;
	norm = NULL; /* moved to cfg */
out:
	cs_free(norm);
	return rc;
}

enum cs_errc cs_config_add_resolver(struct cs_config *cfg, const char *spec, struct cs_error *err)
{
	if (cfg == NULL || spec == NULL) {
		return cs_error_set(err, CS_EINVAL,
				    "cs_config_add_resolver: no config or resolver");
	}
	struct loader ld = { .file = NULL, .cfg = cfg, .err = err };
	char where[WHERE_MAX];
	cli_where(where, sizeof(where), "--resolver", spec);
	for (size_t i = 0; i < cfg->n_resolvers; i++) {
		if (cfg->resolvers[i].id != NULL && strcmp(cfg->resolvers[i].id, spec) == 0) {
			return fail(&ld, where, "duplicate resolver id (also resolvers[%zu])", i);
		}
	}
	return add_spec_resolver(&ld, where, spec);
}

/* ------------------------------------------------------------------------------------------
 * The whole
 */

enum cs_errc cs_config_finish(struct cs_config *cfg, struct cs_error *err)
{
	if (cfg == NULL) {
		return cs_error_set(err, CS_EINVAL, "cs_config_finish: no config");
	}
	const char *path = cfg->path != NULL ? cfg->path : DEFAULT_PATH;
	if (cfg->zone == NULL) {
		return cs_error_set(err, CS_ECONFIG, "%s: no zone: set \"zone\" or use --zone",
				    path);
	}
	if (cfg->n_names == 0) {
		return cs_error_set(err, CS_ECONFIG,
				    "%s: no names to probe: add \"names\" or use --name", path);
	}
	if (cfg->n_resolvers == 0) {
		return cs_error_set(err, CS_ECONFIG,
				    "%s: no resolvers: add \"resolvers\", \"resolver_files\" or "
				    "use --resolver",
				    path);
	}
	if (cfg->n_names > CS_MAX_NAMES) {
		return cs_error_set(err, CS_ECONFIG, "%s: %zu names, more than %u (CS_MAX_NAMES)",
				    path, cfg->n_names, (unsigned)CS_MAX_NAMES);
	}
	if (cfg->n_resolvers > CS_MAX_RESOLVERS) {
		return cs_error_set(err, CS_ECONFIG,
				    "%s: %zu resolvers, more than %u (CS_MAX_RESOLVERS)", path,
				    cfg->n_resolvers, (unsigned)CS_MAX_RESOLVERS);
	}
	/* the same count as cs_report_probe_count(): every name, and the zone's SOA */
	size_t per_resolver = cfg->n_names + 1;
	if (cfg->n_resolvers > CS_MAX_PROBES / per_resolver) {
		return cs_error_set(
			err, CS_ECONFIG,
			"%s: %zu resolvers × %zu queries each (the names and the zone's "
			"SOA) is more than %u probes in one run (CS_MAX_PROBES): split "
			"the resolvers over several runs",
			path, cfg->n_resolvers, per_resolver, (unsigned)CS_MAX_PROBES);
	}
	for (size_t i = 0; i < cfg->n_names; i++) {
		if (!cs_name_in_zone(cfg->names[i].name, cfg->zone)) {
			return cs_error_set(err, CS_ECONFIG,
					    "%s: names[%zu]: \"%s\" is not inside zone \"%s\"",
					    path, i, cfg->names[i].name, cfg->zone);
		}
	}
	return check_unique_ids(cfg, NULL, err);
}
