/*
 * reconcile.c - plan and apply as one operation; see reconcile.h.
 *
 * apply without --auto-approve asks on a terminal and refuses elsewhere.
 * Items blocked only while a task holds a VM (plan_item.busy) are waited
 * for and planned again (wait_busy).
 * VMs the plan blocks are left alone and make the result a failure once
 * the rest is done, so a pipeline does not pass with a VM missing.
 */
#include "ops/reconcile.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/planfmt.h"
#include "core/savedplan.h"
#include "ops/execute.h"
#include "ops/rounds.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/url.h"
#include "util/xalloc.h"

/* One apply run: the request as it stands after a saved plan is read. */
struct run {
	const struct config *cfg;
	const struct reconcile_req *req;
	struct reconcile_result *out;
	struct pve_client pc;
	bool refresh, auto_approve, saved;
	struct savedplan sp;
	FILE *text; /* the plan and progress: stdout, stderr with --json */
	bool part;  /* one cluster of several: the caller sums up */
};

/* One cluster of several: its config copy, slice, client and plan. */
struct reconcile_part {
	const char *name; /* borrowed from the config */
	struct config cfg;
	struct reconcile_result out; /* out.rp: the cluster's slice */
	struct run r;
	struct err e;
	bool down;
	char *why; /* down: "cluster NAME (ENDPOINT) cannot be reached: ..." */
	int ret;   /* apply */
	pthread_t th;
};

void reconcile_result_init(struct reconcile_result *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->failures);
	strvec_init(&r->rp.keep);
}

void reconcile_result_release(struct reconcile_result *r)
{
	size_t i;

	for (i = 0; i < r->nr_parts; i++) {
		struct reconcile_part *c = &r->parts[i];

		reconcile_result_release(&c->out);
		pve_client_release(&c->r.pc);
		err_release(&c->e);
		free(c->why);
	}
	free(r->parts);
	r->parts = NULL;
	r->nr_parts = 0;
	free(r->view.items);
	free(r->view.orphans);
	memset(&r->view, 0, sizeof(r->view));
	free(r->partial);
	r->partial = NULL;
	strvec_clear(&r->failures);
	repo_plan_release(&r->rp);
	r->plan = NULL;
}

static void count_plan(struct reconcile_result *out)
{
	size_t i;

	out->plan = &out->rp.plan;
	out->unchanged = 0;
	for (i = 0; i < out->plan->nr; i++)
		out->unchanged += out->plan->items[i].op == PLAN_NOOP;
	out->blocked = out->plan->blocked;
}

static int save_plan(const char *file, const struct plan *p,
		     const struct plan_input *in, struct err *e)
{
	char *text = savedplan_encode(p, in);
	int ret = file_write_atomic(file, text, strlen(text), 0600, e);

	free(text);
	return ret;
}

static int run_plan(const struct config *cfg, const struct reconcile_req *req,
		    struct reconcile_result *out, struct err *e)
{
	struct pve_client pc;
	int ret = -1;

	memset(&pc, 0, sizeof(pc));
	if (repo_plan_read(&out->rp, cfg, e) < 0)
		return -1;
	out->rp.in.prune = req->prune || cfg->prune;
	out->rp.in.adopt = req->adopt;
	out->rp.in.refresh = req->refresh;
	if (pve_client_open(&pc, cfg, e) < 0 ||
	    repo_plan_build(&out->rp, &pc, req->refresh, e) < 0)
		goto out;
	count_plan(out);
	if (req->plan_file &&
	    save_plan(req->plan_file, &out->rp.plan, &out->rp.in, e) < 0)
		goto out;
	out->saved = req->plan_file != NULL;
	out->api_calls = pc.calls;
	ret = 0;
out:
	pve_client_release(&pc);
	return ret;
}

/* A plan file from 'plan --out': its fingerprint and options. */
static int load_saved(struct run *r, struct err *e)
{
	const struct reconcile_req *req = r->req;
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	int ret = -1;

	if (stat(req->plan_file, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO would block the read forever */
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "the saved plan '%s' is not a regular file",
			 req->plan_file);
		goto out;
	}
	if (file_read_all(&buf, req->plan_file, 1 << 20, e) < 0) {
		err_prefix(e, "cannot read the saved plan '%s'",
			   req->plan_file);
		e->exit_code = EXIT_INVALID;
		goto out;
	}
	if (savedplan_decode(&r->sp, buf.buf, buf.len, req->plan_file, e) < 0)
		goto out;
	if (req->prune || req->adopt || req->refresh || req->target) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "a saved plan carries its own options; give only the "
			 "file");
		goto out;
	}
	r->saved = true;
	ret = 0;
