/*
 * pipeline.c - `pve-gitops pipeline`: stage one of the chain, what the
 * seed's Terraform workflow does. The tag comes from the commit's message
 * (refused names stop everything before anything else happens), then
 * apply, inventory, and the automated commit of the inventory, new_hosts
 * and host_vars, pushed when asked. A rejected push is rebased and
 * retried; a conflict on the files pve-gitops owns is resolved by
 * regenerating them on top of the other side, never by taking a side.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/chain.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/release.h"
#include "core/tag.h"
#include "io/git.h"
#include "util/exitcode.h"

#define PUSH_ATTEMPTS 5

struct pipeline_opts {
	char *commit, *remote;
	int push;
};

static const struct opt pipeline_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct pipeline_opts, commit),
	  "REV",
	  "the commit whose message names the playbook (default: HEAD)" },
	{ "push", 0, OPT_BOOL, offsetof(struct pipeline_opts, push), NULL,
	  "push the automated commit (rebased and retried when rejected)" },
	{ "remote", 0, OPT_STRING, offsetof(struct pipeline_opts, remote),
	  "NAME", "the remote to push to (default: git.remote)" },
	OPT_END,
};

void stage_one_init(struct stage_one *s)
{
	memset(s, 0, sizeof(*s));
	strbuf_init(&s->tag, 0);
	strbuf_init(&s->automated, 0);
	strbuf_init(&s->release_tag, 0);
}

void stage_one_release(struct stage_one *s)
{
	strbuf_release(&s->tag);
	strbuf_release(&s->automated);
	strbuf_release(&s->release_tag);
}

int chain_commit_tag(const char *rev, struct strbuf *name, struct err *e)
{
	struct strbuf msg = STRBUF_INIT, why = STRBUF_INIT, esc = STRBUF_INIT;
	int ret = -1;

	strbuf_reset(name);
	if (git_commit_message(rev, &msg, e) < 0)
		goto out;
	switch (tag_extract(msg.buf, msg.len, name, &why)) {
	case TAG_FOUND:
		ret = 1;
		break;
	case TAG_NONE:
		ret = 0;
		break;
	case TAG_REFUSED:
		strbuf_add_escaped(&esc, name->buf, name->len);
		err_set(e, EXIT_INVALID,
			"the commit's tag names '%s', which is refused: %s",
			esc.buf, why.buf);
		strbuf_reset(name);
		break;
	}
out:
	strbuf_release(&msg);
	strbuf_release(&why);
	strbuf_release(&esc);
	return ret;
}

/*
 * The paths of the automated commit that git can name: on disk, or known
 * to the index (a deleted file). out holds up to 3 and a NULL.
 */
static void owned_paths(const struct config *cfg, const char **out)
{
	const char *all[] = { cfg->inventory, cfg->new_hosts,
			      cfg->host_vars_dir };
	size_t i, n = 0;

	for (i = 0; i < 3; i++) {
		const char *ls[] = { "ls-files", "--", all[i], NULL };
		struct strbuf o = STRBUF_INIT;
		struct err ignore = ERR_INIT;
		int status = 1;

		if (access(all[i], F_OK) != 0)
			git_run(ls, &o, NULL, &status, &ignore);
		if (access(all[i], F_OK) == 0 || (!status && o.len))
			out[n++] = all[i];
		strbuf_release(&o);
		err_release(&ignore);
	}
	out[n] = NULL;
}

