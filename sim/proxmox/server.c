/*
 * server.c - the HTTP side of proxmox-sim. A request (read whole by
 * util/httpd) has its parameters merged from the query and the (form or
 * JSON) body, is routed to a path template, authenticated, checked
 * against the schema, perhaps hit by an injected fault, handled under the
 * model's mutex, answered as {"data": ...} with Proxmox's message as the
 * reason phrase, and logged as one JSON line.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "guest.h"
#include "router.h"
#include "schema.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/httpd.h"
#include "util/xalloc.h"

#define MAX_BODY (1 << 20)

const char *const pve_fault_names[] = { "http500",    "drop",	"delay",
					"lock",	      "task",	"hang",
					"trickle",    "escape", "nodata",
					"taskstatus", NULL };

#define VM_STATUS   "/nodes/{node}/qemu/{vmid}/status/current"
#define TASK_STATUS "/nodes/{node}/tasks/{upid}/status"

/* ---- parameters ------------------------------------------------------- */

static void add_param(struct sim_req *rq, const char *k, const char *v)
{
	size_t i;

	for (i = 0; i < rq->names.nr; i++)
		/* agent/exec's list (issue 22): decode_urlencoded collects a
		 * repeated key; each "command" is kept, in order */
		if (!strcmp(rq->names.v[i], k) && strcmp(k, "command")) {
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
		} else if (json_is_array(v) && !strcmp(k, "command")) {
			size_t j;
			json_t *e;

			/* agent/exec's list of strings (issue 22) */
			json_array_foreach(v, j, e)
			{
				if (!json_is_string(e))
					ret = -1;
				else
					add_param(rq, k, json_string_value(e));
			}
		} else if (!json_is_null(v)) {
			ret = -1;
		}
	}
	json_decref(o);
	return ret;
}

static void collect_query(void *ctx, const char *key, const char *value)
{
	add_param(ctx, key, value);
}

/* ---- the answer and the log ------------------------------------------ */

static void send_json(struct httpd_reply *out, const struct sim_resp *rs)
{
	json_t *body = json_object();

	json_object_set_new(body, "data",
			    rs->data ? json_incref(rs->data) : json_null());
	if (rs->errors)
		json_object_set(body, "errors", rs->errors);
	httpd_reply_json(out, rs->status, body,
			 "application/json;charset=UTF-8", 0);
	httpd_reply_header(out, "Cache-Control", "max-age=0");
	httpd_reply_header(out, "Server", "pve-api-daemon/3.0 (proxmox-sim)");
	if (rs->status != 200)
		httpd_reply_reason(out, rs->message.buf);
	json_decref(body);
}

/* A 200 answer whose body lacks "data" (the nodata fault). */
static void send_no_data(struct httpd_reply *out)
{
	json_t *body = json_object();

	httpd_reply_json(out, 200, body, "application/json;charset=UTF-8", 0);
	json_decref(body);
}

static void log_request(struct server *sv, const char *method, const char *path,
			const struct sim_req *rq, unsigned status,
			unsigned fault)
{
	json_t *line;

	if (!reqlog_enabled(&sv->front.log))
		return;
	line = reqlog_line(method, path);
	json_object_set_new(line, "params",
			    reqlog_params(&rq->names, &rq->values));
	json_object_set_new(line, "status", json_integer((int)status));
	if (fault)
		json_object_set_new(
			line, "fault",
			json_string(sim_fault_name(pve_fault_names, fault)));
	reqlog_write(&sv->front.log, line);
	json_decref(line);
}

/* ---- one request ------------------------------------------------------ */

static bool path_param_free(const char *tmpl)
{
	return !strcmp(tmpl, "/access/ticket");
}

/* The parameters of query and body into rq; -1 when rs has the answer. */
static int read_params(const struct httpd_request *hr, struct sim_req *rq,
		       struct sim_resp *rs)
{
	const char *ctype = httpd_header(hr, "Content-Type");
	int bad;

