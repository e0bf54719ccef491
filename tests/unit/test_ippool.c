/*
 * test_ippool.c - the address pools of ip_pools: decoded and checked at
 * FILE:LINE, and the allocator: the lowest free address, never the
 * network, broadcast, gateway, an excluded or an in-use address; stable for
 * a holder; released.
 */
#include "test.h"
#include "core/config.h"
#include "core/ippool.h"
#include "core/pve_format.h"

#include <string.h>

static int decode(struct config *cfg, struct diag_list *dl, const char *text)
{
	struct ytree t = YTREE_INIT;
	int rc;

	config_init(cfg);
	rc = ytree_parse(&t, dl, "pve-gitops.yaml", text, strlen(text));
	if (rc == 0)
		rc = config_decode(cfg, dl, "pve-gitops.yaml", t.root);
	ytree_release(&t);
	return rc;
}

static uint32_t ip(const char *s)
{
	uint32_t v = 0;

	assert_int_equal(pve_parse_ipv4(&v, s, strlen(s)), 0);
	return v;
}

static void ippool__decoded(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	const struct ip_pool *p;

	(void)state;
	assert_int_equal(decode(&cfg, &dl,
				"ip_pools_owner: infra\n"
				"ip_pools:\n"
				"  lan:\n"
				"    cidr: 10.0.0.0/26\n"
				"    gateway: 10.0.0.1\n"
				"    exclude: [10.0.0.2, 10.0.0.10-10.0.0.12]\n"
				"    nameserver: 10.0.0.53\n"
				"  dmz:\n"
				"    cidr: 192.168.5.0/24\n"
				"    gateway: 192.168.5.254\n"
				"    range: 192.168.5.100-192.168.5.199\n"),
			 0);
	assert_int_equal(cfg.ip_pools.nr, 2);
	assert_string_equal(cfg.ip_pools.owner, "infra");
	p = config_ip_pool(&cfg, "lan");
	assert_non_null(p);
	assert_int_equal(p->net, ip("10.0.0.0"));
	assert_int_equal(p->prefix, 26);
	assert_int_equal(p->range.lo, ip("10.0.0.1"));
	assert_int_equal(p->range.hi, ip("10.0.0.62"));
	assert_string_equal(p->nameserver, "10.0.0.53");
	/* 62 hosts less the gateway and 4 excluded */
	assert_int_equal(ip_pool_size(p), 57);
	p = config_ip_pool(&cfg, "dmz");
	assert_int_equal(ip_pool_size(p), 100);
	assert_null(config_ip_pool(&cfg, "wan"));
	config_release(&cfg);
	diag_list_release(&dl);
}

