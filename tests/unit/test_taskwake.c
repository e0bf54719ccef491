/*
 * test_taskwake.c - the shared task poller: which waiters a poll of a
 * node's running tasks wakes, and when a waiter wakes next.
 */
#include "test.h"
#include "core/taskwake.h"

static void taskwake__ended(void **state)
{
	const char *active[] = { "UPID:n1:a", "UPID:n1:b" };

	(void)state;
	/* still listed as running: keep waiting */
	assert_false(taskwake_ended("UPID:n1:a", 1, 2, active, 2, false));
	/* not listed: it ended, read its status */
	assert_true(taskwake_ended("UPID:n1:c", 1, 2, active, 2, false));
	assert_true(taskwake_ended("UPID:n1:c", 2, 2, active, 2, false));
	/* registered after the poll was sent: the answer may not know it */
	assert_false(taskwake_ended("UPID:n1:c", 3, 2, active, 2, false));
	assert_false(taskwake_ended("UPID:n1:a", 3, 2, active, 2, true));
	/* a failed or cut-short poll: every judged waiter looks itself */
	assert_true(taskwake_ended("UPID:n1:a", 1, 2, active, 2, true));
	/* nothing runs on the node */
	assert_true(taskwake_ended("UPID:n1:a", 1, 1, NULL, 0, false));
}

static void taskwake__wake_at(void **state)
{
	(void)state;
	assert_int_equal(taskwake_wake_at(false, 100, 500), 100);
	/* the deadline comes first */
	assert_int_equal(taskwake_wake_at(false, 600, 500), 500);
	/* a poll on its way wakes it; the deadline bounds the wait */
	assert_int_equal(taskwake_wake_at(true, 100, 500), 500);
	assert_int_equal(taskwake_wake_at(false, 100, 0), 100);
	assert_int_equal(taskwake_wake_at(true, 100, 0), 0);
}

static void taskwake__interval(void **state)
{
	(void)state;
	assert_int_equal(taskwake_interval(0, 10, 1000), 10);
	assert_int_equal(taskwake_interval(249, 10, 1000), 10);
	assert_int_equal(taskwake_interval(1000, 10, 1000), 40);
	assert_int_equal(taskwake_interval(5000, 10, 1000), 200);
	/* an hour-long clone: once a second */
	assert_int_equal(taskwake_interval(3600000, 10, 1000), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(taskwake__ended),
		cmocka_unit_test(taskwake__wake_at),
		cmocka_unit_test(taskwake__interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
