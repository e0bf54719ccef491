/*
 * beneath.c - paths below a root; see beneath.h.
 *
 * The hand walk keeps a stack of directory descriptors from the root down
 * and a stack of components still to resolve. A link's target replaces
 * the link's component on the component stack (a relative target is read
 * from the directory that holds the link; an absolute one is refused), so
 * ".." in a target climbs the descriptor stack and is refused at the root,
 * exactly as RESOLVE_BENEATH decides.
 */
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define MAX_LINKS 40
#define MAX_DEPTH 256

int beneath_root(struct beneath *b, const char *path, struct err *e)
{
	b->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->fd < 0)
		return err_errno(e, errno, "cannot open the directory '%s'",
				 path);
	b->path = xstrdup(path);
	return 0;
}

void beneath_release(struct beneath *b)
{
	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	b->fd = -1;
	b->path = NULL;
}

static int leaves(const char *rel, struct err *e)
{
	return err_setk(e, ERR_INVALID, EXIT_INVALID,
			"'%s': the path leaves the repository (through an "
			"absolute path, '..' or a symbolic link)",
			rel);
}

static int open_failed(const char *rel, int errnum, struct err *e)
{
	if (errnum == EXDEV)
		return leaves(rel, e);
	if (errnum == ELOOP)
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"'%s': too many symbolic links", rel);
	err_errno(e, errnum, "cannot open '%s'", rel);
	if (errnum == ENOENT)
		e->kind = ERR_NOTFOUND;
	return -1;
}

/* Push the components of path onto todo, last first, so they pop in order. */
static void push_components(struct strvec *todo, const char *path)
{
	const char *end = path + strlen(path);

	while (end > path) {
		const char *start = end;

		while (start > path && start[-1] != '/')
			start--;
		if (end > start)
			strvec_pushf(todo, "%.*s", (int)(end - start), start);
		end = start > path ? start - 1 : path;
	}
}

static char *pop(struct strvec *todo)
{
	char *s = (char *)todo->v[--todo->nr];

	todo->v[todo->nr] = NULL;
	return s;
}

struct walk {
	int dirs[MAX_DEPTH];
	int depth; /* dirs[0..depth] are open; dirs[0] is the root */
	struct strvec todo;
	int links;
};

/* Replace the link comp (in the current directory) by its target. */
static int expand_link(struct walk *w, const char *rel, const char *comp,
		       struct err *e)
{
	char target[PATH_MAX];
	ssize_t n =
		readlinkat(w->dirs[w->depth], comp, target, sizeof(target) - 1);

	if (n < 0)
		return open_failed(rel, errno, e);
	target[n] = '\0';
	if (target[0] == '/')
		return leaves(rel, e);
	if (++w->links > MAX_LINKS)
		return open_failed(rel, ELOOP, e);
	push_components(&w->todo, target);
	return 0;
}

/* One intermediate component: descend, climb, or expand a link. */
static int step(struct walk *w, const char *rel, const char *comp,
		struct err *e)
{
	struct stat st;
	int fd;

	if (!strcmp(comp, "."))
		return 0;
	if (!strcmp(comp, "..")) {
		if (w->depth == 0)
			return leaves(rel, e);
		close(w->dirs[w->depth--]);
		return 0;
	}
	fd = openat(w->dirs[w->depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int errnum = errno;

		if (fd >= 0)
			close(fd);
		return open_failed(rel, errnum, e);
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return expand_link(w, rel, comp, e);
	}
	if (!S_ISDIR(st.st_mode) || w->depth + 1 >= MAX_DEPTH) {
		close(fd);
		return open_failed(rel, ENOTDIR, e);
	}
	w->dirs[++w->depth] = fd;
	return 0;
}

/* The last component: open it, or expand it when it is a link. */
static int last(struct walk *w, const char *rel, const char *comp, int flags,
		mode_t mode, int *out, struct err *e)
{
	int fd;

	if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
		if (step(w, rel, comp, e) < 0)
			return -1;
		comp = ".";
	}
	fd = openat(w->dirs[w->depth], comp, flags | O_NOFOLLOW, mode);
	if (fd >= 0) {
		*out = fd;
		return 0;
	}
	/* O_NOFOLLOW on a link: ELOOP (ENOTDIR with O_DIRECTORY) */
	if (errno == ELOOP || errno == ENOTDIR) {
		struct stat st;

		if (!fstatat(w->dirs[w->depth], comp, &st,
			     AT_SYMLINK_NOFOLLOW) &&
		    S_ISLNK(st.st_mode))
			return expand_link(w, rel, comp, e);
	}
	return open_failed(rel, errno, e);
}

