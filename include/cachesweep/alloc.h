/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * All cachesweep allocations go through these, so tests can count, fail or leak-check them.
 * cs_free(NULL) is a no-op. The hook is process-wide and set before any work starts.
 */
#pragma once

#include <stddef.h>

struct cs_alloc_hooks {
	void *(*malloc_fn)(size_t size);
	void *(*calloc_fn)(size_t n, size_t size);
	void *(*realloc_fn)(void *p, size_t size);
	void (*free_fn)(void *p);
};

/** Replace the allocator (NULL restores libc's). Not thread-safe; call before any work. */
void cs_alloc_set_hooks(const struct cs_alloc_hooks *hooks);

void *cs_malloc(size_t size);
void *cs_calloc(size_t n, size_t size);
/** Like realloc, but n * size is checked for overflow (NULL and p untouched on failure). */
void *cs_reallocarray(void *p, size_t n, size_t size);
char *cs_strdup(const char *s);
void cs_free(void *p);
