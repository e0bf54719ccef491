/*
 * vmparams.c - parameters that depend on the current configuration; see
 * vmparams.h.
 */
#include "core/vmparams.h"

#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/xalloc.h"

bool vmparams_is_drive_key(const char *key)
{
	struct strbuf why = STRBUF_INIT;
	int r = pve_parse_disk_slot(key, &why);

	strbuf_release(&why);
	return r == 0;
}

/* Whether name[0..n) is "vm-DIGITS-cloudinit", with an optional ".FMT". */
/* Whether s[0..n) is one of the image formats QEMU drives take. */
static bool is_image_format(const char *s, size_t n)
{
	return (n == 3 && !strncmp(s, "raw", 3)) ||
	       (n == 5 && !strncmp(s, "qcow2", 5)) ||
	       (n == 4 && !strncmp(s, "vmdk", 4));
}

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
	       !strncmp(name + i, tail, sizeof(tail) - 1) &&
	       (!dot || is_image_format(dot + 1, n - len - 1));
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

	for (i = 0; want && i < want->nr_disks; i++)
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

int vmparams_disk_storage(struct strbuf *out, const char *key, const char *val)
{
	size_t vol, st;

	if (!val)
		return -1;
	vol = strcspn(val, ",");
	st = strcspn(val, ":");
	if (!vmparams_is_drive_key(key) || val[0] == '/' ||
	    vmparams_is_cloudinit_drive(key, val) ||
	    has_option(val + vol + (val[vol] == ','), "media=cdrom") ||
	    st >= vol || st == 0)
		return -1;
	strbuf_add(out, val, st);
	return 0;
}

/* Whether key[0..n) is a disk on a storage in the configuration. */
static bool is_storage_disk(const struct strvec *keys,
			    const struct strvec *vals, const char *key,
			    size_t n, struct strbuf *slot)
{
	const char *v = lookup(keys, vals, key, n);
	struct strbuf st = STRBUF_INIT;
	bool ret;

	strbuf_reset(slot);
	strbuf_add(slot, key, n);
	ret = v && vmparams_disk_storage(&st, slot->buf, v) == 0;
	strbuf_release(&st);
	return ret;
}

int vmparams_boot_disk(struct strbuf *out, const struct strvec *keys,
		       const struct strvec *vals)
{
	const char *boot = lookup(keys, vals, "boot", 4);
	const char *disk = lookup(keys, vals, "bootdisk", 8);
	struct strbuf slot = STRBUF_INIT;
	const char *p;
	size_t i;
	bool found = false;

	p = boot && !strncmp(boot, "order=", 6) ? boot + 6 : "";
	while (*p && *p != ',' && !found) {
		size_t n = strcspn(p, ";,");

		found = is_storage_disk(keys, vals, p, n, &slot);
		p += n;
		if (*p == ';')
			p++;
	}
	if (!found && disk)
		found = is_storage_disk(keys, vals, disk, strlen(disk), &slot);
	for (i = 0; !found && i < keys->nr && i < vals->nr; i++)
		found = is_storage_disk(keys, vals, keys->v[i],
					strlen(keys->v[i]), &slot);
	if (found)
		strbuf_add(out, slot.buf, slot.len);
	strbuf_release(&slot);
	return found ? 0 : -1;
}

int vmparams_cloudinit_storage(struct strbuf *out, const struct desired *want,
			       const struct strvec *keys,
			       const struct strvec *vals)
{
	struct strbuf slot = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (vmparams_boot_disk(&slot, keys, vals) == 0)
		ret = vmparams_disk_storage(
			out, slot.buf, lookup(keys, vals, slot.buf, slot.len));
	for (i = 0; ret < 0 && i < want->nr_disks; i++)
		if (want->disks[i].kind == DISK_DISK &&
		    want->disks[i].storage) {
			strbuf_addstr(out, want->disks[i].storage);
			ret = 0;
		}
	strbuf_release(&slot);
	return ret;
}

const char *vmparams_volume_format(const char *val, size_t *len)
{
	size_t vol = strcspn(val, ",");
	const char *dot = NULL, *p;

	for (p = val; p < val + vol; p++)
		if (*p == '.')
			dot = p;
		else if (*p == '/' || *p == ':')
			dot = NULL;
	/* an iSCSI LUN (store:0.0.1.scsi-36...) has dots but no format */
	if (!dot || !is_image_format(dot + 1, (size_t)(val + vol - dot - 1)))
		return NULL;
	*len = (size_t)(val + vol - dot - 1);
	return dot + 1;
}

bool vmparams_prop(const char *s, const char *key, const char *default_key,
		   struct strbuf *out)
{
	size_t n = strlen(key);
	bool first = true;

