/*
 * cmd.h - subcommand descriptors and the option tables they are parsed
 * from.
 *
 * Every src/cmd/<verb>.c exports one `const struct cmd cmd_<verb>`: its
 * name, a one-line summary, its option table, its set-up flags and a
 * handler, or a table of subcommands of the same shape. main.c holds the
 * table of commands; help and usage errors are generated from the same
 * tables the parser reads (options.c, table.c), so they cannot drift apart.
 */
#ifndef PVE_GITOPS_CMD_H
#define PVE_GITOPS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/config.h"
#include "core/diag.h"
#include "ops/diags.h"
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

/*
 * How much set-up a command needs before its handler runs, after git's
 * RUN_SETUP and RUN_SETUP_GENTLY. A descriptor without either flag gets
 * CMD_SETUP.
 */
#define CMD_SETUP	 (1u << 0) /* the config must load, or nothing runs */
#define CMD_SETUP_GENTLY (1u << 1) /* a bad config does not stop it */

/*
 * What main's set-up found, handed to a CMD_SETUP_GENTLY command's
 * run_gently. Nothing of it has been printed. When failed, cfg holds the
 * defaults (with the global flags and the environment) and err says why
 * the config did not load; diags holds the config file's diagnostics,
 * sorted, warnings included.
 */
struct cmd_setup {
	bool failed;
	struct err err;
	struct diag_list diags;
	/* main's tables, for the commands generated from them (completion) */
	const struct cmd *const *commands; /* ended by NULL */
	const struct opt *globals;
};

/*
 * A command, or one of its subcommands (`kubeconfig merge`). A command
 * with subs has no handler of its own: main parses its options up to the
 * subcommand's name, finds the entry in subs (ended by an entry with a
 * NULL name) and runs that with its own options; help lists the subs.
 * Subcommands share their command's flags.
 */
struct cmd {
	const char *name;
	const char *summary;
	const char *args; /* positional arguments for usage, e.g. "[FILE...]" */
	const struct opt *opts;
	size_t opts_size; /* size of the options struct the handler gets */
	unsigned flags;	  /* CMD_SETUP or CMD_SETUP_GENTLY */
	const struct cmd *subs;
	/* the handler; CMD_SETUP_GENTLY commands set run_gently instead */
	int (*run)(const struct config *cfg, void *opts, int argc, char **argv,
		   struct err *e);
	int (*run_gently)(const struct config *cfg,
			  const struct cmd_setup *setup, void *opts, int argc,
			  char **argv, struct err *e);
	bool hidden; /* a helper of the generated scripts: not in the help */
};

/* The subcommand of c named name, or NULL. */
const struct cmd *cmd_find_sub(const struct cmd *c, const char *name);
/*
 * The usage error for a missing (given NULL) or unknown subcommand of c,
 * naming the valid ones; EXIT_INVALID, returns -1.
 */
int cmd_sub_error(struct err *e, const struct cmd *c, const char *given);
/*
 * Print the help of c (parent: the command it is a subcommand of, or
 * NULL): usage line, summary, its subcommands or its options.
 */
void cmd_usage(FILE *fp, const struct cmd *parent, const struct cmd *c);

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
extern const struct cmd cmd_workloads;
extern const struct cmd cmd_doctor;
extern const struct cmd cmd_schema;
extern const struct cmd cmd_completion;
extern const struct cmd cmd_complete;
extern const struct cmd cmd_man;

#endif
