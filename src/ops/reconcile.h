/*
 * reconcile.h - the reconciler as one operation: load and check the
 * definitions, read the cluster, plan, and (for apply) carry the plan out
 * with retry rounds, then write the outputs file. `pve-gitops plan` and
 * `pve-gitops apply` are thin wrappers around reconcile_run(), and stage
 * one of the chain calls it the way `apply --auto-approve` did.
 *
 * With req->apply set, reconcile_run prints what apply always printed (the
 * plan, one progress line per state change, the final "Apply complete!"
 * line, the --json summary on stdout), because that text is interleaved
 * with the work. With req->apply clear it prints nothing but diagnostics:
 * the caller prints out->plan (core/planfmt.h).
 *
 * What `pve-gitops apply --auto-approve` does (stage one of the chain):
 *   struct reconcile_req req = { .apply = true, .auto_approve = true };
 *   reconcile_result_init(&res);
 *   ret = reconcile_run(cfg, &req, &res, e);
 *   reconcile_result_release(&res);
 */
#ifndef PVE_GITOPS_OPS_RECONCILE_H
#define PVE_GITOPS_OPS_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/desired.h"
#include "core/diag.h"
#include "core/plan.h"
#include "core/vmset.h"
#include "io/cluster.h"
#include "io/pve.h"
#include "io/repo.h"
#include "ops/repoplan.h"
#include "util/err.h"
#include "util/strvec.h"

struct reconcile_req {
	bool refresh, prune, adopt; /* the flags of plan/apply */
	bool apply;		    /* false: plan only */
	bool auto_approve;	    /* apply: do not ask */
	/* apply: the saved plan to carry out; plan: where to save it. NULL:
	 * none */
	const char *plan_file;
	const char *target; /* apply --target NAME; NULL: everything */
	unsigned parallel;  /* workers; 0: cfg->proxmox.parallel */
};

struct reconcile_part; /* one cluster's share (reconcile.c) */

struct reconcile_result {
	size_t created, updated, destroyed, unchanged, blocked, failed;
	struct strvec failures;	 /* one message per failed VM */
	struct repo_plan rp;	 /* the definitions, cluster and plan */
	const struct plan *plan; /* &rp.plan once planned, else NULL */
	unsigned long api_calls; /* HTTP requests sent */
	bool saved;		 /* plan: written to req->plan_file */
	/* several clusters (clusters:): rp holds every definition, each
	 * part one cluster's slice, its client and plan; plan is then view,
	 * the parts' items together, grouped by cluster */
	struct reconcile_part *parts;
	size_t nr_parts;
	struct plan view;
	char *partial; /* the clusters that could not be reached, or NULL */
};

/* With -q the plan is not shown: what it blocks, as errors ("NAME:
 * REASON"), so that the error that follows has its reasons. Nothing
 * otherwise. */
void reconcile_report_blocked(const struct plan *p);

void reconcile_result_init(struct reconcile_result *r);
void reconcile_result_release(struct reconcile_result *r);

/*
 * Plan (and with req->apply, apply) the repository of cfg. Returns 0, or
 * -1 with e set: EXIT_INVALID for bad definitions or options (nothing was
 * sent), EXIT_FAIL when VMs failed or were blocked (out says which). out
 * must be initialised; it is filled as far as the run got.
 *
 * With clusters: every cluster (or --cluster's one) is read at once, one
 * thread each, with its own client; a cluster that cannot be reached
 * blocks its own VMs only ("cluster NAME (ENDPOINT) cannot be reached:
 * ..."), the others are planned and applied, and the result is EXIT_FAIL
 * with out->partial set: plan still fills out->plan.
 */
int reconcile_run(const struct config *cfg, const struct reconcile_req *req,
		  struct reconcile_result *out, struct err *e);

#endif
