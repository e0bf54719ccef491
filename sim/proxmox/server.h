/*
 * server.h - proxmox-sim's HTTP(S) front on util/httpd: Proxmox
 * authentication (API tokens, tickets with CSRF tokens), parameter checks,
 * fault injection and the request log (sim/common).
 */
#ifndef PVE_SIM_SERVER_H
#define PVE_SIM_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/front.h"
#include "common/opts.h"
#include "common/tls.h"
#include "sim.h"

enum fault_kind {
	FAULT_HTTP500 = 1 << 0,
	FAULT_DROP = 1 << 1,
	FAULT_DELAY = 1 << 2,
	FAULT_LOCK = 1 << 3,
	FAULT_TASK = 1 << 4,
	/* only when named in --faults: */
	FAULT_HANG = 1 << 5,	/* read the request, never answer */
	FAULT_TRICKLE = 1 << 6, /* the answer one byte per --fault-trickle-ms */
	FAULT_ESCAPE = 1 << 7,	/* a task fails with ESC in its exitstatus */
	FAULT_NODATA = 1 << 8,	/* GET status/current without data */
	FAULT_TASKSTATUS = 1 << 9, /* a task status's data without status */
};

/* The names of enum fault_kind's bits, in bit order (for --faults). */
extern const char *const pve_fault_names[];

struct server_opts {
	const struct sim_common_opts *co; /* --listen, faults, log, ... */
	bool http;			  /* plain HTTP instead of HTTPS */
	bool log_caller; /* --log-caller: each log line's "caller" */
	int fault_delay_ms;
	int fault_trickle_ms; /* between two bytes of a trickled answer */
};

struct server {
	struct sim *sim;
	struct server_opts opts;
	struct sim_tls *tls;
	struct sim_front front; /* front.port: the port bound */
};

/* Open the log and start serving; sv->front.port is the port bound. */
int server_start(struct server *sv, struct err *e);
/* Stop serving (waits for the connection threads) and close the log. */
void server_stop(struct server *sv);

#endif
