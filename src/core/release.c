/*
 * release.c - semantic-release's next version and notes; see release.h.
 *
 * The upstream code is JavaScript built on regular expressions; each one
 * is reproduced here by hand as a linear scan that finds what the JS
 * engine finds (greedy and lazy parts, its \s, \w and '.', ASCII-only case
 * folding), with the pattern quoted above the function. Text is UTF-8;
 * invalid bytes are first replaced by U+FFFD as Node's decoder does, so
 * that every later scan sees what Node saw.
 *
 * Checked against semantic-release 24.2.9 itself: the table of histories
 * in tests/integration/release.py, the tables of tests/unit/test_release.c,
 * and differential runs of random commit sets through its JS API. Where
 * this code knowingly differs: a message semantic-release throws on is an
 * error here; tags whose version part starts with "=" or "vv" (which pass
 * its semver.clean() and then make it throw) are not releases; without a
 * web URL for the remote there are no links (semantic-release builds
 * broken ones from file:// URLs); sorting outside the characters listed
 * in collation_table is by code point.
 */
#include "core/release.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"
#include "util/xalloc.h"

#define MAX_VERSION_LEN 256
#define MAX_SAFE_INT	9007199254740991ULL

/* ---- characters as ECMAScript regular expressions see them ---- */

/* Length of the WhiteSpace or LineTerminator (JS \s) at s, or 0. */
static size_t js_space(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;

	if (!n)
		return 0;
	if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && s[1] == 0xa0)
		return 2;
	if (n < 3)
		return 0;
	if ((s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) ||
	    (s[0] == 0xe2 && s[1] == 0x80 &&
	     (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf)) ||
	    (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) ||
	    (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) ||
	    (s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf))
		return 3;
	return 0;
}

/* 1 when s starts with a character JS '.' does not match. */
static int js_terminator(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;

	if (!n)
		return 0;
	if (s[0] == '\n' || s[0] == '\r')
		return 1;
	return n >= 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	       (s[2] == 0xa8 || s[2] == 0xa9);
}

static int is_word(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* s[0..n) starts with word (ASCII, case-insensitive as JS /i). */
static int ci_prefix(const char *s, size_t n, const char *word)
{
	size_t i, len = strlen(word);

	if (n < len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* String.prototype.trim() on s[0..*len): *s and *len narrowed. */
static void js_trim(const char **s, size_t *len)
{
	size_t n, k;

	while (*len && (n = js_space(*s, *len))) {
		*s += n;
		*len -= n;
	}
	for (;;) {
		for (k = 1; k <= 3 && k <= *len; k++)
			if (js_space(*s + *len - k, k) == k)
				break;
		if (k > 3 || k > *len)
			return;
		*len -= k;
	}
}

/* s as Node decodes it: invalid UTF-8 becomes U+FFFD. */
static void utf8_sanitize(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq_len(p + i, len - i);
		if (n) {
			strbuf_add(out, s + i, n);
			i += n;
		} else {
			i += utf8_bad_len(p + i, len - i);
			strbuf_add(out, "\xef\xbf\xbd", 3);
		}
	}
}

/* appendLine() of conventional-commits-parser: src ? src\nline : line. */
static void append_line(char **field, const char *line, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	if (*field && **field) {
		strbuf_addstr(&sb, *field);
		strbuf_addch(&sb, '\n');
	}
	strbuf_add(&sb, line, len);
	free(*field);
	*field = strbuf_detach(&sb, NULL);
}

static int truthy(const char *s)
{
	return s && *s;
}

/* ---- release types ---- */

const char *release_type_name(enum release_type t)
{
	switch (t) {
	case RELEASE_PATCH:
		return "patch";
	case RELEASE_MINOR:
		return "minor";
	case RELEASE_MAJOR:
		return "major";
	case RELEASE_NONE:
		break;
	}
	return NULL;
}

int release_type_parse(enum release_type *out, const char *s)
{
	enum release_type t;

	for (t = RELEASE_PATCH; t <= RELEASE_MAJOR; t++)
		if (!strcmp(s, release_type_name(t))) {
			*out = t;
			return 0;
		}
	return -1;
}

static int check_tag_format(const char *f, struct err *e)
{
	const char *v = strstr(f, "${version}");
	size_t i;

	if (!v || strstr(v + 1, "${version}"))
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' must contain '${version}' "
			       "exactly once",
			       f);
	if (strlen(f) > 100)
		return err_set(e, EXIT_INVALID,
			       "tag format is longer than 100 characters");
	if (f[0] == '-' || f[0] == '/' || f[0] == '.')
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' may not start with '%c'", f,
			       f[0]);
	for (i = 0; f[i]; i++) {
		unsigned char c = (unsigned char)f[i];

		if ((f + i < v || f + i >= v + 10) &&
		    (c <= ' ' || c == 0x7f || strchr("~^:?*[\\${}<>", c)))
			return err_set(e, EXIT_INVALID,
				       "tag format '%s': '%c' is not allowed "
				       "(a git tag name around '${version}')",
				       f, c >= ' ' && c < 0x7f ? c : '?');
	}
	if (strstr(f, "..") || strstr(f, "@{") || strstr(f, "//") ||
	    strstr(f, "/.") || strstr(f, ".lock/") ||
	    (i >= 5 && !strcmp(f + i - 5, ".lock")) || f[i - 1] == '/' ||
	    f[i - 1] == '.')
		return err_set(e, EXIT_INVALID,
			       "tag format '%s' does not give a valid git tag "
			       "name",
			       f);
	return 0;
}

int release_opts_check(const struct release_opts *o, struct err *e)
{
	size_t i, j;

	if (check_tag_format(o->tag_format, e) < 0)
		return -1;
	if (o->nr_rules > RELEASE_MAX_RULES)
		return err_set(e, EXIT_INVALID,
			       "%zu release types given (at most %d)",
			       o->nr_rules, RELEASE_MAX_RULES);
	for (i = 0; i < o->nr_rules; i++) {
		const char *t = o->rules[i].type;

		for (j = 0; t[j]; j++)
			if (!is_word((unsigned char)t[j]))
				break;
		if (!j || t[j] || j > 32)
			return err_set(e, EXIT_INVALID,
				       "release type '%s': a commit type is 1 "
				       "to 32 letters, digits or '_'",
				       t);
		if (!release_type_name(o->rules[i].release))
			return err_set(e, EXIT_INVALID,
				       "release type '%s': the release must be "
				       "patch, minor or major",
				       t);
	}
	return 0;
}

/* ---- versions and tags ---- */

/* 0|[1-9]\d* at s[*i..n), at most 2^53-1. */
static int semver_number(uint64_t *out, const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	uint64_t v = 0;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
		if (v > (MAX_SAFE_INT - 9) / 10 + 1)
			return -1;
		v = v * 10 + (uint64_t)(s[*i] - '0');
		(*i)++;
	}
	if (*i == start || (s[start] == '0' && *i - start > 1) ||
	    v > MAX_SAFE_INT)
		return -1;
	*out = v;
	return 0;
}

/* Dot-separated identifiers of [0-9A-Za-z-]; numeric ones without leading
 * zeros when numeric_rule. */
static int semver_idents(const char *s, size_t n, size_t *i, int numeric_rule)
{
	for (;;) {
		size_t start = *i;
		int digits = 1;

		while (*i < n &&
		       (is_word((unsigned char)s[*i]) || s[*i] == '-') &&
		       s[*i] != '_') {
			if (s[*i] < '0' || s[*i] > '9')
				digits = 0;
			(*i)++;
		}
		if (*i == start || (numeric_rule && digits && s[start] == '0' &&
				    *i - start > 1))
			return -1;
		if (*i >= n || s[*i] != '.')
			return 0;
		(*i)++;
	}
}

int semver_parse(struct semver *out, const char *s, size_t len)
{
	struct semver v = { 0 };
	size_t i = 0;

	if (len > MAX_VERSION_LEN)
		return -1;
	if (i < len && s[i] == 'v')
		i++;
	if (semver_number(&v.major, s, len, &i) < 0 || i >= len ||
	    s[i++] != '.' || semver_number(&v.minor, s, len, &i) < 0 ||
	    i >= len || s[i++] != '.' ||
	    semver_number(&v.patch, s, len, &i) < 0)
		return -1;
	if (i < len && s[i] == '-') {
		i++;
		v.prerelease = true;
		if (semver_idents(s, len, &i, 1) < 0)
			return -1;
	}
	if (i < len && s[i] == '+') {
		i++;
		if (semver_idents(s, len, &i, 0) < 0)
			return -1;
	}
	if (i != len)
		return -1;
	*out = v;
	return 0;
}

