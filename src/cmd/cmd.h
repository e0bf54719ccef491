/*
 * cmd.h - subcommand descriptors and the option tables they are parsed
 * from.
 *
 * Every src/cmd/<verb>.c exports one `const struct cmd cmd_<verb>`: its
 * name, a one-line summary, its option table and a handler. main.c holds the
 * table of commands; help and usage errors are generated from the same
 * option tables the parser reads, so they cannot drift apart.
 */
#ifndef PVE_GITOPS_CMD_H
#define PVE_GITOPS_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "core/config.h"
#include "core/diag.h"
#include "ops/repo_plan.h" /* report_diags */
#include "util/err.h"

enum opt_type { OPT_BOOL, OPT_STRING, OPT_UINT, OPT_COUNT_DOWN };

/* One option; the parser stores its value at offset in the options struct. */
struct opt {
	const char *long_name;
	char short_name;
	enum opt_type type;
	size_t offset;
	const char *arg; /* value placeholder for help, e.g. "FILE" */
	const char *help;
};

#define OPT_END                                  \
	{                                        \
		NULL, 0, OPT_BOOL, 0, NULL, NULL \
	}

struct cmd {
	const char *name;
	const char *summary;
	const char *args; /* positional arguments for usage, e.g. "[FILE...]" */
	const struct opt *opts;
	size_t opts_size; /* size of the options struct the handler gets */
	int (*run)(const struct config *cfg, void *opts, int argc, char **argv,
		   struct err *e);
};

/*
 * Parse argv[start..argc) against opts into the zeroed struct at out.
 * Options and positional arguments may mix; "--" ends options. Positional
 * arguments are gathered, in order, at the start of argv; their count is
 * returned, or -1 with e set (EXIT_INVALID) on a usage error.
 * With stop_at_positional, parsing stops at the first positional argument
 * (for global options before the command name).
 */
int opts_parse(const struct opt *opts, void *out, int argc, char **argv,
	       int stop_at_positional, int *consumed, struct err *e);
/* Print the option table as help text. */
void opts_help(FILE *fp, const struct opt *opts);

extern const struct cmd cmd_validate;
extern const struct cmd cmd_plan;
extern const struct cmd cmd_apply;
extern const struct cmd cmd_output;
extern const struct cmd cmd_tag;
extern const struct cmd cmd_inventory;
extern const struct cmd cmd_kubeconfig;
extern const struct cmd cmd_release;
extern const struct cmd cmd_pipeline;
extern const struct cmd cmd_provision;
extern const struct cmd cmd_run;
extern const struct cmd cmd_watch;

#endif
