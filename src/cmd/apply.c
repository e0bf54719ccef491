/*
 * apply.c - `pve-gitops apply`: plan, show it, and carry it out.
 *
 * Without --auto-approve it asks on a terminal and refuses elsewhere. VMs
 * the plan blocks are left alone and make the exit status 1 once the rest
 * is done, so a pipeline does not pass with a VM missing.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "io/apply.h"
#include "util/exitcode.h"
#include "util/parse.h"

struct apply_cmd_opts {
	int auto_approve, refresh, prune, adopt;
	char *target;
	char *parallel;
};

static const struct opt apply_options[] = {
	{ "auto-approve", 0, OPT_BOOL,
	  offsetof(struct apply_cmd_opts, auto_approve), NULL,
	  "do not ask before applying" },
	{ "parallel", 0, OPT_STRING, offsetof(struct apply_cmd_opts, parallel),
	  "N", "VMs worked on at once (default: proxmox.parallel, 4)" },
	{ "target", 0, OPT_STRING, offsetof(struct apply_cmd_opts, target),
	  "NAME", "apply the plan for this VM only" },
	{ "refresh", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, refresh),
	  NULL, "read every managed VM's configuration first (drift)" },
	{ "prune", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, prune), NULL,
	  "delete managed VMs whose definition is gone" },
	{ "adopt", 0, OPT_BOOL, offsetof(struct apply_cmd_opts, adopt), NULL,
	  "take over unmanaged VMs of the same name" },
	OPT_END,
};

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
		return err_set(e, EXIT_INVALID,
			       "--target: no definition or managed VM is named "
			       "'%s'",
			       name);
	return 0;
}

/* --json: what happened, as one object on stdout. */
static void print_summary(const struct apply_result *t, const struct plan *p,
			  const struct strvec *errors)
{
	json_t *errs = json_array(), *o;
	char *s;
	size_t i;

	for (i = 0; errors && i < errors->nr; i++)
		json_array_append_new(errs, json_string(errors->v[i]));
	o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}", "added", t->added,
		      "changed", t->changed, "destroyed", t->destroyed,
		      "failed", t->failed, "blocked", p->blocked, "errors",
		      errs);
	s = json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Keep the items named in names; the rest become no-ops. */
static void only_these(struct plan *p, const struct strvec *names)
{
	size_t i, j;

	for (i = 0; i < p->nr; i++) {
		bool keep = false;

		for (j = 0; j < names->nr && !keep; j++)
			keep = !strcmp(p->items[i].name, names->v[j]);
		if (!keep)
			p->items[i].op = PLAN_NOOP;
	}
}

/* Every cipassword_env variable of a VM to create or update is set. */
static int check_secrets(const struct plan *p, struct err *e)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		const struct plan_item *it = &p->items[i];
		const char *var = it->def ? it->def->cipassword_env : NULL;

		if ((it->op == PLAN_CREATE || it->op == PLAN_UPDATE) && var &&
		    !getenv(var))
			return err_set(e, EXIT_INVALID,
				       "%s: cipassword_env names %s, which is "
				       "not set; nothing was changed",
				       it->name, var);
	}
	return 0;
}

struct saved_plan {
	char fingerprint[17];
};

/* A plan file from 'plan --out': its fingerprint and options. */
static int load_saved(const char *file, struct apply_cmd_opts *o,
		      struct saved_plan *sp, struct err *e)
{
	json_error_t jerr;
	json_t *root = json_load_file(file, 0, &jerr), *opts;
	const char *fp =
		json_string_value(json_object_get(root, "fingerprint"));
	const char *kind = json_string_value(json_object_get(root, "kind"));
	int ret = -1;

