/*
 * test_schema.c - the documentation in the decoders' tables (struct
 * yd_doc, ydecode.h) and the JSON Schema built from it (core/schema.c):
 * every key of every table, nested ones included, has a description; an
 * enumeration has its values, a section its keys, a pattern or a default
 * is what it says (an ECMA pattern POSIX cannot check is only looked at
 * for being there, a default must be JSON); and the schema has a property
 * for every key, with the description and default of the table.
 */
#include "test.h"

#include <jansson.h>
#include <string.h>

#include "core/schema.h"
#include "core/ydecode.h"

static const struct yd_field *sub_fields(const struct yd_field *f)
{
	return f->doc.fields	  ? f->doc.fields
	       : f->doc.fields_of ? f->doc.fields_of()
				  : NULL;
}

/* The keys of fields (and below) as documented; the count seen. */
static size_t check_table(const struct yd_field *fields, const char *where)
{
	const struct yd_field *f;
	size_t n = 0;

	for (f = fields; f->key; f++) {
		json_t *def;

		n++;
		if (!f->doc.help || !*f->doc.help)
			fail_msg("%s.%s: no description", where, f->key);
		if (f->doc.type == YT_ENUM &&
		    (!f->doc.values || !*f->doc.values))
			fail_msg("%s.%s: an enumeration without values", where,
				 f->key);
		if ((f->doc.type == YT_MAP || f->doc.type == YT_MAPS ||
		     f->doc.type == YT_SLOTS) &&
		    !sub_fields(f))
			fail_msg("%s.%s: a mapping without keys", where,
				 f->key);
		if (f->doc.type == YT_INT && f->doc.max &&
		    f->doc.min > f->doc.max)
			fail_msg("%s.%s: minimum above maximum", where, f->key);
		if (f->doc.def) {
			def = json_loads(f->doc.def, JSON_DECODE_ANY, NULL);
			if (!def)
				fail_msg("%s.%s: default %s is no JSON", where,
					 f->key, f->doc.def);
			json_decref(def);
		}
		if (sub_fields(f))
			n += check_table(sub_fields(f), f->key);
	}
	return n;
}

static void schema__every_key_documented(void **state)
{
	const char *const *k;

	(void)state;
	for (k = schema_kinds; *k; k++)
		assert_true(check_table(schema_fields(*k), *k) > 2);
	assert_null(schema_fields("nonesuch"));
	assert_null(schema_build("nonesuch"));
}

static void schema__properties_from_the_table(void **state)
{
	const char *const *k;
	const struct yd_field *f;

	(void)state;
	for (k = schema_kinds; *k; k++) {
		json_t *s = schema_build(*k), *props, *p;

		assert_non_null(s);
		assert_string_equal(
			json_string_value(json_object_get(s, "$schema")),
			"https://json-schema.org/draft/2020-12/schema");
		assert_true(json_is_false(
			json_object_get(s, "additionalProperties")));
		props = json_object_get(s, "properties");
		for (f = schema_fields(*k); f->key; f++) {
			p = json_object_get(props, f->key);
			if (!p)
				fail_msg("%s: no property %s", *k, f->key);
			assert_string_equal(json_string_value(json_object_get(
						    p, "description")),
					    f->doc.help);
			if (f->doc.def)
				assert_non_null(json_object_get(p, "default"));
		}
		assert_int_equal(json_object_size(props),
				 (size_t)(f - schema_fields(*k)));
		json_decref(s);
	}
}

static void schema__shapes(void **state)
{
	json_t *s = schema_build("vmdef"), *props, *p;
	char *text;

	(void)state;
	props = json_object_get(s, "properties");
	/* required keys, a null that means "not set", a quoted number */
	text = json_dumps(json_object_get(s, "required"), JSON_COMPACT);
	assert_string_equal(text, "[\"name\",\"target_node\"]");
	free(text);
	p = json_object_get(props, "cores");
	text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(strstr(text, "{\"type\":\"null\"}"));
	assert_non_null(strstr(text, "\"maximum\":1024"));
	assert_non_null(strstr(text, "\"pattern\":\"^[0-9]+$\""));
	free(text);
	/* an enumeration; a section's keys inside */
	p = json_object_get(props, "vm_state");
	text = json_dumps(p, JSON_COMPACT);
	assert_non_null(strstr(text, "\"enum\":[\"running\",\"stopped\""));
	free(text);
	p = json_object_get(props, "network");
	text = json_dumps(p, JSON_COMPACT);
	assert_non_null(strstr(text, "\"bridge\""));
	free(text);
	json_decref(s);
	/* a secret key is refused whatever its value; a section may be
	 * null ("not set"): its mapping is the first alternative */
	s = schema_build("config");
	p = json_object_get(json_object_get(s, "properties"), "proxmox");
	p = json_array_get(json_object_get(p, "anyOf"), 0);
	p = json_object_get(json_object_get(p, "properties"), "token_secret");
	assert_non_null(json_object_get(p, "not"));
	json_decref(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema__every_key_documented),
		cmocka_unit_test(schema__properties_from_the_table),
		cmocka_unit_test(schema__shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
