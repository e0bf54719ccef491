/*
 * ippool.c - pool allocations in Vault (read at plan time, written with
 * check-and-set at apply) or in Proxmox's SDN IPAM (read at plan time,
 * POSTed at apply, the server refusing a taken address); see ippool.h.
 */
#include "ops/ippool.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/pve_format.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/xalloc.h"

/* check-and-set rounds before giving up (each lost one means another
 * runner wrote in between) */
#define IPPOOL_ROUNDS 20

/*
 * A store of allocations: locate finds a pool's place (once), read
 * (re)reads its allocations into o->allocs, confirm makes the plan's
 * allocations of the pool durable and releases those of definitions that
 * left it, release removes pruned VMs' ones. A store reaches its server
 * through the run (the Vault client, or the cluster connection r->pc).
 */
struct ippool_store {
	int (*locate)(struct ippool_run *r, struct ippool_one *o,
		      struct err *e);
	int (*read)(struct ippool_run *r, struct ippool_one *o, struct err *e);
	int (*confirm)(struct ippool_run *r, struct ippool_one *o,
		       struct vmdef *defs, size_t n, struct plan *p,
		       const uint32_t *used, size_t nr_used, bool *changed,
		       struct err *e);
	int (*release)(struct ippool_run *r, struct ippool_one *o,
		       const struct strvec *names, const int *vmids,
		       struct err *e);
};

static const struct ippool_store vault_store, sdn_store;

void ippool_run_init(struct ippool_run *r, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
}

void ippool_run_set_cluster(struct ippool_run *r, struct pve_client *pc)
{
	r->pc = pc;
}

void ippool_run_release(struct ippool_run *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		free(r->v[i].path);
		json_decref(r->v[i].data);
		vault_kv_release(&r->v[i].kv);
		ip_allocs_release(&r->v[i].allocs);
	}
	free(r->v);
	if (r->open)
		vault_client_release(&r->vc);
	memset(r, 0, sizeof(*r));
}

/* data's entries into allocs (values that are no address are kept in
 * the secret, and hand nothing out) */
static void parse_allocs(struct ip_allocs *a, const json_t *data)
{
	const char *key;
	json_t *val;

	ip_allocs_release(a);
	json_object_foreach((json_t *)data, key, val)
	{
		const char *s = json_string_value(val);
		uint32_t ip;

		if (s && pve_parse_ipv4(&ip, s, strlen(s)) == 0)
			ip_allocs_set(a, key, ip);
	}
}

/* (Re)read one pool's secret. */
static int vault_read(struct ippool_run *r, struct ippool_one *o, struct err *e)
{
	json_t *data = NULL;
	int rc, version = 0;

	rc = vault_kv_read(&r->vc, &o->kv, &data, &version, e);
	if (rc < 0)
		return err_prefix(e, "ip pool %s: cannot read %s",
				  o->pool->name, o->path);
	json_decref(o->data);
	o->data = rc == 1 ? json_object() : data;
	o->version = rc == 1 ? 0 : version;
	parse_allocs(&o->allocs, o->data);
	return 0;
}

static int open_vault(struct ippool_run *r, struct err *e)
{
	struct vault_flags vf = { NULL, NULL };

	if (r->open)
		return 0;
	if (vault_client_init(&r->vc, r->cfg, &vf, e) < 0)
		return err_prefix(e, "ip pools are kept in Vault");
	r->open = true;
	return 0;
}

static int vault_locate(struct ippool_run *r, struct ippool_one *o,
			struct err *e)
{
	const struct ip_pool *p = o->pool;

	if (open_vault(r, e) < 0)
		return -1;
	if (p->vault_path) {
		o->path = xstrdup(p->vault_path);
	} else {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/pve-gitops/ip-pools/%s",
			    r->cfg->vault.mount, p->name);
		o->path = strbuf_detach(&sb, NULL);
	}
	if (vault_kv_locate(&r->vc, o->path, &o->kv, e) < 0)
		return err_prefix(e, "ip pool %s: cannot find the mount of %s",
				  p->name, o->path);
	if (o->kv.version != 2)
		return err_setk(e, ERR_PERMANENT, EXIT_FAIL,
				"ip pool %s: %s is on a KV version 1 mount; "
				"pools need KV version 2 (check-and-set)",
				p->name, o->path);
	return 0;
}

/* The run's entry for pool, located in its store and read the first
 * time. */
