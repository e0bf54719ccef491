/*
 * tasks.c - the task endpoints: the cluster's and a node's task lists, a
 * task's status and log, and stopping one.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "endpoint.h"
#include "handlers.h"
#include "util/parse.h"
#include "util/xalloc.h"

static json_t *task_json(const struct sim_task *t)
{
	json_t *o =
		json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}", "upid",
			  t->upid, "node", t->node, "pid", (json_int_t)t->pid,
			  "pstart", (json_int_t)t->pstart, "starttime",
			  (json_int_t)(t->start_ms / 1000), "type", t->type,
			  "id", t->id, "user", t->user);

	if (t->done) {
		json_object_set_new(o, "status", json_string(t->exitstatus));
		json_object_set_new(o, "endtime",
				    json_integer(t->end_ms / 1000));
	}
	return o;
}

void h_cluster_tasks(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	json_t *a = json_array();
	size_t i;

	(void)rq;
	for (i = s->nr_tasks; i-- > 0;)
		json_array_append_new(a, task_json(s->tasks[i]));
	rs->data = a;
}

/* pve-common's PVE::UPID normalize_status_type. */
static const char *status_type(const struct sim_task *t)
{
	const char *st = t->done ? t->exitstatus : NULL;

	if (!st || !*st || !strcmp(st, "unexpected status"))
		return "unknown";
	if (!strcmp(st, "OK"))
		return "ok";
	if (!strncmp(st, "WARNINGS: ", 10))
		return "warning";
	return "error";
}

/* What pve-manager's API2/Tasks.pm node_tasks filters on. */
struct task_filter {
	const char *node, *user, *type, *vmid;
	bool ok, warning, error, unknown;
	bool since_set, until_set;
	int64_t since, until;
	uint64_t start, limit, count;
};

static bool int_param(const struct sim_req *rq, const char *name, int64_t *out)
{
	const char *v = req_param(rq, name);
	char *end;

	if (!v)
		return false;
	*out = strtoll(v, &end, 10);
	return !*end;
}

static bool has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay; hay++) {
		for (i = 0; i < n && hay[i] &&
			    tolower((unsigned char)hay[i]) ==
				    tolower((unsigned char)needle[i]);
		     i++)
			;
		if (i == n)
			return true;
	}
	return !n;
}

/*
 * statusfilter replaces the default (every state) unless errors=1, which
 * only drops "ok"; states are split as split_list does and lower-cased.
 */
static void filter_init(struct task_filter *f, const struct sim_req *rq,
			const char *node)
{
	const char *sf = req_param(rq, "statusfilter");
	char *list, *tok, *save = NULL;

	memset(f, 0, sizeof(*f));
	f->node = node;
	f->user = req_param(rq, "userfilter");
	f->type = req_param(rq, "typefilter");
	f->vmid = req_param(rq, "vmid");
	f->limit = 50;
	if (req_param(rq, "start"))
		parse_u64z(&f->start, req_param(rq, "start"), 0, UINT32_MAX);
	if (req_param(rq, "limit"))
		parse_u64z(&f->limit, req_param(rq, "limit"), 0, UINT32_MAX);
	f->since_set = int_param(rq, "since", &f->since);
	f->until_set = int_param(rq, "until", &f->until);
	f->ok = f->warning = f->error = f->unknown = true;
	if (sf && !param_true(rq, "errors")) {
		f->ok = f->warning = f->error = f->unknown = false;
		list = xstrdup(sf);
		for (tok = strtok_r(list, ",; \t", &save); tok;
		     tok = strtok_r(NULL, ",; \t", &save)) {
			f->ok |= !strcasecmp(tok, "ok");
			f->warning |= !strcasecmp(tok, "warning");
			f->error |= !strcasecmp(tok, "error");
			f->unknown |= !strcasecmp(tok, "unknown");
		}
		free(list);
	} else if (param_true(rq, "errors")) {
		f->ok = false;
	}
}

