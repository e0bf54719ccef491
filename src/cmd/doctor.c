/*
 * doctor.c - `pve-gitops doctor [NAME] [--json]`: walk the chain of one VM
 * (every link, with its fix) or of every definition (a table), as
 * ops/doctor.h does it; exit 0 when every link reached is ok, 1 when one
 * failed. A config that does not load does not stop it
 * (CMD_SETUP_GENTLY): the config link fails and says why.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "core/doctor.h"
#include "ops/doctor.h"
#include "util/exitcode.h"
#include "util/report.h"

struct doctor_opts {
	unsigned ssh_wait;
};

static const struct opt doctor_options[] = {
	{ "ssh-wait", 0, OPT_UINT, offsetof(struct doctor_opts, ssh_wait),
	  "SECONDS", "how long the SSH port may take to answer (default 5)" },
	OPT_END,
};

/* Why the config did not load: the error and its first diagnostic. */
static void setup_error(struct strbuf *out, const struct cmd_setup *setup)
{
	size_t i;

	strbuf_addstr(out, setup->err.msg.buf);
	for (i = 0; i < setup->diags.nr; i++)
		if (setup->diags.items[i].severity == DIAG_ERROR) {
			strbuf_addstr(out, ": ");
			diag_format(out, &setup->diags.items[i]);
			strbuf_trim(out);
			break;
		}
}

static void print_report(const struct config *cfg,
			 const struct doctor_report *r, bool one)
{
	struct strbuf text = STRBUF_INIT;
	json_t *j;
	char *s;

	if (cfg->json) {
		j = doctor_render_json(r);
		s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(j);
		return;
	}
	doctor_render_text(&text, r, one);
	report_print(stdout, "%s", text.buf); /* names, API text: escaped */
	strbuf_release(&text);
}

static int run_doctor(const struct config *cfg, const struct cmd_setup *setup,
		      void *opts, int argc, char **argv, struct err *e)
{
	struct doctor_opts *o = opts;
	struct doctor_req req = { 0 };
	struct doctor_report r;
	struct strbuf why = STRBUF_INIT;
	int ret;

	if (argc > 1)
		return err_set(e, EXIT_INVALID,
			       "doctor takes at most one NAME");
	report_diags(cfg, &setup->diags, false); /* errors or warnings */
	req.name = argc ? argv[0] : NULL;
	req.config_failed = setup->failed;
	req.config_warnings = setup->diags.warnings;
	req.ssh_wait = o->ssh_wait;
	if (setup->failed) {
		setup_error(&why, setup);
		req.config_error = why.buf;
	}
	doctor_report_init(&r);
	ret = doctor_run(cfg, &req, &r, e);
	if (!ret) {
		print_report(cfg, &r, req.name != NULL);
		if (!doctor_report_ok(&r)) /* a status, not an error */
			ret = err_set(e, EXIT_FAIL, "%s", "");
	}
	doctor_report_release(&r);
	strbuf_release(&why);
	return ret;
}

const struct cmd cmd_doctor = {
	.name = "doctor",
	.summary = "walk the chain of a VM (or all) and say which link broke",
	.args = "[NAME]",
	.opts = doctor_options,
	.opts_size = sizeof(struct doctor_opts),
	.flags = CMD_SETUP_GENTLY,
	.run_gently = run_doctor,
};
