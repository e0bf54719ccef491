/*
 * catchup.h - the loop `run` and `watch` share: every first-parent commit
 * of the branch after the progress marker, oldest first, under the lease.
 *
 * The marker is the ref refs/pve-gitops/done on the same remote as the
 * lease (ops/lease.h): the last commit whose stages finished. Each pending
 * commit gets stage one when it changes the definitions or the config and
 * stage two when it is tagged and changes new_hosts.txt (as the seed's
 * workflows trigger); then the marker moves to it with a compare-and-swap
 * push. After a pass the branch is fetched again and the loop goes on
 * until nothing is pending, so the automated commits stage one pushed get
 * their stage two in the same call. A commit refused for good (invalid
 * input) is reported and passed over; a failure stops the loop with the
 * marker before that commit, so the next run, on any runner, retries it.
 *
 * No marker yet: only the target commit is pending (or the commits after
 * start, watch's old state). A marker that is not an ancestor of the
 * target (history rewritten): a warning, and only the target is pending.
 */
#ifndef PVE_GITOPS_OPS_CATCHUP_H
#define PVE_GITOPS_OPS_CATCHUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "ops/lease.h"
#include "util/err.h"

#define CATCHUP_DONE_REF      "refs/pve-gitops/done"
#define CATCHUP_SEEN_DONE_REF "refs/pve-gitops/seen-done"

/* A commit as catchup_run processes it, for on_commit (see below). */
struct catchup_commit {
	const char *rev;
	bool finished;		   /* false: about to start */
	bool stage_one, stage_two; /* the stages that ran (finished) */
	int outcome;		   /* 0 done, 1 refused, -1 failed */
	double seconds;		   /* how long it took (finished) */
	const char *error;	   /* the failure or refusal, else NULL */
};

struct catchup_req {
	/* the remote pushed to, fetched from, where lease and marker live;
	 * "." : the local repository (nothing pushed, the branch is HEAD) */
	const char *remote;
	bool push;	   /* stage one pushes to remote */
	bool watch;	   /* watch's own clone: each commit is checked out */
	const char *start; /* without a marker: the last commit done, or NULL */
	const char *who;   /* "run", "watch": the progress lines' prefix */
	volatile sig_atomic_t *stop; /* set: stop after the commit at hand */
	/* told of each commit before and after it is processed, on the
	 * caller's thread (watch --listen's page and metrics); NULL: nobody.
	 * The strings are valid for the call only. */
	void (*on_commit)(void *ctx, const struct catchup_commit *c);
	void *ctx;
};

struct catchup_result {
	size_t done, refused;
	struct err refusal; /* the first commit refused, when refused */
};

void catchup_result_init(struct catchup_result *r);
void catchup_result_release(struct catchup_result *r);

/*
 * How many commits are pending now (fetches the branch, reads the
 * marker; no lease needed), into *n. 0 or -1.
 */
int catchup_pending(const struct config *cfg, const struct catchup_req *req,
		    size_t *n, struct err *e);

/*
 * Process the pending commits under the held lease until none is left.
 * 0 (refused commits counted in out), or -1 when one failed or the lease
 * was lost (ERR_LOST). Prints "WHO: COMMIT" before each commit.
 */
int catchup_run(const struct config *cfg, const struct catchup_req *req,
		struct lease *lease, struct catchup_result *out, struct err *e);

#endif
