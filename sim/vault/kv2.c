/*
 * kv2.c - a KV version 2 mount: data/ (read, write with check-and-set,
 * merge patch, soft delete), metadata/ (read, write, patch, delete, list),
 * delete/, undelete/, destroy/ and config, with the status codes, bodies
 * and error texts of Vault's KV plugin (vault-plugin-secrets-kv), and its
 * answer to any other path (404 with a warning naming the CLI command).
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "jsonval.h"
#include "util/backoff.h"
#include "util/xalloc.h"

#define MAX_CUSTOM_KEYS	     64
#define MAX_CUSTOM_KEY_LEN   128
#define MAX_CUSTOM_VALUE_LEN 512
#define CUSTOM_PREFIX	     "custom_metadata validation failed"

static json_t *time_json(int64_t ns)
{
	char buf[48];

	time_format(buf, sizeof(buf), ns);
	return json_string(buf);
}

static json_t *custom_json(const struct kv_secret *s)
{
	return s->custom ? json_deep_copy(s->custom) : json_null();
}

/* What a write, a patch and a read report about one version. */
static json_t *version_meta(const struct kv_secret *s,
			    const struct kv_version *ver)
{
	return json_pack("{s:o, s:o, s:o, s:b, s:I}", "created_time",
			 time_json(ver->created), "custom_metadata",
			 custom_json(s), "deletion_time",
			 time_json(ver->deletion), "destroyed", ver->destroyed,
			 "version", (json_int_t)ver->num);
}

/* "error converting input for field ..." (400), as the framework does. */
static void bad_field(struct vresp *rs, const char *field)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_addf(&msg, "error converting input for field \"%s\"", field);
	resp_error(rs, 400, msg.buf);
	strbuf_release(&msg);
}

/*
 * Vault's validateCheckAndSetOption: a "cas" option must equal the key's
 * current version (0: the key does not exist yet); without one the write
 * is refused when the mount or the key requires it. 0, or -1 with rs set.
 */
static int check_cas(const struct kv_mount *m, const struct kv_secret *s,
		     const struct vreq *rq, struct vresp *rs)
{
	json_t *opts = json_object_get(rq->body, "options");
	json_t *cas =
		json_is_object(opts) ? json_object_get(opts, "cas") : NULL;
	uint64_t current = s ? s->current : 0;
	int64_t n;

	rs->data_write = true;
	if (opts && !json_is_object(opts) && !json_is_null(opts)) {
		bad_field(rs, "options");
		return -1;
	}
	if (cas) {
		rs->cas = json_deep_copy(cas);
		if (jsonval_int(&n, cas) < 0) {
			resp_error(rs, 400,
				   "error parsing check-and-set parameter");
			return -1;
		}
		if (n < 0 || (uint64_t)n != current) {
			rs->cas_conflict = true;
			resp_error(rs, 400,
				   "check-and-set parameter did not match the "
				   "current version");
			return -1;
		}
	} else if (m->cfg.cas_required || (s && s->cfg.cas_required)) {
		resp_error(rs, 400,
			   "check-and-set parameter required for this call");
		return -1;
	}
	return 0;
}

/* The "data" member of a write or patch body, or NULL with rs set. */
static json_t *body_data(const struct vreq *rq, struct vresp *rs)
{
	json_t *data = json_object_get(rq->body, "data");

	if (!data || json_is_null(data)) {
		resp_error(rs, 400, "no data provided");
		return NULL;
	}
	if (!json_is_object(data)) {
		bad_field(rs, "data");
		return NULL;
	}
	return data;
}

static void data_read(struct kv_mount *m, const char *key,
		      const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s = mount_get(m, rq->ns, key);
	struct kv_version *ver;
	int64_t want = 0;
	json_t *q, *out;

	if (rq->version_q) {
		q = json_string(rq->version_q);
		if (!q || jsonval_int(&want, q) < 0) {
			json_decref(q);
			bad_field(rs, "version");
			return;
		}
		json_decref(q);
	}
	if (!s) {
		resp_error(rs, 404, NULL);
		return;
	}
	ver = secret_version(s, want > 0 ? (uint64_t)want : s->current);
	if (!ver) {
		resp_error(rs, 404, NULL);
		return;
	}
	out = json_pack("{s:n, s:o}", "data", "metadata", version_meta(s, ver));
	if (version_deleted(ver, rq->now) || ver->destroyed) {
		/* the version's metadata, but a 404 */
		resp_data(rs, 404, out, NULL);
		return;
	}
	json_object_set_new(out, "data", json_deep_copy(ver->data));
	resp_data(rs, 200, out, NULL);
}

