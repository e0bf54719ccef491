/*
 * server.c - the HTTP side of proxmox-sim. A request is read whole, its
 * parameters merged from the query and the (form or JSON) body, routed to
 * a path template, authenticated, checked against the schema, perhaps
 * hit by an injected fault, handled under the model's mutex, answered as
 * {"data": ...} and logged as one JSON line.
 */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

#define MAX_BODY (1 << 20)

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
	unsigned kinds[5], nr = 0, bit;

	if (rate <= 0 || (double)(r1 >> 11) / 9007199254740992.0 >= rate)
		return 0;
	for (bit = 1; bit <= FAULT_TASK; bit <<= 1)
		if (mask & bit)
			kinds[nr++] = bit;
	return nr ? kinds[r2 % nr] : 0;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- parameters ------------------------------------------------------- */

static void add_param(struct sim_req *rq, const char *k, const char *v)
{
	size_t i;

	for (i = 0; i < rq->names.nr; i++)
		if (!strcmp(rq->names.v[i], k)) {
			free((char *)rq->values.v[i]);
			rq->values.v[i] = xstrdup(v);
			return;
		}
	strvec_push(&rq->names, k);
	strvec_push(&rq->values, v);
}

static int parse_form(struct sim_req *rq, const char *body, size_t len)
{
	const char *p = body, *end = body + len;
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		strbuf_reset(&k);
		strbuf_reset(&v);
		strbuf_add_percent_decoded(&k, p,
					   (size_t)((eq ? eq : stop) - p), 1);
		if (eq)
			strbuf_add_percent_decoded(&v, eq + 1,
						   (size_t)(stop - eq - 1), 1);
		if (k.len)
			add_param(rq, k.buf, v.buf);
		p = stop + 1;
	}
	strbuf_release(&k);
	strbuf_release(&v);
	return 0;
}

static int parse_json_body(struct sim_req *rq, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *o = json_loadb(body, len, 0, &jerr), *v;
	const char *k;
	int ret = 0;

	if (!o || !json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	json_object_foreach(o, k, v)
	{
		char buf[64];

		if (json_is_string(v)) {
			add_param(rq, k, json_string_value(v));
		} else if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
				 json_integer_value(v));
			add_param(rq, k, buf);
		} else if (json_is_real(v)) {
			snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
			add_param(rq, k, buf);
		} else if (json_is_boolean(v)) {
			add_param(rq, k, json_is_true(v) ? "1" : "0");
		} else if (!json_is_null(v)) {
			ret = -1;
		}
	}
	json_decref(o);
	return ret;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	(void)kind;
	add_param(cls, key, value ? value : "");
	return MHD_YES;
}

/* ---- responses and the log -------------------------------------------- */

/*
 * Proxmox answers a failure with its message as the HTTP status line's
 * reason phrase ("500 VM 101 is locked (clone)"), and clients show that
 * text. libmicrohttpd has no API for a custom reason phrase, but it looks
 * the phrase up through these two exported functions, from the thread that
 * answers the connection; our definitions take precedence and return the
 * message set for this thread's current response.
 */
static _Thread_local char reason[512];

typedef const char *reason_fn(unsigned int);
typedef size_t reason_len_fn(unsigned int);

const char *MHD_get_reason_phrase_for(unsigned int code)
{
	static reason_fn *orig;

	if (reason[0])
		return reason;
	if (!orig)
		*(void **)&orig = dlsym(RTLD_NEXT, "MHD_get_reason_phrase_for");
	return orig ? orig(code) : "Unknown";
}

size_t MHD_get_reason_phrase_len_for(unsigned int code)
{
	static reason_len_fn *orig;

	if (reason[0])
		return strlen(reason);
	if (!orig)
		*(void **)&orig =
			dlsym(RTLD_NEXT, "MHD_get_reason_phrase_len_for");
	return orig ? orig(code) : 7;
}

