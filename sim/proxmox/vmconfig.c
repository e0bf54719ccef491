/*
 * vmconfig.c - VM configuration as Proxmox keeps it: create, read, write
 * (PUT sync, POST async) with digest checks and "delete", pending changes
 * for a running VM, disk allocation on storages, NIC normalisation, and
 * the cloud-init drive's view of the configuration.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "pools.h"
#include "schema.h"
#include "vmconfig.h"
#include "util/parse.h"
#include "util/xalloc.h"

/*
 * Keys that take effect on a running VM at once (hotplug default
 * "network,disk,usb"): SCSI and VirtIO drives hotplug, IDE and SATA ones
 * (and efidisk, tpmstate) wait for a boot, as in qemu-server's
 * vmconfig_hotplug_pending. The cloud-init keys are "fast-plugged" since
 * qemu-server 7.2: written at once, the drive regenerated at the next
 * start (GET .../cloudinit shows what waits).
 */
static bool is_hot(const char *key)
{
	static const char *const hot[] = {
		"name",		"description", "tags",
		"onboot",	"protection",  "startup",
		"lock",		"hotplug",     "ciuser",
		"cipassword",	"sshkeys",     "nameserver",
		"searchdomain", "citype",      "cicustom",
		"ciupgrade",	NULL
	};
	size_t i;

	for (i = 0; hot[i]; i++)
		if (!strcmp(key, hot[i]))
			return true;
	return sim_key_indexed(key, "net") || sim_key_indexed(key, "scsi") ||
	       sim_key_indexed(key, "virtio") ||
	       sim_key_indexed(key, "ipconfig") ||
	       sim_key_indexed(key, "unused") || sim_key_indexed(key, "usb");
}

