/*
 * release.c - `pve-gitops release [--dry-run]`: the next semantic version
 * from the conventional commits since the last release tag, its notes
 * prepended to CHANGELOG.md, the commit "chore(release): X.Y.Z [skip ci]"
 * and the tag, the way semantic-release with the changelog and git
 * plugins releases. The work is ops/release.c's; this file parses the
 * option and prints what was decided.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "ops/release.h"
#include "util/exitcode.h"
#include "util/report.h"

struct release_cmd_opts {
	int dry_run;
};

static const struct opt release_options[] = {
	{ "dry-run", 'n', OPT_BOOL, offsetof(struct release_cmd_opts, dry_run),
	  NULL, "print the next version and its notes; change nothing" },
	OPT_END,
};

static void print_json(const struct release_result *r)
{
	json_t *o;
	char *s;

	if (r->type == RELEASE_NONE)
		o = json_pack("{s:n}", "version");
	else
		o = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "version",
			      r->version, "last", r->last_version, "type",
			      release_type_name(r->type), "tag", r->tag,
			      "notes", r->notes);
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_ENSURE_ASCII) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int run_release(const struct config *cfg, void *opts, int argc,
		       char **argv, struct err *e)
{
	struct release_cmd_opts *o = opts;
	struct release_request req = { o->dry_run };
	struct release_outcome out;
	const struct release_result *r = &out.r;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "release takes no arguments");
	if (release_make(&out, cfg, &req, e) < 0) {
		release_outcome_release(&out);
		return -1;
	}
	if (cfg->json)
		print_json(r);
	else if (r->type == RELEASE_NONE && r->last_tag)
		report_info(stdout,
			    "nothing to release: no commit since %s warrants a "
			    "release\n",
			    r->last_tag);
	else if (r->type == RELEASE_NONE)
		report_info(stdout, "nothing to release: no commit warrants a "
				    "first release\n");
	else if (r->type != RELEASE_NONE && o->dry_run)
		report_print(stdout, "%s\n\n%s", r->version, r->notes);
	else if (out.made)
		report_info(stdout, "released %s (%s release, tag %s)\n",
			    r->version, release_type_name(r->type), r->tag);
	release_outcome_release(&out);
	return 0;
}

const struct cmd cmd_release = {
	.name = "release",
	.summary = "next semantic version, CHANGELOG.md, release commit and "
		   "tag from conventional commits",
	.args = "",
	.opts = release_options,
	.opts_size = sizeof(struct release_cmd_opts),
	.flags = CMD_SETUP,
	.run = run_release,
};
