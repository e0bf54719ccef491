/*
 * fuzz_vmdef.c - libFuzzer target for the VM definition loader: YAML
 * parsing (ytree), decoding and every per-file check (vmdef), plus the
 * cross-file checks on a set holding the result twice; with the seed's
 * defaults and with a config's (every nested_disks slot created).
 */
#include <stddef.h>
#include <stdint.h>

#include "core/vmdef.h"
#include "core/vmset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	/* every other input with defaults.nested_disks: all and the rest of
	 * the defaults turned round */
	static const struct vmdef_defaults all = {
		.onboot = 0,
		.full_clone = 1,
		.agent = 1,
		.automatic_reboot = 0,
		.network_firewall = 0,
		.scsihw = "lsi",
		.nested_disks_all = true,
	};
	struct vmdef_opts opts = { .strict_secrets = size & 1,
				   .defaults = size & 2 ? &all : NULL };
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
