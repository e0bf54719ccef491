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

/*
 * An excluded definition's VM is not "gone": keep its name (the name:
 * inside, read leniently; the file name when it has none) from prune.
 */
static void keep_excluded(struct repo_plan *rp, const struct config *cfg,
			  const char *file)
{
	struct vmdef_opts opts = { false };
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf buf = STRBUF_INIT, path = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct vmdef vm;
	const char *base = strrchr(file, '/'), *dot;

	strbuf_addstr(&path, file);
	if (access(path.buf, F_OK) < 0) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s", cfg->vms_dir, file);
	}
	vmdef_init(&vm);
	if (file_read_all(&buf, path.buf, 1 << 20, &e) == 0)
		vmdef_parse(&vm, &dl, path.buf, buf.buf, buf.len, &opts);
	if (vm.name) {
		strvec_push(&rp->keep, vm.name);
	} else {
		base = base ? base + 1 : file;
		dot = strrchr(base, '.');
		strvec_pushf(&rp->keep, "%.*s",
			     (int)(dot ? (size_t)(dot - base) : strlen(base)),
			     base);
	}
	vmdef_release(&vm);
	diag_list_release(&dl);
	err_release(&e);
	strbuf_release(&buf);
	strbuf_release(&path);
}

int repo_plan_load(struct repo_plan *rp, const struct config *cfg,
		   struct err *e)
{
	struct diag_list dl = DIAG_LIST_INIT;
	size_t i, n = 0;
	int ret = -1;

	static const struct repo_load rl0 = REPO_LOAD_INIT;
	static const struct vmset set0 = VMSET_INIT;

	memset(rp, 0, sizeof(*rp));
	rp->set = set0;
	rp->rl = rl0;
	strvec_init(&rp->keep);
	if (repo_load_vms(&rp->set, &dl, &rp->rl, cfg, NULL, 0, e) < 0)
		goto out;
	vmset_check(&rp->set, &dl);
	vmset_sort(&rp->set);
	diag_list_sort(&dl);
	report_diags(cfg, &dl);
	if (dl.errors) {
		err_set(e, EXIT_INVALID,
			"%zu error%s in the definitions; nothing was sent to "
			"Proxmox",
			dl.errors, dl.errors == 1 ? "" : "s");
		goto out;
	}
	rp->defs = xcalloc(rp->set.nr + 1, sizeof(*rp->defs));
	rp->wants = xcalloc(rp->set.nr + 1, sizeof(*rp->wants));
	for (i = 0; i < rp->set.nr; i++) {
		rp->defs[n] = &rp->set.items[i];
		desired_build(&rp->wants[n], &rp->set.items[i]);
		n++;
	}
	for (i = 0; i < rp->rl.excluded.nr; i++)
		keep_excluded(rp, cfg, rp->rl.excluded.v[i]);
	rp->in.defs = rp->defs;
	rp->in.wants = rp->wants;
	rp->in.nr_defs = n;
	rp->in.keep_names = &rp->keep;
	ret = 0;
out:
	diag_list_release(&dl);
	return ret;
}

void repo_plan_release(struct repo_plan *rp)
{
	size_t i;

	plan_release(&rp->plan);
	cluster_release(&rp->cluster);
	for (i = 0; rp->wants && i < rp->in.nr_defs; i++)
		desired_release(&rp->wants[i]);
	free(rp->wants);
	free(rp->defs);
	strvec_clear(&rp->keep);
	repo_load_release(&rp->rl);
	vmset_release(&rp->set);
}

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
