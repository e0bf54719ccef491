/*
 * test_config.c - pve-gitops.yaml defaults and decoding.
 */
#include "test.h"
#include "config_text.h"
#include "core/config.h"

static void config__defaults_follow_the_seed(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, ""), 0);
	assert_string_equal(cfg.vms_dir, "proxmox/vms");
	assert_string_equal(cfg.inventory, "proxmox/k8s.ini");
	assert_string_equal(cfg.new_hosts, "proxmox/new_hosts.txt");
	assert_string_equal(cfg.playbooks_dir, "proxmox/playbooks");
	assert_string_equal(cfg.outputs, "proxmox/.pve-gitops/outputs.json");
	assert_string_equal(cfg.vault.mount, "kv");
	assert_string_equal(cfg.vault.path,
			    "cluster-secret-store/secrets/KUBECONFIG");
	assert_string_equal(cfg.vault.key, "KUBECONFIG");
	assert_int_equal(cfg.ssh.port, 22);
	assert_int_equal(cfg.ssh.wait_seconds, 300);
	assert_int_equal(cfg.proxmox.parallel, 4);
	assert_true(config_is_excluded(&cfg, "k8s-home.yaml"));
	assert_true(config_is_excluded(&cfg, "boot-server.yaml"));
	assert_false(config_is_excluded(&cfg, "k8s-dev.yaml"));
	assert_int_equal(cfg.nr_groups, 6);
	assert_string_equal(cfg.groups[3].pattern, "^k8s-[^-]+$");
	assert_string_equal(cfg.groups[3].group, "k3s");
	assert_string_equal(cfg.groups[4].pattern, "^k8s-[^-]+-cp[0-9]+$");
	assert_string_equal(cfg.groups[4].group, "k3s_servers");
	assert_string_equal(cfg.groups[5].pattern, "^k8s-[^-]+-w[0-9]+$");
	assert_string_equal(cfg.groups[5].group, "k3s_agents");
	assert_int_equal(cfg.defaults.migrate, 1);
	config_release(&cfg);
	diag_list_release(&dl);
}

/* The seed's "Excluded VMs": the list is the config's; an empty one
 * automates every file, and a name matches a whole file name only. */
static void config__exclude_is_configurable(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, "exclude: []\n"), 0);
	assert_int_equal(cfg.exclude.nr, 0);
	assert_false(config_is_excluded(&cfg, "k8s-home.yaml"));
	assert_false(config_is_excluded(&cfg, "boot-server.yaml"));
	config_release(&cfg);
	assert_int_equal(config_from_text(&cfg, &dl,
					  "exclude:\n  - k8s-home.yaml\n"
					  "  - legacy-db.yaml\n"),
			 0);
	assert_true(config_is_excluded(&cfg, "k8s-home.yaml"));
	assert_true(config_is_excluded(&cfg, "legacy-db.yaml"));
	assert_false(config_is_excluded(&cfg, "boot-server.yaml"));
	assert_false(config_is_excluded(&cfg, "k8s-home.yam"));
	assert_false(config_is_excluded(&cfg, "k8s-home"));
	config_release(&cfg);
	diag_list_release(&dl);
}

static void config__overrides(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "vms_dir: infra/vms\nexclude: [old.yaml]\n"
				 "strict_secrets: true\n"
				 "inventory_groups:\n"
				 "  - {pattern: '^web-', group: web}\n"
				 "proxmox: {endpoint: 'https://pve:8006', "
				 "parallel: 8}\n"
				 "ssh: {port: 2222}\n"),
		0);
	assert_string_equal(cfg.vms_dir, "infra/vms");
	assert_true(config_is_excluded(&cfg, "old.yaml"));
	assert_false(config_is_excluded(&cfg, "k8s-home.yaml"));
	assert_true(cfg.strict_secrets);
	assert_int_equal(cfg.nr_groups, 1);
	assert_string_equal(cfg.groups[0].group, "web");
	assert_string_equal(cfg.proxmox.endpoint, "https://pve:8006");
	assert_int_equal(cfg.proxmox.parallel, 8);
	assert_int_equal(cfg.ssh.port, 2222);
	assert_false(cfg.provision.cloud_init_error_continue);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(
			&cfg, &dl,
			"provision: {on_cloud_init_error: continue}\n"),
		0);
	assert_true(cfg.provision.cloud_init_error_continue);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "provision: {on_cloud_init_error: fail}\n"),
		0);
	assert_false(cfg.provision.cloud_init_error_continue);
	config_release(&cfg);
	/* defaults.migrate: false blocks a target_node change */
	assert_int_equal(
		config_from_text(&cfg, &dl, "defaults: {migrate: false}\n"), 0);
	assert_int_equal(cfg.defaults.migrate, 0);
	config_release(&cfg);
	diag_list_release(&dl);
}

