/*
 * handlers.h - the endpoints of vault-sim: the KV v2 (kv2.c) and KV v1
 * (kv1.c) engines under their mounts, and sys/ and auth/token/ (sys.c).
 * Each fills a struct vresp (resp.h); the caller holds the vault's mutex.
 */
#ifndef VAULT_SIM_HANDLERS_H
#define VAULT_SIM_HANDLERS_H

#include <stdbool.h>

#include "resp.h"
#include "vault.h"

/* rest: the path after the mount ("data/a/b", "config", ...). */
void kv2_handle(struct kv_mount *m, const char *rest, const struct vreq *rq,
		struct vresp *rs);
void kv1_handle(struct kv_mount *m, const char *rest, const struct vreq *rq,
		struct vresp *rs);
/* rest: the path after "sys/". */
void sys_handle(struct vault *v, const char *rest, const struct vreq *rq,
		struct vresp *rs);
/* auth/token/lookup-self. */
void sys_lookup_self(struct vault *v, const struct vreq *rq, struct vresp *rs);
/*
 * The unauthenticated sys endpoints (health, seal-status): true when path
 * is one of them and rs was filled. method is the HTTP method (HEAD too);
 * query looks up a query parameter (NULL when absent).
 */
bool sys_unauthenticated(struct vault *v, const char *path, const char *method,
			 const char *(*query)(void *ctx, const char *name),
			 void *ctx, struct vresp *rs);

#endif
