/*
 * ini.c - the Ansible INI inventory model; see ini.h.
 *
 * The checks mirror ansible-core 2.14's ini plugin closely enough that a
 * file it accepts is accepted here and a file it refuses is refused with the
 * same line. Where Python and C disagree about text (str.splitlines()
 * breaking on form feeds, surrogate-escaped bytes), the file is refused
 * rather than read differently from Ansible.
 */
#include "core/ini.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct pending {
	char *group;
	int line;
	bool vars;	  /* a :vars section for a group not yet declared */
	char *parent;	  /* the last :children section that named it */
	bool children_ok; /* resolved */
};

struct parser {
	struct ini *ini;
	struct strbuf *why;
	int lineno;
	struct pending_list {
		struct pending *v;
		size_t nr, alloc;
	} pend;
	char **groups; /* declared groups */
	size_t nr_groups, alloc_groups;
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

static bool group_known(const struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->nr_groups; i++)
		if (!strcmp(p->groups[i], g))
			return true;
	return false;
}

static void group_add(struct parser *p, const char *g)
{
	if (group_known(p, g))
		return;
	ALLOC_GROW(p->groups, p->nr_groups + 1, p->alloc_groups);
	p->groups[p->nr_groups++] = xstrdup(g);
}

static struct pending *pending_find(struct parser *p, const char *g)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++)
		if (!p->pend.v[i].children_ok && !strcmp(p->pend.v[i].group, g))
			return &p->pend.v[i];
	return NULL;
}

static void pending_add(struct parser *p, const char *g, bool vars,
			const char *parent)
{
	struct pending *d;

	ALLOC_GROW(p->pend.v, p->pend.nr + 1, p->pend.alloc);
	d = &p->pend.v[p->pend.nr++];
	d->group = xstrdup(g);
	d->line = p->lineno;
	d->vars = vars;
	d->parent = parent ? xstrdup(parent) : NULL;
	d->children_ok = false;
}

/* A header [g] or [g:children] declares g; [g:vars] does not. */
static void section_seen(struct parser *p, const char *g, bool vars)
{
	struct pending *d;

	if (!group_known(p, g)) {
		if (vars && !pending_find(p, g))
			pending_add(p, g, true, NULL);
		group_add(p, g);
	}
	d = pending_find(p, g);
	if (d && !vars)
		d->children_ok = true;
}

static void child_seen(struct parser *p, const char *parent, const char *child)
{
	struct pending *d;

	if (group_known(p, child))
		return;
	d = pending_find(p, child);
	if (d) {
		free(d->parent);
		d->parent = xstrdup(parent);
	} else {
		pending_add(p, child, false, parent);
	}
}

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
			d->parent, d->group);
	}
	return 0;
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

static bool is_host_identifier(const char *s, size_t len)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char *tmp;
	bool v6;

	if (is_hostname(s, len))
		return true;
	tmp = xstrndup(s, len);
	v6 = inet_pton(AF_INET6, tmp, buf) == 1;
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

/* Python's int() on an ASCII string, well enough for range bounds. */
static bool py_int(const char *s, long long *out)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || strchr(s, '_'))
		return false;
	*out = strtoll(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	return *end == '\0' && end != s;
}

