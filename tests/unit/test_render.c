/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every rendering of one fixed report (tests/fakes/fake_report.c) against its golden file in
 * tests/data/golden/. To accept a change of rendering, regenerate them and review the diff:
 *
 *	CS_UPDATE_GOLDEN=1 ctest --test-dir build -R unit.test_render
 *
 * Besides the golden files: the Prometheus output passes a strict exposition-format parser,
 * and the --warning/--critical thresholds turn counts into exit codes as documented.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cachesweep/alloc.h>
#include <cachesweep/state.h>

#include "cli.h"
#include "fake_report.h"
#include "test_alloc.h"

#define GOLDEN_DIR "data/golden/"

/* Render into memory; the caller frees the text with free(). */
struct capture {
	char *text;
	size_t len;
	FILE *fp;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->text, &c->len);
	assert_non_null(c->fp);
}

static void capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->fp), 0);
	c->fp = NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len + 4096 > cap) {
			cap = cap * 2 + 4096;
			char *nb = realloc(buf, cap);
			assert_non_null(nb);
			buf = nb;
		}
		size_t n = fread(buf + *len, 1, cap - *len, fp);
		*len += n;
		if (n == 0) {
			break;
		}
	}
	fclose(fp);
	return buf;
}

/* Compare with the golden file, or rewrite it under CS_UPDATE_GOLDEN=1. */
static void golden(const char *name, const struct capture *c)
{
	char path[256];
	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	const char *update = getenv("CS_UPDATE_GOLDEN");
	if (update != NULL && strcmp(update, "1") == 0) {
		FILE *fp = fopen(path, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(c->text, 1, c->len, fp), c->len);
		assert_int_equal(fclose(fp), 0);
		return;
	}
	size_t len = 0;
	char *want = read_file(path, &len);
	if (want == NULL) {
		fail_msg("%s: %s (CS_UPDATE_GOLDEN=1 creates it)", path, strerror(errno));
		return; /* fail_msg does not return; the analyzer cannot know */
	}
	if (len != c->len || memcmp(want, c->text, len) != 0) {
		size_t i = 0;
		size_t line = 1;
		while (i < len && i < c->len && want[i] == c->text[i]) {
			line += want[i] == '\n';
			i++;
		}
		print_error("%s differs from line %zu on; got:\n%s\n", path, line, c->text);
		free(want);
		fail_msg("%s: rendering changed (CS_UPDATE_GOLDEN=1 rewrites; review the diff)",
			 path);
		return;
	}
	free(want);
}

static int setup(void **state)
{
	test_alloc_install();
	struct cs_report *rep = fake_report_new();
	assert_non_null(rep);
	*state = rep;
	return 0;
}

static int teardown(void **state)
{
	cs_report_free(*state);
	return 0;
}

static void test_render_human_golden(void **state)
{
	struct capture c;
	capture_open(&c);
	render_human(*state, c.fp, false);
	capture_close(&c);
	golden("report.txt", &c);
	free(c.text);
}

static void test_render_json_golden(void **state)
{
	struct capture c;
	capture_open(&c);
	assert_int_equal(cs_report_write_json(*state, c.fp, true, NULL), CS_OK);
	capture_close(&c);
	golden("report.json", &c);
	free(c.text);
}

static void test_render_ndjson_golden(void **state)
{
	const struct cs_report *rep = *state;
	struct capture c;
	capture_open(&c);
	for (size_t i = 0; i < rep->n_resolvers; i++) {
		assert_int_equal(cs_report_write_ndjson_resolver(&rep->resolvers[i], c.fp, NULL),
				 CS_OK);
	}
	assert_int_equal(cs_report_write_ndjson_summary(rep, c.fp, NULL), CS_OK);
	capture_close(&c);
	golden("report.ndjson", &c);
	/* one object a line: every line starts with {"kind": */
	size_t lines = 0;
	for (const char *p = c.text; *p != '\0'; p = strchr(p, '\n') + 1) {
		assert_memory_equal(p, "{\"kind\":", 8);
		lines++;
	}
	assert_int_equal(lines, rep->n_resolvers + 1);
	free(c.text);
}