out:
	strbuf_release(&buf);
	return ret;
}

/* Not with -q, unless apply asks about it. */
static void print_plan(FILE *to, const struct plan *p, bool asked)
{
	struct strbuf sb = STRBUF_INIT;

	if (!report_shows_info() && !asked)
		return;
	planfmt_text(&sb, p);
	fputs(sb.buf, to);
	strbuf_release(&sb);
}

/* --target: everything else becomes a no-op. */
static int restrict_to(struct plan *p, const char *name, struct err *e)
{
	size_t i;
	bool found = false;

	p->add = p->change = p->destroy = p->blocked = 0;
	for (i = 0; i < p->nr; i++) {
		struct plan_item *it = &p->items[i];

		if (strcmp(it->name, name)) {
			it->op = PLAN_NOOP;
			continue;
		}
		found = true;
		p->add += it->op == PLAN_CREATE;
		p->change += it->op == PLAN_UPDATE;
		p->destroy += it->op == PLAN_DESTROY;
		p->blocked += it->op == PLAN_BLOCKED;
	}
	if (!found)
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"--target: no definition or managed VM is "
				"named '%s'",
				name);
	return 0;
}

/* --json: what happened, as one object on stdout. */
static void print_summary(const struct reconcile_result *t,
			  const struct strvec *errors)
{
	json_t *errs = json_array(), *o;
	char *s;
	size_t i;

	for (i = 0; errors && i < errors->nr; i++)
		json_array_append_new(errs, json_string(errors->v[i]));
	o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}", "added",
		      (int)t->created, "changed", (int)t->updated, "destroyed",
		      (int)t->destroyed, "failed", (int)t->failed, "blocked",
		      (int)t->plan->blocked, "errors", errs);
	if (t->partial) /* several clusters: those not reached */
		json_object_set_new(o, "partial", json_string(t->partial));
	s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Every cipassword_env variable of a VM to create or update is set. */
static int check_secrets(const struct plan *p, const struct env *env,
			 struct err *e)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		const struct plan_item *it = &p->items[i];
		const char *var = it->def ? it->def->cipassword_env : NULL;

		if ((it->op == PLAN_CREATE || it->op == PLAN_UPDATE) && var &&
		    !env_get(env, var))
			return err_setk(e, ERR_INVALID, EXIT_INVALID,
					"%s: cipassword_env names %s, which is "
					"not set; nothing was changed",
					it->name, var);
	}
	return 0;
}

static int confirm(struct err *e)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"apply asks before changing anything; not on a "
				"terminal, pass --auto-approve");
	printf("\nDo you want to perform these actions?\n"
	       "  Only 'yes' will be accepted to approve.\n\n"
	       "  Enter a value: ");
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin) || strcmp(answer, "yes\n"))
		return err_set(e, EXIT_FAIL, "apply cancelled");
	return 0;
}

/* Load, plan, restrict to --target, check a saved plan is still the one. */
static int plan_for_apply(struct run *r, struct err *e)
{
	struct repo_plan *rp = &r->out->rp;
	char fp[17];

	/* where the outputs go is checked before anything is sent */
	if (repo_plan_read(rp, r->cfg, e) < 0 ||
	    repo_plan_check_outputs(r->cfg, e) < 0)
		return -1;
	rp->in.prune = r->saved ? r->sp.prune : r->req->prune || r->cfg->prune;
	rp->in.adopt = r->saved ? r->sp.adopt : r->req->adopt;
	rp->in.refresh = r->refresh;
	if (pve_client_open(&r->pc, r->cfg, e) < 0 ||
	    repo_plan_build(rp, &r->pc, r->refresh, e) < 0)
		return -1;
	if (r->req->target && restrict_to(&rp->plan, r->req->target, e) < 0)
		return -1;
	count_plan(r->out);
	if (!r->saved)
		return 0;
	savedplan_fingerprint(&rp->plan, &rp->in, fp);
	if (strcmp(fp, r->sp.fingerprint)) {
		print_plan(r->text, &rp->plan, false);
		return err_set(e, EXIT_FAIL,
			       "the saved plan %s is stale: the cluster or the "
			       "definitions changed since it was made, and "
			       "the plan is now the one above; run plan again",
			       r->req->plan_file);
	}
	r->auto_approve = true; /* the plan was reviewed when saved */
	return 0;
}

static size_t count_busy(const struct plan *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->nr; i++)
		n += p->items[i].op == PLAN_BLOCKED && p->items[i].busy;
	return n;
}

/*
 * Items blocked only while a task holds a VM (another apply cloning it, a
 * lock left by a killed apply's task that is still running) are waited
 * for: the plan is made again every half second until none is left, up to
 * the task timeout. What is still busy then stays blocked.
 */
