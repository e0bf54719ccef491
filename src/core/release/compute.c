/*
 * compute.c - the whole decision of release_compute(): parse the commits,
 * drop the reverted ones, find the release type, bump the version, name
 * the tag and write the notes.
 */
#include "core/release/release_int.h"

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
