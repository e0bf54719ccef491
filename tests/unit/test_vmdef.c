/*
 * test_vmdef.c - decoding VM definitions: the seed's example, defaults,
 * the three disk forms, the Telmate-era keys, secrets, and errors.
 */
#include "test.h"
#include "core/vmdef.h"

static const struct vmdef_opts lax = { .strict_secrets = false };
static const struct vmdef_opts strict = { .strict_secrets = true };
/* defaults.nested_disks: all (every slot of nested_disks is created) */
static const struct vmdef_defaults all_slots = {
	.onboot = 1,
	.full_clone = 0,
	.agent = 0,
	.automatic_reboot = 1,
	.network_firewall = 1,
	.scsihw = VMDEF_DEFAULT_SCSIHW,
	.nested_disks_all = true,
};
static const struct vmdef_opts lax_all = { .defaults = &all_slots };

static int parse(struct vmdef *vm, struct diag_list *dl, const char *text,
		 const struct vmdef_opts *opts)
{
	return vmdef_parse(vm, dl, "vm.yaml", text, strlen(text), opts);
}

/* The diagnostics as "line:col: severity: msg" lines, for exact checks. */
static char *render(const struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < dl->nr; i++)
		strbuf_addf(&sb, "%d:%d: %s: %s\n", dl->items[i].line,
			    dl->items[i].col,
			    diag_severity_name(dl->items[i].severity),
			    dl->items[i].msg);
	return strbuf_detach(&sb, NULL);
}

