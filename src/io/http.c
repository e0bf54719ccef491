/*
 * http.c - libcurl behind http.h. Certificate pinning hooks OpenSSL's
 * verification through CURLOPT_SSL_CTX_FUNCTION: the leaf certificate's
 * SHA-256 must equal the pin, and then the chain need not lead to a CA
 * (a Proxmox node's self-signed certificate), exactly as `fingerprint=`
 * works in Proxmox itself. Without a pin the same hook only watches
 * OpenSSL's verdict, so that a refused certificate (a wrong pin, a
 * self-signed node) is reported with the fingerprint to pin: CURLINFO_CERTINFO
 * is filled only after a handshake that succeeded, which a refused
 * certificate never has.
 */
#include "io/http.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/pve_format.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/url.h"

void http_opts_from_config(struct http_opts *o, const struct config *cfg)
{
	o->connect_timeout_ms = (long)cfg->http.connect_timeout_seconds * 1000;
	o->low_speed_s = (long)cfg->http.low_speed_seconds;
	o->timeout_ms = (long)cfg->http.timeout_seconds * 1000;
}

/* The client the handshake runs for: CURLOPT_SSL_CTX_DATA, kept there
 * as the SSL_CTX's app data by ssl_ctx_cb. */
static struct http_client *ctx_client(X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		ctx, SSL_get_ex_data_X509_STORE_CTX_idx());

	return ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
}

/* Keep the SHA-256 of the server's certificate (the leaf) for messages. */
static bool note_peer(struct http_client *c, X509_STORE_CTX *ctx)
{
	X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
	unsigned len = 0;

	if (!leaf || !X509_digest(leaf, EVP_sha256(), c->peer, &len) ||
	    len != 32)
		return false;
	c->has_peer = true;
	return true;
}

static int verify_pin(int preverify_ok, X509_STORE_CTX *ctx)
{
	struct http_client *c = ctx_client(ctx);

	(void)preverify_ok;
	if (!c || !X509_STORE_CTX_get_current_cert(ctx))
		return 0;
	if (X509_STORE_CTX_get_error_depth(ctx) > 0)
		return 1; /* the chain does not matter: the leaf is pinned */
	if (!note_peer(c, ctx) || CRYPTO_memcmp(c->peer, c->pin, 32)) {
		c->pin_mismatch = c->has_peer;
		X509_STORE_CTX_set_error(ctx,
					 X509_V_ERR_CERT_SIGNATURE_FAILURE);
		return 0;
	}
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

/* Without a pin OpenSSL decides; a chain it refuses is noted, with the
 * certificate's fingerprint, for the message that suggests a pin. */
static int verify_note(int preverify_ok, X509_STORE_CTX *ctx)
{
	struct http_client *c = ctx_client(ctx);

	if (c && !preverify_ok && !c->chain_refused)
		c->chain_refused = note_peer(c, ctx);
	return preverify_ok;
}

/* arg is the client (CURLOPT_SSL_CTX_DATA); the verify callbacks find it
 * there. With a pin the leaf's digest decides; else libcurl's mode stays. */
static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *arg)
{
	const struct http_client *c = arg;

	(void)curl;
	SSL_CTX_set_app_data((SSL_CTX *)ssl_ctx, arg);
	if (c->has_pin)
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, verify_pin);
	else
		SSL_CTX_set_verify(ssl_ctx, SSL_CTX_get_verify_mode(ssl_ctx),
				   verify_note);
	return CURLE_OK;
}

int http_client_init(struct http_client *c, const struct http_opts *o,
		     struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->opts = *o;
	if (o->fingerprint) {
		struct strbuf why = STRBUF_INIT;

		if (pve_parse_fingerprint(c->pin, o->fingerprint, &why) < 0) {
			err_set(e, EXIT_INVALID, "tls_fingerprint: %s",
				why.buf);
			strbuf_release(&why);
			return -1;
		}
		c->has_pin = true;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		return err_set(e, EXIT_FAIL, "cannot initialise libcurl");
	return 0;
}

void http_client_release(struct http_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

void http_response_release(struct http_response *r)
{
	strbuf_release(&r->reason);
	strbuf_release(&r->body);
	r->status = 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct strbuf *sb = arg;

	if (sb->len + size * n > (64u << 20))
		return 0; /* refuse absurd answers */
	strbuf_add(sb, p, size * n);
	return size * n;
}

/* Keep the reason phrase of the last status line. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n, i;

	if (len > 9 && !strncmp(p, "HTTP/", 5)) {
		const char *sp = memchr(p, ' ', len);

		strbuf_reset(&r->reason);
		if (sp && (size_t)(sp - p) + 5 <= len) {
			const char *reason = sp + 5; /* " 500 " */

			for (i = (size_t)(reason - p); i < len; i++)
				if (p[i] != '\r' && p[i] != '\n')
					strbuf_addch(&r->reason, p[i]);
		}
	}
	return len;
}

