/*
 * planfmt.c - the text, markdown and JSON of a plan; see planfmt.h.
 */
#include "core/planfmt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

static void add_value(struct strbuf *out, const char *v)
{
	strbuf_add_escaped(out, v, strlen(v));
}

static void add_create(struct strbuf *out, const struct plan_item *it)
{
	size_t i;

	if (it->def->clone)
		strbuf_addf(out, "      + %-12s = %s (%s clone)\n", "clone",
			    it->def->clone,
			    it->def->full_clone ? "full" : "linked");
	else
		strbuf_addf(out, "      + %-12s = (an empty VM)\n", "clone");
	strbuf_addf(out, "      + %-12s = %s\n", "state",
		    it->def->vm_state == VM_STATE_STOPPED ? "stopped"
							  : "running");
	for (i = 0; i < it->want->keys.nr; i++) {
		strbuf_addf(out, "      + %-12s = ", it->want->keys.v[i]);
		add_value(out, it->want->vals.v[i]);
		if (it->def->ip_pool &&
		    !strcmp(it->want->keys.v[i], "ipconfig0"))
			strbuf_addf(out, " (from pool %s)", it->def->ip_pool);
		strbuf_addstr(out, "\n");
	}
	for (i = 0; i < it->want->nr_disks; i++) {
		strbuf_addf(out, "      + %-12s = ", it->want->disks[i].slot);
		add_value(out, it->want->disks[i].value);
		strbuf_addstr(out, "\n");
	}
}

/* A NOOP item whose changes wait for a boot apply leaves to the user. */
static bool pending_only(const struct plan_item *it)
{
	return it->op == PLAN_NOOP && it->nr_changes;
}

static void add_change(struct strbuf *out, const struct plan_change *c)
{
	strbuf_addf(out, "      %c %-12s = ", c->pending ? '*' : '~', c->key);
	add_value(out, c->from ? c->from : "(none)");
	strbuf_addstr(out, " -> ");
	add_value(out, c->to ? c->to : "(removed)");
	strbuf_addstr(out, c->pending  ? "   (pending: written, waits for a "
					 "boot)\n"
			   : c->reboot ? "   (after a reboot)\n"
			   : c->migration == PLAN_MIGRATION_LIVE
				   ? " (live migration)\n"
			   : c->migration == PLAN_MIGRATION_OFFLINE
				   ? " (offline migration)\n"
				   : "\n");
}

static void add_item(struct strbuf *out, const struct plan_item *it)
{
	size_t i;

	if (it->op == PLAN_NOOP && !pending_only(it))
		return;
	/* a destroy's name and node come from the API: outside text */
	strbuf_addf(out, "  %s ", sign(it->op));
	add_value(out, it->name);
	if (it->vmid)
		strbuf_addf(out, " (vmid %d, ", it->vmid);
	else
		strbuf_addstr(out, " (");
	add_value(out, it->node);
	strbuf_addch(out, ')');
	if (it->op == PLAN_BLOCKED) {
		strbuf_addstr(out, ": ");
		add_value(out, it->reason);
		strbuf_addstr(out, "\n");
		return;
	}
	if (it->leftover)
		strbuf_addstr(out, ": leftover of an interrupted race,");
	strbuf_addf(out, "%s%s\n",
		    it->op == PLAN_CREATE    ? " will be created"
		    : it->op == PLAN_DESTROY ? " will be destroyed"
		    : it->op == PLAN_NOOP    ? " has changes waiting for a "
					       "reboot (automatic_reboot: "
					       "false; apply leaves them)"
					     : " will be updated in place",
		    it->reboot ? ", then rebooted for the changes that wait "
				 "for a boot"
		    : it->op == PLAN_UPDATE && it->needs_reboot
			    ? " (some changes wait for its next boot: "
			      "automatic_reboot is false)"
			    : "");
	if (it->op == PLAN_CREATE) {
		add_create(out, it);
		return;
	}
	for (i = 0; i < it->nr_changes; i++)
		add_change(out, &it->changes[i]);
}

/* The managed VMs without a definition that a plan without prune leaves. */
static void add_orphans(struct strbuf *out, const struct plan *p)
{
	size_t i;

	if (!p->nr_orphans)
		return;
	strbuf_addf(out,
		    "\n%zu managed VM%s no definition; --prune deletes "
		    "%s:\n",
		    p->nr_orphans, p->nr_orphans == 1 ? " has" : "s have",
		    p->nr_orphans == 1 ? "it" : "them");
	for (i = 0; i < p->nr_orphans; i++) {
		strbuf_addstr(out, "    ");
		add_value(out, p->orphans[i].name);
		strbuf_addf(out, " (vmid %d, ", p->orphans[i].vmid);
		add_value(out, p->orphans[i].node);
		if (p->by_cluster && p->orphans[i].cluster)
			strbuf_addf(out, ", cluster %s", p->orphans[i].cluster);
		strbuf_addstr(out, ")\n");
	}
}

