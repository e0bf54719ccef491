/*
 * router.c - the routing of a request to the mount (longest path first),
 * sys/ or auth/token/ handler that owns it.
 */
#include "router.h"

#include <string.h>

#include "handlers.h"
#include "util/strbuf.h"

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n))
		return false;
	*rest = s + n;
	return true;
}

void router_handle(struct vault *v, const struct vreq *rq, struct vresp *rs)
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