static int wait_busy(struct run *r, struct err *e)
{
	struct repo_plan *rp = &r->out->rp;
	uint64_t t0 = mono_ms(), limit;
	bool said = false;
	size_t i;

	limit = (r->cfg->proxmox.timeout_seconds
			 ? r->cfg->proxmox.timeout_seconds
			 : 600) *
		1000;
	while (count_busy(&rp->plan) && mono_ms() - t0 < limit) {
		for (i = 0; !said && i < rp->plan.nr; i++) {
			const struct plan_item *it = &rp->plan.items[i];

			if (it->op == PLAN_BLOCKED && it->busy)
				report_note("another apply is working on %s "
					    "(%s); waiting for it",
					    it->name, it->reason);
		}
		said = true;
		sleep_ms(500);
		plan_release(&rp->plan);
		cluster_release(&rp->cluster);
		if (repo_plan_build(rp, &r->pc, r->refresh, e) < 0)
			return -1;
		if (r->req->target &&
		    restrict_to(&rp->plan, r->req->target, e) < 0)
			return -1;
		count_plan(r->out);
	}
	return 0;
}

void reconcile_report_blocked(const struct plan *p)
{
	size_t i;

	for (i = 0; !report_shows_info() && i < p->nr; i++)
		if (p->items[i].op == PLAN_BLOCKED)
			report_error("%s: %s", p->items[i].name,
				     p->items[i].reason);
}

/* Nothing to add, change or destroy: the outputs, and blocked VMs. */
static int apply_nothing(struct run *r, struct err *e)
{
	const struct plan *p = &r->out->rp.plan;

	if (r->cfg->json)
		print_summary(r->out, NULL);
	/* ip_pool: an allocation the pool lost is written back */
	if (repo_plan_confirm_pools(&r->out->rp, e) < 0 ||
	    repo_plan_record_pools(&r->out->rp, e) < 0 ||
	    repo_plan_write_outputs(&r->out->rp, r->cfg, e) < 0)
		return -1;
	reconcile_report_blocked(p);
	if (p->blocked)
		return err_set(e, EXIT_FAIL, "%u VM%s blocked; see above",
			       p->blocked, p->blocked == 1 ? " is" : "s are");
	return 0;
}

/* After the work: the summary, the outputs, and the verdict. */
static int apply_finish(struct run *r, const struct apply_result *res,
			struct err *e)
{
	struct reconcile_result *out = r->out;
	const struct plan *p = &out->rp.plan;
	size_t i;

	out->failed = res->failed;
	if (r->part) { /* one cluster of several: the caller sums up */
		for (i = 0; i < res->errors.nr; i++)
			strvec_push(&out->failures, res->errors.v[i]);
		cluster_release(&out->rp.cluster);
		return cluster_read_vms(&out->rp.cluster, &r->pc, e) < 0 ||
				       repo_plan_record_pools(&out->rp, e) < 0
			       ? -1
			       : 0;
	}
	report_info(r->text,
		    "\nApply %s! Resources: %zu added, %zu changed, %zu "
		    "destroyed%s.\n",
		    res->failed ? "incomplete" : "complete", out->created,
		    out->updated, out->destroyed,
		    res->failed ? ", some failed" : "");
	if (r->cfg->json)
		print_summary(out, &res->errors);
	/* the errors after the summary: the last lines a reader sees */
	fflush(r->text);
	fflush(stdout);
	for (i = 0; i < res->errors.nr; i++) {
		report_error("%s", res->errors.v[i]);
		strvec_push(&out->failures, res->errors.v[i]);
	}
	/* the outputs describe what is there now, failures or not */
	cluster_release(&out->rp.cluster);
	if (cluster_read_vms(&out->rp.cluster, &r->pc, e) < 0 ||
	    repo_plan_record_pools(&out->rp, e) < 0 ||
	    repo_plan_write_outputs(&out->rp, r->cfg, e) < 0)
		return -1;
	if (res->failed && rounds_all_refused(&res->names, res->kinds))
		return err_set(e, EXIT_FAIL,
			       "%u VM%s failed: Proxmox refused what was "
			       "asked (above); change the definition%s and "
			       "apply again",
			       res->failed, res->failed == 1 ? "" : "s",
			       res->failed == 1 ? "" : "s");
	if (res->failed)
		return err_set(e, EXIT_FAIL,
			       "%u VM%s failed; the next apply resumes",
			       res->failed, res->failed == 1 ? "" : "s");
	reconcile_report_blocked(p);
	if (p->blocked)
		return err_set(e, EXIT_FAIL,
			       "%u VM%s blocked; see the plan above",
			       p->blocked, p->blocked == 1 ? " is" : "s are");
	return 0;
}

