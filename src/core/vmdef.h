/*
 * vmdef.h - one VM definition (proxmox/vms/NAME.yaml), decoded and checked.
 *
 * vmdef_decode() turns a parsed YAML document into a struct vmdef, applying
 * the defaults of SPEC section 3 and every check that needs only this one
 * file: types, ranges, Proxmox formats, disk layouts in all three accepted
 * forms (the seed's slot map, Telmate 3.x nested_disks, the list form),
 * secrets in clear text. Checks across files (duplicate names, vmids,
 * addresses) are vmset's. Pure: no I/O.
 */
#ifndef PVE_GITOPS_VMDEF_H
#define PVE_GITOPS_VMDEF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/diag.h"
#include "core/pve_format.h"
#include "core/ytree.h"
#include "util/strvec.h"

#define VMDEF_DEFAULT_CORES   1
#define VMDEF_DEFAULT_SOCKETS 1
#define VMDEF_DEFAULT_MEMORY  1024
#define VMDEF_DEFAULT_CPU     "host"
#define VMDEF_DEFAULT_BRIDGE  "vmbr0"
#define VMDEF_DEFAULT_MODEL   "virtio"
#define VMDEF_MAX_CORES	      1024
#define VMDEF_MAX_SOCKETS     16
#define VMDEF_DEFAULT_SCSIHW  "virtio-scsi-single"
/* Proxmox tags reserved for pve-gitops' own bookkeeping. */
#define VMDEF_MANAGED_TAG "pve-gitops"

/* started: started when created, then left as it is (Telmate's meaning) */
enum vm_state { VM_STATE_RUNNING, VM_STATE_STOPPED, VM_STATE_STARTED };
enum disk_kind { DISK_DISK, DISK_CLOUDINIT, DISK_CDROM, DISK_PASSTHROUGH };

/* A drive's I/O limits, by their Proxmox names (iops_rd, ..., mbps_wr_max);
 * a definition may use Telmate's names (iops_r_concurrent, ...) too. */
#define VMDEF_NR_THROTTLE 10
extern const char *const vmdef_throttle_keys[VMDEF_NR_THROTTLE];

/* Tri-state flags: -1 means "not set, leave Proxmox's default". */
struct vm_disk {
	char *slot; /* "scsi0" */
	enum disk_kind kind;
	char *storage;
	uint64_t size; /* bytes; 0 when not given */
	char *format, *mount, *file, *iso, *cache, *asyncio;
	int discard, ssd, iothread, backup, replicate, readonly;
	int cdrom_passthrough;
	char *throttle[VMDEF_NR_THROTTLE]; /* as written; NULL: not set */
	int line, col;
};

struct vm_net {
	unsigned index; /* net<index> */
	char *bridge, *model, *macaddr;
	int firewall, link_down;
	uint64_t tag, mtu, queues; /* 0: not set */
	int line, col;
};

struct vm_serial {
	unsigned id;
	char *type;
};

/*
 * The defaults of the keys whose meaning the original's main.tf fixed
 * (lookup(KEY, DEFAULT) into Telmate 3.x): they differ from what Proxmox
 * does when the key is not sent. pve-gitops.yaml's "defaults:" changes
 * them for a whole repository (core/config.h).
 */
struct vmdef_defaults {
	int onboot;	       /* 1: start at boot */
	int full_clone;	       /* 0: a linked clone */
	int agent;	       /* 0: agent=0 is written */
	int automatic_reboot;  /* 1: apply reboots for pending changes */
	int network_firewall;  /* 1: firewall=1 on a given network */
	const char *scsihw;    /* VMDEF_DEFAULT_SCSIHW */
	bool nested_disks_all; /* false: only the slots main.tf reads */
	int migrate;	       /* 1: a changed target_node migrates the VM */
};

#define VMDEF_DEFAULTS_INIT                                                \
	{                                                                  \
		.onboot = 1, .full_clone = 0, .agent = 0,                  \
		.automatic_reboot = 1, .network_firewall = 1,              \
		.scsihw = VMDEF_DEFAULT_SCSIHW, .nested_disks_all = false, \
		.migrate = 1                                               \
	}

struct vmdef {
	char *file;
	char *name;
	int name_line, name_col;
	char *target_node;
	uint64_t cores, sockets, memory;
	char *clone;
	char *cpu_type;
	char *ipconfig0;
	struct pve_ipconfig ip;
	int ip_line, ip_col;
	/* ip_pool: NAME, the config's pool the address comes from; the
	 * plan fills ipconfig0 (and ip) with the allocation, or
	 * ip_pool_problem when none could be made (the plan blocks) */
	char *ip_pool;
	int ip_pool_line, ip_pool_col;
	char *ip_pool_problem;
	/* cluster: NAME, one of the config's clusters (checked with it);
	 * NULL: "default", the proxmox: block */
	char *cluster;
	int cluster_line, cluster_col;
	char *ciuser;
	struct vm_net *nets;
	size_t nr_nets, alloc_nets;
	struct vm_disk *disks;
	size_t nr_disks, alloc_disks;
	int onboot, agent, full_clone;
	int automatic_reboot; /* reboot for changes that wait for a boot */
	int migrate; /* 1: a changed target_node migrates; 0: plan blocks */
	enum vm_state vm_state;
	char *boot, *scsihw, *nameserver, *searchdomain, *sshkeys;
	char *cipassword, *cipassword_env, *description;
	char *args; /* raw QEMU arguments (applied only when allowed) */
	struct vm_serial serials[PVE_MAX_SERIAL];
	size_t nr_serials;
	struct strvec tags;
	struct strvec ansible_groups; /* extra inventory groups */
	uint64_t vmid;		      /* 0: Proxmox picks */
	int vmid_line, vmid_col;
};

struct vmdef_opts {
	bool strict_secrets; /* clear-text cipassword is an error */
	/* NULL: VMDEF_DEFAULTS_INIT */
	const struct vmdef_defaults *defaults;
};

/*
 * Decode root (the document of file) into *out. Diagnostics go to dl.
 * Returns 0 when no error was found (warnings allowed), -1 otherwise; *out
 * must be released with vmdef_release() either way.
 */
/* The keys of a VM definition and their documentation (ydecode.h). */
struct yd_field;
const struct yd_field *vmdef_fields(void);

int vmdef_decode(struct vmdef *out, struct diag_list *dl, const char *file,
		 const struct ynode *root, const struct vmdef_opts *opts);
void vmdef_init(struct vmdef *vm);
/* Set the keys def gives a default to (before the file's are read). */
void vmdef_apply_defaults(struct vmdef *vm, const struct vmdef_defaults *def);
void vmdef_release(struct vmdef *vm);

/*
 * Parse and decode buf[0..len) in one step (the fuzzing and test entry).
 */
int vmdef_parse(struct vmdef *out, struct diag_list *dl, const char *file,
		const char *buf, size_t len, const struct vmdef_opts *opts);

/* The IPv4 address of ipconfig0 as a string, or NULL for none/DHCP. */
const char *vmdef_ipv4(const struct vmdef *vm, struct strbuf *buf);

#endif