	if (!root) {
		err_set(e, EXIT_INVALID, "cannot read the saved plan '%s': %s",
			file, jerr.text);
		goto out;
	}
	if (!kind || strcmp(kind, "pve-gitops-plan") || !fp ||
	    strlen(fp) != 16) {
		err_set(e, EXIT_INVALID,
			"'%s' is not a plan saved by 'pve-gitops plan --out'",
			file);
		goto out;
	}
	if (o->prune || o->adopt || o->refresh || o->target) {
		err_set(e, EXIT_INVALID,
			"a saved plan carries its own options; give only the "
			"file");
		goto out;
	}
	opts = json_object_get(root, "options");
	o->prune = json_is_true(json_object_get(opts, "prune"));
	o->adopt = json_is_true(json_object_get(opts, "adopt"));
	o->refresh = json_is_true(json_object_get(opts, "refresh"));
	memcpy(sp->fingerprint, fp, 17);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

static int confirm(struct err *e)
{
	char answer[16];

	if (!isatty(STDIN_FILENO))
		return err_set(e, EXIT_INVALID,
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

static int run_apply(const struct config *cfg, void *opts, int argc,
		     char **argv, struct err *e)
{
	struct apply_cmd_opts *o = opts;
	struct apply_opts ao = { 0 };
	struct apply_result res, totals;
	FILE *text = cfg->json ? stderr : stdout; /* --json: stdout is JSON */
	struct repo_plan rp;
	int round;
	struct pve_client pc;
	struct pve_conn conn;
	struct saved_plan saved;
	uint64_t parallel = cfg->proxmox.parallel;
	size_t i;
	int ret = -1;

	memset(&pc, 0, sizeof(pc));
	if (argc > 1)
		return err_set(e, EXIT_INVALID,
			       "apply takes at most one saved plan file");
	if (argc && load_saved(argv[0], o, &saved, e) < 0)
		return -1;
	if (o->parallel && parse_u64z(&parallel, o->parallel, 1, 64) < 0)
		return err_set(e, EXIT_INVALID,
			       "--parallel: '%s' is not a number from 1 to 64",
			       o->parallel);
	if (repo_plan_load(&rp, cfg, e) < 0)
		goto out;
	rp.in.prune = o->prune || (cfg->prune && !argc);
	rp.in.adopt = o->adopt;
	rp.in.refresh = o->refresh;
	if (cmd_pve_connect(&pc, cfg, e) < 0 ||
	    cmd_build_plan(&rp, &pc, o->refresh, e) < 0)
		goto out;
	if (o->target && restrict_to(&rp.plan, o->target, e) < 0)
		goto out;
	if (argc) {
		char fp[17];

		cmd_plan_fingerprint(&rp.plan, &rp.in, fp);
		if (strcmp(fp, saved.fingerprint)) {
			cmd_print_plan_to(text, &rp.plan);
			err_set(e, EXIT_FAIL,
				"the saved plan %s is stale: the cluster or the "
				"definitions changed since it was made, and "
				"the plan is now the one above; run plan again",
				argv[0]);
			goto out;
		}
		o->auto_approve = 1; /* the plan was reviewed when saved */
	}
	cmd_print_plan_to(text, &rp.plan);
	if (!rp.plan.add && !rp.plan.change && !rp.plan.destroy) {
		memset(&totals, 0, sizeof(totals));
		if (cfg->json)
			print_summary(&totals, &rp.plan, NULL);
		ret = outputs_write(&rp, cfg, e);
		if (!ret && rp.plan.blocked)
			ret = err_set(e, EXIT_FAIL,
				      "%u VM%s blocked; see above",
				      rp.plan.blocked,
				      rp.plan.blocked == 1 ? " is" : "s are");
		goto out;
	}
	if (check_secrets(&rp.plan, e) < 0 ||
	    (!o->auto_approve && confirm(e) < 0))
		goto out;
	fprintf(text, "\n");
	fflush(text);
	conn = pc.conn;
	ao.parallel = (unsigned)parallel;
	ao.per_node = (unsigned)cfg->proxmox.per_node_limit;
	ao.task_timeout_s = (int)cfg->proxmox.timeout_seconds;
	ao.progress = text;
	apply_plan(&rp.plan, &conn, &ao, &res);
	totals = res;
	/*
	 * What failed (a task that died, a lock held too long) gets a fresh
	 * plan and another go, twice at most: what a second apply would do.
	 */
	for (round = 2; res.failed && round <= 3 && !o->target && !argc;
	     round++) {
		struct strvec again = STRVEC_INIT;

		for (i = 0; i < res.errors.nr; i++) {
			const char *m = res.errors.v[i];

			fprintf(stderr, "pve-gitops: warning: %s\n", m);
			/* a task that ran out of time may still be running:
			 * not again in this run */
			if (!strstr(m, "still running after"))
				strvec_pushf(&again, "%.*s",
					     (int)strcspn(m, ":"), m);
		}
		if (!again.nr) {
			strvec_clear(&again);
			break;
		}
		fprintf(text,
			"\n%u failed; planning again for them (round %d of 3)\n",
			res.failed, round);
		fflush(text);
		apply_result_release(&res);
		plan_release(&rp.plan);
		cluster_release(&rp.cluster);
		if (cmd_build_plan(&rp, &pc, o->refresh, e) < 0) {
			strvec_clear(&again);
			goto out;
		}
		/* only what was approved and failed: nothing new */
		only_these(&rp.plan, &again);
		strvec_clear(&again);
		apply_plan(&rp.plan, &conn, &ao, &res);
		totals.added += res.added;
		totals.changed += res.changed;
		totals.destroyed += res.destroyed;
		totals.failed = res.failed;
	}
	for (i = 0; i < res.errors.nr; i++)
		fprintf(stderr, "pve-gitops: error: %s\n", res.errors.v[i]);
	fprintf(text,
		"\nApply %s! Resources: %u added, %u changed, %u destroyed%s.\n",
		res.failed ? "incomplete" : "complete", totals.added,
		totals.changed, totals.destroyed,
		res.failed ? ", some failed" : "");
	totals.failed = res.failed;
	if (cfg->json)
		print_summary(&totals, &rp.plan, &res.errors);
	/* the outputs describe what is there now, failures or not */
	cluster_release(&rp.cluster);
	if (cluster_read_vms(&rp.cluster, &pc, e) < 0 ||
	    outputs_write(&rp, cfg, e) < 0) {
		apply_result_release(&res);
		goto out;
	}
	if (res.failed)
		err_set(e, EXIT_FAIL, "%u VM%s failed; the next apply resumes",
			res.failed, res.failed == 1 ? "" : "s");
	else if (rp.plan.blocked)
		err_set(e, EXIT_FAIL, "%u VM%s blocked; see the plan above",
			rp.plan.blocked,
			rp.plan.blocked == 1 ? " is" : "s are");
	else
		ret = 0;
	apply_result_release(&res);
out:
	pve_client_release(&pc);
	repo_plan_release(&rp);
	return ret;
}

const struct cmd cmd_apply = {
	.name = "apply",
	.summary = "make Proxmox match the definitions",
	.args = "[PLANFILE]",
	.opts = apply_options,
	.opts_size = sizeof(struct apply_cmd_opts),
	.run = run_apply,
};
