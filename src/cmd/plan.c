/*
 * plan.c - `pve-gitops plan`: what apply would do, like `terraform plan`.
 *
 * Definitions are read and checked first: any error stops here, before a
 * single API call. Then one GET /cluster/resources; configurations are read
 * only for VMs whose digest tag changed (or all of ours with --refresh).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/plan.h"
#include "io/cluster.h"
#include "util/exitcode.h"
#include "util/fileio.h"

struct plan_opts {
	int refresh, detailed_exitcode, prune, adopt, markdown;
	char *out;
};

static const struct opt plan_options[] = {
	{ "refresh", 0, OPT_BOOL, offsetof(struct plan_opts, refresh), NULL,
	  "read every managed VM's configuration to find hand-made drift" },
	{ "detailed-exitcode", 0, OPT_BOOL,
	  offsetof(struct plan_opts, detailed_exitcode), NULL,
	  "exit 0 without changes, 2 with changes, 1 on error" },
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

static const char *sign(enum plan_op op)
{
	switch (op) {
	case PLAN_CREATE:
		return "+";
	case PLAN_UPDATE:
		return "~";
	case PLAN_DESTROY:
		return "-";
	case PLAN_BLOCKED:
		return "!";
	case PLAN_NOOP:
		break;
	}
	return " ";
}

static void print_value(FILE *out, const char *v)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_escaped(&sb, v, strlen(v));
	fputs(sb.buf, out);
	strbuf_release(&sb);
}

static void print_item(FILE *out, const struct plan_item *it)
{
	size_t i;

	if (it->op == PLAN_NOOP)
		return;
	fprintf(out, "  %s %s", sign(it->op), it->name);
	if (it->vmid)
		fprintf(out, " (vmid %d, %s)", it->vmid, it->node);
	else
		fprintf(out, " (%s)", it->node);
	if (it->op == PLAN_BLOCKED) {
		fprintf(out, ": ");
		print_value(out, it->reason);
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "%s\n",
		it->op == PLAN_CREATE	 ? " will be created"
		: it->op == PLAN_DESTROY ? " will be destroyed"
					 : " will be updated in place");
	if (it->op == PLAN_CREATE) {
		if (it->def->clone)
			fprintf(out, "      + %-12s = %s (%s clone)\n", "clone",
				it->def->clone,
				it->def->full_clone ? "full" : "linked");
		else
			fprintf(out, "      + %-12s = (an empty VM)\n",
				"clone");
		fprintf(out, "      + %-12s = %s\n", "state",
			it->def->vm_state == VM_STATE_RUNNING ? "running"
							      : "stopped");
		for (i = 0; i < it->want->keys.nr; i++) {
			fprintf(out, "      + %-12s = ", it->want->keys.v[i]);
			print_value(out, it->want->vals.v[i]);
			fprintf(out, "\n");
		}
		for (i = 0; i < it->want->nr_disks; i++) {
			fprintf(out,
				"      + %-12s = ", it->want->disks[i].slot);
			print_value(out, it->want->disks[i].value);
			fprintf(out, "\n");
		}
		return;
	}
	for (i = 0; i < it->nr_changes; i++) {
		const struct plan_change *c = &it->changes[i];

		fprintf(out, "      ~ %-12s = ", c->key);
		print_value(out, c->from ? c->from : "(none)");
		fprintf(out, " -> ");
		print_value(out, c->to ? c->to : "(removed)");
		fprintf(out, "%s\n", c->reboot ? "   (after a reboot)" : "");
	}
}

static void print_plan(FILE *out, const struct plan *p)
{
	size_t i;

	if (!p->add && !p->change && !p->destroy && !p->blocked) {
		fprintf(out, "No changes. Proxmox matches the definitions.\n");
		return;
	}
	fprintf(out, "pve-gitops will perform the following actions:\n\n");
	for (i = 0; i < p->nr; i++)
		print_item(out, &p->items[i]);
	fprintf(out, "\nPlan: %u to add, %u to change, %u to destroy.\n",
		p->add, p->change, p->destroy);
	if (p->blocked)
		fprintf(out,
			"%u blocked: apply leaves %s alone until %s resolved.\n",
			p->blocked, p->blocked == 1 ? "it" : "them",
			p->blocked == 1 ? "that is" : "those are");
}

void cmd_print_plan(const struct plan *p)
{
	print_plan(stdout, p);
}

void cmd_print_plan_to(FILE *out, const struct plan *p)
{
	print_plan(out, p);
}

/*
 * For a pull-request comment: the same text in a collapsible diff block,
 * the sign of every line in the first column so that it is coloured.
 */
