/*
 * vmdef.c - decoding and checking one VM definition; see vmdef.h.
 *
 * The top-level keys are a yd_field table; disks come in three forms that
 * all end up as the same struct vm_disk list, so that later stages (plan,
 * host vars) never see which form a file used.
 */
#include "core/vmdef.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/suggest.h"
#include "core/ydecode.h"
#include "util/parse.h"
#include "util/xalloc.h"

struct vmctx {
	struct vmdef *vm;
	const struct vmdef_opts *opts;
	const struct ynode *disks_node, *nested_node, *network_node;
	const struct ynode *cipassword_node;
	bool has_target_node;
};

#define VM(t) (((struct vmctx *)(t))->vm)

/* ---- scalar fields ---------------------------------------------------- */

static int check_not_empty(const char *s, struct strbuf *why)
{
	if (*s)
		return 0;
	strbuf_addstr(why, "empty");
	return -1;
}

static int check_env_name(const char *s, struct strbuf *why)
{
	if (is_identifier(s))
		return 0;
	strbuf_addstr(why, "not an environment variable name");
	return -1;
}

static int check_description(const char *s, struct strbuf *why)
{
	if (strlen(s) <= 8192)
		return 0;
	strbuf_addstr(why, "longer than Proxmox's limit of 8192 bytes");
	return -1;
}

static int required_null(struct ydecoder *d, const struct ynode *v,
			 const char *path)
{
	if (v->kind != YNODE_SCALAR || v->stype != YS_NULL)
		return 0;
	yd_error(d, v, path, "required, but set to null");
	return -1;
}

static int f_name(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	VM(t)->name_line = v->line;
	VM(t)->name_col = v->col;
	if (required_null(d, v, path) < 0)
		return -1;
	return yd_checked_string(d, v, path, &VM(t)->name, pve_check_dns_label);
}

static int f_target_node(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->has_target_node = true;
	if (required_null(d, v, path) < 0)
		return -1;
	return yd_checked_string(d, v, path, &VM(t)->target_node,
				 pve_check_node_name);
}

static int f_cores(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, VMDEF_MAX_CORES, &VM(t)->cores);
}

static int f_sockets(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, VMDEF_MAX_SOCKETS, &VM(t)->sockets);
}

static int f_memory(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, PVE_MEMORY_MIN, PVE_MEMORY_MAX,
		       &VM(t)->memory);
}

static int f_vmid(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	VM(t)->vmid_line = v->line;
	VM(t)->vmid_col = v->col;
	return yd_uint(d, v, path, PVE_VMID_MIN, PVE_VMID_MAX, &VM(t)->vmid);
}

static int f_clone(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->clone, pve_check_dns_name);
}

static int f_cpu_type(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	const char *near;

	(void)k;
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_check_cpu_type(s, &why) < 0) {
		near = suggest_nearest(s, strlen(s), pve_cpu_types);
		if (near)
			yd_error(d, v, path, "'%s': %s; did you mean '%s'?", s,
				 why.buf, near);
		else
			yd_error(d, v, path, "'%s': %s", s, why.buf);
		free(s);
		strbuf_release(&why);
		return -1;
	}
	free(VM(t)->cpu_type);
	VM(t)->cpu_type = s;
	return 0;
}

static int f_ipconfig0(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	int ret = 0;

	(void)k;
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_parse_ipconfig(&VM(t)->ip, s, &why) < 0) {
		struct strbuf shown = STRBUF_INIT;

		strbuf_add_escaped(&shown, s, strlen(s) > 80 ? 80 : strlen(s));
		yd_error(d, v, path, "'%s': %s", shown.buf, why.buf);
		strbuf_release(&shown);
		free(s);
		ret = -1;
	} else {
		free(VM(t)->ipconfig0);
		VM(t)->ipconfig0 = s;
		VM(t)->ip_line = v->line;
		VM(t)->ip_col = v->col;
	}
	strbuf_release(&why);
	return ret;
}

static int f_ciuser(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->ciuser, pve_check_user);
}

static int f_onboot(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_bool(d, v, path, &VM(t)->onboot);
}

static int f_agent(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_bool(d, v, path, &VM(t)->agent);
}

static int f_full_clone(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	return yd_bool(d, v, path, &VM(t)->full_clone);
}

static int f_vm_state(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	static const char *const states[] = { "running", "stopped", NULL };
	char *s = NULL;

	(void)k;
	if (v->kind == YNODE_SCALAR && v->len == 7 &&
	    !memcmp(v->str, "started", 7)) {
		yd_error(d, v, path,
			 "'started' is not allowed; write 'running' "
			 "(the VM is started and kept running)");
		return -1;
	}
	if (yd_enum(d, v, path, states, &s) < 0)
		return -1;
	VM(t)->vm_state =
		!strcmp(s, "running") ? VM_STATE_RUNNING : VM_STATE_STOPPED;
	free(s);
	return 0;
}

static int f_boot(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->boot, pve_check_boot);
}

static int f_scsihw(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_scsihw_models, &VM(t)->scsihw);
}

static int f_nameserver(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->nameserver,
				 pve_check_address_list);
}

static int f_searchdomain(struct ydecoder *d, void *t, const struct ynode *k,
			  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->searchdomain,
				 check_not_empty);
}

