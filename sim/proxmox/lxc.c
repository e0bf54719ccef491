/*
 * lxc.c - containers, listed only (issue 15): GET /nodes/{node}/lxc as
 * pve-container's PVE::API2::LXC vmlist answers it from PVE::LXC::vmstatus,
 * and a container's entry in /cluster/resources. The topology declares
 * them (state.c); they have no lifecycle here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lxc.h"
#include "handlers.h"
#include "util/parse.h"

static uint64_t conf_mib(const struct sim_ct *ct, const char *key, uint64_t def)
{
	const char *v = kv_get(&ct->conf, key);
	uint64_t n;

	return v && parse_u64z(&n, v, 0, UINT32_MAX) == 0 ? n : def;
}

/* vmstatus: the rootfs's size=, or 4 GiB */
static uint64_t ct_maxdisk(const struct sim_ct *ct)
{
	const char *r = kv_get(&ct->conf, "rootfs");
	const char *p = r ? strstr(r, "size=") : NULL;
	uint64_t b = 4ULL << 30;
	char buf[32];
	size_t n;
	bool rel;

	if (!p || (n = strcspn(p + 5, ",")) >= sizeof(buf))
		return b;
	memcpy(buf, p + 5, n);
	buf[n] = '\0';
	if (sim_parse_size(buf, &b, &rel, 'G') < 0)
		b = 4ULL << 30;
	return b;
}

/* vmstatus: cores, else cpulimit, else the node's CPUs */
static int ct_cpus(struct sim *s, const struct sim_ct *ct)
{
	uint64_t n = conf_mib(ct, "cores", 0);
	struct sim_node *node = sim_node(s, ct->node);

	if (!n)
		n = conf_mib(ct, "cpulimit", 0);
	return n ? (int)n : node ? node->maxcpu : 1;
}

static int64_t ct_uptime(const struct sim_ct *ct)
{
	return ct->running ? (sim_now_ms() - ct->started_ms) / 1000 : 0;
}

/* PVE::LXC::vmstatus's entry of one container */
static json_t *ct_status(struct sim *s, const struct sim_ct *ct)
{
	uint64_t maxmem = conf_mib(ct, "memory", 512) << 20;
	const char *tags = kv_get(&ct->conf, "tags");
	const char *lock = kv_get(&ct->conf, "lock");
	const char *tmpl = kv_get(&ct->conf, "template");
	json_t *o;

	o = json_pack("{s:I, s:s, s:s, s:o, s:i, s:I, s:I, s:I, s:I, s:I, "
		      "s:I, s:I, s:f, s:I, s:I, s:I, s:I}",
		      "vmid", (json_int_t)ct->vmid, "type", "lxc", "status",
		      ct->running ? "running" : "stopped", "name",
		      json_string(kv_get(&ct->conf, "hostname")), "cpus",
		      ct_cpus(s, ct), "maxmem", (json_int_t)maxmem, "maxswap",
		      (json_int_t)(conf_mib(ct, "swap", 0) << 20), "maxdisk",
		      (json_int_t)ct_maxdisk(ct), "disk",
		      (json_int_t)(ct->running ? ct_maxdisk(ct) / 8 : 0), "mem",
		      (json_int_t)(ct->running ? maxmem / 8 : 0), "swap",
		      (json_int_t)0, "uptime", (json_int_t)ct_uptime(ct), "cpu",
		      0.0, "netin", (json_int_t)0, "netout", (json_int_t)0,
		      "diskread", (json_int_t)0, "diskwrite", (json_int_t)0);
	if (ct->running)
		json_object_set_new(o, "pid", json_integer(20000 + ct->vmid));
	if (tmpl && !strcmp(tmpl, "1"))
		json_object_set_new(o, "template", json_integer(1));
	if (tags)
		json_object_set_new(o, "tags", json_string(tags));
	if (lock)
		json_object_set_new(o, "lock", json_string(lock));
	return o;
}

void h_lxc_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	size_t i;

	if (!n)
		return;
	rs->data = json_array();
	for (i = 0; i < s->nr_cts; i++)
		if (!strcmp(s->cts[i].node, n->name))
			json_array_append_new(rs->data,
					      ct_status(s, &s->cts[i]));
}

json_t *ct_resource(struct sim *s, const struct sim_ct *ct)
{
	json_t *st = ct_status(s, ct);
	json_t *o = json_pack(
		"{s:o, s:I, s:s, s:s, s:O, s:O, s:I, s:O, s:O, s:O, s:O, s:O, "
		"s:O, s:O, s:O, s:O, s:O, s:O}",
		"id", json_sprintf("lxc/%d", ct->vmid), "vmid",
		(json_int_t)ct->vmid, "node", ct->node, "type", "lxc", "status",
		json_object_get(st, "status"), "uptime",
		json_object_get(st, "uptime"), "template",
		(json_int_t)(json_object_get(st, "template") ? 1 : 0), "name",
		json_object_get(st, "name"), "maxcpu",
		json_object_get(st, "cpus"), "cpu", json_object_get(st, "cpu"),
		"maxmem", json_object_get(st, "maxmem"), "mem",
		json_object_get(st, "mem"), "maxdisk",
		json_object_get(st, "maxdisk"), "disk",
		json_object_get(st, "disk"), "netin",
		json_object_get(st, "netin"), "netout",
		json_object_get(st, "netout"), "diskread",
		json_object_get(st, "diskread"), "diskwrite",
		json_object_get(st, "diskwrite"));

	if (json_object_get(st, "tags"))
		json_object_set(o, "tags", json_object_get(st, "tags"));
	if (json_object_get(st, "lock"))
		json_object_set(o, "lock", json_object_get(st, "lock"));
	json_decref(st);
	return o;
}