int http_check_scheme(const char *url, const struct http_opts *o, struct err *e)
{
	const char *what = o->fingerprint ? "a pinned certificate fingerprint"
			   : o->ca_file	  ? "a CA file"
			   : o->ca_path	  ? "a CA directory"
					  : NULL;
	struct strbuf shown = STRBUF_INIT;

	if (what && !strncmp(url, "http://", 7)) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "%s is plain HTTP, but %s is configured for "
			 "it: use https://, or drop the TLS setting",
			 url_redacted(&shown, url), what);
		strbuf_release(&shown);
		return -1;
	}
	return 0;
}

/*
 * libcurl's sockets are inherited by the programs we spawn (git from the
 * lease's thread, ansible-playbook, ssh) unless made close-on-exec when
 * they are made: libcurl 7.88 does not.
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	(void)arg;
	(void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* HTTP_ONCE: the first attempt goes out, libcurl's re-send does not. */
static int once_prereq(void *arg, char *ip, char *local_ip, int port,
		       int local_port)
{
	struct http_client *c = arg;

	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	if (c->sends++ == 0)
		return CURL_PREREQFUNC_OK;
	c->resend_refused = true;
	return CURL_PREREQFUNC_ABORT;
}

static void set_tls(struct http_client *c, CURL *h)
{
	if (c->opts.insecure && !c->has_pin) { /* a pin always verifies */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		return;
	}
	if (c->opts.ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->opts.ca_file);
	if (c->opts.ca_path)
		curl_easy_setopt(h, CURLOPT_CAPATH, c->opts.ca_path);
	if (c->has_pin) {
		/* the pin decides: no need to load the system CA store
		 * (it costs megabytes of memory and milliseconds) */
		if (!c->opts.ca_file && !c->opts.ca_path) {
			curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
			curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		}
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* pinned or not, the callback sees the server's certificate, so a
	 * refusal can name its fingerprint (libcurl's OpenSSL back end) */
	curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
}

/*
 * What a refused certificate means, with the server's fingerprint: a pin
 * that does not match, or (no pin) a chain OpenSSL refused, typically a
 * Proxmox node's self-signed certificate. false when neither was seen.
 */
static bool describe_tls(struct strbuf *out, const struct http_client *c,
			 const char *errbuf)
{
	if (c->pin_mismatch) {
		strbuf_addstr(out, "certificate fingerprint mismatch: the "
				   "server's certificate has the SHA-256 "
				   "fingerprint ");
		pve_format_fingerprint(out, c->peer);
		strbuf_addstr(out, ", proxmox.tls_fingerprint pins ");
		pve_format_fingerprint(out, c->pin);
		strbuf_addstr(out, "; if the node's certificate was renewed, "
				   "check the new fingerprint on the node "
				   "(pvenode cert info) and update the pin");
		return true;
	}
	if (!c->chain_refused || c->has_pin)
		return false;
	strbuf_addf(out,
		    "%s; the server's certificate has the SHA-256 "
		    "fingerprint ",
		    errbuf[0] ? errbuf : "certificate verification failed");
	pve_format_fingerprint(out, c->peer);
	strbuf_addstr(out,
		      ": if it is the node's own certificate (check it on the "
		      "node: pvenode cert info), pin it with "
		      "proxmox.tls_fingerprint, or name its CA in "
		      "proxmox.tls_ca_file (for Vault: VAULT_CACERT)");
	return true;
}

/* The limits of one request; *total_ms is its total deadline. */
static void set_limits(struct http_client *c, CURL *h, long *total_ms)
{
	long connect = c->opts.connect_timeout_ms ? c->opts.connect_timeout_ms
						  : 10000L;
	long low = c->opts.low_speed_s ? c->opts.low_speed_s : 30L;

	*total_ms = c->opts.timeout_ms ? c->opts.timeout_ms : 300000L;
	if (c->deadline) {
		uint64_t now = mono_ms();
		long left = c->deadline > now ? (long)(c->deadline - now) : 1L;

		if (left < *total_ms)
			*total_ms = left;
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 connect < *total_ms ? connect : *total_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, low);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, *total_ms);
}

/*
 * Which limit a CURLE_OPERATION_TIMEDOUT hit, as text naming its config
 * key: not connected yet (TCP, or TLS for https) is the connect timeout;
 * the whole deadline used up (total_ms, which the caller's deadline may
 * have cut short) is the total one; else the low-speed limit.
 */
static void describe_timeout(struct strbuf *out, struct http_client *c, CURL *h,
			     const char *url, long total_ms)
{
	curl_off_t conn = 0, app = 0, took = 0;
	bool tls = !strncmp(url, "https://", 8);
	long connect_ms = c->opts.connect_timeout_ms
				  ? c->opts.connect_timeout_ms
				  : 10000L;

	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &took);
	if ((!conn || (tls && !app)) && took / 1000 + 100 >= connect_ms)
		strbuf_addf(out,
			    "timed out: no connection within %ld s "
			    "(http.connect_timeout_seconds)",
			    connect_ms / 1000);
	else if (took / 1000 + 100 >= total_ms)
		strbuf_addf(
			out,
			"timed out: no complete answer within the "
			"deadline of %ld s (http.timeout_seconds, "
			"retries included)",
			(c->opts.timeout_ms ? c->opts.timeout_ms : 300000L) /
				1000);
	else
		strbuf_addf(out,
			    "timed out: less than 1 byte/s for %ld s "
			    "(http.low_speed_seconds)",
			    c->opts.low_speed_s ? c->opts.low_speed_s : 30L);
}

