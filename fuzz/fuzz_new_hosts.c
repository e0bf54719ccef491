/*
 * fuzz_new_hosts.c - libFuzzer target for the new_hosts.txt decoder (it
 * reads any commit's file): whatever the text, a decoded entry is an
 * address and a DNS label that encode and decode back to themselves, and
 * a refusal names a line that exists.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/new_hosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t lines_in(const uint8_t *data, size_t size)
{
	size_t i, n = 1;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct new_hosts nh = NEW_HOSTS_INIT, back = NEW_HOSTS_INIT;
	struct strbuf why = STRBUF_INIT, text = STRBUF_INIT;
	size_t i, line = 0;

	if (new_hosts_decode(&nh, (const char *)data, size, &line, &why) < 0 &&
	    (line < 1 || line > lines_in(data, size) || !why.len))
		abort();
	for (i = 0; i < nh.nr; i++)
		if (!*nh.v[i].ip || !*nh.v[i].name ||
		    strspn(nh.v[i].ip, "0123456789.") != strlen(nh.v[i].ip) ||
		    strpbrk(nh.v[i].name, ",\r\n \t"))
			abort();
	new_hosts_encode(&text, &nh);
	strbuf_reset(&why);
	if (new_hosts_decode(&back, text.buf, text.len, &line, &why) < 0 ||
	    back.nr != nh.nr)
		abort();
	for (i = 0; i < nh.nr; i++)
		if (strcmp(nh.v[i].ip, back.v[i].ip) ||
		    strcmp(nh.v[i].name, back.v[i].name))
			abort();
	new_hosts_release(&nh);
	new_hosts_release(&back);
	strbuf_release(&why);
	strbuf_release(&text);
	return 0;
}
