/*
 * test_kubeinert.c - which kubeconfig fields carry code, name local files
 * or turn TLS off: a table of kubeconfigs, each with the exact problems.
 */
#include "test.h"

#include <string.h>

#include "core/kubeinert.h"
#include "util/strbuf.h"

static const struct {
	const char *json;
	const char *problems; /* joined by '|'; "" for none */
} cases[] = {
	{ "{}", "" },
	{ "{\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":"
	  "\"https://10.0.0.1:6443\",\"certificate-authority-data\":\"QQ==\"}}],"
	  "\"users\":[{\"name\":\"u\",\"user\":{\"client-certificate-data\":"
	  "\"QQ==\",\"client-key-data\":\"QQ==\",\"token\":\"t\"}}]}",
	  "" },
	{ "{\"users\":[{\"name\":\"u\",\"user\":{\"exec\":{\"command\":"
	  "\"/bin/sh\",\"args\":[\"-c\",\"id\"]}}}]}",
	  "users[0].user.exec: runs a command on every machine that uses the "
	  "kubeconfig" },
	{ "{\"users\":[{\"name\":\"a\",\"user\":{}},{\"name\":\"b\",\"user\":"
	  "{\"auth-provider\":{\"name\":\"gcp\",\"config\":{\"cmd-path\":"
	  "\"/bin/sh\"}},\"tokenFile\":\"/etc/shadow\"}}]}",
	  "users[1].user.auth-provider: runs a credential plugin (its "
	  "cmd-path) on every machine that uses the kubeconfig|users[1].user."
	  "tokenFile: names a local file; only inline data may be merged" },
	{ "{\"users\":[{\"name\":\"u\",\"user\":{\"client-key\":"
	  "\"~/.ssh/id_rsa\",\"client-certificate\":\"/c\"}}]}",
	  "users[0].user.client-certificate: names a local file; use "
	  "client-certificate-data|users[0].user.client-key: names a local "
	  "file; use client-key-data" },
	{ "{\"clusters\":[{\"name\":\"k\",\"cluster\":{"
	  "\"certificate-authority\":\"/etc/shadow\","
	  "\"insecure-skip-tls-verify\":true}}]}",
	  "clusters[0].cluster.certificate-authority: names a local file; use "
	  "certificate-authority-data|clusters[0].cluster."
	  "insecure-skip-tls-verify: turns TLS verification off for every user "
	  "of the kubeconfig" },
	{ "{\"clusters\":[{\"name\":\"k\",\"cluster\":{"
	  "\"insecure-skip-tls-verify\":false}}]}",
	  "" },
	{ "{\"clusters\":[{\"name\":\"k\",\"cluster\":{"
	  "\"insecure-skip-tls-verify\":\"yes\",\"proxy-url\":\"http://x\"}}]}",
	  "clusters[0].cluster.insecure-skip-tls-verify: turns TLS verification "
	  "off for every user of the kubeconfig|clusters[0].cluster.proxy-url: "
	  "sends every request through a proxy the VM chose" },
	/* wrong shapes are kubeconfig_check's business, not a crash here */
	{ "{\"clusters\":7,\"users\":[3,{\"user\":[]}]}", "" },
};

static void kubeinert__table(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *kc = json_loads(cases[i].json, 0, NULL);
		struct strvec got = STRVEC_INIT;
		struct strbuf joined = STRBUF_INIT;
		size_t n;

		assert_non_null(kc);
		n = kubeconfig_find_active(kc, &got);
		assert_int_equal(n, got.nr);
		for (j = 0; j < got.nr; j++)
			strbuf_addf(&joined, "%s%s", j ? "|" : "", got.v[j]);
		if (strcmp(joined.buf, cases[i].problems))
			fail_msg("case %zu: got '%s'", i, joined.buf);
		strbuf_release(&joined);
		strvec_clear(&got);
		json_decref(kc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubeinert__table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
