/*
 * state.c - where the simulated cluster comes from and goes to: the
 * topology file (YAML, read with libfyaml) and the --state file (JSON,
 * written atomically after every change and at exit).
 */
#include <arpa/inet.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdn.h"
#include "sim.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* ---- topology --------------------------------------------------------- */

struct topo {
	const char *file;
	struct err *e;
};

static const char *scalar(struct fy_node *map, const char *key)
{
	struct fy_node *n =
		map && fy_node_is_mapping(map)
			? fy_node_mapping_lookup_by_string(map, key, FY_NT)
			: NULL;

	return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

/* A node's line: its own token's, or its first scalar's. */
static int node_line(struct fy_node *n)
{
	void *it = NULL;
	struct fy_node_pair *p;
	const struct fy_mark *m;

	if (!n)
		return 0;
	if (fy_node_is_scalar(n)) {
		m = fy_token_start_mark(fy_node_get_scalar_token(n));
		return m ? m->line + 1 : 0;
	}
	if (fy_node_is_mapping(n))
		return (p = fy_node_mapping_iterate(n, &it))
			       ? node_line(fy_node_pair_key(p))
			       : 0;
	return node_line(fy_node_sequence_iterate(n, &it));
}

static int topo_fail(struct topo *t, struct fy_node *n, const char *what)
{
	return err_set(t->e, EXIT_INVALID, "%s:%d: %s", t->file, node_line(n),
		       what);
}

static int need_str(struct topo *t, struct fy_node *map, const char *key,
		    const char **out)
{
	*out = scalar(map, key);
	if (!*out) {
		struct strbuf sb = STRBUF_INIT;
		int r;

		strbuf_addf(&sb, "'%s' is required (a string)", key);
		r = topo_fail(t, map, sb.buf);
		strbuf_release(&sb);
		return r;
	}
	return 0;
}

static int get_size(struct topo *t, struct fy_node *map, const char *key,
		    uint64_t def, uint64_t *out)
{
	const char *v = scalar(map, key);
	bool rel;

	*out = def;
	if (v && (sim_parse_size(v, out, &rel, 'G') < 0 || rel))
		return topo_fail(t, map, "bad size (like 32G, 512M, 1T)");
	return 0;
}

static bool get_bool(struct fy_node *map, const char *key, bool def)
{
	const char *v = scalar(map, key);

	if (!v)
		return def;
	return !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes");
}

/* config: {key: value, ...} into conf */
static int load_config(struct topo *t, struct kvlist *conf, struct fy_node *map)
{
	struct fy_node_pair *p;
	void *it = NULL;

	while (map && (p = fy_node_mapping_iterate(map, &it))) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
		const char *v = fy_node_get_scalar0(fy_node_pair_value(p));

		if (!k || !v)
			return topo_fail(t, map,
					 "config values must be scalars");
		kv_set(conf, k, v);
	}
	return 0;
}

/*
 * A node's network: eno1 (the port of vmbr0) and the bridges named in
 * bridges: (vmbr0 by default); vmbr0 carries address: when given.
 */
static int load_netifs(struct sim *s, struct topo *t, struct fy_node *n,
		       const char *node)
{
	struct fy_node *br =
		fy_node_mapping_lookup_by_string(n, "bridges", FY_NT);
	const char *addr = scalar(n, "address"), *b;
	struct fy_node *it_n;
	void *it = NULL;

	if (addr && !strchr(addr, '/'))
		return topo_fail(t, n, "'address' is CIDR (192.0.2.11/24)");
	if (br && !fy_node_is_sequence(br))
		return topo_fail(t, n, "'bridges' is a list of names");
	sim_netif_add(s, node, "eno1", "eth", NULL, NULL);
	if (!br) {
		sim_netif_add(s, node, "vmbr0", "bridge", addr, "eno1");
		return 0;
	}
	while ((it_n = fy_node_sequence_iterate(br, &it))) {
		if (!fy_node_is_scalar(it_n) ||
		    !(b = fy_node_get_scalar0(it_n)))
			return topo_fail(t, br, "a bridge is a name");
		sim_netif_add(s, node, b, "bridge",
			      !strcmp(b, "vmbr0") ? addr : NULL,
			      !strcmp(b, "vmbr0") ? "eno1" : NULL);
	}
	return 0;
}