static void config__ssh_connect(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	const char *host;
	unsigned port;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl,
					  "ssh:\n  port: 2200\n  connect:\n"
					  "    10.77.0.10: '127.0.0.1:40022'\n"
					  "    web-1: 127.0.0.2:2222\n"
					  "    10.77.0.11: 127.0.0.3:22\n"),
			 0);
	assert_int_equal(cfg.ssh.nr_connect, 3);
	/* by address */
	assert_non_null(
		config_ssh_target(&cfg, "db-1", "10.77.0.10", &host, &port));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 40022);
	/* by name */
	assert_non_null(
		config_ssh_target(&cfg, "web-1", "10.0.0.5", &host, &port));
	assert_string_equal(host, "127.0.0.2");
	assert_int_equal(port, 2222);
	/* the address's entry wins over the name's */
	assert_non_null(
		config_ssh_target(&cfg, "web-1", "10.77.0.11", &host, &port));
	assert_string_equal(host, "127.0.0.3");
	assert_int_equal(port, 22);
	/* none: the address and ssh.port */
	assert_null(config_ssh_target(&cfg, "db-2", "10.0.0.9", &host, &port));
	assert_string_equal(host, "10.0.0.9");
	assert_int_equal(port, 2200);
	config_release(&cfg);
	diag_list_release(&dl);
}

static void config__errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{ "vms_dirs: x\n", "unknown key 'vms_dirs'; did you mean "
				   "'vms_dir'?" },
		{ "vms_dir: /etc\n", "vms_dir: '/etc': not a path relative to "
				     "the repository root" },
		{ "inventory: ../../x.ini\n",
		  "inventory: '../../x.ini': a path "
		  "that leaves the repository" },
		{ "exclude: a.yaml\n",
		  "exclude: expected a list of file names, "
		  "got a string" },
		{ "inventory_groups: [{pattern: '(', group: x}]\n",
		  "inventory_groups[0].pattern: not a POSIX extended regular "
		  "expression: Unmatched ( or \\(" },
		{ "inventory_groups: [{pattern: 'x'}]\n",
		  "inventory_groups[0]: a rule needs both pattern and group" },
		{ "inventory_groups: [{pattern: 'x', group: 'a-b'}]\n",
		  "inventory_groups[0].group: 'a-b': not an Ansible group name "
		  "(letters, digits and '_', not starting with a digit)" },
		{ "proxmox: {endpoint: 'pve:8006'}\n",
		  "proxmox.endpoint: 'pve:8006': not an http:// or https:// URL" },
		{ "proxmox: {tls_fingerprint: 'AB:CD'}\n",
		  "proxmox.tls_fingerprint: 'AB:CD': not a SHA-256 fingerprint "
		  "(64 hex digits, optionally in ':'-separated pairs)" },
		{ "proxmox: {parallel: 0}\n",
		  "proxmox.parallel: 0 is out of range (1 to 64)" },
		{ "ssh: {port: 70000}\n",
		  "ssh.port: 70000 is out of range (1 to 65535)" },
		{ "ssh: {connect: {10.0.0.1: 'localhost:22'}}\n",
		  "ssh.connect.10.0.0.1: expected \"HOST:PORT\" (an IPv4 "
		  "address and a port from 1 to 65535)" },
		{ "ssh: {connect: {10.0.0.1: '127.0.0.1:0'}}\n",
		  "ssh.connect.10.0.0.1: expected \"HOST:PORT\" (an IPv4 "
		  "address and a port from 1 to 65535)" },
		{ "ssh: {connect: {10.0.0.1: '127.0.0.1:65536'}}\n",
		  "ssh.connect.10.0.0.1: expected \"HOST:PORT\" (an IPv4 "
		  "address and a port from 1 to 65535)" },
		{ "ssh: {connect: {'-oProxy': '127.0.0.1:22'}}\n",
		  "ssh.connect.-oProxy: '-oProxy': not an IPv4 address or a VM name" },
		{ "ssh: {connect: [a]}\n",
		  "ssh.connect: expected a mapping of VM addresses or names to "
		  "\"HOST:PORT\", got a list" },
		{ "validate_with_ansible: sometimes\n",
		  "validate_with_ansible: 'sometimes' is not allowed (allowed: "
		  "auto, always, never)" },
		{ "provision: {on_cloud_init_error: ignore}\n",
		  "provision.on_cloud_init_error: 'ignore' is not allowed "
		  "(allowed: fail, continue)" },
		{ "provision: {on_cloud_init_error: [fail]}\n",
		  "provision.on_cloud_init_error: expected fail or continue, got "
		  "a list" },
		{ "provision: {on_cloud_init_errors: fail}\n",
		  "unknown key 'provision.on_cloud_init_errors'; did you mean "
		  "'on_cloud_init_error'?" },
		{ "git: {remote: '--upload-pack=x'}\n",
		  "git.remote: '--upload-pack=x': empty, starts with '-' or "
		  "contains spaces or control characters" },
		{ "- a\n", "expected a mapping, got a list" },
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
		config_release(&cfg);
		diag_list_release(&dl);
	}
}

