/*
 * test_strbuf.c - strbuf and strvec.
 */
#include "test.h"
#include "util/strbuf.h"
#include "util/strvec.h"

static void strbuf__init_is_empty_and_terminated(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
	strbuf_release(&sb); /* released buffers are inert */
	assert_string_equal(sb.buf, "");
}

static void strbuf__grows_past_many_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		strbuf_addf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 20000);
	assert_int_equal(sb.buf[sb.len], '\0');
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	strbuf_release(&sb);
}

static void strbuf__addf_long_output(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[5000];

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addstr(&sb, "a");
	strbuf_addf(&sb, "%s|%d", big, 42);
	assert_int_equal(sb.len, 1 + 4999 + 3);
	assert_string_equal(sb.buf + sb.len - 3, "|42");
	strbuf_release(&sb);
}

static void strbuf__escapes_control_and_invalid_utf8(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "plain", 5, "plain" },
		{ "a\nb\tc\rd", 7, "a\\nb\\tc\\rd" },
		{ "\x1b[31m", 5, "\\x1b[31m" },
		{ "back\\slash", 10, "back\\\\slash" },
		{ "caf\xc3\xa9", 5, "caf\xc3\xa9" },
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "\xc3", 1, "\\xc3" },
		{ "nul\0x", 5, "nul\\x00x" },
		{ "\xe2\x80\xa8", 3, "\\xe2\\x80\\xa8" }, /* U+2028 */
		{ "\x7f", 1, "\\x7f" },
		{ "\xc2\x80", 2, "\\xc2\\x80" },	  /* U+0080, C1 */
		{ "\xc2\x9f", 2, "\\xc2\\x9f" },	  /* U+009F, C1 */
		{ "\xc2\xa0", 2, "\xc2\xa0" },		  /* U+00A0 prints */
		{ "\xe2\x80\xa9", 3, "\\xe2\\x80\\xa9" }, /* U+2029 */
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },	  /* U+20AC */
		{ "\xc0\xaf", 2, "\\xc0\\xaf" },	  /* overlong */
		{ "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" },
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_add_escaped(&sb, cases[i].in, cases[i].len);
		assert_string_equal(sb.buf, cases[i].out);
		strbuf_release(&sb);
	}
}

static void strbuf__insert_trim_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;

	(void)state;
	strbuf_addstr(&sb, "  world \n");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "world");
	strbuf_insert(&sb, 0, "hello ", 6);
	assert_string_equal(sb.buf, "hello world");
	s = strbuf_detach(&sb, &len);
	assert_int_equal(len, 11);
	assert_string_equal(s, "hello world");
	assert_string_equal(sb.buf, "");
	free(s);
	s = strbuf_detach(&sb, NULL); /* detaching empty gives "" */
	assert_string_equal(s, "");
	free(s);
}

static void strbuf__wipe_releases(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "secret");
	strbuf_wipe(&sb);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
}

static void strvec__push_keeps_null_terminated(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	assert_null(sv.v[0]);
	strvec_pushl(&sv, "git", "commit", NULL);
	strvec_pushf(&sv, "-m%s", "x");
	assert_int_equal(sv.nr, 3);
	assert_string_equal(sv.v[0], "git");
	assert_string_equal(sv.v[2], "-mx");
	assert_null(sv.v[3]);
	strvec_clear(&sv);
	assert_int_equal(sv.nr, 0);
	assert_null(sv.v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strbuf__init_is_empty_and_terminated),
		cmocka_unit_test(strbuf__grows_past_many_appends),
		cmocka_unit_test(strbuf__addf_long_output),
		cmocka_unit_test(strbuf__escapes_control_and_invalid_utf8),
		cmocka_unit_test(strbuf__insert_trim_detach),
		cmocka_unit_test(strbuf__wipe_releases),
		cmocka_unit_test(strvec__push_keeps_null_terminated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
