/*
 * release.c - the release as an operation; see release.h. The decisions
 * are core/release.c's; this file reads the tags and commits from git,
 * refuses a dirty work tree, writes the changelog and makes the commit and
 * the tag.
 */
#include "ops/release.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/git.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define CHANGELOG     "CHANGELOG.md"
#define MAX_CHANGELOG (64u << 20)
#define MSG_FILE      "PVE_GITOPS_RELEASE_MSG"

/*
 * The release settings. Every field has semantic-release's default
 * (tag format v${version}, no extra type rules) until the configuration
 * carries release_tag_format and release_types.
 */
static void release_opts_from(struct release_opts *o, const struct config *cfg)
{
	struct release_opts d = RELEASE_OPTS_INIT;

	*o = d;
	if (cfg->release_tag_format)
		o->tag_format = cfg->release_tag_format;
	o->rules = cfg->release_rules;
	o->nr_rules = cfg->nr_release_rules;
}

/* 1 when git exits 0, 0 when not, -1 when it cannot run. */
static int git_test(const char *const *args, struct strbuf *out, struct err *e)
{
	struct strbuf errs = STRBUF_INIT, ignored = STRBUF_INIT;
	int status;

	if (git_run(args, out ? out : &ignored, &errs, &status, e) < 0)
		status = -1;
	strbuf_release(&errs);
	strbuf_release(&ignored);
	return status < 0 ? -1 : status == 0;
}

static int check_repository(struct err *e)
{
	const char *inside[] = { "rev-parse", "--is-inside-work-tree", NULL };
	const char *head[] = { "rev-parse", "--verify", "-q", "HEAD^{commit}",
			       NULL };
	struct strbuf out = STRBUF_INIT;
	int r;

	r = git_test(inside, &out, e);
	strbuf_trim(&out);
	if (r > 0 && strcmp(out.buf, "true"))
		r = 0;
	strbuf_release(&out);
	if (r < 0)
		return -1;
	if (!r)
		return err_set(e, EXIT_INVALID,
			       "cannot release: this is not a git work tree");
	r = git_test(head, NULL, e);
	if (r < 0)
		return -1;
	if (!r)
		return err_set(e, EXIT_FAIL,
			       "cannot release: the repository has no commits "
			       "yet");
	return 0;
}

/*
 * Refuse uncommitted changes to tracked files, and an untracked
 * CHANGELOG.md (it would be committed as it is): the release commit must
 * hold the changelog and nothing else.
 */
static int check_clean(const char *changelog, struct err *e)
{
	const char *args[] = { "status", "--porcelain=v1", "-z",
			       "--untracked-files=normal", NULL };
	struct strbuf out = STRBUF_INIT, list = STRBUF_INIT;
	size_t i = 0, n = 0, len;
	int ret = 0;

	if (git_checked(NULL, "cannot read the state of the work tree", args,
			&out, e) < 0) {
		strbuf_release(&out);
		return -1;
	}
	while (i < out.len) {
		const char *entry = out.buf + i;
		bool rename = entry[0] == 'R' || entry[0] == 'C';

		len = strlen(entry);
		if (len > 3 && (strncmp(entry, "??", 2) ||
				!strcmp(entry + 3, changelog))) {
			if (n < 5)
				strbuf_addf(&list, "%s%s", n ? ", " : "",
					    entry + 3);
			n++;
		}
		i += len + 1;
		if (rename && i < out.len)
			i += strlen(out.buf + i) + 1;
	}
	if (n)
		ret = err_set(e, EXIT_FAIL,
			      "cannot release: the work tree has uncommitted "
			      "changes (%s%s); commit or stash them, or use "
			      "--dry-run",
			      list.buf, n > 5 ? ", ..." : "");
	strbuf_release(&out);
	strbuf_release(&list);
	return ret;
}