int vm_ipv4(const struct sim_vm *vm, char addr[16], int *prefix)
{
	const char *ipc = kv_get(&vm->conf, "ipconfig0");
	const char *p = ipc;
	uint64_t len;

	while (p && *p) {
		if (!strncmp(p, "ip=", 3)) {
			size_t n = strcspn(p + 3, "/,");

			if (n < 16 && p[3 + n] == '/') {
				memcpy(addr, p + 3, n);
				addr[n] = '\0';
				if (parse_u64(&len, p + 4 + n,
					      strcspn(p + 4 + n, ","), 0,
					      32) == 0) {
					*prefix = (int)len;
					return 1;
				}
			}
			return 0;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

/* ---- disks ------------------------------------------------------------ */

/* The volume id ("storage:name") of a disk value, or NULL. */
static char *disk_volid(const char *val)
{
	size_t n = strcspn(val, ",");

	if ((!strncmp(val, "none", n) && n == 4) || val[0] == '/')
		return NULL;
	if (!memchr(val, ':', n) || strstr(val, "media=cdrom,") == val)
		return NULL;
	return xstrndup(val, n);
}

static bool is_cloudinit_volid(const char *volid)
{
	return strstr(volid, "-cloudinit") != NULL;
}

static struct sim_storage *usable_storage(struct sim *s,
					  const struct sim_vm *vm,
					  const char *name, struct sim_resp *rs)
{
	struct sim_storage *st = sim_storage(sim_node(s, vm->node), name);

	if (!st) {
		resp_fail(rs, 500, "storage '%s' does not exist", name);
		return NULL;
	}
	if (!strstr(st->content, "images")) {
		resp_fail(rs, 500, "storage '%s' does not support vm images",
			  name);
		return NULL;
	}
	return st;
}

/* A fresh "vm-VMID-disk-N" name on a storage. */
/*
 * Does a volume on storage carry the disk name (with or without a format
 * extension)? A linked clone's volume "base-9000-disk-0/vm-101-disk-0"
 * holds the name vm-101-disk-0, as its LV or file does on the storage,
 * so pve-storage's find_free_diskname skips it.
 */
static bool disk_name_taken(const struct sim *s, const char *storage,
			    const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < s->nr_vols; i++) {
		const char *v = s->vols[i].name, *slash = strrchr(v, '/');

		if (strcmp(s->vols[i].storage, storage))
			continue;
		v = slash ? slash + 1 : v;
		if (!strncmp(v, name, n) && (v[n] == '\0' || v[n] == '.'))
			return true;
	}
	return false;
}

static void next_disk_name(struct sim *s, const char *storage, int vmid,
			   struct strbuf *out)
{
	int n;

	for (n = 0;; n++) {
		strbuf_reset(out);
		strbuf_addf(out, "vm-%d-disk-%d", vmid, n);
		if (!disk_name_taken(s, storage, out->buf))
			return;
	}
}

/*
 * Is there no room for a new volume of size bytes on st (rs set)? A thin
 * pool over-commits (pve-storage's LvmThinPlugin alloc_image runs
 * lvcreate --thinpool without a look at the free space); a plain LVM
 * volume group (lvcreate) and the sim's file storages refuse.
 */
static bool no_room(struct sim *s, const struct sim_vm *vm,
		    const struct sim_storage *st, uint64_t size,
		    struct sim_resp *rs)
{
	uint64_t used = sim_storage_used(s, vm->node, st);
	uint64_t free_b = used < st->total ? st->total - used : 0;

	if (sim_storage_thin(st) || size <= free_b)
		return false;
	resp_fail(rs, 500,
		  "unable to create image: not enough space on storage '%s'",
		  st->name);
	return true;
}

/*
 * The volume of a disk's file "STORAGE:REST" into out ("STORAGE:NAME"):
 * a new cloud-init drive (1), a new disk of REST GiB (2),
 * or an existing volume (0); its size into *size. -1 with rs set on
 * failure.
 */
static int disk_volume(struct sim *s, struct sim_vm *vm, const char *file,
		       struct strbuf *out, uint64_t *size, struct sim_resp *rs)
{
	const char *colon = strchr(file, ':'), *rest = colon + 1;
	char *storage = xstrndup(file, (size_t)(colon - file));
	struct sim_storage *st = usable_storage(s, vm, storage, rs);
	struct strbuf name = STRBUF_INIT;
	int ret = -1;
	bool rel;

	if (!st)
		goto out;
	if (!strcmp(rest, "cloudinit")) {
		strbuf_addf(&name, "vm-%d-cloudinit", vm->vmid);
		if (!sim_volume_find(s, storage, name.buf))
			sim_add_volume(s, storage, name.buf, vm->node, vm->vmid,
				       4ULL << 20);
		strbuf_addf(out, "%s:%s", storage, name.buf);
		ret = 1;
		goto out;
	}
	if (sim_parse_size(rest, size, &rel, 'G') == 0 && !rel &&
	    strchr("0123456789", rest[0]) && !strpbrk(rest, "KMGTB")) {
		if (*size == 0)
			*size = 1ULL << 20;
		if (no_room(s, vm, st, *size, rs))
			goto out;
		next_disk_name(s, storage, vm->vmid, &name);
		ret = 2;
		sim_add_volume(s, storage, name.buf, vm->node, vm->vmid, *size);
	} else {
		struct sim_volume *v = sim_volume_find(s, storage, rest);

		if (!v) {
			resp_fail(rs, 500, "volume '%s' does not exist", file);
			goto out;
		}
		strbuf_addstr(&name, rest);
		*size = v->size;
	}
	strbuf_addf(out, "%s:%s", storage, name.buf);
	if (ret < 0)
		ret = 0;
out:
	free(storage);
	strbuf_release(&name);
	return ret;
}

/* The options of a parsed drive as "key=value" into opts, but skip's. */
static void drive_opts(const struct strvec *keys, const struct strvec *vals,
		       const char *const *skip, struct strvec *opts)
{
	size_t i, j;

	for (i = 0; i < keys->nr; i++) {
		for (j = 0; skip[j] && strcmp(keys->v[i], skip[j]); j++)
			;
		if (!skip[j])
			strvec_pushf(opts, "%s=%s", keys->v[i], vals->v[i]);
	}
}

/*
 * Turn a disk value from a request into what Proxmox stores, printed as
 * print_drive does (sim_drive_print), following qemu-server's
 * create_disks: an allocation ("local-lvm:32") becomes a volume with its
 * size and without format, "local-lvm:cloudinit" a cdrom without size, an
 * existing volume gets its size, "none" and "cdrom" lose any; a path
 * (/dev/disk/by-id/usb-..-0:0, ':' or not) is no volume and keeps its
 * options (a real node adds the device's size). 0 with out set, or -1
 * with rs set.
 */
static int normalize_disk(struct sim *s, struct sim_vm *vm, const char *key,
			  const char *value, struct strbuf *out,
			  struct sim_resp *rs)
{
	static const char *const path_skip[] = { "file", NULL };
	static const char *const none_skip[] = { "file", "size", NULL };
	static const char *const new_skip[] = { "file", "size", "format",
						NULL };
	static const char *const ci_skip[] = { "file", "size", "format",
					       "media", NULL };
	/* by disk_volume's answer: existing, cloud-init, new */
	static const char *const *const skips[] = { none_skip, ci_skip,
						    new_skip };
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT,
		      opts = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, vol = STRBUF_INIT;
	const char *file = NULL;
	uint64_t size = 0;
	size_t i;
	int ret = -1, kind;

	if (schema_parse_propstring(key, value, &keys, &vals, &err) < 0) {
		param_fail(rs, key, "invalid format - %s", err.buf);
		goto out;
	}
	for (i = 0; i < keys.nr; i++)
		if (!strcmp(keys.v[i], "file"))
			file = vals.v[i];
	if (!file) {
		param_fail(rs, key, "missing property - 'file'");
		goto out;
	}
	if (!strcmp(file, "none") || !strcmp(file, "cdrom") || file[0] == '/' ||
	    !strchr(file, ':')) {
		drive_opts(&keys, &vals, file[0] == '/' ? path_skip : none_skip,
			   &opts);
		sim_drive_print(out, file, &opts);
		ret = 0;
		goto out;
	}
	kind = disk_volume(s, vm, file, &vol, &size, rs);
	if (kind < 0)
		goto out;
	drive_opts(&keys, &vals, skips[kind], &opts);
	if (kind == 1) {
		strvec_push(&opts, "media=cdrom");
	} else {
		strbuf_reset(&err);
		sim_format_size(&err, size);
		strvec_pushf(&opts, "size=%s", err.buf);
	}
	sim_drive_print(out, vol.buf, &opts);
	ret = 0;
out:
	strvec_clear(&keys);
	strvec_clear(&vals);
	strvec_clear(&opts);
	strbuf_release(&err);
	strbuf_release(&vol);
	return ret;
}

/* "model=virtio,bridge=vmbr0" -> "virtio=BC:24:11:..,bridge=vmbr0". */
static int normalize_net(struct sim *s, const char *key, const char *value,
			 struct strbuf *out, struct sim_resp *rs)
{
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT,
		      opts = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	const char *model = NULL, *mac = NULL;
	char fresh[18];
	size_t i;
	int ret = -1;

	if (schema_parse_propstring(key, value, &keys, &vals, &err) < 0) {
		param_fail(rs, key, "invalid format - %s", err.buf);
		goto out;
	}
	for (i = 0; i < keys.nr; i++) {
		if (!strcmp(keys.v[i], "model"))
			model = vals.v[i];
		else if (!strcmp(keys.v[i], "macaddr"))
			mac = vals.v[i];
		else
			strvec_pushf(&opts, "%s=%s", keys.v[i], vals.v[i]);
	}
	if (!model) {
		param_fail(rs, key,
			   "invalid format - missing property 'model'");
		goto out;
	}
	if (!mac) {
		sim_new_mac(s, fresh);
		mac = fresh;
	}
	/* print_net: the model with its MAC (keyAlias), the rest by name */
	strbuf_reset(&err);
	strbuf_addf(&err, "%s=%s", model, mac);
	sim_drive_print(out, err.buf, &opts);
	ret = 0;
out:
	strvec_clear(&keys);
	strvec_clear(&vals);
	strvec_clear(&opts);
	strbuf_release(&err);
	return ret;
}

/* ---- writing the configuration --------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * "tags" as pve-guest-common's get_unique_tags writes it with the
 * datacenter's default tag-style (not case-sensitive, ordering by name):
 * the list split as split_list does (',', ';' and white space), each tag
 * lower-cased, sorted, duplicates dropped, joined with ';'.
 */
static void normalize_tags(const char *value, struct strbuf *out)
{
	struct strvec tags = STRVEC_INIT;
	char *list = xstrdup(value), *tok, *save = NULL, *p;
	size_t i;

	for (tok = strtok_r(list, ",; \t\n\r\f\v", &save); tok;
	     tok = strtok_r(NULL, ",; \t\n\r\f\v", &save)) {
		for (p = tok; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		strvec_push(&tags, tok);
	}
	qsort(tags.v, tags.nr, sizeof(*tags.v), cmp_str);
	for (i = 0; i < tags.nr; i++)
		if (!i || strcmp(tags.v[i], tags.v[i - 1]))
			strbuf_addf(out, "%s%s", out->len ? ";" : "",
				    tags.v[i]);
	strvec_clear(&tags);
	free(list);
}

static bool is_control_param(const char *name)
{
	static const char *const ctl[] = {
		"node",	   "vmid",     "digest",       "delete",
		"revert",  "skiplock", "force",	       "background_delay",
		"start",   "archive",  "unique",       "pool",
		"storage", "bwlimit",  "live-restore", "import-working-storage",
		NULL
	};
	size_t i;

	for (i = 0; ctl[i]; i++)
		if (!strcmp(name, ctl[i]))
			return true;
	return false;
}

/* Remove key now: a disk's volume becomes unusedN, unusedN is destroyed. */
static void delete_now(struct sim *s, struct sim_vm *vm, const char *key)
{
	const char *val = kv_get(&vm->conf, key);
	char *volid;

	if (!val)
		return;
	volid = sim_drive_key(key) || sim_key_indexed(key, "unused")
			? disk_volid(val)
			: NULL;
	if (volid &&
	    (sim_key_indexed(key, "unused") || is_cloudinit_volid(volid)))
		sim_volume_destroy(s, volid);
	else if (volid)
		sim_vm_add_unused(vm, volid);
	free(volid);
	kv_del(&vm->conf, key);
}

static void set_now(struct sim_vm *vm, const char *key, const char *val)
{
	const char *old = kv_get(&vm->conf, key);
	char *oldvol, *newvol;

	if (old && sim_drive_key(key)) {
		oldvol = disk_volid(old);
		newvol = disk_volid(val);
		if (oldvol && (!newvol || strcmp(oldvol, newvol)))
			sim_vm_add_unused(vm, oldvol);
		free(oldvol);
		free(newvol);
	}
	kv_set(&vm->conf, key, val);
}

int vm_apply_config(struct sim *s, struct sim_vm *vm, struct sim_req *rq,
		    struct sim_resp *rs, bool create)
{
	const char *del = req_param(rq, "delete");
	const char *digest = req_param(rq, "digest");
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
	struct strbuf norm = STRBUF_INIT;
	size_t nr_vols = s->nr_vols, i, nr_opts = 0;
	char cur[41];
	int ret = -1;

	for (i = 0; i < rq->names.nr; i++)
		if (!is_control_param(rq->names.v[i]))
			nr_opts++;
	if (!create && !nr_opts && !del && !req_param(rq, "revert")) {
		resp_fail(rs, 500, "no options specified");
		goto out;
	}
	if (digest && !create) {
		sim_config_digest(vm, cur);
		if (strcmp(digest, cur)) {
			resp_fail(rs, 500,
				  "checksum mismatch (file change by other "
				  "user?)");
			goto out;
		}
	}
	/* Normalise every value first: nothing changes if one is bad. */
	for (i = 0; i < rq->names.nr; i++) {
		const char *k = rq->names.v[i], *v = rq->values.v[i];

		if (is_control_param(k))
			continue;
		/* qemu-server's check_vm_modify_config_perm: a token is not
		 * root@pam */
		if (!strcmp(k, "args") &&
		    (!rq->userid || strcmp(rq->userid, "root@pam"))) {
			resp_fail(rs, 500, "only root can set 'args' config");
			goto out;
		}
		strbuf_reset(&norm);
		if (sim_drive_key(k)) {
			if (normalize_disk(s, vm, k, v, &norm, rs) < 0) {
				/* volumes allocated so far go again */
				sim_truncate_volumes(s, nr_vols);
				goto out;
			}
		} else if (sim_key_indexed(k, "net")) {
			if (normalize_net(s, k, v, &norm, rs) < 0) {
				sim_truncate_volumes(s, nr_vols);
				goto out;
			}
		} else if (!strcmp(k, "tags")) {
			normalize_tags(v, &norm);
		} else {
			strbuf_addstr(&norm, v);
		}
		strvec_push(&keys, k);
		strvec_push(&vals, norm.buf);
	}
	for (i = 0; i < keys.nr; i++) {
		const char *now = kv_get(&vm->conf, keys.v[i]);

		/* qemu-server's cleanup_pending: a pending value equal to
		 * the running one is no pending change */
		if (vm->running && !is_hot(keys.v[i]) && now &&
		    !strcmp(now, vals.v[i]))
			kv_del(&vm->pending, keys.v[i]);
		else if (vm->running && !is_hot(keys.v[i]))
			kv_set(&vm->pending, keys.v[i], vals.v[i]);
		else
			set_now(vm, keys.v[i], vals.v[i]);
	}
	if (del) {
		char *list = xstrdup(del), *tok, *save = NULL;

		for (tok = strtok_r(list, ",; \t", &save); tok;
		     tok = strtok_r(NULL, ",; \t", &save)) {
			if (vm->running && !is_hot(tok))
				kv_set(&vm->pending, tok, NULL);
			else
				delete_now(s, vm, tok);
		}
		free(list);
	}
	ret = 0;
out:
	strvec_clear(&keys);
	strvec_clear(&vals);
	strbuf_release(&norm);
	return ret;
}

static void config_write(struct sim *s, struct sim_req *rq, struct sim_resp *rs,
			 bool async)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct strbuf why = STRBUF_INIT;

	if (vm)
		vm = lock_vm(s, vm, rq, rs, &why);
	if (why.len)
		resp_fail(rs, 500, "%s", why.buf);
	strbuf_release(&why);
	if (!vm || vm_apply_config(s, vm, rq, rs, false) < 0)
		return;
	if (async) {
		struct sim_task *t =
			start_task(s, rs, vm->node, "qmconfig", vm->vmid,
				   rq->userid, FX_NONE, NULL);

		vm->flock_excl++;
		t->lock_excl_vmid = vm->vmid;
	} else {
		rs->data = json_null();
	}
}

void h_config_put(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	config_write(s, rq, rs, false);
}

void h_config_post(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	config_write(s, rq, rs, true);
}

void h_create(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	int vmid = vmid_of(rq, "vmid");
	struct sim_vm *vm;
	struct sim_task *t;
	char uuid[33], gen[33];

	if (!n)
		return;
	if (req_param(rq, "archive")) {
		resp_fail(rs, 501, "proxmox-sim does not restore backups");
		return;
	}
	/* create_and_lock_config: pve-cluster's check_vmid_unused */
	if (sim_vm(s, vmid) || sim_ct(s, vmid)) {
		resp_fail(rs, 500,
			  "unable to create VM %d - %s %d already exists on "
			  "node '%s'",
			  vmid, sim_vm(s, vmid) ? "VM" : "CT", vmid,
			  sim_vm(s, vmid) ? sim_vm(s, vmid)->node
					  : sim_ct(s, vmid)->node);
		return;
	}
	if (req_param(rq, "pool") && !need_pool(s, req_param(rq, "pool"), rs))
		return;
	vm = sim_vm_new(s, vmid, n->name);
	if (vm_apply_config(s, vm, rq, rs, true) < 0) {
		sim_vm_remove(s, vmid, true);
		return;
	}
	sim_random_hex(s, uuid, 16);
	sim_random_hex(s, gen, 16);
	if (!kv_get(&vm->conf, "smbios1")) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "uuid=%.8s-%.4s-%.4s-%.4s-%.12s", uuid,
			    uuid + 8, uuid + 12, uuid + 16, uuid + 20);
		kv_set(&vm->conf, "smbios1", sb.buf);
		strbuf_release(&sb);
	}
	if (!kv_get(&vm->conf, "vmgenid")) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%.8s-%.4s-%.4s-%.4s-%.12s", gen, gen + 8,
			    gen + 12, gen + 16, gen + 20);
		kv_set(&vm->conf, "vmgenid", sb.buf);
		strbuf_release(&sb);
	}
	kv_set(&vm->conf, "lock", "create");
	if (req_param(rq, "pool"))
		pool_add_vm(s, need_pool(s, req_param(rq, "pool"), rs), vmid);
	t = start_task(s, rs, n->name, "qmcreate", vmid, rq->userid, FX_CREATE,
		       NULL);
	t->start_after = param_true(rq, "start");
	vm->flock_excl++;
	t->lock_excl_vmid = vmid;
}

