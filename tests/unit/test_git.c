/*
 * test_git.c - what io/git.c decides from git's output without running
 * git: the refusal in push --porcelain's status lines, and git's stderr
 * made fit for a message (no hint lines, the remote's token redacted).
 */
#include "test.h"

#include <string.h>

#include "io/git.h"

static void git__porcelain_refusal(void **state)
{
	static const struct {
		const char *out;
		int want;
		const char *why;
	} cases[] = {
		{ "To /r.git\n!\tHEAD:refs/heads/main\t[rejected] (fetch "
		  "first)\nDone\n",
		  1, "[rejected] (fetch first)" },
		{ "To /r.git\n!\tHEAD:refs/heads/main\t[rejected] "
		  "(non-fast-forward)\nDone\n",
		  1, "[rejected] (non-fast-forward)" },
		{ "To /r.git\n!\tHEAD:refs/heads/main\t[remote rejected] "
		  "(pre-receive hook declined)\nDone\n",
		  2, "[remote rejected] (pre-receive hook declined)" },
		{ "To /r.git\n!\tHEAD:refs/heads/main\t[remote rejected] "
		  "(failed to update ref)\nDone\n",
		  2, "[remote rejected] (failed to update ref)" },
		/* a ref named like the summary is not the summary */
		{ "To /r.git\n \t[rejected]:refs/heads/main\t1234..5678\n"
		  "Done\n",
		  0, "" },
		{ "To /r.git\n=\tHEAD:refs/heads/main\t[up to date]\nDone\n", 0,
		  "" },
		{ "", 0, "" },
		{ "!\tno summary", 2, "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf why = STRBUF_INIT;

		assert_int_equal(git_porcelain_refusal(cases[i].out, &why),
				 cases[i].want);
		assert_string_equal(why.buf, cases[i].why);
		assert_int_equal(git_porcelain_refusal(cases[i].out, NULL),
				 cases[i].want);
		strbuf_release(&why);
	}
}

static void git__stderr_drops_hints_and_redacts(void **state)
{
	const char *remote = "https://ci:t0k3n@git.example.test/infra.git";
	struct strbuf e = STRBUF_INIT;

	(void)state;
	strbuf_addf(&e,
		    "error: failed to push some refs to '%s'\n"
		    "hint: Updates were rejected because the remote contains "
		    "work\nhint: that you do not have locally.\n"
		    "remote: to %s and %s        \n\n",
		    remote, remote, remote);
	git_stderr_for_message(&e, remote);
	assert_string_equal(e.buf,
			    "error: failed to push some refs to "
			    "'https://***@git.example.test/infra.git'; "
			    "remote: to https://***@git.example.test/infra.git "
			    "and https://***@git.example.test/infra.git");
	assert_null(strstr(e.buf, "t0k3n"));
	strbuf_release(&e);
}

static void git__stderr_plain_remote_kept(void **state)
{
	struct strbuf e = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&e, "fatal: 'origin' does not appear to be a git "
			  "repository\nhint: check the name\n\n");
	git_stderr_for_message(&e, "origin");
	assert_string_equal(e.buf, "fatal: 'origin' does not appear to be a "
				   "git repository");
	strbuf_reset(&e);
	strbuf_addstr(&e, "hint: only advice\n");
	git_stderr_for_message(&e, "");
	assert_string_equal(e.buf, "");
	strbuf_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(git__porcelain_refusal),
		cmocka_unit_test(git__stderr_drops_hints_and_redacts),
		cmocka_unit_test(git__stderr_plain_remote_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
