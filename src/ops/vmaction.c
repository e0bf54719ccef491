/*
 * vmaction.c - what a worker does to one VM: create (vmid, clone or empty
 * VM, config, disks, cloud-init drive, power, digest tag), update in
 * place, destroy. The Proxmox calls are io/pve_vm.h's, the decisions of
 * the race protocol core/race.h's; disks are placed by vmdisk.c, power
 * and the reboot for pending changes are vmpower.c's.
 *
 * A clone's description says it is being created until the last step sets
 * the digest tag, so an interrupted apply is finished by the next one. A
 * clone whose answer was lost is looked up (by vmid and name) before it is
 * sent again. The loser of a race with another apply removes its clone and
 * waits for the winner to finish the VM; configure reads the config again
 * when another apply changed it meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "core/race.h"
#include "io/cluster.h"
#include "io/pve_vm.h"
#include "ops/execute_int.h"
#include "util/backoff.h"
#include "util/exitcode.h"

const char *vmaction_conf_str(json_t *conf, const char *key)
{
	return json_string_value(json_object_get(conf, key));
}

/* The cluster's VMs as listed after this call (a listing the workers
 * share, execute.c); worker_cluster_put() it. */
static int read_cluster(struct worker *w, const struct cluster **c,
			struct err *e)
{
	return worker_cluster(w, c, e);
}

static const struct actual_vm *by_vmid(const struct cluster *c, int vmid)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->vms[i].vmid == vmid)
			return &c->vms[i];
	return NULL;
}

int vmaction_wait_unlocked(struct worker *w, const char *node, int vmid,
			   struct err *e)
{
	int i, ret = -1;

	for (i = 0; i < worker_timeout(w) * 5; i++) {
		json_t *st = NULL;
		bool locked;

		if (pve_vm_status(&w->pc, node, vmid, &st, e) < 0)
			break;
		locked = json_object_get(st, "lock") != NULL;
		json_decref(st);
		if (!locked) {
			ret = 0;
			break;
		}
		sleep_ms(200);
	}
	if (ret && !e->msg.len)
		err_set(e, EXIT_FAIL, "VM %d stays locked", vmid);
	return ret;
}

/*
 * After a create whose answer was lost: does vmid exist, and is it ours?
 * A clone in progress may not show its name yet, so wait for its lock to
 * go, then read the config: ours has our name and the "being created"
 * description. Sets *exists; -1 when it exists and is somebody else's.
 */
static int ours_after_lost(struct worker *w, int vmid, bool *exists,
			   struct err *e)
{
	const struct cluster *c = NULL;
	const struct actual_vm *a;
	json_t *conf = NULL;
	int ret = -1;

	*exists = false;
	if (read_cluster(w, &c, e) < 0)
		goto out;
	a = by_vmid(c, vmid);
	if (!a || !a->node) {
		ret = 0; /* not there: it never happened */
		goto out;
	}
	*exists = true;
	if (vmaction_wait_unlocked(w, a->node, vmid, e) < 0 ||
	    pve_vm_config_get(&w->pc, a->node, vmid, &conf, e) < 0)
		goto out;
	if (race_is_ours(vmaction_conf_str(conf, "name"),
			 vmaction_conf_str(conf, "description"), w->it->name))
		ret = 0;
	else
		err_set(e, EXIT_FAIL,
			"vmid %d exists but is not the VM this apply created "
			"for '%s'; nothing was changed on it",
			vmid, w->it->name);
out:
	json_decref(conf);
	worker_cluster_put(w, c);
	return ret;
}

/* The parameters of a create on vmid; ctx is post_create's. */
typedef void create_params_fn(struct worker *w, int vmid, const void *ctx,
			      struct pve_params *p);

