/*
 * test_kubeconfig.c - parsing and checking kubeconfigs, and the merge of
 * K3s kubeconfigs into a shared one: into nothing, a second cluster, a
 * re-publish under a new cluster name, loopback servers, orphans, and the
 * refusals that leave the shared config unchanged.
 */
#include "test.h"

#include <stdio.h>
#include <string.h>

#include "core/kubeconfig.h"
#include "core/yemit.h"

/* A K3s admin kubeconfig for server host, names all "default". */
static json_t *k3s(const char *server)
{
	char buf[1024];
	struct diag_list dl = DIAG_LIST_INIT;
	json_t *kc;

	snprintf(buf, sizeof(buf),
		 "apiVersion: v1\n"
		 "clusters:\n"
		 "- cluster:\n"
		 "    certificate-authority-data: QUJD\n"
		 "    server: %s\n"
		 "  name: default\n"
		 "contexts:\n"
		 "- context:\n"
		 "    cluster: default\n"
		 "    user: default\n"
		 "  name: default\n"
		 "current-context: default\n"
		 "kind: Config\n"
		 "preferences: {}\n"
		 "users:\n"
		 "- name: default\n"
		 "  user:\n"
		 "    client-certificate-data: REVG\n"
		 "    client-key-data: R0hJ\n",
		 server);
	assert_int_equal(
		kubeconfig_parse(&kc, &dl, "k3s.yaml", buf, strlen(buf)), 0);
	diag_list_release(&dl);
	return kc;
}

static int merge(json_t *into, json_t *from, const char *ctx,
		 const char *cluster, const char *host, const char *gen,
		 struct kubeconfig_merge_report *rep, struct strbuf *why)
{
	struct kubeconfig_merge_opts o = { ctx, cluster, host, gen };

	kubeconfig_merge_report_init(rep);
	return kubeconfig_merge(into, from, &o, rep, why);
}

/* "a,b,c": the names in list (valid until the next call). */
static const char *names(const json_t *kc, const char *list)
{
	static struct strbuf buf = STRBUF_INIT;
	const json_t *it;
	size_t i;

	strbuf_reset(&buf);
	json_array_foreach(json_object_get(kc, list), i, it)
		strbuf_addf(&buf, "%s%s", i ? "," : "",
			    json_string_value(json_object_get(it, "name")));
	return buf.buf;
}

static const char *server_of(const json_t *kc, const char *cluster)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(kc, "clusters"), i, it) if (
		!strcmp(json_string_value(json_object_get(it, "name")),
			cluster)) return json_string_value(json_object_get(json_object_get(it,
											   "cluster"),
									   "server"));
	return NULL;
}

static const char *ctx_ref(const json_t *kc, const char *ctx, const char *field)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(kc, "contexts"), i, it) if (
		!strcmp(json_string_value(json_object_get(it, "name")),
			ctx)) return json_string_value(json_object_get(json_object_get(it,
										       "context"),
								       field));
	return NULL;
}

static void kubeconfig__into_nothing_then_a_second(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	json_t *b = k3s("https://localhost:6443");
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	assert_int_equal(merge(into, a, "k8s-obs", NULL, "10.0.0.20",
			       "cozy-haven", &rep, &why),
			 0);
	assert_string_equal(rep.cluster_name, "cozy-haven");
	assert_false(rep.replaced_context);
	kubeconfig_merge_report_release(&rep);
	assert_int_equal(merge(into, b, "k8s-dev", NULL, "10.0.0.21",
			       "bold-river", &rep, &why),
			 0);
	kubeconfig_merge_report_release(&rep);
	assert_string_equal(names(into, "clusters"), "cozy-haven,bold-river");
	assert_string_equal(names(into, "users"), "cozy-haven,bold-river");
	assert_string_equal(names(into, "contexts"), "k8s-obs,k8s-dev");
	assert_string_equal(server_of(into, "cozy-haven"),
			    "https://10.0.0.20:6443");
	assert_string_equal(server_of(into, "bold-river"),
			    "https://10.0.0.21:6443");
	assert_string_equal(ctx_ref(into, "k8s-dev", "user"), "bold-river");
	assert_string_equal(
		json_string_value(json_object_get(into, "current-context")),
		"k8s-obs");
	assert_int_equal(kubeconfig_check(into, &why), 0);
	yemit(&out, into);
	assert_non_null(strstr(out.buf, "- cluster:\n"
					"    certificate-authority-data: QUJD\n"
					"    server: https://10.0.0.20:6443\n"
					"  name: cozy-haven\n"));
	json_decref(into);
	json_decref(a);
	json_decref(b);
	strbuf_release(&why);
	strbuf_release(&out);
}

