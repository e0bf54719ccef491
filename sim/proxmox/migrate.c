/*
 * migrate.c - moving a VM to another node, and removing drives from it:
 * GET .../migrate (qemu-server's src/PVE/API2/Qemu.pm
 * migrate_vm_precondition), POST .../migrate (migrate_vm, then the
 * worker's checks of src/PVE/QemuMigrate.pm prepare and
 * scan_local_volumes, and pve-guest-common's AbstractMigrate for how a
 * failure ends the task), and PUT .../unlink (update_vm with delete set to
 * idlist: QemuServer.pm vmconfig_delete_or_detach_drive).
 *
 * A storage of the simulator belongs to a node; a storage name another node
 * lacks stands for a storage.cfg entry whose "nodes" leave that node out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ha.h"
#include "handlers.h"
#include "migrate.h"
#include "vmdisk.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* A key foreach_volid looks at: drives, unusedN, vmstate. */
static bool volume_key(const char *key)
{
	return sim_drive_key(key) || sim_key_indexed(key, "unused") ||
	       !strcmp(key, "vmstate");
}

/* The file of a drive value ("local-lvm:vm-100-disk-0", "none", "/dev/x"). */
static char *drive_file(const char *val)
{
	return xstrndup(val, strcspn(val, ","));
}

/* The storage of a volid, or NULL for a path, "none" or "cdrom". */
static char *volid_storage(const char *volid)
{
	const char *colon = strchr(volid, ':');

	if (!colon || volid[0] == '/')
		return NULL;
	return xstrndup(volid, (size_t)(colon - volid));
}

static bool is_cloudinit(const char *val)
{
	return strstr(val, "-cloudinit") != NULL;
}

static bool is_cdrom(const char *val)
{
	return strstr(val, "media=cdrom") && !is_cloudinit(val);
}

/* A property's value ("size=32G" -> "32G") into out; false if none. */
static bool drive_opt(const char *val, const char *opt, char *out, size_t size)
{
	size_t n = strlen(opt);
	const char *p;

	for (p = val; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (!strncmp(p, opt, n) && p[n] == '=') {
			snprintf(out, size, "%.*s",
				 (int)strcspn(p + n + 1, ","), p + n + 1);
			return true;
		}
	}
	return false;
}

/* ---- the precondition --------------------------------------------------- */

/*
 * QemuMigrate::Helpers check_local_resources: passed-through devices and
 * ports; a serial socket and a SPICE USB port are recreated on the target.
 */
static json_t *local_resources(const struct sim_vm *vm)
{
	static const char *const kinds[] = { "usb",	 "hostpci",  "serial",
					     "parallel", "virtiofs", NULL };
	json_t *a = json_array();
	size_t i, j;

	if (kv_get(&vm->conf, "ivshmem"))
		json_array_append_new(a, json_string("ivshmem"));
	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key, *v = vm->conf.v[i].val;
		char host[64];

		if (sim_key_indexed(k, "serial") && !strcmp(v, "socket"))
			continue;
		if (sim_key_indexed(k, "usb") &&
		    drive_opt(v, "host", host, sizeof(host)) &&
		    !strcasecmp(host, "spice"))
			continue;
		for (j = 0; kinds[j]; j++)
			if (sim_key_indexed(k, kinds[j]))
				json_array_append_new(a, json_string(k));
	}
	return a;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The storages of vm's drives that node lacks (sorted, once each). */
static json_t *unavailable_storages(struct sim *s, const struct sim_vm *vm,
				    struct sim_node *node)
{
	struct strvec seen = STRVEC_INIT;
	json_t *a = json_array();
	size_t i, j;

	for (i = 0; i < vm->conf.nr; i++) {
		char *file, *sid;

		if (!sim_drive_key(vm->conf.v[i].key))
			continue;
		file = drive_file(vm->conf.v[i].val);
		sid = volid_storage(file);
		if (sid && !sim_storage(node, sid)) {
			for (j = 0; j < seen.nr && strcmp(seen.v[j], sid); j++)
				;
			if (j == seen.nr)
				strvec_push(&seen, sid);
		}
		free(sid);
		free(file);
	}
	qsort(seen.v, seen.nr, sizeof(*seen.v), cmp_str);
	for (i = 0; i < seen.nr; i++)
		json_array_append_new(a, json_string(seen.v[i]));
	strvec_clear(&seen);
	(void)s;
	return a;
}

