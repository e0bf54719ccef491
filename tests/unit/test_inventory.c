/*
 * test_inventory.c - the rewrite of the managed parts of an INI inventory,
 * case by case, each also run a second time to prove it changes nothing.
 * (tests/integration/inventory.py checks the same through the command and
 * ansible-inventory.)
 */
#include "test.h"

#include <string.h>

#include "core/inventory.h"

struct vm {
	const char *name, *ip, *user;
	const char *extra; /* one ansible_groups entry, or NULL */
};

static void want_of(struct inv_want *w, struct inv_rules *r,
		    const struct config *cfg, const struct vm *vms, size_t n,
		    const char *keep)
{
	struct strbuf why = STRBUF_INIT;
	size_t i;

	assert_int_equal(inv_rules_compile(r, cfg, &why), 0);
	inv_want_init(w, r);
	for (i = 0; i < n; i++) {
		struct strvec extra;

		strvec_init(&extra);
		if (vms[i].extra)
			strvec_push(&extra, vms[i].extra);
		inv_want_add(w, r, vms[i].name, vms[i].ip,
			     vms[i].user ? vms[i].user : "ubuntu", 22, &extra);
		strvec_clear(&extra);
	}
	if (keep)
		inv_want_keep(w, keep);
	strbuf_release(&why);
}

/* Rewrite text; returns the result (caller frees) and fills *c. */
static char *rewrite(const char *text, const struct inv_want *w,
		     struct inv_change *c, int *rc)
{
	struct ini ini = INI_INIT;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	size_t at = 0;
	int line;

	assert_int_equal(ini_parse(&ini, text, strlen(text), &line, &why), 0);
	*rc = inventory_rewrite(&ini, w, c, &at, &why);
	if (*rc)
		strbuf_addf(&out, "%zu: %s", at, why.buf);
	else
		ini_render(&ini, &out);
	ini_release(&ini);
	strbuf_release(&why);
	return strbuf_detach(&out, NULL);
}

static void check(const char *before, const char *after, const struct vm *vms,
		  size_t n, const char *keep, const char *new_hosts)
{
	struct config cfg;
	struct inv_rules r;
	struct inv_want w;
	struct inv_change c, c2;
	struct strbuf nh = STRBUF_INIT;
	char *got, *again;
	size_t i;
	int rc;

	config_init(&cfg);
	want_of(&w, &r, &cfg, vms, n, keep);
	inv_change_init(&c);
	got = rewrite(before, &w, &c, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, after);
	for (i = 0; i < c.new_hosts.nr; i++)
		strbuf_addf(&nh, "%s\n", c.new_hosts.v[i]);
	assert_string_equal(nh.buf, new_hosts);
	inv_change_init(&c2);
	again = rewrite(got, &w, &c2, &rc);
	assert_string_equal(again, got);
	assert_int_equal(c2.added.nr + c2.updated.nr + c2.removed.nr +
				 c2.groups_added.nr + c2.groups_removed.nr,
			 0);
	free(got);
	free(again);
	strbuf_release(&nh);
	inv_change_release(&c);
	inv_change_release(&c2);
	inv_want_release(&w);
	inv_rules_release(&r);
	config_release(&cfg);
}

static void inventory__add_to_block_and_groups(void **state)
{
	static const struct vm vms[] = {
		{ "haproxy-a", "10.0.0.1", NULL, NULL },
		{ "k8s-x", "10.0.0.2", "admin", "monitored" },
		{ "plain", "10.0.0.3", NULL, NULL },
	};

	(void)state;
	check("# Individual hosts\nplain ansible_host=10.0.0.3 "
	      "ansible_user=ubuntu\n\n[all:vars]\nx=1\n",
	      "# Individual hosts\nplain ansible_host=10.0.0.3 "
	      "ansible_user=ubuntu\nhaproxy-a ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\nk8s-x ansible_host=10.0.0.2 "
	      "ansible_user=admin\n\n[all:vars]\nx=1\n\n[haproxy]\nhaproxy-a\n"
	      "\n[k3s]\nk8s-x\n\n[monitored]\nk8s-x\n",
	      vms, ARRAY_SIZE(vms), NULL,
	      "10.0.0.1,haproxy-a\n10.0.0.2,k8s-x\n");
}

