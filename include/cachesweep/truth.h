/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Truth: what the authoritative side says now. The data structs are plain values that
 * classify reads; cs_truth_gather() (in cs_probe) fills them by libunbound on the shared loop.
 *
 *	struct cs_truth *t = NULL;
 *	if (cs_truth_gather(base, cfg, &t, &err) != CS_OK) ... exit 3
 *	... classify with t ...
 *	cs_truth_free(t);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/error.h>
#include <cachesweep/limits.h>

struct cs_config;
struct event_base;

/** What truth says of one sample (name, type). */
struct cs_truth_name {
	char name[CS_NAME_STR_MAX];
	uint16_t type;
	bool exists;    /**< the name exists (NOERROR, with or without data of this type) */
	bool has_type;  /**< an RRset of this type exists at the name (CNAMEs followed) */
	bool secure;    /**< the answer validated (AD) against the trust anchor */
	bool bogus;     /**< validation failed at the authority side itself */
	uint32_t ttl_s; /**< TTL of the data, or the negative TTL */
	char why_bogus[CS_DETAIL_MAX];
};

/** One authoritative server's view of the zone SOA. */
struct cs_truth_authority {
	char address[64];
	bool answered;
	uint32_t serial;
	char error[CS_DETAIL_MAX]; /**< why it did not answer, or "" */
};

struct cs_truth {
	char zone[CS_NAME_STR_MAX];
	bool have_serial;
	uint32_t serial; /**< the newest serial (RFC 1982) among the authorities */
	bool is_signed;  /**< the zone's SOA validated as secure */
	bool soa_bogus;  /**< the zone's SOA fails validation at the authorities themselves */
	char soa_why_bogus[CS_DETAIL_MAX];
	/** The zone's DNSKEY RRset as validated from the trust anchor: the answer packet as
	 *  libunbound returned it (wire format), or NULL when the keys are not secure. */
	uint8_t *dnskey_packet;
	size_t dnskey_packet_len;
	char source[32]; /**< "recursion", "private-root", "authorities", "expect" */
	size_t n_authorities;
	struct cs_truth_authority *authorities;
	size_t n_names;
	struct cs_truth_name *names; /**< in the order of the config's names */
};

/** Allocate an empty truth with room for n_names and n_authorities (zeroed). */
struct cs_truth *cs_truth_new(size_t n_names, size_t n_authorities);
void cs_truth_free(struct cs_truth *truth);
/** A deep copy, or NULL when out of memory. */
struct cs_truth *cs_truth_copy(const struct cs_truth *truth);

/**
 * Establish the truth for cfg on the event loop base (which it runs until done).
 * Truth comes from cfg's truth section: listed authorities, a private root with its trust
 * anchor, or the real root with the built-in root trust anchor. The zone's SOA serial is
 * asked of every authoritative server (those listed, or the zone's NS set).
 *
 * \param out  on success a new truth; free with cs_truth_free()
 * \return CS_OK, CS_ETRUTH (with which name or server failed), CS_ENOMEM
 */
enum cs_errc cs_truth_gather(struct event_base *base, const struct cs_config *cfg,
			     struct cs_truth **out, struct cs_error *err);

/** RFC 1982 serial comparison: <0 if a is behind b, 0 equal, >0 ahead (undefined gap: >0). */
int cs_serial_cmp(uint32_t a, uint32_t b);