/* One local_disks entry: foreach_volid's attributes of key's volume. */
static json_t *local_disk(const char *key, const char *val, const char *file)
{
	char size[32], flag[8];
	json_t *o = json_pack(
		"{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "volid", file,
		"cdrom", is_cdrom(val) || is_cloudinit(val) ? 1 : 0,
		"is_cloudinit", is_cloudinit(val) ? 1 : 0, "is_unused",
		sim_key_indexed(key, "unused") ? 1 : 0, "is_attached",
		sim_drive_key(key) ? 1 : 0, "is_vmstate",
		!strcmp(key, "vmstate") ? 1 : 0, "is_tpmstate",
		!strcmp(key, "tpmstate0") ? 1 : 0, "shared",
		drive_opt(val, "shared", flag, sizeof(flag)) &&
				!strcmp(flag, "1")
			? 1
			: 0);
	uint64_t bytes;
	bool rel;

	json_object_set_new(
		o, "replicate",
		json_integer(drive_opt(val, "replicate", flag, sizeof(flag)) &&
					     !strcmp(flag, "0")
				     ? 0
				     : 1));
	if (drive_opt(val, "size", size, sizeof(size)) &&
	    sim_parse_size(size, &bytes, &rel, 'B') == 0)
		json_object_set_new(o, "size", json_integer((json_int_t)bytes));
	if (sim_drive_key(key))
		json_object_set_new(o, "drivename", json_string(key));
	return o;
}

/* check_vm_disks_local: the volumes not on a shared storage. */
static json_t *local_disks(struct sim *s, const struct sim_vm *vm)
{
	struct sim_node *n = sim_node(s, vm->node);
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key, *v = vm->conf.v[i].val;
		char *file, *sid;
		struct sim_storage *st;

		if (!volume_key(k))
			continue;
		file = drive_file(v);
		sid = volid_storage(file);
		st = sid ? sim_storage(n, sid) : NULL;
		if (!(st && st->shared) && strcmp(file, "none"))
			json_array_append_new(a, local_disk(k, v, file));
		free(sid);
		free(file);
	}
	return a;
}

void h_migrate_get(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	json_t *allowed, *not_allowed;
	size_t i;

	if (!vm || check_lock(vm, rq, rs) < 0)
		return;
	allowed = json_array();
	not_allowed = json_object();
	for (i = 0; i < s->nr_nodes; i++) {
		json_t *un;

		if (!strcmp(s->nodes[i].name, vm->node))
			continue;
		un = unavailable_storages(s, vm, &s->nodes[i]);
		if (json_array_size(un))
			json_object_set_new(
				not_allowed, s->nodes[i].name,
				json_pack("{s:o}", "unavailable_storages", un));
		else {
			json_decref(un);
			json_array_append_new(allowed,
					      json_string(s->nodes[i].name));
		}
	}
	rs->data =
		json_pack("{s:i, s:o, s:o, s:o, s:o, s:[], s:{}, s:i}",
			  "running", vm->running ? 1 : 0, "allowed_nodes",
			  allowed, "not_allowed_nodes", not_allowed,
			  "local_disks", local_disks(s, vm), "local_resources",
			  local_resources(vm), "mapped-resources",
			  "mapped-resource-info", "has-dbus-vmstate", 1);
}

/* ---- migrate ------------------------------------------------------------ */

/* A targetstorage, as PVE::JSONSchema parse_idmap reads it. */
struct storage_map {
	struct strvec from, to;
	char *def;
	bool identity;
};

static int map_entry(struct storage_map *m, const char *e, struct strbuf *why)
{
	const char *colon = strchr(e, ':');
	size_t i;

	if (!strcmp(e, "1")) {
		m->identity = true;
	} else if (colon && colon != e && colon[1] && !strchr(colon + 1, ':')) {
		char *from = xstrndup(e, (size_t)(colon - e));

		for (i = 0; i < m->from.nr && strcmp(m->from.v[i], from); i++)
			;
		if (i < m->from.nr)
			strbuf_addf(why, "duplicate mapping for source '%s'",
				    from);
		strvec_push(&m->from, from);
		strvec_push(&m->to, colon + 1);
		free(from);
	} else if (colon) {
		strbuf_addf(why,
			    "entry '%s' contains invalid ID - storage ID '%s' "
			    "contains illegal characters",
			    e, e);
	} else if (m->def) {
		strbuf_addstr(why,
			      "default target ID can only be provided once");
	} else {
		m->def = xstrdup(e);
	}
	return why->len ? -1 : 0;
}

