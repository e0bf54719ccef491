/*
 * programs.c - the external programs and the environment they share; see
 * programs.h.
 */
#include "io/programs.h"

#include <string.h>

static const struct program table[] = {
	{ "git", "the chain's commits, pushes, tags and the commit read", "git",
	  true },
	{ "ssh", "cloud-init status --wait on a new host (provision)",
	  "openssh-client", false },
	{ "ssh-keyscan",
	  "a new host's keys when its guest agent cannot read them",
	  "openssh-client", false },
	{ "ansible-playbook", "the tagged playbook (provision)", "ansible-core",
	  false },
	{ "ansible-inventory",
	  "the rewritten inventory read back before it is written",
	  "ansible-core", false },
	{ "diff", "inventory --dry-run: the changes as a unified diff",
	  "diffutils", false },
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
}
