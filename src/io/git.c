/*
 * git.c - git through the git program; see git.h.
 */
#include "io/git.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/programs.h"
#include "core/tag.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/spawn.h"
#include "util/url.h"

/*
 * Run git with args; env (NULL: none) is applied over the shared child
 * policy (no Proxmox credential). stderr goes to a private file, read
 * back afterwards, when err_out is not NULL.
 */
static int run(const char *const *args, const struct env_delta *extra,
	       struct strbuf *out, struct strbuf *err_out, int *status,
	       struct err *e)
{
	struct strvec argv = STRVEC_INIT;
	struct env_delta env = ENV_DELTA_INIT;
	char errpath[] = "/tmp/pve-gitops-git.XXXXXX";
	struct spawn_opts so = { 0 };
	size_t i;
	int fd, ret = -1;

	strvec_push(&argv, "git");
	for (; *args; args++)
		strvec_push(&argv, *args);
	programs_child_env(&env);
	for (i = 0; extra && i < extra->set.nr; i++)
		strvec_push(&env.set, extra->set.v[i]);
	so.argv = (const char *const *)argv.v;
	so.env_delta = &env;
	so.out = out;
	if (err_out) {
		/* close-on-exec: the lease's thread spawns git meanwhile */
		fd = mkostemp(errpath, O_CLOEXEC);
		if (fd < 0) {
			err_errno(e, errno, "cannot create '%s'", errpath);
			goto out;
		}
		close(fd);
		so.stderr_path = errpath;
	}
	ret = spawn_run(&so, status, e);
	if (err_out) {
		struct err ignore = ERR_INIT;

		file_read_all(err_out, errpath, 1 << 20, &ignore);
		err_release(&ignore);
		unlink(errpath);
	}
out:
	strvec_clear(&argv);
	env_delta_release(&env);
	return ret;
}

int git_run(const char *const *args, struct strbuf *out, struct strbuf *err_out,
	    int *status, struct err *e)
{
	return run(args, NULL, out, err_out, status, e);
}

int git_run_as(const struct config *cfg, const char *const *args,
	       struct strbuf *out, struct strbuf *err_out, int *status,
	       struct err *e)
{
	struct env_delta env = ENV_DELTA_INIT;
	int ret;

	env_delta_set(&env, "GIT_AUTHOR_NAME", cfg->git.author_name);
	env_delta_set(&env, "GIT_AUTHOR_EMAIL", cfg->git.author_email);
	env_delta_set(&env, "GIT_COMMITTER_NAME", cfg->git.author_name);
	env_delta_set(&env, "GIT_COMMITTER_EMAIL", cfg->git.author_email);
	ret = run(args, &env, out, err_out, status, e);
	env_delta_release(&env);
	return ret;
}

