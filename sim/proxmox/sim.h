/*
 * sim.h - the simulated Proxmox VE cluster: nodes and storages, VMs with
 * their configuration as Proxmox stores it (ordered "key: value" pairs),
 * volumes, tasks, and the users and tokens that may call the API.
 *
 * One mutex guards the whole model; it is held only while a request is
 * handled, never across a task's duration: tasks carry their end time and
 * take effect when the clock passes it (sim_tick), the way a client sees a
 * worker finish.
 */
#ifndef PVE_SIM_SIM_H
#define PVE_SIM_SIM_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct kv {
	char *key;
	char *val; /* NULL in a pending list: a pending delete */
};

struct kvlist {
	struct kv *v;
	size_t nr, alloc;
};

const char *kv_get(const struct kvlist *l, const char *key);
void kv_set(struct kvlist *l, const char *key, const char *val);
int kv_del(struct kvlist *l, const char *key);
void kv_clear(struct kvlist *l);
void kv_copy(struct kvlist *dst, const struct kvlist *src);

struct sim_storage {
	char *name, *type, *content;
	uint64_t total; /* bytes */
	bool shared;
	bool disabled; /* topology "enabled: false" (storage.cfg's disable) */
	bool inactive; /* topology "active: false": cannot be activated */
};

struct sim_node {
	char *name;
	bool offline; /* topology "online: false": migration cannot reach it */
	/* topology "migration_error: TEXT": a migration to it fails after
	 * phase1 with that text (fault injection), the VM left where it is */
	char *migration_error;
	int maxcpu;
	uint64_t maxmem; /* bytes */
	struct sim_storage *st;
	size_t nr_st, alloc_st;
};

struct sim_volume {
	char *storage, *name; /* volid = storage:name */
	char *node;	      /* where it lives (local storages) */
	int vmid;
	uint64_t size; /* bytes */
};

/* snapshots (snapshot.c): a [NAME] section of the VM's configuration */
struct sim_snap {
	char *name;
	struct kvlist conf; /* the keys as taken, with parent, snaptime,
			       description, vmstate, snapstate */
};

struct sim_vm {
	int vmid;
	char *node;
	struct kvlist conf;    /* includes "lock" while locked */
	struct kvlist pending; /* changes waiting for a restart */
	struct kvlist ci_done; /* cloud-init keys as last generated */
	bool running;
	bool paused; /* qmpstatus "paused" (suspend without todisk) */
	int64_t started_ms;
	int flock_excl, flock_shared; /* file locks held by tasks */
	char *hostkey;		      /* the guest's SSH host public key */
	/* --guests qemu (guest.c): the image directory (topology "image:",
	 * absolute) a template names and its clones inherit; NULL: none */
	char *image;
	struct sim_snap *snaps; /* snapshots, oldest first */
	size_t nr_snaps, alloc_snaps;
};

enum task_effect {
	FX_NONE,
	FX_CLONE,
	FX_CREATE,
	FX_START,
	FX_STOP,
	FX_REBOOT,
	FX_DESTROY,
	FX_TEMPLATE,
	FX_MOVE, /* move_disk: the new volume replaces the drive's */
	/* migration and suspend (migrate.c, vmsuspend.c) */
	FX_MIGRATE,   /* qmigrate: the VM and its local volumes move */
	FX_PAUSE,     /* qmpause: the guest stops, its process stays */
	FX_RESUME,    /* qmresume of a paused guest */
	FX_HIBERNATE, /* qmsuspend todisk=1: lock suspended, stopped */
	FX_WAKE,      /* a hibernated VM starts from its vmstate */
	/* snapshots: qmsnapshot, qmdelsnapshot, qmrollback of t->snapname */
	FX_SNAPSHOT,
	FX_DELSNAPSHOT,
	FX_ROLLBACK,
	/* hamigrate: ha-manager asked to migrate; its end starts the CRM's
	 * qmigrate (migrate.c migrate_ha_crm) */
	FX_HAMIGRATE,
};

