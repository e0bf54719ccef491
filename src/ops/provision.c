/*
 * provision.c - stage two of the chain; see provision.h.
 */
#include "ops/provision.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ini.h"
#include "core/sshargs.h"
#include "core/new_hosts.h"
#include "core/provcheck.h"
#include "core/tag.h"
#include "core/yemit.h"
#include "io/ansible.h"
#include "io/git.h"
#include "io/hostkeys.h"
#include "io/invsource.h"
#include "io/repo.h"
#include "io/programs.h"
#include "ops/lease.h"
#include "ops/repoplan.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/report.h"
#include "util/sigclean.h"
#include "util/spawn.h"
#include "util/xalloc.h"

struct prov {
	const struct config *cfg;
	struct provision_result *res;
	struct repo_plan rp;
	struct inv_vms vms;
	const struct inv_vm **vm_of; /* res->hosts[i]'s VM, or NULL */
	char *known_hosts;	     /* ~ expanded */
	struct strbuf ssh_args;	     /* ansible_ssh_args */
	struct strbuf ctl_dir;	     /* the ssh masters' sockets; "": none */
	struct strbuf tmpdir;
	enum provision_wait wait; /* what the new hosts are waited for */
	struct lease *lease;	  /* the request's */
};

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

static const char *env_or_null(const char *v)
{
	return v && *v ? v : NULL;
}

/* ---- what to run -------------------------------------------------------- */

static int resolve(const struct config *cfg, const char *name,
		   struct playbook *pb, struct err *e)
{
	struct strvec files;
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	strvec_init(&files);
	if (repo_list_playbooks(cfg->playbooks_dir, &files, e) < 0)
		goto out;
	if (playbook_resolve(pb, &files, name, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s", why.buf);
		goto out;
	}
	/* never a playbook linked out of playbooks_dir, nor a FIFO */
	ret = repo_check_playbook(cfg->playbooks_dir, pb->file, e);
out:
	strvec_clear(&files);
	strbuf_release(&why);
	return ret;
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

/* The playbook name: 1 found, 0 no tag, -1 refused. */
static int playbook_name(const struct provision_req *req, const char *rev,
			 struct strbuf *name, struct err *e)
{
	if (req->playbook)
		return checked_name(req->playbook, name, e) < 0 ? -1 : 1;
	if (req->tag) {
		strbuf_addstr(name, req->tag);
		return *req->tag ? 1 : 0;
	}
	return git_commit_tag(rev, name, e);
}

/* ---- new hosts ---------------------------------------------------------- */

static void add_host(struct prov *p, const struct new_host_entry *h)
{
	struct provision_result *r = p->res;
	size_t i;

	ALLOC_GROW(r->hosts, r->nr + 1, r->alloc);
	memset(&r->hosts[r->nr], 0, sizeof(r->hosts[r->nr]));
	r->hosts[r->nr].ip = xstrdup(h->ip);
	r->hosts[r->nr].name = xstrdup(h->name);
	r->nr++;
	p->vm_of = xrealloc(p->vm_of, r->nr * sizeof(*p->vm_of));
	p->vm_of[r->nr - 1] = NULL;
	for (i = 0; i < p->vms.nr; i++)
		if (!strcmp(p->vms.v[i].def->name, h->name))
			p->vm_of[r->nr - 1] = &p->vms.v[i];
}

/* new_hosts.txt as the commit has it, if the commit changed it. */
static int read_new_hosts(struct prov *p, const char *rev, struct err *e)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	struct new_hosts nh = NEW_HOSTS_INIT;
	size_t i, line;
	int rc, ret = -1;

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
	if (new_hosts_decode(&nh, text.buf, text.len, &line, &why) < 0) {
		err_setk(e, ERR_INVALID, EXIT_INVALID, "%s:%zu: %s (at %s)",
			 p->cfg->new_hosts, line, why.buf, rev);
		goto out;
	}
	for (i = 0; i < nh.nr; i++)
		add_host(p, &nh.v[i]);
	ret = 0;
out:
	new_hosts_release(&nh);
	strbuf_release(&text);
	strbuf_release(&why);
	return ret;
}

static char *expand_home(const struct config *cfg, const char *path)
{
	const char *home = cfg->env ? env_or_null(cfg->env->home) : NULL;
	struct strbuf sb = STRBUF_INIT;

	if (path[0] == '~' && path[1] == '/' && home)
		strbuf_addf(&sb, "%s%s", home, path + 1);
	else
		strbuf_addstr(&sb, path);
	return strbuf_detach(&sb, NULL);
}

/* SSH user of a host: the config's, else the definition's ciuser. */
static const char *ssh_user(const struct prov *p, size_t i)
{
	if (p->cfg->ssh.user)
		return p->cfg->ssh.user;
	return p->vm_of[i] ? p->vm_of[i]->user : p->cfg->ansible_user;
}

/* ---- preparing a host --------------------------------------------------- */

/*
 * New hosts are prepared at once, PREPARE_WORKERS at a time: each waits
 * on its own sockets and children, so the stage waits about as long as
 * its slowest host, not the sum. Bounded because each worker may run an
 * ssh or ssh-keyscan, and a guest agent connection of its own.
 *
 * The messages stay in host order, as one host after another printed
 * them: those of the first host not yet done are printed as they come
 * (its wait is the one a user watches), a later host's are kept until
 * every host before it is done, then printed with its verdict. So the
 * output is the same whatever order the hosts finish in, each host's
 * lines together, and a log can be read (and diffed) host by host.
 */
#define PREPARE_WORKERS 16

enum host_msg_kind { MSG_SAY, MSG_WARNING };

struct host_msg {
	enum host_msg_kind kind;
	char *text;
};

struct prep;

/* One host's preparation: what it learnt, and its messages until due. */
struct host_job {
	struct prep *sh;
	size_t i;
	struct strvec keys;	       /* its host keys, for known_hosts */
	struct strbuf known_hosts;     /* its own, for the cloud-init login */
	struct strbuf known_hosts_opt; /* UserKnownHostsFile= of that */
	struct host_msg *msg;	       /* held until the host is due */
	size_t nr_msg, alloc_msg;
	bool done;
	int ret; /* prepare_host's */
	struct err e;
};

/* The pool's state. Under mu: the fields below it, and each job's msg,
 * nr_msg and done; a job's host, keys, ret and e are its worker's until
 * done, read after the workers are joined (or, for the verdict, once
 * done is seen under mu). */
struct prep {
	struct prov *p;
	struct host_job *jobs;
	pthread_mutex_t mu;
	size_t next; /* the next host a worker takes */
	size_t head; /* the first host whose messages are not all out */
	bool stop;   /* a host failed the stage: start no other */
};

struct prep_worker {
	struct prep *sh;
	struct pve_client pc;
	bool have_pc;
	/* clusters: a client is wanted, and the cluster pc talks to (NULL:
	 * none yet); each host's is opened for it when it differs */
	bool want_pc;
	const char *pc_cluster;
};

static void emit_msg(const struct prov *p, enum host_msg_kind kind,
		     const char *text)
{
	if (kind == MSG_WARNING)
		report_warning("%s", text);
	else
		say(p, "%s", text);
}

/* A message about job's host: printed now if the host is due, else kept. */
static void host_say(struct host_job *j, enum host_msg_kind kind,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void host_say(struct host_job *j, enum host_msg_kind kind,
		     const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&j->sh->mu);
	if (j->sh->head == j->i) {
		emit_msg(j->sh->p, kind, sb.buf);
		strbuf_release(&sb);
	} else {
		ALLOC_GROW(j->msg, j->nr_msg + 1, j->alloc_msg);
		j->msg[j->nr_msg].kind = kind;
		j->msg[j->nr_msg].text = strbuf_detach(&sb, NULL);
		j->nr_msg++;
	}
	pthread_mutex_unlock(&j->sh->mu);
}

/* Print (or, print false, drop) what job kept; under the pool's mutex. */
static void flush_msgs(struct host_job *j, bool print)
{
	size_t k;

	for (k = 0; k < j->nr_msg; k++) {
		if (print)
			emit_msg(j->sh->p, j->msg[k].kind, j->msg[k].text);
		free(j->msg[k].text);
	}
	free(j->msg);
	j->msg = NULL;
	j->nr_msg = j->alloc_msg = 0;
}

/*
 * Where SSH to new host i goes: ssh.connect's entry for it, else its
 * address and ssh.port (config_ssh_target). *key_port: the port its host
 * key is known under, ssh.port, or 22 with an entry (HostKeyAlias names
 * the bare address). Returns the entry or NULL.
 */
static const struct ssh_connect *host_target(const struct prov *p, size_t i,
					     const char **host, unsigned *port,
					     unsigned *key_port)
{
	const struct provision_host *h = &p->res->hosts[i];
	const struct ssh_connect *c =
		config_ssh_target(p->cfg, h->name, h->ip, host, port);

	if (key_port)
		*key_port = c ? 22 : (unsigned)p->cfg->ssh.port;
	return c;
}

static int host_keys(struct host_job *j, struct pve_client *pc, struct err *e)
{
	struct prov *p = j->sh->p;
	struct provision_host *h = &p->res->hosts[j->i];
	const struct inv_vm *vm = p->vm_of[j->i];
	const char *host;
	unsigned port;

	if (vm && vm->def->agent == 1 && pc) {
		struct err ae = ERR_INIT;
		/* what is left of ssh.wait_seconds once SSH answered */
		long left = (long)p->cfg->ssh.wait_seconds * 1000 - h->ssh_ms;

		if (!hostkeys_from_agent(pc, vm->node, vm->vmid,
					 left > 0 ? (unsigned)left : 0,
					 &j->keys, &ae)) {
			h->key_source = "the guest agent";
			err_release(&ae);
			return 0;
		}
		host_say(j, MSG_WARNING, "%s: %s; falling back to ssh-keyscan",
			 h->name, ae.msg.buf);
		err_release(&ae);
		strvec_clear(&j->keys);
	}
	/* a key scanned through a forward the repository names would be
	 * recorded under the VM's address, which may be another server's:
	 * only the guest agent (through Proxmox) vouches for it then */
	if (host_target(p, j->i, &host, &port, NULL))
		return err_set(e, EXIT_FAIL,
			       "%s: ssh.connect sends its SSH to %s:%u and the "
			       "guest agent gave no host key: a key scanned "
			       "there is not recorded under %s; set agent: 1 "
			       "(its key then comes through Proxmox)",
			       h->name, host, port, h->ip);
	if (hostkeys_scan(host, port, &j->keys, e) < 0)
		return -1;
	host_say(j, MSG_WARNING,
		 "%s: host key taken by ssh-keyscan (trust on first "
		 "use); with agent: 1 it is read through Proxmox's "
		 "guest agent instead",
		 h->name);
	h->key_source = "ssh-keyscan";
	return 0;
}

/* The ssh options every connection to a new host uses; known_hosts_opt
 * the UserKnownHostsFile option naming the file with its keys. */
static char *ctl_path_option(const struct prov *p)
{
	struct strbuf sb = STRBUF_INIT;

	sshargs_control_path_option(&sb, p->ctl_dir.buf);
	return strbuf_detach(&sb, NULL);
}

static void ssh_options(const struct prov *p, const char *known_hosts_opt,
			struct strvec *argv)
{
	const char *key =
		p->cfg->env ? env_or_null(p->cfg->env->ansible_private_key_file)
			    : NULL;
	char *opt;

