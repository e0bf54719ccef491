/*
 * storage.c - the cluster's storage configuration and a storage's
 * volumes (issue 15): GET /storage and /storage/{storage} as pve-storage's
 * PVE/API2/Storage/Config.pm answers them (storage.cfg's sections, content
 * and nodes as strings, the file's digest), and GET
 * /nodes/{node}/storage/{storage}/content as PVE/API2/Storage/Content.pm
 * does (PVE::Storage::volume_list, sorted by volid).
 *
 * The simulator keeps storages per node; one storage.cfg section is made
 * of every node's storage of that name ("nodes" lists them unless all
 * nodes have it). Proxmox lists sections in Perl hash order and always
 * adds "local"; the simulator sorts them and lists only its own.
 */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "util/xalloc.h"

/* PVE::Storage::Plugin's @SHARED_STORAGE: shared whatever the file says */
static bool always_shared(const char *type)
{
	static const char *const t[] = { "iscsi", "nfs",    "cifs",
					 "rbd",	  "cephfs", "iscsidirect",
					 "zfs",	  "drbd",   "pbs",
					 NULL };
	size_t i;

	for (i = 0; t[i]; i++)
		if (!strcmp(t[i], type))
			return true;
	return false;
}

/* The installer's and the GUI's usual keys for each type, as defaults. */
static void type_defaults(struct kvlist *l, const char *name, const char *type)
{
	struct strbuf sb = STRBUF_INIT;

	if (!strcmp(type, "lvmthin")) {
		kv_set(l, "vgname", "pve");
		kv_set(l, "thinpool",
		       !strcmp(name, "local-lvm") ? "data" : name);
	} else if (!strcmp(type, "lvm")) {
		kv_set(l, "vgname", name);
	} else if (!strcmp(type, "zfspool")) {
		kv_set(l, "pool",
		       !strcmp(name, "local-zfs") ? "rpool/data" : name);
		kv_set(l, "sparse", "1");
	} else if (!strcmp(type, "rbd")) {
		kv_set(l, "pool", name);
		kv_set(l, "krbd", "0");
	} else if (!strcmp(type, "nfs") || !strcmp(type, "cifs")) {
		strbuf_addf(&sb, "/mnt/pve/%s", name);
		kv_set(l, "path", sb.buf);
		kv_set(l, "server", "192.0.2.2");
		strbuf_reset(&sb);
		strbuf_addf(&sb, "/export/%s", name);
		kv_set(l, !strcmp(type, "nfs") ? "export" : "share", sb.buf);
	} else if (!strcmp(type, "dir") || !strcmp(type, "btrfs")) {
		if (!strcmp(name, "local"))
			kv_set(l, "path", "/var/lib/vz");
		else {
			strbuf_addf(&sb, "/mnt/%s", name);
			kv_set(l, "path", sb.buf);
		}
	}
	strbuf_release(&sb);
}

/* The section of storage name as storage.cfg holds it, or NULL. */
static json_t *section(struct sim *s, const char *name)
{
	const struct sim_storage *first = NULL;
	struct kvlist cfg = { 0 }, *extra = sim_stcfg(s, name, false);
	struct strbuf nodes = STRBUF_INIT;
	bool shared = false;
	size_t i, on = 0;
	json_t *o;

	for (i = 0; i < s->nr_nodes; i++) {
		const struct sim_storage *st = sim_storage(&s->nodes[i], name);

		if (!st)
			continue;
		first = first ? first : st;
		shared = shared || st->shared;
		strbuf_addf(&nodes, "%s%s", on++ ? "," : "", s->nodes[i].name);
	}
	if (!first) {
		strbuf_release(&nodes);
		return NULL;
	}
	type_defaults(&cfg, name, first->type);
	for (i = 0; extra && i < extra->nr; i++)
		kv_set(&cfg, extra->v[i].key, extra->v[i].val);
	o = json_pack("{s:s, s:s, s:s}", "storage", name, "type", first->type,
		      "content", first->content);
	for (i = 0; i < cfg.nr; i++)
		json_object_set_new(
			o, cfg.v[i].key,
			!strcmp(cfg.v[i].key, "sparse") ||
					!strcmp(cfg.v[i].key, "krbd")
				? json_integer(!strcmp(cfg.v[i].val, "1"))
				: json_string(cfg.v[i].val));
	if (shared || always_shared(first->type))
		json_object_set_new(o, "shared", json_integer(1));
	if (first->disabled) /* storage.cfg's "disable" */
		json_object_set_new(o, "disable", json_integer(1));
	if (on < s->nr_nodes)
		json_object_set_new(o, "nodes", json_string(nodes.buf));
	kv_clear(&cfg);
	strbuf_release(&nodes);
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every storage name, sorted, once; the caller frees the array only. */
static const char **storage_names(struct sim *s, size_t *nr)
{
	const char **v = NULL;
	size_t i, j, k, alloc = 0;

	*nr = 0;
	for (i = 0; i < s->nr_nodes; i++)
		for (j = 0; j < s->nodes[i].nr_st; j++) {
			const char *n = s->nodes[i].st[j].name;

			for (k = 0; k < *nr && strcmp(v[k], n); k++)
				;
			if (k < *nr)
				continue;
			ALLOC_GROW(v, st_add(*nr, 1), alloc);
			v[(*nr)++] = n;
		}
	if (*nr)
		qsort(v, *nr, sizeof(v[0]), by_name);
	return v;
}

/* SHA-1 of the sections written as storage.cfg, like cfs's digest */
static void add_digest(json_t *list)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[20];
	char hex[41];
	const char *k;
	json_t *o, *v;
	size_t i, j;

	json_array_foreach(list, i, o)
	{
		strbuf_addf(&sb, "%s: %s\n",
			    json_string_value(json_object_get(o, "type")),
			    json_string_value(json_object_get(o, "storage")));
		json_object_foreach(o, k, v) if (strcmp(k, "type") &&
						 strcmp(k, "storage"))
			strbuf_addf(&sb, "\t%s %s\n", k,
				    json_is_string(v) ? json_string_value(v)
						      : "1");
		strbuf_addch(&sb, '\n');
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, sb.buf, sb.len, md) < 0)
		memset(md, 0, sizeof(md));
	for (j = 0; j < 20; j++)
		snprintf(hex + 2 * j, 3, "%02x", md[j]);
	json_array_foreach(list, i, o)
		json_object_set_new(o, "digest", json_string(hex));
	strbuf_release(&sb);
}

