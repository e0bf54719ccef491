/*
 * fileio.c - whole-file reads and atomic writes; see fileio.h.
 */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

int file_read_fd(struct strbuf *out, int fd, const char *name, size_t max,
		 struct err *e)
{
	struct stat st;
	size_t start = out->len;
	int ret = -1;

	if (fstat(fd, &st) < 0)
		return err_errno(e, errno, "cannot read '%s'", name);
	if (S_ISDIR(st.st_mode))
		return err_set(e, EXIT_INVALID,
			       "cannot read '%s': is a directory", name);
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		goto too_large;
	for (;;) {
		ssize_t n;

		/* the first read takes a regular file whole, and no read
		 * grows a buffer that still has room */
		if (out->alloc - out->len <= 1)
			strbuf_grow(out,
				    S_ISREG(st.st_mode) && out->len == start
					    ? (size_t)st.st_size + 1
					    : 8192);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, errno, "cannot read '%s'", name);
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
		if (out->len - start > max)
			goto too_large;
	}
	ret = 0;
	goto out;
too_large:
	err_setk(e, ERR_TOOLARGE, EXIT_INVALID,
		 "cannot read '%s': larger than the limit of %zu bytes", name,
		 max);
out:
	if (ret)
		strbuf_setlen(out, start);
	return ret;
}

int file_read_all(struct strbuf *out, const char *path, size_t max,
		  struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return err_errno(e, errno, "cannot read '%s'", path);
	ret = file_read_fd(out, fd, path, max, e);
	close(fd);
	return ret;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd, ret;

	if (!slash)
		strbuf_addch(&dir, '.');
	else if (slash == path)
		strbuf_addch(&dir, '/');
	else
		strbuf_add(&dir, path, (size_t)(slash - path));
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	strbuf_release(&dir);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

/*
 * Write data to a new temp file next to path (its name in *tmp), with mode,
 * and fsync it. On failure nothing is left behind.
 */
static int write_temp(const char *path, const void *data, size_t len,
		      mode_t mode, bool sync, struct strbuf *tmp, struct err *e)
{
	int fd;

	strbuf_setlen(tmp, 0);
	strbuf_addf(tmp, "%s.tmp.XXXXXX", path);
	fd = mkostemp(tmp->buf, O_CLOEXEC); /* no child inherits it */
	if (fd < 0)
		return err_errno(e, errno, "cannot write '%s'", path);
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		err_errno(e, errno, "cannot write '%s'", path);
		close(fd);
		unlink(tmp->buf);
		return -1;
	}
	if (close(fd) < 0) {
		err_errno(e, errno, "cannot write '%s'", path);
		unlink(tmp->buf);
		return -1;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct err *e)
{
	struct strbuf tmp = STRBUF_INIT;
	int ret = -1;

	if (write_temp(path, data, len, mode, true, &tmp, e) < 0)
		goto out;
	if (rename(tmp.buf, path) < 0) {
		err_errno(e, errno, "cannot replace '%s'", path);
		unlink(tmp.buf);
		goto out;
	}
	if (fsync_dir_of(path) < 0) {
		/* The new file is in place; only durability is in doubt. */
		err_errno(e, errno, "cannot sync the directory of '%s'", path);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&tmp);
	return ret;
}

int file_make_parents(const char *path, struct strvec *created, struct err *e)
{
	struct strbuf dir = STRBUF_INIT;
	size_t i;
	int ret = 0;

	strbuf_addstr(&dir, path);
	for (i = 1; i < dir.len; i++) {
		if (dir.buf[i] != '/')
			continue;
		dir.buf[i] = '\0';
		if (mkdir(dir.buf, 0755) == 0) {
			if (created)
				strvec_push(created, dir.buf);
		} else if (errno != EEXIST) {
			ret = err_errno(e, errno, "cannot create '%s'",
					dir.buf);
			break;
		}
		dir.buf[i] = '/';
	}
	strbuf_release(&dir);
	return ret;
}

/* ---- transactions ------------------------------------------------------- */

void file_txn_init(struct file_txn *t)
{
	memset(t, 0, sizeof(*t));
	strvec_init(&t->dirs);
	strbuf_init(&t->last_dir, 0);
}

static struct file_txn_op *txn_push(struct file_txn *t, const char *path)
{
	struct file_txn_op *op;

	ALLOC_GROW(t->ops, t->nr + 1, t->alloc);
	op = &t->ops[t->nr++];
	memset(op, 0, sizeof(*op));
	op->path = xstrdup(path);
	return op;
}

int file_txn_put(struct file_txn *t, const char *path, const void *data,
		 size_t len, mode_t mode, struct err *e)
{
	struct strbuf tmp = STRBUF_INIT;
	struct file_txn_op *op;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;

	/* many files in one directory: make it once */
	if (t->last_dir.len != dlen || memcmp(t->last_dir.buf, path, dlen)) {
		if (file_make_parents(path, &t->dirs, e) < 0)
			return -1;
		strbuf_reset(&t->last_dir);
		strbuf_add(&t->last_dir, path, dlen);
	}
	/* no fsync here: file_txn_commit makes them durable together */
	if (write_temp(path, data, len, mode, false, &tmp, e) < 0) {
		strbuf_release(&tmp);
		return -1;
	}
	op = txn_push(t, path);
	op->tmp = strbuf_detach(&tmp, NULL);
	return 0;
}

void file_txn_remove(struct file_txn *t, const char *path)
{
	txn_push(t, path);
}

/* Set name to "path.old.XXXXXX" with six random letters or digits. */
static int backup_name(struct strbuf *name, const char *path)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	strbuf_setlen(name, 0);
	strbuf_addf(name, "%s.old.", path);
	for (i = 0; i < sizeof(r); i++)
		strbuf_addch(name, chars[r[i] % (sizeof(chars) - 1)]);
	return 0;
}

