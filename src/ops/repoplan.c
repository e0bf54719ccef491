/*
 * repoplan.c - the definitions of a repository checked and planned against
 * the cluster, and the outputs file written from them; see repoplan.h.
 */
#include "ops/repoplan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/outputs.h"
#include "core/pve_format.h"
#include "ops/diags.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/xalloc.h"

/*
 * An excluded definition's VM is not "gone": keep its name (the name:
 * inside, read leniently; the file name when it has none) from prune.
 */
static void keep_excluded(struct repo_plan *rp, const struct config *cfg,
			  const char *file)
{
	struct vmdef_opts opts = { .strict_secrets = false };
	struct beneath root = BENEATH_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf buf = STRBUF_INIT, path = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct vmdef vm;
	const char *base = strrchr(file, '/'), *dot;

	strbuf_addstr(&path, file);
	if (access(path.buf, F_OK) < 0) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", cfg->vms_dir, file);
	}
	vmdef_init(&vm);
	/* below the repository only: no link out, no FIFO to hang on */
	if (beneath_root(&root, ".", &e) == 0 &&
	    beneath_read(&root, path.buf, &buf, 1 << 20, &e) == 0)
		vmdef_parse(&vm, &dl, path.buf, buf.buf, buf.len, &opts);
	beneath_release(&root);
	if (vm.name) {
		strvec_push(&rp->keep, vm.name);
	} else {
		base = base ? base + 1 : file;
		dot = strrchr(base, '.');
		strvec_pushf(&rp->keep, "%.*s",
			     (int)(dot ? (size_t)(dot - base) : strlen(base)),
			     base);
	}
	vmdef_release(&vm);
	diag_list_release(&dl);
	err_release(&e);
	strbuf_release(&buf);
	strbuf_release(&path);
}

static void repo_plan_init(struct repo_plan *rp)
{
	static const struct repo_load rl0 = REPO_LOAD_INIT;
	static const struct vmset set0 = VMSET_INIT;

	memset(rp, 0, sizeof(*rp));
	rp->set = set0;
	rp->rl = rl0;
	strvec_init(&rp->keep);
	cluster_facts_init(&rp->facts);
}

/* The desired configurations of the pool definitions, built again from
 * the addresses they were given. */
static void rebuild_pool_wants(struct repo_plan *rp)
{
	size_t i;

	for (i = 0; i < rp->in.nr_defs; i++)
		if (rp->set.items[i].ip_pool) {
			desired_release(&rp->wants[i]);
			desired_build(&rp->wants[i], &rp->set.items[i]);
		}
}

static bool pool_unassigned(const struct repo_plan *rp)
{
	size_t i;

	for (i = 0; i < rp->in.nr_defs; i++)
		if (rp->set.items[i].ip_pool && !rp->set.items[i].ipconfig0 &&
		    !rp->set.items[i].ip_pool_problem)
			return true;
	return false;
}

/* defs, wants and the plan's input from the checked set. */
static void repo_plan_fill(struct repo_plan *rp, const struct config *cfg)
{
	const char *allow;
	size_t i, n = 0;

	rp->defs = xcalloc(rp->set.nr + 1, sizeof(*rp->defs));
	rp->wants = xcalloc(rp->set.nr + 1, sizeof(*rp->wants));
	for (i = 0; i < rp->set.nr; i++) {
		rp->defs[n] = &rp->set.items[i];
		desired_build(&rp->wants[n], &rp->set.items[i]);
		n++;
	}
	for (i = 0; i < rp->rl.excluded.nr; i++)
		keep_excluded(rp, cfg, rp->rl.excluded.v[i]);
	rp->in.defs = rp->defs;
	rp->in.wants = rp->wants;
	rp->in.nr_defs = n;
	rp->in.keep_names = &rp->keep;
	/* the operator's choice, never the repository's */
	allow = env_get(cfg->env, "PVE_GITOPS_ALLOW_QEMU_ARGS");
	rp->in.allow_args =
		allow && (!strcmp(allow, "1") || !strcmp(allow, "true"));
}

int repo_plan_read(struct repo_plan *rp, const struct config *cfg,
		   struct err *e)
{
	struct diag_list dl = DIAG_LIST_INIT;
	int ret = -1;