static struct ippool_one *pool_of(struct ippool_run *r, const char *name,
				  struct err *e)
{
	const struct ip_pool *p = config_ip_pool(r->cfg, name);
	struct ippool_one *o;
	size_t i;

	for (i = 0; i < r->nr; i++)
		if (r->v[i].pool == p)
			return &r->v[i];
	if (!p) { /* not reached: config_check_ip_pools refused it */
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "ip_pool: no pool '%s' in the config", name);
		return NULL;
	}
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	o = &r->v[r->nr++];
	memset(o, 0, sizeof(*o));
	o->pool = p;
	o->store = p->vnet ? &sdn_store : &vault_store;
	if (o->store->locate(r, o, e) < 0 || o->store->read(r, o, e) < 0) {
		free(o->path);
		vault_kv_release(&o->kv);
		ip_allocs_release(&o->allocs);
		json_decref(o->data);
		r->nr--;
		return NULL;
	}
	return o;
}

/* def's ipconfig0 from the pool's address ip */
static void give(struct vmdef *def, const struct ip_pool *p, uint32_t ip)
{
	struct strbuf sb = STRBUF_INIT, why = STRBUF_INIT;

	ip_pool_ipconfig(&sb, p, ip);
	free(def->ipconfig0);
	memset(&def->ip, 0, sizeof(def->ip));
	pve_parse_ipconfig(&def->ip, sb.buf, &why); /* ours: it parses */
	def->ipconfig0 = strbuf_detach(&sb, NULL);
	def->ip_line = def->ip_pool_line;
	def->ip_col = def->ip_pool_col;
	strbuf_release(&why);
}

static void key_of(struct strbuf *sb, const struct ippool_run *r,
		   const struct vmdef *def)
{
	ip_pool_key(sb, r->cfg->ip_pools.owner, def->name);
}

static void mac_of(char out[18], const struct ippool_run *r,
		   const struct vmdef *def);

/* SDN pools: the VM's first NIC gets the MAC its entry carries (the one
 * derived from its key) unless its definition sets one. */
static void give_mac(const struct ippool_run *r, struct vmdef *def)
{
	char mac[18];
	size_t i;

	for (i = 0; i < def->nr_nets; i++)
		if (def->nets[i].index == 0 && !def->nets[i].macaddr) {
			mac_of(mac, r, def);
			def->nets[i].macaddr = xstrdup(mac);
		}
}

int ippool_held(struct ippool_run *r, struct vmdef *defs, size_t n,
		struct err *e)
{
	struct strbuf key = STRBUF_INIT;
	size_t i;
	int ret = 0;

	r->defs = defs;
	r->nr_defs = n;
	for (i = 0; i < n && ret == 0; i++) {
		struct vmdef *def = &defs[i];
		struct ippool_one *o;
		uint32_t ip;

		if (!def->ip_pool)
			continue;
		o = pool_of(r, def->ip_pool, e);
		if (!o) {
			ret = -1;
			break;
		}
		if (!def->nameserver && o->pool->nameserver)
			def->nameserver = xstrdup(o->pool->nameserver);
		if (o->store == &sdn_store)
			give_mac(r, def);
		key_of(&key, r, def);
		if (ip_pool_pick(o->pool, &o->allocs, key.buf, NULL, 0, &ip) ==
		    IP_PICK_HELD)
			give(def, o->pool, ip);
	}
	strbuf_release(&key);
	return ret;
}

/* What no pool definition may get: the addresses other VMs of the
 * cluster have, and the static ones of the repository's definitions. */
static uint32_t *in_use(const struct vmdef *defs, size_t n,
			const struct cluster_facts *facts, size_t *nr)
{
	size_t i, k = 0, max = n + (facts ? facts->nr_ips : 0);
	uint32_t *v = xcalloc(max + 1, sizeof(*v));

	for (i = 0; facts && i < facts->nr_ips; i++)
		v[k++] = facts->ips[i].ip4;
	for (i = 0; i < n; i++)
		if (!defs[i].ip_pool && defs[i].ipconfig0 &&
		    defs[i].ip.has_ip4 && !defs[i].ip.dhcp4)
			v[k++] = defs[i].ip.ip4;
	*nr = k;
	return v;
}

