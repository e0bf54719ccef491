/*
 * pve.c - the Proxmox VE API client; see pve.h.
 *
 * Retry policy: a call is retried when the failure says it did not happen
 * (connection refused, "can't lock file ... got timeout", "VM N is locked",
 * "got no worker upid") whatever the call; when the answer was lost
 * (reset, HTTP 5xx from a proxy) only idempotent calls are retried, and
 * the caller of a non-idempotent one (a clone) looks the result up
 * instead. A timeout is never retried: a server that let one of the http:
 * limits pass (no answer, or a trickle) would most likely do it again,
 * and the retries would multiply the deadline. All attempts of one call
 * end within http.timeout_seconds (the client's deadline). Backoff doubles
 * from retry_base_ms up to retry_max_ms, with jitter so that parallel
 * workers do not retry in step.
 */
#include "io/pve.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "core/pve_errors.h"
#include "core/taskwake.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/url.h"
#include "util/xalloc.h"

#define TICKET_RENEW_MS (3600 * 1000) /* tickets live two hours */

int pve_conn_from_env(struct pve_conn *out, const struct env *env,
		      const char *cfg_endpoint, const char *cfg_token_id,
		      const char *cfg_user, struct err *e)
{
	const char *bpg = env->proxmox_ve_api_token;

	memset(out, 0, sizeof(*out));
	/*
	 * The operator's environment wins over the repository: a merged
	 * change to pve-gitops.yaml must not send the token elsewhere.
	 */
	out->endpoint =
		env->pm_api_url ? env->pm_api_url : env->proxmox_ve_endpoint;
	if (out->endpoint && cfg_endpoint &&
	    strcmp(out->endpoint, cfg_endpoint))
		http_endpoint_ignored("proxmox.endpoint", cfg_endpoint,
				      env->pm_api_url ? "PM_API_URL"
						      : "PROXMOX_VE_ENDPOINT",
				      out->endpoint);
	if (!out->endpoint)
		out->endpoint = cfg_endpoint;
	if (!out->endpoint)
		return err_set(e, EXIT_INVALID,
			       "no Proxmox endpoint: set proxmox.endpoint in "
			       "pve-gitops.yaml, or PM_API_URL");
	out->token_id = cfg_token_id ? cfg_token_id : env->pm_api_token_id;
	out->token_secret =
		env_cluster_secret(env, "PM_API_TOKEN_SECRET", "default");
	out->user = cfg_user ? cfg_user : env->pm_user;
	out->password = env_cluster_secret(env, "PM_PASS", "default");
	if (bpg && !out->token_secret) {
		/* "user@realm!id=secret": the secret follows the first '='
		 * after the '!'; keep pointers into the environment */
		const char *bang = strchr(bpg, '!');
		const char *eq = bang ? strchr(bang, '=') : NULL;

		if (!eq)
			return err_set(e, EXIT_INVALID,
				       "PROXMOX_VE_API_TOKEN: expected "
				       "USER@REALM!ID=SECRET");
		out->token_secret = eq + 1;
		out->token_full = bpg;
		out->token_id = NULL; /* the whole of token_full is sent */
	}
	out->http.insecure = env->pm_tls_insecure;
	if (!(out->token_id || bpg) && !(out->user && out->password))
		return err_set(e, EXIT_INVALID,
			       "no Proxmox credentials: set PM_API_TOKEN_ID "
			       "and PM_API_TOKEN_SECRET (or "
			       "PROXMOX_VE_API_TOKEN), or PM_USER and "
			       "PM_PASS");
	if (out->token_id && !out->token_secret)
		return err_set(e, EXIT_INVALID,
			       "PM_API_TOKEN_ID is set but PM_API_TOKEN_SECRET "
			       "is not");
	return 0;
}

