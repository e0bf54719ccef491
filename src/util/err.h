/*
 * err.h - the one error type.
 *
 * Fallible functions return 0 or -1 and fill a struct err. Callers add
 * context in front with err_prefix() and never replace the message; only the
 * dispatcher prints it (as "pve-gitops: error: MSG") and turns exit_code into
 * the process status.
 */
#ifndef PVE_GITOPS_ERR_H
#define PVE_GITOPS_ERR_H

#include "util/exitcode.h"
#include "util/strbuf.h"

struct err {
	int exit_code;
	struct strbuf msg;
};

#define ERR_INIT                     \
	{                            \
		EXIT_OK, STRBUF_INIT \
	}

/* Set the error (replacing any previous one); always returns -1. */
int err_set(struct err *e, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same with the text of errno appended as ": strerror(errnum)". */
int err_errno(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "CONTEXT: " in front of the message; returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_release(struct err *e);

#endif