static void add_totals(struct reconcile_result *out,
		       const struct apply_result *res)
{
	out->created += res->added;
	out->updated += res->changed;
	out->destroyed += res->destroyed;
	out->failed = res->failed;
}

/*
 * What failed (a task that died, a lock held too long) gets a fresh plan
 * and another go, twice at most: what a second apply would do. Only what
 * was approved and failed runs again: nothing new.
 */
static int apply_rounds(struct run *r, const struct apply_opts *ao,
			struct apply_result *res, struct err *e)
{
	struct repo_plan *rp = &r->out->rp;
	struct strvec again = STRVEC_INIT;
	int round, ret = 0;
	size_t i;

	for (round = 2; res->failed && round <= RECONCILE_ROUNDS &&
			!r->req->target && !r->saved;
	     round++) {
		strvec_clear(&again);
		/* nothing to try again (a refusal for good): the errors
		 * come once, at the end */
		if (!rounds_retry_names(&again, &res->names, res->kinds))
			break;
		for (i = 0; i < res->errors.nr; i++)
			report_warning("%s", res->errors.v[i]);
		report_info(r->text,
			    "\n%u failed; planning again for them (round %d of "
			    "%d)\n",
			    res->failed, round, RECONCILE_ROUNDS);
		fflush(r->text);
		apply_result_release(res);
		plan_release(&rp->plan);
		cluster_release(&rp->cluster);
		if (repo_plan_build(rp, &r->pc, r->refresh, e) < 0 ||
		    wait_busy(r, e) < 0) {
			ret = -1;
			break;
		}
		rounds_keep_only(&rp->plan, &again);
		apply_plan(&rp->plan, &r->pc.conn, ao, res);
		add_totals(r->out, res);
	}
	strvec_clear(&again);
	return ret;
}

/* The pool addresses of the VMs the apply destroyed, released. */
static int release_pruned(struct run *r, const struct apply_result *res,
			  struct err *e)
{
	const struct plan *p = &r->out->rp.plan;
	struct strvec gone = STRVEC_INIT;
	int *vmids = xcalloc(p->nr + 1, sizeof(*vmids));
	size_t i, j;
	int ret;

	for (i = 0; i < p->nr; i++) {
		bool failed = false;

		if (p->items[i].op != PLAN_DESTROY || !p->items[i].name)
			continue;
		for (j = 0; j < res->names.nr; j++)
			failed = failed ||
				 !strcmp(res->names.v[j], p->items[i].name);
		if (failed)
			continue;
		vmids[gone.nr] = p->items[i].have ? p->items[i].have->vmid : 0;
		strvec_push(&gone, p->items[i].name);
	}
	ret = repo_plan_release_pools(&r->out->rp, &gone, vmids, e);
	strvec_clear(&gone);
	free(vmids);
	return ret;
}

static int apply_work(struct run *r, struct err *e)
{
	struct apply_opts ao = { 0 };
	struct apply_result res;
	struct pve_conn conn = r->pc.conn;
	int ret;

	if (!r->part) /* several clusters: apply_parts said it once */
		report_info(r->text, "\n");
	fflush(r->text);
	ao.parallel = r->req->parallel ? r->req->parallel
				       : (unsigned)r->cfg->proxmox.parallel;
	ao.per_node = (unsigned)r->cfg->proxmox.per_node_limit;
	ao.task_timeout_s = (int)r->cfg->proxmox.timeout_seconds;
	ao.shutdown_timeout_s = (int)r->cfg->reboot.timeout_seconds;
	ao.force_stop = r->cfg->reboot.force;
	ao.progress = report_shows_info() ? r->text : NULL; /* -q */
	ao.env = r->cfg->env;
	/* ip_pool: addresses written (check-and-set) before any create */
	if (repo_plan_confirm_pools(&r->out->rp, e) < 0)
		return -1;
	apply_plan(&r->out->rp.plan, &conn, &ao, &res);
	add_totals(r->out, &res);
	ret = apply_rounds(r, &ao, &res, e);
	if (ret == 0)
		ret = release_pruned(r, &res, e);
	if (ret == 0)
		ret = apply_finish(r, &res, e);
	apply_result_release(&res);
	return ret;
}

