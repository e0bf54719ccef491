/*
 * ytree.c - YAML event stream to a bounded tree with positions; see ytree.h.
 */
#include "core/ytree.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "util/xalloc.h"

#define YAML_TAG "tag:yaml.org,2002:"

struct anchor {
	char *name;
	struct ynode *node;
};

struct builder {
	struct ytree *tree;
	struct diag_list *dl;
	const char *file;
	const char *src; /* the whole input, for single-quoted scalars */
	size_t src_len;
	struct ynode *stack[YTREE_MAX_DEPTH];
	char *stack_anchor[YTREE_MAX_DEPTH]; /* registered when complete */
	size_t depth;
	struct anchor *anchors;
	size_t nr_anchors, alloc_anchors;
	size_t nr_kids; /* child slots in use, aliases included */
	int documents;
	int failed;
};

static void fail(struct builder *b, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail(struct builder *b, int line, int col, const char *fmt, ...)
{
	va_list ap;

	if (b->failed)
		return; /* the first structural error is the one that matters */
	va_start(ap, fmt);
	diag_vadd(b->dl, DIAG_ERROR, b->file, line, col, fmt, ap);
	va_end(ap);
	b->failed = 1;
}

static void mark_of(struct fy_event *ev, int *line, int *col)
{
	const struct fy_mark *m = fy_event_start_mark(ev);

	*line = m ? m->line + 1 : 0;
	*col = m ? m->column + 1 : 0;
}

static int is_one_of(const char *s, size_t len, const char *const *words)
{
	/* the first letter first: most scalars match no word (and a strlen
	 * of each of the words for each scalar adds up) */
	for (; *words; words++)
		if ((len ? (*words)[0] == s[0] : !(*words)[0]) &&
		    strlen(*words) == len && !memcmp(*words, s, len))
			return 1;
	return 0;
}

static int all_in(const char *s, size_t len, const char *set)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(set, s[i]))
			return 0;
	return 1;
}

static int is_core_float(const char *s, size_t len)
{
	static const char *const special[] = {
		".inf",	 "+.inf", "-.inf", ".Inf", "+.Inf", "-.Inf", ".INF",
		"+.INF", "-.INF", ".nan",  ".NaN", ".NAN",  NULL
	};
	size_t i = 0, digits = 0;

	if (is_one_of(s, len, special))
		return 1;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp++;
		if (!exp)
			return 0;
	}
	return i == len;
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static void resolve_plain(struct ynode *n)
{
	static const char *const nulls[] = { "",     "~",    "null",
					     "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE", NULL };
	const char *s = n->str;
	size_t len = n->len, sign = (len && (s[0] == '-' || s[0] == '+'));

	if (is_one_of(s, len, nulls))
		n->stype = YS_NULL;
	else if (is_one_of(s, len, trues))
		n->stype = YS_BOOL, n->bval = true;
	else if (is_one_of(s, len, falses))
		n->stype = YS_BOOL, n->bval = false;
	else if (all_in(s + sign, len - sign, "0123456789") ||
		 (len > 2 && s[0] == '0' && s[1] == 'o' &&
		  all_in(s + 2, len - 2, "01234567")) ||
		 (len > 2 && s[0] == '0' && s[1] == 'x' &&
		  all_in(s + 2, len - 2, "0123456789abcdefABCDEF")))
		n->stype = YS_INT;
	else if (is_core_float(s, len))
		n->stype = YS_FLOAT;
	else
		n->stype = YS_STR;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind,
			      struct fy_event *ev)
{
	struct ytree *t = b->tree;
	struct ynode *n;

