/*
 * xalloc.h - allocation that aborts on failure, and overflow-checked sizes.
 *
 * Running out of memory is not an error this program can report usefully, so
 * every allocation goes through these wrappers and a failure ends the process
 * with a message. Size arithmetic uses st_add()/st_mult(), which abort on
 * overflow instead of wrapping.
 */
#ifndef PVE_GITOPS_XALLOC_H
#define PVE_GITOPS_XALLOC_H

#include <stddef.h>

/* Never return NULL; abort with a message when memory is exhausted. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
/* Copy at most len bytes of s into a new NUL-terminated string. */
char *xstrndup(const char *s, size_t len);

/* a + b and a * b, aborting on overflow. */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/*
 * Grow the array *items (each of size elem) so that it holds at least need
 * elements; *alloc is its current capacity. The only place that grows arrays.
 */
void array_grow(void **items, size_t elem, size_t need, size_t *alloc);
#define ALLOC_GROW(items, need, alloc) \
	array_grow((void **)&(items), sizeof(*(items)), (need), &(alloc))

#endif