static int f_sshkeys(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct strbuf keys = STRBUF_INIT, why = STRBUF_INIT;
	size_t i;
	int ret = -1;

	(void)k;
	if (v->kind == YNODE_SEQ) { /* a list of keys, one per item */
		for (i = 0; i < v->nr; i++) {
			if (v->kids[i]->kind != YNODE_SCALAR) {
				yd_error(d, v->kids[i], path,
					 "expected a key string, got %s",
					 ynode_describe(v->kids[i]));
				goto out;
			}
			strbuf_add(&keys, v->kids[i]->str, v->kids[i]->len);
			strbuf_addch(&keys, '\n');
		}
	} else if (v->kind == YNODE_SCALAR) {
		strbuf_add(&keys, v->str, v->len);
	} else {
		yd_error(d, v, path,
			 "expected a string or a list of keys, got %s",
			 ynode_describe(v));
		goto out;
	}
	if (pve_check_sshkeys(keys.buf, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		goto out;
	}
	free(VM(t)->sshkeys);
	VM(t)->sshkeys = strbuf_detach(&keys, NULL);
	ret = 0;
out:
	strbuf_release(&keys);
	strbuf_release(&why);
	return ret;
}

static int f_cipassword(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->cipassword_node = v;
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected a string, got %s",
			 ynode_describe(v));
		return -1;
	}
	free(VM(t)->cipassword);
	VM(t)->cipassword = xstrndup(v->str, v->len);
	return 0;
}

static int f_cipassword_env(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->cipassword_env,
				 check_env_name);
}

static int f_description(struct ydecoder *d, void *t, const struct ynode *k,
			 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &VM(t)->description,
				 check_description);
}

static int add_tag(struct ydecoder *d, struct vmdef *vm, const struct ynode *v,
		   const char *path, const char *s, size_t len)
{
	struct strbuf why = STRBUF_INIT, tag = STRBUF_INIT;
	size_t i;

	if (pve_check_tag(s, len, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	for (i = 0; i < len; i++)
		strbuf_addch(&tag, tolower((unsigned char)s[i]));
	if (!strncmp(tag.buf, VMDEF_MANAGED_TAG, strlen(VMDEF_MANAGED_TAG))) {
		yd_error(d, v, path,
			 "tag '%s' is reserved for pve-gitops' own "
			 "bookkeeping",
			 tag.buf);
		strbuf_release(&tag);
		return -1;
	}
	for (i = 0; i < vm->tags.nr; i++)
		if (!strcmp(vm->tags.v[i], tag.buf))
			break;
	if (i == vm->tags.nr)
		strvec_push(&vm->tags, tag.buf);
	strbuf_release(&tag);
	return 0;
}

static int f_tags(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	struct vmdef *vm = VM(t);
	int ret = 0;
	size_t i;

	(void)k;
	if (v->kind == YNODE_SEQ) {
		for (i = 0; i < v->nr; i++) {
			const struct ynode *it = v->kids[i];

			if (it->kind != YNODE_SCALAR) {
				yd_error(d, it, path,
					 "expected a tag string, "
					 "got %s",
					 ynode_describe(it));
				ret = -1;
				continue;
			}
			ret |= add_tag(d, vm, it, path, it->str, it->len);
		}
		return ret;
	}
	if (v->kind != YNODE_SCALAR) {
		yd_error(d, v, path, "expected a string or a list, got %s",
			 ynode_describe(v));
		return -1;
	}
	/* One string, split like Proxmox does: on ';', ',' and spaces. */
	for (i = 0; i < v->len;) {
		size_t n = strcspn(v->str + i, ";, ");

		if (n)
			ret |= add_tag(d, vm, v, path, v->str + i, n);
		i += n ? n : 1;
	}
	return ret;
}

/* ansible_groups: [a, b]: inventory groups beyond those the rules give. */
static int f_ansible_groups(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	struct vmdef *vm = VM(t);
	int ret = 0;
	size_t i, j;

	(void)k;
	if (v->kind != YNODE_SEQ) {
		yd_error(d, v, path, "expected a list of group names, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		const struct ynode *it = v->kids[i];

		if (it->kind != YNODE_SCALAR || strlen(it->str) != it->len ||
		    !is_identifier(it->str) || !strcmp(it->str, "all") ||
		    !strcmp(it->str, "ungrouped")) {
			yd_error(d, it, path,
				 "expected an Ansible group name (letters, "
				 "digits and '_', not starting with a digit, "
				 "not 'all' or 'ungrouped')");
			ret = -1;
			continue;
		}
		for (j = 0; j < vm->ansible_groups.nr; j++)
			if (!strcmp(vm->ansible_groups.v[j], it->str))
				break;
		if (j == vm->ansible_groups.nr)
			strvec_push(&vm->ansible_groups, it->str);
	}
	return ret;
}

static int f_terraform_only(struct ydecoder *d, void *t, const struct ynode *k,
			    const struct ynode *v, const char *path)
{
	(void)t;
	(void)v;
	yd_warning(d, k, path,
		   "a Terraform provider setting with no meaning "
		   "for pve-gitops; ignored");
	return 0;
}

/* ---- serial ----------------------------------------------------------- */

static int serial_one(struct ydecoder *d, struct vmdef *vm,
		      const struct ynode *v, const char *path, unsigned dflt)
{
	struct vm_serial s = { dflt, NULL };
	size_t i;

	if (v->kind == YNODE_SCALAR) {
		if (yd_checked_string(d, v, path, &s.type, pve_check_serial) <
		    0)
			return -1;
	} else if (v->kind == YNODE_MAP) {
		uint64_t id = dflt;

		for (i = 0; i < ymap_size(v); i++) {
			const struct ynode *k = ymap_key(v, i);
			const struct ynode *val = ymap_value(v, i);

			if (k->len == 2 && !memcmp(k->str, "id", 2)) {
				if (yd_uint(d, val, path, 0, PVE_MAX_SERIAL - 1,
					    &id) < 0)
					goto fail;
			} else if (k->len == 4 && !memcmp(k->str, "type", 4)) {
				if (yd_checked_string(d, val, path, &s.type,
						      pve_check_serial) < 0)
					goto fail;
			} else {
				yd_error(d, k, path,
					 "unknown key '%s' "
					 "(allowed: id, type)",
					 k->str);
				goto fail;
			}
		}
		s.id = (unsigned)id;
		if (!s.type) {
			yd_error(d, v, path,
				 "missing 'type' (socket or "
				 "/dev/...)");
			return -1;
		}
	} else {
		yd_error(d, v, path, "expected a string or a mapping, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < vm->nr_serials; i++) {
		if (vm->serials[i].id == s.id) {
			yd_error(d, v, path, "serial%u given twice", s.id);
			goto fail;
		}
	}
	if (vm->nr_serials >= PVE_MAX_SERIAL) {
		yd_error(d, v, path, "at most %d serial ports", PVE_MAX_SERIAL);
		goto fail;
	}
	vm->serials[vm->nr_serials++] = s;
	return 0;
fail:
	free(s.type);
	return -1;
}

static int f_serial(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ)
		return serial_one(d, VM(t), v, path, 0);
	for (i = 0; i < v->nr; i++)
		ret |= serial_one(d, VM(t), v->kids[i], path, (unsigned)i);
	return ret;
}

/* ---- network ---------------------------------------------------------- */

struct netctx {
	struct vm_net *net;
	int has_id;
};

#define NET(t) (((struct netctx *)(t))->net)

static int n_bridge(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &NET(t)->bridge, pve_check_bridge);
}

static int n_model(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_net_models, &NET(t)->model);
}

static int n_firewall(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	(void)k;
	return yd_bool(d, v, path, &NET(t)->firewall);
}

static int n_link_down(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	(void)k;
	return yd_bool(d, v, path, &NET(t)->link_down);
}

static int n_tag(struct ydecoder *d, void *t, const struct ynode *k,
		 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, 4094, &NET(t)->tag);
}

