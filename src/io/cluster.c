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
#include "util/jscan.h"
#include "util/report.h"
#include "util/xalloc.h"

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

/* One entry of /cluster/resources as scanned: the members a VM needs,
 * each as json_string_value() would give it (has_: it is a string). */
struct res_entry {
	struct strbuf type, name, node, status, tags, lock;
	bool has_type, has_name, has_node, has_status, has_tags, has_lock;
	bool vmid_is_int;
	int64_t vmid, template_;
};

/* The next value as a string member: kept when it is one, else absent. */
static int scan_str(struct jscan *s, struct strbuf *v, bool *has)
{
	*has = jscan_peek(s) == JSCAN_STRING;
	return *has ? jscan_string(s, v) : jscan_skip(s);
}

/* An integer member (json_integer_value(): 0 when not an integer). */
static int scan_int(struct jscan *s, int64_t *v, bool *is_int)
{
	bool dummy;

	if (!is_int)
		is_int = &dummy;
	*v = 0;
	*is_int = false;
	if (jscan_peek(s) != JSCAN_NUMBER)
		return jscan_skip(s);
	/* a number with a fraction or exponent is a real: not an integer */
	{
		struct jscan probe = *s;

		if (jscan_integer(&probe, v) == 0) {
			*s = probe;
			*is_int = true;
			return 0;
		}
	}
	*v = 0;
	return jscan_skip(s);
}

static int scan_entry(struct jscan *s, struct res_entry *r, struct strbuf *key)
{
	int k;

	r->has_type = r->has_name = r->has_node = false;
	r->has_status = r->has_tags = r->has_lock = false;
	r->vmid_is_int = false;
	r->vmid = r->template_ = 0;
	if (jscan_peek(s) != JSCAN_OBJECT)
		return jscan_skip(s) < 0 ? -1 : 1; /* not a resource */
	if (jscan_enter(s, '{') < 0)
		return -1;
	while ((k = jscan_next_key(s, key)) > 0) {
		int r2;

		if (!strcmp(key->buf, "type"))
			r2 = scan_str(s, &r->type, &r->has_type);
		else if (!strcmp(key->buf, "name"))
			r2 = scan_str(s, &r->name, &r->has_name);
		else if (!strcmp(key->buf, "node"))
			r2 = scan_str(s, &r->node, &r->has_node);
		else if (!strcmp(key->buf, "status"))
			r2 = scan_str(s, &r->status, &r->has_status);
		else if (!strcmp(key->buf, "tags"))
			r2 = scan_str(s, &r->tags, &r->has_tags);
		else if (!strcmp(key->buf, "lock"))
			r2 = scan_str(s, &r->lock, &r->has_lock);
		else if (!strcmp(key->buf, "vmid"))
			r2 = scan_int(s, &r->vmid, &r->vmid_is_int);
		else if (!strcmp(key->buf, "template"))
			r2 = scan_int(s, &r->template_, NULL);
		else
			r2 = jscan_skip(s);
		if (r2 < 0)
			return -1;
	}
	return k < 0 ? -1 : 0;
}

static char *kept(const struct strbuf *v, bool has)
{
	return has ? xstrdup(v->buf) : NULL;
}

static void add_entry(struct cluster *out, const struct res_entry *r)
{
	struct actual_vm *a;

	/* a VM is addressed by its node and vmid: an entry without a node
	 * or with a vmid Proxmox cannot give is not one */
	if (!r->has_type || strcmp(r->type.buf, "qemu") || !r->vmid_is_int ||
	    r->vmid < PVE_VMID_MIN || r->vmid > PVE_VMID_MAX || !r->has_node ||
	    !*r->node.buf)
		return;
	ALLOC_GROW(out->vms, st_add(out->nr, 1), out->alloc);
	a = &out->vms[out->nr++];
	actual_vm_init(a);
	a->vmid = (int)r->vmid;
	a->name = kept(&r->name, r->has_name);
	a->node = kept(&r->node, r->has_node);
	a->status = kept(&r->status, r->has_status);
	a->tags = kept(&r->tags, r->has_tags);
	a->lock = kept(&r->lock, r->has_lock);
	a->template_ = r->template_ == 1;
}

/* The VMs of the "data" list; *is_list false when it is not one. */
static int scan_data(struct jscan *s, struct cluster *out, bool *is_list,
		     struct res_entry *r, struct strbuf *key)
{
	int k;

	cluster_release(out);
	*is_list = jscan_peek(s) == JSCAN_ARRAY;
	if (!*is_list)
		return jscan_skip(s);
	if (jscan_enter(s, '[') < 0)
		return -1;
	while ((k = jscan_next_item(s)) > 0) {
		int got = scan_entry(s, r, key);

		if (got < 0)
			return -1;
		if (got == 0)
			add_entry(out, r);
	}
	return k;
}

/*
 * The listing grows with the cluster and every worker of an apply asks
 * for it (the race checks, ops/execute.c), so it is scanned (util/jscan.h)
 * rather than parsed into a tree: the same answers are accepted, and the
 * same VMs read, as through json_loadb.
 */
int cluster_read_vms(struct cluster *out, struct pve_client *pc, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf raw = STRBUF_INIT, key = STRBUF_INIT;
	struct res_entry r;
	struct jscan s;
	bool is_list = false;
	int k, ret = -1;

	memset(&r, 0, sizeof(r));
	strbuf_init(&r.type, 0);
	strbuf_init(&r.name, 0);
	strbuf_init(&r.node, 0);
	strbuf_init(&r.status, 0);
	strbuf_init(&r.tags, 0);
	strbuf_init(&r.lock, 0);
	pve_param(&p, "type", "vm");
	if (pve_call_raw(pc, "GET", "/cluster/resources", &p, PVE_RETRY_SAFE,
			 &raw, NULL, e) < 0)
		goto out;
	jscan_init(&s, raw.buf, raw.len);
	if (jscan_enter(&s, '{') < 0)
		goto bad;
	while ((k = jscan_next_key(&s, &key)) > 0)
		if (strcmp(key.buf, "data")
			    ? jscan_skip(&s)
			    : scan_data(&s, out, &is_list, &r, &key) < 0)
			goto bad;
	if (k < 0 || jscan_finish(&s) < 0)
		goto bad;
	if (!is_list) {
		cluster_release(out);
		err_set(e, EXIT_FAIL,
			"GET /cluster/resources: expected a list of resources");
		goto out;
	}
	ret = 0;
	goto out;
bad:
	cluster_release(out);
	err_set(e, EXIT_FAIL, "GET /cluster/resources: the answer is not JSON");
out:
	strbuf_release(&raw);
	strbuf_release(&key);
	strbuf_release(&r.type);
	strbuf_release(&r.name);
	strbuf_release(&r.node);
	strbuf_release(&r.status);
	strbuf_release(&r.tags);
	strbuf_release(&r.lock);
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
