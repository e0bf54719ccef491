/*
 * plan.c - the reconciler's decisions; see plan.h.
 *
 * Values are compared the way Proxmox normalises them: a NIC reads back as
 * "virtio=BC:24:11:..,bridge=vmbr0" for "model=virtio,bridge=vmbr0", memory
 * may read "current=2048", the agent "enabled=1,...", sshkeys come back
 * percent-encoded, and tags in any order. Anything not in the definition
 * is left alone.
 */
#include "core/plan.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "core/planchk.h"
#include "core/vmparams.h"
#include "util/strmap.h"
#include "util/xalloc.h"

void actual_vm_init(struct actual_vm *a)
{
	memset(a, 0, sizeof(*a));
	strvec_init(&a->keys);
	strvec_init(&a->vals);
}

void actual_add_pending(struct actual_vm *a, const char *key, const char *from,
			const char *to)
{
	struct actual_pending *p;

	ALLOC_GROW(a->pending, st_add(a->nr_pending, 1), a->alloc_pending);
	p = &a->pending[a->nr_pending++];
	p->key = xstrdup(key);
	p->from = from ? xstrdup(from) : NULL;
	p->to = to ? xstrdup(to) : NULL;
}

void actual_vm_release(struct actual_vm *a)
{
	size_t i;

	for (i = 0; i < a->nr_pending; i++) {
		free(a->pending[i].key);
		free(a->pending[i].from);
		free(a->pending[i].to);
	}
	free(a->pending);
	free(a->name);
	free(a->node);
	free(a->status);
	free(a->tags);
	free(a->lock);
	strvec_clear(&a->keys);
	strvec_clear(&a->vals);
}

const char *actual_get(const struct actual_vm *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->keys.nr; i++)
		if (!strcmp(a->keys.v[i], key))
			return a->vals.v[i];
	return NULL;
}

/* Is word one of the items of a list separated by ';', ',' or ' '? */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while (p && *p) {
		size_t l = strcspn(p, ";, ");

		if (l == n && !strncmp(p, word, n))
			return true;
		p += l;
		p += strspn(p, ";, ");
	}
	return false;
}

bool actual_is_managed(const struct actual_vm *a)
{
	return a->tags && list_has(a->tags, VMDEF_MANAGED_TAG);
}

const char *plan_op_name(enum plan_op op)
{
	static const char *const names[] = { "no-op", "create", "update",
					     "destroy", "blocked" };

	return names[op];
}

/* ---- value comparison ---------------------------------------------- */

static const char *const nic_models[] = {
	"virtio",	 "e1000",	  "e1000e",	   "rtl8139", "vmxnet3",
	"e1000-82540em", "e1000-82544gc", "e1000-82545em", "i82551",  "i82557b",
	"i82559er",	 "ne2k_isa",	  "ne2k_pci",	   "pcnet",   NULL,
};

/* A NIC's model and MAC from "virtio=MAC,..." or "model=virtio,...". */
static void nic_model(const char *s, struct strbuf *model, struct strbuf *mac)
{
	size_t i, l = strcspn(s, "=,");

	strbuf_reset(model);
	strbuf_reset(mac);
	for (i = 0; nic_models[i]; i++)
		if (strlen(nic_models[i]) == l &&
		    !strncmp(s, nic_models[i], l)) {
			strbuf_add(model, s, l);
			if (s[l] == '=')
				strbuf_add(mac, s + l + 1,
					   strcspn(s + l + 1, ","));
			return;
		}
	vmparams_prop(s, "model", NULL, model);
	vmparams_prop(s, "macaddr", NULL, mac);
}

static bool nic_equal(const char *want, const char *have)
{
	static const struct {
		const char *key, *def;
	} keys[] = { { "bridge", "" },	   { "firewall", "0" },
		     { "link_down", "0" }, { "tag", "" },
		     { "mtu", "" },	   { "queues", "" } };
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, m = STRBUF_INIT,
		      n = STRBUF_INIT;
	bool eq;
	size_t i;

	nic_model(want, &a, &m);
	nic_model(have, &b, &n);
	eq = !strcmp(a.buf, b.buf) && (!m.len || !strcasecmp(m.buf, n.buf));
	for (i = 0; eq && i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!vmparams_prop(want, keys[i].key, NULL, &a))
			strbuf_addstr(&a, keys[i].def);
		if (!vmparams_prop(have, keys[i].key, NULL, &b))
			strbuf_addstr(&b, keys[i].def);
		eq = !strcmp(a.buf, b.buf);
	}
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&m);
	strbuf_release(&n);
	return eq;
}

static void percent_decode(struct strbuf *out, const char *s)
{
	strbuf_reset(out);
	strbuf_add_percent_decoded(out, s, strlen(s), 0);
	strbuf_trim(out);
}

static bool same_tag_set(const char *a, const char *b)
{
	struct strbuf w = STRBUF_INIT;
	const char *lists[2] = { a, b };
	bool eq = true;
	int k;

	for (k = 0; k < 2 && eq; k++) {
		const char *p = lists[k];

		while (eq && *p) {
			size_t l = strcspn(p, ";, ");

			strbuf_reset(&w);
			strbuf_add(&w, p, l);
			if (l && !list_has(lists[1 - k], w.buf))
				eq = false;
			p += l;
			p += strspn(p, ";, ");
		}
	}
	strbuf_release(&w);
	return eq;
}

