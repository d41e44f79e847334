/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Executing a plan through the operator's endpoint: exec (argv, never a shell), http (generic
 * templates), powerdns-api (PUT .../cache/flush with X-API-Key, JSON count checked) and
 * unbound-control (Unbound's remote-control protocol on its unix socket, flush.md §1.2).
 *
 * Every step becomes an action (ok, failed or skipped) and two audit lines (planned, done).
 * A failing step never stops the others. The secret is read once per resolver, substituted
 * only into what is sent, and every text that leaves (target, error, audit) is built from the
 * redacted template and passed through cs_redact() as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/log.h>
#include <cachesweep/purge.h>

extern char **environ;

#define OUTPUT_MAX    4096
#define HTTP_BODY_MAX (64u * 1024u)
#define MAX_STEPS     64
#define SECRET_ENV    "CACHESWEEP_SECRET"

/* What one step is to do; real texts may hold the secret and are wiped after use. */
struct step {
	enum cs_purge_type type;
	char *shown;      /**< redacted target for the report and the audit log */
	char **argv;      /**< exec: real argv, NULL-terminated */
	char *url;        /**< http, powerdns-api: real URL */
	char *method;     /**< http, powerdns-api */
	char **headers;   /**< "Name: value", real, NULL-terminated */
	char *command;    /**< unbound-control: the command line after "UBCT1 " */
	bool check_count; /**< powerdns-api: the reply must be JSON with an integer "count" */
};

struct run {
	const struct cs_purge_opts *o;
	const struct cs_resolver_report *rr;
	const struct cs_purge_cfg *cfg;
	const char *secret;
	char *secret_url; /**< the secret percent-encoded, redacted too */
	char **envp;      /**< exec: environ plus CACHESWEEP_SECRET (never in argv), or NULL */
	struct cs_purge_block *pb;
	struct cs_error *err;
};

static void strv_free(char **v)
{
	if (v == NULL) {
		return;
	}
	for (char **p = v; *p != NULL; p++) {
		cs_secret_wipe_free(*p);
	}
	cs_free(v);
}

static void step_clean(struct step *s)
{
	cs_free(s->shown);
	strv_free(s->argv);
	cs_secret_wipe_free(s->url);
	cs_free(s->method);
	strv_free(s->headers);
	cs_free(s->command);
	memset(s, 0, sizeof(*s));
}

static void redact(struct run *r, char *buf, size_t size)
{
	cs_redact(buf, size, r->secret);
	cs_redact(buf, size, r->secret_url);
}

/* --- audit log: one JSON line per action, flushed before the action and after it --- */

static enum cs_errc audit(struct run *r, const char *phase, const struct cs_purge_action *a)
{
	FILE *fp = r->o->audit;
	if (fp == NULL) {
		return CS_OK;
	}
	char when[32];
	const struct cs_clock *clock = r->o->clock != NULL ? r->o->clock : cs_clock_system();
	cs_clock_format_utc(clock->wall_s(clock), when, sizeof(when));
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:s}", "time", when, "phase", phase,
			      "dry_run", !r->o->execute, "resolver", r->rr->id, "address",
			      r->rr->address, "endpoint", a->endpoint, "target", a->target);
	if (o == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "audit log: out of memory");
	}
	bool done = strcmp(phase, "done") == 0;
	int rc = 0;
	if (done) {
		rc |= json_object_set_new(o, "outcome",
					  json_string(cs_action_outcome_name(a->outcome)));
		rc |= json_object_set_new(o, "http_status",
					  a->http_status >= 0 ? json_integer(a->http_status)
							      : json_null());
		rc |= json_object_set_new(o, "exit_code",
					  a->exit_code >= 0 ? json_integer(a->exit_code)
							    : json_null());
		rc |= json_object_set_new(o, "error",
					  a->error[0] ? json_string(a->error) : json_null());
	}
	char *line = rc == 0 ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (line == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "audit log: out of memory");
	}
	/* a last guard: the line is built from redacted texts, and must stay so */
	cs_redact(line, strlen(line) + 1, r->secret);
	int w = fprintf(fp, "%s\n", line);
	free(line); /* jansson's allocator */
	if (w < 0 || fflush(fp) != 0) {
		int e = errno;
		return cs_error_set(r->err, CS_EIO, "audit log: cannot write: %s", strerror(e));
	}
	return CS_OK;
}