static int run_apply(const struct config *cfg, const struct reconcile_req *req,
		     struct reconcile_result *out, struct err *e)
{
	struct run r;
	const struct plan *p;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.req = req;
	r.out = out;
	r.text = cfg->json ? stderr : stdout; /* --json: stdout is JSON */
	r.auto_approve = req->auto_approve;
	if (req->plan_file && load_saved(&r, e) < 0)
		return -1;
	r.refresh = r.saved ? r.sp.refresh : req->refresh;
	if (plan_for_apply(&r, e) < 0 || (!r.saved && wait_busy(&r, e) < 0))
		goto out;
	p = &out->rp.plan;
	print_plan(r.text, p, !r.auto_approve && isatty(STDIN_FILENO));
	if (!p->add && !p->change && !p->destroy) {
		ret = apply_nothing(&r, e);
		goto out;
	}
	if (check_secrets(p, cfg->env, e) < 0 ||
	    (!r.auto_approve && confirm(e) < 0))
		goto out;
	ret = apply_work(&r, e);
out:
	out->api_calls = r.pc.calls;
	pve_client_release(&r.pc);
	return ret;
}

/* --- several clusters (clusters:) --- */

/* The items and orphans of every part together, each named by its
 * cluster; the parts keep owning them. */
static void build_view(struct reconcile_result *out)
{
	struct plan *v = &out->view;
	size_t i, j;

	free(v->items);
	free(v->orphans);
	memset(v, 0, sizeof(*v));
	for (i = 0; i < out->nr_parts; i++) {
		struct plan *p = &out->parts[i].out.rp.plan;

		for (j = 0; j < p->nr; j++) {
			p->items[j].cluster = out->parts[i].name;
			ALLOC_GROW(v->items, v->nr + 1, v->alloc);
			v->items[v->nr++] = p->items[j];
		}
		for (j = 0; j < p->nr_orphans; j++) {
			p->orphans[j].cluster = out->parts[i].name;
			ALLOC_GROW(v->orphans, v->nr_orphans + 1,
				   v->alloc_orphans);
			v->orphans[v->nr_orphans++] = p->orphans[j];
		}
		v->add += p->add;
		v->change += p->change;
		v->destroy += p->destroy;
		v->blocked += p->blocked;
		v->pending += p->pending;
		v->adoptable += p->adoptable;
	}
	v->by_cluster = out->nr_parts > 1;
	v->partial = out->partial;
	out->plan = v;
	out->unchanged = 0;
	for (i = 0; i < v->nr; i++)
		out->unchanged += v->items[i].op == PLAN_NOOP;
	out->blocked = v->blocked;
}

static void *part_plan(void *arg)
{
	struct reconcile_part *c = arg;

	if (pve_client_open(&c->r.pc, &c->cfg, &c->e) < 0 ||
	    repo_plan_build(&c->out.rp, &c->r.pc, c->r.refresh, &c->e) < 0)
		c->down = true;
	return NULL;
}

/* A cluster that could not be read: each of its definitions blocked with
 * the reason, nothing else planned for it. */
static void block_part(struct reconcile_part *c)
{
	struct repo_plan *rp = &c->out.rp;
	struct strbuf shown = STRBUF_INIT, why = STRBUF_INIT;
	const char *ep = c->r.pc.conn.endpoint ? c->r.pc.conn.endpoint
					       : c->cfg.proxmox.endpoint;
	size_t i;

	if (ep)
		url_redacted(&shown, ep);
	else
		strbuf_addstr(&shown, "no endpoint");
	strbuf_addf(&why, "cluster %s (%s) cannot be reached: %s", c->name,
		    shown.buf, c->e.msg.len ? c->e.msg.buf : "no answer");
	c->why = strbuf_detach(&why, NULL);
	plan_release(&rp->plan);
	cluster_release(&rp->cluster);
	for (i = 0; i < rp->in.nr_defs; i++) {
		struct plan_item *it;

		ALLOC_GROW(rp->plan.items, rp->plan.nr + 1, rp->plan.alloc);
		it = &rp->plan.items[rp->plan.nr++];
		memset(it, 0, sizeof(*it));
		it->op = PLAN_BLOCKED;
		it->name = xstrdup(rp->defs[i]->name);
		it->node = xstrdup(rp->defs[i]->target_node);
		it->vmid = (int)rp->defs[i]->vmid;
		it->def = rp->defs[i];
		it->want = &rp->wants[i];
		it->reason = xstrdup(c->why);
		rp->plan.blocked++;
	}
	strbuf_release(&shown);
}

/* A managed VM of this name on another cluster that was read. */
static const struct actual_vm *elsewhere(const struct reconcile_result *out,
					 size_t self, const char *name,
					 const char **cluster)
{
	size_t i, j;

	for (i = 0; i < out->nr_parts; i++) {
		const struct cluster *cl = &out->parts[i].out.rp.cluster;

		if (i == self || out->parts[i].down)
			continue;
		for (j = 0; j < cl->nr; j++)
			if (cl->vms[j].name && !strcmp(cl->vms[j].name, name) &&
			    actual_is_managed(&cl->vms[j])) {
				*cluster = out->parts[i].name;
				return &cl->vms[j];
			}
	}
	return NULL;
}

