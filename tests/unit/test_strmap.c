/*
 * test_strmap.c - the string-to-index hash table: put, replace, get,
 * growth over many keys, and the empty map.
 */
#include "test.h"

#include <stdio.h>

#include "util/strmap.h"

static void strmap__basics(void **state)
{
	struct strmap m = STRMAP_INIT;
	size_t v = 99;

	(void)state;
	assert_false(strmap_get(&m, "a", &v));
	assert_false(strmap_has(&m, ""));
	strmap_put(&m, "a", 1);
	strmap_put(&m, "", 2);
	strmap_put(&m, "a", 3);
	assert_int_equal(m.nr, 2);
	assert_true(strmap_get(&m, "a", &v));
	assert_int_equal(v, 3);
	assert_true(strmap_get(&m, "", &v));
	assert_int_equal(v, 2);
	assert_false(strmap_has(&m, "b"));
	strmap_release(&m);
	assert_false(strmap_has(&m, "a"));
	strmap_release(&m);
}

static void strmap__many(void **state)
{
	struct strmap m = STRMAP_INIT;
	char key[32];
	size_t i, v;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "vm-%zu", i);
		strmap_put(&m, key, i);
	}
	assert_int_equal(m.nr, 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "vm-%zu", i);
		assert_true(strmap_get(&m, key, &v));
		assert_int_equal(v, i);
	}
	assert_false(strmap_has(&m, "vm-20000"));
	assert_true(m.nr * 4 <= m.cap * 3);
	strmap_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strmap__basics),
		cmocka_unit_test(strmap__many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
