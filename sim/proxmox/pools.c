/*
 * pools.c - resource pools: /pools (list, create, update, delete, the
 * PVE 8.1+ forms with poolid as a parameter) and /pools/{poolid}; clones
 * join the pool named in their "pool" parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "pools.h"
#include "lxc.h"
#include "util/parse.h"
#include "util/xalloc.h"

static int vmid_text(const char *s)
{
	uint64_t v;

	return parse_u64z(&v, s, 100, 999999999) < 0 ? -1 : (int)v;
}

static struct sim_pool *find_pool(struct sim *s, const char *id)
{
	size_t i;

	for (i = 0; id && i < s->nr_pools; i++)
		if (!strcmp(s->pools[i].id, id))
			return &s->pools[i];
	return NULL;
}

struct sim_pool *need_pool(struct sim *s, const char *id, struct sim_resp *rs)
{
	struct sim_pool *p = find_pool(s, id);

	if (!p)
		resp_fail(rs, 500, "pool '%s' does not exist", id ? id : "");
	return p;
}

void pool_add_vm(struct sim *s, struct sim_pool *p, int vmid)
{
	sim_pool_forget(s, vmid);
	ALLOC_GROW(p->vmids, st_add(p->nr, 1), p->alloc);
	p->vmids[p->nr++] = vmid;
}

void h_pools_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *only = req_param(rq, "poolid");
	size_t i;

	rs->data = json_array();
	for (i = 0; i < s->nr_pools; i++)
		if (!only || !strcmp(only, s->pools[i].id))
			json_array_append_new(
				rs->data, json_pack("{s:s, s:s}", "poolid",
						    s->pools[i].id, "comment",
						    s->pools[i].comment));
}

void h_pool_create(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *id = req_param(rq, "poolid");
	const char *comment = req_param(rq, "comment");
	struct sim_pool *p;

	if (find_pool(s, id)) {
		resp_fail(rs, 500, "pool '%s' already exists", id);
		return;
	}
	ALLOC_GROW(s->pools, st_add(s->nr_pools, 1), s->alloc_pools);
	p = &s->pools[s->nr_pools++];
	memset(p, 0, sizeof(*p));
	p->id = xstrdup(id);
	p->comment = xstrdup(comment ? comment : "");
	rs->data = json_null();
}

void h_pool_get(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_pool *p = need_pool(s, req_param(rq, "poolid"), rs);
	json_t *members;
	size_t i;

	if (!p)
		return;
	members = json_array();
	for (i = 0; i < p->nr; i++) {
		struct sim_vm *vm = sim_vm(s, p->vmids[i]);
		json_t *o;

		if (!vm) {
			struct sim_ct *ct = sim_ct(s, p->vmids[i]);

			if (ct)
				json_array_append_new(members,
						      ct_resource(s, ct));
			continue;
		}
		o = vm_summary(vm);
		json_object_set_new(o, "id", json_sprintf("qemu/%d", vm->vmid));
		json_object_set_new(o, "type", json_string("qemu"));
		json_object_set_new(o, "node", json_string(vm->node));
		json_array_append_new(members, o);
	}
	rs->data = json_pack("{s:s, s:o}", "comment", p->comment, "members",
			     members);
}

void h_pool_update(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_pool *p = need_pool(s, req_param(rq, "poolid"), rs);
	const char *vms = req_param(rq, "vms");
	const char *comment = req_param(rq, "comment");
	bool del = param_true(rq, "delete");
	char *list, *tok, *save = NULL;

	if (!p)
		return;
	if (vms) {
		/* all or nothing: every guest must exist (the cluster's
		 * vmlist holds VMs and containers: API2/Pool.pm) */
		list = xstrdup(vms);
		for (tok = strtok_r(list, ",; ", &save); tok;
		     tok = strtok_r(NULL, ",; ", &save))
			if (!sim_vm(s, vmid_text(tok)) &&
			    !sim_ct(s, vmid_text(tok))) {
				resp_fail(rs, 500, "no such VMID '%s'", tok);
				free(list);
				return;
			}
		free(list);
		list = xstrdup(vms);
		save = NULL;
		for (tok = strtok_r(list, ",; ", &save); tok;
		     tok = strtok_r(NULL, ",; ", &save)) {
			if (del)
				sim_pool_forget(s, vmid_text(tok));
			else
				pool_add_vm(s, p, vmid_text(tok));
		}
		free(list);
	}
	if (comment) {
		free(p->comment);
		p->comment = xstrdup(comment);
	}
	rs->data = json_null();
}

void h_pool_delete(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_pool *p = need_pool(s, req_param(rq, "poolid"), rs);

	if (!p)
		return;
	if (p->nr) {
		resp_fail(rs, 500, "pool '%s' is not empty", p->id);
		return;
	}
	free(p->id);
	free(p->comment);
	free(p->vmids);
	*p = s->pools[--s->nr_pools];
	rs->data = json_null();
}
