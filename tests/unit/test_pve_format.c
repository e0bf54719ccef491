/*
 * test_pve_format.c - the Proxmox value checks, table-driven: each case is
 * an input and either acceptance or the exact reason given.
 */
#include "test.h"
#include "core/pve_format.h"

typedef int (*check_fn)(const char *s, struct strbuf *why);

struct check_case {
	const char *in;
	const char *why; /* NULL: accepted */
};

static void run_cases(check_fn fn, const struct check_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct strbuf why = STRBUF_INIT;
		int rc = fn(cases[i].in, &why);

		if (!cases[i].why) {
			if (rc != 0)
				fail_msg("'%s' refused: %s", cases[i].in,
					 why.buf);
		} else {
			if (rc != -1)
				fail_msg("'%s' accepted", cases[i].in);
			assert_string_equal(why.buf, cases[i].why);
		}
		strbuf_release(&why);
	}
}

static int ipconfig_check(const char *s, struct strbuf *why)
{
	struct pve_ipconfig c;

	return pve_parse_ipconfig(&c, s, why);
}

static void pve_format__ipconfig(void **state)
{
	static const struct check_case cases[] = {
		{ "ip=192.168.1.20/24,gw=192.168.1.1,ip6=dhcp", NULL },
		{ "ip=dhcp", NULL },
		{ "ip=dhcp,ip6=auto", NULL },
		{ "ip=10.0.0.5/8", NULL },
		{ "ip=10.1.2.3/32", NULL },
		{ "ip6=2001:db8::5/64,gw6=2001:db8::1", NULL },
		{ "gw=192.168.1.1,ip=192.168.1.20/24", NULL },
		{ "", "empty; expected ip=ADDRESS/PREFIX[,gw=...] or ip=dhcp" },
		{ "ip=192.168.1.300/24",
		  "ip '192.168.1.300/24' is not dhcp or an IPv4 address with a "
		  "prefix length between 8 and 32 (such as 192.168.1.20/24)" },
		{ "ip=192.168.1.20",
		  "ip '192.168.1.20' is not dhcp or an IPv4 address with a "
		  "prefix length between 8 and 32 (such as 192.168.1.20/24)" },
		{ "ip=192.168.1.20/7",
		  "ip '192.168.1.20/7' is not dhcp or an IPv4 address with a "
		  "prefix length between 8 and 32 (such as 192.168.1.20/24)" },
		{ "ip=192.168.01.20/24",
		  "ip '192.168.01.20/24' is not dhcp or an IPv4 address with a "
		  "prefix length between 8 and 32 (such as 192.168.1.20/24)" },
		{ "ip=192.168.1.20/24,gw=192.168.2.1",
		  "gw 192.168.2.1 is outside the subnet 192.168.1.0/24" },
		{ "ip=192.168.1.20/24,gw=192.168.1.20",
		  "gw is the VM's own address" },
		{ "ip=192.168.1.0/24",
		  "ip is the network address of its subnet" },
		{ "ip=192.168.1.255/24",
		  "ip is the broadcast address of its subnet" },
		{ "gw=192.168.1.1", "gw given without ip" },
		{ "ip=dhcp,gw=192.168.1.1", "gw given together with ip=dhcp" },
		{ "ip=1.2.3.4/24,ip=1.2.3.5/24", "key 'ip' given twice" },
		{ "ip6=dhcp,gw6=2001:db8::1", "gw6 needs a static ip6" },
		{ "ip6=2001:db8::5",
		  "ip6 '2001:db8::5' is not dhcp, auto or an "
		  "IPv6 address with a prefix length "
		  "between 8 and 128" },
		{ "ip6=auto,gw6=zz", "gw6 'zz' is not an IPv6 address" },
		{ "ip=dhcp,", "trailing ','" },
		{ "ipv4=dhcp",
		  "unknown key 'ipv4' (allowed: ip, gw, ip6, gw6)" },
		{ "dhcp", "'dhcp' is not key=value" },
		{ "ip=1.2.3.4/24,gw=1.2.3",
		  "gw '1.2.3' is not an IPv4 address" },
	};

	(void)state;
	run_cases(ipconfig_check, cases, ARRAY_SIZE(cases));
}