static int n_mtu(struct ydecoder *d, void *t, const struct ynode *k,
		 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 1, 65520, &NET(t)->mtu);
}

static int n_queues(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_uint(d, v, path, 0, 64, &NET(t)->queues);
}

static int n_macaddr(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &NET(t)->macaddr, pve_check_mac);
}

static int n_id(struct ydecoder *d, void *t, const struct ynode *k,
		const struct ynode *v, const char *path)
{
	uint64_t id;

	(void)k;
	if (yd_uint(d, v, path, 0, PVE_MAX_NETS - 1, &id) < 0)
		return -1;
	NET(t)->index = (unsigned)id;
	((struct netctx *)t)->has_id = 1;
	return 0;
}

static const struct yd_field net_fields[] = { { "bridge", n_bridge, 0 },
					      { "model", n_model, 0 },
					      { "firewall", n_firewall, 0 },
					      { "tag", n_tag, 0 },
					      { "macaddr", n_macaddr, 0 },
					      { "mtu", n_mtu, 0 },
					      { "queues", n_queues, 0 },
					      { "link_down", n_link_down, 0 },
					      { "id", n_id, 0 },
					      { NULL, NULL, 0 } };

static int net_one(struct ydecoder *d, struct vmdef *vm, const struct ynode *v,
		   const char *path, unsigned index, int list_form)
{
	struct vm_net net = { .index = index, .firewall = -1, .link_down = -1 };
	struct netctx ctx = { &net, 0 };
	size_t i;

	net.line = v->line;
	net.col = v->col;
	if (yd_map(d, v, path, net_fields, &ctx) < 0)
		goto fail;
	if (ctx.has_id && !list_form) {
		yd_error(d, v, path,
			 "'id' is only used in the list form of "
			 "network");
		goto fail;
	}
	for (i = 0; i < vm->nr_nets; i++) {
		if (vm->nets[i].index == net.index) {
			yd_error(d, v, path, "net%u given twice", net.index);
			goto fail;
		}
	}
	if (!net.bridge)
		net.bridge = xstrdup(VMDEF_DEFAULT_BRIDGE);
	if (!net.model)
		net.model = xstrdup(VMDEF_DEFAULT_MODEL);
	ALLOC_GROW(vm->nets, vm->nr_nets + 1, vm->alloc_nets);
	vm->nets[vm->nr_nets++] = net;
	return 0;
fail:
	free(net.bridge);
	free(net.model);
	free(net.macaddr);
	return -1;
}

static int f_network(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	size_t i;
	int ret = 0;

	(void)k;
	((struct vmctx *)t)->network_node = v;
	if (v->kind != YNODE_SEQ)
		return net_one(d, VM(t), v, path, 0, 0);
	if (v->nr > PVE_MAX_NETS) {
		yd_error(d, v, path, "at most %d network devices",
			 PVE_MAX_NETS);
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		ret |= net_one(d, VM(t), v->kids[i], p.buf, (unsigned)i, 1);
	}
	strbuf_release(&p);
	return ret;
}

/* ---- disks ------------------------------------------------------------ */

/* Keys a disk entry may carry; which ones apply depends on its kind. */
enum {
	DK_SIZE = 1 << 0,
	DK_STORAGE = 1 << 1,
	DK_FORMAT = 1 << 2,
	DK_MOUNT = 1 << 3,
	DK_OPTS = 1 << 4, /* cache, discard, iothread, ssd, backup, ... */
	DK_ISO = 1 << 5,
	DK_FILE = 1 << 6,
	DK_SLOT = 1 << 7, /* list form: slot and type */
};

