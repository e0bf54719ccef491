/*
 * api.c - the endpoints. Each handler checks what Proxmox checks, in the
 * order it checks it, answers with Proxmox's messages, and changes the model
 * only once every check has passed. Long operations start a task whose
 * effect lands when the task ends (see sim_tick).
 */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "api_int.h"
#include "util/parse.h"
#include "util/xalloc.h"

const char *req_param(const struct sim_req *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->names.nr; i++)
		if (!strcmp(rq->names.v[i], name))
			return rq->values.v[i];
	return NULL;
}

bool param_true(const struct sim_req *rq, const char *name)
{
	const char *v = req_param(rq, name);

	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

void resp_fail(struct sim_resp *rs, unsigned status, const char *fmt, ...)
{
	va_list ap;

	rs->status = status;
	strbuf_reset(&rs->message);
	va_start(ap, fmt);
	strbuf_vaddf(&rs->message, fmt, ap);
	va_end(ap);
}

void param_fail(struct sim_resp *rs, const char *param, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!rs->errors)
		rs->errors = json_object();
	json_object_set_new(rs->errors, param, json_string(sb.buf));
	strbuf_release(&sb);
	resp_fail(rs, 400, "Parameter verification failed.");
}

/* ---- routing ---------------------------------------------------------- */

static const char *const templates[] = {
	"/version",
	"/access/ticket",
	"/cluster/resources",
	"/cluster/nextid",
	"/cluster/tasks",
	"/nodes",
	"/nodes/{node}/status",
	"/nodes/{node}/storage",
	"/nodes/{node}/storage/{storage}/status",
	"/nodes/{node}/certificates/info",
	"/nodes/{node}/qemu",
	"/nodes/{node}/qemu/{vmid}",
	"/nodes/{node}/qemu/{vmid}/config",
	"/nodes/{node}/qemu/{vmid}/pending",
	"/nodes/{node}/qemu/{vmid}/clone",
	"/nodes/{node}/qemu/{vmid}/resize",
	"/nodes/{node}/qemu/{vmid}/template",
	"/nodes/{node}/qemu/{vmid}/cloudinit",
	"/nodes/{node}/qemu/{vmid}/cloudinit/dump",
	"/nodes/{node}/qemu/{vmid}/status/current",
	"/nodes/{node}/qemu/{vmid}/status/start",
	"/nodes/{node}/qemu/{vmid}/status/stop",
	"/nodes/{node}/qemu/{vmid}/status/shutdown",
	"/nodes/{node}/qemu/{vmid}/status/reboot",
	"/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
	"/nodes/{node}/qemu/{vmid}/agent/ping",
	"/nodes/{node}/qemu/{vmid}/agent/file-read",
	"/nodes/{node}/qemu/{vmid}/agent/exec",
	"/nodes/{node}/qemu/{vmid}/agent/exec-status",
	"/nodes/{node}/qemu/{vmid}/move_disk",
	"/nodes/{node}/qemu/{vmid}/migrate",
	"/nodes/{node}/tasks",
	"/nodes/{node}/tasks/{upid}",
	"/nodes/{node}/tasks/{upid}/status",
	"/nodes/{node}/tasks/{upid}/log",
	"/pools",
	"/pools/{poolid}",
	"/cluster/ha/resources",
	"/cluster/ha/resources/{sid}",
	NULL,
};

/* Split "/a/b/c" into segments (pointers into a copy). */
static size_t split_path(char *p, char **seg, size_t max)
{
	size_t n = 0;

	while (*p == '/')
		p++;
	while (*p && n < max) {
		seg[n++] = p;
		while (*p && *p != '/')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return *p ? max + 1 : n;
}

/* Decode a path segment where it is (the result is never longer). */
static void url_decode_inplace(char *s)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_percent_decoded(&sb, s, strlen(s), 0);
	memcpy(s, sb.buf, sb.len + 1);
	strbuf_release(&sb);
}

