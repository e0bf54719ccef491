/*
 * sdn.c - the SDN IPAM endpoints (pve-network's API2/Network/SDN/Ips.pm
 * and Ipams.pm status) over a PVE IPAM kept in memory the way its
 * PVEPlugin.pm keeps sdn/pve-ipam-state.json: zones, their subnets by
 * cidr, and per subnet the IPs with {mac, vmid, hostname} or {gateway}.
 *
 * The topology declares what exists (sdn.h); POST adds an IP (refused
 * with PVEPlugin's "IP 'A' already exist" when it is there), PUT moves
 * the IP of a MAC to another and records the vmid, DELETE removes one,
 * GET /cluster/sdn/ipams/pve/status lists the entries of zones with ipam
 * pve and dhcp. Authentication is the server's, as for every endpoint.
 */
#include "sdn.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "util/parse.h"
#include "util/xalloc.h"

struct sdn_zone {
	char *zone, *ipam; /* ipam: NULL or "pve" */
	bool dhcp;
};

struct sdn_subnet {
	char *vnet, *cidr, *gateway;
	uint32_t net;
	unsigned prefix;
};

struct sdn_vnet {
	char *vnet, *zone;
};

struct sdn_ip {
	char *zone, *cidr, *ip, *mac, *hostname;
	int vmid; /* 0: none */
	bool gateway;
};

struct sim_sdn {
	struct sdn_zone *zones;
	size_t nr_zones, alloc_zones;
	struct sdn_vnet *vnets;
	size_t nr_vnets, alloc_vnets;
	struct sdn_subnet *subnets;
	size_t nr_subnets, alloc_subnets;
	struct sdn_ip *ips;
	size_t nr_ips, alloc_ips;
};

static struct sim_sdn *sdn_of(struct sim *s)
{
	if (!s->sdn)
		s->sdn = xcalloc(1, sizeof(*s->sdn));
	return s->sdn;
}

void sim_sdn_release(struct sim *s)
{
	struct sim_sdn *d = s->sdn;
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nr_zones; i++) {
		free(d->zones[i].zone);
		free(d->zones[i].ipam);
	}
	for (i = 0; i < d->nr_vnets; i++) {
		free(d->vnets[i].vnet);
		free(d->vnets[i].zone);
	}
	for (i = 0; i < d->nr_subnets; i++) {
		free(d->subnets[i].vnet);
		free(d->subnets[i].cidr);
		free(d->subnets[i].gateway);
	}
	for (i = 0; i < d->nr_ips; i++) {
		free(d->ips[i].zone);
		free(d->ips[i].cidr);
		free(d->ips[i].ip);
		free(d->ips[i].mac);
		free(d->ips[i].hostname);
	}
	free(d->zones);
	free(d->vnets);
	free(d->subnets);
	free(d->ips);
	free(d);
	s->sdn = NULL;
}

static int parse_v4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static const struct sdn_vnet *find_vnet(const struct sim_sdn *d, const char *id)
{
	size_t i;

	for (i = 0; d && id && i < d->nr_vnets; i++)
		if (!strcmp(d->vnets[i].vnet, id))
			return &d->vnets[i];
	return NULL;
}

static const struct sdn_zone *find_zone(const struct sim_sdn *d, const char *id)
{
	size_t i;

	for (i = 0; d && id && i < d->nr_zones; i++)
		if (!strcmp(d->zones[i].zone, id))
			return &d->zones[i];
	return NULL;
}

/* Vnets.pm get_subnet_from_vnet_ip: the vnet's subnet holding ip. */
static const struct sdn_subnet *subnet_of(const struct sim_sdn *d,
					  const char *vnet, const char *ip)
{
	uint32_t a;
	size_t i;

	if (parse_v4(ip, &a) < 0)
		return NULL;
	for (i = 0; d && i < d->nr_subnets; i++) {
		const struct sdn_subnet *sn = &d->subnets[i];
		uint32_t mask =
			sn->prefix ? 0xffffffffu << (32 - sn->prefix) : 0;

		if (!strcmp(sn->vnet, vnet) && (a & mask) == sn->net)
			return sn;
	}
	return NULL;
}

static struct sdn_ip *find_ip(struct sim_sdn *d, const char *zone,
			      const char *cidr, const char *ip)
{
	size_t i;

	for (i = 0; i < d->nr_ips; i++)
		if (!strcmp(d->ips[i].zone, zone) &&
		    !strcmp(d->ips[i].cidr, cidr) && !strcmp(d->ips[i].ip, ip))
			return &d->ips[i];
	return NULL;
}

