/*
 * auth.h - Proxmox VE authentication as the simulator checks it: API
 * tokens in the Authorization header, tickets from POST /access/ticket in
 * the PVEAuthCookie cookie (or header) with the CSRFPreventionToken header
 * required on writes.
 */
#ifndef PVE_SIM_AUTH_H
#define PVE_SIM_AUTH_H

#include <stdbool.h>

#include "resp.h"
#include "sim.h"

struct httpd_request;

/*
 * Authenticate a request; takes s->mu itself. Returns 0 with *userid set
 * (free it), or -1 with a 401 in rs.
 */
int auth_check(struct sim *s, const struct httpd_request *hr, bool mutating,
	       char **userid, struct sim_resp *rs);
/* POST /access/ticket (and GET, which answers null); caller holds s->mu. */
void auth_ticket(struct sim *s, struct sim_req *rq, struct sim_resp *rs);

#endif