static int check_rev(const char *rev, struct err *e)
{
	if (!*rev || rev[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a revision", rev);
	return 0;
}

int git_checked(const struct config *as, const char *what,
		const char *const *args, struct strbuf *out, struct err *e)
{
	struct strbuf errs = STRBUF_INIT;
	int status, ret = 0;

	if ((as ? git_run_as(as, args, out, &errs, &status, e)
		: git_run(args, out, &errs, &status, e)) < 0)
		ret = err_prefix(e, "%s", what);
	else if (status) {
		strbuf_trim(&errs);
		ret = err_setk(e, ERR_CHILD, EXIT_FAIL,
			       "%s: git exit status %d%s%s", what, status,
			       errs.len ? ": " : "", errs.buf);
	}
	strbuf_release(&errs);
	return ret;
}

int git_commit_message(const char *rev, struct strbuf *out, struct err *e)
{
	const char *args[] = { "show", "-s", "--format=%B", "--end-of-options",
			       rev,    NULL };

	if (check_rev(rev, e) < 0)
		return -1;
	if (git_checked(NULL, "cannot read the message", args, out, e) < 0) {
		/* git ran and refused the revision: the input is wrong */
		if (err_is(e, ERR_CHILD))
			e->exit_code = EXIT_INVALID;
		return err_prefix(e, "'%s'", rev);
	}
	return 0;
}

int git_rev_parse(const char *rev, struct strbuf *out, struct err *e)
{
	struct strbuf spec = STRBUF_INIT;
	const char *args[] = { "rev-parse", "--verify", "--end-of-options",
			       NULL, NULL };
	int ret;

	if (check_rev(rev, e) < 0)
		return -1;
	strbuf_addf(&spec, "%s^{commit}", rev);
	args[3] = spec.buf;
	ret = git_checked(NULL, "cannot find the commit", args, out, e);
	strbuf_trim(out);
	if (ret < 0)
		err_prefix(e, "'%s'", rev);
	strbuf_release(&spec);
	return ret;
}

int git_ref_object(const char *ref, struct strbuf *out, struct err *e)
{
	const char *args[] = { "rev-parse", "--verify", "--end-of-options", ref,
			       NULL };
	int ret;

	if (check_rev(ref, e) < 0)
		return -1;
	ret = git_checked(NULL, "cannot find the object", args, out, e);
	strbuf_trim(out);
	if (ret < 0)
		err_prefix(e, "'%s'", ref);
	return ret;
}

int git_commit_touches(const char *rev, const char *path, struct err *e)
{
	const char *args[] = {
		"diff-tree", "--no-commit-id", "--name-only", "-r", "--root",
		"-m",	     "--first-parent", rev,	      "--", path,
		NULL
	};
	struct strbuf out = STRBUF_INIT;
	int ret;

	if (check_rev(rev, e) < 0)
		return -1;
	ret = git_checked(NULL, "cannot list what the commit changed", args,
			  &out, e);
	if (!ret)
		ret = out.len > 0;
	strbuf_release(&out);
	return ret;
}

int git_show_file(const char *rev, const char *path, struct strbuf *out,
		  struct err *e)
{
	struct strbuf spec = STRBUF_INIT, errs = STRBUF_INIT;
	const char *args[] = { "show", NULL, NULL };
	int status, ret = -1;

	if (check_rev(rev, e) < 0)
		return -1;
	strbuf_addf(&spec, "%s:%s", rev, path);
	args[1] = spec.buf;
	if (git_run(args, out, &errs, &status, e) < 0)
		goto out;
	if (status) {
		ret = strstr(errs.buf, "does not exist") ||
				      strstr(errs.buf,
					     "exists on disk, but not")
			      ? 1
			      : err_setk(e, ERR_CHILD, EXIT_FAIL,
					 "cannot read %s: git exit status %d",
					 spec.buf, status);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&spec);
	strbuf_release(&errs);
	return ret;
}

/* See git.h. */
void git_stderr_for_message(struct strbuf *errs, const char *remote)
{
	struct strbuf out = STRBUF_INIT, red = STRBUF_INIT, line = STRBUF_INIT;
	const char *p = errs->buf, *end = errs->buf + errs->len;
	bool secret = strcmp(url_redacted(&red, remote), remote) != 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *q, *hit;

		strbuf_reset(&line);
		strbuf_add(&line, p, n);
		strbuf_trim(&line); /* "remote: ..." comes padded */
		p = nl ? nl + 1 : end;
		if (!line.len || !strncmp(line.buf, "hint:", 5))
			continue;
		if (out.len)
			strbuf_addstr(&out, "; ");
		for (q = line.buf;
		     secret && *remote && (hit = strstr(q, remote));
		     q = hit + strlen(remote)) {
			strbuf_add(&out, q, (size_t)(hit - q));
			strbuf_addstr(&out, red.buf);
		}
		strbuf_addstr(&out, secret ? q : line.buf);
	}
	strbuf_release(errs);
	*errs = out;
	strbuf_release(&red);
	strbuf_release(&line);
}

/* See git.h. */
int git_porcelain_refusal(const char *out, struct strbuf *why)
{
	const char *p, *tab;

	for (p = out; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
		if (p[0] != '!' || p[1] != '\t')
			continue;
		tab = strchr(p + 2, '\t');
		if (!tab)
			return 2;
		if (why)
			strbuf_add(why, tab + 1, strcspn(tab + 1, "\n"));
		return strncmp(tab + 1, "[rejected]", 10) ? 2 : 1;
	}
	return 0;
}

/*
 * After a "[remote rejected]": 1 when the remote's ref is now at a commit
 * that local (a revision) does not contain, i.e. someone else's push
 * landed while this one was under way (the remote could not lock the
 * ref); 0 when the refusal had another cause.
 */
static int remote_moved(const char *remote, const char *ref, const char *local)
{
	struct strbuf oid = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int moved = 0;

	if (!git_remote_ref(remote, ref, &oid, &ignore) && oid.len)
		moved = !git_has_commit(oid.buf) ||
			git_is_ancestor(oid.buf, local, &ignore) == 0;
	err_release(&ignore);
	strbuf_release(&oid);
	return moved;
}

int git_push(const struct config *cfg, const char *remote, const char *refspec,
	     struct err *e)
{
	const char *args[] = { "push", "--porcelain", "--end-of-options",
			       remote, refspec,	      NULL };
	const char *colon = strchr(refspec, ':');
	struct strbuf o = STRBUF_INIT, errs = STRBUF_INIT, red = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT, local = STRBUF_INIT;
	int status, kind, ret = -1;

	if (!colon)
		return err_set(e, EXIT_INVALID, "'%s' is not a refspec",
			       refspec);
	strbuf_add(&local, refspec, (size_t)(colon - refspec));
	if (git_run_as(cfg, args, &o, &errs, &status, e) < 0)
		goto out;
	git_stderr_for_message(&errs, remote);
	kind = status ? git_porcelain_refusal(o.buf, &why) : 0;
	if (!status)
		ret = 0;
	else if (kind == 1 ||
		 (kind == 2 && remote_moved(remote, colon + 1, local.buf)))
		err_setk(e, ERR_CONFLICT, EXIT_FAIL,
			 "the push to %s was rejected: the remote has commits "
			 "this one does not",
			 url_redacted(&red, remote));
	else if (kind == 2)
		err_set(e, EXIT_FAIL, "the push to %s was refused: %s%s%s",
			url_redacted(&red, remote), why.buf,
			errs.len ? ": " : "", errs.buf);
	else
		err_set(e, EXIT_FAIL,
			"cannot push to %s: git exit status %d: %s",
			url_redacted(&red, remote), status, errs.buf);
out:
	strbuf_release(&o);
	strbuf_release(&errs);
	strbuf_release(&red);
	strbuf_release(&why);
	strbuf_release(&local);
	return ret;
}

int git_commit_tag(const char *rev, struct strbuf *name, struct err *e)
{
	struct strbuf msg = STRBUF_INIT, why = STRBUF_INIT;
	int ret = -1;

	strbuf_reset(name);
	if (git_commit_message(rev, &msg, e) < 0)
		goto out;
	switch (tag_extract(msg.buf, msg.len, name, &why)) {
	case TAG_FOUND:
		if (why.len) /* "[ansible k8s-ha.yml]": the suffix dropped */
			report_note("the commit's tag: %s", why.buf);
		ret = 1;
		break;
	case TAG_NONE:
		ret = 0;
		break;
	case TAG_REFUSED:
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "the commit's tag names '%s', which is refused: %s",
			 name->buf, why.buf);
		strbuf_reset(name);
		break;
	}
out:
	strbuf_release(&msg);
	strbuf_release(&why);
	return ret;
}

