/*
 * ha.c - /cluster/ha/resources and /cluster/ha/groups as pve-ha-manager's
 * src/PVE/API2/HA/Resources.pm and PVE/HA/Config.pm answer them: a
 * resource is its sid ("vm:100", "ct:200"; a bare guest id is looked up)
 * and the options given, nothing filled in (the read answers the section
 * as written). Proxmox VE 9 has migrated HA groups to rules once none are
 * left, so the group list is empty and "group" is refused, as a node with
 * no groups answers. The CRM is not simulated: a resource's state is what
 * was asked.
 */
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha.h"
#include "handlers.h"
#include "util/parse.h"
#include "util/xalloc.h"

static const char *const ha_opts[] = { "state",	      "failback",
				       "max_restart", "max_relocate",
				       "comment",     NULL };

static struct sim_ha_resource *ha_find(const struct sim *s, const char *sid)
{
	size_t i;

	for (i = 0; i < s->nr_ha; i++)
		if (!strcmp(s->ha[i].sid, sid))
			return &s->ha[i];
	return NULL;
}

/* vm_is_ha_managed's test on one sid: there, and not "ignored" */
static bool ha_sid_managed(const struct sim *s, const char *sid)
{
	struct sim_ha_resource *r = ha_find(s, sid);
	const char *state = r ? kv_get(&r->opts, "state") : NULL;

	return r && !(state && !strcmp(state, "ignored"));
}

bool ha_vm_managed(const struct sim *s, int vmid)
{
	char sid[32];

	snprintf(sid, sizeof(sid), "vm:%d", vmid);
	return ha_sid_managed(s, sid);
}

bool ha_vm_configured(const struct sim *s, int vmid)
{
	char sid[32];

	snprintf(sid, sizeof(sid), "vm:%d", vmid);
	return ha_find(s, sid) != NULL;
}

/* get_service_status of "TYPE:VMID" */
static json_t *ha_status(const struct sim *s, const char *type, int vmid)
{
	char sid[32];
	const char *state;

	snprintf(sid, sizeof(sid), "%s:%d", type, vmid);
	if (!ha_sid_managed(s, sid))
		return json_pack("{s:i}", "managed", 0);
	state = kv_get(&ha_find(s, sid)->opts, "state");
	if (!state || !strcmp(state, "enabled"))
		state = "started";
	return json_pack("{s:i, s:s}", "managed", 1, "state", state);
}

json_t *ha_vm_status(const struct sim *s, int vmid)
{
	return ha_status(s, "vm", vmid);
}

json_t *ha_ct_status(const struct sim *s, int vmid)
{
	return ha_status(s, "ct", vmid);
}

/*
 * HA::Config's parse_sid into out: "100" is the VM 100's "vm:100" or the
 * container 100's "ct:100" (or "unable to detect SID..."), "TYPE:NAME" is
 * taken as it is.
 */
static int parse_sid(struct sim *s, const char *sid, struct strbuf *out,
		     struct sim_resp *rs)
{
	uint64_t id;
	const char *colon = strchr(sid, ':');

	if (parse_u64z(&id, sid, 0, 999999999) == 0) {
		if (!sim_vm(s, (int)id) && !sim_ct(s, (int)id)) {
			resp_fail(rs, 500,
				  "unable to detect SID from VMID - VM/CT %s "
				  "does not exist",
				  sid);
			return -1;
		}
		strbuf_addf(out, "%s:%s", sim_vm(s, (int)id) ? "vm" : "ct",
			    sid);
		return 0;
	}
	if (!colon || colon == sid || !colon[1] || strpbrk(sid, " \t\n")) {
		resp_fail(rs, 500, "unable to parse service id '%s'", sid);
		return -1;
	}
	strbuf_addstr(out, sid);
	return 0;
}

