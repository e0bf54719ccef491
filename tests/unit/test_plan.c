/*
 * test_plan.c - the reconciler's decisions: create, no-op by digest,
 * update with changes and reboots, blocked same-name VMs and --adopt,
 * prune and protection, orphans (managed VMs without a definition), the
 * verdict of --detailed-exitcode, disks, the leftover of a race, Proxmox's
 * normalised values, what the cluster tells (core/planchk.h), and a
 * target_node change (a migration, its prechecks, migrate: false).
 */
#include "test.h"
#include "core/plan.h"
#include "core/planchk.h"
#include "util/xalloc.h"

static const struct vmdef_opts lax = { .strict_secrets = false };

struct fixture {
	struct vmdef vm;
	struct desired want;
	const struct vmdef *defs[1];
	struct actual_vm vms[6];
	size_t nr_vms;
	struct plan plan;
	struct plan_input in;
};

static const char base[] =
	"name: web\ntarget_node: node01\ncores: 2\nmemory: 2048\n"
	"clone: tpl\nipconfig0: ip=10.0.0.5/24\nciuser: ops\n"
	"network: {bridge: vmbr0}\n"
	"disks: {scsi0: {size: 20G, storage: local-lvm}}\n";

static void setup(struct fixture *f, const char *text)
{
	struct diag_list dl = DIAG_LIST_INIT;

	memset(f, 0, sizeof(*f));
	assert_int_equal(
		vmdef_parse(&f->vm, &dl, "web.yaml", text, strlen(text), &lax),
		0);
	diag_list_release(&dl);
	desired_build(&f->want, &f->vm);
	f->defs[0] = &f->vm;
	f->in.defs = f->defs;
	f->in.wants = &f->want;
	f->in.nr_defs = 1;
	f->in.vms = f->vms;
}

/* A VM built from the definition as Proxmox would read it back. */
static struct actual_vm *add_vm(struct fixture *f, int vmid, const char *name,
				const char *tags, const char *status)
{
	struct actual_vm *a = &f->vms[f->nr_vms++];

	actual_vm_init(a);
	a->vmid = vmid;
	a->name = xstrdup(name);
	a->node = xstrdup("node01");
	a->status = xstrdup(status);
	a->tags = tags ? xstrdup(tags) : NULL;
	f->in.nr_vms = f->nr_vms;
	return a;
}

static void add_config(struct actual_vm *a, const char *key, const char *val)
{
	strvec_push(&a->keys, key);
	strvec_push(&a->vals, val);
	a->has_config = true;
}

/* The config Proxmox holds after an apply of the definition. */
static void applied_config(struct fixture *f, struct actual_vm *a)
{
	add_config(a, "name", "web");
	add_config(a, "cores", "2");
	add_config(a, "sockets", "1");
	add_config(a, "memory", "2048");
	add_config(a, "cpu", "host");
	add_config(a, "net0",
		   "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1");
	add_config(a, "ipconfig0", "ip=10.0.0.5/24");
	add_config(a, "ciuser", "ops");
	add_config(a, "onboot", "1");
	add_config(a, "agent", "0");
	add_config(a, "scsihw", "virtio-scsi-single");
	add_config(a, "scsi0", "local-lvm:vm-101-disk-0,size=20G");
	add_config(a, "tags",
		   a->tags ? a->tags : desired_get(&f->want, "tags"));
}

static void run(struct fixture *f)
{
	plan_build(&f->plan, &f->in);
}

static void teardown(struct fixture *f)
{
	size_t i;

	plan_release(&f->plan);
	for (i = 0; i < f->nr_vms; i++)
		actual_vm_release(&f->vms[i]);
	desired_release(&f->want);
	vmdef_release(&f->vm);
}

static void plan__create_and_noop(void **state)
{
	struct fixture f;

	(void)state;
	setup(&f, base);
	run(&f);
	assert_int_equal(f.plan.nr, 1);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_string_equal(f.plan.items[0].reason,
			    "there is no template 'tpl' to clone in the "
			    "cluster (templates: none); set clone to one of "
			    "them");
	plan_release(&f.plan);

	add_vm(&f, 9000, "tpl", NULL, "stopped")->template_ = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_CREATE);
	assert_int_equal(f.plan.items[0].source->vmid, 9000);
	assert_int_equal(f.plan.add, 1);
	plan_release(&f.plan);

	add_vm(&f, 101, "web", desired_get(&f.want, "tags"), "running");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_false(f.plan.items[0].needs_config);
	assert_int_equal(f.plan.add + f.plan.change + f.plan.destroy, 0);
	teardown(&f);
}

/* The lookups by name and vmid see the VMs in the order of the list:
 * the best source is the first of the best, a pinned vmid is found
 * wherever it is. */
