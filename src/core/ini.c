/*
 * ini.c - the Ansible INI inventory model; see ini.h.
 *
 * The checks mirror ansible-core 2.14's ini plugin closely enough that a
 * file it accepts is accepted here and a file it refuses is refused with the
 * same line, including what InventoryData adds (group loops, empty host
 * names, ansible_group_priority) and what reconcile_inventory() refuses.
 * Where Python and C disagree about text (str.splitlines() breaking on form
 * feeds, surrogate-escaped bytes, Unicode digits and word characters) or
 * where Ansible's limit is Python's stack, the file is refused rather than
 * read differently: NUL, lone CR, \v, \f, \x1c-\x1e, U+0085, U+2028,
 * U+2029, invalid UTF-8 outside comment lines, more than 65 ranges in a
 * pattern, range numbers beyond 64 bits or in non-ASCII digits, a non-ASCII
 * host in "[host]:port", values nesting over 1000 operators deep, and an
 * ansible_group_priority that is not an integer.
 */
#include "core/ini.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/strvec.h"
#include "util/utf8.h"
#include "util/xalloc.h"

struct pending {
	char *group;
	int line;
	bool vars; /* a :vars section for a group not yet declared */
	struct strvec parents; /* the :children sections that named it */
	bool children_ok;      /* resolved */
};

/* A declared group and the groups it is a child of (indexes). */
struct group {
	char *name;
	size_t *parents;
	size_t nr_parents, alloc_parents;
	size_t seen; /* is_ancestor()'s mark */
};

struct parser {
	struct ini *ini;
	struct strbuf *why;
	int lineno;
	struct pending_list {
		struct pending *v;
		size_t nr, alloc;
	} pend;
	struct group *groups; /* declared groups */
	size_t nr_groups, alloc_groups;
	size_t mark;	  /* the last mark is_ancestor() used */
	int all_child;	  /* the first line making "all" a child, or 0 */
	char *all_parent; /* its parent */
};

static int fail(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (line)
		p->lineno = line;
	va_start(ap, fmt);
	strbuf_vaddf(p->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- groups and pending declarations ----------------------------------- */

/* The index of declared group g, or nr_groups. */
static size_t group_index(const struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->nr_groups; i++)
		if (!strcmp(p->groups[i].name, g))
			break;
	return i;
}

static bool group_known(const struct parser *p, const char *g)
{
	return group_index(p, g) < p->nr_groups;
}

static void group_add(struct parser *p, const char *g)
{
	if (group_known(p, g))
		return;
	ALLOC_GROW(p->groups, p->nr_groups + 1, p->alloc_groups);
	memset(&p->groups[p->nr_groups], 0, sizeof(*p->groups));
	p->groups[p->nr_groups++].name = xstrdup(g);
}

/* 1 when group a is an ancestor of group b; each group is visited once. */
static bool is_ancestor(struct parser *p, size_t a, size_t b)
{
	size_t *todo = xcalloc(p->nr_groups, sizeof(*todo));
	size_t nr = 0, i, mark = ++p->mark;
	bool found = false;

	todo[nr++] = b;
	while (nr && !found) {
		const struct group *g = &p->groups[todo[--nr]];

		for (i = 0; i < g->nr_parents && !found; i++) {
			size_t up = g->parents[i];

			if (p->groups[up].seen == mark)
				continue;
			p->groups[up].seen = mark;
			found = up == a;
			todo[nr++] = up;
		}
	}
	free(todo);
	return found;
}

/*
 * Make child (declared) a child group of parent, the way Ansible's
 * Group.add_child_group() does: refused when that makes a loop.
 */
static int add_child(struct parser *p, const char *parent, const char *child)
{
	size_t a = group_index(p, parent), b = group_index(p, child), i;
	struct group *c = &p->groups[b];

	for (i = 0; i < c->nr_parents; i++)
		if (c->parents[i] == a)
			return 0;
	if (a == b)
		return fail(p, 0, "can't add group to itself");
	if (is_ancestor(p, b, a))
		return fail(p, 0,
			    "Adding group '%s' as child to '%s' creates a "
			    "recursive dependency loop.",
			    child, parent);
	ALLOC_GROW(c->parents, c->nr_parents + 1, c->alloc_parents);
	c->parents[c->nr_parents++] = a;
	if (!strcmp(child, "all") && !p->all_child) {
		p->all_child = p->lineno;
		p->all_parent = xstrdup(parent);
	}
	return 0;
}

static struct pending *pending_find(struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++)
		if (!p->pend.v[i].children_ok && !strcmp(p->pend.v[i].group, g))
			return &p->pend.v[i];
	return NULL;
}

