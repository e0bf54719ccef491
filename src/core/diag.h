/*
 * diag.h - diagnostics about input files: file, line, column, severity and
 * message, collected so that one run reports every problem, not the first.
 *
 * Pure data; printing belongs to the caller. Messages are stored as given:
 * diag_format() escapes control characters when it renders them.
 */
#ifndef PVE_GITOPS_DIAG_H
#define PVE_GITOPS_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/strbuf.h"

enum diag_severity { DIAG_WARNING, DIAG_ERROR };

struct diag {
	char *file; /* owned */
	int line;   /* 1-based; 0 when the whole file is meant */
	int col;    /* 1-based; 0 when unknown */
	enum diag_severity severity;
	bool validate_only; /* a warning only validate shows */
	char *msg;	    /* owned */
};

struct diag_list {
	struct diag *items;
	size_t nr, alloc;
	size_t errors, warnings;
};

#define DIAG_LIST_INIT           \
	{                        \
		NULL, 0, 0, 0, 0 \
	}

void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file,
	      int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file,
	       int line, int col, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
/* Sort by file, line, column, keeping the order of equal positions. */
void diag_list_sort(struct diag_list *dl);
void diag_list_release(struct diag_list *dl);
/* Move every entry of src to the end of dst; src is left empty. */
void diag_list_move(struct diag_list *dst, struct diag_list *src);

/* Append "file:line:col: error: msg" (compiler style, escaped). */
void diag_format(struct strbuf *out, const struct diag *d);
const char *diag_severity_name(enum diag_severity sev);

#endif
