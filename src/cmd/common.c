/*
 * common.c - shared set-up of plan and apply; see common.h.
 */
#include "cmd/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/xalloc.h"

int cmd_pve_connect(struct pve_client *pc, const struct config *cfg,
		    struct err *e)
{
	return pve_client_open(pc, cfg, e);
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
