/*
 * test_spawn.c - argv-only process spawning.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"
#include "util/backoff.h"
#include "util/fileio.h"
#include "util/parse.h"
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

/* A child never reads our stdin, whatever it is. */
static void spawn__stdin_is_dev_null(void **state)
{
	const char *argv[] = { "readlink", "/proc/self/fd/0", NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = argv;
	o.out = &out;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.buf, "/dev/null\n");
	strbuf_release(&out);
	err_release(&e);
}

/* The file the child's stderr goes to is its fd 2, and no other of its fds. */
static void spawn__stderr_file_not_inherited(void **state)
{
	char path[] = "/tmp/test_spawn.XXXXXX";
	const char *argv[] = { "find",	  "/proc/self/fd", "-mindepth",
			       "1",	  "-lname",	   path,
			       "-printf", "%f\n",	   NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1, fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	o.argv = argv;
	o.out = &out;
	o.stderr_path = path;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.buf, "2\n");
	unlink(path);
	strbuf_release(&out);
	err_release(&e);
}

static void spawn__dir_and_env(void **state)
{
	const char *argv[] = { "sh", "-c",
			       "pwd; echo \"$ONLY\"; echo \"${HOME-unset}\"",
			       NULL };
	struct env_delta d = ENV_DELTA_INIT;
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	/* sh here is the program under test's stand-in, not a shell used
	 * to run untrusted text: the script is a constant. */
	env_delta_unset(&d, "*");
	env_delta_set(&d, "ONLY", "yes");
	env_delta_set(&d, "PATH", "/usr/bin:/bin");
	o.argv = argv;
	o.env_delta = &d;
	o.dir = "/";
	o.out = &out;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	/* "*" dropped everything else, HOME too */
	assert_string_equal(out.buf, "/\nyes\nunset\n");
	strbuf_release(&out);
	env_delta_release(&d);
	err_release(&e);
}

/* env_delta_apply over a given base: unsets, prefixes, the last set wins. */
static void spawn__env_delta_apply(void **state)
{
	const char *base[] = { "PM_API_TOKEN_SECRET=s",
			       "PM_PASS=p",
			       "PROXMOX_VE_API_TOKEN=t",
			       "PMX=keep",
			       "HOME=/h",
			       "LC_ALL=C",
			       "NOEQUALS",
			       NULL };
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec out;

	(void)state;
	env_delta_unset(&d, "PM_*");
	env_delta_unset(&d, "PROXMOX_VE_*");
	env_delta_set(&d, "LC_ALL", "C.UTF-8");
	env_delta_set(&d, "X", "1");
	env_delta_set(&d, "X", "2");
	env_delta_apply(&out, base, &d);
	assert_int_equal(out.nr, 4);
	assert_string_equal(out.v[0], "PMX=keep");
	assert_string_equal(out.v[1], "HOME=/h");
	assert_string_equal(out.v[2], "LC_ALL=C.UTF-8");
	assert_string_equal(out.v[3], "X=2");
	assert_null(out.v[4]);
	strvec_clear(&out);
	/* an exact name does not drop longer names */
	env_delta_release(&d);
	env_delta_init(&d);
	env_delta_unset(&d, "PM");
	env_delta_apply(&out, base, &d);
	assert_int_equal(out.nr, 6);
	strvec_clear(&out);
	env_delta_release(&d);
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

/* A child that sleeps past its deadline gets SIGTERM at the deadline. */
static void spawn__deadline_stops_a_sleeping_child(void **state)
{
	const char *argv[] = { "sleep", "30", NULL };
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;
	uint64_t t0 = mono_ms(), took;

	(void)state;
	o.argv = argv;
	o.timeout_ms = 300;
	assert_int_equal(spawn_run(&o, &status, &e), -1);
	took = mono_ms() - t0;
	assert_true(err_is(&e, ERR_TIMEOUT));
	assert_int_equal(status, 128 + SIGTERM);
	assert_true(took >= 300 && took < 3000);
	assert_string_equal(e.msg.buf, "'sleep' did not finish within 0.3 s "
				       "and was stopped");
	err_release(&e);
}

/*
 * pid is gone or a zombie (its parent, init here, has not reaped it)
 * within 2 s.
 */
static bool dead(pid_t pid)
{
	char path[64], buf[256], *p;
	bool gone = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 200 && !gone; i++) {
		FILE *f = fopen(path, "r");

		gone = !f;
		if (f) {
			p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')')
						       : NULL;
			gone = p && p[1] == ' ' && p[2] == 'Z';
			fclose(f);
		}
		if (!gone)
			sleep_ms(10);
	}
	return gone;
}

