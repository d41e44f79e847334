/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fingerprint gathering: ask resolvers CHAOS TXT version.bind, version.server,
 * trustanchor.unbound and version.pdns (NSID asked on each) through the probe engine, and
 * hand the facts to the pure cs_fingerprint_classify().
 *
 *	bool want[n] = { ... };
 *	struct cs_fingerprint fp[n];
 *	cs_fingerprint_gather(base, cfg, want, fp, &err);
 *	cs_fingerprint_classify(&fp[i], &guess);
 */
#pragma once

#include <stdbool.h>

#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/software.h>

struct event_base;

/**
 * Probe every resolver i of cfg with want[i] (4 CH TXT queries each) and fill out[i]; others
 * are zeroed. A resolver's silence is a fact (nothing answered), never an error.
 * \return CS_OK, CS_ENOMEM, or what the engine returns when its loop fails
 */
enum cs_errc cs_fingerprint_gather(struct event_base *base, const struct cs_config *cfg,
				   const bool *want, struct cs_fingerprint *out,
				   struct cs_error *err);
