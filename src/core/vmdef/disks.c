/*
 * disks.c - the disk forms of a definition: a mapping of slots
 * (scsi0: {...}), a list with slot and type, and Telmate 3.x's
 * nested_disks, all decoded into the same struct vm_disk list with the
 * keys each kind of disk allows.
 */
#include "core/vmdef/vmdef_int.h"

/* Keys a disk entry may carry; which ones apply depends on its kind. */
enum {
	DK_SIZE = 1 << 0,
	DK_STORAGE = 1 << 1,
	DK_FORMAT = 1 << 2,
	DK_MOUNT = 1 << 3,
	DK_OPTS = 1 << 4, /* cache, discard, iothread, ssd, backup, ... */
	DK_ISO = 1 << 5,
	DK_FILE = 1 << 6,
	DK_SLOT = 1 << 7, /* list form: slot and type */
};

const char *const vmdef_throttle_keys[VMDEF_NR_THROTTLE] = {
	"iops_rd",     "iops_rd_max", "iops_rd_max_length",
	"iops_wr",     "iops_wr_max", "iops_wr_max_length",
	"mbps_rd",     "mbps_rd_max", "mbps_wr",
	"mbps_wr_max",
};

/* The same limits as Telmate 3.x names them (proxmox-api-go's
 * QemuDiskBandwidth), in the order of vmdef_throttle_keys. */
static const char *const telmate_throttle_keys[VMDEF_NR_THROTTLE] = {
	"iops_r_concurrent",  "iops_r_burst",  "iops_r_burst_length",
	"iops_wr_concurrent", "iops_wr_burst", "iops_wr_burst_length",
	"mbps_r_concurrent",  "mbps_r_burst",  "mbps_wr_concurrent",
	"mbps_wr_burst",
};

static int throttle_index(const char *key)
{
	int i;

	for (i = 0; i < VMDEF_NR_THROTTLE; i++)
		if (!strcmp(key, vmdef_throttle_keys[i]) ||
		    !strcmp(key, telmate_throttle_keys[i]))
			return i;
	return -1;
}

struct diskctx {
	struct vm_disk *disk;
	unsigned allowed;
	const struct ynode *slot_node, *type_node, *size_node;
};

#define DISK(t) (((struct diskctx *)(t))->disk)

/* iops: a whole number; mbps: a number (MB/s, fractions allowed); 0 is
 * "no limit", as Telmate reads it. */
static int d_throttle(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	int i = throttle_index(k->str);
	bool mbps = i >= 6;
	const char *p = v->str;
	size_t digits = 0, dots = 0;

	if (v->kind == YNODE_SCALAR &&
	    (v->stype == YS_INT || v->stype == YS_FLOAT || v->stype == YS_STR))
		for (; *p && (isdigit((unsigned char)*p) ||
			      (mbps && *p == '.' && !dots++));
		     p++)
			digits += isdigit((unsigned char)*p) != 0;
	if (v->kind != YNODE_SCALAR || *p || !digits || v->len > 20 ||
	    strlen(v->str) != v->len) {
		yd_error(d, v, path, "expected %s",
			 mbps ? "a number of MB/s (such as 100 or 12.5)"
			      : "a whole number");
		return -1;
	}
	free(DISK(t)->throttle[i]);
	DISK(t)->throttle[i] = NULL;
	if (strspn(v->str, "0.") != v->len)
		DISK(t)->throttle[i] = xstrndup(v->str, v->len);
	return 0;
}

static int d_size(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	int ret = 0;

	(void)k;
	((struct diskctx *)t)->size_node = v;
	if (v->kind == YNODE_SCALAR && v->stype == YS_INT) {
		yd_error(d, v, path,
			 "size '%s' has no unit; write %sG (K, M, "
			 "G or T)",
			 v->str, v->str);
		return -1;
	}
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_parse_size(&DISK(t)->size, s, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		ret = -1;
	}
	free(s);
	strbuf_release(&why);
	return ret;
}

static int d_storage(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->storage,
				 pve_check_storage_id);
}

static int d_format(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_disk_formats, &DISK(t)->format);
}

/* check_mount as a pattern: absolute, normalised, no trailing '/' */
#define MOUNT_RE "^(?!.*/\\.\\.?(?:/|$))(?!.*//)(?:/[A-Za-z0-9._-]+)+$"