struct diskctx {
	struct vm_disk *disk;
	unsigned allowed;
	const struct ynode *slot_node, *type_node, *size_node;
};

#define DISK(t) (((struct diskctx *)(t))->disk)

static int d_size(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	struct strbuf why = STRBUF_INIT;
	char *s = NULL;
	int ret = 0;

	(void)k;
	((struct diskctx *)t)->size_node = v;
	if (v->kind == YNODE_SCALAR && v->stype == YS_INT) {
		yd_error(d, v, path,
			 "size '%s' has no unit; write %sG (K, M, "
			 "G or T)",
			 v->str, v->str);
		return -1;
	}
	if (yd_string(d, v, path, &s) < 0)
		return -1;
	if (pve_parse_size(&DISK(t)->size, s, &why) < 0) {
		yd_error(d, v, path, "%s", why.buf);
		ret = -1;
	}
	free(s);
	strbuf_release(&why);
	return ret;
}

static int d_storage(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->storage,
				 pve_check_storage_id);
}

static int d_format(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_disk_formats, &DISK(t)->format);
}

static int check_mount(const char *s, struct strbuf *why)
{
	const char *p;

	if (s[0] != '/' || !s[1]) {
		strbuf_addstr(why, "not an absolute path other than /");
		return -1;
	}
	for (p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("/._-", *p)) {
			strbuf_addstr(why, "a path with characters other than "
					   "letters, digits, '/', '.', '_' "
					   "or '-'");
			return -1;
		}
	}
	if (strstr(s, "/../") || strstr(s, "/./") || strstr(s, "//") ||
	    (strlen(s) >= 3 && !strcmp(s + strlen(s) - 3, "/..")) ||
	    s[strlen(s) - 1] == '/') {
		strbuf_addstr(why, "not a normalised path (no '..', '.', '//' "
				   "or trailing '/')");
		return -1;
	}
	return 0;
}

static int d_mount(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->mount, check_mount);
}

static int d_cache(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	return yd_enum(d, v, path, pve_disk_caches, &DISK(t)->cache);
}

static int d_asyncio(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	static const char *const aio[] = { "native", "threads", "io_uring",
					   NULL };

	(void)k;
	return yd_enum(d, v, path, aio, &DISK(t)->asyncio);
}

static int d_discard(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	if (v->kind == YNODE_SCALAR && v->stype == YS_STR) {
		if (v->len == 2 && !memcmp(v->str, "on", 2)) {
			DISK(t)->discard = 1;
			return 0;
		}
		if (v->len == 6 && !memcmp(v->str, "ignore", 6)) {
			DISK(t)->discard = 0;
			return 0;
		}
	}
	return yd_bool(d, v, path, &DISK(t)->discard);
}

#define DISK_BOOL(fn, field)                                              \
	static int fn(struct ydecoder *d, void *t, const struct ynode *k, \
		      const struct ynode *v, const char *path)            \
	{                                                                 \
		(void)k;                                                  \
		return yd_bool(d, v, path, &DISK(t)->field);              \
	}
DISK_BOOL(d_iothread, iothread)
DISK_BOOL(d_ssd, ssd)
DISK_BOOL(d_backup, backup)
DISK_BOOL(d_replicate, replicate)
DISK_BOOL(d_readonly, readonly)
DISK_BOOL(d_cdrom_passthrough, cdrom_passthrough)

static int check_volume(const char *s, struct strbuf *why)
{
	const char *colon = strchr(s, ':');
	struct strbuf tmp = STRBUF_INIT;
	int ret = 0;

	if (!colon || !colon[1]) {
		strbuf_addstr(why, "not a volume id (STORAGE:PATH such as "
				   "local:iso/ubuntu.iso)");
		return -1;
	}
	strbuf_add(&tmp, s, (size_t)(colon - s));
	if (pve_check_storage_id(tmp.buf, why) < 0)
		ret = -1;
	strbuf_release(&tmp);
	return ret;
}

static int check_passthrough(const char *s, struct strbuf *why)
{
	if (!strncmp(s, "/dev/", 5) && s[5])
		return 0;
	return check_volume(s, why);
}

static int d_iso(struct ydecoder *d, void *t, const struct ynode *k,
		 const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->iso, check_volume);
}

static int d_file(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)k;
	return yd_checked_string(d, v, path, &DISK(t)->file, check_passthrough);
}

static int d_slot(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)d;
	(void)k;
	(void)path;
	((struct diskctx *)t)->slot_node = v;
	return 0;
}

static int d_type(struct ydecoder *d, void *t, const struct ynode *k,
		  const struct ynode *v, const char *path)
{
	(void)d;
	(void)k;
	(void)path;
	((struct diskctx *)t)->type_node = v;
	return 0;
}

static const struct {
	struct yd_field f;
	unsigned group;
} disk_keys[] = {
	{ { "size", d_size, 0 }, DK_SIZE },
	{ { "storage", d_storage, 0 }, DK_STORAGE },
	{ { "format", d_format, 0 }, DK_FORMAT },
	{ { "mount", d_mount, 0 }, DK_MOUNT },
	{ { "cache", d_cache, 0 }, DK_OPTS },
	{ { "discard", d_discard, 0 }, DK_OPTS },
	{ { "iothread", d_iothread, 0 }, DK_OPTS },
	{ { "ssd", d_ssd, 0 }, DK_OPTS },
	{ { "emulatessd", d_ssd, 0 }, DK_OPTS },
	{ { "backup", d_backup, 0 }, DK_OPTS },
	{ { "replicate", d_replicate, 0 }, DK_OPTS },
	{ { "readonly", d_readonly, 0 }, DK_OPTS },
	{ { "asyncio", d_asyncio, 0 }, DK_OPTS },
	{ { "iso", d_iso, 0 }, DK_ISO },
	{ { "passthrough", d_cdrom_passthrough, 0 }, DK_ISO },
	{ { "file", d_file, 0 }, DK_FILE },
	{ { "slot", d_slot, 0 }, DK_SLOT },
	{ { "type", d_type, 0 }, DK_SLOT },
};

