/*
 * watch.h - the pull-based runner behind `pve-gitops watch`.
 *
 * The repository it runs in is its working copy. Every interval it fetches
 * the branch; when commits are pending after the progress marker
 * refs/pve-gitops/done of the watched repository, it takes the lease
 * there (ops/lease.h) and processes them oldest first (ops/catchup.h):
 * stage one (pushing to the watched URL) for a commit that changes the
 * definitions or the config, stage two for a tagged commit that changes
 * new_hosts.txt, as the seed's workflows trigger, until nothing is
 * pending; then it releases the lease. A commit that fails is reported
 * and tried again with backoff, never skipped; a commit refused for good
 * (invalid input) is reported and passed over. The old state file
 * .git/pve-gitops-watch is where it starts when the remote has no marker
 * yet. One watcher per clone (a lock file); runners on other clones or
 * machines wait for the lease.
 *
 * With listen, it records what it does on a board (ops/serve.h) under
 * the board's mutex: the branch head fetched, the commits pending, the
 * lease, each commit processed (stages, result, duration, error), and the
 * Proxmox and Vault requests; a push webhook ends its sleep at once.
 * The board's VM rows (core/status.h's status_set_vms) are not filled
 * yet: that is where the doctor model's per-VM chain goes.
 */
#ifndef PVE_GITOPS_OPS_WATCH_H
#define PVE_GITOPS_OPS_WATCH_H

#include <signal.h>
#include <stdbool.h>

#include "core/config.h"
#include "util/err.h"

struct watch_req {
	const char *url;    /* the watched repository, pushed to */
	const char *branch; /* NULL: git.branch */
	unsigned interval;  /* seconds between fetches */
	bool once;	    /* one pass, then return */
	/* "ADDR:PORT": serve the status page, metrics, probes and push
	 * webhooks there (ops/serve.h), printing "listening on URL" on
	 * stdout; NULL: no server */
	const char *listen;
	/* set (by a signal handler) to stop after the commit at hand, or
	 * at once while waiting for another's lease (ops/lease.h) */
	volatile sig_atomic_t *stop;
};

/*
 * Watch until *req->stop is set (0), or for one pass with once (0, or -1
 * when a commit failed).
 */
int watch_run(const struct config *cfg, const struct watch_req *req,
	      struct err *e);

#endif
