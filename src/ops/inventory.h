/*
 * inventory.h - the inventory operation: rewrite the Ansible inventory,
 * new_hosts.txt and host_vars from what exists (the outputs of the last
 * apply, or Proxmox with live), or answer Ansible's dynamic inventory
 * protocol (--list, --host NAME).
 *
 * Every new file is built in memory, staged with its host_vars in a private
 * directory and, when Ansible is installed, read back by ansible-inventory;
 * only then are the files replaced, together (io/filetxn). On any failure
 * the old files stay as they were. `pve-gitops inventory` and stage one of
 * the chain both run it; neither calls the other.
 */
#ifndef PVE_GITOPS_OPS_INVENTORY_H
#define PVE_GITOPS_OPS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/inventory.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct inventory_req {
	bool dry_run; /* print the diff (unless cfg->json), change nothing */
	bool live;    /* read the VMs from Proxmox, not the last outputs */
	/*
	 * Regenerating on top of the other side of a rejected push
	 * (ops/publish.c): a definition the outputs do not know keeps its
	 * inventory line and host_vars file (it came with the other side's
	 * commits, after the last apply).
	 */
	bool rebased;
};

struct inventory_result {
	bool dry_run;	      /* copied from the request */
	size_t files_changed; /* files that differ (written unless dry run) */
	bool changed_any;     /* files_changed > 0 */
	size_t added, removed, changed; /* hosts; changed: lines updated */
	struct strvec new_hosts;	/* "IP,NAME" written to new_hosts.txt */
	struct inv_change change;	/* every list, for the report */
};

void inventory_result_init(struct inventory_result *r);
void inventory_result_release(struct inventory_result *r);

/*
 * Rewrite the files as the request says (out initialised by the caller).
 * Warnings (hosts with no address, host_vars not ours) are reported as it
 * goes; nothing is printed on stdout but the diff of a dry run. A zero
 * request followed by inventory_print() is `pve-gitops inventory` with no
 * flags, output included (what stage one of the chain runs).
 */
int inventory_run(const struct config *cfg, const struct inventory_req *req,
		  struct inventory_result *out, struct err *e);

/*
 * Print the result as `pve-gitops inventory` does: the JSON object with
 * cfg->json, else the summary line and the names (nothing when quiet).
 */
void inventory_print(const struct config *cfg,
		     const struct inventory_result *r);

/*
 * The dynamic inventory: --list text (host NULL) or the --host text of one
 * host, into out. Warnings and notes are not printed (Ansible shows a
 * dynamic inventory's stderr as errors); errors are returned as usual,
 * ERR_NOTFOUND for a host that is not in the inventory.
 */
int inventory_dynamic(const struct config *cfg, bool live, const char *host,
		      struct strbuf *out, struct err *e);

#endif
