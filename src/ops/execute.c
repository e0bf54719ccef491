/*
 * execute.c - the worker pool that carries out a plan; see execute.h.
 *
 * Workers take the next item whose node is under its limit. VM ids are
 * reserved in-process under a mutex (/cluster/nextid reserves nothing), and
 * a clone that another process beat to the id is retried with a new one
 * (vmaction.c). Secrets the items need (cipassword_env) are read from the
 * environment once, before the workers start.
 *
 * What the workers would each ask Proxmox again and again is asked once
 * for all: one task poller (io/pve.h's pve_tasks: one list of a node's
 * running tasks per interval, however many tasks wait) and one VM
 * listing at a time (worker_cluster), each answer serving every worker
 * that asked before its request was sent.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/pve_vm.h"
#include "ops/execute_int.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

/* The shared poller's interval: one request per node every 10 ms while a
 * task there is young, once a second when all are old, whatever the
 * number of workers (io/pve.h). */
#ifndef TASK_POLL_MIN_MS
#define TASK_POLL_MIN_MS 10
#endif
#define TASK_POLL_MAX_MS 1000

struct listing_ref {
	struct cluster c;
	unsigned refs;
};

static void listing_unref(struct listing_ref *r)
{
	if (r && !--r->refs) {
		cluster_release(&r->c);
		free(r);
	}
}

int worker_cluster(struct worker *w, const struct cluster **out, struct err *e)
{
	static const struct cluster c0 = CLUSTER_INIT;
	struct listing *l = &w->sh->listing;
	unsigned long need;
	int ret = 0;

	*out = NULL;
	pthread_mutex_lock(&l->mu);
	/* a request on its way was sent before this call: not that one */
	need = l->sent + 1;
	for (;;) {
		struct listing_ref *r;
		unsigned long gen;

		if (l->cur && l->cur_gen >= need) {
			l->cur->refs++;
			*out = &l->cur->c;
			break;
		}
		if (l->fetching) {
			pthread_cond_wait(&l->cv, &l->mu);
			continue;
		}
		l->fetching = true;
		gen = ++l->sent;
		pthread_mutex_unlock(&l->mu);
		r = xcalloc(1, sizeof(*r));
		r->c = c0;
		r->refs = 1;
		ret = cluster_read_vms(&r->c, &w->pc, e);
		pthread_mutex_lock(&l->mu);
		l->fetching = false;
		if (ret == 0) {
			listing_unref(l->cur);
			l->cur = r;
			l->cur_gen = gen;
		} else {
			listing_unref(r);
		}
		pthread_cond_broadcast(&l->cv);
		if (ret < 0)
			break; /* the others try again themselves */
	}
	pthread_mutex_unlock(&l->mu);
	return ret;
}

void worker_cluster_put(struct worker *w, const struct cluster *c)
{
	struct listing *l = &w->sh->listing;

	if (!c)
		return;
	pthread_mutex_lock(&l->mu);
	/* c is the first member of its listing_ref */
	listing_unref((struct listing_ref *)(void *)c);
	pthread_mutex_unlock(&l->mu);
}

static bool actionable(const struct plan_item *it)
{
	return it->op == PLAN_CREATE || it->op == PLAN_UPDATE ||
	       it->op == PLAN_DESTROY;
}

double worker_elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

void worker_say(struct worker *w, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT, esc = STRBUF_INIT, name = STRBUF_INIT;
	va_list ap;

	if (!w->sh->o->progress)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_add_escaped(&esc, sb.buf, sb.len);
	/* a destroy's name comes from the API */
	strbuf_add_escaped(&name, w->it->name, strlen(w->it->name));
	pthread_mutex_lock(&w->sh->mu);
	snprintf(w->state, sizeof(w->state), "%s", esc.buf);
	fprintf(w->sh->o->progress, "%s: %s [%.0fs elapsed]\n", name.buf,
		esc.buf, worker_elapsed(&w->start));
	fflush(w->sh->o->progress);
	pthread_mutex_unlock(&w->sh->mu);
	strbuf_release(&sb);
	strbuf_release(&esc);
	strbuf_release(&name);
}

static bool is_reserved(struct shared *sh, int vmid)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&sh->mu);
	for (i = 0; i < sh->nr_reserved && !found; i++)
		found = sh->reserved[i] == vmid;
	pthread_mutex_unlock(&sh->mu);
	return found;
}

/*
 * The next id from n (what /cluster/nextid answered) that is neither taken
 * in the cluster nor reserved by one of our workers. /cluster/nextid
 * reserves nothing, so ours are kept here,
 * under a mutex of their own (the calls may take a while with retries).
 */
static int next_free_vmid(struct worker *w, int n, int *out, struct err *e)
{
	long status = 0;
	int tries, got;

	for (tries = 0; tries < 1000; tries++, n++) {
		if (is_reserved(w->sh, n))
			continue;
		if (!tries) /* nextid just said this one is free */
			break;
		if (pve_next_vmid(&w->pc, n, &got, &status, e) == 0)
			break; /* free in the cluster too */
		if (status != 400)
			return -1;
		err_release(e); /* taken in the cluster: the next one */
	}
	if (tries == 1000)
		return err_set(e, EXIT_FAIL, "no free vmid after %d", n);
	*out = n;
	return 0;
}