static int load_nodes(struct sim *s, struct topo *t, struct fy_node *seq)
{
	struct fy_node *n, *st, *sts;
	void *it = NULL, *it2;
	const char *name, *sname;
	uint64_t v;

	while ((n = fy_node_sequence_iterate(seq, &it))) {
		struct sim_node *node;

		if (need_str(t, n, "name", &name) < 0)
			return -1;
		if (sim_node(s, name))
			return topo_fail(t, n, "node listed twice");
		node = sim_add_node(s, name);
		if (scalar(n, "cpus") &&
		    parse_u64z(&v, scalar(n, "cpus"), 1, 4096) == 0)
			node->maxcpu = (int)v;
		if (get_size(t, n, "memory", node->maxmem, &node->maxmem) < 0)
			return -1;
		node->offline = !get_bool(n, "online", true); /* wt-migrate */
		if (scalar(n, "migration_error"))
			node->migration_error =
				xstrdup(scalar(n, "migration_error"));
		sts = fy_node_mapping_lookup_by_string(n, "storages", FY_NT);
		it2 = NULL;
		while (sts && (st = fy_node_sequence_iterate(sts, &it2))) {
			const char *type = scalar(st, "type");
			const char *content = scalar(st, "content");

			if (need_str(t, st, "name", &sname) < 0 ||
			    get_size(t, st, "capacity", 1ULL << 40, &v) < 0)
				return -1;
			sim_node_add_storage(
				node, sname, type ? type : "lvmthin",
				content ? content : "images,rootdir", v,
				get_bool(st, "shared", false));
			node->st[node->nr_st - 1].disabled =
				!get_bool(st, "enabled", true);
			node->st[node->nr_st - 1].inactive =
				!get_bool(st, "active", true);
			if (load_config(t, sim_stcfg(s, sname, true),
					fy_node_mapping_lookup_by_string(
						st, "config", FY_NT)) < 0)
				return -1;
		}
		if (load_netifs(s, t, n, name) < 0)
			return -1;
	}
	return 0;
}

/* disks: {scsi0: {storage: local-lvm, size: 32G}} */
static int load_disks(struct sim *s, struct topo *t, struct sim_vm *vm,
		      struct fy_node *map, bool base)
{
	struct fy_node_pair *p;
	void *it = NULL;
	int n = 0;

	while (map && (p = fy_node_mapping_iterate(map, &it))) {
		const char *slot = fy_node_get_scalar0(fy_node_pair_key(p));
		struct fy_node *d = fy_node_pair_value(p);
		struct strbuf name = STRBUF_INIT, val = STRBUF_INIT;
		const char *storage;
		uint64_t size;

		if (!slot || need_str(t, d, "storage", &storage) < 0 ||
		    get_size(t, d, "size", 8ULL << 30, &size) < 0)
			return -1;
		if (!sim_storage(sim_node(s, vm->node), storage))
			return topo_fail(t, d, "no such storage on the node");
		strbuf_addf(&name, "%s-%d-disk-%d", base ? "base" : "vm",
			    vm->vmid, n++);
		sim_add_volume(s, storage, name.buf, vm->node, vm->vmid, size);
		strbuf_addf(&val, "%s:%s,size=", storage, name.buf);
		sim_format_size(&val, size);
		kv_set(&vm->conf, slot, val.buf);
		strbuf_release(&name);
		strbuf_release(&val);
	}
	return 0;
}

/* One file's content: a string, or {size: 17M, fill: "ab"} repeated. */
static int file_content(struct topo *t, struct fy_node *v, struct strbuf *out)
{
	const char *fill = scalar(v, "fill"), *str;
	uint64_t size;
	size_t len, flen;

	if (fy_node_is_scalar(v)) {
		str = fy_node_get_scalar(v, &len);
		strbuf_add(out, str, len);
		return 0;
	}
	if (!fy_node_is_mapping(v) || get_size(t, v, "size", 0, &size) < 0 ||
	    size > (256ULL << 20))
		return topo_fail(t, v,
				 "a file is a string or {size: N, fill: S} "
				 "(at most 256M)");
	if (!fill || !*fill)
		fill = "x";
	flen = strlen(fill);
	strbuf_grow(out, (size_t)size);
	while (out->len < size)
		strbuf_add(out, fill,
			   size - out->len < flen ? size - out->len : flen);
	return 0;
}

/* files: {/etc/hostname: "web\n", /var/big: {size: 17M, fill: "A"}} */
static int load_files(struct sim *s, struct topo *t, int vmid,
		      struct fy_node *map)
{
	struct fy_node_pair *p;
	void *it = NULL;

