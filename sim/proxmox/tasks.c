/*
 * tasks.c - the task endpoints: the cluster's and a node's task lists, a
 * task's status and log, and stopping one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void h_node_tasks(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	int vmid = vmid_of(rq, "vmid");
	const char *typefilter = req_param(rq, "typefilter");
	uint64_t limit = 50;
	json_t *a;
	size_t i;

	if (!n)
		return;
	if (req_param(rq, "limit"))
		parse_u64z(&limit, req_param(rq, "limit"), 0, 1000000);
	a = json_array();
	for (i = s->nr_tasks; i-- > 0 && json_array_size(a) < limit;) {
		const struct sim_task *t = s->tasks[i];

		if (strcmp(t->node, n->name) || (vmid > 0 && t->vmid != vmid) ||
		    (typefilter && strcmp(typefilter, t->type)))
			continue;
		json_array_append_new(a, task_json(t));
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
