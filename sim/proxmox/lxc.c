/*
 * lxc.c - containers, read only (issue 15): GET /nodes/{node}/lxc as
 * pve-container's PVE::API2::LXC vmlist answers it from PVE::LXC::vmstatus,
 * a container's entry in /cluster/resources, and what the inventory plugin
 * reads of one container: its index, config (API2/LXC/Config.pm), status
 * (API2/LXC/Status.pm) and snapshot list (API2/LXC/Snapshot.pm). The
 * topology declares them (state.c); they have no lifecycle here, and no
 * snapshots or pending changes.
 */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lxc.h"
#include "ha.h"
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
	if (sim_pool_of(s, ct->vmid))
		json_object_set_new(o, "pool",
				    json_string(sim_pool_of(s, ct->vmid)->id));
	json_decref(st);
	return o;
}

/* ---- one container ---------------------------------------------------- */

/*
 * The container of the path, or NULL with the error of pve-guest-common's
 * AbstractConfig load_config for nodes/NODE/lxc/ID.conf (a container on
 * another node has no file under this node's directory).
 */
static struct sim_ct *need_ct(struct sim *s, const struct sim_req *rq,
			      struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	int vmid = vmid_of(rq, "vmid");
	struct sim_ct *ct = vmid > 0 ? sim_ct(s, vmid) : NULL;

	if (!n)
		return NULL;
	if (!ct || strcmp(ct->node, n->name)) {
		resp_fail(rs, 500,
			  "Configuration file 'nodes/%s/lxc/%d.conf' does not "
			  "exist",
			  n->name, vmid);
		return NULL;
	}
	return ct;
}

/* The digest of the config file: SHA-1 of its lines, as PVE::Tools does. */
static void ct_digest(const struct sim_ct *ct, char out[41])
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[20];
	size_t i;

	for (i = 0; i < ct->conf.nr; i++)
		strbuf_addf(&sb, "%s: %s\n", ct->conf.v[i].key,
			    ct->conf.v[i].val);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, sb.buf, sb.len, md) < 0)
		memset(md, 0, sizeof(md));
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	strbuf_release(&sb);
}

/*
 * A configuration value as parse_pct_config's check_type leaves it: the
 * integer and boolean keys as numbers, cpulimit as a number (the types of
 * GET .../lxc/{vmid}/config's "returns" in pve-api-extra.json).
 */
static json_t *ct_value(const char *key, const char *val)
{
	static const char *const ints[] = {
		"cores",    "cpuunits",	    "memory", "swap",
		"tty",	    "console",	    "onboot", "protection",
		"template", "unprivileged", "debug",  NULL,
	};
	uint64_t u;
	size_t i;
	char *end;
	double d;

	for (i = 0; ints[i]; i++)
		if (!strcmp(key, ints[i]) &&
		    parse_u64z(&u, val, 0, INT64_MAX) == 0)
			return json_integer((json_int_t)u);
	if (!strcmp(key, "cpulimit")) {
		d = strtod(val, &end);
		if (*val && !*end)
			return json_real(d);
	}
	return json_string(val);
}

void h_lxc_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	static const char *const subdirs[] = {
		"config",    "pending",	     "status",	   "vncproxy",
		"termproxy", "vncwebsocket", "spiceproxy", "migrate",
		"clone",     "rrd",	     "rrddata",	   "firewall",
		"snapshot",  "resize",	     "interfaces", NULL,
	};
	size_t i;

	if (!need_ct(s, rq, rs))
		return;
	rs->data = json_array();
	for (i = 0; subdirs[i]; i++)
		json_array_append_new(rs->data,
				      json_pack("{s:s}", "subdir", subdirs[i]));
}

/*
 * vm_config: "snapshot" with "current" is a parameter error on both;
 * a snapshot is looked up in a container that has none; otherwise the
 * keys and the digest (there are no pending changes to fold in).
 */
void h_lxc_config(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *snap = req_param(rq, "snapshot");
	struct sim_ct *ct;
	char digest[41];
	size_t i;

	if (snap && *snap && param_true(rq, "current")) {
		param_fail(rs, "snapshot",
			   "cannot use 'snapshot' parameter with 'current'");
		param_fail(rs, "current",
			   "cannot use 'snapshot' parameter with 'current'");
		return;
	}
	if (!(ct = need_ct(s, rq, rs)))
		return;
	if (snap && *snap) {
		resp_fail(rs, 500, "snapshot '%s' does not exist", snap);
		return;
	}
	rs->data = json_object();
	for (i = 0; i < ct->conf.nr; i++)
		json_object_set_new(
			rs->data, ct->conf.v[i].key,
			ct_value(ct->conf.v[i].key, ct->conf.v[i].val));
	ct_digest(ct, digest);
	json_object_set_new(rs->data, "digest", json_string(digest));
}

/* vm_status: vmstatus' entry, the cgroup pressures of a running one, ha */
void h_lxc_status(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	static const char *const pressures[] = {
		"pressurecpusome",
		"pressurecpufull",
		"pressureiosome",
		"pressureiofull",
		"pressurememorysome",
		"pressurememoryfull",
		NULL,
	};
	struct sim_ct *ct = need_ct(s, rq, rs);
	size_t i;

	if (!ct)
		return;
	rs->data = ct_status(s, ct);
	for (i = 0; ct->running && pressures[i]; i++)
		json_object_set_new(rs->data, pressures[i], json_real(0));
	json_object_set_new(rs->data, "ha", ha_ct_status(s, ct->vmid));
}

/*
 * Snapshot.pm's list: no snapshots, so only "current" (its digest, running
 * and the description Proxmox gives it).
 */
void h_lxc_snapshots(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_ct *ct = need_ct(s, rq, rs);
	char digest[41];

	if (!ct)
		return;
	ct_digest(ct, digest);
	rs->data = json_pack("[{s:s, s:s, s:i, s:s}]", "name", "current",
			     "digest", digest, "running", ct->running ? 1 : 0,
			     "description", "You are here!");
}
