/*
 * webhook.c - push webhooks checked with the shared secret; see webhook.h.
 */
#include "core/webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <strings.h>

#define SHA256_HEX 64

/* The lower-case hex HMAC-SHA256 of body under secret into out[65]. */
static void hmac_hex(char out[SHA256_HEX + 1], const char *secret,
		     const char *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	     (const unsigned char *)body, len, mac, &n);
	for (i = 0; i < n && i < SHA256_HEX / 2; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[2 * i] = '\0';
	OPENSSL_cleanse(mac, sizeof(mac));
}

/* sig (hex, either case) equals the HMAC of body, in constant time. */
static int hex_matches(const char *sig, const char *secret, const char *body,
		       size_t len)
{
	char want[SHA256_HEX + 1], got[SHA256_HEX + 1];
	size_t i;
	int ok;

	if (strlen(sig) != SHA256_HEX)
		return 0;
	for (i = 0; i < SHA256_HEX; i++) {
		char c = sig[i];

		got[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
	}
	got[SHA256_HEX] = '\0';
	hmac_hex(want, secret, body, len);
	ok = !CRYPTO_memcmp(want, got, SHA256_HEX);
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* token equals secret, in a time that depends on neither's bytes. */
static int token_matches(const char *token, const char *secret)
{
	char a[SHA256_HEX + 1], b[SHA256_HEX + 1];
	int ok;

	/* compare digests: equal lengths whatever the inputs' lengths */
	hmac_hex(a, "pve-gitops token", token, strlen(token));
	hmac_hex(b, "pve-gitops token", secret, strlen(secret));
	ok = !CRYPTO_memcmp(a, b, SHA256_HEX);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	return ok;
}

static enum webhook_verdict event(const char *ev, const char *push,
				  const char *tag_push)
{
	if (ev &&
	    (!strcasecmp(ev, push) || (tag_push && !strcasecmp(ev, tag_push))))
		return WEBHOOK_PUSH;
	return WEBHOOK_IGNORED;
}

enum webhook_verdict webhook_check(enum webhook_provider *provider,
				   const struct webhook_headers *h,
				   const char *body, size_t len,
				   const char *secret)
{
	if (h->gitea_signature) { /* Gitea sends GitHub's headers too */
		*provider = WEBHOOK_GITEA;
		if (!hex_matches(h->gitea_signature, secret, body, len))
			return WEBHOOK_REJECTED;
		return event(h->gitea_event, "push", NULL);
	}
	if (h->github_signature) {
		*provider = WEBHOOK_GITHUB;
		if (strncmp(h->github_signature, "sha256=", 7) ||
		    !hex_matches(h->github_signature + 7, secret, body, len))
			return WEBHOOK_REJECTED;
		return event(h->github_event, "push", NULL);
	}
	if (h->gitlab_token) {
		*provider = WEBHOOK_GITLAB;
		if (!token_matches(h->gitlab_token, secret))
			return WEBHOOK_REJECTED;
		return event(h->gitlab_event, "Push Hook", "Tag Push Hook");
	}
	/* unsigned: whose it claims to be, for the count */
	*provider = h->gitea_event    ? WEBHOOK_GITEA
		    : h->gitlab_event ? WEBHOOK_GITLAB
		    : h->github_event ? WEBHOOK_GITHUB
				      : WEBHOOK_UNKNOWN;
	return WEBHOOK_REJECTED;
}

const char *webhook_provider_name(enum webhook_provider p)
{
	static const char *const names[] = { "github", "gitea", "gitlab",
					     "unknown" };

	return p < WEBHOOK_PROVIDERS ? names[p] : "unknown";
}

const char *webhook_verdict_name(enum webhook_verdict v)
{
	static const char *const names[] = { "push", "ignored", "rejected" };

	return v < WEBHOOK_VERDICTS ? names[v] : "rejected";
}
