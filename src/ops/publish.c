/*
 * publish.c - the automated commit and its push; see publish.h.
 */
#include "ops/publish.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/ini.h"
#include "core/inventory.h"
#include "io/git.h"
#include "io/repo.h"
#include "ops/inventory.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/strvec.h"
#include "util/url.h"

#define PUSH_ATTEMPTS 5

/*
 * The pathspec of the host_vars files the automated commit may hold: the
 * NAME.yml files directly in host_vars_dir, never anything else there.
 */
static void host_vars_spec(const struct config *cfg, struct strbuf *out)
{
	strbuf_addf(out, ":(glob)%s/*.yml", cfg->host_vars_dir);
}

/*
 * The paths of the automated commit that git can name: on disk, or known
 * to the index (a deleted file). out holds up to 3 and a NULL; hv (from
 * host_vars_spec) stands for host_vars_dir.
 */
static void owned_paths(const struct config *cfg, const char *hv,
			const char **out)
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
			out[n++] = i == 2 ? hv : all[i];
		strbuf_release(&o);
		err_release(&ignore);
	}
	out[n] = NULL;
}

/*
 * The inventory as it is now parses, so that a bad one stops the chain
 * before apply, not after it made the VMs. 0 when it does or there is
 * none yet.
 */
static int check_inventory_parses(const struct beneath *root, const char *path,
				  struct err *e)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	struct ini ini = INI_INIT;
	int line = 0, ret = 0;

	if (beneath_read(root, path, &text, 64 << 20, e) < 0) {
		ret = err_is(e, ERR_NOTFOUND) ? 0 : -1;
		if (!ret)
			err_clear(e);
	} else if (ini_parse(&ini, text.buf, text.len, &line, &why) < 0) {
		ret = err_setk(e, ERR_INVALID, EXIT_INVALID, "%s:%d: %s", path,
			       line, why.buf);
	}
	ini_release(&ini);
	strbuf_release(&text);
	strbuf_release(&why);
	return ret;
}

int publish_check_paths(const struct config *cfg, struct err *e)
{
	const char *files[] = { cfg->inventory, cfg->new_hosts, cfg->outputs };
	struct beneath root = BENEATH_INIT;
	size_t i;
	int ret;

	if (beneath_root(&root, ".", e) < 0)
		return -1;
	ret = beneath_check_dir(&root, cfg->host_vars_dir, e);
	for (i = 0; !ret && i < sizeof(files) / sizeof(*files); i++)
		ret = beneath_check_target(&root, files[i], e);
	if (!ret)
		ret = check_inventory_parses(&root, cfg->inventory, e);
	beneath_release(&root);
	return ret;
}

/*
 * The host_vars files pve-gitops wrote and git does not track yet: regular
 * files NAME.yml (never a link) that start with its mark. Anything else a
 * runner's work tree holds there (a credentials file, another tool's
 * output) is never committed.
 */
static int ours_untracked(const char *dir, struct strvec *out, struct err *e)
{
	const size_t mark = strlen(INVENTORY_HOST_VARS_MARK);
	struct dirent *de;
	DIR *d;

	if (repo_opendir(dir, &d, e) < 0)
		return -1;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		char head[64];
		int f;

		if (de->d_name[0] == '.' || n < 5 ||
		    strcmp(de->d_name + n - 4, ".yml"))
			continue;
		f = openat(dirfd(d), de->d_name,
			   O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0)
			continue; /* a link, or gone: not ours */
		if (read(f, head, mark) == (ssize_t)mark &&
		    !memcmp(head, INVENTORY_HOST_VARS_MARK, mark))
			strvec_pushf(out, "%s/%s", dir, de->d_name);
		close(f);
	}
	closedir(d);
	return 0;
}

/*
 * Stage the owned files (deletions too); 1 when that changes anything.
 * The inventory and new_hosts.txt as they are; of host_vars, the changes
 * to tracked files and the new files pve-gitops wrote, nothing else.
 */
