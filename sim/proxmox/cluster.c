/*
 * cluster.c - the cluster-wide reads: /version, /cluster/resources (what
 * a client lists VMs, containers, nodes and storages by), /cluster/nextid
 * and /cluster/status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "handlers.h"
#include "lxc.h"
#include "network.h"
#include "util/parse.h"
#include "util/xalloc.h"

void h_version(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	rs->data =
		json_pack("{s:s, s:s, s:s, s:s}", "version", "9.1.9", "release",
			  "9.1", "repoid", "5d2a1c4e", "console", "html5");
}

void h_resources(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");
	json_t *a = json_array();
	size_t i, j;

	if (!type || !strcmp(type, "node"))
		for (i = 0; i < s->nr_nodes; i++)
			json_array_append_new(
				a,
				json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, "
					  "s:I, s:f, s:I, s:s}",
					  "id", "", "type", "node", "node",
					  s->nodes[i].name, "status", "online",
					  "maxcpu", s->nodes[i].maxcpu,
					  "maxmem",
					  (json_int_t)s->nodes[i].maxmem, "mem",
					  (json_int_t)0, "cpu", 0.01, "uptime",
					  (json_int_t)86400, "level", ""));
	if (!type || !strcmp(type, "vm"))
		for (i = 0; i < s->nr_vms; i++) {
			json_t *o = vm_summary(s->vms[i]);

			json_object_set_new(o, "type", json_string("qemu"));
			json_object_set_new(o, "node",
					    json_string(s->vms[i]->node));
			if (sim_pool_of(s, s->vms[i]->vmid))
				json_object_set_new(
					o, "pool",
					json_string(
						sim_pool_of(s, s->vms[i]->vmid)
							->id));
			json_object_set_new(
				o, "id",
				json_sprintf("qemu/%d", s->vms[i]->vmid));
			json_array_append_new(a, o);
		}
	/* containers after VMs; Proxmox sorts both by vmid as strings */
	if (!type || !strcmp(type, "vm"))
		for (i = 0; i < s->nr_cts; i++)
			json_array_append_new(a, ct_resource(s, &s->cts[i]));
	if (!type || !strcmp(type, "storage"))
		for (i = 0; i < s->nr_nodes; i++)
			for (j = 0; j < s->nodes[i].nr_st; j++) {
				struct sim_storage *st = &s->nodes[i].st[j];

				json_array_append_new(
					a,
					json_pack("{s:o, s:s, s:s, s:s, s:s, "
						  "s:s, s:s, s:i, s:I, s:I}",
						  "id",
						  json_sprintf("storage/%s/%s",
							       s->nodes[i].name,
							       st->name),
						  "type", "storage", "storage",
						  st->name, "node",
						  s->nodes[i].name, "status",
						  "available", "plugintype",
						  st->type, "content",
						  st->content, "shared",
						  st->shared ? 1 : 0, "maxdisk",
						  (json_int_t)st->total, "disk",
						  (json_int_t)sim_storage_used(
							  s, s->nodes[i].name,
							  st)));
			}
	for (i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i);

		if (!strcmp(json_string_value(json_object_get(o, "type")),
			    "node"))
			json_object_set_new(
				o, "id",
				json_sprintf("node/%s",
					     json_string_value(json_object_get(
						     o, "node"))));
	}
	rs->data = a;
}

void h_nextid(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *want = req_param(rq, "vmid");
	int id;

	if (want) {
		id = vmid_of(rq, "vmid");
		if (sim_vm(s, id) || sim_ct(s, id)) {
			param_fail(rs, "vmid", "VM %d already exists", id);
			return;
		}
		rs->data = json_sprintf("%d", id);
		return;
	}
	for (id = 100; sim_vm(s, id) || sim_ct(s, id); id++)
		;
	rs->data = json_sprintf("%d", id);
}

/*
 * pve-manager PVE/API2/Cluster.pm get_status: a "cluster" entry and one
 * per member (the first node answers, so it is "local"); a lone node
 * without a cluster gets the fake entry with nodeid 0.
 */
void h_cluster_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	char ip[64];
	size_t i;

	(void)rq;
	rs->data = json_array();
	if (s->nr_nodes > 1)
		json_array_append_new(
			rs->data,
			json_pack("{s:s, s:s, s:I, s:I, s:s, s:i}", "type",
				  "cluster", "id", "cluster", "nodes",
				  (json_int_t)s->nr_nodes, "version",
				  (json_int_t)s->nr_nodes, "name",
				  "proxmox-sim", "quorate", 1));
	for (i = 0; i < s->nr_nodes; i++) {
		sim_node_ip(s, s->nodes[i].name, ip, sizeof(ip));
		json_array_append_new(
			rs->data,
			json_pack("{s:s, s:o, s:s, s:I, s:i, s:i, s:s, s:s}",
				  "type", "node", "id",
				  json_sprintf("node/%s", s->nodes[i].name),
				  "name", s->nodes[i].name, "nodeid",
				  (json_int_t)(s->nr_nodes > 1 ? i + 1 : 0),
				  "local", i == 0, "online", 1, "ip", ip,
				  "level", ""));
	}
}
