/*
 * pools.h - what pools.c offers the other endpoint files besides its
 * handlers: finding a pool and adding a VM to it.
 */
#ifndef PVE_SIM_POOLS_H
#define PVE_SIM_POOLS_H

#include "endpoint.h"

/* The pool id, or NULL after setting Proxmox's error in rs. */
struct sim_pool *need_pool(struct sim *s, const char *id, struct sim_resp *rs);
/* Make vmid a member of p (once). */
void pool_add_vm(struct sim *s, struct sim_pool *p, int vmid);

#endif