static int stage_owned(const struct config *cfg, struct err *e)
{
	const char *paths[4];
	const char *update[] = { "add", "-u", "--", NULL, NULL };
	const char *diff[] = { "diff", "--cached", "--quiet", "--",
			       NULL,   NULL,	   NULL,      NULL };
	struct strbuf hv = STRBUF_INIT, quiet = STRBUF_INIT;
	struct strvec add = STRVEC_INIT;
	int status, i, ret = -1;

	host_vars_spec(cfg, &hv);
	update[3] = hv.buf;
	owned_paths(cfg, hv.buf, paths);
	if (!paths[0]) {
		strbuf_release(&hv);
		return 0;
	}
	strvec_pushl(&add, "add", "-A", "--", NULL);
	for (i = 0; paths[i]; i++) {
		diff[4 + i] = paths[i];
		if (paths[i] != hv.buf)
			strvec_push(&add, paths[i]);
	}
	if (ours_untracked(cfg->host_vars_dir, &add, e) < 0)
		goto out;
	if (add.nr > 3 && git_checked(cfg, "cannot stage the inventory",
				      (const char *const *)add.v, NULL, e) < 0)
		goto out;
	/* tracked host_vars files changed or removed; none at all is fine */
	if (git_run_as(cfg, update, NULL, &quiet, &status, e) < 0)
		goto out;
	if (git_run_as(cfg, diff, NULL, NULL, &status, e) < 0)
		goto out;
	if (status > 1) {
		err_set(e, EXIT_FAIL,
			"cannot compare the inventory with the index "
			"(git exit status %d)",
			status);
		goto out;
	}
	ret = status == 1;
out:
	strvec_clear(&add);
	strbuf_release(&hv);
	strbuf_release(&quiet);
	return ret;
}

int publish_inventory(const struct config *cfg, struct err *e)
{
	struct inventory_req req;
	struct inventory_result res;
	int rc;

	memset(&req, 0, sizeof(req));
	inventory_result_init(&res);
	rc = inventory_run(cfg, &req, &res, e);
	if (rc == 0)
		inventory_print(cfg, &res);
	inventory_result_release(&res);
	fflush(stdout);
	return rc;
}

int publish_commit(const struct config *cfg, const char *tag,
		   struct strbuf *out, struct err *e)
{
	struct strbuf msg = STRBUF_INIT, hv = STRBUF_INIT;
	const char *paths[4];
	const char *commit[] = { "commit", "-q", "-m", NULL, "--",
				 NULL,	   NULL, NULL, NULL };
	const char *head[] = { "rev-parse", "HEAD", NULL };
	int rc, i, ret = -1;

	strbuf_reset(out);
	rc = stage_owned(cfg, e);
	if (rc <= 0) {
		if (!rc && cfg->verbosity >= 0)
			printf("pipeline: the inventory did not change; no "
			       "commit\n");
		return rc < 0 ? -1 : 1;
	}
	strbuf_addstr(&msg, "Auto-update Ansible inventory");
	if (tag && *tag)
		strbuf_addf(&msg, " [ansible %s]", tag);
	commit[3] = msg.buf;
	host_vars_spec(cfg, &hv);
	owned_paths(cfg, hv.buf, paths);
	for (i = 0; i < 4; i++)
		commit[5 + i] = paths[i];
	if (git_checked(cfg, "cannot make the automated commit", commit, NULL,
			e) < 0 ||
	    git_checked(cfg, "cannot read HEAD", head, out, e) < 0)
		goto out;
	strbuf_trim(out);
	if (cfg->verbosity >= 0)
		report_print(stdout, "pipeline: committed %.12s \"%s\"\n",
			     out->buf, msg.buf);
	ret = 0;
out:
	strbuf_release(&msg);
	strbuf_release(&hv);
	return ret;
}

static bool is_owned(const struct config *cfg, const char *path)
{
	size_t n = strlen(cfg->host_vars_dir);

	return !strcmp(path, cfg->inventory) || !strcmp(path, cfg->new_hosts) ||
	       (!strncmp(path, cfg->host_vars_dir, n) && path[n] == '/');
}

/*
 * git ARGS as the config's author, its stdout and stderr kept from the
 * user (a rebase's "CONFLICT ..." and "hint: ..." are for a person at a
 * terminal); *status is git's exit status.
 */
static int git_silent(const struct config *cfg, const char *const *args,
		      int *status, struct err *e)
{
	struct strbuf o = STRBUF_INIT, errs = STRBUF_INIT;
	int ret = git_run_as(cfg, args, &o, &errs, status, e);

	strbuf_release(&o);
	strbuf_release(&errs);
	return ret;
}