	strvec_pushl(argv, "-o", "BatchMode=yes", "-o",
		     "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10",
		     NULL);
	strvec_push(argv, "-o");
	strvec_push(argv, known_hosts_opt);
	if (p->ctl_dir.len) {
		/* this login becomes the master the playbook's share */
		strvec_pushl(argv, "-o", "ControlMaster=auto", "-o",
			     SSHARGS_CONTROL_PERSIST, "-o", NULL);
		opt = ctl_path_option(p);
		strvec_push(argv, opt);
		free(opt);
	}
	if (key)
		strvec_pushl(argv, "-i", key, NULL);
}

/* The last line ssh wrote on stderr (its reason), at most 200 bytes. */
static void ssh_reason(const char *path, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t end, start;

	if (file_read_all(&text, path, 1u << 20, &e) == 0) {
		end = text.len;
		while (end &&
		       (text.buf[end - 1] == '\n' || text.buf[end - 1] == '\r'))
			end--;
		start = end;
		while (start && text.buf[start - 1] != '\n')
			start--;
		if (end - start > 200)
			end = start + 200;
		strbuf_add(out, text.buf + start, end - start);
	}
	strbuf_release(&text);
	err_release(&e);
}

/*
 * cloud-init status --wait over SSH, which logs in as the playbook will:
 * its exit status (-1: ssh could not be started; PROVCHECK_TIMED_OUT:
 * cloud-init had not finished by provision.cloud_init_wait_seconds), ssh's
 * last stderr line into reason. Host key checking is strict, against a
 * known_hosts file of the host's own keys (the configured one is written
 * once, when every host is prepared).
 */
static int ssh_cloud_init(struct host_job *j, struct strbuf *reason)
{
	struct prov *p = j->sh->p;
	struct provision_host *h = &p->res->hosts[j->i];
	struct env_delta env = ENV_DELTA_INIT;
	struct strbuf out = STRBUF_INIT, errfile = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;
	struct spawn_opts so = { 0 };
	struct err e = ERR_INIT;
	const char *host;
	unsigned port;
	int status;

	strvec_push(&argv, "ssh");
	ssh_options(p, j->known_hosts_opt.buf, &argv);
	if (host_target(p, j->i, &host, &port, NULL))
		strvec_pushf(&argv, "-oHostKeyAlias=%s", h->ip);
	strvec_pushf(&argv, "-p%u", port);
	strvec_pushf(&argv, "%s@%s", ssh_user(p, j->i), host);
	strvec_pushl(&argv, "--", "cloud-init", "status", "--wait", NULL);
	strbuf_addf(&errfile, "%s/ssh-stderr.%zu", p->tmpdir.buf, j->i);
	unlink(errfile.buf);
	programs_child_env(&env);
	so.argv = (const char *const *)argv.v;
	so.env_delta = &env;
	so.out = &out;
	so.stderr_path = errfile.buf;
	so.timeout_ms = p->cfg->provision.cloud_init_wait_seconds * 1000;
	if (spawn_run(&so, &status, &e) < 0) {
		if (e.kind == ERR_TIMEOUT) {
			strbuf_addf(reason,
				    "stopped waiting after %u s "
				    "(provision.cloud_init_wait_seconds)",
				    (unsigned)p->cfg->provision
					    .cloud_init_wait_seconds);
			status = PROVCHECK_TIMED_OUT;
		} else {
			strbuf_add(reason, e.msg.buf, e.msg.len);
			status = -1;
		}
	} else if (status == 255) {
		ssh_reason(errfile.buf, reason);
	}
	unlink(errfile.buf);
	strbuf_release(&out);
	strbuf_release(&errfile);
	strvec_clear(&argv);
	env_delta_release(&env);
	err_release(&e);
	return status;
}

/* h's verdict with its details: why, as the summary shows it. */
static void set_why(struct provision_host *h, const char *detail)
{
	struct strbuf sb = STRBUF_INIT;

	free(h->why);
	h->why = NULL;
	if (!h->check.why)
		return;
	strbuf_addstr(&sb, h->check.why);
	if (detail && *detail)
		strbuf_addf(&sb, ": %s", detail);
	h->why = strbuf_detach(&sb, NULL);
}

/* A host that did not get as far as a login: failed, with e's reason. */
static void host_unreachable(struct provision_host *h, struct err *e)
{
	h->checked = true;
	provcheck_unreachable(&h->check);
	free(h->why);
	h->why = xstrdup(e->msg.buf);
	err_clear(e);
}

/*
 * Prepare host i of a playbook whose hosts have no SSH (provision.wait_for
 * talos or none): the Talos API's port answers, or nothing is waited for.
 * No host key, no login, no cloud-init check.
 */
static void prepare_other_host(struct host_job *j)
{
	struct prov *p = j->sh->p;
	struct provision_host *h = &p->res->hosts[j->i];
	unsigned port = (unsigned)p->cfg->provision.talos_api_port;
	struct err e = ERR_INIT;

	if (p->wait == PROVISION_WAIT_TALOS) {
		host_say(j, MSG_SAY,
			 "%s (%s): waiting for the Talos API on port %u%s (at "
			 "most %u s); no SSH",
			 h->name, h->ip, port,
			 p->cfg->provision.talos_api_tls ? ", TLS" : "",
			 (unsigned)p->cfg->ssh.wait_seconds);
		if (hostkeys_wait_port(h->ip, port,
				       p->cfg->provision.talos_api_tls,
				       (unsigned)p->cfg->ssh.wait_seconds,
				       &h->ssh_ms, &e) < 0) {
			host_unreachable(h, &e);
			err_release(&e);
			return;
		}
	} else {
		host_say(j, MSG_SAY,
			 "%s (%s): not waited for (provision.wait_for: none)",
			 h->name, h->ip);
	}
	h->checked = true;
	provcheck_reached(&h->check);
}

/*
 * Prepare job's host: SSH, host keys, the login and cloud-init, judged
 * (core/provcheck.h) into its check. 0 whatever the verdict; -1 only when
 * the host's own known_hosts file cannot be written, which stops the
 * stage.
 */
static int prepare_host(struct host_job *j, struct pve_client *pc,
			struct err *e)
{
	struct prov *p = j->sh->p;
	struct provision_host *h = &p->res->hosts[j->i];
	struct strbuf reason = STRBUF_INIT;
	const char *host;
	unsigned port, key_port;
	int status, ret = -1;

