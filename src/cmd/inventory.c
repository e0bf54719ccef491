/*
 * inventory.c - `pve-gitops inventory`: rewrite the Ansible inventory,
 * new_hosts.txt and host_vars from what exists (the outputs of the last
 * apply, or Proxmox with --live), or speak Ansible's dynamic inventory
 * protocol (--list, --host NAME).
 *
 * Every new file is built in memory, staged with its host_vars in a private
 * directory and, when Ansible is installed, read back by ansible-inventory;
 * only then are the files replaced, together (util/fileio's transaction).
 * On any failure the old files stay as they were.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "core/ini.h"
#include "core/inventory.h"
#include "core/yemit.h"
#include "io/invsource.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/spawn.h"
#include "util/xalloc.h"

#define INVENTORY_MAX (64 << 20)

struct inventory_opts {
	int dry_run, live, list;
	char *host;
};

static const struct opt inventory_options[] = {
	{ "dry-run", 'n', OPT_BOOL, offsetof(struct inventory_opts, dry_run),
	  NULL, "print the diff and change nothing" },
	{ "live", 0, OPT_BOOL, offsetof(struct inventory_opts, live), NULL,
	  "read the VMs from Proxmox instead of the last outputs" },
	{ "list", 0, OPT_BOOL, offsetof(struct inventory_opts, list), NULL,
	  "print the dynamic inventory (Ansible's --list protocol)" },
	{ "host", 0, OPT_STRING, offsetof(struct inventory_opts, host), "NAME",
	  "print one host's variables (Ansible's --host protocol)" },
	OPT_END,
};

/* One file the run may change. */
struct planned {
	char *path;
	struct strbuf old, new;
	bool existed, remove;
};

struct inv_run {
	const struct config *cfg;
	struct repo_plan rp;
	struct inv_vms vms;
	struct inv_rules rules;
	struct inv_want want;
	struct inv_change change;
	struct planned *files;
	size_t nr_files, alloc_files;
	char *stage; /* staging directory */
};

static void warn(const struct config *cfg, const char *msg)
{
	if (cfg->verbosity >= 0)
		fprintf(stderr, "pve-gitops: warning: %s\n", msg);
}

static struct planned *planned_add(struct inv_run *r, const char *path)
{
	struct planned *f;

	ALLOC_GROW(r->files, r->nr_files + 1, r->alloc_files);
	f = &r->files[r->nr_files++];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	strbuf_init(&f->old, 0);
	strbuf_init(&f->new, 0);
	return f;
}

/* Read path into f->old; a missing file is empty. */
static int read_old(struct planned *f, struct err *e)
{
	struct err e2 = ERR_INIT;

	if (file_read_all(&f->old, f->path, INVENTORY_MAX, &e2) == 0) {
		f->existed = true;
		return 0;
	}
	err_release(&e2);
	if (errno == ENOENT)
		return 0;
	return file_read_all(&f->old, f->path, INVENTORY_MAX, e);
}

static bool planned_changes(const struct planned *f)
{
	if (f->remove)
		return f->existed;
	return !f->existed || f->old.len != f->new.len ||
	       memcmp(f->old.buf, f->new.buf, f->old.len);
}

/* ---- what exists -------------------------------------------------------- */

static int load_vms(struct inv_run *r, const struct inventory_opts *o,
		    struct err *e)
{
	const struct config *cfg = r->cfg;
	const struct vmdef *const *defs = r->rp.defs;
	size_t i, n = r->rp.in.nr_defs;
	struct strbuf why = STRBUF_INIT;
	int ret;

