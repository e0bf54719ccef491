/*
 * ansible.h - how pve-gitops runs Ansible: the environment policy of its
 * two programs, the ansible-playbook command line, and the check of a
 * rewritten inventory with ansible-inventory.
 *
 * Both programs start from programs_child_env() (no Proxmox credential)
 * and run with LC_ALL=C.UTF-8 (Ansible refuses other locales) and strict
 * inventory parsing (ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED). The
 * playbook also gets host key checking forced on and no retry files; the
 * inventory check drops every ANSIBLE_INVENTORY_* of the caller, reads INI
 * only and prints no colour. Structured variables go through a 0600 file
 * (-e @FILE), never the command line.
 */
#ifndef PVE_GITOPS_ANSIBLE_H
#define PVE_GITOPS_ANSIBLE_H

#include <stdbool.h>

#include "core/config.h"
#include "core/inventory.h"
#include "util/err.h"
#include "util/spawn.h"
#include "util/strvec.h"

/* The environment deltas (d initialised by the caller). */
void ansible_playbook_env(struct env_delta *d);
void ansible_inventory_env(struct env_delta *d);

/* One ansible-playbook run. */
struct ansible_play {
	const char *playbook;	  /* path of the playbook file */
	const char *inventory;	  /* path of the inventory (-i) */
	const char *target_hosts; /* -e target_hosts=...; NULL: "all" */
	const char *vars_file;	  /* -e @FILE, a 0600 file */
};

/* argv of the run, pushed onto argv (initialised by the caller). */
void ansible_playbook_argv(struct strvec *argv, const struct ansible_play *p);

/*
 * Run ansible-playbook with its environment, stdout and stderr inherited.
 * *status is its exit status; -1 only when it could not be started.
 */
int ansible_playbook_run(const struct ansible_play *p, int *status,
			 struct err *e);

/* Whether ansible_inventory_check() would run ansible-inventory (or fail
 * for want of it). */
bool ansible_inventory_will_check(enum ansible_check mode);

/*
 * Run `ansible-inventory -i DIR/NAME --list` on an inventory staged in dir
 * (with its host_vars) and check that Ansible sees every host of w with
 * its address and every managed group with its members. Returns 1 when
 * checked, 0 when ansible-inventory is not installed and mode is auto, -1
 * with e set on a failure (ERR_CHILD when ansible-inventory refused it).
 */
int ansible_inventory_check(const char *dir, const char *name,
			    const struct inv_want *w, enum ansible_check mode,
			    struct err *e);

#endif