static void print_markdown(const struct plan *p)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	const char *line, *end;

	if (!mem)
		return;
	print_plan(mem, p);
	fclose(mem);
	printf("<details><summary>pve-gitops plan: %u to add, %u to change, "
	       "%u to destroy%s</summary>\n\n```diff\n",
	       p->add, p->change, p->destroy,
	       p->blocked ? ", some blocked" : "");
	for (line = text; line && *line; line = end) {
		size_t n;

		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		n = (size_t)(end - line);
		if (n > 4 && !strncmp(line, "  ", 2) &&
		    strchr("+~-!", line[2]) && line[3] == ' ')
			printf("%.*s", (int)(n - 2), line + 2);
		else if (n > 8 && !strncmp(line, "      ", 6) &&
			 strchr("+~", line[6]))
			printf("%c     %.*s", line[6] == '+' ? '+' : '!',
			       (int)(n - 8), line + 8);
		else
			printf("  %.*s", (int)n, line);
	}
	printf("```\n\n</details>\n");
	free(text);
}

static json_t *change_json(const struct plan_change *c)
{
	return json_pack("{s:s, s:o, s:o, s:b}", "key", c->key, "before",
			 c->from ? json_string(c->from) : json_null(), "after",
			 c->to ? json_string(c->to) : json_null(), "reboot",
			 c->reboot);
}

static void print_json(const struct plan *p, unsigned long calls)
{
	json_t *items = json_array(), *root;
	char *text;
	size_t i, j;

	for (i = 0; i < p->nr; i++) {
		const struct plan_item *it = &p->items[i];
		json_t *o, *ch = json_array();

		if (it->op == PLAN_CREATE) {
			for (j = 0; j < it->want->keys.nr; j++)
				json_array_append_new(
					ch,
					json_pack("{s:s, s:n, s:s, s:b}", "key",
						  it->want->keys.v[j], "before",
						  "after", it->want->vals.v[j],
						  "reboot", 0));
			for (j = 0; j < it->want->nr_disks; j++)
				json_array_append_new(
					ch,
					json_pack("{s:s, s:n, s:s, s:b}", "key",
						  it->want->disks[j].slot,
						  "before", "after",
						  it->want->disks[j].value,
						  "reboot", 0));
		}
		for (j = 0; j < it->nr_changes; j++)
			json_array_append_new(ch, change_json(&it->changes[j]));
		o = json_pack("{s:s, s:s, s:s, s:o, s:b}", "name", it->name,
			      "action", plan_op_name(it->op), "node", it->node,
			      "changes", ch, "needs_reboot", it->needs_reboot);
		json_object_set_new(o, "vmid",
				    it->vmid ? json_integer(it->vmid)
					     : json_null());
		if (it->reason)
			json_object_set_new(o, "reason",
					    json_string(it->reason));
		json_array_append_new(items, o);
	}
	root = json_pack("{s:s, s:o, s:{s:i, s:i, s:i, s:i}, s:I}",
			 "format_version", "1", "items", items, "summary",
			 "add", p->add, "change", p->change, "destroy",
			 p->destroy, "blocked", p->blocked, "api_calls",
			 (json_int_t)calls);
	text = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(root);
}

int cmd_read_configs(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		     struct err *e)
{
	size_t i;

	for (i = 0; i < rp->plan.nr; i++) {
		const struct plan_item *it = &rp->plan.items[i];
		struct actual_vm *a = (struct actual_vm *)it->have;

		if (!a || a->has_config || !(it->needs_config || refresh))
			continue;
		if (cluster_read_config(a, pc, e) < 0)
			return -1;
	}
	return 0;
}

static uint64_t fnv64(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ 0xff; /* a separator between fields */
}

