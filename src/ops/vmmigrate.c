/*
 * vmmigrate.c - a VM moved to the node its definition names, as
 * qemu-server's POST .../migrate does it: a running VM online (it runs
 * throughout), with-local-disks when a disk is on a storage that is not
 * shared (Proxmox refuses to move attached local disks live without it),
 * and targetstorage when the definition names storages for its disks. The
 * vmid, the MAC addresses and the rest of the configuration travel with
 * it. A migration that fails leaves the VM where it was; the error says
 * so, with the task's exit status and log. The worker's side of
 * execute_int.h.
 */
#include <string.h>

#include "core/vmparams.h"
#include "io/cluster.h"
#include "io/pve_vm.h"
#include "ops/execute_int.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

/* The storage of a drive value ("local-lvm:vm-100-disk-0,size=32G") into
 * sb; false for a CD-ROM, a path, "none". */
static bool drive_storage(struct strbuf *sb, const char *val)
{
	size_t n = strcspn(val, ":,");

	strbuf_reset(sb);
	if (strstr(val, "media=cdrom") || val[0] == '/' || val[n] != ':')
		return false;
	strbuf_add(sb, val, n);
	return true;
}

/* Whether a drive of conf is on a storage of the node that is not shared
 * (or that the node does not list). */
static int has_local_disks(struct worker *w, const char *node, json_t *conf,
			   bool *out, struct err *e)
{
	struct cluster_facts f;
	struct facts_node *n;
	struct strbuf sid = STRBUF_INIT;
	const char *k;
	json_t *v;
	int ret = -1;

	*out = false;
	cluster_facts_init(&f);
	n = facts_add_node(&f, node, "online");
	if (cluster_read_storages(n, &w->pc, e) < 0)
		goto out;
	json_object_foreach(conf, k, v)
	{
		const struct facts_storage *st;

		if (!vmparams_is_drive_key(k) || !json_is_string(v) ||
		    !drive_storage(&sid, json_string_value(v)))
			continue;
		st = facts_storage(n, sid.buf);
		if (!st || !st->shared)
			*out = true;
	}
	ret = 0;
out:
	strbuf_release(&sid);
	cluster_facts_release(&f);
	return ret;
}

/*
 * The targetstorage of the definition's disks into sb (empty: none): the
 * one storage they name, else "src:dst" pairs from where each slot's
 * volume is now (conf) to where the definition wants it.
 */
static void target_storage(struct strbuf *sb, const struct desired *want,
			   json_t *conf)
{
	struct strbuf cur = STRBUF_INIT;
	struct strvec seen = STRVEC_INIT;
	const char *one = NULL;
	bool many = false;
	size_t i;

	for (i = 0; i < want->nr_disks; i++) {
		const char *st = want->disks[i].storage;

		if (!st)
			continue;
		if (one && strcmp(one, st))
			many = true;
		one = one ? one : st;
	}
	strbuf_reset(sb);
	if (!many) {
		if (one)
			strbuf_addstr(sb, one);
		goto out;
	}
	for (i = 0; i < want->nr_disks; i++) {
		const struct desired_disk *d = &want->disks[i];
		const char *val =
			json_string_value(json_object_get(conf, d->slot));
		size_t j;

		if (!d->storage || !val || !drive_storage(&cur, val))
			continue;
		/* one pair per source storage (Proxmox refuses a second) */
		for (j = 0; j < seen.nr && strcmp(seen.v[j], cur.buf); j++)
			;
		if (j < seen.nr)
			continue;
		strvec_push(&seen, cur.buf);
		strbuf_addf(sb, "%s%s:%s", sb->len ? "," : "", cur.buf,
			    d->storage);
	}
out:
	strvec_clear(&seen);
	strbuf_release(&cur);
}

/* Append where the VM is after a failed migration: what the source node
 * says of it, or that it could not be told. */
static void say_where(struct worker *w, const char *from, int vmid,
		      struct strbuf *msg)
{
	struct err e2 = ERR_INIT;
	json_t *st = NULL;
	const char *s;

	if (pve_vm_status(&w->pc, from, vmid, &st, &e2) == 0 &&
	    (s = json_string_value(json_object_get(st, "status"))))
		strbuf_addf(msg, "; the VM stays on node %s (%s)", from, s);
	else
		strbuf_addf(msg,
			    "; the VM should still be on node %s, but it did "
			    "not answer there (%s)",
			    from, e2.msg.len ? e2.msg.buf : "no status");
	json_decref(st);
	err_release(&e2);
}

int vmmigrate_move(struct worker *w, struct err *e)
{
	const struct plan_item *it = w->it;
	const char *from = it->migrate_from, *to = it->node;
	bool online = it->migration == PLAN_MIGRATION_LIVE, local = false,
	     by_ha = false;
	struct strbuf ts = STRBUF_INIT, msg = STRBUF_INIT;
	int vmid = it->have->vmid, ret = -1;
	json_t *conf = NULL;

	if (pve_vm_config_get(&w->pc, from, vmid, &conf, e) < 0 ||
	    (online && has_local_disks(w, from, conf, &local, e) < 0)) {
		err_prefix(e, "cannot migrate VM %d from %s to %s", vmid, from,
			   to);
		goto out;
	}
	target_storage(&ts, it->want, conf);
	worker_say(w, "%s migration from %s to %s...",
		   online ? "live" : "offline", from, to);
	if (pve_vm_migrate(&w->pc, from, vmid, to, online, local,
			   ts.len ? ts.buf : NULL, worker_timeout(w), &by_ha,
			   e) < 0) {
		/* a migration Proxmox refused or that failed is not tried
		 * again in this run; one whose answer or end was not seen,
		 * or that met a lock, is planned again */
		enum err_kind kind = e->kind == ERR_LOST ||
						     e->kind == ERR_TIMEOUT ||
						     e->kind == ERR_LOCKED
					     ? e->kind
					     : ERR_PERMANENT;

		strbuf_addf(&msg, "cannot migrate VM %d from %s to %s: %s",
			    vmid, from, to, e->msg.buf);
		if (kind == ERR_LOST || kind == ERR_TIMEOUT)
			strbuf_addstr(&msg, "; the migration may still be "
					    "under way");
		say_where(w, from, vmid, &msg);
		err_release(e);
		err_setk(e, kind, EXIT_FAIL, "%s", msg.buf);
		goto out;
	}
	if (by_ha && ts.len)
		worker_say(w,
			   "migrated to %s by the HA stack, which takes no "
			   "target storage: its disks kept their storage "
			   "names",
			   to);
	else
		worker_say(w, "migrated to %s%s", to,
			   by_ha ? " by the HA stack" : "");
	ret = 0;
out:
	json_decref(conf);
	strbuf_release(&ts);
	strbuf_release(&msg);
	return ret;
}
