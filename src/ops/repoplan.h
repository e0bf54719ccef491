/*
 * repoplan.h - a repository's VM definitions, read, checked and turned into
 * desired configurations, with the cluster they are planned against: what
 * plan, apply, inventory and provision start from.
 */
#ifndef PVE_GITOPS_OPS_REPOPLAN_H
#define PVE_GITOPS_OPS_REPOPLAN_H

#include <stdbool.h>

#include "core/config.h"
#include "core/desired.h"
#include "core/plan.h"
#include "core/vmset.h"
#include "io/cluster.h"
#include "io/pve.h"
#include "io/repo.h"
#include "ops/ippool.h"
#include "util/err.h"
#include "util/strvec.h"

/* The definitions of a repository, checked, with the plan's input. */
struct repo_plan {
	struct vmset set;
	struct repo_load rl;
	const struct vmdef **defs;
	struct desired *wants;
	struct strvec keep; /* names of excluded definitions */
	struct cluster cluster;
	struct cluster_facts facts; /* read once a plan needs them */
	struct plan_input in;
	struct plan plan;
	/* ip_pool: allocations (ops/ippool.h), read by the first build */
	const struct config *cfg;
	struct ippool_run pools;
	bool pools_read;
};

/*
 * Read and check every definition (diagnostics on stderr through
 * report_diags; errors end it with EXIT_INVALID before anything talks to
 * Proxmox), and fill rp->in. rp is always initialised: release it with
 * repo_plan_release.
 */
int repo_plan_read(struct repo_plan *rp, const struct config *cfg,
		   struct err *e);
void repo_plan_release(struct repo_plan *rp);

/*
 * Read the cluster, plan, read the configurations the plan needs (all of
 * ours with refresh), read what the checks of creates (every definition
 * with refresh) need, once per run (core/planchk.h), and plan again.
 */
int repo_plan_build(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		    struct err *e);

/*
 * apply: write the plan's pool allocations before anything is created
 * (ops/ippool.h); a definition given another address has its desired
 * configuration built again. After the work, release what was destroyed
 * (vmids[i]: the VM of names->v[i], 0 unknown), and record the VMs'
 * vmids in their SDN IPAM entries (rp->cluster read after the apply).
 */
int repo_plan_confirm_pools(struct repo_plan *rp, struct err *e);
int repo_plan_release_pools(struct repo_plan *rp, const struct strvec *names,
			    const int *vmids, struct err *e);
int repo_plan_record_pools(struct repo_plan *rp, struct err *e);

/*
 * The outputs file may be written: below the repository, not through a
 * link that leaves it (util/beneath). 0, or -1 (EXIT_INVALID).
 */
int repo_plan_check_outputs(const struct config *cfg, struct err *e);

/* The outputs file (core/outputs.h) of the managed VMs the cluster holds,
 * written atomically to cfg->outputs. */
int repo_plan_write_outputs(const struct repo_plan *rp,
			    const struct config *cfg, struct err *e);

#endif