	if (map && !fy_node_is_mapping(map))
		return topo_fail(t, map, "'files' maps paths to contents");
	while (map && (p = fy_node_mapping_iterate(map, &it))) {
		const char *path = fy_node_get_scalar0(fy_node_pair_key(p));
		struct strbuf sb = STRBUF_INIT;

		if (!path || path[0] != '/') {
			strbuf_release(&sb);
			return topo_fail(t, map, "a file's path is absolute");
		}
		if (file_content(t, fy_node_pair_value(p), &sb) < 0) {
			strbuf_release(&sb);
			return -1;
		}
		sim_guest_file_set(s, vmid, path, sb.buf, sb.len);
		strbuf_release(&sb);
	}
	return 0;
}

/*
 * snapshots (snapshot.c): a VM whose config names a parent has that
 * snapshot, taken of the VM as the topology gives it (the keys
 * __snapshot_copy_config copies), as pve-gitops' plan reads "parent".
 */
static void topo_snapshot(struct sim_vm *vm)
{
	const char *parent = kv_get(&vm->conf, "parent");
	struct sim_snap *sn;
	char when[24];
	size_t i;

	if (!parent || sim_snap_find(vm, parent))
		return;
	sn = sim_snap_add(vm, parent);
	for (i = 0; i < vm->conf.nr; i++) {
		const char *k = vm->conf.v[i].key;

		if (strcmp(k, "parent") && strcmp(k, "lock") &&
		    strcmp(k, "description") && strncmp(k, "unused", 6))
			kv_set(&sn->conf, k, vm->conf.v[i].val);
	}
	snprintf(when, sizeof(when), "%lld", (long long)(sim_now_ms() / 1000));
	kv_set(&sn->conf, "snaptime", when);
}

/*
 * --guests qemu (issue 22): "image: DIR", absolute or relative to the
 * topology file, made by scripts/build-guest-image.sh (root.qcow2,
 * vmlinuz, initrd.img); checked only when guests run.
 */
static int load_image(struct sim *s, struct topo *t, struct fy_node *n,
		      struct sim_vm *vm)
{
	static const char *const files[] = { "root.qcow2", "vmlinuz",
					     "initrd.img", NULL };
	const char *dir = scalar(n, "image");
	const char *slash = strrchr(t->file, '/');
	struct strbuf path = STRBUF_INIT, f = STRBUF_INIT;
	char real[4096];
	size_t i;
	int ret = -1;

	if (!dir)
		return 0;
	if (dir[0] != '/' && slash)
		strbuf_addf(&path, "%.*s/", (int)(slash - t->file), t->file);
	strbuf_addstr(&path, dir);
	if (realpath(path.buf, real)) {
		strbuf_reset(&path);
		strbuf_addstr(&path, real);
	} else if (s->guests) {
		strbuf_addf(&f, "image: %s: no such directory", path.buf);
		topo_fail(t,
			  fy_node_mapping_lookup_by_string(n, "image", FY_NT),
			  f.buf);
		goto out;
	}
	for (i = 0; s->guests && files[i]; i++) {
		strbuf_reset(&f);
		strbuf_addf(&f, "%s/%s", path.buf, files[i]);
		if (access(f.buf, R_OK) == 0)
			continue;
		strbuf_reset(&f);
		strbuf_addf(&f,
			    "image: %s has no %s "
			    "(scripts/build-guest-image.sh makes it)",
			    path.buf, files[i]);
		topo_fail(t,
			  fy_node_mapping_lookup_by_string(n, "image", FY_NT),
			  f.buf);
		goto out;
	}
	vm->image = strbuf_detach(&path, NULL);
	ret = 0;
out:
	strbuf_release(&path);
	strbuf_release(&f);
	return ret;
}

