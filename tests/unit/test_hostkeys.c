/*
 * test_hostkeys.c - hostkeys_record(_all): the known_hosts file the
 * repository's config names is rewritten only when it is one, and never through
 * a link; hostkeys_wait_port (the wait for a host without SSH) on 127.0.0.1.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/hostkeys.h"
#include "util/fileio.h"
#include "util/spawn.h"

static char top[64];

static const char *at(const char *rel)
{
	static char path[2][256];
	static int n;

	n = !n;
	snprintf(path[n], sizeof(path[n]), "%s/%s", top, rel);
	return path[n];
}

static void put(const char *rel, const char *text, mode_t mode)
{
	struct err e = ERR_INIT;

	assert_int_equal(
		file_write_atomic(at(rel), text, strlen(text), mode, &e), 0);
	err_release(&e);
}

static char *get(const char *rel)
{
	struct strbuf sb = STRBUF_INIT;
	struct err e = ERR_INIT;

	if (file_read_all(&sb, at(rel), 1 << 20, &e) < 0) {
		err_release(&e);
		strbuf_release(&sb);
		return NULL;
	}
	err_release(&e);
	return strbuf_detach(&sb, NULL);
}

static int record(const char *rel, struct err *e)
{
	struct strvec keys = STRVEC_INIT;
	int ret;

	strvec_push(&keys, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEY");
	ret = hostkeys_record(rel[0] == '/' ? rel : at(rel), "10.0.0.7", 22,
			      &keys, e);
	strvec_clear(&keys);
	return ret;
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_hostkeys.XXXXXX");
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	const char *argv[] = { "rm", "-rf", top, NULL };
	struct spawn_opts so = { 0 };
	struct err e = ERR_INIT;
	int status = -1;

	(void)state;
	so.argv = argv;
	spawn_run(&so, &status, &e);
	err_release(&e);
	return status == 0 ? 0 : -1;
}

static void hostkeys__record_new_and_existing(void **state)
{
	struct err e = ERR_INIT;
	struct stat st;
	char *s;

	(void)state;
	assert_int_equal(record("new/known_hosts", &e), 0);
	s = get("new/known_hosts");
	assert_string_equal(
		s, "10.0.0.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKEY\n");
	free(s);
	assert_int_equal(stat(at("new/known_hosts"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	put("kh",
	    "# mine\n|1|c2FsdA==|aGFzaA== ssh-rsa AAAAB3 x\n"
	    "@cert-authority *.example ssh-ed25519 AAAAC3 ca\n"
	    "10.0.0.7 ssh-rsa OLD\n",
	    0644);
	assert_int_equal(record("kh", &e), 0);
	s = get("kh");
	assert_string_equal(s,
			    "# mine\n|1|c2FsdA==|aGFzaA== ssh-rsa AAAAB3 x\n"
			    "@cert-authority *.example ssh-ed25519 AAAAC3 ca\n"
			    "10.0.0.7 ssh-ed25519 "
			    "AAAAC3NzaC1lZDI1NTE5AAAAIKEY\n");
	free(s);
	assert_int_equal(stat(at("kh"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644); /* its mode is kept */
	err_release(&e);
}

/* Many hosts in one rewrite: the others' lines kept, each host's old ones
 * replaced, a host named twice with its last keys only. */
static void hostkeys__record_all(void **state)
{
	struct strvec a = STRVEC_INIT, b = STRVEC_INIT, c = STRVEC_INIT;
	struct err e = ERR_INIT;
	char *s;

	(void)state;
	strvec_push(&a, "ssh-ed25519 AAAA");
	strvec_push(&a, "ssh-rsa BBBB");
	strvec_push(&b, "ssh-ed25519 CCCC");
	strvec_push(&c, "ssh-ed25519 DDDD");
	{
		const struct hostkeys_host v[] = {
			{ "10.0.0.7", 22, &a },
			{ "10.0.0.8", 2222, &b },
			{ "10.0.0.7", 22, &c },
		};

		put("all",
		    "10.0.0.9 ssh-rsa KEEP\n10.0.0.7 ssh-rsa OLD\n"
		    "[10.0.0.8]:2222 ssh-rsa OLD\n10.0.0.8 ssh-rsa PORT22\n",
		    0600);
		assert_int_equal(hostkeys_record_all(at("all"), v, 3, &e), 0);
	}
	s = get("all");
	assert_string_equal(s,
			    "10.0.0.9 ssh-rsa KEEP\n10.0.0.8 ssh-rsa PORT22\n"
			    "[10.0.0.8]:2222 ssh-ed25519 CCCC\n"
			    "10.0.0.7 ssh-ed25519 DDDD\n");
	free(s);
	/* nothing to record: the file as it was */
	assert_int_equal(hostkeys_record_all(at("all"), NULL, 0, &e), 0);
	s = get("all");
	assert_non_null(strstr(s, "KEEP"));
	free(s);
	strvec_clear(&a);
	strvec_clear(&b);
	strvec_clear(&c);
	err_release(&e);
}

