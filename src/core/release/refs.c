/*
 * refs.c - the references of one line ("closes #12", "owner/repo#3",
 * "gh-7") as conventional-commits-parser's parseReferences() finds them
 * with the host's closing keywords and issue prefixes.
 */
#include "core/release/release_int.h"

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
		if (js_ci_prefix(s, n, actions[i]) && js_space(s + k, n - k))
			return k;
	}
	return 0;
}

static int keyword_at(const char *const *actions, const char *s, size_t n)
{
	size_t i;

	for (i = 0; actions[i]; i++)
		if (js_ci_prefix(s, n, actions[i]))
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
		    (i && js_is_word((unsigned char)s[i - 1])))
			continue;
		j = i + 4 + (s[i + 4] == 's');
		if (n - j < 3 || strncmp(s + j, "://", 3))
			continue;
		for (j += 3; j < n && s[j] &&
			     (js_is_word((unsigned char)s[j]) ||
			      strchr("-@:%+.~#?&/=", s[j]));
		     j++)
			if (js_is_word((unsigned char)s[j]))
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
	for (e = y; e < n && (js_is_word((unsigned char)s[e]) || s[e] == '-');
	     e++)
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
		if (!js_ci_prefix(s + x, n - x, prefixes[i]))
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
	return js_is_word(c) || c == '-' || c == '.' || c == '/';
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
static size_t sentence_refs(struct release_commit *c,
			    const struct release_repo *r, const char *s,
			    const struct span *sent, const struct span *act)
{
	struct span repo, issue;
	size_t pos = 0, start, found = 0;
	const char *t = s + sent->off;

	if (has_url(t, sent->len))
		return 0;
	for (;;) {
		start = pos;
		if (!ref_exec(r->prefixes, t, sent->len, &pos, &repo, &issue))
			return found;
		repo.off += sent->off;
		issue.off += sent->off;
		add_ref(c, s, sent->off + start, act, &repo, &issue);
		found++;
	}
}

/* parseReferences(): the references of one line, added to the commit. */
size_t release_refs_parse(struct release_commit *c,
			  const struct release_repo *r, const char *s, size_t n)
{
	struct span act, sent;
	size_t pos = 0, found = 0, i, j;

	if (action_exec(r->actions, s, n, &pos, &act, &sent)) {
		do
			found += sentence_refs(c, r, s, &sent, &act);
		while (action_exec(r->actions, s, n, &pos, &act, &sent));
		return found;
	}
	/* /()(.+)/gi: every run between line terminators */
	for (i = 0; i < n; i = j + 1) {
		for (j = i; j < n && !js_terminator(s + j, n - j); j++)
			;
		if (j > i) {
			sent.off = i;
			sent.len = j - i;
			found += sentence_refs(c, r, s, &sent, NULL);
		}
		if (j < n && (unsigned char)s[j] == 0xe2)
			j += 2;
	}
	return found;
}
