/*
 * invsource.h - where `pve-gitops inventory` learns which VMs exist: the
 * outputs file apply wrote, or Proxmox itself (--live). The check of a new
 * inventory with Ansible's own parser is in io/ansible.h.
 */
#ifndef PVE_GITOPS_INVSOURCE_H
#define PVE_GITOPS_INVSOURCE_H

#include <jansson.h>

#include "core/config.h"
#include "core/inventory.h"
#include "core/vmdef.h"
#include "io/pve.h"
#include "util/err.h"

/* One VM of the repository that exists. */
struct inv_vm {
	const struct vmdef *def;
	char *ip; /* NULL: not known */
	char *user;
	char *node;
	int vmid;
};

struct inv_vms {
	struct inv_vm *v;
	size_t nr, alloc;
	struct strvec warnings;
};

void inv_vms_init(struct inv_vms *vms);
void inv_vms_release(struct inv_vms *vms);

/*
 * The VMs of defs[0..n) that the outputs file (cfg->outputs) lists, in the
 * order of defs. A missing or malformed file is an error.
 */
int inv_vms_from_outputs(struct inv_vms *out, const struct config *cfg,
			 const struct vmdef *const *defs, size_t n,
			 struct err *e);

/*
 * The VMs of defs[0..n) that Proxmox holds as managed VMs: address and user
 * from their configuration, or from the guest agent for DHCP.
 */
int inv_vms_from_proxmox(struct inv_vms *out, struct pve_client *pc,
			 const struct config *cfg,
			 const struct vmdef *const *defs, size_t n,
			 struct err *e);

/*
 * The variables of a VM that the INI line cannot carry (new reference):
 * pve_node, pve_vmid, pve_tags and pve_disks (slot, size, size_bytes,
 * storage, format, mount).
 */
json_t *inv_host_vars(const struct inv_vm *vm);

#endif
