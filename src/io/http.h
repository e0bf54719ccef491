/*
 * http.h - one HTTPS client connection (libcurl), as the Proxmox and Vault
 * clients use it: TLS verified by default, a CA file, or a pinned SHA-256
 * certificate fingerprint for a self-signed node certificate (verification
 * replaced by the pin, never simply turned off); every request bounded by
 * a connect timeout, a low-speed limit and a total deadline (config
 * section http:), a timeout failing with ERR_TIMEOUT and naming the limit
 * that was hit; the status line's reason phrase kept, because Proxmox puts
 * its error message there. URLs reach messages with their userinfo
 * redacted (util/url.h).
 *
 * One http_client per thread; it keeps its connection alive between calls.
 */
#ifndef PVE_GITOPS_HTTP_H
#define PVE_GITOPS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct http_opts {
	const char *ca_file;	 /* trust these CAs instead of the system's */
	const char *ca_path;	 /* or a hashed directory of them (c_rehash) */
	const char *fingerprint; /* "AB:CD:..." SHA-256 of the certificate */
	bool insecure;		 /* no verification at all (warned about) */
	long connect_timeout_ms; /* TCP and TLS handshake; 0: 10 s */
	long low_speed_s;	 /* abort below 1 byte/s for this long; 0: 30 */
	long timeout_ms;	 /* whole request; 0: 300 s */
};

struct http_client {
	void *curl; /* CURL * */
	struct http_opts opts;
	unsigned char pin[32];
	bool has_pin;
	/* the last handshake's server certificate (SHA-256), and whether it
	 * failed the pin or OpenSSL's chain verification */
	unsigned char peer[32];
	bool has_peer, pin_mismatch, chain_refused;
	/* HTTP_ONCE: the times this request was about to be sent, and
	 * whether a second time (libcurl's re-send) was refused */
	unsigned sends;
	bool resend_refused;
	/*
	 * mono_ms() by which every request must have ended (0: none): a
	 * caller that retries sets it once, so that its retries together
	 * stay within one deadline instead of multiplying it.
	 */
	uint64_t deadline;
};

struct http_response {
	long status;	      /* 0 when no response arrived */
	struct strbuf reason; /* "VM 101 is locked (clone)" */
	struct strbuf body;
};

#define HTTP_RESPONSE_INIT                  \
	{                                   \
		0, STRBUF_INIT, STRBUF_INIT \
	}

enum http_error {
	HTTP_ERR_NONE,
	HTTP_ERR_CONNECT, /* could not connect; nothing was sent */
	HTTP_ERR_TIMEOUT, /* the request may or may not have arrived */
	HTTP_ERR_TLS,	  /* verification or pin failed: never retried */
	HTTP_ERR_OTHER,	  /* reset, malformed answer, ... */
	HTTP_ERR_BADURL,  /* curl refused the URL; nothing was sent */
};

/* The limits of cfg's http: section into o (TLS settings untouched). */
void http_opts_from_config(struct http_opts *o, const struct config *cfg);

int http_client_init(struct http_client *c, const struct http_opts *o,
		     struct err *e);

/*
 * A pin or a CA file says the user expects TLS: with an http:// url that
 * is a configuration error (EXIT_INVALID), never a silent downgrade.
 * what names the setting in the message ("proxmox.tls_fingerprint").
 */
int http_check_scheme(const char *url, const struct http_opts *o,
		      struct err *e);
void http_client_release(struct http_client *c);

/*
 * Send a request. headers are "Name: value" lines (secrets allowed: they are
 * never logged); body may be NULL. Returns 0 when an HTTP response arrived
 * (whatever its status), or -1 with *kind set and e describing the
 * transport failure: "METHOD URL: cause", the URL without its userinfo,
 * never a header. A timeout (HTTP_ERR_TIMEOUT) has the kind ERR_TIMEOUT
 * and says which limit was hit, by its config key ("http.timeout_seconds").
 */
/*
 * HTTP_ONCE: a request that must not be sent twice. libcurl re-sends a
 * request on its own when a reused keep-alive connection turns out dead,
 * which for a POST that the server did carry out means doing it twice.
 * Such a request still uses the kept-alive connection (a new one costs a
 * TLS handshake on both sides), but libcurl's second attempt is refused
 * before it is sent (CURLOPT_PREREQFUNCTION): the request fails as one
 * whose answer was lost (HTTP_ERR_OTHER), and the caller checks.
 */
#define HTTP_ONCE 0x1

int http_request(struct http_client *c, const char *method, const char *url,
		 const struct strvec *headers, const char *body, int flags,
		 struct http_response *out, enum http_error *kind,
		 struct err *e);
void http_response_release(struct http_response *r);

/*
 * Warn that KEY's URL in pve-gitops.yaml is ignored because the
 * environment variable VAR names another (both shown redacted, the one
 * used in brackets), once per KEY in the process's life.
 */
void http_endpoint_ignored(const char *key, const char *cfg_url,
			   const char *var, const char *env_url);

#endif
