/*
 * api.h - the /api2/json endpoints of proxmox-sim: routing by path
 * template, parameter checks against the official schema, and handlers
 * that act on the model in sim.h.
 */
#ifndef PVE_SIM_API_H
#define PVE_SIM_API_H

#include <jansson.h>
#include <stdbool.h>

#include "schema.h"
#include "sim.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct sim_req {
	const char *method;
	const char *path; /* below /api2/json, e.g. "/nodes/node01/qemu" */
	struct strvec names, values; /* query and body merged */
	const char *userid;	     /* who is calling */
	bool json_body;
};

struct sim_resp {
	unsigned status;
	json_t *data;	       /* the "data" member; NULL means null */
	json_t *errors;	       /* parameter errors (status 400) */
	struct strbuf message; /* Proxmox's status line text on failure */
	bool async; /* the request started a task (fault: fail the task) */
};

const char *req_param(const struct sim_req *rq, const char *name);

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

/* Set an error response with Proxmox's text. */
void resp_fail(struct sim_resp *rs, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