/* --- back-off --- */

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static uint64_t now_ms(void)
{
	const struct cs_clock *c = cs_clock_system();
	return c->mono_ms(c);
}

/* --- exec --- */

/** Run argv with stdout and stderr into a pipe, at most timeout_ms. Fills exit code or error.
 *  Returns true if it ran to an exit status. */
static bool run_argv(char *const argv[], char *const envp[], uint32_t timeout_ms, int *exit_code,
		     char *out, size_t out_size, char *error, size_t error_size)
{
	int fds[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	size_t used = 0;

	out[0] = '\0';
	*exit_code = -1;
	if (pipe(fds) != 0) {
		int e = errno;
		(void)cs_snprintf(error, error_size, "pipe: %s", strerror(e));
		return false;
	}
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	int se = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (se != 0) {
		close(fds[0]);
		(void)cs_snprintf(error, error_size, "cannot run %s: %s", argv[0], strerror(se));
		return false;
	}
	const uint64_t deadline = now_ms() + timeout_ms;
	bool timed_out = false;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			timed_out = pr == 0;
			break;
		}
		char chunk[512];
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n <= 0) {
			break; /* EOF: every writer closed */
		}
		size_t take = (size_t)n;
		if (used + take + 1 > out_size) {
			take = out_size - used - 1;
		}
		memcpy(out + used, chunk, take);
		used += take;
		out[used] = '\0';
	}
	close(fds[0]);
	if (timed_out) {
		(void)kill(pid, SIGKILL);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (timed_out) {
		(void)cs_snprintf(error, error_size, "%s: no exit within %u ms, killed", argv[0],
				  (unsigned)timeout_ms);
		return false;
	}
	if (WIFEXITED(status)) {
		*exit_code = WEXITSTATUS(status);
		return true;
	}
	(void)cs_snprintf(error, error_size, "%s: killed by signal %d", argv[0],
			  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return false;
}

/* The last non-empty line of a command's output, for the error text. */
static void last_line(const char *out, char *line, size_t size)
{
	size_t n = strlen(out);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
		n--;
	}
	size_t start = n;
	while (start > 0 && out[start - 1] != '\n') {
		start--;
	}
	size_t len = n - start;
	if (len >= size) {
		len = size - 1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[start + i];
		line[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	line[len] = '\0';
}

/** One attempt; *retry says whether another may help. */
static void attempt_exec(struct run *r, const struct step *s, struct cs_purge_action *a,
			 bool *retry)
{
	char out[OUTPUT_MAX];
	char error[CS_DETAIL_MAX] = "";
	int code = -1;
	bool exited = run_argv(s->argv, r->envp != NULL ? r->envp : environ, r->o->timeout_ms,
			       &code, out, sizeof(out), error, sizeof(error));
	redact(r, out, sizeof(out));
	a->exit_code = code;
	if (exited && code == 0) {
		a->outcome = CS_ACTION_OK;
		return;
	}
	a->outcome = CS_ACTION_FAILED;
	if (exited) {
		char line[CS_DETAIL_MAX - 32];
		last_line(out, line, sizeof(line));
		(void)cs_snprintf(a->error, sizeof(a->error), "exit %d%s%s", code,
				  line[0] ? ": " : "", line);
	} else {
		(void)cs_strlcpy(a->error, error, sizeof(a->error));
	}
	*retry = true;
}

/* --- unbound-control on a unix socket --- */

static void attempt_unbound(struct run *r, const struct step *s, struct cs_purge_action *a,
			    bool *retry)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = r->cfg->socket;
	char reply[OUTPUT_MAX];
	size_t used = 0;
	int fd = -1;

	a->outcome = CS_ACTION_FAILED;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		(void)cs_snprintf(a->error, sizeof(a->error), "socket path longer than %zu bytes",
				  sizeof(sun.sun_path) - 1);
		return;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) != 0) {
		int e = errno;
		(void)cs_snprintf(a->error, sizeof(a->error), "connect %s: %s", path, strerror(e));
		if (fd >= 0) {
			close(fd);
		}
		*retry = true;
		return;
	}
	/* Unbound reads the 6-byte magic in one read: send the whole line in one write */
	char line[CS_ACTION_TARGET_MAX + 16];
	(void)cs_snprintf(line, sizeof(line), "UBCT1 %s\n", s->command);
	size_t len = strlen(line);
	ssize_t w = send(fd, line, len, MSG_NOSIGNAL);
	if (w < 0 || (size_t)w != len) {
		int e = errno;
		(void)cs_snprintf(a->error, sizeof(a->error), "send to %s: %s", path,
				  w < 0 ? strerror(e) : "short write");
		close(fd);
		*retry = true;
		return;
	}
	const uint64_t deadline = now_ms() + r->o->timeout_ms;
	reply[0] = '\0';
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline) {
			(void)cs_snprintf(a->error, sizeof(a->error),
					  "%s: no complete reply within %u ms", path,
					  (unsigned)r->o->timeout_ms);
			close(fd);
			*retry = true;
			return;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			continue; /* the deadline check above ends it */
		}
		ssize_t n = recv(fd, reply + used, sizeof(reply) - used - 1, 0);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break; /* the server closes after the reply */
		}
		used += (size_t)n;
		reply[used] = '\0';
		if (used + 1 >= sizeof(reply)) {
			break;
		}
	}
	close(fd);
	char first[CS_DETAIL_MAX - 16];
	size_t k = 0;
	while (k + 1 < sizeof(first) && reply[k] != '\0' && reply[k] != '\n') {
		unsigned char c = (unsigned char)reply[k];
		first[k] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
		k++;
	}
	first[k] = '\0';
	if (strncmp(first, "ok", 2) == 0) {
		cs_log(CS_LOG_INFO, CS_LOG_PURGE, "resolver %s: unbound: %s", r->rr->id, first);
		a->outcome = CS_ACTION_OK;
		return;
	}
	/* "error ..." is Unbound refusing the command: another try gives the same answer */
	(void)cs_snprintf(a->error, sizeof(a->error), "unbound: %s",
			  first[0] ? first : "empty reply");
}

