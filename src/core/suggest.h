/*
 * suggest.h - "did you mean" for misspelt keys and values.
 */
#ifndef PVE_GITOPS_SUGGEST_H
#define PVE_GITOPS_SUGGEST_H

#include <stddef.h>

/*
 * Return the candidate closest to word (case-insensitive edit distance),
 * or NULL when none is close enough to be a plausible typo. candidates is
 * a NULL-terminated array; the result points into it.
 */
const char *suggest_nearest(const char *word, size_t len,
			    const char *const *candidates);

/* Case-insensitive Damerau-Levenshtein distance (optimal string alignment). */
size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen);

#endif
