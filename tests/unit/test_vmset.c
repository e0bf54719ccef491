/*
 * test_vmset.c - checks across definitions: duplicates and file names.
 */
#include "test.h"
#include "core/vmset.h"

static void add(struct vmset *set, struct diag_list *dl, const char *file,
		const char *text, bool focus)
{
	struct vmdef_opts opts = { .strict_secrets = false };
	struct vmdef vm;

	vmdef_parse(&vm, dl, file, text, strlen(text), &opts);
	vmset_add(set, &vm, focus);
}

static char *errors_of(const struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < dl->nr; i++)
		strbuf_addf(&sb, "%s:%d:%d: %s: %s\n", dl->items[i].file,
			    dl->items[i].line, dl->items[i].col,
			    diag_severity_name(dl->items[i].severity),
			    dl->items[i].msg);
	return strbuf_detach(&sb, NULL);
}

static void vmset__duplicates(void **state)
{
	struct vmset set = VMSET_INIT;
	struct diag_list parse = DIAG_LIST_INIT, dl = DIAG_LIST_INIT;
	char *got;

	(void)state;
	add(&set, &parse, "vms/a.yaml",
	    "name: a\ntarget_node: n\nclone: t\nvmid: 120\n"
	    "ipconfig0: ip=10.0.0.5/24\n",
	    true);
	add(&set, &parse, "vms/b.yaml",
	    "name: b\ntarget_node: n\nclone: t\nvmid: 120\n"
	    "ipconfig0: ip=10.0.0.6/24\n",
	    true);
	add(&set, &parse, "vms/c.yaml",
	    "name: A\ntarget_node: n\nclone: t\n"
	    "ipconfig0: ip=10.0.0.5/16\n",
	    true);
	add(&set, &parse, "vms/d.yaml",
	    "name: d\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n", true);
	add(&set, &parse, "vms/e.yaml",
	    "name: e\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n", true);
	assert_int_equal(parse.errors, 0);
	vmset_check(&set, &dl);
	diag_list_sort(&dl);
	got = errors_of(&dl);
	assert_string_equal(
		got,
		"vms/a.yaml:1:7: error: name 'a' is also used by "
		"vms/c.yaml\n"
		"vms/a.yaml:4:7: error: vmid '120' is also used by "
		"vms/b.yaml\n"
		"vms/a.yaml:5:12: error: IPv4 address '10.0.0.5' is also "
		"used by vms/c.yaml\n"
		"vms/b.yaml:4:7: error: vmid '120' is also used by "
		"vms/a.yaml\n"
		"vms/c.yaml:1:7: error: name 'A' is also used by vms/a.yaml\n"
		"vms/c.yaml:1:7: warning: name 'A' does not match the file "
		"name\n"
		"vms/c.yaml:4:12: error: IPv4 address '10.0.0.5' is also "
		"used by vms/a.yaml\n");
	free(got);
	vmset_release(&set);
	diag_list_release(&parse);
	diag_list_release(&dl);
}

static void vmset__focus_limits_reports(void **state)
{
	struct vmset set = VMSET_INIT;
	struct diag_list parse = DIAG_LIST_INIT, dl = DIAG_LIST_INIT;

	(void)state;
	/* a duplicate outside the focus, and one involving it: only the
	 * focused file hears of it */
	add(&set, &parse, "vms/x.yaml", "name: x\ntarget_node: n\n", false);
	add(&set, &parse, "vms/x2.yaml", "name: x\ntarget_node: n\n", false);
	add(&set, &parse, "new.yaml", "name: y\ntarget_node: n\nvmid: 200\n",
	    true);
	add(&set, &parse, "vms/y.yaml", "name: z\ntarget_node: n\nvmid: 200\n",
	    false);
	vmset_check(&set, &dl);
	assert_int_equal(dl.errors, 1);
	assert_string_equal(dl.items[0].file, "new.yaml");
	assert_string_equal(dl.items[0].msg,
			    "vmid '200' is also used by vms/y.yaml");
	assert_int_equal(dl.warnings, 1); /* new.yaml vs name y */
	vmset_release(&set);
	diag_list_release(&parse);
	diag_list_release(&dl);
}

static void vmset__sort_by_name(void **state)
{
	struct vmset set = VMSET_INIT;
	struct diag_list parse = DIAG_LIST_INIT;

	(void)state;
	add(&set, &parse, "b.yaml", "name: b\ntarget_node: n\n", true);
	add(&set, &parse, "bad.yaml", "cores: 1\n", false);
	add(&set, &parse, "a.yaml", "name: a\ntarget_node: n\n", false);
	vmset_sort(&set);
	assert_string_equal(set.items[0].name, "a");
	assert_false(set.focus[0]);
	assert_string_equal(set.items[1].name, "b");
	assert_true(set.focus[1]);
	assert_null(set.items[2].name);
	vmset_release(&set);
	diag_list_release(&parse);
}

/* vmids and addresses per cluster, names across the repository; the
 * grouping by cluster keeps each group's order. */
static void vmset__per_cluster(void **state)
{
	static const char *const order[] = { "default", "east", "west" };
	struct vmset set = VMSET_INIT;
	struct diag_list parse = DIAG_LIST_INIT, dl = DIAG_LIST_INIT;
	char *got;

	(void)state;
	add(&set, &parse, "vms/w.yaml",
	    "name: w\ncluster: west\ntarget_node: n\nclone: t\nvmid: 120\n"
	    "ipconfig0: ip=10.0.0.5/24\n",
	    true);
	add(&set, &parse, "vms/e.yaml",
	    "name: e\ncluster: east\ntarget_node: n\nclone: t\nvmid: 120\n"
	    "ipconfig0: ip=10.0.0.5/24\n",
	    true);
	add(&set, &parse, "vms/e2.yaml",
	    "name: e2\ncluster: east\ntarget_node: n\nclone: t\n"
	    "vmid: 120\n",
	    true);
	add(&set, &parse, "vms/d.yaml",
	    "name: w\ntarget_node: n\nclone: t\nvmid: 121\n", true);
	assert_int_equal(parse.errors, 0);
	vmset_check(&set, &dl);
	diag_list_sort(&dl);
	got = errors_of(&dl);
	assert_string_equal(
		got,
		"vms/d.yaml:1:7: error: name 'w' is also used by "
		"vms/w.yaml\n"
		"vms/d.yaml:1:7: warning: name 'w' does not match the file name\n"
		"vms/e.yaml:5:7: error: vmid '120' is also used by "
		"vms/e2.yaml\n"
		"vms/e2.yaml:5:7: error: vmid '120' is also used by "
		"vms/e.yaml\n"
		"vms/w.yaml:1:7: error: name 'w' is also used by "
		"vms/d.yaml\n");
	free(got);
	vmset_group_by_cluster(&set, order, 3);
	assert_string_equal(set.items[0].file, "vms/d.yaml");
	assert_string_equal(set.items[1].file, "vms/e.yaml");
	assert_string_equal(set.items[2].file, "vms/e2.yaml");
	assert_string_equal(set.items[3].file, "vms/w.yaml");
	vmset_release(&set);
	diag_list_release(&parse);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmset__duplicates),
		cmocka_unit_test(vmset__focus_limits_reports),
		cmocka_unit_test(vmset__sort_by_name),
		cmocka_unit_test(vmset__per_cluster),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