static int parse_storage_map(struct storage_map *m, const char *text,
			     struct strbuf *why)
{
	char *copy = xstrdup(text), *tok, *save = NULL;
	int ret = 0;

	for (tok = strtok_r(copy, ",; \t", &save); tok && !ret;
	     tok = strtok_r(NULL, ",; \t", &save))
		ret = map_entry(m, tok, why);
	free(copy);
	if (!ret && m->identity && (m->def || m->from.nr)) {
		strbuf_addstr(why, "identity mapping cannot be combined with "
				   "other mappings");
		ret = -1;
	}
	return ret;
}

/* PVE::JSONSchema map_id: the entry, else the default, else itself. */
static const char *map_id(const struct storage_map *m, const char *sid)
{
	size_t i;

	for (i = 0; i < m->from.nr; i++)
		if (!strcmp(m->from.v[i], sid))
			return m->to.v[i];
	return m->def ? m->def : sid;
}

static bool storage_anywhere(struct sim *s, const char *sid)
{
	size_t i;

	for (i = 0; i < s->nr_nodes; i++)
		if (sim_storage(&s->nodes[i], sid))
			return true;
	return false;
}

/* PVE::Storage storage_check_enabled(sid, node) into why; the storage. */
static struct sim_storage *storage_on(struct sim *s, const char *sid,
				      const char *node, struct strbuf *why)
{
	struct sim_storage *st = sim_storage(sim_node(s, node), sid);

	if (!st && !storage_anywhere(s, sid))
		strbuf_addf(why, "storage '%s' does not exist", sid);
	else if (!st)
		strbuf_addf(why, "storage '%s' is not available on node '%s'",
			    sid, node);
	return st;
}

/*
 * migrate_vm's storage checks: the mapped target storages exist on the
 * target and hold images ($check_storage_access_migrate); without a map
 * (or with identity) every drive's storage is on the target too
 * (QemuServer.pm check_storage_availability).
 */
static int check_storages(struct sim *s, const struct sim_vm *vm,
			  const struct storage_map *m, const char *target,
			  struct strbuf *why)
{
	size_t i;

	for (i = 0; i < m->to.nr + (m->def ? 1 : 0) && !why->len; i++) {
		const char *sid = i < m->to.nr ? m->to.v[i] : m->def;
		struct sim_storage *st = storage_on(s, sid, target, why);

		if (st && !strstr(st->content, "images"))
			strbuf_addf(why,
				    "storage '%s' does not support vm images",
				    sid);
	}
	if (m->to.nr || m->def)
		return why->len ? -1 : 0;
	for (i = 0; i < vm->conf.nr && !why->len; i++) {
		char *file, *sid;

		if (!sim_drive_key(vm->conf.v[i].key))
			continue;
		file = drive_file(vm->conf.v[i].val);
		sid = volid_storage(file);
		if (sid && storage_on(s, sid, vm->node, why))
			storage_on(s, sid, target, why);
		free(sid);
		free(file);
	}
	return why->len ? -1 : 0;
}

/* What the migration worker will do or why it fails. */
struct mig {
	struct sim_vm *vm;
	const char *target;
	struct storage_map map;
	bool with_local, force;
	struct strvec log;	/* the task log */
	struct strvec errs;	/* scan_local_volumes' "can't migrate" lines */
	struct strbuf volmap;	/* "OLD NEW" lines */
	struct strbuf fatal;	/* the reason the worker dies */
	struct strvec chosen;	/* new volids picked so far */
	bool locked;		/* phase1 reached: lock "migrate" */
	const char *exitstatus; /* of a failed task ("migration aborted") */
};

static bool volid_taken(struct sim *s, const struct mig *m, const char *sid,
			const char *name)
{
	size_t i, n = strlen(sid);

	for (i = 0; i < m->chosen.nr; i++)
		if (!strncmp(m->chosen.v[i], sid, n) &&
		    m->chosen.v[i][n] == ':' &&
		    !strcmp(m->chosen.v[i] + n + 1, name))
			return true;
	return sim_volume_find(s, sid, name) != NULL;
}

