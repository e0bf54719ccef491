/*
 * tlsprobe.c - a TLS handshake with a cluster's API server; see
 * tlsprobe.h.
 */
#include "io/tlsprobe.h"

#include <string.h>

#include <curl/curl.h>

#include "util/exitcode.h"
#include "util/strbuf.h"
#include "util/url.h"

static int b64_value(unsigned char c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* Standard base64 (padding optional, no white space) into out; 0 or -1. */
static int b64_decode(struct strbuf *out, const char *s)
{
	unsigned acc = 0;
	int bits = 0, v;

	for (; *s && *s != '='; s++) {
		if ((v = b64_value((unsigned char)*s)) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	while (*s == '=')
		s++;
	return *s ? -1 : 0;
}

static int probe_error(CURLcode rc, const char *shown, const char *why,
		       struct err *e)
{
	enum err_kind kind;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		kind = ERR_TIMEOUT;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		kind = ERR_LOST;
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		kind = ERR_INVALID;
		break;
	default:
		kind = ERR_PERMANENT;
	}
	return err_setk(e, kind, EXIT_FAIL, "%s %s: %s", shown,
			kind == ERR_PERMANENT ? "refused the TLS handshake"
			: kind == ERR_INVALID ? "is not an https:// URL"
					      : "does not answer",
			why[0] ? why : curl_easy_strerror(rc));
}

int tls_probe(const char *url, const char *ca_b64, long timeout_ms,
	      struct err *e)
{
	char why[CURL_ERROR_SIZE] = "";
	struct strbuf ca = STRBUF_INIT, shown = STRBUF_INIT;
	struct curl_blob blob;
	CURLcode rc;
	CURL *h = NULL;
	int ret = -1;

	url_redacted(&shown, url);
	if (strncmp(url, "https://", 8)) {
		err_setk(e, ERR_INVALID, EXIT_FAIL, "%s is not an https:// URL",
			 shown.buf);
		goto out;
	}
	if (ca_b64 && b64_decode(&ca, ca_b64) < 0) {
		err_setk(e, ERR_INVALID, EXIT_FAIL,
			 "the certificate-authority-data of %s is not base64",
			 shown.buf);
		goto out;
	}
	if (!(h = curl_easy_init())) {
		err_set(e, EXIT_FAIL, "cannot start a TLS connection");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	if (ca.len) {
		blob.data = ca.buf;
		blob.len = ca.len;
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	rc = curl_easy_perform(h);
	ret = rc == CURLE_OK ? 0 : probe_error(rc, shown.buf, why, e);
out:
	if (h)
		curl_easy_cleanup(h);
	strbuf_release(&ca);
	strbuf_release(&shown);
	return ret;
}
