/*
 * test_status.c - watch --listen's pure parts: the status page's escaping
 * and content (core/status.h), the Prometheus exposition's names, labels
 * and histogram (core/metrics.h), the endpoint classes, the push
 * webhooks' signatures (core/webhook.h) and the request counters
 * (util/counters.h).
 */
#include "test.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/doctor.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/webhook.h"
#include "util/counters.h"
#include "util/strbuf.h"

static void escaped(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	status_html_escape(&sb, in);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void status__escape(void **state)
{
	(void)state;
	escaped("plain", "plain");
	escaped("<script>alert('x')</script>",
		"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
	escaped("a & \"b\"", "a &amp; &quot;b&quot;");
	escaped("line\nnext\ttab", "line\nnext\ttab");
	escaped("esc\x1b[31m", "esc\xef\xbf\xbd[31m");
	escaped("bad \xff byte", "bad \xef\xbf\xbd byte");
	escaped("caf\xc3\xa9", "caf\xc3\xa9");
	escaped("c1 \xc2\x9b", "c1 \xef\xbf\xbd");
}

static const bool one_only[STATUS_STAGES] = { true, false };
static const bool both[STATUS_STAGES] = { true, true };

static void status__page(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct status st;
	struct status_vm vm = { 0 }, *rows;

	(void)state;
	status_init(&st);
	strbuf_addstr(&st.repo, "https://git.example/<infra>.git");
	strbuf_addstr(&st.branch, "main");
	st.interval = 2;
	status_add_run(&st, "0123456789abcdef0123456789abcdef01234567", both,
		       STATUS_FAILURE, 1764662400, 3.5,
		       "stage two: <b>ssh</b> failed");
	status_html(&sb, &st, 1764662500, 2);
	/* the refresh is bounded from below */
	assert_non_null(strstr(sb.buf, "content=\"5\""));
	assert_non_null(
		strstr(sb.buf, "https://git.example/&lt;infra&gt;.git"));
	assert_non_null(strstr(sb.buf, "stage two: &lt;b&gt;ssh&lt;/b&gt;"));
	assert_null(strstr(sb.buf, "<b>ssh"));
	assert_non_null(strstr(sb.buf, "<tr class=\"run failure\">"));
	assert_non_null(strstr(sb.buf,
			       "<code title=\"0123456789abcdef0123456789"
			       "abcdef01234567\">0123456789ab</code>"));
	assert_non_null(strstr(sb.buf, "one, two"));
	assert_non_null(strstr(sb.buf, "id=\"vms-none\""));
	assert_null(strstr(sb.buf, "<script"));
	/* the VM table from the seam's rows */
	vm.name = strdup("web<1>");
	vm.cells[STATUS_LINK_DEFINED] = STATUS_OK;
	vm.cells[STATUS_LINK_CREATED] = STATUS_FAILED;
	vm.fix = strdup("free the vmid");
	rows = malloc(2 * sizeof(vm));
	rows[0] = vm;
	memset(&rows[1], 0, sizeof(vm));
	rows[1].name = strdup("db");
	status_set_vms(&st, rows, 2);
	strbuf_reset(&sb);
	status_html(&sb, &st, 1764662500, 1000);
	assert_non_null(strstr(sb.buf, "content=\"300\""));
	assert_non_null(strstr(sb.buf, "<summary>web&lt;1&gt;</summary>"));
	assert_non_null(strstr(sb.buf, "<td class=\"ok\" data-label=\"defined"
				       "\">ok</td><td class=\"failed\" data-"
				       "label=\"created\">failed</td><td "
				       "class=\"not-reached\" data-label=\"in "
				       "inventory\">not reached</td>"));
	assert_non_null(strstr(sb.buf, "Fix: free the vmid"));
	assert_non_null(strstr(sb.buf, "<summary>db</summary>"));
	assert_null(strstr(sb.buf, "id=\"vms-none\""));
	strbuf_reset(&sb);
	metrics_render(&sb, &st, 1764662500);
	assert_non_null(strstr(sb.buf, "pve_gitops_vms{chain_state=\"failed\"} "
				       "1\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_vms{chain_state=\"incomplete"
				       "\"} 1\n"));
	strbuf_release(&sb);
	status_release(&st);
}

static void status__runs_ring(void **state)
{
	struct status st;
	char commit[41];
	int i;

	(void)state;
	status_init(&st);
	for (i = 0; i < STATUS_MAX_RUNS + 3; i++) {
		snprintf(commit, sizeof(commit), "%040d", i);
		status_add_run(&st, commit, one_only, STATUS_SUCCESS, 1000 + i,
			       1, i % 2 ? "e" : NULL);
	}
	assert_int_equal(st.nr_runs, STATUS_MAX_RUNS);
	assert_string_equal(st.runs[0].commit + 38, "12");
	assert_string_equal(st.runs[STATUS_MAX_RUNS - 1].commit + 38, "03");
	assert_int_equal(st.runs_total[STATUS_STAGE_ONE][STATUS_SUCCESS],
			 STATUS_MAX_RUNS + 3);
	assert_int_equal(st.runs_total[STATUS_STAGE_TWO][STATUS_SUCCESS], 0);
	assert_true(st.last_success == 1000 + STATUS_MAX_RUNS + 2 + 1);
	status_release(&st);
}

static void status__histogram(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct status st;

	(void)state;
	status_init(&st);
	status_add_run(&st, "a", one_only, STATUS_SUCCESS, 10, 0.5, NULL);
	status_add_run(&st, "b", one_only, STATUS_SUCCESS, 10, 1, NULL);
	status_add_run(&st, "c", both, STATUS_FAILURE, 10, 20, "x");
	status_add_run(&st, "d", one_only, STATUS_REFUSED, 10, 7200, "x");
	metrics_render(&sb, &st, 100);
	/* le is an upper bound, inclusive; buckets are cumulative */
	assert_non_null(
		strstr(sb.buf,
		       "pve_gitops_run_duration_seconds_bucket{le=\"1\"} 2\n"));
	assert_non_null(strstr(
		sb.buf,
		"pve_gitops_run_duration_seconds_bucket{le=\"15\"} 2\n"));
	assert_non_null(strstr(
		sb.buf,
		"pve_gitops_run_duration_seconds_bucket{le=\"30\"} 3\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_run_duration_seconds_bucket"
				       "{le=\"3600\"} 3\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_run_duration_seconds_bucket"
				       "{le=\"+Inf\"} 4\n"));
	assert_non_null(
		strstr(sb.buf, "pve_gitops_run_duration_seconds_sum 7221.5\n"));
	assert_non_null(
		strstr(sb.buf, "pve_gitops_run_duration_seconds_count 4\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_runs_total{stage=\"one\","
				       "result=\"success\"} 2\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_runs_total{stage=\"two\","
				       "result=\"failure\"} 1\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_runs_total{stage=\"one\","
				       "result=\"refused\"} 1\n"));
	assert_non_null(strstr(sb.buf, "# TYPE pve_gitops_run_duration_seconds "
				       "histogram\n"));
	strbuf_release(&sb);
	status_release(&st);
}

/* Every sample line: a name of [a-z_], labels from the fixed sets, no
 * commit id; every family has HELP and TYPE before its samples. */
static void metrics__names(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct status st;
	const char *line;

	(void)state;
	status_init(&st);
	status_add_run(&st, "0123456789abcdef0123456789abcdef01234567", both,
		       STATUS_SUCCESS, 1764662400, 2, NULL);
	strbuf_addstr(&st.processed, "0123456789abcdef");
	st.lease_held = true;
	st.behind = 3;
	memcpy(st.requests[0].key, "proxmox/vm", 11);
	st.requests[0].count = 7;
	st.requests[0].errors = 1;
	st.nr_requests = 1;
	metrics_render(&sb, &st, 1764662500);
	assert_null(strstr(sb.buf, "0123456789abcdef"));
	assert_non_null(strstr(sb.buf, "pve_gitops_lease_held 1\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_commits_behind 3\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_last_success_timestamp_"
				       "seconds 1764662402\n"));
	assert_non_null(strstr(sb.buf,
			       "pve_gitops_api_requests_total{service="
			       "\"proxmox\",endpoint_class=\"vm\"} 7\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_api_request_errors_total{"
				       "service=\"proxmox\",endpoint_class="
				       "\"vm\"} 1\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_vms{chain_state=\"failed\"} "
				       "0\n"));
	assert_non_null(strstr(sb.buf, "pve_gitops_webhooks_total{provider="
				       "\"github\",verdict=\"rejected\"} 0\n"));
	for (line = sb.buf; *line; line = strchr(line, '\n') + 1) {
		const char *p = line;

		if (*p == '#')
			continue;
		assert_memory_equal(p, "pve_gitops_", 11);
		while ((*p >= 'a' && *p <= 'z') || *p == '_')
			p++;
		assert_true(*p == ' ' || *p == '{');
	}
	strbuf_release(&sb);
	status_release(&st);
}

static void metrics__classes(void **state)
{
	static const char *const pve[][2] = {
		{ "/access/ticket", "access" },
		{ "/cluster/resources", "cluster" },
		{ "/cluster/nextid", "cluster" },
		{ "/nodes", "other" },
		{ "/nodes/pve1/qemu", "vm" },
		{ "/nodes/pve1/qemu/100/config", "vm" },
		{ "/nodes/pve1/qemu/100/clone", "vm" },
		{ "/nodes/pve1/qemu/100/status/start", "vm_status" },
		{ "/nodes/pve1/qemu/100/agent/network-get-interfaces",
		  "vm_agent" },
		{ "/nodes/pve1/tasks/UPID:x/status", "tasks" },
		{ "/nodes/pve1/storage/local/content", "storage" },
		{ "/nodes/pve1/network", "nodes" },
		{ "/nodes/pve1", "nodes" },
		{ "/pools", "pools" },
		{ "/version", "version" },
		{ "/evil/101/../x", "other" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(pve); i++)
		assert_string_equal(metrics_pve_class(pve[i][0]), pve[i][1]);
	assert_string_equal(metrics_vault_class("sys/mounts/secret"), "sys");
	assert_string_equal(metrics_vault_class("auth/token/lookup-self"),
			    "auth");
	assert_string_equal(metrics_vault_class("secret/data/k/x"), "kv");
}

static void sign(char out[72], const char *prefix, const char *secret,
		 const char *body)
{
	unsigned char mac[32];
	unsigned int n = 0, i;
	size_t k = strlen(prefix);

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	     (const unsigned char *)body, strlen(body), mac, &n);
	memcpy(out, prefix, k);
	for (i = 0; i < n; i++)
		snprintf(out + k + 2 * i, 3, "%02x", mac[i]);
}

static void webhook__providers(void **state)
{
	const char *body = "{\"ref\":\"refs/heads/main\"}";
	char good[72], bad[72];
	struct webhook_headers h;
	enum webhook_provider p;

	(void)state;
	sign(good, "sha256=", "s3cret", body);
	sign(bad, "sha256=", "other", body);
	memset(&h, 0, sizeof(h));
	h.github_signature = good;
	h.github_event = "push";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_PUSH);
	assert_int_equal(p, WEBHOOK_GITHUB);
	h.github_event = "ping";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_IGNORED);
	h.github_signature = bad;
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);
	h.github_signature = good + 7; /* without "sha256=" */
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);
	h.github_signature = good;
	h.github_event = "push";
	/* the body changed after signing */
	assert_int_equal(
		webhook_check(&p, &h, body, strlen(body) - 1, "s3cret"),
		WEBHOOK_REJECTED);

	memset(&h, 0, sizeof(h));
	sign(good, "", "s3cret", body);
	h.gitea_signature = good;
	h.gitea_event = "push";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_PUSH);
	assert_int_equal(p, WEBHOOK_GITEA);
	good[0] = good[0] == 'a' ? 'b' : 'a';
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);

	memset(&h, 0, sizeof(h));
	h.gitlab_token = "s3cret";
	h.gitlab_event = "Push Hook";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_PUSH);
	assert_int_equal(p, WEBHOOK_GITLAB);
	h.gitlab_event = "Tag Push Hook";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_PUSH);
	h.gitlab_token = "s3cre";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);
	h.gitlab_token = "";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);

	memset(&h, 0, sizeof(h));
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);
	assert_int_equal(p, WEBHOOK_UNKNOWN);
	h.github_event = "push"; /* unsigned: rejected, counted as GitHub's */
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_REJECTED);
	assert_int_equal(p, WEBHOOK_GITHUB);
	/* Gitea with GitHub's headers as well: judged by its own */
	sign(good, "", "s3cret", body);
	h.gitea_signature = good;
	h.gitea_event = "push";
	h.github_signature = "sha256=00";
	assert_int_equal(webhook_check(&p, &h, body, strlen(body), "s3cret"),
			 WEBHOOK_PUSH);
	assert_int_equal(p, WEBHOOK_GITEA);
	assert_string_equal(webhook_provider_name(WEBHOOK_GITEA), "gitea");
	assert_string_equal(webhook_verdict_name(WEBHOOK_REJECTED), "rejected");
}

