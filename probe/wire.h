/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS wire format for probes (private to probe/): build queries with ldns, and read untrusted
 * replies into struct cs_reply_facts after checking everything ldns does not.
 * ldns objects never leave wire.c.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/error.h>
#include <cachesweep/observe.h>

struct cs_query {
	char qname[CS_NAME_STR_MAX]; /**< absolute, normalised */
	uint16_t qtype;
	uint16_t qclass; /**< 1 (IN) or 3 (CH) */
	uint16_t id;
	bool rd;
	bool cd;
	bool edns_do;
	bool nsid;
};

/**
 * Build the query. RD, CD and DO as asked, EDNS buffer CS_EDNS_UDP_SIZE, an empty NSID
 * option when q->nsid.
 * \param wire  on success a new buffer; free with cs_free()
 */
enum cs_errc cs_wire_build(const struct cs_query *q, uint8_t **wire, size_t *len,
			   struct cs_error *err);

enum cs_wire_verdict {
	CS_WIRE_ACCEPT = 0, /**< our reply: *out is filled */
	CS_WIRE_IGNORE,    /**< not a reply to this query (wrong ID, question, ...): keep waiting */
	CS_WIRE_MALFORMED, /**< a reply to this query that cannot be read */
};

/**
 * Check a reply against the query and read it. Never trusts buf: lengths, ID, QR, opcode,
 * question (name case-insensitive, type, class) and size are checked; EDNS options are read
 * with explicit bounds. On IGNORE or MALFORMED, why says what was wrong.
 */
enum cs_wire_verdict cs_wire_read_reply(const struct cs_query *q, const uint8_t *buf, size_t len,
					struct cs_reply_facts *out, char *why, size_t why_size);

/** Read the TXT strings of a CH TXT answer (version.bind) into out, printable only.
 *  0 if an answer was found. */
int cs_wire_read_txt(const uint8_t *buf, size_t len, char *out, size_t size);

/** Make bytes printable: other bytes become '?'; out is always terminated. */
void cs_wire_printable(const uint8_t *data, size_t len, char *out, size_t size);