/* A multi-node cluster's servers and agents land in their own groups
 * (in the order of the rules), next to a single-node cluster; a removed
 * agent leaves k3s_agents, which disappears. */
static void inventory__multi_node_groups(void **state)
{
	static const struct vm vms[] = {
		{ "k8s-prod-cp01", "10.0.1.1", NULL, NULL },
		{ "k8s-prod-cp02", "10.0.1.2", NULL, NULL },
		{ "k8s-prod-w01", "10.0.1.3", NULL, NULL },
		{ "k8s-dev", "10.0.2.1", NULL, NULL },
	};
	static const char after[] =
		"# Individual hosts\n"
		"k8s-prod-cp01 ansible_host=10.0.1.1 ansible_user=ubuntu\n"
		"k8s-prod-cp02 ansible_host=10.0.1.2 ansible_user=ubuntu\n"
		"k8s-prod-w01 ansible_host=10.0.1.3 ansible_user=ubuntu\n"
		"k8s-dev ansible_host=10.0.2.1 ansible_user=ubuntu\n"
		"\n[k3s]\nk8s-dev\n"
		"\n[k3s_servers]\nk8s-prod-cp01\nk8s-prod-cp02\n"
		"\n[k3s_agents]\nk8s-prod-w01\n";

	(void)state;
	check("# Individual hosts\n", after, vms, ARRAY_SIZE(vms), NULL,
	      "10.0.1.1,k8s-prod-cp01\n10.0.1.2,k8s-prod-cp02\n"
	      "10.0.1.3,k8s-prod-w01\n10.0.2.1,k8s-dev\n");
	check(after,
	      "# Individual hosts\n"
	      "k8s-prod-cp01 ansible_host=10.0.1.1 ansible_user=ubuntu\n"
	      "k8s-prod-cp02 ansible_host=10.0.1.2 ansible_user=ubuntu\n"
	      "k8s-dev ansible_host=10.0.2.1 ansible_user=ubuntu\n"
	      "\n[k3s]\nk8s-dev\n"
	      "\n[k3s_servers]\nk8s-prod-cp01\nk8s-prod-cp02\n",
	      vms, 2, "k8s-dev", "");
}

static void inventory__removal_everywhere_and_duplicates(void **state)
{
	static const struct vm vms[] = { { "k8s-a", "10.0.0.1", NULL, NULL } };

	(void)state;
	check("# Individual hosts\nk8s-a ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\nk8s-a ansible_host=9.9.9.9\n"
	      "gone ansible_host=10.0.0.9\n\n[k3s]\nk8s-a\ngone\n\n[hand]\n"
	      "gone x=1\nother\n",
	      "# Individual hosts\nk8s-a ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n\n[k3s]\nk8s-a\n\n[hand]\nother\n",
	      vms, ARRAY_SIZE(vms), NULL, "");
}

/* A host line rewritten keeps its inline comment, as Ansible reads it. */
static void inventory__inline_comment_kept(void **state)
{
	static const struct vm vms[] = {
		{ "k8s-e2e", "127.0.0.3", NULL, NULL },
		{ "k8s-b", "10.0.0.2", NULL, NULL },
		{ "k8s-c", "10.0.0.3", NULL, NULL },
		{ "k8s-d", "10.0.0.4", NULL, NULL },
	};

	(void)state;
	check("# Individual hosts\n"
	      "k8s-e2e ansible_host=127.0.0.2  # rack 4\n"
	      "k8s-b ansible_host=10.0.0.9\t# 'quoted' \"text\"  \r\n"
	      "k8s-c ansible_host=10.0.0.9#tight\n"
	      "k8s-d ansible_host=10.0.0.9 note=\"a#b\" # real\n"
	      "\n[k3s]\nk8s-e2e\nk8s-b\nk8s-c\nk8s-d\n",
	      "# Individual hosts\n"
	      "k8s-e2e ansible_host=127.0.0.3 ansible_user=ubuntu  # rack 4\n"
	      "k8s-b ansible_host=10.0.0.2 ansible_user=ubuntu\t# 'quoted' "
	      "\"text\"  \r\n"
	      "k8s-c ansible_host=10.0.0.3 ansible_user=ubuntu #tight\n"
	      "k8s-d ansible_host=10.0.0.4 ansible_user=ubuntu # real\n"
	      "\n[k3s]\nk8s-e2e\nk8s-b\nk8s-c\nk8s-d\n",
	      vms, ARRAY_SIZE(vms), NULL, "");
}

