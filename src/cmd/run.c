/*
 * run.c - `pve-gitops run`: both stages of the chain in one process, for
 * local and self-hosted use (ops/chain.h). The automated commit is still
 * made (and pushed with --push), for the audit trail; stage two then
 * provisions it, as the seed's second workflow would on that push. No
 * personal access token is needed to chain the two.
 */
#include "cmd/cmd.h"
#include "ops/chain.h"
#include "util/exitcode.h"

struct run_opts {
	char *commit, *remote;
	int push;
};

static const struct opt run_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct run_opts, commit), "REV",
	  "the commit whose message names the playbook (default: HEAD)" },
	{ "push", 0, OPT_BOOL, offsetof(struct run_opts, push), NULL,
	  "push the automated commit" },
	{ "remote", 0, OPT_STRING, offsetof(struct run_opts, remote), "NAME",
	  "the remote to push to (default: git.remote)" },
	OPT_END,
};

static int run_run(const struct config *cfg, void *opts, int argc, char **argv,
		   struct err *e)
{
	struct run_opts *o = opts;
	struct chain_commit c;
	struct stage_one_req req = { &c, o->push, o->remote };
	int ret = -1;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "run takes no arguments");
	chain_commit_init(&c);
	if (chain_commit_read(&c, cfg, o->commit ? o->commit : "HEAD", false,
			      e) == 0)
		ret = chain_run(cfg, &req, e);
	chain_commit_release(&c);
	return ret;
}

const struct cmd cmd_run = {
	.name = "run",
	.summary = "both stages in one process: pipeline, then provision",
	.args = "",
	.opts = run_options,
	.opts_size = sizeof(struct run_opts),
	.run = run_run,
};
