/*
 * vmdisk.c - moving a VM's disk to another storage (move_disk, a qmmove
 * task) as qemu-server does it, live or stopped: the checks before the
 * worker (answered at once) and again under the lock file, a new volume
 * copied on the target storage, and at the task's end the drive pointing
 * at it. Also the names and formats of new volumes (vmdisk.h).
 */
#include "vmdisk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "util/xalloc.h"

bool storage_is_file(const struct sim_storage *st)
{
	static const char *const files[] = { "dir", "nfs", "cifs", "glusterfs",
					     NULL };
	size_t i;

	for (i = 0; files[i]; i++)
		if (!strcmp(st->type, files[i]))
			return true;
	return false;
}

static const char *known_format(const char *fmt)
{
	static const char *const fmts[] = { "raw", "qcow2", "vmdk", NULL };
	size_t i;

	for (i = 0; fmt && fmts[i]; i++)
		if (!strcmp(fmt, fmts[i]))
			return fmts[i];
	return NULL;
}

/* "raw", "qcow2" or "vmdk" from a volume name's suffix, or NULL. */
static const char *name_format(const char *name)
{
	const char *dot = name ? strrchr(name, '.') : NULL;

	return dot ? known_format(dot + 1) : NULL;
}

const char *disk_format_for(const struct sim_storage *st, const char *want,
			    const char *src_name)
{
	const char *fmt = want ? known_format(want) : name_format(src_name);

	return storage_is_file(st) && fmt ? fmt : "raw";
}

/* Is "vm-VMID-disk-N" taken on storage (as an LV or a file of any format)? */
static bool disk_name_taken(struct sim *s, const char *storage,
			    const char *base)
{
	size_t i, n = strlen(base);

	for (i = 0; i < s->nr_vols; i++) {
		const char *name = s->vols[i].name, *slash;

		if (strcmp(s->vols[i].storage, storage))
			continue;
		slash = strrchr(name, '/');
		name = slash ? slash + 1 : name;
		if (!strncmp(name, base, n) && (!name[n] || name[n] == '.'))
			return true;
	}
	return false;
}

void disk_fresh_name(struct sim *s, const struct sim_storage *st, int vmid,
		     const char *fmt, bool cloudinit, struct strbuf *out)
{
	struct strbuf base = STRBUF_INIT;
	int n;

	for (n = 0;; n++) {
		strbuf_reset(&base);
		if (cloudinit)
			strbuf_addf(&base, "vm-%d-cloudinit", vmid);
		else
			strbuf_addf(&base, "vm-%d-disk-%d", vmid, n);
		if (cloudinit || !disk_name_taken(s, st->name, base.buf))
			break;
	}
	strbuf_reset(out);
	if (storage_is_file(st))
		strbuf_addf(out, "%d/%s.%s", vmid, base.buf, fmt);
	else
		strbuf_addstr(out, base.buf);
	strbuf_release(&base);
}

/* ---- move_disk ---------------------------------------------------------- */

struct move {
	const char *disk, *storage, *format;
	char *src_storage, *src_name; /* of the drive's volume */
	bool cloudinit;
	bool snapshotted; /* a snapshot holds the volume */
};

static void move_release(struct move *m)
{
	free(m->src_storage);
	free(m->src_name);
}

static bool is_cloudinit_name(const char *name)
{
	const char *c = strstr(name, "cloudinit");

	return c && (!c[9] || (c[9] == '.' && name_format(c)));
}

/* The target storage: on this node, and for images; -1 with why set. */
static int move_check_storage(struct sim *s, const struct sim_vm *vm,
			      const struct move *m, struct strbuf *why,
			      bool *param)
{
	struct sim_storage *st = sim_storage(sim_node(s, vm->node), m->storage);
	size_t i;

	if (!st) {
		for (i = 0; i < s->nr_nodes; i++)
			if (sim_storage(&s->nodes[i], m->storage))
				break;
		if (i < s->nr_nodes)
			strbuf_addf(why,
				    "storage '%s' is not available on node "
				    "'%s'",
				    m->storage, vm->node);
		else
			strbuf_addf(why, "storage '%s' does not exist",
				    m->storage);
		return -1;
	}
	if (!strstr(st->content, "images")) {
		strbuf_addf(why, "storage '%s' does not support vm images",
			    m->storage);
		*param = true;
		return -1;
	}
	return 0;
}

