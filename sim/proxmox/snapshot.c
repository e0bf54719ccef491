/*
 * snapshot.c - VM snapshots as qemu-server answers them (API2/Qemu.pm
 * snapshot_list, snapshot, snapshot_cmd_idx, get/update_snapshot_config,
 * rollback, delsnapshot; the work of pve-guest-common's AbstractConfig.pm
 * and QemuConfig.pm). The checks of the worker fail the task, as they do
 * there; the section ([NAME] of the config) is written and the config
 * "lock" (snapshot, rollback, snapshot-delete) set when the task starts,
 * and sim.c finishes both when it ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"
#include "vmconfig.h"
#include "vmdisk.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* A worker that dies at once: the task fails with why. */
static void task_dies(struct sim *s, struct sim_resp *rs, const char *node,
		      const char *type, int vmid, const struct sim_req *rq,
		      const char *why)
{
	start_task(s, rs, node, type, vmid, rq->userid, FX_NONE, why);
}

/* The config lock the worker's check_lock refuses ("VM N is locked"). */
static bool locked(const struct sim_vm *vm, struct strbuf *why)
{
	const char *lock = kv_get(&vm->conf, "lock");

	if (lock)
		strbuf_addf(why, "VM %d is locked (%s)", vm->vmid, lock);
	return lock != NULL;
}

/* ---- the list ------------------------------------------------------------ */

static json_t *snap_item(const struct sim_snap *sn)
{
	const char *t = kv_get(&sn->conf, "snaptime");
	const char *d = kv_get(&sn->conf, "description");
	const char *p = kv_get(&sn->conf, "parent");
	const char *st = kv_get(&sn->conf, "snapstate");
	uint64_t when = 0;
	json_t *o;

	if (t && parse_u64z(&when, t, 0, INT64_MAX) < 0)
		when = 0;
	o = json_pack("{s:s, s:I, s:i, s:s}", "name", sn->name, "snaptime",
		      (json_int_t)when, "vmstate",
		      kv_get(&sn->conf, "vmstate") ? 1 : 0, "description",
		      d ? d : "");
	if (p)
		json_object_set_new(o, "parent", json_string(p));
	if (st)
		json_object_set_new(o, "snapstate", json_string(st));
	return o;
}

/* GET .../snapshot: every section, then "current" (the VM itself). */
void h_snapshot_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *parent;
	char digest[41];
	json_t *cur;
	size_t i;

	if (!vm)
		return;
	rs->data = json_array();
	for (i = 0; i < vm->nr_snaps; i++)
		json_array_append_new(rs->data, snap_item(&vm->snaps[i]));
	sim_config_digest(vm, digest);
	cur = json_pack("{s:s, s:s, s:i, s:s}", "name", "current", "digest",
			digest, "running", vm->running ? 1 : 0, "description",
			"You are here!");
	if ((parent = kv_get(&vm->conf, "parent")))
		json_object_set_new(cur, "parent", json_string(parent));
	json_array_append_new(rs->data, cur);
}

/* GET .../snapshot/{snapname}: the index, the same for any name. */
void h_snapshot_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	rs->data =
		json_pack("[{s:s}, {s:s}]", "cmd", "rollback", "cmd", "config");
}

/* ---- create ----------------------------------------------------------------
 */

/*
 * volume_has_feature('snapshot') of a current volume, by storage type
 * (pve-storage's plugins): LVM-thin, ZFS, RBD and BTRFS snapshot any
 * volume; directory-like storages and LVM only qcow2; a base volume, a
 * path and other storages not at all.
 */
