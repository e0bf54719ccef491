/*
 * common.h - what plan and apply share: the repository's definitions,
 * checked and turned into desired configurations, and a Proxmox client
 * from the configuration and the environment.
 */
#ifndef PVE_GITOPS_CMD_COMMON_H
#define PVE_GITOPS_CMD_COMMON_H

#include <stdio.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/desired.h"
#include "core/plan.h"
#include "core/vmset.h"
#include "io/cluster.h"
#include "io/pve.h"
#include "io/repo.h"
#include "ops/repo_plan.h"

/* A Proxmox client for cfg (warns when TLS verification is off). */
int cmd_pve_connect(struct pve_client *pc, const struct config *cfg,
		    struct err *e);

/*
 * Run command c as if its arguments were args (NULL-terminated): the same
 * option parsing and handler as on the command line.
 */
int cmd_invoke(const struct cmd *c, const struct config *cfg,
	       const char *const *args, struct err *e);

/* Read the cluster, plan, read the configurations the plan needs (all of
 * ours with refresh) and plan again. */
int cmd_build_plan(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		   struct err *e);
int cmd_read_configs(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		     struct err *e);
/* The outputs (terraform output -json shape) of the managed VMs the
 * cluster holds, written atomically to cfg->outputs. */
int outputs_write(const struct repo_plan *rp, const struct config *cfg,
		  struct err *e);

/* A fingerprint of everything a plan would do (and its options), for
 * saved plans: 16 hex digits. */
void cmd_plan_fingerprint(const struct plan *p, const struct plan_input *in,
			  char out[17]);

/* The Terraform-like text of a plan, on stdout (or out). */
void cmd_print_plan(const struct plan *p);
void cmd_print_plan_to(FILE *out, const struct plan *p);

#endif
