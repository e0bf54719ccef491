/*
 * tls.h - the simulator's server certificate: generated self-signed, like a
 * fresh Proxmox VE node's, or read from PEM files; and its SHA-256
 * fingerprint in Proxmox's colon-separated form.
 */
#ifndef PVE_SIM_TLS_H
#define PVE_SIM_TLS_H

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

/* Generate an ECDSA P-256 key and a certificate for host (an IP or name). */
int sim_tls_generate(struct sim_tls *out, const char *host, struct err *e);
/* Read PEM certificate and key files. */
int sim_tls_load(struct sim_tls *out, const char *cert_file,
		 const char *key_file, struct err *e);
void sim_tls_release(struct sim_tls *t);

#endif