/* A definition whose VM is on another cluster: a VM cannot move between
 * clusters, the create is blocked with the way out. */
static void block_moves(struct reconcile_result *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j;

	for (i = 0; i < out->nr_parts; i++) {
		struct plan *p = &out->parts[i].out.rp.plan;

		for (j = 0; !out->parts[i].down && j < p->nr; j++) {
			struct plan_item *it = &p->items[j];
			const struct actual_vm *a;
			const char *there = NULL;

			if (it->op != PLAN_CREATE ||
			    !(a = elsewhere(out, i, it->name, &there)))
				continue;
			strbuf_reset(&sb);
			strbuf_addf(&sb,
				    "the VM is on cluster %s (vmid %d), and a "
				    "VM cannot move between clusters: set "
				    "cluster: %s back, or remove the "
				    "definition and apply with --prune (it "
				    "destroys the VM there), then define it "
				    "on %s",
				    there, a->vmid, there, out->parts[i].name);
			free(it->reason);
			it->reason = strbuf_detach(&sb, NULL);
			it->op = PLAN_BLOCKED;
			p->add--;
			p->blocked++;
		}
	}
	strbuf_release(&sb);
}

/* "east (https://...)": the clusters that could not be reached. */
static void note_partial(struct reconcile_result *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < out->nr_parts; i++)
		if (out->parts[i].down)
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "",
				    out->parts[i].name);
	free(out->partial);
	out->partial = sb.len ? strbuf_detach(&sb, NULL) : NULL;
	strbuf_release(&sb);
}

/*
 * Read every definition once, then each cluster (its own thread and
 * client) and plan its slice; a cluster that cannot be read blocks its
 * VMs. prune, adopt and refresh as the run says.
 */
static int plan_parts(const struct config *cfg, const struct reconcile_req *req,
		      struct reconcile_result *out, bool prune, bool adopt,
		      bool refresh, struct err *e)
{
	const char *names[CONFIG_MAX_CLUSTERS];
	size_t i, n = config_cluster_names(cfg, names, CONFIG_MAX_CLUSTERS);

	if (!n)
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"--cluster: no cluster '%s' in the config",
				cfg->only_cluster);
	out->rp.in.prune = prune;
	out->rp.in.adopt = adopt;
	out->rp.in.refresh = refresh;
	out->parts = xcalloc(n, sizeof(*out->parts));
	out->nr_parts = n;
	for (i = 0; i < n; i++) {
		struct reconcile_part *c = &out->parts[i];

		config_for_cluster(&c->cfg, cfg, names[i]);
		c->name = c->cfg.cluster;
		c->e = (struct err)ERR_INIT;
		reconcile_result_init(&c->out);
		repo_plan_slice(&c->out.rp, &out->rp, &c->cfg);
		c->r.cfg = &c->cfg;
		c->r.req = req;
		c->r.out = &c->out;
		c->r.refresh = refresh;
		c->r.part = true;
		c->r.text = cfg->json ? stderr : stdout;
	}
	for (i = 0; i < n; i++)
		if (pthread_create(&out->parts[i].th, NULL, part_plan,
				   &out->parts[i]))
			part_plan(&out->parts[i]); /* no thread: here */
		else
			out->parts[i].ret = 1; /* joined below */
	for (i = 0; i < n; i++) {
		if (out->parts[i].ret == 1)
			pthread_join(out->parts[i].th, NULL);
		out->parts[i].ret = 0;
	}
	for (i = 0; i < n; i++) {
		if (out->parts[i].down)
			block_part(&out->parts[i]);
		out->api_calls += out->parts[i].r.pc.calls;
	}
	block_moves(out);
	note_partial(out);
	build_view(out);
	return 0;
}

static int partial_error(const struct reconcile_result *out, bool applied,
			 struct err *e)
{
	size_t i, n = 0;

	for (i = 0; i < out->nr_parts; i++)
		n += out->parts[i].down ? out->parts[i].out.rp.in.nr_defs : 0;
	for (i = 0; i < out->nr_parts; i++)
		if (out->parts[i].down)
			report_error("%s", out->parts[i].why);
	return err_set(e, EXIT_FAIL,
		       "partial run: cluster %s could not be reached; its %zu "
		       "VM%s blocked, the other clusters' were %s",
		       out->partial, n, n == 1 ? " is" : "s are",
		       applied ? "applied" : "planned");
}