	if (p->wait != PROVISION_WAIT_SSH) {
		prepare_other_host(j);
		return 0;
	}
	if (host_target(p, j->i, &host, &port, &key_port))
		host_say(j, MSG_SAY,
			 "%s (%s): waiting for SSH at %s:%u (ssh.connect; at "
			 "most %u s)",
			 h->name, h->ip, host, port,
			 (unsigned)p->cfg->ssh.wait_seconds);
	else
		host_say(j, MSG_SAY,
			 "%s (%s): waiting for SSH on port %u (at most %u s)",
			 h->name, h->ip, port,
			 (unsigned)p->cfg->ssh.wait_seconds);
	if (hostkeys_wait_ssh(host, port, (unsigned)p->cfg->ssh.wait_seconds,
			      &h->ssh_ms, e) < 0 ||
	    host_keys(j, pc, e) < 0) {
		strvec_clear(&j->keys);
		host_unreachable(h, e);
		ret = 0;
		goto out;
	}
	strbuf_addf(&j->known_hosts, "%s/known_hosts.%zu", p->tmpdir.buf, j->i);
	if (hostkeys_record(j->known_hosts.buf, h->ip, key_port, &j->keys, e) <
	    0) {
		err_prefix(e, "%s", h->name);
		goto out;
	}
	sshargs_known_hosts_option(&j->known_hosts_opt, j->known_hosts.buf);
	host_say(j, MSG_SAY, "%s: %zu host key%s from %s recorded in %s",
		 h->name, j->keys.nr, j->keys.nr == 1 ? "" : "s", h->key_source,
		 p->known_hosts);
	status = ssh_cloud_init(j, &reason);
	h->checked = true;
	provcheck_judge(&h->check, status,
			p->cfg->provision.cloud_init_error_continue);
	set_why(h, reason.buf);
	host_say(j, MSG_SAY, "%s: cloud-init %s", h->name, h->check.cloud_init);
	ret = 0;
out:
	if (j->known_hosts.len)
		unlink(j->known_hosts.buf);
	strbuf_release(&reason);
	return ret;
}

/* ---- running the playbook ----------------------------------------------- */

static void self_path(struct strbuf *out)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0)
		strbuf_add(out, buf, (size_t)n);
	else
		strbuf_addstr(out, "pve-gitops");
}

/*
 * -e @FILE: what playbooks need, in a 0600 file in the private dir. Every
 * string is tagged !unsafe: Ansible never templates it, so Jinja in
 * vault.addr, VAULT_ADDR or a path is text, not code on the controller.
 *
 * The ssh options win over the repository's: Ansible's ssh connection
 * plugin (plugins/connection/ssh.py, _build_command) puts ssh_args first
 * on ssh's command line, then "-o StrictHostKeyChecking=no" when
 * host_key_checking is false, then ssh_common_args and ssh_extra_args,
 * each split with shlex.split; ssh keeps the first value of an option. So
 * ours go in ansible_ssh_args, and host_key_checking is forced true:
 * extra vars beat every inventory, group_vars and play variable, and for
 * these options variables beat the environment and ansible.cfg
 * (ansible_ssh_args over ANSIBLE_SSH_ARGS over [ssh_connection] ssh_args).
 */
