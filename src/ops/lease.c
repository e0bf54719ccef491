/*
 * lease.c - the lease in the git server; see lease.h.
 *
 * Taking it is a loop: read the ref (ls-remote, fetch, cat-file), decide
 * (free, expired, held), and try the compare-and-swap push from what was
 * read. A refused push means another runner moved the ref first: read it
 * again. The renewal thread does the same swap from our last value every
 * ttl/3; git runs in child processes (util/spawn is safe from two
 * threads), and the thread shares only the fields under mu with the main
 * flow.
 */
#include "ops/lease.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "io/git.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/url.h"
#include "util/xalloc.h"

struct lease {
	const struct config *cfg;
	char *remote;
	char holder[LEASE_HOLDER_MAX + 1];
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv;
	struct strbuf oid; /* our lease commit on the remote */
	int64_t expires;   /* of that commit */
	bool stop, lost;
	struct strbuf refused; /* why the server refused a renewal for good */
};

const char *lease_remote_for(const struct config *cfg, const char *remote,
			     bool push)
{
	if (remote)
		return remote;
	return push ? cfg->git.remote : ".";
}

/* "HOST PID RANDOM": the host name reduced to [A-Za-z0-9._-]. */
static void make_holder(char *out, size_t size)
{
	char host[64] = "";
	unsigned long long rnd = 0;
	size_t i;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	for (i = 0; host[i]; i++)
		if (!((host[i] >= 'a' && host[i] <= 'z') ||
		      (host[i] >= 'A' && host[i] <= 'Z') ||
		      (host[i] >= '0' && host[i] <= '9') || host[i] == '.' ||
		      host[i] == '-' || host[i] == '_'))
			host[i] = '_';
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (unsigned long long)mono_ms() ^
		      ((unsigned long long)getpid() << 32);
	snprintf(out, size, "%s %ld %016llx", host, (long)getpid(), rnd);
}

/*
 * The lease on the remote now: 0 with *present false (no ref) or with
 * oid and info filled; -1 when the remote cannot be read.
 */
static int read_lease(const char *remote, bool *present, struct strbuf *oid,
		      struct lease_info *info, struct err *e)
{
	struct strbuf raw = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int ret = -1;

	*present = false;
	memset(info, 0, sizeof(*info));
	if (git_remote_ref(remote, LEASE_REF, oid, e) < 0)
		goto out;
	if (!oid->len) {
		ret = 0;
		goto out;
	}
	/* fetch what the ref is now (it may have moved since ls-remote) */
	strbuf_reset(oid);
	if (git_fetch_refspec(remote, "+" LEASE_REF ":" LEASE_SEEN_REF, e) <
		    0 ||
	    git_ref_object(LEASE_SEEN_REF, oid, e) < 0)
		goto out;
	/* unreadable (no commit, no lease message): info->valid 0, and
	 * the ref may be taken over at the oid it has */
	if (git_cat_commit(oid->buf, &raw, &ignore) == 0)
		lease_parse(info, raw.buf, raw.len);
	*present = true;
	ret = 0;
out:
	strbuf_release(&raw);
	err_release(&ignore);
	return ret;
}

/* A new lease commit of ours until now + ttl, swapped in for old. */
static int swap_in(struct lease *l, const char *old, struct strbuf *new_oid,
		   int64_t *expires, struct err *e)
{
	struct strbuf msg = STRBUF_INIT;
	int ret;

	*expires =
		(int64_t)time(NULL) + (int64_t)l->cfg->runner.lease_ttl_seconds;
	lease_format(&msg, l->holder, *expires);
	ret = git_commit_empty_root(l->cfg, msg.buf, new_oid, e);
	if (!ret)
		ret = git_cas_push(l->cfg, l->remote, LEASE_REF, old,
				   new_oid->buf, e);
	strbuf_release(&msg);
	return ret;
}

/* Wait on cv until the absolute wall-clock time at, or until stop. */
static void wait_until(struct lease *l, const struct timespec *at)
{
	while (!l->stop &&
	       pthread_cond_timedwait(&l->cv, &l->mu, at) != ETIMEDOUT)
		;
}

