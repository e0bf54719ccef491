/*
 * fuzz_tag.c - libFuzzer target for the [ansible NAME] parser: whatever
 * the message, a found name must be safe.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf name = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;

	if (tag_extract((const char *)data, size, &name, &why) == TAG_FOUND) {
		/* the promise provision relies on */
		if (!name.len || name.len > 64 || strstr(name.buf, "..") ||
		    name.buf[0] == '-' || name.buf[0] == '.')
			abort();
		for (i = 0; i < name.len; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				    name.buf[i]) ||
			    !name.buf[i])
				abort();
	}
	strbuf_release(&name);
	strbuf_release(&why);
	return 0;
}
