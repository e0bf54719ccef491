/*
 * tls.h - a simulator's server certificate: read from PEM files (checked
 * with GnuTLS, which libmicrohttpd uses for HTTPS) or generated
 * self-signed the way a fresh Proxmox VE node's is; with its SHA-256
 * fingerprint in the colon-separated form Proxmox shows.
 */
#ifndef SIM_COMMON_TLS_H
#define SIM_COMMON_TLS_H

#include "util/err.h"
#include "util/strbuf.h"

struct sim_tls {
	struct strbuf cert_pem;
	struct strbuf key_pem;
	char fingerprint[32 * 3]; /* "AB:CD:...", NUL-terminated */
};

#define SIM_TLS_INIT                      \
	{                                 \
		STRBUF_INIT, STRBUF_INIT, \
		{                         \
			0                 \
		}                         \
	}

/*
 * Generate an ECDSA P-256 key and a certificate for host (an IP address
 * or a name, also valid for "localhost"), organisation org.
 */
int sim_tls_generate(struct sim_tls *out, const char *host, const char *org,
		     struct err *e);
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