int api_route(struct sim_req *rq, struct strbuf *tmpl, struct sim_resp *rs)
{
	char *path = xstrdup(rq->path), *t = NULL;
	char *ps[16], *ts[16];
	size_t np = split_path(path, ps, 15), i, j;
	int ret = -1;

	for (i = 0; templates[i] && ret < 0; i++) {
		size_t nt;

		free(t);
		t = xstrdup(templates[i]);
		nt = split_path(t, ts, 15);
		if (nt != np)
			continue;
		for (j = 0; j < nt; j++)
			if (ts[j][0] != '{' && strcmp(ts[j], ps[j]))
				break;
		if (j < nt)
			continue;
		for (j = 0; j < nt; j++) {
			if (ts[j][0] != '{')
				continue;
			ts[j][strlen(ts[j]) - 1] = '\0';
			url_decode_inplace(ps[j]);
			if (req_param(rq, ts[j] + 1)) {
				if (!strcmp(req_param(rq, ts[j] + 1), ps[j]))
					continue;
				param_fail(
					rs, ts[j] + 1,
					"duplicate parameter (already defined "
					"in URI) with conflicting values!");
				ret = -2;
				break;
			}
			strvec_push(&rq->names, ts[j] + 1);
			strvec_push(&rq->values, ps[j]);
		}
		if (ret == -2)
			break;
		strbuf_reset(tmpl);
		strbuf_addstr(tmpl, templates[i]);
		ret = schema_find(tmpl->buf, rq->method) ? 0 : -1;
	}
	free(t);
	free(path);
	return ret;
}

bool api_is_async(const char *method, const char *tmpl)
{
	static const char *const async[] = {
		"POST /nodes/{node}/qemu",
		"DELETE /nodes/{node}/qemu/{vmid}",
		"POST /nodes/{node}/qemu/{vmid}/config",
		"POST /nodes/{node}/qemu/{vmid}/clone",
		"PUT /nodes/{node}/qemu/{vmid}/resize",
		"POST /nodes/{node}/qemu/{vmid}/template",
		"POST /nodes/{node}/qemu/{vmid}/status/start",
		"POST /nodes/{node}/qemu/{vmid}/status/stop",
		"POST /nodes/{node}/qemu/{vmid}/status/shutdown",
		"POST /nodes/{node}/qemu/{vmid}/status/reboot",
		NULL,
	};
	char buf[256];
	size_t i;

	snprintf(buf, sizeof(buf), "%s %s", method, tmpl);
	for (i = 0; async[i]; i++)
		if (!strcmp(async[i], buf))
			return true;
	return false;
}

/* ---- shared checks --------------------------------------------------------
 */

struct sim_node *need_node(struct sim *s, const struct sim_req *rq,
			   struct sim_resp *rs)
{
	const char *name = req_param(rq, "node");
	struct sim_node *n = name ? sim_node(s, name) : NULL;

	if (!n)
		resp_fail(rs, 500, "no such cluster node '%s'",
			  name ? name : "");
	return n;
}

int vmid_of(const struct sim_req *rq, const char *name)
{
	const char *v = req_param(rq, name);
	uint64_t id;

	if (!v || parse_u64z(&id, v, 100, 999999999) < 0)
		return -1;
	return (int)id;
}

struct sim_vm *need_vm(struct sim *s, const struct sim_req *rq,
		       struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	int vmid = vmid_of(rq, "vmid");
	struct sim_vm *vm = vmid > 0 ? sim_vm(s, vmid) : NULL;

	if (!n)
		return NULL;
	if (!vm || strcmp(vm->node, n->name)) {
		resp_fail(rs, 500,
			  "Configuration file 'nodes/%s/qemu-server/%d.conf' "
			  "does not exist",
			  n->name, vmid);
		return NULL;
	}
	return vm;
}

/* Proxmox lets only root@pam skip locks (a token of root is not root). */
static bool skiplock_ok(const struct sim_req *rq, struct sim_resp *rs)
{
	if (!param_true(rq, "skiplock"))
		return false;
	if (!rq->userid || strcmp(rq->userid, "root@pam")) {
		param_fail(rs, "skiplock", "Only root may use this option.");
		return false;
	}
	return true;
}

