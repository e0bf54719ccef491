/*
 * diag.c - diagnostic lists; see diag.h.
 */
#include "core/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file,
	       int line, int col, const char *fmt, va_list ap)
{
	struct strbuf msg = STRBUF_INIT;
	struct diag *d;

	strbuf_vaddf(&msg, fmt, ap);
	ALLOC_GROW(dl->items, st_add(dl->nr, 1), dl->alloc);
	d = &dl->items[dl->nr++];
	d->file = xstrdup(file ? file : "");
	d->line = line;
	d->col = col;
	d->severity = sev;
	d->validate_only = false;
	d->msg = strbuf_detach(&msg, NULL);
	if (sev == DIAG_ERROR)
		dl->errors++;
	else
		dl->warnings++;
}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
	      int line, int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(dl, sev, file, line, col, fmt, ap);
	va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void diag_list_sort(struct diag_list *dl)
{
	size_t i, j;

	/* Insertion sort: stable, and lists are short and nearly sorted. */
	for (i = 1; i < dl->nr; i++) {
		struct diag tmp = dl->items[i];

		for (j = i; j > 0 && diag_cmp(&dl->items[j - 1], &tmp) > 0; j--)
			dl->items[j] = dl->items[j - 1];
		dl->items[j] = tmp;
	}
}

void diag_list_release(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->nr; i++) {
		free(dl->items[i].file);
		free(dl->items[i].msg);
	}
	free(dl->items);
	memset(dl, 0, sizeof(*dl));
}

void diag_list_move(struct diag_list *dst, struct diag_list *src)
{
	size_t i;

	ALLOC_GROW(dst->items, st_add(dst->nr, src->nr), dst->alloc);
	for (i = 0; i < src->nr; i++)
		dst->items[dst->nr++] = src->items[i];
	dst->errors += src->errors;
	dst->warnings += src->warnings;
	free(src->items);
	memset(src, 0, sizeof(*src));
}

const char *diag_severity_name(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void diag_format(struct strbuf *out, const struct diag *d)
{
	strbuf_add_escaped(out, d->file, strlen(d->file));
	if (d->line > 0) {
		strbuf_addf(out, ":%d", d->line);
		if (d->col > 0)
			strbuf_addf(out, ":%d", d->col);
	}
	strbuf_addf(out, ": %s: ", diag_severity_name(d->severity));
	strbuf_add_escaped(out, d->msg, strlen(d->msg));
}