static int run_plan_multi(const struct config *cfg,
			  const struct reconcile_req *req,
			  struct reconcile_result *out, struct err *e)
{
	if (repo_plan_read(&out->rp, cfg, e) < 0 ||
	    plan_parts(cfg, req, out, req->prune || cfg->prune, req->adopt,
		       req->refresh, e) < 0)
		return -1;
	if (req->plan_file &&
	    save_plan(req->plan_file, &out->view, &out->rp.in, e) < 0)
		return -1;
	out->saved = req->plan_file != NULL;
	if (out->partial)
		return partial_error(out, false, e);
	return 0;
}

/* --target among several clusters: found in one of them. */
static int restrict_parts(struct reconcile_result *out, const char *name,
			  struct err *e)
{
	size_t i, found = 0;

	for (i = 0; i < out->nr_parts; i++) {
		struct err pe = ERR_INIT;

		found +=
			restrict_to(&out->parts[i].out.rp.plan, name, &pe) == 0;
		err_release(&pe);
	}
	build_view(out);
	if (!found)
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"--target: no definition or managed VM is "
				"named '%s'",
				name);
	return 0;
}

static void *part_apply(void *arg)
{
	struct reconcile_part *c = arg;
	const struct plan *p = &c->out.rp.plan;

	if (!c->down && (p->add || p->change || p->destroy))
		c->ret = apply_work(&c->r, &c->e);
	return NULL;
}

/* Every cluster's work at once, one thread each (each with its parallel
 * and per_node_limit); the totals and the failures gathered. */
static void work_parts(struct reconcile_result *out, struct strvec *errors)
{
	bool *joined = xcalloc(out->nr_parts, sizeof(*joined));
	size_t i, j;

	for (i = 0; i < out->nr_parts; i++) {
		out->parts[i].r.auto_approve = true;
		joined[i] = pthread_create(&out->parts[i].th, NULL, part_apply,
					   &out->parts[i]) == 0;
		if (!joined[i])
			part_apply(&out->parts[i]);
	}
	for (i = 0; i < out->nr_parts; i++) {
		struct reconcile_part *c = &out->parts[i];

		if (joined[i])
			pthread_join(c->th, NULL);
		out->created += c->out.created;
		out->updated += c->out.updated;
		out->destroyed += c->out.destroyed;
		out->failed += c->out.failed;
		for (j = 0; j < c->out.failures.nr; j++)
			strvec_push(errors, c->out.failures.v[j]);
		/* not a VM's failure (the outputs' read, a pool): said too */
		if (c->ret < 0 && !c->out.failed)
			strvec_pushf(errors, "cluster %s: %s", c->name,
				     c->e.msg.buf);
	}
	free(joined);
	build_view(out);
}

/* The clusters' work, then one summary, the outputs and the verdict. */
static int apply_parts(struct run *top, struct err *e)
{
	struct reconcile_result *out = top->out;
	const struct repo_plan **parts = xcalloc(out->nr_parts, sizeof(*parts));
	bool *down = xcalloc(out->nr_parts, sizeof(*down));
	struct strvec errors = STRVEC_INIT;
	size_t i;
	int ret = 0;

	report_info(top->text, "\n");
	fflush(top->text);
	work_parts(out, &errors);
	report_info(top->text,
		    "\nApply %s! Resources: %zu added, %zu changed, %zu "
		    "destroyed%s.\n",
		    out->failed || out->partial ? "incomplete" : "complete",
		    out->created, out->updated, out->destroyed,
		    out->failed ? ", some failed" : "");
	if (out->partial)
		report_info(top->text,
			    "Partial: cluster %s could not be reached; its VMs "
			    "were left alone.\n",
			    out->partial);
	if (top->cfg->json)
		print_summary(out, &errors);
	fflush(top->text);
	fflush(stdout);
	for (i = 0; i < errors.nr; i++) {
		report_error("%s", errors.v[i]);
		strvec_push(&out->failures, errors.v[i]);
	}
	for (i = 0; i < out->nr_parts; i++) {
		parts[i] = &out->parts[i].out.rp;
		down[i] = out->parts[i].down;
	}
	if (repo_plan_write_outputs_of(&out->rp, parts, down, out->nr_parts,
				       top->cfg, e) < 0)
		ret = -1;
	else if (out->failed || errors.nr)
		ret = err_set(e, EXIT_FAIL,
			      "%zu VM%s failed; the next apply resumes%s%s%s",
			      out->failed, out->failed == 1 ? "" : "s",
			      out->partial ? " (partial run: cluster " : "",
			      out->partial ? out->partial : "",
			      out->partial ? " could not be reached)" : "");
	else if (out->partial)
		ret = partial_error(out, true, e);
	else if (out->view.blocked) {
		reconcile_report_blocked(&out->view);
		ret = err_set(e, EXIT_FAIL,
			      "%u VM%s blocked; see the plan above",
			      out->view.blocked,
			      out->view.blocked == 1 ? " is" : "s are");
	}
	strvec_clear(&errors);
	free(down);
	free(parts);
	return ret;
}

