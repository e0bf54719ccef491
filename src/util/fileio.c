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
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(struct strbuf *out, const char *path, size_t max,
		  struct err *e)
{
	struct stat st;
	int fd, ret = -1;
	size_t start = out->len;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(e, errno, "cannot read '%s'", path);
	if (fstat(fd, &st) < 0) {
		err_errno(e, errno, "cannot read '%s'", path);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err_set(e, EXIT_INVALID, "cannot read '%s': is a directory",
			path);
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
		err_set(e, EXIT_INVALID,
			"cannot read '%s': larger than the limit of %zu bytes",
			path, max);
		goto out;
	}
	for (;;) {
		ssize_t n;

		strbuf_grow(out, 8192);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
		if (out->len - start > max) {
			err_set(e, EXIT_INVALID,
				"cannot read '%s': larger than the limit of %zu bytes",
				path, max);
			goto out;
		}
	}
	ret = 0;
out:
	if (ret)
		strbuf_setlen(out, start);
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

int file_write_atomic(const char *path, const void *data, size_t len,
		      mode_t mode, struct err *e)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd = -1, ret = -1;

	strbuf_addf(&tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		err_errno(e, errno, "cannot write '%s'", path);
		strbuf_release(&tmp);
		return -1;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		err_errno(e, errno, "cannot write '%s'", path);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_errno(e, errno, "cannot write '%s'", path);
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, path) < 0) {
		err_errno(e, errno, "cannot replace '%s'", path);
		goto out;
	}
	if (fsync_dir_of(path) < 0) {
		/* The new file is in place; only durability is in doubt. */
		err_errno(e, errno, "cannot sync the directory of '%s'", path);
		strbuf_release(&tmp);
		return -1;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return ret;
}
