/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * State between runs (--state FILE) and the changes since the last run (--changes), so that a
 * cron job says only what changed: which resolvers went bad, which healed, and since when.
 * The state holds each resolver's last status and when that status began; nothing else.
 *
 *	struct cs_state *prev = NULL, *next = NULL;
 *	struct cs_change *changes = NULL;
 *	size_t n = 0;
 *	rc = cs_state_load(path, &prev, &err);     // CS_EIO: missing; CS_ECONFIG: corrupt
 *	rc = cs_state_update(prev, rep, clock->wall_s(clock), &next, &changes, &n, &err);
 *	rc = cs_state_write_json(next, fp, &err);  // the caller makes the write atomic
 *	rc = cs_changes_write_json(rep, changes, n, stdout, &err);
 *	cs_free(changes); cs_state_free(prev); cs_state_free(next);
 *
 * cs_state_update() is pure: time comes in as now_s, so tests move it with a fake clock.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cachesweep/classify.h>
#include <cachesweep/error.h>
#include <cachesweep/report.h>

#define CS_STATE_SCHEMA   "cachesweep.state/1"
#define CS_CHANGES_SCHEMA "cachesweep.changes/1"

struct cs_state_entry {
	char id[256];
	enum cs_status status;
	int64_t since_s; /**< wall-clock seconds: first run that saw this status */
};

struct cs_state {
	char zone[CS_NAME_STR_MAX];
	int64_t updated_at_s;
	size_t n_entries;
	struct cs_state_entry *entries;
};

enum cs_change_kind {
	CS_CHANGE_BAD = 0, /**< newly not healthy: was healthy, or first seen not healthy */
	CS_CHANGE_HEALED,  /**< healthy again */
	CS_CHANGE_CHANGED, /**< from one unhealthy status to another */
};
#define CS_CHANGE_KIND_COUNT (CS_CHANGE_CHANGED + 1)

/** One resolver whose status changed since the last run. */
struct cs_change {
	size_t resolver_index; /**< into the report's resolvers (borrow id, address from there) */
	enum cs_change_kind kind;
	bool first_seen;      /**< no earlier state for it: from and since_s are meaningless */
	enum cs_status from;  /**< the status it had */
	int64_t since_s;      /**< since when it had that status */
	enum cs_status to;    /**< its status now (the report's) */
	int64_t changed_at_s; /**< now_s of this run */
};

/** "bad", "healed", "changed"; NULL when out of range. */
const char *cs_change_kind_name(enum cs_change_kind kind);

/**
 * The state after rep, and what changed since prev. Resolvers are matched by id; a resolver
 * in prev that is not in rep is dropped. A resolver first seen healthy is no change.
 *
 * \param prev     the last run's state, or NULL (a fresh start)
 * \param now_s    wall-clock seconds of this run
 * \param next     a new state; free with cs_state_free()
 * \param changes  a new array of *n_changes changes (NULL when none), in report order;
 *                 free with cs_free()
 * \return CS_OK or CS_ENOMEM
 */
enum cs_errc cs_state_update(const struct cs_state *prev, const struct cs_report *rep,
			     int64_t now_s, struct cs_state **next, struct cs_change **changes,
			     size_t *n_changes, struct cs_error *err);

/**
 * Read a state file (schema cachesweep.state/1).
 * \param out  a new state; free with cs_state_free()
 * \return CS_OK; CS_EIO when the file cannot be read (err->sys_errno is ENOENT when missing);
 *         CS_ECONFIG when it is not a valid state (err says where and what); CS_ENOMEM
 */
enum cs_errc cs_state_load(const char *path, struct cs_state **out, struct cs_error *err);

/** Write the state as JSON. \return CS_OK, CS_ENOMEM or CS_EIO */
enum cs_errc cs_state_write_json(const struct cs_state *state, FILE *fp, struct cs_error *err);

/**
 * Write the changes as one JSON object (schema cachesweep.changes/1): generated_at, zone,
 * summary, and changes[] with id, address, port, kind, from, since, to, heals_in_s.
 */
enum cs_errc cs_changes_write_json(const struct cs_report *rep, const struct cs_change *changes,
				   size_t n_changes, FILE *fp, struct cs_error *err);

void cs_state_free(struct cs_state *state);
