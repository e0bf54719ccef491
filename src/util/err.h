/*
 * err.h - the one error type.
 *
 * Fallible functions return 0 or -1 and fill a struct err. Callers add
 * context in front with err_prefix() and never replace the message; only the
 * dispatcher prints it (through util/report.h, which escapes it once) and
 * turns exit_code into the process status.
 *
 * An error also carries a kind, set where the fact is known (the Proxmox
 * client knows a VM is locked, the git module knows a push was rejected),
 * in the manner of libgit2's git_error_code. Callers decide on the kind,
 * never on the text of the message.
 */
#ifndef PVE_GITOPS_ERR_H
#define PVE_GITOPS_ERR_H

#include "util/exitcode.h"
#include "util/strbuf.h"

enum err_kind {
	ERR_GENERIC = 0, /* nothing more is known */
	ERR_INVALID,	 /* the input (file, flag, value) is wrong */
	ERR_NOTFOUND,	 /* the object asked for does not exist */
	ERR_EXISTS,	 /* the object to create exists already */
	ERR_LOST,	 /* the request was sent, its answer never came */
	ERR_LOCKED,	 /* the object is busy (a lock held by someone else) */
	ERR_TIMEOUT,	 /* a deadline passed */
	ERR_CHILD,	 /* a child process exited non-zero or was killed */
	ERR_CONFLICT,	 /* a compare-and-set lost (Vault cas, git push) */
	ERR_PERMANENT,	 /* the server refused for good: do not retry */
	ERR_BADSTATE,	 /* the object is not in the state the call needs */
	ERR_ROLLBACK,	 /* a transaction failed and could not be undone */
	ERR_TOOLARGE,	 /* the input is over its size limit */
};

struct err {
	int exit_code;
	enum err_kind kind;
	struct strbuf msg;
};

#define ERR_INIT                                  \
	{                                         \
		EXIT_OK, ERR_GENERIC, STRBUF_INIT \
	}

/* Set the error (replacing any previous one, kind ERR_GENERIC); returns -1. */
int err_set(struct err *e, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same with a kind. */
int err_setk(struct err *e, enum err_kind kind, int exit_code, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));
/* Same with the text of errno appended as ": strerror(errnum)". */
int err_errno(struct err *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "CONTEXT: " in front of the message, keeping the kind; returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* true when e holds an error of that kind. */
static inline int err_is(const struct err *e, enum err_kind kind)
{
	return e->kind == kind;
}
/* Forget the error (message, kind and exit code) but keep the buffer. */
void err_clear(struct err *e);
void err_release(struct err *e);

#endif
