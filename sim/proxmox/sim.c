/*
 * sim.c - the model of the simulated cluster: configuration lists, nodes,
 * VMs, volumes, tasks and their effects when they end.
 */
#include "sim.h"

#include <ctype.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/xalloc.h"

int64_t sim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *kv_get(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].val;
	return NULL;
}

void kv_set(struct kvlist *l, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].val);
			l->v[i].val = val ? xstrdup(val) : NULL;
			return;
		}
	ALLOC_GROW(l->v, st_add(l->nr, 1), l->alloc);
	l->v[l->nr].key = xstrdup(key);
	l->v[l->nr].val = val ? xstrdup(val) : NULL;
	l->nr++;
}

int kv_del(struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].key);
			free(l->v[i].val);
			memmove(l->v + i, l->v + i + 1,
				(l->nr - i - 1) * sizeof(*l->v));
			l->nr--;
			return 1;
		}
	return 0;
}

void kv_clear(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

void kv_copy(struct kvlist *dst, const struct kvlist *src)
{
	size_t i;

	kv_clear(dst);
	for (i = 0; i < src->nr; i++)
		kv_set(dst, src->v[i].key, src->v[i].val);
}

void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	s->opts.default_task_ms = 100;
	s->opts.boot_ms = 500;
	s->opts.ticket_lifetime = 7200;
	s->opts.lock_wait_ms = 10000;
	s->next_pid = 100000;
	if (gnutls_rnd(GNUTLS_RND_NONCE, &s->rng, sizeof(s->rng)) < 0)
		s->rng = (uint64_t)time(NULL);
	s->rng |= 1;
}

uint64_t sim_random(struct sim *s)
{
	/* xorshift64*: good enough for MACs and names; secrets use gnutls */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1DULL;
}

void sim_random_hex(struct sim *s, char *out, size_t nbytes)
{
	unsigned char buf[64];
	size_t i;

	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	if (gnutls_rnd(GNUTLS_RND_RANDOM, buf, nbytes) < 0)
		for (i = 0; i < nbytes; i++)
			buf[i] = (unsigned char)sim_random(s);
	for (i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

void sim_new_mac(struct sim *s, char out[18])
{
	uint64_t r = sim_random(s);

	snprintf(out, 18, "BC:24:11:%02X:%02X:%02X", (unsigned)(r & 0xff),
		 (unsigned)((r >> 8) & 0xff), (unsigned)((r >> 16) & 0xff));
}

static void vm_free(struct sim_vm *vm)
{
	size_t i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_snaps; i++) {
		free(vm->snaps[i].name);
		kv_clear(&vm->snaps[i].conf);
	}
	free(vm->snaps);
	free(vm->node);
	kv_clear(&vm->conf);
	kv_clear(&vm->pending);
	kv_clear(&vm->ci_done);
	free(vm->hostkey);
	free(vm->image);
	free(vm);
}

static void task_free(struct sim_task *t)
{
	if (!t)
		return;
	free(t->upid);
	free(t->node);
	free(t->type);
	free(t->id);
	free(t->user);
	free(t->exitstatus);
	free(t->fail);
	free(t->move_key);
	free(t->move_volid);
	free(t->mig_target);
	free(t->mig_volmap);
	free(t->snapname);
	strvec_clear(&t->log);
	free(t);
}

void sim_release(struct sim *s)
{
	size_t i, j;

	guests_release(s); /* every guest is killed */
	for (i = 0; i < s->nr_nodes; i++) {
		for (j = 0; j < s->nodes[i].nr_st; j++) {
			free(s->nodes[i].st[j].name);
			free(s->nodes[i].st[j].type);
			free(s->nodes[i].st[j].content);
		}
		free(s->nodes[i].st);
		free(s->nodes[i].name);
		free(s->nodes[i].migration_error);
	}
	free(s->nodes);
	for (i = 0; i < s->nr_vms; i++)
		vm_free(s->vms[i]);
	free(s->vms);
	for (i = 0; i < s->nr_vols; i++) {
		free(s->vols[i].storage);
		free(s->vols[i].name);
		free(s->vols[i].node);
	}
	free(s->vols);
	for (i = 0; i < s->nr_tasks; i++)
		task_free(s->tasks[i]);
	free(s->tasks);
	for (i = 0; i < s->nr_pools; i++) {
		free(s->pools[i].id);
		free(s->pools[i].comment);
		free(s->pools[i].vmids);
	}
	free(s->pools);
	for (i = 0; i < s->nr_users; i++) {
		free(s->users[i].userid);
		free(s->users[i].password);
	}
	free(s->users);
	for (i = 0; i < s->nr_tokens; i++) {
		free(s->tokens[i].tokenid);
		free(s->tokens[i].secret);
	}
	free(s->tokens);
	for (i = 0; i < s->nr_tickets; i++) {
		free(s->tickets[i].ticket);
		free(s->tickets[i].csrf);
		free(s->tickets[i].userid);
	}
	free(s->tickets);
	for (i = 0; i < s->nr_guest_keys; i++) {
		free(s->guest_keys[i].addr);
		free(s->guest_keys[i].key);
	}
	free(s->guest_keys);
	sim_readapi_release(s); /* readapi (issue 15) */
	sim_sdn_release(s);
	for (i = 0; i < s->nr_ha; i++) {
		free(s->ha[i].sid);
		kv_clear(&s->ha[i].opts);
	}
	free(s->ha);
	for (i = 0; i < s->opts.nr_task_ms; i++)
		free(s->opts.task_ms[i].type);
	free(s->opts.task_ms);
	free(s->opts.deaf_vmids);
	pthread_mutex_destroy(&s->mu);
}

void sim_add_user(struct sim *s, const char *userid, const char *password)
{
	ALLOC_GROW(s->users, st_add(s->nr_users, 1), s->alloc_users);
	s->users[s->nr_users].userid = xstrdup(userid);
	s->users[s->nr_users].password = xstrdup(password);
	s->nr_users++;
}

void sim_add_token(struct sim *s, const char *tokenid, const char *secret)
{
	ALLOC_GROW(s->tokens, st_add(s->nr_tokens, 1), s->alloc_tokens);
	s->tokens[s->nr_tokens].tokenid = xstrdup(tokenid);
	s->tokens[s->nr_tokens].secret = xstrdup(secret);
	s->nr_tokens++;
}

struct sim_node *sim_node(struct sim *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_nodes; i++)
		if (!strcmp(s->nodes[i].name, name))
			return &s->nodes[i];
	return NULL;
}

