/*
 * test_new_hosts.c - the new_hosts.txt format: decode what encode wrote,
 * refuse bad entries and name the physical line of the first one.
 */
#include "test.h"

#include <string.h>

#include "core/new_hosts.h"

static void new_hosts__round_trip(void **state)
{
	struct new_hosts nh = NEW_HOSTS_INIT, back = NEW_HOSTS_INIT;
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	size_t line = 0;

	(void)state;
	new_hosts_add(&nh, "10.0.0.1", "web1");
	new_hosts_add(&nh, "192.168.1.20", "k8s-cp-1");
	new_hosts_add(&nh, "192.168.1.21", "k01.lab.example"); /* dns-name */
	new_hosts_encode(&text, &nh);
	assert_string_equal(text.buf, "10.0.0.1,web1\n192.168.1.20,k8s-cp-1\n"
				      "192.168.1.21,k01.lab.example\n");
	assert_int_equal(
		new_hosts_decode(&back, text.buf, text.len, &line, &why), 0);
	assert_int_equal(back.nr, 3);
	assert_string_equal(back.v[0].ip, "10.0.0.1");
	assert_string_equal(back.v[0].name, "web1");
	assert_string_equal(back.v[1].ip, "192.168.1.20");
	assert_string_equal(back.v[1].name, "k8s-cp-1");
	new_hosts_release(&nh);
	new_hosts_release(&back);
	strbuf_release(&text);
	strbuf_release(&why);
}

static void new_hosts__empty_and_blank(void **state)
{
	static const char *const texts[] = { "", "\n", "\n\n\r\n", "\r\n" };
	size_t i, line;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		struct new_hosts nh = NEW_HOSTS_INIT;
		struct strbuf why = STRBUF_INIT;

		assert_int_equal(new_hosts_decode(&nh, texts[i],
						  strlen(texts[i]), &line,
						  &why),
				 0);
		assert_int_equal(nh.nr, 0);
		new_hosts_release(&nh);
		strbuf_release(&why);
	}
}

static void new_hosts__crlf_and_no_final_newline(void **state)
{
	const char *text = "10.0.0.1,a\r\n\r\n10.0.0.2,b";
	struct new_hosts nh = NEW_HOSTS_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t line = 0;

	(void)state;
	assert_int_equal(new_hosts_decode(&nh, text, strlen(text), &line, &why),
			 0);
	assert_int_equal(nh.nr, 2);
	assert_string_equal(nh.v[0].name, "a");
	assert_string_equal(nh.v[1].ip, "10.0.0.2");
	assert_string_equal(nh.v[1].name, "b");
	new_hosts_release(&nh);
	strbuf_release(&why);
}

/* issue 12: blank lines count; the bad entry is on line 4, not 2 */
static void new_hosts__bad_line_number_counts_blank_lines(void **state)
{
	const char *text = "10.0.0.1,a\n\n\nnot-an-entry\n10.0.0.2,b\n";
	struct new_hosts nh = NEW_HOSTS_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t line = 0;

	(void)state;
	assert_int_equal(new_hosts_decode(&nh, text, strlen(text), &line, &why),
			 -1);
	assert_int_equal(line, 4);
	assert_string_equal(why.buf, "expected IP,hostname");
	assert_int_equal(nh.nr, 1); /* the entries before it */
	new_hosts_release(&nh);
	strbuf_release(&why);
}

static void new_hosts__refused(void **state)
{
	static const struct {
		const char *text;
		size_t len, line;
	} cases[] = {
		{ "10.0.0.1", 8, 1 },		 /* no comma */
		{ "10.0.0.1,", 9, 1 },		 /* no name */
		{ ",web", 4, 1 },		 /* no address */
		{ "10.0.0.256,web", 14, 1 },	 /* not an address */
		{ "10.0.0.1,-web", 13, 1 },	 /* not a DNS label */
		{ "10.0.0.1,a b", 12, 1 },	 /* space in the name */
		{ "10.0.0.1,a,b", 12, 1 },	 /* a second comma */
		{ " 10.0.0.1,a", 11, 1 },	 /* leading space */
		{ "\n \n", 3, 2 },		 /* a line of spaces */
		{ "10.0.0.1,a\rb", 12, 1 },	 /* CR inside the line */
		{ "10.0.0.1,a\0b", 12, 1 },	 /* NUL inside the line */
		{ "\n\n10.0.0.1,x;y\n", 15, 3 }, /* after blank lines */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct new_hosts nh = NEW_HOSTS_INIT;
		struct strbuf why = STRBUF_INIT;
		size_t line = 0;

		assert_int_equal(new_hosts_decode(&nh, cases[i].text,
						  cases[i].len, &line, &why),
				 -1);
		assert_int_equal(line, cases[i].line);
		assert_true(why.len > 0);
		new_hosts_release(&nh);
		strbuf_release(&why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(new_hosts__round_trip),
		cmocka_unit_test(new_hosts__empty_and_blank),
		cmocka_unit_test(new_hosts__crlf_and_no_final_newline),
		cmocka_unit_test(new_hosts__bad_line_number_counts_blank_lines),
		cmocka_unit_test(new_hosts__refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
