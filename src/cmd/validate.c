/*
 * validate.c - `pve-gitops validate [FILE...]`: parse and check VM
 * definitions offline, report every problem, list what was read.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/vmset.h"
#include "io/repo.h"
#include "ops/workloads.h"
#include "util/report.h"

struct validate_opts {
	int unused;
};

static const struct opt validate_options[] = {
	OPT_END,
};

static void print_json(const struct diag_list *dl)
{
	json_t *arr = json_array();
	char *text;
	size_t i;

	for (i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];

		json_array_append_new(
			arr,
			json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", d->file,
				  "line", d->line, "column", d->col, "severity",
				  diag_severity_name(d->severity), "message",
				  d->msg));
	}
	text = json_dumps(arr, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(arr);
}

static void print_disks(struct strbuf *sb, const struct vmdef *vm)
{
	size_t i, n = 0;

	for (i = 0; i < vm->nr_disks; i++)
		if (vm->disks[i].kind == DISK_DISK ||
		    vm->disks[i].kind == DISK_PASSTHROUGH)
			n++;
	strbuf_addf(sb, "%zu disk%s", n, n == 1 ? "" : "s");
}

static void print_table(const struct vmset *set, const struct repo_load *rl,
			const struct diag_list *dl)
{
	struct strbuf ip = STRBUF_INIT, disks = STRBUF_INIT;
	size_t i;

	printf("%-24s %-10s %5s %10s  %-22s %-16s %s\n", "VM", "NODE", "vCPU",
	       "MEMORY", "CLONE", "ADDRESS", "DISKS");
	for (i = 0; i < set->nr; i++) {
		const struct vmdef *vm = &set->items[i];
		const char *addr = vmdef_ipv4(vm, &ip);

		if (!set->focus[i])
			continue;
		strbuf_reset(&disks);
		print_disks(&disks, vm);
		report_print(stdout,
			     "%-24s %-10s %5llu %6llu MiB  %-22s %-16s %s\n",
			     vm->name, vm->target_node,
			     (unsigned long long)(vm->cores * vm->sockets),
			     (unsigned long long)vm->memory,
			     vm->clone ? vm->clone : "(empty VM)",
			     addr ? addr : "dhcp", disks.buf);
	}
	for (i = 0; i < rl->excluded.nr; i++)
		report_print(stdout, "excluded: %s\n", rl->excluded.v[i]);
	for (i = 0; i < rl->ignored.nr; i++)
		report_print(stdout, "ignored (not *.yaml): %s\n",
			     rl->ignored.v[i]);
	printf("%zu definition%s valid, %zu warning%s\n", rl->read.nr,
	       rl->read.nr == 1 ? "" : "s", dl->warnings,
	       dl->warnings == 1 ? "" : "s");
	strbuf_release(&ip);
	strbuf_release(&disks);
}

static int count_files_with_errors(const struct diag_list *dl)
{
	const char *last = NULL;
	size_t i;
	int n = 0;

	for (i = 0; i < dl->nr; i++) {
		if (dl->items[i].severity != DIAG_ERROR)
			continue;
		if (!last || strcmp(dl->items[i].file, last))
			n++;
		last = dl->items[i].file;
	}
	return n;
}

/* Whether file is the definition of a VM of another cluster than
 * --cluster's. */
static bool other_cluster(const struct config *cfg, const struct vmset *set,
			  const char *file)
{
	size_t i;

	for (i = 0; i < set->nr; i++)
		if (!strcmp(set->items[i].file, file))
			return strcmp(set->items[i].cluster
					      ? set->items[i].cluster
					      : CONFIG_DEFAULT_CLUSTER,
				      cfg->only_cluster) != 0;
	return false;
}

/* --cluster NAME: the diagnostics of the other clusters' definitions
 * left out (the checks across the repository still ran). */
static void only_cluster(const struct config *cfg, const struct vmset *set,
			 struct diag_list *dl)
{
	struct diag_list keep = DIAG_LIST_INIT;
	size_t i;

	if (!cfg->only_cluster || !config_multi_cluster(cfg))
		return;
	for (i = 0; i < dl->nr; i++) {
		const struct diag *d = &dl->items[i];

		if (other_cluster(cfg, set, d->file))
			continue;
		diag_add(&keep, d->severity, d->file, d->line, d->col, "%s",
			 d->msg);
		keep.items[keep.nr - 1].validate_only = d->validate_only;
	}
	diag_list_release(dl);
	*dl = keep;
}

static int run_validate(const struct config *cfg, void *opts, int argc,
			char **argv, struct err *e)
{
	struct vmset set = VMSET_INIT;
	struct diag_list dl = DIAG_LIST_INIT;
	struct repo_load rl = REPO_LOAD_INIT;
	size_t workspaces = 0;
	int ret = -1;

	(void)opts;
	if (repo_load_vms(&set, &dl, &rl, cfg, (const char *const *)argv,
			  (size_t)argc, e) < 0)
		goto out;
	/* the whole repository: its workspace files too */
	if (!argc && workloads_validate(&dl, &workspaces, cfg, e) < 0)
		goto out;
	vmset_check(&set, &dl);
	config_check_ip_pools(cfg, set.items, set.nr, &dl);
	config_check_clusters(cfg, set.items, set.nr, &dl);
	only_cluster(cfg, &set, &dl);
	vmset_sort(&set);
	diag_list_sort(&dl);
	if (cfg->json)
		print_json(&dl);
	else
		report_diags(cfg, &dl, true);
	if (dl.errors) {
		int files = count_files_with_errors(&dl);

		err_set(e, EXIT_INVALID, "%zu error%s in %d file%s", dl.errors,
			dl.errors == 1 ? "" : "s", files,
			files == 1 ? "" : "s");
		goto out;
	}
	if (!cfg->json && cfg->verbosity >= 0)
		print_table(&set, &rl, &dl);
	if (!cfg->json && workspaces)
		report_info(stdout, "%zu workspace%s valid (%s)\n", workspaces,
			    workspaces == 1 ? "" : "s", cfg->clusters_dir);
	ret = 0;
out:
	repo_load_release(&rl);
	diag_list_release(&dl);
	vmset_release(&set);
	return ret;
}

const struct cmd cmd_validate = {
	.name = "validate",
	.summary = "parse and check VM definitions offline",
	.args = "[FILE...]",
	.opts = validate_options,
	.opts_size = sizeof(struct validate_opts),
	.flags = CMD_SETUP,
	.run = run_validate,
};