static enum http_error error_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return HTTP_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_URL_MALFORMAT:
		return HTTP_ERR_BADURL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return HTTP_ERR_TLS;
	default:
		return HTTP_ERR_OTHER;
	}
}

/* The failure of rc as e: "METHOD URL: cause", the URL redacted. */
static int transport_error(struct http_client *c, CURL *h, CURLcode rc,
			   const char *method, const char *url,
			   const char *errbuf, long total_ms,
			   enum http_error *kind, struct err *e)
{
	struct strbuf cause = STRBUF_INIT, shown = STRBUF_INIT;

	*kind = error_kind(rc);
	if (*kind == HTTP_ERR_TIMEOUT)
		describe_timeout(&cause, c, h, url, total_ms);
	else if (rc == CURLE_ABORTED_BY_CALLBACK && c->resend_refused)
		strbuf_addstr(&cause, "the connection closed before an answer "
				      "came; not sent again (it may have "
				      "been carried out)");
	else if (describe_tls(&cause, c, errbuf))
		*kind = HTTP_ERR_TLS;
	else
		strbuf_addstr(&cause,
			      errbuf[0] ? errbuf : curl_easy_strerror(rc));
	err_setk(e, *kind == HTTP_ERR_TIMEOUT ? ERR_TIMEOUT : ERR_GENERIC,
		 EXIT_FAIL, "%s %s: %s", method, url_redacted(&shown, url),
		 cause.buf);
	strbuf_release(&cause);
	strbuf_release(&shown);
	return -1;
}

int http_request(struct http_client *c, const char *method, const char *url,
		 const struct strvec *headers, const char *body, int flags,
		 struct http_response *out, enum http_error *kind,
		 struct err *e)
{
	CURL *h = c->curl;
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long total_ms;
	CURLcode rc;
	size_t i;

	*kind = HTTP_ERR_NONE;
	curl_easy_reset(h);
	strbuf_reset(&out->body);
	strbuf_reset(&out->reason);
	out->status = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	set_limits(c, h, &total_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	c->sends = 0;
	c->resend_refused = false;
	if (flags & HTTP_ONCE) {
		/* without the callback (libcurl before 7.80), a connection of
		 * its own: a failure to connect then means nothing was sent */
		if (curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, once_prereq) !=
		    CURLE_OK)
			curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_PREREQDATA, c);
	}
	c->pin_mismatch = c->chain_refused = c->has_peer = false;
	set_tls(c, h);
	for (i = 0; headers && i < headers->nr; i++)
		hl = curl_slist_append(hl, headers->v[i]);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* errbuf dies here */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
		return 0;
	}
	/* sent once on a reused connection that died, then libcurl's new
	 * connection for the re-send failed: the request may have been
	 * carried out, so it is lost, not "could not connect" (which a
	 * caller may retry) */
	if ((flags & HTTP_ONCE) && c->sends > 0 && !c->resend_refused &&
	    (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)) {
		c->resend_refused = true;
		rc = CURLE_ABORTED_BY_CALLBACK;
	}
	return transport_error(c, h, rc, method, url, errbuf, total_ms, kind,
			       e);
}

/*
 * Once per key and process: the environment and the config do not change
 * while it runs, but run and watch open a Proxmox client for each stage
 * and each round, and the warning would repeat with every one.
 */
static bool endpoint_warned(const char *key)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char warned[4][32];
	bool seen = false;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < 4 && warned[i][0] && !seen; i++)
		seen = !strcmp(warned[i], key);
	if (!seen && i < 4)
		snprintf(warned[i], sizeof(warned[i]), "%s", key);
	pthread_mutex_unlock(&lock);
	return seen;
}

void http_endpoint_ignored(const char *key, const char *cfg_url,
			   const char *var, const char *env_url)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (endpoint_warned(key))
		return;
	report_warning("%s %s in pve-gitops.yaml is ignored: %s is set (%s)",
		       key, url_redacted(&a, cfg_url), var,
		       url_redacted(&b, env_url));
	strbuf_release(&a);
	strbuf_release(&b);
}
