/*
 * test_race.c - the create protocol: which of two racing clones wins, when
 * a create's answer counts as lost, and whose VM an id holds afterwards.
 */
#include "test.h"
#include "core/race.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(race__rival),
		cmocka_unit_test(race__lost_answers),
		cmocka_unit_test(race__is_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
