/*
 * ippool.c - address pools and the pure allocator; see ippool.h.
 */
#include "core/ippool.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/xalloc.h"

void ip_pool_release(struct ip_pool *p)
{
	free(p->name);
	free(p->exclude);
	free(p->nameserver);
	free(p->vault_path);
	free(p->vnet);
	free(p->zone);
	memset(p, 0, sizeof(*p));
}

uint32_t ip_pool_broadcast(const struct ip_pool *p)
{
	return p->net | (p->prefix >= 32 ? 0 : (0xffffffffu >> p->prefix));
}

bool ip_pool_usable(const struct ip_pool *p, uint32_t ip)
{
	size_t i;

	if (ip <= p->net || ip >= ip_pool_broadcast(p) || ip == p->gateway)
		return false;
	if (ip < p->range.lo || ip > p->range.hi)
		return false;
	for (i = 0; i < p->nr_exclude; i++)
		if (ip >= p->exclude[i].lo && ip <= p->exclude[i].hi)
			return false;
	return true;
}

size_t ip_pool_size(const struct ip_pool *p)
{
	uint64_t ip;
	size_t n = 0;

	for (ip = p->range.lo; ip <= p->range.hi; ip++)
		n += ip_pool_usable(p, (uint32_t)ip);
	return n;
}

void ip_allocs_release(struct ip_allocs *a)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		free(a->v[i].key);
	free(a->v);
	a->v = NULL;
	a->nr = a->alloc = 0;
}

const struct ip_alloc *ip_allocs_find(const struct ip_allocs *a,
				      const char *key)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (!strcmp(a->v[i].key, key))
			return &a->v[i];
	return NULL;
}

void ip_allocs_set(struct ip_allocs *a, const char *key, uint32_t ip)
{
	struct ip_alloc *x = (struct ip_alloc *)ip_allocs_find(a, key);

	if (!x) {
		ALLOC_GROW(a->v, a->nr + 1, a->alloc);
		x = &a->v[a->nr++];
		x->key = xstrdup(key);
	}
	x->ip = ip;
}

bool ip_allocs_remove(struct ip_allocs *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (!strcmp(a->v[i].key, key)) {
			free(a->v[i].key);
			a->v[i] = a->v[--a->nr];
			return true;
		}
	return false;
}

static bool taken(const struct ip_allocs *a, const char *key, uint32_t ip,
		  const uint32_t *in_use, size_t nr_in_use)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (a->v[i].ip == ip && strcmp(a->v[i].key, key))
			return true;
	for (i = 0; i < nr_in_use; i++)
		if (in_use[i] == ip)
			return true;
	return false;
}

bool ip_pool_free_for(const struct ip_pool *p, const struct ip_allocs *a,
		      const char *key, uint32_t ip, const uint32_t *in_use,
		      size_t nr_in_use)
{
	return ip_pool_usable(p, ip) && !taken(a, key, ip, in_use, nr_in_use);
}

enum ip_pick ip_pool_pick(const struct ip_pool *p, const struct ip_allocs *a,
			  const char *key, const uint32_t *in_use,
			  size_t nr_in_use, uint32_t *out)
{
	const struct ip_alloc *held = ip_allocs_find(a, key);
	uint64_t ip;

	/* a holder keeps its address even when a VM outside the pool took
	 * it since: the plan's address check blocks that one instead of
	 * moving a running VM */
	if (held && ip_pool_usable(p, held->ip)) {
		*out = held->ip;
		return IP_PICK_HELD;
	}
	for (ip = p->range.lo; ip <= p->range.hi; ip++)
		if (ip_pool_usable(p, (uint32_t)ip) &&
		    !taken(a, key, (uint32_t)ip, in_use, nr_in_use)) {
			*out = (uint32_t)ip;
			return IP_PICK_NEW;
		}
	return IP_PICK_EXHAUSTED;
}

int ip_pool_check_name(const char *s, struct strbuf *why)
{
	size_t n = strlen(s);

	if (n && n <= 64 && isalnum((unsigned char)s[0]) &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") == n)
		return 0;
	strbuf_addstr(why, "a pool or owner name is 1 to 64 letters, digits, "
			   "'.', '_' or '-', starting with a letter or digit");
	return -1;
}

void ip_pool_key(struct strbuf *out, const char *owner, const char *name)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/%s", owner, name);
}

void ip_pool_ipconfig(struct strbuf *out, const struct ip_pool *p, uint32_t ip)
{
	strbuf_reset(out);
	strbuf_addstr(out, "ip=");
	pve_format_ipv4(out, ip);
	strbuf_addf(out, "/%u,gw=", p->prefix);
	pve_format_ipv4(out, p->gateway);
}

int ip_pool_check_sdn_id(const char *s, struct strbuf *why)
{
	size_t i, n = strlen(s);
	bool ok = n >= 2 && n <= 8 && isalpha((unsigned char)s[0]);

	for (i = 1; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]);
	if (ok)
		return 0;
	strbuf_addstr(why, "an SDN vnet or zone id is 2 to 8 letters and "
			   "digits, starting with a letter");
	return -1;
}

void ip_pool_mac(char out[18], const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	const unsigned char *c;

	for (c = (const unsigned char *)key; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	snprintf(out, 18, "02:%02X:%02X:%02X:%02X:%02X",
		 (unsigned)(h >> 32) & 0xff, (unsigned)(h >> 24) & 0xff,
		 (unsigned)(h >> 16) & 0xff, (unsigned)(h >> 8) & 0xff,
		 (unsigned)h & 0xff);
}