static int load_vms(struct sim *s, struct topo *t, struct fy_node *seq,
		    bool templates)
{
	struct fy_node *n, *conf;
	void *it = NULL;

	while ((n = fy_node_sequence_iterate(seq, &it))) {
		const char *name, *node, *id = scalar(n, "vmid");
		const char *ci = scalar(n, "cloudinit");
		struct sim_vm *vm;
		uint64_t vmid;
		char mac[18];
		struct strbuf sb = STRBUF_INIT;

		if (!id || parse_u64z(&vmid, id, 100, 999999999) < 0)
			return topo_fail(t, n, "'vmid' must be 100-999999999");
		if (need_str(t, n, "name", &name) < 0 ||
		    need_str(t, n, "node", &node) < 0)
			return -1;
		if (!sim_node(s, node))
			return topo_fail(t, n, "no such node");
		if (sim_vm(s, (int)vmid))
			return topo_fail(t, n, "vmid listed twice");
		vm = sim_vm_new(s, (int)vmid, node);
		kv_set(&vm->conf, "name", name);
		kv_set(&vm->conf, "cores", "1");
		kv_set(&vm->conf, "memory", "1024");
		kv_set(&vm->conf, "scsihw", "virtio-scsi-pci");
		sim_new_mac(s, mac);
		strbuf_addf(&sb, "virtio=%s,bridge=vmbr0", mac);
		kv_set(&vm->conf, "net0", sb.buf);
		strbuf_release(&sb);
		if (get_bool(n, "agent", true))
			kv_set(&vm->conf, "agent", "1");
		if (load_disks(
			    s, t, vm,
			    fy_node_mapping_lookup_by_string(n, "disks", FY_NT),
			    templates) < 0)
			return -1;
		if (ci) {
			struct strbuf v = STRBUF_INIT, nm = STRBUF_INIT;

			strbuf_addf(&nm, "vm-%d-cloudinit", vm->vmid);
			sim_add_volume(s, ci, nm.buf, node, vm->vmid,
				       4ULL << 20);
			strbuf_addf(&v, "%s:%s,media=cdrom", ci, nm.buf);
			kv_set(&vm->conf, "ide2", v.buf);
			strbuf_release(&v);
			strbuf_release(&nm);
		}
		conf = fy_node_mapping_lookup_by_string(n, "config", FY_NT);
		if (load_config(t, &vm->conf, conf) < 0 ||
		    load_files(s, t, vm->vmid,
			       fy_node_mapping_lookup_by_string(n, "files",
								FY_NT)) < 0)
			return -1;
		if (load_image(s, t, n, vm) < 0)
			return -1;
		topo_snapshot(vm); /* snapshots */
		if (templates)
			kv_set(&vm->conf, "template", "1");
		else if (scalar(n, "status") &&
			 !strcmp(scalar(n, "status"), "running")) {
			vm->running = true;
			vm->started_ms = sim_now_ms() - 3600 * 1000;
			sim_ci_snapshot(vm);
		}
	}
	return 0;
}

static int load_users(struct sim *s, struct topo *t, struct fy_node *seq)
{
	struct fy_node *n, *toks, *tk;
	void *it = NULL, *it2;
	const char *userid, *id, *secret;

	while ((n = fy_node_sequence_iterate(seq, &it))) {
		if (need_str(t, n, "userid", &userid) < 0)
			return -1;
		if (scalar(n, "password"))
			sim_add_user(s, userid, scalar(n, "password"));
		toks = fy_node_mapping_lookup_by_string(n, "tokens", FY_NT);
		it2 = NULL;
		while (toks && (tk = fy_node_sequence_iterate(toks, &it2))) {
			struct strbuf sb = STRBUF_INIT;

			if (need_str(t, tk, "id", &id) < 0 ||
			    need_str(t, tk, "secret", &secret) < 0)
				return -1;
			strbuf_addf(&sb, "%s!%s", userid, id);
			sim_add_token(s, sb.buf, secret);
			strbuf_release(&sb);
		}
	}
	return 0;
}

/*
 * containers: [{vmid, hostname, node, status, rootfs: {storage, size},
 * config: {...}}], listed only, with pct's defaults (cores 1, 512 MiB).
 */
static int load_ct(struct sim *s, struct topo *t, struct fy_node *n)
{
	const char *node, *id = scalar(n, "vmid"),
			  *host = scalar(n, "hostname");
	struct fy_node *rf =
		fy_node_mapping_lookup_by_string(n, "rootfs", FY_NT);
	struct strbuf sb = STRBUF_INIT;
	struct sim_ct *ct;
	uint64_t vmid, size = 4ULL << 30;
	char mac[18];

	if (!id || parse_u64z(&vmid, id, 100, 999999999) < 0)
		return topo_fail(t, n, "'vmid' must be 100-999999999");
	if (need_str(t, n, "node", &node) < 0)
		return -1;
	if (!sim_node(s, node))
		return topo_fail(t, n, "no such node");
	if (sim_vm(s, (int)vmid) || sim_ct(s, (int)vmid))
		return topo_fail(t, n, "vmid listed twice");
	ct = sim_ct_new(s, (int)vmid, node);
	strbuf_addf(&sb, "CT%d", ct->vmid);
	kv_set(&ct->conf, "arch", "amd64");
	kv_set(&ct->conf, "cores", "1");
	kv_set(&ct->conf, "hostname", host ? host : sb.buf);
	kv_set(&ct->conf, "memory", "512");
	sim_new_mac(s, mac);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "name=eth0,bridge=vmbr0,hwaddr=%s,ip=dhcp,type=veth",
		    mac);
	kv_set(&ct->conf, "net0", sb.buf);
	kv_set(&ct->conf, "ostype", "debian");
	strbuf_release(&sb);
	if (rf) {
		const char *st;
		struct strbuf nm = STRBUF_INIT, v = STRBUF_INIT;

		if (need_str(t, rf, "storage", &st) < 0 ||
		    get_size(t, rf, "size", size, &size) < 0)
			return -1;
		if (!sim_storage(sim_node(s, node), st))
			return topo_fail(t, rf, "no such storage on the node");
		strbuf_addf(&nm, "vm-%d-disk-0", ct->vmid);
		sim_add_volume(s, st, nm.buf, node, ct->vmid, size);
		strbuf_addf(&v, "%s:%s,size=", st, nm.buf);
		sim_format_size(&v, size);
		kv_set(&ct->conf, "rootfs", v.buf);
		strbuf_release(&nm);
		strbuf_release(&v);
	}
	kv_set(&ct->conf, "swap", "512");
	if (load_config(t, &ct->conf,
			fy_node_mapping_lookup_by_string(n, "config", FY_NT)) <
	    0)
		return -1;
	if (scalar(n, "status") && !strcmp(scalar(n, "status"), "running")) {
		ct->running = true;
		ct->started_ms = sim_now_ms() - 3600 * 1000;
	}
	return 0;
}

