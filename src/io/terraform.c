/*
 * terraform.c - finding and running Terraform or OpenTofu; see
 * terraform.h.
 */
#include "io/terraform.h"

#include <string.h>

#include "io/programs.h"
#include "util/exitcode.h"
#include "util/spawn.h"
#include "util/strvec.h"

int terraform_find(const char **out, const struct config *cfg, struct err *e)
{
	const char *want = cfg->workloads.terraform;

	if (want) {
		*out = !strcmp(want, "tofu") ? "tofu" : "terraform";
		if (spawn_program_exists(*out))
			return 0;
		return err_setk(e, ERR_NOTFOUND, EXIT_FAIL,
				"'%s' (terraform: in %s) is not on PATH; "
				"install it, or drop the setting to use the "
				"one that is",
				*out, CONFIG_FILE_NAME);
	}
	*out = spawn_program_exists("terraform") ? "terraform"
	       : spawn_program_exists("tofu")	 ? "tofu"
						 : NULL;
	if (*out)
		return 0;
	return err_setk(e, ERR_NOTFOUND, EXIT_FAIL,
			"neither terraform nor tofu is on PATH: workloads "
			"apply runs one of them to install the workloads "
			"(install Terraform or OpenTofu; render and check "
			"need neither)");
}

static void child_env(struct env_delta *d, const char *kubeconfig)
{
	programs_child_env(d);
	env_delta_unset(d, "TF_WORKSPACE");
	env_delta_unset(d, "TF_CLI_ARGS*");
	env_delta_unset(d, "KUBE_*");
	env_delta_unset(d, "KUBECONFIG");
	env_delta_set(d, "TF_IN_AUTOMATION", "1");
	env_delta_set(d, "TF_INPUT", "0");
	if (kubeconfig) {
		env_delta_set(d, "KUBECONFIG", kubeconfig);
		/* the kubernetes and helm providers read this one */
		env_delta_set(d, "KUBE_CONFIG_PATH", kubeconfig);
	}
}

int terraform_run(const char *prog, const char *dir, const char *const *args,
		  const char *kubeconfig, int *status, struct err *e)
{
	struct env_delta env = ENV_DELTA_INIT;
	struct strvec argv = STRVEC_INIT;
	struct spawn_opts so = { 0 };
	int ret;

	strvec_push(&argv, prog);
	for (; *args; args++)
		strvec_push(&argv, *args);
	child_env(&env, kubeconfig);
	so.argv = (const char *const *)argv.v;
	so.env_delta = &env;
	so.dir = dir;
	ret = spawn_run(&so, status, e);
	strvec_clear(&argv);
	env_delta_release(&env);
	return ret;
}
