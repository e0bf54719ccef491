/*
 * test_spawn.c - argv-only process spawning.
 */
#include "test.h"
#include "util/spawn.h"

static void spawn__exit_status(void **state)
{
	const char *t[] = { "true", NULL }, *f[] = { "false", NULL };
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = t;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	o.argv = f;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 1);
	err_release(&e);
}

static void spawn__missing_program_is_an_error(void **state)
{
	const char *argv[] = { "pve-gitops-no-such-program", NULL };
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = argv;
	assert_int_equal(spawn_run(&o, &status, &e), -1);
	assert_string_equal(e.msg.buf, "cannot run 'pve-gitops-no-such-program'"
				       ": No such file or directory");
	assert_int_equal(status, -1);
	err_release(&e);
}

static void spawn__arguments_are_not_interpreted(void **state)
{
	const char *argv[] = { "printf", "%s|", "$(id)", "a b;c", "`x`", NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = argv;
	o.out = &out;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.buf, "$(id)|a b;c|`x`|");
	strbuf_release(&out);
	err_release(&e);
}

static void spawn__dir_and_env(void **state)
{
	const char *argv[] = { "sh", "-c", "pwd; echo \"$ONLY\"", NULL };
	const char *env[] = { "ONLY=yes", "PATH=/usr/bin:/bin", NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	/* sh here is the program under test's stand-in, not a shell used
	 * to run untrusted text: the script is a constant. */
	o.argv = argv;
	o.env = env;
	o.dir = "/";
	o.out = &out;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_string_equal(out.buf, "/\nyes\n");
	strbuf_release(&out);
	err_release(&e);
}

static void spawn__killed_child(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = argv;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 128 + 9);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn__exit_status),
		cmocka_unit_test(spawn__missing_program_is_an_error),
		cmocka_unit_test(spawn__arguments_are_not_interpreted),
		cmocka_unit_test(spawn__dir_and_env),
		cmocka_unit_test(spawn__killed_child),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