static void exhausted(struct vmdef *def, const struct ip_pool *p)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb,
		    "ip pool %s is exhausted: its %zu addresses are all "
		    "allocated or in use; free one (prune a VM of the pool) "
		    "or widen its range",
		    p->name, ip_pool_size(p));
	free(def->ip_pool_problem);
	def->ip_pool_problem = strbuf_detach(&sb, NULL);
}

/* One definition's pick into o->allocs (tentative); false: exhausted. */
static bool pick_one(struct ippool_run *r, struct ippool_one *o,
		     struct vmdef *def, const uint32_t *used, size_t nr_used)
{
	struct strbuf key = STRBUF_INIT;
	uint32_t ip;
	bool ok = true;

	key_of(&key, r, def);
	if (ip_pool_pick(o->pool, &o->allocs, key.buf, used, nr_used, &ip) ==
	    IP_PICK_EXHAUSTED) {
		exhausted(def, o->pool);
		ok = false;
	} else {
		ip_allocs_set(&o->allocs, key.buf, ip);
		give(def, o->pool, ip);
	}
	strbuf_release(&key);
	return ok;
}

/* An existing VM's address from its configuration, when the pool still
 * hands it out to it: kept instead of a new one (its allocation was lost,
 * or the VM was made before ip_pool: was added). */
static bool adopt(struct ippool_run *r, struct ippool_one *o, struct vmdef *def,
		  const struct plan *p, const uint32_t *used, size_t nr_used)
{
	struct strbuf key = STRBUF_INIT, why = STRBUF_INIT;
	struct pve_ipconfig ipc;
	const char *have = NULL;
	size_t i;
	bool ok = false;

	for (i = 0; p && i < p->nr && !have; i++)
		if (p->items[i].def == def && p->items[i].have &&
		    p->items[i].have->has_config)
			have = actual_get(p->items[i].have, "ipconfig0");
	memset(&ipc, 0, sizeof(ipc));
	key_of(&key, r, def);
	if (have && pve_parse_ipconfig(&ipc, have, &why) == 0 && ipc.has_ip4 &&
	    !ipc.dhcp4 && ipc.prefix4 == o->pool->prefix &&
	    ip_pool_free_for(o->pool, &o->allocs, key.buf, ipc.ip4, used,
			     nr_used)) {
		ip_allocs_set(&o->allocs, key.buf, ipc.ip4);
		give(def, o->pool, ipc.ip4);
		ok = true;
	}
	strbuf_release(&key);
	strbuf_release(&why);
	return ok;
}

void ippool_pick(struct ippool_run *r, struct vmdef *defs, size_t n,
		 const struct plan *p, const struct cluster_facts *facts)
{
	size_t i, nr_used;
	uint32_t *used = in_use(defs, n, facts, &nr_used);

	r->defs = defs;
	r->nr_defs = n;
	for (i = 0; i < n; i++) {
		struct vmdef *def = &defs[i];
		struct err e = ERR_INIT;
		struct ippool_one *o;

		if (!def->ip_pool || def->ipconfig0)
			continue;
		o = pool_of(r, def->ip_pool, &e); /* read by ippool_held */
		if (o && !adopt(r, o, def, p, used, nr_used))
			pick_one(r, o, def, used, nr_used);
		err_release(&e);
	}
	free(used);
}

static struct plan_item *item_of(struct plan *p, const struct vmdef *def)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (p->items[i].def == def)
			return &p->items[i];
	return NULL;
}

/* A plan item whose create cannot have an address: blocked, not sent. */
static void block_item(struct plan *p, struct plan_item *it)
{
	if (it->op == PLAN_CREATE && p->add)
		p->add--;
	else if (it->op == PLAN_UPDATE && p->change)
		p->change--;
	it->op = PLAN_BLOCKED;
	free(it->reason);
	it->reason = xstrdup(it->def->ip_pool_problem);
	p->blocked++;
}

/*
 * Whether def's allocation in o (held under its key) goes: def no longer
 * takes its address from o, and its ipconfig0 is not the static address
 * it holds (a switch to that same address keeps it reserved).
 */
static bool leaving(const struct ippool_one *o, const struct vmdef *def,
		    const struct ip_alloc *a)
{
	if (!a || (def->ip_pool && !strcmp(def->ip_pool, o->pool->name)))
		return false;
	return def->ip_pool || !def->ipconfig0 || !def->ip.has_ip4 ||
	       def->ip.dhcp4 || def->ip.ip4 != a->ip;
}