static void test_render_nagios_golden(void **state)
{
	const struct cs_report *rep = *state;
	const struct cli_threshold none = { 0 };
	int code = cli_exit_code(rep, &none, &none);
	assert_int_equal(code, CLI_EXIT_CRITICAL);
	struct capture c;
	capture_open(&c);
	render_nagios(rep, code, c.fp);
	capture_close(&c);
	golden("report.nagios", &c);
	/* the plugin API: perfdata after the first '|' of the first line, and no other '|' */
	char *nl = strchr(c.text, '\n');
	assert_non_null(nl);
	char *bar = strchr(c.text, '|');
	assert_true(bar != NULL && bar < nl);
	assert_null(strchr(bar + 1, '|'));
	assert_memory_equal(c.text, "CACHESWEEP CRITICAL - ", 22);
	free(c.text);

	capture_open(&c);
	render_nagios_unknown("config: x.json: resolvers[0].port: expected | a number", c.fp);
	capture_close(&c);
	assert_string_equal(
		c.text,
		"CACHESWEEP UNKNOWN - config: x.json: resolvers[0].port: expected / a number\n");
	free(c.text);
}

static void test_render_csv_golden(void **state)
{
	struct capture c;
	capture_open(&c);
	render_csv(*state, c.fp);
	capture_close(&c);
	golden("report.csv", &c);
	free(c.text);
}

/* ---- a strict reader of the Prometheus text exposition format (version 0.0.4) ---- */