/* Stage the owned files (deletions too); 1 when that changes anything. */
static int stage_owned(const struct config *cfg, struct err *e)
{
	const char *paths[4];
	const char *add[] = { "add", "-A", "--", NULL, NULL, NULL, NULL };
	const char *diff[] = { "diff", "--cached", "--quiet", "--",
			       NULL,   NULL,	   NULL,      NULL };
	int status, i;

	owned_paths(cfg, paths);
	if (!paths[0])
		return 0;
	for (i = 0; i < 4; i++) {
		add[3 + i] = paths[i];
		diff[4 + i] = paths[i];
	}
	if (git_checked(cfg, "cannot stage the inventory", add, NULL, e) < 0)
		return -1;
	if (git_run_as(cfg, diff, NULL, NULL, &status, e) < 0)
		return -1;
	if (status > 1)
		return err_set(e, EXIT_FAIL,
			       "cannot compare the inventory with the index "
			       "(git exit status %d)",
			       status);
	return status == 1;
}

static int automated_commit(const struct config *cfg, struct stage_one *s,
			    struct err *e)
{
	struct strbuf msg = STRBUF_INIT;
	const char *paths[4];
	const char *commit[] = { "commit", "-q", "-m", NULL, "--",
				 NULL,	   NULL, NULL, NULL };
	const char *head[] = { "rev-parse", "HEAD", NULL };
	int rc, i, ret = -1;

	rc = stage_owned(cfg, e);
	if (rc <= 0) {
		if (!rc && cfg->verbosity >= 0)
			printf("pipeline: the inventory did not change; no "
			       "commit\n");
		return rc;
	}
	strbuf_addstr(&msg, "Auto-update Ansible inventory");
	if (s->tag.len)
		strbuf_addf(&msg, " [ansible %s]", s->tag.buf);
	commit[3] = msg.buf;
	owned_paths(cfg, paths);
	for (i = 0; i < 4; i++)
		commit[5 + i] = paths[i];
	if (git_checked(cfg, "cannot make the automated commit", commit, NULL,
			e) < 0 ||
	    git_checked(cfg, "cannot read HEAD", head, &s->automated, e) < 0)
		goto out;
	strbuf_trim(&s->automated);
	if (cfg->verbosity >= 0)
		printf("pipeline: committed %.12s \"%s\"\n", s->automated.buf,
		       msg.buf);
	ret = 0;
out:
	strbuf_release(&msg);
	return ret;
}

/* ---- pushing ------------------------------------------------------------ */

static bool is_owned(const struct config *cfg, const char *path)
{
	size_t n = strlen(cfg->host_vars_dir);

	return !strcmp(path, cfg->inventory) || !strcmp(path, cfg->new_hosts) ||
	       (!strncmp(path, cfg->host_vars_dir, n) && path[n] == '/');
}

/* The unmerged paths of a stopped rebase; -1 when one is not ours. */
static int owned_conflicts(const struct config *cfg, struct strvec *out,
			   struct err *e)
{
	const char *args[] = { "diff", "--name-only", "--diff-filter=U", NULL };
	struct strbuf o = STRBUF_INIT;
	char *line, *save = NULL;
	int ret = 0;

	if (git_checked(cfg, "cannot list the conflicts", args, &o, e) < 0) {
		strbuf_release(&o);
		return -1;
	}
	for (line = strtok_r(o.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!is_owned(cfg, line)) {
			ret = err_set(e, EXIT_FAIL,
				      "the rebase conflicts on %s, which "
				      "pve-gitops does not own",
				      line);
			break;
		}
		strvec_push(out, line);
	}
	strbuf_release(&o);
	if (!ret && !out->nr)
		ret = err_set(e, EXIT_FAIL,
			      "the rebase stopped without a "
			      "conflict pve-gitops can resolve");
	return ret;
}

/*
 * A rebase stopped on the automated commit: start from the other side's
 * owned files and write them again from what exists.
 */
