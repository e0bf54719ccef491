/*
 * spawn.c - argv-only process spawning; see spawn.h.
 *
 * fork + execvp, with a close-on-exec pipe through which the child reports
 * a failed exec (its errno) to the parent: a missing program is an error of
 * spawn_run(), not an exit status the caller could mistake for the
 * program's own.
 */
#include "util/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int cloexec_pipe(int fd[2])
{
	if (pipe(fd) < 0)
		return -1;
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd[1], F_SETFD, FD_CLOEXEC) < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	return 0;
}

static void read_all(int fd, struct strbuf *out)
{
	for (;;) {
		ssize_t n;

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

/* In the child: set up fds and exec; never returns. */
static void child(const struct spawn_opts *opts, const char *const *env,
		  int errfd, int outfd)
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
	if (opts->quiet_stderr || opts->stderr_path) {
		int fd = opts->stderr_path
				 ? open(opts->stderr_path,
					O_WRONLY | O_CREAT | O_TRUNC, 0600)
				 : open("/dev/null", O_WRONLY);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			goto fail;
	}
	if (opts->dir && chdir(opts->dir) < 0)
		goto fail;
	if (env)
		environ = (char **)env;
	execvp(opts->argv[0], (char *const *)opts->argv);
fail:
	errnum = errno;
	(void)!write(errfd, &errnum, sizeof(errnum));
	_exit(127);
}

int spawn_run(const struct spawn_opts *opts, int *status, struct err *e)
{
	int errpipe[2] = { -1, -1 }, outpipe[2] = { -1, -1 };
	int wstatus, errnum = 0, ret = -1;
	struct strvec env = STRVEC_INIT;
	const char *const *envp = NULL;
	ssize_t n;
	pid_t pid;

	if (opts->env_delta) {
		env_delta_apply(&env, NULL, opts->env_delta);
		envp = env.v;
	}

	if (cloexec_pipe(errpipe) < 0 ||
	    (opts->out && cloexec_pipe(outpipe) < 0)) {
		err_errno(e, errno, "cannot start '%s'", opts->argv[0]);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_errno(e, errno, "cannot start '%s'", opts->argv[0]);
		goto out;
	}
	if (pid == 0)
		child(opts, envp, errpipe[1], outpipe[1]);
	close(errpipe[1]);
	errpipe[1] = -1;
	if (opts->out) {
		close(outpipe[1]);
		outpipe[1] = -1;
		read_all(outpipe[0], opts->out);
	}
	do
		n = read(errpipe[0], &errnum, sizeof(errnum));
	while (n < 0 && errno == EINTR);
	while (waitpid(pid, &wstatus, 0) < 0) {
		if (errno != EINTR) {
			err_errno(e, errno, "cannot wait for '%s'",
				  opts->argv[0]);
			goto out;
		}
	}
	if (n == (ssize_t)sizeof(errnum)) {
		err_errno(e, errnum, "cannot run '%s'", opts->argv[0]);
		goto out;
	}
	*status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus)
				     : 128 + WTERMSIG(wstatus);
	ret = 0;
out:
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
