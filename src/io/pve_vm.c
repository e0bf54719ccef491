/*
 * pve_vm.c - typed operations on one VM; see pve_vm.h.
 */
#include "io/pve_vm.h"

#include <stdlib.h>
#include <string.h>

#include "core/pve_format.h"
#include "util/backoff.h"
#include "util/exitcode.h"
#include "util/xalloc.h"

void pve_vm_path(struct strbuf *out, const char *node, int vmid,
		 const char *sub)
{
	strbuf_addstr(out, "/nodes/");
	strbuf_add_percent_encoded(out, node); /* a name from an answer */
	strbuf_addstr(out, "/qemu");
	if (vmid)
		strbuf_addf(out, "/%d", vmid);
	if (sub)
		strbuf_addf(out, "/%s", sub);
}

/* Call and, when the answer is a task id, wait for the task. */
static int call_wait(struct pve_client *pc, const char *method,
		     const char *path, const struct pve_params *p,
		     enum pve_retry retry, int timeout_s, long *status,
		     struct err *e)
{
	json_t *data = NULL;
	int ret = pve_call(pc, method, path, p, retry, &data, status, e);

	if (ret == 0 && json_is_string(data))
		ret = pve_wait_task(pc, json_string_value(data), timeout_s, e);
	json_decref(data);
	return ret;
}

static int vm_call(struct pve_client *pc, const char *method, const char *node,
		   int vmid, const char *sub, const struct pve_params *p,
		   json_t **out, struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL;
	int r;

	pve_vm_path(&path, node, vmid, sub);
	r = pve_call(pc, method, path.buf, p, PVE_RETRY_SAFE, &data, NULL, e);
	strbuf_release(&path);
	if (out)
		*out = data;
	else
		json_decref(data);
	return r;
}

int pve_vm_config_get(struct pve_client *pc, const char *node, int vmid,
		      json_t **conf, struct err *e)
{
	return vm_call(pc, "GET", node, vmid, "config", NULL, conf, e);
}

int pve_vm_config_set(struct pve_client *pc, const char *node, int vmid,
		      const struct pve_params *p, struct err *e)
{
	return vm_call(pc, "PUT", node, vmid, "config", p, NULL, e);
}

int pve_vm_status(struct pve_client *pc, const char *node, int vmid,
		  json_t **st, struct err *e)
{
	struct strbuf path = STRBUF_INIT;

	if (vm_call(pc, "GET", node, vmid, "status/current", NULL, st, e) < 0)
		return -1;
	if (json_is_string(json_object_get(*st, "status")))
		return 0;
	/* without it a caller would poll "not running yet" until its
	 * deadline and then guess */
	pve_vm_path(&path, node, vmid, "status/current");
	err_set(e, EXIT_FAIL, "GET %s: the answer holds no VM status (%s)",
		path.buf,
		json_is_object(*st) ? "data without status" : "no data object");
	strbuf_release(&path);
	json_decref(*st);
	*st = NULL;
	return -1;
}

int pve_vm_create(struct pve_client *pc, const char *node, int vmid,
		  const struct pve_params *p, char **task, long *status,
		  struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	json_t *data = NULL;
	int ret;

	*task = NULL;
	pve_vm_path(&path, node, vmid, vmid ? "clone" : NULL);
	ret = pve_call(pc, "POST", path.buf, p, PVE_RETRY_NONE, &data, status,
		       e);
	if (ret == 0 && json_is_string(data))
		*task = xstrdup(json_string_value(data));
	json_decref(data);
	strbuf_release(&path);
	return ret;
}

