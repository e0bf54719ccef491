/*
 * desired.c - a VM definition as Proxmox configuration; see desired.h.
 *
 * The digest is FNV-1a (32 bits) over "key=value" lines of everything the
 * definition sets, disks included, tags excluded (they carry the digest).
 * It only has to change when the definition does; it is no security
 * boundary (a hand-made change is caught by plan --refresh).
 */
#include "core/desired.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static void put(struct desired *d, const char *key, const char *val)
{
	strvec_push(&d->keys, key);
	strvec_push(&d->vals, val);
}

static void putu(struct desired *d, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	put(d, key, buf);
}

void desired_encode_sshkeys(struct strbuf *out, const char *keys)
{
	size_t n = strlen(keys);

	strbuf_add_percent_encoded(out, keys);
	if (n && keys[n - 1] != '\n')
		strbuf_addstr(out, "%0A");
}

static void net_value(struct strbuf *v, const struct vm_net *n)
{
	strbuf_addf(v, "model=%s,bridge=%s",
		    n->model ? n->model : VMDEF_DEFAULT_MODEL,
		    n->bridge ? n->bridge : VMDEF_DEFAULT_BRIDGE);
	if (n->firewall > 0)
		strbuf_addstr(v, ",firewall=1");
	if (n->link_down > 0)
		strbuf_addstr(v, ",link_down=1");
	if (n->macaddr)
		strbuf_addf(v, ",macaddr=%s", n->macaddr);
	if (n->mtu)
		strbuf_addf(v, ",mtu=%llu", (unsigned long long)n->mtu);
	if (n->queues)
		strbuf_addf(v, ",queues=%llu", (unsigned long long)n->queues);
	if (n->tag)
		strbuf_addf(v, ",tag=%llu", (unsigned long long)n->tag);
}

static void flag(struct strbuf *o, const char *key, int v, const char *on)
{
	if (v == 1)
		strbuf_addf(o, ",%s=%s", key, on);
	else if (v == 0)
		strbuf_addf(o, ",%s=0", key);
}

static void disk_options(struct strbuf *o, const struct vm_disk *k)
{
	int i;

	if (k->cache)
		strbuf_addf(o, ",cache=%s", k->cache);
	if (k->asyncio)
		strbuf_addf(o, ",aio=%s", k->asyncio);
	flag(o, "backup", k->backup, "1");
	if (k->discard == 1)
		strbuf_addstr(o, ",discard=on");
	else if (k->discard == 0)
		strbuf_addstr(o, ",discard=ignore");
	if (k->format)
		strbuf_addf(o, ",format=%s", k->format);
	flag(o, "iothread", k->iothread, "1");
	flag(o, "ro", k->readonly, "1");
	flag(o, "replicate", k->replicate, "1");
	flag(o, "ssd", k->ssd, "1");
	for (i = 0; i < VMDEF_NR_THROTTLE; i++)
		if (k->throttle[i])
			strbuf_addf(o, ",%s=%s", vmdef_throttle_keys[i],
				    k->throttle[i]);
}

/* Whole GiB for "storage:N", else Proxmox's fractional form. */
static void alloc_size(struct strbuf *v, uint64_t bytes)
{
	uint64_t gib = 1ULL << 30;

	if (!(bytes % gib))
		strbuf_addf(v, "%llu", (unsigned long long)(bytes / gib));
	else
		strbuf_addf(v, "%.6f", (double)bytes / (double)gib);
}

static void add_disk(struct desired *d, const struct vm_disk *k)
{
	struct desired_disk *dd;
	struct strbuf o = STRBUF_INIT, v = STRBUF_INIT;

	ALLOC_GROW(d->disks, st_add(d->nr_disks, 1), d->alloc_disks);
	dd = &d->disks[d->nr_disks++];
	memset(dd, 0, sizeof(*dd));
	dd->slot = k->slot;
	dd->kind = k->kind;
	dd->storage = k->storage;
	dd->format = k->format;
	dd->size = k->size;
	disk_options(&o, k);
	switch (k->kind) {
	case DISK_DISK:
		strbuf_addf(&v, "%s:", k->storage);
		alloc_size(&v, k->size ? k->size : 1ULL << 30);
		strbuf_add(&v, o.buf, o.len);
		break;
	case DISK_CLOUDINIT:
		strbuf_addf(&v, "%s:cloudinit", k->storage);
		break;
	case DISK_CDROM:
		strbuf_addf(&v, "%s,media=cdrom",
			    k->iso ? k->iso
				   : (k->cdrom_passthrough == 1 ? "cdrom"
								: "none"));
		break;
	case DISK_PASSTHROUGH:
		strbuf_addf(&v, "%s", k->file);
		strbuf_add(&v, o.buf, o.len);
		break;
	}
	dd->value = strbuf_detach(&v, NULL);
	dd->options = strbuf_detach(&o, NULL);
}

