/*
 * ippool.h - IPv4 address pools (the config's ip_pools:) and the pure
 * allocator: which address a definition with ip_pool: gets.
 *
 * The allocations live in Vault (ops/ippool.c, one KV v2 secret per pool
 * written with check-and-set); here they are a list of key -> address. A
 * key is "OWNER/NAME": the repository's ip_pools_owner and the VM's name,
 * so two repositories sharing a pool never take each other's VM for their
 * own, and one repository's runners share its allocations.
 */
#ifndef PVE_GITOPS_IPPOOL_H
#define PVE_GITOPS_IPPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct ip_span {
	uint32_t lo, hi; /* inclusive, host byte order */
};

struct ip_pool {
	char *name;
	uint32_t net;	 /* the network address */
	unsigned prefix; /* 8..30 */
	uint32_t gateway;
	struct ip_span range; /* what is handed out; the whole cidr's hosts
			       * without range: */
	struct ip_span *exclude;
	size_t nr_exclude, alloc_exclude;
	char *nameserver;
	char *vault_path; /* NULL: ip_pools_vault_mount/pve-gitops/ip-pools/NAME
			   */
	/* vnet: and zone: the allocations are entries of Proxmox's PVE
	 * IPAM in that vnet's subnet of cidr (ops/ippool.c), not Vault */
	char *vnet, *zone;
	int line, col; /* of its name in the config file */
};

struct ip_alloc {
	char *key; /* "OWNER/NAME" */
	uint32_t ip;
};

struct ip_allocs {
	struct ip_alloc *v;
	size_t nr, alloc;
};

#define IP_ALLOCS_INIT     \
	{                  \
		NULL, 0, 0 \
	}

void ip_pool_release(struct ip_pool *p);

uint32_t ip_pool_broadcast(const struct ip_pool *p);
/* Inside the cidr, not its network or broadcast address, not the gateway,
 * inside the range, not excluded. */
bool ip_pool_usable(const struct ip_pool *p, uint32_t ip);

void ip_allocs_release(struct ip_allocs *a);
/* The entry of key, or NULL. */
const struct ip_alloc *ip_allocs_find(const struct ip_allocs *a,
				      const char *key);
/* Set (add or replace) key's address. */
void ip_allocs_set(struct ip_allocs *a, const char *key, uint32_t ip);
/* Remove key; true when it was there. */
bool ip_allocs_remove(struct ip_allocs *a, const char *key);

enum ip_pick {
	IP_PICK_HELD,	   /* key holds a usable address already: stable */
	IP_PICK_NEW,	   /* the lowest free address */
	IP_PICK_EXHAUSTED, /* nothing free */
};

/*
 * The address for key: the one it holds when that is still usable, else
 * the lowest usable address no other key holds and not in in_use (the
 * addresses other VMs of the cluster and other definitions have).
 */
enum ip_pick ip_pool_pick(const struct ip_pool *p, const struct ip_allocs *a,
			  const char *key, const uint32_t *in_use,
			  size_t nr_in_use, uint32_t *out);

/* A pool's name and ip_pools_owner: 1 to 64 letters, digits, '.', '_'
 * or '-', starting with a letter or digit (they go into a Vault path and
 * the allocations' keys). */
int ip_pool_check_name(const char *s, struct strbuf *why);

/* Whether ip may go to key: usable, held by no other key, not in in_use. */
bool ip_pool_free_for(const struct ip_pool *p, const struct ip_allocs *a,
		      const char *key, uint32_t ip, const uint32_t *in_use,
		      size_t nr_in_use);

/* "OWNER/NAME" */
void ip_pool_key(struct strbuf *out, const char *owner, const char *name);
/* The ipconfig0 value for ip: "ip=A/PREFIX,gw=G". */
void ip_pool_ipconfig(struct strbuf *out, const struct ip_pool *p, uint32_t ip);
/* An SDN id (vnet:, zone:) as pve-network's pve-sdn-vnet-id and
 * pve-sdn-zone-id: 2 to 8 letters and digits, starting with a letter. */
int ip_pool_check_sdn_id(const char *s, struct strbuf *why);
/* The MAC address "02:XX:XX:XX:XX:XX" (locally administered, unicast)
 * derived from a key: what a VM of an SDN pool gets on its first network
 * device unless its definition sets one, since the PVE IPAM keys its
 * entries by MAC. */
void ip_pool_mac(char out[18], const char *key);

/* How many addresses the pool can hand out. */
size_t ip_pool_size(const struct ip_pool *p);

#endif
