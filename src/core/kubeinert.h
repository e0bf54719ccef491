/*
 * kubeinert.h - a kubeconfig that carries data, not code.
 *
 * The merged kubeconfig is shared: every consumer runs kubectl with it, and
 * kubectl runs a user's `exec` command or `auth-provider` helper without
 * asking, reads any local file a path field names, and skips TLS checks
 * when told to. A kubeconfig that comes from a new VM (untrusted) may
 * therefore hold only inline credentials and certificates, as K3s writes
 * them. Pure.
 */
#ifndef PVE_GITOPS_KUBEINERT_H
#define PVE_GITOPS_KUBEINERT_H

#include <jansson.h>

#include "util/strvec.h"

/*
 * Append to problems one line per field of kc that is code, names a local
 * file or turns a safety off ("users[0].user.exec: runs a command on
 * every machine that uses the kubeconfig"). Returns how many it found.
 */
size_t kubeconfig_find_active(const json_t *kc, struct strvec *problems);

/*
 * The same, the path of each field ("users[0].user.exec") in paths and
 * what it does in whys, for callers that give positions.
 */
size_t kubeconfig_find_active_at(const json_t *kc, struct strvec *paths,
				 struct strvec *whys);

#endif
