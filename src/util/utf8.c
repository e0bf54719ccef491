/*
 * utf8.c - strict UTF-8 decoding; see utf8.h.
 *
 * The checks follow Unicode's table 3-7: the second byte's range depends
 * on the first (E0 needs A0..BF, ED needs 80..9F, F0 needs 90..BF, F4
 * needs 80..8F), which is what rules out overlong forms, surrogates and
 * code points above U+10FFFF. utf8_bad_len() reads the same table to find
 * where a malformed sequence stops.
 */
#include "util/utf8.h"

/* The first byte's sequence length (0: not a lead byte) and the range the
 * second byte must fall in. */
struct utf8_lead {
	size_t len;
	unsigned char lo, hi;
};

static struct utf8_lead lead_of(unsigned char c)
{
	struct utf8_lead l = { 0, 0x80, 0xbf };

	if (c < 0x80)
		l.len = 1;
	else if (c >= 0xc2 && c <= 0xdf)
		l.len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		l.len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		l.len = 4;
	if (c == 0xe0)
		l.lo = 0xa0; /* below: overlong */
	else if (c == 0xed)
		l.hi = 0x9f; /* above: surrogates */
	else if (c == 0xf0)
		l.lo = 0x90; /* below: overlong */
	else if (c == 0xf4)
		l.hi = 0x8f; /* above: beyond U+10FFFF */
	return l;
}

/* How many bytes from s[0] on fit the start of a well-formed sequence
 * (at most l.len, and at most n). */
static size_t valid_prefix(const unsigned char *s, size_t n, struct utf8_lead l)
{
	unsigned char lo = l.lo, hi = l.hi;
	size_t i;

	for (i = 1; i < l.len && i < n; i++) {
		if (s[i] < lo || s[i] > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	return i;
}

size_t utf8_decode(uint32_t *out, const unsigned char *s, size_t n)
{
	struct utf8_lead l = lead_of(s[0]);
	uint32_t cp;
	size_t i;

	if (!l.len || l.len > n || valid_prefix(s, n, l) != l.len)
		return 0;
	cp = l.len == 1 ? s[0] : s[0] & (0x7fu >> l.len);
	for (i = 1; i < l.len; i++)
		cp = (cp << 6) | (s[i] & 0x3fu);
	if (out)
		*out = cp;
	return l.len;
}

size_t utf8_next(uint32_t *out, const unsigned char *s, size_t n)
{
	size_t k = utf8_decode(out, s, n);

	if (k)
		return k;
	*out = UTF8_REPLACEMENT;
	return 1;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	return utf8_decode(NULL, s, n);
}

size_t utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < len) {
		k = utf8_seq_len(p + i, len - i);
		if (!k)
			return i;
		i += k;
	}
	return len;
}

bool utf8_valid(const char *s, size_t len)
{
	return utf8_invalid_at(s, len) == len;
}

size_t utf8_bad_len(const unsigned char *s, size_t n)
{
	struct utf8_lead l = lead_of(s[0]);

	if (l.len < 2)
		return 1;
	return valid_prefix(s, n, l);
}

size_t utf8_count(const char *s, size_t len)
{
	size_t i, nr = 0;

	for (i = 0; i < len; i++)
		nr += ((unsigned char)s[i] & 0xc0) != 0x80;
	return nr;
}
