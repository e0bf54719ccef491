/*
 * ippool.h - the addresses of definitions with ip_pool: (core/ippool.h),
 * kept in Vault: one KV v2 secret per pool (vault_path:, by default
 * MOUNT/pve-gitops/ip-pools/NAME with MOUNT the config's vault.mount),
 * whose data maps "OWNER/VMNAME" to the address, written only with
 * check-and-set so runners and repositories sharing a pool never hand one
 * address out twice.
 *
 * plan: ippool_held (before the first plan) reads each pool used once and
 * gives a definition the address its key holds; ippool_pick (once the
 * cluster's addresses are read) gives the others the lowest free one,
 * tentatively (nothing written). apply: ippool_confirm writes the
 * allocations before anything is created (a lost check-and-set round
 * reads again and picks again); ippool_release removes the VMs the apply
 * destroyed. The token is the Vault client's (io/vault.h): never in argv
 * or a message.
 */
#ifndef PVE_GITOPS_OPS_IPPOOL_H
#define PVE_GITOPS_OPS_IPPOOL_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/diag.h"
#include "core/ippool.h"
#include "core/plan.h"
#include "core/planchk.h"
#include "core/vmdef.h"
#include "io/vault.h"
#include "util/err.h"
#include "util/strvec.h"

struct ippool_one {
	const struct ip_pool *pool;
	char *path;   /* the secret */
	json_t *data; /* as read; NULL before */
	int version;  /* 0: no secret yet */
	struct vault_kv kv;
	struct ip_allocs allocs; /* data's, and the plan's tentative picks */
};

struct ippool_run {
	const struct config *cfg;
	struct vault_client vc;
	bool open;
	struct ippool_one *v;
	size_t nr, alloc;
};

void ippool_run_init(struct ippool_run *r, const struct config *cfg);
void ippool_run_release(struct ippool_run *r);

/* Read the pools defs use; a definition whose key holds an address gets
 * it (ipconfig0, and the pool's nameserver unless it has one). 0 or -1. */
int ippool_held(struct ippool_run *r, struct vmdef *defs, size_t n,
		struct err *e);

/* The definitions without an address get the one their VM has when the
 * pool can give it (p's items with a configuration read), else the lowest
 * free one, or ip_pool_problem when the pool is exhausted. */
void ippool_pick(struct ippool_run *r, struct vmdef *defs, size_t n,
		 const struct plan *p, const struct cluster_facts *facts);

/*
 * Write the allocations of the plan's definitions (check-and-set, rounds
 * until one is not lost). A definition whose address was taken meanwhile
 * gets another one (*changed set: the caller rebuilds its desired
 * configuration); one for which none is left is blocked in the plan.
 */
int ippool_confirm(struct ippool_run *r, struct vmdef *defs, size_t n,
		   struct plan *p, const struct cluster_facts *facts,
		   bool *changed, struct err *e);

/* Remove the keys of names (VMs the apply destroyed) from every pool. */
int ippool_release(struct ippool_run *r, const struct strvec *names,
		   struct err *e);

#endif
