/*
 * repo_plan.h - the repository's VM definitions, read, checked and turned
 * into desired configurations: what plan, apply, inventory and provision
 * start from. Moved from cmd/common so that the operations in ops/ can
 * load a repository without calling into the command layer.
 */
#ifndef PVE_GITOPS_OPS_REPO_PLAN_H
#define PVE_GITOPS_OPS_REPO_PLAN_H

#include "core/config.h"
#include "core/desired.h"
#include "core/diag.h"
#include "core/plan.h"
#include "core/vmset.h"
#include "io/cluster.h"
#include "io/repo.h"
#include "util/err.h"

struct repo_plan {
	struct vmset set;
	struct repo_load rl;
	const struct vmdef **defs;
	struct desired *wants;
	struct strvec keep; /* names of excluded definitions */
	struct cluster cluster;
	struct plan_input in;
	struct plan plan;
};

/*
 * Read and check every definition (errors are printed and end it with
 * EXIT_INVALID before anything talks to Proxmox), and fill rp->in.
 * rp is initialised here; repo_plan_release() it even on failure.
 */
int repo_plan_load(struct repo_plan *rp, const struct config *cfg,
		   struct err *e);
void repo_plan_release(struct repo_plan *rp);

/* Print diagnostics to stderr (colour when cfg->color); skips warnings
 * when quiet. */
void report_diags(const struct config *cfg, const struct diag_list *dl);

#endif