static void note_left(const struct ippool_one *o, const struct vmdef *def,
		      uint32_t ip)
{
	struct strbuf sb = STRBUF_INIT;

	pve_format_ipv4(&sb, ip);
	report_note("%s: released %s in pool %s (its ipconfig0 no longer has "
		    "it)",
		    def->name, sb.buf, o->pool->name);
	strbuf_release(&sb);
}

/*
 * One round for pool o: the secret read again, each of the plan's
 * definitions of the pool checked against it (its own key's address kept,
 * a taken address picked again), the keys of definitions that left the
 * pool removed, written with check-and-set when it changed. 0 written (or
 * nothing to write), 1 lost, -1 failed.
 */
static int confirm_round(struct ippool_run *r, struct ippool_one *o,
			 struct vmdef *defs, size_t n, struct plan *p,
			 const uint32_t *used, size_t nr_used, bool *changed,
			 struct err *e)
{
	struct strbuf key = STRBUF_INIT, val = STRBUF_INIT;
	json_t *next;
	bool dirty = false;
	size_t i;
	int ret, version;

	if (o->store->read(r, o, e) < 0)
		return -1;
	next = json_deep_copy(o->data);
	for (i = 0; i < n; i++) {
		struct vmdef *def = &defs[i];
		struct plan_item *it = item_of(p, def);
		const struct ip_alloc *a;
		uint32_t was = def->ip.ip4;

		key_of(&key, r, def);
		a = ip_allocs_find(&o->allocs, key.buf);
		if (leaving(o, def, a)) {
			note_left(o, def, a->ip);
			json_object_del(next, key.buf);
			ip_allocs_remove(&o->allocs, key.buf);
			dirty = true;
			continue;
		}
		if (!def->ip_pool || strcmp(def->ip_pool, o->pool->name) ||
		    !it || it->op == PLAN_BLOCKED)
			continue;
		if (a && def->ipconfig0 && a->ip == was)
			continue; /* held already */
		if (!a && def->ipconfig0 &&
		    ip_pool_free_for(o->pool, &o->allocs, key.buf, was, used,
				     nr_used))
			ip_allocs_set(&o->allocs, key.buf, was); /* as shown */
		free(def->ipconfig0);
		def->ipconfig0 = NULL;
		if (!pick_one(r, o, def, used, nr_used)) {
			block_item(p, it);
			continue;
		}
		strbuf_reset(&val);
		pve_format_ipv4(&val, def->ip.ip4);
		json_object_set_new(next, key.buf, json_string(val.buf));
		dirty = true;
		if (def->ip.ip4 != was) {
			*changed = true;
			report_note("%s: the address the plan showed was taken "
				    "meanwhile; it gets %s (from pool %s)",
				    def->name, val.buf, o->pool->name);
		}
	}
	ret = !dirty ? 0
		     : vault_kv_write(&r->vc, &o->kv, next, o->version,
				      &version, e);
	if (ret < 0)
		err_prefix(e, "ip pool %s: cannot write %s", o->pool->name,
			   o->path);
	json_decref(next);
	strbuf_release(&key);
	strbuf_release(&val);
	return ret;
}

static int vault_confirm(struct ippool_run *r, struct ippool_one *o,
			 struct vmdef *defs, size_t n, struct plan *p,
			 const uint32_t *used, size_t nr_used, bool *changed,
			 struct err *e)
{
	int round, rc = 1;

	for (round = 0; rc == 1 && round < IPPOOL_ROUNDS; round++)
		rc = confirm_round(r, o, defs, n, p, used, nr_used, changed, e);
	if (rc == 1)
		return err_setk(e, ERR_CONFLICT, EXIT_FAIL,
				"ip pool %s: %d check-and-set rounds lost to "
				"other writers of %s; apply again",
				o->pool->name, IPPOOL_ROUNDS, o->path);
	return rc < 0 ? -1 : 0;
}

