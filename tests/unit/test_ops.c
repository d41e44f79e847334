/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What makes repeated runs safe: the lock (a second holder is refused with the first's pid)
 * and atomic output files (a reader sees the old file or the new one, never half of one).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "test_alloc.h"

static char dir[] = "/tmp/cs-ops-test.XXXXXX";

static int setup(void **state)
{
	(void)state;
	test_alloc_install();
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	/* the test's own scratch directory, quoted; no input from outside reaches the shell */
	return system(cmd) == 0 ? 0 : -1; // NOLINT(cert-env33-c)
}

static size_t entries_in(const char *path)
{
	size_t n = 0;
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

static void test_lock_second_holder_refused(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd1 = -1;
	int fd2 = -1;
	struct cs_error err = { 0 };
	assert_int_equal(cli_lock_acquire(path, &fd1, &err), CS_OK);
	/* flock locks belong to the open file description: a second open conflicts even here */
	assert_int_equal(cli_lock_acquire(path, &fd2, &err), CS_EIO);
	assert_int_equal(fd2, -1);
	char want[64];
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	assert_non_null(strstr(err.msg, "another cachesweep run holds the lock"));
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, path));
	cli_lock_release(fd1);
	assert_int_equal(cli_lock_acquire(path, &fd2, &err), CS_OK);
	cli_lock_release(fd2);

	memset(&err, 0, sizeof(err));
	assert_int_equal(cli_lock_acquire("/nonexistent/dir/lock", &fd1, &err), CS_EIO);
	assert_non_null(strstr(err.msg, "--lock /nonexistent/dir/lock: "));
}

static void test_output_atomic(void **state)
{
	(void)state;
	char out_dir[128];
	char path[160];
	snprintf(out_dir, sizeof(out_dir), "%s/out", dir);
	assert_int_equal(mkdir(out_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/cachesweep.prom", out_dir);
	FILE *fp = fopen(path, "w");
	fputs("old\n", fp);
	fclose(fp);

	/* aborted: the old file stays, no temporary is left */
	struct cli_out out;
	assert_int_equal(cli_out_open(&out, path, "-o", NULL), CS_OK);
	assert_non_null(out.tmp);
	assert_non_null(strstr(out.tmp, "/.cachesweep.prom."));
	fputs("half", out.fp);
	fflush(out.fp);
	assert_int_equal(entries_in(out_dir), 2);
	cli_out_abort(&out);
	assert_int_equal(entries_in(out_dir), 1);
	char buf[16] = "";
	fp = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "old\n");

	/* committed: replaced whole, readable by others as umask allows */
	mode_t mask = umask(022);
	assert_int_equal(cli_out_open(&out, path, "-o", NULL), CS_OK);
	fputs("new\n", out.fp);
	assert_int_equal(cli_out_commit(&out, "-o", NULL), CS_OK);
	umask(mask);
	assert_null(out.tmp);
	assert_int_equal(entries_in(out_dir), 1);
	fp = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "new\n");
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);

	/* stdout is written directly */
	assert_int_equal(cli_out_open(&out, NULL, "-o", NULL), CS_OK);
	assert_ptr_equal(out.fp, stdout);
	assert_int_equal(cli_out_commit(&out, "-o", NULL), CS_OK);

	struct cs_error err = { 0 };
	assert_int_equal(cli_out_open(&out, "/nonexistent/dir/x.prom", "-o", &err), CS_EIO);
	assert_non_null(strstr(err.msg, "-o /nonexistent/dir/x.prom: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_second_holder_refused),
		cmocka_unit_test(test_output_atomic),
	};
	return cmocka_run_group_tests_name("ops", tests, setup, teardown);
}
