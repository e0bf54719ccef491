/*
 * provision.c - `pve-gitops provision`: stage two of the chain, what the
 * seed's Ansible workflow does, without its defects. The playbook comes
 * from the commit's tag (or --playbook) and is resolved against the files
 * that exist (a real NAME.yml wins over the k8s-* shortcut). The new hosts
 * are those the provisioned commit itself added to new_hosts.txt; each is
 * waited for on SSH, its host keys recorded (through the guest agent when
 * it runs one, else ssh-keyscan, warned about), and cloud-init allowed to
 * finish. Then one ansible-playbook run with host key checking on, the
 * configured known_hosts file, structured variables in a 0600 file and
 * the Vault token only in the environment.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/chain.h"
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/ini.h"
#include "core/pve_format.h"
#include "core/tag.h"
#include "core/yemit.h"
#include "io/git.h"
#include "io/hostkeys.h"
#include "io/invsource.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/spawn.h"
#include "util/xalloc.h"

struct provision_opts {
	char *commit, *playbook;
};

static const struct opt provision_options[] = {
	{ "commit", 0, OPT_STRING, offsetof(struct provision_opts, commit),
	  "REV", "the commit to provision (default: HEAD)" },
	{ "playbook", 0, OPT_STRING, offsetof(struct provision_opts, playbook),
	  "NAME", "run this playbook instead of the commit's tag" },
	OPT_END,
};

/* One new host and what happened to it. */
struct new_host {
	char *ip, *name;
	const struct inv_vm *vm; /* from the outputs; NULL if unknown */
	long ssh_ms;
	const char *key_source; /* "guest agent", "ssh-keyscan" */
	const char *cloud_init; /* "done", "absent", "status N", ... */
};

struct prov {
	const struct config *cfg;
	struct repo_plan rp;
	struct inv_vms vms;
	struct new_host *hosts;
	size_t nr, alloc;
	char *known_hosts; /* ~ expanded */
	struct strbuf tmpdir;
};

static void prov_release(struct prov *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		free(p->hosts[i].ip);
		free(p->hosts[i].name);
	}
	free(p->hosts);
	free(p->known_hosts);
	inv_vms_release(&p->vms);
	repo_plan_release(&p->rp);
	strbuf_release(&p->tmpdir);
}

static void say(const struct prov *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct prov *p, const char *fmt, ...)
{
	va_list ap;

	if (p->cfg->verbosity < 0)
		return;
	va_start(ap, fmt);
	fputs("provision: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}

/* ---- what to run -----------------------------------------------------------
 */

static int list_playbooks(const char *dir, struct strvec *out, struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return err_errno(e, errno, "cannot list the playbooks in '%s'",
				 dir);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 4 && de->d_name[0] != '.' &&
		    !strcmp(de->d_name + n - 4, ".yml"))
			strvec_push(out, de->d_name);
	}
	closedir(d);
	return 0;
}

static int resolve(const struct config *cfg, const char *name,
		   struct playbook *pb, struct err *e)
{
	struct strvec files;
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	strvec_init(&files);
	if (list_playbooks(cfg->playbooks_dir, &files, e) < 0)
		goto out;
	if (playbook_resolve(pb, &files, name, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s", why.buf);
		goto out;
	}
	ret = 0;
out:
	strvec_clear(&files);
	strbuf_release(&why);
	return ret;
}

/* ---- new hosts
 * ----------------------------------------------------------------- */

/* new_hosts.txt as the commit has it, if the commit changed it. */
static int read_new_hosts(struct prov *p, const char *rev, struct err *e)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	char *line, *save = NULL;
	int lineno = 0, rc, ret = -1;

