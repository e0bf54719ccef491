/*
 * apply.c - the reconciler's actions; see apply.h.
 *
 * Workers take the next item whose node is under its limit. VM ids are
 * reserved in-process under a mutex (/cluster/nextid reserves nothing), and
 * a clone that another process beat to the id is retried with a new one.
 * A clone whose answer was lost is looked up (by vmid and name) before it
 * is sent again. The digest tag is written last: until then the VM reads
 * as unfinished and the next plan finishes it.
 */
#include "io/apply.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/vmparams.h"
#include "io/cluster.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

struct shared {
	const struct plan *plan;
	const struct pve_conn *conn;
	const struct apply_opts *o;
	struct apply_result *res;
	pthread_mutex_t mu, vmid_mu;
	pthread_cond_t cv;
	bool *taken;
	size_t left;		  /* actionable items not taken yet */
	struct strvec busy_nodes; /* one entry per item running on a node */
	int *reserved;
	size_t nr_reserved, alloc_reserved;
	struct timespec t0;
	struct worker *workers;
	unsigned nr_workers;
	bool finished;
};

struct worker {
	struct shared *sh;
	char state[96]; /* what it is doing, for the ticker */
	struct pve_client pc;
	bool ready;
	const struct plan_item *it;
	struct timespec start;
};

static bool actionable(const struct plan_item *it)
{
	return it->op == PLAN_CREATE || it->op == PLAN_UPDATE ||
	       it->op == PLAN_DESTROY;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void say(struct worker *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct worker *w, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT, esc = STRBUF_INIT;
	va_list ap;

	if (!w->sh->o->progress)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_add_escaped(&esc, sb.buf, sb.len);
	pthread_mutex_lock(&w->sh->mu);
	snprintf(w->state, sizeof(w->state), "%s", esc.buf);
	fprintf(w->sh->o->progress, "%s: %s [%.0fs elapsed]\n", w->it->name,
		esc.buf, elapsed(&w->start));
	fflush(w->sh->o->progress);
	pthread_mutex_unlock(&w->sh->mu);
	strbuf_release(&sb);
	strbuf_release(&esc);
}

static int timeout_s(const struct worker *w)
{
	return w->sh->o->task_timeout_s ? w->sh->o->task_timeout_s : 600;
}

/* A call whose answer does not matter beyond success. */
static int pve_call_ok(struct pve_client *pc, const char *method,
		       const char *path, const struct pve_params *p,
		       struct err *e)
{
	json_t *data = NULL;
	int r = pve_call(pc, method, path, p, PVE_RETRY_SAFE, &data, NULL, e);

	json_decref(data);
	return r;
}

/* Call and, when the answer is a task id, wait for the task. */
static int call_wait(struct worker *w, const char *method, const char *path,
		     const struct pve_params *p, enum pve_retry retry,
		     struct err *e)
{
	json_t *data = NULL;
	int ret = pve_call(&w->pc, method, path, p, retry, &data, NULL, e);

	if (ret == 0 && json_is_string(data))
		ret = pve_wait_task(&w->pc, json_string_value(data),
				    timeout_s(w), e);
	json_decref(data);
	return ret;
}

/* ---- vmids --------------------------------------------------------- */

static bool is_reserved(struct shared *sh, int vmid)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&sh->mu);
	for (i = 0; i < sh->nr_reserved && !found; i++)
		found = sh->reserved[i] == vmid;
	pthread_mutex_unlock(&sh->mu);
	return found;
}

/*
 * The next id that is neither taken in the cluster nor reserved by one of
 * our workers. /cluster/nextid reserves nothing, so ours are kept here,
 * under a mutex of their own (the calls may take a while with retries).
 */
