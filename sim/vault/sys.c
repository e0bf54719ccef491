/*
 * sys.c - the sys/ endpoints a KV client uses: health and seal-status
 * (no token needed), mounts, internal/ui/mounts (the CLI's KV version
 * pre-flight), and auth/token/lookup-self (hvac's is_authenticated()).
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "jsonval.h"
#include "util/parse.h"

/* What sys/health and seal-status report as the server version. */
#define SIM_VAULT_VERSION "1.15.6+vault-sim"

static json_t *mount_entry(const struct kv_mount *m, bool with_path)
{
	json_t *e = json_pack(
		"{s:s, s:{s:i, s:b, s:i}, s:s, s:s, s:b, s:b, s:o, s:s, s:s, "
		"s:s, s:b, s:s, s:s}",
		"accessor", m->accessor, "config", "default_lease_ttl", 0,
		"force_no_cache", 0, "max_lease_ttl", 0, "deprecation_status",
		"supported", "description", "key/value secret storage",
		"external_entropy_access", 0, "local", 0, "options",
		m->version == 2 ? json_pack("{s:s}", "version", "2")
				: json_null(),
		"plugin_version", "", "running_plugin_version",
		"v0.16.1+builtin", "running_sha256", "", "seal_wrap", 0, "type",
		"kv", "uuid", m->uuid);
	struct strbuf path = STRBUF_INIT;

	if (with_path) {
		strbuf_addf(&path, "%s/", m->name);
		json_object_set_new(e, "path", json_string(path.buf));
		strbuf_release(&path);
	}
	return e;
}

/*
 * A sys/ answer: the envelope, and (Vault's HTTPSysInjector) every key of
 * data copied to the top level too.
 */
static void resp_sys(struct vresp *rs, json_t *data)
{
	json_t *val;
	const char *k;

	resp_data(rs, 200, data, NULL);
	json_object_set_new(rs->body, "mount_type", json_string("system"));
	json_object_foreach(data, k, val)
	{
		if (!json_object_get(rs->body, k))
			json_object_set(rs->body, k, val);
	}
}

static void sys_mounts(struct vault *v, struct vresp *rs)
{
	json_t *data = json_object(), *sorted;
	struct strbuf key = STRBUF_INIT;
	size_t i;

	for (i = 0; i < v->nr_m; i++) {
		strbuf_reset(&key);
		strbuf_addf(&key, "%s/", v->m[i].name);
		json_object_set_new(data, key.buf,
				    mount_entry(&v->m[i], false));
	}
	strbuf_release(&key);
	sorted = jsonval_sorted(data);
	json_decref(data);
	resp_sys(rs, sorted);
}

/* GET sys/internal/ui/mounts: the secret mounts by path, no auth ones. */
static void ui_mounts_list(struct vault *v, struct vresp *rs)
{
	json_t *secret = json_object(), *sorted;
	struct strbuf key = STRBUF_INIT;
	size_t i;

	for (i = 0; i < v->nr_m; i++) {
		strbuf_reset(&key);
		strbuf_addf(&key, "%s/", v->m[i].name);
		json_object_set_new(secret, key.buf,
				    mount_entry(&v->m[i], false));
	}
	strbuf_release(&key);
	sorted = jsonval_sorted(secret);
	json_decref(secret);
	resp_sys(rs, json_pack("{s:{}, s:o}", "auth", "secret", sorted));
}

/*
 * GET sys/internal/ui/mounts/<path>: the mount holding path. For a path
 * under no mount Vault answers 403, so that mounts cannot be probed.
 */
static void ui_mounts_one(struct vault *v, const char *path, struct vresp *rs)
{
	struct kv_mount *m;
	const char *rest;
	struct strbuf msg = STRBUF_INIT;
	json_t *entry, *sorted;

	while (*path == '/')
		path++;
	m = vault_find_mount(v, path, &rest);
	if (!m) {
		strbuf_addf(&msg,
			    "preflight capability check returned 403, please "
			    "ensure client's policies grant access to path "
			    "\"%s%s\"",
			    path,
			    *path && path[strlen(path) - 1] == '/' ? "" : "/");
		resp_error(rs, 403, msg.buf);
		strbuf_release(&msg);
		return;
	}
	entry = mount_entry(m, true);
	sorted = jsonval_sorted(entry);
	json_decref(entry);
	resp_sys(rs, sorted);
}