/* One POST of a create on *vmid; 1 when it must be sent again. */
static int post_once(struct worker *w, const char *node, int src_vmid,
		     const char *what, create_params_fn *fill, const void *ctx,
		     int *vmid, bool *lost, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	char *task = NULL;
	long status = 0;
	bool found;
	int r;

	fill(w, *vmid, ctx, &p);
	r = pve_vm_create(&w->pc, node, src_vmid, &p, &task, &status, e);
	pve_params_release(&p);
	if (r == 0) {
		worker_say(w, "%s to vmid %d...", what, *vmid);
		r = task ? pve_wait_task(&w->pc, task, worker_timeout(w), e)
			 : 0;
		free(task);
		return r;
	}
	if (race_answer_lost(status))
		*lost = true; /* no answer, or a proxy's: it may be done */
	if (race_look_up(*lost, status, err_is(e, ERR_EXISTS))) {
		struct err e2 = ERR_INIT;

		if (ours_after_lost(w, *vmid, &found, &e2) < 0) {
			err_release(e);
			*e = e2;
			return -1;
		}
		err_release(&e2);
		if (found) {
			err_release(e);
			worker_say(w, "the answer was lost; vmid %d is ours",
				   *vmid);
			return 0;
		}
		if (!err_is(e, ERR_EXISTS)) {
			err_release(e);
			return 1; /* not there: send it again */
		}
	}
	if (err_is(e, ERR_EXISTS) && !w->it->def->vmid) {
		*vmid = 0; /* someone else took it: a new id */
		*lost = false;
		err_release(e);
		return 1;
	}
	return -1;
}

/*
 * POST a create (a clone of src_vmid on node, or with src_vmid 0 a new
 * empty VM on node) and wait for its task. A lost answer, or "already
 * exists" after one, is looked up by vmid and name before anything is sent
 * again; an id another process took gets a new one.
 */
static int post_create(struct worker *w, const char *node, int src_vmid,
		       const char *what, create_params_fn *fill,
		       const void *ctx, int *vmid, struct err *e)
{
	bool lost = false; /* an answer on this id went missing */
	int attempt, r = -1;

	for (attempt = 0; attempt < 6; attempt++) {
		if (!*vmid && worker_reserve_vmid(w, vmid, e) < 0)
			return -1;
		r = post_once(w, node, src_vmid, what, fill, ctx, vmid, &lost,
			      e);
		if (r <= 0)
			return r;
	}
	return -1;
}

/* ctx: the target storage and format (struct pve_params). */
static void clone_params(struct worker *w, int vmid, const void *ctx,
			 struct pve_params *p)
{
	const struct pve_params *target = ctx;
	size_t i;

	pve_paramf(p, "newid", "%d", vmid);
	pve_param(p, "name", w->it->name);
	pve_param(p, "target", w->it->node);
	pve_param(p, "full", w->it->def->full_clone == 1 ? "1" : "0");
	for (i = 0; i + 1 < target->kv.nr; i += 2)
		pve_param(p, target->kv.v[i], target->kv.v[i + 1]);
	pve_param(p, "description", PLAN_CREATING_MARKER);
}

/* A full clone goes to the storage of the definition's boot disk; a
 * linked clone stays on the template's (its disks move after). */
static int clone_vm(struct worker *w, int *vmid, struct err *e)
{
	struct pve_params target = PVE_PARAMS_INIT;
	struct strbuf what = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&what, "cloning %s", w->it->def->clone);
	if (vmdisk_clone_target(w, &target, e) == 0)
		ret = post_create(w, w->it->source->node, w->it->source->vmid,
				  what.buf, clone_params, &target, vmid, e);
	pve_params_release(&target);
	strbuf_release(&what);
	return ret;
}

/* A VM without a template (PXE or ISO installs): POST /nodes/N/qemu. */
static void empty_params(struct worker *w, int vmid, const void *ctx,
			 struct pve_params *p)
{
	const struct desired *want = w->it->want;
	size_t i;

	(void)ctx;
	pve_paramf(p, "vmid", "%d", vmid);
	for (i = 0; i < want->keys.nr; i++)
		if (strcmp(want->keys.v[i], "tags") &&
		    strcmp(want->keys.v[i], "description"))
			pve_param(p, want->keys.v[i], want->vals.v[i]);
	for (i = 0; i < want->nr_disks; i++)
		pve_param(p, want->disks[i].slot, want->disks[i].value);
	pve_param(p, "description", PLAN_CREATING_MARKER);
	pve_param(p, "tags", VMDEF_MANAGED_TAG);
}