static int check_mount(const char *s, struct strbuf *why)
{
	const char *p;

	if (s[0] != '/' || !s[1]) {
		strbuf_addstr(why, "not an absolute path other than /");
		return -1;
	}
	for (p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("/._-", *p)) {
			strbuf_addstr(why, "a path with characters other than "
					   "letters, digits, '/', '.', '_' "
					   "or '-'");
			return -1;
		}
	}
	if (strstr(s, "/../") || strstr(s, "/./") || strstr(s, "//") ||
	    (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")) ||
	    s[strlen(s) - 1] == '/') {
		strbuf_addstr(why, "not a normalised path (no '..', '.', '//' "
				   "or trailing '/')");
		return -1;
	}
	return 0;
}

static int d_mount(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->mount, check_mount);
}

static int d_cache(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_disk_caches, &DISK(t)->cache);
}

static const char *const disk_kinds[] = { "disk", "cloudinit", "cdrom",
					  "passthrough", NULL };
static const char *const disk_aio[] = { "native", "threads", "io_uring", NULL };

static int d_asyncio(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, disk_aio, &DISK(t)->asyncio);
}

static int d_discard(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind == YNODE_SCALAR && v->stype == YS_STR) {
		if (v->len == 2 && !memcmp(v->str, "on", 2)) {
			DISK(t)->discard = 1;
			return 0;
		}
		if (v->len == 6 && !memcmp(v->str, "ignore", 6)) {
			DISK(t)->discard = 0;
			return 0;
		}
	}
	return yd_tfbool(d, v, path, &DISK(t)->discard);
}

#define DISK_BOOL(fn, field)                                              \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		(void)k;                                                  \
		return yd_tfbool(d, v, path, &DISK(t)->field);            \
	}
DISK_BOOL(d_iothread, iothread)
DISK_BOOL(d_ssd, ssd)
DISK_BOOL(d_backup, backup)
DISK_BOOL(d_replicate, replicate)
DISK_BOOL(d_readonly, readonly)
DISK_BOOL(d_cdrom_passthrough, cdrom_passthrough)

static int check_volume(const char *s, struct strbuf *why)
{
	const char *colon = strchr(s, ':');
	struct strbuf tmp = STRBUF_INIT;
	int ret = 0;

	if (!colon || !colon[1]) {
		strbuf_addstr(why, "not a volume id (STORAGE:PATH such as "
				   "local:iso/ubuntu.iso)");
		return -1;
	}
	strbuf_add(&tmp, s, (size_t)(colon - s));
	if (pve_check_storage_id(tmp.buf, why) < 0)
		ret = -1;
	strbuf_release(&tmp);
	return ret;
}

static int check_passthrough(const char *s, struct strbuf *why)
{
	if (!strncmp(s, "/dev/", 5) && s[5])
		return 0;
	return check_volume(s, why);
}

static int d_iso(struct ydecoder *d, void *t, const struct ynode *k,
		 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->iso, check_volume);
}

static int d_file(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->file, check_passthrough);
}

static int d_slot(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)d;
	(void)k;
	(void)path;
	((struct diskctx *)t)->slot_node = v;
	return 0;
}

static int d_type(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)d;
	(void)k;
	(void)path;
	((struct diskctx *)t)->type_node = v;
	return 0;
}

/* The list form's cloudinit: an entry with true was filtered out before
 * (list_is_cloudinit); false changes nothing. */
static int d_cloudinit_flag(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	int b;

	(void)t;
	(void)k;
	return yd_tfbool(d, v, path, &b);
}