/* The volume's name on tst: kept when free there, else a fresh one. */
static void target_name(struct sim *s, struct mig *m,
			const struct sim_storage *src,
			const struct sim_storage *tst, const char *name,
			struct strbuf *out)
{
	const char *fmt = disk_format_for(tst, NULL, name);
	int vmid = m->vm->vmid, i;

	strbuf_reset(out);
	if (src == tst || !strcmp(src->name, tst->name) ||
	    (storage_is_file(src) == storage_is_file(tst) &&
	     !volid_taken(s, m, tst->name, name))) {
		strbuf_addstr(out, name);
		return;
	}
	for (i = 0;; i++) {
		strbuf_reset(out);
		if (is_cloudinit(name) && i == 0)
			strbuf_addf(out, "vm-%d-cloudinit", vmid);
		else if (storage_is_file(tst))
			strbuf_addf(out, "%d/vm-%d-disk-%d", vmid, vmid, i);
		else
			strbuf_addf(out, "vm-%d-disk-%d", vmid, i);
		if (storage_is_file(tst))
			strbuf_addf(out, ".%s", fmt);
		if (!volid_taken(s, m, tst->name, out->buf))
			return;
	}
}

/* Is a template's base volume used by a linked clone of another VM? */
static bool base_in_use(struct sim *s, const struct sim_vm *vm,
			const char *volid)
{
	size_t i, j, n = strlen(volid);

	for (i = 0; i < s->nr_vms; i++)
		for (j = 0; s->vms[i] != vm && j < s->vms[i]->conf.nr; j++)
			if (!strncmp(s->vms[i]->conf.v[j].val, volid, n) &&
			    s->vms[i]->conf.v[j].val[n] == '/')
				return true;
	return false;
}

/*
 * A volume a snapshot holds migrates only on zfspool, as raw on btrfs or
 * as qcow2 (QemuMigrate.pm scan_local_volumes): NULL, or why not.
 */
static const char *snapshot_refusal(const struct mig *m,
				    const struct sim_storage *src,
				    const char *file)
{
	size_t n = strlen(file);

	if (!sim_snap_uses(m->vm, file))
		return NULL;
	if (m->vm->running)
		return "online storage migration not possible if "
		       "non-replicated snapshot exists";
	if (!strcmp(src->type, "zfspool") ||
	    (n > 6 && !strcmp(file + n - 6, ".qcow2")) ||
	    (!strcmp(src->type, "btrfs") && !strstr(file, ".qcow2")))
		return NULL;
	return "non-migratable snapshot exists";
}

/* scan_local_volumes' test_volid for one local volume of a drive or unusedN. */
static void scan_local(struct sim *s, struct mig *m, const char *key,
		       const char *val, const char *file,
		       const struct sim_storage *src)
{
	const char *name = strchr(file, ':') + 1;
	struct sim_volume *v = sim_volume_find(s, src->name, name);
	const char *tsid = map_id(&m->map, src->name);
	struct sim_storage *tst = sim_storage(sim_node(s, m->target), tsid);
	struct strbuf nn = STRBUF_INIT;
	const char *err = NULL, *base = strstr(name, "base-");

	if (!tst) {
		strvec_pushf(
			&m->errs,
			"can't migrate local disk '%s': storage '%s' is not "
			"available on node '%s'",
			file, tsid, m->target);
		return;
	}
	if (is_cdrom(val))
		err = "local cdrom image";
	else if (v && v->vmid != m->vm->vmid)
		strvec_pushf(&m->errs,
			     "can't migrate local disk '%s': owned by other VM "
			     "(owner = VM %d)",
			     file, v->vmid);
	else if (base && !strchr(base, '/') && base_in_use(s, m->vm, file))
		err = "referenced by linked clone(s)";
	else if (m->vm->running && sim_drive_key(key) && !is_cloudinit(val) &&
		 !m->with_local)
		err = "can't live migrate attached local disks without "
		      "with-local-disks option";
	else if (!is_cloudinit(val))
		err = snapshot_refusal(m, src, file);
	if (err)
		strvec_pushf(&m->errs, "can't migrate local disk '%s': %s",
			     file, err);
	if (err || m->errs.nr)
		return;
	strvec_pushf(&m->log, "found local disk '%s' (%s)", file,
		     sim_drive_key(key) ? "attached" : "unused");
	if (!m->fatal.len &&
	    !strstr("dir btrfs zfspool lvmthin lvm", src->type))
		strbuf_addf(&m->fatal,
			    "can't migrate '%s' - storage type '%s' not "
			    "supported",
			    file, src->type);
	else if (!m->fatal.len && base && strchr(base, '/'))
		strbuf_addf(&m->fatal,
			    "can't migrate '%s' as it's a clone of "
			    "'%.*s'",
			    file, (int)strcspn(base, "/"), base);
	target_name(s, m, src, tst, name, &nn);
	strvec_pushf(&m->chosen, "%s:%s", tsid, nn.buf);
	strbuf_addf(&m->volmap, "%s %s:%s\n", file, tsid, nn.buf);
	strbuf_release(&nn);
}