static int regenerate(const struct config *cfg, struct err *e)
{
	static const char *const none[] = { NULL };
	const char *cont[] = { "-c", "core.editor=true", "rebase", "--continue",
			       NULL };
	const char *skip[] = { "rebase", "--skip", NULL };
	struct strvec paths;
	size_t i;
	int rc, ret = -1;

	strvec_init(&paths);
	if (owned_conflicts(cfg, &paths, e) < 0)
		goto out;
	if (cfg->verbosity >= 0) {
		printf("pipeline: the rebase conflicts on");
		for (i = 0; i < paths.nr; i++)
			printf(" %s", paths.v[i]);
		printf(": regenerating on top of the other side\n");
		fflush(stdout);
	}
	for (i = 0; i < paths.nr; i++) {
		const char *co[] = { "checkout", "--ours", "--", paths.v[i],
				     NULL };
		const char *rm[] = { "rm", "-q",       "--cached",
				     "--", paths.v[i], NULL };
		int status;

		if (git_run_as(cfg, co, NULL, NULL, &status, e) < 0)
			goto out;
		if (status) { /* gone on the other side */
			if (git_checked(cfg, "cannot drop a conflicted file",
					rm, NULL, e) < 0)
				goto out;
			unlink(paths.v[i]);
		}
	}
	if (cmd_invoke(&cmd_inventory, cfg, none, e) < 0) {
		err_prefix(e, "cannot regenerate the inventory after the "
			      "rebase");
		goto out;
	}
	rc = stage_owned(cfg, e);
	if (rc < 0)
		goto out;
	ret = git_checked(cfg, "cannot continue the rebase", rc ? cont : skip,
			  NULL, e);
out:
	strvec_clear(&paths);
	return ret;
}

static bool rebase_in_progress(void)
{
	const char *args[] = { "rev-parse", "--git-path", "rebase-merge",
			       NULL };
	struct strbuf o = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int status;
	bool yes = false;

	if (!git_run(args, &o, NULL, &status, &ignore) && !status) {
		strbuf_trim(&o);
		yes = access(o.buf, F_OK) == 0;
	}
	strbuf_release(&o);
	err_release(&ignore);
	return yes;
}

/* Fetch the branch and rebase on it, regenerating owned conflicts. */
static int rebase_on_remote(const struct config *cfg, const char *remote,
			    struct err *e)
{
	const char *fetch[] = {
		"fetch", "-q", "--end-of-options", remote, cfg->git.branch, NULL
	};
	/* --autostash: local changes outside the commits are not ours to
	 * judge; they come back after the rebase */
	const char *rebase[] = { "rebase", "-q", "--autostash", "FETCH_HEAD",
				 NULL };
	const char *abort_[] = { "rebase", "--abort", NULL };
	struct err ignore = ERR_INIT;
	int status, round;

	if (git_checked(cfg, "cannot fetch", fetch, NULL, e) < 0)
		return -1;
	if (git_run_as(cfg, rebase, NULL, NULL, &status, e) < 0)
		return -1;
	for (round = 0; status && rebase_in_progress() && round < 20; round++)
		if (regenerate(cfg, e) < 0) {
			git_run_as(cfg, abort_, NULL, NULL, &status, &ignore);
			err_release(&ignore);
			return err_prefix(e, "the push was rejected and the "
					     "rebase was undone");
		}
	if (rebase_in_progress()) {
		git_run_as(cfg, abort_, NULL, NULL, &status, &ignore);
		err_release(&ignore);
		return err_set(e, EXIT_FAIL, "the rebase did not finish");
	}
	return 0;
}