/* --- HTTP with libcurl --- */

struct body {
	char *p;
	size_t n;
	bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t len = size * nmemb;
	if (b->n + len > HTTP_BODY_MAX) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	memcpy(b->p + b->n, data, len);
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

static bool status_expected(const struct cs_purge_cfg *cfg, long status)
{
	if (cfg->type != CS_PURGE_HTTP || cfg->n_expect_status == 0) {
		return status >= 200 && status <= 299;
	}
	for (size_t i = 0; i < cfg->n_expect_status; i++) {
		if ((long)cfg->expect_status[i] == status) {
			return true;
		}
	}
	return false;
}

/** One request on a multi handle (libcurl's event interface; the loop is ours). */
static CURLcode perform(CURL *h, uint32_t timeout_ms)
{
	CURLM *m = curl_multi_init();
	CURLcode result = CURLE_FAILED_INIT;
	if (m == NULL || curl_multi_add_handle(m, h) != CURLM_OK) {
		curl_multi_cleanup(m);
		return CURLE_OUT_OF_MEMORY;
	}
	int running = 1;
	const uint64_t deadline = now_ms() + timeout_ms + 1000;
	while (running > 0 && now_ms() < deadline) {
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			break;
		}
		if (running > 0 && curl_multi_poll(m, NULL, 0, 200, NULL) != CURLM_OK) {
			break;
		}
	}
	int left = 0;
	CURLMsg *msg = NULL;
	while ((msg = curl_multi_info_read(m, &left)) != NULL) {
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
			result = msg->data.result;
		}
	}
	if (running > 0) {
		result = CURLE_OPERATION_TIMEDOUT;
	}
	curl_multi_remove_handle(m, h);
	curl_multi_cleanup(m);
	return result;
}

