/* SPDX-License-Identifier: BSD-3-Clause */
/* The libFuzzer entry point every target defines; replay_main.c calls it without libFuzzer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
