/*
 * main.c - pve-gitops: global options, configuration, dispatch.
 *
 * Reads the global flags, the environment and the config file once into a
 * struct config, finds the subcommand in the table below, parses its options
 * from its own table and runs it. Only this file prints errors and chooses
 * the exit status (see util/exitcode.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/env.h"
#include "io/repo.h"
#include "util/report.h"
#include "util/xalloc.h"

extern char **environ;

#ifndef PVE_GITOPS_VERSION
#define PVE_GITOPS_VERSION "0.0.0"
#endif

static const struct cmd *const commands[] = {
	&cmd_validate,	 &cmd_plan,	 &cmd_apply,	  &cmd_output,
	&cmd_tag,	 &cmd_inventory, &cmd_kubeconfig, &cmd_pipeline,
	&cmd_provision,	 &cmd_run,	 &cmd_watch,	  &cmd_release,
	&cmd_workloads,	 &cmd_doctor, /* issue 17 */
	&cmd_schema,		      /* issue 21 */
	&cmd_completion, &cmd_complete,	 &cmd_man,	  NULL,
};

struct global_opts {
	const char *dir;
	const char *config;
	const char *cluster; /* --cluster NAME */
	int json, no_color, quiet, verbose, help, version;
};

static const struct opt global_options[] = {
	{ NULL, 'C', OPT_STRING, offsetof(struct global_opts, dir), "DIR",
	  "run as if started in DIR (the repository root)" },
	{ "config", 0, OPT_STRING, offsetof(struct global_opts, config), "FILE",
	  "configuration file (default: ./pve-gitops.yaml when present)" },
	{ "cluster", 0, OPT_STRING, offsetof(struct global_opts, cluster),
	  "NAME",
	  "only this cluster of the config's clusters: (plan, apply, "
	  "inventory, doctor, validate)" },
	{ "json", 0, OPT_BOOL, offsetof(struct global_opts, json), NULL,
	  "machine-readable output" },
	{ "no-color", 0, OPT_BOOL, offsetof(struct global_opts, no_color), NULL,
	  "no colour (also: NO_COLOR set, or stderr not a terminal)" },
	{ "quiet", 'q', OPT_BOOL, offsetof(struct global_opts, quiet), NULL,
	  "print errors only" },
	{ "verbose", 'v', OPT_BOOL, offsetof(struct global_opts, verbose), NULL,
	  "say more" },
	{ "help", 'h', OPT_BOOL, offsetof(struct global_opts, help), NULL,
	  "show this help" },
	{ "version", 0, OPT_BOOL, offsetof(struct global_opts, version), NULL,
	  "print the version" },
	OPT_END,
};

static void usage(FILE *fp)
{
	size_t i;

	fprintf(fp,
		"usage: pve-gitops [-C DIR] [--config FILE] [--cluster NAME] "
		"[--json] "
		"[--no-color] [-q|-v] COMMAND [ARGS]\n\n"
		"Turn a git repository of VM definitions into provisioned "
		"Proxmox VE VMs.\n\ncommands:\n");
	for (i = 0; commands[i]; i++)
		if (!commands[i]->hidden)
			fprintf(fp, "  %-12s %s\n", commands[i]->name,
				commands[i]->summary);
	fprintf(fp, "\nglobal options:\n");
	opts_help(fp, global_options);
	fprintf(fp, "\nexit status: 0 success, 1 failure, 2 usage error or "
		    "invalid input.\n'pve-gitops COMMAND --help' describes a "
		    "command.\n");
}

static const struct cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; commands[i]; i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

static int fail(struct err *e)
{
	/* an empty message is a status, not an error (plan
	 * --detailed-exitcode with changes); what the command printed on
	 * stdout comes first, the error last */
	fflush(stdout);
	if (e->msg.len)
		report_error("%s", e->msg.buf);
	return e->exit_code ? e->exit_code : EXIT_FAIL;
}

static int verbosity_of(const struct global_opts *g)
{
	return g->quiet ? -1 : g->verbose ? 1 : 0;
}

/* The config before the file is read: the global flags, the environment. */
static void config_defaults(struct config *cfg, const struct env *env,
			    const struct global_opts *g)
{
	config_init(cfg);
	cfg->env = env;
	cfg->json = g->json;
	cfg->verbosity = verbosity_of(g);
	cfg->color = !g->no_color && !env->no_color && isatty(STDERR_FILENO);
	report_setup(cfg->verbosity, cfg->color);
}

