/*
 * git.c - git through the git program; see git.h.
 */
#include "io/git.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/programs.h"
#include "core/tag.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/spawn.h"

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
		fd = mkstemp(errpath);
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

int git_push(const struct config *cfg, const char *remote, const char *refspec,
	     struct err *e)
{
	const char *args[] = { "push", "-q",	"--end-of-options",
			       remote, refspec, NULL };
	struct strbuf errs = STRBUF_INIT;
	int status, ret = -1;

	if (git_run_as(cfg, args, NULL, &errs, &status, e) < 0)
		goto out;
	strbuf_trim(&errs);
	if (!status)
		ret = 0;
	else if (strstr(errs.buf, "[rejected]") ||
		 strstr(errs.buf, "fetch first") ||
		 strstr(errs.buf, "non-fast-forward"))
		err_setk(e, ERR_CONFLICT, EXIT_FAIL,
			 "the push to %s was rejected: the remote has commits "
			 "this one does not",
			 remote);
	else
		err_set(e, EXIT_FAIL,
			"cannot push to %s: git exit status %d: %s", remote,
			status, errs.buf);
out:
	strbuf_release(&errs);
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
