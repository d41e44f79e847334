/* SPDX-License-Identifier: BSD-3-Clause */
/* The http and powerdns-api endpoints on libcurl: TLS verified, no redirects, http(s) only,
 * bounded bodies, statuses checked, and for PowerDNS the JSON "count" of the reply. */
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include <cachesweep/alloc.h>
#include <cachesweep/log.h>

#include "endpoint.h"

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
	const uint64_t deadline = cs_purge_now_ms() + timeout_ms + 1000;
	while (running > 0 && cs_purge_now_ms() < deadline) {
		if (curl_multi_perform(m, &running) != CURLM_OK) {
			break;
		}
		if (running > 0 && curl_multi_poll(m, NULL, 0, 200, NULL) != CURLM_OK) {
			break;
		}
	}
	int left = 0;
	CURLMsg *msg = NULL;
	for (msg = curl_multi_info_read(m, &left); msg != NULL;
	     msg = curl_multi_info_read(m, &left)) {
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

void cs_endpoint_http(const struct run *r, const struct step *s, struct cs_purge_action *a,
		      struct cs_retry *retry)
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
		cs_run_redact(r, errbuf, sizeof(errbuf));
		(void)cs_snprintf(a->error, sizeof(a->error), "%s",
				  errbuf[0] ? errbuf : curl_easy_strerror(cc));
		cs_run_redact(r, a->error, sizeof(a->error));
		retry->again = true;
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
		retry->again = status >= 500 || status == 429;
		curl_off_t after_s = -1;
		if (status == 429 &&
		    curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after_s) == CURLE_OK &&
		    after_s > 0) {
			/* RFC 9110 §10.2.3, bounded: a server cannot park the purge for long */
			retry->after_ms = after_s >= 30 ? 30000u : (uint32_t)after_s * 1000u;
		}
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