/* Read the config file over the defaults; -1 with e, problems in dl. */
static int load_config(struct config *cfg, const struct env *env,
		       const struct global_opts *g, struct diag_list *dl,
		       struct err *e)
{
	config_defaults(cfg, env, g);
	if (repo_load_config(cfg, dl, g->config, e) < 0) {
		if (dl->nr) {
			diag_list_sort(dl);
			err_setk(e, ERR_INVALID, EXIT_INVALID,
				 "invalid configuration");
		}
		return -1;
	}
	if (g->cluster && !config_cluster(cfg, g->cluster))
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"--cluster: no cluster '%s' in the config",
				g->cluster);
	if (g->cluster)
		cfg->only_cluster = xstrdup(g->cluster);
	return 0;
}

/* CMD_SETUP: the config must load; its diagnostics are printed here. */
static int run_strict(const struct cmd *c, struct config *cfg,
		      const struct env *env, const struct global_opts *g,
		      void *values, int argc, char **argv, struct err *e)
{
	struct diag_list dl = DIAG_LIST_INIT;
	int ret = load_config(cfg, env, g, &dl, e);

	report_diags(cfg, &dl, false); /* the errors, or the warnings */
	diag_list_release(&dl);
	if (ret < 0)
		return -1;
	return c->run(cfg, values, argc, argv, e);
}

/*
 * CMD_SETUP_GENTLY: a config that does not load does not stop the command;
 * the handler gets the diagnostics and the error, unprinted, and the
 * defaults in cfg.
 */
static int run_gently(const struct cmd *c, struct config *cfg,
		      const struct env *env, const struct global_opts *g,
		      void *values, int argc, char **argv, struct err *e)
{
	struct cmd_setup setup = { false, ERR_INIT, DIAG_LIST_INIT, commands,
				   global_options };
	int ret;

	if (load_config(cfg, env, g, &setup.diags, &setup.err) < 0) {
		setup.failed = true;
		config_release(cfg);
		config_defaults(cfg, env, g);
	}
	ret = c->run_gently(cfg, &setup, values, argc, argv, e);
	err_release(&setup.err);
	diag_list_release(&setup.diags);
	return ret;
}

/* Global flags that may also follow the command name. */
static const struct opt late_globals[] = {
	{ "cluster", 0, OPT_STRING, offsetof(struct global_opts, cluster),
	  "NAME", "only this cluster" },
	{ "json", 0, OPT_BOOL, offsetof(struct global_opts, json), NULL,
	  "machine-readable output" },
	{ "no-color", 0, OPT_BOOL, offsetof(struct global_opts, no_color), NULL,
	  "no colour" },
	{ "quiet", 'q', OPT_BOOL, offsetof(struct global_opts, quiet), NULL,
	  "print errors only" },
	{ "verbose", 'v', OPT_BOOL, offsetof(struct global_opts, verbose), NULL,
	  "say more" },
	{ "help", 'h', OPT_BOOL, offsetof(struct global_opts, help), NULL,
	  "show this help" },
};

/*
 * Parse the command's options (its own table, then the late globals) into
 * a fresh values buffer; the globals land in *g. Returns the number of
 * positional arguments (gathered at the start of argv) or -1. With
 * consumed (a command with subcommands), parsing stops at the first
 * positional argument, the subcommand's name, and *consumed is its index.
 */
static int parse_command(const struct cmd *parent, const struct cmd *c,
			 struct global_opts *g, void **values, int argc,
			 char **argv, int *consumed, struct err *e)
{
	size_t n = 0, i, nlate = sizeof(late_globals) / sizeof(late_globals[0]);
	size_t base = (c->opts_size + 15) / 16 * 16;
	struct opt *opts;
	int npos;

	while (c->opts && (c->opts[n].long_name || c->opts[n].short_name))
		n++;
	opts = xcalloc(n + nlate + 1, sizeof(*opts));
	for (i = 0; i < n; i++)
		opts[i] = c->opts[i];
	for (i = 0; i < nlate; i++) {
		opts[n + i] = late_globals[i];
		opts[n + i].offset += base;
	}
	*values = xcalloc(1, base + sizeof(*g));
	memcpy((char *)*values + base, g, sizeof(*g));
	npos = opts_parse(opts, *values, argc, argv, consumed != NULL, consumed,
			  e);
	memcpy(g, (char *)*values + base, sizeof(*g));
	free(opts);
	if (npos < 0) {
		if (parent)
			err_prefix(e, "%s %s", parent->name, c->name);
		else
			err_prefix(e, "%s", c->name);
		e->exit_code = EXIT_INVALID;
	}
	return npos;
}

