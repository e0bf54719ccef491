/*
 * network.h - what network.c offers besides its handler: a node's
 * address, for /cluster/status (cluster.c).
 */
#ifndef PVE_SIM_NETWORK_H
#define PVE_SIM_NETWORK_H

#include <stddef.h>

#include "sim.h"

/* The address of node's vmbr0 (without the prefix) into out. */
void sim_node_ip(struct sim *s, const char *node, char *out, size_t size);

#endif