/* Decode one disk mapping with the keys of the allowed groups. */
static int disk_decode(struct ydecoder *d, struct diskctx *ctx,
		       const struct ynode *v, const char *path)
{
	struct yd_field fields[sizeof(disk_keys) / sizeof(disk_keys[0]) + 1];
	size_t i, n = 0;

	for (i = 0; i < sizeof(disk_keys) / sizeof(disk_keys[0]); i++)
		if (disk_keys[i].group & ctx->allowed)
			fields[n++] = disk_keys[i].f;
	fields[n].key = NULL;
	fields[n].fn = NULL;
	ctx->disk->line = v->line;
	ctx->disk->col = v->col;
	return yd_map(d, v, path, fields, ctx);
}

static void disk_init(struct vm_disk *disk)
{
	memset(disk, 0, sizeof(*disk));
	disk->discard = disk->ssd = disk->iothread = disk->backup = -1;
	disk->replicate = disk->readonly = disk->cdrom_passthrough = -1;
}

static void disk_release(struct vm_disk *disk)
{
	free(disk->slot);
	free(disk->storage);
	free(disk->format);
	free(disk->mount);
	free(disk->file);
	free(disk->iso);
	free(disk->cache);
	free(disk->asyncio);
}

static const char *kind_name(enum disk_kind kind)
{
	switch (kind) {
	case DISK_CLOUDINIT:
		return "cloudinit";
	case DISK_CDROM:
		return "cdrom";
	case DISK_PASSTHROUGH:
		return "passthrough";
	case DISK_DISK:
		break;
	}
	return "disk";
}

/* Checks every form shares, then append (taking ownership) or free. */
static int disk_finish(struct ydecoder *d, struct vmdef *vm,
		       struct vm_disk *disk, const struct ynode *at,
		       const char *path)
{
	size_t i;
	int ret = 0;

	if (disk->kind == DISK_DISK && !disk->storage) {
		yd_error(d, at, path, "missing 'storage' (such as local-lvm)");
		ret = -1;
	}
	if (disk->kind == DISK_DISK && !disk->size) {
		yd_error(d, at, path, "missing 'size' (such as 50G)");
		ret = -1;
	}
	if (disk->kind == DISK_CLOUDINIT && !disk->storage) {
		yd_error(d, at, path,
			 "missing 'storage' for the cloud-init "
			 "drive");
		ret = -1;
	}
	if (disk->kind == DISK_PASSTHROUGH && !disk->file) {
		yd_error(d, at, path,
			 "missing 'file' (/dev/... or a volume "
			 "id)");
		ret = -1;
	}
	if (disk->kind == DISK_CDROM && disk->iso &&
	    disk->cdrom_passthrough == 1) {
		yd_error(d, at, path,
			 "a cdrom takes either 'iso' or "
			 "'passthrough: true', not both");
		ret = -1;
	}
	for (i = 0; ret == 0 && i < vm->nr_disks; i++) {
		if (!strcmp(vm->disks[i].slot, disk->slot)) {
			yd_error(d, at, path,
				 "slot %s is defined twice (first "
				 "at line %d)",
				 disk->slot, vm->disks[i].line);
			ret = -1;
		} else if (disk->mount && vm->disks[i].mount &&
			   !strcmp(vm->disks[i].mount, disk->mount)) {
			yd_error(d, at, path,
				 "mount point %s is used by %s too",
				 disk->mount, vm->disks[i].slot);
			ret = -1;
		} else if (disk->kind == DISK_CLOUDINIT &&
			   vm->disks[i].kind == DISK_CLOUDINIT) {
			yd_error(d, at, path,
				 "a second cloud-init drive (the "
				 "first is %s)",
				 vm->disks[i].slot);
			ret = -1;
		}
	}
	if (ret) {
		disk_release(disk);
		return -1;
	}
	ALLOC_GROW(vm->disks, vm->nr_disks + 1, vm->alloc_disks);
	vm->disks[vm->nr_disks++] = *disk;
	return 0;
}

static int slot_ok(struct ydecoder *d, const struct ynode *at, const char *path,
		   const char *slot)
{
	struct strbuf why = STRBUF_INIT;
	int ret = pve_parse_disk_slot(slot, &why);

	if (ret < 0)
		yd_error(d, at, path, "%s", why.buf);
	strbuf_release(&why);
	return ret;
}

/* The seed's form: disks: {scsi0: {size, storage, mount, format}} */
static int disks_map(struct ydecoder *d, struct vmdef *vm,
		     const struct ynode *v, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	int ret = 0;
	size_t i;

	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *k = ymap_key(v, i), *dv = ymap_value(v, i);
		struct vm_disk disk;
		struct diskctx ctx = { &disk,
				       DK_SIZE | DK_STORAGE | DK_FORMAT |
					       DK_MOUNT | DK_OPTS,
				       NULL, NULL, NULL };

		strbuf_reset(&p);
		yd_path(&p, path, k->str);
		if (slot_ok(d, k, path, k->str) < 0) {
			ret = -1;
			continue;
		}
		disk_init(&disk);
		disk.slot = xstrndup(k->str, k->len);
		if (disk_decode(d, &ctx, dv, p.buf) < 0) {
			disk_release(&disk);
			ret = -1;
			continue;
		}
		ret |= disk_finish(d, vm, &disk, dv, p.buf);
	}
	strbuf_release(&p);
	return ret;
}

