/* SPDX-License-Identifier: BSD-3-Clause */
/* DNS over TLS with OpenSSL: verification on by default, errors said in words. */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <string.h>

#include <cachesweep/alloc.h>

struct cs_tls_ctx {
	SSL_CTX *ssl_ctx;
};

struct cs_tls {
	SSL *ssl;
};

/* The most useful reason OpenSSL has: the verify result, else its error queue. */
static void reason(SSL *ssl, int ret, const char *what, char *why, size_t why_size)
{
	long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "";
	if (v != X509_V_OK) {
		(void)cs_snprintf(why, why_size, "TLS %s: certificate: %s", what,
				  X509_verify_cert_error_string(v));
	} else if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		(void)cs_snprintf(why, why_size, "TLS %s: %s", what, buf);
	} else {
		(void)cs_snprintf(why, why_size, "TLS %s failed (%d)", what,
				  ssl != NULL ? SSL_get_error(ssl, ret) : ret);
	}
	ERR_clear_error();
}

enum cs_errc cs_tls_ctx_new(const char *ca_file, struct cs_tls_ctx **out, struct cs_error *err)
{
	*out = NULL;
	struct cs_tls_ctx *c = cs_calloc(1, sizeof(*c));
	if (c == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory");
	}
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (c->ssl_ctx == NULL) {
		cs_free(c);
		return cs_error_set(err, CS_ENOMEM, "TLS: cannot create a context");
	}
	/* RFC 8310 §8: TLS 1.2 or later */
	(void)SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(c->ssl_ctx, ca_file, NULL)
				 : SSL_CTX_set_default_verify_paths(c->ssl_ctx);
	if (ok != 1) {
		char buf[160] = "";
		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
		ERR_clear_error();
		cs_tls_ctx_free(c);
		return cs_error_set(err, CS_ECONFIG, "tls_ca_file %s: cannot load: %s",
				    ca_file != NULL ? ca_file : "(system)", buf);
	}
	*out = c;
	return CS_OK;
}

void cs_tls_ctx_free(struct cs_tls_ctx *ctx)
{
	if (ctx == NULL) {
		return;
	}
	SSL_CTX_free(ctx->ssl_ctx);
	cs_free(ctx);
}

enum cs_errc cs_tls_new(struct cs_tls_ctx *ctx, int fd, const char *auth_name, const char *address,
			struct cs_tls **out, struct cs_error *err)
{
	*out = NULL;
	struct cs_tls *t = cs_calloc(1, sizeof(*t));
	if (t == NULL || (t->ssl = SSL_new(ctx->ssl_ctx)) == NULL) {
		cs_free(t);
		return cs_error_set(err, CS_ENOMEM, "TLS: out of memory");
	}
	bool ok = SSL_set_fd(t->ssl, fd) == 1;
	if (auth_name != NULL) {
		/* RFC 8310 §8.1: the authentication domain name, checked and sent as SNI */
		ok = ok && SSL_set_tlsext_host_name(t->ssl, auth_name) == 1 &&
		     SSL_set1_host(t->ssl, auth_name) == 1;
	} else {
		/* no name: the certificate must be for the address (an iPAddress SAN) */
		ok = ok && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), address) == 1;
	}
	if (!ok) {
		ERR_clear_error();
		cs_tls_free(t);
		return cs_error_set(err, CS_EINVAL, "TLS: cannot set up verification for %s",
				    auth_name != NULL ? auth_name : address);
	}
	*out = t;
	return CS_OK;
}

void cs_tls_free(struct cs_tls *t)
{
	if (t == NULL) {
		return;
	}
	SSL_free(t->ssl); /* the socket is the engine's: it closes it */
	cs_free(t);
}

static enum cs_tls_rc wants(struct cs_tls *t, int ret, const char *what, char *why, size_t why_size)
{
	switch (SSL_get_error(t->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return CS_TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return CS_TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		return CS_TLS_CLOSED;
	default:
		reason(t->ssl, ret, what, why, why_size);
		return CS_TLS_FAIL;
	}
}

enum cs_tls_rc cs_tls_handshake(struct cs_tls *t, char *why, size_t why_size)
{
	ERR_clear_error();
	int ret = SSL_connect(t->ssl);
	return ret == 1 ? CS_TLS_OK : wants(t, ret, "handshake", why, why_size);
}

enum cs_tls_rc cs_tls_write(struct cs_tls *t, const uint8_t *buf, size_t len, size_t *sent,
			    char *why, size_t why_size)
{
	ERR_clear_error();
	*sent = 0;
	int ret = SSL_write_ex(t->ssl, buf, len, sent);
	return ret == 1 ? CS_TLS_OK : wants(t, ret, "write", why, why_size);
}

enum cs_tls_rc cs_tls_read(struct cs_tls *t, uint8_t *buf, size_t len, size_t *got, char *why,
			   size_t why_size)
{
	ERR_clear_error();
	*got = 0;
	int ret = SSL_read_ex(t->ssl, buf, len, got);
	return ret == 1 ? CS_TLS_OK : wants(t, ret, "read", why, why_size);
}
