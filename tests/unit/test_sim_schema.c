/*
 * test_sim_schema.c - proxmox-sim's parameter checker: valid requests pass,
 * and each kind of bad parameter gets Proxmox's exact message; property
 * strings parse with their aliases resolved; every pattern compiles.
 */
#include "test.h"

#include <regex.h>

#include "schema.h"

#define CFG   "/nodes/{node}/qemu/{vmid}/config"
#define CLONE "/nodes/{node}/qemu/{vmid}/clone"
#define NV                    \
	{ "node", "pve1" },   \
	{                     \
		"vmid", "101" \
	}
#define VALID 0, NULL, NULL

#define NET_MODELS                                                        \
	"e1000, e1000-82540em, e1000-82544gc, e1000-82545em, e1000e, "    \
	"i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, pcnet, rtl8139, " \
	"virtio, vmxnet3"

struct check_case {
	const char *method;
	const char *path;
	struct sim_param p[8];
	int nbad;
	const char
		*key; /* the error looked at; NULL when the request is valid */
	const char *msg; /* its text; a final "..." makes it a prefix */
};

static int msg_matches(const char *want, const char *got)
{
	size_t n = strlen(want);

	if (n >= 3 && !strcmp(want + n - 3, "..."))
		return !strncmp(want, got, n - 3);
	return !strcmp(want, got);
}

static void run_case(const struct check_case *c, size_t i)
{
	const struct schema_endpoint *ep = schema_find(c->path, c->method);
	json_t *errors = json_object();
	const char *got = NULL;
	size_t n = 0;
	int bad;

	assert_non_null(ep);
	while (n < ARRAY_SIZE(c->p) && c->p[n].name)
		n++;
	bad = schema_check(ep, c->p, n, errors);
	if (c->key)
		got = json_string_value(json_object_get(errors, c->key));
	if (bad != c->nbad || (c->key && (!got || !msg_matches(c->msg, got)))) {
		char *dump = json_dumps(errors, JSON_SORT_KEYS);

		print_message("case %zu (%s %s): %d bad: %s\n", i, c->method,
			      c->path, bad, dump);
		free(dump);
	}
	assert_int_equal(bad, c->nbad);
	assert_int_equal(json_object_size(errors), (size_t)c->nbad);
	if (c->key) {
		assert_non_null(got);
		assert_true(msg_matches(c->msg, got));
	}
	json_decref(errors);
}

#define RUN(cases)                                         \
	do {                                               \
		size_t i_;                                 \
		(void)state;                               \
		for (i_ = 0; i_ < ARRAY_SIZE(cases); i_++) \
			run_case(&(cases)[i_], i_);        \
	} while (0)

static void sim_schema__valid_requests_pass(void **state)
{
	static const struct check_case cases[] = {
		{ "POST",
		  CLONE,
		  { NV,
		    { "newid", "102" },
		    { "name", "web-01.example" },
		    { "full", "1" },
		    { "storage", "local-lvm" },
		    { "target", "pve2" },
		    { "pool", "prod" } },
		  VALID },
		{ "PUT",
		  "/nodes/{node}/qemu/{vmid}/resize",
		  { NV, { "disk", "scsi0" }, { "size", "+10G" } },
		  VALID },
		{ "PUT",
		  CFG,
		  { NV,
		    { "cores", "4" },
		    { "memory", "4096" },
		    { "net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20" },
		    { "ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1" },
		    { "sshkeys", "ssh-ed25519%20AAAAC3Nz%20me%40host" } },
		  VALID },
		{ "POST",
		  CFG,
		  { NV,
		    { "scsi0", "local-lvm:32,iothread=on,discard=on" },
		    { "scsi1", "local-lvm:vm-101-disk-1,size=32G" },
		    { "ide2", "local-lvm:cloudinit,media=cdrom" },
		    { "agent", "1" },
		    { "boot", "order=scsi0;net0" },
		    { "tags", "web;prod k8s" } },
		  VALID },
		{ "PUT",
		  CFG,
		  { NV,
		    { "ipconfig1", "ip=dhcp,ip6=auto" },
		    { "ipconfig31", "ip6=2001:db8::5/64,gw6=2001:db8::1" },
		    { "net31", "e1000" },
		    { "cpu", "host,flags=+aes" },
		    { "delete", "net1,ipconfig2;unused0 parent" } },
		  VALID },
		{ "PUT",
		  CFG,
		  { NV,
		    { "agent", "enabled=yes,fstrim_cloned_disks=1" },
		    { "cdrom", "none" },
		    { "hotplug", "network,disk,usb" },
		    { "affinity", "0-3,8" },
		    { "startup", "order=1,up=30" } },
		  VALID },
		{ "POST",
		  "/nodes/{node}/qemu/{vmid}/agent/exec",
		  { NV, { "command", "ls" }, { "command", "-l" } },
		  VALID },
		{ "GET",
		  "/nodes/{node}/qemu/{vmid}/config",
		  { { "node", "pve1\n" }, { "vmid", "101" } },
		  VALID },
		{ "GET", "/version", { { NULL, NULL } }, VALID },
	};

	RUN(cases);
}

