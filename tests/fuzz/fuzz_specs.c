/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the command line's additions and the resolver list files, both written by
 * others. Each input line is an operation on a loaded config: "z ZONE" (--zone), "n SPEC"
 * (--name), "r SPEC" (--resolver), "N"/"R" (clear names/resolvers), "f" (finish). Then the
 * whole input is read as a resolver list file (resolver_files). Every error must be
 * terminated and leave the config freeable; nothing may leak.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cachesweep/alloc.h>
#include <cachesweep/config.h>
#include <cachesweep/error.h>
#include <cachesweep/limits.h>

#include "fuzz.h"

#define MAX_INPUT (64u * 1024u)

static char list_path[64];

static void remove_list(void)
{
	if (list_path[0] != '\0') {
		(void)unlink(list_path);
	}
}

static void check_err(enum cs_errc rc, const struct cs_error *err)
{
	if (rc != CS_OK && memchr(err->msg, '\0', sizeof(err->msg)) == NULL) {
		abort();
	}
}

static void run_ops(char *text)
{
	static const char base[] =
		"{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], "
		"\"resolvers\": [ { \"id\": \"r\", \"address\": \"192.0.2.1\" } ] }";
	struct cs_config *cfg = NULL;
	struct cs_error err;
	memset(&err, 0, sizeof(err));
	if (cs_config_load_string(base, "base.json", &cfg, &err) != CS_OK) {
		abort();
	}
	for (char *line = text; line != NULL && *line != '\0';) {
		char *nl = strchr(line, '\n');
		if (nl != NULL) {
			*nl = '\0';
		}
		const char *arg = line[0] != '\0' && line[1] == ' ' ? line + 2 : "";
		enum cs_errc rc = CS_OK;
		memset(&err, 0, sizeof(err));
		switch (line[0]) {
		case 'z':
			rc = cs_config_set_zone(cfg, arg, &err);
			break;
		case 'n':
			rc = cs_config_add_name(cfg, arg, &err);
			break;
		case 'r':
			rc = cs_config_add_resolver(cfg, arg, &err);
			break;
		case 'N':
			cs_config_clear_names(cfg);
			break;
		case 'R':
			cs_config_clear_resolvers(cfg);
			break;
		case 'f':
			rc = cs_config_finish(cfg, &err);
			break;
		default:
			break;
		}
		check_err(rc, &err);
		if (nl != NULL) {
			*nl = '\n';
			line = nl + 1;
		} else {
			line = NULL;
		}
	}
	memset(&err, 0, sizeof(err));
	check_err(cs_config_finish(cfg, &err), &err);
	cs_config_free(cfg);
}

static void run_list(const uint8_t *data, size_t size)
{
	if (list_path[0] == '\0') {
		const char *tmp = getenv("TMPDIR");
		(void)snprintf(list_path, sizeof(list_path), "%s/cs-fuzz-list.XXXXXX",
			       tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
		int fd = mkstemp(list_path);
		if (fd < 0) {
			list_path[0] = '\0';
			return;
		}
		(void)close(fd);
		(void)atexit(remove_list);
	}
	FILE *f = fopen(list_path, "wb");
	if (f == NULL) {
		return;
	}
	size_t w = fwrite(data, 1, size, f);
	if (fclose(f) != 0 || w != size) {
		return;
	}
	char text[256];
	(void)snprintf(text, sizeof(text),
		       "{ \"zone\": \"se.\", \"names\": [ \"iis.se.\" ], \"resolver_files\": "
		       "[ \"%s\" ] }",
		       list_path);
	struct cs_config *cfg = NULL;
	struct cs_error err;
	memset(&err, 0, sizeof(err));
	enum cs_errc rc = cs_config_load_string(text, "list.json", &cfg, &err);
	if (rc == CS_OK) {
		rc = cs_config_finish(cfg, &err);
	}
	check_err(rc, &err);
	cs_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT) {
		return 0;
	}
	char *text = cs_malloc(size + 1);
	if (text == NULL) {
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	run_ops(text);
	cs_free(text);
	run_list(data, size);
	return 0;
}