/*
 * A cluster of clusters: (not "default"): its endpoint from
 * PM_API_URL_<NAME>, else the config (PM_API_URL is the default
 * cluster's), its token id or user from the config, its secret from
 * PM_API_TOKEN_SECRET_<NAME> or PM_PASS_<NAME>, so no secret is sent to
 * another cluster. As for the default cluster, the operator's environment
 * wins over the repository: a merged change to clusters.NAME.endpoint must
 * not send NAME's secret elsewhere.
 */
int pve_conn_for_cluster(struct pve_conn *out, const struct env *env,
			 const char *cluster, const struct proxmox_cfg *p,
			 struct err *e)
{
	const char *url = env_cluster_secret(env, "PM_API_URL", cluster);

	memset(out, 0, sizeof(*out));
	out->endpoint = p->endpoint;
	if (url) {
		if (p->endpoint && strcmp(p->endpoint, url)) {
			struct strbuf key = STRBUF_INIT, var = STRBUF_INIT;
			const char *c;

			strbuf_addf(&key, "clusters.%s.endpoint", cluster);
			strbuf_addstr(&var, "PM_API_URL_");
			for (c = cluster; *c; c++)
				strbuf_addch(
					&var,
					*c == '-' ? '_'
						  : (char)toupper(
							    (unsigned char)*c));
			http_endpoint_ignored(key.buf, p->endpoint, var.buf,
					      url);
			strbuf_release(&key);
			strbuf_release(&var);
		}
		out->endpoint = url;
	}
	out->token_id = p->token_id;
	out->user = p->user;
	if (out->token_id)
		out->token_secret =
			env_cluster_secret(env, "PM_API_TOKEN_SECRET", cluster);
	else if (out->user)
		out->password = env_cluster_secret(env, "PM_PASS", cluster);
	if (!out->endpoint)
		return err_set(e, EXIT_INVALID,
			       "cluster %s: no endpoint in clusters.%s",
			       cluster, cluster);
	if (!out->token_id && !out->user)
		return err_set(e, EXIT_INVALID,
			       "cluster %s: no credentials: set token_id (or "
			       "user) in clusters.%s",
			       cluster, cluster);
	if (!out->token_secret && !out->password)
		return err_set(
			e, EXIT_INVALID,
			"cluster %s: clusters.%s.%s is set but %s_%s "
			"is not (the cluster's name upper-cased, '-' "
			"as '_')",
			cluster, cluster, out->token_id ? "token_id" : "user",
			out->token_id ? "PM_API_TOKEN_SECRET" : "PM_PASS",
			cluster);
	return 0;
}

int pve_client_open(struct pve_client *pc, const struct config *cfg,
		    struct err *e)
{
	struct pve_conn conn;
	struct strbuf shown = STRBUF_INIT;
	bool named = cfg->cluster && strcmp(cfg->cluster, "default");

	memset(pc, 0, sizeof(*pc));
	if (named ? pve_conn_for_cluster(&conn, cfg->env, cfg->cluster,
					 &cfg->proxmox, e) < 0
		  : pve_conn_from_env(&conn, cfg->env, cfg->proxmox.endpoint,
				      cfg->proxmox.token_id, cfg->proxmox.user,
				      e) < 0)
		return -1;
	conn.http.ca_file = cfg->proxmox.tls_ca_file;
	conn.http.fingerprint = cfg->proxmox.tls_fingerprint;
	http_opts_from_config(&conn.http, cfg);
	if (http_check_scheme(conn.endpoint, &conn.http, e) < 0)
		return err_prefix(e, "proxmox.tls_fingerprint or "
				     "proxmox.tls_ca_file");
	if (cfg->proxmox.tls_insecure)
		conn.http.insecure = true;
	if (conn.http.insecure && conn.http.fingerprint) {
		report_warning("tls_insecure is ignored: the pinned "
			       "tls_fingerprint is checked");
		conn.http.insecure = false;
	}
	url_redacted(&shown, conn.endpoint);
	if (!strncmp(conn.endpoint, "http://", 7))
		report_warning("%s is plain HTTP: the API token travels in "
			       "clear text",
			       shown.buf);
	if (conn.http.insecure)
		report_warning("TLS verification of %s is off; pin the "
			       "certificate with proxmox.tls_fingerprint "
			       "instead",
			       shown.buf);
	strbuf_release(&shown);
	conn.trace = cfg->verbosity > 0;
	if (pve_client_init(pc, &conn, e) < 0)
		return -1;
	pc->stats = cfg->requests;
	return 0;
}

