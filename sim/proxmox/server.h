/*
 * server.h - proxmox-sim's HTTP(S) front: libmicrohttpd with one thread per
 * connection, Proxmox authentication (API tokens, tickets with CSRF
 * tokens), parameter checks, fault injection and the request log.
 */
#ifndef PVE_SIM_SERVER_H
#define PVE_SIM_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"
#include "tls.h"

enum fault_kind {
	FAULT_HTTP500 = 1 << 0,
	FAULT_DROP = 1 << 1,
	FAULT_DELAY = 1 << 2,
	FAULT_LOCK = 1 << 3,
	FAULT_TASK = 1 << 4,
	FAULT_ALL = (1 << 5) - 1,
};

struct server_opts {
	const char *listen_host;
	unsigned port;
	bool http; /* plain HTTP instead of HTTPS */
	double fault_rate;
	unsigned faults; /* enum fault_kind mask */
	uint64_t seed;
	int latency_ms, fault_delay_ms;
	const char *request_log;
};

struct server {
	struct sim *sim;
	struct server_opts opts;
	struct sim_tls *tls;
	struct MHD_Daemon *daemon;
	unsigned port;
	FILE *log;
	pthread_mutex_t log_mu, fault_mu;
	uint64_t fault_seq;
};

int server_start(struct server *sv, struct err *e);
void server_stop(struct server *sv);

/*
 * The fault for the n-th request with this seed: 0 or one enum fault_kind
 * bit. Deterministic: the same seed and rate give the same sequence.
 */
unsigned fault_pick(uint64_t seed, uint64_t n, double rate, unsigned mask);

#endif