int vm_lock_error(const struct sim_vm *vm, const struct sim_req *rq,
		  struct sim_resp *rs, struct strbuf *why)
{
	const char *lock = kv_get(&vm->conf, "lock");
	bool skip = skiplock_ok(rq, rs); /* checked first, lock or not */

	if (rs->errors)
		return -1;
	if (!lock || skip)
		return 0;
	strbuf_addf(why, "VM %d is locked (%s)", vm->vmid, lock);
	return -1;
}

int check_lock(const struct sim_vm *vm, const struct sim_req *rq,
	       struct sim_resp *rs)
{
	struct strbuf why = STRBUF_INIT;
	int ret = vm_lock_error(vm, rq, rs, &why);

	if (why.len)
		resp_fail(rs, 500, "%s", why.buf);
	strbuf_release(&why);
	return ret;
}

static void msleep(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
			       (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

struct sim_vm *flock_wait(struct sim *s, int vmid, bool exclusive,
			  int timeout_ms, struct strbuf *why)
{
	int64_t deadline = sim_now_ms() + timeout_ms;

	for (;;) {
		struct sim_vm *vm = sim_vm(s, vmid);
		int64_t now;

		if (!vm) {
			strbuf_addf(why, "VM %d does not exist", vmid);
			return NULL;
		}
		if (!vm->flock_excl && !(exclusive && vm->flock_shared))
			return vm;
		now = sim_now_ms();
		if (now >= deadline) {
			strbuf_addf(
				why,
				"can't lock file "
				"'/var/lock/qemu-server/lock-%d.conf' - got "
				"timeout",
				vmid);
			return NULL;
		}
		/* let the holder's task end while we wait */
		pthread_mutex_unlock(&s->mu);
		msleep(deadline - now < 20 ? deadline - now : 20);
		pthread_mutex_lock(&s->mu);
		sim_tick(s);
	}
}

struct sim_vm *lock_vm(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		       struct sim_resp *rs, struct strbuf *why)
{
	int vmid = vm->vmid;

	if (vm_lock_error(vm, rq, rs, why) < 0)
		return NULL;
	vm = flock_wait(s, vmid, true, s->opts.lock_wait_ms, why);
	if (vm && vm_lock_error(vm, rq, rs, why) < 0)
		return NULL;
	return vm;
}

bool is_template(const struct sim_vm *vm)
{
	const char *t = kv_get(&vm->conf, "template");

	return t && !strcmp(t, "1");
}

static int task_ms(const struct sim *s, const char *type)
{
	size_t i;

	for (i = 0; i < s->opts.nr_task_ms; i++)
		if (s->opts.task_ms[i].type &&
		    !strcmp(s->opts.task_ms[i].type, type))
			return s->opts.task_ms[i].ms;
	return s->opts.default_task_ms;
}

struct sim_task *start_task(struct sim *s, struct sim_resp *rs,
			    const char *node, const char *type, int vmid,
			    const char *user, enum task_effect fx,
			    const char *fail)
{
	struct sim_task *t = xcalloc(1, sizeof(*t));
	struct strbuf sb = STRBUF_INIT;
	int64_t now = sim_now_ms();

	t->node = xstrdup(node);
	t->type = xstrdup(type);
	if (vmid > 0)
		strbuf_addf(&sb, "%d", vmid);
	t->id = strbuf_detach(&sb, NULL);
	t->user = xstrdup(user);
	t->pid = s->next_pid++;
	t->pstart = (unsigned)(now / 10) & 0x7fffffff;
	t->start_ms = now;
	t->end_ms = now + task_ms(s, type);
	t->fx = fx;
	t->vmid = vmid;
	strvec_init(&t->log);
	if (!fail)
		fail = s->fail_task;
	if (fail)
		t->fail = xstrdup(fail);
	strbuf_addf(&sb, "UPID:%s:%08X:%08X:%08X:%s:%s:%s:", node, t->pid,
		    t->pstart, (unsigned)(now / 1000), type, t->id, user);
	t->upid = strbuf_detach(&sb, NULL);
	sim_prune_tasks(s, 5000);
	ALLOC_GROW(s->tasks, st_add(s->nr_tasks, 1), s->alloc_tasks);
	s->tasks[s->nr_tasks++] = t;
	json_decref(rs->data);
	rs->data = json_string(t->upid);
	rs->async = true;
	return t;
}

/* ---- simple reads ----------------------------------------------------- */

static void h_version(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	rs->data =
		json_pack("{s:s, s:s, s:s, s:s}", "version", "9.1.9", "release",
			  "9.1", "repoid", "5d2a1c4e", "console", "html5");
}

uint64_t vm_maxmem(const struct sim_vm *vm)
{
	const char *m = kv_get(&vm->conf, "memory");
	uint64_t mib = 512;

	if (m)
		parse_u64z(&mib, m, 0, UINT64_MAX >> 21);
	return mib << 20;
}

int vm_cpus(const struct sim_vm *vm)
{
	const char *c = kv_get(&vm->conf, "cores"),
		   *so = kv_get(&vm->conf, "sockets");
	uint64_t cores = 1, sockets = 1;

	if (c)
		parse_u64z(&cores, c, 1, 4096);
	if (so)
		parse_u64z(&sockets, so, 1, 64);
	return (int)(cores * sockets);
}

static uint64_t vm_maxdisk(const struct sim_vm *vm)
{
	const char *d = kv_get(&vm->conf, "scsi0");
	const char *p = d ? strstr(d, "size=") : NULL;
	uint64_t b = 0;
	bool rel;

	if (p) {
		char buf[32];
		size_t n = strcspn(p + 5, ",");

		if (n < sizeof(buf)) {
			memcpy(buf, p + 5, n);
			buf[n] = '\0';
			if (sim_parse_size(buf, &b, &rel, 'B') < 0)
				b = 0;
		}
	}
	return b;
}

int64_t vm_uptime(const struct sim_vm *vm)
{
	return vm->running ? (sim_now_ms() - vm->started_ms) / 1000 : 0;
}

json_t *vm_summary(const struct sim_vm *vm)
{
	const char *name = kv_get(&vm->conf, "name");
	const char *tags = kv_get(&vm->conf, "tags");
	const char *lock = kv_get(&vm->conf, "lock");
	json_t *o;

	/* Proxmox's lists take the name from node statistics, refreshed
	 * every few seconds, and a clone's config has none until its
	 * disks are copied: a VM being cloned shows no name */
	if (lock && !strcmp(lock, "clone"))
		name = NULL;
	o = json_pack("{s:I, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:f, s:I, s:I}",
		      "vmid", (json_int_t)vm->vmid, "status",
		      vm->running ? "running" : "stopped", "name",
		      name ? name : "", "cpus", vm_cpus(vm), "maxmem",
		      (json_int_t)vm_maxmem(vm), "maxdisk",
		      (json_int_t)vm_maxdisk(vm), "mem",
		      (json_int_t)(vm->running ? vm_maxmem(vm) / 4 : 0),
		      "uptime", (json_int_t)vm_uptime(vm), "cpu", 0.0, "disk",
		      (json_int_t)0, "netin", (json_int_t)0);

	if (is_template(vm))
		json_object_set_new(o, "template", json_integer(1));
	if (tags)
		json_object_set_new(o, "tags", json_string(tags));
	if (lock)
		json_object_set_new(o, "lock", json_string(lock));
	return o;
}

static void h_resources(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");
	json_t *a = json_array();
	size_t i, j;

	if (!type || !strcmp(type, "node"))
		for (i = 0; i < s->nr_nodes; i++)
			json_array_append_new(
				a,
				json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, "
					  "s:I, s:f, s:I, s:s}",
					  "id", "", "type", "node", "node",
					  s->nodes[i].name, "status", "online",
					  "maxcpu", s->nodes[i].maxcpu,
					  "maxmem",
					  (json_int_t)s->nodes[i].maxmem, "mem",
					  (json_int_t)0, "cpu", 0.01, "uptime",
					  (json_int_t)86400, "level", ""));
	if (!type || !strcmp(type, "vm"))
		for (i = 0; i < s->nr_vms; i++) {
			json_t *o = vm_summary(s->vms[i]);

			json_object_set_new(o, "type", json_string("qemu"));
			json_object_set_new(o, "node",
					    json_string(s->vms[i]->node));
			if (sim_pool_of(s, s->vms[i]->vmid))
				json_object_set_new(
					o, "pool",
					json_string(
						sim_pool_of(s, s->vms[i]->vmid)
							->id));
			json_object_set_new(
				o, "id",
				json_sprintf("qemu/%d", s->vms[i]->vmid));
			json_array_append_new(a, o);
		}
	if (!type || !strcmp(type, "storage"))
		for (i = 0; i < s->nr_nodes; i++)
			for (j = 0; j < s->nodes[i].nr_st; j++) {
				struct sim_storage *st = &s->nodes[i].st[j];

				json_array_append_new(
					a,
					json_pack("{s:o, s:s, s:s, s:s, s:s, "
						  "s:s, s:s, s:i, s:I, s:I}",
						  "id",
						  json_sprintf("storage/%s/%s",
							       s->nodes[i].name,
							       st->name),
						  "type", "storage", "storage",
						  st->name, "node",
						  s->nodes[i].name, "status",
						  "available", "plugintype",
						  st->type, "content",
						  st->content, "shared",
						  st->shared ? 1 : 0, "maxdisk",
						  (json_int_t)st->total, "disk",
						  (json_int_t)sim_storage_used(
							  s, s->nodes[i].name,
							  st)));
			}
	for (i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		if (!strcmp(json_string_value(json_object_get(o, "type")),
			    "node"))
			json_object_set_new(
				o, "id",
				json_sprintf("node/%s",
					     json_string_value(json_object_get(
						     o, "node"))));
	}
	rs->data = a;
}

static void h_nextid(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *want = req_param(rq, "vmid");
	int id;

	if (want) {
		id = vmid_of(rq, "vmid");
		if (sim_vm(s, id)) {
			param_fail(rs, "vmid", "VM %d already exists", id);
			return;
		}
		rs->data = json_sprintf("%d", id);
		return;
	}
	for (id = 100; sim_vm(s, id); id++)
		;
	rs->data = json_sprintf("%d", id);
}

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

static void h_cluster_tasks(struct sim *s, struct sim_req *rq,
			    struct sim_resp *rs)
{
	json_t *a = json_array();
	size_t i;

	(void)rq;
	for (i = s->nr_tasks; i-- > 0;)
		json_array_append_new(a, task_json(s->tasks[i]));
	rs->data = a;
}

static void h_node_tasks(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
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

static void h_task_status(struct sim *s, struct sim_req *rq,
			  struct sim_resp *rs)
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

static void h_task_log(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
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

static void h_task_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (!need_task(s, rq, rs))
		return;
	rs->data = json_pack("[{s:s}, {s:s}]", "name", "log", "name", "status");
}

static void h_task_stop(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
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

static void h_nodes(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	size_t i;

	(void)rq;
	rs->data = json_array();
	for (i = 0; i < s->nr_nodes; i++)
		json_array_append_new(
			rs->data,
			json_pack(
				"{s:s, s:s, s:o, s:s, s:i, s:I, s:I, s:f, "
				"s:I, s:s, s:s}",
				"node", s->nodes[i].name, "status", "online",
				"id", json_sprintf("node/%s", s->nodes[i].name),
				"type", "node", "maxcpu", s->nodes[i].maxcpu,
				"maxmem", (json_int_t)s->nodes[i].maxmem, "mem",
				(json_int_t)(s->nodes[i].maxmem / 8), "cpu",
				0.01, "uptime", (json_int_t)86400, "level", "",
				"ssl_fingerprint", s->fingerprint));
}

static void h_node_status(struct sim *s, struct sim_req *rq,
			  struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);

	if (!n)
		return;
	rs->data = json_pack(
		"{s:f, s:I, s:{s:I, s:I, s:I}, s:{s:i, s:i, s:i, s:s}, s:s, "
		"s:s, s:[s,s,s]}",
		"cpu", 0.01, "uptime", (json_int_t)86400, "memory", "total",
		(json_int_t)n->maxmem, "used", (json_int_t)(n->maxmem / 8),
		"free", (json_int_t)(n->maxmem - n->maxmem / 8), "cpuinfo",
		"cpus", n->maxcpu, "cores", n->maxcpu, "sockets", 1, "model",
		"proxmox-sim virtual CPU", "pveversion",
		"pve-manager/9.1.9/5d2a1c4e", "kversion",
		"Linux 6.14.8-2-pve (proxmox-sim)", "loadavg", "0.01", "0.02",
		"0.00");
}

static void h_node_command(struct sim *s, struct sim_req *rq,
			   struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	resp_fail(rs, 501, "proxmox-sim does not reboot or shut down nodes");
}

static json_t *storage_json(struct sim *s, const char *node,
			    const struct sim_storage *st)
{
	uint64_t used = sim_storage_used(s, node, st);

	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:f}",
			 "storage", st->name, "type", st->type, "content",
			 st->content, "active", 1, "enabled", 1, "shared",
			 st->shared ? 1 : 0, "total", (json_int_t)st->total,
			 "used", (json_int_t)used, "avail",
			 (json_int_t)(st->total - used), "used_fraction",
			 st->total ? (double)used / (double)st->total : 0.0);
}