/* --- the lease and the progress marker (ops/lease.h, ops/catchup.h) --- */

/*
 * git_checked for a command that talks to remote: git's stderr in the
 * error as git_stderr_for_message() leaves it.
 */
static int remote_checked(const char *what, const char *const *args,
			  const char *remote, struct strbuf *out, struct err *e)
{
	struct strbuf errs = STRBUF_INIT;
	int status, ret = 0;

	if (git_run(args, out, &errs, &status, e) < 0)
		ret = err_prefix(e, "%s", what);
	else if (status) {
		git_stderr_for_message(&errs, remote);
		ret = err_setk(e, ERR_CHILD, EXIT_FAIL,
			       "%s: git exit status %d%s%s", what, status,
			       errs.len ? ": " : "", errs.buf);
	}
	strbuf_release(&errs);
	return ret;
}

static int check_remote(const char *remote, struct err *e)
{
	if (!*remote || remote[0] == '-')
		return err_set(e, EXIT_INVALID, "'%s' is not a remote", remote);
	return 0;
}

int git_remote_ref(const char *remote, const char *ref, struct strbuf *oid,
		   struct err *e)
{
	const char *args[] = { "ls-remote", "--end-of-options", remote, ref,
			       NULL };
	struct strbuf o = STRBUF_INIT;
	char *line, *save = NULL;
	int ret = -1;

