/*
 * ansible.h - how pve-gitops runs Ansible: the environment policy of its
 * two programs, the ansible-playbook command line, and the check of a
 * rewritten inventory with ansible-inventory.
 *
 * Both programs start from programs_child_env() (no Proxmox credential,
 * no Vault token) and run with LC_ALL=C.UTF-8 (Ansible refuses other
 * locales) and strict inventory parsing
 * (ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED). The playbook also gets host
 * key checking forced on, our ssh options (ANSIBLE_SSH_ARGS, besides the
 * vars file), no retry files, and VAULT_TOKEN back only when the caller
 * hands it over (a playbook that names it); the inventory check drops
 * every ANSIBLE_INVENTORY_* of the caller, reads INI only and prints no
 * colour. Structured variables go through a 0600 file (-e @FILE), never
 * the command line. Both run under a memory limit and a deadline.
 */
#ifndef PVE_GITOPS_ANSIBLE_H
#define PVE_GITOPS_ANSIBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/inventory.h"
#include "util/beneath.h"
#include "util/err.h"
#include "util/spawn.h"
#include "util/strvec.h"

/* ansible-inventory's bounds (it has no config of its own to read). */
#define ANSIBLE_INVENTORY_TIMEOUT_MS   (600 * 1000)
#define ANSIBLE_INVENTORY_MEMORY_LIMIT ((uint64_t)4 << 30)

/* One ansible-playbook run. */
struct ansible_play {
	const char *playbook;	     /* path of the playbook file */
	const char *inventory;	     /* path of the inventory (-i) */
	const char *extra_inventory; /* a second -i after it; NULL: none */
	const char *target_hosts;    /* -e target_hosts=...; NULL: "all" */
	const char *vars_file;	     /* -e @FILE, a 0600 file */
	const char *limit;	  /* --limit PATTERN (hosts left out); NULL */
	const char *ssh_args;	  /* ANSIBLE_SSH_ARGS; NULL: none set */
	const char *control_dir;  /* ANSIBLE_SSH_CONTROL_PATH_DIR; NULL */
	const char *vault_token;  /* VAULT_TOKEN; NULL: the playbook has none */
	uint64_t timeout_seconds; /* 0: none */
	uint64_t memory_limit;	  /* bytes of address space; 0: none */
	const char *log_file;	  /* -q: its output here, shown if it fails */
};

/* The environment deltas (d initialised by the caller); p may be NULL. */
void ansible_playbook_env(struct env_delta *d, const struct ansible_play *p);
void ansible_inventory_env(struct env_delta *d);

/*
 * The rule for the Vault token: a playbook gets VAULT_TOKEN when its own
 * file names it (the word VAULT_TOKEN anywhere in it, a comment is
 * enough), as the shipped k8s.yml does; any other playbook runs without.
 */
bool ansible_playbook_wants_vault_token(const char *text, size_t len);

/* argv of the run, pushed onto argv (initialised by the caller). */
void ansible_playbook_argv(struct strvec *argv, const struct ansible_play *p);

/*
 * The repository files Ansible reads for a run that turn host key checking
 * off or point it elsewhere (core/sshargs.h), each as "FILE:LINE" pushed
 * onto out. files: regular files; dirs: group_vars or host_vars
 * directories, read two levels deep; both relative to the root b. A file
 * that is missing or cannot be read is skipped: this feeds a warning,
 * the options of the run win regardless.
 */
void ansible_find_weakening(const struct beneath *b, const char *const *files,
			    const char *const *dirs, struct strvec *out);

/*
 * Run ansible-playbook with its environment, stdout and stderr inherited;
 * with p->log_file both go to that file (in a private directory), which is
 * copied to our stderr when the run fails and removed either way.
 * *status is its exit status; -1 when it could not be started, or with
 * ERR_TIMEOUT when it passed p->timeout_seconds and was stopped.
 */
int ansible_playbook_run(const struct ansible_play *p, int *status,
			 struct err *e);

/* Whether ansible_inventory_check() would run ansible-inventory (or fail
 * for want of it). */
bool ansible_inventory_will_check(enum ansible_check mode);

/*
 * Run `ansible-inventory -i DIR/NAME --list --export` (and without --export
 * when a host has no address of its own) on an inventory staged in dir
 * (with its host_vars) and check that Ansible sees every host of w with
 * its address and every managed group with its members. Returns 1 when
 * checked, 0 when ansible-inventory is not installed and mode is auto, -1
 * with e set on a failure (ERR_CHILD when ansible-inventory refused it).
 */
int ansible_inventory_check(const char *dir, const char *name,
			    const struct inv_want *w, enum ansible_check mode,
			    struct err *e);

#endif