/* ---- reading ------------------------------------------------------------ */

/* The schema type of a configuration key ("net3" is net[n]). */
static enum schema_type config_type(const char *key)
{
	const struct schema_endpoint *ep =
		schema_find("/nodes/{node}/qemu/{vmid}/config", "POST");
	size_t i, n;

	for (i = 0; ep && i < ep->nparams; i++) {
		const struct schema_prop *p = &ep->params[i];

		n = strlen(p->name);
		if (strncmp(key, p->name, n))
			continue;
		if (!p->count ? !key[n] : sim_key_indexed(key, p->name))
			return p->type;
	}
	return SCHEMA_T_STRING;
}

static json_t *typed_value(const char *key, const char *val)
{
	enum schema_type type = config_type(key);
	uint64_t u;

	if ((type == SCHEMA_T_INTEGER || type == SCHEMA_T_BOOLEAN) &&
	    parse_u64z(&u, val, 0, INT64_MAX) == 0)
		return json_integer((json_int_t)u);
	if (type == SCHEMA_T_NUMBER) {
		char *end;
		double d = strtod(val, &end);

		if (!*end)
			return json_real(d);
	}
	return json_string(val);
}

json_t *vm_config_json(const struct kvlist *conf)
{
	json_t *o = json_object();
	size_t i;
	uint64_t t;

	for (i = 0; i < conf->nr; i++)
		json_object_set_new(
			o, conf->v[i].key,
			typed_value(conf->v[i].key, conf->v[i].val));
	/* an integer of the config schema the update schema leaves out */
	if (kv_get(conf, "snaptime") &&
	    parse_u64z(&t, kv_get(conf, "snaptime"), 0, INT64_MAX) == 0)
		json_object_set_new(o, "snaptime", json_integer((json_int_t)t));
	return o;
}