struct sim_storage *sim_storage(struct sim_node *n, const char *name)
{
	size_t i;

	for (i = 0; n && i < n->nr_st; i++)
		if (!strcmp(n->st[i].name, name))
			return &n->st[i];
	return NULL;
}

struct sim_vm *sim_vm(struct sim *s, int vmid)
{
	size_t i;

	for (i = 0; i < s->nr_vms; i++)
		if (s->vms[i]->vmid == vmid)
			return s->vms[i];
	return NULL;
}

static void make_hostkey(struct sim *s, struct sim_vm *vm)
{
	/* "ssh-ed25519" key blob: string type, string 32-byte key */
	unsigned char blob[4 + 11 + 4 + 32];
	gnutls_datum_t in = { blob, sizeof(blob) }, out = { NULL, 0 };
	size_t i;

	memcpy(blob, "\0\0\0\013ssh-ed25519\0\0\0\040", 4 + 11 + 4);
	for (i = 0; i < 32; i++)
		blob[19 + i] = (unsigned char)sim_random(s);
	free(vm->hostkey);
	vm->hostkey = NULL;
	if (gnutls_base64_encode2(&in, &out) == 0) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, "ssh-ed25519 ");
		strbuf_add(&sb, out.data, out.size);
		strbuf_addf(&sb, " root@vm%d", vm->vmid);
		vm->hostkey = strbuf_detach(&sb, NULL);
		gnutls_free(out.data);
	}
}

static int cmp_vm(const void *a, const void *b)
{
	const struct sim_vm *x = *(const struct sim_vm *const *)a;
	const struct sim_vm *y = *(const struct sim_vm *const *)b;

	return (x->vmid > y->vmid) - (x->vmid < y->vmid);
}

struct sim_vm *sim_vm_new(struct sim *s, int vmid, const char *node)
{
	struct sim_vm *vm = xcalloc(1, sizeof(*vm));

	vm->vmid = vmid;
	vm->node = xstrdup(node);
	make_hostkey(s, vm);
	ALLOC_GROW(s->vms, st_add(s->nr_vms, 1), s->alloc_vms);
	s->vms[s->nr_vms++] = vm;
	qsort(s->vms, s->nr_vms, sizeof(*s->vms), cmp_vm);
	return vm;
}

struct sim_pool *sim_pool_of(struct sim *s, int vmid)
{
	size_t i, j;

	for (i = 0; i < s->nr_pools; i++)
		for (j = 0; j < s->pools[i].nr; j++)
			if (s->pools[i].vmids[j] == vmid)
				return &s->pools[i];
	return NULL;
}

void sim_pool_forget(struct sim *s, int vmid)
{
	struct sim_pool *p;
	size_t j;

	while ((p = sim_pool_of(s, vmid)))
		for (j = 0; j < p->nr; j++)
			if (p->vmids[j] == vmid) {
				p->vmids[j] = p->vmids[--p->nr];
				break;
			}
}

static void drop_volume(struct sim *s, size_t i)
{
	free(s->vols[i].storage);
	free(s->vols[i].name);
	free(s->vols[i].node);
	memmove(s->vols + i, s->vols + i + 1,
		(s->nr_vols - i - 1) * sizeof(*s->vols));
	s->nr_vols--;
}

struct sim_volume *sim_volume_find(struct sim *s, const char *storage,
				   const char *name)
{
	size_t i;

	for (i = 0; i < s->nr_vols; i++)
		if (!strcmp(s->vols[i].storage, storage) &&
		    !strcmp(s->vols[i].name, name))
			return &s->vols[i];
	return NULL;
}

void sim_volume_destroy(struct sim *s, const char *volid)
{
	const char *colon = strchr(volid, ':');
	char *storage = colon ? xstrndup(volid, (size_t)(colon - volid)) : NULL;
	struct sim_volume *v =
		colon ? sim_volume_find(s, storage, colon + 1) : NULL;

	if (v)
		drop_volume(s, (size_t)(v - s->vols));
	free(storage);
}

void sim_vm_remove(struct sim *s, int vmid, bool destroy_volumes)
{
	size_t i;

	sim_pool_forget(s, vmid);
	for (i = 0; i < s->nr_vms; i++)
		if (s->vms[i]->vmid == vmid) {
			vm_free(s->vms[i]);
			memmove(s->vms + i, s->vms + i + 1,
				(s->nr_vms - i - 1) * sizeof(*s->vms));
			s->nr_vms--;
			break;
		}
	if (!destroy_volumes)
		return;
	for (i = 0; i < s->nr_vols;)
		if (s->vols[i].vmid == vmid)
			drop_volume(s, i);
		else
			i++;
}

bool sim_storage_thin(const struct sim_storage *st)
{
	return !strcmp(st->type, "lvmthin") || !strcmp(st->type, "zfspool");
}

uint64_t sim_storage_used(struct sim *s, const char *node,
			  const struct sim_storage *st)
{
	uint64_t used = 0;
	size_t i;

	for (i = 0; i < s->nr_vols; i++)
		if (!strcmp(s->vols[i].storage, st->name) &&
		    (st->shared || !strcmp(s->vols[i].node, node)))
			used += s->vols[i].size;
	/* an over-committed thin pool is full, never more than full */
	if (sim_storage_thin(st) && used > st->total)
		used = st->total;
	return used;
}

