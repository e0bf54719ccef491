/*
 * execute_int.h - private to ops/execute.c and the action files
 * (ops/vmaction.c, ops/vmdisk.c, ops/vmpower.c): one worker of the pool,
 * what the workers share, and the actions a worker carries out.
 */
#ifndef PVE_GITOPS_OPS_EXECUTE_INT_H
#define PVE_GITOPS_OPS_EXECUTE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "io/cluster.h"
#include "ops/execute.h"

struct worker;

/*
 * The cluster's VM list the workers share (worker_cluster): one request
 * at a time, whose answer serves every worker that asked before it was
 * sent; a worker asking while one is on its way waits for the next.
 */
struct listing {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct listing_ref *cur; /* the newest answer, or NULL */
	unsigned long sent;	 /* requests sent (generations) */
	unsigned long cur_gen;	 /* the generation of cur */
	bool fetching;
};

struct shared {
	const struct plan *plan;
	const struct pve_conn *conn;
	const struct apply_opts *o;
	struct apply_result *res;
	const char **passwords; /* per item: its cipassword_env's value */
	pthread_mutex_t mu, vmid_mu;
	pthread_cond_t cv;
	bool *taken;
	size_t left;		  /* actionable items not taken yet */
	struct strvec busy_nodes; /* one entry per item running on a node */
	int *reserved;
	size_t nr_reserved, alloc_reserved;
	struct worker *workers;
	unsigned nr_workers;
	bool finished;
	struct listing listing;
	struct pve_tasks tasks; /* one task poller for every worker */
};

struct worker {
	struct shared *sh;
	char state[96]; /* what it is doing, for the ticker */
	struct pve_client pc;
	bool ready;
	const struct plan_item *it;
	const char *password; /* the item's cipassword, or NULL */
	struct timespec start;
};

/* A progress line for the worker's item ("NAME: TEXT [Ns elapsed]"). */
void worker_say(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The task timeout in seconds. */
int worker_timeout(const struct worker *w);
double worker_elapsed(const struct timespec *t0);

/* A free vmid, reserved for this run (see execute.c). */
int worker_reserve_vmid(struct worker *w, int *out, struct err *e);
/* Keep our own workers off vmid (a VM being destroyed). */
void worker_hold_vmid(struct worker *w, int vmid);

/*
 * The cluster's VMs (GET /cluster/resources), as listed by a request sent
 * after this call: what a worker reads after a step of its own holds that
 * step. The answer is shared; give it back with worker_cluster_put (NULL
 * is fine).
 */
int worker_cluster(struct worker *w, const struct cluster **out, struct err *e);
void worker_cluster_put(struct worker *w, const struct cluster *c);

/* The actions (vmaction.c). */
/* 0 created, 1 another apply created it meanwhile, -1 failed. */
int vmaction_create(struct worker *w, struct err *e);
int vmaction_update(struct worker *w, struct err *e);
int vmaction_destroy(struct worker *w, struct err *e);

/* A string value of a VM's config object, or NULL. */
const char *vmaction_conf_str(json_t *conf, const char *key);
/* Wait until the VM's config lock (clone, create, move) is gone. */
int vmaction_wait_unlocked(struct worker *w, const char *node, int vmid,
			   struct err *e);

/*
 * Disks (vmdisk.c). vmdisk_clone_target: for a full clone, the target
 * storage (and format) of the definition's disk in the template's boot
 * disk slot, appended to out as clone parameters (none when the
 * definition names no storage for it); reads the template's config.
 */
int vmdisk_clone_target(struct worker *w, struct pve_params *out,
			struct err *e);
/*
 * The cloud-init drive in a config write: with a cloud-init disk in the
 * definition, every other cloud-init drive of conf deleted (one "delete"
 * parameter); without, one added on ide2 to a clone that has none.
 */
int vmdisk_cloudinit(struct worker *w, json_t *conf, struct pve_params *p,
		     struct err *e);
/*
 * Move every disk of the definition that conf has on another storage
 * (move_disk, the old volume deleted), then grow the disks smaller than
 * the definition's size. Reads the config again after a move.
 */
int vmdisk_place(struct worker *w, const char *node, int vmid, json_t *conf,
		 struct err *e);

/*
 * Migration (vmmigrate.c): move the item's VM from it->migrate_from to
 * it->node (online when it runs, with its local disks, to the storage
 * its definition names) and wait. A failure says where the VM is left.
 */
int vmmigrate_move(struct worker *w, struct err *e);

/*
 * Power (vmpower.c). vmpower_set: start or stop the VM as the definition
 * says, given whether it runs now; a start waits until it runs.
 */
int vmpower_set(struct worker *w, const char *node, int vmid, bool running_now,
		struct err *e);
/*
 * A running VM's changes that wait for its next boot (GET .../pending, and
 * GET .../cloudinit when conf, its configuration, has a cloud-init drive):
 * with automatic_reboot, shut it down (reboot.timeout_seconds, forced
 * with reboot.force) and start it again. *pending says whether changes
 * still wait afterwards. A guest that does not shut down in time fails
 * with ERR_TIMEOUT and keeps running.
 */
int vmpower_apply_pending(struct worker *w, const char *node, int vmid,
			  json_t *conf, bool *pending, struct err *e);

#endif