static void expect_diags(const char *text, const struct vmdef_opts *opts,
			 const char *want)
{
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;
	char *got;

	parse(&vm, &dl, text, opts);
	diag_list_sort(&dl);
	got = render(&dl);
	assert_string_equal(got, want);
	free(got);
	vmdef_release(&vm);
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
	"ipconfig0: \"ip=192.168.1.20/24,gw=192.168.1.1,ip6=dhcp\"\n"
	"ciuser: suporte\n"
	"network:\n"
	"  bridge: vmbr0\n"
	"  model: virtio\n"
	"disks:\n"
	"  scsi0:\n"
	"    size: 50G\n"
	"    storage: local-lvm\n"
	"  scsi1:\n"
	"    size: 200G\n"
	"    storage: local-lvm\n"
	"    mount: /mnt/storage\n";

static void vmdef__seed_example(void **state)
{
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf ip = STRBUF_INIT;

	(void)state;
	assert_int_equal(parse(&vm, &dl, seed, &lax), 0);
	assert_int_equal(dl.nr, 0);
	assert_string_equal(vm.name, "k8s-observability");
	assert_string_equal(vm.target_node, "node03");
	assert_int_equal(vm.cores, 4);
	assert_int_equal(vm.sockets, 2);
	assert_int_equal(vm.memory, 16384);
	assert_string_equal(vm.cpu_type, "host");
	assert_string_equal(vm.clone, "ubuntu24-template");
	assert_string_equal(vmdef_ipv4(&vm, &ip), "192.168.1.20");
	assert_string_equal(vm.ciuser, "suporte");
	assert_int_equal(vm.nr_nets, 1);
	assert_string_equal(vm.nets[0].bridge, "vmbr0");
	assert_string_equal(vm.nets[0].model, "virtio");
	assert_int_equal(vm.nr_disks, 2);
	assert_string_equal(vm.disks[0].slot, "scsi0");
	assert_int_equal(vm.disks[0].size, 50ull << 30);
	assert_string_equal(vm.disks[1].storage, "local-lvm");
	assert_string_equal(vm.disks[1].mount, "/mnt/storage");
	assert_int_equal(vm.vm_state, VM_STATE_RUNNING);
	assert_int_equal(vm.full_clone, 0); /* main.tf's default: linked */
	assert_int_equal(vm.nets[0].firewall, 1);
	strbuf_release(&ip);
	vmdef_release(&vm);
	diag_list_release(&dl);
}

static void vmdef__defaults(void **state)
{
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(
		parse(&vm, &dl, "name: pxe\ntarget_node: node01\n", &lax), 0);
	assert_int_equal(vm.cores, 1);
	assert_int_equal(vm.sockets, 1);
	assert_int_equal(vm.memory, 1024);
	assert_string_equal(vm.cpu_type, "host");
	assert_null(vm.clone);
	/* the original's main.tf: no network block, onboot true, agent 0,
	 * a linked clone, virtio-scsi-single, automatic reboots */
	assert_int_equal(vm.nr_nets, 0);
	assert_int_equal(vm.onboot, 1);
	assert_int_equal(vm.agent, 0);
	assert_int_equal(vm.full_clone, 0);
	assert_int_equal(vm.automatic_reboot, 1);
	assert_int_equal(vm.migrate, 1);
	assert_string_equal(vm.scsihw, "virtio-scsi-single");
	assert_int_equal(dl.warnings, 1); /* no clone: empty VM */
	vmdef_release(&vm);
	diag_list_release(&dl);
}

/* The same disks written in each accepted form. */
static void vmdef__disk_forms_are_equivalent(void **state)
{
	static const char *const forms[] = {
		"disks:\n"
		"  scsi0: {size: 50G, storage: local-lvm, format: raw}\n"
		"  scsi1: {size: 200G, storage: data2, mount: /mnt/storage}\n"
		"  ide1: {size: 4M, storage: local-lvm}\n",

		"nested_disks:\n"
		"  scsi:\n"
		"    scsi0: {disk: {storage: local-lvm, size: 50G, format: raw}}\n"
		"    scsi1:\n"
		"      disk: {storage: data2, size: 200G, mount: /mnt/storage}\n"
		"  ide:\n"
		"    ide1: {disk: {storage: local-lvm, size: 4M}}\n",

		"disks:\n"
		"  - {slot: scsi0, type: disk, size: 50G, storage: local-lvm, "
		"format: raw}\n"
		"  - {slot: scsi1, type: disk, size: 200G, storage: data2, "
		"mount: /mnt/storage}\n"
		"  - {slot: ide1, size: 4M, storage: local-lvm}\n",

		"disks:\n" /* Telmate 2.x: type is the bus, slot a number */
		"  - {type: scsi, slot: 0, size: 50G, storage: local-lvm, "
		"format: raw}\n"
		"  - {type: scsi, slot: 1, size: 200G, storage: data2, "
		"mount: /mnt/storage}\n"
		"  - {type: ide, slot: 1, size: 4M, storage: local-lvm}\n",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		struct strbuf text = STRBUF_INIT;
		struct vmdef vm;
		struct diag_list dl = DIAG_LIST_INIT;

		strbuf_addf(&text,
			    "name: a\ntarget_node: n1\nclone: t\n"
			    "ipconfig0: ip=dhcp\n%s",
			    forms[i]);
		if (parse(&vm, &dl, text.buf, &lax_all) != 0) {
			char *d = render(&dl);

			fail_msg("form %zu: %s", i, d);
		}
		assert_int_equal(vm.nr_disks, 3);
		for (j = 0; j < 3; j++)
			assert_int_equal(vm.disks[j].kind, DISK_DISK);
		assert_string_equal(vm.disks[0].slot, "scsi0");
		assert_string_equal(vm.disks[0].format, "raw");
		assert_int_equal(vm.disks[0].size, 50ull << 30);
		assert_string_equal(vm.disks[1].slot, "scsi1");
		assert_string_equal(vm.disks[1].storage, "data2");
		assert_string_equal(vm.disks[1].mount, "/mnt/storage");
		assert_string_equal(vm.disks[2].slot, "ide1");
		assert_int_equal(vm.disks[2].size, 4ull << 20);
		vmdef_release(&vm);
		diag_list_release(&dl);
		strbuf_release(&text);
	}
}

static void vmdef__telmate_era_file(void **state)
{
	static const char text[] =
		"name: legacy01\n"
		"target_node: node02\n"
		"cores: 2\n"
		"memory: 2048\n"
		"clone: ubuntu24-template\n"
		"full_clone: false\n"
		"agent: 1\n"
		"vm_state: stopped\n"
		"onboot: true\n"
		"define_connection_info: false\n"
		"skip_ipv6: true\n"
		"template: null\n"
		"ipconfig0: ip=10.1.2.3/24,gw=10.1.2.1\n"
		"serial:\n"
		"  id: 0\n"
		"  type: socket\n"
		"tags: \"web;prod\"\n"
		"nested_disks:\n"
		"  scsi:\n"
		"    scsi0:\n"
		"      disk:\n"
		"        storage: local-lvm\n"
		"        size: 32G\n"
		"        emulatessd: true\n"
		"        discard: true\n"
		"    scsi1:\n"
		"      passthrough:\n"
		"        file: /dev/disk/by-id/ata-WDC_1234\n"
		"  ide:\n"
		"    ide1:\n"
		"      cloudinit:\n"
		"        storage: local-lvm\n"
		"    ide2:\n"
		"      cdrom:\n"
		"        iso: local:iso/ubuntu-24.04.iso\n";
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;
	char *d;

	(void)state;
	assert_int_equal(parse(&vm, &dl, text, &lax), 0);
	diag_list_sort(&dl);
	d = render(&dl);
	assert_string_equal(
		d,
		"10:1: warning: define_connection_info: a Terraform provider "
		"setting with no meaning for pve-gitops; ignored\n"
		"11:1: warning: skip_ipv6: a Terraform provider setting with "
		"no meaning for pve-gitops; ignored\n"
		"12:1: warning: template: a Terraform provider setting with "
		"no meaning for pve-gitops; ignored\n"
		"33:5: warning: nested_disks.ide.ide2: ignored, as the "
		"original's main.tf ignores it: it reads only scsi0 disk, "
		"scsi1 passthrough and ide1 cloudinit (defaults.nested_disks: "
		"all in pve-gitops.yaml creates it)\n");
	for (size_t i = 0; i < dl.nr; i++)
		assert_true(dl.items[i].validate_only);
	free(d);
	assert_int_equal(vm.full_clone, 0);
	assert_int_equal(vm.agent, 1);
	assert_int_equal(vm.vm_state, VM_STATE_STOPPED);
	assert_int_equal(vm.nr_serials, 1);
	assert_string_equal(vm.serials[0].type, "socket");
	assert_int_equal(vm.tags.nr, 2);
	assert_string_equal(vm.tags.v[1], "prod");
	assert_int_equal(vm.nr_disks, 3);
	assert_int_equal(vm.disks[0].ssd, 1);
	assert_int_equal(vm.disks[1].kind, DISK_PASSTHROUGH);
	assert_int_equal(vm.disks[2].kind, DISK_CLOUDINIT);
	vmdef_release(&vm);
	diag_list_release(&dl);
}

static void vmdef__secrets(void **state)
{
	(void)state;
	expect_diags("name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		     "cipassword: hunter2\n",
		     &lax,
		     "5:13: warning: cipassword: clear-text password in the "
		     "repository; prefer cipassword_env: VARIABLE\n");
	expect_diags("name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		     "cipassword: hunter2\n",
		     &strict,
		     "5:13: error: cipassword: clear-text password refused "
		     "(strict_secrets); use cipassword_env: VARIABLE\n");
	expect_diags("name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		     "cipassword_env: VM_PASSWORD\n",
		     &strict, "");
}

static void vmdef__reports_every_error(void **state)
{
	(void)state;
	expect_diags("name: -bad\ntarget_node: n1\ncores: 0\nmemory: 8\n"
		     "clone: t\nipconfig0: ip=dhcp\ncorse: 4\n"
		     "network: [{model: virtio}, {id: 0}]\n"
		     "tags: [pve-gitops]\n",
		     &lax,
		     "1:7: error: name: '-bad': not a DNS name (labels of 1-63 "
		     "letters, digits or '-', not starting or ending with '-', "
		     "joined by '.'; 253 bytes at most)\n"
		     "3:8: error: cores: 0 is out of range (1 to 1024)\n"
		     "4:9: error: memory: 8 is out of range (16 to 4194304)\n"
		     "7:1: error: unknown key 'corse'; did you mean 'cores'?\n"
		     "8:28: error: network[1]: net0 given twice\n"
		     "9:8: error: tags: tag 'pve-gitops' is reserved for "
		     "pve-gitops' own bookkeeping\n");
}

static void vmdef__bad_value_is_not_a_missing_key(void **state)
{
	(void)state;
	/* A wrong ipconfig0 or clone is an error, not "no ipconfig0". */
	expect_diags(
		"name: a\ntarget_node: n1\nclone: t\n"
		"ipconfig0: ip=10.0.0.300/24\n",
		&lax,
		"4:12: error: ipconfig0: 'ip=10.0.0.300/24': ip "
		"'10.0.0.300/24' is not dhcp or an IPv4 address with a "
		"prefix length between 8 and 32 (such as 192.168.1.20/24)\n");
	expect_diags("name: a\ntarget_node: n1\nclone: [t]\n"
		     "ipconfig0: ip=dhcp\n",
		     &lax,
		     "3:8: error: clone: expected a string, got a list\n");
	expect_diags("name: a\ntarget_node: n1\nclone: t\n", &lax,
		     "1:1: warning: no 'ipconfig0': the VM will use DHCP and "
		     "its address is known only once its guest agent reports "
		     "it\n");
}

static void vmdef__required_and_shape(void **state)
{
	(void)state;
	expect_diags("cores: 2\n", &lax,
		     "1:1: error: missing required key 'name'\n"
		     "1:1: error: missing required key 'target_node' (the "
		     "Proxmox node to create the VM on)\n");
	expect_diags("- name: a\n", &lax,
		     "1:1: error: expected a mapping of VM settings, got a "
		     "list\n");
	expect_diags("", &lax,
		     "1:1: error: empty definition; expected a mapping with at "
		     "least name and target_node\n");
}

static void vmdef__disk_errors(void **state)
{
	(void)state;
	expect_diags(
		"name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		"disks:\n"
		"  scsi0: {size: 50G}\n"
		"  scsi1: {size: 10G, storage: s1, mount: /data}\n"
		"  scsi2: {size: 10G, storage: s1, mount: /data}\n"
		"  scsi3: {size: 10, storage: s1}\n"
		"  scsi4: {size: 1G, storage: s1, mount: /a/../b}\n",
		&lax,
		"6:10: error: disks.scsi0: missing 'storage' (such as "
		"local-lvm)\n"
		"8:10: error: disks.scsi2: mount point /data is used by "
		"scsi1 too\n"
		"9:17: error: disks.scsi3.size: size '10' has no unit; write "
		"10G (K, M, G or T)\n"
		"10:41: error: disks.scsi4.mount: '/a/../b': not a "
		"normalised path (no '..', '.', '//' or trailing '/')\n");
	expect_diags("name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		     "disks: {scsi0: {size: 5G, storage: s1}}\n"
		     "nested_disks: {scsi: {scsi1: {disk: {size: 5G, storage: "
		     "s1}}}}\n",
		     &lax,
		     "5:1: warning: disks: ignored: with nested_disks given, "
		     "the original's main.tf reads no disks\n"
		     "6:23: warning: nested_disks.scsi.scsi1: ignored, as the "
		     "original's main.tf ignores it: it reads only scsi0 disk, "
		     "scsi1 passthrough and ide1 cloudinit "
		     "(defaults.nested_disks: all in pve-gitops.yaml creates "
		     "it)\n");
	expect_diags("name: a\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n"
		     "nested_disks: {scsi: {virtio0: {disk: {size: 5G, "
		     "storage: s1}}}}\n",
		     &lax,
		     "5:23: error: nested_disks.scsi: slot virtio0 does not "
		     "belong under scsi\n");
}

/* The forms of the original repository's files, as its main.tf read them. */
static void vmdef__original_forms(void **state)
{
	static const char text[] =
		"name: k01.example.org\n"
		"target_node: node03\n"
		"onboot: \"true\"\n"
		"agent: \"1\"\n"
		"serial: true\n"
		"automatic_reboot: false\n"
		"migrate: false\n"
		"args: -cpu host,+vmx\n"
		"network: {bridge: vmbr0, model: virtio}\n"
		"nested_disks:\n"
		"  scsi:\n"
		"    scsi0: {disk: {storage: data2, size: 42G, format: raw}}\n"
		"    scsi1:\n"
		"      passthrough:\n"
		"        file: /dev/disk/by-id/usb-X\n"
		"        replicate: true\n"
		"        iops_r_burst: 2000\n"
		"        iops_r_burst_length: 10\n"
		"        mbps_wr_concurrent: 12.5\n"
		"        iops_wr_concurrent: 0\n"
		"disks:\n"
		"  - {slot: scsi0, type: disk, size: 42G, storage: data2}\n";
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse(&vm, &dl, text, &lax), 0);
	assert_string_equal(vm.name, "k01.example.org");
	assert_int_equal(vm.onboot, 1);
	assert_int_equal(vm.agent, 1);
	assert_int_equal(vm.automatic_reboot, 0);
	assert_int_equal(vm.migrate, 0);
	assert_int_equal(vm.nr_serials, 1);
	assert_int_equal(vm.serials[0].id, 0);
	assert_string_equal(vm.serials[0].type, "socket");
	assert_string_equal(vm.args, "-cpu host,+vmx");
	assert_int_equal(vm.nets[0].firewall, 1); /* main.tf's default */
	assert_int_equal(vm.nr_disks, 2);	  /* the list is not read */
	assert_string_equal(vm.disks[0].storage, "data2");
	assert_string_equal(vm.disks[1].throttle[1], "2000"); /* iops_rd_max */
	assert_string_equal(vm.disks[1].throttle[2], "10");
	assert_string_equal(vm.disks[1].throttle[8], "12.5"); /* mbps_wr */
	assert_null(vm.disks[1].throttle[3]);		      /* 0: no limit */
	assert_int_equal(vm.disks[1].replicate, 1);
	vmdef_release(&vm);
	diag_list_release(&dl);

	/* serial: false is no serial port; a cloudinit list entry is left
	 * out; the defaults of the config apply */
	assert_int_equal(parse(&vm, &dl,
			       "name: a\ntarget_node: n\nserial: \"false\"\n"
			       "disks:\n"
			       "  - {slot: ide2, type: cdrom, iso: null}\n"
			       "  - {slot: ide1, type: cdrom, cloudinit: true,"
			       " storage: s}\n",
			       &lax_all),
			 0);
	assert_int_equal(vm.nr_serials, 0);
	assert_int_equal(vm.nr_disks, 1);
	assert_int_equal(vm.disks[0].kind, DISK_CDROM);
	assert_int_equal(vm.nr_nets, 0);
	vmdef_release(&vm);
	diag_list_release(&dl);
}

