/*
 * test_env.c - the environment read once (core/env), the environment delta
 * a child gets (util/spawn env_delta_apply), errors with a kind
 * (util/err) and backoff (util/backoff).
 */
#include "test.h"

#include <string.h>

#include "core/env.h"
#include "util/backoff.h"
#include "util/err.h"
#include "util/spawn.h"

static void env__parse(void **state)
{
	const char *envp[] = { "PM_API_URL=https://pve:8006",
			       "PM_API_TOKEN_SECRET=s3cret",
			       "PM_USER=",
			       "PM_TLS_INSECURE=true",
			       "VAULT_SKIP_VERIFY=0",
			       "NO_COLOR=1",
			       "NOEQUALS",
			       "OTHER=a=b",
			       NULL };
	struct env env;

	(void)state;
	env_init(&env);
	env_parse(&env, envp);
	assert_string_equal(env.pm_api_url, "https://pve:8006");
	assert_string_equal(env.pm_api_token_secret, "s3cret");
	assert_null(env.pm_user); /* empty counts as unset */
	assert_null(env.vault_addr);
	assert_true(env.pm_tls_insecure);
	assert_false(env.vault_skip_verify);
	assert_true(env.no_color);
	assert_string_equal(env_get(&env, "OTHER"), "a=b");
	assert_null(env_get(&env, "NOEQUALS"));
	assert_null(env_get(&env, "OTHE"));
	env_parse(&env, envp); /* again: no leak, same result */
	assert_string_equal(env.pm_api_url, "https://pve:8006");
	env_release(&env);
	assert_null(env.pm_api_url);
	env_release(&env);
}

/* A cluster's secret: PREFIX_NAME, NAME upper-cased with '-' as '_'. */
static void env__cluster_secret(void **state)
{
	const char *envp[] = { "PM_API_TOKEN_SECRET_EAST=e",
			       "PM_API_TOKEN_SECRET_WEST_2=w",
			       "PM_PASS_DEFAULT=d", "PM_API_TOKEN_SECRET=plain",
			       NULL };
	struct env env;

	(void)state;
	env_init(&env);
	env_parse(&env, envp);
	assert_string_equal(
		env_cluster_secret(&env, "PM_API_TOKEN_SECRET", "east"), "e");
	assert_string_equal(
		env_cluster_secret(&env, "PM_API_TOKEN_SECRET", "west-2"), "w");
	assert_null(env_cluster_secret(&env, "PM_PASS", "east"));
	/* default: the plain variable first, then _DEFAULT */
	assert_string_equal(
		env_cluster_secret(&env, "PM_API_TOKEN_SECRET", "default"),
		"plain");
	assert_string_equal(env_cluster_secret(&env, "PM_PASS", "default"),
			    "d");
	env_release(&env);
}

static int has(const struct strvec *sv, const char *s)
{
	size_t i, n = 0;

	for (i = 0; i < sv->nr; i++)
		n += !strcmp(sv->v[i], s);
	return (int)n;
}

static void env__delta(void **state)
{
	const char *base[] = { "PATH=/bin",  "PM_API_TOKEN_SECRET=x",
			       "PM_USER=u",  "PMX=keep",
			       "HOME=/root", "ANSIBLE_X=1",
			       NULL };
	struct env_delta d = ENV_DELTA_INIT;
	struct strvec out;

	(void)state;
	env_delta_unset(&d, "PM_*");
	env_delta_unset(&d, "HOME");
	env_delta_set(&d, "ANSIBLE_X", "2");
	env_delta_set(&d, "ANSIBLE_X", "3"); /* the last one wins */
	env_delta_set(&d, "PM_USER", "set-wins");
	env_delta_apply(&out, base, &d);
	assert_int_equal(has(&out, "PATH=/bin"), 1);
	assert_int_equal(has(&out, "PMX=keep"), 1);
	assert_int_equal(has(&out, "PM_API_TOKEN_SECRET=x"), 0);
	assert_int_equal(has(&out, "HOME=/root"), 0);
	assert_int_equal(has(&out, "ANSIBLE_X=1"), 0);
	assert_int_equal(has(&out, "ANSIBLE_X=2"), 0);
	assert_int_equal(has(&out, "ANSIBLE_X=3"), 1);
	assert_int_equal(has(&out, "PM_USER=set-wins"), 1);
	assert_int_equal(out.nr, 4);
	assert_null(out.v[out.nr]);
	strvec_clear(&out);
	env_delta_apply(&out, base, NULL); /* no delta: a copy */
	assert_int_equal(out.nr, 6);
	strvec_clear(&out);
	env_delta_release(&d);
}

static void err__kinds(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	err_setk(&e, ERR_LOCKED, EXIT_FAIL, "VM %d is locked", 101);
	err_prefix(&e, "PUT /nodes/n/qemu/101/config");
	assert_true(err_is(&e, ERR_LOCKED));
	assert_string_equal(e.msg.buf,
			    "PUT /nodes/n/qemu/101/config: VM 101 is locked");
	err_set(&e, EXIT_INVALID, "plain");
	assert_true(err_is(&e, ERR_GENERIC));
	err_errno(&e, 2, "cannot open '%s'", "x");
	assert_true(err_is(&e, ERR_NOTFOUND));
	err_clear(&e);
	assert_int_equal(e.exit_code, EXIT_OK);
	assert_int_equal(e.msg.len, 0);
	err_release(&e);
}

static void backoff__bounds(void **state)
{
	struct backoff b;
	unsigned attempt;
	int i;

	(void)state;
	backoff_init(&b, 100, 3000, 42);
	for (attempt = 0; attempt < 12; attempt++) {
		long step = 100L << (attempt < 6 ? attempt : 6);

		if (step > 3000)
			step = 3000;
		for (i = 0; i < 200; i++) {
			long d = backoff_delay(&b, attempt);

			assert_true(d >= step / 2);
			assert_true(d <= step);
		}
	}
	backoff_init(&b, 0, 0, 0); /* degenerate values are made sane */
	assert_true(backoff_delay(&b, 5) >= 0);
	assert_true(mono_ms() > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(env__parse),
		cmocka_unit_test(env__cluster_secret),
		cmocka_unit_test(env__delta),
		cmocka_unit_test(err__kinds),
		cmocka_unit_test(backoff__bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
