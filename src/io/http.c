/*
 * http.c - libcurl behind http.h. Certificate pinning hooks OpenSSL's
 * verification through CURLOPT_SSL_CTX_FUNCTION: the leaf certificate's
 * SHA-256 must equal the pin, and then the chain need not lead to a CA
 * (a Proxmox node's self-signed certificate), exactly as `fingerprint=`
 * works in Proxmox itself.
 */
#include "io/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

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

int http_parse_fingerprint(unsigned char out[32], const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++) {
		int hi, lo;

		if (!isxdigit((unsigned char)s[0]) ||
		    !isxdigit((unsigned char)s[1]))
			return -1;
		hi = isdigit((unsigned char)s[0]) ? s[0] - '0'
						  : (tolower(s[0]) - 'a' + 10);
		lo = isdigit((unsigned char)s[1]) ? s[1] - '0'
						  : (tolower(s[1]) - 'a' + 10);
		out[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
		if (i < 31 && *s++ != ':')
			return -1;
	}
	return *s ? -1 : 0;
}

static int verify_pin(int preverify_ok, X509_STORE_CTX *ctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct http_client *c =
		ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	(void)preverify_ok;
	if (!c || !cert)
		return 0;
	if (X509_STORE_CTX_get_error_depth(ctx) > 0)
		return 1; /* the chain does not matter: the leaf is pinned */
	if (!X509_digest(cert, EVP_sha256(), md, &len) || len != 32 ||
	    CRYPTO_memcmp(md, c->pin, 32)) {
		X509_STORE_CTX_set_error(ctx,
					 X509_V_ERR_CERT_SIGNATURE_FAILURE);
		return 0;
	}
	X509_STORE_CTX_set_error(ctx, X509_V_OK);
	return 1;
}

/* arg is the client (CURLOPT_SSL_CTX_DATA); verify_pin finds it there. */
static CURLcode ssl_ctx_cb(CURL *curl, void *ssl_ctx, void *arg)
{
	(void)curl;
	SSL_CTX_set_app_data((SSL_CTX *)ssl_ctx, arg);
	SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, verify_pin);
	return CURLE_OK;
}

int http_client_init(struct http_client *c, const struct http_opts *o,
		     struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->opts = *o;
	if (o->fingerprint) {
		if (http_parse_fingerprint(c->pin, o->fingerprint) < 0)
			return err_set(e, EXIT_INVALID,
				       "tls_fingerprint: expected 32 "
				       "colon-separated hex pairs (SHA-256)");
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
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	}
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
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	set_limits(c, h, &total_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
	if (flags & HTTP_ONCE)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	set_tls(c, h);
	if (c->has_pin)
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c);
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
	return transport_error(c, h, rc, method, url, errbuf, total_ms, kind,
			       e);
}

void http_endpoint_ignored(const char *key, const char *cfg_url,
			   const char *var, const char *env_url)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	report_warning("%s %s in pve-gitops.yaml is ignored: %s is set (%s)",
		       key, url_redacted(&a, cfg_url), var,
		       url_redacted(&b, env_url));
	strbuf_release(&a);
	strbuf_release(&b);
}
