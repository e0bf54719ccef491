/*
 * router.h - the routing of an /api2/json request: the path template it
 * matches (the official schema's), the path parameters it binds, and the
 * handler that answers it.
 */
#ifndef PVE_SIM_ROUTER_H
#define PVE_SIM_ROUTER_H

#include <stdbool.h>

#include "resp.h"
#include "sim.h"
#include "util/strbuf.h"

/*
 * The route for method + path: fills tmpl (the schema's path template) and
 * adds the path parameters (node, vmid, upid, storage) to rq. Returns 0;
 * -1 when no endpoint matches; -2 (with a 400 in rs) when the query or
 * body gives a path parameter another value.
 */
int api_route(struct sim_req *rq, struct strbuf *tmpl, struct sim_resp *rs);

/* Whether a task started by this request may be failed by a fault. */
bool api_is_async(const char *method, const char *tmpl);

/* Handle a routed, authenticated request; the caller holds s->mu. */
void api_handle(struct sim *s, struct sim_req *rq, const char *tmpl,
		struct sim_resp *rs, const char *fail_task);

#endif