void worker_hold_vmid(struct worker *w, int vmid)
{
	struct shared *sh = w->sh;

	pthread_mutex_lock(&sh->mu);
	ALLOC_GROW(sh->reserved, st_add(sh->nr_reserved, 1),
		   sh->alloc_reserved);
	sh->reserved[sh->nr_reserved++] = vmid;
	pthread_mutex_unlock(&sh->mu);
}

int worker_reserve_vmid(struct worker *w, int *out, struct err *e)
{
	int ret, n;

	/*
	 * The first question outside the lock: a worker's first request
	 * opens its connection, which the others need not wait for. An id
	 * one of ours reserved meanwhile is skipped under the lock; one
	 * another process took meanwhile fails the clone, which is sent
	 * again on a new id (vmaction.c).
	 */
	if (pve_next_vmid(&w->pc, 0, &n, NULL, e) < 0)
		return -1;
	pthread_mutex_lock(&w->sh->vmid_mu);
	ret = next_free_vmid(w, n, out, e);
	if (ret == 0)
		worker_hold_vmid(w, *out);
	pthread_mutex_unlock(&w->sh->vmid_mu);
	return ret;
}

int worker_timeout(const struct worker *w)
{
	return w->sh->o->task_timeout_s ? w->sh->o->task_timeout_s : 600;
}

static unsigned busy_on(const struct shared *sh, const char *node)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sh->busy_nodes.nr; i++)
		if (!strcmp(sh->busy_nodes.v[i], node))
			n++;
	return n;
}

static void unbusy(struct shared *sh, const char *node)
{
	size_t i;

	for (i = 0; i < sh->busy_nodes.nr; i++)
		if (!strcmp(sh->busy_nodes.v[i], node)) {
			free((char *)sh->busy_nodes.v[i]);
			sh->busy_nodes.v[i] =
				sh->busy_nodes.v[--sh->busy_nodes.nr];
			sh->busy_nodes.v[sh->busy_nodes.nr] = NULL;
			return;
		}
}

/* The next item a worker may take, or NULL (set *done when none left). */
static const struct plan_item *take(struct shared *sh, struct worker *w,
				    bool *done)
{
	unsigned limit = sh->o->per_node ? sh->o->per_node : 1000000;
	size_t i;

	*done = !sh->left;
	for (i = 0; !*done && i < sh->plan->nr; i++) {
		const struct plan_item *it = &sh->plan->items[i];

		if (sh->taken[i] || !actionable(it) ||
		    busy_on(sh, it->node) >= limit)
			continue;
		sh->taken[i] = true;
		sh->left--;
		strvec_push(&sh->busy_nodes, it->node);
		clock_gettime(CLOCK_MONOTONIC,
			      &w->start); /* the ticker reads it */
		return it;
	}
	return NULL;
}

/* Record the failure of the item named name ("": of no item). */
static void apply_result_fail(struct apply_result *res, const char *name,
			      const struct err *e)
{
	if (*name)
		strvec_pushf(&res->errors, "%s: %s", name, e->msg.buf);
	else
		strvec_push(&res->errors, e->msg.buf);
	strvec_push(&res->names, name);
	ALLOC_GROW(res->kinds, res->names.nr, res->alloc_kinds);
	res->kinds[res->names.nr - 1] = e->kind;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		struct err e = ERR_INIT;
		bool done;
		int r;

		w->it = take(sh, w, &done);
		if (!w->it) {
			if (done)
				break;
			pthread_cond_wait(&sh->cv, &sh->mu);
			continue;
		}
		pthread_mutex_unlock(&sh->mu);
		w->password = sh->passwords[w->it - sh->plan->items];
		if (w->it->op == PLAN_CREATE) {
			worker_say(w, "creating...");
			r = vmaction_create(w, &e);
		} else if (w->it->op == PLAN_UPDATE) {
			worker_say(w, "updating...");
			r = vmaction_update(w, &e);
		} else {
			worker_say(w, "destroying...");
			r = vmaction_destroy(w, &e);
		}
		pthread_mutex_lock(&sh->mu);
		unbusy(sh, w->it->node);
		if (r < 0) {
			sh->res->failed++;
			apply_result_fail(sh->res, w->it->name, &e);
		} else if (r > 0) {
			/* another apply made it: nothing to count here */
		} else if (w->it->op == PLAN_CREATE) {
			sh->res->added++;
		} else if (w->it->op == PLAN_UPDATE) {
			sh->res->changed++;
		} else {
			sh->res->destroyed++;
		}
		err_release(&e);
		pthread_cond_broadcast(&sh->cv);
	}
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/*
 * On a terminal: every 10 s, what each busy worker is at ("k8s-obs:
 * cloning ... [20s elapsed]"), so a long clone does not look stuck.
 */
