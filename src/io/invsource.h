/*
 * invsource.h - where `pve-gitops inventory` learns which VMs exist: the
 * outputs file apply wrote, or Proxmox itself (--live); and the check of a
 * new inventory with Ansible's own parser.
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

/* Whether inv_check_with_ansible() would run ansible-inventory (or fail
 * for want of it). */
bool inv_ansible_will_check(enum ansible_check mode);

/*
 * Run `ansible-inventory -i DIR/NAME --list` on an inventory staged in dir
 * (with its host_vars) and check that Ansible sees every host of w with
 * its address and every managed group with its members. Returns 1 when
 * checked, 0 when ansible-inventory is not installed and mode is auto, -1
 * with e set on a failure.
 */
int inv_check_with_ansible(const char *dir, const char *name,
			   const struct inv_want *w, enum ansible_check mode,
			   struct err *e);

/*
 * The variables of a VM that the INI line cannot carry (new reference):
 * pve_node, pve_vmid, pve_tags and pve_disks (slot, size, size_bytes,
 * storage, format, mount).
 */
json_t *inv_host_vars(const struct inv_vm *vm);

#endif
