/*
 * test_planfmt.c - a plan as text, markdown and JSON: the empty plan, a
 * destroy and a blocked item with an untrusted reason (escaped once), the
 * markdown signs in the first column, the JSON summary, a leftover of a
 * race, the managed VMs without a definition (orphans), a migration.
 */
#include "test.h"
#include "core/planfmt.h"

static void planfmt__empty(void **state)
{
	struct plan p;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	memset(&p, 0, sizeof(p));
	planfmt_text(&sb, &p);
	assert_string_equal(sb.buf,
			    "No changes. Proxmox matches the definitions.\n");
	strbuf_release(&sb);
}

static void two_items(struct plan *p, struct plan_item *it)
{
	memset(p, 0, sizeof(*p));
	memset(it, 0, 2 * sizeof(*it));
	it[0].op = PLAN_DESTROY;
	it[0].name = (char *)"old";
	it[0].node = (char *)"node01";
	it[0].vmid = 130;
	it[1].op = PLAN_BLOCKED;
	it[1].name = (char *)"web";
	it[1].node = (char *)"node02";
	it[1].reason = (char *)"held by\x1b[31m someone";
	p->items = it;
	p->nr = 2;
	p->destroy = 1;
	p->blocked = 1;
}

static void planfmt__text_and_markdown(void **state)
{
	struct plan p;
	struct plan_item it[2];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	two_items(&p, it);
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf, "  - old (vmid 130, node01) will be "
				       "destroyed\n"));
	assert_non_null(strstr(sb.buf, "  ! web (node02): held by\\x1b[31m "
				       "someone\n"));
	assert_null(strchr(sb.buf, '\x1b'));
	assert_non_null(strstr(sb.buf, "Plan: 0 to add, 0 to change, 1 to "
				       "destroy.\n1 blocked: apply leaves it"));
	strbuf_reset(&sb);
	planfmt_markdown(&sb, &p);
	assert_true(!strncmp(sb.buf,
			     "<details><summary>pve-gitops plan: 0 to "
			     "add, 0 to change, 1 to destroy, some "
			     "blocked</summary>",
			     80));
	assert_non_null(strstr(sb.buf, "\n- old (vmid 130, node01)"));
	assert_non_null(strstr(sb.buf, "\n! web (node02)"));
	assert_non_null(strstr(sb.buf, "```\n\n</details>\n"));
	strbuf_release(&sb);
}

static void planfmt__leftover(void **state)
{
	struct plan p;
	struct plan_item it[2];
	struct strbuf sb = STRBUF_INIT;
	char *text;

	(void)state;
	two_items(&p, it);
	it[0].name = (char *)"k8s-a";
	it[0].vmid = 105;
	it[0].leftover = true;
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf, "  - k8s-a (vmid 105, node01): leftover "
				       "of an interrupted race, will be "
				       "destroyed\n"));
	text = planfmt_json(&p, 0);
	assert_non_null(strstr(text, "\"leftover\": true"));
	free(text);
	strbuf_release(&sb);
}

/* a destroy's name and node come from the API: escaped like any value */
static void planfmt__api_name_escaped(void **state)
{
	struct plan p;
	struct plan_item it[2];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	two_items(&p, it);
	it[0].name = (char *)"gone\x1b[2Jvm";
	it[0].node = (char *)"n\x07";
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf, "  - gone\\x1b[2Jvm (vmid 130, "
				       "n\\x07) will be destroyed\n"));
	assert_null(strchr(sb.buf, '\x1b'));
	assert_null(strchr(sb.buf, '\x07'));
	strbuf_reset(&sb);
	planfmt_markdown(&sb, &p);
	assert_null(strchr(sb.buf, '\x1b'));
	strbuf_release(&sb);
}

static void planfmt__json(void **state)
{
	struct plan p;
	struct plan_item it[2];
	char *text;

	(void)state;
	two_items(&p, it);
	text = planfmt_json(&p, 7);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"api_calls\": 7"));
	assert_non_null(strstr(text, "\"action\": \"destroy\""));
	assert_non_null(strstr(text, "\"vmid\": null"));
	assert_non_null(strstr(text, "\"blocked\": 1"));
	free(text);
}

