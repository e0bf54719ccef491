/*
 * ha.h - what ha.c offers the other endpoint files besides its handlers:
 * whether the HA stack manages a VM (migrate and suspend ask).
 */
#ifndef PVE_SIM_HA_H
#define PVE_SIM_HA_H

#include <stdbool.h>

#include "sim.h"

/* pve-ha-manager's vm_is_ha_managed: a resource vm:VMID not "ignored". */
bool ha_vm_managed(const struct sim *s, int vmid);

#endif