static bool is_name_start(char c, bool metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static bool is_name_char(char c, bool metric)
{
	return is_name_start(c, metric) || (c >= '0' && c <= '9');
}

/* Reads a name at *p; returns its length (0: none). */
static size_t name_at(const char *p, bool metric)
{
	size_t n = 0;
	if (!is_name_start(p[0], metric)) {
		return 0;
	}
	while (is_name_char(p[n], metric)) {
		n++;
	}
	return n;
}

struct family {
	char name[128];
	bool help;
	bool type;
	bool samples;
};

#define MAX_FAMILIES 32
#define MAX_SERIES   256

/* Checks text; on the first fault returns a message naming the line, else NULL. */
static const char *prom_check(const char *text, char *why, size_t size)
{
	struct family fam[MAX_FAMILIES];
	size_t n_fam = 0;
	char *series[MAX_SERIES];
	size_t n_series = 0;
	size_t lineno = 0;
	const char *current = NULL; /* the family whose samples are being read */
	const char *fault = NULL;
	memset(fam, 0, sizeof(fam));
	if (text[0] == '\0' || text[strlen(text) - 1] != '\n') {
		return "output must end with a newline";
	}
	for (const char *line = text; *line != '\0'; line = strchr(line, '\n') + 1) {
		size_t len = (size_t)(strchr(line, '\n') - line);
		char buf[1024];
		lineno++;
		if (len == 0 || len >= sizeof(buf)) {
			snprintf(why, size, "line %zu: empty or too long", lineno);
			fault = why;
			break;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		if (buf[0] == '#') {
			bool help = strncmp(buf, "# HELP ", 7) == 0;
			bool type = strncmp(buf, "# TYPE ", 7) == 0;
			if (!help && !type) {
				continue; /* a plain comment */
			}
			size_t nl = name_at(buf + 7, true);
			if (nl == 0 || buf[7 + nl] != ' ' || nl >= sizeof(fam[0].name)) {
				snprintf(why, size, "line %zu: bad metric name", lineno);
				fault = why;
				break;
			}
			size_t f = 0;
			while (f < n_fam && (strlen(fam[f].name) != nl ||
					     strncmp(fam[f].name, buf + 7, nl) != 0)) {
				f++;
			}
			if (f == n_fam) {
				assert_true(n_fam < MAX_FAMILIES);
				memcpy(fam[f].name, buf + 7, nl);
				n_fam++;
			}
			if (fam[f].samples || (help && fam[f].help) || (type && fam[f].type)) {
				snprintf(why, size,
					 "line %zu: HELP/TYPE repeated or after samples of %s",
					 lineno, fam[f].name);
				fault = why;
				break;
			}
			const char *rest = buf + 8 + nl;
			if (type && strcmp(rest, "gauge") != 0 && strcmp(rest, "counter") != 0 &&
			    strcmp(rest, "untyped") != 0 && strcmp(rest, "histogram") != 0 &&
			    strcmp(rest, "summary") != 0) {
				snprintf(why, size, "line %zu: unknown type \"%s\"", lineno, rest);
				fault = why;
				break;
			}
			if (help && rest[0] == '\0') {
				snprintf(why, size, "line %zu: empty HELP", lineno);
				fault = why;
				break;
			}
			fam[f].help = fam[f].help || help;
			fam[f].type = fam[f].type || type;
			continue;
		}
		/* a sample: name [ {label="value",...} ] value [timestamp] */
		size_t nl = name_at(buf, true);
		size_t f = 0;
		while (f < n_fam &&
		       (strlen(fam[f].name) != nl || strncmp(fam[f].name, buf, nl) != 0)) {
			f++;
		}
		if (nl == 0 || f == n_fam || !fam[f].type) {
			snprintf(why, size, "line %zu: sample without a TYPE line before it",
				 lineno);
			fault = why;
			break;
		}
		if (current != NULL && current != fam[f].name && fam[f].samples) {
			snprintf(why, size, "line %zu: samples of %s are not grouped", lineno,
				 fam[f].name);
			fault = why;
			break;
		}
		current = fam[f].name;
		fam[f].samples = true;
		const char *p = buf + nl;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				size_t ln = name_at(p, false);
				if (ln == 0 || p[ln] != '=' || p[ln + 1] != '"') {
					snprintf(why, size, "line %zu: bad label", lineno);
					fault = why;
					goto done;
				}
				p += ln + 2;
				while (*p != '"') {
					if (*p == '\0' || *p == '\n') {
						snprintf(why, size, "line %zu: open label value",
							 lineno);
						fault = why;
						goto done;
					}
					if (*p == '\\') {
						p++;
						if (*p != '\\' && *p != '"' && *p != 'n') {
							snprintf(why, size,
								 "line %zu: bad escape \\%c",
								 lineno, *p);
							fault = why;
							goto done;
						}
					}
					p++;
				}
				p++;
				if (*p == ',') {
					p++;
				} else if (*p != '}') {
					snprintf(why, size, "line %zu: expected , or }", lineno);
					fault = why;
					goto done;
				}
			}
			p++;
		}
		if (*p != ' ') {
			snprintf(why, size, "line %zu: expected a space before the value", lineno);
			fault = why;
			break;
		}
		size_t key_len = (size_t)(p - buf);
		char *end = NULL;
		errno = 0;
		(void)strtod(p + 1, &end);
		if (end == p + 1 || errno != 0 || (*end != '\0' && *end != ' ')) {
			snprintf(why, size, "line %zu: bad value", lineno);
			fault = why;
			break;
		}
		for (size_t s = 0; s < n_series; s++) {
			if (strlen(series[s]) == key_len && strncmp(series[s], buf, key_len) == 0) {
				snprintf(why, size, "line %zu: duplicate series", lineno);
				fault = why;
			}
		}
		if (fault != NULL) {
			break;
		}
		assert_true(n_series < MAX_SERIES);
		series[n_series] = strndup(buf, key_len);
		assert_non_null(series[n_series]);
		n_series++;
	}
done:
	for (size_t s = 0; s < n_series; s++) {
		free(series[s]);
	}
	return fault;
}