static void counters__bounded(void **state)
{
	struct counter snap[COUNTERS_MAX];
	struct counters c;
	char key[80];
	size_t n, i;

	(void)state;
	counters_add(NULL, "x/y", true); /* nothing, no crash */
	counters_init(&c);
	counters_add(&c, "vault/kv", false);
	counters_add(&c, "proxmox/vm", true);
	counters_add(&c, "proxmox/vm", false);
	n = counters_snapshot(&c, snap, COUNTERS_MAX);
	assert_int_equal(n, 2);
	assert_string_equal(snap[0].key, "proxmox/vm");
	assert_int_equal(snap[0].count, 2);
	assert_int_equal(snap[0].errors, 1);
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "svc/class%zu", i);
		counters_add(&c, key, false);
	}
	n = counters_snapshot(&c, snap, COUNTERS_MAX);
	assert_int_equal(n, COUNTERS_MAX);
	for (i = 0; i < n && strcmp(snap[i].key, COUNTERS_OVERFLOW); i++)
		;
	assert_true(i < n);
	assert_int_equal(snap[i].count, 100 - (COUNTERS_MAX - 3));
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	counters_release(&c);
	counters_init(&c);
	counters_add(&c, key, false);
	n = counters_snapshot(&c, snap, COUNTERS_MAX);
	assert_int_equal(strlen(snap[0].key), COUNTERS_KEY_MAX);
	counters_release(&c);
}

