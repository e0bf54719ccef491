/*
 * server.c - the HTTP side of vault-sim. A request (read whole by
 * util/httpd) is checked the way Vault's HTTP layer checks it (path under
 * /v1/, method, JSON body, PATCH content type) before the token, then
 * perhaps hit by an injected fault, handled under the vault's mutex,
 * answered with Vault's JSON and logged as one JSON line (never the
 * token, never secret data).
 */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "router.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/strbuf.h"

/* Vault's default max_request_size */
#define MAX_BODY (32 << 20)

const char *const vault_fault_names[] = { "http500", "drop",	"garbled",
					  "hang",    "trickle", NULL };

#define TRICKLE_MS 2000 /* between two bytes of a trickled answer */

/* ---- the log ---------------------------------------------------------- */

static void log_request(struct server *sv, const char *method, const char *url,
			const char *ns, const struct vresp *rs, unsigned fault)
{
	struct strbuf a = STRBUF_INIT;
	json_t *line;

	if (!reqlog_enabled(&sv->front.log))
		return;
	line = reqlog_line(method, url);
	json_object_set_new(
		line, "status",
		json_integer(fault == FAULT_DROP || fault == FAULT_HANG
				     ? 0
				     : (int)rs->status));
	if (ns && *ns)
		json_object_set_new(line, "namespace",
				    json_string(reqlog_text(&a, ns)));
	if (rs->data_write) {
		json_object_set(line, "cas", rs->cas ? rs->cas : json_null());
		json_object_set_new(line, "cas_conflict",
				    json_boolean(rs->cas_conflict));
	}
	if (fault)
		json_object_set_new(
			line, "fault",
			json_string(sim_fault_name(vault_fault_names, fault)));
	reqlog_write(&sv->front.log, line);
	json_decref(line);
	strbuf_release(&a);
}

/* ---- parsing ---------------------------------------------------------- */

static const char *header(const struct httpd_request *hr, const char *name)
{
	return httpd_header(hr, name);
}

static const char *query_value(void *ctx, const char *name)
{
	return httpd_query(ctx, name);
}

/* Go's strconv.ParseBool: 1 true, 0 false, -1 neither. */
static int parse_go_bool(const char *s)
{
	static const char *const yes[] = { "1",	   "t",	   "T", "TRUE",
					   "true", "True", NULL };
	static const char *const no[] = { "0",	   "f",	    "F", "FALSE",
					  "false", "False", NULL };
	size_t i;

	for (i = 0; yes[i]; i++)
		if (!strcmp(s, yes[i]))
			return 1;
	for (i = 0; no[i]; i++)
		if (!strcmp(s, no[i]))
			return 0;
	return -1;
}

/* The operation for method, or -1 (405) / -2 (400, a bad ?list=). */
static int method_op(const struct httpd_request *hr, const char *method)
{
	const char *list;

	if (!strcmp(method, "GET")) {
		list = httpd_query(hr, "list");
		if (!list || !*list)
			return OP_READ;
		switch (parse_go_bool(list)) {
		case 1:
			return OP_LIST;
		case 0:
			return OP_READ;
		}
		return -2;
	}
	if (!strcmp(method, "POST") || !strcmp(method, "PUT"))
		return OP_UPDATE;
	if (!strcmp(method, "DELETE"))
		return OP_DELETE;
	if (!strcmp(method, "LIST"))
		return OP_LIST;
	if (!strcmp(method, "PATCH"))
		return OP_PATCH;
	return -1;
}

/* The request body as Vault reads it: absent or null is no body. */
static int parse_body(json_t **out, const struct httpd_request *hr,
		      struct vresp *rs)
{
	json_error_t jerr;
	json_t *j;
	struct strbuf msg = STRBUF_INIT;

	*out = NULL;
	if (!hr->body_len)
		return 0;
	j = json_loadb(hr->body, hr->body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		       &jerr);
	if (!j) {
		strbuf_addf(&msg, "failed to parse JSON input: %s", jerr.text);
	} else if (!json_is_object(j) && !json_is_null(j)) {
		strbuf_addf(&msg,
			    "failed to parse JSON input: json: cannot "
			    "unmarshal %s into Go value of type "
			    "map[string]interface {}",
			    json_is_array(j)	 ? "array"
			    : json_is_string(j)	 ? "string"
			    : json_is_boolean(j) ? "bool"
						 : "number");
	}
	if (msg.len) {
		resp_error(rs, 400, msg.buf);
		strbuf_release(&msg);
		json_decref(j);
		return -1;
	}
	if (json_is_object(j))
		*out = j;
	else
		json_decref(j);
	return 0;
}

/* X-Vault-Token, else Authorization: Bearer; NULL when neither. */
static const char *request_token(const struct httpd_request *hr)
{
	const char *t = header(hr, "X-Vault-Token");

	if (t && *t)
		return t;
	t = header(hr, "Authorization");
	if (t && !strncasecmp(t, "Bearer ", 7) && t[7])
		return t + 7;
	return NULL;
}

/* "team-a/" from " /team-a" and the like; "" for the root namespace. */
static int normalize_ns(struct strbuf *out, const char *hdr)
{
	size_t len;

	strbuf_reset(out);
	if (!hdr)
		return 0;
	while (*hdr == '/')
		hdr++;
	len = strlen(hdr);
	while (len && hdr[len - 1] == '/')
		len--;
	if (len == 4 && !strncmp(hdr, "root", 4))
		return 0;
	strbuf_add(out, hdr, len);
	if (len)
		strbuf_addch(out, '/');
	for (len = 0; len < out->len; len++)
		if ((unsigned char)out->buf[len] < 0x20)
			return -1;
	return 0;
}

/* ---- one request ------------------------------------------------------ */

