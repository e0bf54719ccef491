/*
 * savedplan.h - the file `plan --out FILE` writes and `apply FILE` reads:
 * a fingerprint of everything the plan would do and the options it was
 * made with. apply plans again and carries the plan out only when the
 * fingerprint is the same, so what runs is what was reviewed.
 *
 * Format (JSON, format_version "1", kind "pve-gitops-plan"):
 *   { "fingerprint": "16 hex digits", "options": {prune, adopt, refresh},
 *     "summary": {add, change, destroy, blocked} }
 * Pure: text in, text out.
 */
#ifndef PVE_GITOPS_SAVEDPLAN_H
#define PVE_GITOPS_SAVEDPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/plan.h"
#include "util/err.h"

struct savedplan {
	char fingerprint[17]; /* 16 hex digits */
	bool prune, adopt, refresh;
};

/* The fingerprint of p made from in (16 hex digits and a NUL). */
void savedplan_fingerprint(const struct plan *p, const struct plan_input *in,
			   char out[17]);

/* The file's text for p made from in; free() it. */
char *savedplan_encode(const struct plan *p, const struct plan_input *in);

/*
 * Decode text (len bytes) read from file (named in errors). Returns 0, or
 * -1 with e set (EXIT_INVALID, ERR_INVALID) when it is not JSON or not a
 * saved plan.
 */
int savedplan_decode(struct savedplan *out, const char *text, size_t len,
		     const char *file, struct err *e);

#endif
