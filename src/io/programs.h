/*
 * programs.h - the external programs pve-gitops runs, and the environment
 * every one of them starts from.
 *
 * The table says what each program is for and which Debian package brings
 * it, for `doctor` (which reads it through programs_table) and the manual.
 * programs_child_env() is the policy all children share: no Proxmox
 * credential (PM_*, PROXMOX_VE_*) reaches a child; git, ssh, ssh-keyscan,
 * diff and Ansible need none, and a playbook that could read the API token
 * could hand it on. Nor does the Vault token (VAULT_TOKEN): only a
 * playbook that needs it gets it back (io/ansible.h); the other Vault
 * variables (VAULT_ADDR, VAULT_CACERT, ...) are no secret and stay.
 */
#ifndef PVE_GITOPS_PROGRAMS_H
#define PVE_GITOPS_PROGRAMS_H

#include <stddef.h>

#include "util/spawn.h"

struct program {
	const char *name;    /* as looked up on PATH */
	const char *purpose; /* what pve-gitops runs it for */
	const char *package; /* the Debian package that provides it */
};

/* The table (static storage), *nr entries. */
const struct program *programs_table(size_t *nr);
/* The entry of name, or NULL. */
const struct program *programs_find(const char *name);

/* Add the shared policy to d (initialised by the caller): unset PM_*,
 * PROXMOX_VE_* and VAULT_TOKEN. */
void programs_child_env(struct env_delta *d);

#endif