static void hostkeys__refuses_what_is_not_known_hosts(void **state)
{
	static const char bashrc[] =
		"export PATH=$HOME/bin:$PATH\nalias l=ls\n";
	struct err e = ERR_INIT;
	char *s;

	(void)state;
	put("bashrc", bashrc, 0644);
	assert_int_equal(record("bashrc", &e), -1);
	assert_true(err_is(&e, ERR_INVALID));
	assert_non_null(strstr(e.msg.buf, "bashrc:1: not a known_hosts line"));
	s = get("bashrc");
	assert_string_equal(s, bashrc);
	free(s);
	/* a symbolic link, even to a real known_hosts file */
	put("real", "10.0.0.9 ssh-rsa AAAA\n", 0600);
	assert_int_equal(symlink(at("real"), at("link")), 0);
	assert_int_equal(record("link", &e), -1);
	s = get("real");
	assert_string_equal(s, "10.0.0.9 ssh-rsa AAAA\n");
	free(s);
	/* a FIFO: refused at once, not waited on */
	assert_int_equal(mkfifo(at("fifo"), 0600), 0);
	assert_int_equal(record("fifo", &e), -1);
	assert_true(err_is(&e, ERR_INVALID));
	err_release(&e);
}

static void hostkeys__relative_stays_in_the_repository(void **state)
{
	struct err e = ERR_INIT;
	char cwd[256];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(mkdir(at("repo"), 0700), 0);
	assert_int_equal(mkdir(at("out"), 0700), 0);
	assert_int_equal(symlink(at("out"), at("repo/hv")), 0);
	assert_int_equal(chdir(at("repo")), 0);
	assert_int_equal(hostkeys_record("hv/kh", "10.0.0.7", 22,
					 &(struct strvec)STRVEC_INIT, &e),
			 -1);
	assert_true(err_is(&e, ERR_INVALID));
	assert_int_equal(access(at("out/kh"), F_OK), -1);
	assert_int_equal(chdir(cwd), 0);
	err_release(&e);
}

/* A listening socket on 127.0.0.1 (nobody accepts: the kernel completes
 * the TCP handshake, nothing answers TLS); its port in *port. */
static int listener(unsigned *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void hostkeys__wait_port(void **state)
{
	struct err e = ERR_INIT;
	unsigned port;
	long ms = -1;
	int fd = listener(&port);

	(void)state;
	/* TCP is enough without tls */
	assert_int_equal(
		hostkeys_wait_port("127.0.0.1", port, false, 5, &ms, &e), 0);
	assert_true(ms >= 0 && ms < 5000);
	/* a port that takes TCP but never a TLS handshake: not apid */
	assert_int_equal(
		hostkeys_wait_port("127.0.0.1", port, true, 1, &ms, &e), -1);
	assert_true(err_is(&e, ERR_TIMEOUT));
	assert_non_null(strstr(e.msg.buf, "did not accept a TLS connection"));
	assert_non_null(strstr(e.msg.buf, "within 1 s"));
	err_clear(&e);
	close(fd);
	/* nothing listens any more */
	assert_int_equal(
		hostkeys_wait_port("127.0.0.1", port, false, 0, &ms, &e), -1);
	assert_true(err_is(&e, ERR_TIMEOUT));
	assert_non_null(strstr(e.msg.buf, "did not accept a TCP connection"));
	err_clear(&e);
	assert_int_equal(hostkeys_wait_port("::1", port, false, 0, &ms, &e),
			 -1);
	assert_false(err_is(&e, ERR_TIMEOUT));
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostkeys__record_new_and_existing),
		cmocka_unit_test(hostkeys__record_all),
		cmocka_unit_test(hostkeys__refuses_what_is_not_known_hosts),
		cmocka_unit_test(hostkeys__relative_stays_in_the_repository),
		cmocka_unit_test(hostkeys__wait_port),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