struct sim_task {
	char *upid, *node, *type, *id, *user;
	unsigned pid, pstart;
	int64_t start_ms, end_ms;
	bool done;
	char *exitstatus;
	struct strvec log;
	/* what happens when it ends */
	enum task_effect fx;
	int vmid, src_vmid;
	int lock_excl_vmid, lock_shared_vmid; /* flocks released at the end */
	int lock_new_vmid;		      /* a clone's new VM */
	char *fail;			      /* the task fails with this */
	bool purge;
	bool destroy_unref; /* destroy-unreferenced-disks=1 */
	bool start_after;   /* qmcreate with start=1 */
	/* qmmove: the drive, its new volume, and whether the old one goes */
	char *move_key, *move_volid;
	bool move_delete;
	/* qmigrate: the target node, and "OLD NEW" volids one a line */
	char *mig_target, *mig_volmap;
	bool ha_crm;	/* a qmigrate the HA stack started for a hamigrate */
	char *snapname; /* FX_SNAPSHOT..FX_ROLLBACK (start_after: start=1) */
	/* --guests qemu: a shutdown waits for the guest until this time
	 * (0: it does not), then kills it with guest_force (forceStop=1) */
	int64_t guest_deadline_ms;
	bool guest_force;
};

struct sim_pool {
	char *id, *comment;
	int *vmids;
	size_t nr, alloc;
};

struct sim_token {
	char *tokenid; /* user@realm!name */
	char *secret;
};

struct sim_user {
	char *userid; /* user@realm */
	char *password;
};

struct sim_ticket {
	char *ticket, *csrf, *userid;
	int64_t expires_ms;
};

struct sim_guest_key {
	char *addr, *key; /* IPv4 address and "TYPE BASE64 [comment]" */
};

struct sim_task_ms {
	char *type; /* NULL: every type */
	int ms;
};

/* ---- readapi (issue 15): what only the read endpoints show ---- */

/* A container: listed only (no lifecycle); conf as pct stores it. */
struct sim_ct {
	int vmid;
	char *node;
	struct kvlist conf; /* hostname, cores, memory, swap, rootfs, tags */
	bool running;
	int64_t started_ms;
};

/* A file inside a guest, for the agent's file-read. */
struct sim_guest_file {
	int vmid;
	char *path, *data;
	size_t len;
};

struct sim_group {
	char *groupid, *comment;
	struct strvec users;
};

/* A node's network interface as /etc/network/interfaces declares it. */
struct sim_netif {
	char *node, *iface, *type; /* "bridge" or "eth" */
	char *cidr;		   /* NULL: method manual */
	char *ports;		   /* a bridge's bridge_ports, or NULL */
};

/* storage.cfg keys beyond type/content/shared (path, vgname, ...). */
struct sim_stcfg {
	char *storage;
	struct kvlist cfg;
};

/* ---- end readapi ---- */

struct sim_sdn; /* sdn.c */

/* An HA resource: its sid ("vm:100") and its options as given. */
struct sim_ha_resource {
	char *sid;
	struct kvlist opts;
};

struct sim_opts {
	struct sim_task_ms *task_ms;
	size_t nr_task_ms, alloc_task_ms;
	int default_task_ms;
	int boot_ms;	     /* from start until the guest agent answers */
	int ticket_lifetime; /* seconds */
	int lock_wait_ms;    /* how long a lock file is waited for */
	int *deaf_vmids;     /* guests that ignore an ACPI shutdown */
	size_t nr_deaf, alloc_deaf;
	const char *state_file;
};

struct sim {
	pthread_mutex_t mu;
	struct sim_opts opts;
	struct sim_node *nodes;
	size_t nr_nodes, alloc_nodes;
	struct sim_vm **vms;
	size_t nr_vms, alloc_vms;
	struct sim_volume *vols;
	size_t nr_vols, alloc_vols;
	struct sim_task **tasks;
	size_t nr_tasks, alloc_tasks;
	struct sim_pool *pools;
	size_t nr_pools, alloc_pools;
	struct sim_user *users;
	size_t nr_users, alloc_users;
	struct sim_token *tokens;
	size_t nr_tokens, alloc_tokens;
	struct sim_ticket *tickets;
	size_t nr_tickets, alloc_tickets;
	struct sim_guest_key *guest_keys;
	size_t nr_guest_keys, alloc_guest_keys;
	struct sim_ha_resource *ha; /* /cluster/ha/resources (ha.c) */
	/* what the HA stack does when a hamigrate task ends (migrate.c's
	 * migrate_ha_crm, set by main.c: the model does not call up) */
	void (*ha_crm)(struct sim *s, const struct sim_task *ham);
	size_t nr_ha, alloc_ha;
	unsigned next_pid;
	char fingerprint[96];  /* of the HTTPS certificate, for /certificates */
	const char *fail_task; /* fault injection: the next task fails so */
	uint64_t rng; /* for MACs, keys and tickets; not the fault stream */
	/* readapi (issue 15) */
	struct sim_ct *cts;
	size_t nr_cts, alloc_cts;
	struct sim_guest_file *gfiles;
	size_t nr_gfiles, alloc_gfiles;
	struct sim_group *groups;
	size_t nr_groups, alloc_groups;
	struct sim_netif *netifs;
	size_t nr_netifs, alloc_netifs;
	struct sim_stcfg *stcfg;
	size_t nr_stcfg, alloc_stcfg;
	/* DHCP: the IPv4 address a VM's DHCP lease gives it, by VM name
	 * (the topology's dhcp_leases; simread.c) */
	struct kvlist leases;
	/* SDN zones, vnets and the PVE IPAM (sdn.c), or NULL */
	struct sim_sdn *sdn;
	/* --guests qemu: the VMs' QEMU processes (guest.c); NULL: none */
	struct sim_guests *guests;
};

