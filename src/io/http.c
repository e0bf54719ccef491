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

#include "util/exitcode.h"

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

	if (what && !strncmp(url, "http://", 7))
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"%s is plain HTTP, but %s is configured for "
				"it: use https://, or drop the TLS setting",
				url, what);
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

int http_request(struct http_client *c, const char *method, const char *url,
		 const struct strvec *headers, const char *body, int flags,
		 struct http_response *out, enum http_error *kind,
		 struct err *e)
{
	CURL *h = c->curl;
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
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
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 c->opts.connect_timeout_ms ? c->opts.connect_timeout_ms
						    : 10000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
			 c->opts.timeout_ms ? c->opts.timeout_ms : 60000L);
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
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		*kind = HTTP_ERR_CONNECT;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		*kind = HTTP_ERR_TIMEOUT;
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		*kind = HTTP_ERR_TLS;
		break;
	default:
		*kind = HTTP_ERR_OTHER;
	}
	return err_set(e, EXIT_FAIL, "%s %s: %s", method, url,
		       errbuf[0] ? errbuf : curl_easy_strerror(rc));
}