	rq->method = hr->method;
	rq->path = hr->path + strlen("/api2/json");
	if (!*rq->path)
		rq->path = "/";
	httpd_query_foreach(hr, collect_query, rq);
	if (hr->body_too_large) {
		resp_fail(rs, 413, "request entity too large");
		return -1;
	}
	if (!hr->body_len)
		return 0;
	bad = ctype && !strncmp(ctype, "application/json", 16)
		      ? parse_json_body(rq, hr->body, hr->body_len)
		      : parse_form(rq, hr->body, hr->body_len);
	if (bad) {
		resp_fail(rs, 400, "malformed JSON request body");
		return -1;
	}
	return 0;
}

/*
 * The route (into tmpl) and the caller (into *userid); -1 when rs has the
 * answer. Proxmox authenticates before it looks for a handler.
 */
static int route_and_auth(struct server *sv, const struct httpd_request *hr,
			  struct sim_req *rq, struct strbuf *tmpl,
			  char **userid, struct sim_resp *rs)
{
	bool mutating = strcmp(rq->method, "GET") != 0;

	switch (api_route(rq, tmpl, rs)) {
	case 0:
		break;
	case -2:
		return -1; /* a path parameter given twice */
	default:
		if (auth_check(sv->sim, hr, mutating, userid, rs) == 0)
			resp_fail(rs, 501, "Method '%s %s' not implemented",
				  rq->method, rq->path);
		return -1;
	}
	if (!path_param_free(tmpl->buf) &&
	    auth_check(sv->sim, hr, mutating, userid, rs) < 0)
		return -1;
	rq->userid = *userid;
	return 0;
}

/* The schema's parameter checks; -1 with a 400 in rs when they fail. */
static int check_schema(const struct sim_req *rq, const char *tmpl,
			struct sim_resp *rs)
{
	const struct schema_endpoint *ep = schema_find(tmpl, rq->method);
	struct sim_param *ps = xcalloc(rq->names.nr + 1, sizeof(*ps));
	json_t *errors = json_object();
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
	json_decref(errors);
	return rs->errors ? -1 : 0;
}

/*
 * The fault for this request, if one may hit it: -1 when it answered rs
 * (http500, a lock on a synchronous call); a task fault or a lock on an
 * asynchronous call sets *fail_task (lockmsg holds the text).
 */
static int apply_fault(struct server *sv, const struct sim_req *rq,
		       const char *tmpl, unsigned *fault,
		       const char **fail_task, char *lockmsg,
		       size_t lockmsg_size, struct sim_resp *rs)
{
	bool mutating = strcmp(rq->method, "GET") != 0;
	bool async = api_is_async(rq->method, tmpl);

	*fault = sim_faults_next(&sv->front.faults);
	if (*fault == FAULT_LOCK && (!mutating || !req_param(rq, "vmid")))
		*fault = 0;
	if ((*fault == FAULT_TASK || *fault == FAULT_ESCAPE) && !async)
		*fault = 0;
	if (*fault == FAULT_NODATA &&
	    (strcmp(rq->method, "GET") || strcmp(tmpl, VM_STATUS)))
		*fault = 0;
	if (*fault == FAULT_TASKSTATUS &&
	    (strcmp(rq->method, "GET") || strcmp(tmpl, TASK_STATUS)))
		*fault = 0;
	if (*fault == FAULT_HANG)
		return -1; /* nothing is done, nothing answered */
	if (*fault == FAULT_HTTP500) {
		resp_fail(rs, 500, "%s",
			  async ? "got no worker upid - start worker failed"
				: "internal error (injected fault)");
		return -1;
	}
	if (*fault == FAULT_LOCK) {
		snprintf(lockmsg, lockmsg_size,
			 "can't lock file '/var/lock/qemu-server/lock-%s.conf' "
			 "- got timeout",
			 req_param(rq, "vmid"));
		if (!async) {
			resp_fail(rs, 500, "%s", lockmsg);
			return -1;
		}
		/* a worker that cannot get the lock: the task fails */
		*fail_task = lockmsg;
	}
	if (*fault == FAULT_DELAY)
		sleep_ms(sv->opts.fault_delay_ms);
	if (*fault == FAULT_TASK)
		*fail_task = "task failed: got timeout (injected fault)";
	if (*fault == FAULT_ESCAPE) /* text a terminal would obey */
		*fail_task = "\x1b[31mtask failed\x1b[0m\x1b]0;owned\x07 "
			     "(injected fault)";
	return 0;
}