int64_t sim_now_ms(void);

void sim_init(struct sim *s);
void sim_release(struct sim *s);
/* The built-in cluster: node01..node03, local-lvm and data2, template 9000. */
void sim_default_topology(struct sim *s);
/* Load a topology YAML file (nodes, storages, templates, vms, users). */
int sim_load_topology(struct sim *s, const char *path, struct err *e);
int sim_state_load(struct sim *s, const char *path, struct err *e);
int sim_state_save(struct sim *s, struct err *e);

struct sim_node *sim_node(struct sim *s, const char *name);
struct sim_storage *sim_storage(struct sim_node *n, const char *name);
struct sim_vm *sim_vm(struct sim *s, int vmid);
struct sim_vm *sim_vm_new(struct sim *s, int vmid, const char *node);
void sim_vm_remove(struct sim *s, int vmid, bool destroy_volumes);
struct sim_task *sim_task_find(struct sim *s, const char *upid);
/* Complete every task whose time has come. */
void sim_tick(struct sim *s);
/* Forget the oldest finished tasks beyond max. */
void sim_prune_tasks(struct sim *s, size_t max);

/* Add a user or token ("user@realm!id", secret). */
void sim_add_user(struct sim *s, const char *userid, const char *password);
void sim_add_token(struct sim *s, const char *tokenid, const char *secret);
uint64_t sim_random(struct sim *s);
void sim_random_hex(struct sim *s, char *out, size_t nbytes);

struct sim_node *sim_add_node(struct sim *s, const char *name);
void sim_node_add_storage(struct sim_node *n, const char *name,
			  const char *type, const char *content, uint64_t total,
			  bool shared);
void sim_add_volume(struct sim *s, const char *storage, const char *name,
		    const char *node, int vmid, uint64_t size);
/* A fresh MAC address in Proxmox's BC:24:11 range. */
void sim_new_mac(struct sim *s, char out[18]);
/* Add volid to vm's configuration as the first free unusedN. */
void sim_vm_add_unused(struct sim_vm *vm, const char *volid);
/* Record the cloud-init keys as generated onto the drive. */
void sim_ci_snapshot(struct sim_vm *vm);

/*
 * Snapshots (the model of snapshot.c): the section named name, or NULL; a
 * new empty one at the end; one dropped. sim_snap_uses: is volid a drive
 * of any snapshot (is_volume_in_use)?
 */
/* key is prefix followed by digits only ("net0", "unused12") */
bool sim_key_indexed(const char *key, const char *prefix);
/* A drive slot: ideN, sataN, scsiN, virtioN, efidisk0, tpmstate0
 * (qemu-server's valid_drive_names). */
bool sim_drive_key(const char *key);

struct sim_snap *sim_snap_find(struct sim_vm *vm, const char *name);
struct sim_snap *sim_snap_add(struct sim_vm *vm, const char *name);
void sim_snap_drop(struct sim_vm *vm, const char *name);
bool sim_snap_uses(const struct sim_vm *vm, const char *volid);

/* The pool holding vmid, or NULL; remove vmid from every pool. */
struct sim_pool *sim_pool_of(struct sim *s, int vmid);
void sim_pool_forget(struct sim *s, int vmid);

/* The volume storage:name, or NULL; destroy one by its volid. */
struct sim_volume *sim_volume_find(struct sim *s, const char *storage,
				   const char *name);
void sim_volume_destroy(struct sim *s, const char *volid);

