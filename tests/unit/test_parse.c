/*
 * test_parse.c - bounded number parsing.
 */
#include "test.h"
#include "util/parse.h"

static void parse__u64_table(void **state)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int ok;
		uint64_t want;
	} cases[] = {
		{ "0", 0, 10, 1, 0 },
		{ "10", 0, 10, 1, 10 },
		{ "11", 0, 10, 0, 0 },
		{ "", 0, 10, 0, 0 },
		{ "-1", 0, 10, 0, 0 },
		{ "+1", 0, 10, 0, 0 },
		{ " 1", 0, 10, 0, 0 },
		{ "1 ", 0, 10, 0, 0 },
		{ "1a", 0, 10, 0, 0 },
		{ "0x10", 0, 100, 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, 0, 0 },
		{ "99", 100, 200, 0, 0 },
		{ "007", 0, 10, 1, 7 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int rc =
			parse_u64z(&v, cases[i].in, cases[i].min, cases[i].max);

		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			assert_int_equal(v, cases[i].want);
		else
			assert_int_equal(v, 12345); /* untouched on failure */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse__u64_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
