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
};

void reconcile_result_init(struct reconcile_result *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->failures);
	strvec_init(&r->rp.keep);
}

void reconcile_result_release(struct reconcile_result *r)
{
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

static int save_plan(const char *file, const struct repo_plan *rp,
		     struct err *e)
{
	char *text = savedplan_encode(&rp->plan, &rp->in);
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
	if (req->plan_file && save_plan(req->plan_file, &out->rp, e) < 0)
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

	report_info(r->text,
		    "\nApply %s! Resources: %zu added, %zu changed, %zu "
		    "destroyed%s.\n",
		    res->failed ? "incomplete" : "complete", out->created,
		    out->updated, out->destroyed,
		    res->failed ? ", some failed" : "");
	out->failed = res->failed;
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

int reconcile_run(const struct config *cfg, const struct reconcile_req *req,
		  struct reconcile_result *out, struct err *e)
{
	return req->apply ? run_apply(cfg, req, out, e)
			  : run_plan(cfg, req, out, e);
}
