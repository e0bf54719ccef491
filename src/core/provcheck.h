/*
 * provcheck.h - the verdict on each new host before the playbook, and
 * what stage two makes of the verdicts: the hosts the playbook runs on,
 * whether it runs, and the exit status. Pure.
 *
 * A host that does not answer on SSH within ssh.wait_seconds, whose host
 * keys cannot be read, or that refuses the SSH login (ssh exits 255) has
 * failed; so has one whose `cloud-init status --wait` reports an error,
 * unless provision.on_cloud_init_error is continue (then a warning), and
 * one whose cloud-init has not finished within a bound. A
 * degraded cloud-init (recoverable errors, such as deprecated keys; exit
 * status 2 since cloud-init 23.4) is a warning, and a host without
 * cloud-init (127: no such command) is ready. As Ansible does with a host
 * that fails, the playbook runs on the others, and the command exits 1.
 * When every new host failed the playbook does not run at all.
 *
 * A playbook whose hosts have no SSH (Talos; provision.wait_for) has them
 * waited for another way: the Talos API's port, or not at all; then there
 * is no host-key step and no cloud-init check, and a host fails only when
 * its port never answers.
 */
#ifndef PVE_GITOPS_PROVCHECK_H
#define PVE_GITOPS_PROVCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"

enum provcheck_verdict {
	PROVCHECK_READY,  /* provisioned */
	PROVCHECK_WARN,	  /* provisioned, with a warning (why) */
	PROVCHECK_FAILED, /* left out of the playbook (why) */
};

struct provcheck {
	enum provcheck_verdict verdict;
	const char *cloud_init; /* "done", "absent", "degraded", "error",
				 * "not checked"; static */
	const char *why;	/* static; NULL when ready */
};

/*
 * The verdict on a host that answered on SSH and whose host keys are
 * recorded, from the exit status of `ssh HOST -- cloud-init status
 * --wait` (-1: ssh could not be started; PROVCHECK_TIMED_OUT: it had not
 * finished within provision.cloud_init_wait_seconds and was stopped,
 * which fails the host whatever continue_on_error says). continue_on_error:
 * provision.on_cloud_init_error is continue.
 */
#define PROVCHECK_TIMED_OUT (-2)
void provcheck_judge(struct provcheck *out, int status, bool continue_on_error);

/* The verdict on a host that never got that far (no SSH, no host key). */
void provcheck_unreachable(struct provcheck *out);

/*
 * What stage two waits for on the new hosts of playbook name (the tag's
 * NAME) run as file ("k8s.yml" for a k8s-* name; NULL: name.yml): the
 * provision.wait_for entry for name, else the one for file's base name
 * (so {k8s: none} covers every k8s-NAME run by k8s.yml), else SSH.
 */
enum provision_wait provcheck_wait_for(const struct config *cfg,
				       const char *name, const char *file);

/* The word provision.wait_for uses for w: "ssh", "talos", "none". */
const char *provcheck_wait_name(enum provision_wait w);

/*
 * The verdict on a host reached without SSH: the Talos API
 * answered, or nothing was waited for. Ready; no host key, no cloud-init
 * check ("not checked").
 */
void provcheck_reached(struct provcheck *out);

/*
 * Whether the playbook runs, given nr new hosts of which failed failed: on
 * the hosts that did not fail when there are some, on the inventory when
 * the commit added no host, never when every new host failed.
 */
bool provcheck_runs(size_t nr, size_t failed);

/*
 * The exit status of stage two (util/exitcode.h): EXIT_OK when no host
 * failed and the playbook, if it ran, exited 0; else EXIT_FAIL.
 */
int provcheck_exit(size_t failed, bool ran, int playbook_status);

#endif