static void attempt_http(struct run *r, const struct step *s, struct cs_purge_action *a,
			 bool *retry)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct body body = { .p = cs_malloc(HTTP_BODY_MAX + 1) };
	struct curl_slist *hdrs = NULL;
	CURL *h = curl_easy_init();
	CURLcode cc = CURLE_OK;
	long status = 0;

	a->outcome = CS_ACTION_FAILED;
	if (h == NULL || body.p == NULL) {
		(void)cs_strlcpy(a->error, "out of memory", sizeof(a->error));
		goto out;
	}
	body.p[0] = '\0';
	for (char **p = s->headers; p != NULL && *p != NULL; p++) {
		struct curl_slist *n = curl_slist_append(hdrs, *p);
		if (n == NULL) {
			(void)cs_strlcpy(a->error, "out of memory", sizeof(a->error));
			goto out;
		}
		hdrs = n;
	}
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are refused */
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)r->o->timeout_ms);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT,
			 "cachesweep/"
			 "0.1");
	if (strcmp(s->method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(s->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, s->method);
	}
	cc = perform(h, r->o->timeout_ms);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status > 0) {
		a->http_status = (int)status;
	}
	if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && body.too_big)) {
		redact(r, errbuf, sizeof(errbuf));
		(void)cs_snprintf(a->error, sizeof(a->error), "%s",
				  errbuf[0] ? errbuf : curl_easy_strerror(cc));
		redact(r, a->error, sizeof(a->error));
		*retry = true;
		goto out;
	}
	if (body.too_big) {
		(void)cs_snprintf(a->error, sizeof(a->error), "reply body larger than %u bytes",
				  (unsigned)HTTP_BODY_MAX);
		goto out;
	}
	if (status >= 300 && status <= 399) {
		(void)cs_snprintf(a->error, sizeof(a->error),
				  "HTTP %ld: redirects are not followed", status);
		goto out;
	}
	if (!status_expected(r->cfg, status)) {
		(void)cs_snprintf(a->error, sizeof(a->error), "HTTP %ld%s", status,
				  status == 401 || status == 403 ? ": wrong or missing credentials"
								 : "");
		/* 5xx and 429 may pass; other statuses will not change by asking again */
		*retry = status >= 500 || status == 429;
		goto out;
	}
	if (s->check_count) {
		json_error_t jerr;
		json_t *j = json_loadb(body.p, body.n, 0, &jerr);
		json_t *count = json_is_object(j) ? json_object_get(j, "count") : NULL;
		if (!json_is_integer(count)) {
			(void)cs_strlcpy(a->error, "reply is not JSON with an integer \"count\"",
					 sizeof(a->error));
			json_decref(j);
			goto out;
		}
		cs_log(CS_LOG_INFO, CS_LOG_PURGE, "resolver %s: powerdns flushed %lld entries",
		       r->rr->id, (long long)json_integer_value(count));
		json_decref(j);
	}
	a->outcome = CS_ACTION_OK;
out:
	curl_slist_free_all(hdrs);
	if (h != NULL) {
		curl_easy_cleanup(h);
	}
	cs_free(body.p);
}

/* --- steps --- */

static void do_step(struct run *r, const struct step *s, struct cs_purge_action *a)
{
	unsigned attempts = r->o->attempts > 0 ? r->o->attempts : 3;
	uint32_t backoff = r->o->backoff_ms;
	for (unsigned i = 0; i < attempts; i++) {
		bool retry = false;
		a->error[0] = '\0';
		a->http_status = -1;
		a->exit_code = -1;
		switch (s->type) {
		case CS_PURGE_EXEC:
			attempt_exec(r, s, a, &retry);
			break;
		case CS_PURGE_HTTP:
		case CS_PURGE_POWERDNS_API:
			attempt_http(r, s, a, &retry);
			break;
		case CS_PURGE_UNBOUND_CONTROL:
			attempt_unbound(r, s, a, &retry);
			break;
		case CS_PURGE_INSTRUCTIONS:
			a->outcome = CS_ACTION_SKIPPED;
			break;
		}
		redact(r, a->error, sizeof(a->error));
		if (a->outcome == CS_ACTION_OK || !retry || i + 1 == attempts) {
			return;
		}
		cs_log(CS_LOG_WARNING, CS_LOG_PURGE,
		       "resolver %s: %s %s: %s; trying again in %u ms", r->rr->id, a->endpoint,
		       a->target, a->error, (unsigned)backoff);
		sleep_ms(backoff);
		backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
	}
}

