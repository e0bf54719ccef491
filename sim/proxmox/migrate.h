/*
 * migrate.h - what migrate.c offers besides its handlers: the HA stack's
 * side of a migration (a hamigrate only asks; the CRM's LRM migrates).
 */
#ifndef PVE_SIM_MIGRATE_H
#define PVE_SIM_MIGRATE_H

#include "sim.h"

/* A hamigrate task ham ended: start the LRM's qmigrate of its VM. */
void migrate_ha_crm(struct sim *s, const struct sim_task *ham);
/*
 * The VM's service state in the HA manager's status (/cluster/resources'
 * hastate): "migrate" while a hamigrate or the qmigrate it led to runs,
 * else "started" or "stopped" as asked; NULL when HA does not manage it.
 */
const char *migrate_ha_state(const struct sim *s, int vmid);

#endif
