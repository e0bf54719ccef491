/*
 * opts.h - the command-line flags both simulators share, parsed the same
 * way: --listen HOST:PORT, --tls-cert/--tls-key, --fault-rate, --faults,
 * --seed, --latency-ms, --request-log, -h/--help and --version.
 *
 * A simulator puts SIM_COMMON_LONGOPTS at the head of its getopt_long
 * table, numbers its own options from SIMOPT_OWN and hands every option
 * to sim_common_opt() first.
 */
#ifndef SIM_COMMON_OPTS_H
#define SIM_COMMON_OPTS_H

#include <getopt.h>
#include <stdint.h>

#include "util/err.h"

enum sim_common_opt_id {
	SIMOPT_LISTEN = 256,
	SIMOPT_TLS_CERT,
	SIMOPT_TLS_KEY,
	SIMOPT_FAULT_RATE,
	SIMOPT_FAULTS,
	SIMOPT_SEED,
	SIMOPT_LATENCY,
	SIMOPT_REQUEST_LOG,
	SIMOPT_VERSION,
	SIMOPT_OWN, /* the first id a simulator's own options may use */
};

#define SIM_COMMON_LONGOPTS                                                   \
	{ "listen", required_argument, NULL, SIMOPT_LISTEN },                 \
		{ "tls-cert", required_argument, NULL, SIMOPT_TLS_CERT },     \
		{ "tls-key", required_argument, NULL, SIMOPT_TLS_KEY },       \
		{ "fault-rate", required_argument, NULL, SIMOPT_FAULT_RATE }, \
		{ "faults", required_argument, NULL, SIMOPT_FAULTS },         \
		{ "seed", required_argument, NULL, SIMOPT_SEED },             \
		{ "latency-ms", required_argument, NULL, SIMOPT_LATENCY },    \
		{ "request-log", required_argument, NULL,                     \
		  SIMOPT_REQUEST_LOG },                                       \
		{ "help", no_argument, NULL, 'h' },                           \
	{                                                                     \
		"version", no_argument, NULL, SIMOPT_VERSION                  \
	}

struct sim_common_opts {
	const char *prog;  /* "proxmox-sim": for --version and errors */
	const char *usage; /* printed by --help */
	const char *const *fault_names; /* the simulator's fault kinds */
	char host[64];			/* --listen: an IPv4 address */
	unsigned port;			/* 0: any free port */
	const char *tls_cert, *tls_key;
	double fault_rate;
	unsigned faults; /* mask over fault_names */
	uint64_t seed;
	int latency_ms;
	const char *request_log; /* NULL: none */
};

/*
 * Defaults: 127.0.0.1:port, no TLS files, no faults (rate 0, all kinds,
 * seed 1), no latency, no log.
 */
void sim_common_opts_init(struct sim_common_opts *o, const char *prog,
			  const char *usage, const char *const *fault_names,
			  unsigned port);
/*
 * Take option c (getopt_long's answer) with its argument: 1 when it was a
 * common option and is stored, 0 when it is not one of them, -1 with e
 * set (EXIT_INVALID) for a bad value. --help and --version print and exit.
 */
int sim_common_opt(struct sim_common_opts *o, int c, const char *arg,
		   struct err *e);
/* Checks across options once all are read (a certificate needs its key). */
int sim_common_opts_check(const struct sim_common_opts *o, struct err *e);

/* "OPT: 'VAL' is not WHAT" (EXIT_INVALID); returns -1. */
int sim_bad_value(struct err *e, const char *opt, const char *val,
		  const char *what);
/* A number of milliseconds 0-3600000 for option opt. */
int sim_parse_ms(int *out, const char *opt, const char *v, struct err *e);

#endif