/* phase1's scan_local_volumes over the config; false when it aborts. */
static bool scan_volumes(struct sim *s, struct mig *m)
{
	struct sim_node *n = sim_node(s, m->vm->node);
	size_t i;

	for (i = 0; i < m->vm->conf.nr; i++) {
		const char *k = m->vm->conf.v[i].key, *v = m->vm->conf.v[i].val;
		char *file, *sid;
		struct sim_storage *st;

		if (!volume_key(k))
			continue;
		file = drive_file(v);
		sid = volid_storage(file);
		st = sid ? sim_storage(n, sid) : NULL;
		if (!strcmp(file, "cdrom"))
			strvec_push(&m->errs,
				    "can't migrate local cdrom drive");
		else if (file[0] == '/')
			strvec_pushf(&m->errs,
				     "can't migrate local disk '%s': local "
				     "file/device",
				     file);
		else if (st && !st->shared)
			scan_local(s, m, k, v, file, st);
		free(sid);
		free(file);
	}
	for (i = 0; i < m->errs.nr; i++)
		strvec_pushf(&m->log, "WARN: %s", m->errs.v[i]);
	if (m->errs.nr)
		strbuf_addstr(&m->fatal, "can't migrate VM - check log");
	if (m->fatal.len)
		strbuf_insert(&m->fatal, 0,
			      "Problem found while scanning volumes - ", 39);
	return !m->fatal.len;
}

/*
 * phase2 on a target whose topology says migration_error (fault
 * injection): QemuMigrate's phase2 dies, phase2_cleanup stops the target's
 * copy, the source VM goes on running, and the task ends as
 * AbstractMigrate's "migration problems". False then.
 */
static bool phase2(struct sim *s, struct mig *m)
{
	const char *why = sim_node(s, m->target)->migration_error;

	if (!why)
		return true;
	if (m->vm->running)
		strvec_pushf(&m->log, "starting VM %d on remote node '%s'",
			     m->vm->vmid, m->target);
	strvec_pushf(&m->log, "ERROR: %s migrate failure - %s",
		     m->vm->running ? "online" : "offline", why);
	strvec_push(&m->log, "aborting phase 2 - cleanup resources");
	strvec_push(&m->log,
		    "ERROR: migration finished with problems (duration "
		    "00:00:01)");
	strbuf_addstr(&m->fatal, why);
	m->exitstatus = "migration problems";
	return false;
}

/* The worker: prepare's checks, then phase1; false when it fails. */
static bool plan_migration(struct sim *s, struct mig *m)
{
	json_t *res = local_resources(m->vm);
	size_t i;

	if (json_array_size(res) && !m->force) {
		strbuf_addstr(&m->fatal,
			      "can't migrate VM which uses local devices: ");
		for (i = 0; i < json_array_size(res); i++)
			strbuf_addf(&m->fatal, "%s%s", i ? ", " : "",
				    json_string_value(json_array_get(res, i)));
	} else if (json_array_size(res)) {
		strvec_push(&m->log, "migrating VM which uses local devices");
	}
	json_decref(res);
	if (!m->fatal.len && sim_node(s, m->target)->offline)
		strbuf_addstr(&m->fatal, "Can't connect to destination address "
					 "using public key");
	if (m->fatal.len)
		return false;
	strvec_pushf(&m->log, "starting migration of VM %d to node '%s'",
		     m->vm->vmid, m->target);
	m->locked = true;
	if (!scan_volumes(s, m))
		return false;
	return phase2(s, m);
}