static bool can_snapshot(struct sim *s, const struct sim_vm *vm,
			 const char *val)
{
	static const char *const any[] = { "lvmthin", "zfspool", "zfs",
					   "rbd",     "btrfs",	 NULL };
	static const char *const qcow2[] = { "dir",	  "nfs",    "cifs",
					     "glusterfs", "cephfs", "lvm",
					     NULL };
	size_t n = strcspn(val, ","), i;
	const char *colon = memchr(val, ':', n), *name, *p;
	struct sim_storage *st;
	char *sid;

	if (val[0] == '/' || !colon)
		return false;
	sid = xstrndup(val, (size_t)(colon - val));
	st = sim_storage(sim_node(s, vm->node), sid);
	free(sid);
	/* a linked clone's "base-N-disk-0/vm-M-disk-0" is no base */
	for (name = p = colon + 1; p < val + n; p++)
		if (*p == '/')
			name = p + 1;
	if (!st || !strncmp(name, "base-", 5))
		return false;
	for (i = 0; any[i]; i++)
		if (!strcmp(st->type, any[i]))
			return true;
	for (i = 0; qcow2[i]; i++)
		if (!strcmp(st->type, qcow2[i]))
			return n > 6 && !strncmp(val + n - 6, ".qcow2", 6);
	return false;
}

/* drive_is_cdrom: a CD-ROM or a cloud-init drive (both media=cdrom). */
static bool is_cdrom(const char *val)
{
	return strstr(val, "media=cdrom") != NULL;
}

/* QemuConfig has_feature('snapshot'): every drive but CD-ROMs. */
static bool has_snapshot_feature(struct sim *s, const struct sim_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->conf.nr; i++)
		if (sim_drive_key(vm->conf.v[i].key) &&
		    !is_cdrom(vm->conf.v[i].val) &&
		    !can_snapshot(s, vm, vm->conf.v[i].val))
			return false;
	return true;
}

/* check_non_migratable_resources with a state to save. */
static bool state_blocked(const struct sim_vm *vm, struct strbuf *why)
{
	const char *keys[] = { "amd-sev", "intel-tdx", NULL };
	struct strbuf list = STRBUF_INIT;
	size_t i;

	for (i = 0; keys[i]; i++)
		if (kv_get(&vm->conf, keys[i]))
			strbuf_addf(&list, "%s%s", list.len ? ", " : "",
				    keys[i]);
	for (i = 0; i < vm->conf.nr; i++)
		if (!strncmp(vm->conf.v[i].key, "virtiofs", 8)) {
			strbuf_addf(&list, "%svirtiofs", list.len ? ", " : "");
			break;
		}
	if (list.len)
		strbuf_addf(why,
			    "Cannot live-migrate, snapshot (with RAM), or "
			    "hibernate a VM with: %s",
			    list.buf);
	strbuf_release(&list);
	return why->len > 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * find_vmstate_storage: vmstatestorage, else a shared storage of a disk,
 * else a local one (file storages preferred, storage ids sorted), else
 * "local".
 */
static void state_storage(struct sim *s, const struct sim_vm *vm,
			  struct strbuf *out)
{
	struct sim_node *n = sim_node(s, vm->node);
	const char *shared = NULL, *local = NULL;
	struct strvec sids = STRVEC_INIT;
	size_t i;

	if (kv_get(&vm->conf, "vmstatestorage")) {
		strbuf_addstr(out, kv_get(&vm->conf, "vmstatestorage"));
		return;
	}
	for (i = 0; i < vm->conf.nr; i++) {
		const char *v = vm->conf.v[i].val;
		size_t len = strcspn(v, ":,");

		if (sim_drive_key(vm->conf.v[i].key) && !is_cdrom(v) &&
		    v[0] != '/' && v[len] == ':')
			strvec_pushf(&sids, "%.*s", (int)len, v);
	}
	qsort(sids.v, sids.nr, sizeof(*sids.v), cmp_str);
	for (i = 0; i < sids.nr; i++) {
		struct sim_storage *st = sim_storage(n, sids.v[i]);
		const char **dst = st && st->shared ? &shared : &local;

		if (st && (!*dst || storage_is_file(st)))
			*dst = st->name;
	}
	strbuf_addstr(out, shared ? shared : local ? local : "local");
	strvec_clear(&sids);
}

/*
 * __snapshot_save_vmstate: a raw volume "vm-VMID-state-NAME" of twice
 * the memory and 500 MiB on the state storage; the section names it with
 * the running machine and CPU. -1 with why when there is no storage.
 */
static int save_vmstate(struct sim *s, const struct sim_vm *vm,
			struct sim_snap *sn, struct sim_task *t,
			struct strbuf *why)
{
	struct strbuf sid = STRBUF_INIT, name = STRBUF_INIT,
		      volid = STRBUF_INIT;
	uint64_t mem = vm_maxmem(vm);
	struct sim_storage *st;
	int ret = -1;

	state_storage(s, vm, &sid);
	st = sim_storage(sim_node(s, vm->node), sid.buf);
	if (!st) {
		strbuf_addf(why, "storage '%s' does not exist", sid.buf);
		goto out;
	}
	if (storage_is_file(st))
		strbuf_addf(&name, "%d/vm-%d-state-%s.raw", vm->vmid, vm->vmid,
			    sn->name);
	else
		strbuf_addf(&name, "vm-%d-state-%s", vm->vmid, sn->name);
	sim_add_volume(s, st->name, name.buf, vm->node, vm->vmid,
		       mem * 2 + (500ULL << 20));
	strbuf_addf(&volid, "%s:%s", st->name, name.buf);
	kv_set(&sn->conf, "vmstate", volid.buf);
	kv_set(&sn->conf, "runningmachine", "pc-i440fx-9.2+pve1");
	kv_set(&sn->conf, "runningcpu",
	       "qemu64,+aes,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+pni,+popcnt,"
	       "+sse4.1,+sse4.2,+ssse3");
	if (kv_get(&vm->conf, "net0") &&
	    !strncmp(kv_get(&vm->conf, "net0"), "virtio=", 7))
		kv_set(&sn->conf, "running-nets-host-mtu", "net0=1500");
	strvec_pushf(&t->log, "saving VM state and RAM using storage '%s'",
		     st->name);
	strvec_pushf(&t->log,
		     "completed saving the VM state in 1s, saved %.2f MiB",
		     (double)(mem >> 20) / 4);
	ret = 0;
out:
	strbuf_release(&sid);
	strbuf_release(&name);
	strbuf_release(&volid);
	return ret;
}

/* __snapshot_copy_config: the VM's keys but the snapshot's own. */
static void copy_config(struct sim_snap *sn, const struct sim_vm *vm)
{
	static const char *const skip[] = { "snapstate", "snaptime",
					    "vmstate",	 "lock",
					    "digest",	 "description",
					    NULL };
	size_t i, j;

	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key;

		for (j = 0; skip[j] && strcmp(k, skip[j]); j++)
			;
		if (!skip[j] && strncmp(k, "unused", 6))
			kv_set(&sn->conf, k, vm->conf.v[i].val);
	}
}