/* Option keys compared as print_property_string sorts them: by name. */
static int cmp_opt_key(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = strcspn(x, "="), ny = strcspn(y, "=");
	int c = strncmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

void sim_drive_print(struct strbuf *out, const char *file, struct strvec *opts)
{
	size_t i;

	qsort(opts->v, opts->nr, sizeof(*opts->v), cmp_opt_key);
	strbuf_addstr(out, file);
	for (i = 0; i < opts->nr; i++)
		strbuf_addf(out, ",%s", opts->v[i]);
}

void sim_drive_set(struct strbuf *out, const char *val, const char *key,
		   const char *newval)
{
	struct strvec opts = STRVEC_INIT;
	size_t n = strcspn(val, ","), klen = strlen(key);
	char *file = xstrndup(val, n);
	const char *p = val + n;

	while (*p == ',') {
		size_t len = strcspn(p + 1, ",");

		if (len && (strncmp(p + 1, key, klen) || p[1 + klen] != '='))
			strvec_pushf(&opts, "%.*s", (int)len, p + 1);
		p += len + 1;
	}
	if (newval)
		strvec_pushf(&opts, "%s=%s", key, newval);
	sim_drive_print(out, file, &opts);
	strvec_clear(&opts);
	free(file);
}

struct sim_task *sim_task_find(struct sim *s, const char *upid)
{
	size_t i;

	for (i = 0; i < s->nr_tasks; i++)
		if (!strcmp(s->tasks[i]->upid, upid))
			return s->tasks[i];
	return NULL;
}

/* Cloud-init keys: what the drive holds is regenerated on start. */
static const char *const ci_keys[] = {
	"ciuser",    "cipassword", "sshkeys", "nameserver", "searchdomain",
	"ipconfig0", "ipconfig1",  "citype",  "cicustom",   NULL
};

void sim_ci_snapshot(struct sim_vm *vm)
{
	size_t i;

	kv_clear(&vm->ci_done);
	for (i = 0; ci_keys[i]; i++) {
		const char *v = kv_get(&vm->conf, ci_keys[i]);

		if (v)
			kv_set(&vm->ci_done, ci_keys[i], v);
	}
}

static bool is_template_conf(const struct sim_vm *vm)
{
	const char *t = kv_get(&vm->conf, "template");

	return t && !strcmp(t, "1");
}

/* Apply the pending changes (at start or reboot). */
static void apply_pending(struct sim_vm *vm)
{
	size_t i;

	for (i = 0; i < vm->pending.nr; i++) {
		if (vm->pending.v[i].val)
			kv_set(&vm->conf, vm->pending.v[i].key,
			       vm->pending.v[i].val);
		else
			kv_del(&vm->conf, vm->pending.v[i].key);
	}
	kv_clear(&vm->pending);
}

/* Does a configuration value name volume v ("STORAGE:NAME[,...]")? */
static bool names_volume(const char *val, const struct sim_volume *v)
{
	size_t n = strlen(v->storage), m = strlen(v->name);

	return val && !strncmp(val, v->storage, n) && val[n] == ':' &&
	       !strncmp(val + n + 1, v->name, m) &&
	       (!val[n + 1 + m] || val[n + 1 + m] == ',');
}

/* Is volume v named in the configuration (disks and unusedN), or the
 * vmstate of a snapshot (destroy_vm frees those too)? */
static bool referenced(const struct sim_vm *vm, const struct sim_volume *v)
{
	size_t i;

	for (i = 0; i < vm->conf.nr; i++)
		if (names_volume(vm->conf.v[i].val, v))
			return true;
	for (i = 0; i < vm->nr_snaps; i++)
		if (names_volume(kv_get(&vm->snaps[i].conf, "vmstate"), v))
			return true;
	return false;
}

/* Destroy a VM: its referenced volumes, and with unref all it owns. */
static void destroy_vm(struct sim *s, struct sim_vm *vm, bool unref)
{
	int vmid = vm->vmid;
	size_t i;

	for (i = 0; i < s->nr_vols;)
		if (s->vols[i].vmid == vmid &&
		    (unref || referenced(vm, &s->vols[i])))
			drop_volume(s, i);
		else
			i++;
	sim_vm_remove(s, vmid, false);
}

void sim_truncate_volumes(struct sim *s, size_t n)
{
	while (s->nr_vols > n)
		drop_volume(s, s->nr_vols - 1);
}

void sim_prune_tasks(struct sim *s, size_t max)
{
	size_t i, w = 0, excess = s->nr_tasks > max ? s->nr_tasks - max : 0;

	for (i = 0; i < s->nr_tasks; i++) {
		if (excess && s->tasks[i]->done) {
			task_free(s->tasks[i]);
			excess--;
			continue;
		}
		s->tasks[w++] = s->tasks[i];
	}
	s->nr_tasks = w;
}

void sim_vm_add_unused(struct sim_vm *vm, const char *volid)
{
	char key[16];
	int n;

	for (n = 0; n < 256; n++) {
		snprintf(key, sizeof(key), "unused%d", n);
		if (!kv_get(&vm->conf, key)) {
			kv_set(&vm->conf, key, volid);
			return;
		}
	}
}

/* A template's moved disk becomes a base volume, as template_create does. */
static void move_to_base(struct sim *s, struct strbuf *volid)
{
	const char *colon = strchr(volid->buf, ':');
	char *storage = xstrndup(volid->buf, (size_t)(colon - volid->buf));
	struct sim_volume *v = sim_volume_find(s, storage, colon + 1);
	char *vm = v ? strstr(v->name, "vm-") : NULL;
	struct strbuf nn = STRBUF_INIT;

	if (vm) {
		strbuf_add(&nn, v->name, (size_t)(vm - v->name));
		strbuf_addf(&nn, "base-%s", vm + 3);
		free(v->name);
		v->name = strbuf_detach(&nn, NULL);
		strbuf_reset(volid);
		strbuf_addf(volid, "%s:%s", storage, v->name);
	}
	free(storage);
}

/*
 * The end of a qmmove: the drive names the new volume with its options
 * (but no format=, which clone_disk drops); the old volume is freed with
 * delete=1, else kept as unusedN. A failed move frees the new volume.
 */
static void finish_move(struct sim *s, struct sim_vm *vm,
			const struct sim_task *t, bool ok)
{
	const char *old =
		vm && t->move_key ? kv_get(&vm->conf, t->move_key) : NULL;
	struct strbuf val = STRBUF_INIT, nv = STRBUF_INIT;
	const char *p;
	char *oldvol;

	if (!ok || !old || !t->move_volid) {
		if (t->move_volid)
			sim_volume_destroy(s, t->move_volid);
		return;
	}
	oldvol = xstrndup(old, strcspn(old, ","));
	strbuf_addstr(&nv, t->move_volid);
	if (is_template_conf(vm))
		move_to_base(s, &nv);
	strbuf_addstr(&val, nv.buf);
	for (p = old + strlen(oldvol); *p == ',';) {
		size_t n = strcspn(p + 1, ",");

		if (strncmp(p + 1, "format=", 7) && strncmp(p + 1, "size=", 5))
			strbuf_add(&val, p, n + 1);
		p += n + 1;
	}
	/* the size of the new volume, in print_drive's order */
	if (strncmp(t->move_key, "unused", 6)) {
		const char *colon = strchr(nv.buf, ':');
		char *st = xstrndup(nv.buf, (size_t)(colon - nv.buf));
		struct sim_volume *v = sim_volume_find(s, st, colon + 1);
		struct strbuf sz = STRBUF_INIT;

		if (v)
			sim_format_size(&sz, v->size);
		strbuf_reset(&nv);
		sim_drive_set(&nv, val.buf, "size", v ? sz.buf : NULL);
		strbuf_reset(&val);
		strbuf_addstr(&val, nv.buf);
		strbuf_release(&sz);
		free(st);
	}
	kv_set(&vm->conf, t->move_key, val.buf);
	if (t->move_delete)
		sim_volume_destroy(s, oldvol);
	else
		sim_vm_add_unused(vm, oldvol);
	free(oldvol);
	strbuf_release(&val);
	strbuf_release(&nv);
}

/* ---- migration and suspend (the ends of qmigrate, qmsuspend, ...) ---- */

/* destroy with purge=1: the VM leaves the HA resources too. */
static void ha_forget(struct sim *s, int vmid)
{
	char sid[32];
	size_t i;

	snprintf(sid, sizeof(sid), "vm:%d", vmid);
	for (i = 0; i < s->nr_ha; i++)
		if (!strcmp(s->ha[i].sid, sid)) {
			free(s->ha[i].sid);
			kv_clear(&s->ha[i].opts);
			memmove(s->ha + i, s->ha + i + 1,
				(s->nr_ha - i - 1) * sizeof(*s->ha));
			s->nr_ha--;
			return;
		}
}

/* Volume old ("storage:name") becomes new on node, in vm's config too. */
static void relocate_volume(struct sim *s, struct sim_vm *vm, const char *old,
			    const char *new, const char *node)
{
	const char *oc = strchr(old, ':'), *nc = strchr(new, ':');
	char *ost = oc ? xstrndup(old, (size_t)(oc - old)) : NULL;
	struct sim_volume *v = oc ? sim_volume_find(s, ost, oc + 1) : NULL;
	size_t i, n = strlen(old);

	free(ost);
	if (!nc)
		return;
	if (v) {
		free(v->storage);
		free(v->name);
		free(v->node);
		v->storage = xstrndup(new, (size_t)(nc - new));
		v->name = xstrdup(nc + 1);
		v->node = xstrdup(node);
	}
	for (i = 0; i < vm->conf.nr; i++) {
		char *val = vm->conf.v[i].val;
		struct strbuf sb = STRBUF_INIT;

		if (!val || strncmp(val, old, n) || (val[n] && val[n] != ','))
			continue;
		strbuf_addf(&sb, "%s%s", new, val + n);
		free(vm->conf.v[i].val);
		vm->conf.v[i].val = strbuf_detach(&sb, NULL);
	}
}

/*
 * The end of a qmigrate (qemu-server's QemuMigrate phase1 to phase3): the
 * config is on the target node, the local volumes moved as mig_volmap
 * says, the migrate lock gone; a failed one only loses its lock, as
 * phase1_cleanup has it. A running VM keeps running.
 */
static void finish_migrate(struct sim *s, struct sim_vm *vm,
			   const struct sim_task *t, bool ok)
{
	const char *lock = vm ? kv_get(&vm->conf, "lock") : NULL;
	const char *p;

	if (lock && !strcmp(lock, "migrate"))
		kv_del(&vm->conf, "lock");
	if (!vm || !ok || !t->mig_target)
		return;
	free(vm->node);
	vm->node = xstrdup(t->mig_target);
	for (p = t->mig_volmap; p && *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n), *sp = strchr(line, ' ');

		if (sp) {
			*sp = '\0';
			relocate_volume(s, vm, line, sp + 1, t->mig_target);
		}
		free(line);
		p += n + (p[n] == '\n');
	}
}