static const char letters[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/*
 * Check pattern the way expand_hostname_range() expands it: the first '['
 * and the first ']' split it into head, range and tail; the range is
 * letters (found as a substring of string.ascii_letters) or integers, with
 * an optional step; the tail is expanded the same way when the range is not
 * empty. Nothing is expanded here, so a huge range costs nothing.
 */
static int check_range(struct parser *p, const char *pattern, int depth)
{
	const char *open = strchr(pattern, '['), *close = strchr(pattern, ']');
	const char *a, *b, *lb, *le;
	char *range = NULL, *end, *step = NULL, *c;
	const char *beg;
	long long ib, ie, is = 1;
	bool nonempty;
	int ret = -1;

	if (!open)
		return 0;
	if (depth > 64)
		return fail(p, 0, "host pattern '%s' holds too many ranges",
			    pattern);
	if (!close || strchr(pattern, '|'))
		return fail(p, 0, "%s values to unpack (expected 3)",
			    close ? "too many" : "not enough");
	a = open < close ? open : close;
	b = open < close ? close : open;
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
	if (beg[0] == '0' && strlen(beg) > 1 && strlen(beg) != strlen(end)) {
		fail(p, 0,
		     "host range must specify equal-length begin and end formats");
		goto out;
	}
	if (step && !py_int(step, &is)) {
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
		if (!py_int(beg, &ib) || !py_int(end, &ie)) {
			fail(p, 0,
			     "invalid literal for int() with base 10: '%s'",
			     py_int(beg, &ib) ? end : beg);
			goto out;
		}
		if (is == 0) {
			fail(p, 0, "range() arg 3 must not be zero");
			goto out;
		}
		nonempty = is > 0 ? ib <= ie : ib >= ie;
	}
	c = xstrdup(b + 1);
	ret = nonempty ? check_range(p, c, depth + 1) : 0;
	free(c);
out:
	free(range);
	return ret;
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

/* The host line (stripped) in line; sets *name (NULL for a range). */
static int parse_host(struct parser *p, const char *line, char **name)
{
	struct tokens t = { NULL, 0, 0 };
	const char *err = shlex_split(&t, line), *pat;
	size_t i, start, n, len;
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
	for (i = 1; i < t.nr; i++)
		if (!strchr(t.v[i], '=')) {
			fail(p, p->lineno,
			     "Expected key=value host variable assignment, "
			     "got: %s",
			     t.v[i]);
			goto out;
		}
	pat = t.v[0];
	len = strlen(pat);
	n = split_port(pat, len, &start);
	host = xstrndup(pat + start, n);
	if (n == len && len && pat[len - 1] == ':') {
		fail(p, 0,
		     "Invalid host pattern '%s' supplied, ending in ':' is not "
		     "allowed, this character is reserved to provide a port.",
		     pat);
		goto out;
	}
	if (check_range(p, host, 0) < 0)
		goto out;
	if (!strcmp(host, "---")) {
		fail(p, 0,
		     "Invalid host pattern '%s' supplied, '---' is normally a "
		     "sign this is a YAML file.",
		     pat);
		goto out;
	}
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
	size_t i = 0;

	while (s[i] && s[i] != ':' && s[i] != ']' &&
	       !isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* \s*(#.*)?$ at s. */
static bool rest_is_comment(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
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

static bool valid_utf8(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

/* The stripped text of raw (Python's str.strip() on ASCII whitespace). */
static char *strip(const char *raw, size_t len)
{
	while (len && isspace((unsigned char)*raw)) {
		raw++;
		len--;
	}
	while (len && isspace((unsigned char)raw[len - 1]))
		len--;
	return xstrndup(raw, len);
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
		section_seen(p, group, type == INI_SEC_VARS);
		return 0;
	}
	type = l->section < 0 ? INI_SEC_HOSTS : ini->sections[l->section].type;
	switch (type) {
	case INI_SEC_HOSTS:
		l->kind = INI_HOST;
		return parse_host(p, text, &l->name);
	case INI_SEC_VARS:
		l->kind = INI_VAR;
		if (!strchr(text, '='))
			return fail(p, p->lineno, "Expected key=value, got: %s",
				    text);
		l->name = strip(text, (size_t)(strchr(text, '=') - text));
		return 0;
	case INI_SEC_CHILDREN: {
		size_t g = group_span(text);

		l->kind = INI_CHILD;
		if (!g || !rest_is_comment(text + g))
			return fail(p, p->lineno,
				    "Expected group name, got: %s", text);
		l->name = xstrndup(text, g);
		child_seen(p, ini->sections[l->section].group, l->name);
		return 0;
	}
	}
	return 0;
}

static void parser_release(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->pend.nr; i++) {
		free(p->pend.v[i].group);
		free(p->pend.v[i].parent);
	}
	free(p->pend.v);
	for (i = 0; i < p->nr_groups; i++)
		free(p->groups[i]);
	free(p->groups);
}

int ini_parse(struct ini *out, const char *buf, size_t len, int *err_line,
	      struct strbuf *why)
{
	struct parser p = { out, why, 0, { NULL, 0, 0 }, NULL, 0, 0 };
	size_t pos = 0;
	int ret = -1;

	*err_line = 0;
	group_add(&p, "all");
	group_add(&p, "ungrouped");
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
		text = strip(buf + pos, n);
		if (!valid_utf8(buf + pos, n) && buf[pos] != '#' &&
		    buf[pos] != ';') {
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
		size_t e = strlen(ini->eol);

		if (l->deleted)
			continue;
		if (!has_eol(l)) {
			l->raw = xrealloc(l->raw, l->len + e + 1);
			memcpy(l->raw + l->len, ini->eol, e + 1);
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

bool ini_is_filler(const struct ini_line *l)
{
	return l->kind == INI_BLANK || l->kind == INI_COMMENT;
}