/* The worker's checks of __snapshot_prepare, in its order. */
static int prepare_check(struct sim *s, const struct sim_vm *vm,
			 const char *name, bool vmstate, struct strbuf *why)
{
	if (is_template(vm))
		strbuf_addstr(why,
			      "you can't take a snapshot if it's a template");
	else if (locked(vm, why) || (vmstate && state_blocked(vm, why)))
		;
	else if (sim_snap_find((struct sim_vm *)vm, name))
		strbuf_addf(why, "snapshot name '%s' already used", name);
	else if (!has_snapshot_feature(s, vm))
		strbuf_addstr(why, "snapshot feature is not available");
	return why->len ? -1 : 0;
}

/* The section in state "prepare", and the snapshot lock. */
static int prepare(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		   struct sim_task *t, struct strbuf *why)
{
	const char *name = req_param(rq, "snapname");
	const char *descr = req_param(rq, "description");
	struct sim_snap *sn;
	char when[24];
	size_t i;

	for (i = 0; i < vm->nr_snaps; i++) {
		const char *p = kv_get(&vm->snaps[i].conf, "parent");

		if (p && !strcmp(p, name)) {
			strvec_pushf(&t->log,
				     "deleting parent '%s' reference from '%s' "
				     "to avoid bogus snapshot cycle.",
				     name, vm->snaps[i].name);
			kv_del(&vm->snaps[i].conf, "parent");
		}
	}
	sn = sim_snap_add(vm, name);
	if (param_true(rq, "vmstate") && vm->running &&
	    save_vmstate(s, vm, sn, t, why) < 0) {
		sim_snap_drop(vm, name);
		return -1;
	}
	copy_config(sn, vm);
	kv_set(&sn->conf, "snapstate", "prepare");
	snprintf(when, sizeof(when), "%lld", (long long)(sim_now_ms() / 1000));
	kv_set(&sn->conf, "snaptime", when);
	if (descr && *descr)
		kv_set(&sn->conf, "description", descr);
	kv_set(&vm->conf, "lock", "snapshot");
	return 0;
}