bool plan_value_equal(const char *key, const char *want, const char *have)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	bool eq;

	if (!have)
		return false;
	if (!strncmp(key, "net", 3))
		return nic_equal(want, have);
	if (!strcmp(key, "tags"))
		return same_tag_set(want, have);
	if (!strcmp(key, "sshkeys")) {
		percent_decode(&a, want);
		percent_decode(&b, have);
	} else if (!strcmp(key, "cpu")) {
		vmparams_prop(want, "cputype", "cputype", &a);
		vmparams_prop(have, "cputype", "cputype", &b);
	} else if (!strcmp(key, "agent")) {
		vmparams_prop(want, "enabled", "enabled", &a);
		vmparams_prop(have, "enabled", "enabled", &b);
	} else if (!strcmp(key, "memory")) {
		vmparams_prop(want, "current", "current", &a);
		vmparams_prop(have, "current", "current", &b);
	} else {
		strbuf_addstr(&a, want);
		strbuf_addstr(&b, have);
	}
	eq = !strcmp(a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
	return eq;
}

/* Keys whose change waits for the next boot of a running VM. */
static bool needs_reboot(const char *key)
{
	static const char *const live[] = { "name",   "description", "tags",
					    "onboot", "protection",  NULL };
	size_t i;

	for (i = 0; live[i]; i++)
		if (!strcmp(key, live[i]))
			return false;
	return strncmp(key, "net", 3) != 0;
}

/* ---- items ----------------------------------------------------------- */

static struct plan_item *add_item(struct plan *p, enum plan_op op,
				  const char *name, const char *node)
{
	struct plan_item *it;

	ALLOC_GROW(p->items, st_add(p->nr, 1), p->alloc);
	it = &p->items[p->nr++];
	memset(it, 0, sizeof(*it));
	it->op = op;
	it->name = xstrdup(name ? name : "");
	it->node = xstrdup(node ? node : "");
	return it;
}

static void add_change(struct plan_item *it, const char *key, const char *from,
		       const char *to, bool reboot)
{
	struct plan_change *c;

	ALLOC_GROW(it->changes, st_add(it->nr_changes, 1), it->alloc_changes);
	c = &it->changes[it->nr_changes++];
	c->key = xstrdup(key);
	c->from = from ? xstrdup(from) : NULL;
	c->to = to ? xstrdup(to) : NULL;
	c->reboot = reboot;
	c->pending = false; /* add_pending sets it */
	c->migration = PLAN_MIGRATION_NONE;
	if (reboot)
		it->needs_reboot = true;
}

