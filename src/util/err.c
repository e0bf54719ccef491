/*
 * err.c - error values; see err.h.
 */
#include "util/err.h"

#include <stdarg.h>
#include <string.h>

int err_set(struct err *e, int exit_code, const char *fmt, ...)
{
	va_list ap;

	e->exit_code = exit_code;
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

void err_release(struct err *e)
{
	strbuf_release(&e->msg);
	e->exit_code = EXIT_OK;
}
