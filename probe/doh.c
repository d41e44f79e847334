/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS over HTTPS with libcurl multi on libevent (the socket/timer callback pattern). */
#include "doh.h"

#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include <cachesweep/alloc.h>
#include <cachesweep/limits.h>

struct cs_doh {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	int running;
};

struct cs_doh_req {
	struct cs_doh *doh;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *resolve;
	uint8_t *wire; /* libcurl reads the POST body from here until the end */
	uint8_t *body;
	size_t len;
	bool too_big;
	cs_doh_done_fn *fn;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

static void check_done(struct cs_doh *d)
{
	CURLMsg *msg = NULL;
	int left = 0;
	while ((msg = curl_multi_info_read(d->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE) {
			continue;
		}
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct cs_doh_req *r = NULL;
		long status = 0;
		char *ctype = NULL;
		(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
		(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
		(void)curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype);
		(void)curl_multi_remove_handle(d->multi, easy);
		if (r == NULL || r->fn == NULL) {
			continue;
		}
		char why[CURL_ERROR_SIZE + 64];
		cs_doh_done_fn *fn = r->fn;
		r->fn = NULL; /* once */
		if (r->too_big) {
			fn(r->arg, false, NULL, 0, "HTTPS reply larger than a DNS message may be");
		} else if (result != CURLE_OK) {
			(void)cs_snprintf(why, sizeof(why), "HTTPS: %s",
					  r->errbuf[0] ? r->errbuf : curl_easy_strerror(result));
			fn(r->arg, false, NULL, 0, why);
		} else if (status != 200) {
			(void)cs_snprintf(why, sizeof(why), "HTTPS status %ld", status);
			fn(r->arg, false, NULL, 0, why);
		} else if (ctype == NULL ||
			   strncasecmp(ctype, "application/dns-message", 23) != 0) {
			(void)cs_snprintf(why, sizeof(why),
					  "HTTPS reply of type %.60s, not "
					  "application/dns-message",
					  ctype != NULL ? ctype : "(none)");
			fn(r->arg, false, NULL, 0, why);
		} else {
			fn(r->arg, true, r->body, r->len, "");
		}
	}
}

static void on_event(evutil_socket_t fd, short kind, void *arg)
{
	struct cs_doh *d = arg;
	int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) |
		     ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
	(void)curl_multi_socket_action(d->multi, fd, action, &d->running);
	check_done(d);
}

static void on_timeout(evutil_socket_t fd, short kind, void *arg)
{
	struct cs_doh *d = arg;
	(void)fd;
	(void)kind;
	(void)curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &d->running);
	check_done(d);
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct cs_doh *d = userp;
	struct event *ev = socketp;
	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			(void)curl_multi_assign(d->multi, s, NULL);
		}
		return 0;
	}
	short kind = (short)(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0));
	if (ev != NULL) {
		event_del(ev);
		if (event_assign(ev, d->base, s, kind, on_event, d) != 0) {
			return -1;
		}
	} else {
		ev = event_new(d->base, s, kind, on_event, d);
		if (ev == NULL) {
			return -1;
		}
		(void)curl_multi_assign(d->multi, s, ev);
	}
	return event_add(ev, NULL) == 0 ? 0 : -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct cs_doh *d = userp;
	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(d->timer);
		return 0;
	}
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	return evtimer_add(d->timer, &tv) == 0 ? 0 : -1;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct cs_doh_req *r = userp;
	size_t n = size * nmemb;
	if (n > CS_MAX_REPLY - r->len) {
		r->too_big = true;
		return 0; /* libcurl aborts the transfer */
	}
	uint8_t *body = cs_reallocarray(r->body, r->len + n, 1);
	if (body == NULL) {
		return 0;
	}
	memcpy(body + r->len, data, n);
	r->body = body;
	r->len += n;
	return n;
}