static struct pending *pending_add(struct parser *p, const char *g, bool vars)
{
	struct pending *d;

	ALLOC_GROW(p->pend.v, p->pend.nr + 1, p->pend.alloc);
	d = &p->pend.v[p->pend.nr++];
	d->group = xstrdup(g);
	d->line = p->lineno;
	d->vars = vars;
	strvec_init(&d->parents);
	d->children_ok = false;
	return d;
}

/*
 * A header [g] or [g:children] declares g; [g:vars] does not. Declaring a
 * group named in earlier :children sections makes it their child.
 */
static int section_seen(struct parser *p, const char *g, bool vars)
{
	struct pending *d;
	size_t i;

	if (!group_known(p, g)) {
		if (vars && !pending_find(p, g))
			pending_add(p, g, true);
		group_add(p, g);
	}
	d = pending_find(p, g);
	if (!d || vars)
		return 0;
	d->children_ok = true;
	for (i = 0; i < d->parents.nr; i++)
		if (add_child(p, d->parents.v[i], g) < 0)
			return -1;
	return 0;
}

static int child_seen(struct parser *p, const char *parent, const char *child)
{
	struct pending *d;

	if (group_known(p, child))
		return add_child(p, parent, child);
	d = pending_find(p, child);
	if (!d)
		d = pending_add(p, child, false);
	strvec_push(&d->parents, parent);
	return 0;
}

/*
 * What Ansible checks once the file is read: pending declarations, then
 * (reconcile_inventory) every group without a parent becomes a child of
 * "all", which loops when "all" itself is somebody's child.
 */
static int pending_check(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++) {
		const struct pending *d = &p->pend.v[i];

		if (d->children_ok)
			continue;
		if (d->vars)
			return fail(p, d->line,
				    "Section [%s:vars] not valid for undefined "
				    "group: %s",
				    d->group, d->group);
		return fail(
			p, d->line,
			"Section [%s:children] includes undefined group: %s",
			d->parents.v[d->parents.nr - 1], d->group);
	}
	if (p->all_child)
		return fail(p, p->all_child,
			    "group 'all' is a child of '%s', which makes a "
			    "recursive dependency loop",
			    p->all_parent);
	return 0;
}

/* ---- Python's idea of text -------------------------------------------- */

/*
 * The length of the character at s[0..n) that Python's str.isspace() takes
 * for white space (so str.strip() and the regex \s), or 0. Those that are
 * line breaks to str.splitlines() never get this far: bad_separator().
 */
static size_t py_space(const char *s, size_t n)
{
	static const char *const wide[] = {
		"\xc2\x85",	/* U+0085 */
		"\xc2\xa0",	/* U+00A0 */
		"\xe1\x9a\x80", /* U+1680 */
		"\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82", "\xe2\x80\x83",
		"\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87",
		"\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", /* ..U+200A */
		"\xe2\x80\xa8", "\xe2\x80\xa9", /* U+2028, U+2029 */
		"\xe2\x80\xaf",			/* U+202F */
		"\xe2\x81\x9f",			/* U+205F */
		"\xe3\x80\x80",			/* U+3000 */
	};
	unsigned char c = n ? (unsigned char)s[0] : 0;
	size_t i, k;

	if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
		return 1;
	for (i = 0; c >= 0xc2 && i < sizeof(wide) / sizeof(wide[0]); i++) {
		k = strlen(wide[i]);
		if (k <= n && !memcmp(s, wide[i], k))
			return k;
	}
	return 0;
}

/* The same for the character that ends s[0..n). */
static size_t py_space_end(const char *s, size_t n)
{
	size_t k;

	for (k = 1; k <= 3 && k <= n; k++)
		if (py_space(s + n - k, k) == k)
			return k;
	return 0;
}

/* Python's str.strip() on s[0..len), as a new string. */
static char *py_strip(const char *s, size_t len)
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
static size_t py_len(const char *s)
{
	return utf8_count(s, strlen(s));
}

/* ---- host patterns ------------------------------------------------------ */

/* Python's \w for one byte: ASCII letters, digits, '_', and any non-ASCII
 * byte (a UTF-8 letter is the common case). */