static struct cs_purge_action *new_action(struct run *r, const char *target)
{
	struct cs_purge_block *pb = r->pb;
	struct cs_purge_action *v = cs_reallocarray(pb->actions, pb->n_actions + 1, sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	pb->actions = v;
	struct cs_purge_action *a = &v[pb->n_actions++];
	memset(a, 0, sizeof(*a));
	(void)cs_strlcpy(a->endpoint, cs_purge_type_name(r->cfg->type), sizeof(a->endpoint));
	(void)cs_strlcpy(a->target, target, sizeof(a->target));
	redact(r, a->target, sizeof(a->target));
	a->http_status = -1;
	a->exit_code = -1;
	return a;
}

static enum cs_errc run_step(struct run *r, const struct step *s)
{
	struct cs_purge_action *a = new_action(r, s->shown);
	if (a == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	enum cs_errc rc = audit(r, "planned", a);
	if (rc != CS_OK) {
		return rc;
	}
	if (!r->o->execute) {
		a->outcome = CS_ACTION_SKIPPED;
		(void)cs_strlcpy(a->error, "dry run: use --execute to act", sizeof(a->error));
		return CS_OK;
	}
	cs_log(CS_LOG_INFO, CS_LOG_PURGE, "resolver %s: %s %s", r->rr->id, a->endpoint, a->target);
	do_step(r, s, a);
	if (a->outcome == CS_ACTION_FAILED) {
		cs_log(CS_LOG_WARNING, CS_LOG_PURGE, "resolver %s: %s %s failed: %s", r->rr->id,
		       a->endpoint, a->target, a->error);
	}
	return audit(r, "done", a);
}

/** A failure to prepare a step (a bad template, a missing secret) is a failed action. */
static enum cs_errc failed_step(struct run *r, const char *target, const char *why)
{
	struct cs_purge_action *a = new_action(r, target);
	if (a == NULL) {
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	a->outcome = CS_ACTION_FAILED;
	(void)cs_strlcpy(a->error, why, sizeof(a->error));
	redact(r, a->error, sizeof(a->error));
	enum cs_errc rc = audit(r, "planned", a);
	return rc == CS_OK ? audit(r, "done", a) : rc;
}

static char *join(char *const *argv);

enum cs_errc cs_argv_expand(char *const *tmpl, const struct cs_subst *s, char ***argv, char **shown,
			    struct cs_error *err)
{
	enum cs_errc rc = CS_OK;
	char **shown_v = NULL;
	size_t n = 0;