int semver_cmp(const struct semver *a, const struct semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return (int)b->prerelease - (int)a->prerelease;
}

int semver_bump(struct strbuf *out, const struct semver *v, enum release_type t,
		struct err *e)
{
	struct semver n = *v;
	uint64_t *part = t == RELEASE_MAJOR   ? &n.major
			 : t == RELEASE_MINOR ? &n.minor
			 : t == RELEASE_PATCH ? &n.patch
					      : NULL;

	if (part) {
		if (*part >= MAX_SAFE_INT)
			return err_set(e, EXIT_INVALID,
				       "cannot bump version %llu.%llu.%llu: "
				       "the number would exceed 2^53-1",
				       (unsigned long long)v->major,
				       (unsigned long long)v->minor,
				       (unsigned long long)v->patch);
		(*part)++;
		if (t == RELEASE_MAJOR)
			n.minor = 0;
		if (t != RELEASE_PATCH)
			n.patch = 0;
	}
	strbuf_addf(out, "%llu.%llu.%llu", (unsigned long long)n.major,
		    (unsigned long long)n.minor, (unsigned long long)n.patch);
	return 0;
}

/*
 * get-tags.js: the tag must match ^PREFIX(.+)SUFFIX (no $: the greedy
 * (.+) ends at the last SUFFIX), and semver.clean() of the capture be
 * valid. A capture with more than one leading 'v' or an '=' passes clean()
 * but makes semantic-release throw later; those are not releases here.
 */
int release_tag_match(struct semver *out, const char *format, const char *tag)
{
	const char *v = strstr(format, "${version}");
	size_t plen, slen, tlen = strlen(tag), end;
	const char *suffix;

	if (!v)
		return 0;
	plen = (size_t)(v - format);
	suffix = v + 10;
	slen = strlen(suffix);
	if (tlen < plen + 1 + slen || strncmp(tag, format, plen))
		return 0;
	for (end = tlen - slen;; end--) {
		if (!strncmp(tag + end, suffix, slen))
			break;
		if (end == plen + 1)
			return 0;
	}
	return semver_parse(out, tag + plen, end - plen) == 0;
}

void release_tag_name(struct strbuf *out, const char *format,
		      const char *version)
{
	const char *v = strstr(format, "${version}");

	if (!v) {
		strbuf_addstr(out, format);
		return;
	}
	strbuf_add(out, format, (size_t)(v - format));
	strbuf_addstr(out, version);
	strbuf_addstr(out, v + 10);
}

long release_last_tag(const char *const *tags, size_t nr, const char *format,
		      struct semver *out)
{
	struct semver best = { 0 }, v;
	long found = -1;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!release_tag_match(&v, format, tags[i]) || v.prerelease)
			continue;
		if (found < 0 || semver_cmp(&v, &best) > 0) {
			best = v;
			found = (long)i;
		}
	}
	if (found >= 0)
		*out = best;
	return found;
}

/* ---- repository URLs (release-notes-generator's index.js) ---- */

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
static void host_config(struct release_repo *r, const char *hostname)
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
		if (!is_word((unsigned char)u[i]) && !strchr("+-.", u[i]))
			return -1;
	strbuf_add(scheme, u, (size_t)(p - u));
	for (i = 0; i < scheme->len; i++)
		scheme->buf[i] = (char)lower((unsigned char)scheme->buf[i]);
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
	if (u.len >= 4 && ci_prefix(u.buf + u.len - 4, 4, ".git"))
		strbuf_setlen(&u, u.len - 4);
	scp_to_ssh(&u);
	if (url_split(u.buf, &scheme, &host, &port, &path) < 0 || !host.len ||
	    !strcmp(scheme.buf, "file"))
		goto out;
	if (special_scheme(scheme.buf, scheme.len)) {
		for (i = 0; i < host.len; i++)
			host.buf[i] = (char)lower((unsigned char)host.buf[i]);
		if (default_port(scheme.buf, scheme.len, port.buf, port.len))
			strbuf_reset(&port);
	}
	url_owner_repo(&r, path.buf);
	if (!r.owner || !r.repository)
		goto out;
	host_config(&r, host.buf);
	r.host = web_host(scheme.buf, host.buf, port.buf);
	ret = 0;
out:
	if (ret < 0) {
		release_repo_release(&r);
		host_config(&r, NULL);
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

/* ---- commit messages (conventional-commits-parser's CommitParser) ---- */

struct line {
	const char *s;
	size_t len;
};

struct parser {
	struct line *lines;
	size_t nr, i;
	struct release_commit *c;
	const struct release_repo *repo;
	char *meta_revert;  /* a "-revert-" field */
	bool hash_set;	    /* a "-hash-" field replaced the hash */
	bool meta_mentions; /* a "-mentions-" field (an array upstream) */
	const char *fail;   /* why semantic-release would throw, or NULL */
};

/* Split on /\r?\n/ and drop the lines that match ^\s*gpg: */
static void split_lines(struct parser *p, const char *s, size_t len)
{
	size_t alloc = 0, start = 0, i, end, k;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '\n')
			continue;
		end = i;
		if (i < len && end > start && s[end - 1] == '\r')
			end--;
		for (k = start; k < end;) {
			size_t w = js_space(s + k, end - k);

			if (!w)
				break;
			k += w;
		}
		if (!(end - k >= 4 && !strncmp(s + k, "gpg:", 4))) {
			ALLOC_GROW(p->lines, p->nr + 1, alloc);
			p->lines[p->nr].s = s + start;
			p->lines[p->nr++].len = end - start;
		}
		start = i + 1;
	}
}

/*
 * headerPattern ^(\w*)(?:\((.*)\))?: (.*)$ - the greedy scope ends at the
 * last "): "; '.' and '$' fail on any line terminator inside.
 */
static void parse_header(struct release_commit *c, const char *h, size_t len)
{
	size_t i = 0, j, sub;

	for (j = 0; j < len; j++)
		if (js_terminator(h + j, len - j))
			return;
	while (i < len && is_word((unsigned char)h[i]))
		i++;
	if (i < len && h[i] == '(') {
		for (j = len >= 3 ? len - 3 : 0; j > i; j--)
			if (h[j] == ')' && h[j + 1] == ':' && h[j + 2] == ' ')
				break;
		if (j <= i)
			return;
		if (j > i + 1)
			c->scope = xstrndup(h + i + 1, j - i - 1);
		sub = j + 3;
	} else if (len - i >= 2 && h[i] == ':' && h[i + 1] == ' ') {
		sub = i + 2;
	} else {
		return;
	}
	c->subject_set = true;
	if (i)
		c->type = xstrndup(h, i);
	if (sub < len)
		c->subject = xstrndup(h + sub, len - sub);
}

/* fieldPattern ^-(.*?)-$ : 1 with the field name when l is a meta line. */
static int meta_line(const struct line *l, const char **name, size_t *nlen)
{
	size_t i;

	if (l->len < 2 || l->s[0] != '-' || l->s[l->len - 1] != '-')
		return 0;
	for (i = 1; i + 1 < l->len; i++)
		if (js_terminator(l->s + i, l->len - i))
			return 0;
	*name = l->s + 1;
	*nlen = l->len - 2;
	return 1;
}

/* commit[field] = appendLine(commit[field], line), for the fields that
 * change what semantic-release does. */
