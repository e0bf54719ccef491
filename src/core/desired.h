/*
 * desired.h - what a VM definition asks of Proxmox, in Proxmox's terms:
 * the configuration keys and values the config API takes, the disks with
 * their storages and sizes, and a digest of all of it that goes into the
 * VM's tags ("pve-gitops;pg-1a2b3c4d;..."), so that a plan can tell an
 * unchanged VM from the cluster resource list alone.
 *
 * Pure: no I/O. Secrets are not part of it: a cipassword is set at apply
 * time from cipassword_env (only the variable's name enters the digest).
 */
#ifndef PVE_GITOPS_DESIRED_H
#define PVE_GITOPS_DESIRED_H

#include <stdint.h>

#include "core/vmdef.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#define DESIRED_DIGEST_PREFIX "pg-"
/* The tag of a VM whose written changes wait for its next boot. */
#define DESIRED_PENDING_TAG "pg-pending"

struct desired_disk {
	const char *slot; /* "scsi0" (points into the vmdef) */
	enum disk_kind kind;
	const char *storage;
	const char *format; /* NULL: the storage's default */
	uint64_t size;	    /* bytes; 0: keep what the template has */
	char *value;	    /* for a new disk: "local-lvm:50,discard=on" */
	char *options;	    /* ",discard=on,ssd=1" or "" */
};

struct desired {
	struct strvec keys, vals; /* config keys, disks excluded, in order */
	struct desired_disk *disks;
	size_t nr_disks, alloc_disks;
	char digest[9]; /* 8 lower-case hex digits */
};

/* Build from a decoded, valid definition. */
void desired_build(struct desired *out, const struct vmdef *vm);
void desired_release(struct desired *d);

/* The value for key, or NULL. */
const char *desired_get(const struct desired *d, const char *key);

/*
 * Percent-encode SSH keys as Proxmox's sshkeys parameter wants them: only
 * letters, digits and "-._~" stay; every key ends with a newline (%0A).
 */
void desired_encode_sshkeys(struct strbuf *out, const char *keys);

/* The digest tag of a tag list ("a;pg-1a2b3c4d;b"), or NULL. */
const char *desired_find_digest(const char *tags, size_t *len);

#endif
