/*
 * programs.c - the external programs and the environment they share; see
 * programs.h.
 */
#include "io/programs.h"

#include <string.h>

static const struct program table[] = {
	{ "git", "commit messages, the automated commit, push, release tags",
	  "git" },
	{ "ssh", "cloud-init status --wait on a new host (provision)",
	  "openssh-client" },
	{ "ssh-keyscan",
	  "a new host's keys when its guest agent cannot read them",
	  "openssh-client" },
	{ "ansible-playbook", "the tagged playbook (provision)",
	  "ansible-core" },
	{ "ansible-inventory",
	  "the rewritten inventory read back before it is written",
	  "ansible-core" },
	{ "diff", "inventory --dry-run: the changes as a unified diff",
	  "diffutils" },
	{ "terraform", "workloads apply: the workloads of a K3s cluster",
	  "HashiCorp's terraform (not in Debian)" },
	{ "tofu", "workloads apply, when terraform is not on PATH",
	  "OpenTofu's tofu (not in Debian)" },
};

const struct program *programs_table(size_t *nr)
{
	*nr = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct program *programs_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

void programs_child_env(struct env_delta *d)
{
	/* PM_API_TOKEN_SECRET, PM_PASS, ... and bpg's PROXMOX_VE_API_TOKEN */
	env_delta_unset(d, "PM_*");
	env_delta_unset(d, "PROXMOX_VE_*");
	/* ansible_playbook_env() gives it back to a playbook that names it */
	env_delta_unset(d, "VAULT_TOKEN");
	/* watch --listen's webhook secret: no child needs it */
	env_delta_unset(d, "PVE_GITOPS_WEBHOOK_SECRET");
}
