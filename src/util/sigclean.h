/*
 * sigclean.h - a scratch file and its private directory removed when a
 * fatal signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) ends the process, as
 * git's tempfile.c does for its lock files: the handler unlinks them
 * (async-signal-safe calls only), restores the default action and
 * raises the signal again, so the exit status still says what killed us.
 *
 * One registration at a time, for the one-context kubeconfig that
 * `workloads apply` hands Terraform. The handler's state is the one
 * mutable global this needs: a signal handler has no other way in.
 */
#ifndef PVE_GITOPS_SIGCLEAN_H
#define PVE_GITOPS_SIGCLEAN_H

/*
 * Remove file, then the directory dir (may be NULL), on a fatal signal
 * from now on. 0, or -1 when a path is too long to keep (nothing is
 * registered then).
 */
int sigclean_arm(const char *file, const char *dir);
/*
 * The same for a private directory of sockets (provision's ssh masters):
 * its entries (one level, no subdirectories) and then dir itself.
 */
int sigclean_arm_dir(const char *dir);
/* Forget them and put the previous signal actions back. */
void sigclean_disarm(void);

#endif