static void set_reason(const char *msg)
{
	size_t i, n = 0;

	for (i = 0; msg && msg[i] && n + 1 < sizeof(reason); i++)
		reason[n++] = msg[i] == '\r' || msg[i] == '\n' ? ' ' : msg[i];
	while (n && reason[n - 1] == ' ')
		n--;
	reason[n] = '\0';
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), text,
					    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type",
				"application/json;charset=UTF-8");
	MHD_add_response_header(r, "Cache-Control", "max-age=0");
	MHD_add_response_header(r, "Server",
				"pve-api-daemon/3.0 (proxmox-sim)");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool is_secret_param(const char *name)
{
	return !strcmp(name, "password") || !strcmp(name, "cipassword") ||
	       !strcmp(name, "new-password");
}

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

static void log_request(struct server *sv, const char *method, const char *path,
			const struct sim_req *rq, unsigned status,
			const char *fault)
{
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT;
	json_t *params, *line;
	char *text;
	size_t i;

	if (!sv->log)
		return;
	params = json_object();
	for (i = 0; i < rq->names.nr; i++)
		json_object_set_new(
			params, safe_text(&k, rq->names.v[i]),
			json_string(is_secret_param(rq->names.v[i])
					    ? "********"
					    : safe_text(&v, rq->values.v[i])));
	line = json_pack("{s:s, s:s, s:o, s:i}", "method",
			 safe_text(&k, method), "path", safe_text(&v, path),
			 "params", params, "status", (int)status);
	if (line && fault)
		json_object_set_new(line, "fault", json_string(fault));
	text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	if (text) {
		pthread_mutex_lock(&sv->log_mu);
		fprintf(sv->log, "%s\n", text);
		fflush(sv->log);
		pthread_mutex_unlock(&sv->log_mu);
	}
	free(text);
	json_decref(line);
	strbuf_release(&k);
	strbuf_release(&v);
}

static const char *fault_name(unsigned f)
{
	switch (f) {
	case FAULT_HTTP500:
		return "http500";
	case FAULT_DROP:
		return "drop";
	case FAULT_DELAY:
		return "delay";
	case FAULT_LOCK:
		return "lock";
	case FAULT_TASK:
		return "task";
	}
	return NULL;
}

/* ---- one request ------------------------------------------------------ */

static bool path_param_free(const char *tmpl)
{
	return !strcmp(tmpl, "/access/ticket");
}

static void handle(struct server *sv, struct MHD_Connection *c,
		   const char *method, const char *url, struct conn *cn,
		   struct sim_req *rq, struct sim_resp *rs, unsigned *fault)
{
	struct strbuf tmpl = STRBUF_INIT;
	const struct schema_endpoint *ep;
	const char *ctype;
	char *userid = NULL, lockmsg[128];
	const char *fail_task = NULL;
	json_t *errors;
	bool mutating = strcmp(method, "GET") != 0;

