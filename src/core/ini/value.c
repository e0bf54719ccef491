/*
 * value.c - what ast.literal_eval() does with a variable's value, as far
 * as it decides whether Ansible accepts the line: literals it raises on,
 * nesting limits, and ansible_group_priority through int().
 */
#include "core/ini/ini_int.h"

/*
 * Ansible passes every value through ast.literal_eval() and catches only
 * ValueError and SyntaxError. A literal with a list, dict or set as a set
 * element or dict key raises TypeError, and an expression nested a few
 * thousand deep raises RecursionError or MemoryError: the file is refused.
 * The recogniser below knows a subset of Python literals (plain strings,
 * decimal numbers, True/False/None, containers); anything else is "unsure"
 * and accepted, as literal_eval() would mostly turn it into a string.
 */
enum lit_kind { LIT_UNSURE, LIT_HASHABLE, LIT_UNHASHABLE };

struct lit {
	const char *s;
	int depth;
	bool type_error;
};

#define LIT_MAX_DEPTH	100
#define LIT_MAX_NESTING 1000

static enum lit_kind lit_expr(struct lit *l);

static void lit_ws(struct lit *l)
{
	while (*l->s == ' ' || *l->s == '\t')
		l->s++;
}

/* Adjacent '...' / "..." strings without prefix, triple quotes or \N, \x,
 * \u, \U escapes (which can be syntax errors). */
static enum lit_kind lit_string(struct lit *l)
{
	do {
		char q = *l->s++, c;

		if (l->s[0] == q && l->s[1] == q)
			return LIT_UNSURE;
		while ((c = *l->s) != q) {
			if (!c)
				return LIT_UNSURE; /* not closed */
			l->s++;
			if (c == '\\') {
				if (!*l->s || strchr("NxuU", *l->s))
					return LIT_UNSURE;
				l->s++;
			}
		}
		l->s++; /* the closing quote */
		lit_ws(l);
	} while (*l->s == '\'' || *l->s == '"');
	return LIT_HASHABLE;
}

/* A decimal integer without '_' or a float digits.digits. */
static enum lit_kind lit_number(struct lit *l)
{
	const char *s = l->s;
	size_t n = strspn(s, "0123456789"), f;

	if (s[n] == '.') {
		f = strspn(s + n + 1, "0123456789");
		if (!n || !f)
			return LIT_UNSURE;
		n += 1 + f;
	} else if (n > 1 && s[0] == '0' && strspn(s, "0") != n) {
		return LIT_UNSURE; /* 007 is a syntax error */
	}
	if (!n || isalnum((unsigned char)s[n]) || s[n] == '_' || s[n] == '.')
		return LIT_UNSURE;
	l->s += n;
	return LIT_HASHABLE;
}

static enum lit_kind lit_name(struct lit *l)
{
	static const char *const names[] = { "True", "False", "None" };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(names[i]);
		if (!strncmp(l->s, names[i], n) &&
		    !isalnum((unsigned char)l->s[n]) && l->s[n] != '_' &&
		    (unsigned char)l->s[n] < 0x80) {
			l->s += n;
			return LIT_HASHABLE;
		}
	}
	return LIT_UNSURE;
}

/* A hashed position (set element, dict key) holding kind. */
static enum lit_kind lit_hashed(struct lit *l, enum lit_kind kind)
{
	if (kind == LIT_UNHASHABLE)
		l->type_error = true;
	return kind;
}

/* Elements up to close after an opening bracket; *all: all hashable. */
static bool lit_items(struct lit *l, char close, bool hashed, bool *all,
		      size_t *nr, bool *comma)
{
	enum lit_kind k;

	*all = true;
	*nr = 0;
	*comma = false;
	for (;;) {
		lit_ws(l);
		if (*l->s == close) {
			l->s++;
			return true;
		}
		k = lit_expr(l);
		if (k == LIT_UNSURE)
			return false;
		if (hashed)
			lit_hashed(l, k);
		*all = *all && k == LIT_HASHABLE;
		(*nr)++;
		lit_ws(l);
		if (*l->s == ',') {
			l->s++;
			*comma = true;
		} else if (*l->s != close) {
			return false;
		}
	}
}

/* {} {k: v, ...} or {e, ...}, after the '{'. */
static enum lit_kind lit_brace(struct lit *l)
{
	enum lit_kind k;
	bool all, comma;
	size_t nr;

	lit_ws(l);
	if (*l->s == '}') {
		l->s++;
		return LIT_UNHASHABLE;
	}
	k = lit_expr(l);
	if (k == LIT_UNSURE)
		return k;
	lit_ws(l);
	if (*l->s != ':') { /* a set */
		lit_hashed(l, k);
		if (*l->s == ',')
			l->s++;
		else if (*l->s != '}')
			return LIT_UNSURE;
		return lit_items(l, '}', true, &all, &nr, &comma)
			       ? LIT_UNHASHABLE
			       : LIT_UNSURE;
	}
	for (;;) { /* a dict: k is the key, *l->s the ':' */
		lit_hashed(l, k);
		l->s++;
		lit_ws(l);
		if (lit_expr(l) == LIT_UNSURE)
			return LIT_UNSURE;
		lit_ws(l);
		if (*l->s == ',') {
			l->s++;
			lit_ws(l);
		}
		if (*l->s == '}') {
			l->s++;
			return LIT_UNHASHABLE;
		}
		if (l->s[-1] != ',' && l->s[-1] != ' ' && l->s[-1] != '\t')
			return LIT_UNSURE;
		k = lit_expr(l);
		if (k == LIT_UNSURE)
			return k;
		lit_ws(l);
		if (*l->s != ':')
			return LIT_UNSURE;
	}
}

