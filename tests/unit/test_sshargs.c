/*
 * test_sshargs.c - ssh options quoted for Ansible (shlex) and for ssh, and
 * the repository lines that would weaken host key checking.
 */
#include "test.h"

#include <string.h>

#include "core/sshargs.h"

/* Expected values are Python's shlex.quote of the input. */
static void sshargs__quote_as_shlex(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "plain/path-1.2_x@h:%=+,", "plain/path-1.2_x@h:%=+," },
		{ "", "''" },
		{ "a b", "'a b'" },
		{ "it's", "'it'\"'\"'s'" },
		{ "a -oProxyCommand=touch /tmp/y",
		  "'a -oProxyCommand=touch /tmp/y'" },
		{ "$(id);`x`|&\n\"", "'$(id);`x`|&\n\"'" },
		{ "caf\xc3\xa9", "'caf\xc3\xa9'" },
	};
	struct strbuf out = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&out);
		sshargs_quote(&out, cases[i].in);
		assert_string_equal(out.buf, cases[i].want);
	}
	strbuf_release(&out);
}

static void sshargs__known_hosts(void **state)
{
	static const char *const bad[] = { "",	       "a\"b",	   "a\\b",
					   "a\nb",     "a\tb",	   "a\x7f",
					   "a${IFS}b", "${HOME}/k" };
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;

	(void)state;
	assert_int_equal(sshargs_check_known_hosts("/h/my dir/k'h$x", &why), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		strbuf_reset(&why);
		assert_int_equal(sshargs_check_known_hosts(bad[i], &why), -1);
		assert_true(why.len > 0);
	}
	sshargs_known_hosts_option(&out, "/h/a b/%h");
	assert_string_equal(out.buf, "UserKnownHostsFile=\"/h/a b/%%h\"");
	strbuf_reset(&out);
	sshargs_ansible(&out, "/h/a b -oProxyCommand=touch /tmp/y", NULL);
	assert_string_equal(out.buf,
			    "-C -o ControlMaster=no -o ControlPath=none "
			    "-o StrictHostKeyChecking=yes -o "
			    "'UserKnownHostsFile=\"/h/a b -oProxyCommand=touch "
			    "/tmp/y\"'");
	strbuf_reset(&out);
	sshargs_ansible(&out, "/h/k", "/run/u 1/p%x");
	assert_string_equal(out.buf,
			    "-C -o ControlMaster=auto -o ControlPersist=30s "
			    "-o 'ControlPath=\"/run/u 1/p%%x/%C\"' "
			    "-o StrictHostKeyChecking=yes -o "
			    "'UserKnownHostsFile=\"/h/k\"'");
	strbuf_release(&out);
	strbuf_release(&why);
}

static void sshargs__weakening_line(void **state)
{
	static const struct {
		const char *text;
		size_t line;
	} cases[] = {
		{ "[defaults]\nhost_key_checking = False\n", 2 },
		{ "[ssh_connection]\nssh_args = -C -o StrictHostKeyChecking=no\n",
		  2 },
		{ "x\ny\nansible_host_key_checking: no", 3 },
		{ "all:\n  vars:\n    ansible_ssh_host_key_checking: 'false'\n",
		  3 },
		{ "h ansible_ssh_common_args='-o StrictHostKeyChecking=yes "
		  "-o stricthostkeychecking=accept-new'",
		  1 },
		{ "a\nansible_ssh_extra_args=-oUserKnownHostsFile=/dev/null",
		  2 },
		{ "[defaults]\nhost_key_checking = True\n", 0 },
		{ "ssh_args = -o StrictHostKeyChecking=yes\n", 0 },
		{ "host_key_checking: nothing\n", 0 },
		{ "", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		if (sshargs_weakening_line(cases[i].text,
					   strlen(cases[i].text)) !=
		    cases[i].line)
			fail_msg("case %zu: want line %zu", i, cases[i].line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sshargs__quote_as_shlex),
		cmocka_unit_test(sshargs__known_hosts),
		cmocka_unit_test(sshargs__weakening_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