static void plan__lookups_in_list_order(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, "vmid: 105\n"
		  "name: web\ntarget_node: node01\ncores: 2\nmemory: 2048\n"
		  "clone: tpl\nipconfig0: ip=10.0.0.5/24\nciuser: ops\n"
		  "network: {bridge: vmbr0}\n"
		  "disks: {scsi0: {size: 20G, storage: local-lvm}}\n");
	add_vm(&f, 50, "tpl", NULL, "stopped"); /* a plain VM of the name */
	a = add_vm(&f, 9001, "tpl", NULL, "stopped");
	a->template_ = true;
	free(a->node);
	a->node = xstrdup("node02");
	add_vm(&f, 9002, "tpl", NULL, "stopped")->template_ = true;
	add_vm(&f, 9003, "tpl", NULL, "stopped")->template_ = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_CREATE);
	assert_int_equal(f.plan.items[0].source->vmid, 9002);
	plan_release(&f.plan);

	add_vm(&f, 105, "db", NULL, "running");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_string_equal(f.plan.items[0].reason,
			    "vmid 105 is taken by 'db'");
	teardown(&f);
}

static void plan__changed_digest_reads_config(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "running");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_true(f.plan.items[0].needs_config);
	plan_release(&f.plan);

	applied_config(&f, a);
	free((char *)a->vals.v[3]);
	a->vals.v[3] = xstrdup("current=1024"); /* memory, as PVE 9 says */
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_false(f.plan.items[0].needs_config);
	assert_true(f.plan.items[0].needs_reboot);
	assert_int_equal(f.plan.items[0].nr_changes, 2); /* memory, tags */
	assert_string_equal(f.plan.items[0].changes[0].key, "memory");
	assert_string_equal(f.plan.items[0].changes[0].from, "current=1024");
	assert_string_equal(f.plan.items[0].changes[0].to, "2048");
	assert_string_equal(f.plan.items[0].changes[1].key, "tags");
	assert_false(f.plan.items[0].changes[1].reboot);
	teardown(&f);
}

static void plan__refresh_finds_nothing_when_nothing_changed(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 101, "web", desired_get(&f.want, "tags"), "running");
	applied_config(&f, a);
	f.in.refresh = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_int_equal(f.plan.items[0].nr_changes, 0);
	teardown(&f);
}

static void plan__same_name_unmanaged(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 120, "web", "prod", "running");
	run(&f);
	/* first its config: a half-made clone of ours would say so */
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_true(f.plan.items[0].needs_config);
	plan_release(&f.plan);
	add_config(a, "description", "the old web server");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_string_equal(f.plan.items[0].reason,
			    "VM 120 'web' exists and is not managed by "
			    "pve-gitops; take it over with: pve-gitops apply "
			    "--adopt --target web");
	assert_int_equal(f.plan.blocked, 1);
	assert_int_equal(f.plan.adoptable, 1);
	plan_release(&f.plan);
	f.in.adopt = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].vmid, 120);
	teardown(&f);
}

static void plan__unnamed_clone_blocks_creates(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	add_vm(&f, 9000, "tpl", NULL, "stopped")->template_ = true;
	a = add_vm(&f, 150, "", NULL, "stopped");
	a->lock = xstrdup("clone");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_string_equal(f.plan.items[0].reason,
			    "VM 150 is being created and has no name yet (it "
			    "may be this one); plan again when it is done");
	assert_true(f.plan.items[0].busy); /* apply waits, plans again */
	teardown(&f);
}

static void plan__locked_vm_is_busy(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "running");
	a->lock = xstrdup("clone");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_true(f.plan.items[0].busy);
	teardown(&f);
}

/* Applies racing on one create: several VMs of the name for a moment. */
static void plan__racing_clones_are_waited_for(void **state)
{
	struct fixture f;
	struct actual_vm *a, *b;

	(void)state;
	setup(&f, base);
	add_vm(&f, 9000, "tpl", NULL, "stopped")->template_ = true;
	a = add_vm(&f, 140, "web", "pve-gitops", "stopped"); /* configured */
	b = add_vm(&f, 141, "web", NULL, "stopped");	     /* just cloned */
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_true(f.plan.items[0].busy);
	assert_string_equal(f.plan.items[0].reason,
			    "2 VMs are named 'web' while applies race to "
			    "create it; plan again when they are done");
	plan_release(&f.plan);
	/* one finished, the loser's still there: wait for its removal */
	free(a->tags);
	a->tags = xstrdup("pve-gitops;pg-00000000");
	b->tags = xstrdup("pve-gitops");
	run(&f);
	assert_true(f.plan.items[0].busy);
	plan_release(&f.plan);
	/* two unread clones, nothing locked: read one first */
	free(a->tags);
	free(b->tags);
	a->tags = b->tags = NULL;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_true(f.plan.items[0].needs_config);
	assert_ptr_equal(f.plan.items[0].have, a);
	plan_release(&f.plan);
	/* someone else's VM of the name next to ours: no race, blocked */
	add_config(a, "description", "the team's web server");
	b->lock = xstrdup("clone");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_false(f.plan.items[0].busy);
	plan_release(&f.plan);
	/* both with the creating marker: a race */
	free((char *)a->vals.v[0]);
	a->vals.v[0] = xstrdup(PLAN_CREATING_MARKER);
	run(&f);
	assert_true(f.plan.items[0].busy);
	teardown(&f);
}

