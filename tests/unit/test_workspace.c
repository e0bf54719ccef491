/*
 * test_workspace.c - clusters/NAME.yaml: decoding, every error at its
 * line, the cross-check of contexts against the K3s VMs, and the
 * NAME.auto.tfvars.json rendering against the golden files of
 * tests/integration/golden/workloads/ (which workloads.py renders too).
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/workspace.h"
#include "util/fileio.h"

static const char *const known[] = { "externaldns",	 "cert_manager",
				     "external_secrets", "observability",
				     "argocd",		 "istio",
				     "lab_tools",	 NULL };

/* The diagnostics of dl, one "line:col: severity: msg" a line. */
static void diags_text(struct strbuf *out, const struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->nr; i++) {
		diag_format(out, &dl->items[i]);
		strbuf_addch(out, '\n');
	}
}

/* Decode text as clusters/NAME.yaml; its diagnostics into out. */
static int decode(struct strbuf *out, struct workspace *ws, const char *name,
		  const char *text)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf file = STRBUF_INIT;
	int ret;

	strbuf_addf(&file, "clusters/%s.yaml", name);
	ret = workspace_parse(ws, &dl, file.buf, name, text, strlen(text),
			      known);
	diag_list_sort(&dl);
	diags_text(out, &dl);
	diag_list_release(&dl);
	strbuf_release(&file);
	return ret;
}

static void workspace__decodes_the_seed(void **state)
{
	struct strbuf d = STRBUF_INIT;
	struct workspace ws;

	(void)state;
	assert_int_equal(decode(&d, &ws, "observability",
				"kubernetes_context: k8s-observability\n"
				"workloads: [externaldns, cert_manager]\n"
				"config: {install_crd: true}\n"),
			 0);
	assert_string_equal(d.buf, "");
	assert_string_equal(ws.name, "observability");
	assert_string_equal(ws.context, "k8s-observability");
	assert_int_equal(ws.context_line, 1);
	assert_int_equal(ws.context_col, 21);
	assert_int_equal(ws.workloads.nr, 2);
	assert_string_equal(ws.workloads.v[1], "cert_manager");
	assert_true(json_is_true(json_object_get(ws.config, "install_crd")));
	workspace_release(&ws);
	strbuf_release(&d);
}

static const struct {
	const char *name, *text, *want;
} bad[] = {
	{ "a", "workloads: [istio]\n",
	  "clusters/a.yaml:1:1: error: kubernetes_context is required\n" },
	{ "a", "kubernetes_context: k8s-a\n",
	  "clusters/a.yaml:1:1: error: workloads is required\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: []\n",
	  "clusters/a.yaml:2:12: error: workloads: expected a list of one or "
	  "more workload names, got an empty list\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: istio\n",
	  "clusters/a.yaml:2:12: error: workloads: expected a list of one or "
	  "more workload names, got a string\n" },
	{ "a",
	  "kubernetes_context: k8s-a\nworkloads:\n  - istio\n  - certmanager\n",
	  "clusters/a.yaml:4:5: error: workloads[1]: unknown workload "
	  "'certmanager'; did you mean 'cert_manager'?\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: [wordpress]\n",
	  "clusters/a.yaml:2:13: error: workloads[0]: unknown workload "
	  "'wordpress' (known: the seed's modules and the config's "
	  "workload_modules)\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: [istio, istio]\n",
	  "clusters/a.yaml:2:20: error: workloads[1]: workload 'istio' is "
	  "listed twice\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: [{a: 1}]\n",
	  "clusters/a.yaml:2:13: error: workloads[0]: expected a workload "
	  "name, got a mapping\n" },
	{ "a", "kubernetes_context: k8s a\nworkloads: [istio]\n",
	  "clusters/a.yaml:1:21: error: kubernetes_context: 'k8s a': a "
	  "context name is 1 to 253 characters without spaces or "
	  "control characters\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: [istio]\nconfig: [1]\n",
	  "clusters/a.yaml:3:9: error: config: expected a mapping, got a "
	  "list\n" },
	{ "a",
	  "kubernetes_context: k8s-a\nworkloads: [istio]\n"
	  "config:\n  kubernetes_context: k8s-b\n",
	  "clusters/a.yaml:4:3: error: config: kubernetes_context belongs at "
	  "the top of the file, not in config\n" },
	{ "a",
	  "kubernetes_context: k8s-a\nworkloads: [istio]\n"
	  "config: {big: 99999999999999999999}\n",
	  "clusters/a.yaml:3:15: error: config.big: integer out of range "
	  "(write it in quotes for a string)\n" },
	{ "a",
	  "kubernetes_context: k8s-a\nworkloads: [istio]\n"
	  "config: {x: .inf}\n",
	  "clusters/a.yaml:3:13: error: config.x: .inf has no JSON form "
	  "(write it in quotes for a string)\n" },
	{ "a", "kubernetes_context: k8s-a\nworkloads: [istio]\nworkload: x\n",
	  "clusters/a.yaml:3:1: error: unknown key 'workload'; did you mean "
	  "'workloads'?\n" },
	{ "a", "",
	  "clusters/a.yaml:1:1: error: an empty workspace: "
	  "kubernetes_context and workloads are required\n" },
	{ "-a", "kubernetes_context: k8s-a\nworkloads: [istio]\n",
	  "clusters/-a.yaml: error: a workspace name is 1 to 64 letters, "
	  "digits, '-' and '_', starting with a letter or digit\n" },
};

