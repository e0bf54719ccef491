/*
 * provision.c - `pve-gitops provision`: stage two of the chain, the
 * playbook the commit's tag (or --playbook) names, run on the hosts the
 * commit added. The work is ops/provision's, under the lease of git.remote
 * when the repository has that remote, else of the local repository.
 */
#include "cmd/cmd.h"
#include "io/git.h"
#include "ops/lease.h"
#include "ops/provision.h"
#include "util/exitcode.h"

struct provision_opts {
	char *commit, *playbook;
};

static const struct opt provision_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct provision_opts, commit),
	  "REV", "the commit to provision (default: HEAD)" },
	{ "playbook", 0, OPT_STRING, offsetof(struct provision_opts, playbook),
	  "NAME", "run this playbook instead of the commit's tag" },
	OPT_END,
};

static int run_provision(const struct config *cfg, void *opts, int argc,
			 char **argv, struct err *e)
{
	struct provision_opts *o = opts;
	struct provision_req req = { .commit = o->commit,
				     .playbook = o->playbook };
	struct provision_result res;
	struct lease *lease = NULL;
	int ret;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "provision takes no arguments");
	if (lease_take(&lease, cfg,
		       lease_remote_for(cfg, NULL,
					git_remote_exists(cfg->git.remote)),
		       e) < 0)
		return -1;
	req.lease = lease;
	provision_result_init(&res);
	ret = provision_run(cfg, &req, &res, e);
	provision_print(cfg, &res);
	provision_result_release(&res);
	lease_release(lease);
	return ret < 0 ? -1 : 0;
}

const struct cmd cmd_provision = {
	.name = "provision",
	.summary = "stage two: run the tagged playbook on the new hosts",
	.args = "",
	.opts = provision_options,
	.opts_size = sizeof(struct provision_opts),
	.run = run_provision,
};