/*
 * Hard-link path to a fresh name next to it, so it can be put back. The
 * name is tried with link() itself (EEXIST: another name), so nothing is
 * created that would have to be removed again.
 */
static int backup(struct file_txn_op *op, struct err *e)
{
	struct strbuf name = STRBUF_INIT;
	struct stat st;
	int tries;

	if (lstat(op->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_errno(e, errno, "cannot read '%s'", op->path);
	}
	for (tries = 0; tries < 16; tries++) {
		if (backup_name(&name, op->path) < 0)
			break;
		if (link(op->path, name.buf) == 0) {
			op->backup = strbuf_detach(&name, NULL);
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	err_errno(e, errno, "cannot keep a copy of '%s'", op->path);
	strbuf_release(&name);
	return -1;
}

/*
 * Undo ops [0, n), which were carried out, in reverse: put each old file
 * back, remove each file that did not exist before. A backup that cannot be
 * put back is kept (op->backup stays set) and named in the error.
 */
static void rollback(struct file_txn *t, size_t n, struct err *e)
{
	bool noted = false;

	while (n--) {
		struct file_txn_op *op = &t->ops[n];

		if (op->backup) {
			if (rename(op->backup, op->path) == 0) {
				free(op->backup);
				op->backup = NULL;
			} else if (!noted) {
				noted = true;
				err_prefix(e,
					   "'%s' could not be put back; its "
					   "old content is in '%s'",
					   op->path, op->backup);
				e->kind = ERR_ROLLBACK;
			}
		} else if (op->tmp) {
			unlink(op->path);
		}
		free(op->tmp);
		op->tmp = NULL;
	}
}

/* Remove the backups of ops [from, nr), whose files were not touched. */
static void drop_backups(struct file_txn *t, size_t from)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		struct file_txn_op *op = &t->ops[i];

		if (op->backup && i >= from)
			unlink(op->backup);
		free(op->backup);
		op->backup = NULL;
	}
}

/* fsync each directory that holds one of the targets, once. */
static void sync_dirs(const struct file_txn *t)
{
	struct strvec done;
	size_t i, j;

	strvec_init(&done);
	for (i = 0; i < t->nr; i++) {
		const char *p = t->ops[i].path, *slash = strrchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : 0;

		for (j = 0; j < done.nr; j++)
			if (strlen(done.v[j]) == n && !memcmp(done.v[j], p, n))
				break;
		if (j < done.nr)
			continue;
		strvec_pushf(&done, "%.*s", (int)n, p);
		fsync_dir_of(p);
	}
	strvec_clear(&done);
}

/* fsync the temp file of op. */
static int fsync_temp(const struct file_txn_op *op, struct err *e)
{
	int fd = open(op->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 || fsync(fd) < 0) {
		err_errno(e, errno, "cannot sync '%s'", op->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* syncfs() the file system of op's temp file, unless devs has it. */
static int syncfs_temp(const struct file_txn_op *op, dev_t *devs, size_t *nr,
		       size_t max, struct err *e)
{
	int fd = open(op->tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t i;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	for (i = 0; i < *nr; i++)
		if (devs[i] == st.st_dev)
			break;
	if (i == *nr) {
		if (syncfs(fd) < 0)
			goto fail;
		if (*nr < max)
			devs[(*nr)++] = st.st_dev;
	}
	close(fd);
	return 0;
fail:
	err_errno(e, errno, "cannot sync '%s'", op->path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Make every temp file durable before any rename, and only them: an fsync
 * each for a few; beyond FILE_TXN_FSYNC_MAX, one syncfs() of each file
 * system they are on (thousands of fsyncs, each a journal commit, would
 * cost seconds; syncfs flushes that one file system, not the machine's
 * as sync() does). The directories are synced after the renames.
 */
static int sync_temps(const struct file_txn *t, struct err *e)
{
	const char *last = NULL; /* a path of the last directory synced */
	size_t i, n = 0, nr_devs = 0, last_len = 0;
	dev_t devs[8];

	for (i = 0; i < t->nr; i++)
		n += t->ops[i].tmp != NULL;
	for (i = 0; i < t->nr; i++) {
		const struct file_txn_op *op = &t->ops[i];
		const char *slash = op->tmp ? strrchr(op->tmp, '/') : NULL;
		size_t dlen = slash ? (size_t)(slash - op->tmp) : 0;

		if (!op->tmp)
			continue;
		if (n <= FILE_TXN_FSYNC_MAX) {
			if (fsync_temp(op, e) < 0)
				return -1;
			continue;
		}
		/* one file system per directory: look at each one once */
		if (last && dlen == last_len && !memcmp(last, op->tmp, dlen))
			continue;
		if (syncfs_temp(op, devs, &nr_devs, 8, e) < 0)
			return -1;
		last = op->tmp;
		last_len = dlen;
	}
	return 0;
}

int file_txn_commit(struct file_txn *t, struct err *e)
{
	size_t i;

	if (sync_temps(t, e) < 0)
		return -1;
	for (i = 0; i < t->nr; i++)
		if (backup(&t->ops[i], e) < 0) {
			drop_backups(t, 0);
			return -1;
		}
	for (i = 0; i < t->nr; i++) {
		struct file_txn_op *op = &t->ops[i];
		int rc = op->tmp ? rename(op->tmp, op->path)
				 : (op->backup ? unlink(op->path) : 0);

		if (rc < 0) {
			err_errno(e, errno, "cannot %s '%s'",
				  op->tmp ? "replace" : "remove", op->path);
			rollback(t, i, e);
			drop_backups(t, i);
			return -1;
		}
	}
	t->committed = true;
	for (i = 0; i < t->nr; i++) {
		free(t->ops[i].tmp);
		t->ops[i].tmp = NULL;
	}
	sync_dirs(t);
	for (i = 0; i < t->nr; i++)
		if (t->ops[i].backup)
			unlink(t->ops[i].backup);
	return 0;
}

void file_txn_release(struct file_txn *t)
{
	size_t i;

	for (i = 0; i < t->nr; i++) {
		if (t->ops[i].tmp)
			unlink(t->ops[i].tmp);
		free(t->ops[i].path);
		free(t->ops[i].tmp);
		free(t->ops[i].backup);
	}
	free(t->ops);
	if (!t->committed)
		for (i = t->dirs.nr; i--;)
			rmdir(t->dirs.v[i]);
	strvec_clear(&t->dirs);
	strbuf_release(&t->last_dir);
	memset(t, 0, sizeof(*t));
}

int file_write_scratch(const char *path, const void *data, size_t len,
		       struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_errno(e, errno, "cannot write '%s'", path);
	if (write_all(fd, data, len) < 0) {
		err_errno(e, errno, "cannot write '%s'", path);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return err_errno(e, errno, "cannot write '%s'", path);
	return 0;
}
