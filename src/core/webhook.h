/*
 * webhook.h - a git server's push webhook, checked with the shared secret:
 * GitHub's X-Hub-Signature-256 ("sha256=" and the hex HMAC-SHA256 of the
 * body), Gitea's X-Gitea-Signature (the hex HMAC-SHA256, no prefix) and
 * GitLab's X-Gitlab-Token (the secret itself). Every comparison takes the
 * same time whatever the bytes (CRYPTO_memcmp), so a caller learns nothing
 * from how long a refusal took. Pure: headers and body in, a verdict out.
 */
#ifndef PVE_GITOPS_WEBHOOK_H
#define PVE_GITOPS_WEBHOOK_H

#include <stddef.h>

enum webhook_provider {
	WEBHOOK_GITHUB,
	WEBHOOK_GITEA,
	WEBHOOK_GITLAB,
	WEBHOOK_UNKNOWN, /* none of the three headers */
	WEBHOOK_PROVIDERS
};

enum webhook_verdict {
	WEBHOOK_PUSH,	  /* signed, a push: wake the runner */
	WEBHOOK_IGNORED,  /* signed, another event (ping, issues): nothing */
	WEBHOOK_REJECTED, /* unsigned or wrongly signed: 401 */
	WEBHOOK_VERDICTS
};

/* The headers that matter (NULL when absent). */
struct webhook_headers {
	const char *github_signature; /* X-Hub-Signature-256 */
	const char *github_event;     /* X-GitHub-Event */
	const char *gitea_signature;  /* X-Gitea-Signature */
	const char *gitea_event;      /* X-Gitea-Event */
	const char *gitlab_token;     /* X-Gitlab-Token */
	const char *gitlab_event;     /* X-Gitlab-Event */
};

/*
 * The verdict on a request with headers h and body[0..len), for secret
 * (non-empty); *provider says whose headers it carried. A request is
 * judged by one signature only: Gitea's when it is there (Gitea also
 * sends GitHub's headers), else GitHub's, else GitLab's token; without
 * any it is rejected, counted under the provider its event header names.
 */
enum webhook_verdict webhook_check(enum webhook_provider *provider,
				   const struct webhook_headers *h,
				   const char *body, size_t len,
				   const char *secret);

/* "github", "gitea", "gitlab", "unknown"; "push", "ignored", "rejected". */
const char *webhook_provider_name(enum webhook_provider p);
const char *webhook_verdict_name(enum webhook_verdict v);

#endif
