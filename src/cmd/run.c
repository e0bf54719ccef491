/*
 * run.c - `pve-gitops run`: both stages of the chain in one process, for
 * CI, local and self-hosted use (ops/chain.h, ops/catchup.h). Under the
 * lease (ops/lease.h) it processes every commit after the progress marker
 * up to the branch's head, so a run that was cancelled or crashed loses
 * nothing: the next one catches up. The automated commit is still made
 * (and pushed with --push), for the audit trail; stage two then provisions
 * it, as the seed's second workflow would on that push. --commit REV does
 * that one commit's stages only, and leaves the marker alone.
 */
#include "cmd/cmd.h"
#include "ops/catchup.h"
#include "ops/chain.h"
#include "ops/lease.h"
#include "util/exitcode.h"
#include "util/report.h"

struct run_opts {
	char *commit, *remote;
	int push;
};

static const struct opt run_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct run_opts, commit), "REV",
	  "this commit's stages only (default: every pending commit)" },
	{ "push", 0, OPT_BOOL, offsetof(struct run_opts, push), NULL,
	  "push the automated commits (lease and marker on the remote)" },
	{ "remote", 0, OPT_STRING, offsetof(struct run_opts, remote), "NAME",
	  "the remote to push to (default: git.remote)" },
	OPT_END,
};

/* --commit REV: that commit's two stages, under the lease. */
static int run_one(const struct config *cfg, const struct run_opts *o,
		   struct lease *lease, struct err *e)
{
	struct chain_commit c;
	struct stage_one_req req = { &c, o->push, o->remote, lease };
	int ret = -1;

	chain_commit_init(&c);
	if (chain_commit_read(&c, cfg, o->commit, false, e) == 0)
		ret = chain_run(cfg, &req, e);
	chain_commit_release(&c);
	return ret;
}

/* Every pending commit; a refused one makes the exit status its own. */
static int run_pending(const struct config *cfg, const struct run_opts *o,
		       struct lease *lease, struct err *e)
{
	struct catchup_req req = { 0 };
	struct catchup_result res;
	int ret;

	req.remote = lease_remote(lease);
	req.push = o->push;
	req.who = "run";
	catchup_result_init(&res);
	ret = catchup_run(cfg, &req, lease, &res, e);
	if (!ret && res.refused) {
		*e = res.refusal;
		res.refusal = (struct err)ERR_INIT;
		ret = -1;
	} else if (!ret && !res.done)
		report_info(stdout, "run: nothing pending: every commit is "
				    "done\n");
	catchup_result_release(&res);
	return ret;
}

static int run_run(const struct config *cfg, void *opts, int argc, char **argv,
		   struct err *e)
{
	struct run_opts *o = opts;
	struct lease *lease = NULL;
	int ret;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "run takes no arguments");
	if (lease_take(&lease, cfg, lease_remote_for(cfg, o->remote, o->push),
		       e) < 0)
		return -1;
	ret = o->commit ? run_one(cfg, o, lease, e)
			: run_pending(cfg, o, lease, e);
	lease_release(lease);
	return ret;
}

const struct cmd cmd_run = {
	.name = "run",
	.summary = "both stages of every pending commit: pipeline, provision",
	.args = "",
	.opts = run_options,
	.opts_size = sizeof(struct run_opts),
	.run = run_run,
};