/* GET config with snapshot=NAME: load_snapshot_config, the section and
 * the file's digest; not with current=1 (API2/Qemu.pm vm_config). */
static void snapshot_config(struct sim_vm *vm, struct sim_req *rq,
			    struct sim_resp *rs)
{
	const char *name = req_param(rq, "snapshot");
	struct sim_snap *sn = sim_snap_find(vm, name);
	const char *both = "cannot use 'snapshot' parameter with 'current'";
	char digest[41];

	if (param_true(rq, "current")) {
		param_fail(rs, "snapshot", "%s", both);
		param_fail(rs, "current", "%s", both);
		return;
	}
	if (!sn) {
		resp_fail(rs, 500, "snapshot '%s' does not exist", name);
		return;
	}
	rs->data = vm_config_json(&sn->conf);
	sim_config_digest(vm, digest);
	json_object_set_new(rs->data, "digest", json_string(digest));
}

void h_config_get(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	bool current = param_true(rq, "current");
	char digest[41];
	size_t i;

	if (!vm)
		return;
	if (req_param(rq, "snapshot") && *req_param(rq, "snapshot")) {
		snapshot_config(vm, rq, rs);
		return;
	}
	rs->data = vm_config_json(&vm->conf);
	if (!current)
		for (i = 0; i < vm->pending.nr; i++) {
			if (vm->pending.v[i].val)
				json_object_set_new(
					rs->data, vm->pending.v[i].key,
					typed_value(vm->pending.v[i].key,
						    vm->pending.v[i].val));
			else
				json_object_del(rs->data, vm->pending.v[i].key);
		}
	sim_config_digest(vm, digest);
	json_object_set_new(rs->data, "digest", json_string(digest));
}