static void vmdef__config_defaults(void **state)
{
	static const struct vmdef_defaults plain = {
		.onboot = 0,
		.full_clone = 1,
		.agent = 1,
		.automatic_reboot = 0,
		.network_firewall = 0,
		.scsihw = "lsi",
	};
	const struct vmdef_opts o = { .defaults = &plain };
	struct vmdef vm;
	struct diag_list dl = DIAG_LIST_INIT;

	(void)state;
	assert_int_equal(parse(&vm, &dl,
			       "name: a\ntarget_node: n\nclone: t\n"
			       "ipconfig0: ip=dhcp\nnetwork: {bridge: vmbr1}\n"
			       "onboot: true\n",
			       &o),
			 0);
	assert_int_equal(vm.onboot, 1); /* the file wins */
	assert_int_equal(vm.full_clone, 1);
	assert_int_equal(vm.agent, 1);
	assert_int_equal(vm.automatic_reboot, 0);
	assert_int_equal(vm.nets[0].firewall, 0);
	assert_string_equal(vm.scsihw, "lsi");
	vmdef_release(&vm);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vmdef__seed_example),
		cmocka_unit_test(vmdef__defaults),
		cmocka_unit_test(vmdef__disk_forms_are_equivalent),
		cmocka_unit_test(vmdef__telmate_era_file),
		cmocka_unit_test(vmdef__secrets),
		cmocka_unit_test(vmdef__reports_every_error),
		cmocka_unit_test(vmdef__bad_value_is_not_a_missing_key),
		cmocka_unit_test(vmdef__required_and_shape),
		cmocka_unit_test(vmdef__disk_errors),
		cmocka_unit_test(vmdef__original_forms),
		cmocka_unit_test(vmdef__config_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
