/*
 * apply.c - `pve-gitops apply`: plan, show it, and carry it out.
 *
 * Without --auto-approve it asks on a terminal and refuses elsewhere. VMs
 * the plan blocks are left alone and make the exit status 1 once the rest
 * is done, so a pipeline does not pass with a VM missing. The work (and
 * its progress output) is ops/reconcile.c's.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "ops/reconcile.h"
#include "util/exitcode.h"
#include "util/parse.h"

struct apply_cmd_opts {
	int auto_approve, refresh, prune, adopt;
	char *target;
	char *parallel;
};

static const struct opt apply_options[] = {
	{ "auto-approve", 0, OPT_BOOL,
	  offsetof(struct apply_cmd_opts, auto_approve), NULL,
	  "do not ask before applying" },
	{ "parallel", 0, OPT_STRING, offsetof(struct apply_cmd_opts, parallel),
	  "N", "VMs worked on at once (default: proxmox.parallel, 4)" },
	{ "target", 0, OPT_STRING, offsetof(struct apply_cmd_opts, target),
	  "NAME", "apply the plan for this VM only" },
	{ "refresh", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, refresh),
	  NULL, "read every managed VM's configuration first (drift)" },
	{ "prune", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, prune), NULL,
	  "delete managed VMs whose definition is gone" },
	{ "adopt", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, adopt), NULL,
	  "take over unmanaged VMs of the same name" },
	OPT_END,
};

static int run_apply(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	struct apply_cmd_opts *o = opts;
	struct reconcile_req req = { 0 };
	struct reconcile_result res;
	uint64_t parallel = 0;
	int ret;

	if (argc > 1)
		return err_set(e, EXIT_INVALID,
			       "apply takes at most one saved plan file");
	if (o->parallel && parse_u64z(&parallel, o->parallel, 1, 64) < 0)
		return err_set(e, EXIT_INVALID,
			       "--parallel: '%s' is not a number from 1 to 64",
			       o->parallel);
	req.apply = true;
	req.auto_approve = o->auto_approve;
	req.refresh = o->refresh;
	req.prune = o->prune;
	req.adopt = o->adopt;
	req.target = o->target;
	req.plan_file = argc ? argv[0] : NULL;
	req.parallel = (unsigned)parallel;
	reconcile_result_init(&res);
	ret = reconcile_run(cfg, &req, &res, e);
	reconcile_result_release(&res);
	return ret;
}

const struct cmd cmd_apply = {
	.name = "apply",
	.summary = "make Proxmox match the definitions",
	.args = "[PLANFILE]",
	.opts = apply_options,
	.opts_size = sizeof(struct apply_cmd_opts),
	.run = run_apply,
};
