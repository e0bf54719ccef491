/*
 * planchk.c - a definition checked against what the cluster tells; see
 * planchk.h.
 */
#include "core/planchk.h"

#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/xalloc.h"

void cluster_facts_init(struct cluster_facts *f)
{
	memset(f, 0, sizeof(*f));
}

void cluster_facts_release(struct cluster_facts *f)
{
	size_t i, j;

	for (i = 0; i < f->nr_nodes; i++) {
		struct facts_node *n = &f->nodes[i];

		for (j = 0; j < n->nr_st; j++) {
			free(n->st[j].name);
			free(n->st[j].content);
		}
		free(n->st);
		free(n->name);
		free(n->status);
		strvec_clear(&n->bridges);
	}
	for (i = 0; i < f->nr_ips; i++) {
		free(f->ips[i].name);
		free(f->ips[i].key);
	}
	free(f->nodes);
	free(f->ips);
	free(f->ip_vmids);
	cluster_facts_init(f);
}

struct facts_node *facts_add_node(struct cluster_facts *f, const char *name,
				  const char *status)
{
	struct facts_node *n;

	ALLOC_GROW(f->nodes, st_add(f->nr_nodes, 1), f->alloc_nodes);
	n = &f->nodes[f->nr_nodes++];
	memset(n, 0, sizeof(*n));
	n->name = xstrdup(name);
	n->status = xstrdup(status ? status : "unknown");
	strvec_init(&n->bridges);
	return n;
}

struct facts_node *facts_node(const struct cluster_facts *f, const char *name)
{
	size_t i;

	for (i = 0; name && i < f->nr_nodes; i++)
		if (!strcmp(f->nodes[i].name, name))
			return &f->nodes[i];
	return NULL;
}

struct facts_storage *facts_add_storage(struct facts_node *n, const char *name,
					const char *content, bool enabled,
					bool active)
{
	struct facts_storage *s;

	ALLOC_GROW(n->st, st_add(n->nr_st, 1), n->alloc_st);
	s = &n->st[n->nr_st++];
	s->name = xstrdup(name);
	s->content = xstrdup(content ? content : "");
	s->enabled = enabled;
	s->active = active;
	s->shared = false;
	return s;
}

const struct facts_storage *facts_storage(const struct facts_node *n,
					  const char *name)
{
	size_t i;

	for (i = 0; name && i < n->nr_st; i++)
		if (!strcmp(n->st[i].name, name))
			return &n->st[i];
	return NULL;
}