static void config__http_limits(void **state)
{
	static const struct {
		const char *text;
		const char *msg;
		int line;
	} bad[] = {
		{ "http:\n  timeout_seconds: 0\n",
		  "http.timeout_seconds: 0 is out of range (1 to 86400)", 2 },
		{ "http: {low_speed_seconds: 3601}\n",
		  "http.low_speed_seconds: 3601 is out of range (1 to 3600)",
		  1 },
		{ "http:\n\n  connect_timeout_seconds: x\n", NULL, 3 },
		{ "http: {timeout: 5}\n", NULL, 1 },
		{ "http: 5\n", NULL, 1 },
	};
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	size_t i;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, ""), 0);
	assert_int_equal(cfg.http.connect_timeout_seconds, 10);
	assert_int_equal(cfg.http.low_speed_seconds, 30);
	assert_int_equal(cfg.http.timeout_seconds, 300);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "http: {connect_timeout_seconds: 2, "
				 "low_speed_seconds: 3, timeout_seconds: 4}\n"),
		0);
	assert_int_equal(cfg.http.connect_timeout_seconds, 2);
	assert_int_equal(cfg.http.low_speed_seconds, 3);
	assert_int_equal(cfg.http.timeout_seconds, 4);
	config_release(&cfg);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(config_from_text(&cfg, &dl, bad[i].text), -1);
		assert_int_equal(dl.errors, 1);
		assert_int_equal(dl.items[0].line, bad[i].line);
		if (bad[i].msg)
			assert_string_equal(dl.items[0].msg, bad[i].msg);
		config_release(&cfg);
		diag_list_release(&dl);
		dl = (struct diag_list)DIAG_LIST_INIT;
	}
	diag_list_release(&dl);
}

/* ---- proxmox.tls_fingerprint: normalised, or refused at its line ---- */

#define FP_HEX \
	"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDEF"
#define FP_PAIRS                                                             \
	"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:" \
	"CD:EF:01:23:45:67:89:AB:CD:EF"