/* names' keys out of pool o: 0 (written or nothing to), 1 lost, -1. */
static int release_round(struct ippool_run *r, struct ippool_one *o,
			 const struct strvec *names, struct err *e)
{
	struct strbuf key = STRBUF_INIT;
	json_t *next;
	bool dirty = false;
	size_t i;
	int ret, version;

	if (o->store->read(r, o, e) < 0)
		return -1;
	next = json_deep_copy(o->data);
	for (i = 0; i < names->nr; i++) {
		ip_pool_key(&key, r->cfg->ip_pools.owner, names->v[i]);
		if (json_object_get(next, key.buf)) {
			json_object_del(next, key.buf);
			dirty = true;
		}
	}
	ret = !dirty || !o->version ? 0
				    : vault_kv_write(&r->vc, &o->kv, next,
						     o->version, &version, e);
	if (ret < 0)
		err_prefix(e, "ip pool %s: cannot write %s", o->pool->name,
			   o->path);
	json_decref(next);
	strbuf_release(&key);
	return ret;
}

static int vault_release(struct ippool_run *r, struct ippool_one *o,
			 const struct strvec *names, const int *vmids,
			 struct err *e)
{
	int round, rc = 1;

	(void)vmids;
	for (round = 0; rc == 1 && round < IPPOOL_ROUNDS; round++)
		rc = release_round(r, o, names, e);
	if (rc == 1)
		return err_setk(e, ERR_CONFLICT, EXIT_FAIL,
				"ip pool %s: %d check-and-set rounds lost to "
				"other writers of %s",
				o->pool->name, IPPOOL_ROUNDS, o->path);
	return rc < 0 ? -1 : 0;
}

static const struct ippool_store vault_store = {
	vault_locate,
	vault_read,
	vault_confirm,
	vault_release,
};

/* ---- the SDN store: Proxmox's PVE IPAM -------------------------------- */

/* The MAC that def's entries carry: its first NIC's macaddr: when set,
 * else the one derived from its key. */
static void mac_of(char out[18], const struct ippool_run *r,
		   const struct vmdef *def)
{
	struct strbuf key = STRBUF_INIT;
	size_t i;

	for (i = 0; i < def->nr_nets; i++)
		if (def->nets[i].index == 0 && def->nets[i].macaddr) {
			snprintf(out, 18, "%s", def->nets[i].macaddr);
			return;
		}
	key_of(&key, r, def);
	ip_pool_mac(out, key.buf);
	strbuf_release(&key);
}

static const char *entry_str(const json_t *x, const char *k)
{
	return json_string_value(json_object_get(x, k));
}

static bool entry_ip(const json_t *x, uint32_t *ip)
{
	const char *s = entry_str(x, "ip");

	return s && pve_parse_ipv4(ip, s, strlen(s)) == 0;
}

/* The entry of the pool's subnet carrying mac, or NULL. */
static json_t *entry_of_mac(const struct ippool_one *o, const char *mac)
{
	size_t i;
	json_t *x;

	json_array_foreach(o->data, i, x)
	{
		const char *m = entry_str(x, "mac");

		if (m && !strcasecmp(m, mac))
			return x;
	}
	return NULL;
}

static int sdn_locate(struct ippool_run *r, struct ippool_one *o, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "vnet %s", o->pool->vnet);
	o->path = strbuf_detach(&sb, NULL);
	if (!r->pc)
		return err_setk(e, ERR_PERMANENT, EXIT_FAIL,
				"ip pool %s: no Proxmox connection for its "
				"SDN IPAM",
				o->pool->name);
	return 0;
}

/*
 * The PVE IPAM's entries of the pool's subnet (zone, vnet and the cidr
 * as its subnet): each a definition's key when its MAC is the
 * definition's, else held by "~ADDRESS" (another VM, the gateway).
 */