static void pve_format__ipconfig_fields(void **state)
{
	struct pve_ipconfig c;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(pve_parse_ipconfig(&c,
					    "ip=192.168.1.20/24,gw="
					    "192.168.1.1,ip6=dhcp",
					    &why),
			 0);
	assert_true(c.has_ip4 && !c.dhcp4 && c.has_gw4 && c.dhcp6);
	assert_int_equal(c.ip4, 0xc0a80114u);
	assert_int_equal(c.prefix4, 24);
	assert_int_equal(c.gw4, 0xc0a80101u);
	strbuf_release(&why);
}

static void pve_format__sizes(void **state)
{
	static const struct {
		const char *in;
		uint64_t bytes;
		const char *why;
	} cases[] = {
		{ "50G", 50ull << 30, NULL },
		{ "512M", 512ull << 20, NULL },
		{ "1T", 1ull << 40, NULL },
		{ "4096K", 4096ull << 10, NULL },
		{ "1.5G", 3ull << 29, NULL },
		{ "50g", 0, "unit 'g' must be upper case (50G)" },
		{ "50", 0, "size '50' has no unit; write 50G (K, M, G or T)" },
		{ "0G", 0, "size '0G' is zero" },
		{ "G", 0,
		  "'G' is not a disk size; expected a number and a unit, "
		  "such as 50G, 512M or 1T" },
		{ "50GB", 0,
		  "'50GB' is not a disk size; expected a number and "
		  "a unit, such as 50G, 512M or 1T" },
		{ "-5G", 0,
		  "'-5G' is not a disk size; expected a number and a "
		  "unit, such as 50G, 512M or 1T" },
		{ "1.G", 0,
		  "'1.G' is not a disk size; expected a number and a "
		  "unit, such as 50G, 512M or 1T" },
		{ "2048T", 0, "size '2048T' is larger than 1024T" },
		{ "99999999999999999999T", 0,
		  "size '99999999999999999999T' is larger than 1024T" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strbuf why = STRBUF_INIT;
		uint64_t b = 0;
		int rc = pve_parse_size(&b, cases[i].in, &why);

		if (!cases[i].why) {
			assert_int_equal(rc, 0);
			assert_int_equal(b, cases[i].bytes);
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(why.buf, cases[i].why);
		}
		strbuf_release(&why);
	}
}

static void pve_format__format_size(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	pve_format_size(&sb, 50ull << 30);
	assert_string_equal(sb.buf, "50G");
	strbuf_reset(&sb);
	pve_format_size(&sb, 1536ull << 20);
	assert_string_equal(sb.buf, "1536M");
	strbuf_reset(&sb);
	pve_format_size(&sb, 1ull << 40);
	assert_string_equal(sb.buf, "1T");
	strbuf_release(&sb);
}

static void pve_format__names(void **state)
{
	static const struct check_case storage[] = {
		{ "local-lvm", NULL },
		{ "data2", NULL },
		{ "ceph.pool_1", NULL },
		{ "x",
		  "not a Proxmox storage id (a letter, then letters, "
		  "digits, '-', '_' or '.', ending in a letter or digit)" },
		{ "2data", "not a Proxmox storage id (a letter, then letters, "
			   "digits, '-', '_' or '.', ending in a letter or "
			   "digit)" },
		{ "local lvm", "not a Proxmox storage id (a letter, then "
			       "letters, digits, '-', '_' or '.', ending in a "
			       "letter or digit)" },
	};
	static const struct check_case bridge[] = {
		{ "vmbr0", NULL },
		{ "vmbr0.100", NULL },
		{ "", "not a bridge name (1-15 letters, digits, '-', '_' or "
		      "'.', such as vmbr0)" },
		{ "averyveryverylongbridge",
		  "not a bridge name (1-15 letters, digits, '-', '_' or '.', "
		  "such as vmbr0)" },
		{ "vm br0", "not a bridge name (1-15 letters, digits, '-', '_' "
			    "or '.', such as vmbr0)" },
	};
	static const struct check_case label[] = {
		{ "k8s-observability", NULL },
		{ "a", NULL },
		{ "my_vm", "not a DNS label (1-63 letters, digits or '-', not "
			   "starting or ending with '-')" },
		{ "-vm", "not a DNS label (1-63 letters, digits or '-', not "
			 "starting or ending with '-')" },
		{ "vm.example", "not a DNS label (1-63 letters, digits or '-', "
				"not starting or ending with '-')" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaa",
		  "not a DNS label (1-63 letters, digits or '-', not starting "
		  "or ending with '-')" },
	};
	static const struct check_case dns[] = {
		{ "ubuntu24-template", NULL },
		{ "tpl.example.net", NULL },
		{ "k01.example.org", NULL },
		{ "a..b", "not a DNS name (labels of 1-63 letters, digits or "
			  "'-', not starting or ending with '-', joined by "
			  "'.'; 253 bytes at most)" },
	};

	(void)state;
	run_cases(pve_check_storage_id, storage, ARRAY_SIZE(storage));
	run_cases(pve_check_bridge, bridge, ARRAY_SIZE(bridge));
	run_cases(pve_check_dns_label, label, ARRAY_SIZE(label));
	run_cases(pve_check_dns_name, dns, ARRAY_SIZE(dns));
}

static void pve_format__misc(void **state)
{
	static const struct check_case mac[] = {
		{ "BC:24:11:00:00:01", NULL },
		{ "01:00:5e:00:00:01", "a multicast MAC address cannot be used "
				       "for a network device" },
		{ "bc:24:11:00:00",
		  "not a MAC address (six hex pairs separated "
		  "by ':')" },
	};
	static const struct check_case boot[] = {
		{ "order=scsi0;net0", NULL },
		{ "cdn", NULL },
		{ "legacy=c", NULL },
		{ "order=virtio15", NULL },
		{ "order=scsi0;floppy", "'floppy' is not a boot device (a disk "
					"slot such as scsi0, or net0)" },
		{ "order=", "'' is not a boot device (a disk slot such as "
			    "scsi0, or net0)" },
		{ "xyz", "expected order=DEVICE[;DEVICE...] such as "
			 "order=scsi0;net0, or legacy letters from acdn" },
	};
	static const struct check_case addr[] = {
		{ "192.168.1.1", NULL },
		{ "1.1.1.1 8.8.8.8", NULL },
		{ "1.1.1.1,2001:4860:4860::8888", NULL },
		{ "dns.example", "'dns.example' is not an IP address" },
		{ " ", "no address given" },
	};
	static const struct check_case serial[] = {
		{ "socket", NULL },
		{ "/dev/ttyS0", NULL },
		{ "tcp", "expected 'socket' or a host device such as "
			 "/dev/ttyS0" },
	};
	static const struct check_case slot[] = {
		{ "scsi0", NULL },
		{ "scsi30", NULL },
		{ "ide3", NULL },
		{ "virtio15", NULL },
		{ "sata5", NULL },
		{ "scsi31", "'scsi31' is not a disk slot; scsi takes 0 to 30" },
		{ "scsi01", "'scsi01' is not a disk slot; scsi takes 0 to 30" },
		{ "ide4", "'ide4' is not a disk slot; ide takes 0 to 3" },
		{ "nvme0", "'nvme0' is not a disk slot (scsi0-30, virtio0-15, "
			   "sata0-5 or ide0-3)" },
	};
	static const struct check_case cpu[] = {
		{ "host", NULL },
		{ "x86-64-v2-AES", NULL },
		{ "custom-mycpu", NULL },
		{ "hots", "not a Proxmox CPU type (a built-in model such as "
			  "host, kvm64 or x86-64-v2-AES, or custom-NAME)" },
		{ "custom-", "not a Proxmox CPU type (a built-in model such as "
			     "host, kvm64 or x86-64-v2-AES, or custom-NAME)" },
	};

	(void)state;
	run_cases(pve_check_mac, mac, ARRAY_SIZE(mac));
	run_cases(pve_check_boot, boot, ARRAY_SIZE(boot));
	run_cases(pve_check_address_list, addr, ARRAY_SIZE(addr));
	run_cases(pve_check_serial, serial, ARRAY_SIZE(serial));
	run_cases(pve_parse_disk_slot, slot, ARRAY_SIZE(slot));
	run_cases(pve_check_cpu_type, cpu, ARRAY_SIZE(cpu));
}

static void pve_format__sshkeys(void **state)
{
	static const struct check_case keys[] = {
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKq0abc user@host",
		  NULL },
		{ "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n"
		  "# a comment\n\necdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlz",
		  NULL },
		{ "from=\"10.0.0.0/8\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
		  NULL },
		{ "not a key",
		  "line 1 is not an OpenSSH public key (TYPE BASE64 "
		  "[COMMENT])" },
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\nssh-ed25519",
		  "line 2 is not an OpenSSH public key (TYPE BASE64 "
		  "[COMMENT])" },
		{ "\n\n", "no public key given" },
	};

	(void)state;
	run_cases(pve_check_sshkeys, keys, ARRAY_SIZE(keys));
}