static void data_write(struct kv_mount *m, const char *key,
		       const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s;
	struct kv_version *ver;
	json_t *data = body_data(rq, rs);

	rs->data_write = true;
	if (!data)
		return;
	s = mount_get(m, rq->ns, key);
	if (check_cas(m, s, rq, rs) < 0)
		return;
	sleep_ms(rq->storage_ms); /* a slow backend: races show */
	if (!s)
		s = mount_create(m, rq->ns, key, rq->now);
	ver = secret_add_version(s, &m->cfg, jsonval_sorted(data), rq->now);
	resp_data(rs, 200, version_meta(s, ver), NULL);
}

static void data_patch(struct kv_mount *m, const char *key,
		       const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s;
	struct kv_version *ver;
	json_t *data = body_data(rq, rs), *patched;

	rs->data_write = true;
	if (!data)
		return;
	s = mount_get(m, rq->ns, key);
	if (!s) {
		resp_error(rs, 404, NULL);
		return;
	}
	if (check_cas(m, s, rq, rs) < 0)
		return;
	sleep_ms(rq->storage_ms);
	ver = secret_version(s, s->current);
	if (!ver) {
		resp_error(rs, 404, NULL);
		return;
	}
	if (version_deleted(ver, rq->now) || ver->destroyed) {
		resp_data(rs, 404, version_meta(s, ver), NULL);
		return;
	}
	patched = jsonval_merge_patch(ver->data, data);
	ver = secret_add_version(s, &m->cfg, jsonval_sorted(patched), rq->now);
	json_decref(patched);
	resp_data(rs, 200, version_meta(s, ver), NULL);
}

/* DELETE data/<key>: soft-delete the current version. */
static void data_delete(struct kv_mount *m, const char *key,
			const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s = mount_get(m, rq->ns, key);
	struct kv_version *ver = s ? secret_version(s, s->current) : NULL;

	if (ver && !ver->destroyed && !version_deleted(ver, rq->now))
		ver->deletion = rq->now;
	resp_none(rs);
}

static void data_handle(struct kv_mount *m, const char *key,
			const struct vreq *rq, struct vresp *rs)
{
	switch (rq->op) {
	case OP_READ:
		data_read(m, key, rq, rs);
		break;
	case OP_UPDATE:
		data_write(m, key, rq, rs);
		break;
	case OP_PATCH:
		data_patch(m, key, rq, rs);
		break;
	case OP_DELETE:
		data_delete(m, key, rq, rs);
		break;
	case OP_LIST:
		resp_unsupported(rs);
		break;
	}
}

/* ---- metadata --------------------------------------------------------- */

static json_t *metadata_json(const struct kv_secret *s)
{
	json_t *versions = json_object(), *out, *sorted;
	char num[24], dva[48];
	size_t i;

	for (i = 0; i < s->nr_v; i++) {
		const struct kv_version *ver = &s->v[i];

		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)ver->num);
		json_object_set_new(versions, num,
				    json_pack("{s:o, s:o, s:b}", "created_time",
					      time_json(ver->created),
					      "deletion_time",
					      time_json(ver->deletion),
					      "destroyed", ver->destroyed));
	}
	jsonval_go_duration(dva, sizeof(dva), s->cfg.delete_after);
	out = json_pack("{s:b, s:o, s:I, s:o, s:s, s:I, s:I, s:o, s:o}",
			"cas_required", s->cfg.cas_required, "created_time",
			time_json(s->created), "current_version",
			(json_int_t)s->current, "custom_metadata",
			custom_json(s), "delete_version_after", dva,
			"max_versions", (json_int_t)s->cfg.max_versions,
			"oldest_version", (json_int_t)s->oldest, "updated_time",
			time_json(s->updated), "versions", versions);
	sorted = jsonval_sorted(out); /* "10" before "2", as Go sorts */
	json_decref(out);
	return sorted;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Go's multierror text for the collected messages. */
static void multierror(struct strbuf *out, const struct strvec *errs)
{
	size_t i;

	if (errs->nr == 1)
		strbuf_addstr(out, "1 error occurred:\n");
	else
		strbuf_addf(out, "%zu errors occurred:\n", errs->nr);
	for (i = 0; i < errs->nr; i++)
		strbuf_addf(out, "\t* %s\n", errs->v[i]);
	strbuf_addch(out, '\n');
}

/* Vault's validateCustomMetadata: the messages for what is wrong in obj
 * (an object of strings) pushed to errs. */
