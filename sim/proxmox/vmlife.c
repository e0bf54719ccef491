/*
 * vmlife.c - VM lifecycle endpoints: clone, resize, template, destroy,
 * start/stop/shutdown/reboot and current status (the guest agent's
 * commands are in agent.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "ha.h"
#include "handlers.h"
#include "pools.h"
#include "vmconfig.h"
#include "vmdisk.h"
#include "vmsuspend.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* Split "storage:name,opts" of a disk value; false for none/cdrom. */
static bool disk_parts(const char *val, char **storage, char **name,
		       const char **opts)
{
	size_t n = strcspn(val, ",");
	const char *colon = memchr(val, ':', n);

	if (!colon || val[0] == '/' ||
	    (strstr(val, "media=cdrom") && !strstr(val, "cloudinit")))
		return false;
	*storage = xstrndup(val, (size_t)(colon - val));
	*name = xstrndup(colon + 1, n - (size_t)(colon - val) - 1);
	*opts = val + n;
	return true;
}

/* ---- clone ------------------------------------------------------------ */

struct clone_plan {
	const char *target, *storage, *format;
	bool full;
};

/* A linked clone of a VM that is no template: its disks cannot be. */
static int check_linked(const struct sim_vm *src, struct sim_resp *rs)
{
	size_t i;

	for (i = 0; i < src->conf.nr; i++) {
		char *st, *nm;
		const char *opts;

		if (!sim_drive_key(src->conf.v[i].key) ||
		    strstr(src->conf.v[i].val, "-cloudinit") ||
		    !disk_parts(src->conf.v[i].val, &st, &nm, &opts))
			continue;
		resp_fail(rs, 500,
			  "Linked clone feature is not supported for '%s:%s' "
			  "(%s)",
			  st, nm, src->conf.v[i].key);
		free(st);
		free(nm);
		return -1;
	}
	return 0;
}

/* A clone to another node needs every disk on a shared storage. */
static int check_shared(struct sim *s, const struct sim_vm *src,
			const char *target, struct sim_resp *rs)
{
	size_t i;

	for (i = 0; i < src->conf.nr; i++) {
		char *st, *nm;
		const char *opts;
		struct sim_storage *sst;

		if (!sim_drive_key(src->conf.v[i].key) ||
		    !disk_parts(src->conf.v[i].val, &st, &nm, &opts))
			continue;
		sst = sim_storage(sim_node(s, src->node), st);
		free(st);
		free(nm);
		if (!sst || !sst->shared) {
			resp_fail(rs, 500,
				  "can't clone VM to node '%s' (VM uses local "
				  "storage)",
				  target);
			return -1;
		}
	}
	return 0;
}

/*
 * The checks in the order of qemu-server's clone_vm (load_and_check): the
 * pool, the target storage, then (plain dies: 500, not 400) 'storage' or
 * 'format' with a linked clone, and the disks last.
 */
static int check_clone(struct sim *s, struct sim_vm *src, struct sim_req *rq,
		       struct clone_plan *p, struct sim_resp *rs)
{
	const char *full = req_param(rq, "full");
	struct sim_node *tn;

	p->target =
		req_param(rq, "target") ? req_param(rq, "target") : src->node;
	p->storage = req_param(rq, "storage");
	p->format = req_param(rq, "format");
	p->full = full ? !strcmp(full, "1") : !is_template(src);
	if (!(tn = sim_node(s, p->target))) {
		resp_fail(rs, 500, "no such cluster node '%s'", p->target);
		return -1;
	}
	if (req_param(rq, "pool") && !need_pool(s, req_param(rq, "pool"), rs))
		return -1;
	if (p->storage) {
		struct sim_storage *st = sim_storage(tn, p->storage);

		if (!st) {
			resp_fail(rs, 500, "storage '%s' does not exist",
				  p->storage);
			return -1;
		}
		if (!strstr(st->content, "images")) {
			param_fail(rs, "storage",
				   "storage '%s' does not support vm images",
				   p->storage);
			return -1;
		}
	}
	if (!p->full && (p->storage || p->format)) {
		resp_fail(rs, 500,
			  "parameter '%s' not allowed for linked clones",
			  p->storage ? "storage" : "format");
		return -1;
	}
	if (!p->full && !is_template(src) && check_linked(src, rs) < 0)
		return -1;
	if (strcmp(p->target, src->node))
		return check_shared(s, src, p->target, rs);
	return 0;
}

