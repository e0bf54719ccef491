/*
 * server.h - vault-sim's HTTP(S) front on util/httpd: Vault's request
 * parsing (methods, LIST, JSON bodies, merge patch content type), token
 * authentication, namespaces, added latency, fault injection and the
 * request log (sim/common).
 */
#ifndef VAULT_SIM_SERVER_H
#define VAULT_SIM_SERVER_H

#include <stdbool.h>

#include "common/fault.h"
#include "common/reqlog.h"
#include "common/tls.h"
#include "vault.h"

struct httpd;

enum fault_kind {
	FAULT_HTTP500 = 1 << 0, /* answer 500 without doing the work */
	FAULT_DROP = 1 << 1,	/* do the work, close without an answer */
};

/* The names of enum fault_kind's bits, in bit order (for --faults). */
extern const char *const vault_fault_names[];

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
	struct httpd *httpd;
	unsigned port; /* the one bound */
	struct reqlog log;
	struct sim_faults faults;
};

/* Open the log and start serving; sv->port is the port bound. */
int server_start(struct server *sv, struct err *e);
/* Stop serving (waits for the connection threads) and close the log. */
void server_stop(struct server *sv);

#endif