	repo_plan_init(rp);
	rp->cfg = cfg;
	ippool_run_init(&rp->pools, cfg);
	if (repo_load_vms(&rp->set, &dl, &rp->rl, cfg, NULL, 0, e) < 0)
		goto out;
	vmset_check(&rp->set, &dl);
	config_check_ip_pools(cfg, rp->set.items, rp->set.nr, &dl);
	config_check_clusters(cfg, rp->set.items, rp->set.nr, &dl);
	vmset_sort(&rp->set);
	if (config_multi_cluster(cfg)) { /* each cluster's a slice */
		const char *order[CONFIG_MAX_CLUSTERS];
		struct config all = *cfg;

		all.only_cluster = NULL;
		vmset_group_by_cluster(
			&rp->set, order,
			config_cluster_names(&all, order, CONFIG_MAX_CLUSTERS));
	}
	diag_list_sort(&dl);
	report_diags(cfg, &dl, false);
	if (dl.errors) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "%zu error%s in the definitions; nothing was sent to "
			 "Proxmox",
			 dl.errors, dl.errors == 1 ? "" : "s");
		goto out;
	}
	repo_plan_fill(rp, cfg);
	ret = 0;
out:
	diag_list_release(&dl);
	return ret;
}

void repo_plan_release(struct repo_plan *rp)
{
	size_t i;

	plan_release(&rp->plan);
	cluster_release(&rp->cluster);
	cluster_facts_release(&rp->facts);
	rp->in.facts = NULL;
	for (i = 0; rp->wants && i < rp->in.nr_defs; i++)
		desired_release(&rp->wants[i]);
	free(rp->wants);
	free(rp->defs);
	rp->wants = NULL;
	rp->defs = NULL;
	strvec_clear(&rp->keep);
	ippool_run_release(&rp->pools);
	if (rp->borrowed) {
		memset(&rp->set, 0, sizeof(rp->set));
		return;
	}
	repo_load_release(&rp->rl);
	vmset_release(&rp->set);
}

static bool of_cluster(const struct vmdef *def, const char *cluster)
{
	return !strcmp(def->cluster ? def->cluster : CONFIG_DEFAULT_CLUSTER,
		       cluster);
}

void repo_plan_slice(struct repo_plan *sub, const struct repo_plan *all,
		     const struct config *cfg)
{
	size_t i, first = all->set.nr, n = 0;

	repo_plan_init(sub);
	sub->cfg = cfg;
	sub->borrowed = true;
	ippool_run_init(&sub->pools, cfg);
	for (i = 0; i < all->set.nr; i++) {
		if (!of_cluster(&all->set.items[i], cfg->cluster)) {
			/* another cluster's VM is not "gone" from this one */
			strvec_push(&sub->keep, all->set.items[i].name);
			continue;
		}
		if (first == all->set.nr)
			first = i;
		n++;
	}
	for (i = 0; i < all->keep.nr; i++)
		strvec_push(&sub->keep, all->keep.v[i]);
	/* grouped by repo_plan_read: one run of the set */
	sub->set.items = all->set.items + (n ? first : 0);
	sub->set.focus = all->set.focus + (n ? first : 0);
	sub->set.nr = n;
	sub->defs = xcalloc(n + 1, sizeof(*sub->defs));
	sub->wants = xcalloc(n + 1, sizeof(*sub->wants));
	for (i = 0; i < n; i++) {
		sub->defs[i] = &sub->set.items[i];
		desired_build(&sub->wants[i], &sub->set.items[i]);
	}
	sub->in = all->in;
	sub->in.defs = sub->defs;
	sub->in.wants = sub->wants;
	sub->in.nr_defs = n;
	sub->in.keep_names = &sub->keep;
	sub->in.facts = NULL;
}

static int read_configs(struct repo_plan *rp, struct pve_client *pc,
			bool refresh, struct err *e)
{
	size_t i;

	for (i = 0; i < rp->plan.nr; i++) {
		const struct plan_item *it = &rp->plan.items[i];
		struct actual_vm *a = (struct actual_vm *)it->have;

		if (!a || a->has_config || !(it->needs_config || refresh))
			continue;
		if (cluster_read_config(a, pc, e) < 0)
			return -1;
	}
	return 0;
}

/* An item the cluster's facts are checked for: a definition's create, a
 * migration, or any definition's with refresh. */
static bool checked(const struct plan_item *it, bool refresh)
{
	return it->def && !it->busy && (!it->have || refresh || it->migration);
}

static bool has_storage(const struct vmdef *def)
{
	size_t i;

	for (i = 0; i < def->nr_disks; i++)
		if ((def->disks[i].kind == DISK_DISK ||
		     def->disks[i].kind == DISK_CLOUDINIT) &&
		    def->disks[i].storage)
			return true;
	return false;
}