/*
 * For a command with subcommands: its own options up to the subcommand's
 * name, then the subcommand. *sub stays NULL after --help without one.
 */
static int find_sub(const struct cmd *c, struct global_opts *g, int *argc,
		    char ***argv, const struct cmd **sub, struct err *e)
{
	void *values = NULL;
	int used = 0, ret;

	*sub = NULL;
	ret = parse_command(NULL, c, g, &values, *argc, *argv, &used, e);
	free(values);
	if (ret < 0)
		return -1;
	if (used >= *argc)
		return g->help ? 0 : cmd_sub_error(e, c, NULL);
	*sub = cmd_find_sub(c, (*argv)[used]);
	if (!*sub)
		return cmd_sub_error(e, c, (*argv)[used]);
	*argc -= used + 1;
	*argv += used + 1;
	return 0;
}

/* plan --detailed-exitcode among the command's arguments (before "--"). */
static bool detailed_exitcode(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--detailed-exitcode"))
			return true;
	return false;
}

/* Find the subcommand, parse the options, set up and run; the status. */
static int dispatch(const struct cmd *c, struct global_opts *g,
		    const struct env *env, int argc, char **argv)
{
	/* plan --detailed-exitcode: 2 says "changes", as terraform's does,
	 * so invalid input (an error with a message) exits 1 there */
	bool detailed = c == &cmd_plan && detailed_exitcode(argc, argv);
	const struct cmd *parent = NULL, *sub;
	struct config cfg;
	struct err e = ERR_INIT;
	void *values = NULL;
	int npos, status = EXIT_OK;

	config_init(&cfg);
	if (c->subs) {
		if (find_sub(c, g, &argc, &argv, &sub, &e) < 0) {
			report_setup(verbosity_of(g), false);
			status = fail(&e);
			report_info(stderr, "try 'pve-gitops %s --help'\n",
				    c->name);
			goto out;
		}
		if (!sub) {
			cmd_usage(stdout, NULL, c);
			goto out;
		}
		parent = c;
		c = sub;
	}
	npos = parse_command(parent, c, g, &values, argc, argv, NULL, &e);
	if (npos < 0) {
		status = fail(&e);
		goto out;
	}
	if (g->help) {
		cmd_usage(stdout, parent, c);
		goto out;
	}
	config_release(&cfg);
	if (((parent ? parent : c)->flags & CMD_SETUP_GENTLY
		     ? run_gently(c, &cfg, env, g, values, npos, argv, &e)
		     : run_strict(c, &cfg, env, g, values, npos, argv, &e)) < 0)
		status = fail(&e);
out:
	if (detailed && status == EXIT_INVALID && e.msg.len)
		status = EXIT_FAIL;
	free(values);
	config_release(&cfg);
	err_release(&e);
	return status;
}

int main(int argc, char **argv)
{
	struct global_opts g = { 0 };
	struct env env;
	struct err e = ERR_INIT;
	const struct cmd *c;
	int consumed = 0, status = EXIT_OK, ret;

	env_init(&env);
	env_parse(&env, (const char *const *)environ);
	ret = opts_parse(global_options, &g, argc - 1, argv + 1, 1, &consumed,
			 &e);
	report_setup(verbosity_of(&g), false); /* colour: once configured */
	if (ret < 0) {
		status = fail(&e);
		report_info(stderr, "try 'pve-gitops --help'\n");
		goto out;
	}
	if (g.version) {
		printf("pve-gitops %s\n", PVE_GITOPS_VERSION);
		goto out;
	}
	if (g.help || consumed + 1 >= argc) {
		usage(g.help ? stdout : stderr);
		status = g.help ? EXIT_OK : EXIT_INVALID;
		goto out;
	}
	c = find_command(argv[consumed + 1]);
	if (!c) {
		err_set(&e, EXIT_INVALID, "unknown command '%s'",
			argv[consumed + 1]);
		status = fail(&e);
		report_info(stderr, "try 'pve-gitops --help'\n");
		goto out;
	}
	if (g.dir && chdir(g.dir) < 0) {
		err_errno(&e, errno, "cannot change to directory '%s'", g.dir);
		e.exit_code = EXIT_INVALID;
		status = fail(&e);
		goto out;
	}
	if (c == &cmd_output) { /* terraform's spelling, -json */
		int k;

		for (k = consumed + 2; k < argc; k++)
			if (!strcmp(argv[k], "-json"))
				argv[k] = (char *)"--json";
	}
	status =
		dispatch(c, &g, &env, argc - consumed - 2, argv + consumed + 2);
out:
	env_release(&env);
	err_release(&e);
	return status;
}
