/*
 * common.h - what the commands built on the reconciler share: the
 * repository's definitions checked and planned (ops/reconcile.h), and
 * cmd_invoke, which the chain still uses to run a command as if from the
 * command line.
 */
#ifndef PVE_GITOPS_CMD_COMMON_H
#define PVE_GITOPS_CMD_COMMON_H

#include "cmd/cmd.h"
#include "ops/reconcile.h"

/* repo_plan_read with the diagnostics on stderr (report_diags). */
int repo_plan_load(struct repo_plan *rp, const struct config *cfg,
		   struct err *e);

/*
 * Run command c as if its arguments were args (NULL-terminated): the same
 * option parsing and handler as on the command line.
 */
int cmd_invoke(const struct cmd *c, const struct config *cfg,
	       const char *const *args, struct err *e);

#endif
