/*
 * fuzz_lease.c - libFuzzer target for the lease record (core/lease.h): the
 * bytes are a commit object from the git server. A lease it accepts has a
 * printable holder of 1 to LEASE_HOLDER_MAX bytes and an expiry from 0 to
 * INT64_MAX, and reads back the same once written again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/lease.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf again = STRBUF_INIT;
	struct lease_info info, back;
	size_t i, n;

	if (lease_parse(&info, (const char *)data, size) < 0) {
		if (info.valid || info.holder[0])
			abort(); /* refused, yet something filled in */
		return 0;
	}
	n = strlen(info.holder);
	if (!info.valid || !n || n > LEASE_HOLDER_MAX || info.expires < 0)
		abort();
	for (i = 0; i < n; i++)
		if (info.holder[i] < 0x20 || info.holder[i] > 0x7e)
			abort();
	strbuf_addstr(&again, "tree 0\n\n");
	lease_format(&again, info.holder, info.expires);
	if (lease_parse(&back, again.buf, again.len) < 0 ||
	    strcmp(back.holder, info.holder) || back.expires != info.expires)
		abort();
	strbuf_release(&again);
	return 0;
}
