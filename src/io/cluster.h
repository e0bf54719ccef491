/*
 * cluster.h - what the cluster has, read through the Proxmox client into
 * the plan's actual_vm records: the VM list (one GET /cluster/resources)
 * and, when needed, a VM's configuration.
 */
#ifndef PVE_GITOPS_CLUSTER_H
#define PVE_GITOPS_CLUSTER_H

#include "core/plan.h"
#include "io/pve.h"

struct cluster {
	struct actual_vm *vms;
	size_t nr, alloc;
};

#define CLUSTER_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/* GET /cluster/resources?type=vm, qemu guests only. */
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

#endif