static void sim_schema__unknown_and_missing(void **state)
{
	static const struct check_case cases[] = {
		{ "POST",
		  CLONE,
		  { NV, { "newid", "102" }, { "foo", "1" } },
		  1,
		  "foo",
		  "property is not defined in schema and the schema does not "
		  "allow additional properties" },
		{ "POST",
		  CLONE,
		  { NV },
		  1,
		  "newid",
		  "property is missing and it is not optional" },
		{ "POST",
		  CLONE,
		  { NV, { "fulll", "1" } },
		  2,
		  "newid",
		  "property is missing and it is not optional" },
		{ "POST",
		  "/nodes/{node}/qemu/{vmid}/agent/exec",
		  { NV },
		  1,
		  "command",
		  "property is missing and it is not optional" },
		{ "PUT",
		  CFG,
		  { NV, { "force", "1" } },
		  1,
		  "delete",
		  "missing property - 'force' requires this property" },
	};

	RUN(cases);
}

static void sim_schema__type_range_enum_length(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  CFG,
		  { NV, { "cores", "abc" } },
		  1,
		  "cores",
		  "type check ('integer') failed - got 'abc'" },
		{ "PUT",
		  CFG,
		  { NV, { "cores", "4.0" } },
		  1,
		  "cores",
		  "type check ('integer') failed - got '4.0'" },
		{ "PUT",
		  CFG,
		  { NV, { "cpulimit", "x1" } },
		  1,
		  "cpulimit",
		  "type check ('number') failed - got 'x1'" },
		/* Top-level booleans are 1 or 0 only, unlike property strings.
		 */
		{ "PUT",
		  CFG,
		  { NV, { "onboot", "true" } },
		  1,
		  "onboot",
		  "type check ('boolean') failed - got 'true'" },
		{ "PUT",
		  CFG,
		  { NV, { "cores", "0" } },
		  1,
		  "cores",
		  "value must have a minimum value of 1" },
		{ "PUT",
		  CFG,
		  { NV, { "cpulimit", "128.5" } },
		  1,
		  "cpulimit",
		  "value must have a maximum value of 128" },
		{ "PUT", CFG, { NV, { "cpulimit", "1.5e1" } }, VALID },
		{ "PUT",
		  CFG,
		  { NV, { "ostype", "win12" } },
		  1,
		  "ostype",
		  "value 'win12' does not have a value in the enumeration "
		  "'other, wxp, w2k, w2k3, w2k8, wvista, win7, win8, win10, "
		  "win11, l24, l26, solaris'" },
		{ "PUT",
		  "/nodes/{node}/qemu/{vmid}/resize",
		  { NV, { "disk", "scsi31" }, { "size", "1G" } },
		  1,
		  "disk",
		  "value 'scsi31' does not have a value in the enumeration "
		  "'ide0, ide1, ide2, ide3, scsi0, ..." },
		{ "PUT",
		  CFG,
		  { NV,
		    { "digest", "0123456789012345678901234567890123456789X" } },
		  1,
		  "digest",
		  "value may only be 40 characters long" },
		/* pve-vmid's format is checked before minimum/maximum. */
		{ "POST",
		  CLONE,
		  { NV, { "newid", "99" } },
		  1,
		  "newid",
		  "invalid format - value does not look like a valid VM ID\n" },
		{ "POST",
		  CLONE,
		  { NV, { "newid", "1000000000" } },
		  1,
		  "newid",
		  "invalid format - value does not look like a valid VM ID\n" },
	};

	RUN(cases);
}

