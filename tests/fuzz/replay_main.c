/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Corpus replay without libFuzzer: feed every file named on the command line (or every file
 * in a named directory) to LLVMFuzzerTestOneInput once. Every build runs this in ctest, so
 * each regression input found by fuzzing is checked by gcc builds and CI too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_FILE (16u * 1024u * 1024u)

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_MAX_FILE);
	if (buf == NULL) {
		fclose(f);
		fprintf(stderr, "replay: out of memory\n");
		return -1;
	}
	size_t n = fread(buf, 1, REPLAY_MAX_FILE, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		fprintf(stderr, "replay: %s: read error\n", path);
		return -1;
	}
	/* a copy of exactly n bytes, so ASan sees any read past the input */
	uint8_t *copy = malloc(n > 0 ? n : 1);
	if (copy == NULL) {
		free(buf);
		return -1;
	}
	memcpy(copy, buf, n);
	free(buf);
	(void)LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int replay_dir(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t n = 0;
	int rc = 0;
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		if (e->d_name[0] == '.') {
			continue;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p = malloc(len);
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (p == NULL || nn == NULL) {
			free(p);
			free(nn != NULL ? nn : names);
			names = NULL;
			n = 0;
			rc = -1;
			break;
		}
		names = nn;
		snprintf(p, len, "%s/%s", dir, e->d_name);
		names[n++] = p;
	}
	closedir(d);
	if (names != NULL) {
		qsort(names, n, sizeof(*names), cmp);
	}
	for (size_t i = 0; names != NULL && i < n; i++) {
		struct stat st;
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(names[i]) != 0) {
				rc = -1;
			}
			(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			rc = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &count) != 0) {
				rc = 1;
			}
		} else {
			if (replay_file(argv[i]) != 0) {
				rc = 1;
			}
			count++;
		}
	}
	if (count == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	printf("replay: %zu inputs, no crash\n", count);
	return rc;
}
