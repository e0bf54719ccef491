/*
 * env.h - the process environment, read once.
 *
 * main.c copies the environment into a struct env at start-up (with
 * env_parse, which is pure: it takes the array), and everything below reads
 * the variables from there, through struct config's env member, instead of
 * calling getenv. The precedence between the config file and the variables
 * is decided where the config is applied (io/pve.c, io/vault.c); the names
 * are the ones the Terraform providers and the Vault CLI read.
 *
 * Secrets (token secret, password, Vault token, webhook secret) are wiped
 * by env_release.
 */
#ifndef PVE_GITOPS_ENV_H
#define PVE_GITOPS_ENV_H

#include <stdbool.h>

#include "util/strvec.h"

struct env {
	/* Proxmox: Telmate's PM_* and bpg's PROXMOX_VE_* */
	char *pm_api_url, *pm_api_token_id, *pm_api_token_secret;
	char *pm_user, *pm_pass;
	bool pm_tls_insecure;	    /* PM_TLS_INSECURE=1|true */
	char *proxmox_ve_endpoint;  /* PROXMOX_VE_ENDPOINT */
	char *proxmox_ve_api_token; /* user@realm!id=secret */
	/* Vault, as the Vault CLI reads them */
	char *vault_addr, *vault_token, *vault_namespace;
	char *vault_cacert, *vault_capath;
	bool vault_skip_verify;
	/* the rest */
	char *home, *tmpdir, *ansible_private_key_file;
	char *xdg_runtime_dir; /* XDG_RUNTIME_DIR: provision's ssh sockets */
	bool no_color;
	/* watch --listen: the push webhooks' shared secret */
	char *webhook_secret; /* PVE_GITOPS_WEBHOOK_SECRET */
	struct strvec all;    /* every NAME=VALUE, for env_get */
};

void env_init(struct env *env);
/*
 * Fill env from envp (a NULL-terminated NAME=VALUE array, normally
 * environ). Empty values count as unset, as the providers treat them.
 */
void env_parse(struct env *env, const char *const *envp);
/* The value of name, or NULL when unset or empty. */
const char *env_get(const struct env *env, const char *name);
/*
 * A cluster's secret: prefix "_" NAME, NAME the cluster's name upper-cased
 * with '-' as '_' (PM_API_TOKEN_SECRET_EAST for the cluster east). The
 * cluster "default" reads the plain variable first (PM_API_TOKEN_SECRET),
 * then PREFIX_DEFAULT. NULL when unset; the value lives in env (wiped by
 * env_release).
 */
const char *env_cluster_secret(const struct env *env, const char *prefix,
			       const char *cluster);
/* Free everything, wiping the secrets first. */
void env_release(struct env *env);

#endif
