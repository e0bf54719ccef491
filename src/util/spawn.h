/*
 * spawn.h - run a program from an argv vector, never through a shell.
 *
 * The only way the project starts processes. argv[0] is looked up on PATH.
 * An exec failure (program missing, not executable) is reported to the
 * caller as an error, not as a child exit status.
 */
#ifndef PVE_GITOPS_SPAWN_H
#define PVE_GITOPS_SPAWN_H

#include <stdbool.h>

#include "util/err.h"
#include "util/strbuf.h"

struct spawn_opts {
	const char *const *argv; /* required, NULL-terminated */
	const char *const *env;	 /* NULL: inherit the environment */
	const char *dir;	 /* NULL: current directory */
	struct strbuf *out;	 /* NULL: inherit stdout; else captured */
	int quiet_stderr;	 /* send the child's stderr to /dev/null */
	const char *stderr_path; /* else: the child's stderr goes here (0600) */
};

/*
 * Run the program and wait for it. On success *status holds the exit code
 * (128 + signal number when it was killed) and 0 is returned; -1 when it
 * could not be started.
 */
int spawn_run(const struct spawn_opts *opts, int *status, struct err *e);

/* true when name (or a file of that name on PATH) is executable. */
bool spawn_program_exists(const char *name);

#endif
