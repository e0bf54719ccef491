/*
 * nodes.c - the node endpoints that are not about one VM's life: the node
 * list and status, storages, the certificate, the VM list of a node and a
 * VM's index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoint.h"
#include "handlers.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* An offline node shows what pve-manager's Nodes.pm index knows without
 * its status daemon: name, status, id, type, level, fingerprint. */
/* The memory a node uses (bytes): an eighth of it for the host, and the
 * memory of each VM running there (a real node's "mem" grows with its
 * guests), at most all of it. */
static uint64_t node_mem(const struct sim *s, const struct sim_node *n)
{
	uint64_t used = n->maxmem / 8;
	size_t i;

	for (i = 0; i < s->nr_vms; i++)
		if (s->vms[i]->running && !strcmp(s->vms[i]->node, n->name))
			used += vm_maxmem(s->vms[i]);
	return used < n->maxmem ? used : n->maxmem;
}

void h_nodes(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	size_t i;

	(void)rq;
	rs->data = json_array();
	for (i = 0; i < s->nr_nodes; i++) {
		const struct sim_node *n = &s->nodes[i];

		if (n->offline) {
			json_array_append_new(
				rs->data,
				json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}",
					  "node", n->name, "status", "offline",
					  "id",
					  json_sprintf("node/%s", n->name),
					  "type", "node", "level", "",
					  "ssl_fingerprint", s->fingerprint));
			continue;
		}
		json_array_append_new(
			rs->data,
			json_pack("{s:s, s:s, s:o, s:s, s:i, s:I, s:I, s:f, "
				  "s:I, s:s, s:s}",
				  "node", n->name, "status", "online", "id",
				  json_sprintf("node/%s", n->name), "type",
				  "node", "maxcpu", n->maxcpu, "maxmem",
				  (json_int_t)n->maxmem, "mem",
				  (json_int_t)node_mem(s, n), "cpu", 0.01,
				  "uptime", (json_int_t)86400, "level", "",
				  "ssl_fingerprint", s->fingerprint));
	}
}

void h_node_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	uint64_t used;

	if (!n)
		return;
	used = node_mem(s, n);
	rs->data = json_pack(
		"{s:f, s:I, s:{s:I, s:I, s:I}, s:{s:i, s:i, s:i, s:s}, s:s, "
		"s:s, s:[s,s,s]}",
		"cpu", 0.01, "uptime", (json_int_t)86400, "memory", "total",
		(json_int_t)n->maxmem, "used", (json_int_t)used, "free",
		(json_int_t)(n->maxmem - used), "cpuinfo", "cpus", n->maxcpu,
		"cores", n->maxcpu, "sockets", 1, "model",
		"proxmox-sim virtual CPU", "pveversion",
		"pve-manager/9.1.9/5d2a1c4e", "kversion",
		"Linux 6.14.8-2-pve (proxmox-sim)", "loadavg", "0.01", "0.02",
		"0.00");
}

void h_node_command(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	resp_fail(rs, 501, "proxmox-sim does not reboot or shut down nodes");
}

/*
 * As pve-storage's storage_info() fills it: a disabled storage has enabled
 * and active 0, one that cannot be activated active 0, and neither shows
 * its space (0) nor a used_fraction.
 */
static json_t *storage_json(struct sim *s, const char *node,
			    const struct sim_storage *st)
{
	bool up = !st->disabled && !st->inactive;
	uint64_t used = up ? sim_storage_used(s, node, st) : 0;
	uint64_t total = up ? st->total : 0;
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I}", "storage",
		st->name, "type", st->type, "content", st->content, "active",
		up ? 1 : 0, "enabled", st->disabled ? 0 : 1, "shared",
		st->shared ? 1 : 0, "total", (json_int_t)total, "used",
		(json_int_t)used, "avail", (json_int_t)(total - used));

	if (total)
		json_object_set_new(o, "used_fraction",
				    json_real((double)used / (double)total));
	return o;
}

static bool has_content(const char *list, const char *c)
{
	size_t n = strlen(c);
	const char *p = list;

	while ((p = strstr(p, c))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

void h_storage(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	const char *content = req_param(rq, "content");
	const char *only = req_param(rq, "storage");
	const char *enabled = req_param(rq, "enabled");
	size_t i;

	if (!n)
		return;
	rs->data = json_array();
	for (i = 0; i < n->nr_st; i++) {
		if (content && !has_content(n->st[i].content, content))
			continue;
		if (only && strcmp(only, n->st[i].name))
			continue;
		if (enabled && !strcmp(enabled, "1") && n->st[i].disabled)
			continue;
		json_array_append_new(rs->data,
				      storage_json(s, n->name, &n->st[i]));
	}
}

void h_storage_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	struct sim_storage *st;

	if (!n)
		return;
	st = sim_storage(n, req_param(rq, "storage"));
	if (!st) {
		resp_fail(rs, 500, "storage '%s' does not exist",
			  req_param(rq, "storage"));
		return;
	}
	rs->data = storage_json(s, n->name, st);
}

void h_cert_info(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	if (!need_node(s, rq, rs))
		return;
	rs->data = json_array();
	if (s->fingerprint[0])
		json_array_append_new(rs->data,
				      json_pack("{s:s, s:s}", "filename",
						"pve-ssl.pem", "fingerprint",
						s->fingerprint));
}

void h_qemu_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	size_t i;

	if (!n)
		return;
	rs->data = json_array();
	for (i = 0; i < s->nr_vms; i++)
		if (!strcmp(s->vms[i]->node, n->name))
			json_array_append_new(rs->data, vm_summary(s->vms[i]));
}

void h_vm_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	static const char *const dirs[] = {
		"config",   "pending",	      "status",	   "unlink",
		"vncproxy", "migrate",	      "resize",	   "move",
		"rrd",	    "rrddata",	      "monitor",   "agent",
		"snapshot", "spiceproxy",     "sendkey",   "firewall",
		"mtunnel",  "remote_migrate", "cloudinit", NULL
	};
	size_t i;

	if (!need_vm(s, rq, rs))
		return;
	rs->data = json_array();
	for (i = 0; dirs[i]; i++)
		json_array_append_new(rs->data,
				      json_pack("{s:s}", "subdir", dirs[i]));
}