	strbuf_reset(oid);
	if (check_remote(remote, e) < 0 ||
	    remote_checked("cannot list the remote's refs", args, remote, &o,
			   e) < 0)
		goto out;
	/* ls-remote matches patterns by their tail: keep the exact ref */
	for (line = strtok_r(o.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');

		if (tab && !strcmp(tab + 1, ref)) {
			strbuf_add(oid, line, (size_t)(tab - line));
			break;
		}
	}
	ret = 0;
out:
	strbuf_release(&o);
	return ret;
}

int git_fetch_refspec(const char *remote, const char *refspec, struct err *e)
{
	const char *args[] = { "fetch",	    "-q",
			       "--no-tags", "--end-of-options",
			       remote,	    refspec,
			       NULL };

	if (check_remote(remote, e) < 0)
		return -1;
	return remote_checked("cannot fetch", args, remote, NULL, e);
}

/*
 * After a "[remote rejected]" of a compare-and-swap: 1 when ref on remote
 * is still at old ("" : still absent), so the refusal was no lost race; 1
 * too when the remote cannot be read (then the refusal is reported as it
 * is, never waited out).
 */
static int ref_still_at(const char *remote, const char *ref, const char *old)
{
	struct strbuf oid = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int same = 1;

	if (!git_remote_ref(remote, ref, &oid, &ignore))
		same = !strcmp(oid.buf, old);
	err_release(&ignore);
	strbuf_release(&oid);
	return same;
}

int git_cas_push(const struct config *cfg, const char *remote, const char *ref,
		 const char *old, const char *new_oid, struct err *e)
{
	struct strbuf lease = STRBUF_INIT, spec = STRBUF_INIT;
	struct strbuf o = STRBUF_INIT, errs = STRBUF_INIT, red = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	const char *args[] = { "push", "--porcelain", NULL, "--end-of-options",
			       remote, NULL,	      NULL };
	int status, kind, ret = -1;

	if (check_remote(remote, e) < 0)
		return -1;
	strbuf_addf(&lease, "--force-with-lease=%s:%s", ref, old);
	strbuf_addf(&spec, "%s:%s", new_oid ? new_oid : "", ref);
	args[2] = lease.buf;
	args[5] = spec.buf;
	if (git_run_as(cfg, args, &o, &errs, &status, e) < 0)
		goto out;
	git_stderr_for_message(&errs, remote);
	kind = status ? git_porcelain_refusal(o.buf, &why) : 0;
	if (!status)
		ret = 0;
	else if (kind == 1 || (kind == 2 && !ref_still_at(remote, ref, old)))
		err_setk(e, ERR_CONFLICT, EXIT_FAIL,
			 "%s on %s is not where this runner saw it", ref,
			 url_redacted(&red, remote));
	else if (kind == 2) /* a hook, a protected ref: no race to wait out */
		err_setk(e, ERR_PERMANENT, EXIT_FAIL,
			 "cannot push %s to %s: the remote refused it: %s%s%s; "
			 "the runner's git credentials must be allowed to push "
			 "refs/pve-gitops/*, forced updates and deletions "
			 "included",
			 ref, url_redacted(&red, remote), why.buf,
			 errs.len ? ": " : "", errs.buf);
	else
		err_setk(e, ERR_CHILD, EXIT_FAIL,
			 "cannot push %s to %s: git exit status %d: %s", ref,
			 url_redacted(&red, remote), status, errs.buf);
out:
	strbuf_release(&why);
	strbuf_release(&red);
	strbuf_release(&lease);
	strbuf_release(&spec);
	strbuf_release(&o);
	strbuf_release(&errs);
	strbuf_release(&why);
	return ret;
}

int git_commit_empty_root(const struct config *cfg, const char *message,
			  struct strbuf *out, struct err *e)
{
	/* stdin is /dev/null: mktree makes the empty tree, in the repository's
	 * own hash (sha1 or sha256) */
	const char *mktree[] = { "mktree", NULL };
	const char *commit[] = { "commit-tree", NULL, "-m", message, NULL };
	struct strbuf tree = STRBUF_INIT;
	int ret = -1;