/* A race's loser killed before it removed its clone: destroyed, no prune */
static void plan__race_leftover_is_destroyed(void **state)
{
	struct fixture f;
	struct actual_vm *a, *b;

	(void)state;
	setup(&f, base);
	add_vm(&f, 9000, "tpl", NULL, "stopped")->template_ = true;
	a = add_vm(&f, 140, "web", desired_get(&f.want, "tags"), "running");
	b = add_vm(&f, 141, "web", NULL, "stopped");
	run(&f); /* its config first */
	assert_int_equal(f.plan.nr, 2);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_int_equal(f.plan.items[1].op, PLAN_DESTROY);
	assert_true(f.plan.items[1].needs_config);
	assert_ptr_equal(f.plan.items[1].have, b);
	plan_release(&f.plan);
	add_config(b, "description", PLAN_CREATING_MARKER);
	run(&f);
	assert_int_equal(f.plan.nr, 2);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_int_equal(f.plan.items[0].vmid, 140);
	assert_int_equal(f.plan.items[1].op, PLAN_DESTROY);
	assert_true(f.plan.items[1].leftover);
	assert_false(f.plan.items[1].needs_config);
	assert_int_equal(f.plan.items[1].vmid, 141);
	assert_string_equal(f.plan.items[1].name, "web");
	assert_int_equal(f.plan.destroy, 1);
	plan_release(&f.plan);
	/* tagged by its configure step: the same, not a race to wait for */
	b->tags = xstrdup("pve-gitops");
	f.in.prune = true; /* and not destroyed twice */
	run(&f);
	assert_int_equal(f.plan.nr, 2);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_false(f.plan.items[0].busy);
	assert_true(f.plan.items[1].leftover);
	assert_int_equal(f.plan.destroy, 1);
	plan_release(&f.plan);
	/* a task on it: a race still going on, wait */
	b->lock = xstrdup("clone");
	run(&f);
	assert_int_equal(f.plan.nr, 1);
	assert_true(f.plan.items[0].busy);
	plan_release(&f.plan);
	free(b->lock);
	b->lock = NULL;
	/* protection set: never destroyed */
	add_config(b, "protection", "1");
	run(&f);
	assert_int_equal(f.plan.items[1].op, PLAN_BLOCKED);
	assert_true(f.plan.items[1].leftover);
	assert_non_null(strstr(f.plan.items[1].reason, "protection"));
	plan_release(&f.plan);
	/* without the marker it is not a leftover: nothing to destroy */
	free((char *)b->vals.v[0]);
	b->vals.v[0] = xstrdup("the team's web server");
	free(b->tags);
	b->tags = NULL;
	run(&f);
	assert_int_equal(f.plan.nr, 1);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	(void)a;
	teardown(&f);
}

/* A disk on another storage is moved; the other cloud-init drives go. */
static void plan__disks_are_moved_not_replaced(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, "name: web\ntarget_node: node01\ncores: 2\nmemory: 2048\n"
		  "clone: tpl\nipconfig0: ip=10.0.0.5/24\nciuser: ops\n"
		  "network: {bridge: vmbr0}\n"
		  "nested_disks:\n"
		  "  scsi: {scsi0: {disk: {size: 20G, storage: data2}}}\n"
		  "  ide: {ide1: {cloudinit: {storage: data2}}}\n");
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "stopped");
	applied_config(&f, a);
	add_config(a, "ide1", "data2:vm-101-cloudinit,media=cdrom");
	add_config(a, "ide2", "local-lvm:vm-101-cloudinit,media=cdrom");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].nr_changes, 4); /* and the state */
	assert_string_equal(f.plan.items[0].changes[0].key, "tags");
	assert_string_equal(f.plan.items[0].changes[1].key, "scsi0");
	assert_string_equal(f.plan.items[0].changes[1].from,
			    "storage=local-lvm");
	assert_string_equal(f.plan.items[0].changes[1].to, "storage=data2");
	assert_string_equal(f.plan.items[0].changes[2].key, "ide2");
	assert_null(f.plan.items[0].changes[2].to);
	teardown(&f);

	/* a pass-through path where the definition wants a disk: blocked,
	 * not a move that apply cannot make */
	setup(&f, "name: web\ntarget_node: node01\nclone: tpl\n"
		  "ipconfig0: ip=dhcp\n"
		  "disks: {scsi1: {size: 10G, storage: data2}}\n");
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "stopped");
	add_config(a, "scsi1", "/dev/disk/by-id/ata-X-0:0,backup=0");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_non_null(strstr(f.plan.items[0].reason, "does not replace"));
	teardown(&f);

	/* a move with snapshots: Proxmox would keep the source */
	setup(&f, "name: web\ntarget_node: node01\nclone: tpl\n"
		  "ipconfig0: ip=dhcp\n"
		  "disks: {scsi0: {size: 20G, storage: data2}}\n");
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "stopped");
	add_config(a, "scsi0", "local-lvm:vm-101-disk-0,size=20G");
	add_config(a, "parent", "before-upgrade");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_non_null(strstr(f.plan.items[0].reason, "snapshots"));
	teardown(&f);

	/* a disk where the definition wants a cloud-init drive stays */
	setup(&f, "name: web\ntarget_node: node01\nclone: tpl\n"
		  "ipconfig0: ip=dhcp\n"
		  "nested_disks: {ide: {ide1: {cloudinit: {storage: s1}}}}\n");
	a = add_vm(&f, 101, "web", "pve-gitops;pg-00000000", "stopped");
	add_config(a, "ide1", "s:vm-101-disk-3,size=4G");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_non_null(strstr(f.plan.items[0].reason, "does not replace"));
	teardown(&f);
}