void h_pending(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	char digest[41];
	size_t i;

	if (!vm)
		return;
	rs->data = json_array();
	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key;
		json_t *o = json_pack("{s:s, s:o}", "key", k, "value",
				      typed_value(k, vm->conf.v[i].val));
		size_t j;

		for (j = 0; j < vm->pending.nr; j++)
			if (!strcmp(vm->pending.v[j].key, k)) {
				if (vm->pending.v[j].val)
					json_object_set_new(
						o, "pending",
						typed_value(
							k,
							vm->pending.v[j].val));
				else
					json_object_set_new(o, "delete",
							    json_integer(1));
			}
		json_array_append_new(rs->data, o);
	}
	for (i = 0; i < vm->pending.nr; i++) {
		const char *k = vm->pending.v[i].key, *v = vm->pending.v[i].val;

		if (kv_get(&vm->conf, k))
			continue;
		/* a pending value of a new key, or a delete of no value */
		json_array_append_new(
			rs->data,
			v ? json_pack("{s:s, s:o}", "key", k, "pending",
				      typed_value(k, v))
			  : json_pack("{s:s, s:i}", "key", k, "delete", 1));
	}
	/* the parsed configuration holds its digest, listed like a key */
	sim_config_digest(vm, digest);
	json_array_append_new(rs->data, json_pack("{s:s, s:s}", "key", "digest",
						  "value", digest));
}

