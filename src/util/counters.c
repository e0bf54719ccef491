/*
 * counters.c - thread-safe event counters; see counters.h.
 */
#include "util/counters.h"

#include <stdlib.h>
#include <string.h>

void counters_init(struct counters *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

void counters_release(struct counters *c)
{
	pthread_mutex_destroy(&c->mu);
}

static struct counter *find(struct counters *c, const char *key)
{
	size_t i, len;

	for (i = 0; i < c->n; i++)
		if (!strncmp(c->v[i].key, key, COUNTERS_KEY_MAX))
			return &c->v[i];
	if (c->n + 1 >= COUNTERS_MAX && strcmp(key, COUNTERS_OVERFLOW))
		return find(c, COUNTERS_OVERFLOW);
	len = strnlen(key, COUNTERS_KEY_MAX);
	memcpy(c->v[c->n].key, key, len);
	c->v[c->n].key[len] = '\0';
	return &c->v[c->n++];
}

void counters_add(struct counters *c, const char *key, bool error)
{
	struct counter *k;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	k = find(c, key);
	k->count++;
	if (error)
		k->errors++;
	pthread_mutex_unlock(&c->mu);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct counter *)a)->key,
		      ((const struct counter *)b)->key);
}

size_t counters_snapshot(struct counters *c, struct counter *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&c->mu);
	n = c->n < max ? c->n : max;
	memcpy(out, c->v, n * sizeof(*out));
	pthread_mutex_unlock(&c->mu);
	qsort(out, n, sizeof(*out), by_key);
	return n;
}
