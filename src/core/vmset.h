/*
 * vmset.h - the set of VM definitions of a repository, and the checks that
 * need more than one file: duplicate names (repository-wide), vmids and IPv4
 * addresses (per cluster: a definition's cluster:), and a
 * file name that does not match the VM's name.
 *
 * Pure: the caller loads the definitions (see io/repo.h).
 */
#ifndef PVE_GITOPS_VMSET_H
#define PVE_GITOPS_VMSET_H

#include <stdbool.h>

#include "core/diag.h"
#include "core/vmdef.h"

struct vmset {
	struct vmdef *items;
	bool *focus; /* per item: diagnostics about it are wanted */
	size_t nr, alloc, alloc_focus;
};

#define VMSET_INIT                  \
	{                           \
		NULL, NULL, 0, 0, 0 \
	}

/* Take over *vm (which is left empty) as the next member. */
void vmset_add(struct vmset *set, struct vmdef *vm, bool focus);
void vmset_release(struct vmset *set);
/* Sort members by name (unnamed last), keeping focus flags aligned. */
void vmset_sort(struct vmset *set);
/* Group members by cluster in the order of order[0..n) (a NULL cluster
 * is "default"; names not in order last), stable: each group keeps its
 * order. */
void vmset_group_by_cluster(struct vmset *set, const char *const *order,
			    size_t n);

/*
 * Add cross-file diagnostics to dl. A duplicate is reported in each file
 * that has focus (so `validate FILE` speaks of FILE only).
 */
void vmset_check(const struct vmset *set, struct diag_list *dl);

#endif
