/*
 * workloads.h - the workloads of the K3s clusters (the seed's Step 4) as
 * operations: check, render and apply the workspaces of clusters_dir.
 *
 * Each starts by loading the workspaces (clusters_dir/NAME.yaml, one or
 * all, through util/beneath), decoding them strictly (core/workspace.h)
 * and cross-checking every kubernetes_context against the K3s VMs of the
 * repository (a definition in the k3s group publishes its name as the
 * context); a problem in a file is a diagnostic at its line and nothing
 * else happens. Then:
 *
 *  - check reads the kubeconfig in Vault (ops/kubeconfig.h) and wants
 *    each context in it and its server answering a TLS handshake
 *    (io/tlsprobe.h); a failure is a diagnostic at the context's line;
 *  - render writes clusters_dir/NAME.auto.tfvars.json for each, all
 *    together (io/filetxn.h), or shows the diff (dry_run);
 *  - apply renders, then runs Terraform or OpenTofu (io/terraform.h) in
 *    clusters_dir: `init -input=false` once, and per workspace `workspace
 *    select -or-create NAME` and `plan` or `apply -auto-approve`, with
 *    -var-file=NAME.auto.tfvars.json (Terraform loads every auto file in
 *    the directory; the one named last wins) and KUBECONFIG naming a 0600
 *    file in a private directory that holds only that context, removed
 *    afterwards, on failure and on a fatal signal too (util/sigclean.h).
 *    A Terraform step that fails stops the run; its exit status becomes
 *    e's exit code.
 */
#ifndef PVE_GITOPS_OPS_WORKLOADS_H
#define PVE_GITOPS_OPS_WORKLOADS_H

#include <stdbool.h>

#include "core/config.h"
#include "core/diag.h"
#include "util/err.h"
#include "util/strvec.h"

struct workloads_request {
	const char *name; /* one workspace; NULL: every one */
	bool dry_run;	  /* render: show the diff, write nothing */
	bool plan;	  /* apply: terraform plan instead of apply */
};

struct workloads_result {
	struct diag_list diags; /* problems in the files, at their lines */
	struct strvec lines;	/* what was done, one line per workspace */
	size_t changed;		/* render: files that change */
};

void workloads_result_init(struct workloads_result *r);
void workloads_result_release(struct workloads_result *r);

/* Each returns 0, or -1 with e set (EXIT_INVALID when a file is wrong:
 * r->diags says where). */
int workloads_check(struct workloads_result *r, const struct config *cfg,
		    const struct workloads_request *req, struct err *e);
int workloads_render(struct workloads_result *r, const struct config *cfg,
		     const struct workloads_request *req, struct err *e);
int workloads_apply(struct workloads_result *r, const struct config *cfg,
		    const struct workloads_request *req, struct err *e);

/*
 * For validate: every workspace file of clusters_dir decoded and
 * cross-checked offline (no Vault, no Terraform), its problems added to
 * dl at their lines; *nr the files read. No clusters_dir, or none in it:
 * 0 with *nr 0. -1 only when the directory cannot be read.
 */
int workloads_validate(struct diag_list *dl, size_t *nr,
		       const struct config *cfg, struct err *e);

/*
 * The chain's step after stage two (`run`, `watch`), with workloads: true
 * in the config (else nothing): workloads apply for the workspaces whose
 * file the commit rev changed, or whose context is in published (the
 * hosts stage two just provisioned, whose playbook publishes their
 * names as contexts; NULL: none). Every workspace file is checked first.
 * 0 when none is due or all applied; -1 with e set (as workloads_apply).
 */
int workloads_chain_apply(struct workloads_result *r, const struct config *cfg,
			  const char *rev, const struct strvec *published,
			  struct err *e);

#endif
