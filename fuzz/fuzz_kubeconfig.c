/*
 * fuzz_kubeconfig.c - libFuzzer target for kubeconfig parsing, the K3s
 * merge and the YAML writer: whatever the shared file holds, a merge that
 * succeeds gives a kubeconfig that passes the shape check, holds the new
 * context, and reads back (written as YAML, parsed again) as the same value;
 * a merge that fails leaves the shared config unchanged. The input is also
 * merged as the incoming kubeconfig: a refusal is placed at a line that
 * exists in the input. Aliases are expanded within the limits of
 * kubeconfig.h, so no input makes the conversion grow without bound.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/kubeconfig.h"
#include "core/yemit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char k3s[] =
	"apiVersion: v1\nclusters:\n- cluster:\n"
	"    certificate-authority-data: QUJD\n"
	"    server: https://127.0.0.1:6443\n  name: default\n"
	"contexts:\n- context:\n    cluster: default\n    user: default\n"
	"  name: default\ncurrent-context: default\nkind: Config\n"
	"preferences: {}\nusers:\n- name: default\n  user:\n"
	"    client-certificate-data: REVG\n    client-key-data: R0hJ\n";

/* Written as YAML and parsed again, v must come back equal. */
static void round_trip(const json_t *v)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf text = STRBUF_INIT;
	json_t *back = NULL;

	yemit(&text, v);
	if (kubeconfig_parse(&back, &dl, "emitted", text.buf, text.len) < 0 ||
	    !json_equal((json_t *)v, back))
		abort();
	json_decref(back);
	diag_list_release(&dl);
	strbuf_release(&text);
}

/* The input as the incoming kubeconfig: a refusal has a line in it. */
static void as_incoming(const char *data, size_t size)
{
	struct kubeconfig_doc from = KUBECONFIG_DOC_INIT;
	struct kubeconfig_merge_opts o = { "k8s-in", "in", "10.0.0.2", NULL };
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
	struct kubeconfig_merge_report rep;
	struct diag_list dl = DIAG_LIST_INIT;
	json_t *into = kubeconfig_new();
	size_t lines = 1, i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	kubeconfig_merge_report_init(&rep);
	if (kubeconfig_load(&from, &dl, "in", data, size) == 0 &&
	    kubeconfig_merge(into, from.kc, &o, &rep, &why) < 0) {
		if (why.side != KUBECONFIG_FROM && why.side != KUBECONFIG_INTO)
			abort();
		kubeconfig_doc_diag(&dl, &from, DIAG_ERROR, &why);
		if (dl.nr != 1 || dl.items[0].line < 1 ||
		    (size_t)dl.items[0].line > lines)
			abort();
	}
	kubeconfig_merge_report_release(&rep);
	kubeconfig_problem_release(&why);
	kubeconfig_doc_release(&from);
	diag_list_release(&dl);
	json_decref(into);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct kubeconfig_merge_opts o = { "k8s-fuzz", NULL, "10.0.0.1",
					   "fuzzy-name" };
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
	json_t *into = NULL, *from = NULL, *before;
	struct strvec names;

	as_incoming((const char *)data, size);
	if (kubeconfig_parse(&into, &dl, "fuzz", (const char *)data, size) < 0)
		goto out;
	round_trip(into);
	if (kubeconfig_parse(&from, &dl, "k3s", k3s, strlen(k3s)) < 0)
		abort();
	before = json_deep_copy(into);
	kubeconfig_merge_report_init(&rep);
	if (kubeconfig_merge(into, from, &o, &rep, &why) < 0) {
		if (!json_equal(into, before))
			abort();
	} else {
		size_t i;
		bool found = false;

		strvec_init(&names);
		kubeconfig_context_names(into, &names);
		for (i = 0; i < names.nr; i++)
			found |= !strcmp(names.v[i], o.context);
		kubeconfig_problem_release(&why);
		if (!found || kubeconfig_check(into, &why) < 0)
			abort();
		round_trip(into);
		strvec_clear(&names);
	}
	json_decref(before);
	kubeconfig_merge_report_release(&rep);
out:
	json_decref(into);
	json_decref(from);
	diag_list_release(&dl);
	kubeconfig_problem_release(&why);
	return 0;
}