/* Tasks.pm's filter_task: true when t is listed (start, limit counted). */
static bool filter_pass(struct task_filter *f, const struct sim_task *t)
{
	const char *st = status_type(t);
	int64_t started = t->start_ms / 1000;

	if (strcmp(t->node, f->node) || (f->user && !has_ci(t->user, f->user)))
		return false;
	if (f->type && strcmp(t->type, f->type))
		return false;
	/* the task's own id (the UPID's ID part), not the VM it made */
	if (f->vmid && (!t->id || strcmp(t->id, f->vmid)))
		return false;
	if ((f->since_set && started < f->since) ||
	    (f->until_set && started > f->until))
		return false;
	if ((!strcmp(st, "ok") && !f->ok) ||
	    (!strcmp(st, "warning") && !f->warning) ||
	    (!strcmp(st, "error") && !f->error) ||
	    (!strcmp(st, "unknown") && !f->unknown))
		return false;
	if (f->count++ < f->start || f->limit == 0)
		return false;
	f->limit--;
	return true;
}

/*
 * source=active lists the running tasks (status "RUNNING"), archive (the
 * default) the finished ones from the index, all both, active first; each
 * newest first.
 */
void h_node_tasks(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	const char *source = req_param(rq, "source");
	struct task_filter f;
	json_t *a;
	size_t i;
	int pass;

	if (!n)
		return;
	if (!source)
		source = "archive";
	filter_init(&f, rq, n->name);
	a = json_array();
	for (pass = 0; pass < 2; pass++) {
		if ((pass == 0 && !strcmp(source, "archive")) ||
		    (pass == 1 && !strcmp(source, "active")))
			continue;
		for (i = s->nr_tasks; i-- > 0;) {
			const struct sim_task *t = s->tasks[i];
			json_t *o;

			if (t->done != (pass == 1) || !filter_pass(&f, t))
				continue;
			o = task_json(t);
			if (!t->done)
				json_object_set_new(o, "status",
						    json_string("RUNNING"));
			json_array_append_new(a, o);
		}
	}
	rs->data = a;
}

static struct sim_task *need_task(struct sim *s, struct sim_req *rq,
				  struct sim_resp *rs)
{
	const char *upid = req_param(rq, "upid");
	struct sim_node *n = need_node(s, rq, rs);
	struct sim_task *t;

	if (!n)
		return NULL;
	t = upid ? sim_task_find(s, upid) : NULL;
	if (!t || strcmp(t->node, n->name)) {
		resp_fail(rs, 500, "no such task");
		return NULL;
	}
	return t;
}

void h_task_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_task *t = need_task(s, rq, rs);

	if (!t)
		return;
	rs->data = task_json(t);
	json_object_set_new(rs->data, "status",
			    json_string(t->done ? "stopped" : "running"));
	if (t->done)
		json_object_set_new(rs->data, "exitstatus",
				    json_string(t->exitstatus));
	json_object_del(rs->data, "endtime");
}

void h_task_log(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_task *t = need_task(s, rq, rs);
	uint64_t start = 0, limit = 50;
	size_t i;

	if (!t)
		return;
	if (req_param(rq, "start"))
		parse_u64z(&start, req_param(rq, "start"), 0, 1000000000);
	if (req_param(rq, "limit"))
		parse_u64z(&limit, req_param(rq, "limit"), 0, 1000000000);
	rs->data = json_array();
	for (i = start; i < t->log.nr && i < start + limit; i++)
		json_array_append_new(rs->data, json_pack("{s:I, s:s}", "n",
							  (json_int_t)(i + 1),
							  "t", t->log.v[i]));
	if (!t->done && json_array_size(rs->data) == 0 && start == 0)
		json_array_append_new(rs->data, json_pack("{s:i, s:s}", "n", 1,
							  "t", "no content"));
}

void h_task_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (!need_task(s, rq, rs))
		return;
	rs->data = json_pack("[{s:s}, {s:s}]", "name", "log", "name", "status");
}

void h_task_stop(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_task *t = need_task(s, rq, rs);

	if (!t)
		return;
	if (!t->done) {
		free(t->fail);
		t->fail = xstrdup("interrupted by signal");
		t->end_ms = sim_now_ms();
		sim_tick(s);
	}
	rs->data = json_null();
}