/* The keys vm_suspend writes with a vmstate, and vm_start drops. */
static void drop_vmstate(struct sim *s, struct sim_vm *vm)
{
	const char *vs = kv_get(&vm->conf, "vmstate");

	if (vs)
		sim_volume_destroy(s, vs);
	kv_del(&vm->conf, "vmstate");
	kv_del(&vm->conf, "runningmachine");
	kv_del(&vm->conf, "runningcpu");
}

/*
 * qemu-server's RunState vm_suspend with todisk: the state saved, QEMU
 * quits, lock "suspended"; on failure the vmstate goes and the lock
 * "suspending" stays to show that something went wrong. vm_start of a
 * hibernated VM resumes from the state and drops it and the lock.
 */
static void finish_suspend(struct sim *s, struct sim_vm *vm,
			   const struct sim_task *t, bool ok)
{
	if (!vm)
		return;
	switch (t->fx) {
	case FX_PAUSE:
		vm->paused = ok && vm->running;
		break;
	case FX_RESUME:
		if (ok)
			vm->paused = false;
		break;
	case FX_HIBERNATE:
		if (!ok) {
			drop_vmstate(s, vm);
			break;
		}
		kv_set(&vm->conf, "lock", "suspended");
		vm->running = vm->paused = false;
		break;
	default: /* FX_WAKE */
		if (!ok)
			break;
		drop_vmstate(s, vm);
		kv_del(&vm->conf, "lock");
		vm->running = true;
		vm->paused = false;
		vm->started_ms = t->end_ms;
		break;
	}
}

