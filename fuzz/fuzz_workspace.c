/*
 * fuzz_workspace.c - libFuzzer target for clusters/NAME.yaml: whatever the
 * input, decoding ends (aliases in config are counted, so no input makes
 * the conversion grow without bound), every diagnostic sits at a line the
 * input has, and a workspace that decodes renders as JSON that jansson
 * reads back with the workload list and the context object of NAME.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/workspace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const known[] = { "externaldns", "cert_manager",
				     "observability", "istio", NULL };

static int lines_of(const uint8_t *data, size_t size)
{
	int n = 1;
	size_t i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n' || data[i] == '\r'; /* YAML breaks */
	return n;
}

static void check_rendered(const struct workspace *ws)
{
	struct strbuf out = STRBUF_INIT;
	json_error_t jerr;
	json_t *v, *list, *obj;

	workspace_render(&out, ws);
	v = json_loadb(out.buf, out.len, 0, &jerr);
	list = json_object_get(json_object_get(v, "workload"), "ws");
	obj = json_object_get(json_object_get(v, "config"), "ws");
	if (!v || json_array_size(list) != ws->workloads.nr ||
	    strcmp(json_string_value(
			   json_object_get(obj, "kubernetes_context")),
		   ws->context))
		abort();
	json_decref(v);
	strbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct workspace ws;
	int lines = lines_of(data, size);
	size_t i;

	if (workspace_parse(&ws, &dl, "f.yaml", "ws", (const char *)data, size,
			    known) == 0) {
		if (dl.errors || !ws.context || !ws.workloads.nr)
			abort();
		check_rendered(&ws);
	} else if (!dl.errors) {
		abort();
	}
	for (i = 0; i < dl.nr; i++)
		if (dl.items[i].line > lines + 1)
			abort();
	workspace_release(&ws);
	diag_list_release(&dl);
	return 0;
}
