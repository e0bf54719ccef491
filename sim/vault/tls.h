/*
 * tls.h - vault-sim's server certificate and key, read from PEM files
 * (--tls-cert, --tls-key) and checked with GnuTLS, which libmicrohttpd
 * uses for HTTPS.
 */
#ifndef VAULT_SIM_TLS_H
#define VAULT_SIM_TLS_H

#include "util/err.h"
#include "util/strbuf.h"

struct sim_tls {
	struct strbuf cert_pem;
	struct strbuf key_pem;
};

#define SIM_TLS_INIT                     \
	{                                \
		STRBUF_INIT, STRBUF_INIT \
	}

/*
 * Read and check a PEM certificate and its private key. Fails
 * (EXIT_INVALID) when a file cannot be read or does not hold what it
 * should.
 */
int sim_tls_load(struct sim_tls *out, const char *cert_file,
		 const char *key_file, struct err *e);
/* Release both buffers; the key's bytes are wiped first. */
void sim_tls_release(struct sim_tls *t);

#endif
