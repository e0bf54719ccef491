/*
 * httpd.h - a small HTTP(S) server over libmicrohttpd, knowing nothing of
 * what it serves: one thread per connection, TLS from a certificate and
 * key in memory or in files, the request body read whole up to a cap,
 * and one callback per request that fills a reply (status, body, headers,
 * and a reason phrase of its own when it wants one).
 *
 * Used by proxmox-sim and vault-sim, and meant for a status server in the
 * main program. It lives in its own library (pve_httpd), so that a program
 * which does not serve HTTP does not link libmicrohttpd.
 *
 * A reply's reason phrase ("500 VM 101 is locked (clone)", the way Proxmox
 * sends its error message) works through symbol interposition: httpd.c
 * defines libmicrohttpd's MHD_get_reason_phrase_for() and
 * MHD_get_reason_phrase_len_for(), which libmicrohttpd calls from the
 * thread that answers; they return the phrase set for that thread's reply
 * and fall back to libmicrohttpd's own table otherwise.
 */
#ifndef PVE_GITOPS_HTTPD_H
#define PVE_GITOPS_HTTPD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct httpd;
struct MHD_Connection;

/* One request, complete; valid for the duration of the callback only. */
struct httpd_request {
	const char *method;  /* as sent: "GET", "LIST", ... */
	const char *path;    /* the URL path, without the query */
	const char *version; /* "HTTP/1.1" */
	const char *body;    /* NUL-terminated; "" when there is none */
	size_t body_len;
	bool body_too_large; /* more than max_body was sent (body is "") */
	struct MHD_Connection *conn; /* private: use the accessors below */
};

/* What the callback answers; starts as an empty 200 without headers. */
struct httpd_reply {
	unsigned status;
	struct strbuf body;    /* sent as is; wiped after sending */
	struct strvec headers; /* name, value, name, value, ... */
	struct strbuf reason;  /* empty: the standard reason phrase */
	bool drop;	       /* close the connection, answer nothing */
	/* a broken server, for the simulators' faults: */
	bool hang;	 /* answer nothing, keep the connection, until stop */
	long trickle_ms; /* > 0: send the body one byte per trickle_ms */
};

/*
 * The request handler: called once per request with the body read; fills
 * out. Runs on the connection's thread, so handlers may block, and several
 * run at once.
 */
typedef void httpd_handler_fn(void *ctx, const struct httpd_request *rq,
			      struct httpd_reply *out);

struct httpd_opts {
	const char *host; /* an IPv4 address to bind; NULL: 127.0.0.1 */
	unsigned port;	  /* 0: any free port (see httpd_port()) */
	/* HTTPS with a PEM certificate and key: in memory (NUL-terminated)
	 * or, when the memory ones are NULL, read from files. Neither: HTTP. */
	const char *cert_pem, *key_pem;
	const char *cert_file, *key_file;
	size_t max_body; /* 0: 1 MiB */
	/*
	 * A body over max_body: by default httpd answers 413 with
	 * {"error": "request body too large"} itself; with pass_too_large
	 * the handler is called with body_too_large set and answers.
	 */
	bool pass_too_large;
	unsigned connection_limit; /* 0: 512 */
	unsigned timeout_s;	   /* idle connection timeout; 0: 120 */
	httpd_handler_fn *handler;
	void *ctx; /* given to handler */
};

/*
 * Start serving on opts->host:opts->port. On success *out is the server
 * (stop it with httpd_stop()); on failure -1 with e set (EXIT_INVALID for
 * a bad address or unreadable certificate files, EXIT_FAIL when the
 * address cannot be bound). opts's strings need not outlive the call.
 */
int httpd_start(struct httpd **out, const struct httpd_opts *opts,
		struct err *e);
/* The port bound (the free one picked for port 0). */
unsigned httpd_port(const struct httpd *h);
/* Stop serving, wait for the connection threads, free h. NULL: nothing. */
void httpd_stop(struct httpd *h);

/* A query argument or header of rq (header names ignore case); NULL when
 * absent. The string belongs to the request. */
const char *httpd_query(const struct httpd_request *rq, const char *name);
const char *httpd_header(const struct httpd_request *rq, const char *name);
const char *httpd_cookie(const struct httpd_request *rq, const char *name);
/* Call fn for each query argument in the order sent (value "" if none). */
void httpd_query_foreach(const struct httpd_request *rq,
			 void (*fn)(void *ctx, const char *name,
				    const char *value),
			 void *ctx);

/* Add a header to the reply (copied). */
void httpd_reply_header(struct httpd_reply *out, const char *name,
			const char *value);
/*
 * Set the reason phrase (copied; CR and LF become spaces, trailing spaces
 * are dropped, at most 511 bytes). NULL or "": the standard phrase.
 */
void httpd_reply_reason(struct httpd_reply *out, const char *reason);

enum httpd_json_flags {
	HTTPD_JSON_NEWLINE = 1 << 0, /* end the body with '\n' */
};

/*
 * Answer status with body as compact JSON and Content-Type content_type
 * (NULL: "application/json"). body NULL: no body and no Content-Type.
 * body is not stolen.
 */
void httpd_reply_json(struct httpd_reply *out, unsigned status,
		      const json_t *body, const char *content_type,
		      unsigned flags);

#endif