static void block(struct plan_item *it, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void block(struct plan_item *it, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	it->op = PLAN_BLOCKED;
	free(it->reason);
	it->reason = strbuf_detach(&sb, NULL);
}

uint64_t plan_disk_size(const char *val)
{
	struct strbuf s = STRBUF_INIT;
	uint64_t n = 0, mult = 1;
	const char *p;

	if (val && vmparams_prop(val, "size", NULL, &s) && s.len) {
		for (p = s.buf; *p >= '0' && *p <= '9'; p++)
			n = n * 10 + (uint64_t)(*p - '0');
		switch (*p) {
		case 'T':
			mult = 1ULL << 40;
			break;
		case 'G':
			mult = 1ULL << 30;
			break;
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'K':
			mult = 1ULL << 10;
			break;
		}
	}
	strbuf_release(&s);
	return n * mult;
}

/* A disk on another storage (or, on a file storage, in another format)
 * than the definition's: moved (move_disk), not blocked. */
static void compare_placement(struct plan_item *it,
			      const struct desired_disk *d, const char *cur)
{
	size_t st = strcspn(cur, ":"), flen = 0;
	const char *fmt = vmparams_volume_format(cur, &flen);
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (vmparams_placement(d->slot, cur, d->storage, d->format) != 1)
		return;
	strbuf_addf(&a, "storage=%.*s", (int)st, cur);
	strbuf_addf(&b, "storage=%s", d->storage ? d->storage : "");
	if (!d->storage)
		strbuf_insert(&b, 8, cur, st);
	if (d->format && fmt) {
		strbuf_addf(&a, ",format=%.*s", (int)flen, fmt);
		strbuf_addf(&b, ",format=%s", d->format);
	}
	add_change(it, d->slot, a.buf, b.buf, false);
	strbuf_release(&a);
	strbuf_release(&b);
}

/*
 * What stands in the way of a disk where the definition wants it: the slot
 * holds no volume (a pass-through path, a CD-ROM: pve-gitops does not
 * replace drives), or a move of a VM with snapshots, which Proxmox does
 * only keeping the source.
 */
static bool blocked_placement(struct plan_item *it,
			      const struct desired_disk *d, const char *cur,
			      const struct actual_vm *have)
{
	struct strbuf st = STRBUF_INIT;
	bool volume = vmparams_disk_storage(&st, d->slot, cur) == 0;

	if (!volume)
		block(it,
		      "%s: %s holds '%.*s', the definition wants a disk there; "
		      "pve-gitops does not replace drives",
		      it->name, d->slot, (int)strcspn(cur, ","), cur);
	else if (d->storage && strcmp(st.buf, d->storage) &&
		 actual_get(have, "parent"))
		block(it,
		      "%s: %s is to move from %s to %s, but the VM has "
		      "snapshots, and Proxmox moves a disk with snapshots only "
		      "keeping its source: remove the snapshots or move it by "
		      "hand",
		      it->name, d->slot, st.buf, d->storage);
	strbuf_release(&st);
	return it->op == PLAN_BLOCKED;
}

/* Whether adding or removing drive slot waits for a boot of the VM: it
 * runs and the slot is on IDE or SATA, which do not hotplug. */
static bool drive_waits(const struct actual_vm *have, const char *slot)
{
	return have->status && !strcmp(have->status, "running") &&
	       (!strncmp(slot, "ide", 3) || !strncmp(slot, "sata", 4));
}

/* The options the definition gives a disk (I/O limits, cache, ssd, ...)
 * that the VM's drive does not have. */
static void compare_options(struct plan_item *it, const struct desired_disk *d,
			    const char *cur, const struct actual_vm *have)
{
	struct strbuf v = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	bool waits;

	if (vmparams_drive_options(cur, d->options, &v, &a, &b, &waits))
		add_change(it, d->slot, a.buf, b.buf,
			   waits && have->status &&
				   !strcmp(have->status, "running"));
	strbuf_release(&v);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* The definition's cloud-init slot, or NULL when it has none. */
static const char *cloudinit_slot(const struct desired *want)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (want->disks[i].kind == DISK_CLOUDINIT)
			return want->disks[i].slot;
	return NULL;
}

/* One cloud-init drive, where the definition puts it: the others go. */
static void compare_cloudinit(struct plan_item *it, const struct desired *want,
			      const struct actual_vm *have)
{
	const char *slot = cloudinit_slot(want);
	size_t i;

	for (i = 0; slot && i < have->keys.nr; i++)
		if (strcmp(have->keys.v[i], slot) &&
		    vmparams_is_cloudinit_drive(have->keys.v[i],
						have->vals.v[i]))
			add_change(it, have->keys.v[i], have->vals.v[i], NULL,
				   drive_waits(have, have->keys.v[i]));
}

static void compare_disks(struct plan_item *it, const struct desired *want,
			  const struct actual_vm *have)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i;

	for (i = 0; i < want->nr_disks; i++) {
		const struct desired_disk *d = &want->disks[i];
		const char *cur = actual_get(have, d->slot);
		uint64_t now;

		if (!cur) {
			add_change(it, d->slot, NULL, d->value,
				   drive_waits(have, d->slot));
			continue;
		}
		if (d->kind == DISK_CLOUDINIT) {
			if (!vmparams_is_cloudinit_drive(d->slot, cur)) {
				block(it,
				      "%s: %s holds '%.*s', the definition wants "
				      "a cloud-init drive there; pve-gitops does "
				      "not replace disks",
				      it->name, d->slot, (int)strcspn(cur, ","),
				      cur);
				break;
			}
			continue;
		}
		if (d->kind == DISK_PASSTHROUGH)
			compare_options(it, d, cur, have);
		if (d->kind != DISK_DISK)
			continue;
		if (blocked_placement(it, d, cur, have))
			break;
		compare_placement(it, d, cur);
		compare_options(it, d, cur, have);
		if (!d->size)
			continue;
		now = plan_disk_size(cur);
		if (now == d->size)
			continue;
		strbuf_reset(&a);
		strbuf_reset(&b);
		pve_format_size(&a, now);
		pve_format_size(&b, d->size);
		if (d->size < now) {
			block(it,
			      "%s: %s is %s, the definition says %s; Proxmox "
			      "cannot shrink a disk",
			      it->name, d->slot, a.buf, b.buf);
			break;
		}
		strbuf_insert(&a, 0, "size=", 5);
		strbuf_insert(&b, 0, "size=", 5);
		add_change(it, d->slot, a.buf, b.buf, false);
	}
	if (it->op != PLAN_BLOCKED)
		compare_cloudinit(it, want, have);
	strbuf_release(&a);
	strbuf_release(&b);
}

/* The power state vm_state asks for, when the VM is not in it ("started"
 * asks only at create). */
static void add_power_change(struct plan_item *it, const struct vmdef *def,
			     const struct actual_vm *have)
{
	bool running = have->status && !strcmp(have->status, "running");

	if (def->vm_state == VM_STATE_RUNNING && !running)
		add_change(it, "state", have->status, "running", false);
	else if (def->vm_state == VM_STATE_STOPPED && running)
		add_change(it, "state", have->status, "stopped", false);
}

/*
 * What Proxmox holds for the next boot. With automatic_reboot apply
 * reboots the VM (an update even when nothing else changes); without it
 * the changes stay pending, shown by every plan, and the VM keeps the
 * pending tag.
 */
static void add_pending(struct plan_item *it, const struct vmdef *def,
			const struct actual_vm *have)
{
	size_t i;

	size_t j, n = it->nr_changes, shown = 0;

	for (i = 0; i < have->nr_pending; i++) {
		const struct actual_pending *p = &have->pending[i];

		/* what apply writes now replaces what waits */
		for (j = 0; j < n; j++)
			if (!strcmp(it->changes[j].key, p->key))
				break;
		if (j < n)
			continue;
		add_change(it, p->key, p->from, p->to, true);
		it->changes[it->nr_changes - 1].pending = true;
		shown++;
	}
	if (shown)
		it->reboot = def->automatic_reboot == 1;
}