static int list_slot(struct ydecoder *d, struct diskctx *ctx,
		     const struct ynode *item, const char *path)
{
	static const char *const kinds[] = { "disk", "cloudinit", "cdrom",
					     "passthrough", NULL };
	static const char *const buses[] = { "scsi", "virtio", "sata", "ide",
					     NULL };
	const struct ynode *s = ctx->slot_node, *ty = ctx->type_node;
	struct vm_disk *disk = ctx->disk;
	size_t i;

	if (!s) {
		yd_error(d, item, path, "missing 'slot' (such as scsi0)");
		return -1;
	}
	if (s->kind != YNODE_SCALAR) {
		yd_error(d, s, path, "slot: expected a string such as scsi0");
		return -1;
	}
	/* Telmate 2.x: type is the bus and slot its number. */
	for (i = 0; ty && ty->kind == YNODE_SCALAR && buses[i]; i++) {
		if (strlen(buses[i]) == ty->len &&
		    !memcmp(buses[i], ty->str, ty->len)) {
			struct strbuf sl = STRBUF_INIT;

			strbuf_addf(&sl, "%s%s", buses[i], s->str);
			disk->slot = strbuf_detach(&sl, NULL);
			disk->kind = DISK_DISK;
			return slot_ok(d, s, path, disk->slot);
		}
	}
	disk->slot = xstrndup(s->str, s->len);
	if (slot_ok(d, s, path, disk->slot) < 0)
		return -1;
	if (ty) {
		char *kind = NULL;
		struct strbuf tp = STRBUF_INIT;

		yd_path(&tp, path, "type");
		if (yd_enum(d, ty, tp.buf, kinds, &kind) < 0) {
			strbuf_release(&tp);
			return -1;
		}
		strbuf_release(&tp);
		for (i = 0; kinds[i]; i++)
			if (!strcmp(kinds[i], kind))
				disk->kind = (enum disk_kind)i;
		free(kind);
	}
	return 0;
}

/* The list form: disks: [{slot: scsi0, type: disk, size, storage}] */
static int disks_list(struct ydecoder *d, struct vmdef *vm,
		      const struct ynode *v, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	int ret = 0;
	size_t i;

	for (i = 0; i < v->nr; i++) {
		struct vm_disk disk;
		struct diskctx ctx = { &disk, ~0u, NULL, NULL, NULL };

		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		disk_init(&disk);
		if (disk_decode(d, &ctx, v->kids[i], p.buf) < 0 ||
		    list_slot(d, &ctx, v->kids[i], p.buf) < 0) {
			disk_release(&disk);
			ret = -1;
			continue;
		}
		ret |= disk_finish(d, vm, &disk, v->kids[i], p.buf);
	}
	strbuf_release(&p);
	return ret;
}

static int f_disks(struct ydecoder *d, void *t, const struct ynode *k,
		   const struct ynode *v, const char *path)
{
	(void)k;
	((struct vmctx *)t)->disks_node = v;
	if (v->kind == YNODE_MAP)
		return disks_map(d, VM(t), v, path);
	if (v->kind == YNODE_SEQ)
		return disks_list(d, VM(t), v, path);
	yd_error(d, v, path,
		 "expected a mapping of slots (scsi0: {...}) or a "
		 "list of disks, got %s",
		 ynode_describe(v));
	return -1;
}

/* Telmate 3.x: nested_disks: {scsi: {scsi0: {disk: {...}}}} */
static int nested_slot(struct ydecoder *d, struct vmdef *vm,
		       const struct ynode *slotk, const struct ynode *sv,
		       const char *path)
{
	static const struct {
		const char *name;
		enum disk_kind kind;
		unsigned allowed;
	} kinds[] = {
		{ "disk", DISK_DISK,
		  DK_SIZE | DK_STORAGE | DK_FORMAT | DK_MOUNT | DK_OPTS },
		{ "cloudinit", DISK_CLOUDINIT, DK_STORAGE },
		{ "cdrom", DISK_CDROM, DK_ISO },
		{ "passthrough", DISK_PASSTHROUGH,
		  DK_FILE | DK_SIZE | DK_FORMAT | DK_MOUNT | DK_OPTS },
	};
	struct strbuf p = STRBUF_INIT;
	const struct ynode *kk, *kv;
	struct vm_disk disk;
	struct diskctx ctx = { &disk, 0, NULL, NULL, NULL };
	size_t j;
	int ret = -1;

	if (yd_expect_map(d, sv, path) < 0)
		return -1;
	if (ymap_size(sv) != 1) {
		yd_error(d, sv, path,
			 "expected exactly one of disk, cloudinit, "
			 "cdrom or passthrough");
		return -1;
	}
	kk = ymap_key(sv, 0);
	kv = ymap_value(sv, 0);
	for (j = 0; j < sizeof(kinds) / sizeof(kinds[0]); j++)
		if (strlen(kinds[j].name) == kk->len &&
		    !memcmp(kinds[j].name, kk->str, kk->len))
			break;
	if (j == sizeof(kinds) / sizeof(kinds[0])) {
		yd_error(d, kk, path,
			 "unknown drive type '%s' (allowed: disk, "
			 "cloudinit, cdrom, passthrough)",
			 kk->str);
		return -1;
	}
	disk_init(&disk);
	disk.slot = xstrndup(slotk->str, slotk->len);
	disk.kind = kinds[j].kind;
	ctx.allowed = kinds[j].allowed;
	yd_path(&p, path, kk->str);
	if (kv->kind == YNODE_SCALAR && kv->stype == YS_NULL &&
	    disk.kind == DISK_CDROM)
		ret = disk_finish(d, vm, &disk, kv, p.buf); /* empty drive */
	else if (disk_decode(d, &ctx, kv, p.buf) < 0)
		disk_release(&disk);
	else
		ret = disk_finish(d, vm, &disk, kv, p.buf);
	strbuf_release(&p);
	return ret;
}