static json_t *all_sections(struct sim *s)
{
	size_t nr, i;
	const char **names = storage_names(s, &nr);
	json_t *a = json_array();

	for (i = 0; i < nr; i++)
		json_array_append_new(a, section(s, names[i]));
	free(names);
	add_digest(a);
	return a;
}

void h_storage_index(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");
	json_t *all = all_sections(s), *o;
	size_t i;

	rs->data = json_array();
	json_array_foreach(
		all, i,
		o) if (!type ||
		       !strcmp(type,
			       json_string_value(json_object_get(o, "type"))))
		json_array_append(rs->data, o);
	json_decref(all);
}

void h_storage_read(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *name = req_param(rq, "storage");
	json_t *all = all_sections(s), *o;
	size_t i;

	json_array_foreach(
		all, i, o) if (!strcmp(name,
				       json_string_value(
					       json_object_get(o, "storage"))))
		rs->data = json_incref(o);
	json_decref(all);
	if (!rs->data)
		resp_fail(rs, 500, "storage '%s' does not exist", name);
}

/* ---- content ------------------------------------------------------------ */

static const char *vol_format(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && (!strcmp(dot, ".qcow2") || !strcmp(dot, ".vmdk") ||
		    !strcmp(dot, ".raw")))
		return dot + 1;
	return !strncmp(name, "subvol-", 7) ? "subvol" : "raw";
}

static json_t *vol_json(struct sim *s, const struct sim_volume *v)
{
	return json_pack("{s:o, s:s, s:I, s:I, s:s}", "volid",
			 json_sprintf("%s:%s", v->storage, v->name), "format",
			 vol_format(v->name), "size", (json_int_t)v->size,
			 "vmid", (json_int_t)v->vmid, "content",
			 sim_ct(s, v->vmid) ? "rootdir" : "images");
}

static int by_volid(const void *a, const void *b)
{
	return strcasecmp(json_string_value(json_object_get(*(json_t *const *)a,
							    "volid")),
			  json_string_value(json_object_get(*(json_t *const *)b,
							    "volid")));
}

void h_storage_content(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_node *n = need_node(s, rq, rs);
	const char *name = req_param(rq, "storage");
	const char *content = req_param(rq, "content");
	int vmid = req_param(rq, "vmid") ? vmid_of(rq, "vmid") : -1;
	const struct sim_storage *st;
	json_t **v = NULL;
	size_t i, nr = 0, alloc = 0;

	if (!n)
		return;
	if (!(st = sim_storage(n, name))) {
		json_t *sec = section(s, name);

		if (sec)
			resp_fail(rs, 500,
				  "storage '%s' is not available on node '%s'",
				  name, n->name);
		else
			resp_fail(rs, 500, "storage '%s' does not exist", name);
		json_decref(sec);
		return;
	}
	for (i = 0; i < s->nr_vols; i++) {
		const struct sim_volume *vol = &s->vols[i];
		json_t *o;

		if (strcmp(vol->storage, st->name) ||
		    (!st->shared && strcmp(vol->node, n->name)) ||
		    (vmid >= 0 && vol->vmid != vmid))
			continue;
		o = vol_json(s, vol);
		if (content &&
		    strcmp(content,
			   json_string_value(json_object_get(o, "content")))) {
			json_decref(o);
			continue;
		}
		ALLOC_GROW(v, st_add(nr, 1), alloc);
		v[nr++] = o;
	}
	if (nr)
		qsort(v, nr, sizeof(v[0]), by_volid);
	rs->data = json_array();
	for (i = 0; i < nr; i++)
		json_array_append_new(rs->data, v[i]);
	free(v);
}