	strbuf_reset(out);
	while (s && *s) {
		size_t l = strcspn(s, ",");
		const char *eq = memchr(s, '=', l);

		if (eq && (size_t)(eq - s) == n && !strncmp(s, key, n)) {
			strbuf_add(out, eq + 1, l - n - 1);
			return true;
		}
		if (!eq && first && default_key && !strcmp(key, default_key)) {
			strbuf_add(out, s, l);
			return true;
		}
		first = false;
		s += l;
		if (*s)
			s++;
	}
	return false;
}

/* What Proxmox reads for a flag a drive value does not carry. */
static const char *option_default(const char *key)
{
	static const char *const on[] = { "backup", "replicate", NULL };
	static const char *const off[] = { "ro", "ssd", "iothread", NULL };
	size_t i;

	for (i = 0; on[i]; i++)
		if (!strcmp(key, on[i]))
			return "1";
	for (i = 0; off[i]; i++)
		if (!strcmp(key, off[i]))
			return "0";
	return !strcmp(key, "discard") ? "ignore" : NULL;
}

/* Options whose change a running VM takes only at its next boot. */
static bool option_waits(const char *key)
{
	static const char *const cold[] = { "cache",	"aio", "discard",
					    "iothread", "ssd", "ro",
					    NULL };
	size_t i;

	for (i = 0; cold[i]; i++)
		if (!strcmp(key, cold[i]))
			return true;
	return false;
}

/* have's options with want's set (the value that changes only those). */
static void merged_value(struct strbuf *out, const char *have,
			 const struct strvec *keys, const struct strvec *vals)
{
	const char *p = have + strcspn(have, ",");
	struct strbuf k = STRBUF_INIT;
	size_t i;
	bool *done = xcalloc(keys->nr + 1, sizeof(*done));

	strbuf_add(out, have, (size_t)(p - have));
	while (*p == ',') {
		size_t len = strcspn(++p, ",");
		size_t klen = strcspn(p, "=,");

		strbuf_reset(&k);
		strbuf_add(&k, p, klen);
		for (i = 0; i < keys->nr && strcmp(keys->v[i], k.buf); i++)
			;
		if (i < keys->nr) {
			strbuf_addf(out, ",%s=%s", keys->v[i], vals->v[i]);
			done[i] = true;
		} else {
			strbuf_addch(out, ',');
			strbuf_add(out, p, len);
		}
		p += len;
	}
	for (i = 0; i < keys->nr; i++)
		if (!done[i])
			strbuf_addf(out, ",%s=%s", keys->v[i], vals->v[i]);
	free(done);
	strbuf_release(&k);
}

bool vmparams_drive_options(const char *have, const char *want_opts,
			    struct strbuf *value, struct strbuf *before,
			    struct strbuf *after, bool *waits)
{
	const char *opts = have + strcspn(have, ",");
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
	struct strbuf k = STRBUF_INIT, v = STRBUF_INIT, cur = STRBUF_INIT;
	const char *p = want_opts;
	bool differ;

	*waits = false;
	opts += *opts == ',';
	while (*p) {
		size_t len = strcspn(p, ","), klen = strcspn(p, "=,");
		const char *dflt;

		strbuf_reset(&k);
		strbuf_reset(&v);
		strbuf_reset(&cur);
		strbuf_add(&k, p, klen);
		if (klen < len)
			strbuf_add(&v, p + klen + 1, len - klen - 1);
		p += len + (p[len] == ',');
		dflt = option_default(k.buf);
		if (!k.len || !strcmp(k.buf, "format") ||
		    (!vmparams_prop(opts, k.buf, NULL, &cur) && dflt &&
		     !strcmp(dflt, v.buf)) ||
		    !strcmp(cur.buf, v.buf))
			continue;
		strvec_push(&keys, k.buf);
		strvec_push(&vals, v.buf);
		strbuf_addf(before, "%s%s=%s", before->len ? "," : "", k.buf,
			    cur.len ? cur.buf
			    : dflt  ? dflt
				    : "(unset)");
		strbuf_addf(after, "%s%s=%s", after->len ? "," : "", k.buf,
			    v.buf);
		*waits = *waits || option_waits(k.buf);
	}
	differ = keys.nr > 0;
	if (differ)
		merged_value(value, have, &keys, &vals);
	strbuf_release(&k);
	strbuf_release(&v);
	strbuf_release(&cur);
	strvec_clear(&keys);
	strvec_clear(&vals);
	return differ;
}

int vmparams_placement(const char *slot, const char *cur, const char *storage,
		       const char *format)
{
	struct strbuf st = STRBUF_INIT;
	const char *fmt;
	size_t len = 0;
	int ret = -1;

	if (!cur || vmparams_disk_storage(&st, slot, cur) < 0)
		goto out;
	fmt = vmparams_volume_format(cur, &len);
	ret = (storage && strcmp(st.buf, storage)) ||
	      (format && fmt &&
	       (strlen(format) != len || strncmp(fmt, format, len)));
out:
	strbuf_release(&st);
	return ret;
}
