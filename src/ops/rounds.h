/*
 * rounds.h - the retry rounds of apply: which failed VMs get a fresh plan
 * and another go. A task that ran out of time may still be running on
 * Proxmox, so it is not tried again in the same run, nor is what Proxmox
 * refused as wrong (ERR_PERMANENT: a parameter that failed verification,
 * a node or storage that is not there); everything else that failed is,
 * up to RECONCILE_ROUNDS rounds in all.
 */
#ifndef PVE_GITOPS_OPS_ROUNDS_H
#define PVE_GITOPS_OPS_ROUNDS_H

#include <stddef.h>

#include "core/plan.h"
#include "util/err.h"
#include "util/strvec.h"

#define RECONCILE_ROUNDS 3 /* the first go and two more */

/*
 * Push onto again the names of the VMs that failed to try once more:
 * names->v[i] failed with an error of kinds[i]; all but a timeout, a
 * permanent refusal (ERR_PERMANENT, ERR_INVALID) and a failure of no VM
 * (an empty name: the connection) are tried again.
 * Returns how many were pushed.
 */
size_t rounds_retry_names(struct strvec *again, const struct strvec *names,
			  const enum err_kind *kinds);

/* Whether every failure in names/kinds is a refusal for good
 * (ERR_PERMANENT, ERR_INVALID): applying again as it is cannot help. */
bool rounds_all_refused(const struct strvec *names, const enum err_kind *kinds);

/* Keep the items of p named in names; the rest become no-ops (the
 * counts of p are left as they were: they describe the approved plan). */
void rounds_keep_only(struct plan *p, const struct strvec *names);

#endif
