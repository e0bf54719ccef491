/*
 * test_nocloud.c - proxmox-sim's cloud-init drive (sim/proxmox/nocloud.c):
 * the exact user-data, network-config and meta-data that qemu-server's
 * Cloudinit.pm writes for citype nocloud, for two configurations, and its
 * error for an address without a prefix.
 */
#include "test.h"

#include <string.h>

#include "nocloud.h"

/* struct kv holds mutable strings; these are never written */
#define KV(k, v)                         \
	{                                \
		(char *)(k), (char *)(v) \
	}

static void test_static_user(void **state)
{
	struct kv conf[] = {
		KV("name", "web1"),
		KV("net0", "virtio=BC:24:11:AA:BB:CC,bridge=vmbr0"),
		KV("ciuser", "deploy"),
		KV("cipassword", "$5$abc$hash"),
		/* URI-escaped, a blank line, '+' kept as it is */
		KV("sshkeys", "ssh-ed25519%20AAAAC3Nza%2Bkey1%20a%40b%0A%20%0A"
			      "ssh-rsa%20AAAAB3key2%20c%40d%0A"),
		KV("ipconfig0", "ip=10.0.0.5/24,gw=10.0.0.1"),
		KV("nameserver", "1.1.1.1 9.9.9.9"),
		KV("searchdomain", "example.com"),
	};
	struct nocloud nc;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	nocloud_init(&nc);
	assert_int_equal(
		nocloud_generate(conf, ARRAY_SIZE(conf), 100, &nc, &why), 0);
	assert_string_equal(nc.user.buf, "#cloud-config\n"
					 "hostname: web1\n"
					 "manage_etc_hosts: true\n"
					 "fqdn: web1.example.com\n"
					 "user: deploy\n"
					 "password: $5$abc$hash\n"
					 "ssh_authorized_keys:\n"
					 "  - ssh-ed25519 AAAAC3Nza+key1 a@b\n"
					 "  - ssh-rsa AAAAB3key2 c@d\n"
					 "chpasswd:\n"
					 "  expire: False\n"
					 "users:\n"
					 "  - default\n"
					 "package_upgrade: true\n");
	assert_string_equal(nc.network.buf,
			    "version: 1\n"
			    "config:\n"
			    "    - type: physical\n"
			    "      name: eth0\n"
			    "      mac_address: 'bc:24:11:aa:bb:cc'\n"
			    "      subnets:\n"
			    "      - type: static\n"
			    "        address: '10.0.0.5'\n"
			    "        netmask: '255.255.255.0'\n"
			    "        gateway: '10.0.0.1'\n"
			    "    - type: nameserver\n"
			    "      address:\n"
			    "      - '1.1.1.1'\n"
			    "      - '9.9.9.9'\n"
			    "      search:\n"
			    "      - 'example.com'\n");
	assert_string_equal(
		nc.meta.buf,
		"instance-id: fd22c313e839ee5f8c68a860181cab8ab417100c\n");
	nocloud_release(&nc);
	strbuf_release(&why);
}

/* root, a dotted name, no upgrade, interfaces sorted as Perl sorts keys */
static void test_root_dhcp(void **state)
{
	struct kv conf[] = {
		KV("name", "db.lan.example"),
		KV("ciuser", "root"),
		KV("ciupgrade", "0"),
		KV("net2", "virtio=02:00:00:00:00:02"), /* no ipconfig2 */
		KV("net10", "e1000=02:00:00:00:00:0A,bridge=vmbr0"),
		KV("net1", "model=virtio,macaddr=02:00:00:00:00:01"),
		KV("ipconfig10", "ip6=fd00::5/64,gw6=fd00::1"),
		KV("ipconfig1", "ip=dhcp"),
	};
	struct nocloud nc;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	nocloud_init(&nc);
	assert_int_equal(
		nocloud_generate(conf, ARRAY_SIZE(conf), 101, &nc, &why), 0);
	assert_string_equal(nc.user.buf, "#cloud-config\n"
					 "hostname: db\n"
					 "manage_etc_hosts: true\n"
					 "fqdn: db.lan.example\n"
					 "user: root\n"
					 "disable_root: False\n"
					 "chpasswd:\n"
					 "  expire: False\n");
	assert_string_equal(nc.network.buf,
			    "version: 1\n"
			    "config:\n"
			    "    - type: physical\n"
			    "      name: eth1\n"
			    "      mac_address: '02:00:00:00:00:01'\n"
			    "      subnets:\n"
			    "      - type: dhcp4\n"
			    "    - type: physical\n"
			    "      name: eth10\n"
			    "      mac_address: '02:00:00:00:00:0a'\n"
			    "      subnets:\n"
			    "      - type: static6\n"
			    "        address: 'fd00::5/64'\n"
			    "        gateway: 'fd00::1'\n"
			    "    - type: nameserver\n");
	assert_string_equal(
		nc.meta.buf,
		"instance-id: 9196edea348015d3db97390259c1c74286101107\n");
	nocloud_release(&nc);
	strbuf_release(&why);
}

static void test_no_vmname_not_cidr(void **state)
{
	struct kv conf[] = {
		KV("net0", "virtio=BC:24:11:00:00:01"),
		KV("ipconfig0", "ip=10.0.0.5"),
	};
	struct nocloud nc;
	struct strbuf why = STRBUF_INIT;

	(void)state;
	nocloud_init(&nc);
	assert_int_equal(nocloud_generate(conf, 0, 7, &nc, &why), 0);
	assert_non_null(strstr(nc.user.buf, "hostname: VM7\n"));
	assert_int_equal(nocloud_generate(conf, ARRAY_SIZE(conf), 7, &nc, &why),
			 -1);
	assert_string_equal(why.buf, "not a CIDR: 10.0.0.5");
	nocloud_release(&nc);
	strbuf_release(&why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_user),
		cmocka_unit_test(test_root_dhcp),
		cmocka_unit_test(test_no_vmname_not_cidr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
