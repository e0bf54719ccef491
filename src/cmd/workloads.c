/*
 * workloads.c - `pve-gitops workloads check | render | apply [NAME]`: the
 * workspaces of clusters_dir (the seed's Step 4) checked against the
 * kubeconfig in Vault, rendered as NAME.auto.tfvars.json, and applied with
 * Terraform or OpenTofu; the work is ops/workloads.c's.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "ops/workloads.h"
#include "util/exitcode.h"
#include "util/report.h"

struct wl_opts {
	int dry_run, plan;
};

static const struct opt check_options[] = {
	OPT_END,
};

static const struct opt render_options[] = {
	{ "dry-run", 'n', OPT_BOOL, offsetof(struct wl_opts, dry_run), NULL,
	  "show the changes as a diff, write nothing" },
	OPT_END,
};

static const struct opt apply_options[] = {
	{ "plan", 0, OPT_BOOL, offsetof(struct wl_opts, plan), NULL,
	  "terraform plan instead of apply -auto-approve" },
	OPT_END,
};

typedef int (*wl_op)(struct workloads_result *, const struct config *,
		     const struct workloads_request *, struct err *);

static int run_op(const struct config *cfg, const struct wl_opts *o, int argc,
		  char **argv, const char *sub, wl_op op, struct err *e)
{
	struct workloads_request req = { argc ? argv[0] : NULL, o && o->dry_run,
					 o && o->plan };
	struct workloads_result r;
	size_t i;
	int ret;

	if (argc > 1)
		return err_set(e, EXIT_INVALID,
			       "workloads %s takes at most one workspace name",
			       sub);
	workloads_result_init(&r);
	ret = op(&r, cfg, &req, e);
	report_diags(cfg, &r.diags, false);
	for (i = 0; i < r.lines.nr; i++)
		report_info(stdout, "%s\n", r.lines.v[i]);
	workloads_result_release(&r);
	return ret;
}

static int run_check(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	return run_op(cfg, opts, argc, argv, "check", workloads_check, e);
}

static int run_render(const struct config *cfg, void *opts, int argc,
		      char **argv, struct err *e)
{
	return run_op(cfg, opts, argc, argv, "render", workloads_render, e);
}

static int run_apply(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	return run_op(cfg, opts, argc, argv, "apply", workloads_apply, e);
}

#define SUB(verb, what, options, handler)                             \
	{                                                             \
		.name = verb, .summary = what, .args = "[NAME]",      \
		.opts = options, .opts_size = sizeof(struct wl_opts), \
		.run = handler                                        \
	}

static const struct cmd workloads_subs[] = {
	SUB("check",
	    "each workspace's context in Vault, its server answering TLS, "
	    "its workloads known",
	    check_options, run_check),
	SUB("render", "write clusters/NAME.auto.tfvars.json for Terraform",
	    render_options, run_render),
	SUB("apply",
	    "terraform (or tofu) plan or apply per workspace, with only its "
	    "context",
	    apply_options, run_apply),
	{ .name = NULL },
};

const struct cmd cmd_workloads = {
	.name = "workloads",
	.summary = "the workloads of the K3s clusters (clusters/NAME.yaml)",
	.flags = CMD_SETUP,
	.subs = workloads_subs,
};
