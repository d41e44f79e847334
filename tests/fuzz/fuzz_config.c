/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: bytes → cs_config_load_string → cs_config_finish → cs_config_free. A config
 * is a file others wrote: any bytes must end in a config or in an error that says where and
 * what, never in a crash, a leak or an unterminated message. Relative paths in the config
 * (resolver_files) resolve against the working directory; run the fuzzer in an empty one.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/config.h>
#include <cachesweep/limits.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CS_MAX_CONFIG_BYTES) {
		return 0;
	}
	char *text = cs_malloc(size + 1);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	struct cs_config *cfg = NULL;
	struct cs_error err;
	memset(&err, 0, sizeof(err));
	enum cs_errc rc = cs_config_load_string(text, "fuzz.json", &cfg, &err);
	if (rc == CS_OK) {
		if (cfg == NULL) {
			abort();
		}
		rc = cs_config_finish(cfg, &err);
	} else if (cfg != NULL) {
		abort(); /* *out is set only on success */
	}
	if (rc != CS_OK && memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort();
	}
	cs_config_free(cfg);
	cs_free(text);
	return 0;
}