static void pve_format__tags(void **state)
{
	struct strbuf why = STRBUF_INIT;

	(void)state;
	assert_int_equal(pve_check_tag("prod", 4, &why), 0);
	assert_int_equal(pve_check_tag("_x+y.z-1", 8, &why), 0);
	assert_int_equal(pve_check_tag("-x", 2, &why), -1);
	assert_string_equal(why.buf, "'-x' is not a Proxmox tag (letters, "
				     "digits, '_', then also '-', '+' or '.')");
	strbuf_release(&why);
}

static void pve_format__fingerprints(void **state)
{
	unsigned char fp[32];
	struct strbuf why = STRBUF_INIT, out = STRBUF_INIT;
	const char *ok = "7A:05:FD:CE:E8:44:C0:8C:FE:6A:86:D0:32:C4:75:5D:"
			 "EC:07:9C:C9:44:FC:E8:AC:A6:5B:4B:F2:25:69:20:b0";

	(void)state;
	assert_int_equal(pve_parse_fingerprint(fp, ok, &why), 0);
	assert_int_equal(fp[0], 0x7a);
	assert_int_equal(fp[31], 0xb0);
	pve_format_fingerprint(&out, fp);
	assert_int_equal(strncmp(out.buf, ok, 93), 0);
	assert_string_equal(out.buf + 93, "B0");
	/* the same digest without separators */
	assert_int_equal(
		pve_parse_fingerprint(fp,
				      "7a05fdcee844c08cfe6a86d032c4755dec079cc9"
				      "44fce8aca65b4bf2256920b0",
				      &why),
		0);
	assert_int_equal(fp[31], 0xb0);
	assert_int_equal(pve_parse_fingerprint(fp, "7A:05", &why), -1);
	assert_int_equal(pve_parse_fingerprint(fp, "", &why), -1);
	/* SHA-1 length, trailing colon, junk */
	assert_int_equal(
		pve_parse_fingerprint(fp,
				      "7A:05:FD:CE:E8:44:C0:8C:FE:6A:86:D0:32:"
				      "C4:75:5D:EC:07:9C:C9",
				      &why),
		-1);
	assert_int_equal(
		pve_parse_fingerprint(fp,
				      "7A:05:FD:CE:E8:44:C0:8C:FE:6A:86:D0:32:"
				      "C4:75:5D:EC:07:9C:C9:44:FC:E8:AC:A6:5B:"
				      "4B:F2:25:69:20:B0:",
				      &why),
		-1);
	assert_int_equal(
		pve_parse_fingerprint(fp,
				      "7A-05:FD:CE:E8:44:C0:8C:FE:6A:86:D0:32:"
				      "C4:75:5D:EC:07:9C:C9:44:FC:E8:AC:A6:5B:"
				      "4B:F2:25:69:20:B0",
				      &why),
		-1);
	assert_non_null(strstr(why.buf, "SHA-256"));
	strbuf_release(&why);
	strbuf_release(&out);
}

