/*
 * lease.h - one runner at a time per repository: a lease held in the git
 * server itself, so runners on different machines see it.
 *
 * The lease is the ref refs/pve-gitops/lease on the remote. Its value is a
 * root commit on the empty tree whose message says who holds it and until
 * when (wall-clock seconds: runners are different machines, so their
 * clocks must agree to well within the lease's time to live). It is taken
 * and renewed with a compare-and-swap push (--force-with-lease): of two
 * runners that saw the same old value, one push wins and the other is
 * refused. A holder renews it every ttl/3 from a thread of its own and
 * deletes it at the end; a holder that died leaves it to expire, and the
 * next runner takes it over. A runner whose renewal was refused has lost
 * it: lease_check() says so before each step that changes something.
 *
 * The message and what a lease read means are core/lease.h.
 */
#ifndef PVE_GITOPS_OPS_LEASE_H
#define PVE_GITOPS_OPS_LEASE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/lease.h"
#include "util/err.h"
#include "util/strbuf.h"

#define LEASE_REF      "refs/pve-gitops/lease"
#define LEASE_SEEN_REF "refs/pve-gitops/seen-lease"

/* The remote a command leases: its --remote, or git.remote when it pushes
 * (push true), else the local repository ".". */
const char *lease_remote_for(const struct config *cfg, const char *remote,
			     bool push);

struct lease;

/*
 * Take the lease on remote (a remote name, URL or "."), waiting up to
 * runner.lease_wait_seconds while another holds it; then renew it in the
 * background. *out is the held lease (free it with lease_release). A
 * lease held by another past the wait is an ERR_LOCKED error (exit 1)
 * naming the holder and its expiry.
 */
int lease_take(struct lease **out, const struct config *cfg, const char *remote,
	       struct err *e);

/*
 * lease_take, and while it waits for another's lease it checks *stop (set
 * by a signal handler; NULL: never) every 100 ms: once set, it returns -1
 * with "stopped while waiting" and leaves the lease as it found it.
 */
int lease_take_until(struct lease **out, const struct config *cfg,
		     const char *remote, volatile sig_atomic_t *stop,
		     struct err *e);

/*
 * 0 while the lease is ours (l NULL: no lease, always 0); -1 with ERR_LOST
 * "lost the lease on REMOTE to HOLDER" once a renewal was refused or ours
 * expired unrenewed.
 */
int lease_check(struct lease *l, struct err *e);

/* The remote the lease is held on. */
const char *lease_remote(const struct lease *l);
/* Who holds it, as its message says ("HOST PID RANDOM"). */
const char *lease_holder(const struct lease *l);

/* Stop renewing, delete the lease when it is still ours, free l. NULL: no-op.
 */
void lease_release(struct lease *l);

#endif