void pve_param(struct pve_params *p, const char *key, const char *value)
{
	strvec_push(&p->kv, key);
	strvec_push(&p->kv, value);
}

void pve_paramf(struct pve_params *p, const char *key, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pve_param(p, key, sb.buf);
	strbuf_release(&sb);
}

void pve_params_release(struct pve_params *p)
{
	strvec_clear(&p->kv);
}

static void encode_params(struct strbuf *out, const struct pve_params *p)
{
	size_t i;

	for (i = 0; p && i + 1 < p->kv.nr; i += 2) {
		if (out->len)
			strbuf_addch(out, '&');
		strbuf_add_percent_encoded(out, p->kv.v[i]);
		strbuf_addch(out, '=');
		strbuf_add_percent_encoded(out, p->kv.v[i + 1]);
	}
}

static void describe(struct strbuf *out, const char *method, const char *path,
		     const struct http_response *r)
{
	json_t *body = json_loadb(r->body.buf, r->body.len, 0, NULL);
	json_t *errors = body ? json_object_get(body, "errors") : NULL;
	const char *k;
	json_t *v;

	strbuf_addf(out, "%s %s: %ld ", method, path, r->status);
	strbuf_add(out, r->reason.buf, r->reason.len);
	if (json_is_object(errors))
		json_object_foreach(errors, k, v)
		{
			const char *m = json_string_value(v);

			strbuf_addf(out, "; %s: ", k);
			if (m)
				strbuf_addstr(out, m);
		}
	strbuf_trim(out);
	json_decref(body);
}

static int login(struct pve_client *pc, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	json_t *data = NULL;
	const char *ticket, *csrf;
	int ret;

	pve_param(&p, "username", pc->conn.user);
	pve_param(&p, "password", pc->password.buf);
	ret = pve_call(pc, "POST", "/access/ticket", &p, PVE_RETRY_SAFE, &data,
		       NULL, e);
	pve_params_release(&p);
	if (ret < 0)
		return err_prefix(e, "cannot log in as '%s'", pc->conn.user);
	ticket = json_string_value(json_object_get(data, "ticket"));
	csrf = json_string_value(json_object_get(data, "CSRFPreventionToken"));
	if (!ticket || !csrf) {
		json_decref(data);
		return err_set(e, EXIT_FAIL,
			       "cannot log in as '%s': no ticket in the answer",
			       pc->conn.user);
	}
	strbuf_wipe(&pc->ticket);
	strbuf_wipe(&pc->csrf);
	strbuf_addstr(&pc->ticket, "Cookie: PVEAuthCookie=");
	strbuf_add_percent_encoded(&pc->ticket, ticket);
	strbuf_addf(&pc->csrf, "CSRFPreventionToken: %s", csrf);
	pc->ticket_ms = (int64_t)mono_ms();
	json_decref(data);
	return 0;
}

int pve_client_init(struct pve_client *pc, const struct pve_conn *conn,
		    struct err *e)
{
	size_t n;