static void test_render_prometheus_golden_and_valid(void **state)
{
	struct capture c;
	char why[256];
	capture_open(&c);
	render_prometheus(*state, c.fp);
	capture_close(&c);
	golden("report.prom", &c);
	const char *fault = prom_check(c.text, why, sizeof(why));
	if (fault != NULL) {
		fail_msg("exposition format: %s", fault);
	}
	/* the names of shared/design.md */
	assert_non_null(strstr(
		c.text, "\ncachesweep_resolver_healthy{zone=\"se.\",resolver=\"isp-1\"} 0\n"));
	assert_non_null(strstr(
		c.text,
		"\ncachesweep_resolver_heals_in_seconds{zone=\"se.\",resolver=\"isp-1\"} 3412\n"));
	assert_non_null(strstr(c.text, "\ncachesweep_findings{zone=\"se.\",resolver=\"isp-1\","
				       "verdict=\"cached_nxdomain\"} 1\n"));
	assert_non_null(strstr(
		c.text, "\ncachesweep_last_run_timestamp_seconds{zone=\"se.\"} 1795881600\n"));
	assert_non_null(strstr(c.text, "resolver=\"isp-2 \\\"east\\\", b\\\\1\""));
	free(c.text);
}

/* The checker itself must reject what Prometheus rejects. */
static void test_prom_checker_rejects_bad_input(void **state)
{
	(void)state;
	char why[256];
	static const char *const bad[] = {
		"m 1\n",                                                    /* no TYPE */
		"# TYPE m gauge\nm{a=\"x} 1\n",                             /* open label value */
		"# TYPE m gauge\nm{a=\"\\x\"} 1\n",                         /* bad escape */
		"# TYPE m gauge\nm one\n",                                  /* bad value */
		"# TYPE m gauge\nm 1\nm 2\n",                               /* duplicate series */
		"# TYPE m gauge\n# TYPE m gauge\nm 1\n",                    /* TYPE twice */
		"# TYPE m gauge\n# TYPE n gauge\nm 1\nn 1\nm{a=\"b\"} 1\n", /* not grouped */
		"# TYPE m gauge\nm 1",                                      /* no final newline */
		"# TYPE 1m gauge\n",                                        /* bad name */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (prom_check(bad[i], why, sizeof(why)) == NULL) {
			fail_msg("bad input %zu accepted: %s", i, bad[i]);
		}
	}
	assert_null(prom_check("# HELP m x\n# TYPE m gauge\nm{a=\"\\\"\\\\\\n\"} 1.5\n", why,
			       sizeof(why)));
}

static void test_render_changes_golden(void **state)
{
	const struct cs_report *rep = *state;
	const int64_t t = FAKE_REPORT_AT;
	struct cs_state_entry entries[] = {
		{ .id = "isp-1", .status = CS_STATUS_HEALTHY, .since_s = t - 7200 },
		{ .id = "public-1", .status = CS_STATUS_NEEDS_PURGE, .since_s = t - 3600 },
		{ .id = "dead-1", .status = CS_STATUS_UNREACHABLE, .since_s = t - 600 },
	};
	struct cs_state prev = {
		.zone = "se.", .updated_at_s = t - 300, .n_entries = 3, .entries = entries
	};
	struct cs_state *next = NULL;
	struct cs_change *changes = NULL;
	size_t n = 0;
	assert_int_equal(cs_state_update(&prev, rep, t, &next, &changes, &n, NULL), CS_OK);
	assert_int_equal(n, 3);

	struct capture c;
	capture_open(&c);
	render_changes_human(rep, changes, n, c.fp);
	capture_close(&c);
	golden("changes.txt", &c);
	free(c.text);

	capture_open(&c);
	assert_int_equal(cs_changes_write_json(rep, changes, n, c.fp, NULL), CS_OK);
	capture_close(&c);
	golden("changes.json", &c);
	free(c.text);

	capture_open(&c);
	render_changes_human(rep, NULL, 0, c.fp);
	capture_close(&c);
	assert_int_equal(c.len, 0); /* nothing changed: nothing said, no cron mail */
	free(c.text);

	cs_free(changes);
	cs_state_free(next);
}

