/*
 * config_text.h - the unit tests' pve-gitops.yaml from a string.
 */
#ifndef PVE_GITOPS_CONFIG_TEXT_H
#define PVE_GITOPS_CONFIG_TEXT_H

#include <string.h>

#include "core/config.h"
#include "core/ytree.h"

/* text as pve-gitops.yaml, decoded into cfg (config_init'ed first, the
 * caller frees it); 0, or -1 with the errors in dl. */
static inline int config_from_text(struct config *cfg, struct diag_list *dl,
				   const char *text)
{
	struct ytree t = YTREE_INIT;
	int rc;

	config_init(cfg);
	rc = ytree_parse(&t, dl, "pve-gitops.yaml", text, strlen(text));
	if (rc == 0)
		rc = config_decode(cfg, dl, "pve-gitops.yaml", t.root);
	ytree_release(&t);
	return rc;
}

#endif
