/*
 * run.c - `pve-gitops run`: both stages of the chain in one process, for
 * local and self-hosted use. The automated commit is still made (and
 * pushed with --push), for the audit trail; stage two then provisions it,
 * as the seed's second workflow would on that push. No personal access
 * token is needed to chain the two.
 */
#include <stdio.h>

#include "cmd/chain.h"
#include "cmd/cmd.h"
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
	struct stage_one one;
	struct stage_two two = { NULL, NULL };
	int ret = -1;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "run takes no arguments");
	stage_one_init(&one);
	one.commit = o->commit;
	one.push = o->push;
	one.remote = o->remote;
	if (chain_stage_one(cfg, &one, e) < 0)
		goto out;
	if (!one.automated.len) {
		if (cfg->verbosity >= 0)
			printf("run: no automated commit, so no new hosts: "
			       "stage two has nothing to do\n");
		ret = 0;
		goto out;
	}
	two.commit = one.automated.buf;
	ret = chain_stage_two(cfg, &two, e) < 0 ? -1 : 0;
out:
	stage_one_release(&one);
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