static int write_vars(struct prov *p, struct strbuf *path, struct err *e)
{
	const struct config *cfg = p->cfg;
	/* VAULT_ADDR first, as io/vault.c takes it */
	const char *addr = cfg->env && env_or_null(cfg->env->vault_addr)
				   ? cfg->env->vault_addr
				   : cfg->vault.addr;
	struct strbuf self = STRBUF_INIT, text = STRBUF_INIT;
	struct strbuf vpath = STRBUF_INIT;
	char cwd[PATH_MAX];
	json_t *vars;
	int ret;

	self_path(&self);
	strbuf_addf(&vpath, "%s/%s", cfg->vault.mount, cfg->vault.path);
	vars = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b}", "vault_addr",
		addr ? addr : "", "vault_path", vpath.buf, "vault_key",
		cfg->vault.key, "pve_gitops", self.buf, "pve_gitops_root",
		getcwd(cwd, sizeof(cwd)) ? cwd : ".", "ansible_ssh_args",
		p->ssh_args.buf, "ansible_host_key_checking", 1,
		"ansible_ssh_host_key_checking", 1);
	strbuf_addstr(&text, "# written by pve-gitops provision\n");
	yemit_tagged(&text, vars, "!unsafe");
	strbuf_addf(path, "%s/vars.yml", p->tmpdir.buf);
	ret = file_write_atomic(path->buf, text.buf, text.len, 0600, e);
	json_decref(vars);
	strbuf_release(&self);
	strbuf_release(&text);
	strbuf_release(&vpath);
	return ret;
}

/* A new host the playbook runs on: one that did not fail. */
static bool in_run(const struct prov *p, const char *name)
{
	size_t i;

	for (i = 0; name && i < p->res->nr; i++)
		if (!strcmp(p->res->hosts[i].name, name))
			return p->res->hosts[i].check.verdict !=
			       PROVCHECK_FAILED;
	return false;
}

static void add_line(struct strbuf *out, const struct ini_line *l)
{
	strbuf_add(out, l->raw, l->len);
	if (!l->len || l->raw[l->len - 1] != '\n')
		strbuf_addch(out, '\n');
}

static bool is_all_or_ungrouped(const char *group)
{
	return !strcmp(group, "all") || !strcmp(group, "ungrouped");
}

/* One section's lines that the new hosts' inventory keeps. */
static void section_lines(const struct prov *p, const struct ini *ini,
			  const struct ini_section *sec, struct strbuf *out)
{
	bool any = false;
	size_t i;

	for (i = sec->line + 1;
	     i < ini->nr_lines && ini->lines[i].kind != INI_SECTION; i++) {
		const struct ini_line *l = &ini->lines[i];

		if (sec->type == INI_SEC_HOSTS &&
		    !(l->kind == INI_HOST && in_run(p, l->name)))
			continue;
		if (sec->type == INI_SEC_VARS && l->kind != INI_VAR)
			continue;
		if (!any)
			strbuf_addf(out, "\n[%s%s]\n", sec->group,
				    sec->type == INI_SEC_VARS ? ":vars" : "");
		any = true;
		add_line(out, l);
	}
}

/* The lines of the new hosts the playbook runs on, in their groups, with
 * the vars sections of those groups and of all. */
static void new_hosts_inventory(const struct prov *p, const struct ini *ini,
				struct strbuf *out)
{
	size_t i, s;

	strbuf_addstr(out,
		      "# the new hosts, written by pve-gitops provision\n");
	for (i = 0; i < ini->nr_lines; i++) {
		const struct ini_line *l = &ini->lines[i];

		if (l->kind == INI_HOST && in_run(p, l->name) &&
		    (l->section < 0 ||
		     is_all_or_ungrouped(ini->sections[l->section].group)))
			add_line(out, l);
	}
	for (s = 0; s < ini->nr_sections; s++) {
		const struct ini_section *sec = &ini->sections[s];

		if (sec->type == INI_SEC_CHILDREN ||
		    (sec->type == INI_SEC_HOSTS &&
		     is_all_or_ungrouped(sec->group)))
			continue;
		section_lines(p, ini, sec, out);
	}
}

/* The inventory Ansible is given as it is: a regular file below the
 * repository, never a link out of it. */
static int check_inventory(const struct prov *p, struct err *e)
{
	struct beneath root = BENEATH_INIT;
	int fd = -1;

	if (beneath_root(&root, ".", e) == 0)
		fd = beneath_open(&root, p->cfg->inventory, O_RDONLY, 0, e);
	beneath_release(&root);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int temp_inventory(struct prov *p, struct strbuf *path, struct err *e)
{
	struct strbuf old = STRBUF_INIT, text = STRBUF_INIT, why = STRBUF_INIT;
	struct strbuf link = STRBUF_INIT;
	struct beneath root = BENEATH_INIT;
	struct ini ini = INI_INIT;
	char real[PATH_MAX];
	int line, hv, ret = -1;

	if (beneath_root(&root, ".", e) < 0 ||
	    beneath_read(&root, p->cfg->inventory, &old, 64 << 20, e) < 0)
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
	/* host_vars as Ansible finds them next to the inventory, when
	 * they are below the repository */
	hv = beneath_open(&root, p->cfg->host_vars_dir, O_RDONLY | O_DIRECTORY,
			  0, e);
	if (hv < 0 && !err_is(e, ERR_NOTFOUND))
		goto out;
	err_clear(e);
	if (hv >= 0)
		close(hv);
	if (hv >= 0 && realpath(p->cfg->host_vars_dir, real)) {
		strbuf_addf(&link, "%s/host_vars", p->tmpdir.buf);
		if (symlink(real, link.buf) < 0) {
			err_errno(e, errno, "cannot link '%s'", link.buf);
			goto out;
		}
	}
	ret = 0;
out:
	beneath_release(&root);
	ini_release(&ini);
	strbuf_release(&old);
	strbuf_release(&text);
	strbuf_release(&why);
	strbuf_release(&link);
	return ret;
}

/* The directory part of path ("." when it has none) into out. */
static void dir_of(struct strbuf *out, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash)
		strbuf_add(out, path, (size_t)(slash - path));
	else
		strbuf_addch(out, '.');
}

/*
 * A repository setting Ansible would read that turns host key checking
 * off (ansible.cfg, the inventory, group_vars, host_vars, the playbook):
 * overridden by the vars file, said in a warning naming it.
 */
static void warn_weakening(const struct prov *p, const char *book,
			   const char *inv)
{
	struct strbuf idir = STRBUF_INIT, d[4];
	struct beneath b = BENEATH_INIT;
	struct strvec found = STRVEC_INIT;
	struct err e = ERR_INIT;
	const char *files[] = { "ansible.cfg", inv, book, NULL };
	const char *dirs[5] = { NULL };
	size_t i;

	dir_of(&idir, p->cfg->inventory);
	for (i = 0; i < 4; i++) {
		strbuf_init(&d[i], 0);
		strbuf_addf(&d[i], "%s/%s",
			    i < 2 ? idir.buf : p->cfg->playbooks_dir,
			    i % 2 ? "host_vars" : "group_vars");
		dirs[i] = d[i].buf;
	}
	if (beneath_root(&b, ".", &e) == 0)
		ansible_find_weakening(&b, files, dirs, &found);
	for (i = 0; i < found.nr; i++)
		report_warning("%s: turns host key checking off (or moves its "
			       "known_hosts); overridden: "
			       "StrictHostKeyChecking=yes with %s",
			       found.v[i], p->known_hosts);
	for (i = 0; i < 4; i++)
		strbuf_release(&d[i]);
	strbuf_release(&idir);
	strvec_clear(&found);
	beneath_release(&b);
	err_release(&e);
}

