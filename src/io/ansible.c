/*
 * ansible.c - Ansible's environment, command line and inventory check;
 * see ansible.h.
 */
#include "io/ansible.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dyninv.h"
#include "core/sshargs.h"
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

void ansible_playbook_env(struct env_delta *d, const struct ansible_play *p)
{
	common_env(d);
	/*
	 * Environment variables beat ansible.cfg; the vars file (extra vars,
	 * which beat the environment and the inventory) says the same.
	 */
	env_delta_set(d, "ANSIBLE_HOST_KEY_CHECKING", "True");
	env_delta_set(d, "ANSIBLE_SSH_HOST_KEY_CHECKING", "True");
	env_delta_set(d, "ANSIBLE_RETRY_FILES_ENABLED", "False");
	if (p && p->ssh_args)
		env_delta_set(d, "ANSIBLE_SSH_ARGS", p->ssh_args);
	/* ssh_args name the ControlPath; Ansible's own would be here too */
	if (p && p->control_dir)
		env_delta_set(d, "ANSIBLE_SSH_CONTROL_PATH_DIR",
			      p->control_dir);
	if (p && p->vault_token)
		env_delta_set(d, "VAULT_TOKEN", p->vault_token);
}

bool ansible_playbook_wants_vault_token(const char *text, size_t len)
{
	static const char word[] = "VAULT_TOKEN";
	size_t n = sizeof(word) - 1, i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(text + i, word, n))
			return true;
	return false;
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
		     NULL);
	if (p->extra_inventory)
		strvec_pushl(argv, "-i", p->extra_inventory, NULL);
	strvec_push(argv, "-e");
	strvec_pushf(argv, "target_hosts=%s",
		     p->target_hosts ? p->target_hosts : "all");
	strvec_push(argv, "-e");
	strvec_pushf(argv, "@%s", p->vars_file);
	if (p->limit)
		strvec_pushl(argv, "--limit", p->limit, NULL);
}

/*
 * A failed run's output, captured with -q, on stderr as it would have been
 * without: byte for byte, like the inherited output it stands for.
 */
