/*
 * network.c - GET /nodes/{node}/network as pve-manager's
 * PVE/API2/Network.pm answers it from /etc/network/interfaces: the
 * node's physical port (eno1) and the bridges the topology names (vmbr0
 * by default), vmbr0 carrying the node's address (the topology's, else
 * 192.0.2.11/24 for the first node, .12 for the second...). Proxmox lists them
 * in Perl hash order; the simulator sorts them by name, to be reproducible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "network.h"

/* The default address of the i-th node: 192.0.2.11/24, ... (TEST-NET-1) */
static void default_cidr(struct sim *s, const char *node, char *out,
			 size_t size)
{
	size_t i;

	for (i = 0; i < s->nr_nodes; i++)
		if (!strcmp(s->nodes[i].name, node))
			break;
	snprintf(out, size, "192.0.2.%zu/24", 11 + i % 240);
}

/* The node's interfaces (64 at most); a node the topology did not describe (the
 * built-in cluster) gets eno1 and vmbr0. */
static void node_ifaces(struct sim *s, const char *node, struct sim_netif **out,
			size_t *nr)
{
	size_t i;

	*nr = 0;
	for (i = 0; i < s->nr_netifs; i++)
		if (!strcmp(s->netifs[i].node, node) && *nr < 64)
			out[(*nr)++] = &s->netifs[i];
}

void sim_node_ip(struct sim *s, const char *node, char *out, size_t size)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < s->nr_netifs; i++)
		if (!strcmp(s->netifs[i].node, node) &&
		    !strcmp(s->netifs[i].iface, "vmbr0") && s->netifs[i].cidr)
			snprintf(out, size, "%s", s->netifs[i].cidr);
	if (!out[0])
		default_cidr(s, node, out, size);
	out[strcspn(out, "/")] = '\0';
}

/* One interface as INotify's read_etc_network_interfaces parses it. */
static json_t *iface_json(const char *iface, const char *type, const char *cidr,
			  const char *ports, int prio)
{
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:s, s:[s], s:i, s:i}", "iface", iface, "type",
		type, "method", cidr ? "static" : "manual", "method6", "manual",
		"families", "inet", "active", 1, "priority", prio);
	char addr[64];
	const char *slash;

	if (!strcmp(type, "eth"))
		json_object_set_new(o, "exists", json_integer(1));
	else {
		json_object_set_new(o, "autostart", json_integer(1));
		json_object_set_new(o, "bridge_ports",
				    json_string(ports ? ports : ""));
		json_object_set_new(o, "bridge_stp", json_string("off"));
		json_object_set_new(o, "bridge_fd", json_string("0"));
	}
	if (cidr && (slash = strchr(cidr, '/'))) {
		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - cidr), cidr);
		json_object_set_new(o, "address", json_string(addr));
		json_object_set_new(o, "netmask", json_string(slash + 1));
		json_object_set_new(o, "cidr", json_string(cidr));
	}
	return o;
}

static bool type_matches(const char *filter, const char *type)
{
	if (!filter || !strcmp(filter, "include_sdn"))
		return true;
	if (!strcmp(filter, "any_bridge") ||
	    !strcmp(filter, "any_local_bridge"))
		return !strcmp(type, "bridge");
	return !strcmp(filter, type);
}

static int by_iface(const void *a, const void *b)
{
	return strcmp(json_string_value(
			      json_object_get(*(json_t *const *)a, "iface")),
		      json_string_value(
			      json_object_get(*(json_t *const *)b, "iface")));
}

void h_node_network(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	const char *filter = req_param(rq, "type");
	struct sim_netif *ifs[64];
	json_t *v[66];
	char cidr[64];
	size_t nr, i, k = 0;

	if (!n)
		return;
	node_ifaces(s, n->name, ifs, &nr);
	if (!nr) {
		default_cidr(s, n->name, cidr, sizeof(cidr));
		if (type_matches(filter, "eth"))
			v[k++] = iface_json("eno1", "eth", NULL, NULL, 3);
		if (type_matches(filter, "bridge"))
			v[k++] = iface_json("vmbr0", "bridge", cidr, "eno1", 4);
	}
	for (i = 0; i < nr; i++) {
		const char *c = ifs[i]->cidr;

		if (!c && !strcmp(ifs[i]->iface, "vmbr0")) {
			default_cidr(s, n->name, cidr, sizeof(cidr));
			c = cidr;
		}
		if (type_matches(filter, ifs[i]->type))
			v[k++] = iface_json(ifs[i]->iface, ifs[i]->type, c,
					    ifs[i]->ports, (int)(3 + i));
	}
	qsort(v, k, sizeof(v[0]), by_iface);
	rs->data = json_array();
	for (i = 0; i < k; i++)
		json_array_append_new(rs->data, v[i]);
}