int pve_vm_resize(struct pve_client *pc, const char *node, int vmid,
		  const char *slot, const char *size, int timeout_s,
		  struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	int ret;

	pve_vm_path(&path, node, vmid, "resize");
	pve_param(&p, "disk", slot);
	pve_param(&p, "size", size);
	ret = call_wait(pc, "PUT", path.buf, &p, PVE_RETRY_SAFE, timeout_s,
			NULL, e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

int pve_vm_move_disk(struct pve_client *pc, const char *node, int vmid,
		     const char *slot, const char *storage, const char *format,
		     bool del, int timeout_s, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	int ret;

	pve_vm_path(&path, node, vmid, "move_disk");
	pve_param(&p, "disk", slot);
	pve_param(&p, "storage", storage);
	if (format)
		pve_param(&p, "format", format);
	if (del)
		pve_param(&p, "delete", "1");
	ret = call_wait(pc, "POST", path.buf, &p, PVE_RETRY_NONE, timeout_s,
			NULL, e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

/*
 * The qmigrate task the HA stack's LRM starts on node for vmid once the CRM
 * takes up a hamigrate that started at `since` (Unix time): its UPID into
 * upid, polled until it is listed or timeout_s passes.
 */
static int ha_migration_task(struct pve_client *pc, const char *node, int vmid,
			     unsigned long since, int timeout_s,
			     struct strbuf *upid, struct err *e)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_s * 1000;
	struct strbuf path = STRBUF_INIT;
	long delay = 200;
	int ret = -1;

	strbuf_addstr(&path, "/nodes/");
	strbuf_add_percent_encoded(&path, node);
	strbuf_addstr(&path, "/tasks");
	for (;;) {
		struct pve_params p = PVE_PARAMS_INIT;
		json_t *list = NULL, *t;
		const char *u;
		size_t i;

		pve_paramf(&p, "vmid", "%d", vmid);
		pve_param(&p, "typefilter", "qmigrate");
		pve_param(&p, "source", "all");
		pve_paramf(&p, "since", "%lu", since);
		ret = pve_call(pc, "GET", path.buf, &p, PVE_RETRY_SAFE, &list,
			       NULL, e);
		pve_params_release(&p);
		if (ret == 0 && !json_is_array(list))
			ret = err_set(e, EXIT_FAIL,
				      "GET %s: the answer holds no list of "
				      "tasks",
				      path.buf);
		/* newest first: the last listed is the first after since */
		for (i = json_array_size(list); ret == 0 && i-- > 0;) {
			t = json_array_get(list, i);
			u = json_string_value(json_object_get(t, "upid"));
			if (u && !upid->len)
				strbuf_addstr(upid, u);
		}
		json_decref(list);
		if (ret < 0 || upid->len)
			break;
		if (mono_ms() + (uint64_t)delay > deadline) {
			ret = err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
				       "the HA stack has not started migrating "
				       "VM %d within %d s of its hamigrate "
				       "task (see ha-manager status)",
				       vmid, timeout_s);
			break;
		}
		sleep_ms(delay);
		delay = delay * 3 / 2 > 2000 ? 2000 : delay * 3 / 2;
	}
	strbuf_release(&path);
	return ret;
}

int pve_vm_migrate(struct pve_client *pc, const char *node, int vmid,
		   const char *target, bool online, bool with_local,
		   const char *targetstorage, int timeout_s, bool *by_ha,
		   struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT, type = STRBUF_INIT,
		      start = STRBUF_INIT, crm = STRBUF_INIT;
	uint64_t t0 = mono_ms();
	json_t *data = NULL;
	const char *upid;
	int ret, left;

	*by_ha = false;
	pve_vm_path(&path, node, vmid, "migrate");
	pve_param(&p, "target", target);
	if (online)
		pve_param(&p, "online", "1");
	if (with_local)
		pve_param(&p, "with-local-disks", "1");
	if (targetstorage)
		pve_param(&p, "targetstorage", targetstorage);
	ret = pve_call(pc, "POST", path.buf, &p, PVE_RETRY_NONE, &data, NULL,
		       e);
	upid = json_string_value(data);
	if (ret == 0 && upid)
		ret = pve_wait_task(pc, upid, timeout_s, e);
	/* an HA-managed VM: the task only asked the HA stack, whose own
	 * qmigrate follows (qemu-server's migrate_vm, pve-ha-manager's
	 * PVEVM.pm migrate) */
	if (ret == 0 && upid && pve_upid_field(&type, upid, 4) == 0 &&
	    !strcmp(type.buf, "hamigrate") &&
	    pve_upid_field(&start, upid, 3) == 0) {
		*by_ha = true;
		left = timeout_s - (int)((mono_ms() - t0) / 1000);
		ret = ha_migration_task(pc, node, vmid,
					strtoul(start.buf, NULL, 16),
					left > 1 ? left : 1, &crm, e);
		left = timeout_s - (int)((mono_ms() - t0) / 1000);
		if (ret == 0)
			ret = pve_wait_task(pc, crm.buf, left > 1 ? left : 1,
					    e);
		if (ret < 0 && crm.len)
			err_prefix(e, "the HA stack's migration");
	}
	json_decref(data);
	pve_params_release(&p);
	strbuf_release(&path);
	strbuf_release(&type);
	strbuf_release(&start);
	strbuf_release(&crm);
	return ret;
}

bool pve_vm_task_running(const json_t *task)
{
	const char *st = json_string_value(json_object_get(task, "status"));

	/* pve-manager's API2/Tasks.pm lists an active task with status
	 * "RUNNING"; a finished one not yet archived has its end */
	return json_is_object(task) && !json_object_get(task, "endtime") &&
	       (!json_object_get(task, "status") ||
		(st && !strcmp(st, "RUNNING")));
}

int pve_vm_tasks_running(struct pve_client *pc, const char *node, int vmid,
			 const char *type, int *running, struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	json_t *list = NULL, *t;
	size_t i;
	int ret;

	*running = 0;
	strbuf_addstr(&path, "/nodes/");
	strbuf_add_percent_encoded(&path, node);
	strbuf_addstr(&path, "/tasks");
	pve_paramf(&p, "vmid", "%d", vmid);
	pve_param(&p, "typefilter", type);
	pve_param(&p, "source", "active");
	ret = pve_call(pc, "GET", path.buf, &p, PVE_RETRY_SAFE, &list, NULL, e);
	if (ret == 0 && !json_is_array(list))
		ret = err_set(e, EXIT_FAIL,
			      "GET %s: the answer holds no list of tasks",
			      path.buf);
	json_array_foreach(list, i, t)
	{
		if (ret == 0 && pve_vm_task_running(t))
			(*running)++;
	}
	json_decref(list);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

int pve_vm_cloudinit(struct pve_client *pc, const char *node, int vmid,
		     json_t **out, struct err *e)
{
	struct strbuf path = STRBUF_INIT;

	if (vm_call(pc, "GET", node, vmid, "cloudinit", NULL, out, e) < 0)
		return -1;
	if (json_is_array(*out))
		return 0;
	pve_vm_path(&path, node, vmid, "cloudinit");
	err_set(e, EXIT_FAIL, "GET %s: the answer holds no list of settings",
		path.buf);
	strbuf_release(&path);
	json_decref(*out);
	*out = NULL;
	return -1;
}

int pve_vm_pending(struct pve_client *pc, const char *node, int vmid,
		   json_t **out, struct err *e)
{
	struct strbuf path = STRBUF_INIT;

	if (vm_call(pc, "GET", node, vmid, "pending", NULL, out, e) < 0)
		return -1;
	if (json_is_array(*out))
		return 0;
	pve_vm_path(&path, node, vmid, "pending");
	err_set(e, EXIT_FAIL, "GET %s: the answer holds no list of changes",
		path.buf);
	strbuf_release(&path);
	json_decref(*out);
	*out = NULL;
	return -1;
}

int pve_vm_power(struct pve_client *pc, const char *node, int vmid,
		 const char *action, const struct pve_params *p, int timeout_s,
		 struct err *e)
{
	struct strbuf path = STRBUF_INIT, sub = STRBUF_INIT;
	int ret;

	strbuf_addf(&sub, "status/%s", action);
	pve_vm_path(&path, node, vmid, sub.buf);
	ret = call_wait(pc, "POST", path.buf, p, PVE_RETRY_SAFE, timeout_s,
			NULL, e);
	strbuf_release(&path);
	strbuf_release(&sub);
	return ret;
}

int pve_vm_delete(struct pve_client *pc, const char *node, int vmid,
		  enum pve_retry retry, int timeout_s, long *status,
		  struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	struct strbuf path = STRBUF_INIT;
	int ret;

	pve_vm_path(&path, node, vmid, NULL);
	pve_param(&p, "purge", "1");
	pve_param(&p, "destroy-unreferenced-disks", "1");
	ret = call_wait(pc, "DELETE", path.buf, &p, retry, timeout_s, status,
			e);
	pve_params_release(&p);
	strbuf_release(&path);
	return ret;
}

int pve_next_vmid(struct pve_client *pc, int want, int *out, long *status,
		  struct err *e)
{
	struct pve_params p = PVE_PARAMS_INIT;
	json_t *data = NULL;
	long n;
	int ret;

	if (want)
		pve_paramf(&p, "vmid", "%d", want);
	ret = pve_call(pc, "GET", "/cluster/nextid", &p, PVE_RETRY_SAFE, &data,
		       status, e);
	pve_params_release(&p);
	if (ret == 0 && !want) {
		n = json_is_string(data)
			    ? strtol(json_string_value(data), NULL, 10)
			    : (long)json_integer_value(data);
		if (n < 100 || n > 999999999)
			ret = err_set(e, EXIT_FAIL,
				      "GET /cluster/nextid: no usable id");
		else
			*out = (int)n;
	} else if (ret == 0) {
		*out = want;
	}
	json_decref(data);
	return ret;
}