static void meta_set(struct parser *p, const char *name, size_t nlen,
		     const struct line *l)
{
	struct release_commit *c = p->c;
	struct {
		const char *name;
		char **field;
	} fields[] = {
		{ "type", &c->type },
		{ "scope", &c->scope },
		{ "subject", &c->subject },
		{ "header", &c->header },
		{ "tag", &c->tag },
		{ "emoji", &c->emoji },
		{ "component", &c->component },
		{ "revert", &p->meta_revert },
		{ "hash", &c->hash },
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) != nlen ||
		    strncmp(fields[i].name, name, nlen))
			continue;
		if (fields[i].field == &c->subject)
			c->subject_set = true;
		if (fields[i].field == &c->hash && !p->hash_set) {
			free(c->hash);
			c->hash = NULL;
			p->hash_set = true;
		}
		append_line(fields[i].field, l->s, l->len);
		return;
	}
	if ((nlen == 5 && !strncmp(name, "notes", 5)) ||
	    (nlen == 10 && !strncmp(name, "references", 10)))
		p->fail = "a '-notes-' or '-references-' line";
	if (nlen == 8 && !strncmp(name, "mentions", 8))
		p->meta_mentions = true;
}

/* parseMeta(): a meta line starts a field that takes the lines after it
 * up to the next meta line. Returns 1 when a field took a line. */
static int parse_meta(struct parser *p)
{
	const char *field = NULL, *name;
	size_t flen = 0, nlen;
	int parsed = 0;

	while (p->i < p->nr) {
		const struct line *l = &p->lines[p->i];

		if (meta_line(l, &name, &nlen)) {
			field = nlen ? name : NULL;
			flen = nlen;
			p->i++;
			continue;
		}
		if (!field)
			break;
		parsed = 1;
		meta_set(p, field, flen, l);
		p->i++;
	}
	return parsed;
}

/* The notes pattern ^[\s|*]*(BREAKING CHANGE)[:\s]+(.*) with /i. */
static int note_line(const struct line *l, const char **text, size_t *tlen)
{
	const char *s = l->s;
	size_t n = l->len, i = 0, j, w;

	while (i < n) {
		if (s[i] == '|' || s[i] == '*')
			i++;
		else if ((w = js_space(s + i, n - i)))
			i += w;
		else
			break;
	}
	if (!ci_prefix(s + i, n - i, "BREAKING CHANGE"))
		return 0;
	i += 15;
	for (j = i; j < n;) {
		if (s[j] == ':')
			j++;
		else if ((w = js_space(s + j, n - j)))
			j += w;
		else
			break;
	}
	if (j == i)
		return 0;
	for (i = j; i < n && !js_terminator(s + i, n - i); i++)
		;
	*text = s + j;
	*tlen = i - j;
	return 1;
}

/* ---- references ("closes #12", "owner/repo#3", "gh-7") ---- */

struct span {
	size_t off, len;
};

/* A closing keyword at s followed by \s (the alternation tries them in
 * order; at most one is followed by white space): its length, or 0. */
static size_t action_at(const char *const *actions, const char *s, size_t n)
{
	size_t i, k;

	for (i = 0; actions[i]; i++) {
		k = strlen(actions[i]);
		if (ci_prefix(s, n, actions[i]) && js_space(s + k, n - k))
			return k;
	}
	return 0;
}

static int keyword_at(const char *const *actions, const char *s, size_t n)
{
	size_t i;

	for (i = 0; actions[i]; i++)
		if (ci_prefix(s, n, actions[i]))
			return 1;
	return 0;
}

/*
 * One exec() of (KW)(?:\s+(.*?))(?=(?:KW)|$) with /gi from *pos: the
 * sentence runs to the next keyword (even inside a word) or the end, and
 * may not cross a line terminator. On a failure at p the next keyword
 * with white space can only follow that terminator (no keyword starts
 * inside another), so the scan goes on from there.
 */
static int action_exec(const char *const *actions, const char *s, size_t n,
		       size_t *pos, struct span *act, struct span *sent)
{
	size_t p = *pos, q, r, k, w;

	while (p < n) {
		k = action_at(actions, s + p, n - p);
		if (!k) {
			p++;
			continue;
		}
		for (q = p + k; (w = js_space(s + q, n - q)); q += w)
			;
		for (r = q;; r++) {
			if (r >= n || keyword_at(actions, s + r, n - r)) {
				act->off = p;
				act->len = k;
				sent->off = q;
				sent->len = r - q;
				*pos = r;
				return 1;
			}
			if (js_terminator(s + r, n - r))
				break;
		}
		p = r + 1;
	}
	*pos = 0;
	return 0;
}

/* regexes.url: \b(?:https?):\/\/(?:www\.)?([-a-zA-Z0-9@:%_+.~#?&//=])+\b
 * - a run of those characters holding a word character ends on a word
 * boundary, one without never does. */
static int has_url(const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i + 7 < n; i++) {
		if (strncmp(s + i, "http", 4) ||
		    (i && is_word((unsigned char)s[i - 1])))
			continue;
		j = i + 4 + (s[i + 4] == 's');
		if (n - j < 3 || strncmp(s + j, "://", 3))
			continue;
		for (j += 3; j < n && s[j] &&
			     (is_word((unsigned char)s[j]) ||
			      strchr("-@:%+.~#?&/=", s[j]));
		     j++)
			if (is_word((unsigned char)s[j]))
				return 1;
	}
	return 0;
}

/* The end of the [\w-]+ run at y (y itself when there is none), with a
 * memo so that a scan stays linear. */
static size_t issue_end(const char *s, size_t n, size_t y, size_t *memo_from,
			size_t *memo_to)
{
	size_t e;

	if (y >= *memo_from && y < *memo_to)
		return *memo_to;
	for (e = y; e < n && (is_word((unsigned char)s[e]) || s[e] == '-'); e++)
		;
	if (e > y) {
		*memo_from = y;
		*memo_to = e;
	}
	return e;
}

/* (#|gh-)([\w-]+)(?=\s|$|[,;)\]]) at x: the issue's end, or 0. */
static size_t issue_at(const char *const *prefixes, const char *s, size_t n,
		       size_t x, size_t *plen, size_t *mf, size_t *mt)
{
	size_t i, e;

	for (i = 0; prefixes[i]; i++) {
		*plen = strlen(prefixes[i]);
		if (!ci_prefix(s + x, n - x, prefixes[i]))
			continue;
		e = issue_end(s, n, x + *plen, mf, mt);
		if (e > x + *plen && (e == n || js_space(s + e, n - e) ||
				      (s[e] && strchr(",;)]", s[e]))))
			return e;
		return 0;
	}
	return 0;
}

static int repo_char(int c)
{
	return is_word(c) || c == '-' || c == '.' || c == '/';
}

/*
 * One exec() of (?:.*?)??\s*([\w-\.\/]*?)??(#|gh-)([\w-]+)(?=\s|$|[,;)\]])
 * with /gi from *pos over a sentence without line terminators. For each
 * skip k the white space after it is taken whole, then the prefix is tried
 * before each longer repository; a failed k rules out every start up to
 * where its repository run ended.
 */
static int ref_exec(const char *const *prefixes, const char *s, size_t n,
		    size_t *pos, struct span *repo, struct span *issue)
{
	size_t k = *pos, w, x, e, plen = 0, mf = 0, mt = 0, sp;

	while (k < n) {
		for (w = k; (sp = js_space(s + w, n - w)); w += sp)
			;
		for (x = w;; x++) {
			e = x < n ? issue_at(prefixes, s, n, x, &plen, &mf, &mt)
				  : 0;
			if (e) {
				repo->off = w;
				repo->len = x - w;
				issue->off = x + plen;
				issue->len = e - x - plen;
				*pos = e;
				return 1;
			}
			if (x >= n || !repo_char((unsigned char)s[x]))
				break;
		}
		k = x > k ? x : k + 1;
	}
	*pos = 0;
	return 0;
}

static void add_ref(struct release_commit *c, const char *s, size_t start,
		    const struct span *act, const struct span *repo,
		    const struct span *issue)
{
	struct release_ref *r;
	const char *slash;

	ALLOC_GROW(c->refs, c->nr_refs + 1, c->alloc_refs);
	r = &c->refs[c->nr_refs++];
	memset(r, 0, sizeof(*r));
	if (act)
		r->action = xstrndup(s + act->off, act->len);
	r->raw = xstrndup(s + start, issue->off + issue->len - start);
	r->issue = xstrndup(s + issue->off, issue->len);
	if (repo->len) {
		slash = memchr(s + repo->off, '/', repo->len);
		if (slash) {
			r->owner = xstrndup(s + repo->off,
					    (size_t)(slash - s - repo->off));
			r->repository = xstrndup(
				slash + 1, repo->off + repo->len -
						   (size_t)(slash - s) - 1);
		} else {
			r->repository = xstrndup(s + repo->off, repo->len);
		}
	}
}

