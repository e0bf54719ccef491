/*
 * test_recost.c - the expanded size of regular expressions, which keeps
 * glibc's regcomp from taking gigabytes on nested counted repetitions.
 */
#include "test.h"
#include "core/recost.h"

static void recost__plain_patterns_count_their_atoms(void **state)
{
	(void)state;
	assert_int_equal(regex_expanded_size(""), 0);
	assert_int_equal(regex_expanded_size("^haproxy(-.*)?$"), 9);
	assert_int_equal(regex_expanded_size("^talos-[^-]+-cp[0-9]+$"), 13);
	assert_int_equal(regex_expanded_size("a\\{b"), 3);
	assert_int_equal(regex_expanded_size("[]{}]x"), 2);
	assert_int_equal(regex_expanded_size("[[:digit:]]{3}"), 3);
}

static void recost__counted_repetitions_multiply(void **state)
{
	(void)state;
	assert_int_equal(regex_expanded_size("a{5}"), 5);
	assert_int_equal(regex_expanded_size("a{2,7}"), 7);
	assert_int_equal(regex_expanded_size("a{3,}"), 4);
	assert_int_equal(regex_expanded_size("(ab){10}"), 20);
	assert_int_equal(regex_expanded_size("((a{10}){10}){10}"), 1000);
	assert_true(regex_expanded_size("((a{10}){10}){10}") >
		    REGEX_MAX_EXPANDED);
	assert_true(
		regex_expanded_size("^k8s-[a-z0-9]{1,20}-(cp|w)[0-9]{1,3}$") <
		REGEX_MAX_EXPANDED);
	/* 0.7 s and 60 MB in glibc for ten of them, 14 s for twelve */
	assert_true(regex_expanded_size("2a?++++++++++9") > REGEX_MAX_EXPANDED);
	assert_true(regex_expanded_size("((a{1,200}){1,200}){1,50}") >
		    REGEX_MAX_EXPANDED);
	assert_true(regex_expanded_size("(((a{0,255}){0,255}){0,255})") >
		    REGEX_MAX_EXPANDED);
	/* X+ is X X*, and a++ copies that again */
	assert_int_equal(regex_expanded_size("a+"), 2);
	assert_int_equal(regex_expanded_size("(ab)+"), 4);
	assert_int_equal(regex_expanded_size("a+++"), 8);
	assert_true(regex_expanded_size("6++++++++++++++++++++++++++++++++") >
		    REGEX_MAX_EXPANDED);
	/* a brace that is no interval is a literal */
	assert_int_equal(regex_expanded_size("a{x}"), 4);
}

static void recost__hostile_nesting_saturates(void **state)
{
	char deep[300];
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		deep[i] = '(';
	deep[100] = '\0';
	assert_true(regex_expanded_size(deep) > REGEX_MAX_EXPANDED);
	assert_true(regex_expanded_size("a{99999999999999999999}") >
		    REGEX_MAX_EXPANDED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recost__plain_patterns_count_their_atoms),
		cmocka_unit_test(recost__counted_repetitions_multiply),
		cmocka_unit_test(recost__hostile_nesting_saturates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