static void inventory__wrong_group_left_and_kept_names(void **state)
{
	static const struct vm vms[] = {
		{ "k8s-a", "10.0.0.1", NULL, NULL },
		{ "dhcp", NULL, NULL, NULL },
	};

	(void)state;
	/* k8s-a listed in [haproxy] by an older rule: out of a managed group
	 * it no longer matches; the kept name and the DHCP host stay */
	check("# Individual hosts\nk8s-a ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\nhome ansible_host=10.0.0.7\n"
	      "dhcp ansible_host=10.0.0.8 ansible_user=ubuntu\n\n"
	      "[haproxy]\nk8s-a\n\n[k3s]\nk8s-a\nhome\n",
	      "# Individual hosts\nk8s-a ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\nhome ansible_host=10.0.0.7\n"
	      "dhcp ansible_host=10.0.0.8 ansible_user=ubuntu\n\n"
	      "[k3s]\nk8s-a\nhome\n",
	      vms, ARRAY_SIZE(vms), "home", "");
}

static void inventory__empty_groups(void **state)
{
	static const struct vm vms[] = { { "web", "10.0.0.1", NULL, NULL } };

	(void)state;
	check("# Individual hosts\nweb ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n\n[k3s]\n# was here\n\n[haproxy]\n"
	      "\n[haproxy:vars]\nx=1\n\n[talos_workers]\n",
	      "# Individual hosts\nweb ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n\n[haproxy]\n\n[haproxy:vars]\nx=1\n",
	      vms, ARRAY_SIZE(vms), NULL, "");
}

static void inventory__marker_added(void **state)
{
	static const struct vm vms[] = { { "a", "10.0.0.1", NULL, NULL } };

	(void)state;
	check("# top\n\n# about g\n[g]\nh\n",
	      "# top\n\n# Individual hosts\na ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n\n# about g\n[g]\nh\n",
	      vms, ARRAY_SIZE(vms), NULL, "10.0.0.1,a\n");
	check("",
	      "# Individual hosts\na ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n",
	      vms, ARRAY_SIZE(vms), NULL, "10.0.0.1,a\n");
	check("x",
	      "x\n\n# Individual hosts\na ansible_host=10.0.0.1 "
	      "ansible_user=ubuntu\n",
	      vms, ARRAY_SIZE(vms), NULL, "10.0.0.1,a\n");
}

