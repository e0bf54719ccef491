/*
 * schema.c - `pve-gitops schema vmdef|config|workspace`: the JSON Schema
 * of a kind of file (core/schema.h), for editors.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "core/schema.h"
#include "util/exitcode.h"

struct schema_opts {
	int unused;
};

static const struct opt schema_options[] = {
	OPT_END,
};

static int run_schema(const struct config *cfg, const struct cmd_setup *setup,
		      void *opts, int argc, char **argv, struct err *e)
{
	json_t *s;
	char *text;

	(void)cfg;
	(void)setup;
	(void)opts;
	if (argc != 1)
		return err_set(e, EXIT_INVALID,
			       "schema takes one of vmdef, config or "
			       "workspace");
	s = schema_build(argv[0]);
	if (!s)
		return err_set(e, EXIT_INVALID,
			       "no schema of '%s': it takes vmdef, config or "
			       "workspace",
			       argv[0]);
	text = json_dumps(s, JSON_INDENT(2));
	printf("%s\n", text);
	free(text);
	json_decref(s);
	return 0;
}

const struct cmd cmd_schema = {
	.name = "schema",
	.summary = "print the JSON Schema of VM definitions, pve-gitops.yaml "
		   "or workspaces",
	.args = "vmdef|config|workspace",
	.opts = schema_options,
	.opts_size = sizeof(struct schema_opts),
	.flags = CMD_SETUP_GENTLY,
	.run_gently = run_schema,
};