static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* \[([a-z]:[a-z]|[0-9]+:[0-9]+)(:[0-9]+)?\] at s; its length or 0. */
static size_t alnum_range(const char *s)
{
	size_t i = 1;

	if (s[0] != '[')
		return 0;
	if (isalpha((unsigned char)s[1]) && s[2] == ':' &&
	    isalpha((unsigned char)s[3])) {
		i = 4;
	} else {
		size_t a = strspn(s + 1, "0123456789"), b;

		if (!a || s[1 + a] != ':')
			return 0;
		b = strspn(s + 2 + a, "0123456789");
		if (!b)
			return 0;
		i = 2 + a + b;
	}
	if (s[i] == ':') {
		size_t c = strspn(s + i + 1, "0123456789");

		if (!c)
			return 0;
		i += 1 + c;
	}
	return s[i] == ']' ? i + 1 : 0;
}

/* Ansible's hostname pattern (labels of \w, '-', '_' and ranges). */
static bool is_hostname(const char *s, size_t len)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		char last = 0;

		while (i < len && s[i] != '.') {
			size_t r = s[i] == '[' ? alnum_range(s + i) : 0;

			if (r && i + r <= len) {
				i += r;
				last = ']';
			} else if (is_word((unsigned char)s[i]) ||
				   (s[i] == '-' && i > start)) {
				last = s[i++];
			} else {
				return false;
			}
		}
		if (i == start || last == '_' || last == '-')
			return false;
		if (i == len)
			return true;
		i++; /* '.' */
	}
}

static const char hexdigits[] = "0123456789abcdefABCDEF";

/*
 * One component of Ansible's IPv6 pattern at s: [0-9a-f]{1,4} or a range
 * \[[0-9a-f]+:[0-9a-f]+(:[0-9]+)?\] (any case), followed by sep; with sep
 * 0, a component that a match may end inside. Its length or 0.
 */
static size_t v6_part(const char *s, char sep)
{
	size_t n, a, b, c;

	if (*s == '[') {
		a = strspn(s + 1, hexdigits);
		if (!a || s[1 + a] != ':')
			return 0;
		b = strspn(s + 2 + a, hexdigits);
		if (!b)
			return 0;
		n = 2 + a + b;
		if (s[n] == ':') {
			c = strspn(s + n + 1, "0123456789");
			if (!c)
				return 0;
			n += 1 + c;
		}
		if (s[n++] != ']')
			return 0;
	} else {
		n = strspn(s, hexdigits);
		if (!n || (n > 4 && sep))
			return 0;
		if (n > 4)
			n = 4;
	}
	return !sep || s[n] == sep ? n : 0;
}

/* (C\.){3}C at s: to the end of s when full, else as a prefix. */
static bool v6_v4_tail(const char *s, bool full)
{
	size_t i = 0, k, c;

	for (c = 0; c < 3; c++) {
		k = v6_part(s + i, '.');
		if (!k)
			return false;
		i += k + 1;
	}
	k = v6_part(s + i, 0);
	return k && (!full || !s[i + k]);
}

/*
 * Ansible's IPv6 pattern (parsing/utils/addresses.py) the way re.match()
 * applies it: only its first alternative is anchored at the start and only
 * its last one at the end, so the others match any text they begin. That
 * leaves: "::" at the start, (C:){1,6}: or (C:){7}C at the start,
 * (0:){6}(C.){3}C at the start, or exactly (0:){5}ffff:(C.){3}C.
 */
static bool py_ipv6(const char *s)
{
	size_t i = 0, k, c;

	if (s[0] == ':' && s[1] == ':')
		return true;
	for (c = 0; c < 7; c++) {
		k = v6_part(s + i, ':');
		if (!k)
			break;
		i += k + 1;
		if (c < 6 && s[i] == ':')
			return true;
	}
	if (c == 7 && v6_part(s + i, 0))
		return true;
	if (strncmp(s, "0:0:0:0:0:", 10))
		return false;
	if (!strncmp(s + 10, "0:", 2) && v6_v4_tail(s + 12, false))
		return true;
	return !strncasecmp(s + 10, "ffff:", 5) && v6_v4_tail(s + 15, true);
}

static bool is_host_identifier(const char *s, size_t len)
{
	char *tmp;
	bool v6;

	if (is_hostname(s, len))
		return true;
	tmp = xstrndup(s, len);
	v6 = py_ipv6(tmp);
	free(tmp);
	return v6;
}

/* ((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$ on s[0..len): the colon or len. */
static size_t hostport_colon(const char *s, size_t len)
{
	size_t i = 0, d;

	while (i < len && s[i] != ':') {
		if (s[i] == ']')
			return len;
		if (s[i] == '[') {
			const char *c = memchr(s + i, ']', len - i);

			if (!c)
				return len;
			i = (size_t)(c - s);
		}
		i++;
	}
	if (i == len)
		return len;
	d = len - i - 1;
	return d && strspn(s + i + 1, "0123456789") >= d ? i : len;
}