static void workspace__errors_at_their_line(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct strbuf d = STRBUF_INIT;
		struct workspace ws;

		assert_int_equal(decode(&d, &ws, bad[i].name, bad[i].text), -1);
		if (strcmp(d.buf, bad[i].want))
			fail_msg("case %zu:\n got: %s want: %s", i, d.buf,
				 bad[i].want);
		workspace_release(&ws);
		strbuf_release(&d);
	}
}

/* Issue 13's alias bomb inside config: refused at the limit, quickly. */
static void workspace__alias_bomb_bounded(void **state)
{
	struct strbuf text = STRBUF_INIT, d = STRBUF_INIT;
	struct workspace ws;
	int i;

	(void)state;
	strbuf_addstr(&text,
		      "kubernetes_context: k8s-a\nworkloads: [istio]\n"
		      "config:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++)
		strbuf_addf(&text,
			    "  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
			    "*a%d, *a%d, *a%d]\n",
			    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			    i - 1, i - 1, i - 1);
	assert_int_equal(decode(&d, &ws, "a", text.buf), -1);
	assert_non_null(strstr(d.buf, "config holds more than 10000 values"));
	assert_null(ws.config);
	workspace_release(&ws);
	strbuf_release(&text);
	strbuf_release(&d);
}

static void workspace__names(void **state)
{
	static const char *const good[] = { "a",   "observability", "k8s-1",
					    "a_b", "9lives",	    NULL };
	static const char *const no[] = { "",	 "-a",	"_a", "a.b",
					  "a/b", "a b", NULL };
	struct strbuf why = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; good[i]; i++)
		assert_int_equal(workspace_name_check(good[i], &why), 0);
	for (i = 0; no[i]; i++)
		assert_int_equal(workspace_name_check(no[i], &why), -1);
	assert_int_equal(
		workspace_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				     "aaaaaaaaaaaaaaaaaaaaaaaaa",
				     &why),
		-1);
	strbuf_release(&why);
}

static void workspace__contexts_cross_checked(void **state)
{
	struct strvec k3s = STRVEC_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf d = STRBUF_INIT;
	struct workspace ws[3];

	(void)state;
	strvec_pushl(&k3s, "k8s-observability", "k8s-lab", NULL);
	decode(&d, &ws[0], "a",
	       "kubernetes_context: k8s-lab\nworkloads: [istio]\n");
	decode(&d, &ws[1], "b",
	       "kubernetes_context: k8s-observabilty\nworkloads: [istio]\n");
	decode(&d, &ws[2], "c",
	       "kubernetes_context: prod\nworkloads: [istio]\n");
	assert_string_equal(d.buf, "");
	assert_int_equal(workspace_check_contexts(&dl, ws, 3, &k3s), 2);
	diags_text(&d, &dl);
	assert_string_equal(
		d.buf,
		"clusters/b.yaml:1:21: error: kubernetes_context: no K3s VM "
		"of the repository publishes context 'k8s-observabilty'; did "
		"you mean 'k8s-observability'?\n"
		"clusters/c.yaml:1:21: error: kubernetes_context: no K3s VM "
		"of the repository publishes context 'prod' (a VM definition "
		"named so, in the k3s group)\n");
	for (int i = 0; i < 3; i++)
		workspace_release(&ws[i]);
	diag_list_release(&dl);
	strvec_clear(&k3s);
	strbuf_release(&d);
}

/* Render golden/NAME.yaml and compare with golden/NAME.auto.tfvars.json. */
static void golden(const char *name)
{
	struct strbuf in = STRBUF_INIT, want = STRBUF_INIT, got = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT, d = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct workspace ws;

	strbuf_addf(&path, "%s/%s.yaml", GOLDEN_DIR, name);
	assert_int_equal(file_read_all(&in, path.buf, 1 << 20, &e), 0);
	strbuf_reset(&path);
	strbuf_addf(&path, "%s/%s.auto.tfvars.json", GOLDEN_DIR, name);
	assert_int_equal(file_read_all(&want, path.buf, 1 << 20, &e), 0);
	assert_int_equal(decode(&d, &ws, name, in.buf), 0);
	assert_string_equal(d.buf, "");
	workspace_render(&got, &ws);
	assert_string_equal(got.buf, want.buf);
	workspace_release(&ws);
	strbuf_release(&in);
	strbuf_release(&want);
	strbuf_release(&got);
	strbuf_release(&path);
	strbuf_release(&d);
	err_release(&e);
}

static void workspace__render_golden(void **state)
{
	(void)state;
	golden("observability");
	golden("lab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(workspace__decodes_the_seed),
		cmocka_unit_test(workspace__errors_at_their_line),
		cmocka_unit_test(workspace__alias_bomb_bounded),
		cmocka_unit_test(workspace__names),
		cmocka_unit_test(workspace__contexts_cross_checked),
		cmocka_unit_test(workspace__render_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
