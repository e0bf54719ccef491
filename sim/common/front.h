/*
 * front.h - what both simulators put in front of their API: the HTTP(S)
 * server (util/httpd) on the --listen address with the certificate, the
 * request log (--request-log) and the fault sequence (--fault-rate,
 * --faults, --seed), set up from the common options; and the signal
 * handling of a simulator's main thread.
 */
#ifndef SIM_COMMON_FRONT_H
#define SIM_COMMON_FRONT_H

#include <signal.h>
#include <stddef.h>

#include "fault.h"
#include "opts.h"
#include "reqlog.h"
#include "tls.h"
#include "util/err.h"
#include "util/httpd.h"

struct sim_front {
	struct httpd *httpd;
	unsigned port; /* the one bound */
	struct reqlog log;
	struct sim_faults faults;
};

/*
 * Open the log, set up the faults and start serving o->host:o->port with
 * handler(ctx, ...) for every request; tls NULL: plain HTTP. Bodies over
 * max_body reach the handler marked too large (it answers the 413).
 */
int sim_front_start(struct sim_front *f, const struct sim_common_opts *o,
		    const struct sim_tls *tls, size_t max_body,
		    httpd_handler_fn *handler, void *ctx, struct err *e);
/* Stop serving (waits for the connection threads), close the log. */
void sim_front_stop(struct sim_front *f);

/*
 * Block SIGINT, SIGTERM and SIGPIPE (into set) before any thread starts,
 * so that the server threads never take them.
 */
void sim_signals_block(sigset_t *set);
/* Wait until SIGINT or SIGTERM arrives. */
void sim_signals_wait(sigset_t *set);

#endif