/*
 * The host part of a pattern with an optional port, the way parse_address()
 * splits "[host]:port" and "host:port": *start and the length of the host
 * part, or 0 and len when the pattern has no port Ansible would take.
 */
static size_t split_port(const char *s, size_t len, size_t *start)
{
	size_t off = 0, n = len, d, colon;
	bool port = false;

	*start = 0;
	for (d = 0; d < len && s[len - 1 - d] >= '0' && s[len - 1 - d] <= '9';)
		d++;
	if (s[0] == '[' && d && len >= d + 4 && s[len - d - 1] == ':' &&
	    s[len - d - 2] == ']') {
		off = 1;
		n = len - d - 3;
		port = true;
	}
	colon = hostport_colon(s + off, n);
	if (colon < n) {
		n = colon;
		port = true;
	}
	if (!port || !is_host_identifier(s + off, n))
		return len;
	*start = off;
	return n;
}

/*
 * Python's int() on s, for ASCII digits: white space around, a sign,
 * digits with single '_' between them. A value beyond 64 bits (which Python
 * would take) sets *big.
 */
static bool py_int(const char *s, long long *out, bool *big)
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

static const char letters[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/*
 * The delimiters expand_hostname_range() cuts pattern at: it turns the
 * first '[' and the first ']' into '|' and wants exactly three parts, so a
 * '|' can stand in for a missing ']'. Sets *a < *b, or returns -1.
 */
static int range_cut(struct parser *p, const char *pattern, const char *open,
		     const char **a, const char **b)
{
	const char *close = strchr(pattern, ']'), *bar = strchr(pattern, '|');

	if (close ? bar != NULL : !bar || strchr(bar + 1, '|'))
		return fail(p, 0, "%s values to unpack (expected 3)",
			    close || bar ? "too many" : "not enough");
	if (!close)
		close = bar;
	*a = open < close ? open : close;
	*b = open < close ? close : open;
	return 0;
}

/*
 * Check pattern the way expand_hostname_range() expands it: the first '['
 * and the first ']' split it into head, range and tail; the range is
 * letters (found as a substring of string.ascii_letters) or integers, with
 * an optional step; the tail is expanded the same way when the range is not
 * empty. Nothing is expanded here, so a huge range costs nothing; numbers
 * beyond 64 bits are refused rather than compared.
 */
static int check_range(struct parser *p, const char *pattern, int depth)
{
	const char *open = strchr(pattern, '['), *a = NULL, *b = NULL, *lb, *le;
	char *range = NULL, *end, *step = NULL, *c;
	const char *beg;
	long long ib, ie, is = 1;
	bool nonempty, big = false;
	int ret = -1;

	if (!open)
		return 0;
	if (depth > 64)
		return fail(p, 0, "host pattern '%s' holds too many ranges",
			    pattern);
	if (range_cut(p, pattern, open, &a, &b) < 0)
		return -1;
	range = xstrndup(a + 1, (size_t)(b - a) - 1);
	beg = range;
	end = strchr(range, ':');
	if (end) {
		*end++ = '\0';
		step = strchr(end, ':');
		if (step) {
			*step++ = '\0';
			if (strchr(step, ':'))
				end = NULL;
		}
	}
	if (!end) {
		fail(p, 0, "host range must be begin:end or begin:end:step");
		goto out;
	}
	if (!*beg)
		beg = "0";
	if (!*end) {
		fail(p, 0, "host range must specify end value");
		goto out;
	}
	if (beg[0] == '0' && py_len(beg) > 1 && py_len(beg) != py_len(end)) {
		fail(p, 0,
		     "host range must specify equal-length begin and end formats");
		goto out;
	}
	if (step && !py_int(step, &is, &big)) {
		fail(p, 0, "invalid literal for int() with base 10: '%s'",
		     step);
		goto out;
	}
	lb = strstr(letters, beg);
	le = strstr(letters, end);
	if (lb && le && is != 0) {
		if (lb > le) {
			fail(p, 0, "host range must have begin <= end");
			goto out;
		}
		nonempty = is > 0;
	} else {
		if (!py_int(beg, &ib, &big) || !py_int(end, &ie, &big)) {
			fail(p, 0,
			     "invalid literal for int() with base 10: '%s'",
			     py_int(beg, &ib, &big) ? end : beg);
			goto out;
		}
		if (is == 0) {
			fail(p, 0, "range() arg 3 must not be zero");
			goto out;
		}
		/* range(ib, ie + 1, is) */
		nonempty = is > 0 ? ib <= ie : ie < LLONG_MAX && ib > ie + 1;
	}
	if (big) {
		fail(p, 0, "host range '%s' holds a number beyond 64 bits",
		     pattern);
		goto out;
	}
	c = xstrdup(b + 1);
	ret = nonempty ? check_range(p, c, depth + 1) : 0;
	free(c);
out:
	free(range);
	return ret;
}

/* ---- values: what ast.literal_eval() does with them ---------------------- */

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
static int check_value(struct parser *p, const char *k, const char *v)
{
	struct lit l = { v, 0, false };
	enum lit_kind kind;
	size_t nest = lit_nesting(v);

	if (nest > LIT_MAX_NESTING)
		return fail(p, 0,
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
		return fail(p, 0,
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
static int check_priority(struct parser *p, const char *value)
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
	return fail(p, 0, "ansible_group_priority must be an integer, got: %s",
		    value);
}

/* ---- host lines: shlex.split(line, comments=True) ---------------------- */

struct tokens {
	char **v;
	size_t nr, alloc;
};

static void tokens_clear(struct tokens *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->nr = t->alloc = 0;
}

static void token_end(struct tokens *t, struct strbuf *tok)
{
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	t->v[t->nr++] = xstrndup(tok->buf, tok->len);
	strbuf_setlen(tok, 0);
}

/*
 * POSIX-mode shlex with whitespace_split and '#' comments, on one stripped
 * line: quotes ' and ", backslash escapes outside single quotes (inside
 * double quotes only before '"' and '\'), '#' ends the line even inside a
 * word. Returns NULL, or the error ValueError would carry.
 */
static const char *shlex_split(struct tokens *out, const char *s)
{
	struct strbuf tok = STRBUF_INIT;
	char quote = 0;
	bool in_tok = false;
	const char *err = NULL;

	for (; *s; s++) {
		char c = *s;

		if (quote) {
			if (c == quote) {
				quote = 0;
			} else if (quote == '"' && c == '\\') {
				if (!s[1]) {
					err = "No escaped character";
					break;
				}
				if (s[1] != '"' && s[1] != '\\')
					strbuf_addch(&tok, '\\');
				strbuf_addch(&tok, *++s);
			} else {
				strbuf_addch(&tok, c);
			}
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			if (in_tok)
				token_end(out, &tok);
			in_tok = false;
		} else if (c == '#') {
			break;
		} else if (c == '\'' || c == '"') {
			quote = c;
			in_tok = true;
		} else if (c == '\\') {
			if (!s[1]) {
				err = "No escaped character";
				break;
			}
			strbuf_addch(&tok, *++s);
			in_tok = true;
		} else {
			strbuf_addch(&tok, c);
			in_tok = true;
		}
	}
	if (!err && quote)
		err = "No closing quotation";
	if (!err && in_tok)
		token_end(out, &tok);
	strbuf_release(&tok);
	return err;
}

static bool valid_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * The host pattern checks of _expand_hostpattern(): ranges, a trailing ':'
 * without a port, "---". Sets *host to the pattern without its port.
 */
static int check_pattern(struct parser *p, const char *pat, char **host)
{
	size_t start, len = strlen(pat), n = split_port(pat, len, &start);
	char *stripped = py_strip(pat, len);
	int ret = -1;

	*host = xstrndup(pat + start, n);
	if (start && !valid_ascii(*host)) {
		fail(p, 0,
		     "host pattern '%s': a bracketed host with a port must be "
		     "ASCII",
		     pat);
		goto out;
	}
	if (check_range(p, *host, 0) < 0)
		goto out;
	if (n == len && *stripped && stripped[strlen(stripped) - 1] == ':') {
		fail(p, 0,
		     "Invalid host pattern '%s' supplied, ending in ':' is not "
		     "allowed, this character is reserved to provide a port.",
		     pat);
		goto out;
	}
	free(stripped);
	stripped = py_strip(*host, strlen(*host));
	if (!strchr(*host, '[') && !strcmp(stripped, "---")) {
		fail(p, 0,
		     "Invalid host pattern '%s' supplied, '---' is normally a "
		     "sign this is a YAML file.",
		     pat);
		goto out;
	}
	ret = 0;
out:
	free(stripped);
	return ret;
}

/*
 * The key=value tokens after the host, in order. A host named like a
 * declared group sets that group's variables (InventoryData.set_variable()
 * looks for a group first), ansible_group_priority included.
 */
static int check_host_vars(struct parser *p, const struct tokens *t,
			   const char *host)
{
	bool group = !strchr(host, '[') && group_known(p, host);
	size_t i;

	for (i = 1; i < t->nr; i++) {
		const char *eq = strchr(t->v[i], '=');
		char *k;
		int r;

		if (!eq)
			return fail(p, p->lineno,
				    "Expected key=value host variable "
				    "assignment, got: %s",
				    t->v[i]);
		k = xstrndup(t->v[i], (size_t)(eq - t->v[i]));
		r = check_value(p, k, eq + 1);
		free(k);
		if (r < 0)
			return -1;
	}
	if (!*host)
		return fail(p, 0, "Invalid empty host name provided: ");
	for (i = 1; group && i < t->nr; i++)
		if (!strncmp(t->v[i], "ansible_group_priority=", 23) &&
		    check_priority(p, t->v[i] + 23) < 0)
			return -1;
	return 0;
}

/* The host line (stripped) in line; sets *name (NULL for a range). */
static int parse_host(struct parser *p, const char *line, char **name)
{
	struct tokens t = { NULL, 0, 0 };
	const char *err = shlex_split(&t, line);
	char *host = NULL;
	int ret = -1;

	*name = NULL;
	if (err) {
		fail(p, p->lineno, "Error parsing host definition '%s': %s",
		     line, err);
		goto out;
	}
	if (!t.nr) { /* cannot happen for a non-comment line; be safe */
		fail(p, p->lineno, "Expected a host, got: %s", line);
		goto out;
	}
	if (check_pattern(p, t.v[0], &host) < 0 ||
	    check_host_vars(p, &t, host) < 0)
		goto out;
	if (!strchr(host, '[')) {
		*name = host;
		host = NULL;
	}
	ret = 0;
out:
	free(host);
	tokens_clear(&t);
	return ret;
}

/* ---- sections ------------------------------------------------------------ */

/* Ansible's [^:\]\s]+ group name at s; its length. */
static size_t group_span(const char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n && s[i] != ':' && s[i] != ']' && !py_space(s + i, n - i))
		i++;
	return i;
}

/* \s*(#.*)?$ at s. */
static bool rest_is_comment(const char *s)
{
	size_t n = strlen(s), k;

	while ((k = py_space(s, n))) {
		s += k;
		n -= k;
	}
	return !*s || *s == '#';
}

/*
 * A section header; 1 when line is one (group and type set), 0 when it is
 * not, -1 on an error Ansible raises.
 */
static int parse_header(struct parser *p, const char *line, char **group,
			enum ini_section_type *type)
{
	size_t g, t = 0;
	const char *tag = NULL;

	if (line[0] != '[')
		return 0;
	g = group_span(line + 1);
	if (g && line[1 + g] == ':') {
		tag = line + 2 + g;
		while (is_word((unsigned char)tag[t]))
			t++;
	}
	if (g && (tag ? t && tag[t] == ']' && rest_is_comment(tag + t + 1)
		      : line[1 + g] == ']' && rest_is_comment(line + 2 + g))) {
		if (!tag || (t == 5 && !strncmp(tag, "hosts", 5)))
			*type = INI_SEC_HOSTS;
		else if (t == 4 && !strncmp(tag, "vars", 4))
			*type = INI_SEC_VARS;
		else if (t == 8 && !strncmp(tag, "children", 8))
			*type = INI_SEC_CHILDREN;
		else
			return fail(
				p, p->lineno,
				"Section [%.*s:%.*s] has unknown type: %.*s",
				(int)g, line + 1, (int)t, tag, (int)t, tag);
		*group = xstrndup(line + 1, g);
		return 1;
	}
	if (line[strlen(line) - 1] == ']')
		return fail(
			p, p->lineno,
			"Invalid section entry: '%s'. Please make sure that "
			"there are no spaces in the section entry, and that "
			"there are no other invalid characters",
			line);
	return 0;
}

/* ---- lines --------------------------------------------------------------- */

static struct ini_line *line_push(struct ini *ini, const char *raw, size_t len)
{
	struct ini_line *l;

	ALLOC_GROW(ini->lines, ini->nr_lines + 1, ini->alloc_lines);
	l = &ini->lines[ini->nr_lines++];
	memset(l, 0, sizeof(*l));
	l->raw = xstrndup(raw, len);
	l->len = len;
	l->section = ini->nr_sections ? (int)ini->nr_sections - 1 : -1;
	return l;
}

/*
 * Bytes Python's str.splitlines() breaks a line on besides "\n" and "\r\n"
 * (or that C strings cannot hold): refused so that both read the same lines.
 */
static const char *bad_separator(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return "a NUL byte";
		if (c == '\r' &&
		    !(i + 1 == len || (i + 2 == len && s[i + 1] == '\n')))
			return "a carriage return inside a line";
		if (c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e))
			return "a control character Ansible reads as a line break";
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0x85)
			return "U+0085, which Ansible reads as a line break";
		if (c == 0xe2 && i + 2 < len &&
		    (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0xa8 ||
		     (unsigned char)s[i + 2] == 0xa9))
			return "U+2028/U+2029, which Ansible reads as a line break";
	}
	return NULL;
}

