/*
 * strmap.c - string-to-index hash table; see strmap.h.
 */
#include "util/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct strmap_entry *find(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->cap - 1);

	while (m->slots[i].key && strcmp(m->slots[i].key, key))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static void grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t i;

	m->cap = old.cap ? st_mult(old.cap, 2) : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key) = old.slots[i];
	free(old.slots);
}

void strmap_put(struct strmap *m, const char *key, size_t value)
{
	struct strmap_entry *e;

	if (st_mult(m->nr + 1, 4) > st_mult(m->cap, 3))
		grow(m);
	e = find(m, key);
	if (!e->key) {
		e->key = xstrdup(key);
		m->nr++;
	}
	e->value = value;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
	const struct strmap_entry *e;

	if (!m->cap)
		return false;
	e = find(m, key);
	if (e->key && value)
		*value = e->value;
	return e->key != NULL;
}

bool strmap_has(const struct strmap *m, const char *key)
{
	return strmap_get(m, key, NULL);
}

void strmap_release(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->nr = m->cap = 0;
}