	*argv = NULL;
	*shown = NULL;
	while (tmpl[n] != NULL) {
		n++;
	}
	*argv = cs_calloc(n + 1, sizeof(char *));
	shown_v = cs_calloc(n + 1, sizeof(char *));
	if (*argv == NULL || shown_v == NULL) {
		rc = cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	/* one template, one argument: no splitting, no shell, whatever the value holds */
	for (size_t i = 0; i < n && rc == CS_OK; i++) {
		rc = cs_template_expand(tmpl[i], s, CS_TMPL_PLAIN, &(*argv)[i], err);
		if (rc == CS_OK) {
			rc = cs_template_expand(tmpl[i], s, CS_TMPL_REDACT, &shown_v[i], err);
		}
	}
	if (rc == CS_OK) {
		*shown = join(shown_v);
		if (*shown == NULL) {
			rc = cs_error_set(err, CS_ENOMEM, "out of memory");
		}
	}
	strv_free(shown_v);
	if (rc != CS_OK) {
		strv_free(*argv);
		*argv = NULL;
	}
	return rc;
}

static char *join(char *const *argv)
{
	char buf[CS_ACTION_TARGET_MAX];
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL && used + 1 < sizeof(buf); i++) {
		(void)cs_snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? " " : "", argv[i]);
		used = strlen(buf);
	}
	return cs_strdup(buf);
}

/** Expand one exec command or http request for subst s into a step. */
static enum cs_errc build_step(struct run *r, size_t cmd, const struct cs_subst *s, struct step *st,
			       struct cs_error *why)
{
	const struct cs_purge_cfg *c = r->cfg;
	enum cs_errc rc = CS_OK;
	st->type = c->type;
	if (c->type == CS_PURGE_EXEC) {
		return cs_argv_expand(c->commands[cmd], s, &st->argv, &st->shown, why);
	}
	/* http */
	char *shown_url = NULL;
	rc = cs_template_expand(c->url, s, CS_TMPL_URL, &st->url, why);
	if (rc == CS_OK) {
		rc = cs_template_expand(c->url, s, CS_TMPL_URL_REDACT, &shown_url, why);
	}
	st->method = cs_strdup(c->method != NULL ? c->method : "POST");
	st->headers = cs_calloc(c->n_headers + 1, sizeof(char *));
	if (rc == CS_OK && (st->method == NULL || st->headers == NULL)) {
		rc = cs_error_set(why, CS_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->n_headers && rc == CS_OK; i++) {
		char *v = NULL;
		rc = cs_template_expand(c->headers[i].value, s, CS_TMPL_PLAIN, &v, why);
		if (rc == CS_OK) {
			size_t len = strlen(c->headers[i].name) + strlen(v) + 3;
			st->headers[i] = cs_malloc(len);
			if (st->headers[i] == NULL) {
				rc = cs_error_set(why, CS_ENOMEM, "out of memory");
			} else {
				(void)cs_snprintf(st->headers[i], len, "%s: %s", c->headers[i].name,
						  v);
			}
		}
		cs_secret_wipe_free(v);
	}
	if (rc == CS_OK) {
		char t[CS_ACTION_TARGET_MAX];
		(void)cs_snprintf(t, sizeof(t), "%s %s", st->method, shown_url);
		st->shown = cs_strdup(t);
		rc = st->shown != NULL ? CS_OK : cs_error_set(why, CS_ENOMEM, "out of memory");
	}
	cs_free(shown_url);
	return rc;
}

static bool cfg_per_name(const struct cs_purge_cfg *c)
{
	if (c->type == CS_PURGE_HTTP) {
		bool per = cs_template_per_name(c->url);
		for (size_t i = 0; i < c->n_headers; i++) {
			per = per || cs_template_per_name(c->headers[i].value);
		}
		return per;
	}
	for (size_t i = 0; i < c->n_commands; i++) {
		for (char **a = c->commands[i]; *a != NULL; a++) {
			if (cs_template_per_name(*a)) {
				return true;
			}
		}
	}
	return false;
}

/** exec and http: each command (or the request) once, or once per bad (name, type). */
static enum cs_errc run_templates(struct run *r, const char *zone)
{
	const struct cs_purge_cfg *c = r->cfg;
	const size_t n_cmds = c->type == CS_PURGE_EXEC ? c->n_commands : 1;
	const bool per_name = cfg_per_name(c);
	const struct cs_resolver_report *rr = r->rr;
	enum cs_errc rc = CS_OK;
	size_t steps = 0;