/* The tags the VM is to have: the desired ones, and the pending tag while
 * its changes wait for a boot that apply leaves to the user. */
static void want_tags(struct strbuf *out, const struct vmdef *def,
		      const char *tags, const struct actual_vm *have)
{
	strbuf_addstr(out, tags);
	if (have->nr_pending && def->automatic_reboot != 1)
		strbuf_addstr(out, ";" DESIRED_PENDING_TAG);
}

static void compare(struct plan_item *it, const struct vmdef *def,
		    const struct desired *want, const struct actual_vm *have)
{
	bool running = have->status && !strcmp(have->status, "running");
	struct strbuf tags = STRBUF_INIT;
	size_t i, pending;

	for (i = 0; i < want->keys.nr; i++) {
		const char *k = want->keys.v[i], *v = want->vals.v[i];
		const char *cur = actual_get(have, k);

		if (!strcmp(k, "tags")) {
			cur = cur ? cur : have->tags;
			strbuf_reset(&tags);
			want_tags(&tags, def, v, have);
			v = tags.buf;
		}
		if (!plan_value_equal(k, v, cur))
			add_change(it, k, cur, v, running && needs_reboot(k));
	}
	strbuf_release(&tags);
	compare_disks(it, want, have);
	if (it->op == PLAN_BLOCKED)
		return;
	add_power_change(it, def, have);
	it->reboot = it->needs_reboot && def->automatic_reboot == 1;
	add_pending(it, def, have);
	for (i = 0, pending = 0; i < it->nr_changes; i++)
		pending += it->changes[i].pending;
	it->op = it->nr_changes > pending || it->reboot ? PLAN_UPDATE
							: PLAN_NOOP;
}

static bool digest_matches(const struct actual_vm *a, const struct desired *d)
{
	size_t len;
	const char *tag = a->tags ? desired_find_digest(a->tags, &len) : NULL;

	return tag &&
	       !memcmp(tag + strlen(DESIRED_DIGEST_PREFIX), d->digest, 8);
}

/*
 * The cluster's VMs by name and by vmid, the names of the definitions and
 * of the kept ones: each definition looks up its VMs instead of scanning
 * them all (which made plan quadratic in the size of the cluster).
 * Chains keep the order of in->vms, so every lookup sees the VMs in the
 * order a scan would.
 */
struct plan_index {
	size_t nr;			   /* in->nr_vms: the end of a chain */
	struct strmap by_name, by_vmid;	   /* key -> the first VM of it */
	size_t *next_name, *next_vmid;	   /* the next VM of the same key */
	size_t *being_made, nr_being_made; /* unnamed VMs in a clone/create */
	struct strmap defs, keep;
};

static size_t index_first(const struct strmap *m, size_t end, const char *key)
{
	size_t v;

	return key && strmap_get(m, key, &v) ? v : end;
}

/* The first VM named name, or ix->nr; ix->next_name[i] the next one. */
static size_t named_first(const struct plan_index *ix, const char *name)
{
	return index_first(&ix->by_name, ix->nr, name);
}

static void vmid_key(char *buf, size_t len, long long vmid)
{
	snprintf(buf, len, "%lld", vmid);
}

/* Put i at the front of key's chain (called from the last VM down). */
static void index_push(struct strmap *m, size_t *next, size_t end,
		       const char *key, size_t i)
{
	next[i] = index_first(m, end, key);
	strmap_put(m, key, i);
}

static void index_build(struct plan_index *ix, const struct plan_input *in)
{
	size_t i, n = in->nr_vms;
	char key[32];

	memset(ix, 0, sizeof(*ix));
	ix->nr = n;
	ix->next_name = xcalloc(n + 1, sizeof(*ix->next_name));
	ix->next_vmid = xcalloc(n + 1, sizeof(*ix->next_vmid));
	ix->being_made = xcalloc(n + 1, sizeof(*ix->being_made));
	for (i = n; i-- > 0;) {
		const struct actual_vm *a = &in->vms[i];

		ix->next_name[i] = n;
		if (a->name)
			index_push(&ix->by_name, ix->next_name, n, a->name, i);
		vmid_key(key, sizeof(key), a->vmid);
		index_push(&ix->by_vmid, ix->next_vmid, n, key, i);
	}
	for (i = 0; i < n; i++) {
		const struct actual_vm *a = &in->vms[i];

		if ((!a->name || !*a->name) && a->lock &&
		    (!strcmp(a->lock, "clone") || !strcmp(a->lock, "create")))
			ix->being_made[ix->nr_being_made++] = i;
	}
	for (i = 0; i < in->nr_defs; i++)
		strmap_put(&ix->defs, in->defs[i]->name, i);
	for (i = 0; in->keep_names && i < in->keep_names->nr; i++)
		strmap_put(&ix->keep, in->keep_names->v[i], i);
}

static void index_release(struct plan_index *ix)
{
	strmap_release(&ix->by_name);
	strmap_release(&ix->by_vmid);
	strmap_release(&ix->defs);
	strmap_release(&ix->keep);
	free(ix->next_name);
	free(ix->next_vmid);
	free(ix->being_made);
}