/* What waits for a boot: rebooted for, or shown as pending. */
static void plan__pending_changes(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 101, "web", desired_get(&f.want, "tags"), "running");
	applied_config(&f, a);
	actual_add_pending(a, "cores", "1", "2");
	f.in.refresh = true;
	run(&f);
	/* automatic_reboot: an update that reboots */
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_true(f.plan.items[0].reboot);
	assert_int_equal(f.plan.items[0].nr_changes, 1);
	assert_true(f.plan.items[0].changes[0].pending);
	assert_int_equal(f.plan.pending, 0);
	teardown(&f);

	/* automatic_reboot: false keeps showing it, with the pending tag */
	setup(&f, "name: web\ntarget_node: node01\ncores: 2\nmemory: 2048\n"
		  "clone: tpl\nipconfig0: ip=10.0.0.5/24\nciuser: ops\n"
		  "network: {bridge: vmbr0}\nautomatic_reboot: false\n"
		  "disks: {scsi0: {size: 20G, storage: local-lvm}}\n");
	{
		struct strbuf tags = STRBUF_INIT;

		strbuf_addf(&tags, "%s;" DESIRED_PENDING_TAG,
			    desired_get(&f.want, "tags"));
		a = add_vm(&f, 101, "web", tags.buf, "running");
		strbuf_release(&tags);
	}
	run(&f); /* the digest matches, but the tag says: read it */
	assert_true(f.plan.items[0].needs_config);
	plan_release(&f.plan);
	applied_config(&f, a);
	actual_add_pending(a, "cores", "1", "2");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_NOOP);
	assert_false(f.plan.items[0].reboot);
	assert_int_equal(f.plan.items[0].nr_changes, 1);
	assert_int_equal(f.plan.pending, 1);
	teardown(&f);
}

/* The original's VMs carry the tag "terraform": the plan says how to adopt;
 * QEMU args need the operator's leave. */
static void plan__terraform_vms_and_args(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 120, "web", "terraform", "running");
	add_config(a, "name", "web");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_true(f.plan.items[0].adoptable);
	assert_non_null(strstr(f.plan.items[0].reason,
			       "made by Terraform (tagged terraform); take it "
			       "over with: pve-gitops apply --adopt"));
	teardown(&f);

	setup(&f, "name: web\ntarget_node: node01\nclone: tpl\n"
		  "ipconfig0: ip=dhcp\nargs: -smbios type=1\n");
	add_vm(&f, 9000, "tpl", NULL, "stopped")->template_ = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_non_null(
		strstr(f.plan.items[0].reason, "PVE_GITOPS_ALLOW_QEMU_ARGS=1"));
	plan_release(&f.plan);
	f.in.allow_args = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_CREATE);
	teardown(&f);
}

static void plan__half_made_clone_is_finished(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 140, "web", NULL, "stopped");
	add_config(a, "description", PLAN_CREATING_MARKER);
	add_config(a, "cores", "1");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].vmid, 140);
	teardown(&f);
}

static void plan__prune_and_protection(void **state)
{
	struct fixture f;
	struct actual_vm *gone, *kept;
	struct strvec keep = STRVEC_INIT;

	(void)state;
	setup(&f, base);
	gone = add_vm(&f, 130, "old", "pve-gitops;pg-12345678", "stopped");
	add_vm(&f, 131, "theirs", NULL, "running");
	kept = add_vm(&f, 132, "excluded", "pve-gitops", "running");
	strvec_push(&keep, "excluded");
	f.in.keep_names = &keep;
	run(&f);
	assert_int_equal(f.plan.nr, 1); /* no prune: only the create */
	plan_release(&f.plan);

	f.in.prune = true;
	run(&f);
	assert_int_equal(f.plan.nr, 2);
	assert_int_equal(f.plan.items[1].op, PLAN_DESTROY);
	assert_int_equal(f.plan.items[1].vmid, 130);
	assert_true(f.plan.items[1].needs_config);
	plan_release(&f.plan);

	add_config(gone, "protection", "1");
	run(&f);
	assert_int_equal(f.plan.items[1].op, PLAN_BLOCKED);
	assert_non_null(strstr(f.plan.items[1].reason, "protection"));
	(void)kept;
	strvec_clear(&keep);
	teardown(&f);
}

