/*
 * test_dyninv.c - the dynamic inventory JSON: the --list and --host shapes
 * encode writes, and the decoder that reads ansible-inventory's answer.
 */
#include "test.h"

#include <jansson.h>
#include <string.h>

#include "core/dyninv.h"

/* Two grouped hosts, one ungrouped, one without an address. */
static void want_of(struct inv_want *w, struct inv_rules *r, struct config *cfg)
{
	struct strbuf why = STRBUF_INIT;
	struct strvec web, none;

	config_init(cfg);
	strvec_init(&web);
	strvec_init(&none);
	strvec_push(&web, "web");
	assert_int_equal(inv_rules_compile(r, cfg, &why), 0);
	inv_want_init(w, r);
	inv_want_add(w, r, "a", "10.0.0.1", "ubuntu", 22, &web);
	inv_want_add(w, r, "b", "10.0.0.2", "debian", 2222, &web);
	inv_want_add(w, r, "c", "10.0.0.3", "ubuntu", 22, &none);
	inv_want_add(w, r, "d", NULL, "ubuntu", 22, &none);
	strvec_clear(&web);
	strvec_clear(&none);
	strbuf_release(&why);
}

static void dyninv__list_round_trip(void **state)
{
	struct config cfg;
	struct inv_rules r;
	struct inv_want w;
	json_t *vars[4];
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct dyninv d;
	json_t *root;
	size_t i;

	(void)state;
	want_of(&w, &r, &cfg);
	for (i = 0; i < 4; i++)
		vars[i] = json_pack("{s:i}", "pve_vmid", (int)(100 + i));
	dyninv_encode_list(&out, &w, vars);
	assert_int_equal(out.buf[out.len - 1], '\n');
	root = json_loads(out.buf, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(root, "web"), "hosts")),
			 2);
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(json_object_get(root, "ungrouped"),
					"hosts"),
			0)),
		"c");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(
				json_object_get(json_object_get(root, "_meta"),
						"hostvars"),
				"b"),
			"ansible_port")),
		2222);
	json_decref(root);
	dyninv_init(&d);
	assert_int_equal(dyninv_decode(&d, out.buf, out.len, &why), 0);
	assert_string_equal(dyninv_address(&d, "a"), "10.0.0.1");
	assert_string_equal(dyninv_address(&d, "c"), "10.0.0.3");
	assert_null(dyninv_address(&d, "d")); /* no address: left out */
	assert_true(dyninv_is_member(&d, "web", "a"));
	assert_true(dyninv_is_member(&d, "web", "b"));
	assert_false(dyninv_is_member(&d, "web", "c"));
	assert_true(dyninv_is_member(&d, "ungrouped", "c"));
	dyninv_release(&d);
	for (i = 0; i < 4; i++)
		json_decref(vars[i]);
	strbuf_release(&out);
	strbuf_release(&why);
	inv_want_release(&w);
	inv_rules_release(&r);
	config_release(&cfg);
}

static void dyninv__host(void **state)
{
	struct config cfg;
	struct inv_rules r;
	struct inv_want w;
	struct strbuf out = STRBUF_INIT;
	json_t *vars = json_pack("{s:s}", "pve_node", "pve1"), *o;

	(void)state;
	want_of(&w, &r, &cfg);
	dyninv_encode_host(&out, &w.hosts[0], vars);
	o = json_loads(out.buf, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "pve_node")),
			    "pve1");
	assert_string_equal(
		json_string_value(json_object_get(o, "ansible_host")),
		"10.0.0.1");
	assert_string_equal(
		json_string_value(json_object_get(o, "ansible_user")),
		"ubuntu");
	assert_null(json_object_get(o, "ansible_port"));    /* 22 */
	assert_null(json_object_get(vars, "ansible_host")); /* borrowed */
	json_decref(o);
	json_decref(vars);
	strbuf_release(&out);
	inv_want_release(&w);
	inv_rules_release(&r);
	config_release(&cfg);
}

static void dyninv__decode_refuses_and_skips(void **state)
{
	static const char *const bad[] = { "", "[]", "\"x\"", "{", "null" };
	const char *odd = "{\"g\": {\"hosts\": [1, \"h\", null]},"
			  " \"x\": 3,"
			  " \"_meta\": {\"hostvars\": {\"h\": 1, \"i\": "
			  "{\"ansible_host\": 5}, \"j\": {\"ansible_host\": "
			  "\"10.0.0.9\"}}}}";
	struct strbuf why = STRBUF_INIT;
	struct dyninv d;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		dyninv_init(&d);
		strbuf_reset(&why);
		assert_int_equal(
			dyninv_decode(&d, bad[i], strlen(bad[i]), &why), -1);
		assert_true(why.len > 0);
		dyninv_release(&d);
	}
	dyninv_init(&d);
	assert_int_equal(dyninv_decode(&d, odd, strlen(odd), &why), 0);
	assert_true(dyninv_is_member(&d, "g", "h"));
	assert_null(dyninv_address(&d, "h")); /* not an object */
	assert_null(dyninv_address(&d, "i")); /* not a string */
	assert_string_equal(dyninv_address(&d, "j"), "10.0.0.9");
	dyninv_release(&d);
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dyninv__list_round_trip),
		cmocka_unit_test(dyninv__host),
		cmocka_unit_test(dyninv__decode_refuses_and_skips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
