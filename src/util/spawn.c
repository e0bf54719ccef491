/*
 * spawn.c - argv-only process spawning; see spawn.h.
 *
 * fork + execvp, with a close-on-exec pipe through which the child reports
 * a failed exec (its errno) to the parent: a missing program is an error of
 * spawn_run(), not an exit status the caller could mistake for the
 * program's own.
 *
 * A child with a deadline is the leader of its own process group (set on
 * both sides of the fork, so that no signal can miss it); the parent
 * polls its output and its exit against the clock, and at the deadline
 * signals the whole group: the playbook's ssh and python workers go too.
 *
 * A child must not outlive us, or a playbook goes on with no lease held
 * and another runner provisions the same guests again after the lease
 * expires. Two mechanisms:
 *
 * - Every child asks the kernel for SIGTERM when its parent dies
 *   (PR_SET_PDEATHSIG), then checks that the parent did not die before
 *   that (getppid() against our pid taken before the fork). This covers
 *   a SIGKILL too, but reaches the child only, not its own children, and
 *   it fires when the forking *thread* exits, not the process: that is
 *   right here because spawn_run() waits for the child in the thread
 *   that forked it (the lease's renewal thread included).
 *
 * - A group of its own does not get the SIGTERM, SIGINT or SIGHUP that
 *   was meant for us (kill, Ctrl-C, a CI job's cancel to our group), so
 *   we forward them: the pids of the running group leaders are kept in a
 *   fixed array of lock-free atomic slots (the one mutable global here:
 *   a signal handler has no other way in), and a handler signals each
 *   group, then lets the signal kill us with its default action
 *   (SA_RESETHAND, and raise()), so our exit status still says what
 *   killed us. The handler is installed only where the signal's action
 *   is SIG_DFL: a command that handles a signal itself keeps it. `watch`
 *   does so for SIGTERM and SIGINT to stop after the current commit,
 *   waiting for its child as documented; a SIGKILL of it is still
 *   covered by PDEATHSIG. sigclean's handler, armed after ours, puts
 *   ours back and raises, so both run. The signals are blocked in the
 *   forking thread from the fork until the group is registered, so that
 *   one cannot slip between the two (another thread of ours could still
 *   take it then: PDEATHSIG covers that child). A full array forwards to
 *   the groups it holds only.
 */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/backoff.h"
#include "util/exitcode.h"

extern char **environ;

/*
 * Both ends close-on-exec from the start (pipe2): another thread's fork
 * between pipe() and fcntl() would hand the ends to that child for its
 * whole life, and our read of the pipe would wait for that child to exit
 * (the lease's renewal thread spawns git while the main thread runs the
 * playbook).
 */
static int cloexec_pipe(int fd[2])
{
	return pipe2(fd, O_CLOEXEC);
}

/* The signals a group of its own gets from us (see the top). */
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP };
#define NR_FORWARDED	 (sizeof(forwarded) / sizeof(forwarded[0]))
#define SPAWN_GROUPS_MAX 64

/*
 * The running group leaders (0: a free slot). A forked copy of us (a
 * child between fork and exec has our handler) starts with none: the
 * groups are its parent's, not its own (groups_forked, at every fork).
 */
static atomic_int groups[SPAWN_GROUPS_MAX];
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
	       "the signal handler needs lock-free atomic ints");

static void groups_forked(void)
{
	for (size_t i = 0; i < SPAWN_GROUPS_MAX; i++)
		atomic_store(&groups[i], 0);
}

static void groups_once(void)
{
	pthread_atfork(NULL, NULL, groups_forked);
}

static void forward_signal(int sig)
{
	int saved = errno;

	for (size_t i = 0; i < SPAWN_GROUPS_MAX; i++) {
		int pgid = atomic_load(&groups[i]);

		if (pgid > 0)
			kill(-pgid, sig);
	}
	raise(sig); /* SA_RESETHAND: the default action, once we return */
	errno = saved;
}

/* Our handler where a signal's action is the default; see the top. */
static void forward_install(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct sigaction sa, old;

	pthread_once(&once, groups_once);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_FORWARDED; i++)
		sigaddset(&sa.sa_mask, forwarded[i]);
	for (size_t i = 0; i < NR_FORWARDED; i++)
		if (!sigaction(forwarded[i], NULL, &old) &&
		    !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
			sigaction(forwarded[i], &sa, NULL);
}

/* A slot for the group pgid, or -1 when they are all taken. */
static int groups_add(pid_t pgid)
{
	for (int i = 0; i < SPAWN_GROUPS_MAX; i++) {
		int free_slot = 0;

		if (atomic_compare_exchange_strong(&groups[i], &free_slot,
						   (int)pgid))
			return i;
	}
	return -1;
}

static void groups_drop(int *slot)
{
	if (*slot >= 0)
		atomic_store(&groups[*slot], 0);
	*slot = -1;
}