	rc = git_commit_touches(rev, p->cfg->new_hosts, e);
	if (rc <= 0) {
		if (!rc)
			say(p, "%s did not change %s: no new hosts", rev,
			    p->cfg->new_hosts);
		return rc;
	}
	rc = git_show_file(rev, p->cfg->new_hosts, &text, e);
	if (rc) {
		ret = rc < 0 ? -1 : 0; /* the commit deleted it */
		goto out;
	}
	for (line = strtok_r(text.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *comma = strchr(line, ',');
		uint32_t ip;
		size_t i;

		lineno++;
		line[strcspn(line, "\r")] = '\0';
		if (!*line)
			continue;
		strbuf_reset(&why);
		if (!comma ||
		    pve_parse_ipv4(&ip, line, (size_t)(comma - line)) < 0 ||
		    pve_check_dns_label(comma + 1, &why) < 0) {
			err_set(e, EXIT_INVALID,
				"%s:%d: expected IP,hostname (at %s)",
				p->cfg->new_hosts, lineno, rev);
			goto out;
		}
		ALLOC_GROW(p->hosts, p->nr + 1, p->alloc);
		memset(&p->hosts[p->nr], 0, sizeof(p->hosts[p->nr]));
		p->hosts[p->nr].ip = xstrndup(line, (size_t)(comma - line));
		p->hosts[p->nr].name = xstrdup(comma + 1);
		for (i = 0; i < p->vms.nr; i++)
			if (!strcmp(p->vms.v[i].def->name, comma + 1))
				p->hosts[p->nr].vm = &p->vms.v[i];
		p->nr++;
	}
	ret = 0;
out:
	strbuf_release(&text);
	strbuf_release(&why);
	return ret;
}

static char *expand_home(const char *path)
{
	const char *home = getenv("HOME");
	struct strbuf sb = STRBUF_INIT;

	if (path[0] == '~' && path[1] == '/' && home && *home)
		strbuf_addf(&sb, "%s%s", home, path + 1);
	else
		strbuf_addstr(&sb, path);
	return strbuf_detach(&sb, NULL);
}

/* SSH user of a host: the definition's ciuser, else the config's. */
static const char *ssh_user(const struct prov *p, const struct new_host *h)
{
	if (p->cfg->ssh.user)
		return p->cfg->ssh.user;
	return h->vm ? h->vm->user : p->cfg->ansible_user;
}

/* ---- preparing a host
 * ---------------------------------------------------------- */

static int host_keys(struct prov *p, struct new_host *h, struct pve_client *pc,
		     struct strvec *keys, struct err *e)
{
	unsigned port = (unsigned)p->cfg->ssh.port;

	if (h->vm && h->vm->def->agent == 1 && pc) {
		struct err ae = ERR_INIT;

		if (!hostkeys_from_agent(pc, h->vm->node, h->vm->vmid, keys,
					 &ae)) {
			h->key_source = "the guest agent";
			err_release(&ae);
			return 0;
		}
		fprintf(stderr,
			"pve-gitops: warning: %s: %s; falling back to "
			"ssh-keyscan\n",
			h->name, ae.msg.buf);
		err_release(&ae);
	}
	if (hostkeys_scan(h->ip, port, keys, e) < 0)
		return -1;
	fprintf(stderr,
		"pve-gitops: warning: %s: host key taken by ssh-keyscan (trust "
		"on first use); with agent: 1 it is read through Proxmox's "
		"guest agent instead\n",
		h->name);
	h->key_source = "ssh-keyscan";
	return 0;
}

/* The ssh options every connection to a new host uses. */
static void ssh_options(const struct prov *p, struct strvec *argv)
{
	const char *key = getenv("ANSIBLE_PRIVATE_KEY_FILE");

	strvec_pushl(argv, "-o", "BatchMode=yes", "-o",
		     "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
		     NULL);
	strvec_pushf(argv, "-oUserKnownHostsFile=%s", p->known_hosts);
	if (key && *key)
		strvec_pushl(argv, "-i", key, NULL);
}

/* cloud-init status --wait over SSH; absent or failing is not fatal. */
static void wait_cloud_init(struct prov *p, struct new_host *h)
{
	struct strvec argv;
	struct err e = ERR_INIT;
	int status;

	strvec_init(&argv);
	strvec_push(&argv, "ssh");
	ssh_options(p, &argv);
	strvec_pushf(&argv, "-p%u", (unsigned)p->cfg->ssh.port);
	strvec_pushf(&argv, "%s@%s", ssh_user(p, h), h->ip);
	strvec_pushl(&argv, "--", "cloud-init", "status", "--wait", NULL);
	{
		struct spawn_opts so = { .argv = (const char *const *)argv.v,
					 .out = NULL,
					 .quiet_stderr = 1 };
		struct strbuf out = STRBUF_INIT;

		so.out = &out;
		if (spawn_run(&so, &status, &e) < 0)
			h->cloud_init = "not checked (no ssh)";
		else if (!status)
			h->cloud_init = "done";
		else if (status == 127)
			h->cloud_init = "absent";
		else if (status == 255)
			h->cloud_init = "not checked (ssh failed)";
		else
			h->cloud_init = status == 2 ? "degraded" : "error";
		strbuf_release(&out);
	}
	strvec_clear(&argv);
	err_release(&e);
}

static int prepare_host(struct prov *p, struct new_host *h,
			struct pve_client *pc, struct err *e)
{
	struct strvec keys;
	int ret = -1;

