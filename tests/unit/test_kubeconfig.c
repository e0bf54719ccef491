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
		 struct kubeconfig_merge_report *rep,
		 struct kubeconfig_problem *why)
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
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
	struct strbuf out = STRBUF_INIT;

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
	kubeconfig_problem_release(&why);
	strbuf_release(&out);
}

static void kubeconfig__republish_under_a_new_name(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;

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
	kubeconfig_problem_release(&why);
}

static void kubeconfig__old_cluster_kept_while_used(void **state)
{
	static const char text[] =
		"apiVersion: v1\nkind: Config\n"
		"clusters:\n- {name: c1, cluster: {server: https://a:1}}\n"
		"users:\n- {name: u1, user: {token: t}}\n"
		"contexts:\n- {name: x, context: {cluster: c1, user: u1}}\n"
		"- {name: y, context: {cluster: c1, user: u1, namespace: ns}}\n"
		"current-context: y\n";
	struct diag_list dl = DIAG_LIST_INIT;
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
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
	kubeconfig_problem_release(&why);
}

static void kubeconfig__refusals_change_nothing(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	json_t *before;
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;

	(void)state;
	assert_int_equal(
		merge(into, a, "k8s-a", "taken", "10.0.0.1", NULL, &rep, &why),
		0);
	kubeconfig_merge_report_release(&rep);
	before = json_deep_copy(into);
	assert_int_equal(merge(into, a, "k8s-b", NULL, NULL, "g", &rep, &why),
			 -1);
	assert_string_equal(why.msg.buf,
			    "the cluster's server https://127.0.0.1:6443 is a "
			    "loopback address: give the host's address to put "
			    "in its place");
	kubeconfig_merge_report_release(&rep);
	kubeconfig_problem_release(&why);
	assert_int_equal(
		merge(into, a, "k8s-b", "taken", "10.0.0.2", NULL, &rep, &why),
		-1);
	assert_string_equal(
		why.msg.buf,
		"cluster name 'taken' is in use by another context");
	kubeconfig_merge_report_release(&rep);
	kubeconfig_problem_release(&why);
	assert_int_equal(
		merge(into, a, "k8s-b", NULL, "10.0.0.2", "taken", &rep, &why),
		-1);
	kubeconfig_merge_report_release(&rep);
	assert_true(json_equal(into, before));
	json_decref(before);
	json_decref(into);
	json_decref(a);
	kubeconfig_problem_release(&why);
}

#define HDR "apiVersion: v1\nkind: Config\n"

struct bad {
	const char *text, *msg;
	int line; /* of the diagnostic; 0: any */
};

