/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration: load → validate → normalise → freeze, all before the first packet.
 * Syntax errors name file:line:column; the rest name the file and the JSON path
 * ("resolvers[3].port") with what was expected and what was found.
 *
 *	struct cs_config *cfg = NULL;
 *	rc = path ? cs_config_load(path, &cfg, &err) : cs_config_new_default(&cfg, &err);
 *	rc = cs_config_add_resolver(cfg, "127.0.0.1#5353", &err);   // command line
 *	rc = cs_config_finish(cfg, &err);                           // checks the whole
 *	...
 *	cs_config_free(cfg);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/attr.h>
#include <cachesweep/error.h>

enum cs_transport {
	CS_TRANSPORT_UDP = 0, /**< UDP, TCP when the reply is truncated */
	CS_TRANSPORT_TCP,     /**< TCP only */
	CS_TRANSPORT_TLS,     /**< DNS over TLS (RFC 7858), port 853 unless given */
	CS_TRANSPORT_HTTPS,   /**< DNS over HTTPS (RFC 8484) to the resolver's url */
};

enum cs_truth_mode {
	CS_TRUTH_RECURSION = 0, /**< full recursion from the real root, built-in trust anchor */
	CS_TRUTH_PRIVATE_ROOT,  /**< recursion from root_hints with trust_anchor_file */
	CS_TRUTH_AUTHORITIES,   /**< ask the listed authoritative servers, no recursion */
};

enum cs_purge_type {
	CS_PURGE_INSTRUCTIONS = 0, /**< print instructions for the software (the default) */
	CS_PURGE_POWERDNS_API,
	CS_PURGE_HTTP,
	CS_PURGE_EXEC,
	CS_PURGE_UNBOUND_CONTROL, /**< Unbound's remote-control protocol on its unix socket */
};

struct cs_header {
	char *name;
	char *value; /**< may contain {secret}, substituted only when sent */
};

/** How an operator lets us flush a resolver. Secrets are referenced, never inline. */
struct cs_purge_cfg {
	enum cs_purge_type type;
	char *url;         /**< powerdns-api, http */
	char *method;      /**< http: GET, POST, PUT, DELETE (default POST) */
	char *api_key_env; /**< env var holding the secret, or NULL */
	char *secret_file; /**< file holding the secret, or NULL */
	size_t n_headers;
	struct cs_header *headers;
	size_t n_expect_status;
	uint16_t *expect_status; /**< http: accepted statuses (default 200..299) */
	size_t n_commands;
	char ***commands; /**< exec: NULL-terminated argv lists */
	char *socket;     /**< unbound-control: the control-interface unix socket path */
};

/** A sample name to probe: absolute, lower case, with its trailing dot. */
struct cs_name_spec {
	char *name;
	uint16_t type; /**< default A */
};

struct cs_resolver {
	char *id;      /**< unique; a list file's resolver has its address (and #port) as id */
	char *address; /**< numeric IPv4 or IPv6 */
	uint16_t port; /**< default 53 */
	enum cs_transport transport;
	char *tls_auth_name; /**< TLS: the name its certificate must carry; NULL: the address */
	char *tls_ca_file;   /**< TLS, HTTPS: a private CA; NULL: the system's CAs */
	char *url;           /**< HTTPS: "https://host[:port]/path"; host pinned to address */
	char *operator_name; /**< "operator" in the config; NULL if unknown */
	char *contact;
	char *software; /**< hint: a cs_software_name() ("unbound", "bind", ...), or NULL */
	bool has_purge;
	struct cs_purge_cfg purge;
};

struct cs_probe_limits {
	uint32_t timeout_ms;       /**< per attempt; default 2000 */
	uint32_t retries;          /**< after the first attempt; default 2 */
	uint32_t concurrency;      /**< resolvers in flight at once (engine.h); default 256 */
	uint32_t qps_per_resolver; /**< 0 = no limit; default 10 */
	uint32_t qps_total;        /**< 0 = no limit; default 5000 */
};

struct cs_truth_cfg {
	enum cs_truth_mode mode;
	size_t n_authorities;
	char **authorities; /**< "addr" or "addr#port" */
	char *root_hints;
	char *trust_anchor_file;
};

