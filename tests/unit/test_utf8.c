/*
 * test_utf8.c - the strict UTF-8 decoder: every boundary of Unicode's
 * table 3-7, overlong forms, surrogates, code points above U+10FFFF,
 * stray and missing continuation bytes, and the WHATWG replacement length.
 */
#include <string.h>

#include "test.h"
#include "util/utf8.h"

struct decode_case {
	const char *in;
	size_t n;    /* bytes given to the decoder */
	size_t len;  /* expected length, 0: malformed */
	uint32_t cp; /* expected code point when len > 0 */
	size_t bad;  /* expected utf8_bad_len when len == 0 */
};

static const struct decode_case decode_cases[] = {
	/* one byte */
	{ "\x00", 1, 1, 0x00, 0 },
	{ "A", 1, 1, 0x41, 0 },
	{ "\x7f", 1, 1, 0x7f, 0 },
	{ "ab", 2, 1, 0x61, 0 }, /* only the first character */
	/* stray continuation bytes and bytes that never start a sequence */
	{ "\x80", 1, 0, 0, 1 },
	{ "\xbf", 1, 0, 0, 1 },
	{ "\xc0\x80", 2, 0, 0, 1 }, /* overlong U+0000 */
	{ "\xc1\xbf", 2, 0, 0, 1 }, /* overlong U+007F */
	{ "\xf5\x80\x80\x80", 4, 0, 0, 1 },
	{ "\xf8\x88\x80\x80\x80", 5, 0, 0, 1 }, /* old 5-byte form */
	{ "\xfc\x84\x80\x80\x80\x80", 6, 0, 0, 1 },
	{ "\xfe", 1, 0, 0, 1 },
	{ "\xff", 1, 0, 0, 1 },
	/* two bytes */
	{ "\xc2\x80", 2, 2, 0x80, 0 },
	{ "\xc3\xa9", 2, 2, 0xe9, 0 },
	{ "\xdf\xbf", 2, 2, 0x7ff, 0 },
	{ "\xc2", 1, 0, 0, 1 },	    /* cut short */
	{ "\xc2\x41", 2, 0, 0, 1 }, /* not a continuation */
	{ "\xc2\xc0", 2, 0, 0, 1 },
	/* three bytes */
	{ "\xe0\xa0\x80", 3, 3, 0x800, 0 },
	{ "\xe0\x80\x80", 3, 0, 0, 1 }, /* overlong U+0000 */
	{ "\xe0\x9f\xbf", 3, 0, 0, 1 }, /* overlong U+07FF */
	{ "\xe0\x96\x8b", 3, 0, 0, 1 }, /* libfyaml's endless loop */
	{ "\xe1\x80\x80", 3, 3, 0x1000, 0 },
	{ "\xe2\x82\xac", 3, 3, 0x20ac, 0 },
	{ "\xec\xbf\xbf", 3, 3, 0xcfff, 0 },
	{ "\xed\x80\x80", 3, 3, 0xd000, 0 },
	{ "\xed\x9f\xbf", 3, 3, 0xd7ff, 0 },
	{ "\xed\xa0\x80", 3, 0, 0, 1 }, /* U+D800, a surrogate */
	{ "\xed\xbf\xbf", 3, 0, 0, 1 }, /* U+DFFF */
	{ "\xee\x80\x80", 3, 3, 0xe000, 0 },
	{ "\xef\xbb\xbf", 3, 3, 0xfeff, 0 },
	{ "\xef\xbf\xbd", 3, 3, 0xfffd, 0 },
	{ "\xef\xbf\xbf", 3, 3, 0xffff, 0 },
	{ "\xe2\x82", 2, 0, 0, 2 },	/* cut short after two */
	{ "\xe2\x82\xac", 2, 0, 0, 2 }, /* n limits the read */
	{ "\xe2", 1, 0, 0, 1 },
	{ "\xe2\x28\xa1", 3, 0, 0, 1 },
	{ "\xe2\x82\x28", 3, 0, 0, 2 },
	/* four bytes */
	{ "\xf0\x90\x80\x80", 4, 4, 0x10000, 0 },
	{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600, 0 },
	{ "\xf0\x80\x80\x80", 4, 0, 0, 1 }, /* overlong U+0000 */
	{ "\xf0\x8f\xbf\xbf", 4, 0, 0, 1 }, /* overlong U+FFFF */
	{ "\xf3\xbf\xbf\xbf", 4, 4, 0xfffff, 0 },
	{ "\xf4\x80\x80\x80", 4, 4, 0x100000, 0 },
	{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff, 0 },
	{ "\xf4\x90\x80\x80", 4, 0, 0, 1 }, /* U+110000 */
	{ "\xf7\xbf\xbf\xbf", 4, 0, 0, 1 }, /* U+1FFFFF */
	{ "\xf0\x9f\x98", 3, 0, 0, 3 },	    /* cut short after three */
	{ "\xf0\x9f", 2, 0, 0, 2 },
	{ "\xf0", 1, 0, 0, 1 },
	{ "\xf0\x9f\x98\x41", 4, 0, 0, 3 },
	{ "\xf0\x9f\x41\x80", 4, 0, 0, 2 },
	/* a surrogate pair encoded as two sequences (CESU-8) */
	{ "\xed\xa0\xbd\xed\xb8\x80", 6, 0, 0, 1 },
};