struct request {
	const char *method, *url;
	struct strbuf path, ns;
	struct vreq rq;
	struct vresp rs;
	unsigned fault;
};

/* Checks before the token, in the order Vault's HTTP layer makes them. */
static int check_request(const struct httpd_request *hr, struct request *r)
{
	const char *ctype;
	int op = method_op(hr, r->method);

	if (op < 0) {
		resp_error(&r->rs, op == -1 ? 405 : 400, NULL);
		return -1;
	}
	r->rq.op = (enum vop)op;
	if (op == OP_LIST && r->path.buf[r->path.len - 1] != '/')
		strbuf_addch(&r->path, '/');
	if (hr->body_too_large) {
		resp_error(&r->rs, 413, "http: request body too large");
		return -1;
	}
	if ((op == OP_UPDATE || op == OP_PATCH) &&
	    parse_body(&r->rq.body, hr, &r->rs) < 0)
		return -1;
	if (op == OP_PATCH) {
		struct strbuf msg = STRBUF_INIT;
		size_t len;

		ctype = header(hr, "Content-Type");
		len = ctype ? strcspn(ctype, "; ") : 0;
		if (len != 28 ||
		    strncasecmp(ctype, "application/merge-patch+json", 28)) {
			strbuf_addf(&msg,
				    "PATCH requires Content-Type of "
				    "application/merge-patch+json, provided "
				    "%.*s",
				    (int)len, ctype ? ctype : "");
			resp_error(&r->rs, 415, msg.buf);
			strbuf_release(&msg);
			return -1;
		}
	}
	if (normalize_ns(&r->ns, header(hr, "X-Vault-Namespace")) < 0) {
		resp_error(&r->rs, 400, "invalid namespace");
		return -1;
	}
	return 0;
}

/*
 * The caller's token when it is the root token; else NULL and a 403.
 * Current Vault answers a token it does not know with two messages
 * ("permission denied", "invalid token"), a request without one with the
 * first only.
 */
static const char *authenticate(struct server *sv,
				const struct httpd_request *hr,
				struct vresp *rs)
{
	const char *token = request_token(hr);

	if (!token) {
		resp_error(rs, 403, "permission denied");
		return NULL;
	}
	if (!vault_token_valid(sv->vault, token)) {
		resp_error(rs, 403, "permission denied");
		json_array_append_new(json_object_get(rs->body, "errors"),
				      json_string("invalid token"));
		return NULL;
	}
	return token;
}

static void handle(struct server *sv, const struct httpd_request *hr,
		   struct request *r)
{
	const char *token;

	if (strncmp(r->url, "/v1/", 4) || !r->url[4]) {
		resp_error(&r->rs, 404, NULL);
		return;
	}
	strbuf_addstr(&r->path, r->url + 4);
	if (!strcmp(r->method, "HEAD") && strcmp(r->path.buf, "sys/health")) {
		resp_error(&r->rs, 405, NULL);
		return;
	}
	if (sys_unauthenticated(sv->vault, r->path.buf, r->method, query_value,
				(void *)hr, &r->rs))
		return;
	if (check_request(hr, r) < 0)
		return;
	token = authenticate(sv, hr, &r->rs);
	if (!token)
		return;
	r->fault = sim_faults_next(&sv->front.faults);
	if (r->fault == FAULT_HANG)
		return; /* nothing done, nothing answered */
	if (r->fault == FAULT_HTTP500) {
		resp_error(&r->rs, 500, "internal error");
		return;
	}
	if (r->fault == FAULT_GARBLED && !strcmp(r->method, "GET") &&
	    strncmp(r->path.buf, "sys/", 4)) {
		resp_data(&r->rs, 200, json_string("garbled"), NULL);
		return;
	}
	r->rq.path = r->path.buf;
	r->rq.ns = r->ns.buf;
	r->rq.version_q = httpd_query(hr, "version");
	r->rq.token = token;
	r->rq.storage_ms = sv->opts.storage_latency_ms;
	pthread_mutex_lock(&sv->vault->mu);
	r->rq.now = time_now();
	router_handle(sv->vault, &r->rq, &r->rs);
	pthread_mutex_unlock(&sv->vault->mu);
}

static void on_request(void *ctx, const struct httpd_request *hr,
		       struct httpd_reply *out)
{
	struct server *sv = ctx;
	struct request r = { .method = hr->method,
			     .url = hr->path,
			     .path = STRBUF_INIT,
			     .ns = STRBUF_INIT };

	sleep_ms(sv->opts.co->latency_ms);
	r.rs.status = 200;
	handle(sv, hr, &r);
	log_request(sv, hr->method, hr->path, r.ns.buf, &r.rs, r.fault);
	if (r.fault == FAULT_DROP) {
		out->drop = true; /* the work is done; the answer is lost */
	} else if (r.fault == FAULT_HANG) {
		out->hang = true; /* until the simulator stops */
	} else {
		/* Go's json.Encoder ends the body with a newline */
		httpd_reply_json(out, r.rs.status, r.rs.body, NULL,
				 HTTPD_JSON_NEWLINE);
		httpd_reply_header(out, "Cache-Control", "no-store");
		if (r.fault == FAULT_TRICKLE)
			out->trickle_ms = TRICKLE_MS;
	}
	json_decref(r.rq.body);
	json_decref(r.rs.body);
	json_decref(r.rs.cas);
	strbuf_release(&r.path);
	strbuf_release(&r.ns);
}

int server_start(struct server *sv, struct err *e)
{
	return sim_front_start(&sv->front, sv->opts.co,
			       sv->opts.https ? sv->tls : NULL, MAX_BODY,
			       on_request, sv, e);
}

void server_stop(struct server *sv)
{
	sim_front_stop(&sv->front);
}
