/*
 * exitcode.h - the process exit statuses, in one place.
 *
 * Documented in doc/pve-gitops.1 and tested by tests/integration.
 */
#ifndef PVE_GITOPS_EXITCODE_H
#define PVE_GITOPS_EXITCODE_H

enum exit_code {
	EXIT_OK = 0,	  /* success */
	EXIT_FAIL = 1,	  /* the command failed (I/O, API, process) */
	EXIT_INVALID = 2, /* usage error or invalid input; nothing changed */
	EXIT_CHANGES = 2, /* plan --detailed-exitcode: changes present */
};

#endif
