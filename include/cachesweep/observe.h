/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Observations: what one resolver served for one (name, type), as facts read off the wire.
 * wire.c fills them from ldns packets; classify.c judges them. Nothing here needs ldns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cachesweep/limits.h>

/* RFC 1035 §4.1.1 and RFC 6895 rcodes we name; others keep their number. */
enum {
	CS_RCODE_NOERROR = 0,
	CS_RCODE_FORMERR = 1,
	CS_RCODE_SERVFAIL = 2,
	CS_RCODE_NXDOMAIN = 3,
	CS_RCODE_NOTIMP = 4,
	CS_RCODE_REFUSED = 5,
};

/* RR types we name (RFC 1035, 3596, 4034). */
enum {
	CS_TYPE_A = 1,
	CS_TYPE_NS = 2,
	CS_TYPE_CNAME = 5,
	CS_TYPE_SOA = 6,
	CS_TYPE_MX = 15,
	CS_TYPE_TXT = 16,
	CS_TYPE_AAAA = 28,
	CS_TYPE_DS = 43,
	CS_TYPE_RRSIG = 46,
	CS_TYPE_DNSKEY = 48,
};

/** How a query ended. */
enum cs_outcome {
	CS_OUTCOME_NONE = 0,    /**< not asked */
	CS_OUTCOME_ANSWER,      /**< a reply that matched our query was parsed */
	CS_OUTCOME_TIMEOUT,     /**< nothing acceptable arrived in timeout × (retries + 1) */
	CS_OUTCOME_MALFORMED,   /**< the resolver answered, but not with a usable DNS reply */
	CS_OUTCOME_UNREACHABLE, /**< the network said no (ICMP unreachable, connection refused) */
};

#define CS_EDE_MAX         4
#define CS_EDE_TEXT_MAX    128
#define CS_ANSWER_MAX      8
#define CS_ANSWER_TEXT_MAX 128

/** One Extended DNS Error (RFC 8914). text is sanitised to printable ASCII. */
struct cs_ede {
	uint16_t code;
	char text[CS_EDE_TEXT_MAX];
};

/** What the signatures over the answer's RRset say, checked against the zone's DNSKEYs that
 *  truth validated from the trust anchor (RFC 4035 §5.3). Filled only for data that came
 *  without AD (a validator's AD answer is not re-checked) and when the keys are known. */
enum cs_sig_state {
	CS_SIG_UNCHECKED = 0, /**< not checked: AD set, no data, or no keys */
	CS_SIG_VALID,         /**< at least one RRSIG verifies with a zone key */
	CS_SIG_BOGUS,         /**< RRSIGs present, none verifies */
	CS_SIG_MISSING,       /**< data of a signed zone without any RRSIG */
	CS_SIG_OTHER_SIGNER,  /**< signed by another zone (below a cut): keys not known */
};

struct cs_sig_facts {
	enum cs_sig_state state;
	uint16_t key_tag;           /**< of the (first) RRSIG that failed, or that verified */
	uint8_t algorithm;          /**< of that RRSIG */
	char reason[CS_DETAIL_MAX]; /**< why it failed, from ldns, or "" */
};

/** One reply, as read. All strings are printable ASCII, NUL-terminated. */
struct cs_reply_facts {
	enum cs_outcome outcome;
	char detail[CS_DETAIL_MAX]; /**< why malformed, unreachable, or what was ignored */
	uint16_t rcode;
	bool aa, tc, ra, ad, cd;
	bool via_tcp; /**< the accepted reply came over TCP (after TC=1, or by config) */
	uint32_t rtt_ms;
	unsigned attempts; /**< queries sent, retries and TCP fallback included */

	/* answer section */
	bool has_data;         /**< an RRset of the asked type at the name (CNAMEs followed) */
	size_t answer_count;   /**< records of the asked type */
	uint32_t answer_ttl_s; /**< lowest TTL among them */
	bool has_rrsig;        /**< an RRSIG covering the asked type came with them */
	char answers[CS_ANSWER_MAX][CS_ANSWER_TEXT_MAX]; /**< rdata text of the first few */
	char cname_target[CS_NAME_STR_MAX];              /**< last CNAME target followed, or "" */

	/* SOA: from the answer for an SOA query, else from the authority section */
	bool has_soa;
	bool soa_in_answer;
	char soa_owner[CS_NAME_STR_MAX]; /**< lower case, trailing dot */
	uint32_t soa_ttl_s;              /**< as served: counts down in a cache (RFC 2308 §5) */
	uint32_t soa_serial;
	uint32_t soa_minimum_s;

	/* EDNS (RFC 6891) */
	bool has_edns;
	bool edns_do;
	size_t n_ede;
	struct cs_ede ede[CS_EDE_MAX];
	char nsid[CS_EDE_TEXT_MAX]; /**< NSID (RFC 5001) as text, or hex if not printable */
	/* DNSSEC: the answer's signatures checked against truth's zone keys (dnssec.h) */
	struct cs_sig_facts sig;
};

/** What one resolver served for one (name, type): the CD=0 query users see, and on a
 *  SERVFAIL a second query with CD=1 (RFC 4035 §3.2.2) to tell a DNSSEC failure apart. */
struct cs_observation {
	struct cs_reply_facts main;
	bool cd_probed;
	struct cs_reply_facts cd;
};

/** Name of an rcode ("NXDOMAIN"), or NULL when it has none; see cs_rcode_format. */
const char *cs_rcode_name(uint16_t rcode);
/** "NXDOMAIN", or "RCODE12" for unnamed ones, into buf. */
void cs_rcode_format(uint16_t rcode, char *buf, size_t size);
/** Mnemonic of an RR type ("AAAA"), or "TYPE65" into buf. */
void cs_type_format(uint16_t type, char *buf, size_t size);
/** Parse "A", "aaaa", "TYPE65"; returns 0 and sets *type, or -1. */
int cs_type_parse(const char *s, uint16_t *type);
/** Short meaning of an EDE code from the IANA registry, or "unassigned". */
const char *cs_ede_name(uint16_t code);