/*
 * migrate_vm's checks before the worker: the target, root-only options,
 * the lock, a running VM without online, the storages. The VM or NULL
 * with the answer set.
 */
static struct sim_vm *migrate_checks(struct sim *s, struct sim_req *rq,
				     struct mig *m, struct sim_resp *rs)
{
	static const char *const root_only[] = { "force", "migration_type",
						 "migration_network", NULL };
	struct sim_node *n = need_node(s, rq, rs);
	struct strbuf why = STRBUF_INIT;
	const char *ts = req_param(rq, "targetstorage");
	struct sim_vm *vm = NULL;
	size_t i;

	if (!n)
		return NULL;
	if (!strcmp(m->target, n->name)) {
		param_fail(rs, "target", "target is local node.");
		return NULL;
	}
	if (!sim_node(s, m->target)) {
		resp_fail(rs, 500, "no such cluster node '%s'", m->target);
		return NULL;
	}
	for (i = 0; root_only[i]; i++)
		if (req_param(rq, root_only[i]) &&
		    (strcmp(root_only[i], "force") ||
		     param_true(rq, "force")) &&
		    (!rq->userid || strcmp(rq->userid, "root@pam")))
			param_fail(rs, root_only[i],
				   "Only root may use this option.");
	if (rs->errors || !(vm = need_vm(s, rq, rs)) ||
	    check_lock(vm, rq, rs) < 0)
		return NULL;
	if (vm->running && !param_true(rq, "online")) {
		resp_fail(rs, 500, "can't migrate running VM without --online");
		return NULL;
	}
	if (ts && parse_storage_map(&m->map, ts, &why) < 0) {
		param_fail(rs, "targetstorage",
			   "failed to parse storage map: %s\n", why.buf);
		vm = NULL;
	} else if (check_storages(s, vm, &m->map, m->target, &why) < 0) {
		resp_fail(rs, 500, "%s", why.buf);
		vm = NULL;
	}
	strbuf_release(&why);
	return vm;
}

static void mig_release(struct mig *m)
{
	strvec_clear(&m->map.from);
	strvec_clear(&m->map.to);
	free(m->map.def);
	strvec_clear(&m->log);
	strvec_clear(&m->errs);
	strvec_clear(&m->chosen);
	strbuf_release(&m->volmap);
	strbuf_release(&m->fatal);
}

/*
 * Start the qmigrate task of m as user: the worker's outcome is decided now
 * (plan_migration), its effect lands when the task ends. The config lock
 * "migrate" is held from phase1 to the end.
 */
static struct sim_task *start_qmigrate(struct sim *s, struct sim_resp *rs,
				       struct mig *m, const char *user)
{
	struct sim_task *t;
	bool ok = plan_migration(s, m);
	size_t i;

	if (!ok && !m->exitstatus)
		strvec_pushf(&m->log,
			     "ERROR: migration aborted (duration "
			     "00:00:00): %s",
			     m->fatal.buf);
	/* a failure after phase1 ends as the lock's release */
	t = start_task(s, rs, m->vm->node, "qmigrate", m->vm->vmid, user,
		       ok || m->locked ? FX_MIGRATE : FX_NONE,
		       ok	       ? NULL
		       : m->exitstatus ? m->exitstatus
				       : "migration aborted");
	for (i = 0; i < m->log.nr; i++)
		strvec_push(&t->log, m->log.v[i]);
	if (ok)
		strvec_push(&t->log, "migration finished successfully");
	t->mig_target = xstrdup(m->target);
	t->mig_volmap = strbuf_detach(&m->volmap, NULL);
	if (m->locked)
		kv_set(&m->vm->conf, "lock", "migrate");
	m->vm->flock_excl++;
	t->lock_excl_vmid = m->vm->vmid;
	return t;
}

#define MIG_INIT(tgt)                                             \
	{                                                         \
		.target = (tgt),                                  \
		.map = { STRVEC_INIT, STRVEC_INIT, NULL, false }, \
		.log = STRVEC_INIT, .errs = STRVEC_INIT,          \
		.volmap = STRBUF_INIT, .fatal = STRBUF_INIT,      \
		.chosen = STRVEC_INIT                             \
	}

/*
 * A qmigrate task, or for a VM the HA stack manages, a hamigrate one: the
 * API's worker only runs `ha-manager migrate` and ends (qemu-server's
 * migrate_vm), the CRM then has the node's LRM migrate it (below).
 */