	memset(pc, 0, sizeof(*pc));
	pc->conn = *conn;
	strbuf_init(&pc->base, 0);
	strbuf_init(&pc->auth, 0);
	strbuf_init(&pc->ticket, 0);
	strbuf_init(&pc->csrf, 0);
	strbuf_init(&pc->password, 0);
	if (!pc->conn.retries)
		pc->conn.retries = 5;
	if (!pc->conn.retry_base_ms)
		pc->conn.retry_base_ms = 500;
	if (!pc->conn.retry_max_ms)
		pc->conn.retry_max_ms = 10000;
	if (!pc->conn.task_poll_ms)
		pc->conn.task_poll_ms = 100;
	/* per client, so parallel workers do not back off in step */
	backoff_init(&pc->backoff, pc->conn.retry_base_ms,
		     pc->conn.retry_max_ms,
		     (mono_ms() * 2654435761u) ^ (uint64_t)(uintptr_t)pc);
	if (strncmp(conn->endpoint, "https://", 8) &&
	    strncmp(conn->endpoint, "http://", 7)) {
		struct strbuf shown = STRBUF_INIT;

		err_set(e, EXIT_INVALID,
			"proxmox endpoint '%s': expected https://HOST:8006",
			url_redacted(&shown, conn->endpoint));
		strbuf_release(&shown);
		return -1;
	}
	strbuf_addstr(&pc->base, conn->endpoint);
	while (pc->base.len && pc->base.buf[pc->base.len - 1] == '/')
		strbuf_setlen(&pc->base, pc->base.len - 1);
	n = strlen("/api2/json");
	if (pc->base.len < n ||
	    strcmp(pc->base.buf + pc->base.len - n, "/api2/json"))
		strbuf_addstr(&pc->base, "/api2/json");
	if (http_client_init(&pc->http, &conn->http, e) < 0)
		return -1;
	if (conn->token_secret) {
		if (conn->token_id)
			strbuf_addf(&pc->auth,
				    "Authorization: PVEAPIToken=%s=%s",
				    conn->token_id, conn->token_secret);
		else
			strbuf_addf(&pc->auth, "Authorization: PVEAPIToken=%s",
				    conn->token_full ? conn->token_full : "");
		return 0;
	}
	strbuf_addstr(&pc->password, conn->password);
	return login(pc, e);
}

void pve_client_release(struct pve_client *pc)
{
	http_client_release(&pc->http);
	strbuf_release(&pc->base);
	strbuf_wipe(&pc->auth);
	strbuf_wipe(&pc->ticket);
	strbuf_wipe(&pc->csrf);
	strbuf_wipe(&pc->password);
}

static void add_auth(struct pve_client *pc, struct strvec *h, bool write)
{
	if (pc->auth.len) {
		strvec_push(h, pc->auth.buf);
		return;
	}
	if (pc->ticket.len)
		strvec_push(h, pc->ticket.buf);
	if (write && pc->csrf.len)
		strvec_push(h, pc->csrf.buf);
}

/* The path holds names from API answers: report.h escapes them. */
static void trace(struct pve_client *pc, const char *method, const char *path,
		  long status, int64_t ms, int attempt)
{
	if (!pc->conn.trace)
		return;
	report_debug("pve: %s %s -> %ld (%lld ms)%s", method, path, status,
		     (long long)ms, attempt ? " retry" : "");
}

/* One request as it is sent: the URL, headers and form body. */
struct pve_req {
	const char *method, *path;
	enum pve_retry retry;
	bool write, query;
	struct strbuf body;
};

/* One request in the metrics (core/metrics.h's endpoint classes). */
static void count(struct pve_client *pc, const char *path, bool failed)
{
	char key[COUNTERS_KEY_MAX + 1];

	if (!pc->stats)
		return;
	snprintf(key, sizeof(key), "proxmox/%s", metrics_pve_class(path));
	counters_add(pc->stats, key, failed);
}

/* Send req once; -1 with e set (and *kind) when no answer came. */
static int send_once(struct pve_client *pc, const struct pve_req *req,
		     int attempt, struct http_response *r,
		     enum http_error *kind, struct err *e)
{
	struct strvec h = STRVEC_INIT;
	struct strbuf url = STRBUF_INIT;
	int64_t t0 = (int64_t)mono_ms();
	int ret;