static void sim_schema__patterns(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  "/nodes/{node}/qemu/{vmid}/resize",
		  { NV, { "disk", "scsi0" }, { "size", "10X" } },
		  1,
		  "size",
		  "value does not match the regex pattern" },
		{ "PUT",
		  CFG,
		  { NV, { "startdate", "tomorrow" } },
		  1,
		  "startdate",
		  "value does not match the regex pattern" },
		{ "PUT",
		  CFG,
		  { NV, { "startdate", "2024-01-31T08:00:00" } },
		  VALID },
		{ "PUT", CFG, { NV, { "serial0", "socket" } }, VALID },
		{ "PUT",
		  CFG,
		  { NV, { "serial0", "/dev/tty\nS0" } },
		  1,
		  "serial0",
		  "value does not match the regex pattern" },
		/* Anchored as Perl anchors ^$pattern$: only the first branch
		 * is anchored at the start. */
		{ "PUT",
		  CFG,
		  { NV, { "parallel0", "/dev/parport0junk" } },
		  VALID },
		{ "PUT", CFG, { NV, { "vmgenid", "1" } }, VALID },
		{ "PUT",
		  CFG,
		  { NV, { "vmgenid", "nope" } },
		  1,
		  "vmgenid",
		  "value does not match the regex pattern" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio,bridge=vmbr0,trunks=a" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.trunks: value does not "
		  "match the regex pattern\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "local:1,vendor=ACME co" } },
		  VALID },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "local:1,vendor=ACME corp" } },
		  1,
		  "scsi0",
		  "invalid format - format error\nscsi0.vendor: value does not "
		  "match the regex pattern\n" },
		{ "PUT", CFG, { NV, { "usb0", "host=1-1.2" } }, VALID },
		{ "PUT", CFG, { NV, { "usb0", "spice,usb3=1" } }, VALID },
		{ "PUT", CFG, { NV, { "machine", "pc-q35-9.2+pve1" } }, VALID },
	};

	RUN(cases);
}

static void sim_schema__net(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  CFG,
		  { NV, { "net0", "model=foo,bridge=vmbr0" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.model: value 'foo' does "
		  "not have a value in the enumeration '" NET_MODELS "'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio,bridge=vmbr0,speed=10" } },
		  1,
		  "net0",
		  "invalid format - invalid key in comma-separated list "
		  "property: speed\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "bridge=vmbr0" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.model: property is "
		  "missing and it is not optional\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio=01:00:00:00:00:01" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.macaddr: invalid format "
		  "- value does not look like a valid unicast MAC address\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio,bridge=vmbr 0" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.bridge: invalid format - "
		  "invalid bridge ID 'vmbr 0'\n\n" },
		{ "PUT",
		  CFG,
		  { NV,
		    { "net0",
		      "virtio=BC:24:11:00:00:01,e1000=BC:24:11:00:00:02" } },
		  1,
		  "net0",
		  "invalid format - key alias 'model' is already defined\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio,tag=4095,queues=2" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.tag: value must have a "
		  "maximum value of 4094\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net0", "virtio,firewall=maybe" } },
		  1,
		  "net0",
		  "invalid format - format error\nnet0.firewall: type check "
		  "('boolean') failed - got 'maybe'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "net32", "virtio,bridge=vmbr0" } },
		  1,
		  "net32",
		  "property is not defined in schema and the schema does not "
		  "allow additional properties" },
		{ "PUT",
		  CFG,
		  { NV, { "net01", "virtio" } },
		  1,
		  "net01",
		  "property is not defined in schema and the schema does not "
		  "allow additional properties" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi31", "local-lvm:32" } },
		  1,
		  "scsi31",
		  "property is not defined in schema and the schema does not "
		  "allow additional properties" },
		{ "PUT", CFG, { NV, { "scsi30", "local-lvm:32" } }, VALID },
	};

	RUN(cases);
}