	strvec_init(&keys);
	say(p, "%s (%s): waiting for SSH on port %u (at most %u s)", h->name,
	    h->ip, (unsigned)p->cfg->ssh.port,
	    (unsigned)p->cfg->ssh.wait_seconds);
	if (hostkeys_wait_ssh(h->ip, (unsigned)p->cfg->ssh.port,
			      (unsigned)p->cfg->ssh.wait_seconds, &h->ssh_ms,
			      e) < 0 ||
	    host_keys(p, h, pc, &keys, e) < 0 ||
	    hostkeys_record(p->known_hosts, h->ip, (unsigned)p->cfg->ssh.port,
			    &keys, e) < 0) {
		err_prefix(e, "%s", h->name);
		goto out;
	}
	say(p, "%s: %zu host key%s from %s recorded in %s", h->name, keys.nr,
	    keys.nr == 1 ? "" : "s", h->key_source, p->known_hosts);
	wait_cloud_init(p, h);
	say(p, "%s: cloud-init %s", h->name, h->cloud_init);
	ret = 0;
out:
	strvec_clear(&keys);
	return ret;
}

/* ---- running the playbook
 * -------------------------------------------------------- */

static void self_path(struct strbuf *out)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0)
		strbuf_add(out, buf, (size_t)n);
	else
		strbuf_addstr(out, "pve-gitops");
}

/* -e @FILE: what playbooks need, in a 0600 file in the private dir. */
static int write_vars(struct prov *p, struct strbuf *path, struct err *e)
{
	const struct config *cfg = p->cfg;
	const char *addr =
		cfg->vault.addr ? cfg->vault.addr : getenv("VAULT_ADDR");
	struct strbuf self = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf vpath = STRBUF_INIT, ssh = STRBUF_INIT;
	char cwd[PATH_MAX];
	json_t *vars;
	int ret;

	self_path(&self);
	strbuf_addf(&vpath, "%s/%s", cfg->vault.mount, cfg->vault.path);
	strbuf_addf(&ssh,
		    "-o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes",
		    p->known_hosts);
	vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "vault_addr",
			 addr ? addr : "", "vault_path", vpath.buf, "vault_key",
			 cfg->vault.key, "pve_gitops", self.buf,
			 "pve_gitops_root",
			 getcwd(cwd, sizeof(cwd)) ? cwd : ".",
			 "ansible_ssh_extra_args", ssh.buf);
	strbuf_addstr(&text, "# written by pve-gitops provision\n");
	yemit(&text, vars);
	strbuf_addf(path, "%s/vars.yml", p->tmpdir.buf);
	ret = file_write_atomic(path->buf, text.buf, text.len, 0600, e);
	json_decref(vars);
	strbuf_release(&self);
	strbuf_release(&text);
	strbuf_release(&vpath);
	strbuf_release(&ssh);
	return ret;
}