enum cs_errc cs_doh_new(struct event_base *base, struct cs_doh **out, struct cs_error *err)
{
	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		return cs_error_set(err, CS_EIO, "HTTPS: libcurl cannot start");
	}
	struct cs_doh *d = cs_calloc(1, sizeof(*d));
	if (d == NULL || (d->multi = curl_multi_init()) == NULL ||
	    (d->timer = evtimer_new(base, on_timeout, d)) == NULL) {
		cs_doh_free(d);
		if (d == NULL) {
			curl_global_cleanup();
		}
		return cs_error_set(err, CS_ENOMEM, "HTTPS: out of memory");
	}
	d->base = base;
	(void)curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	(void)curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
	(void)curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	(void)curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
	*out = d;
	return CS_OK;
}

void cs_doh_free(struct cs_doh *doh)
{
	if (doh == NULL) {
		return;
	}
	if (doh->multi != NULL) {
		(void)curl_multi_cleanup(doh->multi);
	}
	if (doh->timer != NULL) {
		event_free(doh->timer);
	}
	cs_free(doh);
	curl_global_cleanup();
}

/* "host:port:address" for CURLOPT_RESOLVE: the URL's host is never looked up. */
static bool pin_entry(const char *url, const char *address, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *host = NULL;
	char *port = NULL;
	bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		  curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	if (ok) {
		/* an IPv6 literal needs its brackets in the address part */
		bool v6 = strchr(address, ':') != NULL;
		ok = cs_snprintf(out, size, "%s:%s:%s%s%s", host, port, v6 ? "[" : "", address,
				 v6 ? "]" : "") == 0;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return ok;
}

enum cs_errc cs_doh_start(struct cs_doh *doh, const char *url, const char *address,
			  const char *ca_file, const uint8_t *wire, size_t len, uint32_t timeout_ms,
			  cs_doh_done_fn *fn, void *arg, struct cs_doh_req **out,
			  struct cs_error *err)
{
	char pin[512];
	*out = NULL;
	if (!pin_entry(url, address, pin, sizeof(pin))) {
		return cs_error_set(err, CS_EINVAL, "HTTPS: cannot use URL %s", url);
	}
	struct cs_doh_req *r = cs_calloc(1, sizeof(*r));
	if (r == NULL || (r->easy = curl_easy_init()) == NULL ||
	    (r->wire = cs_malloc(len)) == NULL ||
	    (r->headers = curl_slist_append(NULL, "Content-Type: application/dns-message")) ==
		    NULL ||
	    curl_slist_append(r->headers, "Accept: application/dns-message") == NULL ||
	    (r->resolve = curl_slist_append(NULL, pin)) == NULL) {
		cs_doh_req_free(r);
		return cs_error_set(err, CS_ENOMEM, "HTTPS: out of memory");
	}
	memcpy(r->wire, wire, len);
	r->doh = doh;
	r->fn = fn;
	r->arg = arg;
	CURL *e = r->easy;
	bool ok = curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) ==
			  CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_RESOLVE, r->resolve) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_POSTFIELDS, (const char *)r->wire) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_WRITEDATA, r) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
		  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms) == CURLE_OK &&
		  (ca_file == NULL || curl_easy_setopt(e, CURLOPT_CAINFO, ca_file) == CURLE_OK) &&
		  curl_multi_add_handle(doh->multi, e) == CURLM_OK;
	if (!ok) {
		cs_doh_req_free(r);
		return cs_error_set(err, CS_EINVAL, "HTTPS: cannot set up a request to %s", url);
	}
	*out = r;
	return CS_OK;
}

void cs_doh_req_free(struct cs_doh_req *req)
{
	if (req == NULL) {
		return;
	}
	if (req->easy != NULL) {
		if (req->doh != NULL) {
			(void)curl_multi_remove_handle(req->doh->multi, req->easy);
		}
		curl_easy_cleanup(req->easy);
	}
	curl_slist_free_all(req->headers);
	curl_slist_free_all(req->resolve);
	cs_free(req->wire);
	cs_free(req->body);
	cs_free(req);
}