static void sim_schema__ipconfig(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip=10.0.0.300/24" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.ip: invalid format "
		  "- value does not look like a valid ipv4 network "
		  "configuration\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip=10.0.0.3/33" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.ip:..." },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip=10.0.0.3" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.ip:..." },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip=dhcp,gw=1.2.3.4" } },
		  1,
		  "ipconfig0",
		  "invalid format - gateway specified together with DHCP\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "gw=1.2.3.4" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.ip: missing "
		  "property - 'ipconfig0.gw' requires this property\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip=10.0.0.2/24,gw=1.2.3" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.gw: invalid format "
		  "- value does not look like a valid IPv4 address\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip6=auto,gw6=fe80::1" } },
		  1,
		  "ipconfig0",
		  "invalid format - IPv6 gateway specified together with auto "
		  "address\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "ip6=fe80::1/129" } },
		  1,
		  "ipconfig0",
		  "invalid format - format error\nipconfig0.ip6: invalid format "
		  "- value does not look like a valid ipv6 network "
		  "configuration\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig0", "mask=24" } },
		  1,
		  "ipconfig0",
		  "invalid format - invalid key in comma-separated list "
		  "property: mask\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ipconfig32", "ip=dhcp" } },
		  1,
		  "ipconfig32",
		  "property is not defined in schema..." },
	};

	RUN(cases);
}

static void sim_schema__drives_and_agent(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "32" } },
		  1,
		  "scsi0",
		  "invalid format - format error\nscsi0.file: invalid format - "
		  "unable to parse volume ID '32'\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "local-lvm:32,cache=fast" } },
		  1,
		  "scsi0",
		  "invalid format - format error\nscsi0.cache: value 'fast' "
		  "does not have a value in the enumeration 'none, "
		  "writethrough, writeback, unsafe, directsync'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "local-lvm:32,size=32X" } },
		  1,
		  "scsi0",
		  "invalid format - format error\nscsi0.size: invalid format - "
		  "value does not look like a valid disk size: 32X\n\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "local-lvm:32,local-lvm:33" } },
		  1,
		  "scsi0",
		  "invalid format - duplicate key in comma-separated list "
		  "property: file\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "cache=none" } },
		  1,
		  "scsi0",
		  "invalid format - format error\nscsi0.file: property is "
		  "missing and it is not optional\n" },
		{ "PUT",
		  CFG,
		  { NV, { "scsi0", "=local-lvm:32" } },
		  1,
		  "scsi0",
		  "invalid format - missing key in comma-separated list "
		  "property\n" },
		{ "PUT",
		  CFG,
		  { NV, { "ivshmem", "64" } },
		  1,
		  "ivshmem",
		  "invalid format - value without key, but schema does not "
		  "define a default key\n" },
		/* A default-key value is not read as a boolean word. */
		{ "PUT",
		  CFG,
		  { NV, { "agent", "true" } },
		  1,
		  "agent",
		  "invalid format - format error\nagent.enabled: type check "
		  "('boolean') failed - got 'true'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "agent", "1,type=usb" } },
		  1,
		  "agent",
		  "invalid format - format error\nagent.type: value 'usb' does "
		  "not have a value in the enumeration 'virtio, isa'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "boot", "order=scsi0,foo=bar" } },
		  1,
		  "boot",
		  "invalid format - invalid key in comma-separated list "
		  "property: foo\n" },
		{ "PUT",
		  CFG,
		  { NV, { "sshkeys", "ssh-ed25519 AAAA me@host" } },
		  1,
		  "sshkeys",
		  "invalid format - invalid urlencoded string: ssh-ed25519 "
		  "AAAA me@host\n" },
		{ "PUT",
		  CFG,
		  { NV, { "sshkeys", "ssh-rsa%20AAAA+B/c=" } },
		  1,
		  "sshkeys",
		  "invalid format - invalid urlencoded string:..." },
	};

	RUN(cases);
}

