/*
 * metrics.h - the watch's state (core/status.h) as Prometheus' text
 * exposition format 0.0.4, and the endpoint classes Proxmox and Vault
 * requests are counted under.
 *
 * Names follow Prometheus' conventions: the pve_gitops_ prefix, base units
 * (seconds), _total for counters; labels take values from fixed sets only
 * (stage, result, endpoint class, webhook provider, chain state), never a
 * commit id, a VM name or a path, so the series stay few.
 */
#ifndef PVE_GITOPS_METRICS_H
#define PVE_GITOPS_METRICS_H

#include "core/status.h"
#include "util/strbuf.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The class of a Proxmox API path ("/nodes/pve1/qemu/100/config" ->
 * "vm"): access, cluster, vm, vm_agent, vm_status, tasks, storage, nodes,
 * pools, version, other.
 */
const char *metrics_pve_class(const char *path);
/* The class of a Vault API path after /v1/ ("sys/mounts" -> "sys"): sys,
 * auth, kv (everything else is a secrets engine's: KV here). */
const char *metrics_vault_class(const char *path);

/* The exposition of st into out (appended); now: Unix seconds. */
void metrics_render(struct strbuf *out, const struct status *st, double now);

#endif
