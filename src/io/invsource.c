/*
 * invsource.c - the VMs the inventory lists, from the outputs file or from
 * Proxmox; see invsource.h.
 */
#include "io/invsource.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/outputs.h"
#include "core/pve_format.h"
#include "io/cluster.h"
#include "util/backoff.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/xalloc.h"

void inv_vms_init(struct inv_vms *vms)
{
	memset(vms, 0, sizeof(*vms));
	strvec_init(&vms->warnings);
}

void inv_vms_release(struct inv_vms *vms)
{
	size_t i;

	for (i = 0; i < vms->nr; i++) {
		free(vms->v[i].ip);
		free(vms->v[i].user);
		free(vms->v[i].node);
		free(vms->v[i].agent_error);
	}
	free(vms->v);
	strvec_clear(&vms->warnings);
	memset(vms, 0, sizeof(*vms));
}

static struct inv_vm *vm_push(struct inv_vms *vms, const struct vmdef *def)
{
	struct inv_vm *v;

	ALLOC_GROW(vms->v, vms->nr + 1, vms->alloc);
	v = &vms->v[vms->nr++];
	memset(v, 0, sizeof(*v));
	v->def = def;
	return v;
}

/* An IPv4 address Proxmox would accept, or NULL. */
static char *checked_ip(const char *s)
{
	uint32_t ip;

	return s && !pve_parse_ipv4(&ip, s, strlen(s)) ? xstrdup(s) : NULL;
}

/* The VM of def from its checked outputs entry h. */
static void outputs_vm(struct inv_vms *out, const struct vmdef *def,
		       const struct outputs_host *h, const struct config *cfg)
{
	struct inv_vm *v = vm_push(out, def);

	v->ip = checked_ip(h->host);
	if (h->host && !v->ip)
		strvec_pushf(&out->warnings,
			     "%s: ansible_host of %s is not an IPv4 address",
			     cfg->outputs, def->name);
	v->user = xstrdup(def->ciuser ? def->ciuser : cfg->ansible_user);
	v->node = xstrdup(h->node);
	v->vmid = h->vmid;
}

