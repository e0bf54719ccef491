/*
 * nocloud.h - the cloud-init drive of a VM with citype nocloud, as
 * qemu-server's PVE/QemuServer/Cloudinit.pm generates it: the user-data,
 * network-config and meta-data files built from the VM's configuration.
 * Pure: no files, no processes (guest.c writes them and makes the ISO).
 */
#ifndef PVE_SIM_NOCLOUD_H
#define PVE_SIM_NOCLOUD_H

#include <stddef.h>

#include "sim.h"
#include "util/strbuf.h"

/* The three files (vendor-data is always empty); owned by the caller. */
struct nocloud {
	struct strbuf user, network, meta;
};

void nocloud_init(struct nocloud *nc);
/* Wipes the buffers (user-data may hold the password) and frees them. */
void nocloud_release(struct nocloud *nc);

/*
 * Generate the files from the configuration conf[0..nr) (the VM's keys in
 * their order) of VM vmid. 0, or -1 with the reason in why (Cloudinit.pm's
 * own errors: "not a CIDR: ...", "network interface 'netN' has no mac
 * address").
 */
int nocloud_generate(const struct kv *conf, size_t nr, int vmid,
		     struct nocloud *nc, struct strbuf *why);

#endif
