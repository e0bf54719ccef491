/*
 * inventory.h - the managed parts of the Ansible inventory: host lines
 * under "# Individual hosts", members of the managed groups, new_hosts.txt
 * and host_vars files.
 *
 * inventory_rewrite() edits a parsed INI file (core/ini.h) in place so that
 * it lists the wanted hosts: existing lines keep their place and bytes, new
 * host lines go after the last host of the block, new members after the last
 * member of their group, new groups at the end. A host line under the marker
 * that is not wanted is removed there and from every group, unless its name
 * is one the repository keeps out of pve-gitops' hands (excluded
 * definitions). Managed groups left without members disappear unless
 * another section refers to them. Pure: no I/O.
 */
#ifndef PVE_GITOPS_INVENTORY_H
#define PVE_GITOPS_INVENTORY_H

#include <regex.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/ini.h"
#include "core/vmdef.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"

#define INVENTORY_MARKER "# Individual hosts"
/* The first line of every host_vars file pve-gitops writes. */
#define INVENTORY_HOST_VARS_MARK "# Managed by pve-gitops"

/* The group rules of the config, compiled. */
struct inv_rules {
	regex_t *re;
	const char **group; /* borrowed from the config */
	size_t nr;
};

int inv_rules_compile(struct inv_rules *out, const struct config *cfg,
		      struct strbuf *why);
/* The group of the first rule that matches name, or NULL. */
const char *inv_rules_match(const struct inv_rules *r, const char *name);
void inv_rules_release(struct inv_rules *r);

struct inv_host {
	char *name;
	char *ip; /* NULL: not known (DHCP without an agent answer) */
	char *user;
	unsigned port;	      /* written as ansible_port when not 22 */
	struct strvec groups; /* managed groups it belongs to */
};

/* What the inventory should say. */
struct inv_want {
	struct inv_host *hosts;
	size_t nr, alloc;
	struct strmap by_name;	   /* name -> index in hosts */
	struct strvec groups;	   /* the managed groups, in order */
	struct strmap group_index; /* group -> index in groups */
	struct strmap keep;	   /* names never removed */
};

void inv_want_init(struct inv_want *w, const struct inv_rules *rules);
/*
 * Add a host; its groups are the first rule's group that matches its name
 * and then extra (a definition's ansible_groups), which become managed
 * groups too. ip may be NULL. Strings are copied.
 */
void inv_want_add(struct inv_want *w, const struct inv_rules *rules,
		  const char *name, const char *ip, const char *user,
		  unsigned port, const struct strvec *extra);
/* Never remove name (an excluded definition's VM). */
void inv_want_keep(struct inv_want *w, const char *name);
void inv_want_release(struct inv_want *w);

/* What a rewrite did, host names in the order of the want list. */
struct inv_change {
	struct strvec added, updated, removed;
	struct strvec unknown_ip;   /* wanted, no address: left out */
	struct strvec unknown_kept; /* the same, already listed: line kept */
	struct strvec groups_added, groups_removed;
	struct strvec new_hosts; /* "IP,NAME" lines for new_hosts.txt */
};

void inv_change_init(struct inv_change *c);
void inv_change_release(struct inv_change *c);

/*
 * Edit ini so it says what w wants. Returns 0, or -1 with why set and
 * *err_line the marker's line (1-based) when the file cannot hold managed
 * hosts (the marker sits in a :vars or :children section).
 */
int inventory_rewrite(struct ini *ini, const struct inv_want *w,
		      struct inv_change *out, size_t *err_line,
		      struct strbuf *why);

/* The host line pve-gitops writes for h (without line ending). */
void inventory_host_line(struct strbuf *out, const struct inv_host *h);

/*
 * Whether Ansible could read an address (ansible_host, or its old name
 * ansible_ssh_host) for the host from this host_vars text, conservatively:
 * true when either name is in it anywhere, when it has a backslash (a
 * double-quoted YAML key may spell the name with escapes) or when it is
 * vault-encrypted (nothing in it can be seen). false only when no key of
 * it can be one of them. What the inventory check must read of a host_vars
 * file it does not change: the hosts and groups are all in the INI file.
 */
bool inventory_vars_may_set_address(const char *text, size_t len);

#endif