/* Managed VMs without a definition: orphans without prune, destroys with */
static void plan__orphans(void **state)
{
	struct fixture f;
	struct actual_vm *tpl, *other;
	struct strvec keep = STRVEC_INIT;

	(void)state;
	setup(&f, base);
	add_vm(&f, 130, "old", "pve-gitops;pg-12345678", "stopped");
	add_vm(&f, 131, "theirs", NULL, "running");
	add_vm(&f, 132, "excluded", "pve-gitops", "running");
	tpl = add_vm(&f, 9000, "tpl", "pve-gitops", "stopped");
	tpl->template_ = true;
	other = add_vm(&f, 133, "older", "pve-gitops", "running");
	free(other->node);
	other->node = xstrdup("node02");
	strvec_push(&keep, "excluded");
	f.in.keep_names = &keep;
	run(&f);
	assert_int_equal(f.plan.nr, 1); /* only the create */
	assert_int_equal(f.plan.destroy, 0);
	assert_int_equal(f.plan.nr_orphans, 2);
	assert_string_equal(f.plan.orphans[0].name, "old");
	assert_int_equal(f.plan.orphans[0].vmid, 130);
	assert_string_equal(f.plan.orphans[0].node, "node01");
	assert_string_equal(f.plan.orphans[1].name, "older");
	assert_string_equal(f.plan.orphans[1].node, "node02");
	assert_int_equal(plan_verdict(&f.plan), PLAN_VERDICT_CHANGES);
	plan_release(&f.plan);
	assert_int_equal(f.plan.nr_orphans, 0);
	assert_null(f.plan.orphans);

	f.in.prune = true;
	run(&f);
	assert_int_equal(f.plan.nr_orphans, 0);
	assert_int_equal(f.plan.nr, 3);
	assert_int_equal(f.plan.items[1].op, PLAN_DESTROY);
	assert_int_equal(f.plan.items[2].op, PLAN_DESTROY);
	strvec_clear(&keep);
	teardown(&f);
}

/* plan --detailed-exitcode's verdict: Terraform's 0, 2, and 1 for a plan
 * apply cannot carry out */
static void plan__verdict(void **state)
{
	static const struct {
		unsigned add, change, destroy, blocked, pending;
		size_t orphans;
		enum plan_verdict want;
	} cases[] = {
		{ 0, 0, 0, 0, 0, 0, PLAN_VERDICT_NONE },
		{ 0, 0, 0, 0, 0, 3, PLAN_VERDICT_NONE },
		{ 0, 0, 0, 0, 2, 0, PLAN_VERDICT_NONE },
		{ 1, 0, 0, 0, 0, 0, PLAN_VERDICT_CHANGES },
		{ 0, 1, 0, 0, 0, 0, PLAN_VERDICT_CHANGES },
		{ 0, 0, 1, 0, 0, 0, PLAN_VERDICT_CHANGES },
		{ 0, 0, 1, 2, 0, 1, PLAN_VERDICT_CHANGES },
		{ 0, 0, 0, 1, 0, 0, PLAN_VERDICT_BLOCKED },
		{ 0, 0, 0, 2, 1, 4, PLAN_VERDICT_BLOCKED },
	};
	struct plan p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.add = cases[i].add;
		p.change = cases[i].change;
		p.destroy = cases[i].destroy;
		p.blocked = cases[i].blocked;
		p.pending = cases[i].pending;
		p.nr_orphans = cases[i].orphans;
		assert_int_equal(plan_verdict(&p), cases[i].want);
	}
}

static void plan__disks_and_state(void **state)
{
	struct fixture f;
	struct actual_vm *a;

	(void)state;
	setup(&f, "name: web\ntarget_node: node01\ncores: 2\nmemory: 2048\n"
		  "clone: tpl\nipconfig0: ip=10.0.0.5/24\nciuser: ops\n"
		  "network: {bridge: vmbr0}\n"
		  "disks:\n  scsi0: {size: 30G, storage: local-lvm}\n"
		  "  scsi1: {size: 5G, storage: local-lvm}\n");
	a = add_vm(&f, 101, "web", desired_get(&f.want, "tags"), "stopped");
	applied_config(&f, a);
	f.in.refresh = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].nr_changes, 3);
	assert_string_equal(f.plan.items[0].changes[0].key, "scsi0");
	assert_string_equal(f.plan.items[0].changes[0].from, "size=20G");
	assert_string_equal(f.plan.items[0].changes[0].to, "size=30G");
	assert_string_equal(f.plan.items[0].changes[1].to, "local-lvm:5");
	assert_string_equal(f.plan.items[0].changes[2].key, "state");
	assert_false(f.plan.items[0].needs_reboot); /* it is stopped */
	plan_release(&f.plan);

	free((char *)a->vals.v[11]);
	a->vals.v[11] = xstrdup("local-lvm:vm-101-disk-0,size=40G");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_string_equal(f.plan.items[0].reason,
			    "web: scsi0 is 40G, the definition says 30G; "
			    "Proxmox cannot shrink a disk");
	teardown(&f);
}

