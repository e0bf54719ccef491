/*
 * cluster.h - what the cluster has, read through the Proxmox client into
 * the plan's actual_vm records: the VM list (one GET /cluster/resources)
 * and, when needed, a VM's configuration.
 */
#ifndef PVE_GITOPS_CLUSTER_H
#define PVE_GITOPS_CLUSTER_H

#include "core/plan.h"
#include "core/planchk.h"
#include "io/pve.h"

struct cluster {
	struct actual_vm *vms;
	size_t nr, alloc;
};

#define CLUSTER_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* GET /cluster/resources?type=vm, qemu guests only, into out (empty: a
 * CLUSTER_INIT one); on failure out is left empty. */
int cluster_read_vms(struct cluster *out, struct pve_client *pc, struct err *e);
/* GET /nodes/{node}/qemu/{vmid}/config into vm (keys as strings). */
/*
 * GET .../pending into vm->pending: the keys whose value waits for the
 * next boot (a "pending" value, or "delete" set), not those Proxmox would
 * clean up (a pending value equal to the running one); when its
 * configuration (vm->keys, vm->vals) has a cloud-init drive, also the
 * cloud-init settings the drive does not hold yet (GET .../cloudinit).
 * vm->node and vm->vmid say which VM.
 */
int cluster_read_pending(struct actual_vm *vm, struct pve_client *pc,
			 struct err *e);
int cluster_read_config(struct actual_vm *vm, struct pve_client *pc,
			struct err *e);
/* Push a configuration object's keys and values (as text, numbers as
 * Proxmox prints them) onto keys and vals. */
void cluster_config_strings(struct strvec *keys, struct strvec *vals,
			    json_t *conf);
void cluster_release(struct cluster *c);

/* A bound on GET /nodes: corosync's clusters stay far below it; a longer
 * answer is no cluster's (and the checks compare names pairwise). */
#define CLUSTER_MAX_NODES 4096

/* What plan checks (core/planchk.h), one request per node and kind: */
/* GET /nodes: the nodes and their status into f. */
int cluster_read_nodes(struct cluster_facts *f, struct pve_client *pc,
		       struct err *e);
/* GET /nodes/{node}/storage: every storage of the node. */
int cluster_read_storages(struct facts_node *n, struct pve_client *pc,
			  struct err *e);
/* GET /nodes/{node}/network?type=any_bridge: its bridges (SDN vnets too). */
int cluster_read_bridges(struct facts_node *n, struct pve_client *pc,
			 struct err *e);
/*
 * The ipconfigN addresses of vms[0..nr) (no list endpoint returns them):
 * GET .../config of each, up to `workers` at once, each worker with a
 * client of its own on pc's connection (its requests added to pc->calls).
 * A VM that vanished meanwhile is skipped.
 */
int cluster_read_ips(struct cluster_facts *f,
		     const struct actual_vm *const *vms, size_t nr,
		     unsigned workers, struct pve_client *pc, struct err *e);

#endif