static bool is_new(const struct prov *p, const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nr; i++)
		if (!strcmp(p->hosts[i].name, name))
			return true;
	return false;
}

static void add_line(struct strbuf *out, const struct ini_line *l)
{
	strbuf_add(out, l->raw, l->len);
	if (!l->len || l->raw[l->len - 1] != '\n')
		strbuf_addch(out, '\n');
}

/* The new hosts' lines of the inventory, in their groups, with the vars
 * sections of those groups and of all. */
static void new_hosts_inventory(const struct prov *p, const struct ini *ini,
				struct strbuf *out)
{
	size_t i, s;

	strbuf_addstr(out,
		      "# the new hosts, written by pve-gitops provision\n");
	for (i = 0; i < ini->nr_lines; i++) {
		const struct ini_line *l = &ini->lines[i];

		if (l->kind == INI_HOST && is_new(p, l->name) &&
		    (l->section < 0 ||
		     !strcmp(ini->sections[l->section].group, "all") ||
		     !strcmp(ini->sections[l->section].group, "ungrouped")))
			add_line(out, l);
	}
	for (s = 0; s < ini->nr_sections; s++) {
		const struct ini_section *sec = &ini->sections[s];
		bool any = false;

		if (sec->type == INI_SEC_CHILDREN ||
		    (sec->type == INI_SEC_HOSTS &&
		     (!strcmp(sec->group, "all") ||
		      !strcmp(sec->group, "ungrouped"))))
			continue;
		for (i = sec->line + 1;
		     i < ini->nr_lines && ini->lines[i].kind != INI_SECTION;
		     i++) {
			const struct ini_line *l = &ini->lines[i];

			if (sec->type == INI_SEC_HOSTS &&
			    !(l->kind == INI_HOST && is_new(p, l->name)))
				continue;
			if (sec->type == INI_SEC_VARS && l->kind != INI_VAR)
				continue;
			if (!any)
				strbuf_addf(out, "\n[%s%s]\n", sec->group,
					    sec->type == INI_SEC_VARS ? ":vars"
								      : "");
			any = true;
			add_line(out, l);
		}
	}
}

static int temp_inventory(struct prov *p, struct strbuf *path, struct err *e)
{
	struct strbuf old = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf link = STRBUF_INIT;
	struct ini ini = INI_INIT;
	char real[PATH_MAX];
	int line, ret = -1;

	if (file_read_all(&old, p->cfg->inventory, 64 << 20, e) < 0)
		goto out;
	if (ini_parse(&ini, old.buf, old.len, &line, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s:%d: %s", p->cfg->inventory, line,
			why.buf);
		goto out;
	}
	new_hosts_inventory(p, &ini, &text);
	strbuf_addf(path, "%s/new_hosts.ini", p->tmpdir.buf);
	if (file_write_atomic(path->buf, text.buf, text.len, 0600, e) < 0)
		goto out;
	/* host_vars as Ansible finds them next to the inventory */
	if (realpath(p->cfg->host_vars_dir, real)) {
		strbuf_addf(&link, "%s/host_vars", p->tmpdir.buf);
		if (symlink(real, link.buf) < 0) {
			err_errno(e, errno, "cannot link '%s'", link.buf);
			goto out;
		}
	}
	ret = 0;
out:
	ini_release(&ini);
	strbuf_release(&old);
	strbuf_release(&text);
	strbuf_release(&why);
	strbuf_release(&link);
	return ret;
}

