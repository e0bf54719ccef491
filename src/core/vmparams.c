/*
 * vmparams.c - parameters that depend on the current configuration; see
 * vmparams.h.
 */
#include "core/vmparams.h"

#include <string.h>

#include "core/pve_format.h"

bool vmparams_is_drive_key(const char *key)
{
	struct strbuf why = STRBUF_INIT;
	int r = pve_parse_disk_slot(key, &why);

	strbuf_release(&why);
	return r == 0;
}

/* Whether name[0..n) is "vm-DIGITS-cloudinit", with an optional ".FMT". */
static bool is_cloudinit_volname(const char *name, size_t n)
{
	const char *dot = memchr(name, '.', n);
	size_t i = 3, len = dot ? (size_t)(dot - name) : n;
	static const char tail[] = "-cloudinit";

	if (len < 3 || strncmp(name, "vm-", 3))
		return false;
	while (i < len && name[i] >= '0' && name[i] <= '9')
		i++;
	return i > 3 && len - i == sizeof(tail) - 1 &&
	       !strncmp(name + i, tail, sizeof(tail) - 1);
}

/* Whether the options after the volume ("media=cdrom,size=4M") hold opt. */
static bool has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	while (*opts) {
		size_t len = strcspn(opts, ",");

		if (len == n && !strncmp(opts, opt, n))
			return true;
		opts += len;
		if (*opts == ',')
			opts++;
	}
	return false;
}

bool vmparams_is_cloudinit_drive(const char *key, const char *value)
{
	size_t vol = strcspn(value, ",");
	const char *colon = memchr(value, ':', vol), *name, *slash;
	size_t n;

	if (!vmparams_is_drive_key(key) || !colon || colon == value)
		return false;
	name = colon + 1;
	n = vol - (size_t)(name - value);
	slash = memchr(name, '/', n); /* file storages: "101/vm-101-..." */
	if (slash) {
		n -= (size_t)(slash + 1 - name);
		name = slash + 1;
	}
	if (is_cloudinit_volname(name, n))
		return true;
	return !slash && n == 9 && !strncmp(name, "cloudinit", 9) &&
	       has_option(value + vol + (value[vol] == ','), "media=cdrom");
}

bool vmparams_has_cloudinit(const struct desired *want,
			    const struct strvec *keys,
			    const struct strvec *vals)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (want->disks[i].kind == DISK_CLOUDINIT)
			return true;
	for (i = 0; i < keys->nr && i < vals->nr; i++)
		if (vmparams_is_cloudinit_drive(keys->v[i], vals->v[i]))
			return true;
	return false;
}

static const char *lookup(const struct strvec *keys, const struct strvec *vals,
			  const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < keys->nr && i < vals->nr; i++)
		if (strlen(keys->v[i]) == klen &&
		    !strncmp(keys->v[i], key, klen))
			return vals->v[i];
	return NULL;
}

/* The storage of a disk drive's value, appended; -1 for a CD-ROM, a
 * cloud-init drive, "none" or a pass-through path. */
static int disk_storage(struct strbuf *out, const char *key, const char *val)
{
	size_t vol, st;

	if (!val)
		return -1;
	vol = strcspn(val, ",");
	st = strcspn(val, ":");
	if (!vmparams_is_drive_key(key) ||
	    vmparams_is_cloudinit_drive(key, val) ||
	    has_option(val + vol + (val[vol] == ','), "media=cdrom") ||
	    st >= vol || st == 0)
		return -1;
	strbuf_add(out, val, st);
	return 0;
}

/* The boot disk's storage from boot=order=a;b;c or bootdisk=. */
static int boot_storage(struct strbuf *out, const struct strvec *keys,
			const struct strvec *vals)
{
	const char *boot = lookup(keys, vals, "boot", 4);
	const char *disk = lookup(keys, vals, "bootdisk", 8);
	const char *p;
	struct strbuf key = STRBUF_INIT;
	int ret = -1;

	p = boot && !strncmp(boot, "order=", 6) ? boot + 6 : "";
	while (*p && *p != ',' && ret < 0) {
		size_t n = strcspn(p, ";,");
		const char *v = lookup(keys, vals, p, n);

		strbuf_reset(&key);
		strbuf_add(&key, p, n);
		if (v)
			ret = disk_storage(out, key.buf, v);
		p += n;
		if (*p == ';')
			p++;
	}
	if (ret < 0 && disk)
		ret = disk_storage(out, disk,
				   lookup(keys, vals, disk, strlen(disk)));
	strbuf_release(&key);
	return ret;
}

int vmparams_cloudinit_storage(struct strbuf *out, const struct desired *want,
			       const struct strvec *keys,
			       const struct strvec *vals)
{
	size_t i;

	if (boot_storage(out, keys, vals) == 0)
		return 0;
	for (i = 0; i < keys->nr && i < vals->nr; i++)
		if (disk_storage(out, keys->v[i], vals->v[i]) == 0)
			return 0;
	for (i = 0; i < want->nr_disks; i++)
		if (want->disks[i].kind == DISK_DISK &&
		    want->disks[i].storage) {
			strbuf_addstr(out, want->disks[i].storage);
			return 0;
		}
	return -1;
}
