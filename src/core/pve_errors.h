/*
 * pve_errors.h - what a Proxmox failure means, from its HTTP status and
 * the server's message. Proxmox answers 500 for nearly everything, so the
 * text is all there is; this is the one place that reads it. Callers get
 * an err_kind (set on the error by io/pve.c) and decide on that.
 *
 * Pure.
 */
#ifndef PVE_GITOPS_PVE_ERRORS_H
#define PVE_GITOPS_PVE_ERRORS_H

#include <stdbool.h>

#include "util/err.h"

/*
 * The kind of a failed answer (status >= 400, or 0 when none came):
 * ERR_LOCKED ("VM 101 is locked", "can't lock file"), ERR_EXISTS ("already
 * exists"), ERR_NOTFOUND ("does not exist", "no such", a guest file's
 * "No such file or directory", 404), ERR_BADSTATE
 * ("already running", "not running"), ERR_LOST (no answer, or a proxy's
 * 502/504/596: the request may have been carried out), ERR_PERMANENT (a
 * refusal that never gets better: parameters, a 400 whatever its text,
 * permissions, protection, a cluster node or storage that is not there:
 * "no such cluster node 'x'", "storage 'x' does not exist"),
 * ERR_GENERIC otherwise.
 */
enum err_kind pve_error_kind(long status, const char *server_text);

/* Whether retrying may succeed (what is locked or overloaded now). */
bool pve_error_transient(long status, const char *server_text);

/* Whether the failure proves the request was not carried out, so that
 * even a call that is not idempotent can be sent again. */
bool pve_error_not_carried_out(long status, const char *server_text);

#endif
