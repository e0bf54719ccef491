/*
 * resp.c - Vault's response shapes (see resp.h).
 */
#include "resp.h"

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
