/*
 * spawn.h - run a program from an argv vector, never through a shell.
 *
 * The only way the project starts processes. argv[0] is looked up on PATH.
 * An exec failure (program missing, not executable) is reported to the
 * caller as an error, not as a child exit status. A child's stdin is always
 * /dev/null: nothing we run may wait on, or read, our own input. A child
 * may be bounded: an address space limit (RLIMIT_AS, set in the child
 * before exec) and a deadline, after which its process group is stopped.
 * A child does not outlive us: it gets SIGTERM when we die (even of
 * SIGKILL), and a group of its own gets the SIGTERM, SIGINT or SIGHUP
 * that kills us (see spawn.c).
 */
#ifndef PVE_GITOPS_SPAWN_H
#define PVE_GITOPS_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

/*
 * A change to the environment a child inherits, as git's run-command takes
 * it: names to set and names to drop, applied over the current environment
 * in the parent, before the fork. A name set twice keeps its last value;
 * an unset entry "PREFIX*" drops every name that starts with PREFIX. Sets
 * are applied after unsets, so a set always wins.
 */
struct env_delta {
	struct strvec set;   /* "NAME=VALUE", owned */
	struct strvec unset; /* "NAME" or "PREFIX*", owned */
};

#define ENV_DELTA_INIT                   \
	{                                \
		STRVEC_INIT, STRVEC_INIT \
	}

void env_delta_init(struct env_delta *d);
void env_delta_set(struct env_delta *d, const char *name, const char *value);
void env_delta_unset(struct env_delta *d, const char *pattern);
void env_delta_release(struct env_delta *d);
/*
 * The environment base (NULL: the process's own) with d applied, as a
 * NULL-terminated vector in out (initialised here; the caller clears it).
 */
void env_delta_apply(struct strvec *out, const char *const *base,
		     const struct env_delta *d);

struct spawn_opts {
	const char *const *argv;	   /* required, NULL-terminated */
	const struct env_delta *env_delta; /* NULL: inherit ours as it is */
	const char *dir;		   /* NULL: current directory */
	struct strbuf *out;	 /* NULL: inherit stdout; else captured */
	int quiet_stderr;	 /* send the child's stderr to /dev/null */
	const char *stderr_path; /* else: the child's stderr goes here (0600) */
	const char *output_path; /* else: stderr, and stdout unless out, here */
	uint64_t memory_limit;	 /* RLIMIT_AS of the child, bytes; 0: none */
	uint64_t timeout_ms;	 /* 0: none; else a deadline (see below) */
	uint64_t kill_grace_ms;	 /* 0: SPAWN_KILL_GRACE_MS */
};

/* Between SIGTERM and SIGKILL when a deadline passes. */
#define SPAWN_KILL_GRACE_MS 5000

/*
 * Run the program and wait for it. On success *status holds the exit code
 * (128 + signal number when it was killed) and 0 is returned; -1 when it
 * could not be started.
 *
 * With timeout_ms the child runs in a process group of its own; when the
 * deadline passes the group gets SIGTERM, then SIGKILL after
 * kill_grace_ms, and -1 is returned with ERR_TIMEOUT (*status still
 * holds what the child died of). While it runs, a SIGTERM, SIGINT or
 * SIGHUP of ours whose action is the default (a handler for them is
 * installed on the first call) is sent to that group before it kills us.
 * The child is waited for in the calling thread: its PR_SET_PDEATHSIG
 * is tied to that thread.
 */
int spawn_run(const struct spawn_opts *opts, int *status, struct err *e);

/* true when name (or a file of that name on PATH) is executable. */
bool spawn_program_exists(const char *name);

#endif