static const struct {
	struct yd_field f;
	unsigned group;
} disk_keys[] = {
	{ { "size", d_size, 0,
	    YD_STR("size with a unit: K, M, G or T (32G)", NULL, PVE_SIZE_RE) },
	  DK_SIZE },
	{ { "storage", d_storage, 0,
	    YD_STR("Proxmox storage id", NULL, PVE_STORAGE_ID_RE) },
	  DK_STORAGE },
	{ { "format", d_format, 0,
	    YD_ENUM("image format", NULL, pve_disk_formats) },
	  DK_FORMAT },
	{ { "mount", d_mount, 0,
	    YD_STR("where the playbook mounts the disk", NULL, MOUNT_RE) },
	  DK_MOUNT },
	{ { "cache", d_cache, 0, YD_ENUM("cache mode", NULL, pve_disk_caches) },
	  DK_OPTS },
	{ { "discard", d_discard, 0,
	    YD_DOC(YT_TFBOOL, "pass discards (also on, ignore)", NULL) },
	  DK_OPTS },
	{ { "iothread", d_iothread, 0,
	    YD_DOC(YT_TFBOOL, "an I/O thread for the disk", NULL) },
	  DK_OPTS },
	{ { "ssd", d_ssd, 0,
	    YD_DOC(YT_TFBOOL, "shown to the guest as an SSD", NULL) },
	  DK_OPTS },
	{ { "emulatessd", d_ssd, 0,
	    YD_DOC(YT_TFBOOL, "ssd, in Telmate 3.x's spelling", NULL) },
	  DK_OPTS },
	{ { "backup", d_backup, 0,
	    YD_DOC(YT_TFBOOL, "included in backups", NULL) },
	  DK_OPTS },
	{ { "replicate", d_replicate, 0,
	    YD_DOC(YT_TFBOOL, "included in replication", NULL) },
	  DK_OPTS },
	{ { "readonly", d_readonly, 0, YD_DOC(YT_TFBOOL, "read-only", NULL) },
	  DK_OPTS },
	{ { "asyncio", d_asyncio, 0,
	    YD_ENUM("asynchronous I/O mode", NULL, disk_aio) },
	  DK_OPTS },
	{ { "iops_rd", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_rd", NULL) },
	  DK_OPTS },
	{ { "iops_rd_max", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_rd_max", NULL) },
	  DK_OPTS },
	{ { "iops_rd_max_length", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_rd_max_length", NULL) },
	  DK_OPTS },
	{ { "iops_wr", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr", NULL) },
	  DK_OPTS },
	{ { "iops_wr_max", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr_max", NULL) },
	  DK_OPTS },
	{ { "iops_wr_max_length", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr_max_length", NULL) },
	  DK_OPTS },
	{ { "mbps_rd", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_rd", NULL) },
	  DK_OPTS },
	{ { "mbps_rd_max", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_rd_max", NULL) },
	  DK_OPTS },
	{ { "mbps_wr", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_wr", NULL) },
	  DK_OPTS },
	{ { "mbps_wr_max", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_wr_max", NULL) },
	  DK_OPTS },
	{ { "iops_r_concurrent", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_r_concurrent", NULL) },
	  DK_OPTS },
	{ { "iops_r_burst", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_r_burst", NULL) },
	  DK_OPTS },
	{ { "iops_r_burst_length", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_r_burst_length", NULL) },
	  DK_OPTS },
	{ { "iops_wr_concurrent", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr_concurrent", NULL) },
	  DK_OPTS },
	{ { "iops_wr_burst", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr_burst", NULL) },
	  DK_OPTS },
	{ { "iops_wr_burst_length", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit iops_wr_burst_length", NULL) },
	  DK_OPTS },
	{ { "mbps_r_concurrent", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_r_concurrent", NULL) },
	  DK_OPTS },
	{ { "mbps_r_burst", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_r_burst", NULL) },
	  DK_OPTS },
	{ { "mbps_wr_concurrent", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_wr_concurrent", NULL) },
	  DK_OPTS },
	{ { "mbps_wr_burst", d_throttle, 0,
	    YD_DOC(YT_NUMBER, "I/O limit mbps_wr_burst", NULL) },
	  DK_OPTS },
	{ { "iso", d_iso, 0,
	    YD_DOC(YT_STRING, "CD-ROM image volume (storage:iso/NAME.iso)",
		   NULL) },
	  DK_ISO },
	{ { "passthrough", d_cdrom_passthrough, 0,
	    YD_DOC(YT_TFBOOL, "CD-ROM: the host's drive", NULL) },
	  DK_ISO },
	{ { "file", d_file, 0,
	    YD_DOC(YT_STRING, "passthrough: the host device or volume", NULL) },
	  DK_FILE },
	{ { "slot", d_slot, 0,
	    YD_STR("the list form: slot such as scsi0", NULL,
		   PVE_DISK_SLOT_RE) },
	  DK_SLOT },
	{ { "type", d_type, 0,
	    YD_ENUM("the list form: kind of drive", "\"disk\"", disk_kinds) },
	  DK_SLOT },
	{ { "cloudinit", d_cloudinit_flag, 0,
	    YD_DOC(YT_TFBOOL, "the list form: a cloud-init drive", NULL) },
	  DK_SLOT },
};

#define NR_DISK_KEYS (sizeof(disk_keys) / sizeof(disk_keys[0]))

const struct yd_field *vmdef_disk_fields(void)
{
	static struct yd_field all[NR_DISK_KEYS + 1];
	size_t i;

	for (i = 0; i < NR_DISK_KEYS; i++)
		all[i] = disk_keys[i].f;
	return all;
}

/* Decode one disk mapping with the keys of the allowed groups. */
static int disk_decode(struct ydecoder *d, struct diskctx *ctx,
		       const struct ynode *v, const char *path)
{
	struct yd_field fields[sizeof(disk_keys) / sizeof(disk_keys[0]) + 1];
	size_t i, n = 0;

	for (i = 0; i < sizeof(disk_keys) / sizeof(disk_keys[0]); i++)
		if (disk_keys[i].group & ctx->allowed)
			fields[n++] = disk_keys[i].f;
	fields[n].key = NULL;
	fields[n].fn = NULL;
	ctx->disk->line = v->line;
	ctx->disk->col = v->col;
	return yd_map(d, v, path, fields, ctx);
}

static void disk_init(struct vm_disk *disk)
{
	memset(disk, 0, sizeof(*disk));
	disk->discard = disk->ssd = disk->iothread = disk->backup = -1;
	disk->replicate = disk->readonly = disk->cdrom_passthrough = -1;
}

void vmdef_disk_release(struct vm_disk *disk)
{
	int i;

	for (i = 0; i < VMDEF_NR_THROTTLE; i++)
		free(disk->throttle[i]);
	free(disk->slot);
	free(disk->storage);
	free(disk->format);
	free(disk->mount);
	free(disk->file);
	free(disk->iso);
	free(disk->cache);
	free(disk->asyncio);
}

const char *vmdef_disk_kind(enum disk_kind kind)
{
	switch (kind) {
	case DISK_CLOUDINIT:
		return "cloudinit";
	case DISK_CDROM:
		return "cdrom";
	case DISK_PASSTHROUGH:
		return "passthrough";
	case DISK_DISK:
		break;
	}
	return "disk";
}

/* Checks every form shares, then append (taking ownership) or free. */
static int disk_finish(struct ydecoder *d, struct vmdef *vm,
		       struct vm_disk *disk, const struct ynode *at,
		       const char *path)
{
	size_t i;
	int ret = 0;

	if (disk->kind == DISK_DISK && !disk->storage) {
		yd_error(d, at, path, "missing 'storage' (such as local-lvm)");
		ret = -1;
	}
	if (disk->kind == DISK_DISK && !disk->size) {
		yd_error(d, at, path, "missing 'size' (such as 50G)");
		ret = -1;
	}
	if (disk->kind == DISK_CLOUDINIT && !disk->storage) {
		yd_error(d, at, path,
			 "missing 'storage' for the cloud-init "
			 "drive");
		ret = -1;
	}
	if (disk->kind == DISK_PASSTHROUGH && !disk->file) {
		yd_error(d, at, path,
			 "missing 'file' (/dev/... or a volume "
			 "id)");
		ret = -1;
	}
	if (disk->kind == DISK_CDROM && disk->iso &&
	    disk->cdrom_passthrough == 1) {
		yd_error(d, at, path,
			 "a cdrom takes either 'iso' or "
			 "'passthrough: true', not both");
		ret = -1;
	}
	for (i = 0; ret == 0 && i < vm->nr_disks; i++) {
		if (!strcmp(vm->disks[i].slot, disk->slot)) {
			yd_error(d, at, path,
				 "slot %s is defined twice (first "
				 "at line %d)",
				 disk->slot, vm->disks[i].line);
			ret = -1;
		} else if (disk->mount && vm->disks[i].mount &&
			   !strcmp(vm->disks[i].mount, disk->mount)) {
			yd_error(d, at, path,
				 "mount point %s is used by %s too",
				 disk->mount, vm->disks[i].slot);
			ret = -1;
		} else if (disk->kind == DISK_CLOUDINIT &&
			   vm->disks[i].kind == DISK_CLOUDINIT) {
			yd_error(d, at, path,
				 "a second cloud-init drive (the "
				 "first is %s)",
				 vm->disks[i].slot);
			ret = -1;
		}
	}
	if (ret) {
		vmdef_disk_release(disk);
		return -1;
	}
	ALLOC_GROW(vm->disks, vm->nr_disks + 1, vm->alloc_disks);
	vm->disks[vm->nr_disks++] = *disk;
	return 0;
}

static int slot_ok(struct ydecoder *d, const struct ynode *at, const char *path,
		   const char *slot)
{
	struct strbuf why = STRBUF_INIT;
	int ret = pve_parse_disk_slot(slot, &why);

	if (ret < 0)
		yd_error(d, at, path, "%s", why.buf);
	strbuf_release(&why);
	return ret;
}

/* The seed's form: disks: {scsi0: {size, storage, mount, format}} */
static int disks_map(struct ydecoder *d, struct vmdef *vm,
		     const struct ynode *v, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	int ret = 0;
	size_t i;

	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *k = ymap_key(v, i), *dv = ymap_value(v, i);
		struct vm_disk disk;
		struct diskctx ctx = { &disk,
				       DK_SIZE | DK_STORAGE | DK_FORMAT |
					       DK_MOUNT | DK_OPTS,
				       NULL, NULL, NULL };

		strbuf_reset(&p);
		yd_path(&p, path, k->str);
		if (slot_ok(d, k, path, k->str) < 0) {
			ret = -1;
			continue;
		}
		disk_init(&disk);
		disk.slot = xstrndup(k->str, k->len);
		if (disk_decode(d, &ctx, dv, p.buf) < 0) {
			vmdef_disk_release(&disk);
			ret = -1;
			continue;
		}
		ret |= disk_finish(d, vm, &disk, dv, p.buf);
	}
	strbuf_release(&p);
	return ret;
}

static int list_slot(struct ydecoder *d, struct diskctx *ctx,
		     const struct ynode *item, const char *path)
{
	static const char *const buses[] = { "scsi", "virtio", "sata", "ide",
					     NULL };
	const struct ynode *s = ctx->slot_node, *ty = ctx->type_node;
	struct vm_disk *disk = ctx->disk;
	size_t i;

	if (!s) {
		yd_error(d, item, path, "missing 'slot' (such as scsi0)");
		return -1;
	}
	if (s->kind != YNODE_SCALAR) {
		yd_error(d, s, path, "slot: expected a string such as scsi0");
		return -1;
	}
	/* Telmate 2.x: type is the bus and slot its number. */
	for (i = 0; ty && ty->kind == YNODE_SCALAR && buses[i]; i++) {
		if (strlen(buses[i]) == ty->len &&
		    !memcmp(buses[i], ty->str, ty->len)) {
			struct strbuf sl = STRBUF_INIT;

			strbuf_addf(&sl, "%s%s", buses[i], s->str);
			disk->slot = strbuf_detach(&sl, NULL);
			disk->kind = DISK_DISK;
			return slot_ok(d, s, path, disk->slot);
		}
	}
	disk->slot = xstrndup(s->str, s->len);
	if (slot_ok(d, s, path, disk->slot) < 0)
		return -1;
	if (ty) {
		char *kind = NULL;
		struct strbuf tp = STRBUF_INIT;

		yd_path(&tp, path, "type");
		if (yd_enum(d, ty, tp.buf, disk_kinds, &kind) < 0) {
			strbuf_release(&tp);
			return -1;
		}
		strbuf_release(&tp);
		for (i = 0; disk_kinds[i]; i++)
			if (!strcmp(disk_kinds[i], kind))
				disk->kind = (enum disk_kind)i;
		free(kind);
	}
	return 0;
}

/* The value of key in mapping m, or NULL. */
static const struct ynode *map_get(const struct ynode *m, const char *key)
{
	size_t i;

	for (i = 0; m->kind == YNODE_MAP && i < ymap_size(m); i++)
		if (!strcmp(ymap_key(m, i)->str, key))
			return ymap_value(m, i);
	return NULL;
}

/* An entry with cloudinit: true, which main.tf filters out of the list
 * (true as the key's own decoder reads it: "true", yes, 1, ...). */
static bool list_is_cloudinit(const struct ynode *item)
{
	const struct ynode *v = map_get(item, "cloudinit");
	struct diag_list dl = DIAG_LIST_INIT;
	struct ydecoder scratch = { &dl, "", 0 };
	int on = 0;

	if (v && yd_tfbool(&scratch, v, "", &on) < 0)
		on = 0;
	diag_list_release(&dl);
	return on == 1;
}

/* The list form: disks: [{slot: scsi0, type: disk, size, storage}] */
static int disks_list(struct ydecoder *d, struct vmdef *vm,
		      const struct ynode *v, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	int ret = 0;
	size_t i;

	for (i = 0; i < v->nr; i++) {
		struct vm_disk disk;
		struct diskctx ctx = { &disk, ~0u, NULL, NULL, NULL };

		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		if (list_is_cloudinit(v->kids[i])) {
			yd_advice(d, v->kids[i], p.buf,
				  "an entry with cloudinit: true is left out, "
				  "as the original's main.tf does (the "
				  "cloud-init drive is added by itself)");
			continue;
		}
		disk_init(&disk);
		if (disk_decode(d, &ctx, v->kids[i], p.buf) < 0 ||
		    list_slot(d, &ctx, v->kids[i], p.buf) < 0) {
			vmdef_disk_release(&disk);
			ret = -1;
			continue;
		}
		ret |= disk_finish(d, vm, &disk, v->kids[i], p.buf);
	}
	strbuf_release(&p);
	return ret;
}

int vmdef_field_disks(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->disks_node = v;
	if (map_get(((struct vmctx *)t)->root, "nested_disks")) {
		yd_advice(d, k, path,
			  "ignored: with nested_disks given, the original's "
			  "main.tf reads no disks");
		return 0;
	}
	if (v->kind == YNODE_MAP)
		return disks_map(d, VM(t), v, path);
	if (v->kind == YNODE_SEQ)
		return disks_list(d, VM(t), v, path);
	yd_error(d, v, path,
		 "expected a mapping of slots (scsi0: {...}) or a "
		 "list of disks, got %s",
		 ynode_describe(v));
	return -1;
}

/* Telmate 3.x: nested_disks: {scsi: {scsi0: {disk: {...}}}} */
static int nested_slot(struct ydecoder *d, struct vmdef *vm,
		       const struct ynode *slotk, const struct ynode *sv,
		       const char *path)
{
	static const struct {
		const char *name;
		enum disk_kind kind;
		unsigned allowed;
	} kinds[] = {
		{ "disk", DISK_DISK,
		  DK_SIZE | DK_STORAGE | DK_FORMAT | DK_MOUNT | DK_OPTS },
		{ "cloudinit", DISK_CLOUDINIT, DK_STORAGE },
		{ "cdrom", DISK_CDROM, DK_ISO },
		{ "passthrough", DISK_PASSTHROUGH,
		  DK_FILE | DK_SIZE | DK_FORMAT | DK_MOUNT | DK_OPTS },
	};
	struct strbuf p = STRBUF_INIT;
	const struct ynode *kk, *kv;
	struct vm_disk disk;
	struct diskctx ctx = { &disk, 0, NULL, NULL, NULL };
	size_t j;
	int ret = -1;

	if (yd_expect_map(d, sv, path) < 0)
		return -1;
	if (ymap_size(sv) != 1) {
		yd_error(d, sv, path,
			 "expected exactly one of disk, cloudinit, "
			 "cdrom or passthrough");
		return -1;
	}
	kk = ymap_key(sv, 0);
	kv = ymap_value(sv, 0);
	for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
		if (strlen(kinds[j].name) == kk->len &&
		    !memcmp(kinds[j].name, kk->str, kk->len))
			break;
	if (j == sizeof(kinds) / sizeof(kinds[0])) {
		yd_error(d, kk, path,
			 "unknown drive type '%s' (allowed: disk, "
			 "cloudinit, cdrom, passthrough)",
			 kk->str);
		return -1;
	}
	disk_init(&disk);
	disk.slot = xstrndup(slotk->str, slotk->len);
	disk.kind = kinds[j].kind;
	ctx.allowed = kinds[j].allowed;
	yd_path(&p, path, kk->str);
	if (kv->kind == YNODE_SCALAR && kv->stype == YS_NULL &&
	    disk.kind == DISK_CDROM)
		ret = disk_finish(d, vm, &disk, kv, p.buf); /* empty drive */
	else if (disk_decode(d, &ctx, kv, p.buf) < 0)
		vmdef_disk_release(&disk);
	else
		ret = disk_finish(d, vm, &disk, kv, p.buf);
	strbuf_release(&p);
	return ret;
}

/*
 * The original's main.tf reads three places of nested_disks and no other:
 * scsi.scsi0.disk, scsi.scsi1.passthrough, ide.ide1.cloudinit. Others are
 * ignored as it ignores them (with advice), unless the config's
 * defaults.nested_disks is "all".
 */
static bool nested_ignored(struct ydecoder *d, void *t, const struct ynode *sk,
			   const struct ynode *sv, const char *path)
{
	static const char *const read[][2] = { { "scsi0", "disk" },
					       { "scsi1", "passthrough" },
					       { "ide1", "cloudinit" } };
	const char *kind = sv->kind == YNODE_MAP && ymap_size(sv) == 1
				   ? ymap_key(sv, 0)->str
				   : "";
	size_t i;

	if (vmdef_defaults_of(t)->nested_disks_all)
		return false;
	for (i = 0; i < sizeof(read) / sizeof(read[0]); i++)
		if (!strcmp(sk->str, read[i][0]) && !strcmp(kind, read[i][1]))
			return false;
	if (sv->kind != YNODE_MAP || ymap_size(sv) != 1)
		return false; /* nested_slot reports the shape */
	yd_advice(d, sk, path,
		  "ignored, as the original's main.tf ignores it: it reads "
		  "only scsi0 disk, scsi1 passthrough and ide1 cloudinit "
		  "(defaults.nested_disks: all in pve-gitops.yaml creates "
		  "it)");
	return true;
}

int vmdef_field_nested_disks(struct ydecoder *d, void *t, const struct ynode *k,
			     const struct ynode *v, const char *path)
{
	static const char *const buses[] = { "scsi", "virtio", "sata", "ide",
					     NULL };
	struct strbuf p = STRBUF_INIT, sp = STRBUF_INIT;
	size_t i, j;
	int ret = 0;

	(void)k;
	((struct vmctx *)t)->nested_node = v;
	if (yd_expect_map(d, v, path) < 0)
		return -1;
	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *bk = ymap_key(v, i), *bv = ymap_value(v, i);
		char *bus = NULL;

		strbuf_reset(&p);
		yd_path(&p, path, bk->str);
		if (yd_enum(d, bk, path, buses, &bus) < 0) {
			ret = -1;
			continue;
		}
		if (yd_expect_map(d, bv, p.buf) < 0) {
			free(bus);
			ret = -1;
			continue;
		}
		for (j = 0; j < ymap_size(bv); j++) {
			const struct ynode *sk = ymap_key(bv, j);

			strbuf_reset(&sp);
			yd_path(&sp, p.buf, sk->str);
			if (slot_ok(d, sk, p.buf, sk->str) < 0) {
				ret = -1;
			} else if (strncmp(sk->str, bus, strlen(bus)) ||
				   !isdigit((unsigned char)
						    sk->str[strlen(bus)])) {
				yd_error(d, sk, p.buf,
					 "slot %s does not belong "
					 "under %s",
					 sk->str, bus);
				ret = -1;
			} else if (nested_ignored(d, t, sk, ymap_value(bv, j),
						  sp.buf)) {
				continue;
			} else {
				ret |= nested_slot(d, VM(t), sk,
						   ymap_value(bv, j), sp.buf);
			}
		}
		free(bus);
	}
	strbuf_release(&p);
	strbuf_release(&sp);
	return ret;
}