/* ---- snapshots: the sections and the end of their tasks -------------- */

struct sim_snap *sim_snap_find(struct sim_vm *vm, const char *name)
{
	size_t i;

	for (i = 0; i < vm->nr_snaps; i++)
		if (!strcmp(vm->snaps[i].name, name))
			return &vm->snaps[i];
	return NULL;
}

struct sim_snap *sim_snap_add(struct sim_vm *vm, const char *name)
{
	struct sim_snap *sn;

	ALLOC_GROW(vm->snaps, st_add(vm->nr_snaps, 1), vm->alloc_snaps);
	sn = &vm->snaps[vm->nr_snaps++];
	memset(sn, 0, sizeof(*sn));
	sn->name = xstrdup(name);
	return sn;
}

void sim_snap_drop(struct sim_vm *vm, const char *name)
{
	struct sim_snap *sn = sim_snap_find(vm, name);
	size_t i;

	if (!sn)
		return;
	i = (size_t)(sn - vm->snaps);
	free(sn->name);
	kv_clear(&sn->conf);
	memmove(vm->snaps + i, vm->snaps + i + 1,
		(vm->nr_snaps - i - 1) * sizeof(*vm->snaps));
	vm->nr_snaps--;
}

bool sim_key_indexed(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = key + n;

	if (strncmp(key, prefix, n) || !*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

bool sim_drive_key(const char *key)
{
	return sim_key_indexed(key, "ide") || sim_key_indexed(key, "sata") ||
	       sim_key_indexed(key, "scsi") || sim_key_indexed(key, "virtio") ||
	       !strcmp(key, "efidisk0") || !strcmp(key, "tpmstate0");
}

/*
 * The volume of drive key=val (a copy), or NULL for none, a path and a
 * CD-ROM; a cloud-init drive counts with cloudinit (drive_is_cdrom's
 * exclude_cloudinit).
 */
static char *drive_volid(const char *key, const char *val, bool cloudinit)
{
	size_t n = val ? strcspn(val, ",") : 0;
	bool ci;

	if (!val || !sim_drive_key(key) || val[0] == '/' ||
	    !memchr(val, ':', n))
		return NULL;
	ci = strstr(val, "-cloudinit") != NULL;
	if ((strstr(val, "media=cdrom") && !ci) || (ci && !cloudinit))
		return NULL;
	return xstrndup(val, n);
}

/* Does a drive of l (cloud-init drives too) hold volid? */
static bool list_uses(const struct kvlist *l, const char *volid)
{
	size_t i;
	bool used = false;

	for (i = 0; i < l->nr && !used; i++) {
		char *v = drive_volid(l->v[i].key, l->v[i].val, true);

		used = v && !strcmp(v, volid);
		free(v);
	}
	return used;
}

bool sim_snap_uses(const struct sim_vm *vm, const char *volid)
{
	size_t i;

	for (i = 0; i < vm->nr_snaps; i++)
		if (list_uses(&vm->snaps[i].conf, volid))
			return true;
	return false;
}

/*
 * add_unused_volume as write_config leaves it: no duplicate, nothing a
 * drive (current or pending) still uses; a cloud-init volume is freed.
 */
static void add_unused(struct sim *s, struct sim_vm *vm, const char *volid)
{
	size_t i;

	if (strstr(volid, "-cloudinit")) {
		sim_volume_destroy(s, volid);
		return;
	}
	if (list_uses(&vm->conf, volid) || list_uses(&vm->pending, volid))
		return;
	for (i = 0; i < vm->conf.nr; i++)
		if (!strncmp(vm->conf.v[i].key, "unused", 6) &&
		    !strcmp(vm->conf.v[i].val, volid))
			return;
	sim_vm_add_unused(vm, volid);
}

/* Every snapshot (and the VM) whose parent is name gets parent instead
 * (snapshot_delete's unlink_parent). */
static void unlink_parent(struct sim_vm *vm, const char *name,
			  const char *parent)
{
	size_t i;

	for (i = 0; i <= vm->nr_snaps; i++) {
		struct kvlist *l =
			i < vm->nr_snaps ? &vm->snaps[i].conf : &vm->conf;
		const char *p = kv_get(l, "parent");

		if (!p || strcmp(p, name))
			continue;
		if (parent)
			kv_set(l, "parent", parent);
		else
			kv_del(l, "parent");
	}
}

/* The end of a qmdelsnapshot (AbstractConfig snapshot_delete): vmstate
 * freed, children re-parented, the snapshot's volumes unused when no
 * drive holds them, the section and the lock gone. */
static void finish_delsnapshot(struct sim *s, struct sim_vm *vm,
			       struct sim_snap *sn)
{
	const char *state = kv_get(&sn->conf, "vmstate");
	char *parent = kv_get(&sn->conf, "parent")
			       ? xstrdup(kv_get(&sn->conf, "parent"))
			       : NULL;
	char *name = xstrdup(sn->name);
	struct strvec vols = STRVEC_INIT;
	size_t i;

	if (state)
		sim_volume_destroy(s, state);
	for (i = 0; i < sn->conf.nr; i++) {
		char *v = drive_volid(sn->conf.v[i].key, sn->conf.v[i].val,
				      false);

		if (v)
			strvec_push(&vols, v);
		free(v);
	}
	unlink_parent(vm, name, parent);
	sim_snap_drop(vm, name);
	kv_del(&vm->conf, "lock");
	for (i = 0; i < vols.nr; i++)
		add_unused(s, vm, vols.v[i]);
	strvec_clear(&vols);
	free(parent);
	free(name);
}

/* Keys a snapshot keeps that the current configuration does not take
 * back (__snapshot_copy_config, __snapshot_rollback_hook). */
static bool rollback_skips(const char *key)
{
	static const char *const skip[] = { "snapstate",
					    "snaptime",
					    "vmstate",
					    "lock",
					    "digest",
					    "description",
					    "runningmachine",
					    "runningcpu",
					    "running-nets-host-mtu",
					    NULL };
	size_t i;

	for (i = 0; skip[i]; i++)
		if (!strcmp(key, skip[i]))
			return true;
	return !strncmp(key, "unused", 6);
}

/*
 * The end of a qmrollback (snapshot_rollback, __snapshot_apply_config):
 * the snapshot's keys with the VM's description and unusedN, the current
 * volumes the snapshot lacks unused, parent the snapshot, a new vmgenid;
 * started with its vmstate or start=1.
 */
static void finish_rollback(struct sim *s, struct sim_vm *vm,
			    const struct sim_snap *sn, bool start)
{
	struct kvlist conf = { 0 };
	size_t i;

	for (i = 0; i < sn->conf.nr; i++)
		if (!rollback_skips(sn->conf.v[i].key))
			kv_set(&conf, sn->conf.v[i].key, sn->conf.v[i].val);
	kv_set(&conf, "parent", sn->name);
	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key;

		if (!strcmp(k, "description") || !strncmp(k, "unused", 6))
			kv_set(&conf, k, vm->conf.v[i].val);
	}
	if (kv_get(&conf, "vmgenid")) {
		char g[33];
		struct strbuf sb = STRBUF_INIT;

		sim_random_hex(s, g, 16);
		strbuf_addf(&sb, "%.8s-%.4s-%.4s-%.4s-%.12s", g, g + 8, g + 12,
			    g + 16, g + 20);
		kv_set(&conf, "vmgenid", sb.buf);
		strbuf_release(&sb);
	}
	for (i = 0; i < vm->conf.nr; i++) {
		char *v =
			drive_volid(vm->conf.v[i].key, vm->conf.v[i].val, true);

		if (v && !list_uses(&sn->conf, v))
			sim_vm_add_unused(vm, v); /* kept below as unusedN */
		free(v);
	}
	for (i = 0; i < vm->conf.nr; i++)
		if (!strncmp(vm->conf.v[i].key, "unused", 6))
			kv_set(&conf, vm->conf.v[i].key, vm->conf.v[i].val);
	kv_clear(&vm->pending);
	kv_copy(&vm->conf, &conf);
	kv_clear(&conf);
	/* write_config: no unusedN a drive uses, cloud-init volumes freed */
	for (i = 0; i < vm->conf.nr;) {
		const char *k = vm->conf.v[i].key, *v = vm->conf.v[i].val;

		if (!strncmp(k, "unused", 6) &&
		    (list_uses(&vm->conf, v) || strstr(v, "-cloudinit"))) {
			if (!list_uses(&vm->conf, v))
				sim_volume_destroy(s, v);
			kv_del(&vm->conf, k);
		} else {
			i++;
		}
	}
	if (start || kv_get(&sn->conf, "vmstate")) {
		sim_ci_snapshot(vm);
		vm->running = true;
	}
}

/*
 * The end of a snapshot task. A failed qmsnapshot is cleaned up (its
 * section, vmstate and lock go, as snapshot_create's cleanup does); a
 * failed delete or rollback keeps its lock, as Proxmox leaves it.
 */
static void finish_snapshot_task(struct sim *s, struct sim_vm *vm,
				 const struct sim_task *t, bool ok)
{
	struct sim_snap *sn =
		t->snapname ? sim_snap_find(vm, t->snapname) : NULL;

	if (t->fx == FX_SNAPSHOT && !ok) {
		if (sn && kv_get(&sn->conf, "vmstate"))
			sim_volume_destroy(s, kv_get(&sn->conf, "vmstate"));
		if (sn)
			sim_snap_drop(vm, t->snapname);
		kv_del(&vm->conf, "lock");
		return;
	}
	if (!ok)
		return;
	if (!sn) {
		kv_del(&vm->conf, "lock");
		return;
	}
	if (t->fx == FX_SNAPSHOT) {
		kv_del(&sn->conf, "snapstate");
		kv_del(&vm->conf, "lock");
		kv_set(&vm->conf, "parent", t->snapname);
	} else if (t->fx == FX_DELSNAPSHOT) {
		finish_delsnapshot(s, vm, sn);
	} else {
		finish_rollback(s, vm, sn, t->start_after);
		vm->started_ms = t->end_ms;
	}
}

/*
 * --guests qemu: a VM with an image starts its QEMU when qmstart's task
 * ends (qemu-server's start returns once the process runs); a failure
 * fails the task.
 */
static bool start_guest(struct sim *s, struct sim_vm *vm, struct sim_task *t)
{
	struct strbuf why = STRBUF_INIT;

	if (!guest_managed(s, vm) || guest_start(s, vm, &t->log, &why) == 0)
		return true;
	free(t->fail);
	t->fail = strbuf_detach(&why, NULL);
	return false;
}

static void finish_task(struct sim *s, struct sim_task *t)
{
	struct sim_vm *vm = sim_vm(s, t->vmid), *src;
	bool ok = !t->fail;

	switch (t->fx) {
	case FX_CLONE:
		if (vm && ok)
			kv_del(&vm->conf, "lock");
		else if (vm)
			sim_vm_remove(s, t->vmid, true);
		break;
	case FX_CREATE:
		if (vm && ok) {
			kv_del(&vm->conf, "lock");
			if (t->start_after) {
				sim_ci_snapshot(vm);
				vm->running = true;
				vm->started_ms = t->end_ms;
			}
		} else if (vm)
			sim_vm_remove(s, t->vmid, true);
		break;
	case FX_START:
		if (vm && ok) {
			apply_pending(vm);
			sim_ci_snapshot(vm);
			if (!(ok = start_guest(s, vm, t)))
				break;
			vm->running = true;
			vm->started_ms = t->end_ms;
		}
		break;
	case FX_STOP:
		if (vm && ok && guest_managed(s, vm))
			guest_stop(s, vm->vmid);
		if (vm && ok)
			vm->running = vm->paused = false;
		break;
	case FX_REBOOT:
		if (vm && ok && guest_managed(s, vm))
			guest_stop(s, vm->vmid);
		if (vm && ok) {
			apply_pending(vm);
			sim_ci_snapshot(vm);
			if (!(ok = start_guest(s, vm, t))) {
				vm->running = false;
				break;
			}
			vm->started_ms = t->end_ms;
		}
		break;
	case FX_DESTROY:
		if (vm && ok && t->purge)
			ha_forget(s, t->vmid);
		if (vm && ok && s->guests)
			guest_destroy(s, t->vmid);
		if (vm && ok)
			destroy_vm(s, vm, t->destroy_unref);
		break;
	case FX_TEMPLATE:
		if (vm && ok)
			kv_set(&vm->conf, "template", "1");
		break;
	case FX_MOVE:
		finish_move(s, vm, t, ok);
		break;
	case FX_MIGRATE:
		finish_migrate(s, vm, t, ok);
		break;
	case FX_HAMIGRATE:
		if (vm && ok && s->ha_crm)
			s->ha_crm(s, t);
		break;
	case FX_PAUSE:
	case FX_RESUME:
	case FX_HIBERNATE:
	case FX_WAKE:
		finish_suspend(s, vm, t, ok);
		break;
	case FX_SNAPSHOT:
	case FX_DELSNAPSHOT:
	case FX_ROLLBACK:
		if (vm)
			finish_snapshot_task(s, vm, t, ok);
		break;
	case FX_NONE:
		break;
	}
	if ((src = sim_vm(s, t->lock_excl_vmid)) && src->flock_excl > 0)
		src->flock_excl--;
	if ((src = sim_vm(s, t->lock_new_vmid)) && src->flock_excl > 0)
		src->flock_excl--;
	if ((src = sim_vm(s, t->lock_shared_vmid)) && src->flock_shared > 0)
		src->flock_shared--;
	if (ok) {
		strvec_push(&t->log, "TASK OK");
		t->exitstatus = xstrdup("OK");
	} else {
		strvec_pushf(&t->log, "TASK ERROR: %s", t->fail);
		t->exitstatus = xstrdup(t->fail);
	}
	t->done = true;
}

/*
 * --guests qemu: a shutdown of a real guest lasts until its process ends
 * (the ACPI request was sent when the task began) or its timeout passes:
 * then it fails as _do_vm_stop dies, or with forceStop the guest is killed.
 * true while it must go on.
 */
static bool guest_shutdown_waits(struct sim *s, struct sim_task *t, int64_t now)
{
	if (!t->guest_deadline_ms || !guest_running(s, t->vmid))
		return false;
	if (now < t->guest_deadline_ms)
		return true;
	if (t->guest_force) {
		strvec_push(&t->log,
			    "VM still running - terminating now with SIGTERM");
	} else {
		t->fx = FX_NONE;
		free(t->fail);
		t->fail = xstrdup("VM quit/powerdown failed - got timeout");
	}
	return false;
}

void sim_tick(struct sim *s)
{
	int64_t now = sim_now_ms();
	size_t i;

	guests_reap(s);
	for (i = 0; i < s->nr_tasks; i++)
		if (!s->tasks[i]->done && s->tasks[i]->end_ms <= now &&
		    !guest_shutdown_waits(s, s->tasks[i], now))
			finish_task(s, s->tasks[i]);
}

void sim_format_size(struct strbuf *out, uint64_t b)
{
	static const char units[] = "TGMK";
	static const int shifts[] = { 40, 30, 20, 10 };
	int i;

	for (i = 0; i < 4; i++)
		if (b && !(b & ((1ULL << shifts[i]) - 1))) {
			strbuf_addf(out, "%" PRIu64 "%c", b >> shifts[i],
				    units[i]);
			return;
		}
	strbuf_addf(out, "%" PRIu64, b);
}

uint64_t sim_drive_size(const char *val)
{
	const char *p = strstr(val, ",size=");
	char buf[32];
	uint64_t b = 0;
	bool rel;
	size_t n;

	if (!p)
		return 0;
	n = strcspn(p + 6, ",");
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, p + 6, n);
	buf[n] = '\0';
	return sim_parse_size(buf, &b, &rel, 'B') < 0 ? 0 : b;
}