/* The same, a non-zero exit an error "WHAT (git exit status N)". */
static int git_silent_checked(const struct config *cfg, const char *what,
			      const char *const *args, struct err *e)
{
	int status;

	if (git_silent(cfg, args, &status, e) < 0)
		return err_prefix(e, "%s", what);
	if (status)
		return err_set(e, EXIT_FAIL, "%s (git exit status %d)", what,
			       status);
	return 0;
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
 * Each path as the other side has it (HEAD of the stopped rebase: the
 * remote's commits and what was replayed on them so far), conflicted or
 * merged; one the other side does not have is removed.
 */
static int take_other_side(const struct config *cfg, const struct strvec *paths,
			   struct err *e)
{
	size_t i;

	for (i = 0; i < paths->nr; i++) {
		const char *co[] = { "checkout", "HEAD", "--", paths->v[i],
				     NULL };
		const char *rm[] = { "rm",	 "-q",
				     "--cached", "--ignore-unmatch",
				     "--",	 paths->v[i],
				     NULL };
		int status;

		if (git_silent(cfg, co, &status, e) < 0)
			return -1;
		if (status) { /* not on the other side */
			if (git_silent_checked(cfg, "cannot drop a file", rm,
					       e) < 0)
				return -1;
			unlink(paths->v[i]);
		}
	}
	return 0;
}

/* Add path to the set (no duplicates). */
static void note_path(struct strvec *set, const char *path)
{
	size_t i;

	for (i = 0; i < set->nr && strcmp(set->v[i], path); i++)
		;
	if (i == set->nr)
		strvec_push(set, path);
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

/*
 * A rebase stopped on the automated commit: start from the other side's
 * inventory and new_hosts.txt (even where git merged them: new_hosts.txt
 * lists the hosts that were not in the inventory before, and before is the
 * other side's) and its version of each conflicted host_vars file, and
 * write them again from what exists. The paths regenerated are added to
 * regenerated, the names new_hosts.txt holds now to hosts.
 */
static int regenerate(const struct config *cfg, struct strvec *regenerated,
		      struct strvec *hosts, struct err *e)
{
	const char *cont[] = { "-c", "core.editor=true", "rebase", "--continue",
			       NULL };
	const char *skip[] = { "rebase", "--skip", NULL };
	struct inventory_req req;
	struct inventory_result res;
	struct strvec conflicts = STRVEC_INIT, paths = STRVEC_INIT;
	size_t i;
	int rc, status, ret = -1;

	memset(&req, 0, sizeof(req));
	inventory_result_init(&res);
	if (owned_conflicts(cfg, &conflicts, e) < 0)
		goto out;
	strvec_pushl(&paths, cfg->inventory, cfg->new_hosts, NULL);
	for (i = 0; i < conflicts.nr; i++)
		note_path(&paths, conflicts.v[i]);
	if (take_other_side(cfg, &paths, e) < 0)
		goto out;
	req.rebased = true;
	if (inventory_run(cfg, &req, &res, e) < 0) {
		err_prefix(e, "cannot regenerate the inventory after the "
			      "rebase");
		goto out;
	}
	strvec_clear(hosts);
	for (i = 0; i < res.new_hosts.nr; i++)
		strvec_push(hosts, strchr(res.new_hosts.v[i], ',') + 1);
	for (i = 0; i < paths.nr; i++)
		note_path(regenerated, paths.v[i]);
	rc = stage_owned(cfg, e);
	if (rc < 0 || git_silent(cfg, rc ? cont : skip, &status, e) < 0)
		goto out;
	/* stopped again, on a later commit: the caller's next round */
	if (status && !rebase_in_progress()) {
		err_set(e, EXIT_FAIL,
			"cannot continue the rebase (git exit status %d)",
			status);
		goto out;
	}
	ret = 0;
out:
	inventory_result_release(&res);
	strvec_clear(&conflicts);
	strvec_clear(&paths);
	return ret;
}

/* Undo a rebase that cannot finish; e stays as it is. */
static void abort_rebase(const struct config *cfg)
{
	const char *abort_[] = { "rebase", "--abort", NULL };
	struct err ignore = ERR_INIT;
	int status;

	git_silent(cfg, abort_, &status, &ignore);
	err_release(&ignore);
}

/*
 * Fetch the branch and rebase on it, regenerating owned conflicts (their
 * paths into regenerated, the new hosts into hosts). Nothing of git's
 * own text reaches the user.
 */
static int rebase_on_remote(const struct config *cfg, const char *remote,
			    struct strvec *regenerated, struct strvec *hosts,
			    struct err *e)
{
	/* --autostash: local changes outside the commits are not ours to
	 * judge; they come back after the rebase */
	const char *rebase[] = { "rebase", "-q", "--autostash", "FETCH_HEAD",
				 NULL };
	int status, round;

	if (git_fetch_refspec(remote, cfg->git.branch, e) < 0)
		return err_prefix(e, "the push was rejected");
	if (git_silent(cfg, rebase, &status, e) < 0)
		return -1;
	for (round = 0; status && rebase_in_progress() && round < 20; round++)
		if (regenerate(cfg, regenerated, hosts, e) < 0) {
			abort_rebase(cfg);
			return err_prefix(e, "the push was rejected and the "
					     "rebase was undone");
		}
	if (rebase_in_progress()) {
		abort_rebase(cfg);
		return err_set(
			e, EXIT_FAIL,
			"the push was rejected and the rebase on the "
			"remote's commits did not finish; it was undone");
	}
	if (status && !round)
		return err_set(e, EXIT_FAIL,
			       "the push was rejected and the rebase on the "
			       "remote's commits failed (git exit status %d)",
			       status);
	return 0;
}

/* The one line a rebase gets: what moved, what was written again. */
static void print_rebased(const struct config *cfg, const char *remote,
			  const struct strvec *regenerated,
			  const struct strvec *hosts)
{
	struct strbuf red = STRBUF_INIT;
	size_t i;

	if (cfg->verbosity < 0)
		return;
	report_print(stdout,
		     "pipeline: the push was rejected (%s moved on); rebased "
		     "on top of it",
		     url_redacted(&red, remote));
	for (i = 0; i < regenerated->nr; i++)
		report_print(stdout, "%s%s",
			     !i			       ? ", regenerated "
			     : i + 1 < regenerated->nr ? ", "
						       : " and ",
			     regenerated->v[i]);
	for (i = 0; regenerated->nr && i < hosts->nr; i++)
		report_print(
			stdout, "%s%s",
			i ? ", " : " (this run's new hosts: ", hosts->v[i]);
	report_print(stdout, "%s\n", regenerated->nr && hosts->nr ? ")" : "");
	fflush(stdout);
	strbuf_release(&red);
}

int publish_push(const struct config *cfg, const char *remote, struct err *e)
{
	struct strbuf ref = STRBUF_INIT, red = STRBUF_INIT;
	struct strvec regenerated = STRVEC_INIT, hosts = STRVEC_INIT;
	int attempt, ret = -1;

	if (remote[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a remote", remote);
	strbuf_addf(&ref, "HEAD:refs/heads/%s", cfg->git.branch);
	for (attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
		if (git_push(cfg, remote, ref.buf, e) == 0) {
			if (cfg->verbosity >= 0)
				report_print(stdout,
					     "pipeline: pushed to %s %s%s\n",
					     url_redacted(&red, remote),
					     cfg->git.branch,
					     attempt ? " after a rebase" : "");
			ret = 0;
			goto out;
		}
		if (!err_is(e, ERR_CONFLICT) || attempt + 1 == PUSH_ATTEMPTS)
			goto out;
		err_clear(e);
		strvec_clear(&regenerated);
		if (rebase_on_remote(cfg, remote, &regenerated, &hosts, e) < 0)
			goto out;
		print_rebased(cfg, remote, &regenerated, &hosts);
	}
out:
	if (ret < 0 && err_is(e, ERR_CONFLICT)) {
		err_clear(e);
		err_set(e, EXIT_FAIL,
			"the push to %s %s was rejected %d times (the remote "
			"kept moving on); nothing was pushed, the automated "
			"commit stays in this clone only",
			url_redacted(&red, remote), cfg->git.branch,
			PUSH_ATTEMPTS);
	}
	strbuf_release(&ref);
	strbuf_release(&red);
	strvec_clear(&regenerated);
	strvec_clear(&hosts);
	return ret;
}