static void config__fingerprint_normalised(void **state)
{
	static const char *const good[] = {
		FP_HEX,
		FP_PAIRS,
		"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:"
		"cd:ef:01:23:45:67:89:ab:cd:ef",
	};
	static const char *const bad[] = {
		FP_HEX "0", /* 65 digits */
		"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDE",
		"0:123:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
		"CD:EF:01:23:45:67:89:AB:CD:EF", /* a ':' in the wrong place */
		"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:"
		"CD:EF:01:23:45:67:89:AB:CD:EF:", /* a trailing ':' */
		"01-23-45-67-89-AB-CD-EF-01-23-45-67-89-AB-CD-EF-01-23-45-67-89-AB-"
		"CD-EF-01-23-45-67-89-AB-CD-EF",
		"0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789ABCDEg",
		"0123456789ABCDEF0123:456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
	};
	struct strbuf text = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		strbuf_reset(&text);
		strbuf_addf(&text, "proxmox:\n  tls_fingerprint: '%s'\n",
			    good[i]);
		assert_int_equal(config_from_text(&cfg, &dl, text.buf), 0);
		assert_string_equal(cfg.proxmox.tls_fingerprint, FP_PAIRS);
		config_release(&cfg);
		diag_list_release(&dl);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		strbuf_reset(&text);
		strbuf_addf(&text,
			    "proxmox:\n  endpoint: https://pve:8006\n"
			    "  tls_fingerprint: '%s'\n",
			    bad[i]);
		assert_int_equal(config_from_text(&cfg, &dl, text.buf), -1);
		assert_int_equal(dl.errors, 1);
		assert_int_equal(dl.items[0].line, 3);
		assert_non_null(
			strstr(dl.items[0].msg, "not a SHA-256 fingerprint"));
		config_release(&cfg);
		diag_list_release(&dl);
	}
	strbuf_release(&text);
}

static void config__branch_names(void **state)
{
	static const char *const good[] = { "main", "release/1.x", "feat-2",
					    "a.b", "v1@2" };
	static const char *const bad[] = {
		"",
		"-x",
		"main:refs/heads/x",
		"+main",
		"a..b",
		"a b",
		"HEAD",
		"@",
		"a@{1}",
		"x^",
		"x~1",
		"*",
		"a/.hidden",
		".dot",
		"a.lock",
		"a.lock/b",
		"trailing/",
		"/lead",
		"a//b",
		"x.",
		"tab\there",
		"back\\slash",
	};
	struct strbuf why = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(*good); i++)
		assert_int_equal(config_check_branch(good[i], &why), 0);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		strbuf_reset(&why);
		if (config_check_branch(bad[i], &why) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(why.buf, "branch name"));
	}
	strbuf_release(&why);
}

/* workloads:, workload_modules: and terraform: (issue 17) */
static void config__workloads(void **state)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "workloads: yes\n",
		  "workloads: expected true or false; 'yes' is a string in "
		  "YAML 1.2" },
		{ "workload_modules: argocd_apps\n",
		  "workload_modules: expected a list of module names, got a "
		  "string" },
		{ "workload_modules: ['9lives']\n",
		  "workload_modules: '9lives': a module name is 1 to 64 "
		  "letters, digits, '_' and '-', starting with a letter" },
		{ "terraform: /usr/bin/terraform\n",
		  "terraform: '/usr/bin/terraform' is not allowed (allowed: "
		  "terraform, tofu)" },
	};
	struct diag_list dl = DIAG_LIST_INIT;
	struct config cfg;
	size_t i;

	(void)state;
	assert_int_equal(config_from_text(&cfg, &dl, ""), 0);
	assert_false(cfg.workloads.chain);
	assert_int_equal(cfg.workloads.more.nr, 0);
	assert_null(cfg.workloads.terraform);
	config_release(&cfg);
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "workloads: true\nterraform: tofu\n"
				 "workload_modules: [argocd_apps, my-app]\n"),
		0);
	assert_true(cfg.workloads.chain);
	assert_string_equal(cfg.workloads.terraform, "tofu");
	assert_int_equal(cfg.workloads.more.nr, 2);
	assert_string_equal(cfg.workloads.more.v[1], "my-app");
	config_release(&cfg);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		diag_list_release(&dl);
		assert_int_equal(config_from_text(&cfg, &dl, bad[i].text), -1);
		assert_int_equal(dl.errors, 1);
		assert_string_equal(dl.items[0].msg, bad[i].msg);
		config_release(&cfg);
	}
	diag_list_release(&dl);
}