static void check_custom(const json_t *obj, struct strvec *errs)
{
	const char *k;
	json_t *v;

	if (json_object_size(obj) > MAX_CUSTOM_KEYS) {
		strvec_pushf(errs,
			     "%s: payload must contain at most %d keys, "
			     "provided %zu",
			     CUSTOM_PREFIX, MAX_CUSTOM_KEYS,
			     json_object_size(obj));
		return;
	}
	json_object_foreach((json_t *)obj, k, v)
	{
		size_t kl = strlen(k), vl = json_string_length(v);

		if (!kl || kl > MAX_CUSTOM_KEY_LEN)
			strvec_pushf(errs,
				     "%s: length of key \"%s\" is %zu but "
				     "must be 0 < len(key) <= %d",
				     CUSTOM_PREFIX, k, kl, MAX_CUSTOM_KEY_LEN);
		if (!vl || vl > MAX_CUSTOM_VALUE_LEN)
			strvec_pushf(errs,
				     "%s: length of value for key \"%s\" is "
				     "%zu but must be 0 < len(value) <= %d",
				     CUSTOM_PREFIX, k, vl,
				     MAX_CUSTOM_VALUE_LEN);
		if (!printable(k))
			strvec_pushf(errs,
				     "%s: key contains unprintable characters",
				     CUSTOM_PREFIX);
		if (!printable(json_string_value(v)) ||
		    strlen(json_string_value(v)) != vl)
			strvec_pushf(errs,
				     "%s: value for key \"%s\" contains "
				     "unprintable characters",
				     CUSTOM_PREFIX, k);
	}
}

/*
 * custom_metadata from a request (an object; with skip_null, null members
 * are left out, for a patch) as an object of strings in *out, checked like
 * Vault's validateCustomMetadata. 0, or -1 with rs set.
 */
static int parse_custom(json_t **out, const json_t *raw, bool skip_null,
			struct vresp *rs)
{
	struct strvec errs = STRVEC_INIT;
	struct strbuf val = STRBUF_INIT, msg = STRBUF_INIT;
	json_t *obj, *v;
	const char *k;

	*out = NULL;
	if (!json_is_object(raw)) {
		bad_field(rs, "custom_metadata");
		return -1;
	}
	obj = json_object();
	json_object_foreach((json_t *)raw, k, v)
	{
		if (skip_null && json_is_null(v))
			continue;
		if (jsonval_string(&val, v) < 0)
			strvec_pushf(&errs, "%s: '%s' expected type 'string'",
				     CUSTOM_PREFIX, k);
		else
			json_object_set_new(obj, k,
					    json_stringn(val.buf, val.len));
	}
	if (!errs.nr)
		check_custom(obj, &errs);
	if (errs.nr) {
		multierror(&msg, &errs);
		resp_error(rs, 400, msg.buf);
		json_decref(obj);
		obj = NULL;
	}
	*out = obj;
	strvec_clear(&errs);
	strbuf_release(&val);
	strbuf_release(&msg);
	return obj ? 0 : -1;
}

/* The settings a metadata or config write may carry. */
struct kv_settings {
	bool has_max, has_cas, has_dva, has_custom;
	struct kv_config cfg;
	json_t *custom; /* owned */
};

/*
 * Read max_versions, cas_required, delete_version_after and (with
 * allow_custom) custom_metadata from body. 0, or -1 with rs set.
 */
static int parse_settings(struct kv_settings *out, const json_t *body,
			  bool allow_custom, bool patch, struct vresp *rs)
{
	json_t *v;
	int64_t n;

	memset(out, 0, sizeof(*out));
	if ((v = json_object_get(body, "max_versions")) && !json_is_null(v)) {
		if (jsonval_int(&n, v) < 0 || n < 0 || n > UINT32_MAX) {
			bad_field(rs, "max_versions");
			return -1;
		}
		out->has_max = true;
		out->cfg.max_versions = (uint32_t)n;
	}
	if ((v = json_object_get(body, "cas_required")) && !json_is_null(v)) {
		if (jsonval_bool(&out->cfg.cas_required, v) < 0) {
			bad_field(rs, "cas_required");
			return -1;
		}
		out->has_cas = true;
	}
	if ((v = json_object_get(body, "delete_version_after")) &&
	    !json_is_null(v)) {
		if (jsonval_duration(&out->cfg.delete_after, v) < 0) {
			bad_field(rs, "delete_version_after");
			return -1;
		}
		out->has_dva = true;
	}
	if (allow_custom && (v = json_object_get(body, "custom_metadata")) &&
	    !json_is_null(v)) {
		if (parse_custom(&out->custom, v, patch, rs) < 0)
			return -1;
		out->has_custom = true;
	}
	return 0;
}

