/*
 * ippool.h - the addresses of definitions with ip_pool: (core/ippool.h),
 * kept in one of two stores behind the same functions (struct
 * ippool_store in ippool.c):
 *
 * Vault: one KV v2 secret per pool (vault_path:, by default
 * MOUNT/pve-gitops/ip-pools/NAME with MOUNT the config's vault.mount),
 * whose data maps "OWNER/VMNAME" to the address, written only with
 * check-and-set so runners and repositories sharing a pool never hand one
 * address out twice.
 *
 * SDN (a pool with vnet: and zone:): Proxmox's PVE IPAM, the entries of
 * the vnet's subnet whose network is the pool's cidr, read with GET
 * /cluster/sdn/ipams/pve/status. An entry is a definition's when its MAC
 * is the one of the VM's first network device: macaddr: when the
 * definition sets it, else ip_pool_mac of OWNER/NAME, which ippool_held
 * gives the definition (a VM made before gets it too: a MAC change). A new
 * allocation is POST
 * .../vnets/{vnet}/ips (Proxmox refuses an address that is there
 * already: the next free one is tried), the vmid recorded with PUT once
 * the VM exists (ippool_record), a pruned VM's entry deleted.
 *
 * plan: ippool_held (before the first plan) reads each pool used once and
 * gives a definition the address its key holds; ippool_pick (once the
 * cluster's addresses are read) gives the others the lowest free one,
 * tentatively (nothing written). apply: ippool_confirm writes the
 * allocations before anything is created (a lost check-and-set round
 * reads again and picks again); ippool_release removes the VMs the apply
 * destroyed. The token is the Vault client's (io/vault.h): never in argv
 * or a message.
 *
 * A definition that switched from ip_pool: to a static ipconfig0 keeps
 * its allocation when the address is the same (it stays reserved for
 * it, and a switch back gets it again); any other ipconfig0 (another
 * address, dhcp, none) releases it at the next apply (ippool_confirm).
 * Switching back after a release gets the VM's address again when the
 * pool can give it (as for a VM made before ip_pool: was added), else
 * the lowest free one.
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
#include "io/pve.h"
#include "io/vault.h"
#include "util/err.h"
#include "util/strvec.h"

struct ippool_store;

struct ippool_one {
	const struct ip_pool *pool;
	const struct ippool_store *store;
	char *path;   /* Vault: the secret; SDN: "vnet VNET" (messages) */
	json_t *data; /* Vault: the secret's data; SDN: the subnet's
		       * entries; as read, NULL before */
	int version;  /* 0: no secret yet */
	struct vault_kv kv;
	struct ip_allocs allocs; /* data's, and the plan's tentative picks */
};

struct ippool_run {
	const struct config *cfg;
	struct vault_client vc;
	bool open;
	/* the cluster of the SDN pools (not owned; NULL: none given) */
	struct pve_client *pc;
	/* the run's definitions: whose MACs the SDN entries are */
	const struct vmdef *defs;
	size_t nr_defs;
	struct ippool_one *v;
	size_t nr, alloc;
};

void ippool_run_init(struct ippool_run *r, const struct config *cfg);
void ippool_run_release(struct ippool_run *r);
/* The connection the SDN pools are read and written with. */
void ippool_run_set_cluster(struct ippool_run *r, struct pve_client *pc);

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

/* Remove the keys of names (VMs the apply destroyed; vmids[i] the VM of
 * names->v[i], 0 unknown) from every pool. */
int ippool_release(struct ippool_run *r, const struct strvec *names,
		   const int *vmids, struct err *e);

/* SDN pools: the vmid of each definition's VM (of vms, by name) written
 * to its entry where the entry lacks it (PUT). 0 or -1. */
int ippool_record(struct ippool_run *r, const struct vmdef *defs, size_t n,
		  const struct actual_vm *vms, size_t nr_vms, struct err *e);

#endif
