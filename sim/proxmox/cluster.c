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
#include "migrate.h"
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

/*
 * A VM's entry as PVE::API2Tools::extract_vm_stats makes it from the
 * node's statistics: maxcpu (not cpus), template 0 or 1, the counters.
 */
static json_t *qemu_resource(struct sim *s, const struct sim_vm *vm)
{
	json_t *o = vm_summary(vm);
	struct sim_pool *pool = sim_pool_of(s, vm->vmid);
	const char *ha;

	json_object_set_new(o, "id", json_sprintf("qemu/%d", vm->vmid));
	json_object_set_new(o, "type", json_string("qemu"));
	json_object_set_new(o, "node", json_string(vm->node));
	json_object_set(o, "maxcpu", json_object_get(o, "cpus"));
	json_object_del(o, "cpus");
	if (!json_object_get(o, "template"))
		json_object_set_new(o, "template", json_integer(0));
	json_object_set_new(o, "netout", json_integer(0));
	json_object_set_new(o, "diskread", json_integer(0));
	json_object_set_new(o, "diskwrite", json_integer(0));
	if (pool)
		json_object_set_new(o, "pool", json_string(pool->id));
	if ((ha = migrate_ha_state(s, vm->vmid)))
		json_object_set_new(o, "hastate", json_string(ha));
	return o;
}

/* Cluster.pm's resources: "sort keys %$idlist", vmids as strings */
static int by_vmid_string(const void *a, const void *b)
{
	char x[24], y[24];

	snprintf(x, sizeof(x), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(
			 json_object_get(*(json_t *const *)a, "vmid")));
	snprintf(y, sizeof(y), "%" JSON_INTEGER_FORMAT,
		 json_integer_value(
			 json_object_get(*(json_t *const *)b, "vmid")));
	return strcmp(x, y);
}

/* VMs and containers, in Proxmox's order. */
static void add_guests(struct sim *s, json_t *a)
{
	size_t n = s->nr_vms + s->nr_cts, i, k = 0;
	json_t **v = xcalloc(n ? n : 1, sizeof(*v));

	for (i = 0; i < s->nr_vms; i++)
		v[k++] = qemu_resource(s, s->vms[i]);
	for (i = 0; i < s->nr_cts; i++)
		v[k++] = ct_resource(s, &s->cts[i]);
	qsort(v, n, sizeof(*v), by_vmid_string);
	for (i = 0; i < n; i++)
		json_array_append_new(a, v[i]);
	free(v);
}

void h_resources(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");
	json_t *a = json_array();
	size_t i, j;

	/* Cluster.pm's order: guests, nodes, storages */
	if (!type || !strcmp(type, "vm"))
		add_guests(s, a);
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
