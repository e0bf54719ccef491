/*
 * ytree.h - a YAML document as a small tree with source positions.
 *
 * Built from libfyaml's event stream (YAML 1.2) so that every node, not only
 * scalars, knows its line and column, and so that hostile input is bounded:
 * nesting depth, node count and scalar size are capped, aliases point at the
 * anchored node instead of copying it (no "billion laughs"), and only one
 * document per file is accepted. Plain scalars are typed by the YAML 1.2 core
 * schema (null, bool, int, float, str); quoted scalars are strings.
 *
 * Pure: parses a buffer in memory, reports problems into a diag_list.
 */
#ifndef PVE_GITOPS_YTREE_H
#define PVE_GITOPS_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "util/strbuf.h"

enum ynode_kind { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };
enum yscalar_type { YS_NULL, YS_BOOL, YS_INT, YS_FLOAT, YS_STR };

struct ynode {
	enum ynode_kind kind;
	int line, col; /* 1-based */
	/* scalars */
	enum yscalar_type stype;
	const char *str; /* NUL-terminated; may contain NUL when len says so */
	size_t len;
	bool bval; /* YS_BOOL */
	/* sequences: items; mappings: key, value, key, value, ... */
	struct ynode **kids;
	size_t nr, alloc;
};

struct ytree {
	struct ynode *root; /* NULL for an empty document */
	struct ynode **all; /* every node, for release */
	size_t nr_all, alloc_all;
};

#define YTREE_INIT               \
	{                        \
		NULL, NULL, 0, 0 \
	}

#define YTREE_MAX_DEPTH	 64
#define YTREE_MAX_NODES	 100000
#define YTREE_MAX_SCALAR (256 * 1024)

/*
 * Parse buf[0..len) (named file in diagnostics). Returns 0 with out->root set
 * (NULL for an empty document), or -1 after adding at least one error to dl.
 * out must be released with ytree_release() either way.
 */
int ytree_parse(struct ytree *out, struct diag_list *dl, const char *file,
		const char *buf, size_t len);
void ytree_release(struct ytree *t);

/*
 * Append the value of a single-quoted scalar whose body (between the quotes)
 * is s[0..n). Exposed for tests.
 */
void ytree_unquote_single(struct strbuf *out, const char *s, size_t n);

/* Mapping access: number of pairs, i-th key and value. */
static inline size_t ymap_size(const struct ynode *n)
{
	return n->nr / 2;
}
static inline const struct ynode *ymap_key(const struct ynode *n, size_t i)
{
	return n->kids[2 * i];
}
static inline const struct ynode *ymap_value(const struct ynode *n, size_t i)
{
	return n->kids[2 * i + 1];
}

/* Human name of a node's type for messages: "a string", "a mapping", ... */
const char *ynode_describe(const struct ynode *n);

#endif