static void add_summary(struct strbuf *out, const struct plan *p)
{
	strbuf_addf(out, "\nPlan: %u to add, %u to change, %u to destroy.\n",
		    p->add, p->change, p->destroy);
	if (p->pending)
		strbuf_addf(out,
			    "%u with changes waiting for a reboot "
			    "(automatic_reboot: false): reboot %s, or set "
			    "automatic_reboot: true.\n",
			    p->pending, p->pending == 1 ? "it" : "them");
	if (p->blocked)
		strbuf_addf(out,
			    "%u blocked: apply leaves %s alone until %s "
			    "resolved.\n",
			    p->blocked, p->blocked == 1 ? "it" : "them",
			    p->blocked == 1 ? "that is" : "those are");
	if (p->adoptable)
		strbuf_addf(out,
			    "%u of them not managed by pve-gitops: "
			    "`pve-gitops apply --adopt` takes %s over.\n",
			    p->adoptable, p->adoptable == 1 ? "it" : "them");
	if (p->partial)
		strbuf_addf(out,
			    "Partial: cluster %s could not be reached; its VMs "
			    "are blocked, the other clusters' are planned.\n",
			    p->partial);
}

void planfmt_text(struct strbuf *out, const struct plan *p)
{
	const char *last = NULL;
	size_t i;

	if (!p->add && !p->change && !p->destroy && !p->blocked &&
	    !p->pending) {
		strbuf_addstr(
			out,
			p->nr_orphans
				? "No changes. The defined VMs match Proxmox.\n"
				: "No changes. Proxmox matches the "
				  "definitions.\n");
		add_orphans(out, p);
		return;
	}
	strbuf_addstr(out,
		      "pve-gitops will perform the following actions:\n\n");
	for (i = 0; i < p->nr; i++) {
		const struct plan_item *it = &p->items[i];

		/* several clusters: a heading before each one's first line */
		if (p->by_cluster && it->cluster &&
		    (it->op != PLAN_NOOP || pending_only(it)) &&
		    (!last || strcmp(last, it->cluster))) {
			strbuf_addf(out, "%sCluster %s:\n", last ? "\n" : "",
				    it->cluster);
			last = it->cluster;
		}
		add_item(out, it);
	}
	add_summary(out, p);
	add_orphans(out, p);
}

/* One line of the text, re-signed for a diff block. */
static void add_markdown_line(struct strbuf *out, const char *line, size_t n)
{
	if (n > 4 && !strncmp(line, "  ", 2) && strchr("+~-!", line[2]) &&
	    line[3] == ' ')
		strbuf_add(out, line + 2, n - 2);
	else if (n > 8 && !strncmp(line, "      ", 6) && strchr("+~*", line[6]))
		strbuf_addf(out, "%c     %.*s", line[6] == '+' ? '+' : '!',
			    (int)(n - 8), line + 8);
	else
		strbuf_addf(out, "  %.*s", (int)n, line);
}

void planfmt_markdown(struct strbuf *out, const struct plan *p)
{
	struct strbuf text = STRBUF_INIT;
	const char *line, *end;

	planfmt_text(&text, p);
	strbuf_addf(out,
		    "<details><summary>pve-gitops plan: %u to add, %u to "
		    "change, %u to destroy%s",
		    p->add, p->change, p->destroy,
		    p->blocked ? ", some blocked" : "");
	if (p->nr_orphans)
		strbuf_addf(out, ", %zu without a definition", p->nr_orphans);
	strbuf_addstr(out, "</summary>\n\n```diff\n");
	for (line = text.buf; *line; line = end) {
		end = strchr(line, '\n');
		end = end ? end + 1 : line + strlen(line);
		add_markdown_line(out, line, (size_t)(end - line));
	}
	strbuf_addstr(out, "```\n\n</details>\n");
	strbuf_release(&text);
}

static json_t *change_json(const char *key, const char *from, const char *to,
			   bool reboot)
{
	return json_pack("{s:s, s:o, s:o, s:b}", "key", key, "before",
			 from ? json_string(from) : json_null(), "after",
			 to ? json_string(to) : json_null(), "reboot", reboot);
}

static const char *migration_name(enum plan_migration m)
{
	return m == PLAN_MIGRATION_LIVE ? "live" : "offline";
}

