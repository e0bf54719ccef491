/*
 * env.c - the environment read once; see env.h.
 */
#include "core/env.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

void env_init(struct env *env)
{
	memset(env, 0, sizeof(*env));
	strvec_init(&env->all);
}

static bool truthy(const char *v)
{
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true"));
}

static char *dup_var(const struct env *env, const char *name)
{
	const char *v = env_get(env, name);

	return v ? xstrdup(v) : NULL;
}

void env_parse(struct env *env, const char *const *envp)
{
	env_release(env);
	for (; envp && *envp; envp++)
		if (strchr(*envp, '='))
			strvec_push(&env->all, *envp);
	env->pm_api_url = dup_var(env, "PM_API_URL");
	env->pm_api_token_id = dup_var(env, "PM_API_TOKEN_ID");
	env->pm_api_token_secret = dup_var(env, "PM_API_TOKEN_SECRET");
	env->pm_user = dup_var(env, "PM_USER");
	env->pm_pass = dup_var(env, "PM_PASS");
	env->pm_tls_insecure = truthy(env_get(env, "PM_TLS_INSECURE"));
	env->proxmox_ve_endpoint = dup_var(env, "PROXMOX_VE_ENDPOINT");
	env->proxmox_ve_api_token = dup_var(env, "PROXMOX_VE_API_TOKEN");
	env->vault_addr = dup_var(env, "VAULT_ADDR");
	env->vault_token = dup_var(env, "VAULT_TOKEN");
	env->vault_namespace = dup_var(env, "VAULT_NAMESPACE");
	env->vault_cacert = dup_var(env, "VAULT_CACERT");
	env->vault_capath = dup_var(env, "VAULT_CAPATH");
	env->vault_skip_verify = truthy(env_get(env, "VAULT_SKIP_VERIFY"));
	env->home = dup_var(env, "HOME");
	env->tmpdir = dup_var(env, "TMPDIR");
	env->xdg_runtime_dir = dup_var(env, "XDG_RUNTIME_DIR");
	env->ansible_private_key_file =
		dup_var(env, "ANSIBLE_PRIVATE_KEY_FILE");
	env->no_color = env_get(env, "NO_COLOR") != NULL;
	env->webhook_secret = dup_var(env, "PVE_GITOPS_WEBHOOK_SECRET");
}

const char *env_get(const struct env *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < env->all.nr; i++) {
		const char *s = env->all.v[i];

		if (!strncmp(s, name, n) && s[n] == '=')
			return s[n + 1] ? s + n + 1 : NULL;
	}
	return NULL;
}

const char *env_cluster_secret(const struct env *env, const char *prefix,
			       const char *cluster)
{
	char name[128];
	size_t n = strlen(prefix), i;
	const char *v;

	if (!strcmp(cluster, "default") && (v = env_get(env, prefix)))
		return v;
	if (n + 1 + strlen(cluster) >= sizeof(name))
		return NULL;
	memcpy(name, prefix, n);
	name[n++] = '_';
	for (i = 0; cluster[i]; i++)
		name[n++] = cluster[i] == '-'
				    ? '_'
				    : (char)toupper((unsigned char)cluster[i]);
	name[n] = 0;
	return env_get(env, name);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void env_release(struct env *env)
{
	size_t i;

	free(env->pm_api_url);
	free(env->pm_api_token_id);
	wipe_free(env->pm_api_token_secret);
	free(env->pm_user);
	wipe_free(env->pm_pass);
	free(env->proxmox_ve_endpoint);
	wipe_free(env->proxmox_ve_api_token);
	free(env->vault_addr);
	wipe_free(env->vault_token);
	free(env->vault_namespace);
	free(env->vault_cacert);
	free(env->vault_capath);
	free(env->home);
	free(env->tmpdir);
	free(env->xdg_runtime_dir);
	free(env->ansible_private_key_file);
	wipe_free(env->webhook_secret);
	for (i = 0; i < env->all.nr; i++)
		explicit_bzero((char *)env->all.v[i], strlen(env->all.v[i]));
	strvec_clear(&env->all);
	env_init(env);
}
