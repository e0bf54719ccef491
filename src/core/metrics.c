/*
 * metrics.c - Prometheus text exposition of the watch's state; see
 * metrics.h.
 */
#include "core/metrics.h"

#include <string.h>

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The segment after "/nodes/NODE/qemu/VMID/" of path, or NULL. */
static const char *vm_rest(const char *p)
{
	int i;

	for (i = 0; i < 4 && p; i++) {
		p = strchr(p + 1, '/');
	}
	return p ? p + 1 : NULL;
}

const char *metrics_pve_class(const char *path)
{
	const char *node, *rest;

	if (starts(path, "/access/"))
		return "access";
	if (starts(path, "/cluster/"))
		return "cluster";
	if (starts(path, "/pools"))
		return "pools";
	if (starts(path, "/version"))
		return "version";
	if (!starts(path, "/nodes/"))
		return "other";
	node = strchr(path + 7, '/');
	if (!node)
		return "nodes";
	if (starts(node, "/tasks"))
		return "tasks";
	if (starts(node, "/storage"))
		return "storage";
	if (!starts(node, "/qemu"))
		return "nodes";
	rest = vm_rest(path);
	if (rest && starts(rest, "agent"))
		return "vm_agent";
	if (rest && starts(rest, "status"))
		return "vm_status";
	return "vm";
}

const char *metrics_vault_class(const char *path)
{
	if (starts(path, "sys/"))
		return "sys";
	if (starts(path, "auth/"))
		return "auth";
	return "kv";
}

static void help(struct strbuf *out, const char *name, const char *type,
		 const char *text)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name,
		    type);
}

/* A float as Prometheus reads it (integers without a fraction). */
static void add_value(struct strbuf *out, double v)
{
	if (v == (double)(long long)v && v < 1e15 && v > -1e15)
		strbuf_addf(out, "%lld", (long long)v);
	else
		strbuf_addf(out, "%.17g", v);
}

static void runs(struct strbuf *out, const struct status *st)
{
	size_t s, r, i;
	uint64_t cum = 0;

	help(out, "pve_gitops_runs_total", "counter",
	     "Commits processed, by stage run and result.");
	for (s = 0; s < STATUS_STAGES; s++)
		for (r = 0; r < STATUS_RESULTS; r++)
			strbuf_addf(out,
				    "pve_gitops_runs_total{stage=\"%s\","
				    "result=\"%s\"} %llu\n",
				    status_stage_name(s), status_result_name(r),
				    (unsigned long long)st->runs_total[s][r]);
	help(out, "pve_gitops_run_duration_seconds", "histogram",
	     "How long processing a commit took.");
	for (i = 0; i < STATUS_BUCKETS; i++) {
		cum += st->buckets[i];
		strbuf_addstr(out,
			      "pve_gitops_run_duration_seconds_bucket{le=\"");
		add_value(out, status_buckets[i]);
		strbuf_addf(out, "\"} %llu\n", (unsigned long long)cum);
	}
	strbuf_addf(out,
		    "pve_gitops_run_duration_seconds_bucket{le=\"+Inf\"} "
		    "%llu\npve_gitops_run_duration_seconds_sum ",
		    (unsigned long long)st->duration_count);
	add_value(out, st->duration_sum);
	strbuf_addf(out, "\npve_gitops_run_duration_seconds_count %llu\n",
		    (unsigned long long)st->duration_count);
}

/* One sample without labels, with its HELP and TYPE. */
static void sample(struct strbuf *out, const char *name, const char *type,
		   const char *text, double v)
{
	help(out, name, type, text);
	strbuf_addf(out, "%s ", name);
	add_value(out, v);
	strbuf_addch(out, '\n');
}

static void gauges(struct strbuf *out, const struct status *st)
{
	sample(out, "pve_gitops_last_success_timestamp_seconds", "gauge",
	       "When a commit was last processed successfully (0: never).",
	       st->last_success);
	sample(out, "pve_gitops_last_fetch_timestamp_seconds", "gauge",
	       "When the branch was last fetched successfully (0: never).",
	       st->last_fetch);
	sample(out, "pve_gitops_fetch_errors_total", "counter",
	       "Passes whose fetch or pending check failed.",
	       (double)st->fetch_errors);
	sample(out, "pve_gitops_commits_behind", "gauge",
	       "Commits pending after the progress marker at the last fetch.",
	       st->behind < 0 ? 0 : (double)st->behind);
	sample(out, "pve_gitops_lease_held", "gauge",
	       "1 while this runner holds the lease in the git server.",
	       st->lease_held ? 1 : 0);
	sample(out, "pve_gitops_busy", "gauge",
	       "1 while this runner processes commits or waits for the lease.",
	       st->busy ? 1 : 0);
	sample(out, "pve_gitops_start_time_seconds", "gauge",
	       "When this runner started.", st->started);
}

/* A VM's state: ok when every link is, failed when one failed, else
 * incomplete (links not reached yet). */
static int vm_state(const struct status_vm *vm)
{
	size_t i;
	int state = 0;

	for (i = 0; i < STATUS_LINKS; i++) {
		if (vm->cells[i] == STATUS_FAILED)
			return 1;
		if (vm->cells[i] == STATUS_NOT_REACHED)
			state = 2;
	}
	return state;
}

static void vms(struct strbuf *out, const struct status *st)
{
	static const char *const names[] = { "ok", "failed", "incomplete" };
	unsigned long long n[3] = { 0, 0, 0 };
	size_t i;

	for (i = 0; i < st->nr_vms; i++)
		n[vm_state(&st->vms[i])]++;
	help(out, "pve_gitops_vms", "gauge",
	     "VMs by the state of their chain (defined to workloads).");
	for (i = 0; i < 3; i++)
		strbuf_addf(out, "pve_gitops_vms{chain_state=\"%s\"} %llu\n",
			    names[i], n[i]);
}

/* The requests of one family: "SERVICE/CLASS" keys split into labels. */
static void requests(struct strbuf *out, const struct status *st, bool errors)
{
	const char *name = errors ? "pve_gitops_api_request_errors_total"
				  : "pve_gitops_api_requests_total";
	size_t i;

	help(out, name, "counter",
	     errors ? "Proxmox and Vault requests that failed (no answer, "
		      "or an HTTP error status), by endpoint class."
		    : "Proxmox and Vault requests sent, by endpoint class.");
	for (i = 0; i < st->nr_requests; i++) {
		const struct counter *c = &st->requests[i];
		const char *slash = strchr(c->key, '/');

		if (!slash)
			continue;
		strbuf_addf(
			out,
			"%s{service=\"%.*s\",endpoint_class=\"%s\"} "
			"%llu\n",
			name, (int)(slash - c->key), c->key, slash + 1,
			(unsigned long long)(errors ? c->errors : c->count));
	}
}

static void hooks(struct strbuf *out, const struct status *st)
{
	size_t p, v;

	help(out, "pve_gitops_webhooks_total", "counter",
	     "Push webhooks received, by provider and verdict.");
	for (p = 0; p < WEBHOOK_PROVIDERS; p++)
		for (v = 0; v < WEBHOOK_VERDICTS; v++)
			strbuf_addf(out,
				    "pve_gitops_webhooks_total{provider=\"%s\","
				    "verdict=\"%s\"} %llu\n",
				    webhook_provider_name(p),
				    webhook_verdict_name(v),
				    (unsigned long long)st->hooks[p][v]);
}

void metrics_render(struct strbuf *out, const struct status *st, double now)
{
	(void)now;
	runs(out, st);
	gauges(out, st);
	vms(out, st);
	requests(out, st, false);
	requests(out, st, true);
	hooks(out, st);
}
