/*
 * test_qga.c - proxmox-sim's guest agent client (sim/proxmox/qga.c)
 * against a real qemu-guest-agent on this host (qemu-ga -m unix-listen,
 * no VM needed): ping, info, a file read in chunks, exec with input-data
 * and its status, an agent error, a silent channel's timeout and a socket
 * that is not there. Skipped (77) only when qemu-ga is not installed.
 */
#include "test.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qga.h"

static const char *qemu_ga;
static char dir[] = "/tmp/test_qga.XXXXXX";
static char sock[256], file[256];
static pid_t agent = -1;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int start_agent(void **state)
{
	char statedir[256];
	FILE *f;
	int i;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/qga.sock", dir);
	snprintf(file, sizeof(file), "%s/data", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	mkdir(statedir, 0700);
	f = fopen(file, "w");
	for (i = 0; i < 3000; i++) /* 3000 lines of 10 bytes */
		fprintf(f, "line %04d\n", i);
	fclose(f);
	agent = fork();
	if (agent == 0) {
		execl(qemu_ga, qemu_ga, "-m", "unix-listen", "-p", sock, "-t",
		      statedir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && access(sock, F_OK) < 0; i++)
		sleep_ms(50);
	return access(sock, F_OK);
}

static int stop_agent(void **state)
{
	char cmd[300];

	(void)state;
	if (agent > 0) {
		kill(agent, SIGTERM);
		waitpid(agent, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "%s/data", dir);
	unlink(cmd);
	unlink(sock);
	snprintf(cmd, sizeof(cmd), "%s/state", dir);
	rmdir(cmd);
	rmdir(dir);
	return 0;
}

static json_t *call_ok(const char *cmd, json_t *args)
{
	struct strbuf why = STRBUF_INIT;
	json_t *r = NULL;
	enum qga_status st = qga_call(sock, cmd, args, 10000, &r, &why);

	if (st != QGA_OK)
		fprintf(stderr, "%s: %d %s\n", cmd, st, why.buf);
	assert_int_equal(st, QGA_OK);
	assert_non_null(r);
	strbuf_release(&why);
	json_decref(args);
	return r;
}

static void test_ping_info(void **state)
{
	json_t *r;

	(void)state;
	r = call_ok("guest-ping", NULL);
	assert_true(json_is_object(r));
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	r = call_ok("guest-info", NULL);
	assert_non_null(json_string_value(json_object_get(r, "version")));
	assert_true(json_array_size(json_object_get(r, "supported_commands")) >
		    10);
	json_decref(r);
	/* the channel is reusable: many calls in a row */
	for (int i = 0; i < 20; i++)
		json_decref(call_ok("guest-ping", NULL));
}

static void test_file_read(void **state)
{
	json_t *h, *r;
	json_int_t handle, total = 0;
	bool eof = false;

	(void)state;
	h = call_ok("guest-file-open",
		    json_pack("{s:s, s:s}", "path", file, "mode", "r"));
	handle = json_integer_value(h);
	json_decref(h);
	while (!eof) {
		r = call_ok("guest-file-read",
			    json_pack("{s:I, s:i}", "handle", handle, "count",
				      4096));
		total += json_integer_value(json_object_get(r, "count"));
		eof = json_is_true(json_object_get(r, "eof"));
		if (total == 4096) /* "line 0000\n" */
			assert_memory_equal(json_string_value(json_object_get(
						    r, "buf-b64")),
					    "bGluZSAwMDAw", 12);
		json_decref(r);
	}
	assert_int_equal(total, 30000);
	json_decref(call_ok("guest-file-close",
			    json_pack("{s:I}", "handle", handle)));
}

static void test_exec(void **state)
{
	json_t *r;
	json_int_t pid;
	int i;

	(void)state;
	/* "hello\n" (base64) on cat's stdin */
	r = call_ok("guest-exec",
		    json_pack("{s:s, s:[s,s], s:s, s:b}", "path", "/bin/sh",
			      "arg", "-c", "cat; echo oops >&2; exit 3",
			      "input-data", "aGVsbG8K", "capture-output", 1));
	pid = json_integer_value(json_object_get(r, "pid"));
	assert_true(pid > 0);
	json_decref(r);
	for (i = 0; i < 100; i++) {
		r = call_ok("guest-exec-status",
			    json_pack("{s:I}", "pid", pid));
		if (json_is_true(json_object_get(r, "exited")))
			break;
		json_decref(r);
		r = NULL;
		sleep_ms(50);
	}
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "exitcode")), 3);
	assert_string_equal(json_string_value(json_object_get(r, "out-data")),
			    "aGVsbG8K");
	assert_string_equal(json_string_value(json_object_get(r, "err-data")),
			    "b29wcwo=");
	json_decref(r);
}

static void test_agent_error(void **state)
{
	struct strbuf why = STRBUF_INIT;
	json_t *args = json_pack("{s:s}", "path", "/nonexistent/x");
	json_t *r = NULL;

	(void)state;
	assert_int_equal(
		qga_call(sock, "guest-file-open", args, 10000, &r, &why),
		QGA_ERROR);
	assert_null(r);
	assert_non_null(strstr(why.buf, "failed to open file "
					"'/nonexistent/x'"));
	json_decref(args);
	strbuf_release(&why);
	/* and the channel still works after an error */
	json_decref(call_ok("guest-ping", NULL));
}

/* A channel that accepts but never answers (a guest still booting). */
static void test_timeout_and_missing(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct strbuf why = STRBUF_INIT;
	char silent[300];
	json_t *r = NULL;
	struct timespec a, b;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	long ms;

	(void)state;
	snprintf(silent, sizeof(silent), "%s/silent.sock", dir);
	memcpy(sa.sun_path, silent, strlen(silent) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(qga_call(silent, "guest-ping", NULL, 700, &r, &why),
			 QGA_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 650 && ms < 3000);
	close(fd);
	unlink(silent);
	strbuf_reset(&why);
	assert_int_equal(qga_call(silent, "guest-ping", NULL, 700, &r, &why),
			 QGA_NO_CHANNEL);
	assert_non_null(strstr(why.buf, "cannot connect"));
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_info),
		cmocka_unit_test(test_file_read),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_agent_error),
		cmocka_unit_test(test_timeout_and_missing),
	};
	static const char *const where[] = { "/usr/sbin/qemu-ga",
					     "/usr/bin/qemu-ga", NULL };
	int i;

	for (i = 0; where[i] && !qemu_ga; i++)
		if (access(where[i], X_OK) == 0)
			qemu_ga = where[i];
	if (!qemu_ga) {
		printf("SKIP: qemu-ga is not installed (apt-get install "
		       "qemu-guest-agent; scripts/install-deps.sh --test)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, start_agent, stop_agent);
}
