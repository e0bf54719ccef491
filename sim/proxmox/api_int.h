/*
 * api_int.h - helpers shared by the endpoint files (api.c, vmconfig.c,
 * vmlife.c); not used outside the API layer.
 */
#ifndef PVE_SIM_API_INT_H
#define PVE_SIM_API_INT_H

#include "api.h"

typedef void handler_fn(struct sim *s, struct sim_req *rq, struct sim_resp *rs);

bool param_true(const struct sim_req *rq, const char *name);
/* A 400 "Parameter verification failed." naming the parameter. */
void param_fail(struct sim_resp *rs, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The VM id in parameter name, or -1. */
int vmid_of(const struct sim_req *rq, const char *name);
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

/* vmconfig.c */
handler_fn h_create, h_config_get, h_config_post, h_config_put, h_pending,
	h_cloudinit_get, h_cloudinit_put, h_cloudinit_dump;
/* Apply the configuration parameters of rq to vm (create: a new VM). */
int vm_apply_config(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		    struct sim_resp *rs, bool create);
/* The IPv4 address and prefix of ipconfig0, 0 when none. */
int vm_ipv4(const struct sim_vm *vm, char addr[16], int *prefix);

/* pools.c */
handler_fn h_pools_list, h_pool_create, h_pool_get, h_pool_update,
	h_pool_delete;
struct sim_pool *need_pool(struct sim *s, const char *id, struct sim_resp *rs);
void pool_add_vm(struct sim *s, struct sim_pool *p, int vmid);

/* vmlife.c */
handler_fn h_clone, h_resize, h_template, h_destroy, h_status_current, h_start,
	h_stop, h_shutdown, h_reboot, h_agent_ifaces, h_agent_ping,
	h_agent_file;

#endif
