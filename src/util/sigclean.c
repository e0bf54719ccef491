/*
 * sigclean.c - scratch files removed on a fatal signal; see sigclean.h.
 */
#include "util/sigclean.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SIGCLEAN_PATH_MAX 4096

static const int fatal[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NR_FATAL (sizeof(fatal) / sizeof(fatal[0]))

/* The handler's state (see sigclean.h): written only while unarmed. */
static struct {
	volatile sig_atomic_t armed;
	int empty_dir; /* remove the entries of dir first */
	char file[SIGCLEAN_PATH_MAX], dir[SIGCLEAN_PATH_MAX];
	struct sigaction old[NR_FATAL];
} state;

/* What getdents64 fills in (linux/dirent.h's, which libc does not give). */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * The entries of dir, with raw system calls (getdents64, unlinkat): the
 * handler may not call opendir/readdir, which allocate.
 */
static void empty_dir(const char *dir)
{
	char buf[4096] __attribute__((aligned(8)));
	long n, off;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (off = 0; off < n;) {
			struct linux_dirent64 *d =
				(struct linux_dirent64 *)(void *)(buf + off);

			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				unlinkat(fd, d->d_name, 0);
			off += d->d_reclen;
		}
	close(fd);
}

static void on_signal(int sig)
{
	size_t i;

	if (state.armed) {
		state.armed = 0;
		if (state.file[0])
			unlink(state.file);
		if (state.empty_dir)
			empty_dir(state.dir);
		if (state.dir[0])
			rmdir(state.dir);
	}
	for (i = 0; i < NR_FATAL; i++)
		if (fatal[i] == sig)
			sigaction(sig, &state.old[i], NULL);
	raise(sig);
}

static int arm(const char *file, const char *dir, int empty)
{
	struct sigaction sa;
	size_t i;

	if (strlen(file) >= SIGCLEAN_PATH_MAX ||
	    (dir && strlen(dir) >= SIGCLEAN_PATH_MAX))
		return -1;
	sigclean_disarm();
	state.empty_dir = empty;
	memcpy(state.file, file, strlen(file) + 1);
	if (dir)
		memcpy(state.dir, dir, strlen(dir) + 1);
	else
		state.dir[0] = '\0';
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NR_FATAL; i++)
		sigaction(fatal[i], &sa, &state.old[i]);
	state.armed = 1;
	return 0;
}

int sigclean_arm(const char *file, const char *dir)
{
	return arm(file, dir, 0);
}

int sigclean_arm_dir(const char *dir)
{
	return arm("", dir, 1);
}

void sigclean_disarm(void)
{
	size_t i;

	if (!state.armed)
		return;
	state.armed = 0;
	for (i = 0; i < NR_FATAL; i++)
		sigaction(fatal[i], &state.old[i], NULL);
}