void h_migrate_post(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct mig m = MIG_INIT(req_param(rq, "target"));
	struct sim_task *t;

	if (!(m.vm = migrate_checks(s, rq, &m, rs)))
		goto out;
	if (ha_vm_managed(s, m.vm->vmid)) {
		t = start_task(s, rs, m.vm->node, "hamigrate", m.vm->vmid,
			       rq->userid, FX_HAMIGRATE, NULL);
		strvec_pushf(&t->log,
			     "Requesting HA migration for VM %d to node %s",
			     m.vm->vmid, m.target);
		t->mig_target = xstrdup(m.target);
		goto out;
	}
	m.with_local = param_true(rq, "with-local-disks");
	m.force = param_true(rq, "force");
	start_qmigrate(s, rs, &m, rq->userid);
out:
	mig_release(&m);
}

/*
 * The CRM's answer to a hamigrate that ended: the LRM of the VM's node
 * migrates it as pve-ha-manager's Resources/PVEVM.pm migrate does (force,
 * with-local-disks, online when it runs, and no target storage: HA passes
 * none), a qmigrate task of root@pam; the service's state is "migrate"
 * until it ends. A VM gone or locked by then fails the task at once, as
 * migrate_vm's checks would. The CRM's round delay is not simulated.
 */
void migrate_ha_crm(struct sim *s, const struct sim_task *ham)
{
	struct mig m = MIG_INIT(ham->mig_target);
	struct sim_resp rs = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct sim_task *t;
	const char *lock;

	strbuf_init(&rs.message, 0);
	m.vm = sim_vm(s, ham->vmid);
	if (!m.vm || strcmp(m.vm->node, ham->node))
		goto out; /* gone, or moved by someone else meanwhile */
	lock = kv_get(&m.vm->conf, "lock");
	if (lock)
		strbuf_addf(&why, "VM %d is locked (%s)", m.vm->vmid, lock);
	else if (!sim_node(s, m.target))
		strbuf_addf(&why, "no such cluster node '%s'", m.target);
	else
		check_storages(s, m.vm, &m.map, m.target, &why);
	if (why.len) {
		t = start_task(s, &rs, m.vm->node, "qmigrate", m.vm->vmid,
			       "root@pam", FX_NONE, why.buf);
	} else {
		m.with_local = m.force = true;
		t = start_qmigrate(s, &rs, &m, "root@pam");
	}
	t->ha_crm = true;
out:
	json_decref(rs.data);
	strbuf_release(&rs.message);
	strbuf_release(&why);
	mig_release(&m);
}

/*
 * The HA service state of a VM as the CRM's manager status has it: "migrate"
 * from the hamigrate request to the end of the LRM's qmigrate, else what
 * was asked; NULL when not managed.
 */
const char *migrate_ha_state(const struct sim *s, int vmid)
{
	json_t *st;
	const char *state = NULL;
	size_t i;

	if (!ha_vm_managed(s, vmid))
		return NULL;
	for (i = 0; i < s->nr_tasks; i++) {
		const struct sim_task *t = s->tasks[i];

		if (!t->done && t->vmid == vmid &&
		    (t->fx == FX_HAMIGRATE || t->ha_crm))
			return "migrate";
	}
	st = ha_vm_status(s, vmid);
	state = json_string_value(json_object_get(st, "state"));
	state = state && !strcmp(state, "started")    ? "started"
		: state && !strcmp(state, "stopped")  ? "stopped"
		: state && !strcmp(state, "disabled") ? "stopped"
						      : "started";
	json_decref(st);
	return state;
}

/* ---- unlink ------------------------------------------------------------- */

static struct sim_volume *volume_of(struct sim *s, const char *file)
{
	char *sid = volid_storage(file);
	struct sim_volume *v =
		sid ? sim_volume_find(s, sid, strchr(file, ':') + 1) : NULL;

	free(sid);
	return v;
}

static bool has_pending(const struct sim_vm *vm, const char *key)
{
	size_t i;

	for (i = 0; i < vm->pending.nr; i++)
		if (!strcmp(vm->pending.v[i].key, key))
			return true;
	return false;
}

