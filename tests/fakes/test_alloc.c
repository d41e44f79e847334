/* SPDX-License-Identifier: BSD-3-Clause */
#include "test_alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>

static size_t fail_at;
static size_t count;

static int should_fail(void)
{
	count++;
	return fail_at != 0 && count >= fail_at;
}

static void *t_malloc(size_t size)
{
	if (should_fail()) {
		return NULL;
	}
	return test_malloc(size);
}

static void *t_calloc(size_t n, size_t size)
{
	if (should_fail()) {
		return NULL;
	}
	return test_calloc(n, size);
}

static void *t_realloc(void *p, size_t size)
{
	if (should_fail()) {
		return NULL;
	}
	return test_realloc(p, size);
}

static void t_free(void *p)
{
	test_free(p);
}

void test_alloc_install(void)
{
	static const struct cs_alloc_hooks hooks = { t_malloc, t_calloc, t_realloc, t_free };
	cs_alloc_set_hooks(&hooks);
	fail_at = 0;
	count = 0;
}

void test_alloc_fail_at(size_t n)
{
	fail_at = n;
	count = 0;
}

size_t test_alloc_count(void)
{
	return count;
}
