/*
 * test_outputs.c - the outputs file: what apply writes, the inventory
 * reads back (managed VMs only), and bad entries are named exactly.
 */
#include "test.h"
#include "core/outputs.h"
#include "core/pve_format.h"

static void outputs__encode_decode(void **state)
{
	struct vmdef a, b;
	const struct vmdef *defs[] = { &a, &b };
	struct actual_vm vms[2];
	struct strbuf sb = STRBUF_INIT;
	struct outputs o = OUTPUTS_INIT;
	struct err e = ERR_INIT;
	const struct outputs_host *h;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.name = (char *)"k8s-a";
	a.target_node = (char *)"node01";
	a.ipconfig0 = (char *)"ip=10.0.0.5/24,gw=10.0.0.1";
	a.ciuser = (char *)"ops";
	assert_int_equal(pve_parse_ipconfig(&a.ip, a.ipconfig0, &sb), 0);
	b.name = (char *)"db";
	b.target_node = (char *)"node02";
	actual_vm_init(&vms[0]);
	actual_vm_init(&vms[1]);
	vms[0].name = (char *)"k8s-a";
	vms[0].vmid = 101;
	vms[0].tags = (char *)"pve-gitops;pg-12345678";
	vms[1].name = (char *)"db";
	vms[1].vmid = 102;
	vms[1].tags = (char *)"other"; /* not ours: not in the outputs */
	outputs_encode(&sb, defs, 2, vms, 2, "admin", false);
	assert_non_null(strstr(sb.buf, "\"vm_ips\""));
	assert_non_null(strstr(sb.buf, "\"k8s_nodes\""));
	assert_int_equal(outputs_decode(&o, sb.buf, sb.len, "out.json", &e), 0);
	assert_int_equal(o.nr, 1);
	h = outputs_find(&o, "k8s-a");
	assert_non_null(h);
	assert_string_equal(h->host, "10.0.0.5");
	assert_string_equal(h->user, "ops");
	assert_string_equal(h->node, "node01");
	assert_int_equal(h->vmid, 101);
	assert_null(outputs_find(&o, "db"));
	outputs_release(&o);
	strbuf_release(&sb);
	err_release(&e);
}

/* Every entry is found whatever the file's order (the lookup bisects). */
static void outputs__find_any_order(void **state)
{
	static const char *const names[] = { "web-3", "db",    "k8s-b", "a",
					     "zz",    "k8s-a", "m" };
	struct outputs o = OUTPUTS_INIT;
	struct strbuf text = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	strbuf_addstr(&text, "{\"ansible_inventory\": {\"value\": {");
	for (i = 0; i < ARRAY_SIZE(names); i++)
		strbuf_addf(&text,
			    "%s\"%s\": {\"ansible_host\": null, "
			    "\"node\": \"n1\", \"vmid\": %zu}",
			    i ? ", " : "", names[i], 100 + i);
	strbuf_addstr(&text, "}}}");
	assert_int_equal(outputs_decode(&o, text.buf, text.len, "o.json", &e),
			 0);
	assert_int_equal(o.nr, ARRAY_SIZE(names));
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		const struct outputs_host *h = outputs_find(&o, names[i]);

		assert_non_null(h);
		assert_string_equal(h->name, names[i]);
		assert_int_equal(h->vmid, 100 + i);
	}
	assert_null(outputs_find(&o, "k8s-c"));
	assert_null(outputs_find(&o, ""));
	outputs_release(&o);
	assert_null(outputs_find(&o, "db"));
	strbuf_release(&text);
	err_release(&e);
}

static void outputs__bad_files(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "{", "out.json:1: " },
		{ "{}", "out.json: no ansible_inventory.value object" },
		{ "{\"ansible_inventory\": {\"value\": {\"x\": {\"node\": "
		  "\"n1\"}}}}",
		  "out.json: ansible_inventory.value.x: expected" },
		{ "{\"ansible_inventory\": {\"value\": {\"x\": {\"node\": "
		  "\"n1\", \"vmid\": 0}}}}",
		  "ansible_inventory.value.x: expected" },
		{ "{\"ansible_inventory\": {\"value\": {\"x\": {\"node\": "
		  "\"-bad\", \"vmid\": 5}}}}",
		  "out.json: ansible_inventory.value.x.node: " },
		{ "{\"ansible_inventory\": {\"value\": {\"x\": {\"node\": "
		  "\"n1\", \"vmid\": 5, \"ansible_host\": 7}}}}",
		  "ansible_inventory.value.x: expected" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct outputs o = OUTPUTS_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(outputs_decode(&o, cases[i].text,
						strlen(cases[i].text),
						"out.json", &e),
				 -1);
		if (!strstr(e.msg.buf, cases[i].msg))
			fail_msg("case %zu: '%s'", i, e.msg.buf);
		assert_int_equal(e.exit_code, EXIT_INVALID);
		outputs_release(&o);
		err_release(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(outputs__encode_decode),
		cmocka_unit_test(outputs__find_any_order),
		cmocka_unit_test(outputs__bad_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
