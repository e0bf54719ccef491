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
#include "ops/catchup.h"
#include "ops/lease.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/url.h"

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

/*
 * The old state file (.git/pve-gitops-watch, before the marker existed):
 * where to start when the remote has no marker yet. Empty when absent.
 */
static void legacy_start(struct watcher *w, struct strbuf *out)
{
	struct err ignore = ERR_INIT;

	if (file_read_all(out, w->state.buf, 1024, &ignore) < 0)
		strbuf_reset(out);
	strbuf_trim(out);
	err_release(&ignore);
}

/*
 * One pass: nothing when nothing is pending; else the lease, and every
 * pending commit (ops/catchup.h). 0, or -1 when a commit failed.
 */
static int pass(struct watcher *w, struct err *e)
{
	struct strbuf start = STRBUF_INIT;
	struct catchup_req req = { 0 };
	struct catchup_result res;
	struct lease *lease = NULL;
	size_t n;
	int ret = -1;

	catchup_result_init(&res);
	legacy_start(w, &start);
	req.remote = w->url;
	req.push = true;
	req.watch = true;
	req.start = start.buf;
	req.who = "watch";
	req.stop = w->stop;
	if (catchup_pending(w->cfg, &req, &n, e) < 0)
		goto out;
	if (!n) {
		ret = 0;
		goto out;
	}
	if (lease_take_until(&lease, w->cfg, w->url, w->stop, e) < 0) {
		if (*w->stop) { /* asked to stop while waiting: no failure */
			report_note("%s", e->msg.buf);
			err_release(e);
			ret = 0;
		}
		goto out;
	}
	ret = catchup_run(w->cfg, &req, lease, &res, e);
	lease_release(lease);
out:
	catchup_result_release(&res);
	strbuf_release(&start);
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
	struct strbuf red = STRBUF_INIT;
	unsigned backoff = 0;
	int ret = -1;

	if (req->branch)
		local.git.branch = (char *)req->branch;
	if (watcher_init(&w, &local, req, e) < 0)
		goto out;
	report_info(stdout, "watch: %s %s every %u s\n",
		    url_redacted(&red, w.url), w.branch, w.interval);
	fflush(stdout);
	while (!*w.stop) {
		struct err pe = ERR_INIT;

		if (pass(&w, &pe) < 0) {
			if (pe.msg.len)
				report_error("watch: %s; trying again later",
					     pe.msg.buf);
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
	report_info(stdout, "watch: stopped\n");
	ret = 0;
out:
	watcher_release(&w);
	strbuf_release(&red);
	return ret;
}