/* A key=value line in a :vars section; the key stripped, like the value. */
static int parse_var(struct parser *p, struct ini_line *l, const char *text)
{
	const char *eq = strchr(text, '=');
	char *value;
	int ret;

	if (!eq)
		return fail(p, p->lineno, "Expected key=value, got: %s", text);
	l->name = py_strip(text, (size_t)(eq - text));
	value = py_strip(eq + 1, strlen(eq + 1));
	ret = check_value(p, l->name, value);
	if (!ret && !strcmp(l->name, "ansible_group_priority"))
		ret = check_priority(p, value);
	free(value);
	return ret;
}

static int parse_line(struct parser *p, struct ini_line *l, const char *text)
{
	struct ini *ini = p->ini;
	enum ini_section_type type = INI_SEC_HOSTS;
	char *group = NULL;
	int h;

	if (!*text) {
		l->kind = INI_BLANK;
		return 0;
	}
	if (text[0] == '#' || text[0] == ';') {
		l->kind = INI_COMMENT;
		return 0;
	}
	h = parse_header(p, text, &group, &type);
	if (h < 0)
		return -1;
	if (h) {
		ALLOC_GROW(ini->sections, ini->nr_sections + 1,
			   ini->alloc_sections);
		ini->sections[ini->nr_sections].group = group;
		ini->sections[ini->nr_sections].type = type;
		ini->sections[ini->nr_sections].line = ini->nr_lines - 1;
		l->section = (int)ini->nr_sections++;
		l->kind = INI_SECTION;
		return section_seen(p, group, type == INI_SEC_VARS);
	}
	type = l->section < 0 ? INI_SEC_HOSTS : ini->sections[l->section].type;
	switch (type) {
	case INI_SEC_HOSTS:
		l->kind = INI_HOST;
		return parse_host(p, text, &l->name);
	case INI_SEC_VARS:
		l->kind = INI_VAR;
		return parse_var(p, l, text);
	case INI_SEC_CHILDREN: {
		size_t g = group_span(text);

		l->kind = INI_CHILD;
		if (!g || !rest_is_comment(text + g))
			return fail(p, p->lineno,
				    "Expected group name, got: %s", text);
		l->name = xstrndup(text, g);
		return child_seen(p, ini->sections[l->section].group, l->name);
	}
	}
	return 0;
}

