/*
 * test_ansible.c - the environment policy of the children (io/programs,
 * io/ansible) and the ansible-playbook command line.
 */
#include "test.h"

#include <string.h>

#include "io/ansible.h"
#include "io/programs.h"

static const char *const base[] = {
	"PM_API_TOKEN_SECRET=secret",
	"PM_API_TOKEN_ID=root@pam!ci",
	"PM_PASS=pw",
	"PROXMOX_VE_API_TOKEN=root@pam!ci=secret",
	"PROXMOX_VE_ENDPOINT=https://pve:8006",
	"VAULT_TOKEN=vt",
	"HOME=/home/ci",
	"LC_ALL=C",
	"ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=False",
	"ANSIBLE_INVENTORY_ENABLED=yaml",
	"ANSIBLE_HOST_KEY_CHECKING=False",
	NULL
};

static size_t count(const struct strvec *env, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < env->nr; i++)
		n += !strncmp(env->v[i], prefix, strlen(prefix));
	return n;
}

static bool has(const struct strvec *env, const char *entry)
{
	size_t i;

	for (i = 0; i < env->nr; i++)
		if (!strcmp(env->v[i], entry))
			return true;
	return false;
}

/* What no child may see, and what it keeps. */
static void check_common(const struct strvec *env)
{
	assert_int_equal(count(env, "PM_"), 0);
	assert_int_equal(count(env, "PROXMOX_VE_"), 0);
	assert_true(has(env, "HOME=/home/ci"));
}

static void ansible__child_env_drops_proxmox_credentials(void **state)
{
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec env;

	(void)state;
	programs_child_env(&d);
	env_delta_apply(&env, base, &d);
	check_common(&env);
	/* git, ssh, ssh-keyscan, diff, ansible-inventory: no Vault token */
	assert_int_equal(count(&env, "VAULT_TOKEN="), 0);
	assert_true(has(&env, "LC_ALL=C"));
	strvec_clear(&env);
	env_delta_release(&d);
}

static void ansible__playbook_env(void **state)
{
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec env;

	(void)state;
	ansible_playbook_env(&d, NULL);
	env_delta_apply(&env, base, &d);
	check_common(&env);
	/* a playbook that does not name the Vault token runs without it */
	assert_int_equal(count(&env, "VAULT_TOKEN="), 0);
	assert_int_equal(count(&env, "ANSIBLE_SSH_ARGS="), 0);
	/* once, with our value (issue 12: it was passed twice) */
	assert_int_equal(
		count(&env, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="), 1);
	assert_true(has(&env, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True"));
	assert_int_equal(count(&env, "ANSIBLE_HOST_KEY_CHECKING="), 1);
	assert_true(has(&env, "ANSIBLE_HOST_KEY_CHECKING=True"));
	assert_true(has(&env, "ANSIBLE_RETRY_FILES_ENABLED=False"));
	assert_int_equal(count(&env, "LC_ALL="), 1);
	assert_true(has(&env, "LC_ALL=C.UTF-8"));
	strvec_clear(&env);
	env_delta_release(&d);
}

/* The token and the ssh options of a play that has them. */
static void ansible__playbook_env_with_token(void **state)
{
	struct ansible_play p = { 0 };
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec env;

	(void)state;
	p.playbook = "pb/k8s.yml";
	p.vault_token = "vt2";
	p.ssh_args = "-o StrictHostKeyChecking=yes";
	ansible_playbook_env(&d, &p);
	env_delta_apply(&env, base, &d);
	check_common(&env);
	assert_int_equal(count(&env, "VAULT_TOKEN="), 1);
	assert_true(has(&env, "VAULT_TOKEN=vt2"));
	assert_true(has(&env, "ANSIBLE_SSH_ARGS=-o StrictHostKeyChecking=yes"));
	assert_true(has(&env, "ANSIBLE_SSH_HOST_KEY_CHECKING=True"));
	strvec_clear(&env);
	env_delta_release(&d);
}

static void ansible__vault_token_rule(void **state)
{
	static const char yes[] = "# VAULT_TOKEN comes from the environment\n";
	static const char no[] = "- hosts: all\n  vars: {vault_token: x}\n";

	(void)state;
	assert_true(ansible_playbook_wants_vault_token(yes, strlen(yes)));
	assert_false(ansible_playbook_wants_vault_token(no, strlen(no)));
	assert_false(ansible_playbook_wants_vault_token(yes, 5));
}

static void ansible__inventory_env(void **state)
{
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec env;

	(void)state;
	ansible_inventory_env(&d);
	env_delta_apply(&env, base, &d);
	check_common(&env);
	assert_int_equal(count(&env, "VAULT_TOKEN="), 0);
	assert_int_equal(count(&env, "ANSIBLE_INVENTORY_"), 3);
	assert_true(has(&env, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True"));
	assert_true(has(&env, "ANSIBLE_INVENTORY_ENABLED=ini"));
	assert_true(has(&env, "ANSIBLE_INVENTORY_UNPARSED_WARNING=False"));
	assert_true(has(&env, "ANSIBLE_NOCOLOR=1"));
	assert_true(has(&env, "LC_ALL=C.UTF-8"));
	strvec_clear(&env);
	env_delta_release(&d);
}

static void ansible__playbook_argv(void **state)
{
	struct ansible_play p = { .playbook = "pb/k8s.yml",
				  .inventory = "inv.ini",
				  .target_hosts = "k8s-a",
				  .vars_file = "/tmp/x/vars.yml" };
	static const char *const want[] = { "ansible-playbook",
					    "pb/k8s.yml",
					    "-i",
					    "inv.ini",
					    "-e",
					    "target_hosts=k8s-a",
					    "-e",
					    "@/tmp/x/vars.yml" };
	struct strvec argv = STRVEC_INIT;
	size_t i;

	(void)state;
	ansible_playbook_argv(&argv, &p);
	assert_int_equal(argv.nr, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(argv.v[i], want[i]);
	strvec_clear(&argv);
	p.target_hosts = NULL;
	ansible_playbook_argv(&argv, &p);
	assert_string_equal(argv.v[5], "target_hosts=all");
	strvec_clear(&argv);
	/* new hosts that failed are left out of the run */
	p.limit = "all:!k8s-a-2";
	ansible_playbook_argv(&argv, &p);
	assert_int_equal(argv.nr, ARRAY_SIZE(want) + 2);
	assert_string_equal(argv.v[8], "--limit");
	assert_string_equal(argv.v[9], "all:!k8s-a-2");
	strvec_clear(&argv);
}

static void ansible__programs_table(void **state)
{
	static const char *const names[] = { "git",
					     "ssh",
					     "ssh-keyscan",
					     "ansible-playbook",
					     "ansible-inventory",
					     "diff",
					     "terraform",
					     "tofu" };
	const struct program *t;
	size_t i, nr;

	(void)state;
	t = programs_table(&nr);
	assert_int_equal(nr, ARRAY_SIZE(names));
	for (i = 0; i < nr; i++) {
		assert_string_equal(t[i].name, names[i]);
		assert_true(t[i].purpose && *t[i].purpose);
		assert_true(t[i].package && *t[i].package);
		assert_ptr_equal(programs_find(names[i]), &t[i]);
	}
	assert_null(programs_find("sh"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ansible__child_env_drops_proxmox_credentials),
		cmocka_unit_test(ansible__playbook_env),
		cmocka_unit_test(ansible__playbook_env_with_token),
		cmocka_unit_test(ansible__vault_token_rule),
		cmocka_unit_test(ansible__inventory_env),
		cmocka_unit_test(ansible__playbook_argv),
		cmocka_unit_test(ansible__programs_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