/* What a running VM changes at once: hot-pluggable and fast-plug keys. */
static bool unplugs(const char *key)
{
	static const char *const fast[] = { "name",   "description", "tags",
					    "onboot", "protection",  "startup",
					    NULL };
	size_t i;

	for (i = 0; fast[i]; i++)
		if (!strcmp(key, fast[i]))
			return true;
	return sim_key_indexed(key, "scsi") || sim_key_indexed(key, "virtio") ||
	       sim_key_indexed(key, "net") || sim_key_indexed(key, "usb") ||
	       sim_key_indexed(key, "unused");
}

/*
 * vmconfig_delete_or_detach_drive: with force the VM's own volume is
 * freed (try_deallocate_drive: not a cdrom's), without it the volume
 * becomes unusedN (vmconfig_register_unused_drive: a cloud-init drive is
 * freed, a cdrom or another VM's volume only leaves the config).
 */
static void detach_drive(struct sim *s, struct sim_vm *vm, const char *val,
			 bool force)
{
	char *file = drive_file(val);
	struct sim_volume *v = volume_of(s, file);
	bool own = v && v->vmid == vm->vmid;

	if ((force || is_cloudinit(val)) && own && !is_cdrom(val))
		sim_volume_destroy(s, file);
	else if (own && !is_cdrom(val))
		sim_vm_add_unused(vm, file);
	free(file);
}

/* check_protection for the volume keys; -1 with the answer set. */
static int protected_key(const struct sim_vm *vm, const char *key,
			 const char *val, struct sim_resp *rs)
{
	const char *prot = kv_get(&vm->conf, "protection");
	char *file;

	if (!prot || strcmp(prot, "1") || !volume_key(key))
		return 0;
	file = drive_file(val);
	if (sim_drive_key(key))
		resp_fail(rs, 500,
			  "can't remove drive '%s' - protection mode "
			  "enabled",
			  key);
	else
		resp_fail(rs, 500,
			  "can't remove %s '%s' - protection mode "
			  "enabled",
			  sim_key_indexed(key, "unused") ? "unused disk"
							 : "vmstate",
			  file);
	free(file);
	return -1;
}

/* update_vm's loop over "delete" for one key; -1 with the answer set. */
static int unlink_key(struct sim *s, struct sim_vm *vm, const char *key,
		      bool force, struct sim_resp *rs)
{
	const char *cur = kv_get(&vm->conf, key);
	const char *pend =
		has_pending(vm, key) ? kv_get(&vm->pending, key) : NULL;
	const char *val = cur ? cur : pend;

	if (!val) /* "cannot delete '...' - not set", a warning */
		return 0;
	if (protected_key(vm, key, val, rs) < 0)
		return -1;
	if (pend && sim_drive_key(key))
		detach_drive(s, vm, pend, false);
	kv_del(&vm->pending, key);
	if (!cur)
		return 0;
	if (sim_key_indexed(key, "unused") || !strcmp(key, "vmstate")) {
		struct sim_volume *v = volume_of(s, cur);

		if (v && v->vmid == vm->vmid)
			sim_volume_destroy(s, cur);
		kv_del(&vm->conf, key);
	} else if (vm->running && !unplugs(key)) {
		kv_set(&vm->pending, key, NULL);
	} else {
		if (sim_drive_key(key))
			detach_drive(s, vm, cur, force);
		kv_del(&vm->conf, key);
	}
	return 0;
}

void h_unlink(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	char *list, *tok, *save = NULL;
	struct strvec keys = STRVEC_INIT;
	size_t i;

	if (!vm || check_lock(vm, rq, rs) < 0)
		return;
	list = xstrdup(req_param(rq, "idlist"));
	for (tok = strtok_r(list, ",; \t", &save); tok;
	     tok = strtok_r(NULL, ",; \t", &save)) {
		const char *k = strcmp(tok, "cdrom") ? tok : "ide2";

		if (!kv_get(&vm->conf, k) && !has_pending(vm, k) &&
		    !volume_key(k) && !sim_key_indexed(k, "net")) {
			param_fail(rs, "delete", "unknown option '%s'", k);
			goto out;
		}
		strvec_push(&keys, k);
	}
	for (i = 0; i < keys.nr; i++)
		if (unlink_key(s, vm, keys.v[i], param_true(rq, "force"), rs) <
		    0)
			goto out;
	rs->data = json_null();
out:
	strvec_clear(&keys);
	free(list);
}