/* No VM to clone: the templates there are, as the way out. */
static void block_no_source(struct plan_item *it, const struct plan_input *in,
			    const struct vmdef *def)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j, k = 0;

	for (i = 0; i < in->nr_vms; i++) {
		const struct actual_vm *a = &in->vms[i];
		bool seen = false;

		if (!a->template_ || !a->name)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = in->vms[j].template_ && in->vms[j].name &&
			       !strcmp(in->vms[j].name, a->name);
		if (!seen)
			strbuf_addf(&sb, "%s%s", k++ ? ", " : "", a->name);
	}
	block(it,
	      "there is no template '%s' to clone in the cluster (templates: "
	      "%s); set clone to one of them",
	      def->clone, k ? sb.buf : "none");
	strbuf_release(&sb);
}

/*
 * The VM to clone: a template of that name, on the target node when there
 * are several (as the Telmate provider prefers); else a plain VM of that
 * name. None is a blocked create.
 */
static void find_source(struct plan_item *it, const struct plan_input *in,
			const struct plan_index *ix, const struct vmdef *def)
{
	const struct actual_vm *best = NULL;
	int best_score = -1;
	size_t i;

	for (i = named_first(ix, def->clone); i < ix->nr;
	     i = ix->next_name[i]) {
		const struct actual_vm *a = &in->vms[i];
		int score;

		score = (a->template_ ? 2 : 0) +
			(a->node && !strcmp(a->node, def->target_node) ? 1 : 0);
		if (score > best_score) {
			best = a;
			best_score = score;
		}
	}
	if (!best)
		block_no_source(it, in, def);
	it->source = best;
}

/* The VMs (templates aside) that carry a definition's name: ours, which
 * are marked used, and the others. */
struct named_vms {
	const struct actual_vm *mine, *theirs; /* the last one of each */
	size_t nr_mine, nr_theirs;
};

static void find_named(struct named_vms *out, const struct plan_input *in,
		       const struct plan_index *ix, const char *name,
		       bool *used, const bool *left)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = named_first(ix, name); i < ix->nr; i = ix->next_name[i]) {
		const struct actual_vm *a = &in->vms[i];

		if (a->template_ || left[i])
			continue;
		if (actual_is_managed(a)) {
			out->mine = a;
			out->nr_mine++;
			used[i] = true;
		} else {
			out->theirs = a;
			out->nr_theirs++;
		}
	}
}

static bool has_marker(const struct actual_vm *a)
{
	const char *desc = actual_get(a, "description");

	return desc && !strncmp(desc, PLAN_CREATING_MARKER,
				strlen(PLAN_CREATING_MARKER));
}

/*
 * Several VMs carry the name while applies race on its create (each
 * clones; the losers remove theirs): at most one finished (digest tag),
 * one at least visibly in the making (tagged ours without the digest,
 * locked, or with the creating marker), and none configured as someone
 * else's. *unread: one whose config is still to be read, if any.
 */
static bool racing(const struct plan_input *in, const struct plan_index *ix,
		   const char *name, const struct actual_vm **unread)
{
	bool making = false, foreign = false;
	size_t i, len, finished = 0;

	*unread = NULL;
	for (i = named_first(ix, name); i < ix->nr; i = ix->next_name[i]) {
		const struct actual_vm *a = &in->vms[i];

		if (a->template_)
			continue;
		if (a->tags && desired_find_digest(a->tags, &len))
			finished++;
		else if (actual_is_managed(a) || (a->lock && *a->lock) ||
			 (a->has_config && has_marker(a)))
			making = true;
		else if (a->has_config)
			foreign = true;
		else if (!*unread)
			*unread = a;
	}
	return finished <= 1 && making && !foreign;
}

/* Several VMs of the name: applies racing (wait for them), or a config
 * to read first; false when neither. */
static bool several(struct plan_item *it, const struct plan_input *in,
		    const struct plan_index *ix, const struct named_vms *n)
{
	const struct actual_vm *unread;
	size_t len;

	/* one of ours finished: that is the one (the others are not ours) */
	if (n->nr_mine + n->nr_theirs < 2 ||
	    (n->nr_mine == 1 && desired_find_digest(n->mine->tags, &len)))
		return false;
	if (racing(in, ix, it->def->name, &unread)) {
		block(it,
		      "%zu VMs are named '%s' while applies race to create "
		      "it; plan again when they are done",
		      n->nr_mine + n->nr_theirs, it->def->name);
		it->busy = true;
		return true;
	}
	if (!unread)
		return false;
	/* read its config, then plan again */
	block(it, "%zu VMs are named '%s'; VM %d has not been looked at yet",
	      n->nr_mine + n->nr_theirs, it->def->name, unread->vmid);
	it->busy = true;
	it->have = unread;
	it->needs_config = true;
	return true;
}

/*
 * Which VM of that name the definition stands for: ours, one of ours left
 * half made (no tags yet, the creating marker), or one that --adopt takes
 * over; NULL in *out for none (a create). false when that settles the
 * item: several of ours, an interrupted apply to look at, or a VM that is
 * not ours.
 */
