/*
 * suggest.c - nearest-candidate suggestions; see suggest.h.
 */
#include "core/suggest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

#define SUGGEST_MAX_LEN 64

size_t edit_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t *prev2, *prev, *cur, i, j, res;

	prev2 = xcalloc(blen + 1, sizeof(size_t));
	prev = xcalloc(blen + 1, sizeof(size_t));
	cur = xcalloc(blen + 1, sizeof(size_t));
	for (j = 0; j <= blen; j++)
		prev[j] = j;
	for (i = 1; i <= alen; i++) {
		size_t *t;

		cur[0] = i;
		for (j = 1; j <= blen; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;
			size_t best = prev[j] + 1;

			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (prev[j - 1] + cost < best)
				best = prev[j - 1] + cost;
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	res = prev[blen];
	free(prev2);
	free(prev);
	free(cur);
	return res;
}

const char *suggest_nearest(const char *word, size_t len,
			    const char *const *candidates)
{
	const char *const *start = candidates;
	const char *best = NULL;
	size_t best_d = (size_t)-1, limit;

	if (!len || len > SUGGEST_MAX_LEN)
		return NULL;
	/* A typo changes about one character in three at most; a looser
	 * bound suggests words of another meaning ("started" -> "stopped"). */
	limit = len < 6 ? 1 : len / 3;
	if (limit > 3)
		limit = 3;
	for (; *candidates; candidates++) {
		size_t clen = strlen(*candidates);
		size_t d = edit_distance(word, len, *candidates, clen);

		/* on a tie, a candidate of the same length is the likelier
		 * typo (qcow3 -> qcow2, not qcow) */
		if (d < best_d ||
		    (d == best_d && clen == len && strlen(best) != len)) {
			best_d = d;
			best = *candidates;
		}
	}
	if (best_d <= limit)
		return best;
	/* an abbreviation of a longer key (cpu -> cpu_type), or a longer
	 * spelling of a short one (vms_directory -> vms_dir) */
	for (candidates = start; len >= 3 && *candidates; candidates++) {
		size_t clen = strlen(*candidates);

		if (clen > len && !strncasecmp(*candidates, word, len) &&
		    strchr("_-", (*candidates)[len]))
			return *candidates;
		if (clen >= 4 && clen < len &&
		    !strncasecmp(*candidates, word, clen) &&
		    isalpha((unsigned char)word[clen]))
			return *candidates;
	}
	return NULL;
}
