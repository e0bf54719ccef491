/*
 * output.c - `pve-gitops output [--json] [NAME]` and the outputs file that
 * apply writes: vm_ips, k8s_nodes and ansible_inventory in the shape of
 * `terraform output -json`, so whatever read the seed's tf_output.json
 * reads this file unchanged.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "util/exitcode.h"
#include "util/fileio.h"

struct output_opts {
	int unused;
};

static const struct opt output_options[] = {
	OPT_END,
};

static json_t *output(json_t *value, json_t *type)
{
	return json_pack("{s:b, s:o, s:o}", "sensitive", 0, "type", type,
			 "value", value);
}

/* The IPv4 address of ipconfig0 ("ip=A.B.C.D/NN,..."), or NULL. */
static const char *address(const struct vmdef *vm, struct strbuf *buf)
{
	return vmdef_ipv4(vm, buf);
}

static json_t *outputs_build(const struct repo_plan *rp,
			     const struct config *cfg)
{
	json_t *ips = json_object(), *k8s = json_object(), *inv = json_object();
	struct strbuf ip = STRBUF_INIT;
	size_t i, j;

	for (i = 0; i < rp->in.nr_defs; i++) {
		const struct vmdef *vm = rp->defs[i];
		const struct actual_vm *a = NULL;
		const char *addr;

		for (j = 0; j < rp->cluster.nr; j++)
			if (rp->cluster.vms[j].name &&
			    !strcmp(rp->cluster.vms[j].name, vm->name) &&
			    actual_is_managed(&rp->cluster.vms[j]))
				a = &rp->cluster.vms[j];
		if (!a)
			continue; /* not created (yet) */
		addr = address(vm, &ip);
		json_object_set_new(
			ips, vm->name,
			json_string(vm->ipconfig0 ? vm->ipconfig0 : "ip=dhcp"));
		if (!strncmp(vm->name, "k8s-", 4))
			json_object_set_new(k8s, vm->name,
					    json_pack("{s:s?, s:s}", "ip", addr,
						      "node", vm->target_node));
		json_object_set_new(
			inv, vm->name,
			json_pack("{s:s?, s:s, s:s, s:i}", "ansible_host", addr,
				  "ansible_user",
				  vm->ciuser ? vm->ciuser : cfg->ansible_user,
				  "node", vm->target_node, "vmid", a->vmid));
	}
	strbuf_release(&ip);
	return json_pack(
		"{s:o, s:o, s:o}", "vm_ips",
		output(ips, json_pack("[s, s]", "map", "string")), "k8s_nodes",
		output(k8s, json_pack("[s, [s, {s:s, s:s}]]", "map", "object",
				      "ip", "string", "node", "string")),
		"ansible_inventory",
		output(inv, json_pack("[s, [s, {s:s, s:s, s:s, s:s}]]", "map",
				      "object", "ansible_host", "string",
				      "ansible_user", "string", "node",
				      "string", "vmid", "number")));
}

int outputs_write(const struct repo_plan *rp, const struct config *cfg,
		  struct err *e)
{
	json_t *o = outputs_build(rp, cfg);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct strbuf sb = STRBUF_INIT;
	int ret;

	strbuf_addf(&sb, "%s\n", text);
	ret = file_make_parents(cfg->outputs, NULL, e) < 0
		      ? -1
		      : file_write_atomic(cfg->outputs, sb.buf, sb.len, 0644,
					  e);
	strbuf_release(&sb);
	free(text);
	json_decref(o);
	return ret;
}

static int run_output(const struct config *cfg, void *opts, int argc,
		      char **argv, struct err *e)
{
	struct strbuf buf = STRBUF_INIT;
	json_t *root = NULL, *item, *value;
	json_error_t jerr;
	const char *name;
	int ret = -1;

	(void)opts;
	if (argc > 1)
		return err_set(e, EXIT_INVALID,
			       "output takes at most one NAME");
	if (file_read_all(&buf, cfg->outputs, 64 << 20, e) < 0) {
		err_prefix(e, "no outputs yet (they are written by apply)");
		goto out;
	}
	root = json_loadb(buf.buf, buf.len, 0, &jerr);
	if (!json_is_object(root)) {
		err_set(e, EXIT_FAIL, "%s:%d: %s", cfg->outputs, jerr.line,
			jerr.text);
		goto out;
	}
	if (argc) {
		item = json_object_get(root, argv[0]);
		if (!item) {
			err_set(e, EXIT_INVALID,
				"no output named '%s' (there are vm_ips, "
				"k8s_nodes, ansible_inventory)",
				argv[0]);
			goto out;
		}
		value = json_object_get(item, "value");
		if (json_is_string(value) && !cfg->json)
			printf("%s\n", json_string_value(value));
		else {
			char *t = json_dumps(value, JSON_INDENT(2) |
							    JSON_SORT_KEYS |
							    JSON_ENCODE_ANY);

			printf("%s\n", t);
			free(t);
		}
		ret = 0;
		goto out;
	}
	if (cfg->json) {
		char *t = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", t);
		free(t);
	} else {
		json_object_foreach(root, name, item)
		{
			char *t = json_dumps(json_object_get(item, "value"),
					     JSON_INDENT(2) | JSON_SORT_KEYS |
						     JSON_ENCODE_ANY);

			printf("%s = %s\n", name, t);
			free(t);
		}
	}
	ret = 0;
out:
	json_decref(root);
	strbuf_release(&buf);
	return ret;
}

const struct cmd cmd_output = {
	.name = "output",
	.summary =
		"print the outputs of the last apply (terraform output shape)",
	.args = "[NAME]",
	.opts = output_options,
	.opts_size = sizeof(struct output_opts),
	.run = run_output,
};