static bool claim(struct plan_item *it, const struct plan_input *in,
		  const struct plan_index *ix, const struct named_vms *n,
		  const struct actual_vm **out)
{
	const struct actual_vm *theirs = n->theirs;

	*out = n->mine;
	if (several(it, in, ix, n))
		return false;
	if (n->nr_mine > 1) {
		block(it,
		      "%zu VMs managed by pve-gitops are named '%s'; delete "
		      "all but one by hand",
		      n->nr_mine, it->def->name);
		return false;
	}
	if (n->mine || !theirs)
		return true;
	if (n->nr_theirs == 1 && !theirs->has_config) {
		/* an apply interrupted before the tags were set? */
		it->op = PLAN_BLOCKED;
		it->have = theirs;
		it->vmid = theirs->vmid;
		it->needs_config = true;
		return false;
	}
	if (!(n->nr_theirs == 1 && has_marker(theirs)) &&
	    !(in->adopt && n->nr_theirs == 1)) {
		it->vmid = theirs->vmid;
		it->adoptable = n->nr_theirs == 1;
		if (theirs->tags && list_has(theirs->tags, "terraform"))
			block(it,
			      "VM %d '%s' was made by Terraform (tagged "
			      "terraform); take it over with: pve-gitops apply "
			      "--adopt --target %s (after terraform state rm of "
			      "it, so that Terraform lets it go)",
			      theirs->vmid, it->def->name, it->def->name);
		else
			block(it,
			      "VM %d '%s' exists and is not managed by "
			      "pve-gitops; take it over with: pve-gitops apply "
			      "--adopt --target %s",
			      theirs->vmid, it->def->name, it->def->name);
		return false;
	}
	*out = theirs; /* ours half made (finish it), or adopted */
	return true;
}

/* What stands in the way of a create: the pinned vmid taken, no template
 * to clone, an unnamed VM being made that could be this one. */
static void check_create(struct plan_item *it, const struct plan_input *in,
			 const struct plan_index *ix)
{
	const struct vmdef *def = it->def;
	char key[32];
	size_t i;

	vmid_key(key, sizeof(key), (int)def->vmid);
	if (def->vmid)
		for (i = index_first(&ix->by_vmid, ix->nr, key); i < ix->nr;
		     i = ix->next_vmid[i])
			block(it, "vmid %d is taken by '%s'", in->vms[i].vmid,
			      in->vms[i].name ? in->vms[i].name : "");
	if (it->op == PLAN_CREATE && def->clone)
		find_source(it, in, ix, def);
	/* Proxmox shows a clone's name only once it is written: an unnamed
	 * VM being made could be this one */
	for (i = 0; it->op == PLAN_CREATE && i < ix->nr_being_made; i++) {
		block(it,
		      "VM %d is being created and has no name yet (it may be "
		      "this one); plan again when it is done",
		      in->vms[ix->being_made[i]].vmid);
		it->busy = true;
	}
}

/* The "node" change of a VM on another node than its definition's: a
 * live migration when it runs, else an offline one. */
static void add_migration(struct plan_item *it, const struct actual_vm *mine)
{
	bool running = mine->status && !strcmp(mine->status, "running");

	it->migration = running ? PLAN_MIGRATION_LIVE : PLAN_MIGRATION_OFFLINE;
	it->migrate_from = mine->node;
	add_change(it, "node", mine->node, it->def->target_node, false);
	it->changes[it->nr_changes - 1].migration = it->migration;
}

/* The item for a VM that exists: blocked where pve-gitops will not go
 * (another node, another vmid, a lock), else no-op or update. */
static void plan_existing(struct plan_item *it, const struct plan_input *in,
			  const struct actual_vm *mine)
{
	const struct vmdef *def = it->def;

	it->have = mine;
	it->vmid = mine->vmid;
	if (mine->node && strcmp(mine->node, def->target_node) &&
	    !def->migrate) {
		block(it,
		      "'%s' is on node %s, the definition says %s; migrate is "
		      "false: move it by hand, or set migrate: true",
		      def->name, mine->node, def->target_node);
		return;
	}
	if (def->vmid && (int)def->vmid != mine->vmid) {
		block(it, "'%s' has vmid %d, the definition pins %llu",
		      def->name, mine->vmid, (unsigned long long)def->vmid);
		return;
	}
	if (mine->lock && strcmp(mine->lock, "")) {
		block(it, "VM %d is locked (%s); try again when it is done",
		      mine->vmid, mine->lock);
		it->busy = true;
		return;
	}
	if (mine->node && strcmp(mine->node, def->target_node))
		add_migration(it, mine);
	if (digest_matches(mine, it->want) && !in->refresh &&
	    !(mine->tags && list_has(mine->tags, DESIRED_PENDING_TAG))) {
		it->op = PLAN_NOOP;
		/* the power state is not in the tags: the list shows it */
		add_power_change(it, def, mine);
		if (it->nr_changes)
			it->op = PLAN_UPDATE;
		return;
	}
	if (!mine->has_config) {
		it->op = PLAN_UPDATE;
		it->needs_config = true;
		return;
	}
	compare(it, def, it->want, mine);
}

/* QEMU args run as root on the node: written only when the operator (not
 * the repository) allows it. */
