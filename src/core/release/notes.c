/*
 * notes.c - the release notes as release-notes-generator writes them
 * with the angular templates (groups, sorted commits, links to commits,
 * issues and users, BREAKING CHANGES), the CHANGELOG.md that
 * @semantic-release/changelog prepends, and the release commit message.
 */
#include "core/release/release_int.h"

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
		if (s[i] == '@' &&
		    !(i && js_is_word((unsigned char)s[i - 1])) &&
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
	release_collation_key(&it->title_key, coll, it->title);
	strbuf_reset(&tmp);
	strbuf_addstr(&tmp, it->scope);
	strbuf_addstr(&tmp, it->subject ? it->subject : "");
	release_collation_key(&it->sort_key, coll, tmp.buf);
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
	int r = release_key_cmp(&a->title_key, &b->title_key);

	if (!r && a->group_first != b->group_first)
		r = a->group_first < b->group_first ? -1 : 1;
	if (!r)
		r = release_key_cmp(&a->sort_key, &b->sort_key);
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
	if (js_truthy(it->subject))
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
		const char *owner = js_truthy(ref->owner) ? ref->owner : NULL;

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
		if (js_truthy(ref->repository))
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

	release_collator_init(&coll);
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
	release_collator_release(&coll);
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
