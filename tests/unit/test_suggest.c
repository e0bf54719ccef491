/*
 * test_suggest.c - edit distance and "did you mean".
 */
#include "test.h"
#include "core/suggest.h"

static void suggest__edit_distance(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("", 0, "abc", 3), 3);
	assert_int_equal(edit_distance("cores", 5, "cores", 5), 0);
	assert_int_equal(edit_distance("corse", 5, "cores", 5), 1);
	assert_int_equal(edit_distance("CORES", 5, "cores", 5), 0);
	assert_int_equal(edit_distance("kitten", 6, "sitting", 7), 3);
}

static void suggest__nearest_or_none(void **state)
{
	static const char *const keys[] = { "cores",	 "sockets",
					    "memory",	 "target_node",
					    "ipconfig0", NULL };

	(void)state;
	assert_string_equal(suggest_nearest("corse", 5, keys), "cores");
	assert_string_equal(suggest_nearest("memroy", 6, keys), "memory");
	assert_string_equal(suggest_nearest("targetnode", 10, keys),
			    "target_node");
	assert_string_equal(suggest_nearest("ipconfig", 8, keys), "ipconfig0");
	assert_null(suggest_nearest("banana", 6, keys));
	assert_string_equal(suggest_nearest("target", 6, keys), "target_node");
	assert_null(suggest_nearest("", 0, keys));
	assert_null(suggest_nearest("x", 1, keys));
}

static void suggest__tie_prefers_same_length(void **state)
{
	static const char *const formats[] = { "raw", "qcow", "qcow2", NULL };
	static const char *const states[] = { "running", "stopped", NULL };

	(void)state;
	assert_string_equal(suggest_nearest("qcow3", 5, formats), "qcow2");
	assert_null(suggest_nearest("started", 7, states));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suggest__edit_distance),
		cmocka_unit_test(suggest__nearest_or_none),
		cmocka_unit_test(suggest__tie_prefers_same_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
