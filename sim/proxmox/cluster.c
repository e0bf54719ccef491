/*
 * cluster.c - the cluster-wide reads: /version, /cluster/resources (what
 * a client lists VMs, nodes and storages by) and /cluster/nextid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "handlers.h"
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
		if (sim_vm(s, id)) {
			param_fail(rs, "vmid", "VM %d already exists", id);
			return;
		}
		rs->data = json_sprintf("%d", id);
		return;
	}
	for (id = 100; sim_vm(s, id); id++)
		;
	rs->data = json_sprintf("%d", id);
}
