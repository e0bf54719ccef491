/*
 * ippool.c - pool allocations in Vault, read at plan time and written with
 * check-and-set at apply; see ippool.h.
 */
#include "ops/ippool.h"

#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/xalloc.h"

/* check-and-set rounds before giving up (each lost one means another
 * runner wrote in between) */
#define IPPOOL_ROUNDS 20

void ippool_run_init(struct ippool_run *r, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
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
static int read_pool(struct ippool_run *r, struct ippool_one *o, struct err *e)
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

/* The run's entry for pool, located in Vault and read the first time. */
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
	if (open_vault(r, e) < 0)
		return NULL;
	ALLOC_GROW(r->v, r->nr + 1, r->alloc);
	o = &r->v[r->nr++];
	memset(o, 0, sizeof(*o));
	o->pool = p;
	if (p->vault_path) {
		o->path = xstrdup(p->vault_path);
	} else {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/pve-gitops/ip-pools/%s",
			    r->cfg->vault.mount, p->name);
		o->path = strbuf_detach(&sb, NULL);
	}
	if (vault_kv_locate(&r->vc, o->path, &o->kv, e) < 0) {
		err_prefix(e, "ip pool %s: cannot find the mount of %s",
			   p->name, o->path);
		return NULL;
	}
	if (o->kv.version != 2) {
		err_setk(e, ERR_PERMANENT, EXIT_FAIL,
			 "ip pool %s: %s is on a KV version 1 mount; pools "
			 "need KV version 2 (check-and-set)",
			 p->name, o->path);
		return NULL;
	}
	return read_pool(r, o, e) < 0 ? NULL : o;
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

int ippool_held(struct ippool_run *r, struct vmdef *defs, size_t n,
		struct err *e)
{
	struct strbuf key = STRBUF_INIT;
	size_t i;
	int ret = 0;

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
 * One round for pool o: the secret read again, each of the plan's
 * definitions of the pool checked against it (its own key's address kept,
 * a taken address picked again), written with check-and-set when it
 * changed. 0 written (or nothing to write), 1 lost, -1 failed.
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

	if (read_pool(r, o, e) < 0)
		return -1;
	next = json_deep_copy(o->data);
	for (i = 0; i < n; i++) {
		struct vmdef *def = &defs[i];
		struct plan_item *it = item_of(p, def);
		const struct ip_alloc *a;
		uint32_t was = def->ip.ip4;

		if (!def->ip_pool || strcmp(def->ip_pool, o->pool->name) ||
		    !it || it->op == PLAN_BLOCKED)
			continue;
		key_of(&key, r, def);
		a = ip_allocs_find(&o->allocs, key.buf);
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

int ippool_confirm(struct ippool_run *r, struct vmdef *defs, size_t n,
		   struct plan *p, const struct cluster_facts *facts,
		   bool *changed, struct err *e)
{
	size_t i, nr_used;
	uint32_t *used = in_use(defs, n, facts, &nr_used);
	int ret = 0;

	*changed = false;
	for (i = 0; i < r->nr && ret == 0; i++) {
		int round, rc = 1;

		for (round = 0; rc == 1 && round < IPPOOL_ROUNDS; round++)
			rc = confirm_round(r, &r->v[i], defs, n, p, used,
					   nr_used, changed, e);
		if (rc == 1)
			rc = err_setk(e, ERR_CONFLICT, EXIT_FAIL,
				      "ip pool %s: %d check-and-set rounds "
				      "lost to other writers of %s; apply "
				      "again",
				      r->v[i].pool->name, IPPOOL_ROUNDS,
				      r->v[i].path);
		ret = rc < 0 ? -1 : 0;
	}
	free(used);
	return ret;
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

	if (read_pool(r, o, e) < 0)
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

int ippool_release(struct ippool_run *r, const struct strvec *names,
		   struct err *e)
{
	size_t i;

	if (!names->nr || !r->cfg->ip_pools.nr)
		return 0;
	for (i = 0; i < r->cfg->ip_pools.nr; i++) {
		struct ippool_one *o =
			pool_of(r, r->cfg->ip_pools.v[i].name, e);
		int round, rc = 1;

		if (!o)
			return -1;
		for (round = 0; rc == 1 && round < IPPOOL_ROUNDS; round++)
			rc = release_round(r, o, names, e);
		if (rc == 1)
			return err_setk(e, ERR_CONFLICT, EXIT_FAIL,
					"ip pool %s: %d check-and-set rounds "
					"lost to other writers of %s",
					o->pool->name, IPPOOL_ROUNDS, o->path);
		if (rc < 0)
			return -1;
	}
	return 0;
}
