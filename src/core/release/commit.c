/*
 * commit.c - one commit message as conventional-commits-parser 6 reads
 * it with the angular preset (CommitParser): the lines, the header
 * "type(scope): subject", meta fields, BREAKING CHANGE notes, reverts,
 * and the cleanup of the result. References are found by refs.c.
 */
#include "core/release/release_int.h"

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
	while (i < len && js_is_word((unsigned char)h[i]))
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
	if (!js_ci_prefix(s + i, n - i, "BREAKING CHANGE"))
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
		if (release_refs_parse(p->c, p->repo, l->s, l->len)) {
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
		if (!js_ci_prefix(s + t, n - t, "This reverts commit "))
			continue;
		t += 20;
		for (k = t;
		     k < n && k - t <= 40 && js_is_word((unsigned char)s[k]);
		     k++)
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

	if (!js_ci_prefix(s, n, "revert"))
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
		    (js_is_word((unsigned char)s[i + 1]) || s[i + 1] == '-'))
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
		release_refs_parse(p->c, p->repo, l[0].s, l[0].len);
	}
	p->i = p->nr ? 1 : 0;
	while (p->i < p->nr) {
		parse_meta(p);
		parse_notes(p);
		if (p->i < p->nr) {
			release_refs_parse(p->c, p->repo, l[p->i].s,
					   l[p->i].len);
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
	js_decode_utf8(&sub, raw->subject, strlen(raw->subject));
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
	js_decode_utf8(&clean, raw->msg, raw->len);
	s = clean.buf;
	n = clean.len;
	js_trim(&s, &n); /* get-commits: message.trim() */
	if (!n)
		goto out;
	if (!repo || !repo->actions) {
		release_repo_defaults(&defaults, NULL);
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
	out->revert = parse_revert(out, s, n) || js_truthy(p.meta_revert);
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