	strbuf_addf(&url, "%s%s", pc->base.buf, req->path);
	if (req->query && req->body.len)
		strbuf_addf(&url, "?%s", req->body.buf);
	if (strcmp(req->path, "/access/ticket"))
		add_auth(pc, &h, req->write);
	if (!req->query)
		strvec_push(&h, "Content-Type: "
				"application/x-www-form-urlencoded");
	pc->calls++;
	ret = http_request(&pc->http, req->method, url.buf, &h,
			   req->query ? NULL : req->body.buf,
			   req->retry == PVE_RETRY_NONE ? HTTP_ONCE : 0, r,
			   kind, e);
	trace(pc, req->method, req->path, ret < 0 ? 0 : r->status,
	      (int64_t)mono_ms() - t0, attempt);
	count(pc, req->path, ret < 0 || r->status >= 400);
	strvec_clear(&h);
	strbuf_release(&url);
	return ret;
}

/* The "data" of a 200 answer into *data; -1 when it is not JSON. */
static int take_data(const struct pve_req *req, const struct http_response *r,
		     json_t **data, struct err *e)
{
	json_t *root = json_loadb(r->body.buf, r->body.len, 0, NULL);

	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, EXIT_FAIL, "%s %s: the answer is not JSON",
			       req->method, req->path);
	}
	*data = json_incref(json_object_get(root, "data"));
	if (!*data)
		*data = json_null();
	json_decref(root);
	return 0;
}

/* A failed answer as an error with its kind (pve_error_kind). */
static void answer_error(const struct pve_req *req,
			 const struct http_response *r, struct err *e)
{
	struct strbuf msg = STRBUF_INIT;

	describe(&msg, req->method, req->path, r);
	err_setk(e, pve_error_kind(r->status, r->reason.buf),
		 r->status == 400 ? EXIT_INVALID : EXIT_FAIL, "%s", msg.buf);
	strbuf_release(&msg);
}

/*
 * A transport failure: whether to try again (and its kind on e: a timeout
 * keeps ERR_TIMEOUT from http.c and is not retried; either way *status 0
 * tells the caller that the request may have arrived).
 */
static bool transport_retry(const struct pve_req *req, enum http_error kind,
			    struct err *e)
{
	if (kind == HTTP_ERR_OTHER)
		e->kind = ERR_LOST; /* it may have arrived */
	return kind == HTTP_ERR_CONNECT ||
	       (req->retry == PVE_RETRY_SAFE && kind == HTTP_ERR_OTHER);
}

/* The time a call gets, its retries included: one request's deadline. */
static uint64_t call_budget_ms(const struct pve_client *pc)
{
	return (uint64_t)(pc->conn.http.timeout_ms ? pc->conn.http.timeout_ms
						   : 300000L);
}

/*
 * Sleep before the next attempt unless that would pass the call's
 * deadline; false when no time is left for another attempt.
 */
static bool wait_retry(struct pve_client *pc, int attempt)
{
	long delay = backoff_delay(&pc->backoff, (unsigned)attempt);
	uint64_t now = mono_ms();

	if (pc->http.deadline &&
	    now + (uint64_t)delay + 100 >= pc->http.deadline)
		return false;
	sleep_ms(delay);
	return true;
}