static void check_args(struct plan_item *it, const struct plan_input *in)
{
	size_t i;
	bool writes = it->op == PLAN_CREATE;

	if (!it->def->args || in->allow_args)
		return;
	for (i = 0; i < it->nr_changes && !writes; i++)
		writes = !strcmp(it->changes[i].key, "args") &&
			 !it->changes[i].pending;
	if (writes && (it->op == PLAN_CREATE || it->op == PLAN_UPDATE))
		block(it,
		      "%s: args gives QEMU raw arguments, run as root on node "
		      "%s; the repository cannot allow that by itself: set "
		      "PVE_GITOPS_ALLOW_QEMU_ARGS=1 where pve-gitops runs to "
		      "apply it",
		      it->def->name, it->def->target_node);
}

/* What the cluster tells of the node, storages, bridges and address. */
static void check_facts(struct plan_item *it, const struct plan_input *in,
			const struct actual_vm *mine)
{
	struct strbuf why = STRBUF_INIT;

	if (planchk_def(&why, it->def, in->facts, mine ? mine->vmid : 0)) {
		if (it->op == PLAN_BLOCKED && it->reason)
			block(it, "%s; %s", it->reason, why.buf);
		else
			block(it, "%s", why.buf);
	}
	strbuf_release(&why);
}

/* What stands in the way of a migration the cluster can tell: the
 * target node offline, a storage or bridge missing there, too little free
 * memory. */
static void check_migration(struct plan_item *it, const struct plan_input *in)
{
	struct strbuf why = STRBUF_INIT;

	if (planchk_migration(&why, it->def, in->facts)) {
		if (it->op == PLAN_BLOCKED && it->reason)
			block(it, "%s; %s", it->reason, why.buf);
		else
			block(it, "cannot migrate '%s' from %s to %s: %s",
			      it->def->name, it->migrate_from,
			      it->def->target_node, why.buf);
	}
	strbuf_release(&why);
}

static void plan_one(struct plan *p, const struct plan_input *in,
		     const struct plan_index *ix, size_t k, bool *used,
		     const bool *left)
{
	const struct vmdef *def = in->defs[k];
	const struct actual_vm *mine;
	struct named_vms named;
	struct plan_item *it;

	find_named(&named, in, ix, def->name, used, left);
	it = add_item(p, PLAN_CREATE, def->name, def->target_node);
	it->def = def;
	it->want = &in->wants[k];
	it->vmid = (int)def->vmid;
	if (!claim(it, in, ix, &named, &mine))
		return;
	if (mine)
		plan_existing(it, in, mine);
	else
		check_create(it, in, ix);
	check_args(it, in);
	if (in->facts && !it->busy && it->migration)
		check_migration(it, in);
	else if (in->facts && !it->busy && (!mine || in->refresh))
		check_facts(it, in, mine);
	/* ip_pool: no address could be allocated (ops/ippool.c) */
	if (def->ip_pool_problem && !it->busy && it->op != PLAN_BLOCKED)
		block(it, "%s", def->ip_pool_problem);
}

static bool finished_ours(const struct actual_vm *a)
{
	size_t len;

	return !a->template_ && actual_is_managed(a) &&
	       desired_find_digest(a->tags, &len);
}

/* Whether vms[j] is a finished VM of ours named like vms[i], another. */
static bool finished_sibling(const struct actual_vm *vms, size_t i, size_t j)
{
	return j != i && vms[j].name && !strcmp(vms[j].name, vms[i].name) &&
	       vms[j].vmid != vms[i].vmid && finished_ours(&vms[j]);
}

/* Whether vms[i] could be a leftover at all: a named VM, not a template,
 * not locked, without a digest tag. */
static bool leftover_candidate(const struct actual_vm *a)
{
	size_t len;

	return !a->template_ && a->name && *a->name && !(a->lock && *a->lock) &&
	       !(a->tags && desired_find_digest(a->tags, &len));
}

/* plan_is_leftover once the sibling is known to be there. */
static bool leftover_of_sibling(const struct actual_vm *a, bool *unread)
{
	const char *descr, *lock;

	if (!a->has_config) {
		*unread = true;
		return false;
	}
	descr = actual_get(a, "description");
	lock = actual_get(a, "lock");
	return (!lock || !*lock) && descr &&
	       !strncmp(descr, PLAN_CREATING_MARKER,
			strlen(PLAN_CREATING_MARKER));
}

bool plan_is_leftover(const struct actual_vm *vms, size_t n, size_t i,
		      bool *unread)
{
	bool sibling = false;
	size_t j;

	*unread = false;
	if (!leftover_candidate(&vms[i]))
		return false;
	for (j = 0; j < n && !sibling; j++)
		sibling = finished_sibling(vms, i, j);
	if (!sibling)
		return false;
	return leftover_of_sibling(&vms[i], unread);
}
/*
 * The leftovers of races (plan_is_leftover) of the defined names into left[]
 * (which the definitions' items then ignore), unread[] the VMs that could
 * be one once their config is read.
 */
static void find_leftovers(const struct plan_input *in,
			   const struct plan_index *ix, bool *left,
			   bool *unread)
{
	size_t i, j;

	for (i = 0; i < in->nr_vms; i++) {
		const struct actual_vm *a = &in->vms[i];
		bool sibling = false;

		if (!a->name || !strmap_has(&ix->defs, a->name) ||
		    !leftover_candidate(a))
			continue;
		for (j = named_first(ix, a->name); j < ix->nr;
		     j = ix->next_name[j]) {
			sibling = finished_sibling(in->vms, i, j);
			if (sibling)
				break;
		}
		if (sibling)
			left[i] = leftover_of_sibling(a, &unread[i]);
	}
}

