/*
 * planfmt.h - a plan as people and programs read it: the Terraform-like
 * text ("pve-gitops will perform the following actions: ..."), the same
 * text for a pull-request comment, and the JSON of `plan --json`; each
 * lists the orphans (managed VMs without a definition) after the plan.
 *
 * Pure: text in a strbuf (untrusted values escaped here, once), JSON as a
 * string the caller frees.
 */
#ifndef PVE_GITOPS_PLANFMT_H
#define PVE_GITOPS_PLANFMT_H

#include "core/plan.h"
#include "util/strbuf.h"

/* Append the plan's text ("No changes. ..." for an empty plan). */
void planfmt_text(struct strbuf *out, const struct plan *p);

/* Append the text in a collapsible diff block with the sign of every line
 * in the first column. */
void planfmt_markdown(struct strbuf *out, const struct plan *p);

/* The JSON document of `plan --json` (api_calls: the requests it took);
 * free() it. */
char *planfmt_json(const struct plan *p, unsigned long api_calls);

#endif
