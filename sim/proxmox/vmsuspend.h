/*
 * vmsuspend.h - what vmsuspend.c offers vmlife.c besides its handlers:
 * the QMP status of a VM, and the start of a hibernated one.
 */
#ifndef PVE_SIM_VMSUSPEND_H
#define PVE_SIM_VMSUSPEND_H

#include <stdbool.h>

#include "endpoint.h"

/* "running", "paused" or "stopped", as query-status answers. */
const char *vm_qmpstatus(const struct sim_vm *vm);
/*
 * POST status/start of a VM hibernated with todisk=1 (lock "suspended"):
 * a qmstart task that resumes it from its vmstate, as vm_start does.
 * Returns false, answering nothing, for any other VM.
 */
bool vm_start_hibernated(struct sim *s, struct sim_req *rq,
			 struct sim_resp *rs);

#endif