static int sdn_read(struct ippool_run *r, struct ippool_one *o, struct err *e)
{
	struct strbuf cidr = STRBUF_INIT, key = STRBUF_INIT;
	char(*macs)[18] = xcalloc(r->nr_defs + 1, sizeof(*macs));
	json_t *all = NULL, *x;
	size_t i, j;

	if (pve_call(r->pc, "GET", "/cluster/sdn/ipams/pve/status", NULL,
		     PVE_RETRY_SAFE, &all, NULL, e) < 0) {
		free(macs);
		return err_prefix(e, "ip pool %s: cannot read the PVE IPAM",
				  o->pool->name);
	}
	pve_format_ipv4(&cidr, o->pool->net);
	strbuf_addf(&cidr, "/%u", o->pool->prefix);
	json_decref(o->data);
	o->data = json_array();
	ip_allocs_release(&o->allocs);
	for (j = 0; j < r->nr_defs; j++)
		mac_of(macs[j], r, &r->defs[j]);
	json_array_foreach(all, i, x)
	{
		const char *zone = entry_str(x, "zone"),
			   *vnet = entry_str(x, "vnet"),
			   *subnet = entry_str(x, "subnet"),
			   *mac = entry_str(x, "mac");
		uint32_t ip;

		if (!zone || !vnet || !subnet || strcmp(zone, o->pool->zone) ||
		    strcmp(vnet, o->pool->vnet) || strcmp(subnet, cidr.buf) ||
		    !entry_ip(x, &ip))
			continue;
		json_array_append(o->data, x);
		strbuf_reset(&key);
		for (j = 0; mac && j < r->nr_defs && !key.len; j++)
			if (!strcasecmp(mac, macs[j]))
				key_of(&key, r, &r->defs[j]);
		if (!key.len)
			strbuf_addf(&key, "~%s", entry_str(x, "ip"));
		ip_allocs_set(&o->allocs, key.buf, ip);
	}
	json_decref(all);
	free(macs);
	strbuf_release(&cidr);
	strbuf_release(&key);
	return 0;
}

/* POST, PUT or DELETE .../vnets/{vnet}/ips for ip and mac (vmid > 0:
 * with it). */
static int sdn_call(struct ippool_run *r, const struct ippool_one *o,
		    const char *method, uint32_t ip, const char *mac, int vmid,
		    struct err *e)
{
	struct pve_params pp = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT, a = STRBUF_INIT;
	json_t *data = NULL;
	int ret;

	pve_format_ipv4(&a, ip);
	strbuf_addf(&path, "/cluster/sdn/vnets/%s/ips", o->pool->vnet);
	pve_param(&pp, "zone", o->pool->zone);
	pve_param(&pp, "ip", a.buf);
	pve_param(&pp, "mac", mac);
	if (vmid > 0)
		pve_paramf(&pp, "vmid", "%d", vmid);
	ret = pve_call(r->pc, method, path.buf, &pp,
		       !strcmp(method, "PUT") ? PVE_RETRY_SAFE : PVE_RETRY_NONE,
		       &data, NULL, e);
	json_decref(data);
	pve_params_release(&pp);
	strbuf_release(&path);
	strbuf_release(&a);
	return ret;
}

static bool refused_taken(const struct err *e)
{
	return err_is(e, ERR_EXISTS);
}

/*
 * def's entry made: the entry its MAC has (written by another runner of
 * the repository) kept, else its address POSTed; when Proxmox refuses it
 * (taken meanwhile) or the answer is lost, the IPAM is read again and
 * the next free address tried, IPPOOL_ROUNDS times at most.
 */
static int sdn_claim(struct ippool_run *r, struct ippool_one *o,
		     struct vmdef *def, struct plan *p, struct plan_item *it,
		     const uint32_t *used, size_t nr_used, bool *changed,
		     struct err *e)
{
	struct strbuf key = STRBUF_INIT, shown = STRBUF_INIT;
	uint32_t was = def->ip.ip4, ip;
	char mac[18];
	int round, ret = 0;

	key_of(&key, r, def);
	mac_of(mac, r, def);
	for (round = 0;; round++) {
		json_t *x = entry_of_mac(o, mac);

		if (x && entry_ip(x, &ip)) {
			if (ip != def->ip.ip4 && ip_pool_usable(o->pool, ip))
				give(def, o->pool, ip);
			break;
		}
		if (round == IPPOOL_ROUNDS) {
			ret = err_setk(e, ERR_CONFLICT, EXIT_FAIL,
				       "ip pool %s: %d addresses for %s taken "
				       "by other writers of %s before it got "
				       "one; apply again",
				       o->pool->name, IPPOOL_ROUNDS, def->name,
				       o->path);
			break;
		}
		ip_allocs_remove(&o->allocs, key.buf);
		if (def->ipconfig0 &&
		    ip_pool_free_for(o->pool, &o->allocs, key.buf, was, used,
				     nr_used))
			ip_allocs_set(&o->allocs, key.buf, was); /* as shown */
		free(def->ipconfig0);
		def->ipconfig0 = NULL;
		if (!pick_one(r, o, def, used, nr_used)) {
			block_item(p, it);
			break;
		}
		if (sdn_call(r, o, "POST", def->ip.ip4, mac, 0, e) == 0)
			break;
		if (!refused_taken(e) && !err_is(e, ERR_LOST)) {
			ret = err_prefix(e,
					 "ip pool %s: cannot allocate for %s",
					 o->pool->name, def->name);
			break;
		}
		err_clear(e); /* taken meanwhile, or maybe ours: read again */
		if (o->store->read(r, o, e) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && def->ipconfig0 && def->ip.ip4 != was) {
		*changed = true;
		pve_format_ipv4(&shown, def->ip.ip4);
		report_note("%s: the address the plan showed was taken "
			    "meanwhile; it gets %s (from pool %s)",
			    def->name, shown.buf, o->pool->name);
	}
	strbuf_release(&key);
	strbuf_release(&shown);
	return ret;
}

static int sdn_confirm(struct ippool_run *r, struct ippool_one *o,
		       struct vmdef *defs, size_t n, struct plan *p,
		       const uint32_t *used, size_t nr_used, bool *changed,
		       struct err *e)
{
	struct strbuf key = STRBUF_INIT;
	size_t i;
	int ret = 0;

