/*
 * doctor.h - `pve-gitops doctor` as an operation: walk the chain of one VM
 * (or of every definition) link by link, as the pipeline would go through
 * it, and record what each link shows (core/doctor.h).
 *
 * The links, in order: the config; the definition (valid, every other
 * definition too, since one error stops apply for all, and not excluded);
 * the credentials (Proxmox's, and Vault's for a K3s VM: from which
 * variable or file, never the secret); the VM in Proxmox (exists, managed,
 * running, digest current, nothing pending: the plan of ops/repoplan.h);
 * the inventory (a host line, the groups the rules give); the last
 * automated commit whose new_hosts.txt lists the VM, its tag and the
 * playbook the tag names; the SSH port and the host key in ssh.known_hosts;
 * for a K3s VM (one the rules put in the group k3s), its context in the
 * kubeconfig in Vault, the context's server (a TLS handshake, checked
 * against the cluster's CA) and `workloads check` of the workspaces that
 * name the context (none: not reached, which is no failure). The walk of
 * a VM stops at its first failed link: the rest are not reached.
 *
 * Nothing is written, nothing is sent to Proxmox but reads. A broken
 * config fails the config link and every other link is not reached.
 */
#ifndef PVE_GITOPS_OPS_DOCTOR_H
#define PVE_GITOPS_OPS_DOCTOR_H

#include <stdbool.h>

#include "core/config.h"
#include "core/doctor.h"
#include "util/err.h"

/* What doctor is asked. */
struct doctor_req {
	const char *name;	  /* one VM; NULL: every definition's */
	bool config_failed;	  /* the config did not load (cfg: defaults) */
	const char *config_error; /* why, when it failed */
	size_t config_warnings;	  /* the config's warnings, when it loaded */
	unsigned ssh_wait;	  /* seconds the SSH port may take; 0: 5 */
};

/*
 * Walk the chain into out (initialised by the caller). The findings are
 * in out, not in the return value: 0, or -1 with e set when the walk
 * itself could not be made (no NAME, and the definitions' directory
 * cannot be read).
 */
int doctor_run(const struct config *cfg, const struct doctor_req *req,
	       struct doctor_report *out, struct err *e);

#endif
