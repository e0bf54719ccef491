/*
 * exitcode.h - the process exit statuses, in one place.
 *
 * Documented in doc/pve-gitops.1 and tested by tests/integration.
 *
 * EXIT_INVALID and EXIT_CHANGES share the number 2 but never meet: 2 is
 * "invalid input" everywhere (SPEC), except under plan
 * --detailed-exitcode, which follows Terraform exactly: 0 no changes,
 * 1 any error (invalid input included: plan turns its EXIT_INVALID into
 * EXIT_FAIL, and main.c does the same for the configuration and usage
 * errors it finds first), 2 changes present. A CI script never reads "invalid"
 * as "changes".
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