/* Forget the volumes added after the first n (undo of a failed write). */
void sim_truncate_volumes(struct sim *s, size_t n);

/*
 * Bytes used on a storage of a node. A thin pool (lvmthin, and zfspool,
 * taken as sparse, as the installer sets it up) may hold more than its
 * size (LvmThinPlugin's alloc_image checks no free space): it then counts
 * as full.
 */
uint64_t sim_storage_used(struct sim *s, const char *node,
			  const struct sim_storage *st);
bool sim_storage_thin(const struct sim_storage *st);
/*
 * A drive's value as qemu-server's print_drive writes it (pve-common's
 * print_property_string): the volume first, then the options ("key=value",
 * sorted in place) by key name, size among them. sim_drive_set writes val
 * with option key replaced by newval (removed when newval is NULL).
 */
void sim_drive_print(struct strbuf *out, const char *file, struct strvec *opts);
void sim_drive_set(struct strbuf *out, const char *val, const char *key,
		   const char *newval);
/* "32G", "3584M", ... as Proxmox prints sizes. */
void sim_format_size(struct strbuf *out, uint64_t bytes);
/* Parse "32", "32G", "0.5T", "+10G" (GiB by default); sets *relative. */
/* A drive value's ",size=" in bytes (a bare number is bytes, as
 * PVE::JSONSchema parse_size reads it); 0 when it has none. */
uint64_t sim_drive_size(const char *val);
int sim_parse_size(const char *s, uint64_t *bytes, bool *relative,
		   char default_unit);
/* Does VM vmid's guest ignore shutdown requests (--guest-ignores-shutdown)? */
bool sim_guest_ignores_shutdown(const struct sim *s, int vmid);
/* SHA-1 digest of a VM's configuration, 40 hex digits. */
void sim_config_digest(const struct sim_vm *vm, char out[41]);

/* ---- readapi (issue 15): containers, guest files, groups, network ---- */

/* The container vmid, or NULL; add one (conf empty, stopped). */
struct sim_ct *sim_ct(struct sim *s, int vmid);
struct sim_ct *sim_ct_new(struct sim *s, int vmid, const char *node);
/* Give guest vmid a file (data copied, len bytes); replaces one. */
void sim_guest_file_set(struct sim *s, int vmid, const char *path,
			const char *data, size_t len);
const struct sim_guest_file *sim_guest_file(const struct sim *s, int vmid,
					    const char *path);
struct sim_group *sim_group_new(struct sim *s, const char *groupid,
				const char *comment);
void sim_netif_add(struct sim *s, const char *node, const char *iface,
		   const char *type, const char *cidr, const char *ports);
/* storage.cfg extras of a storage, created empty when asked to. */
struct kvlist *sim_stcfg(struct sim *s, const char *storage, bool create);
/*
 * The IPv4 address a VM's guest sees on eth0: ipconfig0's static one,
 * else its DHCP lease (dhcp_leases, by name; prefix 24). 1 with addr and
 * *prefix set, 0 when neither gives one.
 */
int sim_vm_addr(const struct sim *s, const struct sim_vm *vm, char addr[16],
		int *prefix);
/* Release what the block above added (called by sim_release). */
void sim_readapi_release(struct sim *s);
/* Forget the SDN (sdn.c; called by sim_release). */
void sim_sdn_release(struct sim *s);

/* ---- --guests qemu (guest.c, guest.h): what the model calls ---- */

struct sim_guest;
/* Kill every guest (QMP quit, then SIGKILL) and free s->guests. */
void guests_release(struct sim *s);
/* Does vm run as a real guest (--guests qemu and an image)? */
bool guest_managed(const struct sim *s, const struct sim_vm *vm);
/* The guest of vmid while its process lives, else NULL. */
struct sim_guest *guest_running(struct sim *s, int vmid);
/*
 * Start vm's guest: overlay, disks, cloud-init ISO, then QEMU; the log
 * gets the accelerator and the PID. -1 with the reason in why.
 */
int guest_start(struct sim *s, struct sim_vm *vm, struct strvec *log,
		struct strbuf *why);
/* QMP quit, then SIGKILL after a few seconds; nothing when not running. */
void guest_stop(struct sim *s, int vmid);
/* Stop the guest and remove GUEST_DIR/<vmid>. */
void guest_destroy(struct sim *s, int vmid);
/* Note the guests whose process ended: their VM is stopped. */
void guests_reap(struct sim *s);

#endif
