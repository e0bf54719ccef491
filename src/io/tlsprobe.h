/*
 * tlsprobe.h - does a Kubernetes API server answer TLS at its address: a
 * TCP connection and a TLS handshake (libcurl, CONNECT_ONLY; no request is
 * sent), the server's certificate verified against the cluster's
 * certificate-authority-data when the kubeconfig has it, else the system's
 * CAs. For `workloads check`.
 */
#ifndef PVE_GITOPS_TLSPROBE_H
#define PVE_GITOPS_TLSPROBE_H

#include <stddef.h>

#include "util/err.h"

/*
 * Connect to url (https://HOST:PORT...) and complete a handshake within
 * timeout_ms. ca_b64 (may be NULL) is the base64 PEM of the CA bundle.
 * 0, or -1 with e saying what failed: ERR_TIMEOUT or ERR_LOST for no
 * answer, ERR_INVALID for a bad URL or CA data, ERR_PERMANENT for a
 * handshake or verification failure.
 */
int tls_probe(const char *url, const char *ca_b64, long timeout_ms,
	      struct err *e);

#endif
