/*
 * tag.c - `pve-gitops tag [MESSAGE | --commit REV]`: print the playbook a
 * commit message names with [ansible NAME]. Exit 1 when there is no tag,
 * 2 when the name is refused (the error says why). Without arguments, the
 * message of HEAD. It never reads the config (CMD_SETUP_GENTLY): a broken
 * pve-gitops.yaml does not stop it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/tag.h"
#include "io/git.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/strvec.h"

struct tag_opts {
	char *commit;
};

static const struct opt tag_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct tag_opts, commit), "REV",
	  "read the message of this commit (default: HEAD)" },
	OPT_END,
};

/* The config is not used; say so with -v when it did not load. */
static void note_setup(const struct config *cfg, const struct cmd_setup *setup)
{
	if (setup->failed)
		report_debug("the configuration is not used by tag: %s",
			     setup->err.msg.buf);
	else
		report_diags(cfg, &setup->diags,
			     false); /* its warnings, as always */
}

static int run_tag(const struct config *cfg, const struct cmd_setup *setup,
		   void *opts, int argc, char **argv, struct err *e)
{
	struct tag_opts *o = opts;
	struct strbuf msg = STRBUF_INIT, name = STRBUF_INIT, why = STRBUF_INIT;
	int ret = -1;

	note_setup(cfg, setup);
	if (argc > 1 || (argc && o->commit))
		return err_set(e, EXIT_INVALID,
			       "tag takes one MESSAGE or --commit REV");
	if (argc)
		strbuf_addstr(&msg, argv[0]);
	else if (git_commit_message(o->commit ? o->commit : "HEAD", &msg, e) <
		 0)
		goto out;
	switch (tag_extract(msg.buf, msg.len, &name, &why)) {
	case TAG_FOUND:
		if (why.len) /* "[ansible k8s-ha.yml]": the suffix dropped */
			report_note("%s", why.buf);
		printf("%s\n", name.buf);
		ret = 0;
		break;
	case TAG_NONE:
		err_set(e, EXIT_FAIL, "no [ansible NAME] tag in the message");
		break;
	case TAG_REFUSED: /* raw: report.h escapes it once */
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "refused playbook name '%s': %s", name.buf, why.buf);
		break;
	}
out:
	strbuf_release(&msg);
	strbuf_release(&name);
	strbuf_release(&why);
	return ret;
}

const struct cmd cmd_tag = {
	.name = "tag",
	.summary = "print the playbook a commit names with [ansible NAME]",
	.args = "[MESSAGE]",
	.opts = tag_options,
	.opts_size = sizeof(struct tag_opts),
	.flags = CMD_SETUP_GENTLY,
	.run_gently = run_tag,
};
