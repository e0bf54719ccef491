/*
 * filetxn.c - staged, diffed, all-or-nothing file changes; see filetxn.h.
 */
#include "io/filetxn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/programs.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/spawn.h"
#include "util/xalloc.h"

void filetxn_init(struct filetxn *t)
{
	memset(t, 0, sizeof(*t));
	strvec_init(&t->dirs);
	t->root.fd = -1;
}

static void unstage(struct filetxn *t)
{
	size_t i;

	for (i = t->nr; i--;)
		if (t->files[i].staged)
			unlink(t->files[i].staged);
	for (i = t->dirs.nr; i--;)
		rmdir(t->dirs.v[i]);
	if (t->dir)
		rmdir(t->dir);
}

void filetxn_release(struct filetxn *t)
{
	size_t i;

	unstage(t);
	for (i = 0; i < t->nr; i++) {
		struct filetxn_file *f = &t->files[i];

		free(f->path);
		free(f->stage_as);
		free(f->staged);
		strbuf_release(&f->old);
		strbuf_release(&f->new);
	}
	free(t->files);
	free(t->dir);
	strvec_clear(&t->dirs);
	beneath_release(&t->root);
	filetxn_init(t);
}

struct filetxn_file *filetxn_add(struct filetxn *t, const char *path,
				 size_t max, struct err *e)
{
	struct filetxn_file *f;
	int fd = -1, ok = 0;

	ALLOC_GROW(t->files, t->nr + 1, t->alloc);
	f = &t->files[t->nr++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	strbuf_init(&f->old, 0);
	strbuf_init(&f->new, 0);
	/* the repository is untrusted: nothing is read or written through a
	 * link that leaves it, and only regular files are read */
	if (t->root.fd < 0 && beneath_root(&t->root, ".", e) < 0)
		goto out;
	fd = beneath_open(&t->root, path, O_RDONLY, 0, e);
	if (fd >= 0) {
		ok = file_read_fd(&f->old, fd, path, max, e) == 0;
		f->existed = ok;
	} else if (err_is(e, ERR_NOTFOUND)) {
		err_clear(e); /* a missing file is empty */
		ok = beneath_check_parent(&t->root, path, e) == 0;
	}
out:
	if (fd >= 0)
		close(fd);
	return ok ? f : NULL;
}

bool filetxn_file_changes(const struct filetxn_file *f)
{
	if (f->remove)
		return f->existed;
	return !f->existed || f->old.len != f->new.len ||
	       memcmp(f->old.buf, f->new.buf, f->old.len);
}

size_t filetxn_changes(const struct filetxn *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nr; i++)
		n += filetxn_file_changes(&t->files[i]);
	return n;
}

/* mkdir (0700) of the directories of path below t->dir. */
static int stage_dirs(struct filetxn *t, const char *path, struct err *e)
{
	struct strbuf dir = STRBUF_INIT;
	const char *s;
	int ret = 0;

	for (s = strchr(path + strlen(t->dir) + 1, '/'); s && !ret;
	     s = strchr(s + 1, '/')) {
		strbuf_reset(&dir);
		strbuf_add(&dir, path, (size_t)(s - path));
		if (mkdir(dir.buf, 0700) == 0)
			strvec_push(&t->dirs, dir.buf);
		else if (errno != EEXIST)
			ret = err_errno(e, errno, "cannot create '%s'",
					dir.buf);
	}
	strbuf_release(&dir);
	return ret;
}

int filetxn_stage(struct filetxn *t, const char *tmpdir, const char *prefix,
		  struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = -1;

	strbuf_addf(&path, "%s/%s.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp",
		    prefix);
	if (!mkdtemp(path.buf)) {
		err_errno(e, errno, "cannot create '%s'", path.buf);
		goto out;
	}
	t->dir = strbuf_detach(&path, NULL);
	for (i = 0; i < t->nr; i++) {
		struct filetxn_file *f = &t->files[i];

		if (f->remove || (f->unstaged && !filetxn_file_changes(f)))
			continue;
		strbuf_reset(&path);
		if (f->stage_as)
			strbuf_addf(&path, "%s/%s", t->dir, f->stage_as);
		else
			strbuf_addf(&path, "%s/new.%zu", t->dir, i);
		if (stage_dirs(t, path.buf, e) < 0)
			goto out;
		/* kept first: a failed write may still leave the file */
		f->staged = xstrdup(path.buf);
		if (file_write_scratch(path.buf, f->new.buf, f->new.len, e) < 0)
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&path);
	return ret;
}

/* diff -u of one file; *status is diff's. */
static int diff_one(const struct filetxn_file *f, const struct env_delta *env,
		    int *status, struct err *e)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, out = STRBUF_INIT;
	const char *argv[] = { "diff", "-u", "--label", NULL, "--label",
			       NULL,   NULL, NULL,	NULL };
	struct spawn_opts so = { 0 };
	int ret;

	strbuf_addf(&a, "a/%s", f->path);
	strbuf_addf(&b, "b/%s", f->path);
	argv[3] = f->existed ? a.buf : "/dev/null";
	argv[5] = f->remove ? "/dev/null" : b.buf;
	argv[6] = f->existed ? f->path : "/dev/null";
	argv[7] = f->remove ? "/dev/null" : f->staged;
	so.argv = argv;
	so.env_delta = env;
	so.out = &out;
	ret = spawn_run(&so, status, e);
	/* the files' lines are outside text */
	if (ret == 0)
		report_print(stdout, "%s", out.buf);
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&out);
	return ret;
}

int filetxn_diff(const struct filetxn *t, struct err *e)
{
	struct env_delta env = ENV_DELTA_INIT;
	size_t i;
	int n = 0, status = 0;

	programs_child_env(&env);
	fflush(stdout);
	for (i = 0; i < t->nr; i++) {
		const struct filetxn_file *f = &t->files[i];

		if (!filetxn_file_changes(f))
			continue;
		if (diff_one(f, &env, &status, e) < 0 || status > 1) {
			n = -1;
			if (status > 1)
				err_setk(e, ERR_CHILD, EXIT_FAIL,
					 "diff failed (exit %d)", status);
			break;
		}
		n++;
	}
	env_delta_release(&env);
	return n;
}

int filetxn_commit(struct filetxn *t, mode_t mode, struct err *e)
{
	struct file_txn ft;
	size_t i;
	int ret = -1;

	file_txn_init(&ft);
	for (i = 0; i < t->nr; i++) {
		const struct filetxn_file *f = &t->files[i];

		if (!filetxn_file_changes(f))
			continue;
		if (f->remove)
			file_txn_remove(&ft, f->path);
		else if (file_txn_put(&ft, f->path, f->new.buf, f->new.len,
				      mode, e) < 0)
			goto out;
	}
	if (file_txn_commit(&ft, e) < 0) {
		if (!err_is(e, ERR_ROLLBACK))
			err_prefix(e, "nothing was changed");
		goto out;
	}
	ret = 0;
out:
	file_txn_release(&ft);
	return ret;
}