/*
 * The deadline of one child: stage 0 running, 1 SIGTERM sent, 2 SIGKILL
 * sent. deadline 0: none. slot: its group's in the array, or -1.
 */
struct waiter {
	pid_t pid;
	uint64_t deadline, grace, kill_at;
	int stage, slot;
};

/* Signal the group when a step is due; ms until the next step, or -1
 * when there is none left to wait for. */
static int waiter_step(struct waiter *w)
{
	uint64_t now, next;

	if (!w->deadline || w->stage == 2)
		return -1;
	now = mono_ms();
	if (w->stage == 0 && now >= w->deadline) {
		kill(-w->pid, SIGTERM);
		w->stage = 1;
		w->kill_at = now + w->grace;
	}
	if (w->stage == 1 && now >= w->kill_at) {
		kill(-w->pid, SIGKILL);
		w->stage = 2;
		return -1;
	}
	next = w->stage == 0 ? w->deadline : w->kill_at;
	return next - now > 1000 ? 1000 : (int)(next - now);
}

/* The child's output until EOF, or until its group was killed. */
static void read_all(int fd, struct strbuf *out, struct waiter *w)
{
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int t = waiter_step(w), r;
		ssize_t n;

		if (w->stage == 2)
			return; /* a process outside the group holds it */
		r = poll(&pfd, 1, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return;
		if (!r)
			continue;
		strbuf_grow(out, 4096);
		n = read(fd, out->buf + out->len, out->alloc - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		out->len += (size_t)n;
		out->buf[out->len] = '\0';
	}
}

/*
 * Reap the child. One that timed out is seen exited (WNOWAIT) before it
 * is reaped, so that its pid, still the group's id, cannot be reused
 * before the rest of its group is killed.
 */
static int wait_child(struct waiter *w, int *wstatus)
{
	for (;;) {
		int t = waiter_step(w);
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)w->pid, &si,
			   WEXITED | WNOWAIT | (t < 0 ? 0 : WNOHANG)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == w->pid)
			break;
		sleep_ms(t < 20 ? t : 20);
	}
	groups_drop(&w->slot); /* before the reaping frees the pid */
	if (w->stage)
		kill(-w->pid, SIGKILL);
	while (waitpid(w->pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

void env_delta_init(struct env_delta *d)
{
	strvec_init(&d->set);
	strvec_init(&d->unset);
}

void env_delta_set(struct env_delta *d, const char *name, const char *value)
{
	strvec_pushf(&d->set, "%s=%s", name, value);
}

void env_delta_unset(struct env_delta *d, const char *pattern)
{
	strvec_push(&d->unset, pattern);
}

void env_delta_release(struct env_delta *d)
{
	strvec_clear(&d->set);
	strvec_clear(&d->unset);
}

/* Does the entry "NAME=..." match the pattern "NAME", "NAME=..." or "P*"? */
static bool env_matches(const char *entry, const char *pattern)
{
	size_t n = strcspn(pattern, "=*");

	if (pattern[n] == '*')
		return !strncmp(entry, pattern, n);
	return !strncmp(entry, pattern, n) && entry[n] == '=';
}

static bool env_dropped(const char *entry, const struct env_delta *d)
{
	size_t i;

	for (i = 0; i < d->unset.nr; i++)
		if (env_matches(entry, d->unset.v[i]))
			return true;
	for (i = 0; i < d->set.nr; i++)
		if (env_matches(entry, d->set.v[i]))
			return true;
	return false;
}

void env_delta_apply(struct strvec *out, const char *const *base,
		     const struct env_delta *d)
{
	const char *const *p = base ? base : (const char *const *)environ;
	size_t i, j;

	strvec_init(out);
	for (; *p; p++)
		if (strchr(*p, '=') && (!d || !env_dropped(*p, d)))
			strvec_push(out, *p);
	if (!d)
		return;
	for (i = 0; i < d->set.nr; i++) {
		/* a later set of the same name wins */
		for (j = i + 1; j < d->set.nr; j++)
			if (env_matches(d->set.v[j], d->set.v[i]))
				break;
		if (j == d->set.nr)
			strvec_push(out, d->set.v[i]);
	}
}

/*
 * In the child, before exec: its own group, its end with ours (see the
 * top) and its memory limit.
 */
static int child_limits(const struct spawn_opts *opts, pid_t parent)
{
	if (opts->timeout_ms && setpgid(0, 0) < 0)
		return -1;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		return -1;
	if (getppid() != parent)
		_exit(127); /* it died before the prctl: nobody to tell */
	if (opts->memory_limit) {
		struct rlimit rl;

		rl.rlim_cur = (rlim_t)opts->memory_limit;
		rl.rlim_max = (rlim_t)opts->memory_limit;
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			return -1;
	}
	return 0;
}

/* In the child: set up fds and exec; never returns. */
static void child(const struct spawn_opts *opts, const char *const *env,
		  int errfd, int outfd, pid_t parent, const sigset_t *mask)
{
	int errnum, in;

	/*
	 * No child reads our stdin: a CI job's stdin may be a terminal or a
	 * non-blocking pipe (ssh leaves it so), which ansible-playbook refuses.
	 */
	in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, STDIN_FILENO) < 0)
		goto fail;
	if (in != STDIN_FILENO)
		close(in);
	if (outfd >= 0 && dup2(outfd, STDOUT_FILENO) < 0)
		goto fail;
	if (opts->quiet_stderr || opts->stderr_path || opts->output_path) {
		const char *path = opts->stderr_path ? opts->stderr_path
						     : opts->output_path;
		int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)
			      : open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			goto fail;
		if (opts->output_path && outfd < 0 &&
		    dup2(fd, STDOUT_FILENO) < 0)
			goto fail;
		if (fd != STDERR_FILENO)
			close(fd); /* the program gets it as stderr only */
	}
	if (opts->dir && chdir(opts->dir) < 0)
		goto fail;
	if (child_limits(opts, parent) < 0)
		goto fail;
	if (env)
		environ = (char **)env;
	pthread_sigmask(SIG_SETMASK, mask, NULL);
	execvp(opts->argv[0], (char *const *)opts->argv);
