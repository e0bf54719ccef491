/*
 * text.c - Python's idea of text for the INI reader: str.isspace(),
 * str.strip(), len(), the regex \w and int(), over UTF-8 bytes.
 */
#include "core/ini/ini_int.h"

/*
 * The length of the character at s[0..n) that Python's str.isspace() takes
 * for white space (so str.strip() and the regex \s), or 0. Those that are
 * line breaks to str.splitlines() never get this far: bad_separator().
 */
size_t py_space(const char *s, size_t n)
{
	uint32_t cp;
	size_t k = n ? utf8_decode(&cp, (const unsigned char *)s, n) : 0;

	if (!k)
		return 0;
	if (cp == ' ' || (cp >= '\t' && cp <= '\r') ||
	    (cp >= 0x1c && cp <= 0x1f) || cp == 0x85 || cp == 0xa0 ||
	    cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
	    cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000)
		return k;
	return 0;
}

/* The same for the character that ends s[0..n). */
size_t py_space_end(const char *s, size_t n)
{
	size_t k;

	for (k = 1; k <= 3 && k <= n; k++)
		if (py_space(s + n - k, k) == k)
			return k;
	return 0;
}

/* Python's str.strip() on s[0..len), as a new string. */
char *py_strip(const char *s, size_t len)
{
	size_t k;

	while ((k = py_space(s, len))) {
		s += k;
		len -= k;
	}
	while ((k = py_space_end(s, len)))
		len -= k;
	return xstrndup(s, len);
}

/* The number of characters (not bytes) of UTF-8 text s, as Python's len(). */
size_t py_len(const char *s)
{
	return utf8_count(s, strlen(s));
}

/* Python's \w for one byte: ASCII letters, digits, '_', and any non-ASCII
 * byte (a UTF-8 letter is the common case). */
bool py_is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/*
 * Python's int() on s, for ASCII digits: white space around, a sign,
 * digits with single '_' between them. A value beyond 64 bits (which Python
 * would take) sets *big.
 */
bool py_int(const char *s, long long *out, bool *big)
{
	size_t n = strlen(s), k, i = 0;
	bool neg = false;
	long long v = 0;

	while ((k = py_space(s, n))) {
		s += k;
		n -= k;
	}
	while ((k = py_space_end(s, n)))
		n -= k;
	if (n && (s[0] == '+' || s[0] == '-'))
		neg = s[i++] == '-';
	if (i == n || !isdigit((unsigned char)s[i]))
		return false;
	for (; i < n; i++) {
		int d = s[i] - '0';

		if (s[i] == '_' && i + 1 < n &&
		    isdigit((unsigned char)s[i + 1]))
			continue;
		if (!isdigit((unsigned char)s[i]))
			return false;
		if (v > (LLONG_MAX - d) / 10)
			*big = true;
		else
			v = v * 10 + d;
	}
	*out = neg ? -v : v;
	return true;
}
