/*
 * kv1.c - a KV version 1 mount (Vault's passthrough backend): one value per
 * path, replaced whole on a write (204), read with the keys directly under
 * "data", deleted (204) and listed; no versions, metadata or CAS.
 */
#include <string.h>

#include "handlers.h"
#include "jsonval.h"

static void kv1_read(struct kv_mount *m, const char *key, const struct vreq *rq,
		     struct vresp *rs)
{
	struct kv_secret *s = mount_get(m, rq->ns, key);
	json_int_t lease = KV1_DEFAULT_LEASE_SECONDS;
	json_t *ttl;
	int64_t secs;

	if (!s || !s->value) {
		resp_error(rs, 404, NULL);
		return;
	}
	/* a "ttl" (or "lease") key is an advisory lease duration */
	ttl = json_object_get(s->value, "ttl");
	if (!ttl)
		ttl = json_object_get(s->value, "lease");
	if (ttl && jsonval_duration(&secs, ttl) == 0)
		lease = secs;
	resp_data_lease(rs, 200, json_deep_copy(s->value), NULL, lease);
}

static void kv1_write(struct kv_mount *m, const char *key,
		      const struct vreq *rq, struct vresp *rs)
{
	struct kv_secret *s;

	if (!*key) {
		resp_error(rs, 400, "missing path");
		return;
	}
	if (!rq->body || !json_object_size(rq->body)) {
		resp_error(rs, 400, "missing data fields");
		return;
	}
	s = mount_create(m, rq->ns, key, rq->now);
	json_decref(s->value);
	s->value = jsonval_sorted(rq->body);
	s->updated = rq->now;
	resp_none(rs);
}

void kv1_handle(struct kv_mount *m, const char *rest, const struct vreq *rq,
		struct vresp *rs)
{
	struct kv_secret *s;
	struct strvec keys = STRVEC_INIT;

	switch (rq->op) {
	case OP_READ:
		kv1_read(m, rest, rq, rs);
		break;
	case OP_UPDATE:
		kv1_write(m, rest, rq, rs);
		break;
	case OP_DELETE:
		s = mount_get(m, rq->ns, rest);
		if (s)
			mount_remove(m, s);
		resp_none(rs);
		break;
	case OP_LIST:
		mount_list(m, rq->ns, rest, &keys);
		resp_keys(rs, &keys);
		strvec_clear(&keys);
		break;
	case OP_PATCH:
		resp_unsupported(rs);
		break;
	}
}