static void *renew_main(void *arg)
{
	struct lease *l = arg;
	long period_ms = (long)l->cfg->runner.lease_ttl_seconds * 1000 / 3;

	pthread_mutex_lock(&l->mu);
	while (!l->stop && !l->lost) {
		struct strbuf old = STRBUF_INIT, next = STRBUF_INIT;
		struct err e = ERR_INIT;
		struct timespec at;
		int64_t expires;
		int rc;

		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec += period_ms / 1000;
		at.tv_nsec += (period_ms % 1000) * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		wait_until(l, &at);
		if (l->stop)
			break;
		strbuf_addstr(&old, l->oid.buf);
		pthread_mutex_unlock(&l->mu);
		rc = swap_in(l, old.buf, &next, &expires, &e);
		pthread_mutex_lock(&l->mu);
		if (!rc) {
			strbuf_reset(&l->oid);
			strbuf_addstr(&l->oid, next.buf);
			l->expires = expires;
		} else if (err_is(&e, ERR_CONFLICT) ||
			   err_is(&e, ERR_PERMANENT) ||
			   (int64_t)time(NULL) >= l->expires) {
			/* another took it, the server refuses our update for
			 * good, or ours ran out meanwhile */
			if (err_is(&e, ERR_PERMANENT) && !l->refused.len)
				strbuf_add(&l->refused, e.msg.buf, e.msg.len);
			l->lost = true;
		}
		/* else: the server did not answer; try again next period */
		err_release(&e);
		strbuf_release(&old);
		strbuf_release(&next);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

/* Renew in a thread that takes no signals: they stay the main flow's. */
static int start_renewal(struct lease *l, struct err *e)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&l->thread, NULL, renew_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return err_errno(e, rc, "cannot start the lease's renewal");
	l->started = true;
	return 0;
}

static struct lease *lease_new(const struct config *cfg, const char *remote)
{
	struct lease *l = xcalloc(1, sizeof(*l));

	l->cfg = cfg;
	l->remote = xstrdup(remote);
	make_holder(l->holder, sizeof(l->holder));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	strbuf_init(&l->oid, 0);
	strbuf_init(&l->refused, 0);
	return l;
}

static void lease_free(struct lease *l)
{
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	strbuf_release(&l->oid);
	strbuf_release(&l->refused);
	free(l->remote);
	free(l);
}

/* The holder and expiry of a lease another holds, as the error says. */
static int held_error(struct err *e, const char *remote,
		      const struct lease_info *info, uint64_t waited)
{
	struct strbuf red = STRBUF_INIT;
	char until[40];

	lease_time(until, sizeof(until), info->expires);
	url_redacted(&red, remote);
	err_setk(e, ERR_LOCKED, EXIT_FAIL,
		 "the lease on %s is held by %s until %s%s%s; when no runner "
		 "holds it, delete it: git push %s :" LEASE_REF,
		 red.buf, info->holder, until,
		 lease_implausible(info, (int64_t)time(NULL))
			 ? " (further away than any runner sets one: "
			   "runner.lease_ttl_seconds is at most 86400)"
			 : "",
		 waited ? "; waited runner.lease_wait_seconds for it"
			: " (runner.lease_wait_seconds is 0: not waiting)",
		 red.buf);
	strbuf_release(&red);
	return -1;
}

struct attempt {
	struct lease *l;
	uint64_t deadline; /* mono_ms */
	bool waiting;	   /* the waiting line was printed */
	struct backoff b;
	unsigned n;
};

/*
 * One round: 0 taken, 1 try again (after a pause), -1 failed. The lease
 * read is what the swap starts from.
 */
static int try_take(struct attempt *a, struct err *e)
{
	struct lease *l = a->l;
	struct strbuf oid = STRBUF_INIT, red = STRBUF_INIT;
	struct lease_info info;
	enum lease_state st;
	bool present;
	int64_t expires;
	int ret = -1;

	if (read_lease(l->remote, &present, &oid, &info, e) < 0)
		goto out;
	st = lease_decide(present ? &info : NULL, l->holder,
			  (int64_t)time(NULL));
	if (st == LEASE_HELD) {
		uint64_t wait = l->cfg->runner.lease_wait_seconds;
		char until[40];

		if (!wait || mono_ms() >= a->deadline) {
			ret = held_error(e, l->remote, &info, wait);
			goto out;
		}
		lease_time(until, sizeof(until), info.expires);
		if (!a->waiting)
			report_note("lease on %s held by %s until %s; waiting "
				    "up to %llu s",
				    url_redacted(&red, l->remote), info.holder,
				    until, (unsigned long long)wait);
		a->waiting = true;
		ret = 1;
		goto out;
	}
	if (swap_in(l, present ? oid.buf : "", &l->oid, &expires, e) < 0) {
		ret = err_is(e, ERR_CONFLICT) ? 1 : -1; /* another won */
		goto out;
	}
	l->expires = expires;
	if (st == LEASE_EXPIRED)
		report_note("took over the lease on %s from %s (expired)",
			    url_redacted(&red, l->remote),
			    info.valid ? info.holder : "an unreadable lease");
	ret = 0;
out:
	strbuf_release(&oid);
	strbuf_release(&red);
	return ret;
}

/* Sleep ms, in steps short enough to notice *stop (NULL: never) soon. */
static void pause_ms(long ms, volatile sig_atomic_t *stop)
{
	while (ms > 0 && !(stop && *stop)) {
		long step = ms < 100 ? ms : 100;

		sleep_ms(step);
		ms -= step;
	}
}

int lease_take_until(struct lease **out, const struct config *cfg,
		     const char *remote, volatile sig_atomic_t *stop,
		     struct err *e)
{
	struct attempt a = { 0 };
	struct strbuf red = STRBUF_INIT;
	int rc;

	*out = NULL;
	a.l = lease_new(cfg, remote);
	a.deadline = mono_ms() + cfg->runner.lease_wait_seconds * 1000;
	backoff_init(&a.b, 300, 3000, 0);
	while ((rc = try_take(&a, e)) == 1) {
		long d = backoff_delay(&a.b, a.n < 8 ? a.n++ : a.n);
		uint64_t now = mono_ms();

		err_release(e);
		if (a.waiting && now + (uint64_t)d > a.deadline)
			d = a.deadline > now ? (long)(a.deadline - now) : 0;
		pause_ms(d, stop);
		if (stop && *stop) {
			/* nothing taken: the lease is left as it is */
			rc = err_set(
				e, EXIT_FAIL,
				"stopped while waiting for the lease on %s",
				url_redacted(&red, remote));
			break;
		}
	}
	strbuf_release(&red);
	if (rc < 0 || start_renewal(a.l, e) < 0) {
		if (rc == 0)
			lease_release(a.l);
		else
			lease_free(a.l);
		return -1;
	}
	*out = a.l;
	return 0;
}

int lease_take(struct lease **out, const struct config *cfg, const char *remote,
	       struct err *e)
{
	return lease_take_until(out, cfg, remote, NULL, e);
}

int lease_check(struct lease *l, struct err *e)
{
	struct strbuf oid = STRBUF_INIT, red = STRBUF_INIT;
	struct lease_info info;
	struct err ignore = ERR_INIT;
	bool lost, refused, present = false;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->mu);
	if ((int64_t)time(NULL) >= l->expires)
		l->lost = true;
	lost = l->lost;
	refused = lost && l->refused.len; /* written once, under the lock */
	if (refused)
		err_setk(e, ERR_LOST, EXIT_FAIL,
			 "lost the lease on %s: its renewal was refused: %s",
			 url_redacted(&red, l->remote), l->refused.buf);
	pthread_mutex_unlock(&l->mu);
	if (!lost)
		return 0;
	if (refused) {
		strbuf_release(&red);
		return -1;
	}
	read_lease(l->remote, &present, &oid, &info, &ignore);
	err_setk(e, ERR_LOST, EXIT_FAIL, "lost the lease on %s to %s",
		 url_redacted(&red, l->remote),
		 present && info.valid ? info.holder : "nobody (it expired)");
	err_release(&ignore);
	strbuf_release(&oid);
	strbuf_release(&red);
	return -1;
}

const char *lease_remote(const struct lease *l)
{
	return l->remote;
}

const char *lease_holder(const struct lease *l)
{
	return l->holder;
}

void lease_release(struct lease *l)
{
	struct err e = ERR_INIT;
	bool lost;

	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = true;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (l->started)
		pthread_join(l->thread, NULL);
	lost = l->lost;
	if (!lost && l->oid.len &&
	    git_cas_push(l->cfg, l->remote, LEASE_REF, l->oid.buf, NULL, &e) <
		    0 &&
	    !err_is(&e, ERR_CONFLICT))
		report_warning("cannot release the lease (it expires by "
			       "itself): %s",
			       e.msg.buf);
	err_release(&e);
	lease_free(l);
}