struct cs_config {
	char *path; /**< file it came from, or "(default)" */
	char *zone; /**< absolute, lower case, trailing dot */
	size_t n_names;
	struct cs_name_spec *names;
	struct cs_truth_cfg truth;
	size_t n_bad_serials;
	uint32_t *bad_serials;
	/** Name suffixes that mark a known defect in served data ("se.se."); when the config
	 *  has none, cs_config_incident_patterns() gives the zone written twice. */
	size_t n_incident_patterns;
	char **incident_patterns;
	size_t n_resolvers;
	struct cs_resolver *resolvers;
	struct cs_probe_limits limits;
	char *audit_log;
};

/**
 * Load and validate a configuration file (resolver_files are read too, relative to the
 * config's directory). Nothing touches the network.
 *
 * \param path  file to read
 * \param out   on success a new config; free with cs_config_free()
 * \return CS_OK, CS_ECONFIG (err says where and what), CS_EIO, CS_ENOMEM
 */
CS_NODISCARD enum cs_errc cs_config_load(const char *path, struct cs_config **out,
					 struct cs_error *err);

/** Load from a string (for tests and fuzzing); name is used in messages. */
CS_NODISCARD enum cs_errc cs_config_load_string(const char *text, const char *name,
						struct cs_config **out, struct cs_error *err);

/** "udp", "tcp", "tls", "https". */
const char *cs_transport_name(enum cs_transport t);

/**
 * The incident patterns in force: the config's, or else one built-in pattern, the zone
 * written twice ("se.se."), which is what a dropped trailing dot makes of every name in a
 * zone file (the 2009 .se incident). Writes up to max pointers into out (valid while cfg
 * and buf live; buf holds the built-in one) and returns how many.
 */
size_t cs_config_incident_patterns(const struct cs_config *cfg, const char **out, size_t max,
				   char *buf, size_t buf_size);

/** The embedded default: zone se., built-in .se names, the system's resolvers from
 *  /etc/resolv.conf plus well-known public services, truth by recursion from the real root. */
CS_NODISCARD enum cs_errc cs_config_new_default(struct cs_config **out, struct cs_error *err);

/** Command-line additions; they go through the same checks as the config keys. */
CS_NODISCARD enum cs_errc cs_config_set_zone(struct cs_config *cfg, const char *zone,
					     struct cs_error *err);
/** "name" or "name/TYPE". */
CS_NODISCARD enum cs_errc cs_config_add_name(struct cs_config *cfg, const char *spec,
					     struct cs_error *err);
/** "addr" or "addr#port"; the id is the spec as given. */
CS_NODISCARD enum cs_errc cs_config_add_resolver(struct cs_config *cfg, const char *spec,
						 struct cs_error *err);
/** Drop every name or every resolver (the command line stands in for the default's). */
void cs_config_clear_names(struct cs_config *cfg);
void cs_config_clear_resolvers(struct cs_config *cfg);

/** Final checks after all additions: a zone, at least one name and resolver, names inside
 *  the zone, unique resolver ids. */
CS_NODISCARD enum cs_errc cs_config_finish(struct cs_config *cfg, struct cs_error *err);

void cs_config_free(struct cs_config *cfg);

/** Parse an unsigned number in [min, max], whole string, base 10. 0 on success, -1 otherwise. */
int cs_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/** Normalise a domain name: lower case, trailing dot, checked lengths (labels <= 63, name
 *  <= 253 without the root). 0 on success with the result in out, -1 otherwise. */
int cs_name_normalize(const char *in, char *out, size_t size);

/** Is name equal to zone or below it? Both normalised. */
bool cs_name_in_zone(const char *name, const char *zone);

/** Check a numeric address (IPv4 or IPv6). 0 if valid. */
int cs_addr_check(const char *address);

/** Parse "addr", "addr#port" or "[v6]:port"-free "v6#port" into address and port. */
int cs_addr_port_parse(const char *spec, char *addr, size_t addr_size, uint16_t *port,
		       uint16_t default_port);
