/*
 * test_report.c - report_print: text from outside reaches the terminal
 * escaped, its line breaks kept; report_info: the same, but not with -q.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/report.h"

static char *printed(const char *subject)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	report_print(fp, "pipeline: %s\n", subject);
	fclose(fp);
	return buf;
}

static void report__print_escapes_control_characters(void **state)
{
	char *s = printed("fix \033]0;owned\007 \033[2J\r");

	(void)state;
	assert_string_equal(s,
			    "pipeline: fix \\x1b]0;owned\\x07 \\x1b[2J\\r\n");
	free(s);
}

static void report__print_keeps_line_breaks_and_tabs(void **state)
{
	char *s = printed("a\nb\t\\c");

	(void)state;
	assert_string_equal(s, "pipeline: a\nb\t\\\\c\n");
	free(s);
}

static void report__print_escapes_invalid_utf8(void **state)
{
	char *s = printed("caf\xc3\xa9 \xff\xfe");

	(void)state;
	assert_string_equal(s, "pipeline: caf\xc3\xa9 \\xff\\xfe\n");
	free(s);
}

static void report__info_not_with_quiet(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(fp);
	report_setup(0, false);
	assert_true(report_shows_info());
	report_info(fp, "shown \033 %d\n", 1);
	report_setup(-1, false);
	assert_false(report_shows_info());
	report_info(fp, "hidden %d\n", 2);
	report_print(fp, "data %d\n", 3); /* data: whatever the verbosity */
	report_setup(0, false);
	fclose(fp);
	assert_string_equal(buf, "shown \\x1b 1\ndata 3\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report__print_escapes_control_characters),
		cmocka_unit_test(report__print_keeps_line_breaks_and_tabs),
		cmocka_unit_test(report__print_escapes_invalid_utf8),
		cmocka_unit_test(report__info_not_with_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