/* clusters: NAME -> the keys of proxmox:; proxmox: is "default". */
static void config__clusters(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} bad[] = {
		{ "clusters:\n  East: {endpoint: 'https://e:8006'}\n", 2,
		  "clusters.East: 'East': a cluster name is 1 to 32 lower-case "
		  "letters, digits, '_' or '-', starting with a letter or "
		  "digit" },
		{ "clusters:\n  default: {endpoint: 'https://e:8006'}\n", 2,
		  "clusters.default: the cluster 'default' is the proxmox: "
		  "block; give this one another name, or move it to proxmox:" },
		{ "clusters:\n  east: {token_id: 'a@pam!b'}\n", 2,
		  "clusters.east: cluster 'east' needs endpoint:" },
		{ "clusters:\n  east:\n    endpoint: 'https://e:8006'\n"
		  "    token_secret: x\n",
		  4,
		  "clusters.east.token_secret: secrets do not belong in the "
		  "repository; set PM_API_TOKEN_SECRET_<NAME> in the "
		  "environment (NAME: the cluster's, upper-cased, '-' as "
		  "'_')" },
		{ "clusters:\n  east-1: {endpoint: 'https://e:8006', token_id: "
		  "'a@pam!b'}\n  east_1: {endpoint: 'https://f:8006', "
		  "token_id: 'a@pam!c'}\n",
		  3,
		  "clusters.east_1: clusters 'east-1' and 'east_1' would read "
		  "the same variables (PM_API_TOKEN_SECRET_<NAME>: the name "
		  "upper-cased, '-' as '_'); rename one" },
	};
	struct config cfg, one;
	struct diag_list dl = DIAG_LIST_INIT;
	const char *names[CONFIG_MAX_CLUSTERS];
	size_t i;

	(void)state;
	assert_int_equal(
		config_from_text(&cfg, &dl,
				 "proxmox: {endpoint: "
				 "'https://d:8006'}\n"
				 "clusters:\n"
				 "  east:\n"
				 "    endpoint: 'https://e:8006'\n"
				 "    token_id: 'a@pam!e'\n"
				 "    per_node_limit: 2\n"
				 "  west-2: {endpoint: 'https://w:8006',"
				 " user: 'u@pve'}\n"),
		0);
	assert_true(config_multi_cluster(&cfg));
	assert_int_equal(config_cluster_names(&cfg, names, 8), 3);
	assert_string_equal(names[0], "default");
	assert_string_equal(names[1], "east");
	assert_string_equal(names[2], "west-2");
	assert_int_equal(config_cluster(&cfg, "east")->per_node_limit, 2);
	assert_int_equal(config_cluster(&cfg, "east")->parallel, 4);
	assert_null(config_cluster(&cfg, "north"));
	config_for_cluster(&one, &cfg, "west-2");
	assert_string_equal(one.cluster, "west-2");
	assert_string_equal(one.proxmox.endpoint, "https://w:8006");
	assert_string_equal(one.proxmox.user, "u@pve");
	config_for_cluster(&one, &cfg, "default");
	assert_string_equal(one.proxmox.endpoint, "https://d:8006");
	cfg.only_cluster = strdup("east");
	assert_int_equal(config_cluster_names(&cfg, names, 8), 1);
	assert_string_equal(names[0], "east");
	config_release(&cfg);
	/* clusters: alone: no default cluster */
	assert_int_equal(config_from_text(&cfg, &dl,
					  "clusters: {east: {endpoint: "
					  "'https://e:8006'}}\n"),
			 0);
	assert_int_equal(config_cluster_names(&cfg, names, 8), 1);
	assert_null(config_cluster(&cfg, "default"));
	config_release(&cfg);
	/* no clusters: the proxmox: block is the only one */
	assert_int_equal(config_from_text(&cfg, &dl, ""), 0);
	assert_false(config_multi_cluster(&cfg));
	assert_int_equal(config_cluster_names(&cfg, names, 8), 1);
	assert_string_equal(names[0], "default");
	config_release(&cfg);
	diag_list_release(&dl);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct diag_list dl2 = DIAG_LIST_INIT;

		assert_int_equal(config_from_text(&cfg, &dl2, bad[i].text), -1);
		assert_int_equal(dl2.errors, 1);
		assert_int_equal(dl2.items[0].line, bad[i].line);
		assert_string_equal(dl2.items[0].msg, bad[i].msg);
		config_release(&cfg);
		diag_list_release(&dl2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config__defaults_follow_the_seed),
		cmocka_unit_test(config__exclude_is_configurable),
		cmocka_unit_test(config__overrides),
		cmocka_unit_test(config__errors),
		cmocka_unit_test(config__http_limits),
		cmocka_unit_test(config__ssh_connect),
		cmocka_unit_test(config__fingerprint_normalised),
		cmocka_unit_test(config__branch_names),
		cmocka_unit_test(config__workloads),
		cmocka_unit_test(config__clusters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