static int push(const struct config *cfg, const char *remote, struct err *e)
{
	struct strbuf ref = STRBUF_INIT, errs = STRBUF_INIT;
	int attempt, status, ret = -1;

	if (remote[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a remote", remote);
	strbuf_addf(&ref, "HEAD:refs/heads/%s", cfg->git.branch);
	for (attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
		const char *args[] = { "push", "-q",	"--end-of-options",
				       remote, ref.buf, NULL };

		strbuf_reset(&errs);
		if (git_run_as(cfg, args, NULL, &errs, &status, e) < 0)
			goto out;
		if (!status) {
			if (cfg->verbosity >= 0)
				printf("pipeline: pushed to %s %s%s\n", remote,
				       cfg->git.branch,
				       attempt ? " after a rebase" : "");
			ret = 0;
			goto out;
		}
		if (!strstr(errs.buf, "rejected") &&
		    !strstr(errs.buf, "fetch first") &&
		    !strstr(errs.buf, "non-fast-forward")) {
			strbuf_trim(&errs);
			err_set(e, EXIT_FAIL,
				"cannot push to %s: git exit status %d: %s",
				remote, status, errs.buf);
			goto out;
		}
		if (cfg->verbosity >= 0)
			printf("pipeline: the push was rejected (someone "
			       "pushed first); rebasing\n");
		if (rebase_on_remote(cfg, remote, e) < 0)
			goto out;
	}
	err_set(e, EXIT_FAIL, "the push to %s was rejected %d times", remote,
		PUSH_ATTEMPTS);
out:
	strbuf_release(&ref);
	strbuf_release(&errs);
	return ret;
}

/* ---- the stage ------------------------------------------------------------
 */

static int release_first(const struct config *cfg, struct stage_one *s,
			 struct err *e)
{
	struct release_result r;

	memset(&r, 0, sizeof(r));
	if (release_run(cfg, false, &r, e) < 0)
		return err_prefix(e, "release");
	if (r.tag)
		strbuf_addstr(&s->release_tag, r.tag);
	release_result_release(&r);
	return 0;
}

int chain_stage_one(const struct config *cfg, struct stage_one *s,
		    struct err *e)
{
	static const char *const apply_args[] = { "--auto-approve", NULL };
	static const char *const none[] = { NULL };
	const char *rev = s->commit ? s->commit : "HEAD";

	/* a refused tag stops everything before Proxmox is touched */
	if (chain_commit_tag(rev, &s->tag, e) < 0)
		return -1;
	if (cfg->verbosity >= 0)
		printf("pipeline: %s: %s\n", rev,
		       s->tag.len ? s->tag.buf : "no [ansible NAME] tag");
	fflush(stdout);
	/* the release first, in process, instead of polling for it */
	if (cfg->release && release_first(cfg, s, e) < 0)
		return -1;
	if (cmd_invoke(&cmd_apply, cfg, apply_args, e) < 0)
		return err_prefix(e, "apply");
	fflush(stdout);
	if (cmd_invoke(&cmd_inventory, cfg, none, e) < 0)
		return err_prefix(e, "inventory");
	fflush(stdout);
	if (automated_commit(cfg, s, e) < 0)
		return -1;
	if (s->push &&
	    push(cfg, s->remote ? s->remote : cfg->git.remote, e) < 0)
		return -1;
	if (s->push && s->release_tag.len) {
		const char *remote = s->remote ? s->remote : cfg->git.remote;
		struct strbuf ref = STRBUF_INIT;
		const char *args[] = { "push", "-q", "--end-of-options",
				       remote, NULL, NULL };
		int ret;

		/* lightweight tags are not pushed by --follow-tags */
		strbuf_addf(&ref, "refs/tags/%s", s->release_tag.buf);
		args[4] = ref.buf;
		ret = git_checked(cfg, "cannot push the release tag", args,
				  NULL, e);
		strbuf_release(&ref);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int run_pipeline(const struct config *cfg, void *opts, int argc,
			char **argv, struct err *e)
{
	struct pipeline_opts *o = opts;
	struct stage_one s;
	int ret;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "pipeline takes no arguments");
	stage_one_init(&s);
	s.commit = o->commit;
	s.push = o->push;
	s.remote = o->remote;
	ret = chain_stage_one(cfg, &s, e);
	stage_one_release(&s);
	return ret;
}

const struct cmd cmd_pipeline = {
	.name = "pipeline",
	.summary = "stage one: apply, inventory, automated commit, push",
	.args = "",
	.opts = pipeline_options,
	.opts_size = sizeof(struct pipeline_opts),
	.run = run_pipeline,
};
