/*
 * outputs.c - the outputs file; see outputs.h.
 */
#include "core/outputs.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/xalloc.h"

static json_t *output(json_t *value, json_t *type)
{
	return json_pack("{s:b, s:o, s:o}", "sensitive", 0, "type", type,
			 "value", value);
}

static const struct actual_vm *managed_vm(const struct actual_vm *vms,
					  size_t nr, const char *name)
{
	const struct actual_vm *a = NULL;
	size_t j;

	for (j = 0; j < nr; j++)
		if (vms[j].name && !strcmp(vms[j].name, name) &&
		    actual_is_managed(&vms[j]))
			a = &vms[j];
	return a;
}

static json_t *outputs_root(json_t *ips, json_t *k8s, json_t *inv)
{
	return json_pack(
		"{s:o, s:o, s:o}", "vm_ips",
		output(ips, json_pack("[s, s]", "map", "string")), "k8s_nodes",
		output(k8s, json_pack("[s, [s, {s:s, s:s}]]", "map", "object",
				      "ip", "string", "node", "string")),
		"ansible_inventory",
		output(inv, json_pack("[s, [s, {s:s, s:s, s:s, s:s}]]", "map",
				      "object", "ansible_host", "string",
				      "ansible_user", "string", "node",
				      "string", "vmid", "number")));
}

void outputs_encode(struct strbuf *out, const struct vmdef *const *defs,
		    size_t nr_defs, const struct actual_vm *vms, size_t nr_vms,
		    const char *ansible_user, bool with_cluster)
{
	json_t *ips = json_object(), *k8s = json_object(), *inv = json_object();
	json_t *root;
	struct strbuf ip = STRBUF_INIT;
	char *text;
	size_t i;

	for (i = 0; i < nr_defs; i++) {
		const struct vmdef *vm = defs[i];
		const struct actual_vm *a = managed_vm(vms, nr_vms, vm->name);
		const char *addr;

		if (!a)
			continue; /* not created (yet) */
		addr = vmdef_ipv4(vm, &ip);
		json_object_set_new(
			ips, vm->name,
			json_string(vm->ipconfig0 ? vm->ipconfig0 : "ip=dhcp"));
		if (!strncmp(vm->name, "k8s-", 4))
			json_object_set_new(k8s, vm->name,
					    json_pack("{s:s?, s:s}", "ip", addr,
						      "node", vm->target_node));
		json_object_set_new(
			inv, vm->name,
			json_pack("{s:s?, s:s, s:s, s:i}", "ansible_host", addr,
				  "ansible_user",
				  vm->ciuser ? vm->ciuser : ansible_user,
				  "node", vm->target_node, "vmid", a->vmid));
		if (with_cluster) /* clusters: the VM's */
			json_object_set_new(
				json_object_get(inv, vm->name), "cluster",
				json_string(vm->cluster ? vm->cluster
							: "default"));
	}
	strbuf_release(&ip);
	root = outputs_root(ips, k8s, inv);
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	strbuf_addf(out, "%s\n", text);
	free(text);
	json_decref(root);
}

static int bad_entry(struct err *e, const char *file, const char *name)
{
	return err_setk(e, ERR_INVALID, EXIT_INVALID,
			"%s: ansible_inventory.value.%s: expected "
			"{ansible_host, ansible_user, node, vmid}",
			file, name);
}

static int decode_host(struct outputs *out, const char *name, json_t *o,
		       const char *file, struct err *e)
{
	json_t *host = json_object_get(o, "ansible_host");
	json_t *user = json_object_get(o, "ansible_user");
	json_t *node = json_object_get(o, "node");
	json_t *vmid = json_object_get(o, "vmid");
	struct strbuf why = STRBUF_INIT;
	struct outputs_host *h;

	if (!json_is_object(o) || !json_is_string(node) ||
	    !json_is_integer(vmid) || json_integer_value(vmid) < 1 ||
	    json_integer_value(vmid) > 999999999 ||
	    (host && !json_is_null(host) && !json_is_string(host)) ||
	    (user && !json_is_string(user)))
		return bad_entry(e, file, name);
	if (pve_check_node_name(json_string_value(node), &why) < 0) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "%s: ansible_inventory.value.%s.node: %s", file, name,
			 why.buf);
		strbuf_release(&why);
		return -1;
	}
	ALLOC_GROW(out->hosts, st_add(out->nr, 1), out->alloc);
	h = &out->hosts[out->nr++];
	h->name = xstrdup(name);
	h->host =
		json_is_string(host) ? xstrdup(json_string_value(host)) : NULL;
	h->user = user ? xstrdup(json_string_value(user)) : NULL;
	h->node = xstrdup(json_string_value(node));
	h->vmid = (int)json_integer_value(vmid);
	return 0;
}

static int host_cmp(const void *a, const void *b)
{
	const struct outputs_host *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int outputs_decode(struct outputs *out, const char *text, size_t len,
		   const char *file, struct err *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr), *inv, *o;
	const char *name;
	int ret = -1;

	if (!root) {
		err_setk(e, ERR_INVALID, EXIT_INVALID, "%s:%d: %s", file,
			 jerr.line, jerr.text);
		goto out;
	}
	inv = json_object_get(json_object_get(root, "ansible_inventory"),
			      "value");
	if (!json_is_object(inv)) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "%s: no ansible_inventory.value object", file);
		goto out;
	}
	json_object_foreach(inv, name, o)
	{
		if (decode_host(out, name, o, file, e) < 0)
			goto out;
	}
	/* JSON object keys are unique: sorted, outputs_find can bisect */
	if (out->nr)
		qsort(out->hosts, out->nr, sizeof(*out->hosts), host_cmp);
	ret = 0;
out:
	json_decref(root);
	return ret;
}

const struct outputs_host *outputs_find(const struct outputs *o,
					const char *name)
{
	struct outputs_host key = { 0 };

	if (!o->nr)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, o->hosts, o->nr, sizeof(*o->hosts), host_cmp);
}

void outputs_release(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->nr; i++) {
		free(o->hosts[i].name);
		free(o->hosts[i].host);
		free(o->hosts[i].user);
		free(o->hosts[i].node);
	}
	free(o->hosts);
	o->hosts = NULL;
	o->nr = o->alloc = 0;
}