static int apply_nothing_multi(struct run *top, struct err *e)
{
	struct reconcile_result *out = top->out;
	const struct repo_plan **parts = xcalloc(out->nr_parts, sizeof(*parts));
	bool *down = xcalloc(out->nr_parts, sizeof(*down));
	size_t i;
	int ret = 0;

	if (top->cfg->json)
		print_summary(out, NULL);
	for (i = 0; i < out->nr_parts && ret == 0; i++) {
		parts[i] = &out->parts[i].out.rp;
		down[i] = out->parts[i].down;
		if (!down[i] &&
		    (repo_plan_confirm_pools(&out->parts[i].out.rp, e) < 0 ||
		     repo_plan_record_pools(&out->parts[i].out.rp, e) < 0))
			ret = -1;
	}
	if (ret == 0 &&
	    repo_plan_write_outputs_of(&out->rp, parts, down, out->nr_parts,
				       top->cfg, e) < 0)
		ret = -1;
	if (ret == 0 && out->partial)
		ret = partial_error(out, true, e);
	else if (ret == 0 && out->view.blocked) {
		reconcile_report_blocked(&out->view);
		ret = err_set(e, EXIT_FAIL, "%u VM%s blocked; see above",
			      out->view.blocked,
			      out->view.blocked == 1 ? " is" : "s are");
	}
	free(down);
	free(parts);
	return ret;
}

static int run_apply_multi(const struct config *cfg,
			   const struct reconcile_req *req,
			   struct reconcile_result *out, struct err *e)
{
	struct run r;
	char fp[17];
	size_t i;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.req = req;
	r.out = out;
	r.text = cfg->json ? stderr : stdout;
	r.auto_approve = req->auto_approve;
	if (req->plan_file && load_saved(&r, e) < 0)
		return -1;
	r.refresh = r.saved ? r.sp.refresh : req->refresh;
	if (repo_plan_read(&out->rp, cfg, e) < 0 ||
	    repo_plan_check_outputs(cfg, e) < 0 ||
	    plan_parts(cfg, req, out,
		       r.saved ? r.sp.prune : req->prune || cfg->prune,
		       r.saved ? r.sp.adopt : req->adopt, r.refresh, e) < 0)
		goto out;
	if (req->target && restrict_parts(out, req->target, e) < 0)
		goto out;
	if (r.saved) {
		savedplan_fingerprint(&out->view, &out->rp.in, fp);
		if (strcmp(fp, r.sp.fingerprint)) {
			print_plan(r.text, &out->view, false);
			ret = err_set(e, EXIT_FAIL,
				      "the saved plan %s is stale: a cluster "
				      "or the definitions changed since it "
				      "was made, and the plan is now the one "
				      "above; run plan again",
				      req->plan_file);
			goto out;
		}
		r.auto_approve = true;
	}
	for (i = 0; !r.saved && i < out->nr_parts; i++)
		if (!out->parts[i].down &&
		    wait_busy(&out->parts[i].r, &out->parts[i].e) < 0) {
			ret = err_set(e, EXIT_FAIL, "cluster %s: %s",
				      out->parts[i].name,
				      out->parts[i].e.msg.buf);
			goto out;
		}
	build_view(out);
	print_plan(r.text, &out->view, !r.auto_approve && isatty(STDIN_FILENO));
	if (!out->view.add && !out->view.change && !out->view.destroy) {
		ret = apply_nothing_multi(&r, e);
		goto out;
	}
	if (check_secrets(&out->view, cfg->env, e) < 0 ||
	    (!r.auto_approve && confirm(e) < 0))
		goto out;
	ret = apply_parts(&r, e);
out:
	out->api_calls = 0;
	for (i = 0; i < out->nr_parts; i++)
		out->api_calls += out->parts[i].r.pc.calls;
	return ret;
}

int reconcile_run(const struct config *cfg, const struct reconcile_req *req,
		  struct reconcile_result *out, struct err *e)
{
	if (config_multi_cluster(cfg))
		return req->apply ? run_apply_multi(cfg, req, out, e)
				  : run_plan_multi(cfg, req, out, e);
	return req->apply ? run_apply(cfg, req, out, e)
			  : run_plan(cfg, req, out, e);
}
