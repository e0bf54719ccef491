/*
 * resp.h - one Vault API request as the handlers see it, and the answer
 * they build with the helpers below.
 *
 * The server parses the HTTP request (method, body, token, namespace),
 * takes the vault's mutex and calls api_handle() (router.h); the handlers
 * (handlers.h) only read and change the model and fill a struct vresp.
 * Bodies follow Vault's shapes: the response envelope (request_id, lease_id,
 * renewable, lease_duration, data, wrap_info, warnings, auth, mount_type) on
 * success,
 * {"errors": [...]} on failure.
 */
#ifndef VAULT_SIM_RESP_H
#define VAULT_SIM_RESP_H

#include <jansson.h>
#include <stdbool.h>

#include "vault.h"

/* Vault's logical operations; POST and PUT are both an update. */
enum vop {
	OP_READ,
	OP_UPDATE,
	OP_DELETE,
	OP_LIST,
	OP_PATCH,
};

struct vreq {
	enum vop op;
	const char *path;      /* after "/v1/"; a list's ends in '/' */
	const char *ns;	       /* namespace: "" or "team-a/" */
	json_t *body;	       /* the request's JSON object, or NULL */
	const char *version_q; /* the ?version= query value, or NULL */
	const char *token;     /* the caller's (valid) token */
	int64_t now;
	int storage_ms; /* a KV v2 write's pause between its check-and-set
			   and its commit, under the lock (--storage-latency-ms)
			 */
};

struct vresp {
	unsigned status;
	json_t *body; /* NULL: no body (204) */
	/* for the request log: a KV v2 data write's check-and-set */
	bool data_write;
	json_t *cas; /* the "cas" option as sent, or NULL */
	bool cas_conflict;
};

/* status with {"errors": [msg]}, or {"errors": []} when msg is NULL. */
void resp_error(struct vresp *rs, unsigned status, const char *msg);
/* status with Vault's response envelope around data (stolen, NULL: null)
 * and warnings (a list of strings, stolen, NULL: null). */
void resp_data(struct vresp *rs, unsigned status, json_t *data,
	       json_t *warnings);
/* The same with a lease_duration (KV v1 reads). */
void resp_data_lease(struct vresp *rs, unsigned status, json_t *data,
		     json_t *warnings, json_int_t lease_duration);
/* 204, no body. */
void resp_none(struct vresp *rs);
/* status with a null data and one warning. */
void resp_warning(struct vresp *rs, unsigned status, const char *warning);
/* 405 as Vault answers an operation a path does not have. */
void resp_unsupported(struct vresp *rs);
/* 200 {"data": {"keys": [...]}} or, for no keys, 404 {"errors": []}. */
void resp_keys(struct vresp *rs, const struct strvec *keys);

#endif
