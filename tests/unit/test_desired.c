/*
 * test_desired.c - definitions as Proxmox configuration: the seed's
 * example key by key, sshkeys encoding, the digest and its tag, and the
 * same VM from the seed's, the Telmate nested and the list disk forms.
 */
#include "test.h"
#include "core/desired.h"

/* every nested_disks slot is created (defaults.nested_disks: all) */
static const struct vmdef_defaults all_slots = {
	.onboot = 1,
	.full_clone = 0,
	.agent = 0,
	.automatic_reboot = 1,
	.network_firewall = 1,
	.scsihw = VMDEF_DEFAULT_SCSIHW,
	.nested_disks_all = true,
};
static const struct vmdef_opts lax = { .defaults = &all_slots };

static void build(struct desired *d, struct vmdef *vm, const char *text)
{
	struct diag_list dl = DIAG_LIST_INIT;

	assert_int_equal(
		vmdef_parse(vm, &dl, "vm.yaml", text, strlen(text), &lax), 0);
	desired_build(d, vm);
	diag_list_release(&dl);
}

static const char seed[] =
	"name: k8s-observability\n"
	"target_node: node03\n"
	"cores: 4\n"
	"sockets: 2\n"
	"memory: 16384\n"
	"cpu_type: host\n"
	"clone: ubuntu24-template\n"
	"ipconfig0: \"ip=192.168.1.20/24,gw=192.168.1.1\"\n"
	"ciuser: suporte\n"
	"sshkeys: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0ZXN0a2V5 "
	"me@host\"\n"
	"network:\n"
	"  bridge: vmbr0\n"
	"  model: virtio\n"
	"disks:\n"
	"  scsi0: {size: 50G, storage: local-lvm}\n"
	"  scsi1: {size: 200G, storage: local-lvm, mount: /mnt/storage}\n";

static void desired__seed_example(void **state)
{
	struct desired d;
	struct vmdef vm;

	(void)state;
	build(&d, &vm, seed);
	assert_string_equal(desired_get(&d, "name"), "k8s-observability");
	assert_string_equal(desired_get(&d, "cores"), "4");
	assert_string_equal(desired_get(&d, "sockets"), "2");
	assert_string_equal(desired_get(&d, "memory"), "16384");
	assert_string_equal(desired_get(&d, "cpu"), "host");
	/* the original's defaults: firewall on a given network, onboot,
	 * agent 0, virtio-scsi-single */
	assert_string_equal(desired_get(&d, "net0"),
			    "model=virtio,bridge=vmbr0,firewall=1");
	assert_string_equal(desired_get(&d, "onboot"), "1");
	assert_string_equal(desired_get(&d, "agent"), "0");
	assert_string_equal(desired_get(&d, "scsihw"), "virtio-scsi-single");
	assert_string_equal(desired_get(&d, "ipconfig0"),
			    "ip=192.168.1.20/24,gw=192.168.1.1");
	assert_string_equal(desired_get(&d, "ciuser"), "suporte");
	assert_string_equal(
		desired_get(&d, "sshkeys"),
		"ssh-ed25519%20AAAAC3NzaC1lZDI1NTE5AAAAIHx0ZXN0a2V5%20"
		"me%40host%0A");
	assert_int_equal(d.nr_disks, 2);
	assert_string_equal(d.disks[0].value, "local-lvm:50");
	assert_string_equal(d.disks[1].slot, "scsi1");
	assert_int_equal(d.disks[1].size, 200ull << 30);
	assert_int_equal(strlen(d.digest), 8);
	assert_true(strstr(desired_get(&d, "tags"), "pve-gitops") != NULL);
	desired_release(&d);
	vmdef_release(&vm);
}

static void desired__digest_tag(void **state)
{
	struct desired a, b, c;
	struct vmdef va, vb, vc;
	struct strbuf text = STRBUF_INIT, tag = STRBUF_INIT;
	const char *found;
	size_t len;

	(void)state;
	build(&a, &va, seed);
	build(&b, &vb, seed);
	assert_string_equal(a.digest, b.digest);
	strbuf_addstr(&text, seed);
	strbuf_addstr(&text, "tags: [web, db]\n");
	build(&c, &vc, text.buf);
	assert_string_not_equal(a.digest, c.digest);
	strbuf_addf(&tag, "db;pg-%s;pve-gitops;web", c.digest);
	assert_string_equal(desired_get(&c, "tags"), tag.buf);
	found = desired_find_digest(desired_get(&c, "tags"), &len);
	assert_non_null(found);
	assert_int_equal(len, 11);
	assert_memory_equal(found + 3, c.digest, 8);
	assert_null(desired_find_digest("pve-gitops;pg-12;x", &len));
	desired_release(&a);
	desired_release(&b);
	desired_release(&c);
	vmdef_release(&va);
	vmdef_release(&vb);
	vmdef_release(&vc);
	strbuf_release(&text);
	strbuf_release(&tag);
}

static void desired__cloudinit_and_cdrom(void **state)
{
	struct desired d;
	struct vmdef vm;

	(void)state;
	build(&d, &vm,
	      "name: a\ntarget_node: n1\nclone: t\nipconfig0: ip=dhcp\n"
	      "nested_disks:\n  ide:\n"
	      "    ide2: {cloudinit: {storage: local-lvm}}\n"
	      "    ide0: {cdrom: {iso: 'local:iso/debian.iso'}}\n");
	assert_int_equal(d.nr_disks, 2);
	assert_string_equal(d.disks[0].value, "local-lvm:cloudinit");
	assert_string_equal(d.disks[1].value,
			    "local:iso/debian.iso,media=cdrom");
	desired_release(&d);
	vmdef_release(&vm);
}

static void desired__disk_forms_give_one_vm(void **state)
{
	static const char *const forms[] = {
		"disks:\n"
		"  scsi0: {size: 50G, storage: local-lvm, format: raw}\n"
		"  scsi1: {size: 200G, storage: data2, mount: /mnt/storage}\n",

		"nested_disks:\n"
		"  scsi:\n"
		"    scsi0: {disk: {storage: local-lvm, size: 50G, format: raw}}\n"
		"    scsi1:\n"
		"      disk: {storage: data2, size: 200G, mount: /mnt/storage}\n",

		"disks:\n"
		"  - {slot: scsi0, type: disk, size: 50G, storage: local-lvm, "
		"format: raw}\n"
		"  - {slot: scsi1, type: disk, size: 200G, storage: data2, "
		"mount: /mnt/storage}\n",
	};
	char first[9] = "";
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		struct strbuf text = STRBUF_INIT;
		struct desired d;
		struct vmdef vm;

		strbuf_addf(&text,
			    "name: a\ntarget_node: n1\nclone: t\n"
			    "ipconfig0: ip=dhcp\n%s",
			    forms[i]);
		build(&d, &vm, text.buf);
		assert_int_equal(d.nr_disks, 2);
		assert_string_equal(d.disks[0].value,
				    "local-lvm:50,format=raw");
		assert_string_equal(d.disks[1].value, "data2:200");
		if (!first[0])
			memcpy(first, d.digest, 9);
		assert_string_equal(d.digest, first);
		desired_release(&d);
		vmdef_release(&vm);
		strbuf_release(&text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(desired__seed_example),
		cmocka_unit_test(desired__digest_tag),
		cmocka_unit_test(desired__cloudinit_and_cdrom),
		cmocka_unit_test(desired__disk_forms_give_one_vm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
