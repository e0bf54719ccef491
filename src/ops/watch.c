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
#include "ops/doctor.h"
#include "ops/lease.h"
#include "ops/serve.h"
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
	struct serve_board *board; /* NULL: not listening */
	bool vms_walked;	   /* the board's VM table filled once */
};

/* Sleep s seconds, or less when asked to stop or woken by a push. */
static void sleep_s(const struct watcher *w, unsigned s)
{
	if (w->board) {
		serve_board_sleep(w->board, s, w->stop);
		return;
	}
	while (s-- && !*w->stop)
		sleep_ms(1000);
}

/* The board's status, locked; NULL (nothing locked) when not listening. */
static struct status *board_lock(const struct watcher *w)
{
	if (!w->board)
		return NULL;
	pthread_mutex_lock(&w->board->mu);
	return &w->board->st;
}

static void board_unlock(const struct watcher *w)
{
	pthread_mutex_unlock(&w->board->mu);
}

static void set_text(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, s ? s : "");
}

/* catchup's report of a commit (catchup.h's on_commit). */
static void on_commit(void *ctx, const struct catchup_commit *c)
{
	const struct watcher *w = ctx;
	bool stages[STATUS_STAGES];
	enum status_result r;
	struct status *st;
	double now = serve_now();

	if (!c->finished || !(st = board_lock(w)))
		return;
	stages[STATUS_STAGE_ONE] = c->stage_one;
	stages[STATUS_STAGE_TWO] = c->stage_two;
	r = !c->outcome	     ? STATUS_SUCCESS
	    : c->outcome > 0 ? STATUS_REFUSED
			     : STATUS_FAILURE;
	status_add_run(st, c->rev, stages, r, now - c->seconds, c->seconds,
		       c->error);
	if (c->outcome >= 0)
		set_text(&st->processed, c->rev);
	if (st->behind > 0 && c->outcome >= 0)
		st->behind--;
	else if (c->outcome < 0 && st->behind < 1)
		st->behind = 1; /* it stays pending (an automated commit) */
	board_unlock(w);
}

/* After the pending check: what the fetch saw (ok) or that it failed. */
static void board_fetched(const struct watcher *w, bool ok, size_t n)
{
	struct strbuf head = STRBUF_INIT, marker = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	struct status *st;

	if (!w->board)
		return;
	if (ok && git_rev_parse("FETCH_HEAD", &head, &ignore) < 0)
		strbuf_reset(&head);
	err_release(&ignore);
	if (ok &&
	    git_remote_ref(w->url, CATCHUP_DONE_REF, &marker, &ignore) < 0)
		strbuf_reset(&marker);
	err_release(&ignore);
	st = board_lock(w);
	if (ok) {
		st->last_fetch = serve_now();
		st->behind = (long)n;
		if (head.len)
			set_text(&st->seen, head.buf);
		if (marker.len)
			set_text(&st->processed, marker.buf);
	} else
		st->fetch_errors++;
	board_unlock(w);
	strbuf_release(&head);
	strbuf_release(&marker);
}

/* The branch head catchup fetched last (its own automated commits). */
static void board_seen(const struct watcher *w)
{
	struct strbuf head = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	struct status *st;

	if (!w->board)
		return;
	if (git_rev_parse("FETCH_HEAD", &head, &ignore) < 0)
		strbuf_reset(&head);
	err_release(&ignore);
	st = board_lock(w);
	if (head.len)
		set_text(&st->seen, head.buf);
	board_unlock(w);
	strbuf_release(&head);
}

/*
 * The VM table from the doctor model (ops/doctor.h): walked after the
 * first pass and after each pass that processed commits, never while the
 * lease is held (a walk reads Proxmox, Vault and the hosts' ports).
 */