int inv_vms_from_outputs(struct inv_vms *out, const struct config *cfg,
			 const struct vmdef *const *defs, size_t n,
			 struct err *e)
{
	struct beneath root = BENEATH_INIT;
	struct outputs o = OUTPUTS_INIT;
	struct strbuf buf = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (beneath_root(&root, ".", e) < 0 ||
	    beneath_read(&root, cfg->outputs, &buf, OUTPUTS_FILE_MAX, e) < 0) {
		if (err_is(e, ERR_NOTFOUND))
			err_prefix(e, "no outputs to read (apply writes them; "
				      "--live reads Proxmox instead)");
		goto out;
	}
	if (outputs_decode(&o, buf.buf, buf.len, cfg->outputs, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const struct outputs_host *h = outputs_find(&o, defs[i]->name);

		if (h)
			outputs_vm(out, defs[i], h, cfg);
	}
	ret = 0;
out:
	beneath_release(&root);
	outputs_release(&o);
	strbuf_release(&buf);
	return ret;
}

/* The first IPv4 address on an interface other than lo that is not
 * link-local in a network-get-interfaces answer, or NULL. */
static char *first_ipv4(json_t *data)
{
	json_t *nic, *addr;
	size_t i, j;
	char *ip = NULL;

	json_array_foreach(json_object_get(data, "result"), i, nic)
	{
		const char *ifname =
			json_string_value(json_object_get(nic, "name"));

		if (!ifname || !strcmp(ifname, "lo"))
			continue;
		json_array_foreach(json_object_get(nic, "ip-addresses"), j,
				   addr)
		{
			const char *t = json_string_value(
				json_object_get(addr, "ip-address-type"));
			const char *s = json_string_value(
				json_object_get(addr, "ip-address"));

			if (ip || !t || strcmp(t, "ipv4") || !s ||
			    !strncmp(s, "169.254.", 8))
				continue;
			ip = checked_ip(s);
		}
	}
	return ip;
}

/*
 * The address the guest agent of VM vmid on node reports (first_ipv4)
 * into *out, NULL when it reports none; -1 with e when it did not answer.
 */
static int agent_ipv4(struct pve_client *pc, const char *node, int vmid,
		      char **out, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL;
	int ret;

	*out = NULL;
	strbuf_addf(&path, "/nodes/%s/qemu/%d/agent/network-get-interfaces",
		    node, vmid);
	/* no retries: an agent that is not up yet is not a transient error */
	ret = pve_call(pc, "GET", path.buf, NULL, PVE_RETRY_NONE, &data, NULL,
		       e);
	if (!ret)
		*out = first_ipv4(data);
	json_decref(data);
	strbuf_release(&path);
	return ret;
}

/* One question to the agent of v; false when asking again is useless. */
static bool agent_ask(struct inv_vm *v, struct pve_client *pc)
{
	struct err e = ERR_INIT;
	struct strbuf msg = STRBUF_INIT;
	bool again = false;

	if (!pc)
		return false; /* no client: the caller says why */
	v->agent_asked = true;
	free(v->agent_error);
	v->agent_error = NULL;
	if (agent_ipv4(pc, v->node, v->vmid, &v->ip, &e) < 0) {
		v->agent_error = xstrdup(e.msg.buf);
		again = !err_is(&e, ERR_PERMANENT) && !err_is(&e, ERR_NOTFOUND);
	} else if (!v->ip) {
		/* no lease yet */
		strbuf_addf(&msg,
			    "the guest agent of VM %d reports no IPv4 "
			    "address",
			    v->vmid);
		v->agent_error = strbuf_detach(&msg, NULL);
		again = true;
	}
	err_release(&e);
	return again;
}

bool inv_vm_agent_dhcp(const struct inv_vm *vm)
{
	const struct pve_ipconfig *ip = &vm->def->ip;
	bool dhcp = !vm->def->ipconfig0 || ip->dhcp4 ||
		    (!ip->has_ip4 && !ip->has_ip6);

	return vm->def->agent == 1 && dhcp &&
	       vm->def->vm_state != VM_STATE_STOPPED && vm->node &&
	       vm->vmid > 0;
}

/* How long to pause before asking again, at most until deadline. */
static void agent_pause(struct backoff *b, unsigned attempt, uint64_t deadline)
{
	uint64_t now = mono_ms();
	long ms = backoff_delay(b, attempt);

	if (now >= deadline)
		return;
	if (now + (uint64_t)ms > deadline)
		ms = (long)(deadline - now);
	sleep_ms(ms);
}

void inv_vms_agent_wait(struct inv_vms *vms, struct pve_client *pc,
			const struct strmap *known, unsigned wait_s,
			struct strvec *missing)
{
	uint64_t deadline = mono_ms() + (uint64_t)wait_s * 1000;
	bool *patient = xcalloc(vms->nr + 1, sizeof(*patient));
	struct backoff b;
	unsigned attempt;
	size_t i, left;

	backoff_init(&b, 1000, 5000, 0);
	for (i = 0; i < vms->nr; i++) {
		struct inv_vm *v = &vms->v[i];

		if (v->ip || !inv_vm_agent_dhcp(v))
			continue;
		if (!known || !strmap_has(known, v->def->name))
			patient[i] = true;
		else if (!v->agent_asked)
			agent_ask(v, pc);
	}
	for (attempt = 0;; attempt++) {
		for (i = left = 0; i < vms->nr; i++)
			if (patient[i] && (attempt || !vms->v[i].agent_asked))
				patient[i] = agent_ask(&vms->v[i], pc);
		for (i = 0; i < vms->nr; i++)
			left += patient[i];
		if (!left || mono_ms() >= deadline)
			break;
		agent_pause(&b, attempt, deadline);
	}
	for (i = 0; i < vms->nr; i++)
		if (!vms->v[i].ip && inv_vm_agent_dhcp(&vms->v[i]) &&
		    (!known || !strmap_has(known, vms->v[i].def->name)))
			strvec_push(missing, vms->v[i].def->name);
	free(patient);
}

static int live_entry(struct inv_vms *out, struct pve_client *pc,
		      const struct config *cfg, const struct vmdef *def,
		      struct actual_vm *a, struct err *e)
{
	struct pve_ipconfig ipc;
	struct strbuf why = STRBUF_INIT;
	const char *ipconfig, *ciuser;
	struct inv_vm *v;
	struct strbuf addr = STRBUF_INIT;

