/*
 * api.c - Vault's response shapes and the routing of a request to the
 * mount (longest path first), sys/ or auth/token/ handler that owns it.
 */
#include "api.h"

#include <string.h>

#include "util/strvec.h"

void resp_error(struct vresp *rs, unsigned status, const char *msg)
{
	json_t *errors = json_array();

	if (msg)
		json_array_append_new(errors, json_string(msg));
	json_decref(rs->body);
	rs->status = status;
	rs->body = json_pack("{s:o}", "errors", errors);
}

void resp_data_lease(struct vresp *rs, unsigned status, json_t *data,
		     json_t *warnings, json_int_t lease_duration)
{
	char id[37];

	rand_uuid(id);
	json_decref(rs->body);
	rs->status = status;
	/* in the order of Vault's HTTPResponse struct */
	rs->body = json_pack("{s:s, s:s, s:b, s:I, s:o, s:n, s:o, s:n, s:s}",
			     "request_id", id, "lease_id", "", "renewable", 0,
			     "lease_duration", lease_duration, "data",
			     data ? data : json_null(), "wrap_info", "warnings",
			     warnings ? warnings : json_null(), "auth",
			     "mount_type", "kv");
}

void resp_data(struct vresp *rs, unsigned status, json_t *data,
	       json_t *warnings)
{
	resp_data_lease(rs, status, data, warnings, 0);
}

void resp_none(struct vresp *rs)
{
	json_decref(rs->body);
	rs->status = 204;
	rs->body = NULL;
}

void resp_warning(struct vresp *rs, unsigned status, const char *warning)
{
	resp_data(rs, status, NULL, json_pack("[s]", warning));
}

void resp_unsupported(struct vresp *rs)
{
	/* the router wraps the error in a go-multierror */
	resp_error(rs, 405, "1 error occurred:\n\t* unsupported operation\n\n");
}

void resp_keys(struct vresp *rs, const struct strvec *keys)
{
	json_t *list;
	size_t i;

	if (!keys->nr) {
		resp_error(rs, 404, NULL);
		return;
	}
	list = json_array();
	for (i = 0; i < keys->nr; i++)
		json_array_append_new(list, json_string(keys->v[i]));
	resp_data(rs, 200, json_pack("{s:o}", "keys", list), NULL);
}

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n))
		return false;
	*rest = s + n;
	return true;
}

void api_handle(struct vault *v, const struct vreq *rq, struct vresp *rs)
{
	struct kv_mount *m;
	const char *rest;
	struct strbuf msg = STRBUF_INIT;

	if (has_prefix(rq->path, "sys/", &rest)) {
		sys_handle(v, rest, rq, rs);
		return;
	}
	if (!strcmp(rq->path, "auth/token/lookup-self")) {
		if (rq->op == OP_READ || rq->op == OP_UPDATE)
			sys_lookup_self(v, rq, rs);
		else
			resp_unsupported(rs);
		return;
	}
	if (has_prefix(rq->path, "auth/token/", &rest)) {
		resp_error(rs, 404,
			   "1 error occurred:\n\t* unsupported path\n\n");
		return;
	}
	m = vault_find_mount(v, rq->path, &rest);
	if (!m) {
		strbuf_addf(&msg,
			    "no handler for route \"%s\". route entry not "
			    "found.",
			    rq->path);
		resp_error(rs, 404, msg.buf);
		strbuf_release(&msg);
		return;
	}
	if (m->version == 2)
		kv2_handle(m, rest, rq, rs);
	else
		kv1_handle(m, rest, rq, rs);
}
