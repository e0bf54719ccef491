/*
 * vmsuspend.c - POST status/suspend, status/resume and status/reset as
 * qemu-server's src/PVE/API2/Qemu.pm (vm_suspend, vm_resume, vm_reset)
 * and src/PVE/QemuServer/RunState.pm answer them: a paused guest (task
 * qmpause) keeps its process, status "running" and qmpstatus "paused"; one
 * suspended to disk (task qmsuspend, todisk=1) gets a vmstate volume and
 * the lock "suspending", then "suspended", and is stopped; resume or start
 * brings it back from the state. Checks made before the fork answer 500,
 * the worker's (the config lock) fail the task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ha.h"
#include "handlers.h"
#include "vmdisk.h"
#include "vmsuspend.h"
#include "util/xalloc.h"

const char *vm_qmpstatus(const struct sim_vm *vm)
{
	if (!vm->running)
		return "stopped";
	return vm->paused ? "paused" : "running";
}

/* Root alone may pass these (raise_param_exc "Only root may ..."). */
static int root_only(const struct sim_req *rq, const char *param,
		     struct sim_resp *rs)
{
	if (param_true(rq, param) &&
	    (!rq->userid || strcmp(rq->userid, "root@pam"))) {
		param_fail(rs, param, "Only root may use this option.");
		return -1;
	}
	return 0;
}

/* A task on vm holding its lock file, failing with fail unless NULL. */
static void task_on(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		    struct sim_resp *rs, const char *type, enum task_effect fx,
		    const char *fail)
{
	struct sim_task *t = start_task(s, rs, vm->node, type, vm->vmid,
					rq->userid, fail ? FX_NONE : fx, fail);

	vm->flock_excl++;
	t->lock_excl_vmid = vm->vmid;
}

/*
 * A task whose worker takes the config lock first (lock_config and
 * check_lock unless skiplock): locked, it fails with the lock's message.
 */
static void locked_task(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
			struct sim_resp *rs, const char *type,
			enum task_effect fx)
{
	struct strbuf why = STRBUF_INIT;
	const char *lock = kv_get(&vm->conf, "lock");

	if (!param_true(rq, "skiplock") && lock)
		strbuf_addf(&why, "VM %d is locked (%s)", vm->vmid, lock);
	task_on(s, vm, rq, rs, type, fx, why.len ? why.buf : NULL);
	strbuf_release(&why);
}

/* The VM of the path, running, after the skiplock check; or NULL. */
static struct sim_vm *running_vm(struct sim *s, struct sim_req *rq,
				 struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);

	if (!vm || root_only(rq, "skiplock", rs) < 0)
		return NULL;
	if (!vm->running) {
		resp_fail(rs, 500, "VM %d not running", vm->vmid);
		return NULL;
	}
	return vm;
}

/*
 * QemuConfig.pm find_vmstate_storage: vmstatestorage, else a shared
 * storage of a drive, else a local one (a file storage preferred), else
 * "local".
 */
static const char *vmstate_storage(struct sim *s, const struct sim_vm *vm)
{
	const char *shared = NULL, *local = NULL;
	struct sim_node *n = sim_node(s, vm->node);
	size_t i;

	if (kv_get(&vm->conf, "vmstatestorage"))
		return kv_get(&vm->conf, "vmstatestorage");
	for (i = 0; i < vm->conf.nr; i++) {
		const char *v = vm->conf.v[i].val;
		size_t len = strcspn(v, ":,");
		struct sim_storage *st;
		char sid[64];

		if (v[len] != ':' || len >= sizeof(sid))
			continue;
		snprintf(sid, sizeof(sid), "%.*s", (int)len, v);
		if (!(st = sim_storage(n, sid)) ||
		    !strstr(st->content, "images"))
			continue;
		if (st->shared && (!shared || storage_is_file(st)))
			shared = st->name;
		else if (!st->shared && (!local || storage_is_file(st)))
			local = st->name;
	}
	return shared ? shared : local ? local : "local";
}