/* One "snapshotting" line for every drive but CD-ROMs. */
static void log_drives(struct sim_task *t, const struct sim_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->conf.nr; i++) {
		const char *v = vm->conf.v[i].val;

		if (sim_drive_key(vm->conf.v[i].key) && !is_cdrom(v))
			strvec_pushf(&t->log, "snapshotting 'drive-%s' (%.*s)",
				     vm->conf.v[i].key, (int)strcspn(v, ","),
				     v);
	}
}

/* POST .../snapshot: reserved names answer at once, the rest fails the
 * qmsnapshot task. */
void h_snapshot_create(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *name = req_param(rq, "snapname");
	bool vmstate = param_true(rq, "vmstate");
	struct strbuf why = STRBUF_INIT;
	struct sim_vm *vm;
	struct sim_task *t;
	char node[64];
	int vmid;

	if (!need_node(s, rq, rs))
		return;
	if (!strcmp(name, "current") || !strcasecmp(name, "pending")) {
		resp_fail(rs, 500,
			  "unable to use snapshot name '%s' (reserved name)",
			  strcmp(name, "current") ? "pending" : "current");
		return;
	}
	if (!(vm = need_vm(s, rq, rs)))
		return;
	if (vmstate && state_blocked(vm, &why)) {
		resp_fail(rs, 500, "%s", why.buf);
		goto out;
	}
	snprintf(node, sizeof(node), "%s", vm->node);
	vmid = vm->vmid;
	/* lock_config of __snapshot_prepare: tasks holding it end first */
	vm = flock_wait(s, vmid, true, s->opts.lock_wait_ms, &why);
	if (!vm || prepare_check(s, vm, name, vmstate, &why) < 0) {
		task_dies(s, rs, node, "qmsnapshot", vmid, rq, why.buf);
		goto out;
	}
	t = start_task(s, rs, vm->node, "qmsnapshot", vm->vmid, rq->userid,
		       FX_SNAPSHOT, NULL);
	if (prepare(s, vm, rq, t, &why) < 0) {
		t->fx = FX_NONE;
		free(t->fail);
		t->fail = xstrdup(why.buf);
		goto out;
	}
	t->snapname = xstrdup(name);
	log_drives(t, vm);
out:
	strbuf_release(&why);
}

/* ---- one snapshot ----------------------------------------------------------
 */

/* GET .../snapshot/{snapname}/config: the section as it is. */
void h_snapshot_config_get(struct sim *s, struct sim_req *rq,
			   struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *name = req_param(rq, "snapname");
	struct sim_snap *sn;

	if (!vm)
		return;
	if (!(sn = sim_snap_find(vm, name))) {
		resp_fail(rs, 500, "snapshot '%s' does not exist", name);
		return;
	}
	rs->data = vm_config_json(&sn->conf);
}

/* PUT .../snapshot/{snapname}/config: the description, under the lock
 * file; nothing at all without one. */
void h_snapshot_config_put(struct sim *s, struct sim_req *rq,
			   struct sim_resp *rs)
{
	const char *descr = req_param(rq, "description");
	const char *name = req_param(rq, "snapname");
	struct strbuf why = STRBUF_INIT;
	struct sim_vm *vm;
	struct sim_snap *sn = NULL;

	rs->data = json_null();
	if (!descr || !(vm = need_vm(s, rq, rs)))
		return;
	vm = flock_wait(s, vm->vmid, true, s->opts.lock_wait_ms, &why);
	if (vm && !locked(vm, &why) && !(sn = sim_snap_find(vm, name)))
		strbuf_addf(&why, "snapshot '%s' does not exist", name);
	if (why.len) {
		resp_fail(rs, 500, "%s", why.buf);
	} else if (*descr) {
		kv_set(&sn->conf, "description", descr);
	} else {
		kv_del(&sn->conf, "description");
	}
	strbuf_release(&why);
}

