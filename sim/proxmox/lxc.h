/*
 * lxc.h - what lxc.c offers besides its handler: a container as the
 * cluster's resource list shows it (cluster.c).
 */
#ifndef PVE_SIM_LXC_H
#define PVE_SIM_LXC_H

#include "endpoint.h"

/* /cluster/resources' entry of ct (PVE::API2Tools::extract_vm_stats). */
json_t *ct_resource(struct sim *s, const struct sim_ct *ct);

#endif