static void kubeconfig__republish_under_a_new_name(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(merge(into, a, "k8s-obs", NULL, "10.0.0.20", "old-one",
			       &rep, &why),
			 0);
	kubeconfig_merge_report_release(&rep);
	assert_int_equal(merge(into, a, "k8s-other", "shared-ok", "10.0.0.30",
			       NULL, &rep, &why),
			 0);
	kubeconfig_merge_report_release(&rep);
	/* the same inventory name again, no name given: the old name stays */
	assert_int_equal(merge(into, a, "k8s-obs", NULL, "10.0.0.22",
			       "unused-name", &rep, &why),
			 0);
	assert_string_equal(rep.cluster_name, "old-one");
	assert_true(rep.replaced_context);
	assert_int_equal(rep.removed_clusters.nr, 0);
	kubeconfig_merge_report_release(&rep);
	assert_string_equal(server_of(into, "old-one"),
			    "https://10.0.0.22:6443");
	/* a new cluster name: the old cluster and user go, nothing else */
	assert_int_equal(merge(into, a, "k8s-obs", "new-one", "10.0.0.23", NULL,
			       &rep, &why),
			 0);
	assert_string_equal(rep.removed_clusters.v[0], "old-one");
	assert_string_equal(rep.removed_users.v[0], "old-one");
	kubeconfig_merge_report_release(&rep);
	assert_string_equal(names(into, "clusters"), "shared-ok,new-one");
	assert_string_equal(names(into, "users"), "shared-ok,new-one");
	assert_string_equal(names(into, "contexts"), "k8s-obs,k8s-other");
	assert_string_equal(ctx_ref(into, "k8s-obs", "cluster"), "new-one");
	json_decref(into);
	json_decref(a);
	strbuf_release(&why);
}

static void kubeconfig__old_cluster_kept_while_used(void **state)
{
	static const char text[] =
		"clusters:\n- {name: c1, cluster: {server: https://a:1}}\n"
		"users:\n- {name: u1, user: {token: t}}\n"
		"contexts:\n- {name: x, context: {cluster: c1, user: u1}}\n"
		"- {name: y, context: {cluster: c1, user: u1, namespace: ns}}\n"
		"current-context: y\n";
	struct diag_list dl = DIAG_LIST_INIT;
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT;
	json_t *into, *a = k3s("https://[::1]:6443");

	(void)state;
	assert_int_equal(
		kubeconfig_parse(&into, &dl, "v.yaml", text, strlen(text)), 0);
	assert_int_equal(
		merge(into, a, "x", "fresh", "fd00::5", NULL, &rep, &why), 0);
	assert_int_equal(rep.removed_clusters.nr, 0); /* y still uses c1 */
	kubeconfig_merge_report_release(&rep);
	assert_string_equal(names(into, "clusters"), "c1,fresh");
	assert_string_equal(server_of(into, "fresh"), "https://[fd00::5]:6443");
	assert_string_equal(ctx_ref(into, "y", "namespace"), "ns");
	assert_string_equal(
		json_string_value(json_object_get(into, "current-context")),
		"y");
	json_decref(into);
	json_decref(a);
	diag_list_release(&dl);
	strbuf_release(&why);
}