/*
 * The name of a full copy of volume src_name on dst: the n-th disk, in the
 * format asked for where dst keeps files ("NEWID/vm-NEWID-disk-N.qcow2").
 */
static void clone_name(struct sim *s, const struct sim_storage *dst, int vmid,
		       const struct clone_plan *p, const char *src_name, int *n,
		       struct strbuf *out)
{
	const char *fmt = disk_format_for(dst, p->format, src_name);

	if (strstr(src_name, "-cloudinit")) {
		disk_fresh_name(s, dst, vmid, fmt, true, out);
		return;
	}
	if (storage_is_file(dst))
		strbuf_addf(out, "%d/vm-%d-disk-%d.%s", vmid, vmid, (*n)++,
			    fmt);
	else
		strbuf_addf(out, "vm-%d-disk-%d", vmid, (*n)++);
}

/* Copy src's disks as volumes of vm; -1 when a storage is full. */
static int clone_disks(struct sim *s, const struct sim_vm *src,
		       struct sim_vm *vm, const struct clone_plan *p,
		       struct strbuf *why)
{
	size_t i;
	int n = 0;

	for (i = 0; i < src->conf.nr; i++) {
		const char *key = src->conf.v[i].key, *opts;
		char *st, *nm;
		struct sim_volume *v;
		struct strbuf name = STRBUF_INIT, val = STRBUF_INIT;
		const char *dst_st;
		struct sim_storage *dst;

		if (!sim_drive_key(key) ||
		    !disk_parts(src->conf.v[i].val, &st, &nm, &opts))
			continue;
		v = sim_volume_find(s, st, nm);
		dst_st = p->full && p->storage ? p->storage : st;
		dst = sim_storage(sim_node(s, vm->node), dst_st);
		if (dst && (p->full || strstr(nm, "-cloudinit")))
			clone_name(s, dst, vm->vmid, p, nm, &n, &name);
		else
			strbuf_addf(&name, "%s/vm-%d-disk-%d", nm, vm->vmid,
				    n++);
		if (!dst || (v && sim_storage_used(s, vm->node, dst) + v->size >
					  dst->total)) {
			strbuf_addf(why,
				    "clone failed: not enough space on storage "
				    "'%s'",
				    dst_st);
			free(st);
			free(nm);
			strbuf_release(&name);
			return -1;
		}
		sim_add_volume(s, dst_st, name.buf, vm->node, vm->vmid,
			       v ? v->size : 0);
		strbuf_addf(&val, "%s:%s%s", dst_st, name.buf, opts);
		kv_set(&vm->conf, key, val.buf);
		free(st);
		free(nm);
		strbuf_release(&name);
		strbuf_release(&val);
	}
	return 0;
}