/* The storages and bridges of the nodes the checked items name (online
 * ones: an offline node answers nothing), each node once per run. */
static int read_node_facts(struct repo_plan *rp, struct pve_client *pc,
			   bool refresh, struct err *e)
{
	size_t i;

	for (i = 0; i < rp->plan.nr; i++) {
		const struct plan_item *it = &rp->plan.items[i];
		struct facts_node *n;

		if (!checked(it, refresh))
			continue;
		n = facts_node(&rp->facts, it->def->target_node);
		if (!n || strcmp(n->status, "online"))
			continue;
		if (!n->storage_read && has_storage(it->def) &&
		    cluster_read_storages(n, pc, e) < 0)
			return -1;
		if (!n->bridges_read && it->def->nr_nets &&
		    cluster_read_bridges(n, pc, e) < 0)
			return -1;
	}
	return 0;
}

/*
 * Whether a may hold an address another definition wants: not a
 * template, not a VM being made (unnamed, or locked by a clone), not a
 * definition's VM (vmset compares those) nor a managed VM of a
 * definition's name (another apply's copy in a race), not one the plan
 * destroys, and on an online node.
 */
static bool ip_holder(const struct repo_plan *rp, const struct actual_vm *a)
{
	const struct facts_node *n = facts_node(&rp->facts, a->node);
	size_t i;

	if (a->template_ || !n || strcmp(n->status, "online") || !a->name ||
	    !*a->name || (a->lock && *a->lock))
		return false;
	for (i = 0; actual_is_managed(a) && i < rp->in.nr_defs; i++)
		if (!strcmp(rp->defs[i]->name, a->name))
			return false;
	for (i = 0; i < rp->plan.nr; i++) {
		const struct plan_item *it = &rp->plan.items[i];

		if (it->have == a && (it->def || it->op == PLAN_DESTROY))
			return false;
	}
	return true;
}

/* Up to this many configurations are read at once for the addresses. */
#define IP_READERS 4

/* The ipconfig addresses of every other VM, read once per run. */
static int read_ip_facts(struct repo_plan *rp, struct pve_client *pc,
			 struct err *e)
{
	const struct actual_vm **todo =
		xcalloc(rp->cluster.nr + 1, sizeof(*todo));
	size_t i, n = 0;
	int ret;

	for (i = 0; i < rp->cluster.nr; i++) {
		const struct actual_vm *a = &rp->cluster.vms[i];

		if (!ip_holder(rp, a))
			continue;
		if (a->has_config) /* read already (--refresh) */
			facts_add_config_ips(&rp->facts, a->vmid, a->name,
					     &a->keys, &a->vals);
		else
			todo[n++] = a;
	}
	ret = cluster_read_ips(&rp->facts, todo, n, IP_READERS, pc, e);
	free(todo);
	return ret;
}

/* The IPv4 addresses (not loopback, not link-local) of a
 * network-get-interfaces answer, added to f for VM a. */
static void add_agent_ips(struct cluster_facts *f, const struct actual_vm *a,
			  json_t *data)
{
	json_t *nic, *addr;
	size_t i, j;

	json_array_foreach(json_object_get(data, "result"), i, nic)
	{
		json_array_foreach(json_object_get(nic, "ip-addresses"), j,
				   addr)
		{
			const char *t = json_string_value(
				json_object_get(addr, "ip-address-type"));
			const char *s = json_string_value(
				json_object_get(addr, "ip-address"));
			uint32_t ip;

			if (t && !strcmp(t, "ipv4") && s &&
			    pve_parse_ipv4(&ip, s, strlen(s)) == 0 &&
			    (ip >> 24) != 127 && (ip >> 16) != 0xa9fe)
				facts_add_ip(f, a->vmid, a->name, "agent", ip);
		}
	}
}

/*
 * For a pool's pick: the addresses the guest agents of the other running
 * VMs without a static address report (a DHCP lease is in use too). A VM
 * without an agent, or whose agent does not answer, tells nothing.
 */