static void replay(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char buf[8192];
	ssize_t n;

	if (fd < 0)
		return;
	fflush(stdout);
	while ((n = read(fd, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0 && fwrite(buf, 1, (size_t)n, stderr) != (size_t)n)
			break;
	fflush(stderr);
	close(fd);
}

int ansible_playbook_run(const struct ansible_play *p, int *status,
			 struct err *e)
{
	struct env_delta env = ENV_DELTA_INIT;
	struct strvec argv = STRVEC_INIT;
	struct spawn_opts so = { 0 };
	int ret;

	ansible_playbook_argv(&argv, p);
	ansible_playbook_env(&env, p);
	so.argv = (const char *const *)argv.v;
	so.env_delta = &env;
	so.timeout_ms = p->timeout_seconds * 1000;
	so.memory_limit = p->memory_limit;
	so.output_path = p->log_file;
	ret = spawn_run(&so, status, e);
	if (p->log_file && (ret < 0 || *status))
		replay(p->log_file);
	if (p->log_file)
		unlink(p->log_file);
	strvec_clear(&argv);
	env_delta_release(&env);
	return ret;
}

#define WEAKENING_FILE_MAX (4u << 20)

static void weakening_file(const struct beneath *b, const char *rel,
			   struct strvec *out)
{
	struct strbuf text = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t line;

	if (!beneath_read(b, rel, &text, WEAKENING_FILE_MAX, &e) &&
	    (line = sshargs_weakening_line(text.buf, text.len)))
		strvec_pushf(out, "%s:%zu", rel, line);
	err_release(&e);
	strbuf_release(&text);
}

/* The files of dir (and of its directories while depth > 0). */
static void weakening_dir(const struct beneath *b, const char *dir, int depth,
			  struct strvec *out)
{
	struct strbuf rel = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct err e = ERR_INIT;
	struct dirent *de;
	DIR *d = NULL;
	size_t i;
	int fd;

	fd = beneath_open(b, dir, O_RDONLY | O_DIRECTORY, 0, &e);
	if (fd >= 0 && !(d = fdopendir(fd)))
		close(fd);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			strvec_push(&names, de->d_name);
	if (d)
		closedir(d);
	for (i = 0; i < names.nr; i++) {
		struct stat st;

		strbuf_reset(&rel);
		strbuf_addf(&rel, "%s/%s", dir, names.v[i]);
		if (fstatat(b->fd, rel.buf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			if (depth > 0)
				weakening_dir(b, rel.buf, depth - 1, out);
			continue;
		}
		weakening_file(b, rel.buf, out);
	}
	err_release(&e);
	strvec_clear(&names);
	strbuf_release(&rel);
}

void ansible_find_weakening(const struct beneath *b, const char *const *files,
			    const char *const *dirs, struct strvec *out)
{
	for (; files && *files; files++)
		weakening_file(b, *files, out);
	for (; dirs && *dirs; dirs++)
		weakening_dir(b, *dirs, 1, out);
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

/*
 * ansible-inventory --list of dir/name into out, with --export when
 * export; stderr kept in a file of dir for the error.
 */
static int run_inventory(const char *dir, const char *name, bool export,
			 struct strbuf *out, struct err *e)
{
	struct strbuf file = STRBUF_INIT, errfile = STRBUF_INIT;
	struct strbuf errs = STRBUF_INIT;
	struct env_delta env = ENV_DELTA_INIT;
	const char *argv[] = {
		"ansible-inventory", "-i", NULL, "--list", NULL, NULL
	};
	struct spawn_opts so = { 0 };
	int status, ret = -1;

	strbuf_addf(&file, "%s/%s", dir, name);
	strbuf_addf(&errfile, "%s/ansible-inventory.err", dir);
	argv[2] = file.buf;
	argv[4] = export ? "--export" : NULL;
	ansible_inventory_env(&env);
	so.argv = argv;
	so.env_delta = &env;
	so.out = out;
	so.stderr_path = errfile.buf;
	so.timeout_ms = ANSIBLE_INVENTORY_TIMEOUT_MS;
	so.memory_limit = ANSIBLE_INVENTORY_MEMORY_LIMIT;
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

/*
 * Whether view, read with --export, leaves a host of w without an address
 * of its own. --export keeps each host's own variables (its line, its
 * host_vars) apart from its groups' instead of merging them: two to three
 * times faster at 10,000 hosts, for the same answer wherever a host has an
 * ansible_host of its own, since a host's variables beat its groups'. A
 * host without one takes it from a group, which only the merged view
 * tells.
 */
static bool needs_merged_view(const struct dyninv *view,
			      const struct inv_want *w)
{
	size_t i;

	for (i = 0; i < w->nr; i++)
		if (w->hosts[i].ip && !dyninv_address(view, w->hosts[i].name))
			return true;
	return false;
}

static int read_view(const char *dir, const char *name, bool export,
		     struct dyninv *view, struct err *e)
{
	struct strbuf out = STRBUF_INIT, why = STRBUF_INIT;
	int ret = -1;

	if (run_inventory(dir, name, export, &out, e) < 0)
		goto out;
	if (dyninv_decode(view, out.buf, out.len, &why) < 0) {
		err_set(e, EXIT_FAIL,
			"ansible-inventory --list printed no JSON object");
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&out);
	strbuf_release(&why);
	return ret;
}

int ansible_inventory_check(const char *dir, const char *name,
			    const struct inv_want *w, enum ansible_check mode,
			    struct err *e)
{
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
	if (read_view(dir, name, true, &view, e) < 0)
		goto out;
	if (needs_merged_view(&view, w)) {
		dyninv_release(&view);
		dyninv_init(&view);
		if (read_view(dir, name, false, &view, e) < 0)
			goto out;
	}
	if (compare_view(&view, w, name, e) < 0)
		goto out;
	ret = 1;
out:
	dyninv_release(&view);
	return ret;
}
