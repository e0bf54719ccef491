/*
 * execute.h - carry out a plan against Proxmox: create (vmid, clone,
 * config, disks, cloud-init drive, start), update in place, destroy; in
 * parallel up to a limit overall and per node, each worker with its own
 * connection.
 *
 * A clone's description says it is being created until the last step sets
 * the digest tag, so an interrupted apply is finished by the next one
 * (plan reads such a VM's configuration and treats it as ours).
 */
#ifndef PVE_GITOPS_OPS_EXECUTE_H
#define PVE_GITOPS_OPS_EXECUTE_H

#include <stdio.h>

#include "core/env.h"
#include "core/plan.h"
#include "io/pve.h"

struct apply_opts {
	unsigned parallel;     /* workers; 0: 4 */
	unsigned per_node;     /* per node; 0: parallel */
	int task_timeout_s;    /* per task; 0: 600 */
	FILE *progress;	       /* one line per state change */
	const struct env *env; /* where cipassword_env is looked up */
	/* a reboot for pending changes: shutdown with this timeout (0: 300),
	 * then stop the VM when force is set, else report it */
	int shutdown_timeout_s;
	bool force_stop;
};

struct apply_result {
	unsigned added, changed, destroyed, failed;
	struct strvec errors; /* one line per failed VM */
	/* for errors->v[i]: the item's name ("" for a failure of no VM, as
	 * the connection) and the error's kind */
	struct strvec names;
	enum err_kind *kinds;
	size_t alloc_kinds;
};

/*
 * Apply every create, update and destroy of plan (blocked and no-op items
 * are skipped). conn is copied per worker. Returns 0 when all succeeded,
 * -1 when any failed (the rest still ran; res says what happened).
 */
int apply_plan(const struct plan *plan, const struct pve_conn *conn,
	       const struct apply_opts *o, struct apply_result *res);
void apply_result_release(struct apply_result *r);

#endif
