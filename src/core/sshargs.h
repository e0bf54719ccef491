/*
 * sshargs.h - the ssh options pve-gitops hands to Ansible, and the
 * repository settings that would weaken them.
 *
 * Ansible's ssh connection plugin splits every ssh argument string it is
 * given with Python's shlex.split (POSIX rules) and ssh keeps the first
 * value of an option it sees, so the options are quoted the way
 * shlex.quote quotes, and the known_hosts path inside one is quoted the
 * way ssh reads an option value (double quotes, '%' doubled against ssh's
 * tokens). Pure.
 */
#ifndef PVE_GITOPS_SSHARGS_H
#define PVE_GITOPS_SSHARGS_H

#include <stddef.h>

#include "util/strbuf.h"

/* Append s quoted as Python's shlex.quote does. */
void sshargs_quote(struct strbuf *out, const char *s);

/*
 * 0 when path can be a known_hosts file in an ssh option value (no '"',
 * '\', "${" (ssh expands environment variables there), control character,
 * not empty); else -1 with the reason in why.
 */
int sshargs_check_known_hosts(const char *path, struct strbuf *why);

/* "UserKnownHostsFile=\"PATH\"" with '%' doubled, for one "-o" argument. */
void sshargs_known_hosts_option(struct strbuf *out, const char *path);

/* "ControlPath=\"DIR/%C\"" with '%' in dir doubled, for one "-o"
 * argument: a socket per host, user and port in dir (checked with
 * sshargs_check_known_hosts, like a path of known_hosts). */
void sshargs_control_path_option(struct strbuf *out, const char *dir);

/* How long a master connection outlives its last session: the stage
 * closes every master itself (ssh -O exit); this bounds one left over. */
#define SSHARGS_CONTROL_PERSIST "ControlPersist=30s"

/*
 * The ansible_ssh_args value that makes host key checking strict against
 * path (checked with sshargs_check_known_hosts): compression (as
 * Ansible's default ssh_args), StrictHostKeyChecking=yes and the
 * UserKnownHostsFile option, each quoted for shlex. Connections are
 * shared only over masters in control_dir, the run's own private
 * directory (ControlMaster=auto, ControlPersist, ControlPath in it): a
 * master made there checked the host key itself, where one another run
 * (or another tool, with checking off) left in ~/.ansible/cp would be
 * reused without a check. control_dir NULL: no sharing at all.
 */
void sshargs_ansible(struct strbuf *out, const char *path,
		     const char *control_dir);

/*
 * The first line (1-based) of text (an ansible.cfg, an inventory, a vars
 * file) that turns host key checking off or points it elsewhere: a
 * host_key_checking set to false, StrictHostKeyChecking set to no, off or
 * accept-new, or any UserKnownHostsFile. 0 when there is none. A textual
 * scan, case-insensitive: it finds the setting in INI, YAML or an ssh
 * argument string alike, for a warning (the options win regardless).
 */
size_t sshargs_weakening_line(const char *text, size_t len);

#endif