/* The warning Vault adds when a key turns cas_required off that its mount
 * requires. */
static json_t *cas_warning(const struct kv_mount *m,
			   const struct kv_settings *set)
{
	if (set->has_cas && !set->cfg.cas_required && m->cfg.cas_required)
		return json_pack("[s]", "\"cas_required\" set to false, but "
					"is mandated by backend config. This "
					"value will be ignored.");
	return NULL;
}

static void apply_settings(struct kv_secret *s, struct kv_settings *set)
{
	if (set->has_max)
		s->cfg.max_versions = set->cfg.max_versions;
	if (set->has_cas)
		s->cfg.cas_required = set->cfg.cas_required;
	if (set->has_dva)
		s->cfg.delete_after = set->cfg.delete_after;
}

static void set_custom(struct kv_secret *s, json_t *custom)
{
	json_decref(s->custom);
	s->custom = NULL;
	if (custom && json_object_size(custom))
		s->custom = jsonval_sorted(custom);
}

static void answer_settings(struct vresp *rs, json_t *warnings)
{
	if (warnings)
		resp_data(rs, 200, NULL, warnings);
	else
		resp_none(rs);
}

static void metadata_write(struct kv_mount *m, const char *key,
			   const struct vreq *rq, struct vresp *rs)
{
	struct kv_settings set;
	struct kv_secret *s;

	if (parse_settings(&set, rq->body, true, false, rs) < 0)
		goto out;
	if (!set.has_max && !set.has_cas && !set.has_dva && !set.has_custom) {
		resp_none(rs); /* nothing to set: nothing is created */
		goto out;
	}
	s = mount_create(m, rq->ns, key, rq->now);
	apply_settings(s, &set);
	if (set.has_custom)
		set_custom(s, set.custom);
	answer_settings(rs, cas_warning(m, &set));
out:
	json_decref(set.custom);
}

static void metadata_patch(struct kv_mount *m, const char *key,
			   const struct vreq *rq, struct vresp *rs)
{
	struct kv_settings set;
	struct kv_secret *s;
	json_t *v, *val, *merged;
	const char *k;

	if (parse_settings(&set, rq->body, true, true, rs) < 0)
		goto out;
	s = mount_get(m, rq->ns, key);
	if (!s) {
		resp_error(rs, 404, NULL);
		goto out;
	}
	apply_settings(s, &set);
	/* merge patch: a null member resets the field */
	if ((v = json_object_get(rq->body, "max_versions")) && json_is_null(v))
		s->cfg.max_versions = 0;
	if ((v = json_object_get(rq->body, "cas_required")) && json_is_null(v))
		s->cfg.cas_required = false;
	if ((v = json_object_get(rq->body, "delete_version_after")) &&
	    json_is_null(v))
		s->cfg.delete_after = 0;
	v = json_object_get(rq->body, "custom_metadata");
	if (json_is_null(v)) {
		set_custom(s, NULL);
	} else if (set.has_custom) {
		/* set.custom holds the members as strings, without nulls */
		merged = jsonval_merge_patch(s->custom, set.custom);
		json_object_foreach(v, k, val)
		{
			if (json_is_null(val))
				json_object_del(merged, k);
		}
		set_custom(s, merged);
		json_decref(merged);
	}
	answer_settings(rs, cas_warning(m, &set));
out:
	json_decref(set.custom);
}

static void metadata_handle(struct kv_mount *m, const char *key,
			    const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s = mount_get(m, rq->ns, key);
	struct strvec keys = STRVEC_INIT;

	switch (rq->op) {
	case OP_READ:
		if (s)
			resp_data(rs, 200, metadata_json(s), NULL);
		else
			resp_error(rs, 404, NULL);
		break;
	case OP_UPDATE:
		metadata_write(m, key, rq, rs);
		break;
	case OP_PATCH:
		metadata_patch(m, key, rq, rs);
		break;
	case OP_DELETE:
		if (s)
			mount_remove(m, s);
		resp_none(rs);
		break;
	case OP_LIST:
		mount_list(m, rq->ns, key, &keys);
		resp_keys(rs, &keys);
		strvec_clear(&keys);
		break;
	}
}

/* ---- delete/, undelete/, destroy/ ------------------------------------ */

enum version_action { SOFT_DELETE, UNDELETE, DESTROY };

static void versions_handle(struct kv_mount *m, const char *key,
			    enum version_action act, const struct vreq *rq,
			    struct vresp *rs)
{
	struct kv_secret *s;
	int64_t *nums = NULL;
	size_t nr = 0, i;

