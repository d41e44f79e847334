/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: bytes → cs_report_load_string (purge --report, notify --report read reports
 * made elsewhere) → the JSON writer → read back. Any bytes must end in a report or in an
 * error that says where and what, never in a crash or a leak; and a report that loads must
 * write out as a report that loads again (the writer and the reader agree on the contract).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cachesweep/alloc.h>
#include <cachesweep/limits.h>
#include <cachesweep/report.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CS_MAX_REPORT_BYTES) {
		return 0;
	}
	struct cs_report *rep = NULL;
	struct cs_error err;
	memset(&err, 0, sizeof(err));
	enum cs_errc rc = cs_report_load_string((const char *)data, size, "fuzz.json", &rep, &err);
	if (rc != CS_OK) {
		if (rep != NULL || memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
			abort(); /* *out only on success; messages always terminated */
		}
		return 0;
	}
	if (rep == NULL) {
		abort();
	}
	/* round trip: what we write, we must read */
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (fp != NULL) {
		enum cs_errc wrc = cs_report_write_json(rep, fp, false, &err);
		if (fclose(fp) == 0 && wrc == CS_OK) {
			struct cs_report *again = NULL;
			if (cs_report_load_string(buf, len, "round-trip.json", &again, &err) !=
			    CS_OK) {
				fprintf(stderr, "round trip failed: %s\n", err.msg);
				abort();
			}
			cs_report_free(again);
		}
		free(buf);
	}
	cs_report_free(rep);
	return 0;
}
