/*
 * chain.h - the two stages of the chain, shared by pipeline, provision,
 * run and watch.
 *
 * Stage one (pipeline.c): tag from the commit, apply, inventory, the
 * automated commit "Auto-update Ansible inventory [ansible NAME]", push.
 * Stage two (ops/provision.c): the playbook the tag names, run on the hosts
 * the provisioned commit added to new_hosts.txt once they answer on SSH
 * and their host keys are recorded.
 */
#ifndef PVE_GITOPS_CHAIN_H
#define PVE_GITOPS_CHAIN_H

#include <stdbool.h>

#include "core/config.h"
#include "ops/provision.h" /* struct stage_two, chain_stage_two */
#include "ops/release.h"   /* release_run(), for stage one */
#include "util/err.h"
#include "util/strbuf.h"

struct stage_one {
	const char *commit; /* the commit whose message carries the tag */
	bool push;
	const char *remote; /* NULL: git.remote of the config */
	/* out */
	struct strbuf tag;	   /* the playbook name, empty without a tag */
	struct strbuf automated;   /* the automated commit's hash, or empty */
	struct strbuf release_tag; /* the tag release: true made, or empty */
};

void stage_one_init(struct stage_one *s);
void stage_one_release(struct stage_one *s);
int chain_stage_one(const struct config *cfg, struct stage_one *s,
		    struct err *e);

/*
 * release.c: the release of the commits since the last tag, as
 * `pve-gitops release` makes it; out may be NULL.
 */
struct release_result;
int release_run(const struct config *cfg, bool dry_run,
		struct release_result *out, struct err *e);

/* The tag of the commit rev into name: 1 found, 0 none, -1 refused. */
int chain_commit_tag(const char *rev, struct strbuf *name, struct err *e);

#endif
