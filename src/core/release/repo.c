/*
 * repo.c - the web address of a repository from its remote URL, as
 * release-notes-generator's index.js and lib/hosts-config.js find it: the
 * host, owner and repository for links, and the closing keywords and
 * issue prefixes of the host.
 */
#include "core/release/release_int.h"

static const char *const actions_github[] = { "close",	 "closes",   "closed",
					      "fix",	 "fixes",    "fixed",
					      "resolve", "resolves", "resolved",
					      NULL };
static const char *const actions_gitlab[] = { "close",	 "closes", "closed",
					      "closing", "fix",	   "fixes",
					      "fixed",	 "fixing", NULL };
static const char *const actions_all[] = { "close",    "closes",   "closed",
					   "closing",  "fix",	   "fixes",
					   "fixed",    "fixing",   "resolve",
					   "resolves", "resolved", "resolving",
					   NULL };
static const char *const prefixes_hash[] = { "#", NULL };
static const char *const prefixes_gh[] = { "#", "gh-", NULL };

/* lib/hosts-config.js */
void release_repo_defaults(struct release_repo *r, const char *hostname)
{
	r->issue_path = "issues";
	r->commit_path = "commit";
	r->actions = actions_all;
	r->prefixes = prefixes_gh;
	if (!hostname)
		return;
	if (!strcmp(hostname, "github.com")) {
		r->actions = actions_github;
	} else if (!strcmp(hostname, "gitlab.com")) {
		r->actions = actions_gitlab;
		r->prefixes = prefixes_hash;
	} else if (!strcmp(hostname, "bitbucket.org")) {
		r->issue_path = "issue";
		r->commit_path = "commits";
		r->prefixes = prefixes_hash;
	}
}

static int special_scheme(const char *scheme, size_t len)
{
	static const char *const names[] = { "http", "https", "ws",
					     "wss",  "ftp",   NULL };
	size_t i;

	for (i = 0; names[i]; i++)
		if (strlen(names[i]) == len && !strncmp(scheme, names[i], len))
			return 1;
	return 0;
}

/* The port the WHATWG URL parser drops as the scheme's default. */
static int default_port(const char *scheme, size_t len, const char *port,
			size_t plen)
{
	const char *d = NULL;

	if (len == 4 && !strncmp(scheme, "http", 4))
		d = "80";
	else if (len == 5 && !strncmp(scheme, "https", 5))
		d = "443";
	else if (len == 2 && !strncmp(scheme, "ws", 2))
		d = "80";
	else if (len == 3 && !strncmp(scheme, "wss", 3))
		d = "443";
	else if (len == 3 && !strncmp(scheme, "ftp", 3))
		d = "21";
	return d && strlen(d) == plen && !strncmp(d, port, plen);
}

/* scheme://[userinfo@]host[:port][/path][?q][#f] into its parts; the
 * path up to ? or #. Returns -1 when it is not of that shape. */
static int url_split(const char *u, struct strbuf *scheme, struct strbuf *host,
		     struct strbuf *port, struct strbuf *path)
{
	const char *p = strstr(u, "://"), *auth, *end, *at, *colon;
	size_t i;

	if (!p || p == u)
		return -1;
	for (i = 0; u + i < p; i++)
		if (!js_is_word((unsigned char)u[i]) && !strchr("+-.", u[i]))
			return -1;
	strbuf_add(scheme, u, (size_t)(p - u));
	for (i = 0; i < scheme->len; i++)
		scheme->buf[i] = (char)js_lower((unsigned char)scheme->buf[i]);
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		auth = at + 1;
	colon = NULL;
	for (p = auth; p < end; p++)
		if (*p == ':' && !memchr(p, ']', (size_t)(end - p)))
			colon = p;
	strbuf_add(host, auth, (size_t)((colon ? colon : end) - auth));
	if (colon) {
		strbuf_add(port, colon + 1, (size_t)(end - colon - 1));
		for (i = 0; i < port->len; i++)
			if (port->buf[i] < '0' || port->buf[i] > '9')
				return -1;
		while (port->len > 1 && port->buf[0] == '0')
			memmove(port->buf, port->buf + 1, port->len--);
	}
	strbuf_add(path, end, strcspn(end, "?#"));
	return 0;
}

