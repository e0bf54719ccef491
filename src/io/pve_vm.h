/*
 * pve_vm.h - typed Proxmox operations on one QEMU VM, through a
 * pve_client: its configuration and pending changes, clone and create,
 * resize, disk moves, power, delete, status, and free vmids. Every path below
 * /nodes/{node}/qemu/{vmid} is made by pve_vm_path and nowhere else.
 *
 * Calls that start a task wait for it (up to timeout_s seconds; the
 * task's failure is the error). Errors carry the kind pve_call sets.
 */
#ifndef PVE_GITOPS_PVE_VM_H
#define PVE_GITOPS_PVE_VM_H

#include <jansson.h>
#include <stdbool.h>

#include "io/pve.h"

/* "/nodes/NODE/qemu/VMID" (NODE percent-encoded: it comes from API
 * answers) and, when sub is not NULL, "/SUB". */
void pve_vm_path(struct strbuf *out, const char *node, int vmid,
		 const char *sub);

/* GET .../config into *conf (a new reference). */
int pve_vm_config_get(struct pve_client *pc, const char *node, int vmid,
		      json_t **conf, struct err *e);
/* PUT .../config with p. */
int pve_vm_config_set(struct pve_client *pc, const char *node, int vmid,
		      const struct pve_params *p, struct err *e);

/*
 * POST a create that is not idempotent, once: a clone of node/vmid
 * (vmid > 0) or a new VM on node (vmid 0), with p. On success *task is the
 * task id to wait for (pve_wait_task; free() it), or NULL. *status is the
 * HTTP status (0: no answer) for the caller's lost-answer checks.
 */
int pve_vm_create(struct pve_client *pc, const char *node, int vmid,
		  const struct pve_params *p, char **task, long *status,
		  struct err *e);

/* PUT .../resize disk=slot size=size, and wait. */
int pve_vm_resize(struct pve_client *pc, const char *node, int vmid,
		  const char *slot, const char *size, int timeout_s,
		  struct err *e);

/*
 * POST .../move_disk disk=slot storage=storage (format when not NULL,
 * delete=1 when del: the old volume goes instead of staying as unusedN),
 * once (a lost answer is ERR_LOST: the caller looks before it sends it
 * again), and wait for the task.
 */
int pve_vm_move_disk(struct pve_client *pc, const char *node, int vmid,
		     const char *slot, const char *storage, const char *format,
		     bool del, int timeout_s, struct err *e);

/*
 * POST .../migrate target=target (online=1 when online, with-local-disks=1
 * when with_local, targetstorage when not NULL: one storage or "src:dst"
 * pairs), once (a lost answer is ERR_LOST), and wait for the task, all
 * within timeout_s. For a VM the HA stack manages the task is a hamigrate
 * that only asks ha-manager: then *by_ha is set, and the qmigrate the HA
 * stack starts on node (found in its task list) is waited for too (not
 * started in time: ERR_TIMEOUT); HA migrates with-local-disks and without
 * a target storage whatever was asked.
 */
int pve_vm_migrate(struct pve_client *pc, const char *node, int vmid,
		   const char *target, bool online, bool with_local,
		   const char *targetstorage, int timeout_s, bool *by_ha,
		   struct err *e);

/*
 * Is an item of a node's task list a running task: no end time, and no
 * status or "RUNNING" (what Proxmox's task list says of an active task)?
 */
bool pve_vm_task_running(const json_t *task);
/*
 * GET /nodes/NODE/tasks?vmid=VMID&typefilter=TYPE&source=active: *running
 * is the number of the VM's tasks of that type ("qmmove") still running
 * (items without an end time), for a caller whose answer with the UPID
 * was lost.
 */
int pve_vm_tasks_running(struct pve_client *pc, const char *node, int vmid,
			 const char *type, int *running, struct err *e);

/*
 * GET .../pending into *out (a new reference): an array of objects with
 * "key" and, for a change that waits for the next boot, "pending" or
 * "delete"; an answer that is no array is an error naming the endpoint.
 */
/* GET .../cloudinit into *out (a new reference, a list): the cloud-init
 * settings against what the VM's drive holds (qemu-server 7.2 and later). */
int pve_vm_cloudinit(struct pve_client *pc, const char *node, int vmid,
		     json_t **out, struct err *e);
int pve_vm_pending(struct pve_client *pc, const char *node, int vmid,
		   json_t **out, struct err *e);

/*
 * GET .../status/current into *st (a new reference): an object with a
 * string "status"; an answer without one is an error naming the endpoint.
 */
int pve_vm_status(struct pve_client *pc, const char *node, int vmid,
		  json_t **st, struct err *e);

/* POST .../status/ACTION ("start", "stop", "shutdown") with p (may be
 * NULL), and wait. */
int pve_vm_power(struct pve_client *pc, const char *node, int vmid,
		 const char *action, const struct pve_params *p, int timeout_s,
		 struct err *e);

/* DELETE the VM with its disks (purge), once (no blind retry: *status 0
 * means the answer was lost), and wait. */
int pve_vm_delete(struct pve_client *pc, const char *node, int vmid,
		  enum pve_retry retry, int timeout_s, long *status,
		  struct err *e);

/*
 * GET /cluster/nextid: with want 0 the id Proxmox suggests into *out;
 * with want > 0 whether that id is free (-1 with *status 400 when taken).
 */
int pve_next_vmid(struct pve_client *pc, int want, int *out, long *status,
		  struct err *e);

#endif