	if (t->nr_all >= YTREE_MAX_NODES) {
		int line, col;

		mark_of(ev, &line, &col);
		fail(b, line, col, "too many YAML nodes (limit %d)",
		     YTREE_MAX_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->kind = kind;
	mark_of(ev, &n->line, &n->col);
	if (!n->line && b->depth) {
		/* An empty scalar has no mark: use its neighbour's. */
		const struct ynode *p = b->stack[b->depth - 1];

		if (p->nr)
			p = p->kids[p->nr - 1];
		n->line = p->line;
		n->col = p->col;
	}
	ALLOC_GROW(t->all, st_add(t->nr_all, 1), t->alloc_all);
	t->all[t->nr_all++] = n;
	return n;
}

/* Attach n as the next child of the open collection, or as the root. */
static void attach(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (!b->depth) {
		b->tree->root = n;
		return;
	}
	parent = b->stack[b->depth - 1];
	if (++b->nr_kids > YTREE_MAX_NODES) {
		fail(b, n->line, n->col, "too many YAML nodes (limit %d)",
		     YTREE_MAX_NODES);
		return;
	}
	if (parent->kind == YNODE_MAP && !(parent->nr % 2) &&
	    n->kind != YNODE_SCALAR) {
		fail(b, n->line, n->col, "mapping keys must be scalars, not %s",
		     ynode_describe(n));
		return;
	}
	ALLOC_GROW(parent->kids, st_add(parent->nr, 1), parent->alloc);
	parent->kids[parent->nr++] = n;
}

static char *anchor_name(struct fy_token *tok)
{
	size_t len;
	const char *name;

	if (!tok)
		return NULL;
	name = fy_token_get_text(tok, &len);
	return name ? xstrndup(name, len) : NULL;
}

/* Register a complete node under name (taken over; may be NULL). */
static void add_anchor(struct builder *b, char *name, struct ynode *n)
{
	if (!name)
		return;
	ALLOC_GROW(b->anchors, st_add(b->nr_anchors, 1), b->alloc_anchors);
	b->anchors[b->nr_anchors].name = name;
	b->anchors[b->nr_anchors].node = n;
	b->nr_anchors++;
}

static struct ynode *find_anchor(struct builder *b, const char *name,
				 size_t len)
{
	size_t i = b->nr_anchors;

	while (i-- > 0) /* the latest definition wins */
		if (strlen(b->anchors[i].name) == len &&
		    !memcmp(b->anchors[i].name, name, len))
			return b->anchors[i].node;
	return NULL;
}

/* Apply an explicit tag; returns -1 (after failing) for unsupported ones. */
static int apply_tag(struct builder *b, struct ynode *n, struct fy_token *tag)
{
	static const char *const scalar_tags[] = { "str",  "int",   "bool",
						   "null", "float", NULL };
	static const enum yscalar_type types[] = { YS_STR, YS_INT, YS_BOOL,
						   YS_NULL, YS_FLOAT };
	size_t len, plen = strlen(YAML_TAG), i;
	const char *t;

	if (!tag)
		return 0;
	t = fy_token_get_text(tag, &len);
	if (!t || (len == 1 && t[0] == '!')) {
		if (n->kind == YNODE_SCALAR)
			n->stype = YS_STR;
		return 0;
	}
	if (len > plen && !memcmp(t, YAML_TAG, plen)) {
		const char *name = t + plen;
		size_t nlen = len - plen;

		if (n->kind == YNODE_MAP && nlen == 3 &&
		    !memcmp(name, "map", 3))
			return 0;
		if (n->kind == YNODE_SEQ && nlen == 3 &&
		    !memcmp(name, "seq", 3))
			return 0;
		for (i = 0; n->kind == YNODE_SCALAR && scalar_tags[i]; i++) {
			if (strlen(scalar_tags[i]) == nlen &&
			    !memcmp(scalar_tags[i], name, nlen)) {
				enum yscalar_type want = types[i];

				if (want == YS_STR) {
					n->stype = YS_STR;
					return 0;
				}
				resolve_plain(n);
				if (n->stype != want)
					break;
				return 0;
			}
		}
	}
	fail(b, n->line, n->col, "unsupported or mismatched YAML tag '%.*s'",
	     (int)(len > 64 ? 64 : len), t);
	return -1;
}

static int is_break(char c)
{
	return c == '\n' || c == '\r';
}

/* Length of the line break at p (CRLF counts as one), or 0. */
static size_t break_len(const char *p, const char *end)
{
	if (p < end && *p == '\r')
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	return p < end && *p == '\n';
}

/*
 * Decode the body of a single-quoted scalar (YAML 1.2, 7.3.2): "''" is
 * one quote; a line break folds to a space, n > 1 breaks to n - 1
 * newlines; white space around breaks is dropped.
 */
void ytree_unquote_single(struct strbuf *out, const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	int first = 1;

	while (p < end) {
		const char *eol = p, *stop;
		size_t breaks = 0;

		while (eol < end && !is_break(*eol))
			eol++;
		stop = eol;
		if (!first) /* continuation lines lose their indentation */
			while (p < stop && (*p == ' ' || *p == '\t'))
				p++;
		if (eol < end) /* and every line but the last its tail */
			while (stop > p &&
			       (stop[-1] == ' ' || stop[-1] == '\t'))
				stop--;
		for (; p < stop; p++) {
			strbuf_addch(out, *p);
			if (*p == '\'' && p + 1 < stop && p[1] == '\'')
				p++;
		}
		if (eol == end)
			break;
		/* Count this break and any blank lines after it. */
		p = eol;
		for (;;) {
			const char *q;

			p += break_len(p, end);
			breaks++;
			q = p;
			while (q < end && (*q == ' ' || *q == '\t'))
				q++;
			if (q < end && is_break(*q))
				p = q;
			else
				break;
		}
		if (breaks == 1)
			strbuf_addch(out, ' ');
		else
			while (--breaks)
				strbuf_addch(out, '\n');
		first = 0;
	}
}

/*
 * libfyaml 0.7.12 leaks memory formatting single-quoted scalars with
 * many "''" escapes, so decode those from the source span ourselves.
 * Returns 1 with out filled, 0 to fall back to libfyaml.
 */
static int single_quoted_text(struct builder *b, struct fy_token *tok,
			      struct strbuf *out)
{
	const struct fy_mark *start, *end;

	if (fy_token_scalar_style(tok) != FYSS_SINGLE_QUOTED)
		return 0;
	start = fy_token_start_mark(tok);
	end = fy_token_end_mark(tok);
	/* The marks span the body, between the quotes. */
	if (!start || !end || !start->input_pos ||
	    end->input_pos >= b->src_len || end->input_pos < start->input_pos ||
	    b->src[start->input_pos - 1] != '\'' ||
	    b->src[end->input_pos] != '\'')
		return 0;
	ytree_unquote_single(out, b->src + start->input_pos,
			     end->input_pos - start->input_pos);
	return 1;
}

static void on_scalar(struct builder *b, struct fy_event *ev)
{
	struct ynode *n = new_node(b, YNODE_SCALAR, ev);
	struct strbuf sq = STRBUF_INIT;
	const char *text;
	size_t len = 0;

	if (!n)
		return;
	if (single_quoted_text(b, ev->scalar.value, &sq)) {
		text = sq.buf;
		len = sq.len;
	} else {
		text = fy_token_get_text(ev->scalar.value, &len);
		if (!text)
			text = "";
	}
	if (len > YTREE_MAX_SCALAR) {
		fail(b, n->line, n->col, "scalar longer than %d bytes",
		     YTREE_MAX_SCALAR);
		strbuf_release(&sq);
		return;
	}
	n->str = xstrndup(text, len);
	n->len = len;
	if (memchr(text, '\0', len))
		n->len = strlen(n->str); /* a "\0" escape ends the string */
	strbuf_release(&sq);
	if (fy_token_scalar_style(ev->scalar.value) == FYSS_PLAIN)
		resolve_plain(n);
	else
		n->stype = YS_STR;
	if (apply_tag(b, n, ev->scalar.tag) < 0)
		return;
	add_anchor(b, anchor_name(ev->scalar.anchor), n);
	attach(b, n);
}

static void on_alias(struct builder *b, struct fy_event *ev)
{
	size_t len = 0;
	const char *name = fy_token_get_text(ev->alias.anchor, &len);
	struct ynode *target = name ? find_anchor(b, name, len) : NULL;
	int line, col;

	mark_of(ev, &line, &col);
	if (!target) {
		fail(b, line, col, "alias '*%.*s' refers to no anchor",
		     (int)(len > 64 ? 64 : len), name ? name : "");
		return;
	}
	attach(b, target);
}

static void on_start(struct builder *b, struct fy_event *ev,
		     enum ynode_kind kind)
{
	struct fy_token *tag = kind == YNODE_MAP ? ev->mapping_start.tag
						 : ev->sequence_start.tag;
	struct fy_token *anchor = kind == YNODE_MAP ? ev->mapping_start.anchor
						    : ev->sequence_start.anchor;
	struct ynode *n;

	if (b->depth >= YTREE_MAX_DEPTH) {
		int line, col;

		mark_of(ev, &line, &col);
		fail(b, line, col, "YAML nested deeper than %d levels",
		     YTREE_MAX_DEPTH);
		return;
	}
	n = new_node(b, kind, ev);
	if (!n || apply_tag(b, n, tag) < 0)
		return;
	attach(b, n);
	/* An alias inside its own anchor's node would make a cycle: the
	 * anchor becomes visible only when the collection is complete. */
	b->stack_anchor[b->depth] = anchor_name(anchor);
	b->stack[b->depth++] = n;
}

static int key_cmp(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->str, y->str, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* equal keys: the later one in the file is the duplicate */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : (x->col > y->col);
}

static void check_duplicate_keys(struct builder *b, const struct ynode *map)
{
	size_t n = ymap_size(map), i;
	const struct ynode **keys;

	if (n < 2)
		return;
	keys = xcalloc(n, sizeof(*keys));
	for (i = 0; i < n; i++)
		keys[i] = ymap_key(map, i);
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++) {
		if (keys[i]->len == keys[i - 1]->len &&
		    !memcmp(keys[i]->str, keys[i - 1]->str, keys[i]->len)) {
			fail(b, keys[i]->line, keys[i]->col,
			     "duplicate key '%.*s' (first at line %d)",
			     (int)(keys[i]->len > 64 ? 64 : keys[i]->len),
			     keys[i]->str, keys[i - 1]->line);
			break;
		}
	}
	free(keys);
}

static void on_end(struct builder *b, struct fy_event *ev)
{
	struct ynode *n;

	if (!b->depth)
		return;
	(void)ev;
	n = b->stack[--b->depth];
	if (n->kind == YNODE_MAP)
		check_duplicate_keys(b, n);
	add_anchor(b, b->stack_anchor[b->depth], n);
	b->stack_anchor[b->depth] = NULL;
}

static void on_event(struct builder *b, struct fy_event *ev)
{
	int line, col;

	switch (ev->type) {
	case FYET_DOCUMENT_START:
		if (++b->documents > 1) {
			mark_of(ev, &line, &col);
			fail(b, line, col,
			     "more than one YAML document in the file");
		}
		break;
	case FYET_SCALAR:
		on_scalar(b, ev);
		break;
	case FYET_ALIAS:
		on_alias(b, ev);
		break;
	case FYET_MAPPING_START:
		on_start(b, ev, YNODE_MAP);
		break;
	case FYET_SEQUENCE_START:
		on_start(b, ev, YNODE_SEQ);
		break;
	case FYET_MAPPING_END:
	case FYET_SEQUENCE_END:
		on_end(b, ev);
		break;
	default:
		break;
	}
}

/* Position (1-based) of byte offset off in buf; columns in characters. */
static void position_of(const char *buf, size_t off, int *line, int *col)
{
	size_t i, bol = 0;

	*line = 1;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = 1 + (int)utf8_count(buf + bol, off - bol);
}

/* Reject what is not text before the parser sees it. */
static int check_text(struct builder *b, const char *buf, size_t len)
{
	/* strict: libfyaml 0.7.12 loops forever on an overlong form in a
	 * directive ("%" then E0 96 8B) */
	size_t bad = utf8_invalid_at(buf, len);
	const char *nul = memchr(buf, '\0', bad);
	int line, col;

	if (nul) {
		position_of(buf, (size_t)(nul - buf), &line, &col);
		fail(b, line, col,
		     "NUL byte in the file: not a YAML text file");
		return -1;
	}
	if (bad < len) {
		position_of(buf, bad, &line, &col);
		fail(b, line, col,
		     "invalid UTF-8 byte 0x%02x: not a YAML text file",
		     (unsigned char)buf[bad]);
		return -1;
	}
	return 0;
}

/* On a syntax error, a tab in indentation is the likely cause: say so. */
static int find_tab_indent(const char *buf, size_t len, int *line, int *col)
{
	size_t i = 0;
	int ln = 1;

	while (i < len) {
		size_t j = i;

		while (j < len && buf[j] == ' ')
			j++;
		if (j < len && buf[j] == '\t') {
			size_t k = j;

			while (k < len && (buf[k] == ' ' || buf[k] == '\t'))
				k++;
			if (k < len && buf[k] != '\n' && buf[k] != '\r' &&
			    buf[k] != '#') {
				*line = ln;
				*col = (int)(j - i) + 1;
				return 1;
			}
		}
		while (i < len && buf[i] != '\n')
			i++;
		i++;
		ln++;
	}
	return 0;
}

static void report_syntax(struct builder *b, struct fy_diag *diag,
			  const char *buf, size_t len)
{
	struct fy_diag_error *de;
	void *it = NULL;
	int line, col;

	if (find_tab_indent(buf, len, &line, &col)) {
		fail(b, line, col,
		     "tab character in indentation: YAML indents with spaces only");
		return;
	}
	while ((de = fy_diag_errors_iterate(diag, &it))) {
		if (de->type < FYET_ERROR)
			continue;
		fail(b, de->line, de->column, "YAML syntax error: %s",
		     de->msg ? de->msg : "malformed input");
		return;
	}
	fail(b, 0, 0, "YAML syntax error");
}

int ytree_parse(struct ytree *out, struct diag_list *dl, const char *file,
		const char *buf, size_t len)
{
	struct builder b = {
		.tree = out, .dl = dl, .file = file, .src = buf, .src_len = len
	};
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag = NULL;
	struct fy_parser *fyp = NULL;
	struct fy_parse_cfg pcfg;
	struct fy_event *ev;
	size_t i;

	out->root = NULL;
	if (check_text(&b, buf, len) < 0)
		goto out;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag) {
		fail(&b, 0, 0, "cannot create the YAML parser");
		goto out;
	}
	fy_diag_set_collect_errors(diag, true);
	memset(&pcfg, 0, sizeof(pcfg));
	pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG |
		     FYPCF_DEFAULT_VERSION_1_2 | FYPCF_DISABLE_MMAP_OPT;
	pcfg.diag = diag;
	fyp = fy_parser_create(&pcfg);
	if (!fyp || fy_parser_set_string(fyp, buf, len) < 0) {
		fail(&b, 0, 0, "cannot create the YAML parser");
		goto out;
	}
	while ((ev = fy_parser_parse(fyp))) {
		if (!b.failed)
			on_event(&b, ev);
		fy_parser_event_free(fyp, ev);
	}
	if (fy_parser_get_stream_error(fyp) && !b.failed)
		report_syntax(&b, diag, buf, len);
out:
	if (b.failed)
		out->root = NULL;
	for (i = 0; i < b.nr_anchors; i++)
		free(b.anchors[i].name);
	for (i = 0; i < b.depth; i++)
		free(b.stack_anchor[i]);
	free(b.anchors);
	if (fyp)
		fy_parser_destroy(fyp);
	if (diag)
		fy_diag_destroy(diag);
	return b.failed ? -1 : 0;
}

void ytree_release(struct ytree *t)
{
	size_t i;

	for (i = 0; i < t->nr_all; i++) {
		free((char *)t->all[i]->str);
		free(t->all[i]->kids);
		free(t->all[i]);
	}
	free(t->all);
	memset(t, 0, sizeof(*t));
}

const char *ynode_describe(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return "a mapping";
	if (n->kind == YNODE_SEQ)
		return "a list";
	switch (n->stype) {
	case YS_NULL:
		return "null";
	case YS_BOOL:
		return "a boolean";
	case YS_INT:
		return "an integer";
	case YS_FLOAT:
		return "a number";
	case YS_STR:
		break;
	}
	return "a string";
}