int sim_parse_size(const char *s, uint64_t *bytes, bool *relative,
		   char default_unit)
{
	uint64_t whole = 0, frac = 0, fdiv = 1;
	int shift, digits = 0;
	char unit;

	*relative = *s == '+';
	if (*relative)
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (whole > (UINT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (fdiv < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				fdiv *= 10;
			}
	}
	if (!digits)
		return -1;
	unit = *s ? *s++ : default_unit;
	if (*s)
		return -1;
	switch (unit) {
	case 'T':
		shift = 40;
		break;
	case 'G':
		shift = 30;
		break;
	case 'M':
		shift = 20;
		break;
	case 'K':
		shift = 10;
		break;
	case 'B':
		shift = 0;
		break;
	default:
		return -1;
	}
	if (whole > (UINT64_MAX >> shift) / 2)
		return -1;
	*bytes = (whole << shift) + (frac << shift) / fdiv;
	return 0;
}

bool sim_guest_ignores_shutdown(const struct sim *s, int vmid)
{
	size_t i;

	for (i = 0; i < s->opts.nr_deaf; i++)
		if (s->opts.deaf_vmids[i] == vmid)
			return true;
	return false;
}

void sim_config_digest(const struct sim_vm *vm, char out[41])
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[20];
	size_t i;

	for (i = 0; i < vm->conf.nr; i++)
		strbuf_addf(&sb, "%s: %s\n", vm->conf.v[i].key,
			    vm->conf.v[i].val);
	for (i = 0; i < vm->pending.nr; i++)
		strbuf_addf(&sb, "[PENDING]%s: %s\n", vm->pending.v[i].key,
			    vm->pending.v[i].val ? vm->pending.v[i].val : "-");
	/* the file holds the snapshot sections too */
	for (i = 0; i < vm->nr_snaps; i++) {
		size_t j;

		strbuf_addf(&sb, "[%s]\n", vm->snaps[i].name);
		for (j = 0; j < vm->snaps[i].conf.nr; j++)
			strbuf_addf(&sb, "%s: %s\n", vm->snaps[i].conf.v[j].key,
				    vm->snaps[i].conf.v[j].val);
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, sb.buf, sb.len, md) < 0)
		memset(md, 0, sizeof(md));
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	strbuf_release(&sb);
}