	for (size_t f = 0; f < (per_name ? rr->n_findings : 1) && rc == CS_OK; f++) {
		char name[CS_NAME_STR_MAX] = "";
		char type[16] = "";
		if (per_name) {
			const struct cs_finding *fi = &rr->findings[f];
			if (!cs_verdict_needs_purge(fi->verdict) ||
			    cs_name_normalize(fi->name, name, sizeof(name)) != 0) {
				continue;
			}
			cs_type_format(fi->type, type, sizeof(type));
		}
		const struct cs_subst s = { .zone = zone,
					    .name = per_name ? name : NULL,
					    .type = per_name ? type : NULL,
					    .secret = r->secret };
		for (size_t k = 0; k < n_cmds && rc == CS_OK && steps < MAX_STEPS; k++, steps++) {
			struct step st = { 0 };
			struct cs_error why = { 0 };
			enum cs_errc b = build_step(r, k, &s, &st, &why);
			if (b == CS_ENOMEM) {
				rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
			} else if (b != CS_OK) {
				rc = failed_step(
					r, c->type == CS_PURGE_EXEC ? c->commands[k][0] : "request",
					why.msg);
			} else {
				rc = run_step(r, &st);
			}
			step_clean(&st);
		}
	}
	return rc;
}

static enum cs_errc run_powerdns(struct run *r, const char *zone)
{
	const struct cs_subst s = { .zone = zone, .secret = r->secret };
	struct step st = { .type = CS_PURGE_POWERDNS_API, .check_count = true };
	struct cs_error why = { 0 };
	char tmpl[1024];
	const char *url = r->cfg->url;
	size_t ul = strlen(url);
	/* flush.md §3.2: domain must be absolute; subtree=true clears the whole zone */
	(void)cs_snprintf(tmpl, sizeof(tmpl),
			  "%s%sapi/v1/servers/localhost/cache/flush?domain={zone}&subtree=true",
			  url, ul > 0 && url[ul - 1] == '/' ? "" : "/");
	char *shown = NULL;
	char *hdr = NULL;
	enum cs_errc rc = cs_template_expand(tmpl, &s, CS_TMPL_URL, &st.url, &why);
	if (rc == CS_OK) {
		rc = cs_template_expand(tmpl, &s, CS_TMPL_URL_REDACT, &shown, &why);
	}
	if (rc == CS_OK) {
		rc = cs_template_expand("X-API-Key: {secret}", &s, CS_TMPL_PLAIN, &hdr, &why);
	}
	st.method = cs_strdup("PUT");
	st.headers = cs_calloc(2, sizeof(char *));
	if (rc == CS_OK && (st.method == NULL || st.headers == NULL)) {
		rc = cs_error_set(&why, CS_ENOMEM, "out of memory");
	}
	if (rc == CS_OK) {
		st.headers[0] = hdr;
		hdr = NULL;
		char t[CS_ACTION_TARGET_MAX];
		(void)cs_snprintf(t, sizeof(t), "PUT %s", shown);
		st.shown = cs_strdup(t);
		rc = st.shown != NULL ? CS_OK : cs_error_set(&why, CS_ENOMEM, "out of memory");
	}
	if (rc == CS_ENOMEM) {
		rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
	} else if (rc != CS_OK) {
		rc = failed_step(r, "cache/flush", why.msg);
	} else {
		rc = run_step(r, &st);
	}
	cs_secret_wipe_free(hdr);
	cs_free(shown);
	step_clean(&st);
	return rc;
}

static enum cs_errc run_unbound(struct run *r, const char *zone)
{
	static const char prefix[] = "unbound-control ";
	enum cs_errc rc = CS_OK;
	size_t done = 0;
	/* the plan's Unbound lines are the commands (for unknown software too, labelled) */
	for (size_t i = 0; i < r->pb->n_instructions && rc == CS_OK; i++) {
		const char *p = strstr(r->pb->instructions[i], prefix);
		if (p == NULL) {
			continue;
		}
		struct step st = { .type = CS_PURGE_UNBOUND_CONTROL };
		char t[CS_ACTION_TARGET_MAX];
		st.command = cs_strdup(p + strlen(prefix));
		(void)cs_snprintf(t, sizeof(t), "%s: %s", r->cfg->socket, p + strlen(prefix));
		st.shown = cs_strdup(t);
		if (st.command == NULL || st.shown == NULL) {
			rc = cs_error_set(r->err, CS_ENOMEM, "out of memory");
		} else {
			rc = run_step(r, &st);
			done++;
		}
		step_clean(&st);
	}
	if (rc == CS_OK && done == 0) {
		struct step st = { .type = CS_PURGE_UNBOUND_CONTROL };
		char t[CS_ACTION_TARGET_MAX];
		char cmd[CS_NAME_STR_MAX + 16];
		(void)cs_snprintf(cmd, sizeof(cmd), "flush_zone %s", zone);
		(void)cs_snprintf(t, sizeof(t), "%s: %s", r->cfg->socket, cmd);
		st.command = cs_strdup(cmd);
		st.shown = cs_strdup(t);
		rc = st.command != NULL && st.shown != NULL
			     ? run_step(r, &st)
			     : cs_error_set(r->err, CS_ENOMEM, "out of memory");
		step_clean(&st);
	}
	return rc;
}

/** environ without any CACHESWEEP_SECRET, plus ours: the secret never goes into argv. */
static enum cs_errc secret_env(struct run *r)
{
	size_t n = 0;
	while (environ[n] != NULL) {
		n++;
	}
	r->envp = cs_calloc(n + 2, sizeof(char *));
	size_t len = sizeof(SECRET_ENV) + 1 + strlen(r->secret);
	char *mine = cs_malloc(len);
	if (r->envp == NULL || mine == NULL) {
		cs_free(mine);
		return cs_error_set(r->err, CS_ENOMEM, "out of memory");
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(environ[i], SECRET_ENV "=", sizeof(SECRET_ENV)) != 0) {
			r->envp[k++] = environ[i];
		}
	}
	(void)cs_snprintf(mine, len, "%s=%s", SECRET_ENV, r->secret);
	r->envp[k] = mine;
	return CS_OK;
}

enum cs_errc cs_purge_execute(const struct cs_purge_opts *opts, const char *zone,
			      const struct cs_resolver_report *rr, const struct cs_resolver *res,
			      struct cs_purge_block *pb, struct cs_error *err)
{
	struct cs_purge_opts o = *opts;
	struct run r = { .o = &o, .rr = rr, .pb = pb, .err = err };
	char *secret = NULL;
	enum cs_errc rc = CS_OK;