/* pve_call(), or with raw the answer's text itself (not parsed). */
static int call(struct pve_client *pc, const char *method, const char *path,
		const struct pve_params *params, enum pve_retry retry,
		json_t **data, struct strbuf *raw, long *status, struct err *e)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct pve_req req = { method,
			       path,
			       retry,
			       strcmp(method, "GET") != 0,
			       !strcmp(method, "GET") ||
				       !strcmp(method, "DELETE"),
			       STRBUF_INIT };
	bool relogged = false, again;
	uint64_t outer = pc->http.deadline;
	enum http_error kind;
	int attempt, ret = -1;

	*data = NULL;
	encode_params(&req.body, params);
	/* all attempts of this call end by one deadline (see http.h); a
	 * login inside it shares the deadline */
	if (!outer)
		pc->http.deadline = mono_ms() + call_budget_ms(pc);
	for (attempt = 0;; attempt++) {
		if (!pc->auth.len && pc->ticket.len &&
		    (int64_t)mono_ms() - pc->ticket_ms > TICKET_RENEW_MS &&
		    strcmp(path, "/access/ticket") && login(pc, e) < 0)
			break;
		err_release(e);
		if (send_once(pc, &req, attempt, &r, &kind, e) < 0) {
			if (status)
				*status = 0;
			again = transport_retry(&req, kind, e);
		} else {
			if (status)
				*status = r.status;
			if (r.status == 200 && raw) {
				strbuf_reset(raw);
				strbuf_add(raw, r.body.buf, r.body.len);
				ret = 0;
				break;
			}
			if (r.status == 200) {
				ret = take_data(&req, &r, data, e);
				break;
			}
			answer_error(&req, &r, e);
			if (r.status == 401 && pc->password.len && !relogged &&
			    strcmp(path, "/access/ticket")) {
				relogged = true;
				if (login(pc, e) < 0)
					break;
				continue;
			}
			again = pve_error_not_carried_out(r.status,
							  r.reason.buf) ||
				(retry == PVE_RETRY_SAFE &&
				 pve_error_transient(r.status, r.reason.buf));
		}
		if (!again || attempt >= pc->conn.retries ||
		    !wait_retry(pc, attempt))
			break;
	}
	pc->http.deadline = outer;
	http_response_release(&r);
	strbuf_wipe(&req.body); /* may hold a password */
	return ret;
}

int pve_call(struct pve_client *pc, const char *method, const char *path,
	     const struct pve_params *params, enum pve_retry retry,
	     json_t **data, long *status, struct err *e)
{
	return call(pc, method, path, params, retry, data, NULL, status, e);
}

int pve_call_raw(struct pve_client *pc, const char *method, const char *path,
		 const struct pve_params *params, enum pve_retry retry,
		 struct strbuf *raw, long *status, struct err *e)
{
	json_t *unused = NULL;

	return call(pc, method, path, params, retry, &unused, raw, status, e);
}

/* A task that stopped with an error: its type and exit status; one
 * Proxmox refused for good (a storage that is not there) is
 * ERR_PERMANENT, so the retry rounds leave it. */
static void task_failed(json_t *st, const char *exit, struct err *e)
{
	const char *type = json_string_value(json_object_get(st, "type"));

	if (!exit)
		exit = "unknown exit status";
	err_setk(e,
		 pve_error_kind(500, exit) == ERR_PERMANENT ? ERR_PERMANENT
							    : ERR_GENERIC,
		 EXIT_FAIL, "task %s failed: %s", type ? type : "?", exit);
}

/* The node field of "UPID:node:...". */
static char *upid_node(const char *upid)
{
	const char *p = strncmp(upid, "UPID:", 5) ? NULL : upid + 5;
	const char *end = p ? strchr(p, ':') : NULL;

	return end ? xstrndup(p, (size_t)(end - p)) : NULL;
}

static void add_log_tail(struct pve_client *pc, const char *node,
			 const char *upid, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	struct pve_params p = PVE_PARAMS_INIT;
	struct err ignore = ERR_INIT;
	json_t *log = NULL, *line;
	size_t i, n;

	strbuf_addstr(&path, "/nodes/");
	strbuf_add_percent_encoded(&path, node);
	strbuf_addstr(&path, "/tasks/");
	strbuf_add_percent_encoded(&path, upid);
	strbuf_addstr(&path, "/log");
	pve_param(&p, "limit", "1000");
	if (pve_call(pc, "GET", path.buf, &p, PVE_RETRY_SAFE, &log, NULL,
		     &ignore) == 0 &&
	    json_is_array(log)) {
		n = json_array_size(log);
		json_array_foreach(log, i, line)
		{
			const char *t =
				json_string_value(json_object_get(line, "t"));

			if (i + 5 >= n && t) {
				strbuf_addstr(&e->msg, "\n  ");
				strbuf_addstr(&e->msg, t);
			}
		}
	}
	json_decref(log);
	err_release(&ignore);
	pve_params_release(&p);
	strbuf_release(&path);
}