/* is_volume_in_use of the snapshots: such a disk moves only keeping its
 * source (snapshots: see snapshot.c). */
static int move_check_snapshots(const struct sim_vm *vm, struct sim_req *rq,
				struct move *m, struct strbuf *why)
{
	struct strbuf volid = STRBUF_INIT;

	strbuf_addf(&volid, "%s:%s", m->src_storage, m->src_name);
	m->snapshotted = sim_snap_uses(vm, volid.buf);
	strbuf_release(&volid);
	if (m->snapshotted && param_true(rq, "delete")) {
		strbuf_addstr(why, "you can't move a disk with snapshots and "
				   "delete the source");
		return -1;
	}
	return 0;
}

/*
 * load_and_check_move: the lock, the digest, the drive and the target, in
 * qemu-server's order. -1 with why set (*param: a parameter error).
 */
static int move_check(struct sim *s, const struct sim_vm *vm,
		      struct sim_req *rq, struct sim_resp *rs, struct move *m,
		      struct strbuf *why, bool *param)
{
	const char *digest = req_param(rq, "digest"), *val, *oldfmt;
	char d[41], *volid;
	size_t n;

	move_release(m);
	m->src_storage = m->src_name = NULL;
	if (vm_lock_error(vm, rq, rs, why) < 0)
		return -1;
	if (digest && (sim_config_digest(vm, d), strcmp(digest, d))) {
		strbuf_addstr(why, "detected modified configuration - file "
				   "changed by other user? Try again.");
		return -1;
	}
	if (!(val = kv_get(&vm->conf, m->disk))) {
		strbuf_addf(why, "disk '%s' does not exist", m->disk);
		return -1;
	}
	n = strcspn(val, ",");
	volid = xstrndup(val, n);
	m->cloudinit = is_cloudinit_name(volid);
	free(volid);
	if ((strstr(val, "media=cdrom") ||
	     (n == 5 && !strncmp(val, "cdrom", 5))) &&
	    !m->cloudinit) {
		strbuf_addstr(why, "you can't move a cdrom");
		return -1;
	}
	if (!memchr(val, ':', n)) {
		strbuf_addf(why, "unable to parse volume ID '%.*s'", (int)n,
			    val);
		return -1;
	}
	m->src_storage = xstrndup(val, strcspn(val, ":"));
	m->src_name = xstrndup(val + strlen(m->src_storage) + 1,
			       n - strlen(m->src_storage) - 1);
	oldfmt = name_format(m->src_name);
	if (!strcmp(m->src_storage, m->storage) &&
	    (!m->format || !oldfmt || !strcmp(oldfmt, m->format))) {
		strbuf_addstr(why,
			      "you can't move to the same storage with same "
			      "format");
		return -1;
	}
	if (move_check_storage(s, vm, m, why, param) < 0)
		return -1;
	return move_check_snapshots(vm, rq, m, why);
}

/* The target: storage, or target-vmid (not simulated); -1 with rs set. */
static int move_params(struct sim_req *rq, struct sim_resp *rs, struct move *m)
{
	const char *both =
		"either set 'storage' or 'target-vmid', but not both";
	const char *none = "both 'storage' and 'target-vmid' missing, either "
			   "needs to be set";

	m->disk = req_param(rq, "disk");
	m->storage = req_param(rq, "storage");
	m->format = req_param(rq, "format");
	if (req_param(rq, "target-vmid") && m->storage) {
		param_fail(rs, "target-vmid", "%s", both);
		param_fail(rs, "storage", "%s", both);
		return -1;
	}
	if (req_param(rq, "target-vmid")) {
		resp_fail(rs, 501,
			  "move_disk with 'target-vmid' (reassigning a disk "
			  "to another VM) is not implemented by proxmox-sim");
		return -1;
	}
	if (!m->storage) {
		param_fail(rs, "target-vmid", "%s", none);
		param_fail(rs, "storage", "%s", none);
		return -1;
	}
	return 0;
}

