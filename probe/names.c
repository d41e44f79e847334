/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small pure parsers shared by the config loader, the CLI and the renderers: numbers, domain
 * names in presentation form, and numeric addresses. libc only (cs_core).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cachesweep/config.h>
#include <cachesweep/error.h>

/* RFC 1035 §2.3.4: labels of 63 octets, names of 255 octets on the wire, which is 253
 * characters in presentation form without the final dot. */
#define LABEL_MAX      63
#define NAME_MAX_CHARS 253

int cs_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (s == NULL || s[0] == '\0') {
		return -1;
	}
	/* strtoull accepts leading blanks, signs and "0x" with base 0; we want digits only. */
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return -1;
		}
	}
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		return -1;
	}
	if (v < min || v > max) {
		return -1;
	}
	if (out != NULL) {
		*out = (uint32_t)v;
	}
	return 0;
}

static bool label_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

int cs_name_normalize(const char *in, char *out, size_t size)
{
	if (in == NULL || out == NULL || size == 0) {
		return -1;
	}
	size_t len = strlen(in);
	if (len == 1 && in[0] == '.') {
		if (size < 2) {
			return -1;
		}
		memcpy(out, ".", 2);
		return 0;
	}
	if (len > 0 && in[len - 1] == '.') {
		len--; /* the root label; "a.." keeps one dot and fails on the empty label */
	}
	if (len == 0 || len > NAME_MAX_CHARS || len + 2 > size) {
		return -1;
	}
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '.') {
			if (label == 0) {
				return -1;
			}
			label = 0;
			out[i] = '.';
			continue;
		}
		if (!label_char_ok(c)) {
			return -1;
		}
		label++;
		if (label > LABEL_MAX) {
			return -1;
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (label == 0) {
		return -1;
	}
	out[len] = '.';
	out[len + 1] = '\0';
	return 0;
}

bool cs_name_in_zone(const char *name, const char *zone)
{
	if (name == NULL || zone == NULL) {
		return false;
	}
	if (strcmp(zone, ".") == 0) {
		return true;
	}
	size_t nlen = strlen(name);
	size_t zlen = strlen(zone);
	if (nlen < zlen) {
		return false;
	}
	if (nlen == zlen) {
		return strcasecmp(name, zone) == 0;
	}
	/* below the zone: the suffix must start right after a label boundary */
	if (name[nlen - zlen - 1] != '.') {
		return false;
	}
	return strcasecmp(name + nlen - zlen, zone) == 0;
}

int cs_addr_check(const char *address)
{
	if (address == NULL) {
		return -1;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, address, &a4) == 1) {
		return 0;
	}
	if (inet_pton(AF_INET6, address, &a6) == 1) {
		return 0;
	}
	return -1;
}

int cs_addr_port_parse(const char *spec, char *addr, size_t addr_size, uint16_t *port,
		       uint16_t default_port)
{
	if (spec == NULL || addr == NULL || addr_size == 0) {
		return -1;
	}
	const char *hash = strchr(spec, '#');
	size_t alen = hash != NULL ? (size_t)(hash - spec) : strlen(spec);
	if (alen == 0 || alen >= addr_size) {
		return -1;
	}
	memcpy(addr, spec, alen);
	addr[alen] = '\0';
	if (cs_addr_check(addr) != 0) {
		addr[0] = '\0';
		return -1;
	}
	uint32_t p = default_port;
	if (hash != NULL && cs_parse_u32(hash + 1, 1, 65535, &p) != 0) {
		addr[0] = '\0';
		return -1;
	}
	if (port != NULL) {
		*port = (uint16_t)p;
	}
	return 0;
}