/* parseReference() over one sentence: every reference in it, none when
 * it holds a URL. */
static size_t sentence_refs(struct parser *p, const char *s,
			    const struct span *sent, const struct span *act)
{
	struct span repo, issue;
	size_t pos = 0, start, found = 0;
	const char *t = s + sent->off;

	if (has_url(t, sent->len))
		return 0;
	for (;;) {
		start = pos;
		if (!ref_exec(p->repo->prefixes, t, sent->len, &pos, &repo,
			      &issue))
			return found;
		repo.off += sent->off;
		issue.off += sent->off;
		add_ref(p->c, s, sent->off + start, act, &repo, &issue);
		found++;
	}
}

/* parseReferences(): the references of one line, added to the commit. */
static size_t parse_refs(struct parser *p, const char *s, size_t n)
{
	struct span act, sent;
	size_t pos = 0, found = 0, i, j;

	if (action_exec(p->repo->actions, s, n, &pos, &act, &sent)) {
		do
			found += sentence_refs(p, s, &sent, &act);
		while (action_exec(p->repo->actions, s, n, &pos, &act, &sent));
		return found;
	}
	/* /()(.+)/gi: every run between line terminators */
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && !js_terminator(s + j, n - j); j++)
			;
		if (j > i) {
			sent.off = i;
			sent.len = j - i;
			found += sentence_refs(p, s, &sent, NULL);
		}
		if (j < n && (unsigned char)s[j] == 0xe2)
			j += 2;
	}
	return found;
}

/* parseNotes(): a BREAKING CHANGE line starts a note that takes the lines
 * after it up to a line with references (which ends it), a meta line or
 * the next note. Returns 1 when the current line was a note. */
static int parse_notes(struct parser *p)
{
	struct strbuf note = STRBUF_INIT;
	const char *text;
	size_t tlen;

	if (p->i >= p->nr || !note_line(&p->lines[p->i], &text, &tlen))
		return 0;
	strbuf_add(&note, text, tlen);
	p->i++;
	while (p->i < p->nr) {
		const struct line *l;

		if (parse_meta(p))
			break;
		if (p->i >= p->nr) {
			/* parseReferences(undefined) throws */
			p->fail = "a meta line ('-x-') as the last line of a "
				  "BREAKING CHANGE note";
			break;
		}
		l = &p->lines[p->i];
		if (note_line(l, &text, &tlen)) {
			strvec_push(&p->c->notes, note.buf);
			strbuf_reset(&note);
			strbuf_add(&note, text, tlen);
			p->i++;
			continue;
		}
		if (parse_refs(p, l->s, l->len)) {
			p->i++;
			break;
		}
		if (note.len)
			strbuf_addch(&note, '\n');
		strbuf_add(&note, l->s, l->len);
		p->i++;
	}
	strvec_push(&p->c->notes, note.buf);
	strbuf_release(&note);
	return 1;
}

/* The whitespace run at t (memoised: t only grows during one scan). */
static size_t skip_space(const char *s, size_t n, size_t t, size_t *from,
			 size_t *to)
{
	size_t w;

	if (t >= *from && t <= *to && *to > *from)
		return *to;
	*from = t;
	while ((w = js_space(s + t, n - t)))
		t += w;
	*to = t;
	return t;
}

/* "?\s*This reverts commit (\w{7,40})\b after a lazy capture from cs. */
static int revert_from(struct release_commit *c, const char *s, size_t n,
		       size_t cs)
{
	size_t e, t, k, from = 1, to = 0;

	for (e = cs + 1; e < n; e++) {
		t = e + (s[e] == '"');
		t = skip_space(s, n, t, &from, &to);
		if (!ci_prefix(s + t, n - t, "This reverts commit "))
			continue;
		t += 20;
		for (k = t;
		     k < n && k - t <= 40 && is_word((unsigned char)s[k]); k++)
			;
		if (k - t < 7 || k - t > 40)
			continue;
		c->revert_header = xstrndup(s + cs, e - cs);
		c->revert_hash = xstrndup(s + t, k - t);
		return 1;
	}
	return 0;
}

/* revertPattern ^(?:Revert|revert:)\s"?([\s\S]+?)"?\s*This reverts commit
 * (\w{7,40})\b with /i, over the whole message. */
static int parse_revert(struct release_commit *c, const char *s, size_t n)
{
	size_t i, w;

	if (!ci_prefix(s, n, "revert"))
		return 0;
	if ((w = js_space(s + 6, n - 6)))
		i = 6 + w;
	else if (n > 7 && s[6] == ':' && (w = js_space(s + 7, n - 7)))
		i = 7 + w;
	else
		return 0;
	if (i < n && s[i] == '"' && revert_from(c, s, n, i + 1))
		return 1;
	return revert_from(c, s, n, i);
}

/* cleanupCommit(): notes lose leading and trailing line breaks, and
 * references are deduplicated by action and raw text. */
static void cleanup_commit(struct release_commit *c)
{
	size_t i, j, k = 0, a, b;

	for (i = 0; i < c->notes.nr; i++) {
		const char *t = c->notes.v[i];

		a = strspn(t, "\r\n");
		for (b = strlen(t); b > a && strchr("\r\n", t[b - 1]); b--)
			;
		if (a || t[b]) {
			char *n = xstrndup(t + a, b - a);

			free((char *)c->notes.v[i]);
			c->notes.v[i] = n;
		}
	}
	for (i = 0; i < c->nr_refs; i++) {
		struct release_ref *r = &c->refs[i];

		for (j = 0; j < k; j++)
			if (!strcasecmp(c->refs[j].action ? c->refs[j].action
							  : "null",
					r->action ? r->action : "null") &&
			    !strcasecmp(c->refs[j].raw, r->raw))
				break;
		if (j < k) {
			free(r->action);
			free(r->owner);
			free(r->repository);
			free(r->issue);
			free(r->raw);
		} else {
			c->refs[k++] = *r;
		}
	}
	c->nr_refs = k;
}

static int has_mention(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (s[i] == '@' &&
		    (is_word((unsigned char)s[i + 1]) || s[i + 1] == '-'))
			return 1;
	return 0;
}

/* git's %s: the first paragraph, each line right-trimmed, joined by
 * spaces. */
static char *git_subject(const char *s, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i = 0, end, t;
	bool started = false;

	while (i < n) {
		end = i;
		while (end < n && s[end] != '\n')
			end++;
		for (t = end; t > i && strchr(" \t\r\v\f", s[t - 1]); t--)
			;
		if (t > i) {
			if (started)
				strbuf_addch(&sb, ' ');
			strbuf_add(&sb, s + i, t - i);
			started = true;
		} else if (started) {
			break;
		}
		i = end + 1;
	}
	return strbuf_detach(&sb, NULL);
}

/* parse(): the header, then meta fields, notes and references line by
 * line (what is body and what is footer does not matter here). */
static void parse_lines(struct parser *p)
{
	const struct line *l = p->lines;

	if (p->nr && l[0].len) {
		p->c->header = xstrndup(l[0].s, l[0].len);
		parse_header(p->c, l[0].s, l[0].len);
		parse_refs(p, l[0].s, l[0].len);
	}
	p->i = p->nr ? 1 : 0;
	while (p->i < p->nr) {
		parse_meta(p);
		parse_notes(p);
		if (p->i < p->nr) {
			parse_refs(p, l[p->i].s, l[p->i].len);
			p->i++;
		}
	}
}

/* git's %s as semantic-release's commit object carries it. */
static char *subject_of(const struct release_raw *raw,
			const struct strbuf *clean)
{
	struct strbuf sub = STRBUF_INIT;

	if (!raw->subject)
		return git_subject(clean->buf, clean->len);
	utf8_sanitize(&sub, raw->subject, strlen(raw->subject));
	return strbuf_detach(&sub, NULL);
}

