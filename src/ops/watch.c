/*
 * watch.c - the pull-based runner; see watch.h.
 */
#include "ops/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "io/git.h"
#include "ops/chain.h"
#include "ops/provision.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/strvec.h"

#define MAX_BACKOFF_S 600

struct watcher {
	const struct config *cfg;
	const char *url, *branch;
	unsigned interval;
	volatile sig_atomic_t *stop;
	struct strbuf state, lock;
	int lock_fd;
};

/* Sleep s seconds, or less when asked to stop. */
static void sleep_s(const struct watcher *w, unsigned s)
{
	while (s-- && !*w->stop)
		sleep_ms(1000);
}

/* A git-dir path for name (".git/NAME" in a normal clone). */
static int git_path(const char *name, struct strbuf *out, struct err *e)
{
	const char *args[] = { "rev-parse", "--git-path", name, NULL };
	int status;

	if (git_run(args, out, NULL, &status, e) < 0)
		return -1;
	if (status)
		return err_set(e, EXIT_INVALID,
			       "watch runs in a git repository (a clone of "
			       "the watched one)");
	strbuf_trim(out);
	return 0;
}

static int take_lock(struct watcher *w, struct err *e)
{
	w->lock_fd = open(w->lock.buf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (w->lock_fd < 0)
		return err_errno(e, errno, "cannot open '%s'", w->lock.buf);
	if (flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return err_set(e, EXIT_FAIL,
			       "another pve-gitops watch runs in this "
			       "repository (%s is locked)",
			       w->lock.buf);
	return 0;
}

/* The last commit done, or the commit checked out at the first start. */
static int last_done(struct watcher *w, struct strbuf *out, struct err *e)
{
	struct err ignore = ERR_INIT;

	if (!file_read_all(out, w->state.buf, 1024, &ignore)) {
		strbuf_trim(out);
		err_release(&ignore);
		return 0;
	}
	err_release(&ignore);
	return git_rev_parse("HEAD", out, e);
}

static int save_done(struct watcher *w, const char *rev, struct err *e)
{
	struct strbuf text = STRBUF_INIT;
	int ret;

	strbuf_addf(&text, "%s\n", rev);
	ret = file_write_atomic(w->state.buf, text.buf, text.len, 0644, e);
	strbuf_release(&text);
	return ret;
}

/* The commits after last up to the fetched head, oldest first. */
static int new_commits(struct watcher *w, const char *last, struct strvec *out,
		       struct err *e)
{
	struct strbuf range = STRBUF_INIT, o = STRBUF_INIT;
	const char *fetch[] = { "fetch", "-q",	    "--end-of-options",
				w->url,	 w->branch, NULL };
	const char *list[] = { "rev-list", "--reverse", "--first-parent", NULL,
			       NULL };
	char *line, *save = NULL;
	int ret = -1;

	if (git_checked(NULL, "cannot fetch", fetch, NULL, e) < 0)
		goto out;
	strbuf_addf(&range, "%s..FETCH_HEAD", last);
	list[3] = range.buf;
	if (git_checked(NULL, "cannot list the new commits", list, &o, e) < 0)
		goto out;
	for (line = strtok_r(o.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		strvec_push(out, line);
	ret = 0;
out:
	strbuf_release(&range);
	strbuf_release(&o);
	return ret;
}

/* 1 when the error is one no retry can change (invalid input). */
static int refused(const struct err *e)
{
	return e->exit_code == EXIT_INVALID ? 1 : -1;
}

/*
 * Process one commit: 0 done, 1 refused for good (invalid input: reported
 * and passed over, since no retry can change it), -1 failed (retried).
 */
static int process(struct watcher *w, const char *rev, struct err *e)
{
	const char *reset[] = { "reset", "-q", "--hard", rev, NULL };
	struct chain_commit c;
	int ret = -1;

	chain_commit_init(&c);
	if (git_checked(NULL, "cannot check out the commit", reset, NULL, e) <
	    0)
		goto out;
	if (chain_commit_read(&c, w->cfg, rev, true, e) < 0) {
		ret = refused(e);
		goto out;
	}
	if (c.touches_defs) {
		struct stage_one_req req = { &c, true, w->url };
		struct stage_one_result one;
		int rc;

		stage_one_result_init(&one);
		rc = chain_stage_one(w->cfg, &req, &one, e);
		stage_one_result_release(&one);
		if (rc < 0) {
			ret = refused(e);
			goto out;
		}
	}
	if (c.tag.len && c.touches_new_hosts) {
		struct provision_req two;
		struct provision_result res;
		int rc;

		memset(&two, 0, sizeof(two));
		two.commit = c.rev.buf;
		two.tag = c.tag.buf;
		provision_result_init(&res);
		rc = provision_run(w->cfg, &two, &res, e);
		provision_print(w->cfg, &res);
		provision_result_release(&res);
		if (rc < 0) {
			ret = refused(e);
			goto out;
		}
	}
	ret = 0;
out:
	chain_commit_release(&c);
	return ret;
}

static void report(const char *rev, const char *what, const struct err *e)
{
	report_error("watch: %.12s %s: %s", rev, what, e->msg.buf);
}

/* One pass: 0 when every new commit was done, -1 when one failed. */
static int pass(struct watcher *w, struct err *e)
{
	struct strbuf last = STRBUF_INIT;
	struct strvec commits;
	size_t i;
	int ret = -1;

	strvec_init(&commits);
	if (last_done(w, &last, e) < 0 ||
	    new_commits(w, last.buf, &commits, e) < 0)
		goto out;
	for (i = 0; i < commits.nr && !*w->stop; i++) {
		struct err ce = ERR_INIT;
		int rc;

		printf("watch: %.12s\n", commits.v[i]);
		fflush(stdout);
		rc = process(w, commits.v[i], &ce);
		if (rc < 0) {
			report(commits.v[i], "failed; trying again later", &ce);
			err_release(&ce);
			goto out;
		}
		if (rc > 0)
			report(commits.v[i], "refused, passed over", &ce);
		err_release(&ce);
		if (save_done(w, commits.v[i], e) < 0)
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&last);
	strvec_clear(&commits);
	return ret;
}

static int watcher_init(struct watcher *w, const struct config *cfg,
			const struct watch_req *req, struct err *e)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->url = req->url;
	w->branch = cfg->git.branch;
	w->interval = req->interval;
	w->stop = req->stop;
	w->lock_fd = -1;
	strbuf_init(&w->state, 0);
	strbuf_init(&w->lock, 0);
	if (req->url[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a repository",
			       req->url);
	if (git_path("pve-gitops-watch", &w->state, e) < 0 ||
	    git_path("pve-gitops-watch.lock", &w->lock, e) < 0)
		return -1;
	return take_lock(w, e);
}

static void watcher_release(struct watcher *w)
{
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	strbuf_release(&w->state);
	strbuf_release(&w->lock);
}

int watch_run(const struct config *cfg, const struct watch_req *req,
	      struct err *e)
{
	struct config local = *cfg; /* shallow: only git.branch differs */
	struct watcher w;
	unsigned backoff = 0;
	int ret = -1;

	if (req->branch)
		local.git.branch = (char *)req->branch;
	if (watcher_init(&w, &local, req, e) < 0)
		goto out;
	report_print(stdout, "watch: %s %s every %u s\n", w.url, w.branch,
		     w.interval);
	fflush(stdout);
	while (!*w.stop) {
		struct err pe = ERR_INIT;

		if (pass(&w, &pe) < 0) {
			if (pe.msg.len)
				report_error("watch: %s", pe.msg.buf);
			backoff = backoff ? backoff * 2 : w.interval;
			if (backoff > MAX_BACKOFF_S)
				backoff = MAX_BACKOFF_S;
			err_release(&pe);
			if (req->once) {
				err_set(e, EXIT_FAIL, "a commit failed");
				goto out;
			}
			sleep_s(&w, backoff);
			continue;
		}
		err_release(&pe);
		backoff = 0;
		if (req->once)
			break;
		sleep_s(&w, w.interval);
	}
	printf("watch: stopped\n");
	ret = 0;
out:
	watcher_release(&w);
	return ret;
}