static void plan__normalised_values(void **state)
{
	(void)state;
	assert_true(plan_value_equal("net0", "model=virtio,bridge=vmbr0",
				     "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0"));
	assert_false(plan_value_equal("net0", "model=virtio,bridge=vmbr0",
				      "virtio=BC:24:11:AA:BB:CC,bridge=vmbr1"));
	assert_false(plan_value_equal("net0", "model=virtio,bridge=vmbr0",
				      "e1000=BC:24:11:AA:BB:CC,bridge=vmbr0"));
	assert_false(plan_value_equal(
		"net0", "model=virtio,bridge=vmbr0",
		"virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=1"));
	assert_true(plan_value_equal(
		"net0", "model=virtio,bridge=vmbr0,macaddr=bc:24:11:aa:bb:cc",
		"virtio=BC:24:11:AA:BB:CC,bridge=vmbr0"));
	assert_true(plan_value_equal("memory", "2048", "current=2048"));
	assert_true(plan_value_equal("agent", "1", "enabled=1,type=virtio"));
	assert_true(plan_value_equal("agent", "1", "1,fstrim_cloned_disks=1"));
	assert_true(plan_value_equal("cpu", "host", "cputype=host"));
	assert_true(
		plan_value_equal("tags", "a;b;pve-gitops", "pve-gitops,b a"));
	assert_false(plan_value_equal("tags", "a;b", "a"));
	assert_true(plan_value_equal("sshkeys", "ssh-ed25519%20AAAA%20x%0A",
				     "ssh-ed25519%20AAAA%20x"));
	assert_false(plan_value_equal("cores", "2", NULL));
}

/* The facts of a cluster of node01 (online), node02 (offline). */
static void two_nodes(struct cluster_facts *cf)
{
	struct facts_node *n;

	cluster_facts_init(cf);
	facts_add_node(cf, "node01", "online");
	facts_add_node(cf, "node02", "offline"); /* moves the array */
	cf->nodes_read = true;
	n = facts_node(cf, "node01");
	facts_add_storage(n, "local", "iso,vztmpl,backup", true, true);
	facts_add_storage(n, "local-lvm", "images,rootdir", true, true);
	facts_add_storage(n, "off", "images", false, false);
	n->storage_read = true;
	strvec_push(&n->bridges, "vmbr0");
	n->bridges_read = true;
	cf->ips_read = true;
}

static const char *reason_with(struct fixture *f, const char *text,
			       struct cluster_facts *cf)
{
	teardown(f);
	setup(f, text);
	add_vm(f, 9000, "tpl", NULL, "stopped")->template_ = true;
	f->in.facts = cf;
	run(f);
	assert_int_equal(f->plan.nr, 1);
	return f->plan.items[0].op == PLAN_BLOCKED ? f->plan.items[0].reason
						   : NULL;
}

