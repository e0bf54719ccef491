/*
 * terraform.h - Terraform or OpenTofu, as `workloads apply` runs it: which
 * program (the config's terraform:, else whichever of terraform and tofu is
 * on PATH) and the environment it gets, built for it as a delta over ours
 * (io/programs.h's policy: no Proxmox credential, no Vault token), with
 * KUBECONFIG and KUBE_CONFIG_PATH naming the one-context kubeconfig and
 * every variable that would redirect it (TF_WORKSPACE, TF_CLI_ARGS*,
 * KUBE_*) dropped.
 */
#ifndef PVE_GITOPS_TERRAFORM_H
#define PVE_GITOPS_TERRAFORM_H

#include "core/config.h"
#include "util/err.h"

/*
 * The program to run into *out (static storage): "terraform" or "tofu".
 * -1 with a message saying what to install or set when none is on PATH
 * (ERR_NOTFOUND, EXIT_FAIL).
 */
int terraform_find(const char **out, const struct config *cfg, struct err *e);

/*
 * Run prog with args (NULL-terminated, without the program) in dir, with
 * kubeconfig (NULL: none) as its kubeconfig; *status is its exit status.
 * -1 when it could not be started.
 */
int terraform_run(const char *prog, const char *dir, const char *const *args,
		  const char *kubeconfig, int *status, struct err *e);

#endif