/* ---- cloud-init ------------------------------------------------------- */

static bool has_cloudinit_drive(const struct sim_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->conf.nr; i++)
		if (sim_drive_key(vm->conf.v[i].key) &&
		    strstr(vm->conf.v[i].val, "-cloudinit"))
			return true;
	return false;
}

void h_cloudinit_get(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	static const char *const keys[] = {
		"ciuser",     "cipassword",   "sshkeys",
		"nameserver", "searchdomain", "ipconfig0",
		"citype",     "cicustom",     NULL
	};
	struct sim_vm *vm = need_vm(s, rq, rs);
	size_t i;

	if (!vm)
		return;
	rs->data = json_array();
	for (i = 0; keys[i]; i++) {
		const char *now = kv_get(&vm->conf, keys[i]);
		const char *done = kv_get(&vm->ci_done, keys[i]);
		json_t *o;

		if (!now && !done)
			continue;
		o = json_pack("{s:s}", "key", keys[i]);
		if (done)
			json_object_set_new(o, "value", json_string(done));
		if (now && (!done || strcmp(now, done)))
			json_object_set_new(o, "pending", json_string(now));
		if (!now)
			json_object_set_new(o, "delete", json_integer(1));
		json_array_append_new(rs->data, o);
	}
}

void h_cloudinit_put(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	struct strbuf why = STRBUF_INIT;

	if (vm)
		vm = lock_vm(s, vm, rq, rs, &why);
	if (!vm) {
		if (why.len)
			resp_fail(rs, 500, "%s", why.buf);
		strbuf_release(&why);
		return;
	}
	strbuf_release(&why);
	if (!has_cloudinit_drive(vm)) {
		resp_fail(rs, 500, "no cloudinit disk found");
		return;
	}
	sim_ci_snapshot(vm);
	rs->data = json_null();
}