static void inventory__marker_in_vars_refused(void **state)
{
	static const struct vm vms[] = { { "a", "10.0.0.1", NULL, NULL } };
	struct config cfg;
	struct inv_rules r;
	struct inv_want w;
	struct inv_change c;
	char *msg;
	int rc;

	(void)state;
	config_init(&cfg);
	want_of(&w, &r, &cfg, vms, 1, NULL);
	inv_change_init(&c);
	msg = rewrite("[all:vars]\nx=1\n# Individual hosts\n", &w, &c, &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(msg, "3: '# Individual hosts' is in "
				 "[all:vars], where host lines would be read "
				 "as variables; move it above the first "
				 "section");
	free(msg);
	msg = rewrite("# x\n[p:children]\n\n#  individual HOSTS  \n", &w, &c,
		      &rc);
	assert_int_equal(rc, -1);
	assert_string_equal(msg, "4: '# Individual hosts' is in "
				 "[p:children], where host lines would be "
				 "read as group names; move it above the "
				 "first section");
	free(msg);
	inv_change_release(&c);
	inv_want_release(&w);
	inv_rules_release(&r);
	config_release(&cfg);
}

static void inventory__rules(void **state)
{
	struct config cfg;
	struct inv_rules r;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	config_init(&cfg);
	assert_int_equal(inv_rules_compile(&r, &cfg, &why), 0);
	assert_string_equal(inv_rules_match(&r, "haproxy"), "haproxy");
	assert_string_equal(inv_rules_match(&r, "haproxy-prod"), "haproxy");
	assert_null(inv_rules_match(&r, "haproxyx"));
	assert_string_equal(inv_rules_match(&r, "talos-prod-cp01"),
			    "talos_control_plane");
	assert_string_equal(inv_rules_match(&r, "talos-prod-w01"),
			    "talos_workers");
	assert_null(inv_rules_match(&r, "talos-a-b-w01"));
	assert_string_equal(inv_rules_match(&r, "k8s-dev"), "k3s");
	assert_null(inv_rules_match(&r, "k8s-dev-2"));
	/* the seed's multi-node clusters: servers and agents of k8s-ha.yml */
	assert_string_equal(inv_rules_match(&r, "k8s-prod-cp01"),
			    "k3s_servers");
	assert_string_equal(inv_rules_match(&r, "k8s-prod-cp3"), "k3s_servers");
	assert_string_equal(inv_rules_match(&r, "k8s-prod-w01"), "k3s_agents");
	assert_string_equal(inv_rules_match(&r, "k8s-prod-w12"), "k3s_agents");
	assert_null(inv_rules_match(&r, "k8s-prod-cp"));
	assert_null(inv_rules_match(&r, "k8s-prod-w"));
	assert_null(inv_rules_match(&r, "k8s-prod-cp01x"));
	assert_null(inv_rules_match(&r, "k8s-a-b-cp01"));
	assert_null(inv_rules_match(&r, "k8s--cp01"));
	/* one cluster with a cluster name like a role stays single-node */
	assert_string_equal(inv_rules_match(&r, "k8s-cp01"), "k3s");
	assert_string_equal(inv_rules_match(&r, "k8s-ha"), "k3s");
	inv_rules_release(&r);
	strbuf_release(&why);
	config_release(&cfg);
}

/* What the check must read of an unchanged host_vars file: whatever
 * could hold an address, and nothing else. */
static void inventory__vars_may_set_address(void **state)
{
	static const struct {
		const char *text;
		bool may;
	} cases[] = {
		{ "# Managed by pve-gitops from proxmox/vms/a.yaml\n"
		  "pve_node: node01\npve_vmid: 100\npve_tags: [web]\n",
		  false },
		{ "", false },
		{ "ansible_user: ops\nansible_port: 22\n", false },
		{ "ansible_host: 10.0.0.9\n", true },
		{ "x: 1\n'ansible_host': 10.0.0.9\n", true },
		{ "{ansible_ssh_host: 10.0.0.9}\n", true },
		{ "\"ansible\\x5fhost\": 10.0.0.9\n", true },
		{ "$ANSIBLE_VAULT;1.1;AES256\n6231\n", true },
		{ "pve_tags: [ansible_host]\n", true }, /* conservative */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(inventory_vars_may_set_address(
					 cases[i].text, strlen(cases[i].text)),
				 cases[i].may);
	/* a NUL byte hides nothing after it */
	assert_true(inventory_vars_may_set_address("a\0ansible_host: x", 18));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inventory__add_to_block_and_groups),
		cmocka_unit_test(inventory__multi_node_groups),
		cmocka_unit_test(inventory__removal_everywhere_and_duplicates),
		cmocka_unit_test(inventory__wrong_group_left_and_kept_names),
		cmocka_unit_test(inventory__empty_groups),
		cmocka_unit_test(inventory__marker_added),
		cmocka_unit_test(inventory__marker_in_vars_refused),
		cmocka_unit_test(inventory__rules),
		cmocka_unit_test(inventory__inline_comment_kept),
		cmocka_unit_test(inventory__vars_may_set_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
