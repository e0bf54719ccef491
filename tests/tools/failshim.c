/*
 * failshim.c - an LD_PRELOAD library that counts the calls a program makes
 * to change files and makes one of them fail, for fault-injection tests
 * (tests/integration/inventory_faults.py).
 *
 * Counted: mkstemp, mkstemp64, mkdtemp; open, open64 and openat when they
 * create or open for writing; write to an fd above 2; fsync; fchmod; close
 * of an fd seen opened for writing; rename, link, unlink, mkdir, rmdir.
 * mkstemp and mkdtemp are interposed whole because glibc's own open and
 * mkdir inside them cannot be. FAILSHIM_AT=N (1-based) makes the Nth counted
 * call fail with EIO (ENOSPC for write) without performing it; unset or 0
 * only counts. At exit the total is written to FAILSHIM_COUNT_FILE when set,
 * and FAILSHIM_TRACE=1 prints every counted call to stderr.
 *
 * Only the process that loaded the library with these variables counts: they
 * are removed from its environment at start, so programs it runs load the
 * library idle, and a forked child (getpid() differs) passes every call
 * through until it execs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FDS 4096

static atomic_ulong calls;
static unsigned long fail_at;
static char *count_file;
static bool trace;
static pid_t owner = -1;
static atomic_bool writable[MAX_FDS];

/* Set fp to the next definition of name after this library. */
#define NEXT(fp, name)                                       \
	do {                                                 \
		if (!(fp)) {                                 \
			void *sym_ = dlsym(RTLD_NEXT, name); \
			if (!sym_)                           \
				abort();                     \
			memcpy(&(fp), &sym_, sizeof(fp));    \
		}                                            \
	} while (0)

/* Count one call; true (with errno set to err) when it must fail. */
static bool fault(const char *what, const char *arg, int err)
{
	unsigned long n;

	if (owner < 0 || getpid() != owner)
		return false;
	n = atomic_fetch_add(&calls, 1) + 1;
	if (trace)
		dprintf(2, "failshim: %lu %s %s%s\n", n, what, arg,
			n == fail_at ? " FAILED" : "");
	if (n != fail_at)
		return false;
	errno = err;
	return true;
}

static void fd_arg(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "fd %d", fd);
}

static bool for_writing(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_CREAT);
}

static bool needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Remember whether fd was opened for writing; returns fd. */
static int opened(int fd, bool w)
{
	if (fd >= 0 && fd < MAX_FDS)
		writable[fd] = w;
	return fd;
}

__attribute__((constructor)) static void failshim_init(void)
{
	const char *at = getenv("FAILSHIM_AT");
	const char *cf = getenv("FAILSHIM_COUNT_FILE");
	const char *tr = getenv("FAILSHIM_TRACE");

	fail_at = at ? strtoul(at, NULL, 10) : 0;
	count_file = cf && *cf ? strdup(cf) : NULL;
	trace = tr && !strcmp(tr, "1");
	if (at || cf || tr)
		owner = getpid();
	unsetenv("FAILSHIM_AT");
	unsetenv("FAILSHIM_COUNT_FILE");
	unsetenv("FAILSHIM_TRACE");
}

__attribute__((destructor)) static void failshim_fini(void)
{
	static int (*real_open)(const char *, int, ...);
	static ssize_t (*real_write)(int, const void *, size_t);
	char buf[32];
	int fd, len;

	if (owner < 0 || getpid() != owner || !count_file)
		return;
	owner = -1;
	NEXT(real_open, "open");
	NEXT(real_write, "write");
	len = snprintf(buf, sizeof(buf), "%lu\n", atomic_load(&calls));
	fd = real_open(count_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (real_write(fd, buf, (size_t)len) != len)
			dprintf(2, "failshim: cannot write '%s'\n", count_file);
		close(fd);
	}
}

int mkstemp(char *tmpl)
{
	static int (*real)(char *);

	NEXT(real, "mkstemp");
	if (fault("mkstemp", tmpl, EIO))
		return -1;
	return opened(real(tmpl), true);
}

int mkstemp64(char *tmpl)
{
	static int (*real)(char *);

	NEXT(real, "mkstemp64");
	if (fault("mkstemp64", tmpl, EIO))
		return -1;
	return opened(real(tmpl), true);
}

char *mkdtemp(char *tmpl)
{
	static char *(*real)(char *);

	NEXT(real, "mkdtemp");
	if (fault("mkdtemp", tmpl, EIO))
		return NULL;
	return real(tmpl);
}

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int mode = 0;

	NEXT(real, "open");
	if (needs_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (for_writing(flags) && fault("open", path, EIO))
		return -1;
	return opened(real(path, flags, mode), for_writing(flags));
}

int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int mode = 0;

	NEXT(real, "open64");
	if (needs_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (for_writing(flags) && fault("open64", path, EIO))
		return -1;
	return opened(real(path, flags, mode), for_writing(flags));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	int mode = 0;

	NEXT(real, "openat");
	if (needs_mode(flags)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (for_writing(flags) && fault("openat", path, EIO))
		return -1;
	return opened(real(dirfd, path, flags, mode), for_writing(flags));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	char arg[32];

	NEXT(real, "write");
	fd_arg(arg, sizeof(arg), fd);
	if (fd > 2 && fault("write", arg, ENOSPC))
		return -1;
	return real(fd, buf, len);
}

int fsync(int fd)
{
	static int (*real)(int);
	char arg[32];

	NEXT(real, "fsync");
	fd_arg(arg, sizeof(arg), fd);
	if (fault("fsync", arg, EIO))
		return -1;
	return real(fd);
}

int fchmod(int fd, mode_t mode)
{
	static int (*real)(int, mode_t);
	char arg[32];

	NEXT(real, "fchmod");
	fd_arg(arg, sizeof(arg), fd);
	if (fault("fchmod", arg, EIO))
		return -1;
	return real(fd, mode);
}

int close(int fd)
{
	static int (*real)(int);
	char arg[32];

	NEXT(real, "close");
	fd_arg(arg, sizeof(arg), fd);
	if (fd >= 0 && fd < MAX_FDS && writable[fd]) {
		if (fault("close", arg, EIO))
			return -1;
		writable[fd] = false;
	}
	return real(fd);
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	NEXT(real, "rename");
	if (fault("rename", to, EIO))
		return -1;
	return real(from, to);
}

int link(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	NEXT(real, "link");
	if (fault("link", to, EIO))
		return -1;
	return real(from, to);
}

int unlink(const char *path)
{
	static int (*real)(const char *);

	NEXT(real, "unlink");
	if (fault("unlink", path, EIO))
		return -1;
	return real(path);
}

int mkdir(const char *path, mode_t mode)
{
	static int (*real)(const char *, mode_t);

	NEXT(real, "mkdir");
	if (fault("mkdir", path, EIO))
		return -1;
	return real(path, mode);
}

int rmdir(const char *path)
{
	static int (*real)(const char *);

	NEXT(real, "rmdir");
	if (fault("rmdir", path, EIO))
		return -1;
	return real(path);
}