/* snapshots: what clone_vm does not copy ("snapshot related info") */
static bool snapshot_key(const char *k)
{
	static const char *const keys[] = { "parent",
					    "snaptime",
					    "vmstate",
					    "snapstate",
					    "runningcpu",
					    "runningmachine",
					    "running-nets-host-mtu",
					    NULL };
	size_t i;

	for (i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* snapshots: the source of a clone with snapname, a view of src with the
 * snapshot's configuration; NULL with Proxmox's error when it has none. */
static struct sim_vm *clone_source(struct sim_vm *src, struct sim_req *rq,
				   struct sim_vm *view, struct sim_resp *rs)
{
	const char *name = req_param(rq, "snapname");
	struct sim_snap *sn = name ? sim_snap_find(src, name) : NULL;

	if (!name)
		return src;
	if (!sn) {
		resp_fail(rs, 500, "snapshot '%s' does not exist", name);
		return NULL;
	}
	*view = *src;
	view->conf = sn->conf;
	return view;
}

static void clone_config(struct sim *s, const struct sim_vm *src,
			 struct sim_vm *vm, const struct sim_req *rq)
{
	const char *name = req_param(rq, "name");
	const char *descr = req_param(rq, "description");
	size_t i;

	for (i = 0; i < src->conf.nr; i++) {
		const char *k = src->conf.v[i].key, *v = src->conf.v[i].val;

		if (!strcmp(k, "template") || !strcmp(k, "lock") ||
		    !strncmp(k, "unused", 6) || sim_drive_key(k) ||
		    snapshot_key(k))
			continue;
		if (!strncmp(k, "net", 3)) {
			const char *eq = strchr(v, '='), *rest;
			char mac[18];

			if (eq) {
				struct strbuf sb = STRBUF_INIT;

				rest = strchr(eq, ',');
				sim_new_mac(s, mac);
				strbuf_addf(&sb, "%.*s=%s%s", (int)(eq - v), v,
					    mac, rest ? rest : "");
				kv_set(&vm->conf, k, sb.buf);
				strbuf_release(&sb);
				continue;
			}
		}
		kv_set(&vm->conf, k, v);
	}
	/* disk slots keep their order: add placeholders now */
	for (i = 0; i < src->conf.nr; i++)
		if (sim_drive_key(src->conf.v[i].key))
			kv_set(&vm->conf, src->conf.v[i].key,
			       src->conf.v[i].val);
	if (name)
		kv_set(&vm->conf, "name", name);
	else {
		struct strbuf sb = STRBUF_INIT;
		const char *old = kv_get(&src->conf, "name");

		if (old)
			strbuf_addf(&sb, "Copy-of-VM-%s", old);
		else
			strbuf_addf(&sb, "Copy-of-VM-%d", src->vmid);
		kv_set(&vm->conf, "name", sb.buf);
		strbuf_release(&sb);
	}
	if (descr)
		kv_set(&vm->conf, "description", descr);
	kv_set(&vm->conf, "lock", "clone");
}

/*
 * A clone onto a container's vmid: qemu-server's clone worker writes the
 * new config with PVE::Tools::file_set_contents, whose rename pmxcfs
 * refuses with EEXIST (memdb.c, vmlist_different_vm_exists), so the task
 * fails; nothing is made.
 */
static void clone_onto_ct(struct sim *s, struct sim_req *rq,
			  struct sim_resp *rs, const struct sim_vm *src,
			  int newid)
{
	struct strbuf why = STRBUF_INIT;

	strbuf_addf(&why,
		    "close (rename) atomic file "
		    "'/etc/pve/nodes/%s/qemu-server/%d.conf' failed: File "
		    "exists",
		    src->node, newid);
	start_task(s, rs, src->node, "qmclone", src->vmid, rq->userid, FX_NONE,
		   why.buf);
	strbuf_release(&why);
}

void h_clone(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *src = need_vm(s, rq, rs), *vm, *from, view;
	int newid = vmid_of(rq, "newid"), srcid;
	struct strbuf why = STRBUF_INIT;
	struct clone_plan p;
	struct sim_task *t;
	char node[64];
	bool running;

	if (!src)
		return;
	srcid = src->vmid;
	snprintf(node, sizeof(node), "%s", src->node);
	if (sim_vm(s, newid)) {
		resp_fail(rs, 500,
			  "unable to create VM %d: config file already exists",
			  newid);
		return;
	}
	/* the source's lock file: shared when stopped, for one second */
	src = flock_wait(s, srcid, src->running,
			 s->opts.lock_wait_ms < 1000 ? s->opts.lock_wait_ms
						     : 1000,
			 &why);
	if (!src || check_lock(src, rq, rs) < 0 ||
	    !(from = clone_source(src, rq, &view, rs)) ||
	    check_clone(s, from, rq, &p, rs) < 0)
		goto out;
	if (sim_vm(s, newid)) { /* taken while we waited */
		resp_fail(rs, 500,
			  "unable to create VM %d: config file already exists",
			  newid);
		goto out;
	}
	if (sim_ct(s, newid)) {
		clone_onto_ct(s, rq, rs, src, newid);
		goto out;
	}
	running = src->running;
	vm = sim_vm_new(s, newid, p.target);
	src = sim_vm(s, srcid); /* sim_vm_new may have moved it */
	from = clone_source(src, rq, &view, rs);
	clone_config(s, from, vm, rq);
	clone_disks(s, from, vm, &p, &why);
	if (src->image) /* --guests qemu: the clone boots the same image */
		vm->image = xstrdup(src->image);
	if (req_param(rq, "pool"))
		pool_add_vm(s, need_pool(s, req_param(rq, "pool"), rs), newid);
	t = start_task(s, rs, node, "qmclone", srcid, rq->userid, FX_CLONE,
		       why.len ? why.buf : NULL);
	t->vmid = newid;
	t->src_vmid = srcid;
	strvec_pushf(&t->log, "create %s clone of drives",
		     p.full ? "full" : "linked");
	vm->flock_excl++;
	t->lock_new_vmid = newid;
	if (running) {
		src->flock_excl++;
		t->lock_excl_vmid = srcid;
	} else {
		src->flock_shared++;
		t->lock_shared_vmid = srcid;
	}
	strbuf_reset(&why);
out:
	if (why.len)
		resp_fail(rs, 500, "%s", why.buf);
	strbuf_release(&why);
}

/* ---- resize, template, destroy ---------------------------------------- */

static void set_disk_size(struct sim_vm *vm, const char *key, uint64_t size)
{
	const char *val = kv_get(&vm->conf, key);
	struct strbuf sb = STRBUF_INIT, sz = STRBUF_INIT;

	sim_format_size(&sz, size);
	sim_drive_set(&sb, val, "size", sz.buf);
	kv_set(&vm->conf, key, sb.buf);
	strbuf_release(&sb);
	strbuf_release(&sz);
}

/* Fail in the worker, as Proxmox does: a task that ends with why. */
static void task_fails(struct sim *s, struct sim_resp *rs, const char *node,
		       const char *type, int vmid, struct sim_req *rq,
		       const char *why)
{
	start_task(s, rs, node, type, vmid, rq->userid, FX_NONE, why);
}

void h_resize(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *disk = req_param(rq, "disk");
	const char *size = req_param(rq, "size");
	const char *digest = req_param(rq, "digest");
	struct strbuf why = STRBUF_INIT;
	const char *val, *opts;
	uint64_t want, cur;
	char *st = NULL, *nm = NULL, node[64], d[41];
	struct sim_volume *v;
	struct sim_task *t;
	int vmid;
	bool rel;

	if (!vm)
		return;
	vmid = vm->vmid;
	snprintf(node, sizeof(node), "%s", vm->node);
	vm = lock_vm(s, vm, rq, rs, &why);
	if (rs->errors)
		goto out;
	if (!vm)
		goto fail;
	if (digest && (sim_config_digest(vm, d), strcmp(digest, d))) {
		strbuf_addstr(&why,
			      "checksum mismatch (file change by other user?)");
		goto fail;
	}
	val = kv_get(&vm->conf, disk);
	if (!val) {
		strbuf_addf(&why, "disk '%s' does not exist", disk);
		goto fail;
	}
	if (strstr(val, "media=cdrom") || !disk_parts(val, &st, &nm, &opts)) {
		strbuf_addstr(&why, "you can't resize a cdrom");
		goto fail;
	}
	if (sim_parse_size(size, &want, &rel, 'B') < 0) {
		param_fail(rs, "size",
			   "value does not match the regex pattern");
		goto out;
	}
	/* qemu-server's resize_vm: the volume's size, not the config's */
	v = sim_volume_find(s, st, nm);
	cur = v ? v->size : sim_drive_size(val);
	if (rel)
		want += cur;
	if (want < cur) {
		strbuf_addstr(&why, "shrinking disks is not supported");
		goto fail;
	}
	if (want == cur) /* "return if $size == $newsize": nothing changes */
		goto started;
	if (v) {
		struct sim_storage *sst =
			sim_storage(sim_node(s, vm->node), st);

		/* a thin pool grows a volume past its free space */
		if (sst && !sim_storage_thin(sst) &&
		    sim_storage_used(s, vm->node, sst) - v->size + want >
			    sst->total) {
			strbuf_addf(&why,
				    "resize failed: not enough space on "
				    "storage '%s'",
				    st);
			goto fail;
		}
		v->size = want;
	}
	set_disk_size(vm, disk, want);
started:
	t = start_task(s, rs, node, "resize", vmid, rq->userid, FX_NONE, NULL);
	vm->flock_excl++;
	t->lock_excl_vmid = vmid;
	goto out;
fail:
	task_fails(s, rs, node, "resize", vmid, rq, why.buf);
out:
	strbuf_release(&why);
	free(st);
	free(nm);
}

void h_template(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	struct sim_task *t;
	size_t i;

	if (vm)
		vm = lock_vm(s, vm, rq, rs, &why);
	if (why.len)
		resp_fail(rs, 500, "%s", why.buf);
	strbuf_release(&why);
	if (!vm)
		return;
	if (vm->nr_snaps) { /* snapshots: API2/Qemu.pm template */
		resp_fail(rs, 500,
			  "unable to create template, because VM contains "
			  "snapshots");
		return;
	}
	if (is_template(vm)) {
		resp_fail(rs, 500,
			  "you can't convert a template to a template");
		return;
	}
	if (vm->running) {
		resp_fail(
			rs, 500,
			"you can't convert a VM to template if VM is running");
		return;
	}
	/* vm-N-disk-M volumes become base-N-disk-M */
	for (i = 0; i < vm->conf.nr; i++) {
		char *st, *nm;
		const char *opts;
		struct sim_volume *v;

		if (!sim_drive_key(vm->conf.v[i].key) ||
		    !disk_parts(vm->conf.v[i].val, &st, &nm, &opts))
			continue;
		v = sim_volume_find(s, st, nm);
		if (v && !strncmp(nm, "vm-", 3) && !strstr(nm, "cloudinit")) {
			struct strbuf nn = STRBUF_INIT, sb = STRBUF_INIT;

			strbuf_addf(&nn, "base-%s", nm + 3);
			free(v->name);
			v->name = strbuf_detach(&nn, NULL);
			strbuf_addf(&sb, "%s:%s%s", st, v->name, opts);
			free(vm->conf.v[i].val);
			vm->conf.v[i].val = strbuf_detach(&sb, NULL);
		}
		free(st);
		free(nm);
	}
	t = start_task(s, rs, vm->node, "qmtemplate", vm->vmid, rq->userid,
		       FX_TEMPLATE, NULL);
	vm->flock_excl++;
	t->lock_excl_vmid = vm->vmid;
}

void h_destroy(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	const char *prot, *lock;
	struct sim_task *t;
	char node[64];
	int vmid;

	if (!vm)
		return;
	vmid = vm->vmid;
	snprintf(node, sizeof(node), "%s", vm->node);
	prot = kv_get(&vm->conf, "protection");
	if (prot && !strcmp(prot, "1")) {
		resp_fail(rs, 500,
			  "can't remove VM %d - protection mode enabled", vmid);
		return;
	}
	if (!param_true(rq, "purge") && ha_vm_configured(s, vmid)) {
		resp_fail(rs, 500,
			  "unable to remove VM %d - used in HA resources and "
			  "purge parameter not set.",
			  vmid);
		return;
	}
	if (vm->running) {
		resp_fail(rs, 500, "VM %d is running - destroy failed", vmid);
		return;
	}
	/* QemuServer.pm destroy_vm: a hibernated VM's lock does not count */
	lock = kv_get(&vm->conf, "lock");
	if (lock && !strcmp(lock, "suspended") && !param_true(rq, "skiplock"))
		vm = flock_wait(s, vmid, true, s->opts.lock_wait_ms, &why);
	else
		vm = lock_vm(s, vm, rq, rs, &why);
	if (!rs->errors && !vm)
		task_fails(s, rs, node, "qmdestroy", vmid, rq, why.buf);
	strbuf_release(&why);
	if (!vm)
		return;
	t = start_task(s, rs, node, "qmdestroy", vmid, rq->userid, FX_DESTROY,
		       NULL);
	t->purge = param_true(rq, "purge");
	t->destroy_unref = param_true(rq, "destroy-unreferenced-disks");
	vm->flock_excl++;
	t->lock_excl_vmid = vmid;
}

/* ---- power ------------------------------------------------------------ */

static bool agent_enabled(const struct sim_vm *vm)
{
	const char *a = kv_get(&vm->conf, "agent");

	return a && (!strncmp(a, "1", 1) || strstr(a, "enabled=1"));
}

void h_status_current(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);

	if (!vm)
		return;
	rs->data = vm_summary(vm);
	json_object_set_new(rs->data, "qmpstatus",
			    json_string(vm_qmpstatus(vm)));
	json_object_set_new(rs->data, "agent",
			    json_integer(agent_enabled(vm) ? 1 : 0));
	json_object_set_new(rs->data, "ha", ha_vm_status(s, vm->vmid));
	if (vm->running)
		json_object_set_new(
			rs->data, "pid",
			json_integer(guest_running(s, vm->vmid)
					     ? guest_running(s, vm->vmid)->pid
					     : 10000 + vm->vmid));
}

/*
 * A power operation: the lock checks and the state checks happen in the
 * worker, so a refusal is a task that fails. check(vm) returns the reason
 * or NULL.
 */
static struct sim_task *
power(struct sim *s, struct sim_req *rq, struct sim_resp *rs, const char *type,
      enum task_effect fx,
      bool (*check)(const struct sim_vm *vm, struct strbuf *why))
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	struct sim_task *t = NULL;
	char node[64];
	int vmid;

	if (!vm)
		return NULL;
	vmid = vm->vmid;
	snprintf(node, sizeof(node), "%s", vm->node);
	vm = lock_vm(s, vm, rq, rs, &why);
	if (rs->errors)
		goto out;
	if (vm && check && !check(vm, &why))
		vm = NULL;
	if (!vm) {
		task_fails(s, rs, node, type, vmid, rq, why.buf);
		goto out;
	}
	t = start_task(s, rs, node, type, vmid, rq->userid, fx, NULL);
	vm->flock_excl++;
	t->lock_excl_vmid = vmid;
out:
	strbuf_release(&why);
	return t;
}

