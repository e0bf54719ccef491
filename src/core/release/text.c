/*
 * text.c - characters as ECMAScript regular expressions see them: JS \s,
 * the line terminators '.' does not match, \w, ASCII case folding, trim(),
 * truthiness, and invalid UTF-8 read as U+FFFD the way Node decodes it.
 * Every scan of the release code that reproduces a JS regex uses these.
 */
#include "core/release/release_int.h"

/* ECMAScript's WhiteSpace and LineTerminator code points (JS \s). */
static bool js_space_cp(uint32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xa0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
	       cp == 0xfeff;
}

/* Length of the WhiteSpace or LineTerminator (JS \s) at p, or 0. */
size_t js_space(const char *p, size_t n)
{
	uint32_t cp;
	size_t k = n ? utf8_decode(&cp, (const unsigned char *)p, n) : 0;

	return k && js_space_cp(cp) ? k : 0;
}

/* 1 when p starts with a character JS '.' does not match. */
int js_terminator(const char *p, size_t n)
{
	uint32_t cp;

	return n && utf8_decode(&cp, (const unsigned char *)p, n) &&
	       (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029);
}

int js_is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

int js_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) starts with word (ASCII, case-insensitive as JS /i). */
int js_ci_prefix(const char *s, size_t n, const char *word)
{
	size_t i, len = strlen(word);

	if (n < len)
		return 0;
	for (i = 0; i < len; i++)
		if (js_lower((unsigned char)s[i]) !=
		    js_lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* String.prototype.trim() on s[0..*len): *s and *len narrowed. */
void js_trim(const char **s, size_t *len)
{
	size_t n, k;

	while (*len && (n = js_space(*s, *len))) {
		*s += n;
		*len -= n;
	}
	for (;;) {
		for (k = 1; k <= 3 && k <= *len; k++)
			if (js_space(*s + *len - k, k) == k)
				break;
		if (k > 3 || k > *len)
			return;
		*len -= k;
	}
}

/* s as Node decodes it: invalid UTF-8 becomes U+FFFD. */
void js_decode_utf8(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n) {
			strbuf_add(out, s + i, n);
			i += n;
		} else {
			i += utf8_bad_len(p + i, len - i);
			strbuf_add(out, "\xef\xbf\xbd", 3);
		}
	}
}

int js_truthy(const char *s)
{
	return s && *s;
}