static bool has_content(const char *list, const char *c)
{
	size_t n = strlen(c);
	const char *p = list;

	while ((p = strstr(p, c))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void h_storage(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	const char *content = req_param(rq, "content");
	const char *only = req_param(rq, "storage");
	size_t i;

	if (!n)
		return;
	rs->data = json_array();
	for (i = 0; i < n->nr_st; i++) {
		if (content && !has_content(n->st[i].content, content))
			continue;
		if (only && strcmp(only, n->st[i].name))
			continue;
		json_array_append_new(rs->data,
				      storage_json(s, n->name, &n->st[i]));
	}
}

static void h_storage_status(struct sim *s, struct sim_req *rq,
			     struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	struct sim_storage *st;

	if (!n)
		return;
	st = sim_storage(n, req_param(rq, "storage"));
	if (!st) {
		resp_fail(rs, 500, "storage '%s' does not exist",
			  req_param(rq, "storage"));
		return;
	}
	rs->data = storage_json(s, n->name, st);
}

static void h_cert_info(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (!need_node(s, rq, rs))
		return;
	rs->data = json_array();
	if (s->fingerprint[0])
		json_array_append_new(rs->data,
				      json_pack("{s:s, s:s}", "filename",
						"pve-ssl.pem", "fingerprint",
						s->fingerprint));
}

static void h_qemu_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	size_t i;

	if (!n)
		return;
	rs->data = json_array();
	for (i = 0; i < s->nr_vms; i++)
		if (!strcmp(s->vms[i]->node, n->name))
			json_array_append_new(rs->data, vm_summary(s->vms[i]));
}

static void h_vm_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	static const char *const dirs[] = {
		"config",   "pending",	      "status",	   "unlink",
		"vncproxy", "migrate",	      "resize",	   "move",
		"rrd",	    "rrddata",	      "monitor",   "agent",
		"snapshot", "spiceproxy",     "sendkey",   "firewall",
		"mtunnel",  "remote_migrate", "cloudinit", NULL
	};
	size_t i;

	if (!need_vm(s, rq, rs))
		return;
	rs->data = json_array();
	for (i = 0; dirs[i]; i++)
		json_array_append_new(rs->data,
				      json_pack("{s:s}", "subdir", dirs[i]));
}