static enum lit_kind lit_expr(struct lit *l)
{
	enum lit_kind k = LIT_UNSURE;
	bool all, comma;
	size_t nr;
	char c = *l->s;

	if (++l->depth > LIT_MAX_DEPTH)
		return LIT_UNSURE;
	if (c == '-' || c == '+') {
		l->s++;
		lit_ws(l);
		k = isdigit((unsigned char)*l->s) ? lit_number(l) : LIT_UNSURE;
	} else if (isdigit((unsigned char)c)) {
		k = lit_number(l);
	} else if (c == '\'' || c == '"') {
		k = lit_string(l);
	} else if (c == '[') {
		l->s++;
		k = lit_items(l, ']', false, &all, &nr, &comma) ? LIT_UNHASHABLE
								: LIT_UNSURE;
	} else if (c == '(') {
		l->s++;
		if (!lit_items(l, ')', false, &all, &nr, &comma))
			k = LIT_UNSURE;
		else if (nr == 1 && !comma) /* (x) is x */
			k = all ? LIT_HASHABLE : LIT_UNHASHABLE;
		else
			k = all ? LIT_HASHABLE : LIT_UNHASHABLE;
	} else if (c == '{') {
		l->s++;
		k = lit_brace(l);
	} else {
		k = lit_name(l);
	}
	l->depth--;
	return k;
}

/*
 * A bound on how deep Python's parser nests v: the operators, opening
 * brackets and nesting keywords outside strings (numbers and names are
 * leaves; commas, colons and comparisons do not nest).
 */
static size_t lit_nesting(const char *v)
{
	static const char word[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
	size_t n = 0, w;
	char q = 0;

	for (; *v; v++) {
		if (q) {
			if (*v == '\\' && v[1])
				v++;
			else if (*v == q)
				q = 0;
		} else if (*v == '\'' || *v == '"') {
			q = *v;
		} else if (isdigit((unsigned char)*v)) {
			v += strspn(v, word) - 1; /* a number, dots included */
			while (v[1] == '.' && isdigit((unsigned char)v[2]))
				v += 1 + strspn(v + 2, word);
		} else if (isalpha((unsigned char)*v) || *v == '_') {
			w = strspn(v, word);
			if ((w == 3 && !strncmp(v, "not", 3)) ||
			    (w == 6 && !strncmp(v, "lambda", 6)) ||
			    (w == 2 && !strncmp(v, "if", 2)) ||
			    (w == 5 && !strncmp(v, "await", 5)))
				n++;
			v += w - 1;
		} else if (strchr("+-*/%@&|^~<>.([{", *v)) {
			n++;
		}
	}
	return n;
}

/* Refuse value v of key k when literal_eval() would raise what Ansible
 * does not catch. */
int ini_check_value(struct parser *p, const char *k, const char *v)
{
	struct lit l = { v, 0, false };
	enum lit_kind kind;
	size_t nest = lit_nesting(v);

	if (nest > LIT_MAX_NESTING)
		return ini_fail(p, 0,
				"the value of '%s' nests %zu operators deep; "
				"Python's literal_eval gives up on such values",
				k, nest);
	lit_ws(&l);
	kind = lit_expr(&l);
	while (kind != LIT_UNSURE && (lit_ws(&l), *l.s == ',')) {
		l.s++; /* a tuple: 1, 2 */
		lit_ws(&l);
		if (*l.s)
			kind = lit_expr(&l);
	}
	if (kind != LIT_UNSURE && !*l.s && l.type_error)
		return ini_fail(p, 0,
				"the value of '%s' is a literal with an "
				"unhashable set element or dict key",
				k);
	return 0;
}

/*
 * ansible_group_priority goes through int(): an integer, optionally quoted,
 * a float or True/False; refused otherwise (even where Python would find a
 * number, as in 0x10).
 */
int ini_check_priority(struct parser *p, const char *value)
{
	char *v = py_strip(value, strlen(value));
	size_t n = strlen(v);
	long long x;
	bool big = false, ok;

	if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		ok = !strchr(v + 1, '\\') && py_int(v + 1, &x, &big);
	} else {
		struct lit l = { v, 0, false };

		ok = py_int(v, &x, &big) || !strcmp(v, "True") ||
		     !strcmp(v, "False") ||
		     (isdigit((unsigned char)*v) &&
		      lit_number(&l) == LIT_HASHABLE && !*l.s);
	}
	free(v);
	if (ok)
		return 0;
	return ini_fail(p, 0,
			"ansible_group_priority must be an integer, got: %s",
			value);
}