fail:
	errnum = errno;
	(void)!write(errfd, &errnum, sizeof(errnum));
	_exit(127);
}

/* After the child exited: its status, or the timeout. */
static int child_status(const struct spawn_opts *opts, const struct waiter *w,
			int wstatus, int *status, struct err *e)
{
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				     : 128 + WTERMSIG(wstatus);
	if (!w->stage)
		return 0;
	return err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
			"'%s' did not finish within %.1f s and was stopped",
			opts->argv[0], (double)opts->timeout_ms / 1000.0);
}

int spawn_run(const struct spawn_opts *opts, int *status, struct err *e)
{
	int errpipe[2] = { -1, -1 }, outpipe[2] = { -1, -1 };
	int wstatus, errnum = 0, ret = -1;
	struct strvec env = STRVEC_INIT;
	const char *const *envp = NULL;
	struct waiter w = { .slot = -1 };
	sigset_t block, mask;
	pid_t pid, self = getpid();
	ssize_t n;

	if (opts->env_delta) {
		env_delta_apply(&env, NULL, opts->env_delta);
		envp = env.v;
	}

	if (cloexec_pipe(errpipe) < 0 ||
	    (opts->out && cloexec_pipe(outpipe) < 0)) {
		err_errno(e, errno, "cannot start '%s'", opts->argv[0]);
		goto out;
	}
	forward_install();
	sigemptyset(&block);
	for (size_t i = 0; i < NR_FORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	pthread_sigmask(SIG_BLOCK, &block, &mask);
	pid = fork();
	if (pid < 0) {
		errnum = errno;
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
		err_errno(e, errnum, "cannot start '%s'", opts->argv[0]);
		goto out;
	}
	if (pid == 0)
		child(opts, envp, errpipe[1], outpipe[1], self, &mask);
	w.pid = pid;
	if (opts->timeout_ms) {
		setpgid(pid, pid); /* fails harmlessly once the child did */
		w.slot = groups_add(pid);
	}
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (opts->timeout_ms) {
		w.deadline = mono_ms() + opts->timeout_ms;
		w.grace = opts->kill_grace_ms ? opts->kill_grace_ms
					      : SPAWN_KILL_GRACE_MS;
	}
	close(errpipe[1]);
	errpipe[1] = -1;
	if (opts->out) {
		close(outpipe[1]);
		outpipe[1] = -1;
		read_all(outpipe[0], opts->out, &w);
	}
	do
		n = read(errpipe[0], &errnum, sizeof(errnum));
	while (n < 0 && errno == EINTR);
	if (wait_child(&w, &wstatus) < 0) {
		err_errno(e, errno, "cannot wait for '%s'", opts->argv[0]);
		goto out;
	}
	if (n == (ssize_t)sizeof(errnum)) {
		err_errno(e, errnum, "cannot run '%s'", opts->argv[0]);
		goto out;
	}
	ret = child_status(opts, &w, wstatus, status, e);
out:
	groups_drop(&w.slot);
	for (int i = 0; i < 2; i++) {
		if (errpipe[i] >= 0)
			close(errpipe[i]);
		if (outpipe[i] >= 0)
			close(outpipe[i]);
	}
	strvec_clear(&env);
	return ret;
}

bool spawn_program_exists(const char *name)
{
	const char *path = getenv("PATH"), *p;
	struct strbuf full = STRBUF_INIT;
	bool found = false;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	for (p = path ? path : "/usr/bin:/bin"; !found; p++) {
		size_t n = strcspn(p, ":");

		strbuf_setlen(&full, 0);
		if (n)
			strbuf_add(&full, p, n);
		else
			strbuf_addch(&full, '.');
		strbuf_addf(&full, "/%s", name);
		found = access(full.buf, X_OK) == 0;
		p += n;
		if (!*p)
			break;
	}
	strbuf_release(&full);
	return found;
}
