/*
 * strmap.h - a hash table from strings to indexes, for the lookups by name
 * that would otherwise make inventory and plan work quadratic.
 *
 * Keys are copied; values are whatever index the caller keeps (a position
 * in its own array). Open addressing with linear probing, FNV-1a hashes.
 */
#ifndef PVE_GITOPS_STRMAP_H
#define PVE_GITOPS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
	char *key; /* NULL: free slot */
	size_t value;
};

struct strmap {
	struct strmap_entry *slots;
	size_t nr, cap; /* cap is 0 or a power of two */
};

#define STRMAP_INIT        \
	{                  \
		NULL, 0, 0 \
	}

/* Set key to value (replacing an older value). */
void strmap_put(struct strmap *m, const char *key, size_t value);
/* true and *value when key is there. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);
bool strmap_has(const struct strmap *m, const char *key);
void strmap_release(struct strmap *m);

#endif
