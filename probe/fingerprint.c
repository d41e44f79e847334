/* SPDX-License-Identifier: BSD-3-Clause */
/* CHAOS TXT queries through the engine, turned into cs_fingerprint facts (flush.md §16.3). */
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/clock.h>
#include <cachesweep/engine.h>
#include <cachesweep/fingerprint.h>

#define CLASS_CH 3

/* TXT rdata as rendered ("\"unbound 1.17.1\""): drop the quotes of the first string. */
static void first_string(const char *in, char *out, size_t size)
{
	const char *p = in;
	size_t n = 0;
	if (*p == '"') {
		p++;
		while (p[n] != '\0' && p[n] != '"' && n + 1 < size) {
			n++;
		}
	} else {
		while (p[n] != '\0' && n + 1 < size) {
			n++;
		}
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

enum cs_errc cs_fingerprint_gather(struct event_base *base, const struct cs_config *cfg,
				   const bool *want, struct cs_fingerprint *out,
				   struct cs_error *err)
{
	struct cs_engine *eng = NULL;
	struct cs_observation *obs = NULL;
	const size_t n = cfg->n_resolvers;
	enum cs_errc rc = CS_OK;

	memset(out, 0, n * sizeof(*out));
	obs = cs_calloc(n * CS_FP_COUNT, sizeof(*obs));
	if (obs == NULL) {
		return cs_error_set(err, CS_ENOMEM, "out of memory for fingerprints");
	}
	rc = cs_engine_new(base, &cfg->limits, cs_clock_system(), n, &eng, err);
	for (size_t r = 0; r < n && rc == CS_OK; r++) {
		for (unsigned q = 0; q < CS_FP_COUNT && rc == CS_OK && want[r]; q++) {
			const struct cs_probe_spec spec = {
				.resolver_index = r,
				.address = cfg->resolvers[r].address,
				.port = cfg->resolvers[r].port,
				.transport = cfg->resolvers[r].transport,
				.qname = cs_fp_query_name((enum cs_fp_query)q),
				.qtype = CS_TYPE_TXT,
				.qclass = CLASS_CH,
				.tls_auth_name = cfg->resolvers[r].tls_auth_name,
				.tls_ca_file = cfg->resolvers[r].tls_ca_file,
				.url = cfg->resolvers[r].url,
			};
			rc = cs_engine_add(eng, &spec, &obs[r * CS_FP_COUNT + q], err);
		}
	}
	if (rc == CS_OK) {
		rc = cs_engine_run(eng, err);
	}
	cs_engine_free(eng);
	for (size_t r = 0; r < n && rc == CS_OK; r++) {
		for (unsigned q = 0; q < CS_FP_COUNT && want[r]; q++) {
			const struct cs_reply_facts *f = &obs[r * CS_FP_COUNT + q].main;
			struct cs_fp_answer *a = &out[r].q[q];
			a->answered = f->outcome == CS_OUTCOME_ANSWER;
			a->rcode = f->rcode;
			if (a->answered && f->has_data && f->answer_count > 0) {
				first_string(f->answers[0], a->text, sizeof(a->text));
			}
			if (out[r].nsid[0] == '\0' && f->nsid[0] != '\0') {
				(void)cs_strlcpy(out[r].nsid, f->nsid, sizeof(out[r].nsid));
			}
		}
	}
	cs_free(obs);
	return rc;
}