struct pve_task_waiter {
	struct pve_task_waiter *next;
	const char *node, *upid;
	unsigned long seq; /* its registration's number */
	uint64_t since;	   /* when its task was started (about) */
	bool ended;	   /* a poll no longer lists its task */
};

struct pve_task_node {
	char *name;
	bool polling;	  /* a waiter is reading its list */
	bool broken;	  /* its list cannot be read: poll each task */
	uint64_t last_ms; /* when its last poll was sent (0: none) */
};

void pve_tasks_init(struct pve_tasks *t, long min_ms, long max_ms)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->min_ms = min_ms > 0 ? min_ms : 10;
	t->max_ms = max_ms >= t->min_ms ? max_ms : t->min_ms;
}

/* When node k is to be polled next: the interval its youngest waiter
 * wants after the last poll (under t->mu). */
static uint64_t next_poll(const struct pve_tasks *t, size_t k, uint64_t now)
{
	const struct pve_task_waiter *w;
	long iv = t->max_ms;

	for (w = t->waiters; w; w = w->next) {
		long want;

		if (strcmp(w->node, t->nodes[k].name))
			continue;
		want = taskwake_interval(now > w->since ? now - w->since : 0,
					 t->min_ms, t->max_ms);
		if (want < iv)
			iv = want;
	}
	return t->nodes[k].last_ms ? t->nodes[k].last_ms + (uint64_t)iv : 0;
}