/* The handler under the model's mutex; a change is saved to --state. */
static void run_handler(struct server *sv, struct sim_req *rq, const char *tmpl,
			const char *fail_task, struct sim_resp *rs)
{
	bool mutating = strcmp(rq->method, "GET") != 0;

	pthread_mutex_lock(&sv->sim->mu);
	sim_tick(sv->sim);
	api_handle(sv->sim, rq, tmpl, rs, fail_task);
	if (mutating && rs->status == 200 && sv->sim->opts.state_file) {
		struct err e = ERR_INIT;

		if (sim_state_save(sv->sim, &e) < 0)
			fprintf(stderr, "proxmox-sim: %s\n", e.msg.buf);
		err_release(&e);
	}
	pthread_mutex_unlock(&sv->sim->mu);
}

static void handle(struct server *sv, const struct httpd_request *hr,
		   struct sim_req *rq, struct sim_resp *rs, unsigned *fault)
{
	struct strbuf tmpl = STRBUF_INIT;
	char *userid = NULL, lockmsg[128];
	const char *fail_task = NULL;

	if (read_params(hr, rq, rs) < 0)
		goto out;
	/* --guests qemu: the simulator's own endpoint, outside the schema */
	if (sv->sim->guests && !strcmp(rq->method, "GET") &&
	    !strcmp(rq->path, "/sim/guests")) {
		if (auth_check(sv->sim, hr, false, &userid, rs) == 0) {
			pthread_mutex_lock(&sv->sim->mu);
			sim_tick(sv->sim);
			h_sim_guests(sv->sim, rq, rs);
			pthread_mutex_unlock(&sv->sim->mu);
		}
		goto out;
	}
	if (route_and_auth(sv, hr, rq, &tmpl, &userid, rs) < 0 ||
	    check_schema(rq, tmpl.buf, rs) < 0)
		goto out;
	if (!strcmp(tmpl.buf, "/access/ticket")) {
		pthread_mutex_lock(&sv->sim->mu);
		auth_ticket(sv->sim, rq, rs);
		pthread_mutex_unlock(&sv->sim->mu);
		goto out;
	}
	if (apply_fault(sv, rq, tmpl.buf, fault, &fail_task, lockmsg,
			sizeof(lockmsg), rs) < 0)
		goto out;
	run_handler(sv, rq, tmpl.buf, fail_task, rs);
out:
	free(userid);
	rq->userid = NULL;
	strbuf_release(&tmpl);
}

static void on_request(void *ctx, const struct httpd_request *hr,
		       struct httpd_reply *out)
{
	struct server *sv = ctx;
	const char *url = hr->path;
	struct sim_req rq = { 0 };
	struct sim_resp rs = { 0 };
	unsigned fault = 0;

	sleep_ms(sv->opts.co->latency_ms);
	strvec_init(&rq.names);
	strvec_init(&rq.values);
	strbuf_init(&rs.message, 0);
	rs.status = 200;
	if (strncmp(url, "/api2/json", 10) || (url[10] && url[10] != '/'))
		resp_fail(&rs, 501, "Method '%s %s' not implemented",
			  hr->method, url);
	else
		handle(sv, hr, &rq, &rs, &fault);
	log_request(sv, hr->method, url, &rq,
		    fault == FAULT_DROP || fault == FAULT_HANG ? 0 : rs.status,
		    fault);
	if (fault == FAULT_TASKSTATUS && json_is_object(rs.data))
		json_object_del(rs.data, "status");
	if (fault == FAULT_DROP)
		out->drop = true; /* the work is done; the answer is lost */
	else if (fault == FAULT_HANG)
		out->hang = true; /* until the simulator stops */
	else if (fault == FAULT_NODATA)
		send_no_data(out);
	else
		send_json(out, &rs);
	if (fault == FAULT_TRICKLE)
		out->trickle_ms = sv->opts.fault_trickle_ms;
	json_decref(rs.data);
	json_decref(rs.errors);
	strbuf_release(&rs.message);
	strvec_clear(&rq.names);
	strvec_clear(&rq.values);
}

int server_start(struct server *sv, struct err *e)
{
	return sim_front_start(&sv->front, sv->opts.co,
			       sv->opts.http ? NULL : sv->tls, MAX_BODY,
			       on_request, sv, e);
}

void server_stop(struct server *sv)
{
	sim_front_stop(&sv->front);
}
