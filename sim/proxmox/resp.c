/*
 * resp.c - the request's parameters and the answer's error forms (see
 * resp.h).
 */
#include "resp.h"

#include <stdarg.h>
#include <string.h>

#include "util/parse.h"

const char *req_param(const struct sim_req *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->names.nr; i++)
		if (!strcmp(rq->names.v[i], name))
			return rq->values.v[i];
	return NULL;
}

bool param_true(const struct sim_req *rq, const char *name)
{
	const char *v = req_param(rq, name);

	return v && (!strcmp(v, "1") || !strcmp(v, "true"));
}

void resp_fail(struct sim_resp *rs, unsigned status, const char *fmt, ...)
{
	va_list ap;

	rs->status = status;
	strbuf_reset(&rs->message);
	va_start(ap, fmt);
	strbuf_vaddf(&rs->message, fmt, ap);
	va_end(ap);
}

void param_fail(struct sim_resp *rs, const char *param, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!rs->errors)
		rs->errors = json_object();
	json_object_set_new(rs->errors, param, json_string(sb.buf));
	strbuf_release(&sb);
	resp_fail(rs, 400, "Parameter verification failed.");
}

int vmid_of(const struct sim_req *rq, const char *name)
{
	const char *v = req_param(rq, name);
	uint64_t id;

	if (!v || parse_u64z(&id, v, 100, 999999999) < 0)
		return -1;
	return (int)id;
}
