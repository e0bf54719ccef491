/*
 * chain.h - the two stages of the chain as operations, for pipeline,
 * provision, run and watch.
 *
 * Stage one (what the seed's Terraform workflow does): the release when
 * configured, apply, inventory, the automated commit "Auto-update Ansible
 * inventory [ansible NAME]", and the push. Stage two (the seed's Ansible
 * workflow) is ops/provision.h: the playbook the tag names, run on the hosts
 * the automated commit added to new_hosts.txt.
 *
 * A commit is read once (struct chain_commit): its tag, and whether it
 * touches the definitions, the config or new_hosts.txt. Every later
 * decision uses that reading, never the commit message again.
 */
#ifndef PVE_GITOPS_OPS_CHAIN_H
#define PVE_GITOPS_OPS_CHAIN_H

#include <stdbool.h>

#include "core/config.h"
#include "ops/lease.h"
#include "util/err.h"
#include "util/strbuf.h"

/* What one commit asks of the chain. */
struct chain_commit {
	struct strbuf name; /* the revision as it was named ("HEAD") */
	struct strbuf rev;  /* the full hash */
	struct strbuf tag;  /* the playbook name; empty without a tag */
	bool touches_defs;  /* the definitions or the config changed */
	bool touches_new_hosts;
};

void chain_commit_init(struct chain_commit *c);
void chain_commit_release(struct chain_commit *c);

/*
 * Read rev: its tag (a refused tag is an ERR_INVALID error with the reason)
 * and, with paths true, what it touches. 0 or -1.
 */
int chain_commit_read(struct chain_commit *c, const struct config *cfg,
		      const char *rev, bool paths, struct err *e);

struct stage_one_req {
	const struct chain_commit *commit; /* its tag names the commit */
	bool push;
	const char *remote;  /* NULL: git.remote of the config */
	struct lease *lease; /* held (ops/lease.h): checked before apply,
			      * push and stage two; NULL: none */
};

struct stage_one_result {
	struct strbuf automated;   /* the automated commit's hash, or empty */
	struct strbuf release_tag; /* the tag release: true made, or empty */
	bool pushed;
};

void stage_one_result_init(struct stage_one_result *r);
void stage_one_result_release(struct stage_one_result *r);

/* Stage one; prints its progress on stdout as `pipeline` does. */
int chain_stage_one(const struct config *cfg, const struct stage_one_req *req,
		    struct stage_one_result *out, struct err *e);

/*
 * Both stages in one process (`run`): stage one, then stage two on the
 * automated commit with the tag read by stage one. 0 or -1.
 */
int chain_run(const struct config *cfg, const struct stage_one_req *req,
	      struct err *e);

struct provision_result;

/*
 * After stage two (two: its result when the playbook succeeded, else
 * NULL): with workloads: true, workloads apply for the workspaces the
 * commit rev changed or whose context two's hosts just published
 * (ops/workloads.h); prints what it did and the files' diagnostics.
 * 0 or -1.
 */
int chain_workloads(const struct config *cfg, const char *rev,
		    const struct provision_result *two, struct err *e);

#endif