/*
 * A child and its own child that both ignore SIGTERM are killed after the
 * grace period, the grandchild with the group, even though it holds the
 * captured stdout open.
 */
static void spawn__deadline_kills_the_group(void **state)
{
	const char *argv[] = { "sh", "-c",
			       "trap '' TERM; sleep 30 & echo $!; wait", NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;
	uint64_t t0 = mono_ms(), took, pid = 0;

	(void)state;
	o.argv = argv;
	o.out = &out;
	o.timeout_ms = 200;
	o.kill_grace_ms = 300;
	assert_int_equal(spawn_run(&o, &status, &e), -1);
	took = mono_ms() - t0;
	assert_true(err_is(&e, ERR_TIMEOUT));
	assert_int_equal(status, 128 + SIGKILL);
	assert_true(took >= 500 && took < 3000);
	strbuf_trim(&out);
	assert_int_equal(parse_u64z(&pid, out.buf, 1, 1u << 22), 0);
	/* killed with the group: gone, or a zombie nobody reaped yet */
	assert_true(dead((pid_t)pid));
	strbuf_release(&out);
	err_release(&e);
}

/* A child that ends in time is not touched by its deadline. */
static void spawn__deadline_not_reached(void **state)
{
	const char *argv[] = { "sh", "-c", "echo ok; exit 3", NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.argv = argv;
	o.out = &out;
	o.timeout_ms = 20000;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 3);
	assert_string_equal(out.buf, "ok\n");
	strbuf_release(&out);
	err_release(&e);
}

/*
 * The address space limit: the same program allocating 8 MiB passes
 * under a 64 MiB limit, allocating 256 MiB fails (mawk: out of memory).
 */
static void spawn__memory_limit(void **state)
{
	const char *small[] = { "awk",
				"BEGIN { s = \"x\"; while (length(s) < 8 * "
				"1024 * 1024) s = s s; print length(s) }",
				NULL };
	const char *big[] = { "awk",
			      "BEGIN { s = \"x\"; while (length(s) < 256 * "
			      "1024 * 1024) s = s s; print length(s) }",
			      NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	o.memory_limit = 64u << 20;
	o.out = &out;
	o.quiet_stderr = 1;
	o.argv = small;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.buf, "8388608\n");
	strbuf_reset(&out);
	o.argv = big;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_not_equal(status, 0);
	assert_string_equal(out.buf, "");
	strbuf_release(&out);
	err_release(&e);
}

/* -q's capture of a playbook: both streams in one file, in their order. */
static void spawn__output_path_takes_both_streams(void **state)
{
	const char *argv[] = { "sh", "-c", "echo out; echo err >&2; echo again",
			       NULL };
	char dir[] = "/tmp/test_spawn.XXXXXX";
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct spawn_opts o = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	strbuf_addf(&path, "%s/out.log", dir);
	o.argv = argv;
	o.output_path = path.buf;
	assert_int_equal(spawn_run(&o, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_int_equal(file_read_all(&text, path.buf, 1024, &e), 0);
	assert_string_equal(text.buf, "out\nerr\nagain\n");
	unlink(path.buf);
	rmdir(dir);
	strbuf_release(&path);
	strbuf_release(&text);
	err_release(&e);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

/*
 * A process of ours, P, that runs argv with a deadline of 60 s, the way
 * pve-gitops runs a playbook, with SIGTERM at its default action, or
 * caught (as watch does, to stop after the current commit).
 */
static pid_t spawn_in_child(const char *const *argv, bool catch_term)
{
	pid_t p = fork();

	if (p == 0) {
		struct spawn_opts o = { 0 };
		struct err e = ERR_INIT;
		int status;

		signal(SIGTERM, catch_term ? ignore_signal : SIG_DFL);
		o.argv = argv;
		o.timeout_ms = 60000;
		_exit(spawn_run(&o, &status, &e) < 0 ? 2 : 0);
	}
	assert_true(p > 0);
	return p;
}

/* The n pids in the line the child wrote to path, waited for 5 s. */
static void read_pids(pid_t *pids, size_t n, const char *path)
{
	struct strbuf text = STRBUF_INIT;
	struct err e = ERR_INIT;
	uint64_t v;
	char *p, *end;

	for (int i = 0; i < 500; i++) {
		strbuf_reset(&text);
		if (!file_read_all(&text, path, 1024, &e) && text.len &&
		    text.buf[text.len - 1] == '\n')
			break;
		err_release(&e);
		sleep_ms(10);
	}
	p = text.buf;
	for (size_t i = 0; i < n; i++) {
		end = p + strcspn(p, " \n");
		assert_true(*end);
		*end = '\0';
		assert_int_equal(parse_u64z(&v, p, 1, 1u << 22), 0);
		pids[i] = (pid_t)v;
		p = end + 1;
	}
	strbuf_release(&text);
	err_release(&e);
}

/*
 * pve-gitops SIGKILLed while a child with a deadline (a group of its own)
 * runs: the child does not go on under init (PR_SET_PDEATHSIG).
 */
static void spawn__child_dies_with_a_killed_parent(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", path[64], script[128];
	const char *argv[] = { "sh", "-c", script, NULL };
	pid_t p, child;
	bool gone;
	int ws;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pid", dir);
	snprintf(script, sizeof(script), "echo $$ > %s; exec sleep 30", path);
	p = spawn_in_child(argv, false);
	read_pids(&child, 1, path);
	kill(p, SIGKILL);
	assert_int_equal(waitpid(p, &ws, 0), p);
	gone = dead(child);
	kill(child, SIGKILL);
	unlink(path);
	rmdir(dir);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	assert_true(gone);
}

/*
 * pve-gitops SIGTERMed (its default action) while a child with a group of
 * its own runs: the signal is forwarded to that group, the child's own
 * child goes too, and pve-gitops still dies of SIGTERM.
 */
static void spawn__sigterm_is_forwarded_to_the_group(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", path[64], script[256];
	const char *argv[] = { "sh", "-c", script, NULL };
	pid_t p, pids[2];
	bool gone[2];
	int ws;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pid", dir);
	snprintf(script, sizeof(script),
		 "sleep 30 & echo $$ $! > %s.tmp && mv %s.tmp %s; wait", path,
		 path, path);
	p = spawn_in_child(argv, false);
	read_pids(pids, 2, path);
	kill(p, SIGTERM);
	assert_int_equal(waitpid(p, &ws, 0), p);
	for (int i = 0; i < 2; i++)
		gone[i] = dead(pids[i]);
	for (int i = 0; i < 2; i++)
		kill(pids[i], SIGKILL);
	unlink(path);
	rmdir(dir);
	assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);
	assert_true(gone[0]);
	assert_true(gone[1]);
}

/*
 * A SIGTERM that pve-gitops handles itself (watch) is not forwarded: the
 * child goes on and is waited for. A SIGKILL then still ends it.
 */
static void spawn__a_caught_sigterm_is_left_alone(void **state)
{
	char dir[] = "/tmp/test_spawn.XXXXXX", path[64], script[128];
	const char *argv[] = { "sh", "-c", script, NULL };
	pid_t p, child;
	bool alive, gone;
	int ws;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pid", dir);
	snprintf(script, sizeof(script), "echo $$ > %s; exec sleep 30", path);
	p = spawn_in_child(argv, true);
	read_pids(&child, 1, path);
	kill(p, SIGTERM);
	sleep_ms(300);
	alive = waitpid(p, &ws, WNOHANG) == 0 && kill(child, 0) == 0;
	kill(p, SIGKILL);
	assert_int_equal(waitpid(p, &ws, 0), p);
	gone = dead(child);
	kill(child, SIGKILL);
	unlink(path);
	rmdir(dir);
	assert_true(alive);
	assert_true(gone);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn__exit_status),
		cmocka_unit_test(spawn__missing_program_is_an_error),
		cmocka_unit_test(spawn__arguments_are_not_interpreted),
		cmocka_unit_test(spawn__stdin_is_dev_null),
		cmocka_unit_test(spawn__stderr_file_not_inherited),
		cmocka_unit_test(spawn__dir_and_env),
		cmocka_unit_test(spawn__env_delta_apply),
		cmocka_unit_test(spawn__killed_child),
		cmocka_unit_test(spawn__deadline_stops_a_sleeping_child),
		cmocka_unit_test(spawn__deadline_kills_the_group),
		cmocka_unit_test(spawn__deadline_not_reached),
		cmocka_unit_test(spawn__memory_limit),
		cmocka_unit_test(spawn__output_path_takes_both_streams),
		cmocka_unit_test(spawn__child_dies_with_a_killed_parent),
		cmocka_unit_test(spawn__sigterm_is_forwarded_to_the_group),
		cmocka_unit_test(spawn__a_caught_sigterm_is_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