/* The new volume on the target storage; -1 with why when it is full. */
static int move_alloc(struct sim *s, const struct sim_vm *vm,
		      const struct move *m, struct strbuf *volid,
		      uint64_t *size, struct strbuf *why)
{
	struct sim_storage *st = sim_storage(sim_node(s, vm->node), m->storage);
	struct sim_volume *src =
		sim_volume_find(s, m->src_storage, m->src_name);
	const char *fmt = disk_format_for(st, m->format, m->src_name);
	struct strbuf name = STRBUF_INIT;
	int ret = -1;

	*size = m->cloudinit ? 4ULL << 20 : src ? src->size : 0;
	disk_fresh_name(s, st, vm->vmid, fmt, m->cloudinit, &name);
	if (sim_storage_used(s, vm->node, st) + *size > st->total)
		strbuf_addf(why,
			    "storage migration failed: not enough space on "
			    "storage '%s'",
			    m->storage);
	else if (sim_volume_find(s, st->name, name.buf))
		strbuf_addf(why,
			    "storage migration failed: volume '%s:%s' already "
			    "exists",
			    st->name, name.buf);
	else {
		sim_add_volume(s, st->name, name.buf, vm->node, vm->vmid,
			       *size);
		strbuf_addf(volid, "%s:%s", st->name, name.buf);
		ret = 0;
	}
	strbuf_release(&name);
	return ret;
}

/* What clone_disk prints: a copy, or a drive mirror of a running VM. */
static void move_log(struct sim_task *t, const struct sim_vm *vm,
		     const struct move *m, uint64_t size)
{
	struct strbuf sz = STRBUF_INIT;
	const char *d = m->disk;

	sim_format_size(&sz, size);
	if (m->snapshotted)
		strvec_push(&t->log, "moving disk with snapshots, snapshots "
				     "will not be moved!");
	strvec_pushf(&t->log, "create full clone of drive %s (%s:%s)", d,
		     m->src_storage, m->src_name);
	if (m->cloudinit) {
		/* a cloud-init drive is made anew, nothing is copied */
	} else if (vm->running && strncmp(d, "unused", 6)) {
		strvec_pushf(&t->log, "drive mirror is starting for drive-%s",
			     d);
		strvec_pushf(&t->log,
			     "drive-%s: transferred %s of %s (100.00%%) in 0s, "
			     "ready",
			     d, sz.buf, sz.buf);
		strvec_push(&t->log, "all 'mirror' jobs are ready");
		strvec_pushf(&t->log, "drive-%s: Completing block job...", d);
		strvec_pushf(&t->log, "drive-%s: Completed successfully.", d);
		strvec_pushf(&t->log, "drive-%s: mirror-job finished", d);
	} else {
		strvec_pushf(&t->log, "transferred %s of %s (100.00%%)", sz.buf,
			     sz.buf);
	}
	strbuf_release(&sz);
}

/*
 * POST .../move_disk with 'storage': the checks answer at once; in the
 * worker the lock file is taken and the checks repeated, and a failure
 * there fails the task. The drive changes when the task ends.
 */
void h_move_disk(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct move m = { 0 };
	struct sim_vm *vm;
	struct strbuf why = STRBUF_INIT, volid = STRBUF_INIT;
	bool param = false;
	struct sim_task *t;
	uint64_t size = 0;
	char node[64];
	int vmid;

	if (move_params(rq, rs, &m) < 0 || !(vm = need_vm(s, rq, rs)))
		return;
	vmid = vm->vmid;
	snprintf(node, sizeof(node), "%s", vm->node);
	if (move_check(s, vm, rq, rs, &m, &why, &param) < 0) {
		if (param)
			param_fail(rs, "storage", "%s", why.buf);
		else if (!rs->errors)
			resp_fail(rs, 500, "%s", why.buf);
		goto out;
	}
	vm = flock_wait(s, vmid, true, s->opts.lock_wait_ms, &why);
	if (!vm || move_check(s, vm, rq, rs, &m, &why, &param) < 0 ||
	    move_alloc(s, vm, &m, &volid, &size, &why) < 0) {
		start_task(s, rs, node, "qmmove", vmid, rq->userid, FX_NONE,
			   why.buf);
		goto out;
	}
	t = start_task(s, rs, node, "qmmove", vmid, rq->userid, FX_MOVE, NULL);
	t->move_key = xstrdup(m.disk);
	t->move_volid = strbuf_detach(&volid, NULL);
	t->move_delete = param_true(rq, "delete");
	move_log(t, vm, &m, size);
	vm->flock_excl++;
	t->lock_excl_vmid = vmid;
out:
	move_release(&m);
	strbuf_release(&why);
	strbuf_release(&volid);
}
