/*
 * httpd.c - the HTTP server of httpd.h over libmicrohttpd: a connection's
 * body is gathered in a per-request buffer (wiped when the request ends,
 * since it may hold secrets), then the handler fills a struct httpd_reply
 * that is sent with its reason phrase (see below).
 */
#include "util/httpd.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/xalloc.h"

#define DEFAULT_MAX_BODY (1 << 20)
#define MAX_TLS_FILE	 (1 << 20)

struct httpd {
	struct MHD_Daemon *daemon;
	unsigned port;
	size_t max_body;
	bool pass_too_large;
	httpd_handler_fn *handler;
	void *ctx;
	struct strbuf cert, key; /* the PEM text given to libmicrohttpd */
	atomic_bool stopping;	 /* httpd_stop began: hangs and trickles end */
};

/* What one request gathers until its body is complete. */
struct pending {
	struct strbuf body;
	bool too_large;
};

/* ---- the reason phrase ------------------------------------------------ */

/*
 * libmicrohttpd has no API for a custom reason phrase, but it looks the
 * phrase up through these two exported functions, from the thread that
 * answers the connection; our definitions take precedence over the
 * library's and return the phrase set for this thread's current reply.
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

/* ---- replies ---------------------------------------------------------- */

void httpd_reply_header(struct httpd_reply *out, const char *name,
			const char *value)
{
	strvec_push(&out->headers, name);
	strvec_push(&out->headers, value);
}

void httpd_reply_reason(struct httpd_reply *out, const char *msg)
{
	size_t i;

	strbuf_reset(&out->reason);
	for (i = 0; msg && msg[i] && out->reason.len + 1 < sizeof(reason); i++)
		strbuf_addch(&out->reason,
			     msg[i] == '\r' || msg[i] == '\n' ? ' ' : msg[i]);
	while (out->reason.len && out->reason.buf[out->reason.len - 1] == ' ')
		strbuf_setlen(&out->reason, out->reason.len - 1);
}

void httpd_reply_json(struct httpd_reply *out, unsigned status,
		      const json_t *body, const char *content_type,
		      unsigned flags)
{
	char *text;

	out->status = status;
	strbuf_wipe(&out->body);
	if (!body)
		return;
	text = json_dumps(body, JSON_COMPACT);
	if (!text)
		text = xstrdup("null");
	strbuf_addstr(&out->body, text);
	explicit_bzero(text, strlen(text));
	free(text);
	if (flags & HTTPD_JSON_NEWLINE)
		strbuf_addch(&out->body, '\n');
	httpd_reply_header(out, "Content-Type",
			   content_type ? content_type : "application/json");
}

static void wipe_free(void *cls)
{
	struct strbuf *sb = cls;

	strbuf_wipe(sb);
	free(sb);
}

/* Sleep ms in short steps; false when the server is stopping. */
static bool pause_unless_stopping(struct httpd *h, long ms)
{
	long slept;

	for (slept = 0; slept < ms && !atomic_load(&h->stopping); slept += 50)
		sleep_ms(ms - slept < 50 ? ms - slept : 50);
	return !atomic_load(&h->stopping);
}

/* A body sent one byte at a time (the trickle fault). */
struct trickle {
	struct httpd *h;
	struct strbuf body;
	long ms;
};

static ssize_t trickle_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct trickle *t = cls;

	if (pos >= t->body.len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (!max || (pos && !pause_unless_stopping(t->h, t->ms)))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	buf[0] = t->body.buf[pos];
	return 1;
}

static void trickle_free(void *cls)
{
	struct trickle *t = cls;

	strbuf_wipe(&t->body);
	free(t);
}

static struct MHD_Response *trickle_response(struct httpd *h,
					     struct httpd_reply *rp)
{
	struct trickle *t = xmalloc(sizeof(*t));
	struct MHD_Response *resp;

	t->h = h;
	t->body = rp->body;
	t->ms = rp->trickle_ms;
	strbuf_init(&rp->body, 0);
	resp = MHD_create_response_from_callback(t->body.len, 1, trickle_read,
						 t, trickle_free);
	if (!resp)
		trickle_free(t);
	return resp;
}

static enum MHD_Result send_reply(struct httpd *h, struct MHD_Connection *c,
				  struct httpd_reply *rp)
{
	struct strbuf *body;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t i;