/* __snapshot_save_vmstate: vm-VMID-state-suspend-DATE, memory*2+500M. */
static int add_vmstate(struct sim *s, struct sim_vm *vm, const char *sid,
		       struct sim_resp *rs)
{
	struct sim_storage *st = sim_storage(sim_node(s, vm->node), sid);
	struct strbuf name = STRBUF_INIT, val = STRBUF_INIT;
	time_t now = time(NULL);
	struct tm tm;
	char date[16];

	if (!st) {
		resp_fail(rs, 500, "storage '%s' does not exist", sid);
		return -1;
	}
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	strbuf_addf(&name, "vm-%d-state-suspend-%s%s", vm->vmid, date,
		    storage_is_file(st) ? ".raw" : "");
	sim_add_volume(s, sid, name.buf, vm->node, vm->vmid,
		       vm_maxmem(vm) * 2 + (500ULL << 20));
	strbuf_addf(&val, "%s:%s", sid, name.buf);
	kv_set(&vm->conf, "vmstate", val.buf);
	kv_set(&vm->conf, "runningmachine", "pc-i440fx-10.0+pve1");
	kv_set(&vm->conf, "runningcpu",
	       "x86-64-v2-AES,+kvm_pv_eoi,+kvm_pv_unhalt");
	kv_set(&vm->conf, "lock", "suspending");
	strbuf_release(&name);
	strbuf_release(&val);
	return 0;
}

void h_suspend(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = running_vm(s, rq, rs);
	bool todisk = param_true(rq, "todisk");
	const char *sid = req_param(rq, "statestorage");
	const char *lock;
	size_t i;

	if (!vm)
		return;
	if (!todisk) {
		locked_task(s, vm, rq, rs, "qmpause", FX_PAUSE);
		return;
	}
	if (ha_vm_managed(s, vm->vmid)) {
		resp_fail(rs, 500, "Cannot suspend HA managed VM to disk");
		return;
	}
	for (i = 0; i < vm->conf.nr; i++)
		if (!strncmp(vm->conf.v[i].key, "hostpci", 7)) {
			resp_fail(rs, 500,
				  "cannot suspend VM to disk due to "
				  "passed-through PCI device(s), which lack "
				  "the possibility to save/restore their "
				  "internal state");
			return;
		}
	lock = kv_get(&vm->conf, "lock");
	if (lock && !param_true(rq, "skiplock"))
		locked_task(s, vm, rq, rs, "qmsuspend", FX_HIBERNATE);
	else if (add_vmstate(s, vm, sid ? sid : vmstate_storage(s, vm), rs) ==
		 0)
		task_on(s, vm, rq, rs, "qmsuspend", FX_HIBERNATE, NULL);
}

bool vm_start_hibernated(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *lock = vm ? kv_get(&vm->conf, "lock") : NULL;

	if (!vm || !lock || strcmp(lock, "suspended"))
		return false;
	task_on(s, vm, rq, rs, "qmstart", FX_WAKE, NULL);
	return true;
}

void h_resume(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *lock;

	if (!vm || root_only(rq, "skiplock", rs) < 0 ||
	    root_only(rq, "nocheck", rs) < 0)
		return;
	lock = kv_get(&vm->conf, "lock");
	if (lock && !strcmp(lock, "suspended")) {
		task_on(s, vm, rq, rs, "qmresume", FX_WAKE, NULL);
		return;
	}
	if (!vm->running) {
		resp_fail(rs, 500, "VM %d not running", vm->vmid);
		return;
	}
	if (is_template(vm)) {
		struct strbuf why = STRBUF_INIT;

		strbuf_addf(&why, "VM %d is a template and cannot be resumed!",
			    vm->vmid);
		task_on(s, vm, rq, rs, "qmresume", FX_NONE, why.buf);
		strbuf_release(&why);
		return;
	}
	/* a guest that runs: "job done, go home", before the lock check */
	if (!vm->paused)
		task_on(s, vm, rq, rs, "qmresume", FX_NONE, NULL);
	else
		locked_task(s, vm, rq, rs, "qmresume", FX_RESUME);
}

void h_reset(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = running_vm(s, rq, rs);

	/* QEMU's system_reset: the process and its pause state stay */
	if (vm)
		locked_task(s, vm, rq, rs, "qmreset", FX_NONE);
}
