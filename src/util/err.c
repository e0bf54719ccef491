/*
 * err.c - error values; see err.h.
 */
#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

int err_set(struct err *e, int exit_code, const char *fmt, ...)
{
	va_list ap;

	e->exit_code = exit_code;
	e->kind = ERR_GENERIC;
	strbuf_reset(&e->msg);
	va_start(ap, fmt);
	strbuf_vaddf(&e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int err_setk(struct err *e, enum err_kind kind, int exit_code, const char *fmt,
	     ...)
{
	va_list ap;

	e->exit_code = exit_code;
	e->kind = kind;
	strbuf_reset(&e->msg);
	va_start(ap, fmt);
	strbuf_vaddf(&e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	e->exit_code = EXIT_FAIL;
	e->kind = errnum == ENOENT   ? ERR_NOTFOUND
		  : errnum == EEXIST ? ERR_EXISTS
				     : ERR_GENERIC;
	strbuf_reset(&e->msg);
	va_start(ap, fmt);
	strbuf_vaddf(&e->msg, fmt, ap);
	va_end(ap);
	strbuf_addf(&e->msg, ": %s", strerror(errnum));
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	struct strbuf pre = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&pre, fmt, ap);
	va_end(ap);
	strbuf_addstr(&pre, ": ");
	strbuf_insert(&e->msg, 0, pre.buf, pre.len);
	strbuf_release(&pre);
	if (e->exit_code == EXIT_OK)
		e->exit_code = EXIT_FAIL;
	return -1;
}

void err_clear(struct err *e)
{
	strbuf_reset(&e->msg);
	e->exit_code = EXIT_OK;
	e->kind = ERR_GENERIC;
}

void err_release(struct err *e)
{
	strbuf_release(&e->msg);
	e->exit_code = EXIT_OK;
	e->kind = ERR_GENERIC;
}
