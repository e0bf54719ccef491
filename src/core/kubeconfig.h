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
 */
#ifndef PVE_GITOPS_KUBECONFIG_H
#define PVE_GITOPS_KUBECONFIG_H

#include <jansson.h>
#include <stdint.h>

#include "core/diag.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * Parse buf[0..len) (YAML 1.2 or JSON; named file in diagnostics) into a
 * new kubeconfig object (*out, a new reference). An empty document is an
 * empty kubeconfig. Returns 0, or -1 with errors in dl.
 */
int kubeconfig_parse(json_t **out, struct diag_list *dl, const char *file,
		     const char *buf, size_t len);

/*
 * Check kc's shape; why gets the first problem ("clusters[2].name: ...").
 * Returns 0 or -1.
 */
int kubeconfig_check(const json_t *kc, struct strbuf *why);

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
 * into. Returns 0, or -1 with why set and into unchanged.
 */
int kubeconfig_merge(json_t *into, const json_t *from,
		     const struct kubeconfig_merge_opts *o,
		     struct kubeconfig_merge_report *rep, struct strbuf *why);

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