/* `git tag --merged HEAD`: the tags HEAD contains, one a line. */
static int read_tags(struct strvec *tags, struct err *e)
{
	const char *args[] = { "tag", "--merged", "HEAD", NULL };
	struct strbuf out = STRBUF_INIT, line = STRBUF_INIT;
	const char *p, *nl;

	if (git_checked(NULL, "cannot list the tags", args, &out, e) < 0) {
		strbuf_release(&out);
		return -1;
	}
	for (p = out.buf; *p; p = nl + (*nl != '\0')) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		strbuf_reset(&line);
		strbuf_add(&line, p, (size_t)(nl - p));
		strbuf_trim(&line);
		if (line.len)
			strvec_push(tags, line.buf);
	}
	strbuf_release(&out);
	strbuf_release(&line);
	return 0;
}

static int is_hash(const char *s, size_t len)
{
	size_t i;

	if (len != 40 && len != 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return 0;
	return 1;
}

/* The NUL-terminated field at *i of buf; *i moves past its NUL. NULL
 * when there is none. */
static const char *log_field(struct strbuf *buf, size_t *i, size_t *len)
{
	const char *f = buf->buf + *i;
	const char *nul = memchr(f, '\0', buf->len - *i);

	if (!nul)
		return NULL;
	*len = (size_t)(nul - f);
	*i += *len + 1;
	return f;
}

/*
 * The commits since the last tag (all of HEAD's without one), newest first
 * as `git log` lists them, merges included: "%H NUL %s NUL %B NUL" per
 * commit. The raw entries point into *buf.
 */
static int read_commits(struct strbuf *buf, struct release_raw **out,
			size_t *nr, const char *last_tag, struct err *e)
{
	struct strbuf range = STRBUF_INIT;
	const char *args[] = { "log",
			       "--no-show-signature",
			       "--format=%H%x00%s%x00%B%x00",
			       "--end-of-options",
			       NULL,
			       NULL };
	const char *hash, *subject, *msg;
	size_t i = 0, alloc = 0, hlen, slen, mlen;
	int ret = -1;

	if (last_tag)
		strbuf_addf(&range, "refs/tags/%s^{commit}..HEAD", last_tag);
	else
		strbuf_addstr(&range, "HEAD");
	args[4] = range.buf;
	if (git_checked(NULL, "cannot read the commits", args, buf, e) < 0)
		goto out;
	while (i < buf->len) {
		if (buf->buf[i] == '\n') {
			i++;
			continue;
		}
		hash = log_field(buf, &i, &hlen);
		subject = hash ? log_field(buf, &i, &slen) : NULL;
		msg = subject ? log_field(buf, &i, &mlen) : NULL;
		if (!msg || !is_hash(hash, hlen) ||
		    memchr(subject, '\n', slen)) {
			err_set(e, EXIT_FAIL,
				"cannot read the commits: unexpected git log "
				"output (a NUL byte in a message?)");
			goto out;
		}
		ALLOC_GROW(*out, *nr + 1, alloc);
		(*out)[*nr].hash = hash;
		(*out)[*nr].subject = subject;
		(*out)[*nr].msg = msg;
		(*out)[(*nr)++].len = mlen;
	}
	ret = 0;
out:
	strbuf_release(&range);
	return ret;
}

/* The remote's URL for links, or NULL (no such remote: no links). */
static char *remote_url(const struct config *cfg)
{
	struct strbuf key = STRBUF_INIT, out = STRBUF_INIT;
	const char *args[] = { "config", "--get", NULL, NULL };
	struct err ignore = ERR_INIT;
	int r;

	strbuf_addf(&key, "remote.%s.url", cfg->git.remote);
	args[2] = key.buf;
	r = git_test(args, &out, &ignore);
	err_release(&ignore);
	strbuf_release(&key);
	strbuf_trim(&out);
	if (r <= 0 || !out.len) {
		strbuf_release(&out);
		return NULL;
	}
	return strbuf_detach(&out, NULL);
}

static void today_utc(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(out, 11, "%Y-%m-%d", &tm))
		out[0] = '\0';
}

/* The new tag must be a valid name and must not exist yet (on a commit
 * HEAD does not contain: a release made on another branch). */
