/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over HTTPS (RFC 8484) for the engine (private to probe/): libcurl's multi interface on
 * the engine's libevent loop. POST with application/dns-message over HTTP/2; the URL's host
 * is pinned to the resolver's configured address (never looked up), certificates verified.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/error.h>

struct event_base;
struct cs_doh;     /* one per engine */
struct cs_doh_req; /* one query in flight */

/** Called once per request that was not cancelled. ok: an HTTP 200 with a DNS message in
 *  body; else why says what went wrong. The request is still valid: free it afterwards. */
typedef void cs_doh_done_fn(void *arg, bool ok, const uint8_t *body, size_t len, const char *why);

enum cs_errc cs_doh_new(struct event_base *base, struct cs_doh **out, struct cs_error *err);
void cs_doh_free(struct cs_doh *doh);

/**
 * Start one query: POST wire to url with the URL's host pinned to address. ca_file NULL:
 * the system's CAs. timeout_ms bounds the whole exchange.
 */
enum cs_errc cs_doh_start(struct cs_doh *doh, const char *url, const char *address,
			  const char *ca_file, const uint8_t *wire, size_t len, uint32_t timeout_ms,
			  cs_doh_done_fn *fn, void *arg, struct cs_doh_req **out,
			  struct cs_error *err);

/** Cancel (if running) and free a request; NULL is fine. fn is not called afterwards. */
void cs_doh_req_free(struct cs_doh_req *req);
