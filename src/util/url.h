/*
 * url.h - URLs as they may be printed: the userinfo of
 * "https://user:pass@host:8006/" (credentials someone wrote into
 * PM_API_URL, VAULT_ADDR or the config) replaced by asterisks, so that no
 * error, warning, plan or debug line carries them.
 *
 * Every place that puts an endpoint or a request URL into a message goes
 * through url_redact().
 */
#ifndef PVE_GITOPS_URL_H
#define PVE_GITOPS_URL_H

#include "util/strbuf.h"

/*
 * Append url to out with its userinfo (everything between the "://" and the
 * last '@' of the authority) replaced by three asterisks, so that
 * "https://user:pw@host:8006/" becomes "https:" "//" "***@host:8006/".
 * A URL without userinfo, or text that is not a URL, is appended as it is.
 */
void url_redact(struct strbuf *out, const char *url);

/*
 * The redacted url in a buffer of the caller's: resets buf, fills it and
 * returns buf->buf (for a message argument). buf is the caller's to
 * release.
 */
const char *url_redacted(struct strbuf *buf, const char *url);

#endif
