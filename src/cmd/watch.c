/*
 * watch.c - `pve-gitops watch --remote URL`: a pull-based runner for any
 * git server, in place of the seed's two CI workflows.
 *
 * The repository it runs in is its working copy. Every interval it
 * fetches the branch and processes the new commits one by one, oldest
 * first: stage one (pipeline, pushing to URL) for a commit that changes
 * the definitions or the config, stage two (provision) for a tagged commit
 * that changes new_hosts.txt, as the seed's workflows trigger. The last
 * commit done is kept in .git/pve-gitops-watch; a commit that fails is
 * reported and tried again with backoff, never skipped. One watcher per
 * repository (a lock file); SIGTERM or SIGINT stops it after the commit at
 * hand, and a watcher killed in the middle finishes that commit on its
 * next start, since every step converges when run again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cmd/chain.h"
#include "cmd/cmd.h"
#include "io/git.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/parse.h"

#define MAX_BACKOFF_S 600

struct watch_opts {
	char *remote, *branch, *interval;
	int once;
};

static const struct opt watch_options[] = {
	{ "remote", 0, OPT_STRING, offsetof(struct watch_opts, remote), "URL",
	  "the repository to watch (and push the automated commits to)" },
	{ "branch", 0, OPT_STRING, offsetof(struct watch_opts, branch), "NAME",
	  "the branch (default: git.branch, main)" },
	{ "interval", 0, OPT_STRING, offsetof(struct watch_opts, interval), "S",
	  "seconds between fetches (default 30)" },
	{ "once", 0, OPT_BOOL, offsetof(struct watch_opts, once), NULL,
	  "process what is new, then stop" },
	OPT_END,
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct watcher {
	const struct config *cfg;
	const char *url, *branch;
	unsigned interval;
	struct strbuf state, lock;
	int lock_fd;
};

static void sleep_s(unsigned s)
{
	while (s-- && !stopping)
		nanosleep(&(struct timespec){ 1, 0 }, NULL);
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

/* Whether rev changed any of paths (NULL-terminated). */
static int touches_any(const char *rev, const char *const *paths, struct err *e)
{
	int rc = 0;

	for (; *paths && !rc; paths++)
		rc = git_commit_touches(rev, *paths, e);
	return rc;
}

/*
 * Process one commit: 0 done, 1 refused for good (invalid input: reported
 * and passed over, since no retry can change it), -1 failed (retried).
 */
static int process(struct watcher *w, const char *rev, struct err *e)
{
	const char *reset[] = { "reset", "-q", "--hard", rev, NULL };
	const char *defs[] = { w->cfg->vms_dir, CONFIG_FILE_NAME, NULL };
	struct strbuf tag = STRBUF_INIT;
	int rc, ret = -1;

	if (git_checked(NULL, "cannot check out the commit", reset, NULL, e) <
	    0)
		goto out;
	rc = chain_commit_tag(rev, &tag, e);
	if (rc < 0) {
		ret = e->exit_code == EXIT_INVALID ? 1 : -1;
		goto out;
	}
	rc = touches_any(rev, defs, e);
	if (rc < 0)
		goto out;
	if (rc) {
		struct stage_one one;

		stage_one_init(&one);
		one.commit = rev;
		one.push = true;
		one.remote = w->url;
		rc = chain_stage_one(w->cfg, &one, e);
		stage_one_release(&one);
		if (rc < 0) {
			ret = e->exit_code == EXIT_INVALID ? 1 : -1;
			goto out;
		}
	}
	if (tag.len) {
		rc = git_commit_touches(rev, w->cfg->new_hosts, e);
		if (rc < 0)
			goto out;
		if (rc) {
			struct stage_two two = { rev, NULL };

			if (chain_stage_two(w->cfg, &two, e) < 0) {
				ret = e->exit_code == EXIT_INVALID ? 1 : -1;
				goto out;
			}
		}
	}
	ret = 0;
out:
	strbuf_release(&tag);
	return ret;
}

static void report(const char *rev, const char *what, const struct err *e)
{
	fprintf(stderr, "pve-gitops: watch: %.12s %s: %s\n", rev, what,
		e->msg.buf);
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
	for (i = 0; i < commits.nr && !stopping; i++) {
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

static int run_watch(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	struct watch_opts *o = opts;
	struct config local = *cfg;
	struct watcher w;
	struct sigaction sa;
	uint64_t interval = 30;
	unsigned backoff = 0;
	int ret = -1;

	(void)argv;
	if (argc || !o->remote)
		return err_set(e, EXIT_INVALID, "watch needs --remote URL");
	if (o->remote[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a repository",
			       o->remote);
	if (o->interval && parse_u64z(&interval, o->interval, 1, 86400) < 0)
		return err_set(e, EXIT_INVALID,
			       "--interval: '%s' is not a number of seconds "
			       "from 1 to 86400",
			       o->interval);
	if (o->branch)
		local.git.branch = o->branch;
	memset(&w, 0, sizeof(w));
	w.cfg = &local;
	w.url = o->remote;
	w.branch = local.git.branch;
	w.interval = (unsigned)interval;
	w.lock_fd = -1;
	strbuf_init(&w.state, 0);
	strbuf_init(&w.lock, 0);
	if (git_path("pve-gitops-watch", &w.state, e) < 0 ||
	    git_path("pve-gitops-watch.lock", &w.lock, e) < 0 ||
	    take_lock(&w, e) < 0)
		goto out;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("watch: %s %s every %u s\n", w.url, w.branch, w.interval);
	fflush(stdout);
	while (!stopping) {
		struct err pe = ERR_INIT;

		if (pass(&w, &pe) < 0) {
			if (pe.msg.len)
				fprintf(stderr, "pve-gitops: watch: %s\n",
					pe.msg.buf);
			backoff = backoff ? backoff * 2 : w.interval;
			if (backoff > MAX_BACKOFF_S)
				backoff = MAX_BACKOFF_S;
			err_release(&pe);
			if (o->once) {
				err_set(e, EXIT_FAIL, "a commit failed");
				goto out;
			}
			sleep_s(backoff);
			continue;
		}
		err_release(&pe);
		backoff = 0;
		if (o->once)
			break;
		sleep_s(w.interval);
	}
	printf("watch: stopped\n");
	ret = 0;
out:
	if (w.lock_fd >= 0)
		close(w.lock_fd);
	strbuf_release(&w.state);
	strbuf_release(&w.lock);
	return ret;
}

const struct cmd cmd_watch = {
	.name = "watch",
	.summary = "pull-based runner: process new commits of a remote",
	.args = "",
	.opts = watch_options,
	.opts_size = sizeof(struct watch_opts),
	.run = run_watch,
};