static int check_new_tag(const char *tag, struct err *e)
{
	struct strbuf ref = STRBUF_INIT;
	const char *fmt[] = { "check-ref-format", NULL, NULL };
	const char *exists[] = { "rev-parse",	     "--verify", "-q",
				 "--end-of-options", NULL,	 NULL };
	int r;

	strbuf_addf(&ref, "refs/tags/%s", tag);
	fmt[1] = ref.buf;
	exists[4] = ref.buf;
	r = git_test(fmt, NULL, e);
	if (r == 0)
		err_set(e, EXIT_INVALID,
			"cannot release: '%s' is not a valid tag name", tag);
	if (r > 0) {
		r = git_test(exists, NULL, e);
		if (r > 0)
			err_set(e, EXIT_FAIL,
				"cannot release %s: tag '%s' already exists on "
				"a commit that HEAD does not contain",
				tag, tag);
		r = r == 0 ? 1 : 0;
	}
	strbuf_release(&ref);
	return r > 0 ? 0 : -1;
}

/* What CHANGELOG.md was, to put it back when the commit fails. */
struct changelog {
	struct strbuf old;
	bool existed;
	mode_t mode;
};

static int changelog_write(struct changelog *cl, const char *notes,
			   struct err *e)
{
	struct strbuf text = STRBUF_INIT;
	struct stat st;
	int ret;

	if (lstat(CHANGELOG, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return err_set(e, EXIT_FAIL,
				       "cannot release: '" CHANGELOG
				       "' is not a regular file");
		cl->existed = true;
		cl->mode = st.st_mode & 0777;
		if (file_read_all(&cl->old, CHANGELOG, MAX_CHANGELOG, e) < 0)
			return err_prefix(e, "cannot read '" CHANGELOG "'");
	} else if (errno != ENOENT) {
		return err_errno(e, errno, "cannot read '" CHANGELOG "'");
	}
	release_changelog_prepend(&text, notes, cl->old.buf, cl->old.len);
	ret = file_write_atomic(CHANGELOG, text.buf, text.len, cl->mode, e);
	strbuf_release(&text);
	return ret;
}

/* Put CHANGELOG.md back as it was and out of the index. */
static void changelog_restore(const struct changelog *cl)
{
	const char *reset[] = { "reset", "-q", "--", CHANGELOG, NULL };
	struct err ignore = ERR_INIT;
	int status;

	git_run(reset, NULL, NULL, &status, &ignore);
	if (cl->existed)
		file_write_atomic(CHANGELOG, cl->old.buf, cl->old.len, cl->mode,
				  &ignore);
	else
		unlink(CHANGELOG);
	err_release(&ignore);
}

/* The message goes through a file in the git directory: it can be longer
 * than one argument may be. */
static int commit_release(const struct config *cfg,
			  const struct release_result *r, struct err *e)
{
	const char *where[] = { "rev-parse", "--git-path", MSG_FILE, NULL };
	const char *add[] = { "add", "--force", "--", CHANGELOG, NULL };
	const char *commit[] = { "commit",  "-q", "--cleanup=whitespace",
				 "-F",	    NULL, "--",
				 CHANGELOG, NULL };
	struct strbuf path = STRBUF_INIT, msg = STRBUF_INIT;
	int ret = -1;

	if (git_checked(NULL, "cannot find the git directory", where, &path,
			e) < 0)
		goto out;
	strbuf_trim(&path);
	release_commit_message(&msg, r->version, r->notes);
	if (file_write_atomic(path.buf, msg.buf, msg.len, 0600, e) < 0)
		goto out;
	commit[4] = path.buf;
	if (git_checked(NULL, "cannot stage '" CHANGELOG "'", add, NULL, e) <
		    0 ||
	    git_checked(cfg, "cannot commit the release", commit, NULL, e) < 0)
		goto out;
	ret = 0;
out:
	if (path.len)
		unlink(path.buf);
	strbuf_release(&path);
	strbuf_release(&msg);
	return ret;
}

/* A lightweight tag on the release commit, as semantic-release makes. */
static int tag_release(const struct release_result *r, struct err *e)
{
	const char *args[] = { "tag", "--end-of-options", r->tag, "HEAD",
			       NULL };

	if (git_checked(NULL, "cannot create the tag", args, NULL, e) < 0)
		return err_prefix(e, "the release commit of %s is made, but",
				  r->version);
	return 0;
}

/* CHANGELOG.md relative to the top of the work tree, as git status
 * names it. */
static int changelog_path(struct strbuf *out, struct err *e)
{
	const char *args[] = { "rev-parse", "--show-prefix", NULL };

	if (git_checked(NULL, "cannot find the work tree", args, out, e) < 0)
		return -1;
	strbuf_trim(out);
	strbuf_addstr(out, CHANGELOG);
	return 0;
}

/* Read tags and commits and decide; nothing changes. */
static int release_decide(const struct config *cfg,
			  const struct release_opts *o,
			  struct release_result *out, struct err *e)
{
	struct strvec tags = STRVEC_INIT;
	struct strbuf log = STRBUF_INIT;
	struct release_raw *commits = NULL;
	struct semver last;
	char date[11], *url = NULL;
	const char *last_tag = NULL;
	size_t nr = 0;
	long idx;
	int ret = -1;