static void add_entry(struct sim_sdn *d, const char *zone, const char *cidr,
		      const char *ip, const char *mac, int vmid, bool gateway)
{
	struct sdn_ip *x;

	ALLOC_GROW(d->ips, st_add(d->nr_ips, 1), d->alloc_ips);
	x = &d->ips[d->nr_ips++];
	memset(x, 0, sizeof(*x));
	x->zone = xstrdup(zone);
	x->cidr = xstrdup(cidr);
	x->ip = xstrdup(ip);
	x->mac = mac && *mac ? xstrdup(mac) : NULL;
	x->vmid = vmid;
	x->gateway = gateway;
}

static void drop_entry(struct sim_sdn *d, struct sdn_ip *x)
{
	free(x->zone);
	free(x->cidr);
	free(x->ip);
	free(x->mac);
	free(x->hostname);
	*x = d->ips[--d->nr_ips];
}

/* The zone and subnet of vnet's ip, or NULL after the error Proxmox
 * gives (find_ip_subnet's die, as the API passes it on). */
static const struct sdn_subnet *
need_subnet(struct sim *s, const struct sim_req *rq, const char *ip,
	    const struct sdn_vnet **vn, struct sim_resp *rs)
{
	const char *vnet = req_param(rq, "vnet");
	const struct sdn_subnet *sn;

	*vn = find_vnet(s->sdn, vnet);
	sn = *vn ? subnet_of(s->sdn, vnet, ip) : NULL;
	if (!sn)
		resp_fail(rs, 500, "can't find any subnet for ip %s",
			  ip ? ip : "");
	return sn;
}

/* PVEPlugin add_ip: the IPAM of the zone must know the subnet. */
static int plugin_add(struct sim *s, const struct sdn_vnet *vn,
		      const struct sdn_subnet *sn, const char *ip,
		      const char *mac, int vmid, struct sim_resp *rs)
{
	const struct sdn_zone *z = find_zone(s->sdn, vn->zone);

	if (!z || !z->ipam) /* no IPAM: Subnets::add_ip does nothing */
		return 0;
	if (find_ip(s->sdn, vn->zone, sn->cidr, ip)) {
		resp_fail(rs, 500, "IP '%s' already exist", ip);
		return -1;
	}
	add_entry(s->sdn, vn->zone, sn->cidr, ip, mac, vmid, false);
	return 0;
}

static int plugin_del(struct sim *s, const struct sdn_vnet *vn,
		      const struct sdn_subnet *sn, const char *ip,
		      struct sim_resp *rs)
{
	const struct sdn_zone *z = find_zone(s->sdn, vn->zone);
	struct sdn_ip *x;

	if (!z || !z->ipam)
		return 0;
	x = find_ip(s->sdn, vn->zone, sn->cidr, ip);
	if (!x) {
		resp_fail(rs, 500, "IP '%s' does not exist in IPAM DB", ip);
		return -1;
	}
	drop_entry(s->sdn, x);
	return 0;
}

void h_sdn_ip_create(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ip = req_param(rq, "ip"), *mac = req_param(rq, "mac");
	const struct sdn_vnet *vn;
	const struct sdn_subnet *sn = need_subnet(s, rq, ip, &vn, rs);

	if (sn && plugin_add(s, vn, sn, ip, mac, 0, rs) == 0)
		rs->data = json_null();
}

void h_sdn_ip_delete(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ip = req_param(rq, "ip");
	const struct sdn_vnet *vn;
	const struct sdn_subnet *sn = need_subnet(s, rq, ip, &vn, rs);

	if (sn && plugin_del(s, vn, sn, ip, rs) == 0)
		rs->data = json_null();
}

/* Vnets::get_ips_from_mac: the IPv4 entry of mac in the vnet's zone
 * (none unless the zone has an IPAM and DHCP). */
static struct sdn_ip *ip_of_mac(struct sim *s, const struct sdn_vnet *vn,
				const char *mac)
{
	const struct sdn_zone *z = find_zone(s->sdn, vn->zone);
	size_t i;

	if (!z || !z->ipam || !z->dhcp || !mac)
		return NULL;
	for (i = 0; i < s->sdn->nr_ips; i++)
		if (!strcmp(s->sdn->ips[i].zone, vn->zone) &&
		    s->sdn->ips[i].mac && !strcasecmp(s->sdn->ips[i].mac, mac))
			return &s->sdn->ips[i];
	return NULL;
}

