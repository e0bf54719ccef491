/*
 * endpoint.c - what the endpoint files share (see endpoint.h): the node
 * and VM of a path, Proxmox's lock checks, tasks, and a VM's summary.
 */
#include "endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/backoff.h"
#include "util/parse.h"
#include "util/xalloc.h"

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
		sleep_ms((long)(deadline - now < 20 ? deadline - now : 20));
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