void cmd_plan_fingerprint(const struct plan *p, const struct plan_input *in,
			  char out[17])
{
	uint64_t h = 14695981039346656037ULL;
	char num[32];
	size_t i, j;

	h = fnv64(h, in->prune ? "prune" : "-");
	h = fnv64(h, in->adopt ? "adopt" : "-");
	h = fnv64(h, in->refresh ? "refresh" : "-");
	for (i = 0; i < p->nr; i++) {
		const struct plan_item *it = &p->items[i];

		h = fnv64(h, plan_op_name(it->op));
		h = fnv64(h, it->name);
		h = fnv64(h, it->node);
		snprintf(num, sizeof(num), "%d", it->vmid);
		h = fnv64(h, num);
		h = fnv64(h, it->reason ? it->reason : "");
		h = fnv64(h, it->want ? it->want->digest : "");
		for (j = 0; j < it->nr_changes; j++) {
			h = fnv64(h, it->changes[j].key);
			h = fnv64(h, it->changes[j].from ? it->changes[j].from
							 : "\1");
			h = fnv64(h,
				  it->changes[j].to ? it->changes[j].to : "\1");
		}
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int save_plan(const char *file, const struct repo_plan *rp,
		     struct err *e)
{
	char fp[17], *text;
	json_t *o;
	int ret;

	cmd_plan_fingerprint(&rp->plan, &rp->in, fp);
	o = json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b}, s:{s:i, s:i, s:i, "
		      "s:i}}",
		      "format_version", "1", "kind", "pve-gitops-plan",
		      "fingerprint", fp, "options", "prune", rp->in.prune,
		      "adopt", rp->in.adopt, "refresh", rp->in.refresh,
		      "summary", "add", rp->plan.add, "change", rp->plan.change,
		      "destroy", rp->plan.destroy, "blocked", rp->plan.blocked);
	text = json_dumps(o, JSON_INDENT(2));
	ret = file_write_atomic(file, text, strlen(text), 0600, e);
	free(text);
	json_decref(o);
	return ret;
}

int cmd_build_plan(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		   struct err *e)
{
	if (cluster_read_vms(&rp->cluster, pc, e) < 0)
		return -1;
	rp->in.vms = rp->cluster.vms;
	rp->in.nr_vms = rp->cluster.nr;
	plan_build(&rp->plan, &rp->in);
	if (cmd_read_configs(rp, pc, refresh, e) < 0)
		return -1;
	plan_release(&rp->plan);
	plan_build(&rp->plan, &rp->in);
	return 0;
}

static int run_plan(const struct config *cfg, void *opts, int argc, char **argv,
		    struct err *e)
{
	struct plan_opts *o = opts;
	struct repo_plan rp;
	struct pve_client pc;
	int ret = -1;

	memset(&pc, 0, sizeof(pc));
	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID,
			       "plan takes no arguments (it plans the whole "
			       "repository)");
	if (repo_plan_load(&rp, cfg, e) < 0)
		goto out_rp;
	rp.in.prune = o->prune || cfg->prune;
	rp.in.adopt = o->adopt;
	rp.in.refresh = o->refresh;
	if (cmd_pve_connect(&pc, cfg, e) < 0)
		goto out;
	if (cmd_build_plan(&rp, &pc, o->refresh, e) < 0)
		goto out;
	if (o->out && save_plan(o->out, &rp, e) < 0)
		goto out;
	if (cfg->json)
		print_json(&rp.plan, pc.calls);
	else if (o->markdown)
		print_markdown(&rp.plan);
	else /* the plan is the result: -q hides warnings only */
		cmd_print_plan(&rp.plan);
	if (o->out && !cfg->json)
		printf("\nSaved the plan to %s: 'pve-gitops apply %s' carries "
		       "it out if nothing changed since.\n",
		       o->out, o->out);
	ret = 0;
	if (o->detailed_exitcode && (rp.plan.add || rp.plan.change ||
				     rp.plan.destroy || rp.plan.blocked))
		ret = err_set(e, EXIT_CHANGES, "%s", "");
out:
	pve_client_release(&pc);
out_rp:
	repo_plan_release(&rp);
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
