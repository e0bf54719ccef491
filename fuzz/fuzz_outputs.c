/*
 * fuzz_outputs.c - libFuzzer target for the outputs file decoder and the
 * saved plan decoder, which read files anybody with write access to the
 * repository (or a CI cache) may have changed: whatever the bytes, a
 * decode either fails with a message and nothing kept, or gives entries
 * that hold the promised ranges (vmid 1..999999999, a node name).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/outputs.h"
#include "core/savedplan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outputs o = OUTPUTS_INIT;
	struct savedplan sp;
	struct err e = ERR_INIT;
	size_t i;

	if (outputs_decode(&o, (const char *)data, size, "f", &e) == 0) {
		for (i = 0; i < o.nr; i++)
			if (o.hosts[i].vmid < 1 ||
			    o.hosts[i].vmid > 999999999 || !o.hosts[i].node ||
			    !*o.hosts[i].node ||
			    outputs_find(&o, o.hosts[i].name) == NULL)
				abort();
	} else if (!e.msg.len) {
		abort();
	}
	outputs_release(&o);
	err_release(&e);
	if (savedplan_decode(&sp, (const char *)data, size, "f", &e) == 0) {
		if (strlen(sp.fingerprint) != 16)
			abort();
	} else if (!e.msg.len) {
		abort();
	}
	err_release(&e);
	return 0;
}