/* The VM of a worker that loads its config itself; NULL with why. */
static struct sim_vm *worker_vm(struct sim *s, const struct sim_req *rq,
				const char *node, struct strbuf *why)
{
	int vmid = vmid_of(rq, "vmid");
	struct sim_vm *vm = sim_vm(s, vmid);

	if (!vm || strcmp(vm->node, node)) {
		strbuf_addf(why,
			    "Configuration file 'nodes/%s/qemu-server/%d.conf' "
			    "does not exist",
			    node, vmid);
		return NULL;
	}
	/* its lock_config: tasks holding the lock file end first */
	return flock_wait(s, vmid, true, s->opts.lock_wait_ms, why);
}

/*
 * POST .../snapshot/{snapname}/rollback (a qmrollback task): the checks of
 * snapshot_rollback, the VM stopped and the lock "rollback" while it
 * runs; with start=1 (or the snapshot's vmstate) it runs again after.
 */
void h_snapshot_rollback(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *name = req_param(rq, "snapname");
	struct sim_node *n = need_node(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	struct sim_snap *sn = NULL;
	struct sim_vm *vm;
	struct sim_task *t;

	if (!n)
		return;
	if (!(vm = worker_vm(s, rq, n->name, &why)))
		;
	else if (is_template(vm))
		strbuf_addstr(&why, "you can't rollback if vm is a template");
	else if (!(sn = sim_snap_find(vm, name)))
		strbuf_addf(&why, "snapshot '%s' does not exist", name);
	else if (kv_get(&sn->conf, "snapstate"))
		strbuf_addf(&why,
			    "unable to rollback to incomplete snapshot "
			    "(snapstate = %s)",
			    kv_get(&sn->conf, "snapstate"));
	else
		locked(vm, &why);
	if (why.len) {
		task_dies(s, rs, n->name, "qmrollback", vmid_of(rq, "vmid"), rq,
			  why.buf);
		goto out;
	}
	vm->running = vm->paused = false; /* __snapshot_rollback_vm_stop */
	kv_set(&vm->conf, "lock", "rollback");
	t = start_task(s, rs, n->name, "qmrollback", vm->vmid, rq->userid,
		       FX_ROLLBACK, NULL);
	t->snapname = xstrdup(name);
	t->start_after = param_true(rq, "start");
out:
	strbuf_release(&why);
}

/*
 * DELETE .../snapshot/{snapname} (a qmdelsnapshot task): the checks of
 * snapshot_delete; the lock "snapshot-delete" and snapstate "delete"
 * while it runs (a template's keeps the lock, as set_lock left it).
 */
void h_snapshot_delete(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *name = req_param(rq, "snapname");
	struct sim_node *n = need_node(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	struct sim_snap *sn = NULL;
	struct sim_vm *vm;
	struct sim_task *t;

	if (!n)
		return;
	if (!(vm = worker_vm(s, rq, n->name, &why)))
		;
	else if (!(sn = sim_snap_find(vm, name)))
		strbuf_addf(&why, "snapshot '%s' does not exist", name);
	else if (!locked(vm, &why) && is_template(vm)) {
		kv_set(&vm->conf, "lock", "snapshot-delete");
		strbuf_addstr(
			&why,
			"you can't delete a snapshot if vm is a template");
	}
	if (why.len) {
		task_dies(s, rs, n->name, "qmdelsnapshot", vmid_of(rq, "vmid"),
			  rq, why.buf);
		goto out;
	}
	kv_set(&vm->conf, "lock", "snapshot-delete");
	kv_set(&sn->conf, "snapstate", "delete");
	t = start_task(s, rs, n->name, "qmdelsnapshot", vm->vmid, rq->userid,
		       FX_DELSNAPSHOT, NULL);
	t->snapname = xstrdup(name);
out:
	strbuf_release(&why);
}