void sys_handle(struct vault *v, const char *rest, const struct vreq *rq,
		struct vresp *rs)
{
	const char *p = rest;
	bool read = rq->op == OP_READ;

	if (!strcmp(p, "mounts")) {
		if (read)
			sys_mounts(v, rs);
		else
			resp_unsupported(rs);
	} else if (!strcmp(p, "internal/ui/mounts")) {
		if (read)
			ui_mounts_list(v, rs);
		else
			resp_unsupported(rs);
	} else if (!strncmp(p, "internal/ui/mounts/", 19)) {
		if (read)
			ui_mounts_one(v, p + 19, rs);
		else
			resp_unsupported(rs);
	} else {
		resp_error(rs, 404,
			   "1 error occurred:\n\t* unsupported path\n\n");
	}
}

void sys_lookup_self(struct vault *v, const struct vreq *rq, struct vresp *rs)
{
	json_t *data = json_pack(
		"{s:s, s:I, s:i, s:s, s:s, s:n, s:i, s:s, s:n, s:i, s:b, "
		"s:s, s:[s], s:i, s:s}",
		"accessor", v->token_accessor, "creation_time",
		(json_int_t)(v->started / 1000000000), "creation_ttl", 0,
		"display_name", "root", "entity_id", "", "expire_time",
		"explicit_max_ttl", 0, "id", rq->token, "meta", "num_uses", 0,
		"orphan", 1, "path", "auth/token/root", "policies", "root",
		"ttl", 0, "type", "service");

	resp_data(rs, 200, data, NULL);
	json_object_set_new(rs->body, "mount_type", json_string("token"));
}

/* ---- without a token -------------------------------------------------- */

static json_t *health_json(const struct vault *v)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:s, s:s, s:I, s:s, s:b, s:s, "
			 "s:s, s:i, s:i}",
			 "initialized", 1, "sealed", 0, "standby", 0,
			 "performance_standby", 0,
			 "replication_performance_mode", "disabled",
			 "replication_dr_mode", "disabled", "server_time_utc",
			 (json_int_t)(time_now() / 1000000000), "version",
			 SIM_VAULT_VERSION, "enterprise", 0, "cluster_name",
			 v->cluster_name, "cluster_id", v->cluster_id,
			 "echo_duration_ms", 0, "clock_skew_ms", 0);
}

static json_t *seal_status_json(const struct vault *v)
{
	return json_pack("{s:s, s:b, s:b, s:i, s:i, s:i, s:s, s:s, s:s, s:b, "
			 "s:s, s:s, s:b, s:s}",
			 "type", "shamir", "initialized", 1, "sealed", 0, "t",
			 1, "n", 1, "progress", 0, "nonce", "", "version",
			 SIM_VAULT_VERSION, "build_date",
			 "2024-01-01T00:00:00Z", "migration", 0, "cluster_name",
			 v->cluster_name, "cluster_id", v->cluster_id,
			 "recovery_seal", 0, "storage_type", "inmem");
}

bool sys_unauthenticated(struct vault *v, const char *path, const char *method,
			 const char *(*query)(void *ctx, const char *name),
			 void *ctx, struct vresp *rs)
{
	bool head = !strcmp(method, "HEAD");
	const char *code;
	uint64_t n;

	if (strcmp(path, "sys/health") && strcmp(path, "sys/seal-status"))
		return false;
	if (strcmp(method, "GET") && !(head && !strcmp(path, "sys/health"))) {
		resp_error(rs, 405, NULL);
		return true;
	}
	rs->status = 200;
	if (!strcmp(path, "sys/seal-status")) {
		rs->body = seal_status_json(v);
		return true;
	}
	/* ?activecode=N: the status an active, unsealed node answers with */
	code = query(ctx, "activecode");
	if (code && parse_u64z(&n, code, 100, 599) == 0)
		rs->status = (unsigned)n;
	rs->body = head ? NULL : health_json(v);
	return true;
}
