/*
 * test_yemit.c - JSON written as block YAML: which strings stay plain, and
 * the layout of nested mappings and sequences (kubectl's style).
 */
#include "test.h"

#include <string.h>

#include "core/yemit.h"

static void yemit__plain_or_quoted(void **state)
{
	static const char *const plain[] = {
		"https://127.0.0.1:6443",
		"node03",
		"QUJD+/=",
		"default",
		"client.authentication.k8s.io/v1beta1",
		"a#b",
		"a:b",
		"k8s-a",
		"/mnt/storage",
		"v1",
		"x y",
	};
	static const char *const quoted[] = {
		"",	     "true",	    "No",  "ON",    "null",
		"~",	     "1.5",	    "08",  "0x1F",  "12:30",
		"1e3",	     "-1",	    "+1",  ".5",    "- x",
		"a: b",	     "a #b",	    " a",  "a ",    "@x",
		"`x",	     "a:",	    "*x",  "&x",    "!x",
		"%x",	     "{x}",	    "[x]", "a,b",   "caf\xc3\xa9",
		"tab\there", "line\nbreak", "'q'", "\"q\"", "?x",
		"|x",	     ">x",	    "#x",  ".inf",  "y",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(plain); i++)
		if (!yemit_plain_ok(plain[i]))
			fail_msg("'%s' should be plain", plain[i]);
	for (i = 0; i < ARRAY_SIZE(quoted); i++)
		if (yemit_plain_ok(quoted[i]))
			fail_msg("'%s' should be quoted", quoted[i]);
}

static void yemit__layout(void **state)
{
	json_t *v = json_loads(
		"{\"apiVersion\": \"v1\", \"clusters\": [{\"cluster\": "
		"{\"server\": \"https://h:6443\", \"insecure-skip-tls-verify\": "
		"true}, \"name\": \"a\"}], \"preferences\": {}, \"users\": [], "
		"\"n\": 3, \"x\": null, \"l\": [\"true\", [1, 2], {}], "
		"\"q\": \"a: b\"}",
		0, NULL);
	struct strbuf out = STRBUF_INIT;

	(void)state;
	yemit(&out, v);
	assert_string_equal(out.buf, "apiVersion: v1\n"
				     "clusters:\n"
				     "- cluster:\n"
				     "    server: https://h:6443\n"
				     "    insecure-skip-tls-verify: true\n"
				     "  name: a\n"
				     "preferences: {}\n"
				     "users: []\n"
				     "\"n\": 3\n"
				     "x: null\n"
				     "l:\n"
				     "- \"true\"\n"
				     "- \n"
				     "  - 1\n"
				     "  - 2\n"
				     "- {}\n"
				     "q: \"a: b\"\n");
	strbuf_release(&out);
	json_decref(v);
}

/* Every string value tagged, keys and non-strings never. */
static void yemit__tagged(void **state)
{
	json_t *v = json_loads(
		"{\"vault_addr\": \"{{ lookup('pipe', 'touch /tmp/x') }}\", "
		"\"plain\": \"v1\", \"a: b\": \"\", \"n\": 3, \"t\": true, "
		"\"l\": [\"x\", {\"k\": \"{% raw %}\"}]}",
		0, NULL);
	struct strbuf out = STRBUF_INIT;

	(void)state;
	assert_non_null(v);
	yemit_tagged(&out, v, "!unsafe");
	assert_string_equal(out.buf,
			    "vault_addr: !unsafe \"{{ lookup('pipe', 'touch "
			    "/tmp/x') }}\"\n"
			    "plain: !unsafe v1\n"
			    "\"a: b\": !unsafe \"\"\n"
			    "\"n\": 3\n"
			    "t: true\n"
			    "l:\n"
			    "- !unsafe x\n"
			    "- k: !unsafe \"{% raw %}\"\n");
	strbuf_reset(&out);
	yemit_tagged(&out, json_object_get(v, "plain"), "!unsafe");
	assert_string_equal(out.buf, "!unsafe v1\n");
	/* NULL is yemit() */
	strbuf_reset(&out);
	yemit_tagged(&out, json_object_get(v, "plain"), NULL);
	assert_string_equal(out.buf, "v1\n");
	strbuf_release(&out);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(yemit__plain_or_quoted),
		cmocka_unit_test(yemit__layout),
		cmocka_unit_test(yemit__tagged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