/* groups: [{groupid, comment, users: [userid, ...]}] */
static int load_groups(struct sim *s, struct topo *t, struct fy_node *seq)
{
	struct fy_node *n, *u, *users;
	void *it = NULL, *it2;
	const char *gid;

	while ((n = fy_node_sequence_iterate(seq, &it))) {
		struct sim_group *g;

		if (need_str(t, n, "groupid", &gid) < 0)
			return -1;
		g = sim_group_new(s, gid, scalar(n, "comment"));
		users = fy_node_mapping_lookup_by_string(n, "users", FY_NT);
		it2 = NULL;
		while (users && (u = fy_node_sequence_iterate(users, &it2))) {
			if (!fy_node_is_scalar(u))
				return topo_fail(t, users,
						 "a user is a userid");
			strvec_push(&g->users, fy_node_get_scalar0(u));
		}
	}
	return 0;
}

/*
 * dhcp_leases: {VM_NAME: IPV4}: the address a VM of that name gets from
 * DHCP, which its guest agent reports (a VM made later by a clone too).
 */
static int load_leases(struct sim *s, struct topo *t, struct fy_node *map)
{
	struct fy_node_pair *p;
	struct in_addr a;
	void *it = NULL;

	if (!fy_node_is_mapping(map))
		return topo_fail(t, map,
				 "'dhcp_leases' must map VM names to "
				 "IPv4 addresses");
	while ((p = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *k = fy_node_pair_key(p),
			       *v = fy_node_pair_value(p);
		const char *name =
			fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		const char *addr = v && fy_node_is_scalar(v)
					   ? fy_node_get_scalar0(v)
					   : NULL;

		if (!name || !addr || inet_pton(AF_INET, addr, &a) != 1)
			return topo_fail(t, v ? v : k,
					 "a DHCP lease is VM_NAME: IPV4");
		kv_set(&s->leases, name, addr);
	}
	return 0;
}

/* The keys of issue 15: containers and groups; and DHCP leases. */
static int load_readapi(struct sim *s, struct topo *t, struct fy_node *root)
{
	struct fy_node *seq, *n;
	void *it = NULL;

	n = fy_node_mapping_lookup_by_string(root, "dhcp_leases", FY_NT);
	if (n && load_leases(s, t, n) < 0)
		return -1;
	seq = fy_node_mapping_lookup_by_string(root, "containers", FY_NT);
	while (seq && (n = fy_node_sequence_iterate(seq, &it)))
		if (load_ct(s, t, n) < 0)
			return -1;
	seq = fy_node_mapping_lookup_by_string(root, "groups", FY_NT);
	return seq ? load_groups(s, t, seq) : 0;
}

int sim_load_topology(struct sim *s, const char *path, struct err *e)
{
	struct fy_document *doc = fy_document_build_from_file(NULL, path);
	struct topo t = { path, e };
	struct fy_node *root, *n;
	int ret = -1;

	if (!doc)
		return err_set(e, EXIT_INVALID,
			       "cannot read topology '%s' (see above)", path);
	root = fy_document_root(doc);
	if (!root || !fy_node_is_mapping(root)) {
		topo_fail(&t, root, "expected a mapping with 'nodes'");
		goto out;
	}
	n = fy_node_mapping_lookup_by_string(root, "nodes", FY_NT);
	if (!n || !fy_node_is_sequence(n)) {
		topo_fail(&t, root, "'nodes' is required (a list)");
		goto out;
	}
	if (load_nodes(s, &t, n) < 0)
		goto out;
	if ((n = fy_node_mapping_lookup_by_string(root, "templates", FY_NT)) &&
	    load_vms(s, &t, n, true) < 0)
		goto out;
	if ((n = fy_node_mapping_lookup_by_string(root, "vms", FY_NT)) &&
	    load_vms(s, &t, n, false) < 0)
		goto out;
	if ((n = fy_node_mapping_lookup_by_string(root, "users", FY_NT)) &&
	    load_users(s, &t, n) < 0)
		goto out;
	if (load_readapi(s, &t, root) < 0)
		goto out;
	if (sim_sdn_load(s, root, path, e) < 0)
		goto out;
	ret = 0;
out:
	fy_document_destroy(doc);
	return ret;
}

/* ---- --state ---------------------------------------------------------- */

static json_t *kv_json(const struct kvlist *l)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < l->nr; i++)
		json_array_append_new(
			a, json_pack("[s, o]", l->v[i].key,
				     l->v[i].val ? json_string(l->v[i].val)
						 : json_null()));
	return a;
}