bool facts_has_content(const char *list, const char *c)
{
	size_t n = strlen(c);
	const char *p = list;

	while (p && (p = strstr(p, c))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

/* The ip= of an ipconfigN value ("ip=10.0.0.5/24,gw=10.0.0.1"), read
 * leniently: another VM's value need not pass our stricter checks. */
static bool ip_of(const char *val, uint32_t *ip)
{
	const char *p = val, *end;

	while (p && *p) {
		if (!strncmp(p, "ip=", 3)) {
			p += 3;
			end = p + strcspn(p, "/,");
			return pve_parse_ipv4(ip, p, (size_t)(end - p)) == 0;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

static bool is_ipconfig_key(const char *k)
{
	const char *p = k + strlen("ipconfig");

	if (strncmp(k, "ipconfig", strlen("ipconfig")) || !*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

void facts_add_config_ips(struct cluster_facts *f, int vmid, const char *name,
			  const struct strvec *keys, const struct strvec *vals)
{
	uint32_t ip;
	size_t i;

	ALLOC_GROW(f->ip_vmids, st_add(f->nr_ip_vmids, 1), f->alloc_ip_vmids);
	f->ip_vmids[f->nr_ip_vmids++] = vmid;
	for (i = 0; i < keys->nr && i < vals->nr; i++) {
		struct facts_ip *e;

		if (!is_ipconfig_key(keys->v[i]) || !ip_of(vals->v[i], &ip))
			continue;
		ALLOC_GROW(f->ips, st_add(f->nr_ips, 1), f->alloc_ips);
		e = &f->ips[f->nr_ips++];
		e->ip4 = ip;
		e->vmid = vmid;
		e->name = xstrdup(name ? name : "");
		e->key = xstrdup(keys->v[i]);
	}
}

void facts_add_ip(struct cluster_facts *f, int vmid, const char *name,
		  const char *key, uint32_t ip4)
{
	struct facts_ip *e;

	ALLOC_GROW(f->ips, st_add(f->nr_ips, 1), f->alloc_ips);
	e = &f->ips[f->nr_ips++];
	e->ip4 = ip4;
	e->vmid = vmid;
	e->name = xstrdup(name ? name : "");
	e->key = xstrdup(key);
}

bool facts_ips_of(const struct cluster_facts *f, int vmid)
{
	size_t i;

	for (i = 0; i < f->nr_ip_vmids; i++)
		if (f->ip_vmids[i] == vmid)
			return true;
	return false;
}

static void sep(struct strbuf *why, size_t *n)
{
	if (why->len)
		strbuf_addstr(why, "; ");
	(*n)++;
}

/* The nodes a message names: a longer list is cut. */
#define NODES_SHOWN 16

/* "a, b, c" of the nodes online (or all), the first NODES_SHOWN and
 * "and N more"; "none" when there are none. */
static void node_list(struct strbuf *sb, const struct cluster_facts *f,
		      bool online)
{
	size_t i, k = 0;

	for (i = 0; i < f->nr_nodes; i++) {
		if (online && strcmp(f->nodes[i].status, "online"))
			continue;
		if (k++ < NODES_SHOWN)
			strbuf_addf(sb, "%s%s", k > 1 ? ", " : "",
				    f->nodes[i].name);
	}
	if (k > NODES_SHOWN)
		strbuf_addf(sb, " and %zu more", k - NODES_SHOWN);
	if (!k)
		strbuf_addstr(sb, "none");
}

static const struct facts_node *check_node(struct strbuf *why, size_t *n,
					   const struct vmdef *def,
					   const struct cluster_facts *f)
{
	const struct facts_node *node = facts_node(f, def->target_node);

	if (!f->nodes_read)
		return NULL;
	if (!node) {
		sep(why, n);
		strbuf_addf(why, "%s is not a cluster node (nodes: ",
			    def->target_node);
		node_list(why, f, false);
		strbuf_addstr(why, "); set target_node to one of them");
		return NULL;
	}
	if (strcmp(node->status, "online")) {
		sep(why, n);
		strbuf_addf(why,
			    "node %s is %s; bring it back online or set "
			    "target_node to an online node (",
			    node->name, node->status);
		node_list(why, f, true);
		strbuf_addstr(why, ")");
		return NULL;
	}
	return node;
}

/* The storages of node that take VM disks, as "a, b" ("none"). */
static void image_storages(struct strbuf *sb, const struct facts_node *node)
{
	size_t i, k = 0;

	for (i = 0; i < node->nr_st; i++) {
		const struct facts_storage *s = &node->st[i];

		if (s->enabled && s->active &&
		    facts_has_content(s->content, "images"))
			strbuf_addf(sb, "%s%s", k++ ? ", " : "", s->name);
	}
	if (!k)
		strbuf_addstr(sb, "none");
}

static void check_storage(struct strbuf *why, size_t *n, const char *name,
			  const struct facts_node *node)
{
	const struct facts_storage *s = facts_storage(node, name);

	if (s && s->enabled && s->active &&
	    facts_has_content(s->content, "images"))
		return;
	sep(why, n);
	if (!s)
		strbuf_addf(why, "storage '%s' does not exist on node %s", name,
			    node->name);
	else if (!s->enabled)
		strbuf_addf(why, "storage '%s' is disabled on node %s", name,
			    node->name);
	else if (!s->active)
		strbuf_addf(why, "storage '%s' is not active on node %s", name,
			    node->name);
	else
		strbuf_addf(why,
			    "storage '%s' on node %s does not hold VM disks "
			    "(content: %s; add 'images' to it)",
			    name, node->name, s->content);
	strbuf_addstr(why, "; set storage to one that does (");
	image_storages(why, node);
	strbuf_addstr(why, ")");
}

static void check_storages(struct strbuf *why, size_t *n,
			   const struct vmdef *def,
			   const struct facts_node *node)
{
	size_t i, j;

	if (!node->storage_read)
		return;
	for (i = 0; i < def->nr_disks; i++) {
		const struct vm_disk *d = &def->disks[i];
		bool seen = false;

		if ((d->kind != DISK_DISK && d->kind != DISK_CLOUDINIT) ||
		    !d->storage)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = def->disks[j].storage &&
			       (def->disks[j].kind == DISK_DISK ||
				def->disks[j].kind == DISK_CLOUDINIT) &&
			       !strcmp(def->disks[j].storage, d->storage);
		if (!seen)
			check_storage(why, n, d->storage, node);
	}
}

static void check_bridges(struct strbuf *why, size_t *n,
			  const struct vmdef *def,
			  const struct facts_node *node)
{
	size_t i, j;

	if (!node->bridges_read)
		return;
	for (i = 0; i < def->nr_nets; i++) {
		const char *b = def->nets[i].bridge;
		bool found = false;

		for (j = 0; b && j < node->bridges.nr && !found; j++)
			found = !strcmp(node->bridges.v[j], b);
		if (!b || found)
			continue;
		sep(why, n);
		strbuf_addf(why,
			    "bridge '%s' does not exist on node %s (bridges: ",
			    b, node->name);
		for (j = 0; j < node->bridges.nr; j++)
			strbuf_addf(why, "%s%s", j ? ", " : "",
				    node->bridges.v[j]);
		strbuf_addf(why, "%s); set bridge of net%u to one of them",
			    node->bridges.nr ? "" : "none", def->nets[i].index);
	}
}

static void check_ip(struct strbuf *why, size_t *n, const struct vmdef *def,
		     const struct cluster_facts *f, int self_vmid)
{
	struct strbuf ip = STRBUF_INIT;
	size_t i;

	if (!f->ips_read || !vmdef_ipv4(def, &ip)) {
		strbuf_release(&ip);
		return;
	}
	for (i = 0; i < f->nr_ips; i++) {
		const struct facts_ip *e = &f->ips[i];

		if (e->ip4 != def->ip.ip4 || e->vmid == self_vmid)
			continue;
		sep(why, n);
		strbuf_addf(why,
			    "%s is already used by VM %d '%s' (its %s); choose "
			    "another address in ipconfig0, or change that VM",
			    ip.buf, e->vmid, e->name, e->key);
		break;
	}
	strbuf_release(&ip);
}

size_t planchk_def(struct strbuf *why, const struct vmdef *def,
		   const struct cluster_facts *f, int self_vmid)
{
	const struct facts_node *node;
	size_t n = 0;

	if (!f)
		return 0;
	node = check_node(why, &n, def, f);
	if (node) {
		check_storages(why, &n, def, node);
		check_bridges(why, &n, def, node);
	}
	check_ip(why, &n, def, f, self_vmid);
	return n;
}

#define MIB (1024ULL * 1024ULL)

static void check_memory(struct strbuf *why, size_t *n, const struct vmdef *def,
			 const struct facts_node *node)
{
	uint64_t free_b, need = def->memory * MIB;

	if (!node->mem_read)
		return;
	free_b = node->maxmem > node->mem ? node->maxmem - node->mem : 0;
	if (free_b >= need)
		return;
	sep(why, n);
	strbuf_addf(why,
		    "node %s has %llu MiB of memory free (of %llu MiB), the VM "
		    "needs %llu MiB; free memory there or set target_node to "
		    "another node",
		    node->name, (unsigned long long)(free_b / MIB),
		    (unsigned long long)(node->maxmem / MIB),
		    (unsigned long long)def->memory);
}

size_t planchk_migration(struct strbuf *why, const struct vmdef *def,
			 const struct cluster_facts *f)
{
	const struct facts_node *node;
	size_t n = 0;

	if (!f)
		return 0;
	node = check_node(why, &n, def, f);
	if (node) {
		check_storages(why, &n, def, node);
		check_bridges(why, &n, def, node);
		check_memory(why, &n, def, node);
	}
	return n;
}