int release_commit_parse(struct release_commit *out,
			 const struct release_raw *raw,
			 const struct release_repo *repo, struct err *e)
{
	const char *hash = raw->hash;
	struct release_repo defaults = { 0 };
	struct strbuf clean = STRBUF_INIT;
	struct parser p = { 0 };
	const char *s;
	size_t n;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	strvec_init(&out->notes);
	out->hash = xstrdup(hash);
	utf8_sanitize(&clean, raw->msg, raw->len);
	s = clean.buf;
	n = clean.len;
	js_trim(&s, &n); /* get-commits: message.trim() */
	if (!n)
		goto out;
	if (!repo || !repo->actions) {
		host_config(&defaults, NULL);
		repo = &defaults;
	}
	p.c = out;
	p.repo = repo;
	split_lines(&p, s, n);
	parse_lines(&p);
	if (!out->subject_set) {
		free(out->subject);
		out->subject = subject_of(raw, &clean);
	}
	out->revert = parse_revert(out, s, n) || truthy(p.meta_revert);
	cleanup_commit(out);
	if (p.meta_mentions && has_mention(s, n))
		p.fail = "a '-mentions-' line and an @mention";
	ret = 1;
	if (p.fail) {
		ret = err_set(e, EXIT_FAIL,
			      "commit %.12s: semantic-release cannot parse its "
			      "message (%s)",
			      hash, p.fail);
		release_commit_release(out);
	}
out:
	free(p.lines);
	free(p.meta_revert);
	strbuf_release(&clean);
	return ret;
}

void release_commit_release(struct release_commit *c)
{
	size_t i;

	free(c->hash);
	free(c->header);
	free(c->type);
	free(c->scope);
	free(c->subject);
	strvec_clear(&c->notes);
	for (i = 0; i < c->nr_refs; i++) {
		free(c->refs[i].action);
		free(c->refs[i].owner);
		free(c->refs[i].repository);
		free(c->refs[i].issue);
		free(c->refs[i].raw);
	}
	free(c->refs);
	free(c->revert_header);
	free(c->revert_hash);
	free(c->tag);
	free(c->emoji);
	free(c->component);
	memset(c, 0, sizeof(*c));
	strvec_init(&c->notes);
}

/* ---- reverted commits (conventional-commits-filter) ---- */

/* isMatch(): both headers and hashes equal after trim(). */
static int reverts(const struct release_commit *rev,
		   const struct release_commit *c)
{
	const char *a, *b;
	size_t al, bl;

	if (!rev->revert_hash || !c->header || !c->hash)
		return 0;
	a = rev->revert_header;
	al = strlen(a);
	b = c->header;
	bl = strlen(b);
	js_trim(&a, &al);
	js_trim(&b, &bl);
	if (al != bl || memcmp(a, b, al))
		return 0;
	a = rev->revert_hash;
	al = strlen(a);
	b = c->hash;
	bl = strlen(b);
	js_trim(&a, &al);
	js_trim(&b, &bl);
	return al == bl && !memcmp(a, b, al);
}

/*
 * RevertedCommitsFilter: a revert is held back, and while one is held so
 * is every other commit; a commit a held revert matches drops together
 * with that revert (the first one held). Whatever is still held at the
 * end survives, in its order.
 */
void release_filter_reverted(const struct release_commit *c, size_t nr,
			     bool *keep)
{
	size_t *hold = xcalloc(nr ? nr : 1, sizeof(*hold));
	size_t nhold = 0, reverts_held = 0, i, j;

	for (i = 0; i < nr; i++) {
		keep[i] = false;
		for (j = 0; j < nhold; j++)
			if (c[hold[j]].revert && reverts(&c[hold[j]], &c[i]))
				break;
		if (j < nhold) {
			memmove(hold + j, hold + j + 1,
				(nhold - j - 1) * sizeof(*hold));
			nhold--;
			reverts_held--;
			continue;
		}
		if (c[i].revert) {
			hold[nhold++] = i;
			reverts_held++;
		} else if (reverts_held) {
			hold[nhold++] = i;
		} else {
			for (j = 0; j < nhold; j++)
				keep[hold[j]] = true;
			nhold = 0;
			keep[i] = true;
		}
	}
	for (j = 0; j < nhold; j++)
		keep[hold[j]] = true;
	free(hold);
}

/* ---- the release type (commit-analyzer's default-release-rules.js) ---- */

enum rule_field { F_TYPE, F_TAG, F_EMOJI, F_COMPONENT };

static const struct {
	enum rule_field field;
	const char *value;
	enum release_type release;
} default_rules[] = {
	/* Angular */
	{ F_TYPE, "feat", RELEASE_MINOR },
	{ F_TYPE, "fix", RELEASE_PATCH },
	{ F_TYPE, "perf", RELEASE_PATCH },
	/* Atom */
	{ F_EMOJI, ":racehorse:", RELEASE_PATCH },
	{ F_EMOJI, ":bug:", RELEASE_PATCH },
	{ F_EMOJI, ":penguin:", RELEASE_PATCH },
	{ F_EMOJI, ":apple:", RELEASE_PATCH },
	{ F_EMOJI, ":checkered_flag:", RELEASE_PATCH },
	/* Ember */
	{ F_TAG, "BUGFIX", RELEASE_PATCH },
	{ F_TAG, "FEATURE", RELEASE_MINOR },
	{ F_TAG, "SECURITY", RELEASE_PATCH },
	/* ESLint */
	{ F_TAG, "Breaking", RELEASE_MAJOR },
	{ F_TAG, "Fix", RELEASE_PATCH },
	{ F_TAG, "Update", RELEASE_MINOR },
	{ F_TAG, "New", RELEASE_MINOR },
	/* Express */
	{ F_COMPONENT, "perf", RELEASE_PATCH },
	{ F_COMPONENT, "deps", RELEASE_PATCH },
	/* JSHint */
	{ F_TYPE, "FEAT", RELEASE_MINOR },
	{ F_TYPE, "FIX", RELEASE_PATCH },
};

static const char *rule_value(const struct release_commit *c, enum rule_field f)
{
	switch (f) {
	case F_TYPE:
		return c->type;
	case F_TAG:
		return c->tag;
	case F_EMOJI:
		return c->emoji;
	case F_COMPONENT:
		return c->component;
	}
	return NULL;
}

/*
 * The highest release of the rules a commit matches: a BREAKING CHANGE
 * note is major, a revert patch, then the type rules. The extra rules
 * join the defaults (semantic-release with releaseRules set to the
 * default rules plus these); the highest wins.
 */
enum release_type release_commit_type(const struct release_commit *c,
				      const struct release_opts *o)
{
	enum release_type t = RELEASE_NONE;
	const char *v;
	size_t i;

	if (c->notes.nr)
		return RELEASE_MAJOR;
	if (c->revert)
		t = RELEASE_PATCH;
	for (i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++) {
		v = rule_value(c, default_rules[i].field);
		if (v && !strcmp(v, default_rules[i].value) &&
		    default_rules[i].release > t)
			t = default_rules[i].release;
	}
	for (i = 0; o && i < o->nr_rules; i++)
		if (c->type && !strcmp(c->type, o->rules[i].type) &&
		    o->rules[i].release > t)
			t = o->rules[i].release;
	return t;
}

enum release_type release_analyze(const struct release_commit *c, size_t nr,
				  const bool *keep,
				  const struct release_opts *o)
{
	enum release_type t = RELEASE_NONE, one;
	size_t i;

	for (i = 0; i < nr && t != RELEASE_MAJOR; i++) {
		if (keep && !keep[i])
			continue;
		one = release_commit_type(&c[i], o);
		if (one > t)
			t = one;
	}
	return t;
}

/* ---- String.prototype.localeCompare (ICU root collation) ---- */

/*
 * The characters of ASCII, Latin-1, Latin Extended-A, General Punctuation
 * and Currency Symbols in ICU root collation order: \001 starts the next
 * primary weight, \002 the next secondary (accent) within one; inside those,
 * the tertiary (case) order. Generated with Node 20's Intl.Collator("und")
 * (sort, then sensitivity "base" and "accent" to split the runs).
 */