static int f_nested_disks(struct ydecoder *d, void *t, const struct ynode *k,
			  const struct ynode *v, const char *path)
{
	static const char *const buses[] = { "scsi", "virtio", "sata", "ide",
					     NULL };
	struct strbuf p = STRBUF_INIT, sp = STRBUF_INIT;
	size_t i, j;
	int ret = 0;

	(void)k;
	((struct vmctx *)t)->nested_node = v;
	if (yd_expect_map(d, v, path) < 0)
		return -1;
	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *bk = ymap_key(v, i), *bv = ymap_value(v, i);
		char *bus = NULL;

		strbuf_reset(&p);
		yd_path(&p, path, bk->str);
		if (yd_enum(d, bk, path, buses, &bus) < 0) {
			ret = -1;
			continue;
		}
		if (yd_expect_map(d, bv, p.buf) < 0) {
			free(bus);
			ret = -1;
			continue;
		}
		for (j = 0; j < ymap_size(bv); j++) {
			const struct ynode *sk = ymap_key(bv, j);

			strbuf_reset(&sp);
			yd_path(&sp, p.buf, sk->str);
			if (slot_ok(d, sk, p.buf, sk->str) < 0) {
				ret = -1;
			} else if (strncmp(sk->str, bus, strlen(bus)) ||
				   !isdigit((unsigned char)
						    sk->str[strlen(bus)])) {
				yd_error(d, sk, p.buf,
					 "slot %s does not belong "
					 "under %s",
					 sk->str, bus);
				ret = -1;
			} else {
				ret |= nested_slot(d, VM(t), sk,
						   ymap_value(bv, j), sp.buf);
			}
		}
		free(bus);
	}
	strbuf_release(&p);
	strbuf_release(&sp);
	return ret;
}

static const struct yd_field vm_fields[] = {
	{ "name", f_name, 1 },
	{ "target_node", f_target_node, 1 },
	{ "cores", f_cores, 0 },
	{ "sockets", f_sockets, 0 },
	{ "memory", f_memory, 0 },
	{ "clone", f_clone, 0 },
	{ "cpu_type", f_cpu_type, 0 },
	{ "ipconfig0", f_ipconfig0, 0 },
	{ "ciuser", f_ciuser, 0 },
	{ "network", f_network, 0 },
	{ "disks", f_disks, 0 },
	{ "nested_disks", f_nested_disks, 0 },
	{ "onboot", f_onboot, 0 },
	{ "boot", f_boot, 0 },
	{ "agent", f_agent, 0 },
	{ "full_clone", f_full_clone, 0 },
	{ "vm_state", f_vm_state, 0 },
	{ "serial", f_serial, 0 },
	{ "scsihw", f_scsihw, 0 },
	{ "nameserver", f_nameserver, 0 },
	{ "searchdomain", f_searchdomain, 0 },
	{ "sshkeys", f_sshkeys, 0 },
	{ "cipassword", f_cipassword, 0 },
	{ "cipassword_env", f_cipassword_env, 0 },
	{ "tags", f_tags, 0 },
	{ "ansible_groups", f_ansible_groups, 0 },
	{ "description", f_description, 0 },
	{ "vmid", f_vmid, 0 },
	{ "define_connection_info", f_terraform_only, 1 },
	{ "skip_ipv6", f_terraform_only, 1 },
	{ "automatic_reboot", f_terraform_only, 1 },
	{ "template", f_terraform_only, 1 },
	{ NULL, NULL, 0 },
};

/* ---- whole-definition checks ------------------------------------------ */

static void check_required(struct ydecoder *d, const struct ynode *root,
			   const struct vmctx *ctx)
{
	/* a key that is present but invalid has had its error already */
	if (!ctx->vm->name && !ctx->vm->name_line)
		yd_error(d, root, NULL, "missing required key 'name'");
	if (!ctx->has_target_node)
		yd_error(d, root, NULL,
			 "missing required key 'target_node' "
			 "(the Proxmox node to create the VM "
			 "on)");
}

/* Whether the mapping has the key at all (whatever its value). */
static int has_key(const struct ynode *map, const char *key)
{
	size_t i;

	for (i = 0; i < ymap_size(map); i++)
		if (!strcmp(ymap_key(map, i)->str, key))
			return 1;
	return 0;
}

static void check_consistency(struct ydecoder *d, const struct ynode *root,
			      struct vmctx *ctx)
{
	struct vmdef *vm = ctx->vm;
	size_t i;

