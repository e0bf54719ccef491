/*
 * ansible.c - Ansible's environment, command line and inventory check;
 * see ansible.h.
 */
#include "io/ansible.h"

#include <string.h>
#include <unistd.h>

#include "core/dyninv.h"
#include "io/programs.h"
#include "util/exitcode.h"
#include "util/fileio.h"

static void common_env(struct env_delta *d)
{
	programs_child_env(d);
	/* Ansible refuses to start in a locale that is not UTF-8 */
	env_delta_set(d, "LC_ALL", "C.UTF-8");
	env_delta_set(d, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "True");
}

void ansible_playbook_env(struct env_delta *d)
{
	common_env(d);
	env_delta_set(d, "ANSIBLE_HOST_KEY_CHECKING", "True");
	env_delta_set(d, "ANSIBLE_RETRY_FILES_ENABLED", "False");
}

void ansible_inventory_env(struct env_delta *d)
{
	env_delta_unset(d, "ANSIBLE_INVENTORY_*");
	common_env(d);
	env_delta_set(d, "ANSIBLE_INVENTORY_ENABLED", "ini");
	env_delta_set(d, "ANSIBLE_INVENTORY_UNPARSED_WARNING", "False");
	env_delta_set(d, "ANSIBLE_NOCOLOR", "1");
}

void ansible_playbook_argv(struct strvec *argv, const struct ansible_play *p)
{
	strvec_pushl(argv, "ansible-playbook", p->playbook, "-i", p->inventory,
		     "-e", NULL);
	strvec_pushf(argv, "target_hosts=%s",
		     p->target_hosts ? p->target_hosts : "all");
	strvec_push(argv, "-e");
	strvec_pushf(argv, "@%s", p->vars_file);
}

int ansible_playbook_run(const struct ansible_play *p, int *status,
			 struct err *e)
{
	struct env_delta env = ENV_DELTA_INIT;
	struct strvec argv = STRVEC_INIT;
	struct spawn_opts so = { 0 };
	int ret;

	ansible_playbook_argv(&argv, p);
	ansible_playbook_env(&env);
	so.argv = (const char *const *)argv.v;
	so.env_delta = &env;
	ret = spawn_run(&so, status, e);
	strvec_clear(&argv);
	env_delta_release(&env);
	return ret;
}

bool ansible_inventory_will_check(enum ansible_check mode)
{
	return mode == ANSIBLE_CHECK_ALWAYS ||
	       (mode == ANSIBLE_CHECK_AUTO &&
		spawn_program_exists("ansible-inventory"));
}

/* Ansible's view (the --list JSON) against what w asked for. */
static int compare_view(const struct dyninv *view, const struct inv_want *w,
			const char *target, struct err *e)
{
	size_t i, g;

	for (i = 0; i < w->nr; i++) {
		const struct inv_host *h = &w->hosts[i];
		const char *got = dyninv_address(view, h->name);

		if (!h->ip)
			continue;
		if (!got || strcmp(got, h->ip))
			return err_set(
				e, EXIT_FAIL,
				"ansible-inventory reads %s in '%s' with "
				"ansible_host %s, not %s",
				h->name, target, got ? got : "(none)", h->ip);
		for (g = 0; g < h->groups.nr; g++)
			if (!dyninv_is_member(view, h->groups.v[g], h->name))
				return err_set(e, EXIT_FAIL,
					       "ansible-inventory does not see "
					       "'%s' in group [%s] of '%s'",
					       h->name, h->groups.v[g], target);
	}
	return 0;
}

/* ansible-inventory --list of dir/name into out; stderr kept in a file of
 * dir for the error. */
static int run_inventory(const char *dir, const char *name, struct strbuf *out,
			 struct err *e)
{
	struct strbuf file = STRBUF_INIT, errfile = STRBUF_INIT;
	struct strbuf errs = STRBUF_INIT;
	struct env_delta env = ENV_DELTA_INIT;
	const char *argv[] = { "ansible-inventory", "-i", NULL, "--list",
			       NULL };
	struct spawn_opts so = { 0 };
	int status, ret = -1;

	strbuf_addf(&file, "%s/%s", dir, name);
	strbuf_addf(&errfile, "%s/ansible-inventory.err", dir);
	argv[2] = file.buf;
	ansible_inventory_env(&env);
	so.argv = argv;
	so.env_delta = &env;
	so.out = out;
	so.stderr_path = errfile.buf;
	if (spawn_run(&so, &status, e) < 0)
		goto out;
	if (status) {
		struct err ignore = ERR_INIT;

		file_read_all(&errs, errfile.buf, 1 << 20, &ignore);
		err_release(&ignore);
		strbuf_trim(&errs);
		err_setk(e, ERR_CHILD, EXIT_FAIL,
			 "ansible-inventory refuses the new '%s' (exit %d): %s",
			 name, status, errs.len ? errs.buf : "(no message)");
		goto out;
	}
	ret = 0;
out:
	unlink(errfile.buf);
	env_delta_release(&env);
	strbuf_release(&file);
	strbuf_release(&errfile);
	strbuf_release(&errs);
	return ret;
}

int ansible_inventory_check(const char *dir, const char *name,
			    const struct inv_want *w, enum ansible_check mode,
			    struct err *e)
{
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	struct dyninv view;
	int ret = -1;

	if (mode == ANSIBLE_CHECK_NEVER)
		return 0;
	if (!spawn_program_exists("ansible-inventory")) {
		if (mode == ANSIBLE_CHECK_AUTO)
			return 0;
		return err_set(e, EXIT_FAIL,
			       "validate_with_ansible is 'always' but "
			       "ansible-inventory is not on PATH");
	}
	dyninv_init(&view);
	if (run_inventory(dir, name, &out, e) < 0)
		goto out;
	if (dyninv_decode(&view, out.buf, out.len, &why) < 0) {
		err_set(e, EXIT_FAIL,
			"ansible-inventory --list printed no JSON object");
		goto out;
	}
	if (compare_view(&view, w, name, e) < 0)
		goto out;
	ret = 1;
out:
	dyninv_release(&view);
	strbuf_release(&out);
	strbuf_release(&why);
	return ret;
}
