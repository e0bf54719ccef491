/*
 * vmparams.h - decisions about the parameters a create or an update sends
 * to Proxmox that depend on the VM's current configuration: whether it has
 * a cloud-init drive, and on which storage to add one, its boot disk and
 * the storage of a disk.
 *
 * A configuration is given as parallel key and value vectors, as
 * GET /nodes/{node}/qemu/{vmid}/config returns it. Pure.
 */
#ifndef PVE_GITOPS_VMPARAMS_H
#define PVE_GITOPS_VMPARAMS_H

#include <stdbool.h>

#include "core/desired.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/* Whether key names a drive as Proxmox does: ide0-3, sata0-5, scsi0-30,
 * virtio0-15. */
bool vmparams_is_drive_key(const char *key);

/*
 * Whether key=value is a cloud-init drive: a drive key whose volume is
 * Proxmox's cloud-init volume ("STORAGE:vm-VMID-cloudinit", also
 * "STORAGE:VMID/vm-VMID-cloudinit.FMT" on file storages), or
 * "STORAGE:cloudinit" with media=cdrom (the form that asks for one).
 */
bool vmparams_is_cloudinit_drive(const char *key, const char *value);

/* Whether the VM will have a cloud-init drive: want (may be NULL) asks for
 * one or the configuration (keys, vals) has one. */
bool vmparams_has_cloudinit(const struct desired *want,
			    const struct strvec *keys,
			    const struct strvec *vals);

/*
 * The storage of drive key=val (the part of its volume before ':'),
 * appended to out. Returns -1 (out untouched) for a CD-ROM, a cloud-init
 * drive, "none", a pass-through path or a key that is no drive.
 */
int vmparams_disk_storage(struct strbuf *out, const char *key, const char *val);

/*
 * The VM's boot disk (its key, "scsi0") appended to out: the first disk
 * on a storage in boot order=..., else bootdisk, else the first disk of
 * the configuration. Returns 0, or -1 when it has no disk (out untouched).
 */
int vmparams_boot_disk(struct strbuf *out, const struct strvec *keys,
		       const struct strvec *vals);

/*
 * The storage for a cloud-init drive, appended to out: the storage of the
 * VM's boot disk (boot order=..., else bootdisk, else its first disk),
 * else of the definition's first disk on a storage. Returns 0, or -1 when
 * neither has one (out untouched).
 */
int vmparams_cloudinit_storage(struct strbuf *out, const struct desired *want,
			       const struct strvec *keys,
			       const struct strvec *vals);

/*
 * Where drive value cur of slot is against the definition's storage and
 * format (NULL: any): 1 on another storage, or on a file storage in
 * another format (a move makes it right); 0 where wanted; -1 when cur is
 * no volume on a storage (a pass-through path, a CD-ROM, NULL).
 */
int vmparams_placement(const char *slot, const char *cur, const char *storage,
		       const char *format);

/*
 * The value of key in a property string "a=1,b=2" (the options of a drive,
 * a NIC, memory's "current=2048"; with default_key equal to key, also the
 * value of a first item without "=", as "host" in "host,flags=..."), into
 * out (reset first); false when absent.
 */
bool vmparams_prop(const char *s, const char *key, const char *default_key,
		   struct strbuf *out);

/*
 * The format a drive value's volume shows ("local:100/vm-100-disk-0.qcow2":
 * "qcow2", *len 5: raw, qcow2 or vmdk), or NULL on a block storage, whose
 * volumes are raw whatever was asked.
 */
const char *vmparams_volume_format(const char *val, size_t *len);

/*
 * A drive's options against a definition's: have is the drive's value in
 * the configuration ("local-lvm:vm-1-disk-0,size=32G,ssd=1"), want_opts
 * desired_disk.options (",ssd=1,iops_rd_max=500"; format is a move's, not
 * compared). Only the options want sets count, an absent flag as Proxmox
 * reads it (backup and replicate on, ro, ssd and iothread off, discard
 * ignore). When they differ: true, value gets the drive's value with
 * want's options set (what to write), before and after the differing
 * options ("iops_rd_max=(unset)" / "iops_rd_max=500"), *waits whether a
 * running VM takes them only at its next boot (cache, aio, discard,
 * iothread, ssd, ro).
 */
bool vmparams_drive_options(const char *have, const char *want_opts,
			    struct strbuf *value, struct strbuf *before,
			    struct strbuf *after, bool *waits);

#endif
