/*
 * parse.c - bounded number parsing and identifiers; see parse.h.
 */
#include "util/parse.h"

#include <ctype.h>
#include <string.h>

int parse_u64(uint64_t *out, const char *s, size_t len, uint64_t min,
	      uint64_t max)
{
	uint64_t v = 0;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_u64z(uint64_t *out, const char *s, uint64_t min, uint64_t max)
{
	return parse_u64(out, s, strlen(s), min, max);
}

int is_identifier(const char *s)
{
	size_t i;

	if (!*s || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}