	if (rp->trickle_ms > 0) {
		resp = trickle_response(h, rp);
		if (!resp)
			return MHD_NO;
	} else {
		body = xmalloc(sizeof(*body));
		*body = rp->body;
		strbuf_init(&rp->body, 0);
		resp = MHD_create_response_from_buffer_with_free_callback_cls(
			body->len, body->buf, wipe_free, body);
		if (!resp) {
			wipe_free(body);
			return MHD_NO;
		}
	}
	for (i = 0; i + 1 < rp->headers.nr; i += 2)
		MHD_add_response_header(resp, rp->headers.v[i],
					rp->headers.v[i + 1]);
	memcpy(reason, rp->reason.buf, rp->reason.len + 1);
	ret = MHD_queue_response(c, rp->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- requests --------------------------------------------------------- */

const char *httpd_query(const struct httpd_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

const char *httpd_header(const struct httpd_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *httpd_cookie(const struct httpd_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

struct foreach_ctx {
	void (*fn)(void *ctx, const char *name, const char *value);
	void *ctx;
};

static enum MHD_Result one_arg(void *cls, enum MHD_ValueKind kind,
			       const char *key, const char *value)
{
	struct foreach_ctx *f = cls;

	(void)kind;
	f->fn(f->ctx, key, value ? value : "");
	return MHD_YES;
}

void httpd_query_foreach(const struct httpd_request *rq,
			 void (*fn)(void *ctx, const char *name,
				    const char *value),
			 void *ctx)
{
	struct foreach_ctx f = { fn, ctx };

	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, one_arg, &f);
}

static void answer(struct httpd *h, struct httpd_request *rq,
		   struct httpd_reply *rp)
{
	json_t *j;

	if (rq->body_too_large && !h->pass_too_large) {
		j = json_pack("{s:s}", "error", "request body too large");
		httpd_reply_json(rp, 413, j, NULL, 0);
		json_decref(j);
		return;
	}
	h->handler(h->ctx, rq, rp);
}

/* Gather the body; returns true once the request is complete. */
static bool gather(struct httpd *h, struct pending *p, const char *upload,
		   size_t *upload_size)
{
	if (!*upload_size)
		return true;
	if (p->body.len + *upload_size > h->max_body) {
		p->too_large = true;
		strbuf_wipe(&p->body);
	} else if (!p->too_large) {
		strbuf_add(&p->body, upload, *upload_size);
	}
	*upload_size = 0;
	return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **ctx)
{
	struct httpd *h = cls;
	struct pending *p = *ctx;
	struct httpd_request rq = { 0 };
	struct httpd_reply rp = {
		200, STRBUF_INIT, STRVEC_INIT, STRBUF_INIT, false, false, 0
	};
	enum MHD_Result ret;

	if (!p) {
		p = xcalloc(1, sizeof(*p));
		strbuf_init(&p->body, 0);
		*ctx = p;
		return MHD_YES;
	}
	if (!gather(h, p, upload, upload_size))
		return MHD_YES;
	reason[0] = '\0';
	rq = (struct httpd_request){
		method, url, version, p->body.buf, p->body.len, p->too_large, c
	};
	answer(h, &rq, &rp);
	if (rp.hang) /* the request was read; no answer until we stop */
		while (pause_unless_stopping(h, 1000))
			;
	ret = rp.drop || rp.hang ? MHD_NO : send_reply(h, c, &rp);
	strbuf_wipe(&rp.body);
	strbuf_release(&rp.reason);
	strvec_clear(&rp.headers);
	return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **ctx,
		    enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *ctx;

	(void)cls;
	(void)c;
	(void)toe;
	reason[0] = '\0';
	if (p) {
		strbuf_wipe(&p->body); /* it may have held secrets */
		free(p);
		*ctx = NULL;
	}
}

/* ---- the daemon ------------------------------------------------------- */

static int load_tls(struct httpd *h, const struct httpd_opts *o, struct err *e)
{
	if (o->cert_pem && o->key_pem) {
		strbuf_addstr(&h->cert, o->cert_pem);
		strbuf_addstr(&h->key, o->key_pem);
		return 0;
	}
	if (!o->cert_file && !o->key_file)
		return 0;
	if (!o->cert_file || !o->key_file)
		return err_set(e, EXIT_INVALID,
			       "a certificate needs its key and a key its "
			       "certificate");
	if (file_read_all(&h->cert, o->cert_file, MAX_TLS_FILE, e) < 0 ||
	    file_read_all(&h->key, o->key_file, MAX_TLS_FILE, e) < 0)
		return -1;
	return 0;
}

static struct MHD_Daemon *start_daemon(struct httpd *h,
				       const struct httpd_opts *o,
				       struct sockaddr_in *sin)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	unsigned limit = o->connection_limit ? o->connection_limit : 512;
	unsigned timeout = o->timeout_s ? o->timeout_s : 120;
	bool tls = h->cert.len > 0;

	if (tls)
		flags |= MHD_USE_TLS;
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)sin, MHD_OPTION_CONNECTION_LIMIT, limit,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_NOTIFY_COMPLETED, on_done, h,
		tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, h->key.buf,
		MHD_OPTION_HTTPS_MEM_CERT, h->cert.buf, MHD_OPTION_END);
}

int httpd_start(struct httpd **out, const struct httpd_opts *o, struct err *e)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	struct sockaddr_in sin = { 0 };
	const char *host = o->host ? o->host : "127.0.0.1";
	const union MHD_DaemonInfo *info;

	*out = NULL;
	strbuf_init(&h->cert, 0);
	strbuf_init(&h->key, 0);
	h->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	h->pass_too_large = o->pass_too_large;
	h->handler = o->handler;
	h->ctx = o->ctx;
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		err_set(e, EXIT_INVALID, "'%s' is not an IPv4 address", host);
		goto fail;
	}
	if (load_tls(h, o, e) < 0)
		goto fail;
	h->daemon = start_daemon(h, o, &sin);
	if (!h->daemon) {
		err_set(e, EXIT_FAIL, "cannot listen on %s:%u", host, o->port);
		goto fail;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : o->port;
	*out = h;
	return 0;
fail:
	httpd_stop(h);
	return -1;
}

unsigned httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	atomic_store(&h->stopping, true);
	if (h->daemon)
		MHD_stop_daemon(h->daemon);
	strbuf_release(&h->cert);
	strbuf_wipe(&h->key);
	free(h);
}
