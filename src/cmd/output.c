/*
 * output.c - `pve-gitops output [--json] [NAME]`: the outputs file apply
 * writes (core/outputs.h), printed whole or one output at a time.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "core/outputs.h"
#include "util/beneath.h"
#include "util/report.h"
#include "util/exitcode.h"

struct output_opts {
	int unused;
};

static const struct opt output_options[] = {
	OPT_END,
};

/* The outputs file, below the repository only, as apply wrote it. */
static int read_outputs(struct strbuf *buf, const char *path, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	int ret = beneath_root(&root, ".", e);

	if (!ret)
		ret = beneath_read(&root, path, buf, OUTPUTS_FILE_MAX, e);
	beneath_release(&root);
	if (ret < 0 && err_is(e, ERR_NOTFOUND))
		err_prefix(e, "no outputs yet (they are written by apply)");
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
	if (read_outputs(&buf, cfg->outputs, e) < 0)
		goto out;
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
			/* the file is in the repository: outside text */
			report_print(stdout, "%s\n", json_string_value(value));
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

			report_print(stdout, "%s = %s\n", name, t);
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
