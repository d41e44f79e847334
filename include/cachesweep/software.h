/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Resolver software: the names in configs and reports, the public services known by address,
 * and the pure classification of a fingerprint (CHAOS TXT answers, NSID, behaviour) into a
 * software, a version and the source of the guess. No I/O: the probe gathers the facts.
 *
 *	struct cs_fingerprint fp = { ... filled from CH TXT probes ... };
 *	struct cs_software_guess g;
 *	cs_fingerprint_classify(&fp, &g);   // g.id, g.version, g.source ("version.bind")
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cs_software_id {
	CS_SW_UNKNOWN = 0,
	CS_SW_UNBOUND,
	CS_SW_BIND,
	CS_SW_POWERDNS,
	CS_SW_KNOT5, /**< Knot Resolver 5 (kresd, Lua control socket) */
	CS_SW_KNOT6, /**< Knot Resolver 6 (manager, kresctl) */
	CS_SW_DNSMASQ,
	CS_SW_SYSTEMD_RESOLVED,
	CS_SW_WINDOWS,
	CS_SW_TECHNITIUM,
	CS_SW_ADGUARD_HOME,
	CS_SW_GOOGLE,
	CS_SW_CLOUDFLARE,
	CS_SW_OPENDNS,
	CS_SW_QUAD9,
};
#define CS_SW_COUNT (CS_SW_QUAD9 + 1)

/** Contract name ("unbound", "knot-resolver", "knot-resolver-6", "google"); never NULL for
 *  values in range. */
const char *cs_software_name(enum cs_software_id id);
/** Human name ("Unbound", "Knot Resolver 6", "Google Public DNS"). */
const char *cs_software_title(enum cs_software_id id);
/** Parse a contract name (also "knot" and "pdns" as aliases); 0 and *out, or -1. */
int cs_software_parse(const char *s, enum cs_software_id *out);
/** Is it a public service (Google, Cloudflare, OpenDNS, Quad9)? */
bool cs_software_is_public(enum cs_software_id id);
/** The public service behind a well-known anycast address, or CS_SW_UNKNOWN. */
enum cs_software_id cs_software_by_address(const char *address);

/** One CHAOS TXT probe, as answered. */
struct cs_fp_answer {
	bool answered; /**< a reply was read */
	uint16_t rcode;
	char text[128]; /**< the first TXT string, quotes removed; "" if none */
};

enum cs_fp_query {
	CS_FP_VERSION_BIND = 0,
	CS_FP_VERSION_SERVER,
	CS_FP_TRUSTANCHOR_UNBOUND,
	CS_FP_VERSION_PDNS,
};
#define CS_FP_COUNT (CS_FP_VERSION_PDNS + 1)

/** The CHAOS names asked, in enum cs_fp_query order ("version.bind."). */
const char *cs_fp_query_name(enum cs_fp_query q);

struct cs_fingerprint {
	struct cs_fp_answer q[CS_FP_COUNT];
	char nsid[128]; /**< from any reply, or "" */
};

struct cs_software_guess {
	enum cs_software_id id;
	char version[64]; /**< "" if unknown */
	char source[32];  /**< "version.bind", "version.server", "trustanchor.unbound",
			       "version.pdns", "nsid", "behaviour", or "" when unknown */
};

/** Classify a fingerprint. Pure; fills *out completely. */
void cs_fingerprint_classify(const struct cs_fingerprint *fp, struct cs_software_guess *out);

/** Classify one version text ("unbound 1.17.1", "9.18.49-1~deb12u3-Debian"); fills id and
 *  version, returns false when the text names no software we know. */
bool cs_software_from_version(const char *text, enum cs_software_id *id, char *version,
			      size_t size);