	if (rq->op != OP_UPDATE) {
		resp_unsupported(rs);
		return;
	}
	if (jsonval_int_list(&nums, &nr,
			     json_object_get(rq->body, "versions")) < 0) {
		bad_field(rs, "versions");
		return;
	}
	if (!nr) {
		resp_error(rs, 400,
			   act == DESTROY ? "no version number provided"
					  : "No version number provided");
		return;
	}
	s = mount_get(m, rq->ns, key);
	for (i = 0; s && i < nr; i++) {
		struct kv_version *ver =
			nums[i] > 0 ? secret_version(s, (uint64_t)nums[i])
				    : NULL;

		if (!ver || ver->destroyed)
			continue;
		if (act == SOFT_DELETE && !version_deleted(ver, rq->now))
			ver->deletion = rq->now;
		if (act == UNDELETE)
			ver->deletion =
				secret_deletion_time(s, &m->cfg, rq->now);
		if (act == DESTROY) {
			ver->destroyed = true;
			json_decref(ver->data);
			ver->data = NULL;
		}
	}
	free(nums);
	resp_none(rs);
}

/* ---- config and routing ----------------------------------------------- */

static void config_handle(struct kv_mount *m, const struct vreq *rq,
			  struct vresp *rs)
{
	struct kv_settings set;
	char dva[48];

	if (rq->op == OP_READ) {
		jsonval_go_duration(dva, sizeof(dva), m->cfg.delete_after);
		resp_data(rs, 200,
			  json_pack("{s:b, s:s, s:I}", "cas_required",
				    m->cfg.cas_required, "delete_version_after",
				    dva, "max_versions",
				    (json_int_t)m->cfg.max_versions),
			  NULL);
		return;
	}
	if (rq->op != OP_UPDATE) {
		resp_unsupported(rs);
		return;
	}
	if (parse_settings(&set, rq->body, false, false, rs) < 0)
		return;
	if (set.has_max)
		m->cfg.max_versions = set.cfg.max_versions;
	if (set.has_cas)
		m->cfg.cas_required = set.cfg.cas_required;
	if (set.has_dva)
		m->cfg.delete_after = set.cfg.delete_after;
	resp_none(rs);
}

/* Vault's pathInvalid: any path the mount has no handler for. */
static void invalid_path(const char *rest, const struct vreq *rq,
			 struct vresp *rs)
{
	static const char *const roots[] = { "metadata", "data",    "delete",
					     "undelete", "destroy", NULL };
	static const char *const verbs[] = { [OP_READ] = "get",
					     [OP_UPDATE] = "put",
					     [OP_DELETE] = "delete",
					     [OP_LIST] = "list",
					     [OP_PATCH] = "patch" };
	struct strbuf msg = STRBUF_INIT;
	size_t i;

	for (i = 0; roots[i]; i++)
		if (!strcmp(rest, roots[i])) {
			resp_warning(rs, 404,
				     "Non-listing operations on the root of a "
				     "K/V v2 mount are not supported.");
			return;
		}
	strbuf_addf(&msg,
		    "Invalid path for a versioned K/V secrets engine. See the "
		    "API docs for the appropriate API endpoints to use. If "
		    "using the Vault CLI, use 'vault kv %s' for this "
		    "operation.",
		    verbs[rq->op]);
	resp_warning(rs, 404, msg.buf);
	strbuf_release(&msg);
}

static bool under(const char *rest, const char *prefix, const char **key)
{
	size_t n = strlen(prefix);

	if (strncmp(rest, prefix, n))
		return false;
	*key = rest + n;
	return true;
}

void kv2_handle(struct kv_mount *m, const char *rest, const struct vreq *rq,
		struct vresp *rs)
{
	const char *key;
	size_t len;

	if (!strcmp(rest, "config")) {
		config_handle(m, rq, rs);
	} else if (under(rest, "data/", &key) && (len = strlen(key)) &&
		   key[len - 1] != '/') {
		data_handle(m, key, rq, rs);
	} else if (under(rest, "metadata/", &key)) {
		metadata_handle(m, key, rq, rs);
	} else if (under(rest, "delete/", &key)) {
		versions_handle(m, key, SOFT_DELETE, rq, rs);
	} else if (under(rest, "undelete/", &key)) {
		versions_handle(m, key, UNDELETE, rq, rs);
	} else if (under(rest, "destroy/", &key)) {
		versions_handle(m, key, DESTROY, rq, rs);
	} else {
		invalid_path(rest, rq, rs);
	}
}