/* Ips.pm ipupdate: the MAC's old IP deleted, the new one added with the
 * vmid; when that fails the old one is added back (with the vmid). */
void h_sdn_ip_update(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *ip = req_param(rq, "ip"), *mac = req_param(rq, "mac");
	int vmid = vmid_of(rq, "vmid");
	const struct sdn_vnet *vn;
	const struct sdn_subnet *sn = need_subnet(s, rq, ip, &vn, rs), *osn;
	struct sdn_ip *old;
	char *old_ip;

	if (!sn)
		return;
	old = ip_of_mac(s, vn, mac);
	if (!old) { /* del_ip of an undefined address */
		resp_fail(rs, 500, "can't find any subnet for ip ");
		return;
	}
	old_ip = xstrdup(old->ip);
	osn = subnet_of(s->sdn, vn->vnet, old_ip);
	if (!osn || plugin_del(s, vn, osn, old_ip, rs) < 0) {
		free(old_ip);
		return;
	}
	if (plugin_add(s, vn, sn, ip, mac, vmid > 0 ? vmid : 0, rs) < 0) {
		struct sim_resp ignored = { 0 };

		strbuf_init(&ignored.message, 0);
		plugin_add(s, vn, osn, old_ip, mac, vmid > 0 ? vmid : 0,
			   &ignored);
		strbuf_release(&ignored.message);
		free(old_ip);
		return;
	}
	free(old_ip);
	rs->data = json_null();
}

/* Ipams.pm ipamindex: every entry of the zones with ipam pve and dhcp,
 * with zone, subnet, ip and vnet added. */
void h_sdn_ipam_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *id = req_param(rq, "ipam");
	struct sim_sdn *d = s->sdn;
	size_t i, j;

	if (!id || strcmp(id, "pve")) {
		resp_fail(rs, 500, "Currently only PVE IPAM is supported!");
		return;
	}
	rs->data = json_array();
	for (i = 0; d && i < d->nr_ips; i++) {
		const struct sdn_ip *x = &d->ips[i];
		const struct sdn_zone *z = find_zone(d, x->zone);
		const char *vnet = NULL;
		json_t *o;

		if (!z || !z->ipam || strcmp(z->ipam, "pve") || !z->dhcp)
			continue;
		for (j = 0; j < d->nr_subnets && !vnet; j++) {
			const struct sdn_vnet *vn =
				find_vnet(d, d->subnets[j].vnet);

			if (vn && !strcmp(vn->zone, x->zone) &&
			    !strcmp(d->subnets[j].cidr, x->cidr))
				vnet = vn->vnet;
		}
		if (!vnet)
			continue;
		o = json_pack("{s:s, s:s, s:s, s:s}", "zone", x->zone, "subnet",
			      x->cidr, "ip", x->ip, "vnet", vnet);
		if (x->gateway)
			json_object_set_new(o, "gateway", json_integer(1));
		if (x->mac)
			json_object_set_new(o, "mac", json_string(x->mac));
		if (x->hostname)
			json_object_set_new(o, "hostname",
					    json_string(x->hostname));
		if (x->vmid)
			json_object_set_new(o, "vmid", json_integer(x->vmid));
		json_array_append_new(rs->data, o);
	}
}

/* ---- topology --------------------------------------------------------- */

static const char *scalar_of(struct fy_node *map, const char *key)
{
	struct fy_node *n = fy_node_mapping_lookup_by_string(map, key, FY_NT);

	return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

static int fail(struct err *e, const char *file, const char *what,
		const char *name)
{
	return err_set(e, EXIT_INVALID, "%s: sdn: %s%s%s", file, what,
		       name ? ": " : "", name ? name : "");
}

static int load_subnet(struct sim_sdn *d, const struct sdn_vnet *vn,
		       struct fy_node *n, const char *file, struct err *e)
{
	const char *cidr = scalar_of(n, "cidr"), *gw = scalar_of(n, "gateway");
	const struct sdn_zone *z = find_zone(d, vn->zone);
	struct sdn_subnet *sn;
	const char *slash = cidr ? strchr(cidr, '/') : NULL;
	char addr[32];
	uint64_t prefix;
	uint32_t g;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr) ||
	    parse_u64z(&prefix, slash + 1, 1, 32) < 0)
		return fail(e, file, "a subnet needs cidr: NETWORK/PREFIX",
			    vn->vnet);
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	ALLOC_GROW(d->subnets, st_add(d->nr_subnets, 1), d->alloc_subnets);
	sn = &d->subnets[d->nr_subnets++];
	memset(sn, 0, sizeof(*sn));
	sn->vnet = xstrdup(vn->vnet);
	sn->cidr = xstrdup(cidr);
	sn->prefix = (unsigned)prefix;
	if (parse_v4(addr, &sn->net) < 0)
		return fail(e, file, "bad subnet cidr", cidr);
	if (gw && parse_v4(gw, &g) < 0)
		return fail(e, file, "bad subnet gateway", gw);
	sn->gateway = gw ? xstrdup(gw) : NULL;
	/* Subnets.pm add_subnet: the gateway enters the IPAM with it */
	if (gw && z && z->ipam)
		add_entry(d, vn->zone, cidr, gw, NULL, 0, true);
	return 0;
}

