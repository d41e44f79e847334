/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Named limits. Exceeding one is a clear error that names the limit.
 */
#pragma once

#define CS_NAME_STR_MAX          256     /**< a domain name in presentation form, with NUL */
#define CS_MAX_NAMES             1000    /**< sample names in one run */
#define CS_MAX_RESOLVERS         1000000 /**< resolvers in one run */
#define CS_MAX_AUTHORITIES       64      /**< authoritative servers in truth.authorities */
#define CS_MAX_BAD_SERIALS       1000    /**< known_bad_serials entries */
#define CS_MAX_INCIDENT_PATTERNS 64      /**< incident_patterns entries */
#define CS_MAX_CONFIG_BYTES      (16u * 1024u * 1024u)  /**< a config file */
#define CS_MAX_REPORT_BYTES      (64u * 1024u * 1024u)  /**< a report read back */
#define CS_MAX_LIST_BYTES        (256u * 1024u * 1024u) /**< a resolver list file */
#define CS_MAX_LIST_LINE         1024                   /**< one line of a resolver list file */
#define CS_MAX_REPLY             65535                  /**< one DNS message */
#define CS_EDNS_UDP_SIZE         1232 /**< advertised EDNS buffer (DNS flag day 2020) */
#define CS_MAX_TIMEOUT_MS        60000u
#define CS_MAX_RETRIES           10u
#define CS_MAX_CONCURRENCY       100000u
#define CS_DETAIL_MAX            192 /**< a detail or error text in a finding or truth row */

/** Probes in one run: resolvers × (names + 1, for each resolver is also asked the zone's SOA).
 *  The engine holds only the window's probes, but the report keeps a finding per probe (about
 *  110 bytes packed) and a resolver record (about 1.2 KB), so this bounds a run's memory;
 *  cs_config_finish() refuses more, before the first packet. */
#define CS_MAX_PROBES 2000000