static void add_node(struct sim *s, const char *name)
{
	struct sim_node *n;

	ALLOC_GROW(s->nodes, st_add(s->nr_nodes, 1), s->alloc_nodes);
	n = &s->nodes[s->nr_nodes++];
	memset(n, 0, sizeof(*n));
	n->name = xstrdup(name);
	n->maxcpu = 16;
	n->maxmem = 64ULL << 30;
}

void sim_node_add_storage(struct sim_node *n, const char *name,
			  const char *type, const char *content, uint64_t total,
			  bool shared)
{
	struct sim_storage *st;

	ALLOC_GROW(n->st, st_add(n->nr_st, 1), n->alloc_st);
	st = &n->st[n->nr_st++];
	st->name = xstrdup(name);
	st->type = xstrdup(type);
	st->content = xstrdup(content);
	st->total = total;
	st->shared = shared;
	st->disabled = st->inactive = false;
}

struct sim_node *sim_add_node(struct sim *s, const char *name)
{
	add_node(s, name);
	return &s->nodes[s->nr_nodes - 1];
}

void sim_add_volume(struct sim *s, const char *storage, const char *name,
		    const char *node, int vmid, uint64_t size)
{
	struct sim_volume *v;

	ALLOC_GROW(s->vols, st_add(s->nr_vols, 1), s->alloc_vols);
	v = &s->vols[s->nr_vols++];
	v->storage = xstrdup(storage);
	v->name = xstrdup(name);
	v->node = xstrdup(node);
	v->vmid = vmid;
	v->size = size;
}