static void pve_format__upid(void **state)
{
	static const char upid[] = "UPID:node01:000186B8:525B5BAA:6B104609:"
				   "hamigrate:108:root@pam!ci:";
	static const char *const want[] = { "node01",	  "000186B8",
					    "525B5BAA",	  "6B104609",
					    "hamigrate",  "108",
					    "root@pam!ci" };
	struct strbuf out = STRBUF_INIT;
	unsigned i;

	(void)state;
	for (i = 0; i < 7; i++) {
		strbuf_reset(&out);
		assert_int_equal(pve_upid_field(&out, upid, i), 0);
		assert_string_equal(out.buf, want[i]);
	}
	strbuf_reset(&out);
	assert_int_equal(pve_upid_field(&out, upid, 7), -1);
	assert_int_equal(pve_upid_field(&out, "UPID:node01", 0), -1);
	assert_int_equal(pve_upid_field(&out, "node01:1:2:3:t:1:u:", 0), -1);
	assert_int_equal(out.len, 0);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pve_format__ipconfig),
		cmocka_unit_test(pve_format__ipconfig_fields),
		cmocka_unit_test(pve_format__sizes),
		cmocka_unit_test(pve_format__format_size),
		cmocka_unit_test(pve_format__names),
		cmocka_unit_test(pve_format__misc),
		cmocka_unit_test(pve_format__sshkeys),
		cmocka_unit_test(pve_format__tags),
		cmocka_unit_test(pve_format__fingerprints),
		cmocka_unit_test(pve_format__upid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