/* One update that migrates web from node01 to node02, live or offline. */
static void migration_item(struct plan *p, struct plan_item *it,
			   struct plan_change *c, enum plan_migration m)
{
	memset(p, 0, sizeof(*p));
	memset(it, 0, sizeof(*it));
	memset(c, 0, sizeof(*c));
	c->key = (char *)"node";
	c->from = (char *)"node01";
	c->to = (char *)"node02";
	c->migration = m;
	it->op = PLAN_UPDATE;
	it->name = (char *)"web";
	it->node = (char *)"node02";
	it->vmid = 101;
	it->changes = c;
	it->nr_changes = 1;
	it->migration = m;
	it->migrate_from = "node01";
	p->items = it;
	p->nr = 1;
	p->change = 1;
}

static void planfmt__migration(void **state)
{
	struct plan p;
	struct plan_item it;
	struct plan_change c;
	struct strbuf sb = STRBUF_INIT;
	char *text;

	(void)state;
	migration_item(&p, &it, &c, PLAN_MIGRATION_LIVE);
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf,
			       "  ~ web (vmid 101, node02) will be updated in "
			       "place\n      ~ node         = node01 -> node02 "
			       "(live migration)\n"));
	strbuf_reset(&sb);
	planfmt_markdown(&sb, &p);
	assert_non_null(strstr(sb.buf, "\n!     node         = node01 -> "
				       "node02 (live migration)\n"));
	text = planfmt_json(&p, 1);
	assert_non_null(strstr(text, "\"migration\": \"live\""));
	assert_non_null(strstr(text, "\"migrate_from\": \"node01\""));
	assert_non_null(strstr(text, "\"key\": \"node\""));
	free(text);

	migration_item(&p, &it, &c, PLAN_MIGRATION_OFFLINE);
	strbuf_reset(&sb);
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf, "      ~ node         = node01 -> "
				       "node02 (offline migration)\n"));
	text = planfmt_json(&p, 1);
	assert_non_null(strstr(text, "\"migration\": \"offline\""));
	free(text);

	/* no migration: no such key */
	c.migration = PLAN_MIGRATION_NONE;
	it.migration = PLAN_MIGRATION_NONE;
	text = planfmt_json(&p, 1);
	assert_null(strstr(text, "migration"));
	free(text);
	strbuf_release(&sb);
}

/* managed VMs without a definition, after the plan or instead of it */
static void planfmt__orphans(void **state)
{
	struct plan p;
	struct plan_item it[2];
	struct plan_orphan o[2] = {
		{ (char *)"old\x1b[2J", (char *)"node01", 130, NULL },
		{ (char *)"older", (char *)"node02", 131, NULL },
	};
	struct strbuf sb = STRBUF_INIT;
	char *text;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.orphans = o;
	p.nr_orphans = 1;
	planfmt_text(&sb, &p);
	assert_string_equal(sb.buf,
			    "No changes. The defined VMs match Proxmox.\n\n"
			    "1 managed VM has no definition; --prune deletes "
			    "it:\n    old\\x1b[2J (vmid 130, node01)\n");
	strbuf_reset(&sb);
	two_items(&p, it);
	p.orphans = o;
	p.nr_orphans = 2;
	planfmt_text(&sb, &p);
	assert_non_null(strstr(sb.buf, "resolved.\n\n2 managed VMs have no "
				       "definition; --prune deletes them:\n"
				       "    old\\x1b[2J (vmid 130, node01)\n"
				       "    older (vmid 131, node02)\n"));
	strbuf_reset(&sb);
	planfmt_markdown(&sb, &p);
	assert_non_null(strstr(sb.buf, "1 to destroy, some blocked, 2 without "
				       "a definition</summary>"));
	assert_non_null(strstr(sb.buf, "\n      older (vmid 131, node02)\n"));
	assert_null(strchr(sb.buf, '\x1b'));
	text = planfmt_json(&p, 0);
	assert_non_null(strstr(text, "\"orphans\": 2"));
	assert_non_null(strstr(text, "\"name\": \"older\",\n      "
				     "\"vmid\": 131,\n      \"node\": "
				     "\"node02\""));
	assert_non_null(strstr(text, "\"destroy\": 1"));
	free(text);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(planfmt__empty),
		cmocka_unit_test(planfmt__text_and_markdown),
		cmocka_unit_test(planfmt__json),
		cmocka_unit_test(planfmt__leftover),
		cmocka_unit_test(planfmt__api_name_escaped),
		cmocka_unit_test(planfmt__orphans),
		cmocka_unit_test(planfmt__migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
