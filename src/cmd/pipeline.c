/*
 * pipeline.c - `pve-gitops pipeline`: stage one of the chain, what the
 * seed's Terraform workflow does (ops/chain.h). The tag comes from the
 * commit's message (a refused name stops everything before anything else
 * happens), then apply, inventory, and the automated commit of the
 * inventory, new_hosts and host_vars, pushed when asked; under the lease
 * of the remote pushed to (ops/lease.h), or of the local repository.
 */
#include "cmd/cmd.h"
#include "ops/chain.h"
#include "ops/lease.h"
#include "util/exitcode.h"

struct pipeline_opts {
	char *commit, *remote;
	int push;
};

static const struct opt pipeline_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct pipeline_opts, commit),
	  "REV",
	  "the commit whose message names the playbook (default: HEAD)" },
	{ "push", 0, OPT_BOOL, offsetof(struct pipeline_opts, push), NULL,
	  "push the automated commit (rebased and retried when rejected)" },
	{ "remote", 0, OPT_STRING, offsetof(struct pipeline_opts, remote),
	  "NAME", "the remote to push to (default: git.remote)" },
	OPT_END,
};

static int run_pipeline(const struct config *cfg, void *opts, int argc,
			char **argv, struct err *e)
{
	struct pipeline_opts *o = opts;
	struct chain_commit c;
	struct stage_one_req req = { &c, o->push, o->remote, NULL };
	struct stage_one_result res;
	int ret = -1;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "pipeline takes no arguments");
	chain_commit_init(&c);
	stage_one_result_init(&res);
	if (chain_commit_read(&c, cfg, o->commit ? o->commit : "HEAD", false,
			      e) == 0 &&
	    lease_take(&req.lease, cfg,
		       lease_remote_for(cfg, o->remote, o->push), e) == 0) {
		ret = chain_stage_one(cfg, &req, &res, e);
		lease_release(req.lease);
	}
	stage_one_result_release(&res);
	chain_commit_release(&c);
	return ret;
}

const struct cmd cmd_pipeline = {
	.name = "pipeline",
	.summary = "stage one: apply, inventory, automated commit, push",
	.args = "",
	.opts = pipeline_options,
	.opts_size = sizeof(struct pipeline_opts),
	.run = run_pipeline,
};