	if (!a->has_config && cluster_read_config(a, pc, e) < 0)
		return -1;
	v = vm_push(out, def);
	v->node = xstrdup(a->node);
	v->vmid = a->vmid;
	ciuser = actual_get(a, "ciuser");
	if (ciuser && pve_check_user(ciuser, &why) < 0) {
		strvec_pushf(&out->warnings,
			     "%s: Proxmox's ciuser is %s; using the "
			     "definition's user",
			     def->name, why.buf);
		ciuser = NULL;
		strbuf_setlen(&why, 0);
	}
	v->user = xstrdup(ciuser && *ciuser ? ciuser
			  : def->ciuser	    ? def->ciuser
					    : cfg->ansible_user);
	ipconfig = actual_get(a, "ipconfig0");
	if (ipconfig && !pve_parse_ipconfig(&ipc, ipconfig, &why) &&
	    ipc.has_ip4 && !ipc.dhcp4) {
		pve_format_ipv4(&addr, ipc.ip4);
		v->ip = strbuf_detach(&addr, NULL);
	} else {
		agent_ask(v, pc);
	}
	strbuf_release(&why);
	strbuf_release(&addr);
	return 0;
}

int inv_vms_from_proxmox(struct inv_vms *out, struct pve_client *pc,
			 const struct config *cfg,
			 const struct vmdef *const *defs, size_t n,
			 struct err *e)
{
	struct cluster c = CLUSTER_INIT;
	struct strmap by_name = STRMAP_INIT;
	size_t i, j;
	int ret = -1;

	if (cluster_read_vms(&c, pc, e) < 0)
		goto out;
	for (j = 0; j < c.nr; j++) {
		const struct actual_vm *a = &c.vms[j];

		if (a->name && actual_is_managed(a) && !a->template_ &&
		    !strmap_has(&by_name, a->name))
			strmap_put(&by_name, a->name, j);
	}
	for (i = 0; i < n; i++)
		if (strmap_get(&by_name, defs[i]->name, &j) &&
		    live_entry(out, pc, cfg, defs[i], &c.vms[j], e) < 0)
			goto out;
	ret = 0;
out:
	strmap_release(&by_name);
	cluster_release(&c);
	return ret;
}

/* ---- host vars ------------------------------------------------------------
 */

static json_t *disk_vars(const struct vm_disk *d)
{
	json_t *o = json_pack("{s:s}", "slot", d->slot);
	struct strbuf size = STRBUF_INIT;

	if (d->size) {
		pve_format_size(&size, d->size);
		json_object_set_new(o, "size", json_string(size.buf));
		json_object_set_new(o, "size_bytes",
				    json_integer((json_int_t)d->size));
	}
	if (d->storage)
		json_object_set_new(o, "storage", json_string(d->storage));
	if (d->format)
		json_object_set_new(o, "format", json_string(d->format));
	if (d->mount)
		json_object_set_new(o, "mount", json_string(d->mount));
	strbuf_release(&size);
	return o;
}

json_t *inv_host_vars(const struct inv_vm *vm, bool with_cluster)
{
	json_t *tags = json_array(), *disks = json_array(), *o;
	size_t i;

	for (i = 0; i < vm->def->tags.nr; i++)
		json_array_append_new(tags, json_string(vm->def->tags.v[i]));
	for (i = 0; i < vm->def->nr_disks; i++)
		if (vm->def->disks[i].kind == DISK_DISK)
			json_array_append_new(disks,
					      disk_vars(&vm->def->disks[i]));
	o = json_pack("{s:s, s:i, s:o, s:o}", "pve_node", vm->node, "pve_vmid",
		      vm->vmid, "pve_tags", tags, "pve_disks", disks);
	if (with_cluster)
		json_object_set_new(o, "pve_cluster",
				    json_string(vm->def->cluster
							? vm->def->cluster
							: "default"));
	return o;
}
