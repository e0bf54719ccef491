/*
 * test_jscan.c - the pull scanner agrees with jansson's json_loadb (which
 * every other answer goes through) on what is JSON, and reads strings and
 * integers as it does.
 */
#include <jansson.h>
#include <string.h>

#include "test.h"
#include "util/jscan.h"

/* Texts either may be asked about: valid and not. */
static const char *const texts[] = {
	"{}",
	"[]",
	" { \"a\" : [ 1 , -2 , 3.5e2 , true , false , null ] } ",
	"{\"a\":{\"b\":{\"c\":[[],[{}]]}}}",
	"{\"a\":\"\\u00e9\\n\\t\\\"\\\\\\/\\b\\f\\r\"}",
	"{\"a\":\"\\ud83d\\ude00\"}",
	"{\"a\":\"caf\xc3\xa9\"}",
	"{\"a\":1,\"a\":2}",
	"[0]",
	"[-0]",
	"[9223372036854775807]",
	"[-9223372036854775808]",
	"[1E+2,1e-2,0.5]",
	"[1e-400]",
	/* not JSON */
	"",
	"{",
	"}",
	"[1,]",
	"{\"a\":1,}",
	"{,}",
	"[,1]",
	"{\"a\" 1}",
	"{\"a\":}",
	"{1:2}",
	"[01]",
	"[1.]",
	"[.5]",
	"[1e]",
	"[-]",
	"[+1]",
	"[9223372036854775808]",
	"[1e999]",
	"[tru]",
	"[nul]",
	"[True]",
	"{\"a\":\"\\x\"}",
	"{\"a\":\"\\u12\"}",
	"{\"a\":\"\\u0000\"}",
	"{\"a\":\"\\ud83d\"}",
	"{\"a\":\"\\ude00\"}",
	"{\"a\":\"\\ud83d\\u0041\"}",
	"{\"a\":\"\x01\"}",
	"{\"a\":\"\xc3\"}",
	"{\"a\":\"\xc0\x80\"}",
	"{\"a\":\"\xed\xa0\x80\"}",
	"{\"a\":\"unterminated}",
	"{} x",
	"{}{}",
	"[1 2]",
	"{\"a\":1 \"b\":2}",
};

static bool scan_ok(const char *t)
{
	struct jscan s;

	jscan_init(&s, t, strlen(t));
	return jscan_skip(&s) == 0 && jscan_finish(&s) == 0;
}

static void jscan__agrees_with_jansson(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		json_t *j = json_loadb(texts[i], strlen(texts[i]),
				       JSON_DECODE_ANY, NULL);

		if ((j != NULL) != scan_ok(texts[i]))
			fail_msg("text %zu (%s): jansson %s, jscan %s", i,
				 texts[i], j ? "accepts" : "refuses",
				 scan_ok(texts[i]) ? "accepts" : "refuses");
		json_decref(j);
	}
}

static void jscan__nesting_is_bounded(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < JSCAN_MAX_DEPTH + 10; i++)
		strbuf_addch(&sb, '[');
	for (i = 0; i < JSCAN_MAX_DEPTH + 10; i++)
		strbuf_addch(&sb, ']');
	assert_false(scan_ok(sb.buf));
	strbuf_release(&sb);
}

static void jscan__reads_members(void **state)
{
	const char *t = "{\"s\":\"a\\u00e9\\ud83d\\ude00\\n\",\"i\":-42,"
			"\"skip\":{\"x\":[1,{\"y\":\"z\"}]},\"r\":1.5}";
	struct strbuf key = STRBUF_INIT, v = STRBUF_INIT;
	struct jscan s;
	int64_t n = 0;
	int k, seen = 0;

	(void)state;
	jscan_init(&s, t, strlen(t));
	assert_int_equal(jscan_peek(&s), JSCAN_OBJECT);
	assert_int_equal(jscan_enter(&s, '{'), 0);
	while ((k = jscan_next_key(&s, &key)) > 0) {
		seen++;
		if (!strcmp(key.buf, "s")) {
			assert_int_equal(jscan_string(&s, &v), 0);
			assert_string_equal(v.buf,
					    "a\xc3\xa9\xf0\x9f\x98\x80\n");
		} else if (!strcmp(key.buf, "i")) {
			assert_int_equal(jscan_integer(&s, &n), 0);
			assert_int_equal(n, -42);
		} else if (!strcmp(key.buf, "r")) {
			assert_int_equal(jscan_peek(&s), JSCAN_NUMBER);
			assert_int_equal(jscan_skip(&s), 0);
		} else {
			assert_int_equal(jscan_skip(&s), 0);
		}
	}
	assert_int_equal(k, 0);
	assert_int_equal(seen, 4);
	assert_int_equal(jscan_finish(&s), 0);
	/* an error sticks */
	jscan_init(&s, "[1,x]", 5);
	assert_int_equal(jscan_enter(&s, '['), 0);
	assert_int_equal(jscan_next_item(&s), 1);
	assert_int_equal(jscan_integer(&s, &n), 0);
	assert_int_equal(jscan_next_item(&s), 1);
	assert_int_equal(jscan_skip(&s), -1);
	assert_int_equal(jscan_next_item(&s), -1);
	assert_int_equal(jscan_peek(&s), JSCAN_ERROR);
	strbuf_release(&key);
	strbuf_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(jscan__agrees_with_jansson),
		cmocka_unit_test(jscan__nesting_is_bounded),
		cmocka_unit_test(jscan__reads_members),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