static void utf8__decode_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		const unsigned char *s = (const unsigned char *)c->in;
		uint32_t cp = 0xdeadbeef;
		size_t len = utf8_decode(&cp, s, c->n);

		print_message("case %zu\n", i);
		assert_int_equal(len, c->len);
		assert_int_equal(utf8_seq_len(s, c->n), c->len);
		assert_int_equal(utf8_decode(NULL, s, c->n), c->len);
		if (c->len) {
			assert_int_equal(cp, c->cp);
		} else {
			assert_int_equal(cp, 0xdeadbeef); /* untouched */
			assert_int_equal(utf8_bad_len(s, c->n), c->bad);
		}
	}
}

/* Every code point round-trips through an encoder written for the test,
 * and every 2- and 3-byte pattern the encoder cannot produce is refused. */
static size_t encode(unsigned char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | (cp >> 6));
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | (cp >> 12));
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | (cp >> 18));
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static void utf8__every_code_point(void **state)
{
	unsigned char buf[4];
	uint32_t cp, got;
	size_t n;

	(void)state;
	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = encode(buf, cp);
		got = 0xdeadbeef;
		if (cp >= 0xd800 && cp <= 0xdfff) {
			assert_int_equal(utf8_decode(&got, buf, n), 0);
			continue;
		}
		assert_int_equal(utf8_decode(&got, buf, n), n);
		assert_int_equal(got, cp);
		/* one byte short is always malformed */
		if (n > 1)
			assert_int_equal(utf8_decode(&got, buf, n - 1), 0);
	}
}

static void utf8__every_two_and_three_byte_pattern(void **state)
{
	unsigned char s[3], enc[4];
	unsigned a, b, c;
	uint32_t cp;
	size_t n;

	(void)state;
	for (a = 0x80; a <= 0xff; a++) {
		for (b = 0; b <= 0xff; b++) {
			s[0] = (unsigned char)a;
			s[1] = (unsigned char)b;
			for (c = 0x7e; c <= 0xc0; c++) {
				s[2] = (unsigned char)c;
				n = utf8_decode(&cp, s, 3);
				if (!n)
					continue;
				/* accepted: exactly the shortest encoding */
				assert_int_equal(encode(enc, cp), n);
				assert_memory_equal(enc, s, n);
				assert_false(cp >= 0xd800 && cp <= 0xdfff);
			}
		}
	}
}

static void utf8__invalid_at_and_valid(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		size_t at;
	} cases[] = {
		{ "", 0, 0 },
		{ "plain ascii", 11, 11 },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 14 },
		{ "nul\0inside", 10, 10 }, /* U+0000 is valid */
		{ "ab\x80", 3, 2 },
		{ "caf\xc3", 4, 3 }, /* cut short at the end */
		{ "x\xed\xa0\x80y", 5, 1 },
		{ "ok\xe0\x96\x8b", 5, 2 },
		{ "\xc3\xa9\xc3\xa9\xff", 5, 4 },
		{ "\xf4\x90\x80\x80", 4, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("case %zu\n", i);
		assert_int_equal(utf8_invalid_at(cases[i].in, cases[i].len),
				 cases[i].at);
		assert_int_equal(utf8_valid(cases[i].in, cases[i].len),
				 cases[i].at == cases[i].len);
	}
}

static void utf8__count(void **state)
{
	static const struct {
		const char *in;
		size_t nr;
	} cases[] = {
		{ "", 0 },
		{ "abc", 3 },
		{ "caf\xc3\xa9", 4 },
		{ "\xe2\x82\xac\xf0\x9f\x98\x80", 2 },
		{ "\x80\x80", 0 }, /* continuation bytes alone count nothing */
		{ "\xff\xc3\xa9", 2 }, /* any other byte counts one */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(utf8_count(cases[i].in, strlen(cases[i].in)),
				 cases[i].nr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(utf8__decode_table),
		cmocka_unit_test(utf8__every_code_point),
		cmocka_unit_test(utf8__every_two_and_three_byte_pattern),
		cmocka_unit_test(utf8__invalid_at_and_valid),
		cmocka_unit_test(utf8__count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
