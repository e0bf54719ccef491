/*
 * ini_int.h - what the files of src/core/ini/ share and nothing else may
 * use: the parser's state (groups, pending declarations, the error), the
 * group bookkeeping (groups.c), Python's idea of text (text.c), the host
 * pattern checks (pattern.c), the value checks (value.c) and the host line
 * reader (hostline.c). The public interface is core/ini.h.
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
#ifndef PVE_GITOPS_INI_INT_H
#define PVE_GITOPS_INI_INT_H

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ini.h"
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
	uint64_t hosts;	  /* names the host lines yield so far (saturated) */
};

/* Say why the file is refused (line: the line to report, 0: the current
 * one) into p->why. Returns -1. */
int ini_fail(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- groups.c: groups and pending declarations ---- */

bool ini_group_known(const struct parser *p, const char *g);
/* Declare group g (nothing when it is known). */
void ini_group_add(struct parser *p, const char *g);
/* Make child (declared) a child group of parent, the way Ansible's
 * Group.add_child_group() does: refused when that makes a loop. */
int ini_add_child(struct parser *p, const char *parent, const char *child);
/* A header [g] or [g:children] declares g; [g:vars] does not. Declaring a
 * group named in earlier :children sections makes it their child. */
int ini_section_seen(struct parser *p, const char *g, bool vars);
/* child named in a [parent:children] section: a child now, or pending. */
int ini_child_seen(struct parser *p, const char *parent, const char *child);
/* What Ansible checks once the file is read: pending declarations, then
 * (reconcile_inventory) every group without a parent becomes a child of
 * "all", which loops when "all" itself is somebody's child. */
int ini_pending_check(struct parser *p);

/* ---- text.c: Python's idea of text ---- */

/* Length of the character at s[0..n) that str.isspace() takes for white
 * space, or 0; py_space_end() for the character that ends s[0..n). */
size_t py_space(const char *s, size_t n);
size_t py_space_end(const char *s, size_t n);
/* str.strip() on s[0..len), as a new string. */
char *py_strip(const char *s, size_t len);
/* The number of characters (not bytes) of UTF-8 text s, as len(). */
size_t py_len(const char *s);
/* \w for one byte: ASCII letters, digits, '_', any non-ASCII byte. */
bool py_is_word(unsigned char c);
/* int() on s for ASCII digits (white space, sign, '_' between digits);
 * a value beyond 64 bits sets *big. false when int() would raise. */
bool py_int(const char *s, long long *out, bool *big);

/* ---- pattern.c: host patterns ---- */

/* The host part of a pattern with an optional port, as parse_address()
 * splits "[host]:port" and "host:port": *start and the length of the host
 * part, or 0 and len when the pattern has no port Ansible would take. */
size_t ini_split_port(const char *s, size_t len, size_t *start);
/* Check pattern the way expand_hostname_range() expands it, without
 * expanding it (depth: how many tails deep, refused past 64), and count
 * the names it yields into *count (saturated). 0, or -1 with p->why set. */
int ini_check_range(struct parser *p, const char *pattern, int depth,
		    uint64_t *count);

/* ---- value.c: what ast.literal_eval() does with values ---- */

/* Refuse value v of key k when literal_eval() would raise what Ansible
 * does not catch. */
int ini_check_value(struct parser *p, const char *k, const char *v);
/* ansible_group_priority goes through int(): refused when not a number. */
int ini_check_priority(struct parser *p, const char *value);

/* ---- hostline.c: host lines ---- */

/* The host line (stripped) in line; sets *name (NULL for a range). */
int ini_parse_host(struct parser *p, const char *line, char **name);

#endif