static bool can_start(const struct sim_vm *vm, struct strbuf *why)
{
	if (is_template(vm))
		strbuf_addstr(why, "you can't start a vm if it's a template");
	else if (vm->running)
		strbuf_addf(why, "VM %d already running", vm->vmid);
	return !why->len;
}

void h_start(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (vm_start_hibernated(s, rq, rs))
		return;
	power(s, rq, rs, "qmstart", FX_START, can_start);
}

void h_stop(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	power(s, rq, rs, "qmstop", FX_STOP, NULL);
}

/* How long _do_vm_stop waits: timeout, else startup's down=, else 60 s. */
static int64_t shutdown_wait_ms(const struct sim_vm *vm,
				const struct sim_req *rq)
{
	const char *timeout = req_param(rq, "timeout");
	const char *startup = kv_get(&vm->conf, "startup");
	const char *down = startup ? strstr(startup, "down=") : NULL;
	uint64_t n = 60, d;

	if (timeout) {
		if (parse_u64z(&n, timeout, 0, UINT32_MAX) < 0)
			n = 60;
	} else if (down && parse_u64(&d, down + 5, strcspn(down + 5, ","), 1,
				     UINT32_MAX) == 0) {
		n = d;
	}
	return (int64_t)n * 1000;
}

/*
 * A guest that does not stop within the wait: one that ignores the ACPI
 * request (--guest-ignores-shutdown), or for a shutdown one slower than
 * the timeout (its task time, --task-ms qmshutdown=, is longer). The task
 * then fails at the timeout as _do_vm_stop dies, or with force the VM is
 * killed then (a warning in the log, the task still OK).
 */
