/*
 * resp.h - one /api2/json request as the handlers see it (its parameters,
 * query and body merged), the answer they build, and the helpers for
 * reading parameters and setting Proxmox's error answers.
 */
#ifndef PVE_SIM_RESP_H
#define PVE_SIM_RESP_H

#include <jansson.h>
#include <stdbool.h>

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

/* The value of parameter name, or NULL. */
const char *req_param(const struct sim_req *rq, const char *name);
bool param_true(const struct sim_req *rq, const char *name);
/* The VM id in parameter name, or -1. */
int vmid_of(const struct sim_req *rq, const char *name);

/* Set an error response with Proxmox's text. */
void resp_fail(struct sim_resp *rs, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A 400 "Parameter verification failed." naming the parameter. */
void param_fail(struct sim_resp *rs, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