	/* not read again: the plan's reading is checked by Proxmox itself,
	 * which refuses an address that was taken since */
	for (i = 0; i < n && ret == 0; i++) {
		struct vmdef *def = &defs[i];
		struct plan_item *it = item_of(p, def);
		const struct ip_alloc *a;
		char mac[18];

		key_of(&key, r, def);
		a = ip_allocs_find(&o->allocs, key.buf);
		if (leaving(o, def, a)) {
			mac_of(mac, r, def);
			note_left(o, def, a->ip);
			ret = sdn_call(r, o, "DELETE", a->ip, mac, 0, e);
			if (ret < 0 && err_is(e, ERR_NOTFOUND)) {
				err_clear(e);
				ret = 0;
			}
			if (ret < 0)
				err_prefix(e, "ip pool %s: cannot release %s",
					   o->pool->name, def->name);
			continue;
		}
		if (def->ip_pool && !strcmp(def->ip_pool, o->pool->name) &&
		    it && it->op != PLAN_BLOCKED)
			ret = sdn_claim(r, o, def, p, it, used, nr_used,
					changed, e);
	}
	strbuf_release(&key);
	return ret;
}

/* The entries of names (by the MAC of OWNER/NAME, or vmids[i]) deleted. */
static int sdn_release(struct ippool_run *r, struct ippool_one *o,
		       const struct strvec *names, const int *vmids,
		       struct err *e)
{
	struct strbuf key = STRBUF_INIT;
	size_t i, j;
	json_t *x;
	int ret = 0;