static void test_thresholds_parse(void **state)
{
	(void)state;
	struct cli_threshold t;
	assert_int_equal(cli_threshold_parse("warning", "3", &t, NULL), CS_OK);
	assert_true(t.set && !t.percent && t.value == 3);
	assert_int_equal(cli_threshold_parse("warning", "5%", &t, NULL), CS_OK);
	assert_true(t.set && t.percent && t.value == 500);
	assert_int_equal(cli_threshold_parse("warning", "2.5%", &t, NULL), CS_OK);
	assert_int_equal(t.value, 250);
	assert_int_equal(cli_threshold_parse("warning", "0.05%", &t, NULL), CS_OK);
	assert_int_equal(t.value, 5);
	assert_int_equal(cli_threshold_parse("warning", "100%", &t, NULL), CS_OK);
	assert_int_equal(t.value, 10000);
	static const char *const bad[] = { "",    "%",   "-1",     "1.5", "101%", "100.5%",
					   "5.%", ".5%", "1.234%", "x%",  "5 %",  "1e3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cs_error err = { 0 };
		if (cli_threshold_parse("critical", bad[i], &t, &err) != CS_EINVAL) {
			fail_msg("\"%s\" accepted", bad[i]);
		}
		assert_non_null(strstr(err.msg, "--critical"));
	}
}

/* The fixture: 4 resolvers, 1 needs a purge, 3 not healthy. */
static void test_thresholds_exit_codes(void **state)
{
	const struct cs_report *rep = *state;
	struct {
		const char *warning, *critical;
		int want;
	} rows[] = {
		{ NULL, NULL, CLI_EXIT_CRITICAL }, /* design.md's rule */
		{ NULL, "1", CLI_EXIT_WARNING },   /* 1 purge allowed; unhealthy still warns */
		{ "3", "1", CLI_EXIT_OK },         /* 3 unhealthy allowed */
		{ "2", "1", CLI_EXIT_WARNING },
		{ "75%", "25%", CLI_EXIT_OK }, /* 3/4 = 75% is not more than 75% */
		{ "74.99%", "25%", CLI_EXIT_WARNING },
		{ NULL, "24.99%", CLI_EXIT_CRITICAL },
		{ "0", "0", CLI_EXIT_CRITICAL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cli_threshold w = { 0 };
		struct cli_threshold c = { 0 };
		if (rows[i].warning != NULL) {
			assert_int_equal(cli_threshold_parse("warning", rows[i].warning, &w, NULL),
					 CS_OK);
		}
		if (rows[i].critical != NULL) {
			assert_int_equal(
				cli_threshold_parse("critical", rows[i].critical, &c, NULL), CS_OK);
		}
		int got = cli_exit_code(rep, &w, &c);
		if (got != rows[i].want) {
			fail_msg("row %zu (-w %s -c %s): got %d, want %d", i,
				 rows[i].warning ? rows[i].warning : "-",
				 rows[i].critical ? rows[i].critical : "-", got, rows[i].want);
		}
	}
}

static void test_progress_line(void **state)
{
	(void)state;
	char line[160];
	cli_progress_format(250, 1000, 2000, 6, line, sizeof(line));
	assert_string_equal(line, "probed 250/1000 resolvers, 750 answers/s, 6s left");
	cli_progress_format(1000, 1000, 4000, 6, line, sizeof(line));
	assert_string_equal(line, "probed 1000/1000 resolvers, 1500 answers/s, 0s left");
	cli_progress_format(0, 10, 0, 6, line, sizeof(line));
	assert_string_equal(line, "probed 0/10 resolvers, 0 answers/s, ? left");
	cli_progress_format(1, 10000, 90000, 6, line, sizeof(line)); /* long runs read as h/m/s */
	assert_non_null(strstr(line, "10d09h58m left"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render_human_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_json_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_ndjson_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_nagios_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_csv_golden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_prometheus_golden_and_valid, setup,
						teardown),
		cmocka_unit_test(test_prom_checker_rejects_bad_input),
		cmocka_unit_test_setup_teardown(test_render_changes_golden, setup, teardown),
		cmocka_unit_test(test_thresholds_parse),
		cmocka_unit_test_setup_teardown(test_thresholds_exit_codes, setup, teardown),
		cmocka_unit_test(test_progress_line),
	};
	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
