/*
 * xalloc.c - aborting allocators; see xalloc.h.
 */
#include "util/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t size)
{
	fprintf(stderr, "pve-gitops: fatal: out of memory (%zu bytes)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		die_oom(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		die_oom(st_mult(nmemb, size));
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		die_oom(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
	size_t n = strnlen(s, len);
	char *p = xmalloc(st_add(n, 1));
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

size_t st_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b) {
		fprintf(stderr, "pve-gitops: fatal: size overflow\n");
		abort();
	}
	return a + b;
}

size_t st_mult(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b) {
		fprintf(stderr, "pve-gitops: fatal: size overflow\n");
		abort();
	}
	return a * b;
}

void array_grow(void **items, size_t elem, size_t need, size_t *alloc)
{
	size_t n;

	if (need <= *alloc)
		return;
	/* exact the first time (most arrays hold one or two items: a VM's
	 * disks, its NICs), then by half again */
	n = *alloc ? st_add(*alloc, *alloc / 2 + 1) : need;
	if (n < need)
		n = need;
	*items = xrealloc(*items, st_mult(n, elem));
	*alloc = n;
}