/*
 * sdn: {zones: [{zone, ipam: pve, dhcp: dnsmasq}], vnets: [{vnet, zone,
 * subnets: [{cidr, gateway}]}], ips: [{vnet, ip, mac, vmid}]}.
 */
int sim_sdn_load(struct sim *s, struct fy_node *root, const char *file,
		 struct err *e)
{
	struct fy_node *sdn =
		fy_node_mapping_lookup_by_string(root, "sdn", FY_NT);
	struct fy_node *seq, *n, *subs, *sub;
	struct sim_sdn *d;
	void *it = NULL, *it2;

	if (!sdn)
		return 0;
	if (!fy_node_is_mapping(sdn))
		return fail(e, file, "expected a mapping (zones, vnets, ips)",
			    NULL);
	d = sdn_of(s);
	seq = fy_node_mapping_lookup_by_string(sdn, "zones", FY_NT);
	while (seq && (n = fy_node_sequence_iterate(seq, &it))) {
		const char *id = scalar_of(n, "zone"),
			   *ipam = scalar_of(n, "ipam");
		struct sdn_zone *z;

		if (!id || find_zone(d, id))
			return fail(e, file, "a zone needs a unique zone:", id);
		ALLOC_GROW(d->zones, st_add(d->nr_zones, 1), d->alloc_zones);
		z = &d->zones[d->nr_zones++];
		z->zone = xstrdup(id);
		z->ipam = ipam ? xstrdup(ipam) : NULL;
		z->dhcp = scalar_of(n, "dhcp") != NULL;
	}
	seq = fy_node_mapping_lookup_by_string(sdn, "vnets", FY_NT);
	it = NULL;
	while (seq && (n = fy_node_sequence_iterate(seq, &it))) {
		const char *id = scalar_of(n, "vnet"),
			   *zone = scalar_of(n, "zone");
		struct sdn_vnet *vn;

		if (!id || find_vnet(d, id) || !find_zone(d, zone))
			return fail(e, file,
				    "a vnet needs a unique vnet: and a zone: "
				    "of zones:",
				    id);
		ALLOC_GROW(d->vnets, st_add(d->nr_vnets, 1), d->alloc_vnets);
		vn = &d->vnets[d->nr_vnets++];
		vn->vnet = xstrdup(id);
		vn->zone = xstrdup(zone);
		subs = fy_node_mapping_lookup_by_string(n, "subnets", FY_NT);
		it2 = NULL;
		while (subs && (sub = fy_node_sequence_iterate(subs, &it2)))
			if (load_subnet(d, vn, sub, file, e) < 0)
				return -1;
	}
	seq = fy_node_mapping_lookup_by_string(sdn, "ips", FY_NT);
	it = NULL;
	while (seq && (n = fy_node_sequence_iterate(seq, &it))) {
		const char *ip = scalar_of(n, "ip"),
			   *vmid = scalar_of(n, "vmid");
		const struct sdn_vnet *vn = find_vnet(d, scalar_of(n, "vnet"));
		const struct sdn_subnet *sn =
			vn ? subnet_of(d, vn->vnet, ip) : NULL;
		uint64_t id = 0;

		if (!sn || find_ip(d, vn->zone, sn->cidr, ip) ||
		    (vmid && parse_u64z(&id, vmid, 100, 999999999) < 0))
			return fail(e, file,
				    "an ip needs a vnet: and a new ip: of "
				    "one of its subnets",
				    ip);
		add_entry(d, vn->zone, sn->cidr, ip, scalar_of(n, "mac"),
			  (int)id, false);
	}
	return 0;
}
