/*
 * table.c - command and subcommand tables: lookup, the usage error for a
 * missing or unknown subcommand, and the help of a command generated from
 * its table entry and option table; see cmd.h.
 */
#include <stdbool.h>
#include <string.h>

#include "cmd/cmd.h"
#include "util/strbuf.h"

const struct cmd *cmd_find_sub(const struct cmd *c, const char *name)
{
	const struct cmd *s;

	for (s = c->subs; s && s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

/* "merge, publish or get" */
static void sub_names(struct strbuf *sb, const struct cmd *c)
{
	const struct cmd *s;

	for (s = c->subs; s && s->name; s++)
		strbuf_addf(sb, "%s%s",
			    s == c->subs ? ""
			    : s[1].name	 ? ", "
					 : " or ",
			    s->name);
}

int cmd_sub_error(struct err *e, const struct cmd *c, const char *given)
{
	struct strbuf names = STRBUF_INIT;

	sub_names(&names, c);
	if (given)
		err_set(e, EXIT_INVALID, "unknown %s command '%s': it takes %s",
			c->name, given, names.buf);
	else
		err_set(e, EXIT_INVALID, "%s takes a command: %s", c->name,
			names.buf);
	strbuf_release(&names);
	return -1;
}

static bool has_opts(const struct opt *opts)
{
	return opts && (opts[0].long_name || opts[0].short_name);
}

void cmd_usage(FILE *fp, const struct cmd *parent, const struct cmd *c)
{
	const struct cmd *s;

	fprintf(fp, "usage: pve-gitops %s%s%s ", parent ? parent->name : "",
		parent ? " " : "", c->name);
	if (c->subs)
		fprintf(fp, "COMMAND [OPTIONS]\n\n%s\n\ncommands:\n",
			c->summary);
	else
		fprintf(fp, "[OPTIONS] %s\n\n%s\n", c->args ? c->args : "",
			c->summary);
	for (s = c->subs; s && s->name; s++)
		fprintf(fp, "  %-12s %s\n", s->name, s->summary);
	if (has_opts(c->opts)) {
		fprintf(fp, "\noptions:\n");
		opts_help(fp, c->opts);
	}
	if (c->subs)
		fprintf(fp,
			"\n'pve-gitops %s COMMAND --help' describes a "
			"command.\n",
			c->name);
}