/* The Vault token, for a playbook that names it (io/ansible.h). */
static const char *vault_token_for(const struct prov *p, const char *book)
{
	const char *token =
		p->cfg->env ? env_or_null(p->cfg->env->vault_token) : NULL;
	struct strbuf text = STRBUF_INIT;
	struct err e = ERR_INIT;
	bool wants;

	if (!token)
		return NULL;
	wants = file_read_all(&text, book, 4u << 20, &e) == 0 &&
		ansible_playbook_wants_vault_token(text.buf, text.len);
	strbuf_release(&text);
	err_release(&e);
	if (wants)
		say(p, "%s names VAULT_TOKEN: it gets the Vault token", book);
	return wants ? token : NULL;
}

/* Whether the inventory has a group called name (Ansible's own "all" and
 * "ungrouped" too): a --limit pattern naming it would mean the group. */
static bool is_group(const struct ini *ini, const char *name)
{
	size_t i;

	if (!strcmp(name, "all") || !strcmp(name, "ungrouped"))
		return true;
	for (i = 0; i < ini->nr_sections; i++)
		if (!strcmp(ini->sections[i].group, name))
			return true;
	return false;
}

/*
 * --limit for a run on the whole inventory: "all" without the new hosts
 * that failed (DNS labels, so no pattern syntax), or nothing. A host that
 * is also a group's name cannot be left out by a pattern (Ansible reads
 * the group): an error, before the playbook runs. A run on the new hosts'
 * inventory has them left out of it instead.
 */
static int failed_limit(const struct prov *p, struct strbuf *out, struct err *e)
{
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	struct beneath root = BENEATH_INIT;
	struct ini ini = INI_INIT;
	int line, ret = -1;
	size_t i;

	if (!p->res->failed)
		return 0;
	if (beneath_root(&root, ".", e) < 0 ||
	    beneath_read(&root, p->cfg->inventory, &text, 64 << 20, e) < 0)
		goto out;
	if (ini_parse(&ini, text.buf, text.len, &line, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s:%d: %s", p->cfg->inventory, line,
			why.buf);
		goto out;
	}
	for (i = 0; i < p->res->nr; i++) {
		const char *name = p->res->hosts[i].name;

		if (p->res->hosts[i].check.verdict != PROVCHECK_FAILED)
			continue;
		if (is_group(&ini, name)) {
			err_set(e, EXIT_FAIL,
				"%s failed, and %s has a group of that name: "
				"--limit cannot leave the host out without the "
				"group, so the playbook does not run; rename "
				"the VM or the group",
				name, p->cfg->inventory);
			goto out;
		}
		strbuf_addf(out, "%s:!%s", out->len ? "" : "all", name);
	}
	ret = 0;
out:
	beneath_release(&root);
	ini_release(&ini);
	strbuf_release(&text);
	strbuf_release(&why);
	return ret;
}

/*
 * The run's second inventory source, for the new hosts ssh.connect sends
 * elsewhere: each host's ansible_host and ansible_port, and HostKeyAlias
 * naming its own address (where its key is recorded) in
 * ansible_ssh_extra_args; the repository's inventory is left as it is.
 * Ansible merges the two, the later source's host variables winning.
 * Nothing written (path left empty) when no host has an entry. Names and
 * addresses are checked ones (core/new_hosts.c decodes a DNS name and an
 * IPv4 address, config.c an IPv4 HOST): nothing in them needs quoting.
 */
static int connect_inventory(const struct prov *p, struct strbuf *path,
			     struct err *e)
{
	struct strbuf text = STRBUF_INIT;
	size_t i, n = 0;
	int ret = 0;

	strbuf_addstr(&text,
		      "# ssh.connect, written by pve-gitops provision\n");
	for (i = 0; i < p->res->nr; i++) {
		const struct provision_host *h = &p->res->hosts[i];
		const char *host;
		unsigned port;

		if (!in_run(p, h->name) ||
		    !host_target(p, i, &host, &port, NULL))
			continue;
		strbuf_addf(&text,
			    "%s ansible_host=%s ansible_port=%u "
			    "ansible_ssh_extra_args='-o HostKeyAlias=%s'\n",
			    h->name, host, port, h->ip);
		n++;
	}
	if (n) {
		strbuf_addf(path, "%s/connect.ini", p->tmpdir.buf);
		ret = file_write_atomic(path->buf, text.buf, text.len, 0600, e);
	}
	strbuf_release(&text);
	return ret;
}

static int run_playbook(struct prov *p, const struct playbook *pb,
			struct err *e)
{
	struct strbuf vars = STRBUF_INIT, inv = STRBUF_INIT;
	struct strbuf book = STRBUF_INIT, limit = STRBUF_INIT;
	struct strbuf log = STRBUF_INIT, conn = STRBUF_INIT;
	struct ansible_play play = { 0 };
	int ret = -1;

	if (write_vars(p, &vars, e) < 0 || connect_inventory(p, &conn, e) < 0)
		goto out;
	if (!pb->target_hosts && p->res->nr) {
		if (temp_inventory(p, &inv, e) < 0)
			goto out;
	} else {
		if (check_inventory(p, e) < 0 || failed_limit(p, &limit, e) < 0)
			goto out;
		strbuf_addstr(&inv, p->cfg->inventory);
	}
	strbuf_addf(&book, "%s/%s", p->cfg->playbooks_dir, pb->file);
	warn_weakening(p, book.buf, p->cfg->inventory);
	play.playbook = book.buf;
	play.inventory = inv.buf;
	play.extra_inventory = conn.len ? conn.buf : NULL;
	play.target_hosts = pb->target_hosts;
	play.vars_file = vars.buf;
	play.limit = limit.len ? limit.buf : NULL;
	play.ssh_args = p->ssh_args.buf;
	play.control_dir = p->ctl_dir.len ? p->ctl_dir.buf : NULL;
	play.vault_token = vault_token_for(p, book.buf);
	play.timeout_seconds = p->cfg->ansible.timeout_seconds;
	play.memory_limit = p->cfg->ansible.memory_limit;
	if (p->cfg->verbosity < 0) /* -q: its output only if it fails */
		strbuf_addf(&log, "%s/ansible-playbook.log", p->tmpdir.buf);
	play.log_file = log.len ? log.buf : NULL;
	say(p, "running %s on %s%s", pb->file,
	    pb->target_hosts ? pb->target_hosts
	    : p->res->nr     ? "the new hosts"
			     : "the whole inventory",
	    p->res->failed ? " (without the hosts that failed)" : "");
	ret = ansible_playbook_run(&play, &p->res->playbook_status, e);
	if (ret < 0 && err_is(e, ERR_TIMEOUT))
		err_prefix(e, "%s (ansible.timeout)", pb->file);
	p->res->ran = ret == 0;
out:
	strbuf_release(&vars);
	strbuf_release(&inv);
	strbuf_release(&book);
	strbuf_release(&limit);
	strbuf_release(&log);
	strbuf_release(&conn);
	return ret;
}

