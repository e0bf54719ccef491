/*
 * fuzz_config.c - libFuzzer target for the pve-gitops.yaml decoder.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct ytree tree = YTREE_INIT;
	struct config cfg;

	config_init(&cfg);
	if (ytree_parse(&tree, &dl, "fuzz.yaml", (const char *)data, size) == 0)
		config_decode(&cfg, &dl, "fuzz.yaml", tree.root);
	ytree_release(&tree);
	config_release(&cfg);
	diag_list_release(&dl);
	return 0;
}