static void kv_load(struct kvlist *l, json_t *a);

/* snapshots (snapshot.c): the sections, oldest first, and the name of a
 * snapshot task's snapshot */
static json_t *snaps_json(const struct sim_vm *vm)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < vm->nr_snaps; i++)
		json_array_append_new(
			a, json_pack("{s:s, s:o}", "name", vm->snaps[i].name,
				     "conf", kv_json(&vm->snaps[i].conf)));
	return a;
}

static void snaps_load(struct sim_vm *vm, json_t *o)
{
	json_t *a = json_object_get(o, "snapshots"), *sn;
	size_t i;

	json_array_foreach(a, i, sn)
	{
		const char *name =
			json_string_value(json_object_get(sn, "name"));

		if (name)
			kv_load(&sim_snap_add(vm, name)->conf,
				json_object_get(sn, "conf"));
	}
}

static void task_snap_load(struct sim_task *t, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "snapname"));

	if (name)
		t->snapname = xstrdup(name);
}

static json_t *vm_state(const struct sim_vm *vm)
{
	json_t *o = json_pack(
		"{s:i, s:s, s:b, s:I, s:o, s:o, s:o, s:s?}", "vmid", vm->vmid,
		"node", vm->node, "running", vm->running, "started_ms",
		(json_int_t)vm->started_ms, "conf", kv_json(&vm->conf),
		"pending", kv_json(&vm->pending), "ci_done",
		kv_json(&vm->ci_done), "hostkey", vm->hostkey);

	json_object_set_new(o, "snapshots", snaps_json(vm)); /* snapshots */
	if (vm->image)					     /* --guests qemu */
		json_object_set_new(o, "image", json_string(vm->image));
	return o;
}

static json_t *task_state(const struct sim_task *t)
{
	json_t *log = json_array(), *o;
	size_t j;

	for (j = 0; j < t->log.nr; j++)
		json_array_append_new(log, json_string(t->log.v[j]));
	o = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, "
		"s:I, s:b, s:s?, s:o, s:i, s:i, s:i, s:i, "
		"s:i, s:s?, s:b, s:s?, s:s?, s:b}",
		"upid", t->upid, "node", t->node, "type", t->type, "id", t->id,
		"user", t->user, "pid", (json_int_t)t->pid, "pstart",
		(json_int_t)t->pstart, "start_ms", (json_int_t)t->start_ms,
		"end_ms", (json_int_t)t->end_ms, "done", t->done, "exitstatus",
		t->exitstatus, "log", log, "fx", (int)t->fx, "vmid", t->vmid,
		"src_vmid", t->src_vmid, "lock_excl", t->lock_excl_vmid,
		"lock_shared", t->lock_shared_vmid, "fail", t->fail,
		"start_after", t->start_after, "move_key", t->move_key,
		"move_volid", t->move_volid, "move_delete", t->move_delete);
	json_object_update_new(
		o, json_pack("{s:s?, s:s?, s:b}", "mig_target", t->mig_target,
			     "mig_volmap", t->mig_volmap, "ha_crm", t->ha_crm));
	if (t->snapname) /* snapshots */
		json_object_set_new(o, "snapname", json_string(t->snapname));
	return o;
}

static json_t *pools_state(const struct sim *s)
{
	json_t *pools = json_array();
	size_t i, j;

	for (i = 0; i < s->nr_pools; i++) {
		json_t *ids = json_array();

		for (j = 0; j < s->pools[i].nr; j++)
			json_array_append_new(
				ids, json_integer(s->pools[i].vmids[j]));
		json_array_append_new(
			pools, json_pack("{s:s, s:s, s:o}", "id",
					 s->pools[i].id, "comment",
					 s->pools[i].comment, "vmids", ids));
	}
	return pools;
}

