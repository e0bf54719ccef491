/*
 * common.c - what the commands share; see common.h.
 */
#include "cmd/common.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

int repo_plan_load(struct repo_plan *rp, const struct config *cfg,
		   struct err *e)
{
	return repo_plan_read(rp, cfg, report_diags, e);
}

int cmd_invoke(const struct cmd *c, const struct config *cfg,
	       const char *const *args, struct err *e)
{
	size_t n = 0;
	char **argv;
	void *opts;
	int argc, ret = -1;

	while (args[n])
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	memcpy(argv, args, n * sizeof(*argv));
	opts = xcalloc(1, c->opts_size ? c->opts_size : 1);
	argc = opts_parse(c->opts, opts, (int)n, argv, 0, NULL, e);
	if (argc >= 0)
		ret = c->run(cfg, opts, argc, argv, e);
	free(opts);
	free(argv);
	return ret;
}
