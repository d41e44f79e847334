/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS over TLS (RFC 7858) for the engine (private to probe/): OpenSSL on the engine's own
 * non-blocking TCP socket. Certificates and the resolver's name (or address) are verified
 * by default; a private CA comes from the resolver's tls_ca_file.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <cachesweep/error.h>

struct cs_tls_ctx; /* one per CA file (or the system's CAs) */
struct cs_tls;     /* one connection */

enum cs_tls_rc {
	CS_TLS_OK = 0,
	CS_TLS_WANT_READ,  /**< call again when the socket is readable */
	CS_TLS_WANT_WRITE, /**< call again when the socket is writable */
	CS_TLS_CLOSED,     /**< the peer closed the connection (reads only) */
	CS_TLS_FAIL,       /**< why says what */
};

/** A context verifying against ca_file, or the system's CAs when ca_file is NULL. */
enum cs_errc cs_tls_ctx_new(const char *ca_file, struct cs_tls_ctx **out, struct cs_error *err);
void cs_tls_ctx_free(struct cs_tls_ctx *ctx);

/**
 * Start TLS on a connected socket fd. The peer must present a certificate for auth_name
 * (a host name, also sent as SNI), or, when auth_name is NULL, for the IP address.
 */
enum cs_errc cs_tls_new(struct cs_tls_ctx *ctx, int fd, const char *auth_name, const char *address,
			struct cs_tls **out, struct cs_error *err);
void cs_tls_free(struct cs_tls *t);

enum cs_tls_rc cs_tls_handshake(struct cs_tls *t, char *why, size_t why_size);
enum cs_tls_rc cs_tls_write(struct cs_tls *t, const uint8_t *buf, size_t len, size_t *sent,
			    char *why, size_t why_size);
enum cs_tls_rc cs_tls_read(struct cs_tls *t, uint8_t *buf, size_t len, size_t *got, char *why,
			   size_t why_size);