	if (ctx->disks_node && ctx->nested_node)
		yd_error(d, ctx->nested_node, "nested_disks",
			 "use either disks or nested_disks, not both");
	if (vm->cipassword && vm->cipassword_env)
		yd_error(d, ctx->cipassword_node, "cipassword",
			 "set either cipassword or cipassword_env, not both");
	else if (vm->cipassword && ctx->opts->strict_secrets)
		yd_error(d, ctx->cipassword_node, "cipassword",
			 "clear-text password refused (strict_secrets); use "
			 "cipassword_env: VARIABLE");
	else if (vm->cipassword)
		yd_warning(d, ctx->cipassword_node, "cipassword",
			   "clear-text password in the repository; prefer "
			   "cipassword_env: VARIABLE");
	for (i = 0; i < vm->nr_disks; i++) {
		const struct vm_disk *disk = &vm->disks[i];

		if (disk->mount && disk->kind != DISK_DISK &&
		    disk->kind != DISK_PASSTHROUGH)
			yd_error(d, root, NULL,
				 "%s: a %s drive cannot be "
				 "mounted",
				 disk->slot, kind_name(disk->kind));
	}
	if (!has_key(root, "clone") && vm->name)
		yd_warning(d, root, NULL,
			   "no 'clone': an empty VM will be created (for a "
			   "PXE or ISO install)");
	if (vm->clone && !has_key(root, "ipconfig0") && vm->name)
		yd_warning(d, root, NULL,
			   "no 'ipconfig0': the VM will use DHCP and its "
			   "address is known only once its guest agent "
			   "reports it");
}

void vmdef_init(struct vmdef *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->cores = VMDEF_DEFAULT_CORES;
	vm->sockets = VMDEF_DEFAULT_SOCKETS;
	vm->memory = VMDEF_DEFAULT_MEMORY;
	vm->onboot = vm->agent = -1;
	vm->full_clone = 1;
	vm->vm_state = VM_STATE_RUNNING;
	strvec_init(&vm->tags);
	strvec_init(&vm->ansible_groups);
}

int vmdef_decode(struct vmdef *out, struct diag_list *dl, const char *file,
		 const struct ynode *root, const struct vmdef_opts *opts)
{
	struct ydecoder d = { dl, file, 0 };
	struct vmctx ctx = { out, opts, NULL, NULL, NULL, NULL, false };
	static const struct ynode empty = {
		.kind = YNODE_SCALAR, .line = 1, .col = 1, .stype = YS_NULL
	};

	vmdef_init(out);
	out->file = xstrdup(file);
	if (!root || (root->kind == YNODE_SCALAR && root->stype == YS_NULL)) {
		yd_error(&d, root ? root : &empty, NULL,
			 "empty definition; expected a mapping with at least "
			 "name and target_node");
		return -1;
	}
	if (root->kind != YNODE_MAP) {
		yd_error(&d, root, NULL,
			 "expected a mapping of VM settings, got %s",
			 ynode_describe(root));
		return -1;
	}
	yd_map(&d, root, "", vm_fields, &ctx);
	check_required(&d, root, &ctx);
	check_consistency(&d, root, &ctx);
	if (!out->cpu_type)
		out->cpu_type = xstrdup(VMDEF_DEFAULT_CPU);
	if (!ctx.network_node && out->nr_nets == 0) {
		ALLOC_GROW(out->nets, 1, out->alloc_nets);
		memset(&out->nets[0], 0, sizeof(out->nets[0]));
		out->nets[0].bridge = xstrdup(VMDEF_DEFAULT_BRIDGE);
		out->nets[0].model = xstrdup(VMDEF_DEFAULT_MODEL);
		out->nets[0].firewall = out->nets[0].link_down = -1;
		out->nr_nets = 1;
	}
	return d.errors ? -1 : 0;
}

int vmdef_parse(struct vmdef *out, struct diag_list *dl, const char *file,
		const char *buf, size_t len, const struct vmdef_opts *opts)
{
	struct ytree tree = YTREE_INIT;
	int ret;

	if (ytree_parse(&tree, dl, file, buf, len) < 0) {
		vmdef_init(out);
		out->file = xstrdup(file);
		ytree_release(&tree);
		return -1;
	}
	ret = vmdef_decode(out, dl, file, tree.root, opts);
	ytree_release(&tree);
	return ret;
}

void vmdef_release(struct vmdef *vm)
{
	size_t i;

	free(vm->file);
	free(vm->name);
	free(vm->target_node);
	free(vm->clone);
	free(vm->cpu_type);
	free(vm->ipconfig0);
	free(vm->ciuser);
	for (i = 0; i < vm->nr_nets; i++) {
		free(vm->nets[i].bridge);
		free(vm->nets[i].model);
		free(vm->nets[i].macaddr);
	}
	free(vm->nets);
	for (i = 0; i < vm->nr_disks; i++)
		disk_release(&vm->disks[i]);
	free(vm->disks);
	for (i = 0; i < vm->nr_serials; i++)
		free(vm->serials[i].type);
	free(vm->boot);
	free(vm->scsihw);
	free(vm->nameserver);
	free(vm->searchdomain);
	if (vm->sshkeys)
		free(vm->sshkeys);
	if (vm->cipassword) {
		explicit_bzero(vm->cipassword, strlen(vm->cipassword));
		free(vm->cipassword);
	}
	free(vm->cipassword_env);
	free(vm->description);
	strvec_clear(&vm->tags);
	strvec_clear(&vm->ansible_groups);
	vmdef_init(vm);
}

const char *vmdef_ipv4(const struct vmdef *vm, struct strbuf *buf)
{
	if (!vm->ipconfig0 || !vm->ip.has_ip4 || vm->ip.dhcp4)
		return NULL;
	strbuf_reset(buf);
	pve_format_ipv4(buf, vm->ip.ip4);
	return buf->buf;
}
