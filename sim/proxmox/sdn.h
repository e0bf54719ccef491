/*
 * sdn.h - the simulated SDN (sdn.c): zones, vnets with subnets, and the
 * PVE IPAM's entries, declared by the topology's sdn: section.
 */
#ifndef PVE_SIM_SDN_H
#define PVE_SIM_SDN_H

#include <libfyaml.h>

#include "sim.h"
#include "util/err.h"
#include "util/exitcode.h"

/* The topology's sdn: under root (none: nothing); 0 or -1 with e set. */
int sim_sdn_load(struct sim *s, struct fy_node *root, const char *file,
		 struct err *e);

#endif
