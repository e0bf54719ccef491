/*
 * endpoint.h - what the endpoint files (cluster.c, nodes.c, tasks.c,
 * vmconfig.c, vmlife.c, pools.c) share: the node and VM a path names,
 * Proxmox's lock checks, starting a task, and a VM's figures. Nothing here
 * calls a handler.
 */
#ifndef PVE_SIM_ENDPOINT_H
#define PVE_SIM_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "resp.h"
#include "sim.h"

/* An endpoint: reads rq, changes s, fills rs; the caller holds s->mu. */
typedef void handler_fn(struct sim *s, struct sim_req *rq, struct sim_resp *rs);

/* The node / VM of the path, or NULL after setting Proxmox's error. */
struct sim_node *need_node(struct sim *s, const struct sim_req *rq,
			   struct sim_resp *rs);
struct sim_vm *need_vm(struct sim *s, const struct sim_req *rq,
		       struct sim_resp *rs);
/*
 * The config "lock" (skipped with skiplock=1, which only root@pam may use):
 * vm_lock_error puts "VM N is locked (x)" into why and returns -1 (or -1
 * with a 400 in rs for a refused skiplock); check_lock answers it as 500.
 */
int vm_lock_error(const struct sim_vm *vm, const struct sim_req *rq,
		  struct sim_resp *rs, struct strbuf *why);
int check_lock(const struct sim_vm *vm, const struct sim_req *rq,
	       struct sim_resp *rs);
/*
 * Take VM vmid's lock file as lock_file_full does: wait up to timeout_ms
 * for tasks holding it, with s->mu released meanwhile. Returns the VM
 * (looked up again: pointers taken before are stale) or NULL with the
 * reason ("can't lock file ... - got timeout") in why.
 */
struct sim_vm *flock_wait(struct sim *s, int vmid, bool exclusive,
			  int timeout_ms, struct strbuf *why);
/* Both checks for an operation on vm; NULL with why (or rs) set. */
struct sim_vm *lock_vm(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		       struct sim_resp *rs, struct strbuf *why);
bool is_template(const struct sim_vm *vm);
/* Start a task; its UPID becomes the response's data. */
struct sim_task *start_task(struct sim *s, struct sim_resp *rs,
			    const char *node, const char *type, int vmid,
			    const char *user, enum task_effect fx,
			    const char *fail);
uint64_t vm_maxmem(const struct sim_vm *vm);
int vm_cpus(const struct sim_vm *vm);
int64_t vm_uptime(const struct sim_vm *vm);
json_t *vm_summary(const struct sim_vm *vm);

#endif