static int create_empty(struct worker *w, int *vmid, struct err *e)
{
	return post_create(w, w->it->node, 0, "creating an empty VM",
			   empty_params, NULL, vmid, e);
}

/* ",macaddr=XX:.." of a NIC value "virtio=XX:..,bridge=..", or "". */
static const char *nic_mac(const char *val)
{
	static _Thread_local char buf[32];
	const char *eq = strchr(val, '=');
	size_t n = eq ? strcspn(eq + 1, ",") : 0;

	buf[0] = '\0';
	if (eq && n == 17 && (size_t)(eq - val) == strcspn(val, "=,"))
		snprintf(buf, sizeof(buf), ",macaddr=%.17s", eq + 1);
	return buf;
}

/* The desired keys (keys says which, NULL: all) as parameters. */
static void config_keys(struct worker *w, json_t *conf,
			const struct strvec *keys, struct pve_params *p)
{
	const struct desired *want = w->it->want;
	size_t i, j;

	for (i = 0; i < want->keys.nr; i++) {
		const char *k = want->keys.v[i];
		bool wanted = !keys;

		for (j = 0; keys && j < keys->nr; j++)
			if (!strcmp(keys->v[j], k))
				wanted = true;
		if (!wanted || !strcmp(k, "tags") || !strcmp(k, "description"))
			continue;
		if (!strncmp(k, "net", 3) &&
		    !strstr(want->vals.v[i], "macaddr=") &&
		    vmaction_conf_str(conf, k)) {
			/* keep the NIC's MAC: a new one changes a DHCP
			 * guest's address */
			struct strbuf v = STRBUF_INIT;

			strbuf_addf(&v, "%s%s", want->vals.v[i],
				    nic_mac(vmaction_conf_str(conf, k)));
			pve_param(p, k, v.buf);
			strbuf_release(&v);
			continue;
		}
		pve_param(p, k, want->vals.v[i]);
	}
}

/*
 * Set the configuration: every desired key (keys says which, NULL: all),
 * new disks, a cloud-init drive when there is none, cipassword from its
 * environment variable, and "pve-gitops" in the tags (the digest comes
 * last).
 */
static int configure(struct worker *w, const char *node, int vmid, json_t *conf,
		     const struct strvec *keys, struct err *e)
{
	const struct desired *want = w->it->want;
	struct pve_params p = PVE_PARAMS_INIT;
	size_t i;
	int ret = -1;

	config_keys(w, conf, keys, &p);
	for (i = 0; i < want->nr_disks; i++)
		if (!json_object_get(conf, want->disks[i].slot))
			pve_param(&p, want->disks[i].slot,
				  want->disks[i].value);
	if (vmdisk_cloudinit(w, conf, &p, e) < 0)
		goto out;
	if (w->it->def->cipassword_env) {
		if (w->password)
			pve_param(&p, "cipassword", w->password);
	} else if (w->it->def->cipassword && !keys) {
		/* clear text in the repository (validate warned) */
		pve_param(&p, "cipassword", w->it->def->cipassword);
	}
	pve_param(&p, "tags", VMDEF_MANAGED_TAG);
	/* a change made meanwhile by someone else fails the write */
	if (vmaction_conf_str(conf, "digest"))
		pve_param(&p, "digest", vmaction_conf_str(conf, "digest"));
	ret = pve_vm_config_set(&w->pc, node, vmid, &p, e);
out:
	pve_params_release(&p);
	return ret;
}

/*
 * Last: the digest tag and the real description (the marker goes). With
 * pending, the VM has changes that wait for its next boot: the tags say
 * so (DESIRED_PENDING_TAG), and a later apply that finds none drops it.
 */
