/*
 * inventory.c - `pve-gitops inventory`: rewrite the Ansible inventory,
 * new_hosts.txt and host_vars from what exists (the outputs of the last
 * apply, or Proxmox with --live), or speak Ansible's dynamic inventory
 * protocol (--list, --host NAME). The work is ops/inventory's.
 */
#include <errno.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "ops/inventory.h"
#include "util/exitcode.h"

struct inventory_opts {
	int dry_run, live, list;
	char *host;
};

static const struct opt inventory_options[] = {
	{ "dry-run", 'n', OPT_BOOL, offsetof(struct inventory_opts, dry_run),
	  NULL, "print the diff and change nothing" },
	{ "live", 0, OPT_BOOL, offsetof(struct inventory_opts, live), NULL,
	  "read the VMs from Proxmox instead of the last outputs" },
	{ "list", 0, OPT_BOOL, offsetof(struct inventory_opts, list), NULL,
	  "print the dynamic inventory (Ansible's --list protocol)" },
	{ "host", 0, OPT_STRING, offsetof(struct inventory_opts, host), "NAME",
	  "print one host's variables (Ansible's --host protocol)" },
	OPT_END,
};

static int print_dynamic(const struct config *cfg,
			 const struct inventory_opts *o, struct err *e)
{
	struct strbuf out = STRBUF_INIT;
	int ret = -1;

	if (inventory_dynamic(cfg, o->live, o->host, &out, e) < 0)
		goto out;
	if (fwrite(out.buf, 1, out.len, stdout) != out.len ||
	    fflush(stdout) == EOF) {
		err_errno(e, errno, "cannot write to stdout");
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&out);
	return ret;
}

static int run_inventory(const struct config *cfg, void *opts, int argc,
			 char **argv, struct err *e)
{
	struct inventory_opts *o = opts;
	struct inventory_req req = { .dry_run = o->dry_run, .live = o->live };
	struct inventory_result res;
	int ret;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "inventory takes no arguments");
	if (o->list + !!o->host + o->dry_run > 1)
		return err_set(e, EXIT_INVALID,
			       "--list, --host and --dry-run exclude each "
			       "other");
	if (o->list || o->host)
		return print_dynamic(cfg, o, e);
	inventory_result_init(&res);
	ret = inventory_run(cfg, &req, &res, e);
	if (!ret)
		inventory_print(cfg, &res);
	inventory_result_release(&res);
	return ret;
}

const struct cmd cmd_inventory = {
	.name = "inventory",
	.summary = "rewrite the Ansible inventory, new_hosts and host_vars",
	.args = "",
	.opts = inventory_options,
	.opts_size = sizeof(struct inventory_opts),
	.run = run_inventory,
};