static void kubeconfig__refusals_change_nothing(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	json_t *before;
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(
		merge(into, a, "k8s-a", "taken", "10.0.0.1", NULL, &rep, &why),
		0);
	kubeconfig_merge_report_release(&rep);
	before = json_deep_copy(into);
	assert_int_equal(merge(into, a, "k8s-b", NULL, NULL, "g", &rep, &why),
			 -1);
	assert_string_equal(why.buf,
			    "the cluster's server https://127.0.0.1:6443 is a "
			    "loopback address: give the host's address to put "
			    "in its place");
	kubeconfig_merge_report_release(&rep);
	strbuf_reset(&why);
	assert_int_equal(
		merge(into, a, "k8s-b", "taken", "10.0.0.2", NULL, &rep, &why),
		-1);
	assert_string_equal(
		why.buf, "cluster name 'taken' is in use by another context");
	kubeconfig_merge_report_release(&rep);
	strbuf_reset(&why);
	assert_int_equal(
		merge(into, a, "k8s-b", NULL, "10.0.0.2", "taken", &rep, &why),
		-1);
	kubeconfig_merge_report_release(&rep);
	assert_true(json_equal(into, before));
	json_decref(before);
	json_decref(into);
	json_decref(a);
	strbuf_release(&why);
}

struct bad {
	const char *text, *msg;
};

static void kubeconfig__bad_files(void **state)
{
	static const struct bad rows[] = {
		{ "kind: Pod\n", "kind: a kubeconfig is kind Config" },
		{ "apiVersion: v2\n", "apiVersion: a kubeconfig is v1" },
		{ "clusters: {}\n", "clusters: expected a list" },
		{ "clusters:\n- cluster: {}\n", "clusters[0]: expected "
						"{name, cluster}" },
		{ "users:\n- {name: a, user: []}\n", "users[0].user: expected "
						     "a mapping" },
		{ "contexts:\n- {name: a}\n- {name: a}\n",
		  "contexts[1]: a second context named 'a'" },
		{ "clusters:\n- {name: a, cluster: "
		  "{certificate-authority-data: 'QUJ'}}\n",
		  "clusters[0].certificate-authority-data: not base64" },
		{ "current-context: [x]\n",
		  "current-context: expected a string" },
		{ "- a\n", "a kubeconfig is a mapping, not a list" },
		{ "a: [\n", NULL },
		{ "a: 1\na: 2\n", "duplicate key 'a'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		json_t *kc = NULL;

		if (kubeconfig_parse(&kc, &dl, "f", rows[i].text,
				     strlen(rows[i].text)) != -1 ||
		    kc || !dl.nr ||
		    (rows[i].msg && !strstr(dl.items[0].msg, rows[i].msg)))
			fail_msg("row %zu: %s", i,
				 dl.nr ? dl.items[0].msg : "accepted");
		diag_list_release(&dl);
	}
}

static void kubeconfig__select_and_loopback(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	json_t *one;
	struct kubeconfig_merge_report rep;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	merge(into, a, "k8s-a", "ca", "10.0.0.1", NULL, &rep, &why);
	kubeconfig_merge_report_release(&rep);
	merge(into, a, "k8s-b", "cb", "10.0.0.2", NULL, &rep, &why);
	kubeconfig_merge_report_release(&rep);
	one = kubeconfig_select(into, "k8s-b");
	assert_string_equal(names(one, "clusters"), "cb");
	assert_string_equal(names(one, "users"), "cb");
	assert_string_equal(names(one, "contexts"), "k8s-b");
	assert_string_equal(
		json_string_value(json_object_get(one, "current-context")),
		"k8s-b");
	assert_null(kubeconfig_select(into, "nope"));
	assert_true(kubeconfig_is_loopback("127.1.2.3", 9));
	assert_true(kubeconfig_is_loopback("LOCALHOST", 9));
	assert_true(kubeconfig_is_loopback("[::1]", 5));
	assert_false(kubeconfig_is_loopback("127.example", 11));
	assert_false(kubeconfig_is_loopback("10.0.0.1", 8));
	json_decref(one);
	json_decref(into);
	json_decref(a);
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubeconfig__into_nothing_then_a_second),
		cmocka_unit_test(kubeconfig__republish_under_a_new_name),
		cmocka_unit_test(kubeconfig__old_cluster_kept_while_used),
		cmocka_unit_test(kubeconfig__refusals_change_nothing),
		cmocka_unit_test(kubeconfig__bad_files),
		cmocka_unit_test(kubeconfig__select_and_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