static void playbook_env(struct strvec *env)
{
	extern char **environ;
	char **ep;

	for (ep = environ; *ep; ep++)
		if (strncmp(*ep, "LC_ALL=", 7) &&
		    strncmp(*ep, "ANSIBLE_HOST_KEY_CHECKING=", 26))
			strvec_push(env, *ep);
	strvec_push(env, "ANSIBLE_HOST_KEY_CHECKING=True");
	strvec_push(env, "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True");
	strvec_push(env, "ANSIBLE_RETRY_FILES_ENABLED=False");
	strvec_push(env, "LC_ALL=C.UTF-8"); /* Ansible needs UTF-8 */
}

static int run_playbook(struct prov *p, const struct playbook *pb, int *status,
			struct err *e)
{
	struct strbuf vars = STRBUF_INIT, inv = STRBUF_INIT;
	struct strbuf book = STRBUF_INIT;
	struct strvec argv, env;
	int ret = -1;

	strvec_init(&argv);
	strvec_init(&env);
	if (write_vars(p, &vars, e) < 0)
		goto out;
	if (!pb->target_hosts && p->nr) {
		if (temp_inventory(p, &inv, e) < 0)
			goto out;
	} else {
		strbuf_addstr(&inv, p->cfg->inventory);
	}
	strbuf_addf(&book, "%s/%s", p->cfg->playbooks_dir, pb->file);
	strvec_pushl(&argv, "ansible-playbook", book.buf, "-i", inv.buf, "-e",
		     NULL);
	strvec_pushf(&argv, "target_hosts=%s",
		     pb->target_hosts ? pb->target_hosts : "all");
	strvec_push(&argv, "-e");
	strvec_pushf(&argv, "@%s", vars.buf);
	playbook_env(&env);
	say(p, "running %s on %s", pb->file,
	    pb->target_hosts ? pb->target_hosts
	    : p->nr	     ? "the new hosts"
			     : "the whole inventory");
	{
		struct spawn_opts so = { .argv = (const char *const *)argv.v,
					 .env = (const char *const *)env.v };

		ret = spawn_run(&so, status, e);
	}
out:
	strvec_clear(&argv);
	strvec_clear(&env);
	strbuf_release(&vars);
	strbuf_release(&inv);
	strbuf_release(&book);
	return ret;
}

static void remove_tmpdir(struct prov *p)
{
	static const char *const names[] = { "vars.yml", "new_hosts.ini",
					     "host_vars", NULL };
	struct strbuf f = STRBUF_INIT;
	size_t i;

	if (!p->tmpdir.len)
		return;
	for (i = 0; names[i]; i++) {
		strbuf_reset(&f);
		strbuf_addf(&f, "%s/%s", p->tmpdir.buf, names[i]);
		unlink(f.buf);
	}
	rmdir(p->tmpdir.buf);
	strbuf_release(&f);
}

/* ---- the stage
 * --------------------------------------------------------------- */

static int load_vms(struct prov *p, struct err *e)
{
	struct err oe = ERR_INIT;

	if (repo_plan_load(&p->rp, p->cfg, e) < 0)
		return -1;
	if (inv_vms_from_outputs(&p->vms, p->cfg, p->rp.defs, p->rp.in.nr_defs,
				 &oe) < 0)
		fprintf(stderr,
			"pve-gitops: warning: %s; host keys come from "
			"ssh-keyscan\n",
			oe.msg.buf);
	err_release(&oe);
	return 0;
}

static int prepare_hosts(struct prov *p, struct err *e)
{
	struct pve_client pc;
	bool want_agent = false, have_pc = false;
	size_t i;
	int ret = 0;

	for (i = 0; i < p->nr; i++)
		if (p->hosts[i].vm && p->hosts[i].vm->def->agent == 1)
			want_agent = true;
	if (want_agent) {
		struct err ce = ERR_INIT;

		have_pc = pve_client_open(&pc, p->cfg, &ce) == 0;
		if (!have_pc)
			fprintf(stderr,
				"pve-gitops: warning: %s; host keys come "
				"from ssh-keyscan\n",
				ce.msg.buf);
		err_release(&ce);
	}
	for (i = 0; i < p->nr && !ret; i++)
		ret = prepare_host(p, &p->hosts[i], have_pc ? &pc : NULL, e);
	if (have_pc)
		pve_client_release(&pc);
	return ret;
}