/* A destroy of each leftover (its config read first), never protected. */
static void plan_leftovers(struct plan *p, const struct plan_input *in,
			   const bool *left, const bool *unread, bool *used)
{
	size_t i;

	for (i = 0; i < in->nr_vms; i++) {
		const struct actual_vm *a = &in->vms[i];
		const char *prot;
		struct plan_item *it;

		if (!left[i] && !unread[i])
			continue;
		it = add_item(p, PLAN_DESTROY, a->name, a->node);
		it->have = a;
		it->vmid = a->vmid;
		it->leftover = true;
		used[i] = true;
		if (unread[i]) {
			it->needs_config = true;
			continue;
		}
		prot = actual_get(a, "protection");
		if (prot && !strcmp(prot, "1"))
			block(it,
			      "VM %d '%s' is left over from an interrupted "
			      "race (still being created, next to the finished "
			      "VM of that name) but has protection set; clear "
			      "it or delete the VM by hand",
			      a->vmid, a->name);
	}
}

static void add_orphan(struct plan *p, const struct actual_vm *a)
{
	struct plan_orphan *o;

	ALLOC_GROW(p->orphans, st_add(p->nr_orphans, 1), p->alloc_orphans);
	o = &p->orphans[p->nr_orphans++];
	o->name = xstrdup(a->name ? a->name : "");
	o->node = xstrdup(a->node ? a->node : "");
	o->vmid = a->vmid;
	o->cluster = NULL; /* the caller names it (several clusters) */
}

/*
 * The managed VMs no definition claimed (templates, leftovers and the VMs
 * of kept names aside): with prune a destroy each (never protected: the
 * config says), without it an orphan each.
 */
static void plan_gone(struct plan *p, const struct plan_input *in,
		      const struct plan_index *ix, const bool *used)
{
	size_t i;

	for (i = 0; i < in->nr_vms; i++) {
		const struct actual_vm *a = &in->vms[i];
		struct plan_item *it;
		const char *prot;

		if (used[i] || a->template_ || !actual_is_managed(a) ||
		    (a->name && strmap_has(&ix->keep, a->name)))
			continue;
		if (!in->prune) {
			add_orphan(p, a);
			continue;
		}
		it = add_item(p, PLAN_DESTROY, a->name, a->node);
		it->have = a;
		it->vmid = a->vmid;
		if (!a->has_config) {
			it->needs_config = true; /* protection is in it */
			continue;
		}
		prot = actual_get(a, "protection");
		if (prot && !strcmp(prot, "1"))
			block(it,
			      "VM %d '%s' has protection set; clear it in "
			      "Proxmox to let --prune delete it",
			      a->vmid, a->name ? a->name : "");
	}
}

static void count_items(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		switch (p->items[i].op) {
		case PLAN_CREATE:
			p->add++;
			break;
		case PLAN_UPDATE:
			p->change++;
			break;
		case PLAN_DESTROY:
			p->destroy++;
			break;
		case PLAN_BLOCKED:
			p->blocked++;
			p->adoptable += p->items[i].adoptable;
			break;
		case PLAN_NOOP:
			break;
		}
		if (p->items[i].op != PLAN_BLOCKED && p->items[i].have &&
		    p->items[i].have->nr_pending && !p->items[i].reboot)
			p->pending++;
	}
}

void plan_build(struct plan *p, const struct plan_input *in)
{
	bool *used = xcalloc(in->nr_vms + 1, sizeof(*used));
	bool *left = xcalloc(in->nr_vms + 1, sizeof(*left));
	bool *unread = xcalloc(in->nr_vms + 1, sizeof(*unread));
	struct plan_index ix;
	size_t i;

	memset(p, 0, sizeof(*p));
	index_build(&ix, in);
	find_leftovers(in, &ix, left, unread);
	for (i = 0; i < in->nr_defs; i++)
		plan_one(p, in, &ix, i, used, left);
	plan_leftovers(p, in, left, unread, used);
	plan_gone(p, in, &ix, used);
	count_items(p);
	index_release(&ix);
	free(used);
	free(left);
	free(unread);
}

enum plan_verdict plan_verdict(const struct plan *p)
{
	if (p->add || p->change || p->destroy)
		return PLAN_VERDICT_CHANGES;
	return p->blocked ? PLAN_VERDICT_BLOCKED : PLAN_VERDICT_NONE;
}

void plan_release(struct plan *p)
{
	size_t i, j;

	for (i = 0; i < p->nr; i++) {
		struct plan_item *it = &p->items[i];

		for (j = 0; j < it->nr_changes; j++) {
			free(it->changes[j].key);
			free(it->changes[j].from);
			free(it->changes[j].to);
		}
		free(it->changes);
		free(it->name);
		free(it->node);
		free(it->reason);
	}
	free(p->items);
	for (i = 0; i < p->nr_orphans; i++) {
		free(p->orphans[i].name);
		free(p->orphans[i].node);
	}
	free(p->orphans);
	memset(p, 0, sizeof(*p));
}