static int finish(struct worker *w, const char *node, int vmid, bool pending,
		  struct err *e)
{
	const struct desired *want = w->it->want;
	const char *descr = desired_get(want, "description");
	const char *tags = desired_get(want, "tags");
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf t = STRBUF_INIT;
	json_t *conf = NULL;
	bool marked;
	int ret;

	if (pve_vm_config_get(&w->pc, node, vmid, &conf, e) < 0)
		return -1;
	marked = vmaction_conf_str(conf, "description") &&
		 !strncmp(vmaction_conf_str(conf, "description"),
			  PLAN_CREATING_MARKER, strlen(PLAN_CREATING_MARKER));
	json_decref(conf);
	strbuf_addstr(&t, tags ? tags : VMDEF_MANAGED_TAG);
	if (pending)
		strbuf_addstr(&t, ";" DESIRED_PENDING_TAG);
	pve_param(&p, "tags", t.buf);
	strbuf_release(&t);
	if (descr)
		pve_param(&p, "description", descr);
	else if (marked) /* only our marker goes; a hand-made note stays */
		pve_param(&p, "delete", "description");
	ret = pve_vm_config_set(&w->pc, node, vmid, &p, e);
	pve_params_release(&p);
	return ret;
}

/* A VM named name that is finished (has a digest tag), or NULL. */
static const struct actual_vm *finished_named(const struct cluster *c,
					      const char *name)
{
	size_t i, len;

	for (i = 0; i < c->nr; i++) {
		const struct actual_vm *a = &c->vms[i];

		if (a->name && !strcmp(a->name, name) && !a->template_ &&
		    a->tags && desired_find_digest(a->tags, &len))
			return a;
	}
	return NULL;
}

/* Whether a VM of this name, or an unnamed one being cloned, exists. */
static bool named_or_cloning(const struct cluster *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		const struct actual_vm *a = &c->vms[i];

		if (a->template_)
			continue;
		if (a->name && *a->name ? !strcmp(a->name, name)
					: a->lock && *a->lock)
			return true;
	}
	return false;
}

/*
 * After stepping back from a race: until the other apply has finished a
 * VM of this name, up to the task timeout. 1 when it did; an error of
 * kind ERR_CONFLICT when no VM of the name is left to wait for (the other
 * stepped back too, or was killed) or the time is up: the next round
 * plans it again.
 */
static int wait_rival(struct worker *w, int rival, struct err *e)
{
	int i, gone = 0;

	for (i = 0; i < worker_timeout(w) * 2 && gone < 3; i++) {
		const struct actual_vm *done;
		const struct cluster *c = NULL;

		if (read_cluster(w, &c, e) < 0)
			return -1;
		done = finished_named(c, w->it->name);
		if (done) {
			worker_say(w,
				   "another apply is working on %s; it "
				   "finished it (vmid %d)",
				   w->it->name, done->vmid);
			worker_cluster_put(w, c);
			return 1;
		}
		gone = named_or_cloning(c, w->it->name) ? 0 : gone + 1;
		worker_cluster_put(w, c);
		sleep_ms(500);
	}
	return err_setk(e, ERR_CONFLICT, EXIT_FAIL,
			"another apply was working on %s (vmid %d) and did not "
			"finish it%s",
			w->it->name, rival, gone ? "" : " in time");
}

/* Whether the VM still exists (after a DELETE whose answer was lost). */
static int vm_exists(struct worker *w, int vmid, bool *exists, struct err *e)
{
	const struct cluster *c = NULL;
	int r = read_cluster(w, &c, e);

	*exists = r == 0 && by_vmid(c, vmid) != NULL;
	worker_cluster_put(w, c);
	return r;
}

/* After a stop or delete of vmid failed: true when the VM is gone all the
 * same (another apply removed it as a leftover, or the answer was lost). */
static bool gone_anyway(struct worker *w, const char *node, int vmid)
{
	struct err e2 = ERR_INIT;
	bool exists = true;

	vmaction_wait_unlocked(w, node, vmid, &e2);
	err_release(&e2);
	if (vm_exists(w, vmid, &exists, &e2) < 0)
		exists = true;
	err_release(&e2);
	return !exists;
}

