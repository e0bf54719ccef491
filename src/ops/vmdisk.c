/*
 * vmdisk.c - where a VM's disks go: the target storage of a full clone,
 * the one cloud-init drive in a config write, disks moved to the storage
 * the definition names (move_disk: Proxmox's clone takes no storage for a
 * linked clone, and one storage for all disks of a full one), and disks
 * grown to the definition's size. The worker's side of execute_int.h; the
 * decisions about a configuration are core/vmparams.h's.
 */
#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "core/vmparams.h"
#include "io/cluster.h"
#include "io/pve_vm.h"
#include "ops/execute_int.h"
#include "util/backoff.h"
#include "util/exitcode.h"

/* The definition's disk in slot, or NULL. */
static const struct desired_disk *want_disk(const struct desired *want,
					    const char *slot)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (!strcmp(want->disks[i].slot, slot))
			return &want->disks[i];
	return NULL;
}

int vmdisk_clone_target(struct worker *w, struct pve_params *out, struct err *e)
{
	const struct actual_vm *src = w->it->source;
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
	struct strbuf slot = STRBUF_INIT;
	const struct desired_disk *d;
	json_t *conf = NULL;

	if (w->it->def->full_clone != 1)
		return 0; /* a linked clone stays; its disks move after */
	if (pve_vm_config_get(&w->pc, src->node, src->vmid, &conf, e) < 0)
		return err_prefix(e, "cannot read the template's config");
	cluster_config_strings(&keys, &vals, conf);
	json_decref(conf);
	if (vmparams_boot_disk(&slot, &keys, &vals) == 0 &&
	    (d = want_disk(w->it->want, slot.buf)) && d->kind == DISK_DISK &&
	    d->storage) {
		pve_param(out, "storage", d->storage);
		if (d->format)
			pve_param(out, "format", d->format);
	}
	strvec_clear(&keys);
	strvec_clear(&vals);
	strbuf_release(&slot);
	return 0;
}

/*
 * A cloned VM without a cloud-init drive gets one (it carries ipconfig0
 * and the keys), on the storage of its boot disk or the definition's.
 */
static int add_cloudinit(struct worker *w, json_t *conf, struct pve_params *p,
			 struct err *e)
{
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
	struct strbuf st = STRBUF_INIT;
	int ret = 0;

	if (!w->it->def->clone || json_object_get(conf, "ide2"))
		return 0;
	cluster_config_strings(&keys, &vals, conf);
	if (vmparams_has_cloudinit(w->it->want, &keys, &vals))
		goto out;
	if (vmparams_cloudinit_storage(&st, w->it->want, &keys, &vals) < 0)
		ret = err_setk(e, ERR_INVALID, EXIT_FAIL,
			       "cannot add a cloud-init drive: neither the "
			       "VM's disks nor the definition name a storage");
	else
		pve_paramf(p, "ide2", "%s:cloudinit", st.buf);
out:
	strvec_clear(&keys);
	strvec_clear(&vals);
	strbuf_release(&st);
	return ret;
}

static const struct desired_disk *want_cloudinit(const struct desired *want)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (want->disks[i].kind == DISK_CLOUDINIT)
			return &want->disks[i];
	return NULL;
}

int vmdisk_cloudinit(struct worker *w, json_t *conf, struct pve_params *p,
		     struct err *e)
{
	const struct desired_disk *ci = want_cloudinit(w->it->want);
	struct strbuf del = STRBUF_INIT;
	const char *key, *cur;
	json_t *val;

	if (!ci)
		return add_cloudinit(w, conf, p, e);
	json_object_foreach(conf, key, val)
	{
		if (strcmp(key, ci->slot) && json_is_string(val) &&
		    vmparams_is_cloudinit_drive(key, json_string_value(val)))
			strbuf_addf(&del, "%s%s", del.len ? "," : "", key);
	}
	/* a CD-ROM where the definition puts the drive gives way to it (a
	 * missing drive is added with the other new disks) */
	cur = vmaction_conf_str(conf, ci->slot);
	if (cur && !vmparams_is_cloudinit_drive(ci->slot, cur) &&
	    strstr(cur, "media=cdrom"))
		pve_param(p, ci->slot, ci->value);
	if (del.len)
		pve_param(p, "delete", del.buf);
	strbuf_release(&del);
	return 0;
}

/*
 * After a lost answer: wait while a move of the VM runs (its config
 * shows the new volume only at the end; no config lock says so), then
 * look. 1: the disk is on d's storage (in its format), 0: not (send it again),
 * -1: it cannot be told (never send it blindly).
 */
static int moved_after_lost(struct worker *w, const char *node, int vmid,
			    const struct desired_disk *d)
{
	struct err e2 = ERR_INIT;
	json_t *conf = NULL;
	int i, running = 1, ret = -1;

	for (i = 0; running && i < worker_timeout(w) * 5; i++) {
		if (pve_vm_tasks_running(&w->pc, node, vmid, "qmmove", &running,
					 &e2) < 0)
			goto out;
		if (running)
			sleep_ms(200);
	}
	if (!running && pve_vm_config_get(&w->pc, node, vmid, &conf, &e2) == 0)
		ret = vmparams_placement(d->slot,
					 vmaction_conf_str(conf, d->slot),
					 d->storage, d->format) == 0;
out:
	json_decref(conf);
	err_release(&e2);
	return ret;
}