static void plan__cluster_facts(void **state)
{
	struct cluster_facts cf;
	struct strvec k = STRVEC_INIT, v = STRVEC_INIT;
	struct fixture f;
	struct actual_vm *a;
	const char *r;

	(void)state;
	two_nodes(&cf);
	setup(&f, base);
	assert_null(reason_with(&f, base, &cf));
	assert_int_equal(f.plan.items[0].op, PLAN_CREATE);

	r = reason_with(&f,
			"name: web\ntarget_node: node09\nclone: tpl\n"
			"disks: {scsi0: {size: 20G, storage: local-lvm}}\n",
			&cf);
	assert_string_equal(r, "node09 is not a cluster node (nodes: node01, "
			       "node02); set target_node to one of them");
	r = reason_with(&f, "name: web\ntarget_node: node02\nclone: tpl\n",
			&cf);
	assert_string_equal(r, "node node02 is offline; bring it back online "
			       "or set target_node to an online node "
			       "(node01)");
	r = reason_with(&f,
			"name: web\ntarget_node: node01\nclone: tpl\n"
			"disks: {scsi0: {size: 20G, storage: nope}}\n",
			&cf);
	assert_string_equal(r, "storage 'nope' does not exist on node node01; "
			       "set storage to one that does (local-lvm)");
	r = reason_with(&f,
			"name: web\ntarget_node: node01\nclone: tpl\n"
			"disks: {scsi0: {size: 20G, storage: local}}\n",
			&cf);
	assert_string_equal(
		r, "storage 'local' on node node01 does not hold VM disks "
		   "(content: iso,vztmpl,backup; add 'images' to it); set "
		   "storage to one that does (local-lvm)");
	r = reason_with(&f,
			"name: web\ntarget_node: node01\nclone: tpl\n"
			"disks: {scsi0: {size: 20G, storage: off}}\n",
			&cf);
	assert_non_null(strstr(r, "storage 'off' is disabled on node node01"));
	r = reason_with(&f,
			"name: web\ntarget_node: node01\nclone: tpl\n"
			"network: {bridge: vmbr7}\n",
			&cf);
	assert_string_equal(r, "bridge 'vmbr7' does not exist on node node01 "
			       "(bridges: vmbr0); set bridge of net0 to one "
			       "of them");

	/* an address in another VM's ipconfig1, and the VM's own */
	strvec_pushl(&k, "name", "ipconfig1", NULL);
	strvec_pushl(&v, "db", "gw=10.0.0.1,ip=10.0.0.5/24", NULL);
	facts_add_config_ips(&cf, 120, "db", &k, &v);
	assert_true(facts_ips_of(&cf, 120));
	r = reason_with(&f, base, &cf);
	assert_string_equal(r, "10.0.0.5 is already used by VM 120 'db' (its "
			       "ipconfig1); choose another address in "
			       "ipconfig0, or change that VM");
	/* the template missing too: every problem at once */
	teardown(&f);
	setup(&f, "name: web\ntarget_node: node09\nclone: tpl\n");
	f.in.facts = &cf;
	run(&f);
	assert_string_equal(f.plan.items[0].reason,
			    "there is no template 'tpl' to clone in the "
			    "cluster (templates: none); set clone to one of "
			    "them; node09 is not a cluster node (nodes: "
			    "node01, node02); set target_node to one of them");

	/* an existing VM is checked only with refresh */
	teardown(&f);
	setup(&f, "name: web\ntarget_node: node01\nnetwork: {bridge: vmbr7}\n");
	f.in.facts = &cf;
	a = add_vm(&f, 101, "web", "pve-gitops", "running");
	(void)a;
	run(&f);
	assert_int_not_equal(f.plan.items[0].op, PLAN_BLOCKED);
	plan_release(&f.plan);
	f.in.refresh = true;
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_non_null(strstr(f.plan.items[0].reason, "bridge 'vmbr7'"));
	teardown(&f);
	strvec_clear(&k);
	strvec_clear(&v);
	cluster_facts_release(&cf);
}

/* The node change of an item, or NULL. */
static const struct plan_change *node_change(const struct plan_item *it)
{
	size_t i;

	for (i = 0; i < it->nr_changes; i++)
		if (!strcmp(it->changes[i].key, "node"))
			return &it->changes[i];
	return NULL;
}

static void plan__target_node_change_migrates(void **state)
{
	struct fixture f;
	struct actual_vm *a;
	const struct plan_change *c;

	(void)state;
	setup(&f, base);
	a = add_vm(&f, 101, "web", desired_get(&f.want, "tags"), "running");
	free(a->node);
	a->node = xstrdup("node02");
	run(&f);
	/* the digest matches: the migration is the only change */
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].migration, PLAN_MIGRATION_LIVE);
	assert_string_equal(f.plan.items[0].migrate_from, "node02");
	assert_string_equal(f.plan.items[0].node, "node01");
	assert_int_equal(f.plan.items[0].vmid, 101);
	assert_int_equal(f.plan.items[0].nr_changes, 1);
	c = node_change(&f.plan.items[0]);
	assert_non_null(c);
	assert_string_equal(c->from, "node02");
	assert_string_equal(c->to, "node01");
	assert_int_equal(c->migration, PLAN_MIGRATION_LIVE);
	assert_false(c->reboot);
	assert_int_equal(f.plan.change, 1);
	assert_int_equal(plan_verdict(&f.plan), PLAN_VERDICT_CHANGES);
	plan_release(&f.plan);

	/* stopped, its config read: offline */
	free(a->status);
	a->status = xstrdup("stopped");
	free(a->tags);
	a->tags = xstrdup("pve-gitops;pg-00000000");
	applied_config(&f, a);
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_UPDATE);
	assert_int_equal(f.plan.items[0].migration, PLAN_MIGRATION_OFFLINE);
	assert_int_equal(node_change(&f.plan.items[0])->migration,
			 PLAN_MIGRATION_OFFLINE);
	/* the node first, then the rest (the tags, the start) */
	assert_string_equal(f.plan.items[0].changes[0].key, "node");
	assert_true(f.plan.items[0].nr_changes > 1);
	plan_release(&f.plan);

	/* locked: busy, no migration */
	a->lock = xstrdup("backup");
	run(&f);
	assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
	assert_int_equal(f.plan.items[0].migration, PLAN_MIGRATION_NONE);
	teardown(&f);
}