static uint32_t fnv1a(uint32_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The configuration keys a definition sets, in the order they are sent. */
static void put_config(struct desired *d, const struct vmdef *vm)
{
	struct strbuf v = STRBUF_INIT;
	size_t i;

	put(d, "name", vm->name);
	putu(d, "cores", vm->cores);
	putu(d, "sockets", vm->sockets);
	putu(d, "memory", vm->memory);
	put(d, "cpu", vm->cpu_type ? vm->cpu_type : VMDEF_DEFAULT_CPU);
	for (i = 0; i < vm->nr_nets; i++) {
		char key[16];

		snprintf(key, sizeof(key), "net%u", vm->nets[i].index);
		strbuf_reset(&v);
		net_value(&v, &vm->nets[i]);
		put(d, key, v.buf);
	}
	if (vm->ipconfig0)
		put(d, "ipconfig0", vm->ipconfig0);
	if (vm->ciuser)
		put(d, "ciuser", vm->ciuser);
	if (vm->nameserver)
		put(d, "nameserver", vm->nameserver);
	if (vm->searchdomain)
		put(d, "searchdomain", vm->searchdomain);
	if (vm->sshkeys) {
		strbuf_reset(&v);
		desired_encode_sshkeys(&v, vm->sshkeys);
		put(d, "sshkeys", v.buf);
	}
	if (vm->onboot >= 0)
		putu(d, "onboot", (uint64_t)vm->onboot);
	if (vm->agent >= 0)
		putu(d, "agent", (uint64_t)vm->agent);
	if (vm->boot)
		put(d, "boot", vm->boot);
	if (vm->scsihw)
		put(d, "scsihw", vm->scsihw);
	if (vm->description)
		put(d, "description", vm->description);
	if (vm->args)
		put(d, "args", vm->args);
	for (i = 0; i < vm->nr_serials; i++) {
		char key[16];

		snprintf(key, sizeof(key), "serial%u", vm->serials[i].id);
		put(d, key, vm->serials[i].type);
	}
	for (i = 0; i < vm->nr_disks; i++)
		add_disk(d, &vm->disks[i]);
	strbuf_release(&v);
}

/* The digest into d->digest: every key and disk put so far, the state, and
 * what apply adds (the password's presence, never the password; tags). */
static void put_digest(struct desired *d, const struct vmdef *vm)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < d->keys.nr; i++) {
		h = fnv1a(h, d->keys.v[i]);
		h = fnv1a(h, "=");
		h = fnv1a(h, d->vals.v[i]);
		h = fnv1a(h, "\n");
	}
	for (i = 0; i < d->nr_disks; i++) {
		h = fnv1a(h, d->disks[i].slot);
		h = fnv1a(h, "=");
		h = fnv1a(h, d->disks[i].value);
		h = fnv1a(h, "\n");
	}
	h = fnv1a(h, vm->vm_state == VM_STATE_RUNNING	? "state=running\n"
		     : vm->vm_state == VM_STATE_STOPPED ? "state=stopped\n"
							: "state=started\n");
	if (vm->cipassword_env) {
		h = fnv1a(h, "cipassword_env=");
		h = fnv1a(h, vm->cipassword_env);
	}
	if (vm->cipassword)
		h = fnv1a(h, "cipassword=set");
	for (i = 0; i < vm->tags.nr; i++)
		h = fnv1a(h, vm->tags.v[i]);
	snprintf(d->digest, sizeof(d->digest), "%08x", h);
}

/* "tags": ours, the digest and the definition's own, sorted, ';'-joined. */
static void put_tags(struct desired *d, const struct vmdef *vm)
{
	struct strbuf v = STRBUF_INIT;
	struct strvec tags = STRVEC_INIT;
	size_t i;

	strvec_push(&tags, VMDEF_MANAGED_TAG);
	strvec_pushf(&tags, DESIRED_DIGEST_PREFIX "%s", d->digest);
	for (i = 0; i < vm->tags.nr; i++)
		strvec_push(&tags, vm->tags.v[i]);
	qsort(tags.v, tags.nr, sizeof(*tags.v), cmp_str);
	for (i = 0; i < tags.nr; i++)
		strbuf_addf(&v, "%s%s", i ? ";" : "", tags.v[i]);
	put(d, "tags", v.buf);
	strvec_clear(&tags);
	strbuf_release(&v);
}

void desired_build(struct desired *d, const struct vmdef *vm)
{
	memset(d, 0, sizeof(*d));
	strvec_init(&d->keys);
	strvec_init(&d->vals);
	put_config(d, vm);
	put_digest(d, vm);
	put_tags(d, vm);
}

void desired_release(struct desired *d)
{
	size_t i;

	strvec_clear(&d->keys);
	strvec_clear(&d->vals);
	for (i = 0; i < d->nr_disks; i++) {
		free(d->disks[i].value);
		free(d->disks[i].options);
	}
	free(d->disks);
	d->disks = NULL;
	d->nr_disks = d->alloc_disks = 0;
}

const char *desired_get(const struct desired *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->keys.nr; i++)
		if (!strcmp(d->keys.v[i], key))
			return d->vals.v[i];
	return NULL;
}

const char *desired_find_digest(const char *tags, size_t *len)
{
	const char *p = tags;
	size_t n = strlen(DESIRED_DIGEST_PREFIX);

	while (p && *p) {
		size_t l = strcspn(p, ";, ");

		if (l == n + 8 && !strncmp(p, DESIRED_DIGEST_PREFIX, n)) {
			*len = l;
			return p;
		}
		p += l;
		while (*p == ';' || *p == ',' || *p == ' ')
			p++;
	}
	return NULL;
}
