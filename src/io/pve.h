/*
 * pve.h - the Proxmox VE API client: /api2/json calls with API-token or
 * ticket authentication (renewed before it expires, CSRF token on writes),
 * retries with exponential backoff and jitter for what is transient, and
 * task waiting with the task's exit status and log tail in the error.
 *
 * Errors name the method, the endpoint and Proxmox's own message, e.g.
 * "PUT /nodes/node01/qemu/101/config: 500 VM 101 is locked (clone)".
 * Every call is bounded (io/http.h): one call with all its retries ends
 * within http.timeout_seconds, a timeout failing with ERR_TIMEOUT; an
 * endpoint with userinfo is printed redacted (util/url.h).
 * Secrets (token secret, password, ticket) never reach an error, a trace
 * or argv, and are wiped when the client is released.
 */
#ifndef PVE_GITOPS_PVE_H
#define PVE_GITOPS_PVE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/env.h"
#include "io/http.h"
#include "util/backoff.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Where to connect and as whom; filled from config and environment. */
struct pve_conn {
	const char *endpoint; /* https://host:8006[/api2/json] */
	const char *token_id; /* user@realm!name */
	const char *token_secret;
	const char *token_full; /* PROXMOX_VE_API_TOKEN, sent as it is */
	const char *user;	/* user@realm, with password */
	const char *password;
	struct http_opts http;
	int retries;	    /* attempts after the first; default 5 */
	long retry_base_ms; /* first backoff; default 500 */
	long retry_max_ms;  /* backoff cap; default 10000 */
	long task_poll_ms;  /* first task poll interval; default 100 */
	bool trace;	    /* --verbose: one line per call (report_debug) */
};

struct pve_tasks;

struct pve_client {
	struct http_client http;
	struct pve_conn conn;
	struct strbuf base;	 /* ".../api2/json" */
	struct strbuf auth;	 /* "Authorization: PVEAPIToken=..." */
	struct strbuf ticket;	 /* "Cookie: PVEAuthCookie=..." */
	struct strbuf csrf;	 /* "CSRFPreventionToken: ..." */
	struct strbuf password;	 /* kept to log in again */
	int64_t ticket_ms;	 /* when the ticket was issued */
	struct backoff backoff;	 /* per client: workers do not retry in step */
	unsigned long calls;	 /* HTTP requests sent */
	struct counters *stats;	 /* config's requests: counted by class */
	struct pve_tasks *tasks; /* shared task poller, or NULL (see below) */
};

/*
 * Read the connection from config values and the environment the
 * Terraform providers use: PM_API_URL, PM_API_TOKEN_ID + PM_API_TOKEN_SECRET,
 * PM_USER + PM_PASS, PM_TLS_INSECURE, PROXMOX_VE_ENDPOINT,
 * PROXMOX_VE_API_TOKEN ("user@realm!id=secret"). Pointers stay valid as
 * long as the environment and config do.
 */
int pve_conn_from_env(struct pve_conn *out, const struct env *env,
		      const char *cfg_endpoint, const char *cfg_token_id,
		      const char *cfg_user, struct err *e);

/*
 * The connection of the cluster named cluster of clusters: (p its
 * settings): endpoint, token id or user from p only, the secret from
 * PM_API_TOKEN_SECRET_<NAME> or PM_PASS_<NAME> (core/env.h).
 */
int pve_conn_for_cluster(struct pve_conn *out, const struct env *env,
			 const char *cluster, const struct proxmox_cfg *p,
			 struct err *e);

/*
 * Open a client for cfg: the connection from the config and cfg->env,
 * warnings (through report_warning) when TLS verification is off or the
 * endpoint is plain HTTP, a trace on stderr with -v.
 */
int pve_client_open(struct pve_client *pc, const struct config *cfg,
		    struct err *e);

int pve_client_init(struct pve_client *pc, const struct pve_conn *conn,
		    struct err *e);
void pve_client_release(struct pve_client *pc);

/* Form parameters of a call ("key", "value" pairs; values escaped here). */
struct pve_params {
	struct strvec kv;
};
#define PVE_PARAMS_INIT     \
	{                   \
		STRVEC_INIT \
	}
void pve_param(struct pve_params *p, const char *key, const char *value);
void pve_paramf(struct pve_params *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pve_params_release(struct pve_params *p);

enum pve_retry {
	PVE_RETRY_SAFE, /* idempotent (GET, PUT config): retry transients */
	PVE_RETRY_NONE, /* a lost answer may mean it happened: caller checks */
};

/*
 * Call method path (below /api2/json). On success *data is the response's
 * "data" member (a new reference; json null when absent). Returns 0, or -1
 * with e set, its kind from core/pve_errors.h (ERR_LOCKED, ERR_EXISTS,
 * ERR_NOTFOUND, ERR_BADSTATE, ERR_PERMANENT; ERR_LOST when the answer
 * never came); *status (may be NULL) holds the last HTTP status, 0 when no
 * answer arrived.
 */
int pve_call(struct pve_client *pc, const char *method, const char *path,
	     const struct pve_params *params, enum pve_retry retry,
	     json_t **data, long *status, struct err *e);
/* pve_call() for an answer too large for a tree (util/jscan.h): on
 * success raw holds the whole answer's text ({"data": ...}), unchecked. */
int pve_call_raw(struct pve_client *pc, const char *method, const char *path,
		 const struct pve_params *params, enum pve_retry retry,
		 struct strbuf *raw, long *status, struct err *e);

/*
 * A task poller that clients share (pc->tasks): the waiters of all of a
 * run's tasks on one node are answered by one request, GET
 * /nodes/{node}/tasks?source=active, at most one per node every
 * interval however many tasks run (whichever waiter is due sends it):
 * min_ms while a task there is young, growing with the age of the
 * youngest to max_ms (core/taskwake.h);
 * the waiters whose tasks it no longer lists wake and read their status
 * once. A node whose list cannot be read falls back to polling each task.
 */
struct pve_task_waiter;
struct pve_task_node;
struct pve_tasks {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	long min_ms, max_ms;
	struct pve_task_waiter *waiters;
	unsigned long seq; /* waiters registered so far */
	struct pve_task_node *nodes;
	size_t nr_nodes, alloc_nodes;
	unsigned long polls; /* list requests sent */
};

void pve_tasks_init(struct pve_tasks *t, long min_ms, long max_ms);
void pve_tasks_release(struct pve_tasks *t);

/*
 * Wait for a task (its UPID) to stop up to timeout_s: through pc->tasks
 * when set, else polling its status with a growing interval. Returns 0 when its
 * exitstatus is OK or "WARNINGS: n"; -1 with the exit status and the last log
 * lines in e otherwise.
 */
int pve_wait_task(struct pve_client *pc, const char *upid, int timeout_s,
		  struct err *e);

#endif