/*
 * The race protocol (core/race.h): after the clone and again before the
 * digest tag, another VM of this name that wins makes this apply remove
 * its own clone, say so, and wait for the other to finish: 1 when it did.
 */
static int check_race(struct worker *w, int vmid, struct err *e)
{
	const char *node = w->it->node;
	const struct cluster *c = NULL;
	int rival, ret = -1;

	if (read_cluster(w, &c, e) < 0)
		goto out;
	rival = race_rival(c->vms, c->nr, w->it->name, vmid);
	if (!rival) {
		ret = 0;
		goto out;
	}
	worker_say(w,
		   "another apply is working on %s (vmid %d); removing our "
		   "vmid %d and waiting for it",
		   w->it->name, rival, vmid);
	if (vmaction_wait_unlocked(w, node, vmid, e) < 0 ||
	    pve_vm_power(&w->pc, node, vmid, "stop", NULL, worker_timeout(w),
			 e) < 0 ||
	    pve_vm_delete(&w->pc, node, vmid, PVE_RETRY_SAFE, worker_timeout(w),
			  NULL, e) < 0) {
		if (!gone_anyway(w, node, vmid))
			goto out;
		err_release(e); /* another apply removed it as a leftover */
	}
	ret = wait_rival(w, rival, e);
out:
	worker_cluster_put(w, c);
	return ret;
}

/* Whether the VM's config digest is no longer used (NULL: unknown). */
static bool digest_moved(struct worker *w, const char *node, int vmid,
			 const char *used)
{
	struct err e2 = ERR_INIT;
	json_t *conf = NULL;
	bool moved = false;

	if (used && pve_vm_config_get(&w->pc, node, vmid, &conf, &e2) == 0)
		moved = !vmaction_conf_str(conf, "digest") ||
			strcmp(vmaction_conf_str(conf, "digest"), used);
	json_decref(conf);
	err_release(&e2);
	return moved;
}

/*
 * Read the configuration and set it (configure). Another apply finishing
 * the same VM meanwhile changes the config digest, or its task holds the
 * lock: then wait for the lock, read again and set again (a few times).
 */
static int configure_fresh(struct worker *w, const char *node, int vmid,
			   const struct strvec *keys, struct err *e)
{
	int attempt, ret = -1;

	for (attempt = 0; attempt < 5; attempt++) {
		json_t *conf = NULL;
		bool busy;

		if (pve_vm_config_get(&w->pc, node, vmid, &conf, e) < 0)
			return -1;
		ret = configure(w, node, vmid, conf, keys, e);
		busy = ret && (err_is(e, ERR_LOCKED) ||
			       digest_moved(w, node, vmid,
					    vmaction_conf_str(conf, "digest")));
		json_decref(conf);
		if (!busy)
			return ret;
		worker_say(w,
			   "another apply is working on %s; reading its "
			   "config again",
			   w->it->name);
		err_release(e);
		if (vmaction_wait_unlocked(w, node, vmid, e) < 0)
			return -1;
	}
	return ret;
}

/* A clone configured, resized, powered and tagged; 1: another apply's. */
static int create_clone(struct worker *w, int *vmid, struct err *e)
{
	const struct plan_item *it = w->it;
	json_t *conf = NULL;
	int ret;

	ret = clone_vm(w, vmid, e);
	if (ret == 0)
		ret = check_race(w, *vmid, e);
	if (ret)
		return ret;
	worker_say(w, "cloned (vmid %d)", *vmid);
	if (configure_fresh(w, it->node, *vmid, NULL, e) < 0)
		return -1;
	worker_say(w, "configured");
	ret = -1;
	/* configured while stopped, then started: nothing waits for a boot */
	if (pve_vm_config_get(&w->pc, it->node, *vmid, &conf, e) < 0 ||
	    vmdisk_place(w, it->node, *vmid, conf, e) < 0 ||
	    vmpower_set(w, it->node, *vmid, false, e) < 0)
		goto out;
	ret = check_race(w, *vmid, e);
	if (ret == 0)
		ret = finish(w, it->node, *vmid, false, e);
out:
	json_decref(conf);
	return ret;
}

