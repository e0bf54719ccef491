/*
 * test_url.c - url_redact: the userinfo of a URL never reaches a message,
 * everything else of the URL does, unchanged.
 */
#include <string.h>

#include "test.h"
#include "util/url.h"

static void url__redact_table(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "https://user:pass@host:8006/", "https://***@host:8006/" },
		{ "https://user:pass@host:8006", "https://***@host:8006" },
		{ "http://root@pam:s3cret@pve:8006/api2/json",
		  "http://***@pve:8006/api2/json" }, /* the last '@' counts */
		{ "https://tok@vault:8200?x=a@b",
		  "https://***@vault:8200?x=a@b" },
		{ "https://vault:8200/v1/kv/a@b",
		  "https://vault:8200/v1/kv/a@b" },
		{ "https://vault:8200#frag@x", "https://vault:8200#frag@x" },
		{ "https://@host/", "https://***@host/" },
		{ "https://host:8006/", "https://host:8006/" },
		{ "HTTPS://u:p@h", "HTTPS://***@h" },
		{ "host:8006", "host:8006" },
		{ "not a url user:pass@host", "not a url user:pass@host" },
		{ "/path://u:p@h", "/path://u:p@h" }, /* no scheme before :// */
		{ "", "" },
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&sb);
		url_redact(&sb, cases[i].in);
		assert_string_equal(sb.buf, cases[i].out);
	}
	strbuf_release(&sb);
}

static void url__redacted_resets_and_takes_null(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, "old");
	assert_string_equal(url_redacted(&sb, "https://a:b@c/"),
			    "https://***@c/");
	assert_string_equal(url_redacted(&sb, NULL), "");
	strbuf_release(&sb);
}

static void url__password_never_survives(void **state)
{
	static const char *const urls[] = {
		"https://admin:hunter2@pve.example:8006/",
		"https://hunter2@pve.example:8006",
		"http://x:hunter2@127.0.0.1:1/api2/json/cluster/resources",
	};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(urls); i++) {
		url_redact(&sb, urls[i]);
		assert_null(strstr(sb.buf, "hunter2"));
	}
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url__redact_table),
		cmocka_unit_test(url__redacted_resets_and_takes_null),
		cmocka_unit_test(url__password_never_survives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
