/*
 * test_diag.c - diagnostic lists: order, counts, escaped rendering.
 */
#include "test.h"
#include "core/diag.h"

static void diag__sort_is_stable_by_position(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	diag_add(&dl, DIAG_ERROR, "b.yaml", 1, 1, "b1");
	diag_add(&dl, DIAG_WARNING, "a.yaml", 3, 1, "a3");
	diag_add(&dl, DIAG_ERROR, "a.yaml", 1, 5, "first");
	diag_add(&dl, DIAG_ERROR, "a.yaml", 1, 5, "second");
	diag_list_sort(&dl);
	assert_string_equal(dl.items[0].msg, "first");
	assert_string_equal(dl.items[1].msg, "second");
	assert_string_equal(dl.items[2].msg, "a3");
	assert_string_equal(dl.items[3].msg, "b1");
	assert_int_equal(dl.errors, 3);
	assert_int_equal(dl.warnings, 1);
	diag_list_release(&dl);
}

static void diag__format_escapes_untrusted_text(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	diag_add(&dl, DIAG_ERROR, "evil\n.yaml", 2, 3, "bad '%s'", "\x1b[2J");
	diag_add(&dl, DIAG_WARNING, "f.yaml", 0, 0, "whole file");
	diag_format(&sb, &dl.items[0]);
	assert_string_equal(sb.buf, "evil\\n.yaml:2:3: error: bad '\\x1b[2J'");
	strbuf_reset(&sb);
	diag_format(&sb, &dl.items[1]);
	assert_string_equal(sb.buf, "f.yaml: warning: whole file");
	strbuf_release(&sb);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diag__sort_is_stable_by_position),
		cmocka_unit_test(diag__format_escapes_untrusted_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
