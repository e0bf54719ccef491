/*
 * plan.c - `pve-gitops plan`: what apply would do, like `terraform plan`.
 *
 * Definitions are read and checked first: any error stops here, before a
 * single API call. Then one GET /cluster/resources; configurations are read
 * only for VMs whose digest tag changed (or all of ours with --refresh).
 * The work is ops/reconcile.c's; this file prints its result.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "core/planfmt.h"
#include "ops/reconcile.h"
#include "util/exitcode.h"
#include "util/report.h"

struct plan_opts {
	int refresh, detailed_exitcode, prune, adopt, markdown;
	char *out;
};

static const struct opt plan_options[] = {
	{ "refresh", 0, OPT_BOOL, offsetof(struct plan_opts, refresh), NULL,
	  "read every managed VM's configuration to find hand-made drift" },
	{ "detailed-exitcode", 0, OPT_BOOL,
	  offsetof(struct plan_opts, detailed_exitcode), NULL,
	  "exit 0 without changes, 2 with changes, 1 on error (or "
	  "when all there is is blocked)" },
	{ "prune", 0, OPT_BOOL, offsetof(struct plan_opts, prune), NULL,
	  "plan to delete managed VMs whose definition is gone" },
	{ "adopt", 0, OPT_BOOL, offsetof(struct plan_opts, adopt), NULL,
	  "plan to take over unmanaged VMs of the same name" },
	{ "markdown", 0, OPT_BOOL, offsetof(struct plan_opts, markdown), NULL,
	  "print the plan for a pull-request comment" },
	{ "out", 0, OPT_STRING, offsetof(struct plan_opts, out), "FILE",
	  "save the plan; 'apply FILE' runs it if nothing changed since" },
	OPT_END,
};

static void print_result(const struct config *cfg, const struct plan_opts *o,
			 const struct reconcile_result *res)
{
	struct strbuf sb = STRBUF_INIT;
	char *json;

	if (cfg->json) {
		json = planfmt_json(res->plan, res->api_calls);
		if (json)
			printf("%s\n", json);
		free(json);
	} else if (o->markdown) {
		planfmt_markdown(&sb, res->plan);
	} else if (report_shows_info()) { /* -q: the exit status says it */
		planfmt_text(&sb, res->plan);
	}
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	if (res->saved && !cfg->json)
		report_info(stdout,
			    "\nSaved the plan to %s: 'pve-gitops apply %s' "
			    "carries it out if nothing changed since.\n",
			    o->out, o->out);
}

/* --detailed-exitcode: 2 for changes; blocked and nothing else is an
 * error (apply cannot carry it out), exit 1. */
static int detailed_status(const struct plan *p, struct err *e)
{
	switch (plan_verdict(p)) {
	case PLAN_VERDICT_CHANGES:
		return err_set(e, EXIT_CHANGES, "%s", "");
	case PLAN_VERDICT_BLOCKED:
		reconcile_report_blocked(p); /* -q: the plan is not shown */
		return err_set(e, EXIT_FAIL,
			       "%u VM%s blocked and there is nothing else to "
			       "do; see %s",
			       p->blocked, p->blocked == 1 ? " is" : "s are",
			       report_shows_info() ? "the plan" : "above");
	case PLAN_VERDICT_NONE:
		break;
	}
	return 0;
}

static int run_plan(const struct config *cfg, void *opts, int argc, char **argv,
		    struct err *e)
{
	struct plan_opts *o = opts;
	struct reconcile_req req = { 0 };
	struct reconcile_result res;
	const struct plan *p;
	int ret;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID,
			       "plan takes no arguments (it plans the whole "
			       "repository)");
	req.refresh = o->refresh;
	req.prune = o->prune;
	req.adopt = o->adopt;
	req.plan_file = o->out;
	reconcile_result_init(&res);
	ret = reconcile_run(cfg, &req, &res, e);
	if (ret < 0 && res.partial && res.plan) {
		/* a cluster could not be reached: the others' plan, then
		 * the error */
		print_result(cfg, o, &res);
	} else if (ret == 0) {
		print_result(cfg, o, &res);
		p = res.plan;
		if (o->detailed_exitcode)
			ret = detailed_status(p, e);
	} else if (o->detailed_exitcode && e->exit_code == EXIT_INVALID)
		e->exit_code = EXIT_FAIL; /* 2 means changes, never invalid */
	reconcile_result_release(&res);
	return ret;
}

const struct cmd cmd_plan = {
	.name = "plan",
	.summary = "show what apply would change in Proxmox",
	.args = "",
	.opts = plan_options,
	.opts_size = sizeof(struct plan_opts),
	.run = run_plan,
};
