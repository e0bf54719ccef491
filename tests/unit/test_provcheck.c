/*
 * test_provcheck.c - the verdict on a new host before the playbook (from
 * the exit status of `ssh HOST -- cloud-init status --wait` and
 * provision.on_cloud_init_error), whether the playbook runs, and the exit
 * status of stage two.
 */
#include "test.h"
#include "core/provcheck.h"
#include "util/exitcode.h"

#include <string.h>

static void provcheck__judge(void **state)
{
	static const struct {
		int status;
		bool cont;
		enum provcheck_verdict verdict;
		const char *cloud_init, *why; /* why: a part of it */
	} cases[] = {
		{ 0, false, PROVCHECK_READY, "done", NULL },
		{ 0, true, PROVCHECK_READY, "done", NULL },
		{ 127, false, PROVCHECK_READY, "absent", NULL },
		{ 2, false, PROVCHECK_WARN, "degraded", "recoverable" },
		{ 1, false, PROVCHECK_FAILED, "error", "status: error" },
		{ 1, true, PROVCHECK_WARN, "error", "provisioned anyway" },
		{ 3, false, PROVCHECK_FAILED, "error", "reported an error" },
		{ 137, false, PROVCHECK_FAILED, "error", "reported an error" },
		/* a refused login fails the host whatever the policy */
		{ 255, false, PROVCHECK_FAILED, "not checked", "SSH login" },
		{ 255, true, PROVCHECK_FAILED, "not checked", "SSH login" },
		{ -1, true, PROVCHECK_FAILED, "not checked", "ssh could not" },
		/* never finished: failed, continue or not */
		{ PROVCHECK_TIMED_OUT, true, PROVCHECK_FAILED, "running",
		  "had not finished" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct provcheck c;

		provcheck_judge(&c, cases[i].status, cases[i].cont);
		assert_int_equal(c.verdict, cases[i].verdict);
		assert_string_equal(c.cloud_init, cases[i].cloud_init);
		if (!cases[i].why) {
			assert_null(c.why);
			continue;
		}
		assert_non_null(c.why);
		assert_non_null(strstr(c.why, cases[i].why));
	}
}

static void provcheck__unreachable_fails(void **state)
{
	struct provcheck c;

	(void)state;
	provcheck_unreachable(&c);
	assert_int_equal(c.verdict, PROVCHECK_FAILED);
	assert_string_equal(c.cloud_init, "not checked");
}

static void provcheck__runs(void **state)
{
	(void)state;
	assert_true(provcheck_runs(0, 0));  /* no new host: the inventory */
	assert_true(provcheck_runs(2, 0));  /* all ready */
	assert_true(provcheck_runs(2, 1));  /* on the one that is */
	assert_false(provcheck_runs(2, 2)); /* none ready: not at all */
	assert_false(provcheck_runs(1, 1));
}

static void provcheck__exit(void **state)
{
	(void)state;
	assert_int_equal(provcheck_exit(0, true, 0), EXIT_OK);
	assert_int_equal(provcheck_exit(0, false, 0), EXIT_OK);
	assert_int_equal(provcheck_exit(0, true, 2), EXIT_FAIL);
	/* the playbook succeeded on the others: still a failure */
	assert_int_equal(provcheck_exit(1, true, 0), EXIT_FAIL);
	assert_int_equal(provcheck_exit(2, false, 0), EXIT_FAIL);
	assert_int_equal(provcheck_exit(1, true, 4), EXIT_FAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(provcheck__judge),
		cmocka_unit_test(provcheck__unreachable_fails),
		cmocka_unit_test(provcheck__runs),
		cmocka_unit_test(provcheck__exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
