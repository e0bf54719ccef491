/*
 * kubeconfig.h - kubeconfig files as JSON values, checked, and the merge of
 * a K3s cluster's kubeconfig into a shared one (SPEC section 5.6).
 *
 * A kubeconfig is read (YAML or JSON, through ytree) into a jansson object
 * that keeps every field, known or not, in its order; kubeconfig_check()
 * holds it to the shape kubectl loads (kind Config, lists of named entries
 * with unique names). kubeconfig_merge() edits the shared config in place:
 * the incoming cluster and user are renamed to the cluster name, the
 * context to the inventory name, a loopback server gets the host's address;
 * the entries they replace are removed, and so are the cluster and user an
 * older context of the same name pointed to when nothing else uses them.
 * Every other entry is left as it is. Pure.
 *
 * Hostile input is bounded: the text is at most KUBECONFIG_MAX_SIZE bytes,
 * ytree caps depth, nodes and scalar size, and the conversion to JSON, where
 * aliases are expanded, stops at KUBECONFIG_MAX_NODES values and
 * KUBECONFIG_MAX_TEXT bytes of text (a "billion laughs" is refused at the
 * line of the alias that expands it). Every problem found names the path
 * of the value ("clusters[2].name"); a kubeconfig_doc keeps the source tree
 * so that the caller can turn that path into a line of the file.
 */
#ifndef PVE_GITOPS_KUBECONFIG_H
#define PVE_GITOPS_KUBECONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/ytree.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#define KUBECONFIG_MAX_SIZE  (4 << 20)	     /* bytes of source text */
#define KUBECONFIG_MAX_NODES YTREE_MAX_NODES /* values, aliases expanded */
#define KUBECONFIG_MAX_TEXT  (16 << 20)	     /* bytes of text, expanded */

/* What a caller can add a hint for. */
enum kubeconfig_fact {
	KUBECONFIG_FACT_NONE,
	KUBECONFIG_FACT_LOOPBACK, /* a loopback server and no host given */
};

/* Which kubeconfig of a merge a problem is in. */
enum kubeconfig_side { KUBECONFIG_SIDE_NONE, KUBECONFIG_FROM, KUBECONFIG_INTO };

/*
 * A problem found in a kubeconfig: the path of the value it is about
 * ("clusters[2].cluster.server", "" for the whole document), what is wrong,
 * and in a merge, which side.
 */
struct kubeconfig_problem {
	enum kubeconfig_side side;
	enum kubeconfig_fact fact;
	struct strbuf path;
	struct strbuf msg;
};

#define KUBECONFIG_PROBLEM_INIT                                          \
	{                                                                \
		KUBECONFIG_SIDE_NONE, KUBECONFIG_FACT_NONE, STRBUF_INIT, \
			STRBUF_INIT                                      \
	}

void kubeconfig_problem_release(struct kubeconfig_problem *p);
/* "path: msg" (or msg alone) into out. */
void kubeconfig_problem_format(struct strbuf *out,
			       const struct kubeconfig_problem *p);

/* A parsed kubeconfig with its source tree, for positions. */
struct kubeconfig_doc {
	json_t *kc;	   /* the kubeconfig (owned; NULL until loaded) */
	char *file;	   /* its name in diagnostics (owned) */
	struct ytree tree; /* the source; root NULL for a new one */
};

#define KUBECONFIG_DOC_INIT            \
	{                              \
		NULL, NULL, YTREE_INIT \
	}

/*
 * Parse buf[0..len) (YAML 1.2 or JSON; named file in diagnostics) into
 * out and check that it is a kubeconfig (kubeconfig_check). An empty
 * document is a new kubeconfig. Returns 0, or -1 with errors (file:line)
 * in dl. out must be released with kubeconfig_doc_release() either way.
 */
int kubeconfig_load(struct kubeconfig_doc *out, struct diag_list *dl,
		    const char *file, const char *buf, size_t len);

/* A new empty kubeconfig named file (one that does not exist yet). */
void kubeconfig_doc_new(struct kubeconfig_doc *out, const char *file);
void kubeconfig_doc_release(struct kubeconfig_doc *d);

/*
 * The line and column of the value at path in d (the nearest enclosing
 * value that exists; 1:1 for "" or a new document).
 */
void kubeconfig_doc_position(const struct kubeconfig_doc *d, const char *path,
			     int *line, int *col);

/* Add p to dl as "FILE:LINE:COL: path: msg" with d's name and position. */
void kubeconfig_doc_diag(struct diag_list *dl, const struct kubeconfig_doc *d,
			 enum diag_severity sev,
			 const struct kubeconfig_problem *p);

/*
 * kubeconfig_load() for a caller that needs no positions: *out is a new
 * reference. Returns 0, or -1 with errors in dl.
 */
int kubeconfig_parse(json_t **out, struct diag_list *dl, const char *file,
		     const char *buf, size_t len);

/*
 * Is kc a kubeconfig: a mapping with apiVersion v1 and kind Config (an
 * empty mapping is a new one), lists of named entries with unique names,
 * base64 data fields. The one definition merge and publish use for both
 * the incoming kubeconfig and the shared one. 0, or -1 with why set.
 */
int kubeconfig_check(const json_t *kc, struct kubeconfig_problem *why);

/* A new empty kubeconfig in kubectl's key order. */
json_t *kubeconfig_new(void);

struct kubeconfig_merge_opts {
	const char *context;	  /* the new context's name (inventory name) */
	const char *cluster_name; /* NULL: the old context's, else generated */
	const char *server_host;  /* replaces a loopback server host */
	const char *generated;	  /* the name to use when nothing gives one */
};

struct kubeconfig_merge_report {
	char *cluster_name;		/* the name the cluster got */
	char *server;			/* its server URL */
	int replaced_context;		/* a context of that name was there */
	struct strvec removed_clusters; /* orphaned by the replaced context */
	struct strvec removed_users;
};

void kubeconfig_merge_report_init(struct kubeconfig_merge_report *r);
void kubeconfig_merge_report_release(struct kubeconfig_merge_report *r);

/*
 * Merge the current context of from (with its cluster and user) into
 * into. The server must be an http(s) URL without control characters.
 * Returns 0, or -1 with why set (its side says which kubeconfig) and
 * into unchanged.
 */
int kubeconfig_merge(json_t *into, const json_t *from,
		     const struct kubeconfig_merge_opts *o,
		     struct kubeconfig_merge_report *rep,
		     struct kubeconfig_problem *why);

/*
 * A copy of kc with only context name, its cluster and its user (new
 * reference), current-context set to it; NULL when there is no such
 * context.
 */
json_t *kubeconfig_select(const json_t *kc, const char *context);

/* Context names (in order) of kc. */
void kubeconfig_context_names(const json_t *kc, struct strvec *out);

/*
 * An adjective-noun cluster name ("cozy-haven") picked by r, a random
 * number: 64 x 64 names.
 */
void kubeconfig_generate_name(struct strbuf *out, uint64_t r);

/* 1 when host is 127.0.0.0/8, localhost or ::1 (with or without []). */
int kubeconfig_is_loopback(const char *host, size_t len);

#endif
