/*
 * jscan.c - a pull scanner over one JSON text; see jscan.h.
 *
 * A value is consumed by the call that reads or skips it; the comma
 * before the next member is consumed by jscan_next_key()/jscan_next_item(),
 * which know whether one is due from the byte before them (an opening
 * bracket: none).
 */
#include "util/jscan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

void jscan_init(struct jscan *s, const char *buf, size_t len)
{
	s->p = buf;
	s->end = buf + len;
	s->failed = false;
}

static int fail(struct jscan *s)
{
	s->failed = true;
	s->p = s->end;
	return -1;
}

static void ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

enum jscan_type jscan_peek(struct jscan *s)
{
	if (s->failed)
		return JSCAN_ERROR;
	ws(s);
	if (s->p >= s->end)
		return JSCAN_ERROR;
	switch (*s->p) {
	case '{':
		return JSCAN_OBJECT;
	case '[':
		return JSCAN_ARRAY;
	case '"':
		return JSCAN_STRING;
	case 't':
		return JSCAN_TRUE;
	case 'f':
		return JSCAN_FALSE;
	case 'n':
		return JSCAN_NULL;
	default:
		return *s->p == '-' || (*s->p >= '0' && *s->p <= '9')
			       ? JSCAN_NUMBER
			       : JSCAN_ERROR;
	}
}

int jscan_enter(struct jscan *s, char open)
{
	if (s->failed)
		return -1;
	ws(s);
	if (s->p >= s->end || *s->p != open)
		return fail(s);
	s->p++;
	return 0;
}

/* Before the next member: 1 when one follows (its comma consumed), 0 at
 * the closing bracket (consumed). */
static int next_member(struct jscan *s, char close)
{
	bool first;

	if (s->failed)
		return -1;
	first = s->p[-1] == (close == '}' ? '{' : '[');
	ws(s);
	if (s->p >= s->end)
		return fail(s);
	if (*s->p == close) {
		s->p++;
		return 0;
	}
	if (!first) {
		if (*s->p != ',')
			return fail(s);
		s->p++;
	}
	return 1;
}