static void board_vms(struct watcher *w)
{
	struct doctor_req req = { 0 };
	struct doctor_report r;
	struct status_vm *rows = NULL;
	struct err ignore = ERR_INIT;
	struct status *st;
	size_t n = 0;

	if (!w->board)
		return;
	req.ssh_wait = 1;
	doctor_report_init(&r);
	if (doctor_run(w->cfg, &req, &r, &ignore) == 0)
		status_rows_from_doctor(&r, &rows, &n);
	doctor_report_release(&r);
	err_release(&ignore);
	st = board_lock(w);
	status_set_vms(st, rows, n);
	board_unlock(w);
	w->vms_walked = true;
}

/* The lease's state on the board: busy (taking or holding it), held. */
static void board_lease(const struct watcher *w, bool busy,
			const struct lease *lease)
{
	struct status *st = board_lock(w);

	if (!st)
		return;
	st->busy = busy;
	st->lease_held = lease != NULL;
	set_text(&st->holder, lease ? lease_holder(lease) : NULL);
	board_unlock(w);
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
	req.on_commit = on_commit;
	req.ctx = w;
	if (catchup_pending(w->cfg, &req, &n, e) < 0) {
		board_fetched(w, false, 0);
		goto out;
	}
	board_fetched(w, true, n);
	if (!n) {
		if (!w->vms_walked)
			board_vms(w);
		ret = 0;
		goto out;
	}
	board_lease(w, true, NULL);
	if (lease_take_until(&lease, w->cfg, w->url, w->stop, e) < 0) {
		board_lease(w, false, NULL);
		if (*w->stop) { /* asked to stop while waiting: no failure */
			report_note("%s", e->msg.buf);
			err_release(e);
			ret = 0;
		}
		goto out;
	}
	board_lease(w, true, lease);
	ret = catchup_run(w->cfg, &req, lease, &res, e);
	board_seen(w);
	board_lease(w, false, NULL); /* before another can take it */
	lease_release(lease);
	board_vms(w);
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

/* What the page shows from the start. */
static void board_start(struct serve_board *b, const struct watcher *w)
{
	struct status *st = &b->st;

	url_redacted(&st->repo, w->url);
	set_text(&st->branch, w->branch);
	st->interval = w->interval;
	st->started = serve_now();
}

/* With --listen: the board, the server, and what it serves said once. */
static int listen_start(struct watcher *w, struct serve_board *b,
			struct serve **srv, struct config *local,
			const char *listen, struct err *e)
{
	const struct env *env = local->env;

	serve_board_init(b, env ? env->webhook_secret : NULL);
	board_start(b, w);
	if (serve_start(srv, listen, b, e) < 0) {
		serve_board_release(b);
		return -1;
	}
	local->requests = &b->requests;
	w->board = b;
	report_info(stdout, "listening on %s\n", serve_url(*srv));
	if (b->secret)
		report_note("watch: push webhooks at %s/hooks/push (GitHub, "
			    "Gitea, GitLab)",
			    serve_url(*srv));
	else
		report_note("watch: push webhooks are off: "
			    "PVE_GITOPS_WEBHOOK_SECRET is not set, so POST "
			    "/hooks/push answers 403; polling every %u s",
			    w->interval);
	return 0;
}

int watch_run(const struct config *cfg, const struct watch_req *req,
	      struct err *e)
{
	struct config local = *cfg; /* shallow: git.branch, requests differ */
	struct serve_board board;
	struct serve *srv = NULL;
	struct watcher w;
	struct strbuf red = STRBUF_INIT;
	unsigned backoff = 0;
	int ret = -1;

	if (req->branch)
		local.git.branch = (char *)req->branch;
	if (watcher_init(&w, &local, req, e) < 0)
		goto out;
	if (req->listen &&
	    listen_start(&w, &board, &srv, &local, req->listen, e) < 0)
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
	serve_stop(srv);
	if (req->listen && w.board)
		serve_board_release(&board);
	watcher_release(&w);
	strbuf_release(&red);
	return ret;
}
