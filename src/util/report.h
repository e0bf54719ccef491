/*
 * report.h - the one place messages reach the terminal.
 *
 * Every error, warning and progress note goes through these functions, which
 * escape the formatted text once (control characters, invalid UTF-8: see
 * strbuf_add_escaped), so untrusted text from API answers, git, Ansible or
 * files can be put in a message as it is and is never escaped twice.
 *
 * The verbosity and colour are set once at start-up by main.c (the one
 * piece of process-wide state, as git's warning routine is); until then
 * everything prints, without colour.
 */
#ifndef PVE_GITOPS_REPORT_H
#define PVE_GITOPS_REPORT_H

#include <stdbool.h>
#include <stdio.h>

/* Set once by main: verbosity -1 quiet (errors only), 0 normal, 1 verbose. */
void report_setup(int verbosity, bool color);
int report_verbosity(void);

/* "pve-gitops: error: MSG" on stderr, always shown. */
void report_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "pve-gitops: warning: MSG" on stderr, not with -q. */
void report_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "pve-gitops: MSG" on stderr, progress, not with -q (errors only). */
void report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "pve-gitops: MSG" on stderr only with -v. */
void report_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Text for the user (a plan, a summary, a commit subject) on fp, whatever
 * the verbosity: formatted, then escaped like the messages above except
 * that line breaks and tabs stay what they are. Anything that may hold text
 * from outside (API answers, git, files) is printed with it, not printf.
 */
void report_print(FILE *fp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * Progress and summaries on fp ("Apply complete!", "pipeline: committed
 * ...", a plan shown before apply acts on it): what report_print does, but
 * not with -q, where a command prints its data and its errors only. The
 * command's data (JSON, an output, a tag) is report_print's.
 */
void report_info(FILE *fp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Whether report_info prints: false with -q (for text escaped already). */
bool report_shows_info(void);

#endif
