/*
 * router.h - the routing of a vault-sim request to the handler that owns
 * its path: sys/, auth/token/, or the KV mount with the longest matching
 * path.
 */
#ifndef VAULT_SIM_ROUTER_H
#define VAULT_SIM_ROUTER_H

#include "resp.h"
#include "vault.h"

/* Route rq to its handler; the caller holds v->mu. */
void router_handle(struct vault *v, const struct vreq *rq, struct vresp *rs);

#endif