/* The HA resources (wt-migrate): [sid, [[key, value]...]] pairs. */
static json_t *ha_state(const struct sim *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->nr_ha; i++)
		json_array_append_new(a, json_pack("[s, o]", s->ha[i].sid,
						   kv_json(&s->ha[i].opts)));
	return a;
}

/* The paused VMs (wt-migrate), by vmid. */
static json_t *paused_state(const struct sim *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->nr_vms; i++)
		if (s->vms[i]->paused)
			json_array_append_new(a, json_integer(s->vms[i]->vmid));
	return a;
}

int sim_state_save(struct sim *s, struct err *e)
{
	json_t *root = json_object(), *vms = json_array(), *vols = json_array(),
	       *tasks = json_array();
	char *text;
	size_t i;
	int ret;

	for (i = 0; i < s->nr_vms; i++)
		json_array_append_new(vms, vm_state(s->vms[i]));
	for (i = 0; i < s->nr_vols; i++)
		json_array_append_new(vols,
				      json_pack("{s:s, s:s, s:s, s:i, s:I}",
						"storage", s->vols[i].storage,
						"name", s->vols[i].name, "node",
						s->vols[i].node, "vmid",
						s->vols[i].vmid, "size",
						(json_int_t)s->vols[i].size));
	for (i = 0; i < s->nr_tasks; i++)
		json_array_append_new(tasks, task_state(s->tasks[i]));
	json_object_set_new(root, "pools", pools_state(s));
	json_object_set_new(root, "ha", ha_state(s));
	json_object_set_new(root, "paused", paused_state(s));
	json_object_set_new(root, "vms", vms);
	json_object_set_new(root, "volumes", vols);
	json_object_set_new(root, "tasks", tasks);
	json_object_set_new(root, "next_pid", json_integer(s->next_pid));
	text = json_dumps(root, JSON_INDENT(1));
	ret = file_write_atomic(s->opts.state_file, text, strlen(text), 0600,
				e);
	free(text);
	json_decref(root);
	return ret;
}

static void kv_load(struct kvlist *l, json_t *a)
{
	size_t i;
	json_t *p;

	json_array_foreach(a, i, p)
	{
		const char *k = json_string_value(json_array_get(p, 0));
		json_t *v = json_array_get(p, 1);

		if (k)
			kv_set(l, k,
			       json_is_string(v) ? json_string_value(v) : NULL);
	}
}