static int reserve_vmid(struct worker *w, int *out, struct err *e)
{
	struct shared *sh = w->sh;
	json_t *data = NULL;
	long n = 0;
	int ret = -1, tries;

	pthread_mutex_lock(&sh->vmid_mu);
	if (pve_call(&w->pc, "GET", "/cluster/nextid", NULL, PVE_RETRY_SAFE,
		     &data, NULL, e) < 0)
		goto out;
	n = json_is_string(data) ? strtol(json_string_value(data), NULL, 10)
				 : (long)json_integer_value(data);
	json_decref(data);
	data = NULL;
	if (n < 100) {
		err_set(e, EXIT_FAIL, "GET /cluster/nextid: no usable id");
		goto out;
	}
	for (tries = 0; tries < 1000; tries++, n++) {
		struct pve_params p = PVE_PARAMS_INIT;
		long status = 0;
		int r;

		if (is_reserved(sh, (int)n))
			continue;
		if (!tries) /* nextid just said this one is free */
			break;
		pve_paramf(&p, "vmid", "%ld", n);
		r = pve_call(&w->pc, "GET", "/cluster/nextid", &p,
			     PVE_RETRY_SAFE, &data, &status, e);
		pve_params_release(&p);
		json_decref(data);
		data = NULL;
		if (r == 0)
			break; /* free in the cluster too */
		if (status != 400)
			goto out;
		err_release(e); /* taken in the cluster: the next one */
	}
	if (tries == 1000) {
		err_set(e, EXIT_FAIL, "no free vmid after %ld", n);
		goto out;
	}
	pthread_mutex_lock(&sh->mu);
	ALLOC_GROW(sh->reserved, st_add(sh->nr_reserved, 1),
		   sh->alloc_reserved);
	sh->reserved[sh->nr_reserved++] = (int)n;
	pthread_mutex_unlock(&sh->mu);
	*out = (int)n;
	ret = 0;
out:
	pthread_mutex_unlock(&sh->vmid_mu);
	return ret;
}

/* ---- create ---------------------------------------------------------- */

/*
 * After a create whose answer was lost: does vmid exist, and is it ours?
 * A clone in progress may not show its name yet, so wait for its lock to
 * go, then read the config: ours has our name and the "being created"
 * description. Sets *exists; -1 when it exists and is somebody else's.
 */
static int wait_unlocked(struct worker *w, const char *node, int vmid,
			 struct err *e);

static int ours_after_lost(struct worker *w, int vmid, bool *exists,
			   struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL, *o, *conf = NULL;
	const char *node = NULL, *name, *descr;
	size_t i;
	int ret = -1;

	*exists = false;
	pve_param(&p, "type", "vm");
	if (pve_call(&w->pc, "GET", "/cluster/resources", &p, PVE_RETRY_SAFE,
		     &data, NULL, e) < 0)
		goto out;
	json_array_foreach(data, i, o) if (json_integer_value(json_object_get(
						   o, "vmid")) == vmid) node =
		json_string_value(json_object_get(o, "node"));
	if (!node) {
		ret = 0; /* not there: it never happened */
		goto out;
	}
	*exists = true;
	if (wait_unlocked(w, node, vmid, e) < 0)
		goto out;
	strbuf_addf(&path, "/nodes/%s/qemu/%d/config", node, vmid);
	if (pve_call(&w->pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &conf, NULL,
		     e) < 0)
		goto out;
	name = json_string_value(json_object_get(conf, "name"));
	descr = json_string_value(json_object_get(conf, "description"));
	if (name && !strcmp(name, w->it->name) && descr &&
	    !strncmp(descr, APPLY_MARKER, strlen(APPLY_MARKER)))
		ret = 0;
	else
		err_set(e, EXIT_FAIL,
			"vmid %d exists but is not the VM this apply created "
			"for '%s'; nothing was changed on it",
			vmid, w->it->name);
out:
	json_decref(data);
	json_decref(conf);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/* Wait until the VM's config lock (clone, create) is gone. */
static int wait_unlocked(struct worker *w, const char *node, int vmid,
			 struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	int i, ret = -1;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/status/current", node, vmid);
	for (i = 0; i < timeout_s(w) * 5; i++) {
		json_t *st = NULL;
		bool locked;

		if (pve_call(&w->pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &st,
			     NULL, e) < 0)
			break;
		locked = json_object_get(st, "lock") != NULL;
		json_decref(st);
		if (!locked) {
			ret = 0;
			break;
		}
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
	}
	if (ret && !e->msg.len)
		err_set(e, EXIT_FAIL, "VM %d stays locked", vmid);
	strbuf_release(&path);
	return ret;
}

typedef void create_params_fn(struct worker *w, int vmid, struct pve_params *p);

/*
 * POST a create (a clone, or a new empty VM) and wait for its task. A lost
 * answer, or "already exists" after one, is looked up by vmid and name
 * before anything is sent again; an id another process took gets a new one.
 */
static int post_create(struct worker *w, const char *path, const char *what,
		       create_params_fn *fill, int *vmid, struct err *e)
{
	const struct plan_item *it = w->it;
	bool lost = false; /* an answer on this id went missing */
	int attempt, ret = -1;

	for (attempt = 0; attempt < 6; attempt++) {
		struct pve_params p = PVE_PARAMS_INIT;
		json_t *data = NULL;
		long status = 0;
		bool found;
		int r;

		if (!*vmid && reserve_vmid(w, vmid, e) < 0)
			break;
		fill(w, *vmid, &p);
		r = pve_call(&w->pc, "POST", path, &p, PVE_RETRY_NONE, &data,
			     &status, e);
		pve_params_release(&p);
		if (r == 0) {
			say(w, "%s to vmid %d...", what, *vmid);
			ret = json_is_string(data)
				      ? pve_wait_task(&w->pc,
						      json_string_value(data),
						      timeout_s(w), e)
				      : 0;
			json_decref(data);
			break;
		}
		json_decref(data);
		if (status == 0 || status == 502 || status == 504 ||
		    status == 596)
			lost = true; /* no answer, or a proxy's: it may be done
				      */
		if (lost && (status == 0 || status >= 502 ||
			     err_is(e, ERR_EXISTS))) {
			struct err e2 = ERR_INIT;

			if (ours_after_lost(w, *vmid, &found, &e2) < 0) {
				err_release(e);
				*e = e2;
				break;
			}
			err_release(&e2);
			if (found) {
				err_release(e);
				say(w, "the answer was lost; vmid %d is ours",
				    *vmid);
				ret = 0;
				break;
			}
			if (!err_is(e, ERR_EXISTS)) {
				err_release(e);
				continue; /* not there: send it again */
			}
		}
		if (err_is(e, ERR_EXISTS) && !it->def->vmid) {
			*vmid = 0; /* someone else took it: a new id */
			lost = false;
			err_release(e);
			continue;
		}
		break;
	}
	return ret;
}

static void clone_params(struct worker *w, int vmid, struct pve_params *p)
{
	pve_paramf(p, "newid", "%d", vmid);
	pve_param(p, "name", w->it->name);
	pve_param(p, "target", w->it->node);
	pve_param(p, "full", w->it->def->full_clone ? "1" : "0");
	pve_param(p, "description", APPLY_MARKER);
}

static int clone_vm(struct worker *w, int *vmid, struct err *e)
{
	struct strbuf path = STRBUF_INIT, what = STRBUF_INIT;
	int ret;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/clone", w->it->source->node,
		    w->it->source->vmid);
	strbuf_addf(&what, "cloning %s", w->it->def->clone);
	ret = post_create(w, path.buf, what.buf, clone_params, vmid, e);
	strbuf_release(&path);
	strbuf_release(&what);
	return ret;
}

