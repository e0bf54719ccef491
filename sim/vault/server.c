/*
 * server.c - the HTTP side of vault-sim. A request is read whole, checked
 * the way Vault's HTTP layer checks it (path under /v1/, method, JSON body,
 * PATCH content type) before the token, then perhaps hit by an injected
 * fault, handled under the vault's mutex, answered with Vault's JSON and
 * logged as one JSON line (never the token, never secret data).
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "util/exitcode.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* Vault's default max_request_size */
#define MAX_BODY (32 << 20)

struct conn {
	struct strbuf body;
	bool too_big;
};

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

unsigned fault_pick(uint64_t seed, uint64_t n, double rate, unsigned mask)
{
	uint64_t r1 = splitmix(seed ^ splitmix(2 * n));
	uint64_t r2 = splitmix(seed ^ splitmix(2 * n + 1));
	unsigned kinds[2], nr = 0, bit;

	if (rate <= 0 || (double)(r1 >> 11) / 9007199254740992.0 >= rate)
		return 0;
	for (bit = 1; bit <= FAULT_DROP; bit <<= 1)
		if (mask & bit)
			kinds[nr++] = bit;
	return nr ? kinds[r2 % nr] : 0;
}

static const char *fault_name(unsigned f)
{
	return f == FAULT_HTTP500 ? "http500" : f == FAULT_DROP ? "drop" : NULL;
}

/* ---- the log ---------------------------------------------------------- */

/* s as valid UTF-8 for the log: other bytes become \xNN. */
static const char *safe_text(struct strbuf *buf, const char *s)
{
	json_t *j = json_string(s);

	if (j) {
		json_decref(j);
		return s;
	}
	strbuf_reset(buf);
	strbuf_add_escaped(buf, s, strlen(s));
	return buf->buf;
}

