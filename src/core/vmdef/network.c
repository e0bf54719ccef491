/*
 * network.c - the "serial" and "network" keys of a definition: serial
 * ports, and network devices with their bridge, model, VLAN tag and MAC.
 */
#include "core/vmdef/vmdef_int.h"

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

/* Whether v is a boolean as main.tf's tobool() reads it: true, false,
 * "true", "false" (or 0 and 1). */
static bool serial_is_bool(const struct ynode *v)
{
	if (v->kind != YNODE_SCALAR)
		return false;
	if (v->stype == YS_BOOL)
		return true;
	return strlen(v->str) == v->len &&
	       (!strcmp(v->str, "true") || !strcmp(v->str, "false") ||
		!strcmp(v->str, "0") || !strcmp(v->str, "1"));
}

int vmdef_field_serial(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	size_t i;
	int ret = 0, on;

	(void)k;
	/* serial: true is the original's serial0: socket; false, none */
	if (serial_is_bool(v)) {
		if (yd_tfbool(d, v, path, &on) < 0)
			return -1;
		if (on && VM(t)->nr_serials == 0)
			VM(t)->serials[VM(t)->nr_serials++] =
				(struct vm_serial){ 0, xstrdup("socket") };
		return 0;
	}
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
	return yd_tfbool(d, v, path, &NET(t)->firewall);
}

static int n_link_down(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	(void)k;
	return yd_tfbool(d, v, path, &NET(t)->link_down);
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

const struct yd_field vmdef_net_fields[] = {
	{ "bridge", n_bridge, 0,
	  YD_STR("bridge", "\"" VMDEF_DEFAULT_BRIDGE "\"", PVE_BRIDGE_RE) },
	{ "model", n_model, 0,
	  YD_ENUM("NIC model", "\"" VMDEF_DEFAULT_MODEL "\"", pve_net_models) },
	{ "firewall", n_firewall, 0,
	  YD_DOC(YT_TFBOOL,
		 "Proxmox firewall on the device (default: "
		 "defaults.network_firewall)",
		 "true") },
	{ "tag", n_tag, 0, YD_INT("VLAN tag", NULL, 1, 4094) },
	{ "macaddr", n_macaddr, 0,
	  YD_STR("MAC address (default: Proxmox picks one)", NULL,
		 PVE_MAC_RE) },
	{ "mtu", n_mtu, 0, YD_INT("MTU (1: the bridge's)", NULL, 1, 65520) },
	{ "queues", n_queues, 0, YD_INT("multiqueue queues", NULL, 0, 64) },
	{ "link_down", n_link_down, 0,
	  YD_DOC(YT_TFBOOL, "link disconnected", "false") },
	{ "id", n_id, 0,
	  YD_INT("device number netN (the list form only)", NULL, 0,
		 PVE_MAX_NETS - 1) },
	{ NULL, NULL, 0, { 0 } }
};

static int net_one(struct ydecoder *d, struct vmdef *vm, const struct ynode *v,
		   const char *path, unsigned index, int list_form)
{
	struct vm_net net = { .index = index, .firewall = -1, .link_down = -1 };
	struct netctx ctx = { &net, 0 };
	size_t i;

	net.line = v->line;
	net.col = v->col;
	if (yd_map(d, v, path, vmdef_net_fields, &ctx) < 0)
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

int vmdef_field_network(struct ydecoder *d, void *t, const struct ynode *k,
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
