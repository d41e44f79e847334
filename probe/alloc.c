/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cachesweep/alloc.h>

static struct cs_alloc_hooks hooks = { malloc, calloc, realloc, free };

void cs_alloc_set_hooks(const struct cs_alloc_hooks *h)
{
	if (h == NULL) {
		hooks = (struct cs_alloc_hooks){ malloc, calloc, realloc, free };
		return;
	}
	hooks = *h;
}

void *cs_malloc(size_t size)
{
	return hooks.malloc_fn(size == 0 ? 1 : size);
}

void *cs_calloc(size_t n, size_t size)
{
	if (n == 0 || size == 0) {
		return hooks.calloc_fn(1, 1);
	}
	return hooks.calloc_fn(n, size);
}

void *cs_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		return NULL;
	}
	size_t total = n * size;
	return hooks.realloc_fn(p, total == 0 ? 1 : total);
}

char *cs_strdup(const char *s)
{
	if (s == NULL) {
		return NULL;
	}
	size_t len = strlen(s) + 1;
	char *copy = cs_malloc(len);
	if (copy != NULL) {
		memcpy(copy, s, len);
	}
	return copy;
}

void cs_free(void *p)
{
	if (p != NULL) {
		hooks.free_fn(p);
	}
}