static void kubeconfig__bad_files(void **state)
{
	static const struct bad rows[] = {
		{ "kind: Pod\n", "kind: a kubeconfig is kind Config", 1 },
		{ "kind: Config\napiVersion: v2\n",
		  "apiVersion: a kubeconfig is v1", 2 },
		{ HDR "clusters: {}\n", "clusters: expected a list", 3 },
		{ HDR "clusters:\n- cluster: {}\n",
		  "clusters[0]: expected {name, cluster}", 4 },
		{ HDR "users:\n- {name: a, user: []}\n",
		  "users[0].user: expected a mapping", 4 },
		{ HDR "contexts:\n- {name: a}\n-\n  name: a\n",
		  "contexts[1].name: a second context named 'a'", 6 },
		{ HDR "clusters:\n- name: a\n  cluster:\n"
		      "    certificate-authority-data: 'QUJ'\n",
		  "clusters[0].cluster.certificate-authority-data: not base64",
		  6 },
		{ HDR "current-context: [x]\n",
		  "current-context: expected a string", 3 },
		{ "- a\n", "a kubeconfig is a mapping, not a list", 1 },
		{ "just a string\n", "a kubeconfig is a mapping, not a string",
		  1 },
		{ "a: [\n", NULL, 0 },
		{ "a: 1\na: 2\n", "duplicate key 'a'", 2 },
		/* "is a kubeconfig" (issue 13): a mapping of anything else is
		 * not one */
		{ "foo: bar\n", "not a kubeconfig: no 'kind: Config'", 1 },
		{ "\n\nkind: Config\nclusters: []\n",
		  "not a kubeconfig: no 'apiVersion: v1'", 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct diag_list dl = DIAG_LIST_INIT;
		json_t *kc = NULL;

		if (kubeconfig_parse(&kc, &dl, "f", rows[i].text,
				     strlen(rows[i].text)) != -1 ||
		    kc || !dl.nr ||
		    (rows[i].msg && !strstr(dl.items[0].msg, rows[i].msg)) ||
		    (rows[i].line && dl.items[0].line != rows[i].line))
			fail_msg("row %zu: %s at line %d", i,
				 dl.nr ? dl.items[0].msg : "accepted",
				 dl.nr ? dl.items[0].line : 0);
		diag_list_release(&dl);
	}
}

/* The bomb of issue 13: 9 anchors, each a list of 9 aliases of the one
 * before: 9^9 values once expanded. */
static void bomb(struct strbuf *out)
{
	int i, j;

	strbuf_addstr(out, HDR "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, "
			       "lol, lol]\n");
	for (i = 1; i < 9; i++) {
		strbuf_addf(out, "a%d: &a%d [", i, i);
		for (j = 0; j < 9; j++)
			strbuf_addf(out, "%s*a%d", j ? ", " : "", i - 1);
		strbuf_addstr(out, "]\n");
	}
	strbuf_addstr(out, "clusters: []\n");
}

static void expect_refused(const struct strbuf *text, const char *msg, int line)
{
	struct diag_list dl = DIAG_LIST_INIT;
	json_t *kc = NULL;

	assert_int_equal(
		kubeconfig_parse(&kc, &dl, "bomb.yaml", text->buf, text->len),
		-1);
	assert_null(kc);
	assert_int_equal(dl.nr, 1);
	if (!strstr(dl.items[0].msg, msg) || dl.items[0].line != line)
		fail_msg("got line %d: %s", dl.items[0].line, dl.items[0].msg);
	diag_list_release(&dl);
}

static void kubeconfig__alias_bombs_are_bounded(void **state)
{
	struct strbuf text = STRBUF_INIT;
	int i;

	(void)state;
	/* refused where the alias that crosses the limit is used: a5's
	 * list (9^5 values, after 74 000 for a0 to a4) on line 8 */
	bomb(&text);
	expect_refused(&text,
		       "aliases expand the kubeconfig past the value "
		       "limit",
		       8);
	/* wide rather than deep: one 200 KB scalar, 100 aliases of it */
	strbuf_reset(&text);
	strbuf_addstr(&text, HDR "big: &big ");
	for (i = 0; i < 200 * 1024; i++)
		strbuf_addch(&text, 'x');
	strbuf_addstr(&text, "\nmany:\n");
	for (i = 0; i < 100; i++)
		strbuf_addstr(&text, "- *big\n");
	expect_refused(&text, "past the text limit", 5);
	/* and a file larger than any kubeconfig */
	strbuf_reset(&text);
	strbuf_addstr(&text, HDR "pad: ");
	while (text.len <= KUBECONFIG_MAX_SIZE)
		strbuf_addstr(&text, "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ");
	expect_refused(&text, "larger than", 1);
	strbuf_release(&text);
}

struct placed {
	const char *text, *msg;
	int line;
	enum kubeconfig_fact fact;
};

#define K3S_HEAD           \
	HDR "clusters:\n"  \
	    "- name: c\n"  \
	    "  cluster:\n" \
	    "    server: "

#define K3S_TAIL               \
	"\n"                   \
	"users:\n"             \
	"- name: u\n"          \
	"  user: {token: t}\n" \
	"contexts:\n"          \
	"- name: x\n"          \
	"  context: {cluster: c, user: u}\n"

/* Every refusal of a merge names the line of the value at fault. */
static void kubeconfig__merge_refusals_have_a_line(void **state)
{
	static const struct placed rows[] = {
		{ "", "the kubeconfig to merge is empty", 1, 0 },
		{ HDR "clusters: [{name: c, cluster: {server: https://a}}]\n"
		      "contexts: []\n",
		  "contexts: the kubeconfig to merge has no context", 4, 0 },
		{ HDR "users: [{name: u, user: {}}]\n"
		      "contexts:\n"
		      "- name: a\n"
		      "  context:\n"
		      "    user: u\n"
		      "    cluster: nowhere\n",
		  "contexts[0].context.cluster: the context to merge names a "
		  "cluster it does not define ('nowhere'; clusters has 0)",
		  8, 0 },
		{ K3S_HEAD "https://10.0.0.1:6443\n"
			   "users: []\n"
			   "contexts:\n"
			   "- name: x\n"
			   "  context: {cluster: c, user: ghost}\n",
		  "names a user it does not define", 10, 0 },
		{ K3S_HEAD "10.0.0.1:6443" K3S_TAIL,
		  "clusters[0].cluster.server: the cluster's server "
		  "'10.0.0.1:6443' is not a URL",
		  6, 0 },
		{ K3S_HEAD "\"https://10.0.0.1:6443\\nX-Evil: 1\"" K3S_TAIL,
		  "holds a control character (0x0a)", 6, 0 },
		{ K3S_HEAD "\"https://10.0.0.1\\t:6443\"" K3S_TAIL,
		  "holds a control character (0x09)", 6, 0 },
		{ K3S_HEAD "https://" K3S_TAIL, "no host", 6, 0 },
		{ K3S_HEAD "https://127.0.0.1:6443" K3S_TAIL,
		  "is a loopback address", 6, KUBECONFIG_FACT_LOOPBACK },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct kubeconfig_doc from = KUBECONFIG_DOC_INIT;
		struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
		struct kubeconfig_merge_report rep;
		struct diag_list dl = DIAG_LIST_INIT;
		json_t *into = kubeconfig_new();

		if (kubeconfig_load(&from, &dl, "k3s.yaml", rows[i].text,
				    strlen(rows[i].text)) < 0)
			fail_msg("row %zu: %s", i, dl.items[0].msg);
		assert_int_equal(
			merge(into, from.kc, "k", "n", NULL, NULL, &rep, &why),
			-1);
		assert_int_equal(why.side, KUBECONFIG_FROM);
		assert_int_equal(why.fact, rows[i].fact);
		kubeconfig_doc_diag(&dl, &from, DIAG_ERROR, &why);
		assert_int_equal(dl.nr, 1);
		assert_string_equal(dl.items[0].file, "k3s.yaml");
		if (!strstr(dl.items[0].msg, rows[i].msg) ||
		    dl.items[0].line != rows[i].line)
			fail_msg("row %zu: line %d: %s", i, dl.items[0].line,
				 dl.items[0].msg);
		kubeconfig_merge_report_release(&rep);
		kubeconfig_problem_release(&why);
		kubeconfig_doc_release(&from);
		diag_list_release(&dl);
		json_decref(into);
	}
}

static void kubeconfig__select_and_loopback(void **state)
{
	json_t *into = kubeconfig_new(), *a = k3s("https://127.0.0.1:6443");
	json_t *one;
	struct kubeconfig_merge_report rep;
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;

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
	kubeconfig_problem_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kubeconfig__into_nothing_then_a_second),
		cmocka_unit_test(kubeconfig__republish_under_a_new_name),
		cmocka_unit_test(kubeconfig__old_cluster_kept_while_used),
		cmocka_unit_test(kubeconfig__refusals_change_nothing),
		cmocka_unit_test(kubeconfig__bad_files),
		cmocka_unit_test(kubeconfig__alias_bombs_are_bounded),
		cmocka_unit_test(kubeconfig__merge_refusals_have_a_line),
		cmocka_unit_test(kubeconfig__select_and_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