static void dump_user(const struct sim_vm *vm, struct strbuf *out)
{
	const char *name = kv_get(&vm->conf, "name");
	const char *user = kv_get(&vm->conf, "ciuser");
	const char *keys = kv_get(&vm->conf, "sshkeys");

	strbuf_addstr(out, "#cloud-config\n");
	strbuf_addf(out, "hostname: %s\nmanage_etc_hosts: true\nfqdn: %s\n",
		    name ? name : "vm", name ? name : "vm");
	if (user)
		strbuf_addf(out, "user: %s\n", user);
	if (kv_get(&vm->conf, "cipassword"))
		strbuf_addstr(out, "password: **********\n");
	if (keys) {
		struct strbuf dec = STRBUF_INIT;
		char *save = NULL, *line;

		strbuf_add_percent_decoded(&dec, keys, strlen(keys), 0);
		strbuf_addstr(out, "ssh_authorized_keys:\n");
		for (line = strtok_r(dec.buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (*line)
				strbuf_addf(out, "  - %s\n", line);
		strbuf_release(&dec);
	}
	strbuf_addstr(out, "chpasswd:\n  expire: False\nusers:\n  - default\n"
			   "package_upgrade: true\n");
}

static void dump_network(const struct sim_vm *vm, struct strbuf *out)
{
	const char *net0 = kv_get(&vm->conf, "net0");
	const char *ipc = kv_get(&vm->conf, "ipconfig0");
	const char *mac = net0 ? strchr(net0, '=') : NULL;
	char addr[16];
	int prefix;

	strbuf_addstr(out, "version: 1\nconfig:\n    - type: physical\n"
			   "      name: eth0\n");
	if (mac)
		strbuf_addf(out, "      mac_address: '%.17s'\n", mac + 1);
	strbuf_addstr(out, "      subnets:\n");
	if (vm_ipv4(vm, addr, &prefix)) {
		uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
		const char *gw = ipc ? strstr(ipc, "gw=") : NULL;

		strbuf_addf(out,
			    "      - type: static\n        address: '%s'\n"
			    "        netmask: '%u.%u.%u.%u'\n",
			    addr, mask >> 24, (mask >> 16) & 255,
			    (mask >> 8) & 255, mask & 255);
		if (gw)
			strbuf_addf(out, "        gateway: '%.*s'\n",
				    (int)strcspn(gw + 3, ","), gw + 3);
	} else {
		strbuf_addstr(out, "      - type: dhcp4\n");
	}
}

void h_cloudinit_dump(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_vm *vm = need_vm(s, rq, rs);
	const char *type = req_param(rq, "type");
	struct strbuf out = STRBUF_INIT;

	if (!vm)
		return;
	if (!strcmp(type, "user"))
		dump_user(vm, &out);
	else if (!strcmp(type, "network"))
		dump_network(vm, &out);
	else
		strbuf_addf(&out, "instance-id: %d-%s\n", vm->vmid,
			    kv_get(&vm->conf, "vmgenid")
				    ? kv_get(&vm->conf, "vmgenid")
				    : "0");
	rs->data = json_string(out.buf);
	strbuf_release(&out);
}
