/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route cs_malloc & co. to cmocka's leak-checking allocator, and fail the Nth allocation.
 */
#pragma once

#include <stddef.h>

/** Install the cmocka hooks: any leak fails the test. */
void test_alloc_install(void);
/** Fail allocation number n (1-based) from now on; 0 never fails. */
void test_alloc_fail_at(size_t n);
/** Allocations counted since install or the last fail_at. */
size_t test_alloc_count(void);