/*
 * Move one disk and wait. A lost answer may mean the move ran: look
 * (after the move's task is gone) before sending it again.
 */
static int move_one(struct worker *w, const char *node, int vmid,
		    const struct desired_disk *d, struct err *e)
{
	int attempt, r = 0;

	for (attempt = 0;; attempt++) {
		if (pve_vm_move_disk(&w->pc, node, vmid, d->slot, d->storage,
				     d->format, true, worker_timeout(w),
				     e) == 0)
			break;
		if (err_is(e, ERR_LOST))
			r = moved_after_lost(w, node, vmid, d);
		if (r == 1) {
			err_release(e);
			break;
		}
		if (!err_is(e, ERR_LOST) || r < 0 || attempt == 2)
			return err_prefix(e, "cannot move %s to %s", d->slot,
					  d->storage);
		err_release(e); /* it never arrived: send it again */
	}
	worker_say(w, "%s moved to %s", d->slot, d->storage);
	return 0;
}

/* Move the disks conf has on another storage (or, on a file storage, in
 * another format); *moved counts them. */
static int move_disks(struct worker *w, const char *node, int vmid,
		      json_t *conf, int *moved, struct err *e)
{
	const struct desired *want = w->it->want;
	size_t i;

	for (i = 0; i < want->nr_disks; i++) {
		const struct desired_disk *d = &want->disks[i];
		bool other = d->kind == DISK_DISK &&
			     vmparams_placement(
				     d->slot, vmaction_conf_str(conf, d->slot),
				     d->storage, d->format) == 1;

		if (!other)
			continue;
		if (move_one(w, node, vmid, d, e) < 0)
			return -1;
		(*moved)++;
	}
	return 0;
}

static int resize_disks(struct worker *w, const char *node, int vmid,
			json_t *conf, struct err *e)
{
	const struct desired *want = w->it->want;
	size_t i;
	int ret = 0;

	for (i = 0; i < want->nr_disks && !ret; i++) {
		const struct desired_disk *d = &want->disks[i];
		const char *cur = vmaction_conf_str(conf, d->slot);
		struct strbuf sz = STRBUF_INIT;

		if (d->kind != DISK_DISK || !d->size || !cur ||
		    plan_disk_size(cur) >= d->size)
			continue;
		pve_format_size(&sz, d->size);
		ret = pve_vm_resize(&w->pc, node, vmid, d->slot, sz.buf,
				    worker_timeout(w), e);
		if (!ret)
			worker_say(w, "%s resized to %s", d->slot, sz.buf);
		strbuf_release(&sz);
	}
	return ret;
}

/*
 * The options the definition gives its disks, where conf's drives lack
 * them: the drives' values with those options set into p (NULL: only
 * count them), the options into said. Returns how many drives.
 */
static size_t option_params(struct worker *w, json_t *conf,
			    struct pve_params *p, struct strbuf *said)
{
	const struct desired *want = w->it->want;
	struct strbuf v = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i, n = 0;
	bool waits;

	for (i = 0; i < want->nr_disks; i++) {
		const struct desired_disk *d = &want->disks[i];
		const char *cur = vmaction_conf_str(conf, d->slot);

		strbuf_reset(&v);
		strbuf_reset(&a);
		strbuf_reset(&b);
		if ((d->kind != DISK_DISK && d->kind != DISK_PASSTHROUGH) ||
		    !cur ||
		    !vmparams_drive_options(cur, d->options, &v, &a, &b,
					    &waits))
			continue;
		if (p)
			pve_param(p, d->slot, v.buf);
		if (said)
			strbuf_addf(said, "%s%s: %s", said->len ? "; " : "",
				    d->slot, b.buf);
		n++;
	}
	strbuf_release(&v);
	strbuf_release(&a);
	strbuf_release(&b);
	return n;
}

/* Write the options the drives lack, read afresh (a resize or a move
 * changed their values), in one config write. */
static int set_options(struct worker *w, const char *node, int vmid,
		       struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf said = STRBUF_INIT;
	json_t *conf = NULL;
	int ret = pve_vm_config_get(&w->pc, node, vmid, &conf, e);

	if (!ret && option_params(w, conf, &p, &said)) {
		if (vmaction_conf_str(conf, "digest"))
			pve_param(&p, "digest",
				  vmaction_conf_str(conf, "digest"));
		ret = pve_vm_config_set(&w->pc, node, vmid, &p, e);
		if (!ret)
			worker_say(w, "disk options set (%s)", said.buf);
	}
	json_decref(conf);
	pve_params_release(&p);
	strbuf_release(&said);
	return ret;
}

int vmdisk_place(struct worker *w, const char *node, int vmid, json_t *conf,
		 struct err *e)
{
	json_t *now = NULL;
	int moved = 0, ret;

	if (move_disks(w, node, vmid, conf, &moved, e) < 0)
		return -1;
	if (moved && pve_vm_config_get(&w->pc, node, vmid, &now, e) < 0)
		return -1;
	ret = resize_disks(w, node, vmid, now ? now : conf, e);
	if (!ret && option_params(w, now ? now : conf, NULL, NULL))
		ret = set_options(w, node, vmid, e);
	json_decref(now);
	return ret;
}
