/* SPDX-License-Identifier: BSD-3-Clause */
/* Templates ({zone}, {name}, {type}, {secret}), redaction, and reading secrets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/purge.h>

#define SECRET_MAX 4096

struct buf {
	char *p;
	size_t n;
	size_t cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t len)
{
	if (b->oom) {
		return;
	}
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 128 : b->cap;
		while (cap < b->n + len + 1) {
			cap *= 2;
		}
		char *p = cs_malloc(cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		if (b->p != NULL) {
			memcpy(p, b->p, b->n);
			cs_secret_wipe_free(b->p); /* the old buffer may hold the secret */
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

/* RFC 3986 §2.3: unreserved characters stay, everything else is %XX. */
static void put_url(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			put(b, (const char *)&c, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			put(b, e, 3);
		}
	}
}

bool cs_template_per_name(const char *tmpl)
{
	return strstr(tmpl, "{name}") != NULL || strstr(tmpl, "{type}") != NULL;
}

enum cs_errc cs_template_expand(const char *tmpl, const struct cs_subst *s, enum cs_tmpl_mode mode,
				char **out, struct cs_error *err)
{
	struct buf b = { 0 };
	const bool url = mode == CS_TMPL_URL || mode == CS_TMPL_URL_REDACT;
	const bool redact = mode == CS_TMPL_REDACT || mode == CS_TMPL_URL_REDACT;
	const char *p = tmpl;

	*out = NULL;
	put(&b, "", 0);
	while (*p != '\0') {
		const char *open = strchr(p, '{');
		if (open == NULL) {
			put(&b, p, strlen(p));
			break;
		}
		put(&b, p, (size_t)(open - p));
		const char *close = strchr(open, '}');
		size_t wlen = close != NULL ? (size_t)(close - open - 1) : 0;
		const char *val = NULL;
		bool is_secret = false;
		if (close != NULL && wlen == 4 && strncmp(open + 1, "zone", 4) == 0) {
			val = s->zone;
		} else if (close != NULL && wlen == 4 && strncmp(open + 1, "name", 4) == 0) {
			val = s->name;
		} else if (close != NULL && wlen == 4 && strncmp(open + 1, "type", 4) == 0) {
			val = s->type;
		} else if (close != NULL && wlen == 6 && strncmp(open + 1, "secret", 6) == 0) {
			val = s->secret;
			is_secret = true;
		} else {
			cs_secret_wipe_free(b.p);
			return cs_error_set(
				err, CS_EINVAL,
				"template: unknown placeholder at \"%.20s\"; only {zone}, "
				"{name}, {type} and {secret} are substituted",
				open);
		}
		if (is_secret && redact) {
			put(&b, CS_REDACTED, strlen(CS_REDACTED));
		} else if (val == NULL) {
			cs_secret_wipe_free(b.p);
			return cs_error_set(err, CS_EINVAL, "template: {%.*s} has no value here",
					    (int)wlen, open + 1);
		} else if (url) {
			put_url(&b, val);
		} else {
			put(&b, val, strlen(val));
		}
		p = close + 1;
	}
	if (b.oom) {
		cs_secret_wipe_free(b.p);
		return cs_error_set(err, CS_ENOMEM, "template: out of memory");
	}
	*out = b.p;
	return CS_OK;
}

void cs_redact(char *buf, size_t size, const char *secret)
{
	if (secret == NULL || secret[0] == '\0' || buf == NULL) {
		return;
	}
	const size_t sl = strlen(secret);
	const size_t rl = strlen(CS_REDACTED);
	char *hit = strstr(buf, secret);
	while (hit != NULL) {
		size_t len = strlen(buf);
		size_t tail = len - (size_t)(hit - buf) - sl;
		if (len - sl + rl + 1 > size) {
			/* no room for the marker: blank the secret out in place */
			memset(hit, '*', sl);
			hit = strstr(hit + sl, secret);
			continue;
		}
		memmove(hit + rl, hit + sl, tail + 1);
		/* the marker overwrites the secret in the middle of the string: no NUL wanted */
		memcpy(hit, CS_REDACTED, rl); // NOLINT(bugprone-not-null-terminated-result)
		hit = strstr(hit + rl, secret);
	}
}

void cs_secret_wipe_free(char *s)
{
	if (s == NULL) {
		return;
	}
	/* volatile: the compiler must not drop the stores as dead before the free */
	volatile char *v = s;
	while (*v != '\0') {
		*v++ = '\0';
	}
	cs_free(s);
}

enum cs_errc cs_secret_load(const struct cs_purge_cfg *p, char **out, struct cs_error *err)
{
	*out = NULL;
	if (p->api_key_env != NULL) {
		const char *v = getenv(p->api_key_env);
		if (v == NULL || v[0] == '\0') {
			return cs_error_set(err, CS_ECONFIG,
					    "the secret variable %s is not set in the environment",
					    p->api_key_env);
		}
		if (strlen(v) > SECRET_MAX || strpbrk(v, "\r\n") != NULL) {
			return cs_error_set(
				err, CS_ECONFIG,
				"the secret in %s is longer than %d bytes or holds a line "
				"break",
				p->api_key_env, SECRET_MAX);
		}
		*out = cs_strdup(v);
		return *out != NULL ? CS_OK : cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	if (p->secret_file == NULL) {
		return CS_OK;
	}
	FILE *fp = fopen(p->secret_file, "r");
	if (fp == NULL) {
		int e = errno;
		enum cs_errc rc = cs_error_set(err, CS_EIO, "secret_file %s: %s", p->secret_file,
					       strerror(e));
		if (err != NULL) {
			err->sys_errno = e;
		}
		return rc;
	}
	char *s = cs_calloc(1, SECRET_MAX + 2);
	if (s == NULL) {
		fclose(fp);
		return cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	size_t n = fread(s, 1, SECRET_MAX + 1, fp);
	bool read_err = ferror(fp) != 0;
	fclose(fp);
	s[n] = '\0';
	char *nl = strpbrk(s, "\r\n");
	if (nl != NULL) {
		*nl = '\0'; /* the first line is the secret */
	}
	if (read_err || n > SECRET_MAX || s[0] == '\0') {
		cs_secret_wipe_free(s);
		return cs_error_set(err, CS_ECONFIG,
				    "secret_file %s: expected one line of 1..%d bytes",
				    p->secret_file, SECRET_MAX);
	}
	*out = s;
	return CS_OK;
}
