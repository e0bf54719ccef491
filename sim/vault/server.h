/*
 * server.h - vault-sim's HTTP(S) front on util/httpd: Vault's request
 * parsing (methods, LIST, JSON bodies, merge patch content type), token
 * authentication, namespaces, added latency, fault injection and the
 * request log (sim/common).
 */
#ifndef VAULT_SIM_SERVER_H
#define VAULT_SIM_SERVER_H

#include <stdbool.h>

#include "common/front.h"
#include "common/opts.h"
#include "common/tls.h"
#include "vault.h"

enum fault_kind {
	FAULT_HTTP500 = 1 << 0, /* answer 500 without doing the work */
	FAULT_DROP = 1 << 1,	/* do the work, close without an answer */
	/* a KV read (GET outside sys/) answers 200 with "data" a string, as
	 * a broken proxy or server might: a client must not take it for an
	 * empty secret */
	FAULT_GARBLED = 1 << 2,
	/* only when named: read the request and never answer (until the
	 * simulator stops), or send the answer one byte every 2 s */
	FAULT_HANG = 1 << 3,
	FAULT_TRICKLE = 1 << 4,
};

/* The names of enum fault_kind's bits, in bit order (for --faults). */
extern const char *const vault_fault_names[];

struct server_opts {
	const struct sim_common_opts *co; /* --listen, faults, log, ... */
	bool https;			  /* with the certificate in tls */
	int storage_latency_ms; /* in each KV v2 write, under the lock */
};

struct server {
	struct vault *vault;
	struct server_opts opts;
	const struct sim_tls *tls;
	struct sim_front front; /* front.port: the port bound */
};

/* Open the log and start serving; sv->front.port is the port bound. */
int server_start(struct server *sv, struct err *e);
/* Stop serving (waits for the connection threads) and close the log. */
void server_stop(struct server *sv);

#endif