/* A cloud-init template like the ones the examples clone. */
static void add_template(struct sim *s, int vmid, const char *name,
			 const char *node)
{
	struct sim_vm *t = sim_vm_new(s, vmid, node);
	struct strbuf v = STRBUF_INIT;
	char mac[18];

	kv_set(&t->conf, "name", name);
	kv_set(&t->conf, "cores", "1");
	kv_set(&t->conf, "memory", "1024");
	kv_set(&t->conf, "ostype", "l26");
	kv_set(&t->conf, "scsihw", "virtio-scsi-pci");
	kv_set(&t->conf, "agent", "1");
	sim_new_mac(s, mac);
	strbuf_addf(&v, "virtio=%s,bridge=vmbr0", mac);
	kv_set(&t->conf, "net0", v.buf);
	strbuf_reset(&v);
	strbuf_addf(&v, "local-lvm:base-%d-disk-0,size=3584M", vmid);
	kv_set(&t->conf, "scsi0", v.buf);
	strbuf_reset(&v);
	strbuf_addf(&v, "local-lvm:vm-%d-cloudinit,media=cdrom", vmid);
	kv_set(&t->conf, "ide2", v.buf);
	kv_set(&t->conf, "boot", "order=scsi0");
	kv_set(&t->conf, "serial0", "socket");
	kv_set(&t->conf, "vga", "serial0");
	kv_set(&t->conf, "template", "1");
	strbuf_reset(&v);
	strbuf_addf(&v, "base-%d-disk-0", vmid);
	sim_add_volume(s, "local-lvm", v.buf, node, vmid, 3584ULL << 20);
	strbuf_reset(&v);
	strbuf_addf(&v, "vm-%d-cloudinit", vmid);
	sim_add_volume(s, "local-lvm", v.buf, node, vmid, 4ULL << 20);
	strbuf_release(&v);
}

/*
 * Three nodes with local storages, and on each the templates the example
 * repository clones (same names, as clusters without shared storage keep
 * them): ubuntu24-template is vmid 9000 on node01 (9001, 9002 on the
 * others), talos-template 9100..9102.
 */
void sim_default_topology(struct sim *s)
{
	static const char *const names[] = { "node01", "node02", "node03" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct sim_node *n = sim_add_node(s, names[i]);

		sim_node_add_storage(n, "local", "dir", "iso,vztmpl,backup",
				     100ULL << 30, false);
		sim_node_add_storage(n, "local-lvm", "lvmthin",
				     "images,rootdir", 1ULL << 40, false);
		sim_node_add_storage(n, "data2", "lvmthin", "images,rootdir",
				     2ULL << 40, false);
	}
	for (i = 0; i < 3; i++) {
		add_template(s, 9000 + (int)i, "ubuntu24-template", names[i]);
		add_template(s, 9100 + (int)i, "talos-template", names[i]);
	}
}