	if (o->store->read(r, o, e) < 0)
		return -1;
	for (i = 0; i < names->nr && ret == 0; i++) {
		char mac[18];

		ip_pool_key(&key, r->cfg->ip_pools.owner, names->v[i]);
		ip_pool_mac(mac, key.buf);
		json_array_foreach(o->data, j, x)
		{
			json_t *vm = json_object_get(x, "vmid");
			const char *m = entry_str(x, "mac");
			uint32_t ip;

			if (!entry_ip(x, &ip) || !m ||
			    (strcasecmp(m, mac) &&
			     !(vmids && vmids[i] > 0 &&
			       json_integer_value(vm) == vmids[i])))
				continue;
			ret = sdn_call(r, o, "DELETE", ip, m, 0, e);
			if (ret < 0 && err_is(e, ERR_NOTFOUND)) {
				err_clear(e);
				ret = 0;
			}
			if (ret < 0) {
				err_prefix(e, "ip pool %s: cannot release %s",
					   o->pool->name, names->v[i]);
				break;
			}
		}
	}
	strbuf_release(&key);
	return ret;
}

static const struct ippool_store sdn_store = {
	sdn_locate,
	sdn_read,
	sdn_confirm,
	sdn_release,
};

/* ---- the run ---------------------------------------------------------- */

/*
 * Whether def may have left pool p (confirm reads p for it): it does not
 * name p, and the VM's ipconfig0 as read has an address of p's cidr that
 * its definition no longer gives (the plan changes it).
 */
static bool may_leave(const struct ip_pool *p, const struct vmdef *def,
		      const struct plan *pl)
{
	struct strbuf why = STRBUF_INIT;
	struct pve_ipconfig ipc;
	const char *have = NULL;
	size_t i;
	bool ret;

	if (def->ip_pool && !strcmp(def->ip_pool, p->name))
		return false;
	for (i = 0; i < pl->nr && !have; i++)
		if (pl->items[i].def == def && pl->items[i].have &&
		    pl->items[i].have->has_config)
			have = actual_get(pl->items[i].have, "ipconfig0");
	memset(&ipc, 0, sizeof(ipc));
	ret = have && pve_parse_ipconfig(&ipc, have, &why) == 0 &&
	      ipc.has_ip4 && !ipc.dhcp4 && ipc.ip4 > p->net &&
	      ipc.ip4 < ip_pool_broadcast(p) &&
	      (def->ip_pool || !def->ip.has_ip4 || def->ip.dhcp4 ||
	       def->ip.ip4 != ipc.ip4);
	strbuf_release(&why);
	return ret;
}

int ippool_confirm(struct ippool_run *r, struct vmdef *defs, size_t n,
		   struct plan *p, const struct cluster_facts *facts,
		   bool *changed, struct err *e)
{
	size_t i, j, nr_used;
	uint32_t *used;
	int ret = 0;

	*changed = false;
	r->defs = defs;
	r->nr_defs = n;
	/* the pools definitions may have left, read too */
	for (i = 0; i < r->cfg->ip_pools.nr; i++)
		for (j = 0; j < n; j++)
			if (may_leave(&r->cfg->ip_pools.v[i], &defs[j], p)) {
				if (!pool_of(r, r->cfg->ip_pools.v[i].name, e))
					return -1;
				break;
			}
	used = in_use(defs, n, facts, &nr_used);
	for (i = 0; i < r->nr && ret == 0; i++)
		ret = r->v[i].store->confirm(r, &r->v[i], defs, n, p, used,
					     nr_used, changed, e);
	free(used);
	return ret;
}

int ippool_release(struct ippool_run *r, const struct strvec *names,
		   const int *vmids, struct err *e)
{
	size_t i;

	if (!names->nr || !r->cfg->ip_pools.nr)
		return 0;
	for (i = 0; i < r->cfg->ip_pools.nr; i++) {
		struct ippool_one *o =
			pool_of(r, r->cfg->ip_pools.v[i].name, e);

		if (!o || o->store->release(r, o, names, vmids, e) < 0)
			return -1;
	}
	return 0;
}

int ippool_record(struct ippool_run *r, const struct vmdef *defs, size_t n,
		  const struct actual_vm *vms, size_t nr_vms, struct err *e)
{
	struct err pe = ERR_INIT;
	size_t i, j, k;
	int ret = 0;

	for (i = 0; i < r->nr && ret == 0; i++) {
		struct ippool_one *o = &r->v[i];
		bool read = false;

		if (o->store != &sdn_store)
			continue;
		for (j = 0; j < n && ret == 0; j++) {
			const struct vmdef *def = &defs[j];
			const struct actual_vm *vm = NULL;
			json_t *x;
			uint32_t ip;
			char mac[18];

			if (!def->ip_pool ||
			    strcmp(def->ip_pool, o->pool->name))
				continue;
			for (k = 0; k < nr_vms && !vm; k++)
				if (vms[k].name && !vms[k].template_ &&
				    !strcmp(vms[k].name, def->name) &&
				    actual_is_managed(&vms[k]))
					vm = &vms[k];
			if (!vm)
				continue;
			mac_of(mac, r, def);
			x = entry_of_mac(o, mac);
			if (x && json_integer_value(json_object_get(
					 x, "vmid")) == vm->vmid)
				continue; /* as read at plan time */
			if (!read) {	  /* the entries the apply made */
				if (o->store->read(r, o, e) < 0) {
					ret = -1;
					break;
				}
				read = true;
				x = entry_of_mac(o, mac);
			}
			if (!x || !entry_ip(x, &ip) ||
			    json_integer_value(json_object_get(x, "vmid")) ==
				    vm->vmid)
				continue;
			/* the entry is the VM's by its MAC already: a vmid
			 * that cannot be written is worth a warning only */
			if (sdn_call(r, o, "PUT", ip, mac, vm->vmid, &pe) < 0)
				report_warning(
					"ip pool %s: cannot record VM %d "
					"in %s's entry (%s); the zone "
					"needs ipam pve and dhcp",
					o->pool->name, vm->vmid, def->name,
					pe.msg.buf);
			err_clear(&pe);
		}
	}
	err_release(&pe);
	return ret;
}
