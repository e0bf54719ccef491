/*
 * test_savedplan.c - the saved plan: encode then decode gives the same
 * fingerprint and options; the fingerprint changes with the plan and its
 * options; files that are not saved plans are refused.
 */
#include "test.h"
#include "core/savedplan.h"

static void one_item_plan(struct plan *p, struct plan_item *it, int vmid)
{
	memset(p, 0, sizeof(*p));
	memset(it, 0, sizeof(*it));
	it->op = PLAN_DESTROY;
	it->name = (char *)"web";
	it->node = (char *)"node01";
	it->vmid = vmid;
	p->items = it;
	p->nr = 1;
	p->destroy = 1;
}

static void savedplan__roundtrip(void **state)
{
	struct plan p;
	struct plan_item it;
	struct plan_input in;
	struct savedplan sp;
	struct err e = ERR_INIT;
	char fp[17], *text;

	(void)state;
	one_item_plan(&p, &it, 101);
	memset(&in, 0, sizeof(in));
	in.prune = true;
	text = savedplan_encode(&p, &in);
	assert_int_equal(savedplan_decode(&sp, text, strlen(text), "f", &e), 0);
	savedplan_fingerprint(&p, &in, fp);
	assert_string_equal(sp.fingerprint, fp);
	assert_true(sp.prune);
	assert_false(sp.adopt);
	assert_false(sp.refresh);
	free(text);
	err_release(&e);
}

static void savedplan__fingerprint_changes(void **state)
{
	struct plan p;
	struct plan_item it;
	struct plan_input in;
	char a[17], b[17], c[17];

	(void)state;
	one_item_plan(&p, &it, 101);
	memset(&in, 0, sizeof(in));
	savedplan_fingerprint(&p, &in, a);
	assert_int_equal(strlen(a), 16);
	it.vmid = 102;
	savedplan_fingerprint(&p, &in, b);
	assert_string_not_equal(a, b);
	it.vmid = 101;
	in.adopt = true;
	savedplan_fingerprint(&p, &in, c);
	assert_string_not_equal(a, c);
}

static void savedplan__refuses(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{}",
		"{\"kind\": \"other\", \"fingerprint\": \"0123456789abcdef\"}",
		"{\"kind\": \"pve-gitops-plan\", \"fingerprint\": \"12\"}",
		"{\"kind\": \"pve-gitops-plan\"}",
	};
	struct savedplan sp;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct err e = ERR_INIT;

		assert_int_equal(savedplan_decode(&sp, bad[i], strlen(bad[i]),
						  "p.json", &e),
				 -1);
		assert_int_equal(e.exit_code, EXIT_INVALID);
		assert_true(err_is(&e, ERR_INVALID));
		assert_non_null(strstr(e.msg.buf, "p.json"));
		err_release(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(savedplan__roundtrip),
		cmocka_unit_test(savedplan__fingerprint_changes),
		cmocka_unit_test(savedplan__refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