/* ---- dispatch --------------------------------------------------------- */

struct route {
	const char *method, *tmpl;
	handler_fn *fn;
};

static const struct route routes[] = {
	{ "GET", "/version", h_version },
	{ "GET", "/cluster/resources", h_resources },
	{ "GET", "/cluster/nextid", h_nextid },
	{ "GET", "/cluster/tasks", h_cluster_tasks },
	{ "GET", "/nodes", h_nodes },
	{ "GET", "/nodes/{node}/status", h_node_status },
	{ "POST", "/nodes/{node}/status", h_node_command },
	{ "GET", "/nodes/{node}/storage", h_storage },
	{ "GET", "/nodes/{node}/storage/{storage}/status", h_storage_status },
	{ "GET", "/nodes/{node}/certificates/info", h_cert_info },
	{ "GET", "/nodes/{node}/qemu", h_qemu_list },
	{ "POST", "/nodes/{node}/qemu", h_create },
	{ "GET", "/nodes/{node}/qemu/{vmid}", h_vm_index },
	{ "DELETE", "/nodes/{node}/qemu/{vmid}", h_destroy },
	{ "GET", "/nodes/{node}/qemu/{vmid}/config", h_config_get },
	{ "POST", "/nodes/{node}/qemu/{vmid}/config", h_config_post },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/config", h_config_put },
	{ "GET", "/nodes/{node}/qemu/{vmid}/pending", h_pending },
	{ "POST", "/nodes/{node}/qemu/{vmid}/clone", h_clone },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/resize", h_resize },
	{ "POST", "/nodes/{node}/qemu/{vmid}/template", h_template },
	{ "GET", "/nodes/{node}/qemu/{vmid}/cloudinit", h_cloudinit_get },
	{ "PUT", "/nodes/{node}/qemu/{vmid}/cloudinit", h_cloudinit_put },
	{ "GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump", h_cloudinit_dump },
	{ "GET", "/nodes/{node}/qemu/{vmid}/status/current", h_status_current },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/start", h_start },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/stop", h_stop },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/shutdown", h_shutdown },
	{ "POST", "/nodes/{node}/qemu/{vmid}/status/reboot", h_reboot },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces",
	  h_agent_ifaces },
	{ "POST", "/nodes/{node}/qemu/{vmid}/agent/ping", h_agent_ping },
	{ "GET", "/nodes/{node}/qemu/{vmid}/agent/file-read", h_agent_file },
	{ "GET", "/pools", h_pools_list },
	{ "POST", "/pools", h_pool_create },
	{ "PUT", "/pools", h_pool_update },
	{ "DELETE", "/pools", h_pool_delete },
	{ "GET", "/pools/{poolid}", h_pool_get },
	{ "PUT", "/pools/{poolid}", h_pool_update },
	{ "DELETE", "/pools/{poolid}", h_pool_delete },
	{ "GET", "/nodes/{node}/tasks", h_node_tasks },
	{ "GET", "/nodes/{node}/tasks/{upid}", h_task_index },
	{ "DELETE", "/nodes/{node}/tasks/{upid}", h_task_stop },
	{ "GET", "/nodes/{node}/tasks/{upid}/status", h_task_status },
	{ "GET", "/nodes/{node}/tasks/{upid}/log", h_task_log },
	{ NULL, NULL, NULL },
};

void api_handle(struct sim *s, struct sim_req *rq, const char *tmpl,
		struct sim_resp *rs, const char *fail_task)
{
	size_t i;

	s->fail_task = fail_task;
	for (i = 0; routes[i].method; i++)
		if (!strcmp(routes[i].method, rq->method) &&
		    !strcmp(routes[i].tmpl, tmpl)) {
			rs->status = 200;
			routes[i].fn(s, rq, rs);
			s->fail_task = NULL;
			return;
		}
	s->fail_task = NULL;
	resp_fail(rs, 501, "Method '%s %s' not implemented by proxmox-sim",
		  rq->method, tmpl);
}
