/*
 * outputs.h - the outputs file apply writes (cfg->outputs): vm_ips,
 * k8s_nodes and ansible_inventory in the shape of `terraform output -json`
 * ({"NAME": {"sensitive": false, "type": ..., "value": ...}}), so whatever
 * read the seed's tf_output.json reads it unchanged. `output` prints it;
 * the inventory reads its ansible_inventory through outputs_decode.
 *
 * Pure: text in, text out.
 */
#ifndef PVE_GITOPS_OUTPUTS_H
#define PVE_GITOPS_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/plan.h"
#include "core/vmdef.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Largest outputs file read. */
#define OUTPUTS_FILE_MAX (64 << 20)

/*
 * Append the file's text for the definitions defs[0..nr_defs) whose VM is
 * in vms[0..nr_vms) and managed (the others are not created yet).
 * ansible_user is the user of VMs without ciuser. with_cluster (the
 * config has clusters:): each ansible_inventory entry names its "cluster".
 */
void outputs_encode(struct strbuf *out, const struct vmdef *const *defs,
		    size_t nr_defs, const struct actual_vm *vms, size_t nr_vms,
		    const char *ansible_user, bool with_cluster);

/* One ansible_inventory.value entry, checked. */
struct outputs_host {
	char *name;
	char *host; /* ansible_host; NULL when null or absent */
	char *user; /* ansible_user; NULL when absent */
	char *node; /* a valid Proxmox node name */
	int vmid;   /* 1..999999999 */
};

struct outputs {
	struct outputs_host *hosts; /* sorted by name */
	size_t nr, alloc;
};

#define OUTPUTS_INIT       \
	{                  \
		NULL, 0, 0 \
	}

/*
 * Decode the ansible_inventory of an outputs file's text (len bytes; file
 * names it in errors, as "FILE:LINE: ..." for bad JSON and
 * "FILE: ansible_inventory.value.NAME: ..." for a bad entry). Returns 0, or
 * -1 with e set (EXIT_INVALID, ERR_INVALID). Release out with
 * outputs_release, also after a failure.
 */
int outputs_decode(struct outputs *out, const char *text, size_t len,
		   const char *file, struct err *e);
/* The entry named name, or NULL (a binary search). */
const struct outputs_host *outputs_find(const struct outputs *o,
					const char *name);
void outputs_release(struct outputs *o);

#endif
