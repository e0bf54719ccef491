/*
 * simread.c - the parts of the model that only the read endpoints show
 * (issue 15): containers (listed, no lifecycle), files inside guests for
 * the agent's file-read, DHCP VMs' addresses for its
 * network-get-interfaces, user groups, the nodes' network interfaces and
 * the storage.cfg keys a storage carries beyond its type and content. The
 * topology file (state.c) fills them; sim_release frees them.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "vmconfig.h"
#include "util/xalloc.h"

struct sim_ct *sim_ct(struct sim *s, int vmid)
{
	size_t i;

	for (i = 0; i < s->nr_cts; i++)
		if (s->cts[i].vmid == vmid)
			return &s->cts[i];
	return NULL;
}

struct sim_ct *sim_ct_new(struct sim *s, int vmid, const char *node)
{
	struct sim_ct *ct;

	ALLOC_GROW(s->cts, st_add(s->nr_cts, 1), s->alloc_cts);
	ct = &s->cts[s->nr_cts++];
	memset(ct, 0, sizeof(*ct));
	ct->vmid = vmid;
	ct->node = xstrdup(node);
	return ct;
}

const struct sim_guest_file *sim_guest_file(const struct sim *s, int vmid,
					    const char *path)
{
	size_t i;

	for (i = 0; i < s->nr_gfiles; i++)
		if (s->gfiles[i].vmid == vmid &&
		    !strcmp(s->gfiles[i].path, path))
			return &s->gfiles[i];
	return NULL;
}

void sim_guest_file_set(struct sim *s, int vmid, const char *path,
			const char *data, size_t len)
{
	struct sim_guest_file *f =
		(struct sim_guest_file *)sim_guest_file(s, vmid, path);

	if (!f) {
		ALLOC_GROW(s->gfiles, st_add(s->nr_gfiles, 1), s->alloc_gfiles);
		f = &s->gfiles[s->nr_gfiles++];
		f->vmid = vmid;
		f->path = xstrdup(path);
	} else {
		free(f->data);
	}
	f->data = xmalloc(st_add(len, 1));
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
}

struct sim_group *sim_group_new(struct sim *s, const char *groupid,
				const char *comment)
{
	struct sim_group *g;

	ALLOC_GROW(s->groups, st_add(s->nr_groups, 1), s->alloc_groups);
	g = &s->groups[s->nr_groups++];
	g->groupid = xstrdup(groupid);
	g->comment = comment ? xstrdup(comment) : NULL;
	strvec_init(&g->users);
	return g;
}

void sim_netif_add(struct sim *s, const char *node, const char *iface,
		   const char *type, const char *cidr, const char *ports)
{
	struct sim_netif *n;

	ALLOC_GROW(s->netifs, st_add(s->nr_netifs, 1), s->alloc_netifs);
	n = &s->netifs[s->nr_netifs++];
	n->node = xstrdup(node);
	n->iface = xstrdup(iface);
	n->type = xstrdup(type);
	n->cidr = cidr ? xstrdup(cidr) : NULL;
	n->ports = ports ? xstrdup(ports) : NULL;
}

struct kvlist *sim_stcfg(struct sim *s, const char *storage, bool create)
{
	size_t i;

	for (i = 0; i < s->nr_stcfg; i++)
		if (!strcmp(s->stcfg[i].storage, storage))
			return &s->stcfg[i].cfg;
	if (!create)
		return NULL;
	ALLOC_GROW(s->stcfg, st_add(s->nr_stcfg, 1), s->alloc_stcfg);
	memset(&s->stcfg[s->nr_stcfg], 0, sizeof(s->stcfg[0]));
	s->stcfg[s->nr_stcfg].storage = xstrdup(storage);
	return &s->stcfg[s->nr_stcfg++].cfg;
}

int sim_vm_addr(const struct sim *s, const struct sim_vm *vm, char addr[16],
		int *prefix)
{
	const char *name = kv_get(&vm->conf, "name");
	const char *lease = name ? kv_get(&s->leases, name) : NULL;

	if (vm_ipv4(vm, addr, prefix))
		return 1;
	if (!lease || strlen(lease) > 15)
		return 0;
	memcpy(addr, lease, strlen(lease) + 1);
	*prefix = 24;
	return 1;
}

void sim_readapi_release(struct sim *s)
{
	size_t i;

	kv_clear(&s->leases);
	for (i = 0; i < s->nr_cts; i++) {
		free(s->cts[i].node);
		kv_clear(&s->cts[i].conf);
	}
	free(s->cts);
	for (i = 0; i < s->nr_gfiles; i++) {
		free(s->gfiles[i].path);
		free(s->gfiles[i].data);
	}
	free(s->gfiles);
	for (i = 0; i < s->nr_groups; i++) {
		free(s->groups[i].groupid);
		free(s->groups[i].comment);
		strvec_clear(&s->groups[i].users);
	}
	free(s->groups);
	for (i = 0; i < s->nr_netifs; i++) {
		free(s->netifs[i].node);
		free(s->netifs[i].iface);
		free(s->netifs[i].type);
		free(s->netifs[i].cidr);
		free(s->netifs[i].ports);
	}
	free(s->netifs);
	for (i = 0; i < s->nr_stcfg; i++) {
		free(s->stcfg[i].storage);
		kv_clear(&s->stcfg[i].cfg);
	}
	free(s->stcfg);
}
