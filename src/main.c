/*
 * main.c - pve-gitops: global options, configuration, dispatch.
 *
 * Reads the global flags, the environment and the config file once into a
 * struct config, finds the subcommand in the table below, parses its options
 * from its own table and runs it. Only this file prints errors and chooses
 * the exit status (see util/exitcode.h).
 */
#include <errno.h>
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
	&cmd_validate,	&cmd_plan,	&cmd_apply,	 &cmd_output,
	&cmd_tag,	&cmd_inventory, &cmd_kubeconfig, &cmd_pipeline,
	&cmd_provision, &cmd_run,	&cmd_watch,	 &cmd_release,
	NULL,
};

struct global_opts {
	const char *dir;
	const char *config;
	int json, no_color, quiet, verbose, help, version;
};

static const struct opt global_options[] = {
	{ NULL, 'C', OPT_STRING, offsetof(struct global_opts, dir), "DIR",
	  "run as if started in DIR (the repository root)" },
	{ "config", 0, OPT_STRING, offsetof(struct global_opts, config), "FILE",
	  "configuration file (default: ./pve-gitops.yaml when present)" },
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

	fprintf(fp, "usage: pve-gitops [-C DIR] [--config FILE] [--json] "
		    "[--no-color] [-q|-v] COMMAND [ARGS]\n\n"
		    "Turn a git repository of VM definitions into provisioned "
		    "Proxmox VE VMs.\n\ncommands:\n");
	for (i = 0; commands[i]; i++)
		fprintf(fp, "  %-12s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(fp, "\nglobal options:\n");
	opts_help(fp, global_options);
	fprintf(fp, "\nexit status: 0 success, 1 failure, 2 usage error or "
		    "invalid input.\n'pve-gitops COMMAND --help' describes a "
		    "command.\n");
}

static void cmd_usage(FILE *fp, const struct cmd *c)
{
	fprintf(fp, "usage: pve-gitops %s [OPTIONS] %s\n\n%s\n", c->name,
		c->args ? c->args : "", c->summary);
	if (c->opts[0].long_name || c->opts[0].short_name) {
		fprintf(fp, "\noptions:\n");
		opts_help(fp, c->opts);
	}
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
	 * --detailed-exitcode with changes) */
	if (e->msg.len)
		report_error("%s", e->msg.buf);
	return e->exit_code ? e->exit_code : EXIT_FAIL;
}

static int setup_config(struct config *cfg, const struct env *env,
			const struct global_opts *g, struct err *e)
{
	struct diag_list dl = DIAG_LIST_INIT;

	config_init(cfg);
	cfg->env = env;
	cfg->json = g->json;
	cfg->verbosity = g->quiet ? -1 : g->verbose ? 1 : 0;
	cfg->color = !g->no_color && !env->no_color && isatty(STDERR_FILENO);
	report_setup(cfg->verbosity, cfg->color);
	if (repo_load_config(cfg, &dl, g->config, e) < 0) {
		if (dl.nr) {
			diag_list_sort(&dl);
			report_diags(cfg, &dl);
			err_set(e, EXIT_INVALID, "invalid configuration");
		}
		diag_list_release(&dl);
		return -1;
	}
	report_diags(cfg, &dl); /* warnings */
	diag_list_release(&dl);
	return 0;
}

/* Global flags that may also follow the command name. */
static const struct opt late_globals[] = {
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
 * positional arguments (gathered at the start of argv) or -1.
 */
static int parse_command(const struct cmd *c, struct global_opts *g,
			 void **values, int argc, char **argv, struct err *e)
{
	size_t n = 0, i, nlate = sizeof(late_globals) / sizeof(late_globals[0]);
	size_t base = (c->opts_size + 15) / 16 * 16;
	struct opt *opts;
	int npos;

	while (c->opts[n].long_name || c->opts[n].short_name)
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
	npos = opts_parse(opts, *values, argc, argv, 0, NULL, e);
	memcpy(g, (char *)*values + base, sizeof(*g));
	free(opts);
	if (npos < 0) {
		err_prefix(e, "%s", c->name);
		e->exit_code = EXIT_INVALID;
	}
	return npos;
}

int main(int argc, char **argv)
{
	struct global_opts g = { 0 };
	struct config cfg;
	struct env env;
	struct err e = ERR_INIT;
	const struct cmd *c;
	int consumed = 0, npos, status = EXIT_OK;
	void *values = NULL;

	config_init(&cfg);
	env_init(&env);
	env_parse(&env, (const char *const *)environ);
	if (opts_parse(global_options, &g, argc - 1, argv + 1, 1, &consumed,
		       &e) < 0) {
		status = fail(&e);
		fprintf(stderr, "try 'pve-gitops --help'\n");
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
		fprintf(stderr, "try 'pve-gitops --help'\n");
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
	npos = parse_command(c, &g, &values, argc - consumed - 2,
			     argv + consumed + 2, &e);
	if (npos < 0) {
		status = fail(&e);
		goto out;
	}
	if (g.help) {
		cmd_usage(stdout, c);
		goto out;
	}
	config_release(&cfg);
	if (setup_config(&cfg, &env, &g, &e) < 0 ||
	    c->run(&cfg, values, npos, argv + consumed + 2, &e) < 0)
		status = fail(&e);
out:
	free(values);
	config_release(&cfg);
	env_release(&env);
	err_release(&e);
	return status;
}