	if (o->live) {
		struct pve_client pc;

		if (pve_client_open(&pc, cfg, e) < 0)
			return -1;
		ret = inv_vms_from_proxmox(&r->vms, &pc, cfg, defs, n, e);
		pve_client_release(&pc);
	} else {
		ret = inv_vms_from_outputs(&r->vms, cfg, defs, n, e);
	}
	if (ret < 0)
		return -1;
	for (i = 0; i < r->vms.warnings.nr; i++)
		warn(cfg, r->vms.warnings.v[i]);
	if (inv_rules_compile(&r->rules, cfg, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	inv_want_init(&r->want, &r->rules);
	for (i = 0; i < r->vms.nr; i++) {
		const struct inv_vm *v = &r->vms.v[i];

		inv_want_add(&r->want, &r->rules, v->def->name, v->ip, v->user,
			     (unsigned)cfg->ssh.port, &v->def->ansible_groups);
	}
	for (i = 0; i < r->rp.keep.nr; i++)
		inv_want_keep(&r->want, r->rp.keep.v[i]);
	return 0;
}

/* ---- the dynamic inventory ------------------------------------------------
 */

static json_t *host_vars_of(const struct inv_run *r, size_t i)
{
	const struct inv_host *h = &r->want.hosts[i];
	json_t *vars = inv_host_vars(&r->vms.v[i]);

	json_object_set_new(vars, "ansible_host", json_string(h->ip));
	json_object_set_new(vars, "ansible_user", json_string(h->user));
	if (h->port != 22)
		json_object_set_new(vars, "ansible_port",
				    json_integer(h->port));
	return vars;
}

static json_t *dynamic_list(const struct inv_run *r)
{
	json_t *root = json_object(), *hv = json_object();
	json_t *children = json_array(), *ungrouped = json_array(), *g;
	size_t i, j;

	for (i = 0; i < r->want.groups.nr; i++)
		json_object_set_new(root, r->want.groups.v[i],
				    json_pack("{s:[]}", "hosts"));
	for (i = 0; i < r->want.nr; i++) {
		const struct inv_host *h = &r->want.hosts[i];

		if (!h->ip)
			continue;
		json_object_set_new(hv, h->name, host_vars_of(r, i));
		if (!h->groups.nr)
			json_array_append_new(ungrouped, json_string(h->name));
		for (j = 0; j < h->groups.nr; j++)
			json_array_append_new(
				json_object_get(
					json_object_get(root, h->groups.v[j]),
					"hosts"),
				json_string(h->name));
	}
	for (i = 0; i < r->want.groups.nr; i++) {
		g = json_object_get(root, r->want.groups.v[i]);
		if (!json_array_size(json_object_get(g, "hosts")))
			json_object_del(root, r->want.groups.v[i]);
		else
			json_array_append_new(children,
					      json_string(r->want.groups.v[i]));
	}
	json_array_insert_new(children, 0, json_string("ungrouped"));
	json_object_set_new(root, "ungrouped",
			    json_pack("{s:o}", "hosts", ungrouped));
	json_object_set_new(root, "all",
			    json_pack("{s:o}", "children", children));
	json_object_set_new(root, "_meta", json_pack("{s:o}", "hostvars", hv));
	return root;
}

static int print_dynamic(const struct inv_run *r, const char *host,
			 struct err *e)
{
	json_t *out = NULL;
	size_t i;
	int ret = 0;

	if (!host) {
		out = dynamic_list(r);
	} else if (strmap_get(&r->want.by_name, host, &i) &&
		   r->want.hosts[i].ip) {
		out = host_vars_of(r, i);
	} else {
		return err_set(e, EXIT_FAIL, "no host '%s' in the inventory",
			       host);
	}
	if (json_dumpf(out, stdout, JSON_INDENT(2)) < 0 || puts("") < 0)
		ret = err_errno(e, errno, "cannot write to stdout");
	json_decref(out);
	return ret;
}

/* ---- planning the files ---------------------------------------------------
 */

static int plan_inventory(struct inv_run *r, struct err *e)
{
	const struct config *cfg = r->cfg;
	struct planned *ini_f = planned_add(r, cfg->inventory);
	struct planned *nh_f;
	struct ini ini = INI_INIT, check = INI_INIT;
	struct strbuf why = STRBUF_INIT;
	int line, ret = -1;
	size_t i;

	if (read_old(ini_f, e) < 0)
		goto out;
	if (ini_parse(&ini, ini_f->old.buf, ini_f->old.len, &line, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s:%d: %s", cfg->inventory, line,
			why.buf);
		goto out;
	}
	if (inventory_rewrite(&ini, &r->want, &r->change, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s: %s", cfg->inventory, why.buf);
		goto out;
	}
	ini_render(&ini, &ini_f->new);
	if (ini_parse(&check, ini_f->new.buf, ini_f->new.len, &line, &why) <
	    0) {
		err_set(e, EXIT_FAIL,
			"the rewritten %s would not parse (line %d: %s); "
			"nothing was changed",
			cfg->inventory, line, why.buf);
		goto out;
	}
	nh_f = planned_add(r, cfg->new_hosts);
	if (read_old(nh_f, e) < 0)
		goto out;
	for (i = 0; i < r->change.new_hosts.nr; i++)
		strbuf_addf(&nh_f->new, "%s\n", r->change.new_hosts.v[i]);
	ret = 0;
out:
	ini_release(&ini);
	ini_release(&check);
	strbuf_release(&why);
	return ret;
}

static bool written_by_us(const struct strbuf *text)
{
	return !strncmp(text->buf, INVENTORY_HOST_VARS_MARK,
			strlen(INVENTORY_HOST_VARS_MARK));
}

/* host_vars of VMs that exist; ours for VMs that are gone are removed. */
static int plan_host_vars(struct inv_run *r, struct err *e)
{
	const struct config *cfg = r->cfg;
	struct strbuf path = STRBUF_INIT, msg = STRBUF_INIT;
	DIR *d;
	struct dirent *de;
	size_t i;

	for (i = 0; i < r->vms.nr; i++) {
		const struct inv_vm *v = &r->vms.v[i];
		json_t *vars = inv_host_vars(v);
		struct planned *f;

		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s.yml", cfg->host_vars_dir,
			    v->def->name);
		f = planned_add(r, path.buf);
		if (read_old(f, e) < 0) {
			json_decref(vars);
			goto fail;
		}
		if (f->existed && !written_by_us(&f->old)) {
			strbuf_setlen(&msg, 0);
			strbuf_addf(&msg,
				    "%s was not written by pve-gitops; left "
				    "as it is",
				    path.buf);
			warn(cfg, msg.buf);
			strbuf_add(&f->new, f->old.buf, f->old.len);
			json_decref(vars);
			continue;
		}
		strbuf_addf(&f->new,
			    INVENTORY_HOST_VARS_MARK
			    " from %s; `pve-gitops inventory` rewrites it.\n",
			    v->def->file);
		yemit(&f->new, vars);
		json_decref(vars);
	}
	d = opendir(cfg->host_vars_dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct planned *f;

		if (n < 5 || strcmp(de->d_name + n - 4, ".yml") ||
		    de->d_name[0] == '.')
			continue;
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%.*s", (int)(n - 4), de->d_name);
		if (strmap_has(&r->want.by_name, path.buf) ||
		    strmap_has(&r->want.keep, path.buf))
			continue;
		strbuf_setlen(&path, 0);
		strbuf_addf(&path, "%s/%s", cfg->host_vars_dir, de->d_name);
		f = planned_add(r, path.buf);
		if (read_old(f, e) < 0) {
			closedir(d);
			goto fail;
		}
		if (written_by_us(&f->old))
			f->remove = true;
		else
			strbuf_add(&f->new, f->old.buf, f->old.len);
	}
	if (d)
		closedir(d);
	strbuf_release(&path);
	strbuf_release(&msg);
	return 0;
fail:
	strbuf_release(&path);
	strbuf_release(&msg);
	return -1;
}

/* ---- staging, checking, showing ------------------------------------------ */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_host_vars(const struct inv_run *r, const struct planned *f)
{
	size_t n = strlen(r->cfg->host_vars_dir);

	return !strncmp(f->path, r->cfg->host_vars_dir, n) && f->path[n] == '/';
}

/*
 * Write the new inventory and host_vars to a private directory, as Ansible
 * would find them, plus the new text of every changed file for diff.
 */
static int stage(struct inv_run *r, struct strvec *staged, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = -1;

	strbuf_addf(&path, "%s/pve-gitops-inventory.XXXXXX",
		    tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(path.buf)) {
		err_errno(e, errno, "cannot create '%s'", path.buf);
		goto out;
	}
	r->stage = strbuf_detach(&path, NULL);
	strbuf_addf(&path, "%s/host_vars", r->stage);
	if (mkdir(path.buf, 0700) < 0) {
		err_errno(e, errno, "cannot create '%s'", path.buf);
		goto out;
	}
	strvec_push(staged, path.buf);
	for (i = 0; i < r->nr_files; i++) {
		const struct planned *f = &r->files[i];

		strbuf_setlen(&path, 0);
		if (i == 0)
			strbuf_addf(&path, "%s/%s", r->stage,
				    base_name(f->path));
		else if (is_host_vars(r, f) && !f->remove)
			strbuf_addf(&path, "%s/host_vars/%s", r->stage,
				    base_name(f->path));
		else
			strbuf_addf(&path, "%s/new.%zu", r->stage, i);
		/* listed first: a failed write may still leave the file */
		strvec_push(staged, path.buf);
		if (file_write_scratch(path.buf, f->new.buf, f->new.len, e) < 0)
			goto out;
	}
	ret = 0;
out:
	strbuf_release(&path);
	return ret;
}

static void unstage(struct inv_run *r, struct strvec *staged)
{
	size_t i;

	for (i = staged->nr; i--;)
		if (unlink(staged->v[i]) < 0)
			rmdir(staged->v[i]);
	if (r->stage)
		rmdir(r->stage);
}

/* diff -u of every changed file; returns how many differ. */
static int show_diff(const struct inv_run *r, const struct strvec *staged,
		     struct err *e)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	size_t i;
	int n = 0, status;

	fflush(stdout);
	for (i = 0; i < r->nr_files; i++) {
		const struct planned *f = &r->files[i];
		const char *argv[] = { "diff", "-u", "--label", NULL, "--label",
				       NULL,   NULL, NULL,	NULL };
		struct spawn_opts so = { .argv = argv };

		if (!planned_changes(f))
			continue;
		strbuf_setlen(&a, 0);
		strbuf_setlen(&b, 0);
		strbuf_addf(&a, "a/%s", f->path);
		strbuf_addf(&b, "b/%s", f->path);
		argv[3] = f->existed ? a.buf : "/dev/null";
		argv[5] = f->remove ? "/dev/null" : b.buf;
		argv[6] = f->existed ? f->path : "/dev/null";
		argv[7] = f->remove ? "/dev/null" : staged->v[i + 1];
		if (spawn_run(&so, &status, e) < 0 || status > 1) {
			n = -1;
			if (status > 1)
				err_set(e, EXIT_FAIL, "diff failed (exit %d)",
					status);
			break;
		}
		n++;
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return n;
}

static int commit(struct inv_run *r, struct err *e)
{
	struct file_txn t;
	size_t i;
	int ret = -1;

	file_txn_init(&t);
	for (i = 0; i < r->nr_files; i++) {
		const struct planned *f = &r->files[i];

		if (!planned_changes(f))
			continue;
		if (f->remove)
			file_txn_remove(&t, f->path);
		else if (file_txn_put(&t, f->path, f->new.buf, f->new.len, 0644,
				      e) < 0)
			goto out;
	}
	if (file_txn_commit(&t, e) < 0) {
		/* unless putting an old file back failed too (it says so) */
		if (!strstr(e->msg.buf, "could not be put back"))
			err_prefix(e, "nothing was changed");
		goto out;
	}
	ret = 0;
out:
	file_txn_release(&t);
	return ret;
}

/* ---- reporting ------------------------------------------------------------
 */

static void print_names(const char *what, const struct strvec *v)
{
	size_t i;

	if (!v->nr)
		return;
	printf("  %s:", what);
	for (i = 0; i < v->nr; i++)
		printf(" %s", v->v[i]);
	printf("\n");
}

static void report(const struct inv_run *r, bool dry_run, int changed)
{
	const struct inv_change *c = &r->change;
	size_t i;

	for (i = 0; i < c->unknown_ip.nr + c->unknown_kept.nr; i++) {
		struct strbuf m = STRBUF_INIT;
		bool kept = i >= c->unknown_ip.nr;

		strbuf_addf(&m,
			    "%s has no known IPv4 address (DHCP, and no "
			    "address from the guest agent): %s",
			    kept ? c->unknown_kept.v[i - c->unknown_ip.nr]
				 : c->unknown_ip.v[i],
			    kept ? "its inventory line is left as it is"
				 : "left out of the inventory");
		warn(r->cfg, m.buf);
		strbuf_release(&m);
	}
	if (r->cfg->json) {
		json_t *o = json_pack("{s:b, s:i}", "dry_run", dry_run,
				      "files_changed", changed);
		const struct strvec *lists[] = {
			&c->added,	    &c->updated,      &c->removed,
			&c->unknown_ip,	    &c->unknown_kept, &c->groups_added,
			&c->groups_removed, &c->new_hosts
		};
		const char *names[] = { "added",	   "updated",
					"removed",	   "unknown_ip",
					"unknown_ip_kept", "groups_added",
					"groups_removed",  "new_hosts" };

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			json_t *a = json_array();

			for (size_t j = 0; j < lists[i]->nr; j++)
				json_array_append_new(
					a, json_string(lists[i]->v[j]));
			json_object_set_new(o, names[i], a);
		}
		json_dumpf(o, stdout, JSON_INDENT(2));
		puts("");
		json_decref(o);
		return;
	}
	if (r->cfg->verbosity < 0)
		return;
	if (!changed) {
		printf("%s: no changes\n", r->cfg->inventory);
		return;
	}
	printf("%s: %zu added, %zu updated, %zu removed; %s: %zu new "
	       "host%s%s\n",
	       r->cfg->inventory, c->added.nr, c->updated.nr, c->removed.nr,
	       r->cfg->new_hosts, c->new_hosts.nr,
	       c->new_hosts.nr == 1 ? "" : "s",
	       dry_run ? " (dry run: nothing written)" : "");
	print_names("added", &c->added);
	print_names("updated", &c->updated);
	print_names("removed", &c->removed);
	print_names("groups added", &c->groups_added);
	print_names("groups removed", &c->groups_removed);
}

/* ---- the command -----------------------------------------------------------
 */

static void run_release(struct inv_run *r)
{
	size_t i;

	for (i = 0; i < r->nr_files; i++) {
		free(r->files[i].path);
		strbuf_release(&r->files[i].old);
		strbuf_release(&r->files[i].new);
	}
	free(r->files);
	free(r->stage);
	inv_change_release(&r->change);
	inv_want_release(&r->want);
	inv_rules_release(&r->rules);
	inv_vms_release(&r->vms);
	repo_plan_release(&r->rp);
}

static int rewrite(struct inv_run *r, bool dry_run, struct err *e)
{
	struct strvec staged;
	size_t i;
	int changed = 0, ret = -1;
	bool check;

	strvec_init(&staged);
	if (plan_inventory(r, e) < 0 || plan_host_vars(r, e) < 0)
		goto out;
	for (i = 0; i < r->nr_files; i++)
		changed += planned_changes(&r->files[i]);
	/* a private copy only for Ansible's check and for the diff */
	check = inv_ansible_will_check(r->cfg->validate_with_ansible);
	if ((check || (dry_run && changed)) && stage(r, &staged, e) < 0)
		goto out;
	if (check && inv_check_with_ansible(
			     r->stage, base_name(r->cfg->inventory), &r->want,
			     r->cfg->validate_with_ansible, e) < 0) {
		err_prefix(e, "nothing was changed");
		goto out;
	}
	if (dry_run && !r->cfg->json && changed && show_diff(r, &staged, e) < 0)
		goto out;
	if (!dry_run && changed && commit(r, e) < 0)
		goto out;
	report(r, dry_run, changed);
	ret = 0;
out:
	unstage(r, &staged);
	strvec_clear(&staged);
	return ret;
}

static int run_inventory(const struct config *cfg, void *opts, int argc,
			 char **argv, struct err *e)
{
	struct inventory_opts *o = opts;
	struct config quiet;
	struct inv_run r;
	int ret = -1;

	(void)argv;
	if (argc)
		return err_set(e, EXIT_INVALID, "inventory takes no arguments");
	if (o->list + !!o->host + o->dry_run > 1)
		return err_set(e, EXIT_INVALID,
			       "--list, --host and --dry-run exclude each "
			       "other");
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	if (o->list || o->host) {
		/* Ansible shows a dynamic inventory's stderr as errors:
		 * warnings stay out of it, errors do not */
		quiet = *cfg;
		quiet.verbosity = -1;
		r.cfg = &quiet;
	}
	inv_vms_init(&r.vms);
	inv_change_init(&r.change);
	if (repo_plan_load(&r.rp, r.cfg, e) < 0 || load_vms(&r, o, e) < 0)
		goto out;
	if (o->list || o->host)
		ret = print_dynamic(&r, o->host, e);
	else
		ret = rewrite(&r, o->dry_run, e);
out:
	run_release(&r);
	return ret;
}

const struct cmd cmd_inventory = {
	.name = "inventory",
	.summary = "rewrite the Ansible inventory, new_hosts and host_vars",
	.args = "",
	.opts = inventory_options,
	.opts_size = sizeof(struct inventory_opts),
	.run = run_inventory,
};