static int make_tmpdir(struct prov *p, struct err *e)
{
	const char *tmp = p->cfg->env ? env_or_null(p->cfg->env->tmpdir) : NULL;

	strbuf_addf(&p->tmpdir, "%s/pve-gitops-provision.XXXXXX",
		    tmp ? tmp : "/tmp");
	if (!mkdtemp(p->tmpdir.buf)) {
		err_errno(e, errno, "cannot create '%s'", p->tmpdir.buf);
		strbuf_reset(&p->tmpdir);
		return -1;
	}
	return 0;
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

/* ---- the stage ---------------------------------------------------------- */

static int load_vms(struct prov *p, struct err *e)
{
	struct err oe = ERR_INIT;

	if (repo_plan_read(&p->rp, p->cfg, e) < 0)
		return -1;
	if (inv_vms_from_outputs(&p->vms, p->cfg, p->rp.defs, p->rp.in.nr_defs,
				 &oe) < 0)
		report_warning("%s; host keys come from ssh-keyscan",
			       oe.msg.buf);
	err_release(&oe);
	return 0;
}

/* What host i's verdict means now: an error or a warning, counted. */
static void tell_verdict(struct prov *p, size_t i)
{
	const struct provision_host *h = &p->res->hosts[i];

	if (h->check.verdict == PROVCHECK_FAILED) {
		p->res->failed++;
		report_error("%s (%s): %s; left out of the playbook", h->name,
			     h->ip, h->why);
	} else if (h->check.verdict == PROVCHECK_WARN) {
		report_warning("%s (%s): %s", h->name, h->ip, h->why);
	}
}

/*
 * Job is done: the hosts now due, in order, get their kept messages and
 * their verdicts; the first not done prints its own from now on. A host
 * that stopped the stage ends it: nothing after it is told.
 */
static void job_done(struct host_job *j)
{
	struct prep *sh = j->sh;
	size_t nr = sh->p->res->nr;

	pthread_mutex_lock(&sh->mu);
	j->done = true;
	if (j->ret < 0)
		sh->stop = true;
	while (sh->head < nr && sh->jobs[sh->head].done) {
		struct host_job *d = &sh->jobs[sh->head];

		flush_msgs(d, true);
		if (d->ret < 0) {
			sh->head = nr;
			break;
		}
		tell_verdict(sh->p, sh->head);
		if (++sh->head < nr)
			flush_msgs(&sh->jobs[sh->head], true);
	}
	pthread_mutex_unlock(&sh->mu);
}

/* clusters: the worker's client talks to the cluster of vm (its own
 * secret, never another cluster's); one that cannot be opened leaves the
 * host to ssh-keyscan. */
static void use_cluster_of(struct prep_worker *w, const struct inv_vm *vm)
{
	const struct config *cfg = w->sh->p->cfg;
	const char *name = vm && vm->def->cluster ? vm->def->cluster
						  : CONFIG_DEFAULT_CLUSTER;
	struct config one;
	struct err ce = ERR_INIT;

	if (!w->want_pc || (w->pc_cluster && !strcmp(w->pc_cluster, name)))
		return;
	if (w->have_pc)
		pve_client_release(&w->pc);
	config_for_cluster(&one, cfg, name);
	w->pc_cluster = one.cluster;
	w->have_pc = pve_client_open(&w->pc, &one, &ce) == 0;
	err_release(&ce);
}

static void *prep_work(void *arg)
{
	struct prep_worker *w = arg;
	struct prep *sh = w->sh;
	struct host_job *j;

	for (;;) {
		pthread_mutex_lock(&sh->mu);
		j = !sh->stop && sh->next < sh->p->res->nr
			    ? &sh->jobs[sh->next++]
			    : NULL;
		pthread_mutex_unlock(&sh->mu);
		if (!j)
			return NULL;
		use_cluster_of(w, sh->p->vm_of[j->i]);
		j->ret = prepare_host(j, w->have_pc ? &w->pc : NULL, &j->e);
		job_done(j);
	}
}

/* Guest agent clients, one a worker, when a host has the agent. */
static void open_clients(struct prep *sh, struct prep_worker *w, unsigned n)
{
	struct prov *p = sh->p;
	bool want = false;
	size_t i;

	for (i = 0; i < p->res->nr && p->wait == PROVISION_WAIT_SSH; i++)
		if (p->vm_of[i] && p->vm_of[i]->def->agent == 1)
			want = true;
	for (i = 0; want && config_multi_cluster(p->cfg) && i < n; i++)
		w[i].want_pc = true; /* opened per host's cluster */
	for (i = 0; want && !config_multi_cluster(p->cfg) && i < n; i++) {
		struct err ce = ERR_INIT;

		w[i].have_pc = pve_client_open(&w[i].pc, p->cfg, &ce) == 0;
		if (!w[i].have_pc) {
			report_warning("%s; host keys come from ssh-keyscan",
				       ce.msg.buf);
			want = false;
		}
		err_release(&ce);
	}
}

/* known_hosts: every prepared host's keys, in one atomic rewrite (each
 * host's "recorded in" message is true once this returns 0; when it
 * fails, the stage does). */
static int record_keys(struct prep *sh, struct err *e)
{
	struct prov *p = sh->p;
	struct hostkeys_host *v = xcalloc(p->res->nr + 1, sizeof(*v));
	size_t i, n = 0;
	int ret = 0;

	for (i = 0; i < p->res->nr; i++)
		if (sh->jobs[i].keys.nr) {
			const char *host;
			unsigned port;

			v[n].ip = p->res->hosts[i].ip;
			host_target(p, i, &host, &port, &v[n].port);
			v[n].keys = &sh->jobs[i].keys;
			n++;
		}
	if (n)
		ret = hostkeys_record_all(p->known_hosts, v, n, e);
	free(v);
	return ret;
}

/*
 * Two new hosts that ssh.connect sends to one HOST:PORT (or one sent to
 * where another is reached) would share one master connection (its
 * ControlPath hashes host, port and user, not HostKeyAlias): the second
 * one's host key would never be checked. Refused before anything starts.
 */
static int check_shared_targets(const struct prov *p, struct err *e)
{
	size_t i, j;

	for (i = 0; i < p->res->nr; i++) {
		const char *hi, *hj;
		unsigned pi, pj;
		const struct ssh_connect *ci =
			host_target(p, i, &hi, &pi, NULL);

		for (j = i + 1; j < p->res->nr; j++) {
			const struct ssh_connect *cj =
				host_target(p, j, &hj, &pj, NULL);

			if ((ci || cj) && pi == pj && !strcmp(hi, hj))
				return err_set(
					e, EXIT_INVALID,
					"ssh.connect sends %s and %s to the "
					"same %s:%u: one SSH connection would "
					"serve both and check one host key for "
					"the two; give each its own",
					p->res->hosts[i].name,
					p->res->hosts[j].name, hi, pi);
		}
	}
	return 0;
}

static int prepare_hosts(struct prov *p, struct err *e)
{
	size_t nr = p->res->nr, i;
	unsigned n = nr < PREPARE_WORKERS ? (unsigned)nr : PREPARE_WORKERS;
	struct prep_worker *w = xcalloc(n + 1, sizeof(*w));
	pthread_t *th = xcalloc(n + 1, sizeof(*th));
	struct prep sh;
	unsigned k, started = 0;
	int ret = 0;
	size_t count;

	memset(&sh, 0, sizeof(sh));
	sh.p = p;
	sh.jobs = xcalloc(nr + 1, sizeof(*sh.jobs));
	pthread_mutex_init(&sh.mu, NULL);
	for (i = 0; i < nr; i++) {
		sh.jobs[i].sh = &sh;
		sh.jobs[i].i = i;
		strvec_init(&sh.jobs[i].keys);
		strbuf_init(&sh.jobs[i].known_hosts, 0);
		strbuf_init(&sh.jobs[i].known_hosts_opt, 0);
		sh.jobs[i].e = (struct err)ERR_INIT;
	}
	/* a known_hosts file that will be refused is refused before the
	 * waiting, as it was when each host was recorded at once */
	if (nr && p->wait == PROVISION_WAIT_SSH &&
	    hostkeys_known(p->known_hosts, p->res->hosts[0].ip,
			   (unsigned)p->cfg->ssh.port, &count, e) < 0) {
		ret = -1;
		goto out;
	}
	if (p->wait == PROVISION_WAIT_SSH && check_shared_targets(p, e) < 0) {
		ret = -1;
		goto out;
	}
	open_clients(&sh, w, n);
	for (k = 0; k < n; k++) {
		w[k].sh = &sh;
		if (pthread_create(&th[k], NULL, prep_work, &w[k]))
			break;
		started++;
	}
	if (!started && nr)
		prep_work(&w[0]);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	for (i = 0; i < nr && !ret; i++)
		if (sh.jobs[i].ret < 0) {
			ret = err_setk(e, sh.jobs[i].e.kind,
				       sh.jobs[i].e.exit_code, "%s",
				       sh.jobs[i].e.msg.buf);
		}
	if (!ret && p->wait == PROVISION_WAIT_SSH)
		ret = record_keys(&sh, e);
out:
	for (k = 0; k < n; k++)
		if (w[k].have_pc)
			pve_client_release(&w[k].pc);
	for (i = 0; i < nr; i++) {
		flush_msgs(&sh.jobs[i], false); /* after a host that failed */
		strvec_clear(&sh.jobs[i].keys);
		strbuf_release(&sh.jobs[i].known_hosts);
		strbuf_release(&sh.jobs[i].known_hosts_opt);
		err_release(&sh.jobs[i].e);
	}
	pthread_mutex_destroy(&sh.mu);
	free(sh.jobs);
	free(th);
	free(w);
	return ret;
}

void provision_result_init(struct provision_result *r)
{
	memset(r, 0, sizeof(*r));
}

void provision_result_release(struct provision_result *r)
{
	size_t i;

	for (i = 0; i < r->nr; i++) {
		free(r->hosts[i].ip);
		free(r->hosts[i].name);
		free(r->hosts[i].why);
	}
	free(r->hosts);
	free(r->playbook);
	provision_result_init(r);
}

/*
 * A unix socket's path is at most 107 bytes: the directory, "/", %C (40
 * hex digits) and the 17 of the name ssh binds first before renaming it.
 */
#define CTL_DIR_MAX (107 - 1 - 40 - 17)

/* base: a directory of ours alone (the mode and owner XDG_RUNTIME_DIR
 * must have), and short enough for the sockets' paths. */
static bool ctl_base_ok(const char *base)
{
	struct stat st;

	return base && *base == '/' &&
	       strlen(base) + sizeof("/pve-gitops-ssh.XXXXXX") <= CTL_DIR_MAX &&
	       lstat(base, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (!strcmp(base, "/tmp") ||
		(st.st_uid == geteuid() && !(st.st_mode & 077)));
}

/*
 * The run's directory for ssh's master connections: made with mkdtemp
 * under $XDG_RUNTIME_DIR, else /tmp (mode 0700, ours: checked again), and
 * removed on a fatal signal (util/sigclean.h). Nothing of the repository
 * names it. When none can be made, connections are not shared.
 */
static void make_ctl_dir(struct prov *p)
{
	const char *xdg =
		p->cfg->env ? env_or_null(p->cfg->env->xdg_runtime_dir) : NULL;
	struct strbuf why = STRBUF_INIT;
	struct stat st;

	strbuf_addf(&p->ctl_dir, "%s/pve-gitops-ssh.XXXXXX",
		    ctl_base_ok(xdg) ? xdg : "/tmp");
	if (!ctl_base_ok(xdg) && !ctl_base_ok("/tmp"))
		goto none;
	if (!mkdtemp(p->ctl_dir.buf))
		goto none;
	if (lstat(p->ctl_dir.buf, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) ||
	    sshargs_check_known_hosts(p->ctl_dir.buf, &why) < 0 ||
	    sigclean_arm_dir(p->ctl_dir.buf) < 0) {
		rmdir(p->ctl_dir.buf);
		goto none;
	}
	strbuf_release(&why);
	return;
none:
	strbuf_release(&why);
	strbuf_reset(&p->ctl_dir);
}

/* c in an ssh option's value: '%' would start a token. */
static void add_token_char(struct strbuf *out, char c)
{
	if (c == '%')
		strbuf_addch(out, '%');
	strbuf_addch(out, c);
}

/* The masters to close, a worker's share of them at a time. */
struct closing {
	pthread_mutex_t mu;
	struct strvec opts; /* one ControlPath option per socket */
	size_t next;
	struct env_delta env;
};

static void *close_work(void *arg)
{
	struct closing *c = arg;

	for (;;) {
		struct spawn_opts so = { 0 };
		struct strbuf out = STRBUF_INIT;
		struct err e = ERR_INIT;
		const char *argv[] = { "ssh", "-F",   "/dev/null", "-o", NULL,
				       "-O",  "exit", "127.0.0.1", NULL };
		int status;

		pthread_mutex_lock(&c->mu);
		if (c->next < c->opts.nr)
			argv[4] = c->opts.v[c->next++];
		pthread_mutex_unlock(&c->mu);
		if (!argv[4])
			return NULL;
		so.argv = argv;
		so.env_delta = &c->env;
		so.quiet_stderr = 1;
		so.out = &out; /* nothing to show */
		so.timeout_ms = 10000;
		spawn_run(&so, &status, &e);
		err_release(&e);
		strbuf_release(&out);
	}
}

/*
 * At the end of the stage: every master in the directory is told to exit
 * (ssh -O exit on its socket, PREPARE_WORKERS at a time; the path has no
 * tokens, so the host named does not matter), then what is left and the
 * directory are removed.
 */
static void close_masters(struct prov *p)
{
	struct strbuf path = STRBUF_INIT, opt = STRBUF_INIT;
	pthread_t th[PREPARE_WORKERS];
	struct closing c;
	unsigned k, started = 0;
	struct dirent *d;
	DIR *dir;

	if (!p->ctl_dir.len)
		return;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	strvec_init(&c.opts);
	c.env = (struct env_delta)ENV_DELTA_INIT;
	programs_child_env(&c.env);
	dir = opendir(p->ctl_dir.buf);
	while (dir && (d = readdir(dir))) {
		const char *ch;

		if (d->d_name[0] == '.' || strchr(d->d_name, '"'))
			continue;
		strbuf_reset(&opt);
		strbuf_addstr(&opt, "ControlPath=\"");
		for (ch = p->ctl_dir.buf; *ch; ch++)
			add_token_char(&opt, *ch);
		strbuf_addch(&opt, '/');
		for (ch = d->d_name; *ch; ch++)
			add_token_char(&opt, *ch);
		strbuf_addch(&opt, '"');
		strvec_push(&c.opts, opt.buf);
	}
	if (dir)
		closedir(dir);
	for (k = 0; k < PREPARE_WORKERS && k < c.opts.nr; k++) {
		if (pthread_create(&th[k], NULL, close_work, &c))
			break;
		started++;
	}
	if (!started)
		close_work(&c);
	for (k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	dir = opendir(p->ctl_dir.buf);
	while (dir && (d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/%s", p->ctl_dir.buf, d->d_name);
			unlink(path.buf);
		}
	if (dir)
		closedir(dir);
	rmdir(p->ctl_dir.buf);
	sigclean_disarm();
	strbuf_reset(&p->ctl_dir);
	env_delta_release(&c.env);
	strvec_clear(&c.opts);
	pthread_mutex_destroy(&c.mu);
	strbuf_release(&path);
	strbuf_release(&opt);
}

/* The known_hosts path (~ expanded) and the ssh options made of it. */
static int ssh_setup(struct prov *p, struct err *e)
{
	struct strbuf why = STRBUF_INIT;

	p->known_hosts = expand_home(p->cfg, p->cfg->ssh.known_hosts);
	if (sshargs_check_known_hosts(p->known_hosts, &why) < 0) {
		err_set(e, EXIT_INVALID, "ssh.known_hosts: '%s': %s",
			p->known_hosts, why.buf);
		strbuf_release(&why);
		return -1;
	}
	make_ctl_dir(p);
	sshargs_ansible(&p->ssh_args, p->known_hosts,
			p->ctl_dir.len ? p->ctl_dir.buf : NULL);
	return 0;
}

/* The stage's outcome (core/provcheck.h): 0, or -1 with e naming what
 * failed, the playbook and the new hosts left out of it. */
static int stage_verdict(const struct prov *p, const struct playbook *pb,
			 struct err *e)
{
	const struct provision_result *r = p->res;
	struct strbuf names = STRBUF_INIT;
	size_t i;

	if (provcheck_exit(r->failed, r->ran, r->playbook_status) == EXIT_OK)
		return 0;
	if (!r->failed)
		return err_setk(e, ERR_CHILD, EXIT_FAIL,
				"ansible-playbook %s exited with status %d",
				pb->file, r->playbook_status);
	for (i = 0; i < r->nr; i++)
		if (r->hosts[i].check.verdict == PROVCHECK_FAILED)
			strbuf_addf(&names, "%s%s", names.len ? ", " : "",
				    r->hosts[i].name);
	if (!r->ran)
		err_setk(e, ERR_BADSTATE, EXIT_FAIL,
			 "no new host is ready (%s): %s did not run", names.buf,
			 pb->file);
	else if (r->playbook_status)
		err_setk(e, ERR_CHILD, EXIT_FAIL,
			 "ansible-playbook %s exited with status %d, and %zu "
			 "of %zu new hosts failed before it: %s",
			 pb->file, r->playbook_status, r->failed, r->nr,
			 names.buf);
	else
		err_setk(e, ERR_BADSTATE, EXIT_FAIL,
			 "%zu of %zu new hosts failed and were left out of %s: "
			 "%s",
			 r->failed, r->nr, pb->file, names.buf);
	strbuf_release(&names);
	return -1;
}

/* Everything after the playbook is known: hosts, then the run. */
static int provision_hosts_and_run(struct prov *p, const char *rev,
				   const struct playbook *pb, struct err *e)
{
	if (load_vms(p, e) < 0 || read_new_hosts(p, rev, e) < 0)
		return -1;
	if (ssh_setup(p, e) < 0)
		return -1;
	if (make_tmpdir(p, e) < 0 || prepare_hosts(p, e) < 0)
		return -1;
	if (!provcheck_runs(p->res->nr, p->res->failed))
		say(p, "no new host is ready: %s does not run", pb->file);
	else if (lease_check(p->lease, e) < 0 || run_playbook(p, pb, e) < 0)
		return -1;
	return stage_verdict(p, pb, e);
}

int provision_run(const struct config *cfg, const struct provision_req *req,
		  struct provision_result *out, struct err *e)
{
	const char *rev = req->commit ? req->commit : "HEAD";
	struct strbuf name = STRBUF_INIT;
	struct playbook pb = { NULL, NULL };
	struct prov p;
	int rc, ret = -1;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.res = out;
	p.lease = req->lease;
	inv_vms_init(&p.vms);
	strbuf_init(&p.tmpdir, 0);
	strbuf_init(&p.ssh_args, 0);
	strbuf_init(&p.ctl_dir, 0);
	rc = playbook_name(req, rev, &name, e);
	if (rc <= 0) {
		if (!rc) {
			say(&p,
			    "%s carries no [ansible NAME] tag: nothing to "
			    "provision",
			    rev);
			out->no_tag = true;
			ret = 1;
		}
		goto out;
	}
	if (resolve(cfg, name.buf, &pb, e) < 0)
		goto out;
	out->playbook = xstrdup(pb.file);
	p.wait = provcheck_wait_for(cfg, name.buf, pb.file);
	out->wait = p.wait;
	ret = provision_hosts_and_run(&p, rev, &pb, e);
out:
	close_masters(&p);
	remove_tmpdir(&p);
	playbook_release(&pb);
	strbuf_release(&name);
	free(p.vm_of);
	free(p.known_hosts);
	inv_vms_release(&p.vms);
	repo_plan_release(&p.rp);
	strbuf_release(&p.tmpdir);
	strbuf_release(&p.ssh_args);
	strbuf_release(&p.ctl_dir);
	return ret;
}

static void print_host(const struct provision_result *r,
		       const struct provision_host *h)
{
	report_print(stdout, "  %-24s %-15s ", h->name, h->ip);
	if (!h->checked)
		report_print(stdout, "not prepared\n");
	else if (h->check.verdict == PROVCHECK_FAILED)
		report_print(stdout, "FAILED, left out of the playbook: %s\n",
			     h->why);
	else if (r->wait == PROVISION_WAIT_TALOS)
		report_print(stdout,
			     "Talos API after %.1f s, no SSH (no host key, "
			     "no cloud-init check)\n",
			     (double)h->ssh_ms / 1000.0);
	else if (r->wait == PROVISION_WAIT_NONE)
		report_print(stdout, "not waited for (provision.wait_for: "
				     "none)\n");
	else
		report_print(stdout,
			     "ssh after %.1f s, host key from %s, cloud-init "
			     "%s%s%s\n",
			     (double)h->ssh_ms / 1000.0, h->key_source,
			     h->check.cloud_init,
			     h->check.verdict == PROVCHECK_WARN ? ": warning: "
								: "",
			     h->check.verdict == PROVCHECK_WARN ? h->why : "");
}

void provision_print(const struct config *cfg, const struct provision_result *r)
{
	size_t i;

	if (cfg->verbosity < 0 || (!r->ran && !r->failed))
		return;
	printf("\nprovision summary:\n");
	for (i = 0; i < r->nr; i++)
		print_host(r, &r->hosts[i]);
	if (r->ran)
		printf("  %s: ansible-playbook exit status %d\n", r->playbook,
		       r->playbook_status);
	else
		printf("  %s: not run, no new host is ready\n", r->playbook);
	if (r->failed)
		printf("  %zu of %zu new host%s failed\n", r->failed, r->nr,
		       r->nr == 1 ? "" : "s");
	fflush(stdout);
}