static void sim_schema__delete_and_revert(void **state)
{
	static const struct check_case cases[] = {
		{ "PUT",
		  CFG,
		  { NV, { "delete", "net0,bad!" } },
		  1,
		  "delete",
		  "invalid format - invalid configuration ID 'bad!'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "net0,foo" } },
		  1,
		  "delete",
		  "unknown option 'foo'" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "net32" } },
		  1,
		  "delete",
		  "unknown option 'net32'" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "cores" }, { "cores", "2" } },
		  1,
		  "delete",
		  "you can't use '-cores' and -delete cores' at the "
		  "same time" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "cdrom" }, { "ide2", "none" } },
		  1,
		  "delete",
		  "you can't use '-ide2' and -delete ide2' at the same time" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "ide2" }, { "cdrom", "none" } },
		  1,
		  "delete",
		  "you can't use '-ide2' and -delete ide2' at the same time" },
		{ "PUT",
		  CFG,
		  { NV, { "revert", "cores" }, { "delete", "cores" } },
		  1,
		  "revert",
		  "you can't use '-delete cores' and -revert cores' at the "
		  "same time" },
		{ "PUT",
		  CFG,
		  { NV, { "revert", "nope" } },
		  1,
		  "revert",
		  "unknown option 'nope'" },
		{ "PUT",
		  CFG,
		  { NV, { "revert", "cores" }, { "cores", "1" } },
		  1,
		  "delete",
		  "you can't use '-cores' and -revert cores' at the "
		  "same time" },
		/* The handler's checks only run when the schema's passed. */
		{ "PUT",
		  CFG,
		  { NV, { "delete", "foo" }, { "cores", "x" } },
		  1,
		  "cores",
		  "type check ('integer') failed - got 'x'" },
		{ "PUT",
		  CFG,
		  { NV, { "delete", "skiplock" }, { "skiplock", "1" } },
		  1,
		  "delete",
		  "unknown option 'skiplock'" },
		{ "PUT",
		  "/cluster/ha/resources/{sid}",
		  { { "sid", "vm:101" }, { "delete", "nothing_like_this" } },
		  VALID },
	};

	RUN(cases);
}