static void log_request(struct server *sv, const char *method, const char *url,
			const char *ns, const struct vresp *rs, unsigned fault)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	json_t *line;
	char *text;

	if (!sv->log)
		return;
	line = json_pack("{s:s, s:s, s:i}", "method", safe_text(&a, method),
			 "path", safe_text(&b, url), "status",
			 fault == FAULT_DROP ? 0 : (int)rs->status);
	if (line && ns && *ns)
		json_object_set_new(line, "namespace",
				    json_string(safe_text(&a, ns)));
	if (line && rs->data_write) {
		json_object_set(line, "cas", rs->cas ? rs->cas : json_null());
		json_object_set_new(line, "cas_conflict",
				    json_boolean(rs->cas_conflict));
	}
	if (line && fault)
		json_object_set_new(line, "fault",
				    json_string(fault_name(fault)));
	text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (text) {
		pthread_mutex_lock(&sv->log_mu);
		fprintf(sv->log, "%s\n", text);
		fflush(sv->log);
		pthread_mutex_unlock(&sv->log_mu);
	}
	free(text);
	json_decref(line);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* ---- parsing ---------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static const char *query_value(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
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
static int method_op(struct MHD_Connection *c, const char *method)
{
	const char *list;

	if (!strcmp(method, "GET")) {
		list = query_value(c, "list");
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
static int parse_body(json_t **out, const struct conn *cn, struct vresp *rs)
{
	json_error_t jerr;
	json_t *j;
	struct strbuf msg = STRBUF_INIT;

	*out = NULL;
	if (!cn->body.len)
		return 0;
	j = json_loadb(cn->body.buf, cn->body.len,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
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
static const char *request_token(struct MHD_Connection *c)
{
	const char *t = header(c, "X-Vault-Token");

	if (t && *t)
		return t;
	t = header(c, "Authorization");
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
static int check_request(struct MHD_Connection *c, struct conn *cn,
			 struct request *r)
{
	const char *ctype;
	int op = method_op(c, r->method);

	if (op < 0) {
		resp_error(&r->rs, op == -1 ? 405 : 400, NULL);
		return -1;
	}
	r->rq.op = (enum vop)op;
	if (op == OP_LIST && r->path.buf[r->path.len - 1] != '/')
		strbuf_addch(&r->path, '/');
	if (cn->too_big) {
		resp_error(&r->rs, 413, "http: request body too large");
		return -1;
	}
	if ((op == OP_UPDATE || op == OP_PATCH) &&
	    parse_body(&r->rq.body, cn, &r->rs) < 0)
		return -1;
	if (op == OP_PATCH) {
		struct strbuf msg = STRBUF_INIT;
		size_t len;

		ctype = header(c, "Content-Type");
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
	if (normalize_ns(&r->ns, header(c, "X-Vault-Namespace")) < 0) {
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
static const char *authenticate(struct server *sv, struct MHD_Connection *c,
				struct vresp *rs)
{
	const char *token = request_token(c);

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

static void handle(struct server *sv, struct MHD_Connection *c, struct conn *cn,
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
				c, &r->rs))
		return;
	if (check_request(c, cn, r) < 0)
		return;
	token = authenticate(sv, c, &r->rs);
	if (!token)
		return;
	pthread_mutex_lock(&sv->fault_mu);
	r->fault = fault_pick(sv->opts.seed, sv->fault_seq++,
			      sv->opts.fault_rate, sv->opts.faults);
	pthread_mutex_unlock(&sv->fault_mu);
	if (r->fault == FAULT_HTTP500) {
		resp_error(&r->rs, 500, "internal error");
		return;
	}
	r->rq.path = r->path.buf;
	r->rq.ns = r->ns.buf;
	r->rq.version_q = query_value(c, "version");
	r->rq.token = token;
	r->rq.storage_ms = sv->opts.storage_latency_ms;
	pthread_mutex_lock(&sv->vault->mu);
	r->rq.now = time_now();
	api_handle(sv->vault, &r->rq, &r->rs);
	pthread_mutex_unlock(&sv->vault->mu);
}

static enum MHD_Result send_answer(struct MHD_Connection *c,
				   const struct vresp *rs)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = rs->body ? json_dumps(rs->body, JSON_COMPACT) : NULL;
	struct strbuf sb = STRBUF_INIT;
	size_t len;

	if (text) {
		/* Go's json.Encoder ends the body with a newline */
		strbuf_addstr(&sb, text);
		strbuf_addch(&sb, '\n');
		free(text);
	}
	text = strbuf_detach(&sb, &len);
	resp = MHD_create_response_from_buffer(len, text,
					       MHD_RESPMEM_MUST_FREE);
	if (rs->body)
		MHD_add_response_header(resp, "Content-Type",
					"application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, rs->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **ctx)
{
	struct server *sv = cls;
	struct conn *cn = *ctx;
	struct request r = { .method = method,
			     .url = url,
			     .path = STRBUF_INIT,
			     .ns = STRBUF_INIT };
	enum MHD_Result ret;

	(void)version;
	if (!cn) {
		cn = xcalloc(1, sizeof(*cn));
		strbuf_init(&cn->body, 0);
		*ctx = cn;
		return MHD_YES;
	}
	if (*upload_size) {
		if (cn->body.len + *upload_size > MAX_BODY)
			cn->too_big = true;
		else
			strbuf_add(&cn->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (sv->opts.latency_ms)
		time_sleep_ms(sv->opts.latency_ms);
	r.rs.status = 200;
	handle(sv, c, cn, &r);
	log_request(sv, method, url, r.ns.buf, &r.rs, r.fault);
	if (r.fault == FAULT_DROP)
		ret = MHD_NO; /* the work is done; the answer is lost */
	else
		ret = send_answer(c, &r.rs);
	json_decref(r.rq.body);
	json_decref(r.rs.body);
	json_decref(r.rs.cas);
	strbuf_release(&r.path);
	strbuf_release(&r.ns);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	if (cn) {
		strbuf_wipe(&cn->body); /* it may have held secrets */
		free(cn);
		*ctx = NULL;
	}
}

int server_start(struct server *sv, struct err *e)
{
	struct sockaddr_in sin = { 0 };
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&sv->log_mu, NULL);
	pthread_mutex_init(&sv->fault_mu, NULL);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)sv->opts.port);
	if (inet_pton(AF_INET, sv->opts.listen_host, &sin.sin_addr) != 1)
		return err_set(e, EXIT_INVALID,
			       "--listen: '%s' is not an IPv4 address",
			       sv->opts.listen_host);
	if (sv->opts.request_log) {
		sv->log = fopen(sv->opts.request_log, "ae");
		if (!sv->log)
			return err_errno(e, errno, "cannot open '%s'",
					 sv->opts.request_log);
	}
	if (sv->opts.https)
		flags |= MHD_USE_TLS;
	sv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, sv,
		sv->opts.https ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
		sv->tls->key_pem.buf, MHD_OPTION_HTTPS_MEM_CERT,
		sv->tls->cert_pem.buf, MHD_OPTION_END);
	if (!sv->daemon)
		return err_set(e, EXIT_FAIL, "cannot listen on %s:%u",
			       sv->opts.listen_host, sv->opts.port);
	info = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	sv->port = info ? info->port : sv->opts.port;
	return 0;
}

void server_stop(struct server *sv)
{
	if (sv->daemon)
		MHD_stop_daemon(sv->daemon);
	sv->daemon = NULL;
	if (sv->log)
		fclose(sv->log);
	sv->log = NULL;
	pthread_mutex_destroy(&sv->log_mu);
	pthread_mutex_destroy(&sv->fault_mu);
}