/* ^\/(?<owner>[^/]+)?\/?(?<repository>.+)?$ over the path. */
static void url_owner_repo(struct release_repo *r, const char *path)
{
	size_t n;

	if (path[0] != '/')
		return;
	path++;
	n = strcspn(path, "/");
	if (n)
		r->owner = xstrndup(path, n);
	path += n;
	if (*path == '/')
		path++;
	if (*path)
		r->repository = xstrdup(path);
}

/* ^(?!.+:\/\/)(?:(?<auth>.*)@)?(?<host>.*?):(?<path>.*)$ : an scp-like
 * [auth@]host:path (no "://" after the first character) becomes
 * ssh://[auth@]host/path. */
static void scp_to_ssh(struct strbuf *u)
{
	struct strbuf s = STRBUF_INIT;
	const char *p, *at = NULL, *colon;

	if (!u->len || strstr(u->buf + 1, "://") || !strchr(u->buf, ':'))
		return;
	for (p = u->buf; *p; p++)
		if (*p == '@' && strchr(p, ':'))
			at = p;
	colon = strchr(at ? at : u->buf, ':');
	strbuf_addstr(&s, "ssh://");
	strbuf_add(&s, u->buf, (size_t)(colon - u->buf));
	strbuf_addch(&s, '/');
	strbuf_addstr(&s, colon + 1);
	strbuf_release(u);
	*u = s;
}

/* format({protocol, hostname, port}): http when the scheme matches
 * /http[^s]/, else https; no port for ssh. */
static char *web_host(const char *scheme, const char *host, const char *port)
{
	struct strbuf h = STRBUF_INIT;
	const char *http = strstr(scheme, "http");
	bool plain = false;

	while (http && !plain) {
		plain = http[4] != 's';
		http = strstr(http + 1, "http");
	}
	strbuf_addstr(&h, plain ? "http://" : "https://");
	strbuf_addstr(&h, host);
	if (*port && !strstr(scheme, "ssh"))
		strbuf_addf(&h, ":%s", port);
	return strbuf_detach(&h, NULL);
}

int release_repo_parse(struct release_repo *out, const char *url)
{
	struct strbuf u = STRBUF_INIT, scheme = STRBUF_INIT, host = STRBUF_INIT;
	struct strbuf port = STRBUF_INIT, path = STRBUF_INIT;
	struct release_repo r = { 0 };
	size_t i;
	int ret = -1;

	strbuf_addstr(&u, url ? url : "");
	strbuf_trim(&u);
	if (u.len >= 4 && js_ci_prefix(u.buf + u.len - 4, 4, ".git"))
		strbuf_setlen(&u, u.len - 4);
	scp_to_ssh(&u);
	if (url_split(u.buf, &scheme, &host, &port, &path) < 0 || !host.len ||
	    !strcmp(scheme.buf, "file"))
		goto out;
	if (special_scheme(scheme.buf, scheme.len)) {
		for (i = 0; i < host.len; i++)
			host.buf[i] =
				(char)js_lower((unsigned char)host.buf[i]);
		if (default_port(scheme.buf, scheme.len, port.buf, port.len))
			strbuf_reset(&port);
	}
	url_owner_repo(&r, path.buf);
	if (!r.owner || !r.repository)
		goto out;
	release_repo_defaults(&r, host.buf);
	r.host = web_host(scheme.buf, host.buf, port.buf);
	ret = 0;
out:
	if (ret < 0) {
		release_repo_release(&r);
		release_repo_defaults(&r, NULL);
	}
	*out = r;
	strbuf_release(&u);
	strbuf_release(&scheme);
	strbuf_release(&host);
	strbuf_release(&port);
	strbuf_release(&path);
	return ret;
}

void release_repo_release(struct release_repo *r)
{
	free(r->host);
	free(r->owner);
	free(r->repository);
	memset(r, 0, sizeof(*r));
}