static void parser_release(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++) {
		free(p->pend.v[i].group);
		strvec_clear(&p->pend.v[i].parents);
	}
	free(p->pend.v);
	for (i = 0; i < p->nr_groups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].parents);
	}
	free(p->groups);
	free(p->all_parent);
}

int ini_parse(struct ini *out, const char *buf, size_t len, int *err_line,
	      struct strbuf *why)
{
	struct parser p = { .ini = out, .why = why };
	size_t pos = 0;
	int ret = -1;

	*err_line = 0;
	group_add(&p, "all");
	group_add(&p, "ungrouped");
	add_child(&p, "all", "ungrouped");
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf - pos) + 1 : len - pos;
		const char *bad = bad_separator(buf + pos, n);
		struct ini_line *l = line_push(out, buf + pos, n);
		char *text;

		p.lineno++;
		if (p.lineno == 1 && n >= 2 && nl && nl[-1] == '\r')
			out->eol = "\r\n";
		if (bad) {
			fail(&p, p.lineno, "the line holds %s", bad);
			goto out;
		}
		text = py_strip(buf + pos, n);
		if (!utf8_valid(buf + pos, n) && text[0] != '#' &&
		    text[0] != ';') {
			free(text);
			fail(&p, p.lineno, "the line is not valid UTF-8");
			goto out;
		}
		if (parse_line(&p, l, text) < 0) {
			free(text);
			goto out;
		}
		free(text);
		pos += n;
	}
	ret = pending_check(&p);