/*
 * A step on our fresh clone failed because it is gone: another apply that
 * won the race took it for a leftover (core/plan.h) and removed it. When
 * that apply's VM of the name is finished, it made the VM: 1, as after a
 * lost race. Else -1 with e as it was.
 */
static int clone_taken(struct worker *w, int vmid, struct err *e)
{
	const struct actual_vm *done = NULL;
	struct err e2 = ERR_INIT;
	const struct cluster *c = NULL;
	int ret = -1;

	if (vmid <= 0 || !err_is(e, ERR_NOTFOUND) ||
	    read_cluster(w, &c, &e2) < 0) {
		err_release(&e2);
		return -1;
	}
	if (!by_vmid(c, vmid))
		done = finished_named(c, w->it->name);
	if (done) {
		worker_say(w,
			   "another apply removed our vmid %d and finished %s "
			   "(vmid %d)",
			   vmid, w->it->name, done->vmid);
		err_clear(e);
		ret = 1;
	}
	worker_cluster_put(w, c);
	err_release(&e2);
	return ret;
}

int vmaction_create(struct worker *w, struct err *e)
{
	const struct plan_item *it = w->it;
	int vmid = it->vmid, ret;

	if (!it->def->clone) {
		ret = create_empty(w, &vmid, e);
		if (ret == 0)
			ret = check_race(w, vmid, e);
		if (ret == 0 && (vmpower_set(w, it->node, vmid, false, e) < 0 ||
				 finish(w, it->node, vmid, false, e) < 0))
			ret = -1;
	} else {
		ret = create_clone(w, &vmid, e);
	}
	if (ret < 0)
		ret = clone_taken(w, vmid, e);
	if (ret == 0)
		worker_say(w, "created (vmid %d)", vmid);
	return ret;
}

static bool is_disk_slot(const struct desired *want, const char *key)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (!strcmp(want->disks[i].slot, key))
			return true;
	return false;
}

/*
 * Update in place: the changed keys, disks moved and grown, the power
 * state, then the changes that wait for a boot (a reboot with
 * automatic_reboot), and the tags last, marked when changes still wait.
 */
int vmaction_update(struct worker *w, struct err *e)
{
	const struct plan_item *it = w->it;
	const char *node = it->have->node;
	int vmid = it->have->vmid, ret = -1;
	bool running = it->have->status && !strcmp(it->have->status, "running");
	struct strvec keys = STRVEC_INIT;
	bool pending = false;
	json_t *conf = NULL;
	size_t i;

	if (it->migration) {
		if (vmmigrate_move(w, e) < 0)
			return -1;
		node = it->node;
	}

	for (i = 0; i < it->nr_changes; i++) {
		const char *k = it->changes[i].key;

		/* a pending change is written already: it waits for a boot */
		if (strcmp(k, "state") && strcmp(k, "node") &&
		    !is_disk_slot(it->want, k) && !it->changes[i].pending)
			strvec_push(&keys, k);
	}
	if (configure_fresh(w, node, vmid, &keys, e) < 0 ||
	    pve_vm_config_get(&w->pc, node, vmid, &conf, e) < 0 ||
	    vmdisk_place(w, node, vmid, conf, e) < 0 ||
	    vmpower_set(w, node, vmid, running, e) < 0)
		goto out;
	if (it->def->vm_state != VM_STATE_STOPPED &&
	    vmpower_apply_pending(w, node, vmid, conf, &pending, e) < 0) {
		struct err e2 = ERR_INIT;

		/* the tags still say what waits; the error is the reboot's */
		finish(w, node, vmid, pending, &e2);
		err_release(&e2);
		goto out;
	}
	if (finish(w, node, vmid, pending, e) < 0)
		goto out;
	worker_say(w, "updated");
	ret = 0;
out:
	json_decref(conf);
	strvec_clear(&keys);
	return ret;
}

