/*
 * recost.c - the expanded size of a regular expression; see recost.h.
 */
#include "core/recost.h"

#include <stdlib.h>

#define SAT ((size_t)1 << 40) /* saturate far above any limit */

static size_t sat_add(size_t a, size_t b)
{
	return a + b > SAT ? SAT : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
	return b && a > SAT / b ? SAT : a * b;
}

/* Parse "{m}", "{m,}" or "{m,n}" at p; returns the largest count + 1 for
 * an open range, and sets *end past the brace. 0 when p is no interval. */
static size_t interval(const char *p, const char **end)
{
	size_t m = 0, n;
	const char *q = p + 1;

	if (*q < '0' || *q > '9')
		return 0;
	while (*q >= '0' && *q <= '9')
		m = sat_add(sat_mul(m, 10), (size_t)(*q++ - '0'));
	n = m;
	if (*q == ',') {
		q++;
		if (*q == '}')
			n = m + 1; /* open: one copy plus a star */
		else
			for (n = 0; *q >= '0' && *q <= '9';)
				n = sat_add(sat_mul(n, 10),
					    (size_t)(*q++ - '0'));
	}
	if (*q != '}')
		return 0;
	*end = q + 1;
	return n > m ? n : m;
}

/* Past the bracket expression at p ("[...]", with "[:class:]", "[.x.]",
 * "[=x=]" inside and a leading "]" or "^]" taken literally): one atom. */
static const char *skip_bracket(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
			char close = p[1];

			for (p += 2; *p && !(*p == close && p[1] == ']');)
				p++;
			if (*p)
				p++;
		}
		if (*p)
			p++;
	}
	return *p ? p + 1 : p;
}

size_t regex_expanded_size(const char *p)
{
	size_t stack[64], cur = 0, last = 0;
	int depth = 0;

	while (*p) {
		const char *end;
		size_t f;

		switch (*p) {
		case '\\':
			p += p[1] ? 2 : 1;
			last = 1;
			cur = sat_add(cur, 1);
			continue;
		case '[':
			p = skip_bracket(p);
			last = 1;
			cur = sat_add(cur, 1);
			continue;
		case '(':
			if (depth == 64)
				return SAT;
			stack[depth++] = cur;
			cur = 0;
			p++;
			continue;
		case ')':
			if (depth) {
				last = cur;
				cur = sat_add(stack[--depth], cur);
			}
			p++;
			continue;
		case '{':
			f = interval(p, &end);
			if (f) {
				/* the last atom now appears f times */
				cur = sat_add(cur, sat_mul(last, f - 1));
				last = sat_mul(last, f);
				p = end;
				continue;
			}
			break;
		case '+':
			/* glibc compiles X+ as X X*: one more copy */
			cur = sat_add(cur, last);
			last = sat_mul(last, 2);
			p++;
			continue;
		case '*':
		case '?':
		case '|':
		case '^':
		case '$':
			p++;
			continue;
		}
		last = 1;
		cur = sat_add(cur, 1);
		p++;
	}
	while (depth)
		cur = sat_add(stack[--depth], cur);
	return cur;
}