	if (read_tags(&tags, e) < 0)
		goto out;
	idx = release_last_tag(tags.v, tags.nr, o->tag_format, &last);
	if (idx >= 0)
		last_tag = tags.v[idx];
	report_debug("last release: %s", last_tag ? last_tag : "none");
	if (read_commits(&log, &commits, &nr, last_tag, e) < 0)
		goto out;
	url = remote_url(cfg);
	today_utc(date);
	if (release_compute(out, o, last_tag, idx >= 0 ? &last : NULL, commits,
			    nr, url, date, e) < 0)
		goto out;
	report_debug("%zu commits since, release: %s", out->nr_commits,
		     out->type ? release_type_name(out->type) : "none");
	ret = 0;
out:
	strvec_clear(&tags);
	strbuf_release(&log);
	free(commits);
	free(url);
	return ret;
}

/* Nothing changes: the checks and the decision. */
static int release_check(const struct config *cfg,
			 const struct release_request *req,
			 const struct release_opts *o, struct release_result *r,
			 struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	int ret = -1;

	if (release_opts_check(o, e) < 0 || check_repository(e) < 0)
		goto out;
	if (!req->dry_run &&
	    (changelog_path(&path, e) < 0 || check_clean(path.buf, e) < 0))
		goto out;
	if (release_decide(cfg, o, r, e) < 0)
		goto out;
	if (r->type != RELEASE_NONE && check_new_tag(r->tag, e) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&path);
	return ret;
}

/* CHANGELOG.md, the commit (CHANGELOG.md put back when it fails), the tag. */
static int release_commit_and_tag(const struct config *cfg,
				  const struct release_result *r, struct err *e)
{
	struct changelog cl = { STRBUF_INIT, false, 0644 };
	int ret = -1;

	if (changelog_write(&cl, r->notes, e) < 0)
		goto out;
	if (commit_release(cfg, r, e) < 0) {
		changelog_restore(&cl);
		goto out;
	}
	ret = tag_release(r, e);
out:
	strbuf_release(&cl.old);
	return ret;
}

int release_make(struct release_outcome *out, const struct config *cfg,
		 const struct release_request *req, struct err *e)
{
	struct release_opts o;

	memset(out, 0, sizeof(*out));
	release_opts_from(&o, cfg);
	if (release_check(cfg, req, &o, &out->r, e) < 0)
		return -1;
	if (out->r.type == RELEASE_NONE || req->dry_run)
		return 0;
	if (release_commit_and_tag(cfg, &out->r, e) < 0)
		return -1;
	out->made = true;
	return 0;
}

void release_outcome_release(struct release_outcome *o)
{
	release_result_release(&o->r);
	o->made = false;
}

int release_push_tag(const struct config *cfg, const char *remote,
		     const char *tag, struct err *e)
{
	struct strbuf ref = STRBUF_INIT;
	const char *args[] = { "push", "-q", "--end-of-options",
			       NULL,   NULL, NULL };
	int ret;

	args[3] = remote ? remote : cfg->git.remote;
	strbuf_addf(&ref, "refs/tags/%s", tag);
	args[4] = ref.buf;
	ret = git_checked(cfg, "cannot push the release tag", args, NULL, e);
	strbuf_release(&ref);
	return ret;
}
