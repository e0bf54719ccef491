/*
 * test_config_ansible.c - the ansible: keys of pve-gitops.yaml (timeout,
 * memory_limit): defaults, values, refusals with their position; and
 * ssh.known_hosts, which goes into Ansible's ssh options.
 */
#include "test.h"
#include "config_text.h"
#include "core/config.h"

static void config_ansible__defaults_and_values(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, "prune: false\n"), 0);
	assert_int_equal(cfg.ansible.timeout_seconds, 3600);
	assert_int_equal(cfg.ansible.memory_limit, (uint64_t)4 << 30);
	config_release(&cfg);
	assert_int_equal(config_from_text(&cfg, &dl,
					  "ansible:\n  timeout: 90\n"
					  "  memory_limit: 512M\n"),
			 0);
	assert_int_equal(cfg.ansible.timeout_seconds, 90);
	assert_int_equal(cfg.ansible.memory_limit, (uint64_t)512 << 20);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "ansible: {timeout: 0, memory_limit: 0}\n"),
		0);
	assert_int_equal(cfg.ansible.timeout_seconds, 0);
	assert_int_equal(cfg.ansible.memory_limit, 0);
	config_release(&cfg);
	diag_list_release(&dl);
}

static void config_ansible__errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
		{ "prune: false\nansible:\n  timeout: 604801\n", 3,
		  "ansible.timeout: 604801 is out of range (0 to 604800)" },
		{ "ansible:\n  memory_limit: 4\n", 2,
		  "ansible.memory_limit: expected a size of at least 64M (such "
		  "as 4G), or 0 for no limit: size '4' has no unit; write 4G "
		  "(K, M, G or T)" },
		{ "ansible:\n  memory_limit: 1M\n", 2,
		  "ansible.memory_limit: expected a size of at least 64M (such "
		  "as 4G), or 0 for no limit" },
		{ "ansible:\n\n  memory_limit: [4G]\n", 3,
		  "ansible.memory_limit: expected a size of at least 64M (such "
		  "as 4G), or 0 for no limit" },
		{ "ssh:\n  known_hosts: '/a/${IFS}b'\n", 2,
		  "ssh.known_hosts: '/a/${IFS}b': ssh cannot be given a path "
		  "holding '\"', '\\', '${' or a control character" },
		{ "ssh: {known_hosts: 'a\"b'}\n", 1,
		  "ssh.known_hosts: 'a\"b': ssh cannot be given a path "
		  "holding '\"', '\\', '${' or a control character" },
		{ "ansible: {timeouts: 5}\n", 1,
		  "unknown key 'ansible.timeouts'; did you mean 'timeout'?" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		assert_int_equal(config_from_text(&cfg, &dl, cases[i].text),
				 -1);
		assert_int_equal(dl.errors, 1);
		assert_string_equal(dl.items[0].msg, cases[i].msg);
		assert_int_equal(dl.items[0].line, cases[i].line);
		config_release(&cfg);
		diag_list_release(&dl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_ansible__defaults_and_values),
		cmocka_unit_test(config_ansible__errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