static void sim_schema__named_formats(void **state)
{
	static const struct check_case cases[] = {
		{ "GET",
		  CFG,
		  { { "node", "pve_1" }, { "vmid", "101" } },
		  1,
		  "node",
		  "invalid format - value does not look like a valid node "
		  "name\n" },
		{ "POST",
		  CLONE,
		  { NV, { "newid", "102" }, { "storage", "1abc" } },
		  1,
		  "storage",
		  "invalid format - storage ID '1abc' contains illegal "
		  "characters\n" },
		{ "POST",
		  CLONE,
		  { NV, { "newid", "102" }, { "name", "-web" } },
		  1,
		  "name",
		  "invalid format - value does not look like a valid DNS "
		  "name\n" },
		{ "POST",
		  CLONE,
		  { NV, { "newid", "102" }, { "pool", "a b" } },
		  1,
		  "pool",
		  "invalid format - pool name 'a b' contains invalid "
		  "characters\n" },
		{ "PUT",
		  CFG,
		  { NV, { "tags", "ok;bad/tag" } },
		  1,
		  "tags",
		  "invalid format - invalid characters in tag\n" },
		{ "PUT",
		  CFG,
		  { NV, { "nameserver", "1.1.1.1 bad_host" } },
		  1,
		  "nameserver",
		  "invalid format - value does not look like a valid address: "
		  "bad_host\n" },
		{ "PUT",
		  CFG,
		  { NV, { "nameserver", "2001:db8::53 dns.lan" } },
		  VALID },
		{ "PUT",
		  CFG,
		  { NV, { "hotplug", "network,foo" } },
		  1,
		  "hotplug",
		  "invalid format - invalid hotplug feature 'foo'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "affinity", "3-1" } },
		  1,
		  "affinity",
		  "invalid format - unable to parse cpuset option\n" },
		{ "PUT",
		  CFG,
		  { NV, { "startup", "first" } },
		  1,
		  "startup",
		  "invalid format - unable to parse startup options\n" },
		{ "PUT",
		  CFG,
		  { NV, { "bootdisk", "scsi31" } },
		  1,
		  "bootdisk",
		  "invalid format - invalid boot disk 'scsi31'\n" },
		{ "PUT",
		  CFG,
		  { NV, { "hookscript", "hook.sh" } },
		  1,
		  "hookscript",
		  "invalid format - unable to parse volume ID 'hook.sh'\n" },
		{ "GET",
		  CFG,
		  { NV, { "snapshot", "1snap" } },
		  1,
		  "snapshot",
		  "invalid format - invalid configuration ID '1snap'\n" },
		{ "POST",
		  "/nodes/{node}/qemu/{vmid}/migrate",
		  { NV,
		    { "target", "pve2" },
		    { "migration_network", "10.0.0.0/33" } },
		  1,
		  "migration_network",
		  "invalid format - value does not look like a valid CIDR "
		  "network\n" },
		{ "POST",
		  "/nodes/{node}/qemu/{vmid}/migrate",
		  { NV,
		    { "target", "pve2" },
		    { "migration_network", "fd00::/64" },
		    { "targetstorage", "local:local-lvm,1" } },
		  VALID },
		{ "POST",
		  "/nodes/{node}/qemu/{vmid}/migrate",
		  { NV, { "target", "pve2" }, { "targetstorage", "bad!" } },
		  1,
		  "targetstorage",
		  "invalid format - entry 'bad!' contains invalid ID - storage "
		  "ID 'bad!' contains illegal characters\n\n\n" },
		{ "POST",
		  "/cluster/ha/resources",
		  { { "sid", "vm 101" } },
		  1,
		  "sid",
		  "invalid format - value does not look like a valid ha "
		  "resource id\n" },
		{ "GET",
		  "/nodes/{node}/storage",
		  { { "node", "pve1" }, { "content", "images,foo" } },
		  1,
		  "content",
		  "invalid format - invalid content type 'foo'\n" },
		{ "GET",
		  "/nodes/{node}/tasks",
		  { { "node", "pve1" }, { "statusfilter", "ok,bad" } },
		  1,
		  "statusfilter",
		  "invalid format - invalid status 'bad'\n" },
		{ "PUT",
		  "/pools/{poolid}",
		  { { "poolid", "prod" }, { "vms", "101,5" } },
		  1,
		  "vms",
		  "invalid format - value does not look like a valid VM ID\n" },
		{ "POST",
		  "/access/ticket",
		  { { "username", "root" },
		    { "password", "x" },
		    { "realm", "1pam" } },
		  1,
		  "realm",
		  "invalid format - value does not look like a valid realm\n" },
	};

	RUN(cases);
}

static void sim_schema__counts_and_merges_errors(void **state)
{
	static const struct sim_param p[] = {
		{ "node", "pve1" },
		{ "vmid", "abc" },
		{ "foo", "1" },
	};
	const struct schema_endpoint *ep = schema_find(CLONE, "POST");
	json_t *errors = json_object();

	(void)state;
	json_object_set_new(errors, "earlier", json_string("kept"));
	assert_int_equal(schema_check(ep, p, ARRAY_SIZE(p), errors), 3);
	assert_int_equal(json_object_size(errors), 4);
	assert_string_equal(json_string_value(json_object_get(errors, "vmid")),
			    "type check ('integer') failed - got 'abc'");
	assert_string_equal(
		json_string_value(json_object_get(errors, "earlier")), "kept");
	assert_non_null(json_object_get(errors, "newid"));
	json_decref(errors);
}

