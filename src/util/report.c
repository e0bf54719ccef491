/*
 * report.c - escaped messages on stderr; see report.h.
 */
#include "util/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"

static int verbosity;
static bool use_color;

void report_setup(int v, bool color)
{
	verbosity = v;
	use_color = color;
}

int report_verbosity(void)
{
	return verbosity;
}

__attribute__((format(printf, 3, 0))) static void
emit(const char *label, const char *color, const char *fmt, va_list ap)
{
	struct strbuf raw = STRBUF_INIT, out = STRBUF_INIT;

	strbuf_vaddf(&raw, fmt, ap);
	strbuf_addstr(&out, "pve-gitops: ");
	if (label && use_color && color)
		strbuf_addf(&out, "\033[%sm%s:\033[0m ", color, label);
	else if (label)
		strbuf_addf(&out, "%s: ", label);
	strbuf_add_escaped(&out, raw.buf, raw.len);
	strbuf_addch(&out, '\n');
	fputs(out.buf, stderr);
	strbuf_release(&raw);
	strbuf_release(&out);
}

void report_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("error", "1;31", fmt, ap);
	va_end(ap);
}

void report_warning(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	emit("warning", "1;35", fmt, ap);
	va_end(ap);
}

void report_note(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	emit(NULL, NULL, fmt, ap);
	va_end(ap);
}

void report_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 1)
		return;
	va_start(ap, fmt);
	emit(NULL, NULL, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 0))) static void
print_text(FILE *fp, const char *fmt, va_list ap)
{
	struct strbuf raw = STRBUF_INIT, out = STRBUF_INIT;
	size_t i, from = 0;

	strbuf_vaddf(&raw, fmt, ap);
	/* line breaks and tabs stay what they are; the rest is escaped */
	for (i = 0; i <= raw.len; i++) {
		if (i < raw.len && raw.buf[i] != '\n' && raw.buf[i] != '\t')
			continue;
		strbuf_add_escaped(&out, raw.buf + from, i - from);
		if (i < raw.len)
			strbuf_addch(&out, raw.buf[i]);
		from = i + 1;
	}
	fputs(out.buf, fp);
	strbuf_release(&raw);
	strbuf_release(&out);
}

void report_print(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_text(fp, fmt, ap);
	va_end(ap);
}

bool report_shows_info(void)
{
	return verbosity >= 0;
}

void report_info(FILE *fp, const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 0)
		return;
	va_start(ap, fmt);
	print_text(fp, fmt, ap);
	va_end(ap);
}
