/*
 * url.c - URLs without their credentials; see url.h.
 *
 * The authority runs from the "//" after the scheme to the first '/', '?'
 * or '#' (RFC 3986 section 3.2); its userinfo ends at the last '@' in it,
 * since a password may hold an unencoded '@' that curl would accept.
 */
#include "util/url.h"

#include <string.h>

void url_redact(struct strbuf *out, const char *url)
{
	const char *sep = strstr(url, "://");
	const char *auth, *end, *at = NULL, *p;

	if (!sep || sep == url || strcspn(url, "/?#") < (size_t)(sep - url)) {
		strbuf_addstr(out, url);
		return;
	}
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at) {
		strbuf_addstr(out, url);
		return;
	}
	strbuf_add(out, url, (size_t)(auth - url));
	strbuf_addstr(out, "***");
	strbuf_addstr(out, at);
}

const char *url_redacted(struct strbuf *buf, const char *url)
{
	strbuf_reset(buf);
	url_redact(buf, url ? url : "");
	return buf->buf;
}