static void stop_timeout(struct sim *s, struct sim_task *t, struct sim_req *rq,
			 bool force, bool slow_counts)
{
	struct sim_vm *vm = sim_vm(s, t->vmid);
	int64_t wait;

	if (!vm || !vm->running || t->fail)
		return;
	wait = shutdown_wait_ms(vm, rq);
	if (!sim_guest_ignores_shutdown(s, vm->vmid) &&
	    !(slow_counts && t->end_ms - t->start_ms > wait))
		return;
	if (force) {
		strvec_push(&t->log,
			    "VM still running - terminating now with SIGTERM");
		t->end_ms = t->start_ms + wait;
		return;
	}
	t->fx = FX_NONE;
	t->fail = xstrdup("VM quit/powerdown failed - got timeout");
	t->end_ms = t->start_ms + wait;
}

void h_shutdown(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	bool paused = vm && vm->paused;
	struct sim_task *t;

	/* vm_shutdown: a paused guest cannot take the ACPI request */
	if (paused && !param_true(rq, "forceStop")) {
		resp_fail(rs, 500, "VM is paused - cannot shutdown");
		return;
	}
	/* shutting down a stopped VM is a task that has nothing to do */
	t = power(s, rq, rs, "qmshutdown", FX_STOP, NULL);
	if (t && (vm = sim_vm(s, t->vmid)) && guest_running(s, vm->vmid) &&
	    !paused) {
		/* a real guest: the ACPI button, then wait for it to end */
		guest_powerdown(s, vm->vmid);
		t->guest_deadline_ms = t->start_ms + shutdown_wait_ms(vm, rq);
		t->guest_force = param_true(rq, "forceStop");
		return;
	}
	if (t && !paused)
		stop_timeout(s, t, rq, param_true(rq, "forceStop"), true);
}

void h_reboot(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct sim_task *t;

	if (!vm)
		return;
	if (vm->paused) {
		resp_fail(rs, 500, "VM is paused - cannot shutdown");
		return;
	}
	if (!vm->running) {
		resp_fail(rs, 500, "VM %d not running", vm->vmid);
		return;
	}
	/* vm_reboot's _do_vm_stop has no force: a deaf guest fails it */
	if ((t = power(s, rq, rs, "qmreboot", FX_REBOOT, NULL)))
		stop_timeout(s, t, rq, false, false);
}