static int hex4(struct jscan *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (s->end - s->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = *s->p++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static void add_utf8(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (out)
		strbuf_add(out, b, n);
}

/* \uXXXX (the backslash and u consumed), a surrogate pair as one. */
static int unicode_escape(struct jscan *s, struct strbuf *out)
{
	uint32_t cp, lo;

	if (hex4(s, &cp) < 0)
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1; /* a low surrogate alone */
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
			return -1;
		s->p += 2;
		if (hex4(s, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return -1;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return -1; /* U+0000: jansson refuses it too */
	add_utf8(out, cp);
	return 0;
}

/* A string into out (NULL: only checked). */
static int string(struct jscan *s, struct strbuf *out)
{
	if (out)
		strbuf_reset(out);
	if (jscan_enter(s, '"') < 0)
		return -1;
	while (s->p < s->end) {
		const char *run = s->p;
		size_t n;

		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20 &&
		       (unsigned char)*s->p < 0x80)
			s->p++;
		if (out)
			strbuf_add(out, run, (size_t)(s->p - run));
		if (s->p >= s->end)
			break;
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if ((unsigned char)*s->p < 0x20)
			break; /* a control character unescaped */
		if (*s->p != '\\') {
			n = utf8_seq_len((const unsigned char *)s->p,
					 (size_t)(s->end - s->p));
			if (!n)
				break;
			if (out)
				strbuf_add(out, s->p, n);
			s->p += n;
			continue;
		}
		if (++s->p >= s->end)
			break;
		switch (*s->p++) {
		case '"':
			add_utf8(out, '"');
			break;
		case '\\':
			add_utf8(out, '\\');
			break;
		case '/':
			add_utf8(out, '/');
			break;
		case 'b':
			add_utf8(out, '\b');
			break;
		case 'f':
			add_utf8(out, '\f');
			break;
		case 'n':
			add_utf8(out, '\n');
			break;
		case 'r':
			add_utf8(out, '\r');
			break;
		case 't':
			add_utf8(out, '\t');
			break;
		case 'u':
			if (unicode_escape(s, out) < 0)
				return fail(s);
			break;
		default:
			return fail(s);
		}
	}
	return fail(s);
}

int jscan_next_key(struct jscan *s, struct strbuf *key)
{
	int r = next_member(s, '}');

	if (r <= 0)
		return r;
	if (string(s, key) < 0)
		return -1;
	ws(s);
	if (s->p >= s->end || *s->p != ':')
		return fail(s);
	s->p++;
	return 1;
}

int jscan_next_item(struct jscan *s)
{
	return next_member(s, ']');
}

int jscan_string(struct jscan *s, struct strbuf *out)
{
	return string(s, out);
}

/* A number; *is_int when it has neither fraction nor exponent. */
static int number(struct jscan *s, bool *is_int, const char **start)
{
	ws(s);
	*start = s->p;
	*is_int = true;
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return fail(s);
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		*is_int = false;
		if (++s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s);
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		*is_int = false;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s);
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return 0;
}

/* The integer at start..s->p; -1 when it does not fit int64_t (jansson
 * refuses such a text as a whole). */
static int integer_at(struct jscan *s, const char *start, int64_t *out)
{
	char buf[24];
	size_t n = (size_t)(s->p - start);
	long long v;
	char *endp;

	if (n >= sizeof(buf))
		return fail(s);
	memcpy(buf, start, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoll(buf, &endp, 10);
	if (errno || *endp)
		return fail(s);
	if (out)
		*out = (int64_t)v;
	return 0;
}

int jscan_integer(struct jscan *s, int64_t *out)
{
	const char *start;
	bool is_int;

	if (s->failed || number(s, &is_int, &start) < 0)
		return -1;
	if (!is_int)
		return fail(s);
	return integer_at(s, start, out);
}

/* A real that overflows a double is refused, as jansson does. */
static int real_at(struct jscan *s, const char *start)
{
	char buf[64], *endp;
	size_t n = (size_t)(s->p - start);
	double v;

	if (n >= sizeof(buf)) {
		/* long reals are rare: copy them whole */
		char *big = xstrndup(start, n);

		v = strtod(big, &endp);
		free(big);
	} else {
		memcpy(buf, start, n);
		buf[n] = '\0';
		v = strtod(buf, &endp);
	}
	return v == HUGE_VAL || v == -HUGE_VAL ? fail(s) : 0;
}

static int word(struct jscan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
		return fail(s);
	s->p += n;
	return 0;
}

static int skip(struct jscan *s, int depth)
{
	const char *start;
	bool is_int;
	int r;

	switch (jscan_peek(s)) {
	case JSCAN_OBJECT:
	case JSCAN_ARRAY: {
		bool obj = *s->p == '{';

		if (depth >= JSCAN_MAX_DEPTH)
			return fail(s);
		s->p++;
		while ((r = obj ? jscan_next_key(s, NULL)
				: jscan_next_item(s)) > 0)
			if (skip(s, depth + 1) < 0)
				return -1;
		return r;
	}
	case JSCAN_STRING:
		return string(s, NULL);
	case JSCAN_NUMBER:
		if (number(s, &is_int, &start) < 0)
			return -1;
		return is_int ? integer_at(s, start, NULL) : real_at(s, start);
	case JSCAN_TRUE:
		return word(s, "true");
	case JSCAN_FALSE:
		return word(s, "false");
	case JSCAN_NULL:
		return word(s, "null");
	default:
		return fail(s);
	}
}

int jscan_skip(struct jscan *s)
{
	return skip(s, 0);
}

int jscan_finish(struct jscan *s)
{
	if (s->failed)
		return -1;
	ws(s);
	return s->p == s->end ? 0 : fail(s);
}
