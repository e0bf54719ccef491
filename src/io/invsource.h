/*
 * invsource.h - where `pve-gitops inventory` learns which VMs exist: the
 * outputs file apply wrote, or Proxmox itself (--live). The check of a new
 * inventory with Ansible's own parser is in io/ansible.h.
 */
#ifndef PVE_GITOPS_INVSOURCE_H
#define PVE_GITOPS_INVSOURCE_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/inventory.h"
#include "core/vmdef.h"
#include "io/pve.h"
#include "util/err.h"
#include "util/strmap.h"
#include "util/strvec.h"

/* One VM of the repository that exists. */
struct inv_vm {
	const struct vmdef *def;
	char *ip; /* NULL: not known */
	char *user;
	char *node;
	int vmid;
	char *agent_error; /* the guest agent's last failure; NULL: none */
	bool agent_asked;  /* the guest agent was asked for the address */
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
 * from their configuration, or from the guest agent for DHCP (asked once;
 * its failure in the VM's agent_error).
 */
int inv_vms_from_proxmox(struct inv_vms *out, struct pve_client *pc,
			 const struct config *cfg,
			 const struct vmdef *const *defs, size_t n,
			 struct err *e);

/*
 * Whether vm's address can only come from its guest agent: a definition
 * with agent: 1, no static IPv4 address (ip=dhcp, or no ipconfig0) and a
 * VM that is meant to run.
 */
bool inv_vm_agent_dhcp(const struct inv_vm *vm);

/*
 * Ask the guest agent (network-get-interfaces, the rule of --live: the
 * first IPv4 address on an interface other than lo that is not
 * link-local) for the address of each VM of vms that has none and
 * inv_vm_agent_dhcp(). A VM named in known (may be NULL) is asked once,
 * unless it was already; the others again and again, with a growing
 * pause (util/backoff), until each has an address, its agent refuses for
 * good (ERR_PERMANENT, ERR_NOTFOUND) or wait_s seconds have passed (0:
 * asked once). A failure stays in the VM's agent_error. The names of the
 * VMs outside known still without an address are pushed to missing. With
 * pc NULL (no client) nothing is asked and missing is filled all the same.
 */
void inv_vms_agent_wait(struct inv_vms *vms, struct pve_client *pc,
			const struct strmap *known, unsigned wait_s,
			struct strvec *missing);

/*
 * The variables of a VM that the INI line cannot carry (new reference):
 * pve_node, pve_vmid, pve_tags and pve_disks (slot, size, size_bytes,
 * storage, format, mount); with_cluster (the config has clusters:) also
 * pve_cluster, the definition's cluster.
 */
json_t *inv_host_vars(const struct inv_vm *vm, bool with_cluster);

#endif
