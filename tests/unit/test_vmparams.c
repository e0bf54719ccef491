/*
 * test_vmparams.c - which configuration values are cloud-init drives, and
 * on which storage a missing one is added (issue 12: any value containing
 * "cloudinit" used to count, and the fallback was always local-lvm).
 */
#include "test.h"
#include "core/vmparams.h"

static void vmparams__drive_keys(void **state)
{
	static const struct {
		const char *key;
		bool drive;
	} cases[] = {
		{ "ide0", true },     { "ide3", true },
		{ "ide4", false },    { "sata5", true },
		{ "sata6", false },   { "scsi0", true },
		{ "scsi30", true },   { "scsi31", false },
		{ "virtio15", true }, { "virtio16", false },
		{ "scsi01", false },  { "scsi", false },
		{ "net0", false },    { "efidisk0", false },
		{ "scsihw", false },  { "description", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(vmparams_is_drive_key(cases[i].key),
				 cases[i].drive);
}

static void vmparams__cloudinit_drives(void **state)
{
	static const struct {
		const char *key, *value;
		bool ci;
	} cases[] = {
		{ "ide2", "local-lvm:vm-101-cloudinit,media=cdrom", true },
		{ "ide0", "local-lvm:vm-101-cloudinit", true },
		{ "scsi1", "ceph:vm-9000-cloudinit,media=cdrom,size=4M", true },
		{ "ide2", "local:101/vm-101-cloudinit.qcow2,media=cdrom",
		  true },
		{ "ide2", "fast:cloudinit,media=cdrom", true },
		/* not a drive key, whatever the value says */
		{ "description", "cloudinit ready image", false },
		{ "tags", "cloudinit;linux", false },
		{ "ciuser", "cloudinit", false },
		/* a drive, but not the cloud-init volume */
		{ "scsi0", "local-lvm:base-9000-disk-0,size=3G", false },
		{ "ide2", "local:iso/cloudinit-tools.iso,media=cdrom", false },
		{ "scsi0", "local-lvm:vm-101-cloudinit-disk-0", false },
		{ "ide2", "fast:cloudinit", false }, /* no media=cdrom */
		{ "ide2", "none,media=cdrom", false },
		{ "ide2", ":vm-1-cloudinit", false },
		{ "ide2", "local-lvm:vm--cloudinit", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool got = vmparams_is_cloudinit_drive(cases[i].key,
						       cases[i].value);

		if (got != cases[i].ci)
			fail_msg("%s=%s: expected %d", cases[i].key,
				 cases[i].value, cases[i].ci);
	}
}

static void config(struct strvec *k, struct strvec *v, const char *const *kv)
{
	strvec_init(k);
	strvec_init(v);
	for (; *kv; kv += 2) {
		strvec_push(k, kv[0]);
		strvec_push(v, kv[1]);
	}
}

static void vmparams__has_cloudinit(void **state)
{
	static const char *const with[] = {
		"description", "cloudinit", "ide2",
		"local-lvm:vm-5-cloudinit,media=cdrom", NULL
	};
	static const char *const without[] = { "description",
					       "a cloudinit image", "scsi0",
					       "fast:vm-5-disk-0", NULL };
	struct desired want;
	struct strvec k, v;

	(void)state;
	memset(&want, 0, sizeof(want));
	config(&k, &v, with);
	assert_true(vmparams_has_cloudinit(&want, &k, &v));
	strvec_clear(&k);
	strvec_clear(&v);
	config(&k, &v, without);
	assert_false(vmparams_has_cloudinit(&want, &k, &v));
	strvec_clear(&k);
	strvec_clear(&v);
}

static void storage_is(const char *const *kv, const struct desired *want,
		       const char *expect)
{
	struct strbuf sb = STRBUF_INIT;
	struct strvec k, v;

	config(&k, &v, kv);
	if (!expect) {
		assert_int_equal(vmparams_cloudinit_storage(&sb, want, &k, &v),
				 -1);
	} else {
		assert_int_equal(vmparams_cloudinit_storage(&sb, want, &k, &v),
				 0);
		assert_string_equal(sb.buf, expect);
	}
	strvec_clear(&k);
	strvec_clear(&v);
	strbuf_release(&sb);
}

static void vmparams__cloudinit_storage(void **state)
{
	static const char *const boot_order[] = {
		"ide0",	 "iso:iso/x.iso,media=cdrom",
		"scsi0", "slow:vm-5-disk-0,size=2G",
		"scsi1", "fast:vm-5-disk-1,size=2G",
		"boot",	 "order=ide0;scsi1;net0",
		NULL
	};
	static const char *const bootdisk[] = { "virtio0",  "a:vm-5-disk-0",
						"virtio1",  "b:vm-5-disk-1",
						"bootdisk", "virtio1",
						NULL };
	static const char *const first[] = { "net0", "virtio=AA,bridge=vmbr0",
					     "sata0", "nfs:5/vm-5-disk-0.qcow2",
					     NULL };
	static const char *const none[] = { "net0", "virtio,bridge=vmbr0",
					    NULL };
	struct desired want;
	struct desired_disk disks[2];

	(void)state;
	memset(&want, 0, sizeof(want));
	memset(disks, 0, sizeof(disks));
	storage_is(boot_order, &want, "fast");
	storage_is(bootdisk, &want, "b");
	storage_is(first, &want, "nfs");
	storage_is(none, &want, NULL); /* never a made-up local-lvm */
	disks[0].kind = DISK_CDROM;
	disks[1].kind = DISK_DISK;
	disks[1].storage = "def-store";
	want.disks = disks;
	want.nr_disks = 2;
	storage_is(none, &want, "def-store");
	storage_is(boot_order, &want, "fast"); /* what is there comes first */
}

static void boot_disk_is(const char *const *kv, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;
	struct strvec k, v;

	config(&k, &v, kv);
	if (!expect) {
		assert_int_equal(vmparams_boot_disk(&sb, &k, &v), -1);
		assert_int_equal(sb.len, 0);
	} else {
		assert_int_equal(vmparams_boot_disk(&sb, &k, &v), 0);
		assert_string_equal(sb.buf, expect);
	}
	strvec_clear(&k);
	strvec_clear(&v);
	strbuf_release(&sb);
}

/* The slot a full clone's target storage is chosen for (issue 14). */
static void vmparams__boot_disk(void **state)
{
	static const char *const order[] = {
		"scsi0", "slow:vm-5-disk-0,size=2G",
		"ide2",	 "local-lvm:vm-5-cloudinit,media=cdrom",
		"scsi1", "fast:vm-5-disk-1,size=2G",
		"boot",	 "order=ide2;net0;scsi1;scsi0",
		NULL
	};
	static const char *const bootdisk[] = { "virtio0",  "a:vm-5-disk-0",
						"virtio1",  "b:vm-5-disk-1",
						"boot",	    "order=net0",
						"bootdisk", "virtio1",
						NULL };
	static const char *const first[] = { "ide2",
					     "local-lvm:vm-5-cloudinit,"
					     "media=cdrom",
					     "sata1",
					     "nfs:5/vm-5-disk-0.qcow2",
					     "scsi0",
					     "x:vm-5-disk-1",
					     NULL };
	static const char *const none[] = { "ide0", "none,media=cdrom", "scsi0",
					    "/dev/sdb", NULL };

	(void)state;
	boot_disk_is(order, "scsi1");
	boot_disk_is(bootdisk, "virtio1");
	boot_disk_is(first, "sata1");
	boot_disk_is(none, NULL);
}

static void vmparams__disk_storage(void **state)
{
	static const struct {
		const char *key, *value, *storage;
	} cases[] = {
		{ "scsi0", "local-lvm:base-9000-disk-0/vm-101-disk-0,size=3G",
		  "local-lvm" },
		{ "scsi0", "data2:vm-101-disk-0,size=3G", "data2" },
		{ "virtio3", "nfs:101/vm-101-disk-0.qcow2", "nfs" },
		{ "ide2", "local-lvm:vm-101-cloudinit,media=cdrom", NULL },
		{ "ide0", "local:iso/x.iso,media=cdrom", NULL },
		{ "scsi1", "/dev/disk/by-id/ata-X", NULL },
		{ "scsi1", "/dev/disk/by-id/usb-X-0:0,backup=0", NULL },
		{ "scsi1", "none", NULL },
		{ "net0", "virtio=AA:BB:CC:DD:EE:FF,bridge=vmbr0", NULL },
		{ "scsi2", ":vm-1-disk-0", NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf sb = STRBUF_INIT;
		int r = vmparams_disk_storage(&sb, cases[i].key,
					      cases[i].value);

		assert_int_equal(r, cases[i].storage ? 0 : -1);
		assert_string_equal(sb.buf,
				    cases[i].storage ? cases[i].storage : "");
		strbuf_release(&sb);
	}
}

/* Formats only where a file storage's volume shows one. */
static void vmparams__volume_format(void **state)
{
	static const struct {
		const char *value, *format;
	} cases[] = {
		{ "local:100/vm-100-disk-0.qcow2,size=3G", "qcow2" },
		{ "nfs:101/vm-101-disk-1.raw", "raw" },
		{ "data2:vm-101-disk-0,size=3G", NULL },
		{ "iscsi:0.0.1.scsi-36001405abcdef", NULL }, /* a LUN */
		{ "local:iso/ubuntu-24.04.iso,media=cdrom", NULL },
	};
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *f = vmparams_volume_format(cases[i].value, &len);

		if (!cases[i].format) {
			assert_null(f);
			continue;
		}
		assert_non_null(f);
		assert_int_equal(len, strlen(cases[i].format));
		assert_memory_equal(f, cases[i].format, len);
	}
	assert_false(vmparams_is_cloudinit_drive(
		"ide2", "local:100/vm-100-cloudinit.iso,media=cdrom"));
	assert_true(vmparams_is_cloudinit_drive(
		"ide2", "local:100/vm-100-cloudinit.qcow2,media=cdrom"));
}

/* A drive's options against the definition's; only those it sets. */
static void vmparams__drive_options(void **state)
{
	struct strbuf v = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	bool waits;

	(void)state;
	/* the same, with Proxmox's defaults for absent flags */
	assert_false(vmparams_drive_options(
		"data2:vm-1-disk-0,iops_rd_max=500,size=10G",
		",backup=1,discard=ignore,format=raw,ssd=0,iops_rd_max=500", &v,
		&a, &b, &waits));
	assert_int_equal(v.len + a.len + b.len, 0);
	/* new limits live, ssd at the next boot; volume and size kept */
	assert_true(vmparams_drive_options(
		"data2:vm-1-disk-0,iops_rd_max=100,size=10G,ssd=0",
		",ssd=1,iops_rd_max=500,mbps_wr=12.5", &v, &a, &b, &waits));
	assert_string_equal(v.buf, "data2:vm-1-disk-0,iops_rd_max=500,"
				   "size=10G,ssd=1,mbps_wr=12.5");
	assert_string_equal(a.buf, "ssd=0,iops_rd_max=100,mbps_wr=(unset)");
	assert_string_equal(b.buf, "ssd=1,iops_rd_max=500,mbps_wr=12.5");
	assert_true(waits);
	strbuf_reset(&v);
	strbuf_reset(&a);
	strbuf_reset(&b);
	assert_true(vmparams_drive_options("/dev/sdb,backup=0", ",backup=1", &v,
					   &a, &b, &waits));
	assert_string_equal(v.buf, "/dev/sdb,backup=1");
	assert_false(waits);
	strbuf_release(&v);
	strbuf_release(&a);
	strbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmparams__drive_keys),
		cmocka_unit_test(vmparams__volume_format),
		cmocka_unit_test(vmparams__drive_options),
		cmocka_unit_test(vmparams__cloudinit_drives),
		cmocka_unit_test(vmparams__has_cloudinit),
		cmocka_unit_test(vmparams__cloudinit_storage),
		cmocka_unit_test(vmparams__boot_disk),
		cmocka_unit_test(vmparams__disk_storage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