void pve_tasks_release(struct pve_tasks *t)
{
	size_t i;

	for (i = 0; i < t->nr_nodes; i++)
		free(t->nodes[i].name);
	free(t->nodes);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

/* The index of node's entry, added when new (under t->mu). */
static size_t task_node(struct pve_tasks *t, const char *node)
{
	size_t i;

	for (i = 0; i < t->nr_nodes; i++)
		if (!strcmp(t->nodes[i].name, node))
			return i;
	ALLOC_GROW(t->nodes, st_add(t->nr_nodes, 1), t->alloc_nodes);
	memset(&t->nodes[t->nr_nodes], 0, sizeof(t->nodes[0]));
	t->nodes[t->nr_nodes].name = xstrdup(node);
	return t->nr_nodes++;
}

/*
 * GET /nodes/{node}/tasks?source=active into active (the UPIDs listed);
 * -1 when it failed, 1 when the answer may be cut short.
 */
static int list_active(struct pve_client *pc, const char *node,
		       struct strvec *active)
{
	struct strbuf path = STRBUF_INIT;
	struct pve_params p = PVE_PARAMS_INIT;
	struct err e = ERR_INIT;
	json_t *data = NULL, *o;
	size_t i;
	int ret = -1;

	strbuf_addstr(&path, "/nodes/");
	strbuf_add_percent_encoded(&path, node);
	strbuf_addstr(&path, "/tasks");
	pve_param(&p, "source", "active");
	pve_param(&p, "limit", "10000");
	if (pve_call(pc, "GET", path.buf, &p, PVE_RETRY_SAFE, &data, NULL,
		     &e) == 0 &&
	    json_is_array(data)) {
		json_array_foreach(data, i, o)
		{
			const char *u =
				json_string_value(json_object_get(o, "upid"));

			if (u)
				strvec_push(active, u);
		}
		ret = json_array_size(data) >= 10000 ? 1 : 0;
	}
	json_decref(data);
	err_release(&e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/* One poll of node's list by this waiter, the waiters it answers marked
 * (called and returning under t->mu). */
static void poll_node(struct pve_client *pc, struct pve_tasks *t, size_t k)
{
	struct strvec active = STRVEC_INIT;
	struct pve_task_waiter *w;
	unsigned long poll_seq = t->seq;
	char *node = xstrdup(t->nodes[k].name);
	int r;

	t->nodes[k].polling = true;
	t->nodes[k].last_ms = mono_ms();
	t->polls++;
	pthread_mutex_unlock(&t->mu);
	r = list_active(pc, node, &active);
	pthread_mutex_lock(&t->mu);
	for (w = t->waiters; w; w = w->next)
		if (!strcmp(w->node, node) &&
		    taskwake_ended(w->upid, w->seq, poll_seq, active.v,
				   active.nr, r != 0))
			w->ended = true;
	t->nodes[k].polling = false;
	t->nodes[k].broken = r < 0;
	pthread_cond_broadcast(&t->cv);
	strvec_clear(&active);
	free(node);
}

/*
 * Wait through the shared poller until a poll no longer lists upid as
 * running or the deadline passes: true then, false when the node's list
 * cannot be read (the caller polls the task itself).
 */
static bool shared_wait(struct pve_client *pc, const char *node,
			const char *upid, uint64_t since, uint64_t deadline)
{
	struct pve_tasks *t = pc->tasks;
	struct pve_task_waiter me = { NULL, node, upid, 0, since, false }, **pp;
	bool ok = true;

	pthread_mutex_lock(&t->mu);
	me.seq = ++t->seq;
	me.next = t->waiters;
	t->waiters = &me;
	for (;;) {
		size_t k = task_node(t, node);
		uint64_t now = mono_ms(), at, next;
		struct timespec ts;

		if (me.ended || now >= deadline)
			break;
		if (t->nodes[k].broken && !t->nodes[k].polling) {
			ok = false;
			break;
		}
		next = next_poll(t, k, now);
		if (!t->nodes[k].polling && now >= next) {
			poll_node(pc, t, k);
			continue;
		}
		at = taskwake_wake_at(t->nodes[k].polling, next, deadline);
		clock_gettime(CLOCK_REALTIME, &ts);
		at = at > now ? at - now : 0;
		ts.tv_sec += (time_t)(at / 1000);
		ts.tv_nsec += (long)(at % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
	}
	for (pp = &t->waiters; *pp; pp = &(*pp)->next)
		if (*pp == &me) {
			*pp = me.next;
			break;
		}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

int pve_wait_task(struct pve_client *pc, const char *upid, int timeout_s,
		  struct err *e)
{
	char *node = upid_node(upid);
	struct strbuf path = STRBUF_INIT;
	uint64_t since = mono_ms();
	int64_t deadline = (int64_t)since + (int64_t)timeout_s * 1000;
	long interval = pc->conn.task_poll_ms;
	int ret = -1;

	if (!node)
		return err_set(e, EXIT_FAIL, "not a task id: '%s'", upid);
	strbuf_addstr(&path, "/nodes/");
	strbuf_add_percent_encoded(&path, node);
	strbuf_addstr(&path, "/tasks/");
	strbuf_add_percent_encoded(&path, upid);
	strbuf_addstr(&path, "/status");
	for (;;) {
		json_t *st = NULL;
		const char *status, *exit;

		if (pve_call(pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &st,
			     NULL, e) < 0)
			break;
		status = json_string_value(json_object_get(st, "status"));
		exit = json_string_value(json_object_get(st, "exitstatus"));
		if (!status) {
			/* not a task status: waiting on would read nothing
			 * until the deadline and then guess */
			err_set(e, EXIT_FAIL,
				"GET %s: the answer holds no task status "
				"(expected data.status)",
				path.buf);
			json_decref(st);
			break;
		}
		if (!strcmp(status, "stopped")) {
			if (exit && (!strcmp(exit, "OK") ||
				     !strncmp(exit, "WARNINGS: ", 10))) {
				ret = 0;
			} else {
				task_failed(st, exit, e);
				add_log_tail(pc, node, upid, e);
			}
			json_decref(st);
			break;
		}
		json_decref(st);
		if ((int64_t)mono_ms() > deadline) {
			err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
				 "task %s still running after %d s", upid,
				 timeout_s);
			break;
		}
		if (pc->tasks &&
		    shared_wait(pc, node, upid, since, (uint64_t)deadline))
			continue;
		/* short at first (most tasks take seconds), then up to 1 s */
		sleep_ms(interval);
		if (interval < 1000)
			interval = interval * 6 / 5;
	}
	strbuf_release(&path);
	free(node);
	return ret;
}
