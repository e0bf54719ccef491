/*
 * ha.h - what ha.c offers the other endpoint files besides its handlers:
 * whether the HA stack manages a VM (migrate, suspend, destroy and the
 * status ask of a VM or a container).
 */
#ifndef PVE_SIM_HA_H
#define PVE_SIM_HA_H

#include <jansson.h>
#include <stdbool.h>

#include "sim.h"

/* pve-ha-manager's vm_is_ha_managed: a resource vm:VMID not "ignored". */
bool ha_vm_managed(const struct sim *s, int vmid);
/* service_is_configured: a resource vm:VMID, whatever its state. */
bool ha_vm_configured(const struct sim *s, int vmid);
/*
 * status/current's "ha" (HA::Config get_service_status): {"managed": 0},
 * or managed 1 with the state asked (the CRM is not simulated).
 */
json_t *ha_vm_status(const struct sim *s, int vmid);
/* The same for the container vmid ("ct:VMID"). */
json_t *ha_ct_status(const struct sim *s, int vmid);

#endif