static void plan__migrate_false_blocks(void **state)
{
	static const struct vmdef_defaults no = { .onboot = 1,
						  .automatic_reboot = 1,
						  .network_firewall = 1,
						  .scsihw =
							  "virtio-scsi-single",
						  .migrate = 0 };
	struct vmdef_opts opts = lax;
	struct diag_list dl = DIAG_LIST_INIT;
	struct fixture f;
	struct actual_vm *a;
	int pass;

	(void)state;
	for (pass = 0; pass < 2; pass++) {
		/* migrate: false in the definition, then in the defaults */
		setup(&f, pass ? base
			       : "name: web\ntarget_node: node01\n"
				 "migrate: false\n");
		if (pass) {
			vmdef_release(&f.vm);
			desired_release(&f.want);
			opts.defaults = &no;
			assert_int_equal(vmdef_parse(&f.vm, &dl, "web.yaml",
						     base, strlen(base), &opts),
					 0);
			desired_build(&f.want, &f.vm);
		}
		assert_int_equal(f.vm.migrate, 0);
		a = add_vm(&f, 101, "web", desired_get(&f.want, "tags"),
			   "running");
		free(a->node);
		a->node = xstrdup("node02");
		run(&f);
		assert_int_equal(f.plan.items[0].op, PLAN_BLOCKED);
		assert_string_equal(f.plan.items[0].reason,
				    "'web' is on node node02, the definition "
				    "says node01; migrate is false: move it "
				    "by hand, or set migrate: true");
		teardown(&f);
	}
	diag_list_release(&dl);
}

/* The facts of node01 (online, 4 GiB of which 1 GiB used, local-lvm,
 * vmbr0) and node02 (offline). */
static void migration_facts(struct cluster_facts *cf)
{
	struct facts_node *n;

	two_nodes(cf);
	n = facts_node(cf, "node01");
	n->maxmem = 4096ULL << 20;
	n->mem = 1024ULL << 20;
	n->mem_read = true;
}

static const char *migration_reason(struct fixture *f, const char *text,
				    const char *from, struct cluster_facts *cf)
{
	struct actual_vm *a;

	teardown(f);
	setup(f, text);
	a = add_vm(f, 101, "web", desired_get(&f->want, "tags"), "running");
	free(a->node);
	a->node = xstrdup(from);
	f->in.facts = cf;
	run(f);
	return f->plan.items[0].op == PLAN_BLOCKED ? f->plan.items[0].reason
						   : NULL;
}

static void plan__migration_prechecks(void **state)
{
	struct cluster_facts cf;
	struct fixture f;
	const char *r;

	(void)state;
	migration_facts(&cf);
	setup(&f, base);
	/* fits: 2048 MiB of 3072 free; the address is not checked */
	assert_null(migration_reason(&f, base, "node02", &cf));
	assert_int_equal(f.plan.items[0].migration, PLAN_MIGRATION_LIVE);
	r = migration_reason(&f,
			     "name: web\ntarget_node: node01\nmemory: "
			     "4096\n",
			     "node02", &cf);
	assert_string_equal(r, "cannot migrate 'web' from node02 to node01: "
			       "node node01 has 3072 MiB of memory free (of "
			       "4096 MiB), the VM needs 4096 MiB; free memory "
			       "there or set target_node to another node");
	r = migration_reason(&f,
			     "name: web\ntarget_node: node02\nmemory: 512\n",
			     "node01", &cf);
	assert_string_equal(r, "cannot migrate 'web' from node01 to node02: "
			       "node node02 is offline; bring it back online "
			       "or set target_node to an online node "
			       "(node01)");
	r = migration_reason(&f,
			     "name: web\ntarget_node: node01\n"
			     "disks: {scsi0: {size: 20G, storage: nope}}\n",
			     "node02", &cf);
	assert_non_null(r);
	assert_non_null(strstr(r, "storage 'nope' does not exist on node "
				  "node01"));
	/* the node's memory not reported: not checked */
	facts_node(&cf, "node01")->mem_read = false;
	assert_null(migration_reason(&f,
				     "name: web\ntarget_node: node01\n"
				     "memory: 8192\n",
				     "node02", &cf));
	teardown(&f);
	cluster_facts_release(&cf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan__create_and_noop),
		cmocka_unit_test(plan__lookups_in_list_order),
		cmocka_unit_test(plan__race_leftover_is_destroyed),
		cmocka_unit_test(plan__changed_digest_reads_config),
		cmocka_unit_test(
			plan__refresh_finds_nothing_when_nothing_changed),
		cmocka_unit_test(plan__same_name_unmanaged),
		cmocka_unit_test(plan__unnamed_clone_blocks_creates),
		cmocka_unit_test(plan__locked_vm_is_busy),
		cmocka_unit_test(plan__racing_clones_are_waited_for),
		cmocka_unit_test(plan__disks_are_moved_not_replaced),
		cmocka_unit_test(plan__pending_changes),
		cmocka_unit_test(plan__terraform_vms_and_args),
		cmocka_unit_test(plan__half_made_clone_is_finished),
		cmocka_unit_test(plan__prune_and_protection),
		cmocka_unit_test(plan__orphans),
		cmocka_unit_test(plan__verdict),
		cmocka_unit_test(plan__disks_and_state),
		cmocka_unit_test(plan__normalised_values),
		cmocka_unit_test(plan__cluster_facts),
		cmocka_unit_test(plan__target_node_change_migrates),
		cmocka_unit_test(plan__migrate_false_blocks),
		cmocka_unit_test(plan__migration_prechecks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
