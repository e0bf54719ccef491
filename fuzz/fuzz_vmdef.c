/*
 * fuzz_vmdef.c - libFuzzer target for the VM definition loader: YAML
 * parsing (ytree), decoding and every per-file check (vmdef), plus the
 * cross-file checks on a set holding the result twice.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/vmdef.h"
#include "core/vmset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct vmdef_opts opts = { .strict_secrets = size & 1 };
	struct vmset set = VMSET_INIT;
	struct vmdef vm;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	vmdef_parse(&vm, &dl, "fuzz.yaml", (const char *)data, size, &opts);
	vmset_add(&set, &vm, true);
	vmdef_parse(&vm, &dl, "fuzz2.yaml", (const char *)data, size, &opts);
	vmset_add(&set, &vm, false);
	vmset_check(&set, &dl);
	vmset_sort(&set);
	diag_list_sort(&dl);
	for (i = 0; i < dl.nr; i++)
		diag_format(&sb, &dl.items[i]);
	strbuf_release(&sb);
	vmset_release(&set);
	diag_list_release(&dl);
	return 0;
}