out:
	if (ret)
		*err_line = p.lineno;
	parser_release(&p);
	return ret;
}

void ini_release(struct ini *ini)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++) {
		free(ini->lines[i].raw);
		free(ini->lines[i].name);
	}
	free(ini->lines);
	for (i = 0; i < ini->nr_sections; i++)
		free(ini->sections[i].group);
	free(ini->sections);
	ini->lines = NULL;
	ini->sections = NULL;
	ini->nr_lines = ini->alloc_lines = 0;
	ini->nr_sections = ini->alloc_sections = 0;
}

/* ---- editing ------------------------------------------------------------- */

static bool has_eol(const struct ini_line *l)
{
	return l->len && l->raw[l->len - 1] == '\n';
}

/* Give the last line that is not deleted before at a line ending. */
static void end_previous(struct ini *ini, size_t at)
{
	while (at--) {
		struct ini_line *l = &ini->lines[at];
		const char *eol = ini->eol;
		size_t e;

		if (l->deleted)
			continue;
		if (!has_eol(l)) {
			/* "x\r" at the end of the file: a CR alone is no line
			 * ending, but CR + LF is one */
			if (l->len && l->raw[l->len - 1] == '\r')
				eol = "\n";
			e = strlen(eol);
			l->raw = xrealloc(l->raw, l->len + e + 1);
			memcpy(l->raw + l->len, eol, e + 1);
			l->len += e;
		}
		return;
	}
}