	if (o.timeout_ms == 0) {
		o.timeout_ms = 10000;
	}
	if (o.attempts == 0) {
		o.attempts = 3;
	}
	if (res == NULL || !res->has_purge || res->purge.type == CS_PURGE_INSTRUCTIONS) {
		return CS_OK; /* instructions only: nothing to run */
	}
	r.cfg = &res->purge;
	struct cs_error serr = { 0 };
	if (cs_secret_load(r.cfg, &secret, &serr) != CS_OK) {
		if (serr.code == CS_ENOMEM) {
			return cs_error_set(err, CS_ENOMEM, "out of memory");
		}
		return failed_step(&r, cs_purge_type_name(r.cfg->type), serr.msg);
	}
	r.secret = secret;
	if (secret != NULL) {
		const struct cs_subst s = { .secret = secret };
		if (cs_template_expand("{secret}", &s, CS_TMPL_URL, &r.secret_url, err) != CS_OK) {
			cs_secret_wipe_free(secret);
			return cs_error_set(err, CS_ENOMEM, "out of memory");
		}
	}
	if (secret != NULL && r.cfg->type == CS_PURGE_EXEC) {
		rc = secret_env(&r);
		if (rc != CS_OK) {
			cs_secret_wipe_free(r.secret_url);
			cs_secret_wipe_free(secret);
			return rc;
		}
	}
	switch (r.cfg->type) {
	case CS_PURGE_EXEC:
	case CS_PURGE_HTTP:
		rc = run_templates(&r, zone);
		break;
	case CS_PURGE_POWERDNS_API:
		rc = run_powerdns(&r, zone);
		break;
	case CS_PURGE_UNBOUND_CONTROL:
		rc = run_unbound(&r, zone);
		break;
	case CS_PURGE_INSTRUCTIONS:
		break;
	}
	if (r.envp != NULL) {
		/* only our own entry is ours: the rest belong to environ */
		for (char **e = r.envp; *e != NULL; e++) {
			if (strncmp(*e, SECRET_ENV "=", sizeof(SECRET_ENV)) == 0) {
				cs_secret_wipe_free(*e);
			}
		}
		cs_free(r.envp);
	}
	cs_secret_wipe_free(r.secret_url);
	cs_secret_wipe_free(secret);
	return rc;
}