/* The digest of resources.cfg: SHA-1 of the sections as written. */
static void ha_digest(const struct sim *s, char out[41])
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char md[20];
	size_t i, j;

	for (i = 0; i < s->nr_ha; i++) {
		strbuf_addf(&sb, "%s\n", s->ha[i].sid);
		for (j = 0; j < s->ha[i].opts.nr; j++)
			strbuf_addf(&sb, "\t%s %s\n", s->ha[i].opts.v[j].key,
				    s->ha[i].opts.v[j].val);
		strbuf_addch(&sb, '\n');
	}
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, sb.buf, sb.len, md) < 0)
		memset(md, 0, sizeof(md));
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	strbuf_release(&sb);
}

/* One resource as the API copies it: options, sid, type and digest. */
static json_t *ha_json(const struct sim *s, const struct sim_ha_resource *r)
{
	json_t *o = json_object();
	char digest[41], type[16];
	size_t i, n = strcspn(r->sid, ":");

	for (i = 0; i < r->opts.nr; i++) {
		const char *k = r->opts.v[i].key, *v = r->opts.v[i].val;
		uint64_t num;

		if (strcmp(k, "comment") && strcmp(k, "state") &&
		    parse_u64z(&num, v, 0, UINT32_MAX) == 0)
			json_object_set_new(o, k,
					    json_integer((json_int_t)num));
		else
			json_object_set_new(o, k, json_string(v));
	}
	snprintf(type, sizeof(type), "%.*s", (int)(n < 15 ? n : 15), r->sid);
	ha_digest(s, digest);
	json_object_set_new(o, "sid", json_string(r->sid));
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "digest", json_string(digest));
	return o;
}

void h_ha_list(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");
	size_t i, n = type ? strlen(type) : 0;

	rs->data = json_array();
	for (i = 0; i < s->nr_ha; i++)
		if (!type ||
		    (!strncmp(s->ha[i].sid, type, n) && s->ha[i].sid[n] == ':'))
			json_array_append_new(rs->data, ha_json(s, &s->ha[i]));
}

void h_ha_groups(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	(void)s;
	(void)rq;
	rs->data = json_array();
}

/* The checks create and update share: sid, type, group. */
static int ha_target(struct sim *s, struct sim_req *rq, struct strbuf *sid,
		     struct sim_resp *rs)
{
	const char *type = req_param(rq, "type");

	if (parse_sid(s, req_param(rq, "sid"), sid, rs) < 0)
		return -1;
	if (type && (strncmp(sid->buf, type, strlen(type)) ||
		     sid->buf[strlen(type)] != ':')) {
		resp_fail(rs, 500, "types does not match");
		return -1;
	}
	if (req_param(rq, "group")) {
		resp_fail(rs, 500,
			  "invalid parameter 'group': ha groups have been "
			  "migrated to rules");
		return -1;
	}
	return 0;
}

static void ha_set_opts(struct sim_ha_resource *r, const struct sim_req *rq)
{
	size_t i;

	for (i = 0; ha_opts[i]; i++)
		if (req_param(rq, ha_opts[i]))
			kv_set(&r->opts, ha_opts[i], req_param(rq, ha_opts[i]));
}

void h_ha_create(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct strbuf sid = STRBUF_INIT;
	struct sim_ha_resource *r;
	uint64_t id;
	const char *name;
	bool ct;

	if (ha_target(s, rq, &sid, rs) < 0)
		goto out;
	name = strchr(sid.buf, ':') + 1;
	if (strncmp(sid.buf, "vm:", 3) && strncmp(sid.buf, "ct:", 3)) {
		resp_fail(rs, 500, "no such resource type '%.*s'",
			  (int)(name - sid.buf - 1), sid.buf);
		goto out;
	}
	ct = !strncmp(sid.buf, "ct:", 3);
	if (parse_u64z(&id, name, 100, 999999999) < 0) {
		resp_fail(rs, 500, "invalid VMID");
		goto out;
	}
	/* exists() of HA/Resources/PVEVM.pm and PVECT.pm */
	if (!sim_vm(s, (int)id) && !sim_ct(s, (int)id)) {
		resp_fail(rs, 500, "resource '%s' does not exist in cluster",
			  sid.buf);
		goto out;
	}
	if (ct != !!sim_ct(s, (int)id)) {
		resp_fail(rs, 500,
			  "resource '%s' - guest with ID %s is not a %s",
			  sid.buf, name, ct ? "container" : "VM");
		goto out;
	}
	if (ha_find(s, sid.buf)) {
		resp_fail(rs, 500, "resource ID '%s' already defined", sid.buf);
		goto out;
	}
	ALLOC_GROW(s->ha, st_add(s->nr_ha, 1), s->alloc_ha);
	r = &s->ha[s->nr_ha++];
	memset(r, 0, sizeof(*r));
	r->sid = strbuf_detach(&sid, NULL);
	ha_set_opts(r, rq);
	rs->data = json_null();
out:
	strbuf_release(&sid);
}