static void *tick(void *arg)
{
	struct shared *sh = arg;
	struct strbuf name = STRBUF_INIT;
	struct timespec until;
	unsigned i;

	pthread_mutex_lock(&sh->mu);
	while (!sh->finished) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 10;
		pthread_cond_timedwait(&sh->cv, &sh->mu, &until);
		if (sh->finished)
			break;
		for (i = 0; i < sh->nr_workers; i++) {
			struct worker *w = &sh->workers[i];
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			if (!w->it || now.tv_sec < until.tv_sec)
				continue;
			strbuf_reset(&name);
			strbuf_add_escaped(&name, w->it->name,
					   strlen(w->it->name));
			fprintf(sh->o->progress, "%s: %s [%.0fs elapsed]\n",
				name.buf, w->state, worker_elapsed(&w->start));
		}
		fflush(sh->o->progress);
	}
	strbuf_release(&name);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

static void shared_init(struct shared *sh, const struct plan *plan,
			const struct pve_conn *conn, const struct apply_opts *o,
			struct apply_result *res)
{
	size_t k;

	memset(sh, 0, sizeof(*sh));
	memset(res, 0, sizeof(*res));
	strvec_init(&res->errors);
	strvec_init(&res->names);
	sh->plan = plan;
	sh->conn = conn;
	sh->o = o;
	sh->res = res;
	strvec_init(&sh->busy_nodes);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_mutex_init(&sh->vmid_mu, NULL);
	pthread_cond_init(&sh->cv, NULL);
	pthread_mutex_init(&sh->listing.mu, NULL);
	pthread_cond_init(&sh->listing.cv, NULL);
	pve_tasks_init(&sh->tasks, TASK_POLL_MIN_MS, TASK_POLL_MAX_MS);
	sh->taken = xcalloc(plan->nr + 1, sizeof(*sh->taken));
	sh->passwords = xcalloc(plan->nr + 1, sizeof(*sh->passwords));
	for (k = 0; k < plan->nr; k++) {
		const struct plan_item *it = &plan->items[k];

		if (!actionable(it))
			continue;
		sh->left++;
		if (it->def && it->def->cipassword_env && o->env)
			sh->passwords[k] =
				env_get(o->env, it->def->cipassword_env);
	}
}

static void shared_release(struct shared *sh)
{
	free(sh->taken);
	free(sh->passwords);
	free(sh->reserved);
	strvec_clear(&sh->busy_nodes);
	listing_unref(sh->listing.cur);
	pthread_cond_destroy(&sh->listing.cv);
	pthread_mutex_destroy(&sh->listing.mu);
	pve_tasks_release(&sh->tasks);
	pthread_cond_destroy(&sh->cv);
	pthread_mutex_destroy(&sh->mu);
	pthread_mutex_destroy(&sh->vmid_mu);
}

/*
 * Every worker's connection first: a login that fails stops the apply
 * before it has started anything. Returns how many workers to release.
 */
static unsigned connect_workers(struct shared *sh, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct err e = ERR_INIT;

		sh->workers[i].sh = sh;
		if (pve_client_init(&sh->workers[i].pc, sh->conn, &e) < 0) {
			sh->res->failed = (unsigned)sh->left;
			err_prefix(&e, "cannot connect");
			apply_result_fail(sh->res, "", &e);
			err_release(&e);
			sh->left = 0;
			return i + 1;
		}
		sh->workers[i].pc.tasks = &sh->tasks;
		sh->workers[i].ready = true;
	}
	return n;
}

static void run_workers(struct shared *sh, unsigned n)
{
	pthread_t *th = xcalloc(n, sizeof(*th));
	unsigned i, started = 0;

	for (i = 0; i < n && sh->left; i++) {
		if (pthread_create(&th[i], NULL, work, &sh->workers[i]) == 0)
			started++;
		else
			break;
	}
	if (!started && sh->left)
		work(&sh->workers[0]);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
}

int apply_plan(const struct plan *plan, const struct pve_conn *conn,
	       const struct apply_opts *o, struct apply_result *res)
{
	struct shared sh;
	pthread_t ticker;
	bool ticking = false;
	unsigned n = o->parallel ? o->parallel : 4, i;

	shared_init(&sh, plan, conn, o, res);
	if (n > sh.left)
		n = sh.left ? (unsigned)sh.left : 1;
	sh.workers = xcalloc(n, sizeof(*sh.workers));
	sh.nr_workers = n;
	if (o->progress && isatty(fileno(o->progress)) &&
	    pthread_create(&ticker, NULL, tick, &sh) == 0)
		ticking = true;
	n = connect_workers(&sh, n);
	run_workers(&sh, n);
	for (i = 0; i < n; i++)
		pve_client_release(&sh.workers[i].pc);
	pthread_mutex_lock(&sh.mu);
	sh.finished = true;
	pthread_cond_broadcast(&sh.cv);
	pthread_mutex_unlock(&sh.mu);
	if (ticking)
		pthread_join(ticker, NULL);
	free(sh.workers);
	shared_release(&sh);
	return res->failed ? -1 : 0;
}

void apply_result_release(struct apply_result *r)
{
	strvec_clear(&r->errors);
	strvec_clear(&r->names);
	free(r->kinds);
	r->kinds = NULL;
	r->alloc_kinds = 0;
}