size_t ini_insert_lines(struct ini *ini, size_t at, enum ini_kind kind,
			int section, const struct strvec *texts,
			const struct strvec *names)
{
	size_t n = texts->nr, e = strlen(ini->eol), i;

	if (!n)
		return at;
	end_previous(ini, at);
	ALLOC_GROW(ini->lines, st_add(ini->nr_lines, n), ini->alloc_lines);
	memmove(ini->lines + at + n, ini->lines + at,
		(ini->nr_lines - at) * sizeof(*ini->lines));
	ini->nr_lines += n;
	for (i = 0; i < ini->nr_sections; i++)
		if (ini->sections[i].line >= at)
			ini->sections[i].line += n;
	for (i = 0; i < n; i++) {
		struct ini_line *l = &ini->lines[at + i];
		size_t tl = strlen(texts->v[i]);

		memset(l, 0, sizeof(*l));
		l->raw = xmalloc(st_add(st_add(tl, e), 1));
		memcpy(l->raw, texts->v[i], tl);
		memcpy(l->raw + tl, ini->eol, e + 1);
		l->len = tl + e;
		l->kind = kind;
		l->section = section;
		l->name = names && names->v[i][0] ? xstrdup(names->v[i]) : NULL;
	}
	return at + n - 1;
}

size_t ini_insert(struct ini *ini, size_t at, enum ini_kind kind, int section,
		  const char *text, const char *name)
{
	struct strvec t, nm;

	strvec_init(&t);
	strvec_init(&nm);
	strvec_push(&t, text);
	strvec_push(&nm, name ? name : "");
	ini_insert_lines(ini, at, kind, section, &t, &nm);
	strvec_clear(&t);
	strvec_clear(&nm);
	return at;
}

void ini_replace(struct ini *ini, size_t i, const char *text)
{
	struct ini_line *l = &ini->lines[i];
	size_t tl = strlen(text), keep = 0;
	char *raw;

	if (has_eol(l))
		keep = l->len >= 2 && l->raw[l->len - 2] == '\r' ? 2 : 1;
	raw = xmalloc(st_add(st_add(tl, keep), 1));
	memcpy(raw, text, tl);
	memcpy(raw + tl, l->raw + l->len - keep, keep);
	raw[tl + keep] = '\0';
	free(l->raw);
	l->raw = raw;
	l->len = tl + keep;
}

int ini_add_section(struct ini *ini, const char *group,
		    enum ini_section_type type)
{
	static const char *const suffix[] = { "", ":vars", ":children" };
	struct strbuf h = STRBUF_INIT;
	int s;

	ALLOC_GROW(ini->sections, ini->nr_sections + 1, ini->alloc_sections);
	s = (int)ini->nr_sections++;
	ini->sections[s].group = xstrdup(group);
	ini->sections[s].type = type;
	ini->sections[s].line = 0;
	strbuf_addf(&h, "[%s%s]", group, suffix[type]);
	ini->sections[s].line =
		ini_insert(ini, ini->nr_lines, INI_SECTION, s, h.buf, NULL);
	strbuf_release(&h);
	return s;
}

void ini_render(const struct ini *ini, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++)
		if (!ini->lines[i].deleted)
			strbuf_add(out, ini->lines[i].raw, ini->lines[i].len);
}