static json_t *item_json(const struct plan_item *it)
{
	json_t *o, *ch = json_array();
	size_t j;

	if (it->op == PLAN_CREATE) {
		for (j = 0; j < it->want->keys.nr; j++)
			json_array_append_new(
				ch, change_json(it->want->keys.v[j], NULL,
						it->want->vals.v[j], false));
		for (j = 0; j < it->want->nr_disks; j++)
			json_array_append_new(
				ch,
				change_json(it->want->disks[j].slot, NULL,
					    it->want->disks[j].value, false));
	}
	for (j = 0; j < it->nr_changes; j++) {
		json_t *c =
			change_json(it->changes[j].key, it->changes[j].from,
				    it->changes[j].to, it->changes[j].reboot);

		if (it->changes[j].pending)
			json_object_set_new(c, "pending", json_true());
		if (it->changes[j].migration)
			json_object_set_new(c, "migration",
					    json_string(migration_name(
						    it->changes[j].migration)));
		json_array_append_new(ch, c);
	}
	o = json_pack("{s:s, s:s, s:s, s:o, s:b}", "name", it->name, "action",
		      plan_op_name(it->op), "node", it->node, "changes", ch,
		      "needs_reboot", it->needs_reboot);
	json_object_set_new(o, "vmid",
			    it->vmid ? json_integer(it->vmid) : json_null());
	if (it->def && it->def->ip_pool) /* the address is the pool's */
		json_object_set_new(o, "ip_pool",
				    json_string(it->def->ip_pool));
	if (it->reason)
		json_object_set_new(o, "reason", json_string(it->reason));
	if (it->cluster)
		json_object_set_new(o, "cluster", json_string(it->cluster));
	if (it->leftover)
		json_object_set_new(o, "leftover", json_true());
	json_object_set_new(o, "reboot", json_boolean(it->reboot));
	if (it->adoptable)
		json_object_set_new(o, "adoptable", json_true());
	if (it->migration) {
		json_object_set_new(o, "migration",
				    json_string(migration_name(it->migration)));
		json_object_set_new(o, "migrate_from",
				    json_string(it->migrate_from));
	}
	return o;
}

static json_t *orphans_json(const struct plan *p)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->nr_orphans; i++) {
		json_t *o = json_pack(
			"{s:s, s:i, s:s}", "name", p->orphans[i].name, "vmid",
			p->orphans[i].vmid, "node", p->orphans[i].node);

		if (p->orphans[i].cluster)
			json_object_set_new(o, "cluster",
					    json_string(p->orphans[i].cluster));
		json_array_append_new(a, o);
	}
	return a;
}

/* v as JSON_INDENT(2) text nested depth levels deep: its lines after the
 * first indented by 2 * depth (no string holds a raw newline). */
static void add_nested(struct strbuf *out, json_t *v, int depth)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII |
					   JSON_ENCODE_ANY);
	const char *c;

	for (c = text; c && *c; c++) {
		strbuf_addch(out, *c);
		if (*c == '\n')
			strbuf_addf(out, "%*s", 2 * depth, "");
	}
	free(text);
	json_decref(v);
}

/*
 * What json_dumps(JSON_INDENT(2)) makes of the whole document, an item at
 * a time: a tree of every item at once would be plan's peak of memory.
 */
char *planfmt_json(const struct plan *p, unsigned long api_calls)
{
	struct strbuf out = STRBUF_INIT;
	json_t *summary;
	size_t i;

	strbuf_addstr(&out, "{\n  \"format_version\": \"1\",\n  \"items\": [");
	for (i = 0; i < p->nr; i++) {
		strbuf_addstr(&out, i ? ",\n    " : "\n    ");
		add_nested(&out, item_json(&p->items[i]), 2);
	}
	strbuf_addstr(&out, p->nr ? "\n  ],\n  \"orphans\": "
				  : "],\n  \"orphans\": ");
	add_nested(&out, orphans_json(p), 1);
	strbuf_addstr(&out, ",\n  \"summary\": ");
	summary =
		json_pack("{s:i, s:i, s:i, s:i, s:I}", "add", p->add, "change",
			  p->change, "destroy", p->destroy, "blocked",
			  p->blocked, "orphans", (json_int_t)p->nr_orphans);
	if (p->partial) /* the clusters that could not be reached */
		json_object_set_new(summary, "partial",
				    json_string(p->partial));
	add_nested(&out, summary, 1);
	strbuf_addf(&out, ",\n  \"api_calls\": %lu\n}", api_calls);
	return strbuf_detach(&out, NULL);
}
