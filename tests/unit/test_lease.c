/*
 * test_lease.c - the lease record (core/lease.h): its message written and
 * read back, messages a hostile server could hand back, and what a lease
 * means to a runner at a given second; and the runner: keys of
 * pve-gitops.yaml (defaults and limits).
 */
#include "test.h"
#include "config_text.h"

#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/lease.h"
#include "util/strbuf.h"

#define HDR                                                           \
	"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"             \
	"author pve-gitops <pve-gitops@localhost> 1764662400 +0000\n" \
	"committer pve-gitops <pve-gitops@localhost> 1764662400 +0000\n\n"

/* A commit object around the message msg, parsed. */
static int parse_msg(struct lease_info *out, const char *msg, size_t len)
{
	struct strbuf c = STRBUF_INIT;
	int rc;

	strbuf_addstr(&c, HDR);
	strbuf_add(&c, msg, len);
	rc = lease_parse(out, c.buf, c.len);
	strbuf_release(&c);
	return rc;
}

static int parse_str(struct lease_info *out, const char *msg)
{
	return parse_msg(out, msg, strlen(msg));
}

static void lease__round_trip(void **state)
{
	static const struct {
		const char *holder;
		int64_t expires;
	} cases[] = {
		{ "runner-1 4242 00ff00ff00ff00ff", 1764662400 },
		{ "h 1 0", 0 },
		{ "x", INT64_MAX },
		{ "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", 1 },
	};
	char longest[LEASE_HOLDER_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf msg = STRBUF_INIT;
		struct lease_info info;

		lease_format(&msg, cases[i].holder, cases[i].expires);
		assert_int_equal(parse_msg(&info, msg.buf, msg.len), 0);
		assert_true(info.valid);
		assert_string_equal(info.holder, cases[i].holder);
		assert_true(info.expires == cases[i].expires);
		strbuf_release(&msg);
	}
	memset(longest, 'h', LEASE_HOLDER_MAX);
	longest[LEASE_HOLDER_MAX] = '\0';
	{
		struct strbuf msg = STRBUF_INIT;
		struct lease_info info;

		lease_format(&msg, longest, 7);
		assert_int_equal(parse_msg(&info, msg.buf, msg.len), 0);
		assert_string_equal(info.holder, longest);
		strbuf_release(&msg);
	}
}

static void lease__format_exact(void **state)
{
	struct strbuf msg = STRBUF_INIT;

	(void)state;
	lease_format(&msg, "host 12 abc", 1764662400);
	assert_string_equal(msg.buf, "pve-gitops lease\n\n"
				     "holder: host 12 abc\n"
				     "expires: 1764662400\n");
	strbuf_release(&msg);
}

/* What a server may hand back, each refused as no lease message. */
static void lease__hostile(void **state)
{
	static const char *const bad[] = {
		"",
		"pve-gitops lease\n",
		"pve-gitops leasex\n\nholder: a\nexpires: 1\n",
		"not a lease\n\nholder: a\nexpires: 1\n",
		" pve-gitops lease\n\nholder: a\nexpires: 1\n",
		"pve-gitops lease\n\nexpires: 1\n",	      /* no holder */
		"pve-gitops lease\n\nholder: a\n",	      /* no expiry */
		"pve-gitops lease\n\nholder: \nexpires: 1\n", /* empty */
		"pve-gitops lease\n\nholder:a\nexpires: 1\n",
		"pve-gitops lease\n\nholder: a\nexpires: \n",
		"pve-gitops lease\n\nholder: a\nexpires: soon\n",
		"pve-gitops lease\n\nholder: a\nexpires: 12abc\n",
		"pve-gitops lease\n\nholder: a\nexpires: -5\n",
		"pve-gitops lease\n\nholder: a\nexpires: +5\n",
		"pve-gitops lease\n\nholder: a\nexpires:  5\n",
		"pve-gitops lease\n\nholder: a\nexpires: 5 \n",
		"pve-gitops lease\n\nholder: a\nexpires: 0x10\n",
		"pve-gitops lease\n\nholder: a\nexpires: 1e9\n",
		/* INT64_MAX + 1, and past UINT64_MAX */
		"pve-gitops lease\n\nholder: a\nexpires: 9223372036854775808\n",
		"pve-gitops lease\n\nholder: a\n"
		"expires: 99999999999999999999999999\n",
		/* control bytes and non-ASCII in the holder */
		"pve-gitops lease\n\nholder: a\tb\nexpires: 1\n",
		"pve-gitops lease\n\nholder: a\rb\nexpires: 1\n",
		"pve-gitops lease\n\nholder: a\r\nexpires: 1\n",
		"pve-gitops lease\n\nholder: a\x1b[31mb\nexpires: 1\n",
		"pve-gitops lease\n\nholder: a\x7f\nexpires: 1\n",
		"pve-gitops lease\n\nholder: h\xc3\xa9\nexpires: 1\n",
		"pve-gitops lease\r\n\r\nholder: a\r\nexpires: 1\r\n",
	};
	struct lease_info info;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&info, 0x55, sizeof(info));
		assert_int_equal(parse_str(&info, bad[i]), -1);
		assert_false(info.valid);
		assert_int_equal(info.holder[0], '\0');
	}
	/* a commit with no message at all, and no commit */
	assert_int_equal(lease_parse(&info, HDR, strlen(HDR) - 1), -1);
	assert_int_equal(lease_parse(&info, "", 0), -1);
	assert_false(info.valid);
}