	strbuf_reset(out);
	if (git_checked(NULL, "cannot make the empty tree", mktree, &tree, e) <
	    0)
		goto out;
	strbuf_trim(&tree);
	commit[1] = tree.buf;
	if (git_checked(cfg, "cannot make a commit", commit, out, e) < 0)
		goto out;
	strbuf_trim(out);
	ret = 0;
out:
	strbuf_release(&tree);
	return ret;
}

int git_cat_commit(const char *oid, struct strbuf *out, struct err *e)
{
	const char *args[] = { "cat-file", "commit", oid, NULL };

	if (check_rev(oid, e) < 0)
		return -1;
	return git_checked(NULL, "cannot read the commit", args, out, e);
}

int git_has_commit(const char *oid)
{
	struct strbuf spec = STRBUF_INIT;
	const char *args[] = { "cat-file", "-e", NULL, NULL };
	struct strbuf errs = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int status = 1;

	if (*oid && oid[0] != '-') {
		strbuf_addf(&spec, "%s^{commit}", oid);
		args[2] = spec.buf;
		if (git_run(args, NULL, &errs, &status, &ignore) < 0)
			status = 1;
	}
	err_release(&ignore);
	strbuf_release(&errs);
	strbuf_release(&spec);
	return status == 0;
}

int git_is_ancestor(const char *a, const char *b, struct err *e)
{
	const char *args[] = {
		"merge-base", "--is-ancestor", "--end-of-options", a, b, NULL
	};
	int status;

	if (check_rev(a, e) < 0 || check_rev(b, e) < 0 ||
	    git_run(args, NULL, NULL, &status, e) < 0)
		return -1;
	if (status > 1)
		return err_setk(e, ERR_CHILD, EXIT_FAIL,
				"cannot compare %.12s and %.12s: git exit "
				"status %d",
				a, b, status);
	return status == 0;
}

int git_first_parents(const char *from, const char *to, struct strvec *out,
		      struct err *e)
{
	struct strbuf range = STRBUF_INIT, o = STRBUF_INIT;
	const char *args[] = {
		"rev-list",	    "--reverse", "--first-parent",
		"--end-of-options", NULL,	 NULL
	};
	char *line, *save = NULL;
	int ret = -1;

	if (check_rev(from, e) < 0 || check_rev(to, e) < 0)
		goto out;
	strbuf_addf(&range, "%s..%s", from, to);
	args[4] = range.buf;
	if (git_checked(NULL, "cannot list the pending commits", args, &o, e) <
	    0)
		goto out;
	for (line = strtok_r(o.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		strvec_push(out, line);
	ret = 0;
out:
	strbuf_release(&range);
	strbuf_release(&o);
	return ret;
}

int git_log_touching(const char *path, const char *grep, unsigned max,
		     struct strvec *out, struct err *e)
{
	struct strbuf n = STRBUF_INIT, g = STRBUF_INIT, o = STRBUF_INIT;
	const char *args[] = { "log",	      "--first-parent", NULL, NULL,
			       "--format=%H", "HEAD",		"--", path,
			       NULL };
	char *line, *save = NULL;
	int ret;

	strbuf_addf(&n, "--max-count=%u", max);
	strbuf_addf(&g, "--grep=%s", grep);
	args[2] = n.buf;
	args[3] = g.buf;
	ret = git_checked(NULL, "cannot read the history", args, &o, e);
	for (line = ret ? NULL : strtok_r(o.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		strvec_push(out, line);
	strbuf_release(&n);
	strbuf_release(&g);
	strbuf_release(&o);
	return ret;
}

int git_worktree_dirty(struct err *e)
{
	const char *args[] = { "status", "--porcelain", "--untracked-files=no",
			       NULL };
	struct strbuf o = STRBUF_INIT;
	int ret;

	ret = git_checked(NULL, "cannot read the work tree's state", args, &o,
			  e);
	if (!ret)
		ret = o.len > 0;
	strbuf_release(&o);
	return ret;
}

int git_remote_exists(const char *name)
{
	const char *args[] = { "remote", "get-url", "--", name, NULL };
	struct strbuf o = STRBUF_INIT, errs = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	int status = 1;

	if (*name && name[0] != '-' &&
	    git_run(args, &o, &errs, &status, &ignore) < 0)
		status = 1;
	err_release(&ignore);
	strbuf_release(&o);
	strbuf_release(&errs);
	return status == 0;
}