/* doctor's report folded into the page's cells */
static void status__rows_from_doctor(void **state)
{
	struct doctor_report r;
	struct doctor_vm *vm;
	struct status_vm *rows;
	enum doctor_link_id id;
	size_t n, i;

	(void)state;
	doctor_report_init(&r);
	/* web: all ok up to the SSH port, which failed; the rest not reached */
	vm = doctor_report_add(&r, "web", false);
	for (id = DL_DEFINITION; id <= DL_KNOWN_HOST; id++) {
		struct doctor_link *l = doctor_vm_link(vm, id);

		if (id < DL_SSH_PORT)
			doctor_set(l, DOCTOR_OK, "fine");
		else if (id == DL_SSH_PORT) {
			doctor_set(l, DOCTOR_FAILED, "no banner");
			doctor_fix(l, "start sshd");
		}
	}
	doctor_vm_close(vm);
	/* k8s: everything ok, its context too */
	vm = doctor_report_add(&r, "k8s-a", true);
	for (id = DL_DEFINITION; id < DL_COUNT; id++)
		doctor_set(doctor_vm_link(vm, id), DOCTOR_OK, "fine");
	doctor_vm_close(vm);
	status_rows_from_doctor(&r, &rows, &n);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "web");
	assert_int_equal(rows[0].cells[STATUS_LINK_DEFINED], STATUS_OK);
	assert_int_equal(rows[0].cells[STATUS_LINK_CREATED], STATUS_OK);
	assert_int_equal(rows[0].cells[STATUS_LINK_INVENTORY], STATUS_OK);
	assert_int_equal(rows[0].cells[STATUS_LINK_PROVISIONED], STATUS_FAILED);
	assert_int_equal(rows[0].cells[STATUS_LINK_KUBECONFIG],
			 STATUS_NOT_REACHED);
	assert_string_equal(rows[0].detail, "ssh-port: no banner");
	assert_string_equal(rows[0].fix, "start sshd");
	for (i = 0; i < STATUS_LINKS; i++)
		assert_int_equal(rows[1].cells[i], STATUS_OK);
	assert_null(rows[1].detail);
	{
		struct status st;

		status_init(&st);
		status_set_vms(&st, rows, n); /* takes them */
		status_release(&st);
	}
	doctor_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status__escape),
		cmocka_unit_test(status__rows_from_doctor),
		cmocka_unit_test(status__page),
		cmocka_unit_test(status__runs_ring),
		cmocka_unit_test(status__histogram),
		cmocka_unit_test(metrics__names),
		cmocka_unit_test(metrics__classes),
		cmocka_unit_test(webhook__providers),
		cmocka_unit_test(counters__bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