static void read_agent_ips(struct repo_plan *rp, struct pve_client *pc)
{
	struct strbuf path = STRBUF_INIT;
	size_t i, k;

	for (i = 0; i < rp->cluster.nr; i++) {
		const struct actual_vm *a = &rp->cluster.vms[i];
		struct err e = ERR_INIT;
		json_t *data = NULL;
		bool has = false;

		if (!ip_holder(rp, a) || !a->status ||
		    strcmp(a->status, "running"))
			continue;
		for (k = 0; k < rp->facts.nr_ips && !has; k++)
			has = rp->facts.ips[k].vmid == a->vmid;
		if (has)
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path,
			    "/nodes/%s/qemu/%d/agent/network-get-interfaces",
			    a->node, a->vmid);
		if (pve_call(pc, "GET", path.buf, NULL, PVE_RETRY_NONE, &data,
			     NULL, &e) == 0)
			add_agent_ips(&rp->facts, a, data);
		json_decref(data);
		err_release(&e);
	}
	strbuf_release(&path);
}

/*
 * What the checks need (core/planchk.h), read only when an item is
 * checked: GET /nodes once, then per node used its storages and bridges,
 * and when a checked definition has a static IPv4 address, the other
 * VMs' configurations.
 */
static int read_facts(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		      struct err *e)
{
	struct strbuf ip = STRBUF_INIT;
	bool any = false, want_ip = false;
	size_t i;

	for (i = 0; i < rp->plan.nr; i++) {
		const struct plan_item *it = &rp->plan.items[i];

		if (!checked(it, refresh))
			continue;
		any = true;
		/* a migration keeps the address: not checked for it */
		want_ip =
			want_ip || (!it->migration && vmdef_ipv4(it->def, &ip));
	}
	strbuf_release(&ip);
	/* a pool's free address is one no VM of the cluster has */
	if (pool_unassigned(rp))
		any = want_ip = true;
	if (!any)
		return 0;
	if (!rp->facts.nodes_read && cluster_read_nodes(&rp->facts, pc, e) < 0)
		return -1;
	if (read_node_facts(rp, pc, refresh, e) < 0)
		return -1;
	if (want_ip && !rp->facts.ips_read) {
		if (read_ip_facts(rp, pc, e) < 0)
			return -1;
		if (pool_unassigned(rp))
			read_agent_ips(rp, pc);
	}
	rp->in.facts = &rp->facts;
	return 0;
}

/* How often the cluster is listed again when a VM of the list vanished
 * before its configuration could be read (another apply removed it). */
#define VANISHED_ROUNDS 5

int repo_plan_build(struct repo_plan *rp, struct pve_client *pc, bool refresh,
		    struct err *e)
{
	static const struct cluster empty = CLUSTER_INIT;
	int round;

	ippool_run_set_cluster(&rp->pools, pc); /* SDN pools: its IPAM */
	if (!rp->pools_read) { /* the addresses the pools hold for us */
		if (ippool_held(&rp->pools, rp->set.items, rp->in.nr_defs, e) <
		    0)
			return -1;
		rp->pools_read = true;
		rebuild_pool_wants(rp);
	}
	for (round = 1;; round++) {
		if (cluster_read_vms(&rp->cluster, pc, e) < 0)
			return -1;
		rp->in.vms = rp->cluster.vms;
		rp->in.nr_vms = rp->cluster.nr;
		plan_build(&rp->plan, &rp->in);
		if (read_configs(rp, pc, refresh, e) == 0)
			break;
		if (!err_is(e, ERR_NOTFOUND) || round == VANISHED_ROUNDS)
			return -1;
		err_clear(e);
		plan_release(&rp->plan);
		cluster_release(&rp->cluster);
		rp->cluster = empty;
	}
	plan_release(&rp->plan);
	plan_build(&rp->plan, &rp->in);
	if (read_facts(rp, pc, refresh, e) < 0)
		return -1;
	if (pool_unassigned(rp)) { /* tentative picks: plan shows them */
		ippool_pick(&rp->pools, rp->set.items, rp->in.nr_defs,
			    &rp->plan, &rp->facts);
		rebuild_pool_wants(rp);
		rp->in.facts = &rp->facts;
	}
	if (rp->in.facts) { /* again, with what the cluster tells */
		plan_release(&rp->plan);
		plan_build(&rp->plan, &rp->in);
	}
	return 0;
}

int repo_plan_confirm_pools(struct repo_plan *rp, struct err *e)
{
	bool changed = false;

	if (!rp->pools_read || !rp->cfg->ip_pools.nr)
		return 0;
	if (ippool_confirm(&rp->pools, rp->set.items, rp->in.nr_defs, &rp->plan,
			   &rp->facts, &changed, e) < 0)
		return -1;
	if (changed)
		rebuild_pool_wants(rp);
	return 0;
}

