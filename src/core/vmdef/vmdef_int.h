/*
 * vmdef_int.h - what the files of src/core/vmdef/ share and nothing else
 * may use: the decoding context of one definition and the yd_field
 * handlers of the keys that live in their own files (serial and network in
 * network.c, the disk forms in disks.c). The public interface is
 * core/vmdef.h.
 *
 * The top-level keys are a yd_field table (vmdef.c); disks come in three
 * forms that all end up as the same struct vm_disk list, so that later
 * stages (plan, host vars) never see which form a file used.
 */
#ifndef PVE_GITOPS_VMDEF_INT_H
#define PVE_GITOPS_VMDEF_INT_H

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/suggest.h"
#include "core/vmdef.h"
#include "core/ydecode.h"
#include "util/parse.h"
#include "util/xalloc.h"

/* The state of decoding one definition: the nodes the whole-definition
 * checks look at again once every key is read. */
struct vmctx {
	struct vmdef *vm;
	const struct vmdef_opts *opts;
	const struct ynode *disks_node, *nested_node, *network_node;
	const struct ynode *cipassword_node;
	bool has_target_node;
	const struct ynode *root; /* the whole definition */
};

/* The defaults in force (the config's, else the seed's). */
const struct vmdef_defaults *vmdef_defaults_of(const struct vmctx *ctx);

#define VM(t) (((struct vmctx *)(t))->vm)

/* yd_field handlers (t is the struct vmctx): "serial", "network" */
/* The keys of one network device (network.c). */
extern const struct yd_field vmdef_net_fields[];
/* The keys of a disk, every form's (disks.c). */
const struct yd_field *vmdef_disk_fields(void);
int vmdef_field_serial(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path);
int vmdef_field_network(struct ydecoder *d, void *t, const struct ynode *k,
			const struct ynode *v, const char *path);
/* "disks" (a mapping of slots or a list) and "nested_disks" (Telmate 3.x) */
int vmdef_field_disks(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path);
int vmdef_field_nested_disks(struct ydecoder *d, void *t, const struct ynode *k,
			     const struct ynode *v, const char *path);

/* Free what disk owns (the struct itself is the caller's). */
void vmdef_disk_release(struct vm_disk *disk);
/* "disk", "cloudinit", "cdrom" or "passthrough". */
const char *vmdef_disk_kind(enum disk_kind kind);

#endif
