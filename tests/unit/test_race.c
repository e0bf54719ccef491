/*
 * test_race.c - the create protocol: which of two racing clones wins, when
 * a create's answer counts as lost, whose VM an id holds afterwards, and
 * the leftover of a race whose loser was killed.
 */
#include "test.h"
#include "core/race.h"
#include "util/xalloc.h"

static void vm(struct actual_vm *a, int vmid, const char *name,
	       const char *tags, bool template_)
{
	actual_vm_init(a);
	a->vmid = vmid;
	a->name = (char *)name;
	a->tags = (char *)tags;
	a->template_ = template_;
}

static void race__rival(void **state)
{
	struct actual_vm vms[5];

	(void)state;
	vm(&vms[0], 120, "web", "pve-gitops", false); /* in progress */
	vm(&vms[1], 110, "web", "pve-gitops", false); /* lower */
	vm(&vms[2], 90, "web", NULL, true);	      /* a template */
	vm(&vms[3], 130, "db", "pve-gitops;pg-1234abcd", false); /* other */
	vm(&vms[4], 115, "web", "pve-gitops", false);
	/* ours is 112: 110 is lower and in progress */
	assert_int_equal(race_rival(vms, 5, "web", 112), 110);
	/* ours is the lowest: we win */
	assert_int_equal(race_rival(vms, 5, "web", 100), 0);
	assert_int_equal(race_rival(vms, 1, "web", 120), 0); /* ourselves */
	/* a finished one wins whatever its id */
	vms[0].tags = (char *)"pve-gitops;pg-0badcafe";
	assert_int_equal(race_rival(vms, 5, "web", 100), 120);
	assert_int_equal(race_rival(vms, 5, "web", 105), 120);
	assert_int_equal(race_rival(vms, 5, "nothing", 105), 0);
}

static void race__lost_answers(void **state)
{
	(void)state;
	assert_true(race_answer_lost(0));
	assert_true(race_answer_lost(502));
	assert_true(race_answer_lost(504));
	assert_true(race_answer_lost(596));
	assert_false(race_answer_lost(500));
	assert_false(race_answer_lost(503));
	assert_false(race_answer_lost(400));
	assert_false(race_look_up(false, 0, true));
	assert_true(race_look_up(true, 0, false));
	assert_true(race_look_up(true, 503, false));
	assert_true(race_look_up(true, 500, true));
	assert_false(race_look_up(true, 500, false));
}

static void race__is_ours(void **state)
{
	(void)state;
	assert_true(race_is_ours("web", PLAN_CREATING_MARKER, "web"));
	assert_true(race_is_ours("web", PLAN_CREATING_MARKER " (2)", "web"));
	assert_false(race_is_ours("web2", PLAN_CREATING_MARKER, "web"));
	assert_false(race_is_ours("web", "hand made", "web"));
	assert_false(race_is_ours(NULL, PLAN_CREATING_MARKER, "web"));
	assert_false(race_is_ours("web", NULL, "web"));
}

static void config(struct actual_vm *a, const char *key, const char *val)
{
	strvec_push(&a->keys, key);
	strvec_push(&a->vals, val);
	a->has_config = true;
}

static void race__leftover(void **state)
{
	struct actual_vm vms[4];
	bool unread;
	size_t i;

	(void)state;
	vm(&vms[0], 100, "web", "pve-gitops;pg-1234abcd", false); /* done */
	vm(&vms[1], 105, "web", NULL, false); /* the loser's, untagged */
	vm(&vms[2], 106, "web", "pve-gitops", false); /* tagged */
	vm(&vms[3], 9000, "web", NULL, true);	      /* a template */
	/* the config is needed to tell */
	assert_false(plan_is_leftover(vms, 4, 1, &unread));
	assert_true(unread);
	assert_false(plan_is_leftover(vms, 4, 3, &unread));
	assert_false(unread);
	assert_false(plan_is_leftover(vms, 4, 0, &unread)); /* the finished */
	assert_false(unread);
	config(&vms[1], "description", PLAN_CREATING_MARKER);
	config(&vms[2], "description", PLAN_CREATING_MARKER);
	assert_true(plan_is_leftover(vms, 4, 1, &unread));
	assert_true(plan_is_leftover(vms, 4, 2, &unread));
	/* no finished sibling: an interrupted apply to finish, not this */
	assert_false(plan_is_leftover(vms + 1, 3, 0, &unread));
	assert_false(unread);
	/* a finished one that is not ours does not count */
	vms[0].tags = (char *)"pg-1234abcd";
	assert_false(plan_is_leftover(vms, 4, 1, &unread));
	vms[0].tags = (char *)"pve-gitops;pg-1234abcd";
	/* locked: a task is still on it */
	vms[1].lock = (char *)"clone";
	assert_false(plan_is_leftover(vms, 4, 1, &unread));
	assert_false(unread);
	vms[1].lock = NULL;
	config(&vms[1], "lock", "destroyed");
	assert_false(plan_is_leftover(vms, 4, 1, &unread));
	/* without the marker: not ours (or an update in progress) */
	free((char *)vms[2].vals.v[0]);
	vms[2].vals.v[0] = xstrdup("the team's web server");
	assert_false(plan_is_leftover(vms, 4, 2, &unread));
	/* with a digest tag of its own: finished, not a leftover */
	vms[2].tags = (char *)"pve-gitops;pg-00000000";
	assert_false(plan_is_leftover(vms, 4, 2, &unread));
	for (i = 0; i < 4; i++) {
		strvec_clear(&vms[i].keys);
		strvec_clear(&vms[i].vals);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(race__rival),
		cmocka_unit_test(race__lost_answers),
		cmocka_unit_test(race__is_ours),
		cmocka_unit_test(race__leftover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