static void ippool__bad(void **state)
{
	static const struct {
		const char *text, *msg;
		int line;
	} bad[] = {
		{ "ip_pools:\n  lan: {cidr: 10.0.0.0/26, gateway: 10.0.0.1}\n",
		  "needs ip_pools_owner", 1 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.64\n",
		  "gateway is not a host address", 5 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.0\n",
		  "gateway is not a host address", 5 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.1/26\n    gateway: 10.0.0.1\n",
		  "host bits are set", 4 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/33\n    gateway: 10.0.0.1\n",
		  "prefix of 8 to 30", 4 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    range: 10.0.0.10-10.0.0.63\n",
		  "range is not inside", 6 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    range: 10.0.0.20-10.0.0.10\n",
		  "first address is above", 6 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    exclude: [10.0.0.300]\n",
		  "not an IPv4 address", 6 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    gateway: 10.0.0.1\n",
		  "needs cidr: and gateway:", 3 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/30\n    gateway: 10.0.0.1\n"
		  "    exclude: [10.0.0.2]\n",
		  "no address to hand out", 3 },
		{ "ip_pools_owner: a b\n", "a pool or owner name", 1 },
		{ "ip_pools_owner: a\nip_pools:\n  ../x:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n",
		  "a pool or owner name", 3 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    subnet: x\n",
		  "", 6 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    vnet: vnet1\n",
		  "vnet: and zone: go together", 3 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    vnet: vnet1\n    zone: lab\n    vault_path: kv/x\n",
		  "drop vault_path:", 8 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    vnet: vnet-one\n    zone: lab\n",
		  "2 to 8 letters and digits", 6 },
		{ "ip_pools_owner: a\nip_pools:\n  lan:\n"
		  "    cidr: 10.0.0.0/26\n    gateway: 10.0.0.1\n"
		  "    vnet: vnet1\n    zone: 1lab\n",
		  "2 to 8 letters and digits", 7 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct config cfg;
		struct diag_list dl = DIAG_LIST_INIT;

		assert_int_equal(decode(&cfg, &dl, bad[i].text), -1);
		assert_true(dl.errors >= 1);
		if (!strstr(dl.items[0].msg, bad[i].msg))
			fail_msg("case %zu: %s", i, dl.items[0].msg);
		assert_int_equal(dl.items[0].line, bad[i].line);
		config_release(&cfg);
		diag_list_release(&dl);
	}
}

/* vnet: and zone: an SDN pool; its VMs' MACs derived from their keys */
static void ippool__sdn(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	const struct ip_pool *p;
	char a[18], b[18], c[18];

	(void)state;
	assert_int_equal(decode(&cfg, &dl,
				"ip_pools_owner: infra\n"
				"ip_pools:\n"
				"  lab:\n"
				"    cidr: 10.88.0.0/26\n"
				"    gateway: 10.88.0.1\n"
				"    vnet: vnet1\n"
				"    zone: lab\n"),
			 0);
	p = config_ip_pool(&cfg, "lab");
	assert_non_null(p);
	assert_string_equal(p->vnet, "vnet1");
	assert_string_equal(p->zone, "lab");
	assert_null(p->vault_path);
	config_release(&cfg);
	diag_list_release(&dl);

	ip_pool_mac(a, "infra/web01");
	ip_pool_mac(b, "infra/web01");
	ip_pool_mac(c, "other/web01");
	assert_string_equal(a, b); /* stable */
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 17);
	/* locally administered, unicast: Proxmox's mac-addr format */
	assert_int_equal(strncmp(a, "02:", 3), 0);
	assert_int_equal(strspn(a, "0123456789ABCDEF:"), 17);
}

/* 10.0.0.0/29: hosts .1-.6, gateway .1, .3 excluded */
static void small_pool(struct ip_pool *p)
{
	memset(p, 0, sizeof(*p));
	p->net = ip("10.0.0.0");
	p->prefix = 29;
	p->gateway = ip("10.0.0.1");
	p->range.lo = ip("10.0.0.1");
	p->range.hi = ip("10.0.0.6");
	p->exclude = calloc(1, sizeof(*p->exclude));
	p->exclude[0].lo = p->exclude[0].hi = ip("10.0.0.3");
	p->nr_exclude = p->alloc_exclude = 1;
}

static void ippool__pick(void **state)
{
	struct ip_pool p;
	struct ip_allocs a = IP_ALLOCS_INIT;
	uint32_t got = 0, in_use[1];
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	small_pool(&p);
	assert_false(ip_pool_usable(&p, ip("10.0.0.0"))); /* network */
	assert_false(ip_pool_usable(&p, ip("10.0.0.7"))); /* broadcast */
	assert_false(ip_pool_usable(&p, ip("10.0.0.1"))); /* gateway */
	assert_false(ip_pool_usable(&p, ip("10.0.0.3"))); /* excluded */
	assert_false(ip_pool_usable(&p, ip("10.0.1.2")));
	assert_true(ip_pool_usable(&p, ip("10.0.0.2")));
	assert_int_equal(ip_pool_size(&p), 4);

	/* the lowest free: .2 */
	assert_int_equal(ip_pool_pick(&p, &a, "r/a", NULL, 0, &got),
			 IP_PICK_NEW);
	assert_int_equal(got, ip("10.0.0.2"));
	ip_allocs_set(&a, "r/a", got);
	/* held: the same again, whoever else is there */
	assert_int_equal(ip_pool_pick(&p, &a, "r/a", NULL, 0, &got),
			 IP_PICK_HELD);
	assert_int_equal(got, ip("10.0.0.2"));
	/* the next one skips .2 (held), .3 (excluded) and .4 (in use) */
	in_use[0] = ip("10.0.0.4");
	assert_int_equal(ip_pool_pick(&p, &a, "s/a", in_use, 1, &got),
			 IP_PICK_NEW);
	assert_int_equal(got, ip("10.0.0.5"));
	ip_allocs_set(&a, "s/a", got);
	assert_int_equal(ip_pool_pick(&p, &a, "r/b", in_use, 1, &got),
			 IP_PICK_NEW);
	assert_int_equal(got, ip("10.0.0.6"));
	ip_allocs_set(&a, "r/b", got);
	/* exhausted */
	assert_int_equal(ip_pool_pick(&p, &a, "r/c", in_use, 1, &got),
			 IP_PICK_EXHAUSTED);
	/* a release frees the address for the next */
	assert_true(ip_allocs_remove(&a, "r/a"));
	assert_false(ip_allocs_remove(&a, "r/a"));
	assert_null(ip_allocs_find(&a, "r/a"));
	assert_int_equal(ip_pool_pick(&p, &a, "r/c", in_use, 1, &got),
			 IP_PICK_NEW);
	assert_int_equal(got, ip("10.0.0.2"));
	/* a held address the pool no longer hands out (now excluded) is
	 * given up for a new one */
	ip_allocs_set(&a, "r/c", ip("10.0.0.3"));
	assert_int_equal(ip_pool_pick(&p, &a, "r/c", NULL, 0, &got),
			 IP_PICK_NEW);
	assert_int_equal(got, ip("10.0.0.2"));

	ip_pool_ipconfig(&sb, &p, got);
	assert_string_equal(sb.buf, "ip=10.0.0.2/29,gw=10.0.0.1");
	ip_pool_key(&sb, "infra", "web1");
	assert_string_equal(sb.buf, "infra/web1");
	strbuf_release(&sb);
	ip_allocs_release(&a);
	ip_pool_release(&p);
}

