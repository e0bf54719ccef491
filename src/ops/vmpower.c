/*
 * vmpower.c - a VM's power as the definition wants it, and the reboot that
 * makes its pending changes take effect: Proxmox keeps a running VM's
 * changes to CPU, memory, cloud-init and the like in .../pending until the
 * VM boots again. With automatic_reboot (the default, as the original's
 * Telmate provider had it) apply shuts the guest down, starts it and waits
 * until it runs; a guest that ignores the shutdown is reported, and stopped
 * only when reboot.force says so. The worker's side of execute_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "io/cluster.h"
#include "io/pve_vm.h"
#include "ops/execute_int.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

/* Until Proxmox reports the VM's status as want ("running", "stopped"). */
static int wait_status(struct worker *w, const char *node, int vmid,
		       const char *want, int tries, struct err *e)
{
	int i, ret = -1;

	for (i = 0; i < tries; i++) {
		json_t *st = NULL;
		const char *s;

		if (pve_vm_status(&w->pc, node, vmid, &st, e) < 0)
			break;
		s = json_string_value(json_object_get(st, "status"));
		ret = s && !strcmp(s, want) ? 0 : -1;
		json_decref(st);
		if (!ret || i + 1 == tries)
			break;
		sleep_ms(200);
	}
	if (ret && !e->msg.len)
		err_set(e, EXIT_FAIL, "VM %d did not %s", vmid,
			!strcmp(want, "running") ? "start running" : "stop");
	return ret;
}

/* Start the VM and wait until it runs. */
static int start(struct worker *w, const char *node, int vmid, struct err *e)
{
	int ret = pve_vm_power(&w->pc, node, vmid, "start", NULL,
			       worker_timeout(w), e);

	/* a retry after a lost answer finds the work done */
	if (ret && err_is(e, ERR_BADSTATE)) {
		err_release(e);
		ret = 0;
	}
	if (!ret)
		ret = wait_status(w, node, vmid, "running", 300, e);
	return ret;
}

int vmpower_set(struct worker *w, const char *node, int vmid, bool running_now,
		struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	enum vm_state state = w->it->def->vm_state;
	bool want = state != VM_STATE_STOPPED;
	int ret = 0;

	/* "started" starts a new VM and then leaves its power alone */
	if (want == running_now ||
	    (state == VM_STATE_STARTED && w->it->op != PLAN_CREATE))
		return 0;
	if (want) {
		ret = start(w, node, vmid, e);
	} else {
		/* stopping asks the guest first, then forces it after 60 s */
		pve_param(&p, "timeout", "60");
		pve_param(&p, "forceStop", "1");
		ret = pve_vm_power(&w->pc, node, vmid, "shutdown", &p,
				   worker_timeout(w), e);
	}
	if (!ret)
		worker_say(w, want ? "started" : "stopped");
	pve_params_release(&p);
	return ret;
}

/* The keys of .../pending that wait for a boot, comma-joined. */
static int pending_keys(struct worker *w, const char *node, int vmid,
			json_t *conf, struct strbuf *out, struct err *e)
{
	struct actual_vm vm;
	size_t i;
	int ret;

	actual_vm_init(&vm);
	vm.node = xstrdup(node);
	vm.vmid = vmid;
	cluster_config_strings(&vm.keys, &vm.vals, conf);
	ret = cluster_read_pending(&vm, &w->pc, e);
	for (i = 0; ret == 0 && i < vm.nr_pending; i++)
		strbuf_addf(out, "%s%s", out->len ? ", " : "",
			    vm.pending[i].key);
	actual_vm_release(&vm);
	return ret;
}

/*
 * Shut the VM down (forced after the timeout with reboot.force) and wait
 * until it is stopped. A guest still running after the timeout fails with
 * ERR_TIMEOUT; any other failure keeps its own error.
 */
/* Whether Proxmox reports the VM stopped now (false when it cannot say). */
static bool is_stopped(struct worker *w, const char *node, int vmid)
{
	struct err e2 = ERR_INIT;
	bool stopped = wait_status(w, node, vmid, "stopped", 1, &e2) == 0;

	err_release(&e2);
	return stopped;
}

static int shut_down(struct worker *w, const char *node, int vmid,
		     const char *keys, struct err *e)
{
	const struct apply_opts *o = w->sh->o;
	int t = o->shutdown_timeout_s > 0 ? o->shutdown_timeout_s : 300;
	struct pve_params p = PVE_PARAMS_INIT;
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pve_paramf(&p, "timeout", "%d", t);
	pve_param(&p, "forceStop", o->force_stop ? "1" : "0");
	worker_say(w, "shutting down for its pending changes (%s)", keys);
	ret = pve_vm_power(&w->pc, node, vmid, "shutdown", &p,
			   t + worker_timeout(w), e);
	pve_params_release(&p);
	if (ret == 0)
		return wait_status(w, node, vmid, "stopped", 150, e);
	/* the shutdown task fails once its timeout passed */
	if (worker_elapsed(&t0) + 1 < t && !err_is(e, ERR_TIMEOUT))
		return err_prefix(e, "cannot shut down VM %d for its reboot",
				  vmid);
	/* a guest that powered off just after the timeout is stopped all
	 * the same: the reboot goes on */
	if (is_stopped(w, node, vmid)) {
		err_release(e);
		return 0;
	}
	return err_setk(
		e, ERR_TIMEOUT, EXIT_FAIL,
		"VM %d did not shut down within %d s; not rebooted, "
		"its changes (%s) wait for its next boot (reboot.force: "
		"true stops it after the timeout)",
		vmid, t, keys);
}

int vmpower_apply_pending(struct worker *w, const char *node, int vmid,
			  json_t *conf, bool *pending, struct err *e)
{
	struct strbuf keys = STRBUF_INIT;
	int ret = -1;

	*pending = true; /* until known otherwise */
	if (pending_keys(w, node, vmid, conf, &keys, e) < 0)
		goto out;
	*pending = keys.len > 0;
	if (!*pending) {
		ret = 0;
	} else if (w->it->def->automatic_reboot != 1) {
		worker_say(w,
			   "its changes (%s) wait for its next boot "
			   "(automatic_reboot: false)",
			   keys.buf);
		ret = 0;
	} else if (shut_down(w, node, vmid, keys.buf, e) == 0 &&
		   start(w, node, vmid, e) == 0) {
		*pending = false;
		worker_say(w, "rebooted: %s took effect", keys.buf);
		ret = 0;
	}
out:
	strbuf_release(&keys);
	return ret;
}