static int walk_open(const struct beneath *b, const char *rel, int flags,
		     mode_t mode, struct err *e)
{
	struct walk w;
	int fd = -1, ret = -1;

	memset(&w, 0, sizeof(w));
	strvec_init(&w.todo);
	w.dirs[0] = openat(b->fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w.dirs[0] < 0)
		return open_failed(rel, errno, e);
	push_components(&w.todo, rel);
	if (!w.todo.nr)
		strvec_push(&w.todo, ".");
	while (w.todo.nr && fd < 0) {
		char *comp = pop(&w.todo);
		int rc = w.todo.nr ? step(&w, rel, comp, e)
				   : last(&w, rel, comp, flags, mode, &fd, e);

		free(comp);
		if (rc < 0)
			goto out;
	}
	if (fd < 0) /* a link to "" */
		open_failed(rel, ENOENT, e);
	ret = fd;
out:
	while (w.depth >= 0)
		close(w.dirs[w.depth--]);
	strvec_clear(&w.todo);
	return ret;
}

static int kernel_open(const struct beneath *b, const char *rel, int flags,
		       mode_t mode, bool *fallback, struct err *e)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (unsigned)flags;
	how.mode = flags & O_CREAT ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = syscall(SYS_openat2, b->fd, rel, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	/* no openat2 (old kernel, or a seccomp filter that refuses it) */
	if (errno == ENOSYS || errno == EPERM || errno == E2BIG) {
		*fallback = true;
		return -1;
	}
	return open_failed(rel, errno, e);
}

/* Check what was opened, and give it back blocking. */
static int check_kind(int fd, const char *rel, int flags, bool nonblock,
		      struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return open_failed(rel, errno, e);
	if (flags & O_DIRECTORY ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return err_setk(e, ERR_INVALID, EXIT_INVALID,
				"'%s': not a regular %s", rel,
				flags & O_DIRECTORY ? "directory" : "file");
	if (nonblock && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
		return open_failed(rel, errno, e);
	return 0;
}

int beneath_open(const struct beneath *b, const char *rel, int flags,
		 mode_t mode, struct err *e)
{
	bool fallback = b->no_openat2, nonblock = false;
	int fd = -1;

	if (!*rel || rel[0] == '/')
		return rel[0] ? leaves(rel, e)
			      : err_setk(e, ERR_INVALID, EXIT_INVALID,
					 "an empty path");
	flags |= O_CLOEXEC | O_NOCTTY;
	/* a FIFO opened without O_NONBLOCK blocks until a writer comes */
	if (!(flags & (O_DIRECTORY | O_NONBLOCK))) {
		flags |= O_NONBLOCK;
		nonblock = true;
	}
	if (!fallback)
		fd = kernel_open(b, rel, flags, mode, &fallback, e);
	if (fallback)
		fd = walk_open(b, rel, flags, mode, e);
	if (fd < 0)
		return -1;
	if (check_kind(fd, rel, flags, nonblock, e) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int beneath_check_parent(const struct beneath *b, const char *rel,
			 struct err *e)
{
	struct strbuf dir = STRBUF_INIT;
	int fd = -1;

	strbuf_addstr(&dir, rel);
	for (;;) {
		char *slash = strrchr(dir.buf, '/');

		if (!slash) {
			fd = 0; /* the root itself */
			break;
		}
		strbuf_setlen(&dir, (size_t)(slash - dir.buf));
		if (!dir.len) {
			fd = -1;
			break;
		}
		err_clear(e);
		fd = beneath_open(b, dir.buf, O_RDONLY | O_DIRECTORY, 0, e);
		if (fd >= 0 || !err_is(e, ERR_NOTFOUND))
			break;
	}
	if (fd > 0)
		close(fd);
	if (fd < 0 && !e->msg.len)
		leaves(rel, e);
	strbuf_release(&dir);
	return fd < 0 ? -1 : 0;
}

/* Either kind (flags O_RDONLY or O_DIRECTORY) of beneath_check_*. */
static int check_existing_or_parent(const struct beneath *b, const char *rel,
				    int flags, struct err *e)
{
	int fd = beneath_open(b, rel, flags, 0, e);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (!err_is(e, ERR_NOTFOUND))
		return -1;
	err_clear(e);
	return beneath_check_parent(b, rel, e);
}

int beneath_check_target(const struct beneath *b, const char *rel,
			 struct err *e)
{
	return check_existing_or_parent(b, rel, O_RDONLY, e);
}

int beneath_check_dir(const struct beneath *b, const char *rel, struct err *e)
{
	return check_existing_or_parent(b, rel, O_RDONLY | O_DIRECTORY, e);
}

int beneath_read(const struct beneath *b, const char *rel, struct strbuf *out,
		 size_t max, struct err *e)
{
	int fd = beneath_open(b, rel, O_RDONLY, 0, e), ret;

	if (fd < 0)
		return -1;
	ret = file_read_fd(out, fd, rel, max, e);
	close(fd);
	return ret;
}