static void lease__nul_and_length(void **state)
{
	static const char with_nul[] =
		"pve-gitops lease\n\nholder: ab\0cd\nexpires: 1\n";
	static const char nul_expiry[] =
		"pve-gitops lease\n\nholder: ab\nexpires: 1\0002\n";
	struct strbuf msg = STRBUF_INIT;
	struct lease_info info;
	char over[LEASE_HOLDER_MAX + 2];

	(void)state;
	assert_int_equal(parse_msg(&info, with_nul, sizeof(with_nul) - 1), -1);
	assert_int_equal(parse_msg(&info, nul_expiry, sizeof(nul_expiry) - 1),
			 -1);
	/* one byte past the limit */
	memset(over, 'h', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	lease_format(&msg, over, 1);
	assert_int_equal(parse_msg(&info, msg.buf, msg.len), -1);
	strbuf_reset(&msg);
	/* an overlong message: the fields are read, the rest is ignored */
	lease_format(&msg, "h", 9);
	while (msg.len < 1 << 20)
		strbuf_addstr(&msg, "padding padding padding padding\n");
	assert_int_equal(parse_msg(&info, msg.buf, msg.len), 0);
	assert_string_equal(info.holder, "h");
	assert_true(info.expires == 9);
	/* a message cut short in its last field */
	strbuf_reset(&msg);
	lease_format(&msg, "h", 123);
	assert_int_equal(parse_msg(&info, msg.buf, msg.len - 1), 0);
	assert_true(info.expires == 123); /* "123" without its newline */
	assert_int_equal(parse_msg(&info, msg.buf, msg.len - 5), -1);
	strbuf_release(&msg);
}

/* The first of two fields wins; other lines and a missing newline pass. */
static void lease__field_order(void **state)
{
	struct lease_info info;

	(void)state;
	assert_int_equal(parse_str(&info, "pve-gitops lease\n\n"
					  "expires: 5\nholder: b a\n"),
			 0);
	assert_string_equal(info.holder, "b a");
	assert_true(info.expires == 5);
	assert_int_equal(parse_str(&info, "pve-gitops lease\n\nholder: a\n"
					  "holder: b\nexpires: 1\nexpires: 2"),
			 0);
	assert_string_equal(info.holder, "a");
	assert_true(info.expires == 1);
	assert_int_equal(parse_str(&info, "pve-gitops lease\n\nnote: x\n"
					  "holder: a\n\nexpires: 3\n"),
			 0);
	assert_true(info.expires == 3);
}

static struct lease_info info_of(const char *holder, int64_t expires)
{
	struct lease_info i = { .valid = true, .expires = expires };

	snprintf(i.holder, sizeof(i.holder), "%s", holder);
	return i;
}

static void lease__decide(void **state)
{
	struct lease_info other = info_of("b 2 ff", 1000);
	struct lease_info mine = info_of("a 1 ff", 1000);
	struct lease_info unread = { 0 };

	(void)state;
	assert_int_equal(lease_decide(NULL, "a 1 ff", 0), LEASE_FREE);
	/* another's: held until the second it names, expired from then on */
	assert_int_equal(lease_decide(&other, "a 1 ff", 0), LEASE_HELD);
	assert_int_equal(lease_decide(&other, "a 1 ff", 999), LEASE_HELD);
	assert_int_equal(lease_decide(&other, "a 1 ff", 1000), LEASE_EXPIRED);
	assert_int_equal(lease_decide(&other, "a 1 ff", 1001), LEASE_EXPIRED);
	assert_int_equal(lease_decide(&other, "a 1 ff", INT64_MAX),
			 LEASE_EXPIRED);
	/* a clock behind the epoch, or far behind the lease */
	assert_int_equal(lease_decide(&other, "a 1 ff", -1), LEASE_HELD);
	assert_int_equal(lease_decide(&other, "a 1 ff", INT64_MIN), LEASE_HELD);
	/* ours whatever the clock says */
	assert_int_equal(lease_decide(&mine, "a 1 ff", 0), LEASE_OURS);
	assert_int_equal(lease_decide(&mine, "a 1 ff", 5000), LEASE_OURS);
	/* the whole holder counts: same host and pid, another random part */
	assert_int_equal(lease_decide(&mine, "a 1 fe", 0), LEASE_HELD);
	assert_int_equal(lease_decide(&mine, "a 1 f", 0), LEASE_HELD);
	assert_int_equal(lease_decide(&mine, "a 1 ff ", 0), LEASE_HELD);
	/* an unreadable lease may be taken over at once, even by its name */
	assert_int_equal(lease_decide(&unread, "a 1 ff", 0), LEASE_EXPIRED);
	unread = info_of("a 1 ff", INT64_MAX);
	unread.valid = false;
	assert_int_equal(lease_decide(&unread, "a 1 ff", 0), LEASE_EXPIRED);
	/* expiry 0: expired at any time from the epoch */
	other.expires = 0;
	assert_int_equal(lease_decide(&other, "a 1 ff", 0), LEASE_EXPIRED);
}

/* Parsed, then decided: a hostile lease is never "held". */
static void lease__hostile_decides_expired(void **state)
{
	struct lease_info info;

	(void)state;
	parse_str(&info, "pve-gitops lease\n\nholder: a\x1b\nexpires: "
			 "9223372036854775807\n");
	assert_int_equal(lease_decide(&info, "me", 0), LEASE_EXPIRED);
	assert_int_equal(parse_str(&info, "pve-gitops lease\n\nholder: a\n"
					  "expires: 9223372036854775807\n"),
			 0);
	assert_int_equal(lease_decide(&info, "me", INT64_MAX - 1), LEASE_HELD);
}

static void lease__implausible(void **state)
{
	struct lease_info l = info_of("x 1 ff", 1000 + LEASE_TTL_MAX);

	(void)state;
	/* a runner's lease, from any clock near it */
	assert_false(lease_implausible(&l, 1000));
	assert_false(lease_implausible(&l, 1000 - LEASE_SKEW_MAX));
	assert_true(lease_implausible(&l, 999 - LEASE_SKEW_MAX));
	/* pushed by hand: held, and said to be no runner's */
	l.expires = INT64_MAX;
	assert_true(lease_implausible(&l, 1764662400));
	assert_int_equal(lease_decide(&l, "me", 1764662400), LEASE_HELD);
	assert_true(lease_implausible(&l, INT64_MIN));
	/* expired or unreadable: not a question */
	assert_false(lease_implausible(&l, INT64_MAX));
	l.valid = false;
	assert_false(lease_implausible(&l, 0));
}

static void lease__time(void **state)
{
	char buf[40];

	(void)state;
	lease_time(buf, sizeof(buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	lease_time(buf, sizeof(buf), 1764662400);
	assert_string_equal(buf, "2025-12-02T08:00:00Z");
	lease_time(buf, sizeof(buf), 1764662399);
	assert_string_equal(buf, "2025-12-02T07:59:59Z");
	lease_time(buf, sizeof(buf), 253402300799); /* the last of 9999 */
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	/* past what gmtime can hold: the number itself */
	lease_time(buf, sizeof(buf), INT64_MAX);
	assert_string_equal(buf, "9223372036854775807");
	/* a buffer too small for the date: the number, cut */
	lease_time(buf, 8, 1764662400);
	assert_string_equal(buf, "1764662");
}

/* The runner: keys as README and the man page give them. */
static void lease__config_keys(void **state)
{
	static const struct {
		const char *text;
		int ok;
		unsigned ttl, wait;
	} cases[] = {
		{ "", 1, 120, 900 },
		{ "runner: {}\n", 1, 120, 900 },
		{ "runner:\n  lease_ttl_seconds: 2\n  lease_wait_seconds: 0\n",
		  1, 2, 0 },
		{ "runner:\n  lease_ttl_seconds: 86400\n"
		  "  lease_wait_seconds: 86400\n",
		  1, 86400, 86400 },
		{ "runner:\n  lease_ttl_seconds: 1\n", 0, 0, 0 },
		{ "runner:\n  lease_ttl_seconds: 0\n", 0, 0, 0 },
		{ "runner:\n  lease_ttl_seconds: 86401\n", 0, 0, 0 },
		{ "runner:\n  lease_wait_seconds: 86401\n", 0, 0, 0 },
		{ "runner:\n  lease_wait_seconds: -1\n", 0, 0, 0 },
		{ "runner:\n  lease_ttl_seconds: soon\n", 0, 0, 0 },
		{ "runner:\n  lease_seconds: 5\n", 0, 0, 0 },
		{ "runner: 5\n", 0, 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct config cfg;
		int rc = config_from_text(&cfg, &dl, cases[i].text);

		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(dl.errors, 0);
			assert_int_equal(cfg.runner.lease_ttl_seconds,
					 cases[i].ttl);
			assert_int_equal(cfg.runner.lease_wait_seconds,
					 cases[i].wait);
		} else {
			assert_true(rc < 0 || dl.errors > 0);
		}
		config_release(&cfg);
		diag_list_release(&dl);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lease__round_trip),
		cmocka_unit_test(lease__format_exact),
		cmocka_unit_test(lease__hostile),
		cmocka_unit_test(lease__nul_and_length),
		cmocka_unit_test(lease__field_order),
		cmocka_unit_test(lease__decide),
		cmocka_unit_test(lease__hostile_decides_expired),
		cmocka_unit_test(lease__implausible),
		cmocka_unit_test(lease__time),
		cmocka_unit_test(lease__config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
