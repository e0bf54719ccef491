/*
 * vmdisk.h - what vmdisk.c offers the other endpoint files besides its
 * handler: the names and formats of new disk volumes, as PVE's storage
 * layer picks them (clone and move_disk share them).
 */
#ifndef PVE_SIM_VMDISK_H
#define PVE_SIM_VMDISK_H

#include <stdbool.h>

#include "sim.h"
#include "util/strbuf.h"

/* Does st keep volumes as files with a format (dir, nfs, cifs, ...)? */
bool storage_is_file(const struct sim_storage *st);
/*
 * The format of a new volume on st, as resolve_dst_disk_format picks it:
 * want (or else the source volume's, from src_name) when st supports it,
 * else raw. Block storages (lvmthin, lvm, ...) only know raw.
 */
const char *disk_format_for(const struct sim_storage *st, const char *want,
			    const char *src_name);
/*
 * A fresh volume name for vmid on st into out: "vm-VMID-disk-N" on block
 * storages, "VMID/vm-VMID-disk-N.FMT" on file storages, N the lowest free
 * one; a cloud-init drive is "vm-VMID-cloudinit" (".FMT" on files).
 */
void disk_fresh_name(struct sim *s, const struct sim_storage *st, int vmid,
		     const char *fmt, bool cloudinit, struct strbuf *out);

#endif