/* GET .../agent declares additionalProperties: an unknown one passes */
static void sim_schema__additional_properties(void **state)
{
	static const struct sim_param p[] = {
		{ "node", "pve1" },
		{ "vmid", "100" },
		{ "foo", "1" },
	};
	const struct schema_endpoint *ep =
		schema_find("/nodes/{node}/qemu/{vmid}/agent", "GET");
	json_t *errors = json_object();

	(void)state;
	assert_non_null(ep);
	assert_int_equal(schema_check(ep, p, ARRAY_SIZE(p), errors), 0);
	ep = schema_find("/nodes/{node}/qemu/{vmid}/snapshot", "GET");
	assert_non_null(ep);
	assert_int_equal(schema_check(ep, p, ARRAY_SIZE(p), errors), 1);
	json_decref(errors);
}

static void sim_schema__find_endpoint(void **state)
{
	const struct schema_endpoint *ep;

	(void)state;
	ep = schema_find(CFG, "PUT");
	assert_non_null(ep);
	assert_true(schema_endpoint_protected(ep));
	assert_true(schema_endpoint_allowtoken(ep));
	ep = schema_find(CFG, "GET");
	assert_non_null(ep);
	assert_false(schema_endpoint_protected(ep));
	ep = schema_find("/access/ticket", "POST");
	assert_non_null(ep);
	assert_false(schema_endpoint_allowtoken(ep));
	assert_null(schema_find(CFG, "PATCH"));
	assert_non_null(schema_find("/nodes/{node}/lxc", "GET"));
	/* gen_schema.py leaves out what the simulator does not serve */
	assert_null(schema_find("/nodes/{node}/lxc", "POST"));
	assert_null(schema_find("/access/domains", "POST"));
	assert_null(schema_find("/nodes/pve1/qemu", "GET"));
	assert_int_equal(strlen(schema_source_commit), 40);
}