static const char collation_table[] =
	"\t\001\n\001\v\001\f\001\r\001\302\205\001\342\200\250\001\342"
	"\200\251\001 \342\200\200\342\200\201\342\200\202\342\200\203"
	"\342\200\204\342\200\205\342\200\206\342\200\210\342\200\211\342"
	"\200\212\302\240\342\200\207\342\200\257\001‾\001_\001‗\001-\001"
	"‐‑\001‒\001–\001—\001―\001⁓\001,\001;\001⁏\001:\001!\001‼\001⁉"
	"\001¡\001\077\001⁈\001⁇\001¿\001‽\001.․\001‥\001…\001·\001⁕\001⁖"
	"\001⁘\001⁙\001⁚\001⁛\001⁜\001⁝\001⁞\001'\002‘\002’\002‚\002‛\001"
	"‹\001›\001\"\002“\002”\002„\002‟\001«\001»\001(\001)\001[\001]"
	"\001{\001}\001⁅\001⁆\001‖\001§\001¶\001⁋\001@\001*\001⁎\001⁑\001"
	"/\001\\\001&\001⁊\001#\001%\001‰\001‱\001†\001‡\001•\001‣\001‧"
	"\001⁃\001⁌\001⁍\001′\001″\001‴\001⁗\001‵\001‶\001‷\001‸\001※\001"
	"‿\001⁔\001⁀\001⁐\001⁁\001⁂\001`\001´\001^\001¯\001¨\001¸\001°"
	"\001©\001®\001+\001±\001÷\001×\001<\001=\001>\001¬\001|\001¦\001"
	"~\001⁒\001⁄\001¤\001¢\001$\001£\001¥\001₠\001₡\001₢\001₣\001₤"
	"\001₥\001₦\001₩\001₪\001₫\001€\001₭\001₮\001₯\001₰\001₱\001₲\001"
	"₳\001₴\001₵\001₶\001₷\001₸\001₹\001₺\001₻\001₼\001₽\001₾\001₿"
	"\001⃀\0010\0011¹\001½\001¼\0012²\0013³\001¾\0014\0015\0016\0017"
	"\0018\0019\001aAª\002áÁ\002àÀ\002ăĂ\002âÂ\002åÅ\002äÄ\002ãÃ\002ą"
	"Ą\002āĀ\001æÆ\001bB\001cC\002ćĆ\002ĉĈ\002čČ\002ċĊ\002çÇ\001dD"
	"\002ďĎ\002đĐ\002ðÐ\001eE\002éÉ\002èÈ\002ĕĔ\002êÊ\002ěĚ\002ëË\002"
	"ėĖ\002ęĘ\002ēĒ\001fF\001gG\002ğĞ\002ĝĜ\002ġĠ\002ģĢ\001hH\002ĥĤ"
	"\002ħĦ\001iI\002íÍ\002ìÌ\002ĭĬ\002îÎ\002ïÏ\002ĩĨ\002İ\002įĮ\002ī"
	"Ī\001ĳĲ\001ı\001jJ\002ĵĴ\001kK\002ķĶ\001lL\002ĺĹ\002ľĽ\002ļĻ\002"
	"łŁ\002ŀĿ\001mM\001nN\002ńŃ\002ňŇ\002ñÑ\002ņŅ\001ŋŊ\001oOº\002óÓ"
	"\002òÒ\002ŏŎ\002ôÔ\002öÖ\002őŐ\002õÕ\002øØ\002ōŌ\001œŒ\001pP\001"
	"₧\001qQ\001ĸ\001rR\002ŕŔ\002řŘ\002ŗŖ\001₨\001sS\002śŚ\002ŝŜ\002š"
	"Š\002şŞ\002ſ\001ß\001tT\002ťŤ\002ţŢ\001ŧŦ\001uU\002úÚ\002ùÙ\002ŭ"
	"Ŭ\002ûÛ\002ůŮ\002üÜ\002űŰ\002ũŨ\002ųŲ\002ūŪ\001vV\001wW\002ŵŴ"
	"\001xX\001yY\002ýÝ\002ŷŶ\002ÿŸ\001zZ\002źŹ\002žŽ\002żŻ\001þÞ\001"
	"ŉ\001µ";

/* Arrows sort after U+00AE, most other symbols (dingbats, emoji) after
 * U+2044. */
#define COLLATION_ARROWS  0xae
#define COLLATION_SYMBOLS 0x2044

struct collation_element {
	uint32_t primary; /* 0: ignorable */
	unsigned char secondary, tertiary;
};

struct collator_entry {
	uint32_t cp;
	struct collation_element ce;
};

struct collator {
	struct collator_entry *e;
	size_t nr;
	uint32_t arrows, symbols, last; /* for the characters not listed */
};

