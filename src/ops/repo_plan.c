/*
 * repo_plan.c - the repository's definitions read, checked and turned into
 * desired configurations; see repo_plan.h.
 */
#include "ops/repo_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/xalloc.h"

void report_diags(const struct config *cfg, const struct diag_list *dl)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];

		if (d->severity == DIAG_WARNING && cfg->verbosity < 0)
			continue;
		strbuf_reset(&sb);
		diag_format(&sb, d);
		if (cfg->color) {
			const char *word = diag_severity_name(d->severity);
			const char *colour = d->severity == DIAG_ERROR
						     ? "\033[1;31m"
						     : "\033[1;35m";
			struct strbuf pat = STRBUF_INIT;
			char *at;

			/* colour the severity word, as compilers do */
			strbuf_addf(&pat, ": %s: ", word);
			at = strstr(sb.buf, pat.buf);
			strbuf_release(&pat);
			if (at) {
				at += 2;
				fprintf(stderr, "%.*s%s%s\033[0m%s\n",
					(int)(at - sb.buf), sb.buf, colour,
					word, at + strlen(word));
				continue;
			}
		}
		fprintf(stderr, "%s\n", sb.buf);
	}
	strbuf_release(&sb);
}

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
