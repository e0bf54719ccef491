/*
 * test_rounds.c - the retry rounds of apply: a timeout, a permanent refusal
 * and a failure of no VM are not tried again, everything else is; only those
 * items run; when every failure was refused for good.
 */
#include "test.h"
#include "ops/rounds.h"

static void rounds__retry_names(void **state)
{
	struct strvec names = STRVEC_INIT, again = STRVEC_INIT;
	const enum err_kind kinds[] = {
		ERR_LOCKED, ERR_TIMEOUT,   ERR_GENERIC,
		ERR_LOST,   ERR_PERMANENT, ERR_INVALID
	};

	(void)state;
	strvec_pushl(&names, "a", "b", "c", "", "d", "e", NULL);
	assert_int_equal(rounds_retry_names(&again, &names, kinds), 2);
	assert_int_equal(again.nr, 2);
	assert_string_equal(again.v[0], "a");
	assert_string_equal(again.v[1], "c");
	strvec_clear(&again);
	strvec_clear(&names);
	assert_int_equal(rounds_retry_names(&again, &names, kinds), 0);
}

static void rounds__all_refused(void **state)
{
	struct strvec names = STRVEC_INIT;
	const enum err_kind refused[] = { ERR_PERMANENT, ERR_INVALID };
	const enum err_kind mixed[] = { ERR_PERMANENT, ERR_LOCKED };

	(void)state;
	assert_false(rounds_all_refused(&names, refused)); /* none failed */
	strvec_pushl(&names, "a", "b", NULL);
	assert_true(rounds_all_refused(&names, refused));
	assert_false(rounds_all_refused(&names, mixed));
	strvec_clear(&names);
}

static void rounds__keep_only(void **state)
{
	struct plan_item items[3];
	struct plan p;
	struct strvec names = STRVEC_INIT;

	(void)state;
	memset(items, 0, sizeof(items));
	memset(&p, 0, sizeof(p));
	items[0].name = (char *)"a";
	items[0].op = PLAN_CREATE;
	items[1].name = (char *)"b";
	items[1].op = PLAN_UPDATE;
	items[2].name = (char *)"c";
	items[2].op = PLAN_DESTROY;
	p.items = items;
	p.nr = 3;
	strvec_pushl(&names, "b", "zzz", NULL);
	rounds_keep_only(&p, &names);
	assert_int_equal(items[0].op, PLAN_NOOP);
	assert_int_equal(items[1].op, PLAN_UPDATE);
	assert_int_equal(items[2].op, PLAN_NOOP);
	strvec_clear(&names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rounds__retry_names),
		cmocka_unit_test(rounds__all_refused),
		cmocka_unit_test(rounds__keep_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