static int entry_cmp(const void *a, const void *b)
{
	const struct collator_entry *x = a, *y = b;

	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static void collator_init(struct collator *c)
{
	const unsigned char *p = (const unsigned char *)collation_table;
	size_t n = sizeof(collation_table) - 1, i = 0, alloc = 0;
	uint32_t rank = 1, cp;
	unsigned char sec = 1, ter = 1;

	memset(c, 0, sizeof(*c));
	while (i < n) {
		if (p[i] == 1 || p[i] == 2) {
			rank += p[i] == 1;
			sec = p[i] == 1 ? 1 : sec + 1;
			ter = 1;
			i++;
			continue;
		}
		i += utf8_next(&cp, p + i, n - i);
		ALLOC_GROW(c->e, c->nr + 1, alloc);
		c->e[c->nr].cp = cp;
		c->e[c->nr].ce.primary = (rank + 8) << 21;
		c->e[c->nr].ce.secondary = sec;
		c->e[c->nr++].ce.tertiary = ter++;
		if (cp == COLLATION_ARROWS)
			c->arrows = (rank + 8) << 21;
		if (cp == COLLATION_SYMBOLS)
			c->symbols = (rank + 8) << 21;
	}
	c->last = (rank + 9) << 21;
	qsort(c->e, c->nr, sizeof(*c->e), entry_cmp);
}

static void collator_release(struct collator *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static struct collation_element collation_of(const struct collator *c,
					     uint32_t cp)
{
	struct collation_element ce = { 0, 1, 1 };
	struct collator_entry key = { cp, { 0, 0, 0 } }, *hit;

	hit = bsearch(&key, c->e, c->nr, sizeof(*c->e), entry_cmp);
	if (hit)
		return hit->ce;
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
		return ce; /* ignorable */
	if (cp >= 0x2190 && cp <= 0x21ff)
		ce.primary = c->arrows | cp;
	else if ((cp >= 0x2100 && cp <= 0x2bff) ||
		 (cp >= 0x1f000 && cp <= 0x1faff))
		ce.primary = c->symbols | cp;
	else
		ce.primary = c->last | cp;
	return ce;
}

/* The two letters a ligature sorts as (with a tertiary difference). */
static const char *ligature(uint32_t cp)
{
	switch (cp) {
	case 0xc6:
		return "AE";
	case 0xe6:
		return "ae";
	case 0x152:
		return "OE";
	case 0x153:
		return "oe";
	case 0xdf:
		return "ss";
	}
	return NULL;
}

/*
 * An ICU-style sort key: the primary weights, 0, the secondary weights,
 * 0, the tertiary weights; memcmp() of two keys orders the strings.
 */
static void collation_key(struct strbuf *out, const struct collator *c,
			  const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sec = STRBUF_INIT, ter = STRBUF_INIT;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		const char *expand;
		struct collation_element ce;
		size_t j;

		i += utf8_next(&cp, p + i, n - i);
		expand = ligature(cp);
		for (j = 0; j < (expand ? 2 : 1); j++) {
			ce = collation_of(c, expand ? (unsigned char)expand[j]
						    : cp);
			if (!ce.primary)
				continue;
			if (expand)
				ce.tertiary = expand[j] < 'a' ? 4 : 3;
			strbuf_addch(out, (int)(ce.primary >> 24));
			strbuf_addch(out, (int)((ce.primary >> 16) & 0xff));
			strbuf_addch(out, (int)((ce.primary >> 8) & 0xff));
			strbuf_addch(out, (int)(ce.primary & 0xff));
			strbuf_addch(&sec, ce.secondary);
			strbuf_addch(&ter, ce.tertiary);
		}
	}
	strbuf_addch(out, 0);
	strbuf_add(out, sec.buf, sec.len);
	strbuf_addch(out, 0);
	strbuf_add(out, ter.buf, ter.len);
	strbuf_release(&sec);
	strbuf_release(&ter);
}

static int key_cmp(const struct strbuf *a, const struct strbuf *b)
{
	int r = memcmp(a->buf, b->buf, a->len < b->len ? a->len : b->len);

	if (r)
		return r < 0 ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

int release_collate(const char *a, const char *b)
{
	struct strbuf ka = STRBUF_INIT, kb = STRBUF_INIT;
	struct collator c;
	int r;

	collator_init(&c);
	collation_key(&ka, &c, a);
	collation_key(&kb, &c, b);
	r = key_cmp(&ka, &kb);
	strbuf_release(&ka);
	strbuf_release(&kb);
	collator_release(&c);
	return r;
}

/* ---- release notes (release-notes-generator, angular writer) ---- */

/* One commit as the angular writer's transform() leaves it. */
struct note_item {
	const struct release_commit *c;
	const char *title; /* the group: "Features", ..., or the raw type */
	const char *scope; /* "" for none and for "*" */
	char *subject;	   /* with issue and user links, or NULL */
	char short_hash[32];
	bool *ref_shown; /* references not already linked in the subject */
	struct strbuf title_key, sort_key;
	size_t index, group_first;
};

static const char *group_title(const struct release_commit *c)
{
	static const struct {
		const char *type, *title;
	} titles[] = {
		{ "docs", "Documentation" },
		{ "style", "Styles" },
		{ "refactor", "Code Refactoring" },
		{ "test", "Tests" },
		{ "build", "Build System" },
		{ "ci", "Continuous Integration" },
	};
	size_t i;

	if (c->type && !strcmp(c->type, "feat"))
		return "Features";
	if (c->type && !strcmp(c->type, "fix"))
		return "Bug Fixes";
	if (c->type && !strcmp(c->type, "perf"))
		return "Performance Improvements";
	if ((c->type && !strcmp(c->type, "revert")) || c->revert)
		return "Reverts";
	if (!c->notes.nr)
		return NULL; /* discarded */
	for (i = 0; c->type && i < sizeof(titles) / sizeof(titles[0]); i++)
		if (!strcmp(c->type, titles[i].type))
			return titles[i].title;
	return c->type ? c->type : "";
}

static void repo_base(struct strbuf *out, const struct release_repo *r)
{
	strbuf_addf(out, "%s/%s/%s", r->host, r->owner, r->repository);
}

/* subject.replace(/#([0-9]+)/g, "[#N](URL/issues/N)"), issues noted. */
static void link_issues(struct strbuf *out, const char *s,
			const struct release_repo *r, struct strvec *issues)
{
	size_t i = 0, j;

	while (s[i]) {
		for (j = i + 1; s[i] == '#' && s[j] >= '0' && s[j] <= '9'; j++)
			;
		if (j == i + 1) {
			strbuf_addch(out, s[i++]);
			continue;
		}
		strbuf_addf(out, "[#%.*s](", (int)(j - i - 1), s + i + 1);
		repo_base(out, r);
		/* the angular transform says "issues" on every host */
		strbuf_addf(out, "/issues/%.*s)", (int)(j - i - 1), s + i + 1);
		strvec_pushf(issues, "%.*s", (int)(j - i - 1), s + i + 1);
		i = j;
	}
}

/* [a-z0-9](?:-?[a-z0-9/]){0,38} at s: its length, or 0. */
static size_t username_len(const char *s)
{
	size_t j = 0, reps;

#define USER_CHAR(c) \
	(((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '/')
	if (!USER_CHAR(s[0]) || s[0] == '/')
		return 0;
	j = 1;
	for (reps = 0; reps < 38; reps++) {
		if (s[j] == '-' && USER_CHAR(s[j + 1]))
			j += 2;
		else if (USER_CHAR(s[j]))
			j++;
		else
			break;
	}
#undef USER_CHAR
	return j;
}

/* subject.replace(/`[^`]*`|\B@([a-z0-9](?:-?[a-z0-9/]){0,38})/g, ...):
 * @user becomes a link to the user on the host, outside code spans. */
static void link_users(struct strbuf *out, const char *s, const char *host)
{
	size_t i = 0, n;
	const char *close;

	while (s[i]) {
		if (s[i] == '`' && (close = strchr(s + i + 1, '`'))) {
			n = (size_t)(close - s) + 1 - i;
			strbuf_add(out, s + i, n);
			i += n;
			continue;
		}
		if (s[i] == '@' && !(i && is_word((unsigned char)s[i - 1])) &&
		    (n = username_len(s + i + 1))) {
			if (memchr(s + i + 1, '/', n))
				strbuf_add(out, s + i, n + 1);
			else
				strbuf_addf(out, "[@%.*s](%s/%.*s)", (int)n,
					    s + i + 1, host, (int)n, s + i + 1);
			i += n + 1;
			continue;
		}
		strbuf_addch(out, s[i++]);
	}
}

/* hash.substring(0, 7), counted in UTF-16 code units. */
static void short_hash(char *out, size_t size, const char *h)
{
	size_t i = 0, units = 0, k;

	while (h[i] && units < 7) {
		uint32_t cp;

		k = utf8_next(&cp, (const unsigned char *)h + i, strlen(h + i));
		units += k == 4 ? 2 : 1;
		if (units > 7 || i + k >= size)
			break;
		i += k;
	}
	memcpy(out, h, i);
	out[i] = '\0';
}

/* transform(): false when the writer drops the commit. */
static bool note_item_init(struct note_item *it, const struct release_commit *c,
			   const struct release_notes_ctx *ctx,
			   const struct collator *coll, size_t index)
{
	const struct release_repo *r = ctx->repo;
	bool links = r && r->host;
	struct strvec issues = STRVEC_INIT;
	struct strbuf sb = STRBUF_INIT, tmp = STRBUF_INIT;
	size_t i, j;

	memset(it, 0, sizeof(*it));
	it->title = group_title(c);
	if (!it->title)
		return false;
	it->c = c;
	it->index = index;
	it->scope = c->scope && strcmp(c->scope, "*") ? c->scope : "";
	short_hash(it->short_hash, sizeof(it->short_hash), c->hash);
	if (c->subject) {
		if (links) {
			link_issues(&tmp, c->subject, r, &issues);
			link_users(&sb, tmp.buf, r->host);
		} else {
			strbuf_addstr(&sb, c->subject);
		}
		it->subject = strbuf_detach(&sb, NULL);
	}
	it->ref_shown = xcalloc(c->nr_refs ? c->nr_refs : 1, sizeof(bool));
	for (i = 0; i < c->nr_refs; i++) {
		for (j = 0; j < issues.nr; j++)
			if (!strcmp(issues.v[j], c->refs[i].issue))
				break;
		it->ref_shown[i] = j == issues.nr;
	}
	collation_key(&it->title_key, coll, it->title);
	strbuf_reset(&tmp);
	strbuf_addstr(&tmp, it->scope);
	strbuf_addstr(&tmp, it->subject ? it->subject : "");
	collation_key(&it->sort_key, coll, tmp.buf);
	strbuf_release(&tmp);
	strvec_clear(&issues);
	return true;
}

static void note_item_release(struct note_item *it)
{
	free(it->subject);
	free(it->ref_shown);
	strbuf_release(&it->title_key);
	strbuf_release(&it->sort_key);
}

/* Groups sorted by title, commits by scope + subject; both sorts stable. */
static int note_item_cmp(const void *va, const void *vb)
{
	const struct note_item *a = va, *b = vb;
	int r = key_cmp(&a->title_key, &b->title_key);

	if (!r && a->group_first != b->group_first)
		r = a->group_first < b->group_first ? -1 : 1;
	if (!r)
		r = key_cmp(&a->sort_key, &b->sort_key);
	if (!r && a->index != b->index)
		r = a->index < b->index ? -1 : 1;
	return r;
}

static void render_heading(struct strbuf *out,
			   const struct release_notes_ctx *ctx)
{
	const struct release_repo *r = ctx->repo;
	struct semver v = { 0 };
	bool patch;

	patch = !semver_parse(&v, ctx->version, strlen(ctx->version)) &&
		v.patch != 0;
	strbuf_addstr(out, patch ? "## " : "# ");
	if (r && r->host && ctx->previous_tag && ctx->current_tag) {
		strbuf_addf(out, "[%s](", ctx->version);
		repo_base(out, r);
		strbuf_addf(out, "/compare/%s...%s)", ctx->previous_tag,
			    ctx->current_tag);
	} else {
		strbuf_addstr(out, ctx->version);
	}
	if (ctx->date && *ctx->date)
		strbuf_addf(out, " (%s)", ctx->date);
	strbuf_addch(out, '\n');
}

/* The commit partial: "* **scope:** subject ([hash](link)), closes ..." */
static void render_commit(struct strbuf *out, const struct note_item *it,
			  const struct release_repo *r)
{
	const struct release_commit *c = it->c;
	bool links = r && r->host, first = true;
	size_t i;

	strbuf_addch(out, '*');
	if (*it->scope)
		strbuf_addf(out, " **%s:**", it->scope);
	strbuf_addch(out, ' ');
	if (truthy(it->subject))
		strbuf_addstr(out, it->subject);
	else if (c->header)
		strbuf_addstr(out, c->header);
	if (links) {
		strbuf_addf(out, " ([%s](", it->short_hash);
		repo_base(out, r);
		strbuf_addf(out, "/%s/%s))", r->commit_path, c->hash);
	} else {
		strbuf_addf(out, " %s", it->short_hash);
	}
	for (i = 0; i < c->nr_refs; i++) {
		const struct release_ref *ref = &c->refs[i];
		const char *owner = truthy(ref->owner) ? ref->owner : NULL;

		if (!it->ref_shown[i])
			continue;
		if (first)
			strbuf_addstr(out, ", closes");
		first = false;
		strbuf_addch(out, ' ');
		if (links)
			strbuf_addch(out, '[');
		strbuf_addf(out, "%s%s%s#%s", owner ? owner : "",
			    owner ? "/" : "",
			    ref->repository ? ref->repository : "", ref->issue);
		if (!links)
			continue;
		strbuf_addf(out, "](%s/", r->host);
		if (truthy(ref->repository))
			strbuf_addf(out, "%s%s%s", owner ? owner : "",
				    owner ? "/" : "", ref->repository);
		else
			strbuf_addf(out, "%s/%s", r->owner, r->repository);
		strbuf_addf(out, "/%s/%s)", r->issue_path, ref->issue);
	}
	strbuf_addch(out, '\n');
}

static int by_index(const void *va, const void *vb)
{
	const struct note_item *a = *(const struct note_item *const *)va;
	const struct note_item *b = *(const struct note_item *const *)vb;

	return a->index < b->index ? -1 : a->index > b->index;
}

/* The footer partial: every note, in commit order (the items are sorted
 * for the groups). */
static void render_notes(struct strbuf *out, const struct note_item *items,
			 size_t nr)
{
	const struct note_item **order;
	size_t i, j, n = 0;

	order = xcalloc(nr ? nr : 1, sizeof(*order));
	for (i = 0; i < nr; i++)
		if (items[i].c->notes.nr)
			order[n++] = &items[i];
	qsort(order, n, sizeof(*order), by_index);
	if (n)
		strbuf_addstr(out, "\n\n### BREAKING CHANGES\n\n");
	for (i = 0; i < n; i++)
		for (j = 0; j < order[i]->c->notes.nr; j++) {
			strbuf_addstr(out, "* ");
			if (*order[i]->scope)
				strbuf_addf(out, "**%s:** ", order[i]->scope);
			strbuf_addf(out, "%s\n", order[i]->c->notes.v[j]);
		}
	free(order);
}

void release_notes(struct strbuf *out, const struct release_commit *c,
		   size_t nr, const bool *keep,
		   const struct release_notes_ctx *ctx)
{
	struct note_item *items = xcalloc(nr ? nr : 1, sizeof(*items));
	struct strbuf sb = STRBUF_INIT;
	struct collator coll;
	const char *s;
	size_t n = 0, i, j, len;

	collator_init(&coll);
	for (i = 0; i < nr; i++)
		if ((!keep || keep[i]) &&
		    note_item_init(&items[n], &c[i], ctx, &coll, n))
			n++;
	for (i = 0; i < n; i++) {
		for (j = 0; strcmp(items[j].title, items[i].title); j++)
			;
		items[i].group_first = j;
	}
	qsort(items, n, sizeof(*items), note_item_cmp);
	render_heading(&sb, ctx);
	for (i = 0; i < n; i++) {
		if (!i || strcmp(items[i].title, items[i - 1].title)) {
			strbuf_addstr(&sb, "\n\n");
			if (*items[i].title)
				strbuf_addf(&sb, "### %s\n\n", items[i].title);
		}
		render_commit(&sb, &items[i], ctx->repo);
	}
	render_notes(&sb, items, n);
	/* template(...).trim() + "\n" */
	s = sb.buf;
	len = sb.len;
	js_trim(&s, &len);
	strbuf_add(out, s, len);
	strbuf_addch(out, '\n');
	strbuf_release(&sb);
	for (i = 0; i < n; i++)
		note_item_release(&items[i]);
	free(items);
	collator_release(&coll);
}

void release_changelog_prepend(struct strbuf *out, const char *notes,
			       const char *old, size_t old_len)
{
	const char *s = notes;
	size_t len = strlen(notes);

	js_trim(&s, &len);
	strbuf_add(out, s, len);
	strbuf_addch(out, '\n');
	s = old ? old : "";
	len = old ? old_len : 0;
	js_trim(&s, &len);
	if (len) {
		strbuf_addch(out, '\n');
		strbuf_add(out, s, len);
		strbuf_addch(out, '\n');
	}
}

void release_commit_message(struct strbuf *out, const char *version,
			    const char *notes)
{
	strbuf_addf(out, "chore(release): %s [skip ci]\n\n%s", version, notes);
}

/* ---- the whole decision ---- */

int release_compute(struct release_result *out, const struct release_opts *o,
		    const char *last_tag, const struct semver *last,
		    const struct release_raw *commits, size_t nr,
		    const char *repo_url, const char *date, struct err *e)
{
	struct release_commit *c = xcalloc(nr ? nr : 1, sizeof(*c));
	bool *keep = xcalloc(nr ? nr : 1, sizeof(*keep));
	struct release_repo repo = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct release_notes_ctx ctx = { 0 };
	struct semver first = { 1, 0, 0, false };
	size_t n = 0, i;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	if (release_opts_check(o, e) < 0)
		goto out;
	release_repo_parse(&repo, repo_url);
	for (i = 0; i < nr; i++) {
		r = release_commit_parse(&c[n], &commits[i], &repo, e);
		if (r < 0)
			goto out;
		if (r > 0)
			n++;
		else
			release_commit_release(&c[n]);
	}
	out->nr_commits = n;
	if (last) {
		semver_bump(&sb, last, RELEASE_NONE, e);
		out->last_version = strbuf_detach(&sb, NULL);
		out->last_tag = xstrdup(last_tag ? last_tag : "");
	}
	release_filter_reverted(c, n, keep);
	out->type = release_analyze(c, n, keep, o);
	if (out->type == RELEASE_NONE) {
		ret = 0;
		goto out;
	}
	if (last ? semver_bump(&sb, last, out->type, e) < 0
		 : semver_bump(&sb, &first, RELEASE_NONE, e) < 0)
		goto out;
	out->version = strbuf_detach(&sb, NULL);
	release_tag_name(&sb, o->tag_format, out->version);
	out->tag = strbuf_detach(&sb, NULL);
	ctx.version = out->version;
	ctx.previous_tag = last ? last_tag : NULL;
	ctx.current_tag = out->tag;
	ctx.date = date;
	ctx.repo = &repo;
	release_notes(&sb, c, n, keep, &ctx);
	out->notes = strbuf_detach(&sb, NULL);
	ret = 0;
out:
	if (ret < 0)
		release_result_release(out);
	for (i = 0; i < n; i++)
		release_commit_release(&c[i]);
	free(c);
	free(keep);
	release_repo_release(&repo);
	strbuf_release(&sb);
	return ret;
}

void release_result_release(struct release_result *r)
{
	free(r->last_tag);
	free(r->last_version);
	free(r->version);
	free(r->tag);
	free(r->notes);
	memset(r, 0, sizeof(*r));
}
