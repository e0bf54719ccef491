/*
 * plan.h - desired VMs against what Proxmox has, as a list of actions:
 * create, update (with the attribute changes and whether they need a
 * reboot), destroy (only with prune), and blocked (with the reason and
 * what to do about it). Pure: the caller fetches the cluster's VMs (and,
 * for --refresh or changed VMs, their configurations) and hands them in.
 *
 * Rules (SPEC section 6): a VM is ours when its tags hold "pve-gitops";
 * its "pg-XXXXXXXX" tag says which definition it was built from, so an
 * unchanged VM needs no configuration read. A VM of the same name that is
 * not ours is never touched: plan blocks and suggests --adopt. Deleting
 * needs prune, and never touches a VM with protection set; without prune
 * the managed VMs no definition names are listed as orphans. The one
 * exception is a leftover of a race (plan_is_leftover): an
 * unfinished clone with the creating marker next to the finished VM of
 * its name, destroyed without prune (but never with protection set).
 */
#ifndef PVE_GITOPS_PLAN_H
#define PVE_GITOPS_PLAN_H

#include <stdbool.h>

#include "core/desired.h"
#include "core/vmdef.h"
#include "util/strvec.h"

/* The description of a VM an apply is still creating. */
#define PLAN_CREATING_MARKER "pve-gitops: being created"

/* A change Proxmox holds for the next boot of a running VM (GET .../pending).
 */
struct actual_pending {
	char *key, *from,
		*to; /* from: what runs (NULL: unset); to NULL: deleted
		      */
};

/* A VM as /cluster/resources shows it, plus its config when read. */
struct actual_vm {
	int vmid;
	char *name, *node, *status, *tags, *lock;
	bool template_;
	bool has_config;	  /* config below was read */
	struct strvec keys, vals; /* its configuration (GET .../config), the
				   * pending values included */
	struct actual_pending *pending; /* read with the config when running */
	size_t nr_pending, alloc_pending;
};

/* Record a pending change (the strings are copied; to NULL: a delete). */
void actual_add_pending(struct actual_vm *a, const char *key, const char *from,
			const char *to);

void actual_vm_init(struct actual_vm *a);
void actual_vm_release(struct actual_vm *a);
const char *actual_get(const struct actual_vm *a, const char *key);
bool actual_is_managed(const struct actual_vm *a);

enum plan_op {
	PLAN_NOOP,
	PLAN_CREATE,
	PLAN_UPDATE,
	PLAN_DESTROY,
	PLAN_BLOCKED,
};

/* How a VM moves to the node its definition names (target_node). */
enum plan_migration {
	PLAN_MIGRATION_NONE,
	PLAN_MIGRATION_LIVE,	/* running: online=1, it runs throughout */
	PLAN_MIGRATION_OFFLINE, /* stopped: moved as it is */
};

struct plan_change {
	char *key, *from, *to; /* from NULL: added; to NULL: removed */
	bool reboot;	       /* takes effect on the next boot */
	bool pending; /* written already, waiting for the next boot (from is
		       * what runs, to what was written) */
	enum plan_migration migration; /* the "node" change of a migration */
};

struct plan_item {
	enum plan_op op;
	char *name;
	int vmid; /* 0: chosen at apply */
	char *node;
	const struct vmdef *def;      /* NULL for a destroy */
	const struct desired *want;   /* NULL for a destroy */
	const struct actual_vm *have; /* NULL for a create */
	struct plan_change *changes;
	size_t nr_changes, alloc_changes;
	char *reason;			/* blocked: why and what to do */
	const struct actual_vm *source; /* create: the template to clone */
	bool needs_reboot; /* a running VM's changes wait for a boot */
	bool reboot;	   /* apply reboots it (automatic_reboot) */
	bool needs_config; /* changed digest, config not read yet */
	bool busy;	/* blocked only while a task holds a VM (a lock, a clone
			 * being made): plan again when it is done */
	bool leftover;	/* destroy: a clone left unfinished by an apply that
			 * lost a race and was killed */
	bool adoptable; /* blocked: a VM of the name not ours; --adopt */
	/* update: the VM moves from migrate_from (have->node) to node first */
	enum plan_migration migration;
	const char *migrate_from;
	/* the cluster of clusters: it is planned on (borrowed from the
	 * config); NULL: the proxmox: block alone */
	const char *cluster;
};

/* A managed VM no definition names, left alone without prune (with prune
 * it is a destroy item instead). */
struct plan_orphan {
	char *name, *node; /* from the API: outside text */
	int vmid;
	const char *cluster; /* as plan_item's */
};

struct plan {
	struct plan_item *items;
	size_t nr, alloc;
	struct plan_orphan *orphans; /* only without prune */
	size_t nr_orphans, alloc_orphans;
	unsigned add, change, destroy, blocked;
	unsigned pending;   /* VMs whose changes wait for a boot apply leaves */
	unsigned adoptable; /* blocked: not ours, but --adopt takes them over */
	/* several clusters (ops/reconcile.c): the items grouped by cluster,
	 * a heading each; partial: the clusters that could not be reached
	 * (borrowed), NULL when all were */
	bool by_cluster;
	const char *partial;
};

struct cluster_facts; /* core/planchk.h */

struct plan_input {
	const struct vmdef *const *defs;
	const struct desired *wants; /* wants[i] built from defs[i] */
	size_t nr_defs;
	const struct actual_vm *vms;
	size_t nr_vms;
	bool prune, adopt, refresh;
	bool allow_args; /* the operator allows QEMU args (see vmdef.h) */
	/* defs the repository has that are not in defs (excluded, focused
	 * out): their VMs are not "gone" */
	const struct strvec *keep_names;
	/* what the cluster tells of nodes, storages, bridges and addresses,
	 * checked for creates (and every definition with refresh); NULL:
	 * nothing is checked */
	const struct cluster_facts *facts;
};

/*
 * Build the plan. Items with needs_config set want the VM's configuration
 * (the caller reads it into the actual_vm and builds again); with
 * every needed config present, no item has needs_config.
 */
void plan_build(struct plan *out, const struct plan_input *in);
void plan_release(struct plan *p);

/* The size= of a disk value ("local-lvm:vm-1-disk-0,size=32G") in bytes;
 * 0 when it has none. */
uint64_t plan_disk_size(const char *val);

/* Compare one desired key with the VM's value as Proxmox normalised it. */
bool plan_value_equal(const char *key, const char *want, const char *have);

/*
 * Whether vms[i] is the leftover of a race whose loser was killed before it
 * removed its clone: not a template, not locked, no digest tag, its config
 * read with the creating marker as its description, and named like another
 * VM that is finished and ours (the pve-gitops tag and a digest tag). When
 * only its config is missing to tell, *unread is set (false returned).
 */
bool plan_is_leftover(const struct actual_vm *vms, size_t n, size_t i,
		      bool *unread);

const char *plan_op_name(enum plan_op op);

/*
 * What `plan --detailed-exitcode` makes of p, after Terraform: nothing to
 * add, change or destroy (orphans without prune and changes waiting for a
 * boot included) is PLAN_VERDICT_NONE; anything to add, change or destroy
 * is PLAN_VERDICT_CHANGES; blocked items and nothing else make
 * PLAN_VERDICT_BLOCKED, a plan apply cannot carry out: an error.
 */
enum plan_verdict {
	PLAN_VERDICT_NONE,
	PLAN_VERDICT_CHANGES,
	PLAN_VERDICT_BLOCKED,
};

enum plan_verdict plan_verdict(const struct plan *p);

#endif