int repo_plan_release_pools(struct repo_plan *rp, const struct strvec *names,
			    const int *vmids, struct err *e)
{
	return ippool_release(&rp->pools, names, vmids, e);
}

int repo_plan_record_pools(struct repo_plan *rp, struct err *e)
{
	if (!rp->pools_read || !rp->pools.nr)
		return 0;
	return ippool_record(&rp->pools, rp->set.items, rp->in.nr_defs,
			     rp->cluster.vms, rp->cluster.nr, e);
}

int repo_plan_check_outputs(const struct config *cfg, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	int ret = beneath_root(&root, ".", e) < 0
			  ? -1
			  : beneath_check_target(&root, cfg->outputs, e);

	beneath_release(&root);
	return ret;
}

int repo_plan_write_outputs(const struct repo_plan *rp,
			    const struct config *cfg, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if (repo_plan_check_outputs(cfg, e) < 0)
		return -1;
	outputs_encode(&sb, (const struct vmdef *const *)rp->defs,
		       rp->in.nr_defs, rp->cluster.vms, rp->cluster.nr,
		       cfg->ansible_user, false);
	ret = file_make_parents(cfg->outputs, NULL, e) < 0
		      ? -1
		      : file_write_atomic(cfg->outputs, sb.buf, sb.len, 0644,
					  e);
	strbuf_release(&sb);
	return ret;
}

/* Whether def's cluster is one of the parts that was read. */
static bool read_part(const struct vmdef *def,
		      const struct repo_plan *const *parts, const bool *down,
		      size_t n)
{
	const char *c = def->cluster ? def->cluster : CONFIG_DEFAULT_CLUSTER;
	size_t i;

	for (i = 0; i < n; i++)
		if (!down[i] && !strcmp(parts[i]->cfg->cluster, c))
			return true;
	return false;
}

int repo_plan_write_outputs_of(const struct repo_plan *all,
			       const struct repo_plan *const *parts,
			       const bool *down, size_t n,
			       const struct config *cfg, struct err *e)
{
	struct outputs old = OUTPUTS_INIT;
	struct strbuf sb = STRBUF_INIT, text = STRBUF_INIT;
	struct actual_vm *vms = NULL;
	size_t i, j, nr_vms = 0, alloc_vms = 0, nr_old = 0;
	int ret = -1;

	if (repo_plan_check_outputs(cfg, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		for (j = 0; !down[i] && j < parts[i]->cluster.nr; j++) {
			ALLOC_GROW(vms, nr_vms + 1, alloc_vms);
			vms[nr_vms++] = parts[i]->cluster.vms[j]; /* borrowed */
		}
	{
		/* the file as it is, read beneath the root (a link swapped in
		 * after the check is not followed); none yet: nothing to keep
		 */
		struct beneath root = BENEATH_INIT;
		struct err oe = ERR_INIT;

		if (beneath_root(&root, ".", &oe) == 0 &&
		    beneath_read(&root, cfg->outputs, &text, OUTPUTS_FILE_MAX,
				 &oe) == 0)
			outputs_decode(&old, text.buf, text.len, cfg->outputs,
				       &oe);
		err_release(&oe);
		beneath_release(&root);
	}
	/* a cluster not read (down, or not --cluster's): what the file had */
	for (i = 0; i < all->in.nr_defs; i++) {
		const struct outputs_host *h =
			outputs_find(&old, all->defs[i]->name);
		struct actual_vm *a;

		if (!h || read_part(all->defs[i], parts, down, n))
			continue;
		ALLOC_GROW(vms, nr_vms + 1, alloc_vms);
		a = &vms[nr_vms++];
		actual_vm_init(a);
		a->vmid = h->vmid;
		a->name = xstrdup(h->name);
		a->node = xstrdup(h->node);
		a->tags = xstrdup("pve-gitops");
		nr_old++;
	}
	outputs_encode(&sb, (const struct vmdef *const *)all->defs,
		       all->in.nr_defs, vms, nr_vms, cfg->ansible_user, true);
	if (file_make_parents(cfg->outputs, NULL, e) == 0 &&
	    file_write_atomic(cfg->outputs, sb.buf, sb.len, 0644, e) == 0)
		ret = 0;
	for (j = nr_vms - nr_old; j < nr_vms; j++) /* ours, not borrowed */
		actual_vm_release(&vms[j]);
	free(vms);
	outputs_release(&old);
	strbuf_release(&text);
	strbuf_release(&sb);
	return ret;
}
