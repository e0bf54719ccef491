/*
 * test_provcheck.c - the verdict on a new host before the playbook (from
 * the exit status of `ssh HOST -- cloud-init status --wait` and
 * provision.on_cloud_init_error), whether the playbook runs, the exit
 * status of stage two, and what a playbook's new hosts are waited for
 * (provision.wait_for, decoded with file:line errors).
 */
#include "test.h"
#include "config_text.h"
#include "core/provcheck.h"
#include "core/ytree.h"
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

static void provcheck__wait_for(void **state)
{
	static const struct {
		const char *config, *name, *file;
		enum provision_wait want;
	} cases[] = {
		/* the default: talos.yml's hosts have no SSH */
		{ "", "talos", "talos.yml", PROVISION_WAIT_TALOS },
		{ "", "haproxy", "haproxy.yml", PROVISION_WAIT_SSH },
		{ "", "k8s-prod", "k8s.yml", PROVISION_WAIT_SSH },
		{ "", "talos-lab", "talos-lab.yml", PROVISION_WAIT_SSH },
		/* the file may turn the default off, or name others */
		{ "provision: {wait_for: {talos: ssh}}\n", "talos", "talos.yml",
		  PROVISION_WAIT_SSH },
		{ "provision: {wait_for: {appliance: none}}\n", "appliance",
		  "appliance.yml", PROVISION_WAIT_NONE },
		{ "provision: {wait_for: {appliance: none}}\n", "talos",
		  "talos.yml", PROVISION_WAIT_TALOS },
		/* the name first, then the file it runs as */
		{ "provision: {wait_for: {k8s: none}}\n", "k8s-prod", "k8s.yml",
		  PROVISION_WAIT_NONE },
		{ "provision: {wait_for: {k8s: none, k8s-prod: talos}}\n",
		  "k8s-prod", "k8s.yml", PROVISION_WAIT_TALOS },
		{ "provision: {wait_for: {lab: talos}}\n", "lab", NULL,
		  PROVISION_WAIT_TALOS },
		{ "provision: {wait_for: {lab: talos}}\n", "x", "lab.yaml",
		  PROVISION_WAIT_TALOS },
		{ "provision: {wait_for: {lab: talos}}\n", "x", "la.yml",
		  PROVISION_WAIT_SSH },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		assert_int_equal(config_from_text(&cfg, &dl, cases[i].config),
				 0);
		assert_int_equal(
			provcheck_wait_for(&cfg, cases[i].name, cases[i].file),
			cases[i].want);
		config_release(&cfg);
		diag_list_release(&dl);
	}
	assert_string_equal(provcheck_wait_name(PROVISION_WAIT_SSH), "ssh");
	assert_string_equal(provcheck_wait_name(PROVISION_WAIT_TALOS), "talos");
	assert_string_equal(provcheck_wait_name(PROVISION_WAIT_NONE), "none");
}

static void provcheck__talos_settings(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, ""), 0);
	assert_int_equal(cfg.provision.talos_api_port, 50000);
	assert_true(cfg.provision.talos_api_tls);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "provision:\n  talos_api_port: 50001\n"
				 "  talos_api_tls: false\n"),
		0);
	assert_int_equal(cfg.provision.talos_api_port, 50001);
	assert_false(cfg.provision.talos_api_tls);
	config_release(&cfg);
	diag_list_release(&dl);
}

static void provcheck__wait_for_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "provision:\n  wait_for:\n    talos: telnet\n", 3,
		  "provision.wait_for.talos: 'telnet' is not allowed" },
		{ "provision:\n  wait_for: [talos]\n", 2,
		  "provision.wait_for: expected a mapping of playbook names to "
		  "ssh, talos or none, got a list" },
		{ "provision:\n  wait_for:\n    ../x: none\n", 3,
		  "provision.wait_for.../x: '../x': not a playbook name" },
		{ "provision:\n  wait_for:\n    -x: none\n", 3,
		  "provision.wait_for.-x: '-x': not a playbook name" },
		{ "provision:\n  wait_for:\n    talos: [ssh]\n", 3,
		  "provision.wait_for.talos: " },
		{ "provision:\n  talos_api_port: 0\n", 2,
		  "provision.talos_api_port: 0 is out of range (1 to 65535)" },
		{ "provision:\n  talos_api_tls: maybe\n", 2,
		  "provision.talos_api_tls: " },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		assert_int_equal(config_from_text(&cfg, &dl, cases[i].text),
				 -1);
		assert_int_equal(dl.errors, 1);
		assert_int_equal(dl.items[0].line, cases[i].line);
		if (strncmp(dl.items[0].msg, cases[i].msg,
			    strlen(cases[i].msg)))
			fail_msg("case %zu: '%s'", i, dl.items[0].msg);
		config_release(&cfg);
		diag_list_release(&dl);
	}
}

static void provcheck__reached_is_ready(void **state)
{
	struct provcheck c;

	(void)state;
	provcheck_reached(&c);
	assert_int_equal(c.verdict, PROVCHECK_READY);
	assert_string_equal(c.cloud_init, "not checked");
	assert_null(c.why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(provcheck__judge),
		cmocka_unit_test(provcheck__unreachable_fails),
		cmocka_unit_test(provcheck__runs),
		cmocka_unit_test(provcheck__exit),
		cmocka_unit_test(provcheck__wait_for),
		cmocka_unit_test(provcheck__talos_settings),
		cmocka_unit_test(provcheck__wait_for_errors),
		cmocka_unit_test(provcheck__reached_is_ready),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