static int read_config(struct worker *w, const char *node, int vmid,
		       json_t **conf, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/config", node, vmid);
	r = pve_call(&w->pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, conf, NULL,
		     e);
	strbuf_release(&path);
	return r;
}

static const char *conf_str(json_t *conf, const char *key)
{
	return json_string_value(json_object_get(conf, key));
}

/*
 * A cloned VM without a cloud-init drive gets one (it carries ipconfig0
 * and the keys), on the storage of its boot disk or the definition's.
 */
static int add_cloudinit(struct worker *w, json_t *conf, struct pve_params *p,
			 struct err *e)
{
	struct strvec keys = STRVEC_INIT, vals = STRVEC_INIT;
	struct strbuf st = STRBUF_INIT;
	int ret = 0;

	if (!w->it->def->clone || json_object_get(conf, "ide2"))
		return 0;
	cluster_config_strings(&keys, &vals, conf);
	if (vmparams_has_cloudinit(w->it->want, &keys, &vals))
		goto out;
	if (vmparams_cloudinit_storage(&st, w->it->want, &keys, &vals) < 0)
		ret = err_setk(e, ERR_INVALID, EXIT_FAIL,
			       "cannot add a cloud-init drive: neither the "
			       "VM's disks nor the definition name a storage");
	else
		pve_paramf(p, "ide2", "%s:cloudinit", st.buf);
out:
	strvec_clear(&keys);
	strvec_clear(&vals);
	strbuf_release(&st);
	return ret;
}

/*
 * Set the configuration: every desired key (keys says which, NULL: all),
 * new disks, a cloud-init drive when there is none, cipassword from its
 * environment variable, and "pve-gitops" in the tags (the digest comes
 * last).
 */
/* ",macaddr=XX:.." of a NIC value "virtio=XX:..,bridge=..", or "". */
static const char *nic_mac(const char *val)
{
	static _Thread_local char buf[32];
	const char *eq = strchr(val, '=');
	size_t n = eq ? strcspn(eq + 1, ",") : 0;

	buf[0] = '\0';
	if (eq && n == 17 && (size_t)(eq - val) == strcspn(val, "=,"))
		snprintf(buf, sizeof(buf), ",macaddr=%.17s", eq + 1);
	return buf;
}