static void sim_schema__propstring_parse(void **state)
{
	static const struct {
		const char *name, *value, *want; /* want: "k=v;k=v" */
	} cases[] = {
		{ "net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0",
		  "model=virtio;macaddr=BC:24:11:00:00:01;bridge=vmbr0" },
		{ "net5", "e1000,bridge=vmbr1,firewall=yes",
		  "model=e1000;bridge=vmbr1;firewall=1" },
		{ "scsi0", "local-lvm:32", "file=local-lvm:32" },
		{ "scsi1", "volume=local-lvm:vm-101-disk-0,bps_rd_length=5",
		  "file=local-lvm:vm-101-disk-0;bps_rd_max_length=5" },
		{ "agent", "1", "enabled=1" },
		{ "agent", "enabled=ON,guest-fsfreeze=false",
		  "enabled=1;freeze-fs=0" },
		{ "efidisk0", "local-lvm:1,efitype=4m",
		  "file=local-lvm:1;efitype=4m" },
		{ "ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1",
		  "ip=10.0.0.5/24;gw=10.0.0.1" },
		{ "cdrom", "local:iso/debian.iso",
		  "file=local:iso/debian.iso" },
		{ "memory", "2048", "current=2048" },
		{ "net0", ",virtio,,", "model=virtio" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
		struct strbuf err = STRBUF_INIT, got = STRBUF_INIT;

		if (schema_parse_propstring(cases[i].name, cases[i].value,
					    &keys, &vals, &err))
			print_message("case %zu: %s\n", i, err.buf);
		assert_int_equal(keys.nr, vals.nr);
		for (j = 0; j < keys.nr; j++)
			strbuf_addf(&got, "%s%s=%s", j ? ";" : "", keys.v[j],
				    vals.v[j]);
		assert_string_equal(got.buf, cases[i].want);
		assert_int_equal(err.len, 0);
		strvec_clear(&keys);
		strvec_clear(&vals);
		strbuf_release(&err);
		strbuf_release(&got);
	}
}

static void sim_schema__propstring_parse_errors(void **state)
{
	static const struct {
		const char *name, *value, *want;
	} cases[] = {
		{ "net0", "model=foo",
		  "format error\nnet0.model: value 'foo' does not have a value "
		  "in the enumeration '" NET_MODELS "'" },
		{ "net0", "virtio,speed=1",
		  "invalid key in comma-separated list property: speed" },
		{ "net0", "virtio,e1000",
		  "duplicate key in comma-separated list property: model" },
		{ "net0", "model=virtio,virtio=BC:24:11:00:00:01",
		  "key alias 'model' is already defined" },
		{ "scsi0", "a:b,c:d",
		  "duplicate key in comma-separated list property: file" },
		{ "ivshmem", "64",
		  "value without key, but schema does not define a default key" },
		{ "ipconfig0", "ip=dhcp,gw=10.0.0.1",
		  "gateway specified together with DHCP" },
		{ "cores", "4", "'cores' is not a property-string parameter" },
		{ "net32", "virtio",
		  "'net32' is not a property-string parameter" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
		struct strbuf err = STRBUF_INIT;

		assert_int_equal(schema_parse_propstring(cases[i].name,
							 cases[i].value, &keys,
							 &vals, &err),
				 -1);
		assert_string_equal(err.buf, cases[i].want);
		assert_int_equal(keys.nr, 0);
		assert_int_equal(vals.nr, 0);
		strvec_clear(&keys);
		strvec_clear(&vals);
		strbuf_release(&err);
	}
}

static void sim_schema__parse_boolean(void **state)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "1", 1 },   { "on", 1 },  { "Yes", 1 },   { "TRUE", 1 },
		{ "0", 0 },   { "off", 0 }, { "NO", 0 },    { "False", 0 },
		{ "", -1 },   { "2", -1 },  { "yess", -1 }, { " 1", -1 },
		{ "1\n", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(schema_parse_boolean(cases[i].in),
				 cases[i].want);
}

static size_t compile_patterns(const struct schema_prop *props, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++) {
		if (props[i].pattern) {
			regex_t rx;
			int rc = regcomp(&rx, props[i].pattern,
					 REG_EXTENDED | REG_NOSUB);

			if (rc)
				print_message("%s: %s\n", props[i].name,
					      props[i].pattern);
			assert_int_equal(rc, 0);
			regfree(&rx);
			count++;
		}
		if (props[i].keys)
			count +=
				compile_patterns(props[i].keys, props[i].nkeys);
	}
	return count;
}

static void sim_schema__every_pattern_compiles(void **state)
{
	size_t i, count = 0;

	(void)state;
	for (i = 0; i < schema_nendpoints; i++)
		count += compile_patterns(schema_endpoints[i].params,
					  schema_endpoints[i].nparams);
	count += compile_patterns(schema_propstrings, schema_npropstrings);
	assert_true(count >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sim_schema__valid_requests_pass),
		cmocka_unit_test(sim_schema__unknown_and_missing),
		cmocka_unit_test(sim_schema__type_range_enum_length),
		cmocka_unit_test(sim_schema__patterns),
		cmocka_unit_test(sim_schema__net),
		cmocka_unit_test(sim_schema__ipconfig),
		cmocka_unit_test(sim_schema__drives_and_agent),
		cmocka_unit_test(sim_schema__delete_and_revert),
		cmocka_unit_test(sim_schema__named_formats),
		cmocka_unit_test(sim_schema__counts_and_merges_errors),
		cmocka_unit_test(sim_schema__additional_properties),
		cmocka_unit_test(sim_schema__find_endpoint),
		cmocka_unit_test(sim_schema__propstring_parse),
		cmocka_unit_test(sim_schema__propstring_parse_errors),
		cmocka_unit_test(sim_schema__parse_boolean),
		cmocka_unit_test(sim_schema__every_pattern_compiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