/* The resource of the path, or NULL with Proxmox's error set. */
static struct sim_ha_resource *need_ha(struct sim *s, struct sim_req *rq,
				       struct sim_resp *rs)
{
	struct strbuf sid = STRBUF_INIT;
	struct sim_ha_resource *r = NULL;

	if (parse_sid(s, req_param(rq, "sid"), &sid, rs) == 0 &&
	    !(r = ha_find(s, sid.buf)))
		resp_fail(rs, 500, "no such resource '%s'", sid.buf);
	strbuf_release(&sid);
	return r;
}

void h_ha_get(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct sim_ha_resource *r = need_ha(s, rq, rs);

	if (r)
		rs->data = ha_json(s, r);
}

/* update_single_resource_config_inplace's "delete": optional keys only. */
static int ha_delete_keys(struct sim_ha_resource *r, const char *list,
			  struct sim_resp *rs)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	int ret = 0;
	size_t i;

	for (tok = strtok_r(copy, ",; \t", &save); tok && !ret;
	     tok = strtok_r(NULL, ",; \t", &save)) {
		for (i = 0; ha_opts[i] && strcmp(ha_opts[i], tok); i++)
			;
		if (!ha_opts[i]) {
			resp_fail(rs, 500, "no such option '%s'", tok);
			ret = -1;
		}
	}
	free(copy);
	if (ret < 0)
		return -1;
	copy = xstrdup(list);
	for (tok = strtok_r(copy, ",; \t", &save); tok;
	     tok = strtok_r(NULL, ",; \t", &save))
		kv_del(&r->opts, tok);
	free(copy);
	return 0;
}

void h_ha_update(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	const char *digest = req_param(rq, "digest");
	const char *del = req_param(rq, "delete");
	struct strbuf sid = STRBUF_INIT;
	struct sim_ha_resource *r;
	char cur[41];

	if (ha_target(s, rq, &sid, rs) < 0)
		goto out;
	ha_digest(s, cur);
	if (digest && strcmp(digest, cur)) {
		resp_fail(rs, 500,
			  "detected modified configuration - file changed by "
			  "other user? Try again.");
		goto out;
	}
	if (!(r = ha_find(s, sid.buf))) {
		resp_fail(rs, 500, "no such resource '%s'", sid.buf);
		goto out;
	}
	if (del && ha_delete_keys(r, del, rs) < 0)
		goto out;
	ha_set_opts(r, rq);
	rs->data = json_null();
out:
	strbuf_release(&sid);
}

void h_ha_delete(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	struct strbuf sid = STRBUF_INIT;
	struct sim_ha_resource *r;

	if (parse_sid(s, req_param(rq, "sid"), &sid, rs) < 0)
		goto out;
	if (!(r = ha_find(s, sid.buf))) {
		resp_fail(rs, 500,
			  "cannot delete service '%s', not HA managed!",
			  sid.buf);
		goto out;
	}
	free(r->sid);
	kv_clear(&r->opts);
	memmove(r, r + 1, (s->nr_ha - (size_t)(r - s->ha) - 1) * sizeof(*r));
	s->nr_ha--;
	rs->data = json_null();
out:
	strbuf_release(&sid);
}