static void ippool__definitions(void **state)
{
	static const char good[] = "name: web1\n"
				   "target_node: pve1\n"
				   "clone: ubuntu24-template\n"
				   "ip_pool: lan\n";
	static const char both[] = "name: web1\n"
				   "target_node: pve1\n"
				   "clone: ubuntu24-template\n"
				   "ip_pool: lan\n"
				   "ipconfig0: ip=10.0.0.9/26,gw=10.0.0.1\n";
	static const char badname[] = "name: web1\n"
				      "target_node: pve1\n"
				      "ip_pool: ../lan\n";
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT, cdl = DIAG_LIST_INIT;
	struct vmdef vm;
	size_t i;

	(void)state;
	assert_int_equal(vmdef_parse(&vm, &dl, "vms/web1.yaml", good,
				     strlen(good), NULL),
			 0);
	assert_string_equal(vm.ip_pool, "lan");
	assert_int_equal(vm.ip_pool_line, 4);
	assert_null(vm.ipconfig0);
	for (i = 0; i < dl.nr; i++) /* no "will use DHCP" warning */
		assert_null(strstr(dl.items[i].msg, "DHCP"));
	/* a pool the config does not have: at the definition's line */
	assert_int_equal(
		decode(&cfg, &cdl,
		       "ip_pools_owner: infra\n"
		       "ip_pools:\n"
		       "  dmz: {cidr: 10.1.0.0/24, gateway: 10.1.0.1}\n"),
		0);
	config_check_ip_pools(&cfg, &vm, 1, &cdl);
	assert_int_equal(cdl.errors, 1);
	assert_string_equal(cdl.items[0].file, "vms/web1.yaml");
	assert_int_equal(cdl.items[0].line, 4);
	assert_non_null(strstr(cdl.items[0].msg, "no pool 'lan'"));
	config_release(&cfg);
	diag_list_release(&cdl);
	vmdef_release(&vm);
	diag_list_release(&dl);

	assert_int_equal(vmdef_parse(&vm, &dl, "vms/web1.yaml", both,
				     strlen(both), NULL),
			 -1);
	assert_non_null(strstr(dl.items[0].msg, "both give the address"));
	vmdef_release(&vm);
	diag_list_release(&dl);

	assert_int_equal(vmdef_parse(&vm, &dl, "vms/web1.yaml", badname,
				     strlen(badname), NULL),
			 -1);
	assert_int_equal(dl.items[0].line, 3);
	vmdef_release(&vm);
	diag_list_release(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ippool__decoded),
		cmocka_unit_test(ippool__bad),
		cmocka_unit_test(ippool__sdn),
		cmocka_unit_test(ippool__pick),
		cmocka_unit_test(ippool__definitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