static int configure(struct worker *w, const char *node, int vmid, json_t *conf,
		     const struct strvec *keys, struct err *e)
{
	const struct desired *want = w->it->want;
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	size_t i, j;
	int ret;

	for (i = 0; i < want->keys.nr; i++) {
		const char *k = want->keys.v[i];
		bool wanted = !keys;

		for (j = 0; keys && j < keys->nr; j++)
			if (!strcmp(keys->v[j], k))
				wanted = true;
		if (!wanted || !strcmp(k, "tags") || !strcmp(k, "description"))
			continue;
		if (!strncmp(k, "net", 3) &&
		    !strstr(want->vals.v[i], "macaddr=") && conf_str(conf, k)) {
			/* keep the NIC's MAC: a new one changes a DHCP
			 * guest's address */
			struct strbuf v = STRBUF_INIT;

			strbuf_addf(&v, "%s%s", want->vals.v[i],
				    nic_mac(conf_str(conf, k)));
			pve_param(&p, k, v.buf);
			strbuf_release(&v);
			continue;
		}
		pve_param(&p, k, want->vals.v[i]);
	}
	for (i = 0; i < want->nr_disks; i++)
		if (!json_object_get(conf, want->disks[i].slot))
			pve_param(&p, want->disks[i].slot,
				  want->disks[i].value);
	if (add_cloudinit(w, conf, &p, e) < 0) {
		pve_params_release(&p);
		return -1;
	}
	if (w->it->def->cipassword_env) {
		const char *pw =
			env_get(w->sh->o->env, w->it->def->cipassword_env);

		if (pw)
			pve_param(&p, "cipassword", pw);
	} else if (w->it->def->cipassword && !keys) {
		/* clear text in the repository (validate warned) */
		pve_param(&p, "cipassword", w->it->def->cipassword);
	}
	pve_param(&p, "tags", VMDEF_MANAGED_TAG);
	/* a change made meanwhile by someone else fails the write */
	if (conf_str(conf, "digest"))
		pve_param(&p, "digest", conf_str(conf, "digest"));
	strbuf_addf(&path, "/nodes/%s/qemu/%d/config", node, vmid);
	ret = pve_call_ok(&w->pc, "PUT", path.buf, &p, e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

static int resize_disks(struct worker *w, const char *node, int vmid,
			json_t *conf, struct err *e)
{
	const struct desired *want = w->it->want;
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = 0;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/resize", node, vmid);
	for (i = 0; i < want->nr_disks && !ret; i++) {
		const struct desired_disk *d = &want->disks[i];
		const char *cur = conf_str(conf, d->slot);
		struct pve_params p = PVE_PARAMS_INIT;
		struct strbuf sz = STRBUF_INIT;

		if (d->kind != DISK_DISK || !d->size || !cur ||
		    plan_disk_size(cur) >= d->size)
			continue;
		pve_format_size(&sz, d->size);
		pve_param(&p, "disk", d->slot);
		pve_param(&p, "size", sz.buf);
		ret = call_wait(w, "PUT", path.buf, &p, PVE_RETRY_SAFE, e);
		if (!ret)
			say(w, "%s resized to %s", d->slot, sz.buf);
		pve_params_release(&p);
		strbuf_release(&sz);
	}
	strbuf_release(&path);
	return ret;
}

/* After the start task: until Proxmox reports the VM running. */
static int wait_running(struct worker *w, const char *node, int vmid,
			struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	int i, ret = -1;

	strbuf_addf(&path, "/nodes/%s/qemu/%d/status/current", node, vmid);
	for (i = 0; i < 300; i++) {
		json_t *st = NULL;
		const char *s;

		if (pve_call(&w->pc, "GET", path.buf, NULL, PVE_RETRY_SAFE, &st,
			     NULL, e) < 0)
			break;
		s = json_string_value(json_object_get(st, "status"));
		ret = s && !strcmp(s, "running") ? 0 : -1;
		json_decref(st);
		if (!ret)
			break;
		nanosleep(&(struct timespec){ 0, 200000000L }, NULL);
	}
	if (ret && !e->msg.len)
		err_set(e, EXIT_FAIL, "VM %d did not start running", vmid);
	strbuf_release(&path);
	return ret;
}

static struct pve_params *stop_params(struct pve_params *p)
{
	pve_param(p, "timeout", "60");
	pve_param(p, "forceStop", "1");
	return p;
}

static int set_power(struct worker *w, const char *node, int vmid,
		     bool running_now, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	bool want = w->it->def->vm_state == VM_STATE_RUNNING;
	struct strbuf path = STRBUF_INIT;
	int ret = 0;

	if (want == running_now)
		return 0;
	/* stopping asks the guest first, then forces it after 60 s */
	strbuf_addf(&path, "/nodes/%s/qemu/%d/status/%s", node, vmid,
		    want ? "start" : "shutdown");
	ret = call_wait(w, "POST", path.buf, want ? NULL : stop_params(&p),
			PVE_RETRY_SAFE, e);
	/* a retry after a lost answer finds the work done */
	if (ret && want && err_is(e, ERR_BADSTATE)) {
		err_release(e);
		ret = 0;
	}
	if (!ret && want)
		ret = wait_running(w, node, vmid, e);
	if (!ret)
		say(w, want ? "started" : "stopped");
	strbuf_release(&path);
	pve_params_release(&p);
	return ret;
}

/* Last: the digest tag and the real description (the marker goes). */
static int finish(struct worker *w, const char *node, int vmid, struct err *e)
{
	const struct desired *want = w->it->want;
	const char *descr = desired_get(want, "description");
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *conf = NULL;
	bool marked;
	int ret;

	if (read_config(w, node, vmid, &conf, e) < 0)
		return -1;
	marked = conf_str(conf, "description") &&
		 !strncmp(conf_str(conf, "description"), APPLY_MARKER,
			  strlen(APPLY_MARKER));
	json_decref(conf);
	pve_param(&p, "tags", desired_get(want, "tags"));
	if (descr)
		pve_param(&p, "description", descr);
	else if (marked) /* only our marker goes; a hand-made note stays */
		pve_param(&p, "delete", "description");
	strbuf_addf(&path, "/nodes/%s/qemu/%d/config", node, vmid);
	ret = pve_call_ok(&w->pc, "PUT", path.buf, &p, e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/*
 * Two applies that plan the same create both clone. Each checks, after
 * its clone and again before it writes the digest tag, for another VM of
 * that name: one that is finished (has a digest tag) wins; among ones in
 * progress the lowest vmid wins. The loser removes its own clone and says
 * so. The second check covers a rival whose clone came later but got a
 * lower vmid (vmids are reused), and one finished in between.
 */
static int check_race(struct worker *w, int vmid, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL, *o;
	bool finished = false;
	int rival = 0, ret = -1;
	size_t i, len;

	pve_param(&p, "type", "vm");
	if (pve_call(&w->pc, "GET", "/cluster/resources", &p, PVE_RETRY_SAFE,
		     &data, NULL, e) < 0)
		goto out;
	json_array_foreach(data, i, o)
	{
		const char *n = json_string_value(json_object_get(o, "name"));
		const char *tags =
			json_string_value(json_object_get(o, "tags"));
		int id = (int)json_integer_value(json_object_get(o, "vmid"));

		if (!n || strcmp(n, w->it->name) || id == vmid ||
		    json_integer_value(json_object_get(o, "template")) == 1)
			continue;
		if (tags && desired_find_digest(tags, &len)) {
			finished = true; /* done: it wins whatever its id */
			rival = id;
		} else if (!finished && id < vmid && (!rival || id < rival)) {
			rival = id;
		}
	}
	if (!rival) {
		ret = 0;
		goto out;
	}
	say(w, "another apply made it (vmid %d); removing vmid %d", rival,
	    vmid);
	pve_params_release(&p);
	strbuf_addf(&path, "/nodes/%s/qemu/%d/status/stop", w->it->node, vmid);
	if (wait_unlocked(w, w->it->node, vmid, e) < 0 ||
	    call_wait(w, "POST", path.buf, NULL, PVE_RETRY_SAFE, e) < 0)
		goto out;
	strbuf_reset(&path);
	strbuf_addf(&path, "/nodes/%s/qemu/%d", w->it->node, vmid);
	pve_param(&p, "purge", "1");
	pve_param(&p, "destroy-unreferenced-disks", "1");
	if (call_wait(w, "DELETE", path.buf, &p, PVE_RETRY_SAFE, e) == 0)
		err_set(e, EXIT_FAIL,
			"another apply is creating '%s' (vmid %d); this one "
			"removed its own clone (vmid %d) and left it to that one",
			w->it->name, rival, vmid);
out:
	json_decref(data);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/* A VM without a template (PXE or ISO installs): POST /nodes/N/qemu. */
static void empty_params(struct worker *w, int vmid, struct pve_params *p)
{
	const struct desired *want = w->it->want;
	size_t i;

	pve_paramf(p, "vmid", "%d", vmid);
	for (i = 0; i < want->keys.nr; i++)
		if (strcmp(want->keys.v[i], "tags") &&
		    strcmp(want->keys.v[i], "description"))
			pve_param(p, want->keys.v[i], want->vals.v[i]);
	for (i = 0; i < want->nr_disks; i++)
		pve_param(p, want->disks[i].slot, want->disks[i].value);
	pve_param(p, "description", APPLY_MARKER);
	pve_param(p, "tags", VMDEF_MANAGED_TAG);
}

static int create_empty(struct worker *w, int *vmid, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	int ret;

	strbuf_addf(&path, "/nodes/%s/qemu", w->it->node);
	ret = post_create(w, path.buf, "creating an empty VM", empty_params,
			  vmid, e);
	strbuf_release(&path);
	return ret;
}

static int do_create(struct worker *w, struct err *e)
{
	const struct plan_item *it = w->it;
	int vmid = it->vmid;
	json_t *conf = NULL;
	int ret = -1;

	if (!it->def->clone) {
		if (create_empty(w, &vmid, e) < 0 ||
		    check_race(w, vmid, e) < 0 ||
		    set_power(w, it->node, vmid, false, e) < 0 ||
		    finish(w, it->node, vmid, e) < 0)
			return -1;
		say(w, "created (vmid %d)", vmid);
		return 0;
	}
	if (clone_vm(w, &vmid, e) < 0 || check_race(w, vmid, e) < 0)
		return -1;
	say(w, "cloned (vmid %d)", vmid);
	if (read_config(w, it->node, vmid, &conf, e) < 0 ||
	    configure(w, it->node, vmid, conf, NULL, e) < 0)
		goto out;
	json_decref(conf);
	conf = NULL;
	say(w, "configured");
	if (read_config(w, it->node, vmid, &conf, e) < 0 ||
	    resize_disks(w, it->node, vmid, conf, e) < 0 ||
	    set_power(w, it->node, vmid, false, e) < 0 ||
	    check_race(w, vmid, e) < 0 || finish(w, it->node, vmid, e) < 0)
		goto out;
	say(w, "created (vmid %d)", vmid);
	ret = 0;
out:
	json_decref(conf);
	return ret;
}

static bool is_disk_slot(const struct desired *want, const char *key)
{
	size_t i;

	for (i = 0; i < want->nr_disks; i++)
		if (!strcmp(want->disks[i].slot, key))
			return true;
	return false;
}

static int do_update(struct worker *w, struct err *e)
{
	const struct plan_item *it = w->it;
	const struct actual_vm *have = it->have;
	struct strvec keys = STRVEC_INIT;
	json_t *conf = NULL;
	size_t i;
	int ret = -1;

	for (i = 0; i < it->nr_changes; i++) {
		const char *k = it->changes[i].key;

		if (strcmp(k, "state") && !is_disk_slot(it->want, k))
			strvec_push(&keys, k);
	}
	if (read_config(w, have->node, have->vmid, &conf, e) < 0 ||
	    configure(w, have->node, have->vmid, conf, &keys, e) < 0)
		goto out;
	json_decref(conf);
	conf = NULL;
	if (read_config(w, have->node, have->vmid, &conf, e) < 0 ||
	    resize_disks(w, have->node, have->vmid, conf, e) < 0 ||
	    set_power(w, have->node, have->vmid,
		      have->status && !strcmp(have->status, "running"),
		      e) < 0 ||
	    finish(w, have->node, have->vmid, e) < 0)
		goto out;
	say(w, it->needs_reboot ? "updated; needs a reboot to take effect"
				: "updated");
	ret = 0;
out:
	json_decref(conf);
	strvec_clear(&keys);
	return ret;
}

/* Whether the VM still exists (after a DELETE whose answer was lost). */
static int vm_exists(struct worker *w, int vmid, bool *exists, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	json_t *data = NULL, *o;
	size_t i;
	int r;

	*exists = false;
	pve_param(&p, "type", "vm");
	r = pve_call(&w->pc, "GET", "/cluster/resources", &p, PVE_RETRY_SAFE,
		     &data, NULL, e);
	json_array_foreach(data, i, o) if (json_integer_value(json_object_get(
						   o, "vmid")) ==
					   vmid) *exists = true;
	json_decref(data);
	pve_params_release(&p);
	return r;
}

/*
 * Destroy: check once more that the VM is the one planned (same name, ours,
 * not protected: things may have changed since the plan), stop it, delete
 * it. The DELETE is not blindly re-sent: after a lost answer the VM is
 * looked for, so a new VM that reused the id is never hit.
 */
static int do_destroy(struct worker *w, struct err *e)
{
	const struct actual_vm *have = w->it->have;
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *conf = NULL, *data = NULL;
	const char *name, *tags, *prot;
	long status = 0;
	bool exists;
	int ret = -1;

	/* our own workers must not reuse this id meanwhile */
	pthread_mutex_lock(&w->sh->mu);
	ALLOC_GROW(w->sh->reserved, st_add(w->sh->nr_reserved, 1),
		   w->sh->alloc_reserved);
	w->sh->reserved[w->sh->nr_reserved++] = have->vmid;
	pthread_mutex_unlock(&w->sh->mu);
	if (read_config(w, have->node, have->vmid, &conf, e) < 0)
		goto out;
	name = conf_str(conf, "name");
	tags = conf_str(conf, "tags");
	prot = conf_str(conf, "protection");
	if (!name || strcmp(name, w->it->name) || !tags ||
	    !strstr(tags, VMDEF_MANAGED_TAG) ||
	    json_integer_value(json_object_get(conf, "protection")) == 1 ||
	    (prot && !strcmp(prot, "1"))) {
		err_set(e, EXIT_FAIL,
			"VM %d changed since the plan (name, tags or "
			"protection); left alone",
			have->vmid);
		goto out;
	}
	if (have->status && !strcmp(have->status, "running")) {
		strbuf_addf(&path, "/nodes/%s/qemu/%d/status/stop", have->node,
			    have->vmid);
		if (call_wait(w, "POST", path.buf, NULL, PVE_RETRY_SAFE, e) < 0)
			goto out;
		say(w, "stopped");
	}
	strbuf_reset(&path);
	strbuf_addf(&path, "/nodes/%s/qemu/%d", have->node, have->vmid);
	pve_param(&p, "purge", "1");
	pve_param(&p, "destroy-unreferenced-disks", "1");
	if (pve_call(&w->pc, "DELETE", path.buf, &p, PVE_RETRY_NONE, &data,
		     &status, e) == 0) {
		ret = json_is_string(data)
			      ? pve_wait_task(&w->pc, json_string_value(data),
					      timeout_s(w), e)
			      : 0;
	} else if (status == 0 && vm_exists(w, have->vmid, &exists, e) == 0 &&
		   !exists) {
		err_release(e); /* the answer was lost; it is gone */
		ret = 0;
	}
	if (!ret)
		say(w, "destroyed (vmid %d)", have->vmid);
out:
	json_decref(conf);
	json_decref(data);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/* ---- workers ------------------------------------------------------------ */

static unsigned busy_on(const struct shared *sh, const char *node)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < sh->busy_nodes.nr; i++)
		if (!strcmp(sh->busy_nodes.v[i], node))
			n++;
	return n;
}

static void unbusy(struct shared *sh, const char *node)
{
	size_t i;

	for (i = 0; i < sh->busy_nodes.nr; i++)
		if (!strcmp(sh->busy_nodes.v[i], node)) {
			free((char *)sh->busy_nodes.v[i]);
			sh->busy_nodes.v[i] =
				sh->busy_nodes.v[--sh->busy_nodes.nr];
			sh->busy_nodes.v[sh->busy_nodes.nr] = NULL;
			return;
		}
}

/* The next item a worker may take, or NULL (set *done when none left). */
static const struct plan_item *take(struct shared *sh, struct worker *w,
				    bool *done)
{
	unsigned limit = sh->o->per_node ? sh->o->per_node : 1000000;
	size_t i;

	*done = !sh->left;
	for (i = 0; !*done && i < sh->plan->nr; i++) {
		const struct plan_item *it = &sh->plan->items[i];

		if (sh->taken[i] || !actionable(it) ||
		    busy_on(sh, it->node) >= limit)
			continue;
		sh->taken[i] = true;
		sh->left--;
		strvec_push(&sh->busy_nodes, it->node);
		clock_gettime(CLOCK_MONOTONIC,
			      &w->start); /* the ticker reads it */
		return it;
	}
	return NULL;
}

/* Record the failure of the item named name ("": of no item). */
static void apply_result_fail(struct apply_result *res, const char *name,
			      const struct err *e)
{
	if (*name)
		strvec_pushf(&res->errors, "%s: %s", name, e->msg.buf);
	else
		strvec_push(&res->errors, e->msg.buf);
	strvec_push(&res->names, name);
	ALLOC_GROW(res->kinds, res->names.nr, res->alloc_kinds);
	res->kinds[res->names.nr - 1] = e->kind;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;

	pthread_mutex_lock(&sh->mu);
	for (;;) {
		struct err e = ERR_INIT;
		bool done;
		int r;

		w->it = take(sh, w, &done);
		if (!w->it) {
			if (done)
				break;
			pthread_cond_wait(&sh->cv, &sh->mu);
			continue;
		}
		pthread_mutex_unlock(&sh->mu);
		if (w->it->op == PLAN_CREATE) {
			say(w, "creating...");
			r = do_create(w, &e);
		} else if (w->it->op == PLAN_UPDATE) {
			say(w, "updating...");
			r = do_update(w, &e);
		} else {
			say(w, "destroying...");
			r = do_destroy(w, &e);
		}
		pthread_mutex_lock(&sh->mu);
		unbusy(sh, w->it->node);
		if (r < 0) {
			sh->res->failed++;
			apply_result_fail(sh->res, w->it->name, &e);
		} else if (w->it->op == PLAN_CREATE) {
			sh->res->added++;
		} else if (w->it->op == PLAN_UPDATE) {
			sh->res->changed++;
		} else {
			sh->res->destroyed++;
		}
		err_release(&e);
		pthread_cond_broadcast(&sh->cv);
	}
	pthread_cond_broadcast(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/*
 * On a terminal: every 10 s, what each busy worker is at ("k8s-obs:
 * cloning ... [20s elapsed]"), so a long clone does not look stuck.
 */
static void *tick(void *arg)
{
	struct shared *sh = arg;
	struct timespec until;
	unsigned i;

	pthread_mutex_lock(&sh->mu);
	while (!sh->finished) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 10;
		pthread_cond_timedwait(&sh->cv, &sh->mu, &until);
		if (sh->finished)
			break;
		for (i = 0; i < sh->nr_workers; i++) {
			struct worker *w = &sh->workers[i];
			struct timespec now;

			clock_gettime(CLOCK_REALTIME, &now);
			if (!w->it || now.tv_sec < until.tv_sec)
				continue;
			fprintf(sh->o->progress, "%s: %s [%.0fs elapsed]\n",
				w->it->name, w->state, elapsed(&w->start));
		}
		fflush(sh->o->progress);
	}
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

int apply_plan(const struct plan *plan, const struct pve_conn *conn,
	       const struct apply_opts *o, struct apply_result *res)
{
	struct shared sh;
	struct worker *ws;
	pthread_t *th, ticker;
	bool ticking = false;
	unsigned n = o->parallel ? o->parallel : 4, i, started = 0;
	size_t k;

	memset(&sh, 0, sizeof(sh));
	memset(res, 0, sizeof(*res));
	strvec_init(&res->errors);
	strvec_init(&res->names);
	sh.plan = plan;
	sh.conn = conn;
	sh.o = o;
	sh.res = res;
	strvec_init(&sh.busy_nodes);
	pthread_mutex_init(&sh.mu, NULL);
	pthread_mutex_init(&sh.vmid_mu, NULL);
	pthread_cond_init(&sh.cv, NULL);
	sh.taken = xcalloc(plan->nr + 1, sizeof(*sh.taken));
	for (k = 0; k < plan->nr; k++)
		if (actionable(&plan->items[k]))
			sh.left++;
	if (n > sh.left)
		n = sh.left ? (unsigned)sh.left : 1;
	ws = xcalloc(n, sizeof(*ws));
	th = xcalloc(n, sizeof(*th));
	sh.workers = ws;
	sh.nr_workers = n;
	if (o->progress && isatty(fileno(o->progress)) &&
	    pthread_create(&ticker, NULL, tick, &sh) == 0)
		ticking = true;
	/* every worker's connection first: a login that fails stops the
	 * apply before it has started anything */
	for (i = 0; i < n; i++) {
		struct err e = ERR_INIT;

		ws[i].sh = &sh;
		if (pve_client_init(&ws[i].pc, conn, &e) < 0) {
			res->failed = (unsigned)sh.left;
			err_prefix(&e, "cannot connect");
			apply_result_fail(res, "", &e);
			err_release(&e);
			sh.left = 0;
			n = i + 1;
			break;
		}
		ws[i].ready = true;
	}
	for (i = 0; i < n && sh.left; i++) {
		if (pthread_create(&th[i], NULL, work, &ws[i]) == 0)
			started++;
		else
			break;
	}
	if (!started && sh.left)
		work(&ws[0]);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < n; i++)
		pve_client_release(&ws[i].pc);
	pthread_mutex_lock(&sh.mu);
	sh.finished = true;
	pthread_cond_broadcast(&sh.cv);
	pthread_mutex_unlock(&sh.mu);
	if (ticking)
		pthread_join(ticker, NULL);
	free(ws);
	free(th);
	free(sh.taken);
	free(sh.reserved);
	strvec_clear(&sh.busy_nodes);
	pthread_cond_destroy(&sh.cv);
	pthread_mutex_destroy(&sh.mu);
	pthread_mutex_destroy(&sh.vmid_mu);
	return res->failed ? -1 : 0;
}

void apply_result_release(struct apply_result *r)
{
	strvec_clear(&r->errors);
	strvec_clear(&r->names);
	free(r->kinds);
	r->kinds = NULL;
	r->alloc_kinds = 0;
}