static const char *jstr(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void load_vm(struct sim *s, json_t *o)
{
	struct sim_vm *vm =
		sim_vm_new(s, (int)jint(o, "vmid"), jstr(o, "node"));

	vm->running = json_is_true(json_object_get(o, "running"));
	vm->started_ms = jint(o, "started_ms");
	kv_load(&vm->conf, json_object_get(o, "conf"));
	kv_load(&vm->pending, json_object_get(o, "pending"));
	kv_load(&vm->ci_done, json_object_get(o, "ci_done"));
	if (json_string_value(json_object_get(o, "hostkey"))) {
		free(vm->hostkey);
		vm->hostkey = xstrdup(jstr(o, "hostkey"));
	}
	snaps_load(vm, o); /* snapshots */
	if (json_string_value(json_object_get(o, "image"))) {
		free(vm->image);
		vm->image = xstrdup(jstr(o, "image"));
	}
	/* --guests qemu: a guest's process ended with the simulator before */
	if (vm->image && s->guests)
		vm->running = vm->paused = false;
}

static void load_task(struct sim *s, json_t *o)
{
	struct sim_task *t = xcalloc(1, sizeof(*t));
	struct sim_vm *vm;
	json_t *line;
	size_t j;

	t->upid = xstrdup(jstr(o, "upid"));
	t->node = xstrdup(jstr(o, "node"));
	t->type = xstrdup(jstr(o, "type"));
	t->id = xstrdup(jstr(o, "id"));
	t->user = xstrdup(jstr(o, "user"));
	t->pid = (unsigned)jint(o, "pid");
	t->pstart = (unsigned)jint(o, "pstart");
	t->start_ms = jint(o, "start_ms");
	t->end_ms = jint(o, "end_ms");
	t->done = json_is_true(json_object_get(o, "done"));
	if (json_string_value(json_object_get(o, "exitstatus")))
		t->exitstatus = xstrdup(jstr(o, "exitstatus"));
	if (json_string_value(json_object_get(o, "fail")))
		t->fail = xstrdup(jstr(o, "fail"));
	strvec_init(&t->log);
	json_array_foreach(json_object_get(o, "log"), j, line) strvec_push(
		&t->log,
		json_string_value(line) ? json_string_value(line) : "");
	t->fx = (enum task_effect)jint(o, "fx");
	t->vmid = (int)jint(o, "vmid");
	t->src_vmid = (int)jint(o, "src_vmid");
	t->lock_excl_vmid = (int)jint(o, "lock_excl");
	t->lock_shared_vmid = (int)jint(o, "lock_shared");
	t->start_after = json_is_true(json_object_get(o, "start_after"));
	if (json_string_value(json_object_get(o, "move_key")))
		t->move_key = xstrdup(jstr(o, "move_key"));
	if (json_string_value(json_object_get(o, "move_volid")))
		t->move_volid = xstrdup(jstr(o, "move_volid"));
	t->move_delete = json_is_true(json_object_get(o, "move_delete"));
	if (json_string_value(json_object_get(o, "mig_target")))
		t->mig_target = xstrdup(jstr(o, "mig_target"));
	if (json_string_value(json_object_get(o, "mig_volmap")))
		t->mig_volmap = xstrdup(jstr(o, "mig_volmap"));
	t->ha_crm = json_is_true(json_object_get(o, "ha_crm"));
	task_snap_load(t, o); /* snapshots */
	ALLOC_GROW(s->tasks, st_add(s->nr_tasks, 1), s->alloc_tasks);
	s->tasks[s->nr_tasks++] = t;
	if (t->done)
		return;
	if ((vm = sim_vm(s, t->lock_excl_vmid)))
		vm->flock_excl++;
	if ((vm = sim_vm(s, t->lock_shared_vmid)))
		vm->flock_shared++;
}

static void load_pool(struct sim *s, json_t *o)
{
	struct sim_pool *p;
	json_t *id;
	size_t j;

	ALLOC_GROW(s->pools, st_add(s->nr_pools, 1), s->alloc_pools);
	p = &s->pools[s->nr_pools++];
	memset(p, 0, sizeof(*p));
	p->id = xstrdup(jstr(o, "id"));
	p->comment = xstrdup(jstr(o, "comment"));
	json_array_foreach(json_object_get(o, "vmids"), j, id)
	{
		ALLOC_GROW(p->vmids, st_add(p->nr, 1), p->alloc);
		p->vmids[p->nr++] = (int)json_integer_value(id);
	}
}

/* An HA resource of the state file (wt-migrate). */
static void load_ha(struct sim *s, json_t *o)
{
	const char *sid = json_string_value(json_array_get(o, 0));
	struct sim_ha_resource *r;

	if (!sid)
		return;
	ALLOC_GROW(s->ha, st_add(s->nr_ha, 1), s->alloc_ha);
	r = &s->ha[s->nr_ha++];
	memset(r, 0, sizeof(*r));
	r->sid = xstrdup(sid);
	kv_load(&r->opts, json_array_get(o, 1));
}

static void load_paused(struct sim *s, json_t *o)
{
	struct sim_vm *vm = sim_vm(s, (int)json_integer_value(o));

	if (vm)
		vm->paused = true;
}

int sim_state_load(struct sim *s, const char *path, struct err *e)
{
	json_error_t jerr;
	json_t *root, *o;
	size_t i;

	if (access(path, F_OK) < 0)
		return 0; /* first run */
	root = json_load_file(path, 0, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return err_set(e, EXIT_INVALID, "%s:%d: %s", path, jerr.line,
			       jerr.text);
	}
	while (s->nr_vms)
		sim_vm_remove(s, s->vms[0]->vmid, true);
	json_array_foreach(json_object_get(root, "vms"), i, o) load_vm(s, o);
	json_array_foreach(json_object_get(root, "volumes"), i, o)
		sim_add_volume(s, jstr(o, "storage"), jstr(o, "name"),
			       jstr(o, "node"), (int)jint(o, "vmid"),
			       (uint64_t)jint(o, "size"));
	json_array_foreach(json_object_get(root, "tasks"), i, o)
		load_task(s, o);
	json_array_foreach(json_object_get(root, "pools"), i, o)
		load_pool(s, o);
	json_array_foreach(json_object_get(root, "ha"), i, o) load_ha(s, o);
	json_array_foreach(json_object_get(root, "paused"), i, o)
		load_paused(s, o);
	if (jint(root, "next_pid"))
		s->next_pid = (unsigned)jint(root, "next_pid");
	json_decref(root);
	return 0;
}