static void summary(const struct prov *p, const struct playbook *pb, int status)
{
	size_t i;

	if (p->cfg->verbosity < 0)
		return;
	printf("\nprovision summary:\n");
	for (i = 0; i < p->nr; i++)
		printf("  %-24s %-15s ssh after %.1f s, host key from %s, "
		       "cloud-init %s\n",
		       p->hosts[i].name, p->hosts[i].ip,
		       (double)p->hosts[i].ssh_ms / 1000.0,
		       p->hosts[i].key_source, p->hosts[i].cloud_init);
	printf("  %s: ansible-playbook exit status %d\n", pb->file, status);
}

/* The name --playbook gives, held to the same rule as a tag. */
static int checked_name(const char *name, struct strbuf *out, struct err *e)
{
	struct strbuf msg = STRBUF_INIT, why = STRBUF_INIT;
	int ret = 0;

	strbuf_addf(&msg, "[ansible %s]", name);
	if (tag_extract(msg.buf, msg.len, out, &why) != TAG_FOUND ||
	    strcmp(out->buf, name))
		ret = err_set(e, EXIT_INVALID,
			      "--playbook: '%s' is refused: %s", name,
			      why.len ? why.buf : "not a playbook name");
	strbuf_release(&msg);
	strbuf_release(&why);
	return ret;
}

int chain_stage_two(const struct config *cfg, const struct stage_two *s,
		    struct err *e)
{
	const char *rev = s->commit ? s->commit : "HEAD";
	struct strbuf name = STRBUF_INIT;
	struct playbook pb = { NULL, NULL };
	struct prov p;
	int rc, status = 0, ret = -1;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	inv_vms_init(&p.vms);
	strbuf_init(&p.tmpdir, 0);
	rc = s->playbook ? (checked_name(s->playbook, &name, e) < 0 ? -1 : 1)
			 : chain_commit_tag(rev, &name, e);
	if (rc <= 0) {
		if (!rc) {
			say(&p,
			    "%s carries no [ansible NAME] tag: nothing to "
			    "provision",
			    rev);
			ret = 1;
		}
		goto out;
	}
	if (resolve(cfg, name.buf, &pb, e) < 0 || load_vms(&p, e) < 0 ||
	    read_new_hosts(&p, rev, e) < 0)
		goto out;
	p.known_hosts = expand_home(cfg->ssh.known_hosts);
	if (prepare_hosts(&p, e) < 0)
		goto out;
	strbuf_addf(&p.tmpdir, "%s/pve-gitops-provision.XXXXXX",
		    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR")
							  : "/tmp");
	if (!mkdtemp(p.tmpdir.buf)) {
		err_errno(e, errno, "cannot create '%s'", p.tmpdir.buf);
		strbuf_reset(&p.tmpdir);
		goto out;
	}
	if (run_playbook(&p, &pb, &status, e) < 0)
		goto out;
	summary(&p, &pb, status);
	if (status) {
		err_set(e, EXIT_FAIL,
			"ansible-playbook %s exited with status %d", pb.file,
			status);
		goto out;
	}
	ret = 0;
out:
	remove_tmpdir(&p);
	playbook_release(&pb);
	strbuf_release(&name);
	prov_release(&p);
	return ret;
}

static int run_provision(const struct config *cfg, void *opts, int argc,
			 char **argv, struct err *e)
{
	struct provision_opts *o = opts;
	struct stage_two s = { o->commit, o->playbook };

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "provision takes no arguments");
	return chain_stage_two(cfg, &s, e) < 0 ? -1 : 0;
}

const struct cmd cmd_provision = {
	.name = "provision",
	.summary = "stage two: run the tagged playbook on the new hosts",
	.args = "",
	.opts = provision_options,
	.opts_size = sizeof(struct provision_opts),
	.run = run_provision,
};
