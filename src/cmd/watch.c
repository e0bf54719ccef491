/*
 * watch.c - `pve-gitops watch --remote URL`: a pull-based runner for any
 * git server, in place of the seed's two CI workflows (ops/watch.h).
 * SIGTERM or SIGINT stops it after the commit at hand; a watcher killed in
 * the middle finishes that commit on its next start, since every step
 * converges when run again.
 */
#include <signal.h>
#include <string.h>

#include "cmd/cmd.h"
#include "ops/watch.h"
#include "util/exitcode.h"
#include "util/parse.h"

struct watch_opts {
	char *remote, *branch, *interval, *listen;
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
	{ "listen", 0, OPT_STRING, offsetof(struct watch_opts, listen),
	  "ADDR:PORT",
	  "serve a status page, /metrics, /healthz, /readyz and push "
	  "webhooks (port 0: a free one)" },
	OPT_END,
};

/* The one flag a signal handler may set. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int run_watch(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	struct watch_opts *o = opts;
	struct watch_req req = { 0 };
	struct sigaction sa;
	uint64_t interval = 30;

	(void)argv;
	if (argc || !o->remote)
		return err_set(e, EXIT_INVALID, "watch needs --remote URL");
	if (o->interval && parse_u64z(&interval, o->interval, 1, 86400) < 0)
		return err_set(e, EXIT_INVALID,
			       "--interval: '%s' is not a number of seconds "
			       "from 1 to 86400",
			       o->interval);
	if (o->branch) {
		struct strbuf why = STRBUF_INIT;

		if (config_check_branch(o->branch, &why) < 0) {
			err_set(e, EXIT_INVALID, "--branch: '%s': %s",
				o->branch, why.buf);
			strbuf_release(&why);
			return -1;
		}
	}
	req.url = o->remote;
	req.branch = o->branch;
	req.interval = (unsigned)interval;
	req.once = o->once;
	req.listen = o->listen;
	req.stop = &stopping;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return watch_run(cfg, &req, e);
}

const struct cmd cmd_watch = {
	.name = "watch",
	.summary = "pull-based runner: process new commits of a remote",
	.args = "",
	.opts = watch_options,
	.opts_size = sizeof(struct watch_opts),
	.run = run_watch,
};
