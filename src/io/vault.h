/*
 * vault.h - the HashiCorp Vault client for the KV secrets engine (v1 and
 * v2), on the libcurl connection of io/http.
 *
 * The address, token, namespace and TLS settings come from the conventions
 * Vault users have: VAULT_ADDR, VAULT_TOKEN (else ~/.vault-token under
 * HOME), VAULT_NAMESPACE, VAULT_CACERT, VAULT_SKIP_VERIFY, read from the
 * environment main.c parsed once (cfg->env, core/env.h); the config's
 * vault.addr and vault.namespace win over the environment, flags win over
 * both. Warnings (plain HTTP, no TLS verification, a token on the command
 * line) go through util/report.h. The
 * token travels only in the X-Vault-Token header: it is never printed,
 * logged or put in an error message, and its buffer is wiped on release.
 * Connection failures and 5xx answers are retried with backoff and jitter,
 * all attempts of one call within http.timeout_seconds (io/http.h); the
 * address is printed without its userinfo (util/url.h).
 */
#ifndef PVE_GITOPS_VAULT_H
#define PVE_GITOPS_VAULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "io/http.h"
#include "util/backoff.h"
#include "util/err.h"

struct vault_client {
	struct http_client http;
	char *addr; /* "https://vault:8200", no trailing slash */
	struct strbuf token;
	/* where the token came from: "--vault-token", "VAULT_TOKEN
	 * (environment)" or "~/.vault-token (file)" (static) */
	const char *token_from;
	char *namespace;
	int max_attempts;
	struct backoff backoff; /* between retries */
	struct counters *stats; /* config's requests: counted by class */
};

struct vault_flags {
	const char *addr;  /* --vault-addr, or NULL */
	const char *token; /* --vault-token (warned about), or NULL */
};

/* Connect settings from flags, config and environment (see above). */
int vault_client_init(struct vault_client *vc, const struct config *cfg,
		      const struct vault_flags *flags, struct err *e);
void vault_client_release(struct vault_client *vc);

/*
 * METHOD /v1/PATH with body (may be NULL). On a 2xx answer returns 0 and
 * *out is the parsed body (NULL for 204). Otherwise -1 with e saying
 * "METHOD /v1/PATH: HTTP STATUS: Vault's errors" and *status the status
 * (0 when no answer came); e's kind is ERR_CONFLICT when Vault refused a
 * KV v2 check-and-set.
 */
int vault_call(struct vault_client *vc, const char *method, const char *path,
	       const json_t *body, json_t **out, long *status, struct err *e);

/* The KV mount that holds a path, and its version. */
struct vault_kv {
	char *mount; /* "kv" */
	char *key;   /* the path inside the mount */
	int version; /* 1 or 2 */
};

/* Find the mount of path ("kv/a/b") through sys/internal/ui/mounts. */
int vault_kv_locate(struct vault_client *vc, const char *path,
		    struct vault_kv *out, struct err *e);
void vault_kv_release(struct vault_kv *kv);

/*
 * Read a secret: 0 with *data (new reference) and *version (0 for KV v1),
 * 1 when it does not exist (*data NULL, *version 0), -1 on any other
 * failure.
 */
int vault_kv_read(struct vault_client *vc, const struct vault_kv *kv,
		  json_t **data, int *version, struct err *e);

/*
 * Write a secret. cas >= 0 asks for check-and-set (KV v2). Returns 0 with
 * *version the new version, 1 when check-and-set failed (someone wrote
 * first), -1 on any other failure.
 */
int vault_kv_write(struct vault_client *vc, const struct vault_kv *kv,
		   const json_t *data, int cas, int *version, struct err *e);

#endif
