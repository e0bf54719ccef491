/*
 * vmconfig.h - what vmconfig.c offers the other endpoint files besides
 * its handlers: applying configuration parameters and reading a VM's
 * cloud-init address.
 */
#ifndef PVE_SIM_VMCONFIG_H
#define PVE_SIM_VMCONFIG_H

#include <stdbool.h>

#include "endpoint.h"

/* Apply the configuration parameters of rq to vm (create: a new VM). */
int vm_apply_config(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		    struct sim_resp *rs, bool create);
/* A configuration (or snapshot section) as the API answers it: integers
 * and numbers typed by the schema. The caller owns the object. */
json_t *vm_config_json(const struct kvlist *conf);
/* The IPv4 address and prefix of ipconfig0, 0 when none. */
int vm_ipv4(const struct sim_vm *vm, char addr[16], int *prefix);

#endif
