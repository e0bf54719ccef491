/*
 * server.h - vault-sim's HTTP(S) front: libmicrohttpd with one thread per
 * connection, Vault's request parsing (methods, LIST, JSON bodies, merge
 * patch content type), token authentication, namespaces, added latency,
 * fault injection and the request log.
 */
#ifndef VAULT_SIM_SERVER_H
#define VAULT_SIM_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tls.h"
#include "vault.h"

enum fault_kind {
	FAULT_HTTP500 = 1 << 0, /* answer 500 without doing the work */
	FAULT_DROP = 1 << 1,	/* do the work, close without an answer */
	FAULT_ALL = (1 << 2) - 1,
};

struct server_opts {
	const char *listen_host; /* an IPv4 address */
	unsigned port;		 /* 0: any free port */
	bool https;		 /* with the certificate in server.tls */
	double fault_rate;
	unsigned faults; /* enum fault_kind mask */
	uint64_t seed;
	int latency_ms;		/* before each request, outside the lock */
	int storage_latency_ms; /* in each KV v2 write, under the lock */
	const char *request_log;
};

struct server {
	struct vault *vault;
	struct server_opts opts;
	const struct sim_tls *tls;
	struct MHD_Daemon *daemon;
	unsigned port; /* the one bound */
	FILE *log;
	pthread_mutex_t log_mu, fault_mu;
	uint64_t fault_seq;
};

/* Open the log and start serving; sv->port is the port bound. */
int server_start(struct server *sv, struct err *e);
/* Stop serving (waits for the connection threads) and close the log. */
void server_stop(struct server *sv);

/*
 * The fault for the n-th faultable request with this seed: 0 or one enum
 * fault_kind bit of mask. Deterministic: the same seed and rate give the
 * same sequence.
 */
unsigned fault_pick(uint64_t seed, uint64_t n, double rate, unsigned mask);

#endif
