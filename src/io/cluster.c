/*
 * cluster.c - reading the cluster's VMs; see cluster.h.
 */
#include "io/cluster.h"
#include "io/pve_vm.h"
#include "core/pve_format.h"
#include "core/vmparams.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/exitcode.h"
#include "util/report.h"
#include "util/xalloc.h"

static char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

/* A config value as text: numbers as Proxmox would print them. */
static void value_text(struct strbuf *out, json_t *v)
{
	strbuf_reset(out);
	if (json_is_string(v))
		strbuf_addstr(out, json_string_value(v));
	else if (json_is_integer(v))
		strbuf_addf(out, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
	else if (json_is_real(v))
		strbuf_addf(out, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		strbuf_addstr(out, json_is_true(v) ? "1" : "0");
}

int cluster_read_vms(struct cluster *out, struct pve_client *pc, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	json_t *data = NULL, *o;
	size_t i;
	int ret = -1;

	pve_param(&p, "type", "vm");
	if (pve_call(pc, "GET", "/cluster/resources", &p, PVE_RETRY_SAFE, &data,
		     NULL, e) < 0)
		goto out;
	if (!json_is_array(data)) {
		err_set(e, EXIT_FAIL,
			"GET /cluster/resources: expected a list of resources");
		goto out;
	}
	json_array_foreach(data, i, o)
	{
		const char *type =
			json_string_value(json_object_get(o, "type"));
		struct actual_vm *a;
		json_t *vmid = json_object_get(o, "vmid");

		/* a VM is addressed by its node and vmid: an entry without a
		 * node or with a vmid Proxmox cannot give is not one */
		if (!type || strcmp(type, "qemu") || !json_is_integer(vmid) ||
		    json_integer_value(vmid) < PVE_VMID_MIN ||
		    json_integer_value(vmid) > PVE_VMID_MAX ||
		    !json_is_string(json_object_get(o, "node")) ||
		    !*json_string_value(json_object_get(o, "node")))
			continue;
		ALLOC_GROW(out->vms, st_add(out->nr, 1), out->alloc);
		a = &out->vms[out->nr++];
		actual_vm_init(a);
		a->vmid = (int)json_integer_value(vmid);
		a->name = str_of(o, "name");
		a->node = str_of(o, "node");
		a->status = str_of(o, "status");
		a->tags = str_of(o, "tags");
		a->lock = str_of(o, "lock");
		a->template_ =
			json_integer_value(json_object_get(o, "template")) == 1;
	}
	ret = 0;
out:
	json_decref(data);
	pve_params_release(&p);
	return ret;
}

/* The entries of a /pending or /cloudinit answer that wait for a boot,
 * into vm->pending (a key seen already is not added twice). */
static void add_waiting(struct actual_vm *vm, json_t *list)
{
	struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
	json_t *o;
	size_t i, j;

	json_array_foreach(list, i, o)
	{
		const char *key = json_string_value(json_object_get(o, "key"));
		json_t *val = json_object_get(o, "value");
		json_t *pend = json_object_get(o, "pending");
		json_t *del = json_object_get(o, "delete");

		if (!key || !strcmp(key, "digest") ||
		    (!pend && !json_integer_value(del)))
			continue;
		value_text(&from, val);
		value_text(&to, pend);
		/* what Proxmox would clean up: the value it runs with */
		if (val && pend && !strcmp(from.buf, to.buf))
			continue;
		for (j = 0; j < vm->nr_pending; j++)
			if (!strcmp(vm->pending[j].key, key))
				break;
		if (j < vm->nr_pending)
			continue;
		/* a password is never shown, whatever the server sends */
		if (!strcmp(key, "cipassword")) {
			strbuf_reset(&from);
			strbuf_addstr(&from, "(set)");
			strbuf_reset(&to);
			strbuf_addstr(&to, "(set)");
		}
		actual_add_pending(vm, key, val ? from.buf : NULL,
				   json_integer_value(del) ? NULL : to.buf);
	}
	strbuf_release(&from);
	strbuf_release(&to);
}

int cluster_read_pending(struct actual_vm *vm, struct pve_client *pc,
			 struct err *e)
{
	json_t *data = NULL;

	if (pve_vm_pending(pc, vm->node, vm->vmid, &data, e) < 0)
		return -1;
	add_waiting(vm, data);
	json_decref(data);
	data = NULL;
	/* cloud-init settings are written at once; the drive holds the old
	 * ones until the next start */
	if (vmparams_has_cloudinit(NULL, &vm->keys, &vm->vals)) {
		if (pve_vm_cloudinit(pc, vm->node, vm->vmid, &data, e) < 0)
			return -1;
		add_waiting(vm, data);
		json_decref(data);
	}
	return 0;
}

int cluster_read_config(struct actual_vm *vm, struct pve_client *pc,
			struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL;
	int ret = -1;

	pve_vm_path(&path, vm->node, vm->vmid, "config");
	if (pve_call(pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &data, NULL,
		     e) < 0)
		goto out;
	if (!json_is_object(data)) {
		err_set(e, EXIT_FAIL, "GET %s: expected an object", path.buf);
		goto out;
	}
	strvec_clear(&vm->keys);
	strvec_clear(&vm->vals);
	cluster_config_strings(&vm->keys, &vm->vals, data);
	/* a running VM's changes may wait for its next boot */
	if (vm->status && !strcmp(vm->status, "running") &&
	    cluster_read_pending(vm, pc, e) < 0)
		goto out;
	vm->has_config = true;
	ret = 0;
out:
	json_decref(data);
	strbuf_release(&path);
	return ret;
}

void cluster_config_strings(struct strvec *keys, struct strvec *vals,
			    json_t *conf)
{
	struct strbuf v = STRBUF_INIT;
	const char *key;
	json_t *val;

	json_object_foreach(conf, key, val)
	{
		value_text(&v, val);
		strvec_push(keys, key);
		strvec_push(vals, v.buf);
	}
	strbuf_release(&v);
}

void cluster_release(struct cluster *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		actual_vm_release(&c->vms[i]);
	free(c->vms);
	c->vms = NULL;
	c->nr = c->alloc = 0;
}

/* A flag of an answer: Proxmox sends 0/1, JSON booleans are taken too. */
static bool flag(json_t *o, const char *key, bool def)
{
	json_t *v = json_object_get(o, key);

	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return def;
}

static int get_list(struct pve_client *pc, const char *path,
		    const struct pve_params *p, json_t **data, struct err *e)
{
	if (pve_call(pc, "GET", path, p, PVE_RETRY_SAFE, data, NULL, e) < 0)
		return -1;
	if (!json_is_array(*data)) {
		json_decref(*data);
		*data = NULL;
		return err_set(e, EXIT_FAIL, "GET %s: expected a list", path);
	}
	return 0;
}

/* maxmem and mem of a node's entry (bytes), when both are numbers. */
static void node_mem(struct facts_node *n, json_t *o)
{
	json_t *max = json_object_get(o, "maxmem"),
	       *mem = json_object_get(o, "mem");

	if (!json_is_integer(max) || !json_is_integer(mem) ||
	    json_integer_value(max) < 0 || json_integer_value(mem) < 0)
		return;
	n->maxmem = (uint64_t)json_integer_value(max);
	n->mem = (uint64_t)json_integer_value(mem);
	n->mem_read = true;
}

int cluster_read_nodes(struct cluster_facts *f, struct pve_client *pc,
		       struct err *e)
{
	json_t *data = NULL, *o;
	size_t i;

	if (get_list(pc, "/nodes", NULL, &data, e) < 0)
		return -1;
	if (json_array_size(data) > CLUSTER_MAX_NODES) {
		err_set(e, EXIT_FAIL,
			"GET /nodes: %zu nodes, more than a cluster has (at most "
			"%d are read)",
			json_array_size(data), CLUSTER_MAX_NODES);
		json_decref(data);
		return -1;
	}
	json_array_foreach(data, i, o)
	{
		const char *name =
			json_string_value(json_object_get(o, "node"));

		if (name && !facts_node(f, name))
			node_mem(facts_add_node(
					 f, name,
					 json_string_value(
						 json_object_get(o, "status"))),
				 o);
	}
	f->nodes_read = true;
	json_decref(data);
	return 0;
}

static void node_path(struct strbuf *sb, const char *node, const char *sub)
{
	strbuf_addstr(sb, "/nodes/");
	strbuf_add_percent_encoded(sb, node);
	strbuf_addf(sb, "/%s", sub);
}

int cluster_read_storages(struct facts_node *n, struct pve_client *pc,
			  struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL, *o;
	size_t i;
	int ret = -1;

	node_path(&path, n->name, "storage");
	if (get_list(pc, path.buf, NULL, &data, e) < 0)
		goto out;
	json_array_foreach(data, i, o)
	{
		const char *name =
			json_string_value(json_object_get(o, "storage"));

		if (name)
			facts_add_storage(n, name,
					  json_string_value(json_object_get(
						  o, "content")),
					  flag(o, "enabled", true),
					  flag(o, "active", true))
				->shared = flag(o, "shared", false);
	}
	n->storage_read = true;
	ret = 0;
out:
	json_decref(data);
	strbuf_release(&path);
	return ret;
}

int cluster_read_bridges(struct facts_node *n, struct pve_client *pc,
			 struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL, *o;
	size_t i;
	int ret = -1;

	node_path(&path, n->name, "network");
	pve_param(&p, "type", "any_bridge");
	if (get_list(pc, path.buf, &p, &data, e) < 0)
		goto out;
	json_array_foreach(data, i, o)
	{
		const char *name =
			json_string_value(json_object_get(o, "iface"));

		if (name)
			strvec_push(&n->bridges, name);
	}
	n->bridges_read = true;
	ret = 0;
out:
	json_decref(data);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/* The configuration readers of cluster_read_ips. */
struct ips_job {
	const struct actual_vm *const *vms;
	size_t nr, next;
	struct strvec *keys, *vals; /* [i]: vms[i]'s configuration */
	bool *ok;
	const struct pve_conn *conn;
	pthread_mutex_t mu;
	struct err e; /* the first failure */
	bool failed;
	size_t skipped; /* configurations Proxmox would not give */
	unsigned long calls;
};

static int ips_read_one(struct ips_job *j, size_t i, struct pve_client *pc,
			struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL;
	int ret = -1;

	pve_vm_path(&path, j->vms[i]->node, j->vms[i]->vmid, "config");
	if (pve_call(pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &data, NULL,
		     e) < 0)
		goto out;
	if (!json_is_object(data)) {
		err_set(e, EXIT_FAIL, "GET %s: expected an object", path.buf);
		goto out;
	}
	cluster_config_strings(&j->keys[i], &j->vals[i], data);
	ret = 0;
out:
	json_decref(data);
	strbuf_release(&path);
	return ret;
}

static void *ips_worker(void *arg)
{
	struct ips_job *j = arg;
	struct pve_client pc;
	struct err e = ERR_INIT;
	size_t i;

	memset(&pc, 0, sizeof(pc));
	if (pve_client_init(&pc, j->conn, &e) < 0)
		goto out;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->failed ? j->nr : j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->nr)
			break;
		if (ips_read_one(j, i, &pc, &e) == 0) {
			j->ok[i] = true;
			continue;
		}
		if (err_is(&e, ERR_NOTFOUND)) {
			err_clear(&e); /* removed meanwhile */
			continue;
		}
		/* one VM's refusal is that VM's: its addresses go
		 * unchecked (said once, below), the others are read */
		pthread_mutex_lock(&j->mu);
		if (!j->skipped++) {
			j->e.exit_code = e.exit_code;
			j->e.kind = e.kind;
			strbuf_add(&j->e.msg, e.msg.buf, e.msg.len);
		}
		pthread_mutex_unlock(&j->mu);
		err_clear(&e);
	}
out:
	pthread_mutex_lock(&j->mu);
	j->calls += pc.calls;
	if (e.msg.len && !j->failed) {
		j->failed = true;
		j->e.exit_code = e.exit_code;
		j->e.kind = e.kind;
		strbuf_reset(&j->e.msg);
		strbuf_add(&j->e.msg, e.msg.buf, e.msg.len);
	}
	pthread_mutex_unlock(&j->mu);
	err_release(&e);
	pve_client_release(&pc);
	return NULL;
}

int cluster_read_ips(struct cluster_facts *f,
		     const struct actual_vm *const *vms, size_t nr,
		     unsigned workers, struct pve_client *pc, struct err *e)
{
	struct ips_job j;
	pthread_t *th;
	unsigned k, started = 0;
	size_t i;
	int ret = 0;

	memset(&j, 0, sizeof(j));
	j.vms = vms;
	j.nr = nr;
	j.conn = &pc->conn;
	j.e = (struct err)ERR_INIT;
	j.keys = xcalloc(nr + 1, sizeof(*j.keys));
	j.vals = xcalloc(nr + 1, sizeof(*j.vals));
	j.ok = xcalloc(nr + 1, sizeof(*j.ok));
	for (i = 0; i < nr; i++) {
		strvec_init(&j.keys[i]);
		strvec_init(&j.vals[i]);
	}
	pthread_mutex_init(&j.mu, NULL);
	if (workers > nr)
		workers = (unsigned)nr;
	th = xcalloc(workers + 1, sizeof(*th));
	for (k = 0; k < workers; k++)
		if (pthread_create(&th[k], NULL, ips_worker, &j) == 0)
			started++;
	if (!started && nr)
		ips_worker(&j);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	pc->calls += j.calls;
	if (!j.failed && j.skipped && j.skipped == nr)
		j.failed = true; /* none could be read: Proxmox's trouble */
	else if (!j.failed && j.skipped)
		report_warning("the address check skips %zu VM%s whose "
			       "configuration Proxmox did not give (%s)",
			       j.skipped, j.skipped == 1 ? "" : "s",
			       j.e.msg.buf);
	if (j.failed) {
		err_setk(e, j.e.kind, j.e.exit_code ? j.e.exit_code : EXIT_FAIL,
			 "%s", j.e.msg.buf);
		ret = -1;
	}
	for (i = 0; i < nr; i++) {
		if (!ret && j.ok[i])
			facts_add_config_ips(f, vms[i]->vmid, vms[i]->name,
					     &j.keys[i], &j.vals[i]);
		strvec_clear(&j.keys[i]);
		strvec_clear(&j.vals[i]);
	}
	if (!ret)
		f->ips_read = true;
	pthread_mutex_destroy(&j.mu);
	err_release(&j.e);
	free(th);
	free(j.keys);
	free(j.vals);
	free(j.ok);
	return ret;
}
