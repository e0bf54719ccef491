/*
 * workspace.h - a cluster's workloads (clusters_dir/NAME.yaml): the
 * Terraform workspace NAME, the kubeconfig context it deploys to and the
 * workloads (the modules of the user's Terraform code) it installs there,
 * decoded and checked; and the NAME.auto.tfvars.json that Terraform reads,
 * in the shape of the seed's clusters/variables.tf: a map of workspace to
 * its workload list (`workload`) and a map of workspace to its context
 * object (`config`: kubernetes_context and the file's free-form config).
 *
 * workspace_decode() makes every check that needs only the file: types,
 * unknown keys, workload names against the known list (the seed's modules
 * and the config's workload_modules), duplicates; every error at its
 * line. workspace_check_contexts() is the cross-check with the VM
 * definitions: a context that no K3s VM of the repository publishes.
 * Pure: no I/O.
 */
#ifndef PVE_GITOPS_WORKSPACE_H
#define PVE_GITOPS_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/diag.h"
#include "core/ytree.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* The seed's clusters/modules.tf: the workloads known without config. */
extern const char *const workspace_default_workloads[];

/* The config object may hold at most this many values (aliases count). */
#define WORKSPACE_MAX_VALUES 10000

struct workspace {
	char *file;    /* clusters/NAME.yaml, as given */
	char *name;    /* NAME: the Terraform workspace */
	char *context; /* kubernetes_context; NULL when missing */
	int context_line, context_col;
	struct strvec workloads; /* in the file's order */
	json_t *config;		 /* an object: the free-form config */
};

void workspace_init(struct workspace *ws);
void workspace_release(struct workspace *ws);

/*
 * 0 when name is a workspace name (a file base): 1-64 letters, digits,
 * '-' and '_', starting with a letter or digit. Else -1, a reason in why.
 */
int workspace_name_check(const char *name, struct strbuf *why);

/*
 * Decode root, the document of file (workspace name), into *out; known is
 * the NULL-terminated list of workload names. Diagnostics go to dl.
 * Returns 0 when no error was found, -1 otherwise; release *out either way.
 */
/* The keys of a workspace file and their documentation (ydecode.h). */
struct yd_field;
const struct yd_field *workspace_fields_doc(void);

int workspace_decode(struct workspace *out, struct diag_list *dl,
		     const char *file, const char *name,
		     const struct ynode *root, const char *const *known);

/* Parse and decode buf[0..len) in one step (tests and fuzzing). */
int workspace_parse(struct workspace *out, struct diag_list *dl,
		    const char *file, const char *name, const char *buf,
		    size_t len, const char *const *known);

/*
 * The cross-check: an error at the kubernetes_context line of each
 * workspace whose context is not the name of one of k3s (the K3s VMs of
 * the repository, whose playbook publishes its name as the context),
 * with the nearest as a suggestion. Returns how many were reported.
 */
size_t workspace_check_contexts(struct diag_list *dl,
				const struct workspace *ws, size_t nr,
				const struct strvec *k3s);

/*
 * The NAME.auto.tfvars.json text of ws (two-space indents, keys in the
 * file's order, a final newline), appended to out.
 */
void workspace_render(struct strbuf *out, const struct workspace *ws);

#endif