	rq->method = method;
	rq->path = url + strlen("/api2/json");
	if (!*rq->path)
		rq->path = "/";
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, rq);
	ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	if (cn->too_big) {
		resp_fail(rs, 413, "request entity too large");
		goto out;
	}
	if (cn->body.len) {
		int bad = ctype && !strncmp(ctype, "application/json", 16)
				  ? parse_json_body(rq, cn->body.buf,
						    cn->body.len)
				  : parse_form(rq, cn->body.buf, cn->body.len);

		if (bad) {
			resp_fail(rs, 400, "malformed JSON request body");
			goto out;
		}
	}
	switch (api_route(rq, &tmpl, rs)) {
	case 0:
		break;
	case -2:
		goto out; /* a path parameter given twice */
	default:
		/* Proxmox authenticates before it looks for a handler */
		if (auth_check(sv->sim, c, mutating, &userid, rs) == 0)
			resp_fail(rs, 501, "Method '%s %s' not implemented",
				  method, rq->path);
		goto out;
	}
	if (!path_param_free(tmpl.buf) &&
	    auth_check(sv->sim, c, mutating, &userid, rs) < 0)
		goto out;
	rq->userid = userid;
	ep = schema_find(tmpl.buf, method);
	errors = json_object();
	{
		struct sim_param *ps = xcalloc(rq->names.nr + 1, sizeof(*ps));
		size_t i;

		for (i = 0; i < rq->names.nr; i++) {
			ps[i].name = rq->names.v[i];
			ps[i].value = rq->values.v[i];
		}
		if (schema_check(ep, ps, rq->names.nr, errors) > 0) {
			rs->errors = errors;
			errors = NULL;
			resp_fail(rs, 400, "Parameter verification failed.");
		}
		free(ps);
	}
	json_decref(errors);
	if (rs->errors)
		goto out;
	if (!strcmp(tmpl.buf, "/access/ticket")) {
		pthread_mutex_lock(&sv->sim->mu);
		auth_ticket(sv->sim, rq, rs);
		pthread_mutex_unlock(&sv->sim->mu);
		goto out;
	}
	pthread_mutex_lock(&sv->fault_mu);
	*fault = fault_pick(sv->opts.seed, sv->fault_seq++, sv->opts.fault_rate,
			    sv->opts.faults);
	pthread_mutex_unlock(&sv->fault_mu);
	if (*fault == FAULT_LOCK && (!mutating || !req_param(rq, "vmid")))
		*fault = 0;
	if (*fault == FAULT_TASK && !api_is_async(method, tmpl.buf))
		*fault = 0;
	if (*fault == FAULT_HTTP500) {
		resp_fail(rs, 500,
			  api_is_async(method, tmpl.buf)
				  ? "got no worker upid - start "
				    "worker failed"
				  : "internal error (injected fault)");
		goto out;
	}
	if (*fault == FAULT_LOCK) {
		snprintf(lockmsg, sizeof(lockmsg),
			 "can't lock file '/var/lock/qemu-server/lock-%s.conf' "
			 "- got timeout",
			 req_param(rq, "vmid"));
		if (!api_is_async(method, tmpl.buf)) {
			resp_fail(rs, 500, "%s", lockmsg);
			goto out;
		}
		/* a worker that cannot get the lock: the task fails */
		fail_task = lockmsg;
	}
	if (*fault == FAULT_DELAY)
		msleep(sv->opts.fault_delay_ms);
	pthread_mutex_lock(&sv->sim->mu);
	sim_tick(sv->sim);
	if (*fault == FAULT_TASK)
		fail_task = "task failed: got timeout (injected fault)";
	api_handle(sv->sim, rq, tmpl.buf, rs, fail_task);
	if (mutating && rs->status == 200 && sv->sim->opts.state_file) {
		struct err e = ERR_INIT;

		if (sim_state_save(sv->sim, &e) < 0)
			fprintf(stderr, "proxmox-sim: %s\n", e.msg.buf);
		err_release(&e);
	}
	pthread_mutex_unlock(&sv->sim->mu);
out:
	free(userid);
	rq->userid = NULL;
	strbuf_release(&tmpl);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **ctx)
{
	struct server *sv = cls;
	struct conn *cn = *ctx;
	struct sim_req rq = { 0 };
	struct sim_resp rs = { 0 };
	unsigned fault = 0;
	enum MHD_Result ret;
	json_t *body;

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
	set_reason(NULL);
	if (sv->opts.latency_ms)
		msleep(sv->opts.latency_ms);
	strvec_init(&rq.names);
	strvec_init(&rq.values);
	strbuf_init(&rs.message, 0);
	rs.status = 200;
	if (strncmp(url, "/api2/json", 10) || (url[10] && url[10] != '/'))
		resp_fail(&rs, 501, "Method '%s %s' not implemented", method,
			  url);
	else
		handle(sv, c, method, url, cn, &rq, &rs, &fault);
	log_request(sv, method, url, &rq, fault == FAULT_DROP ? 0 : rs.status,
		    fault_name(fault));
	if (fault == FAULT_DROP) {
		ret = MHD_NO; /* the work is done; the answer is lost */
	} else {
		body = json_object();
		json_object_set_new(body, "data",
				    rs.data ? json_incref(rs.data)
					    : json_null());
		if (rs.errors)
			json_object_set(body, "errors", rs.errors);
		set_reason(rs.status != 200 ? rs.message.buf : NULL);
		ret = send_json(c, rs.status, body);
		json_decref(body);
	}
	json_decref(rs.data);
	json_decref(rs.errors);
	strbuf_release(&rs.message);
	strvec_clear(&rq.names);
	strvec_clear(&rq.values);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	set_reason(NULL);
	if (cn) {
		strbuf_release(&cn->body);
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
	if (!sv->opts.http)
		flags |= MHD_USE_TLS;
	sv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sin, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, sv,
		sv->opts.http ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_KEY,
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
