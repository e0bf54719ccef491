/*
 * diags.h - file diagnostics (core/diag.h) on stderr, the way a compiler
 * prints them: "file:line:col: error: message", the severity word in colour
 * when cfg->color, warnings left out when quiet. diag_format escapes the
 * untrusted text once.
 */
#ifndef PVE_GITOPS_OPS_DIAGS_H
#define PVE_GITOPS_OPS_DIAGS_H

#include "core/config.h"
#include "core/diag.h"

/* all: the warnings only validate shows too (core/ydecode.h yd_advice) */
void report_diags(const struct config *cfg, const struct diag_list *dl,
		  bool all);

#endif
