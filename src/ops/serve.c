/*
 * serve.c - watch --listen's board and HTTP routes; see serve.h.
 */
#include "ops/serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/metrics.h"
#include "core/webhook.h"
#include "util/exitcode.h"
#include "util/httpd.h"
#include "util/parse.h"
#include "util/xalloc.h"

struct serve {
	struct httpd *httpd;
	struct serve_board *board;
	char url[64];
};

void serve_board_init(struct serve_board *b, const char *secret)
{
	pthread_condattr_t ca;

	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	status_init(&b->st);
	counters_init(&b->requests);
	b->secret = secret && *secret ? secret : NULL;
	b->st.hooks_enabled = b->secret != NULL;
}

void serve_board_release(struct serve_board *b)
{
	status_release(&b->st);
	counters_release(&b->requests);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
}

double serve_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_ms(struct timespec *t, long ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

bool serve_board_sleep(struct serve_board *b, unsigned s,
		       volatile sig_atomic_t *stop)
{
	struct timespec end, slice, now;
	bool woken;

	clock_gettime(CLOCK_MONOTONIC, &end);
	add_ms(&end, (long)s * 1000);
	pthread_mutex_lock(&b->mu);
	while (!b->woken && !*stop) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec ||
		    (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		slice = now;
		add_ms(&slice, 200);
		if (slice.tv_sec > end.tv_sec ||
		    (slice.tv_sec == end.tv_sec && slice.tv_nsec > end.tv_nsec))
			slice = end;
		pthread_cond_timedwait(&b->cv, &b->mu, &slice);
	}
	woken = b->woken;
	b->woken = false;
	pthread_mutex_unlock(&b->mu);
	return woken;
}

void serve_board_wake(struct serve_board *b)
{
	pthread_mutex_lock(&b->mu);
	b->woken = true;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

static void text(struct httpd_reply *out, unsigned status, const char *ctype,
		 const char *body)
{
	out->status = status;
	strbuf_addstr(&out->body, body);
	httpd_reply_header(out, "Content-Type", ctype);
}

static void page(struct serve_board *b, struct httpd_reply *out, bool metrics)
{
	struct status *st = &b->st;
	double now = serve_now();
	unsigned refresh;

	pthread_mutex_lock(&b->mu);
	st->nr_requests = counters_snapshot(&b->requests, st->requests,
					    STATUS_MAX_REQUESTS);
	refresh = st->interval < 30 ? st->interval : 30;
	if (metrics)
		metrics_render(&out->body, st, now);
	else
		status_html(&out->body, st, now, refresh);
	pthread_mutex_unlock(&b->mu);
	out->status = 200;
	httpd_reply_header(out, "Content-Type",
			   metrics ? METRICS_CONTENT_TYPE
				   : "text/html; charset=utf-8");
	httpd_reply_header(out, "Cache-Control", "no-store");
	httpd_reply_header(out, "X-Content-Type-Options", "nosniff");
	if (!metrics)
		httpd_reply_header(out, "Content-Security-Policy",
				   "default-src 'none'; style-src "
				   "'unsafe-inline'; frame-ancestors 'none'");
}

/* /readyz's verdict: NULL when ready, else why not. */
static const char *not_ready(struct serve_board *b)
{
	const struct status *st = &b->st;
	const char *why = NULL;
	double age;

	pthread_mutex_lock(&b->mu);
	age = serve_now() - st->last_fetch;
	if (st->last_fetch <= 0)
		why = "no fetch of the watched branch has worked yet";
	else if (!st->busy && age > 3.0 * st->interval + 30)
		why = "the last fetch that worked is too old";
	pthread_mutex_unlock(&b->mu);
	return why;
}

static void readyz(struct serve_board *b, struct httpd_reply *out)
{
	const char *why = not_ready(b);

	if (!why) {
		text(out, 200, "text/plain; charset=utf-8", "ready\n");
		return;
	}
	text(out, 503, "text/plain; charset=utf-8", "not ready: ");
	strbuf_addf(&out->body, "%s\n", why);
}

static void count_hook(struct serve_board *b, enum webhook_provider p,
		       enum webhook_verdict v)
{
	pthread_mutex_lock(&b->mu);
	b->st.hooks[p][v]++;
	pthread_mutex_unlock(&b->mu);
}

static void hook(struct serve_board *b, const struct httpd_request *rq,
		 struct httpd_reply *out)
{
	struct webhook_headers h = {
		httpd_header(rq, "X-Hub-Signature-256"),
		httpd_header(rq, "X-GitHub-Event"),
		httpd_header(rq, "X-Gitea-Signature"),
		httpd_header(rq, "X-Gitea-Event"),
		httpd_header(rq, "X-Gitlab-Token"),
		httpd_header(rq, "X-Gitlab-Event"),
	};
	enum webhook_provider p = WEBHOOK_UNKNOWN;
	enum webhook_verdict v = WEBHOOK_REJECTED;
	const char *ct = "text/plain; charset=utf-8";

	if (!b->secret) {
		text(out, 403, ct,
		     "webhooks are off: PVE_GITOPS_WEBHOOK_SECRET is not set\n");
		return;
	}
	if (rq->body_too_large) {
		count_hook(b, p, v);
		text(out, 413, ct, "request body too large\n");
		return;
	}
	v = webhook_check(&p, &h, rq->body, rq->body_len, b->secret);
	count_hook(b, p, v);
	if (v == WEBHOOK_REJECTED) {
		text(out, 401, ct, "signature or token missing or wrong\n");
		return;
	}
	if (v == WEBHOOK_PUSH)
		serve_board_wake(b);
	text(out, 202, ct,
	     v == WEBHOOK_PUSH
		     ? "push accepted: fetching now\n"
		     : "event ignored: only pushes wake the runner\n");
}

static bool is(const struct httpd_request *rq, const char *method,
	       const char *path)
{
	return !strcmp(rq->path, path) && !strcmp(rq->method, method);
}

static void route(void *ctx, const struct httpd_request *rq,
		  struct httpd_reply *out)
{
	struct serve_board *b = ctx;
	const char *ct = "text/plain; charset=utf-8";

	if (is(rq, "GET", "/") || is(rq, "GET", "/index.html"))
		page(b, out, false);
	else if (is(rq, "GET", "/metrics"))
		page(b, out, true);
	else if (is(rq, "GET", "/healthz"))
		text(out, 200, ct, "ok\n");
	else if (is(rq, "GET", "/readyz"))
		readyz(b, out);
	else if (is(rq, "POST", "/hooks/push"))
		hook(b, rq, out);
	else if (!strcmp(rq->path, "/hooks/push")) {
		text(out, 405, ct, "method not allowed: POST only\n");
		httpd_reply_header(out, "Allow", "POST");
	} else if (!strcmp(rq->path, "/") || !strcmp(rq->path, "/metrics") ||
		   !strcmp(rq->path, "/healthz") ||
		   !strcmp(rq->path, "/readyz")) {
		text(out, 405, ct, "method not allowed: GET only\n");
		httpd_reply_header(out, "Allow", "GET");
	} else
		text(out, 404, ct, "not found\n");
}

/* "ADDR:PORT" into host (an IPv4 address, checked by httpd) and port. */
static int parse_listen(char *host, size_t size, unsigned *port,
			const char *listen, struct err *e)
{
	const char *colon = strrchr(listen, ':');
	uint64_t p;

	if (!colon || colon == listen || (size_t)(colon - listen) >= size ||
	    parse_u64z(&p, colon + 1, 0, 65535) < 0)
		return err_set(e, EXIT_INVALID,
			       "--listen: '%s' is not ADDR:PORT (an IPv4 "
			       "address and a port from 0 to 65535)",
			       listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	*port = (unsigned)p;
	return 0;
}

int serve_start(struct serve **out, const char *listen,
		struct serve_board *board, struct err *e)
{
	struct httpd_opts ho = { 0 };
	struct serve *s;
	char host[48];

	*out = NULL;
	if (parse_listen(host, sizeof(host), &ho.port, listen, e) < 0)
		return -1;
	ho.host = host;
	ho.max_body = SERVE_MAX_BODY;
	ho.pass_too_large = true;
	ho.connection_limit = 64;
	ho.timeout_s = 30;
	ho.handler = route;
	ho.ctx = board;
	s = xcalloc(1, sizeof(*s));
	s->board = board;
	if (httpd_start(&s->httpd, &ho, e) < 0) {
		free(s);
		return err_prefix(e, "--listen %s", listen);
	}
	snprintf(s->url, sizeof(s->url), "http://%s:%u", host,
		 httpd_port(s->httpd));
	*out = s;
	return 0;
}

const char *serve_url(const struct serve *s)
{
	return s->url;
}

void serve_stop(struct serve *s)
{
	if (!s)
		return;
	httpd_stop(s->httpd);
	free(s);
}