/* The VM is still the one planned: same name, ours, not protected. */
static int still_planned(struct worker *w, json_t *conf, struct err *e)
{
	const char *name = vmaction_conf_str(conf, "name");
	const char *tags = vmaction_conf_str(conf, "tags");
	const char *prot = vmaction_conf_str(conf, "protection");

	if (!name || strcmp(name, w->it->name) || !tags ||
	    !strstr(tags, VMDEF_MANAGED_TAG) ||
	    json_integer_value(json_object_get(conf, "protection")) == 1 ||
	    (prot && !strcmp(prot, "1")))
		return err_set(e, EXIT_FAIL,
			       "VM %d changed since the plan (name, tags or "
			       "protection); left alone",
			       w->it->have->vmid);
	return 0;
}

/* A leftover of a race is still one: our name, the creating marker, no
 * digest tag, no lock, no protection. */
static int still_leftover(struct worker *w, json_t *conf, struct err *e)
{
	const char *name = vmaction_conf_str(conf, "name");
	const char *tags = vmaction_conf_str(conf, "tags");
	const char *descr = vmaction_conf_str(conf, "description");
	const char *prot = vmaction_conf_str(conf, "protection");
	size_t len;

	if (!name || strcmp(name, w->it->name) || !descr ||
	    strncmp(descr, PLAN_CREATING_MARKER,
		    strlen(PLAN_CREATING_MARKER)) ||
	    (tags && desired_find_digest(tags, &len)) ||
	    json_object_get(conf, "lock") ||
	    json_integer_value(json_object_get(conf, "protection")) == 1 ||
	    (prot && !strcmp(prot, "1")))
		return err_set(e, EXIT_FAIL,
			       "VM %d changed since the plan (name, tags, "
			       "description, lock or protection); left alone",
			       w->it->have->vmid);
	return 0;
}

/*
 * Destroy: check once more that the VM is the one planned (things may have
 * changed since the plan), stop it, delete it. The DELETE is not blindly
 * re-sent: after a lost answer the VM is looked for, so a new VM that
 * reused the id is never hit. A leftover of a race that is gone already
 * (its own apply removed it meanwhile) is done.
 */
int vmaction_destroy(struct worker *w, struct err *e)
{
	const struct actual_vm *have = w->it->have;
	bool left = w->it->leftover;
	json_t *conf = NULL;
	long status = 0;
	bool exists;
	int ret = -1;

	/* our own workers must not reuse this id meanwhile */
	worker_hold_vmid(w, have->vmid);
	if (left)
		worker_say(w, "vmid %d is left over from an interrupted race",
			   have->vmid);
	if (pve_vm_config_get(&w->pc, have->node, have->vmid, &conf, e) < 0) {
		if (left && gone_anyway(w, have->node, have->vmid)) {
			err_release(e);
			worker_say(w, "vmid %d is gone already", have->vmid);
			ret = 0;
		}
		goto out;
	}
	if ((left ? still_leftover(w, conf, e) : still_planned(w, conf, e)) < 0)
		goto out;
	if (have->status && !strcmp(have->status, "running")) {
		if (pve_vm_power(&w->pc, have->node, have->vmid, "stop", NULL,
				 worker_timeout(w), e) < 0) {
			if (left && gone_anyway(w, have->node, have->vmid)) {
				err_release(e); /* removed meanwhile */
				ret = 0;
			}
			goto out;
		}
		worker_say(w, "stopped");
	}
	ret = pve_vm_delete(&w->pc, have->node, have->vmid, PVE_RETRY_NONE,
			    worker_timeout(w), &status, e);
	if (ret && status == 0 && vm_exists(w, have->vmid, &exists, e) == 0 &&
	    !exists) {
		err_release(e); /* the answer was lost; it is gone */
		ret = 0;
	} else if (ret && left && gone_anyway(w, have->node, have->vmid)) {
		err_release(e); /* its own apply removed it meanwhile */
		ret = 0;
	}
	if (!ret)
		worker_say(w, "destroyed (vmid %d)", have->vmid);
out:
	json_decref(conf);
	return ret;
}
