/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attributes used across cachesweep: printf-format checking and must-use results.
 */
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define CS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CS_NODISCARD    __attribute__((warn_unused_result))
#else
#define CS_PRINTF(f, a)
#define CS_NODISCARD
#endif
