/*
 * inventory.c - the inventory operation; see inventory.h.
 */
#include "ops/inventory.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dyninv.h"
#include "core/ini.h"
#include "core/new_hosts.h"
#include "core/yemit.h"
#include "io/ansible.h"
#include "io/filetxn.h"
#include "io/invsource.h"
#include "io/pve.h"
#include "io/repo.h"
#include "ops/repoplan.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/report.h"
#include "util/xalloc.h"

#define INVENTORY_MAX (64 << 20)

struct inv_run {
	const struct config *cfg;
	const struct inventory_req *req; /* NULL: the dynamic inventory */
	struct repo_plan rp;
	struct inv_vms vms;
	struct inv_rules rules;
	struct inv_want want;
	struct inv_change change;
	struct filetxn txn;
};

static void run_init(struct inv_run *r, const struct config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	inv_vms_init(&r->vms);
	inv_change_init(&r->change);
	filetxn_init(&r->txn);
}

static void run_release(struct inv_run *r)
{
	filetxn_release(&r->txn);
	inv_change_release(&r->change);
	inv_want_release(&r->want);
	inv_rules_release(&r->rules);
	inv_vms_release(&r->vms);
	repo_plan_release(&r->rp);
}

/* ---- what exists -------------------------------------------------------- */

/* --cluster NAME: a definition of another cluster is left as it is. */
static bool selected(const struct config *cfg, const struct vmdef *def)
{
	return !cfg->only_cluster || !config_multi_cluster(cfg) ||
	       !strcmp(def->cluster ? def->cluster : CONFIG_DEFAULT_CLUSTER,
		       cfg->only_cluster);
}

/* Several clusters: the definitions of the cluster named name (grouped
 * by repo_plan_read: one run), *n of them. */
static const struct vmdef *const *defs_of(const struct repo_plan *rp,
					  const char *name, size_t *n)
{
	size_t i, first = 0;

	*n = 0;
	for (i = 0; i < rp->in.nr_defs; i++) {
		const char *c = rp->defs[i]->cluster ? rp->defs[i]->cluster
						     : CONFIG_DEFAULT_CLUSTER;

		if (strcmp(c, name))
			continue;
		if (!*n)
			first = i;
		(*n)++;
	}
	return rp->defs + first;
}

/* Several clusters: each one's VMs from its own API (--cluster: its
 * only). */
static int read_vms_clusters(struct inv_run *r, struct err *e)
{
	const char *names[CONFIG_MAX_CLUSTERS];
	size_t i, n,
		k = config_cluster_names(r->cfg, names, CONFIG_MAX_CLUSTERS);
	const struct vmdef *const *defs;
	struct pve_client pc;
	struct config one;
	int ret = 0;

	for (i = 0; i < k && ret == 0; i++) {
		defs = defs_of(&r->rp, names[i], &n);
		if (!n)
			continue;
		config_for_cluster(&one, r->cfg, names[i]);
		if (pve_client_open(&pc, &one, e) < 0) {
			err_prefix(e, "cluster %s", names[i]);
			return -1;
		}
		ret = inv_vms_from_proxmox(&r->vms, &pc, &one, defs, n, e);
		if (ret < 0)
			err_prefix(e, "cluster %s", names[i]);
		pve_client_release(&pc);
	}
	return ret;
}

static int read_vms(struct inv_run *r, bool live, struct err *e)
{
	const struct vmdef *const *defs = r->rp.defs;
	size_t n = r->rp.in.nr_defs;
	struct pve_client pc;
	int ret;

	if (!live)
		return inv_vms_from_outputs(&r->vms, r->cfg, defs, n, e);
	if (config_multi_cluster(r->cfg))
		return read_vms_clusters(r, e);
	if (pve_client_open(&pc, r->cfg, e) < 0)
		return -1;
	ret = inv_vms_from_proxmox(&r->vms, &pc, r->cfg, defs, n, e);
	pve_client_release(&pc);
	return ret;
}

/* The host names the inventory has a line for now (none when there is no
 * file or it does not parse: plan_inventory says so). */
static int inventory_names(const struct config *cfg, struct strmap *out,
			   struct err *e)
{
	struct beneath root = BENEATH_INIT;
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	struct ini ini = INI_INIT;
	int line, ret = 0;
	size_t i;

	if (beneath_root(&root, ".", e) < 0 ||
	    beneath_read(&root, cfg->inventory, &text, INVENTORY_MAX, e) < 0) {
		ret = err_is(e, ERR_NOTFOUND) ? 0 : -1;
		if (!ret)
			err_clear(e);
	} else if (!ini_parse(&ini, text.buf, text.len, &line, &why)) {
		for (i = 0; i < ini.nr_lines; i++)
			if (ini.lines[i].kind == INI_HOST && ini.lines[i].name)
				strmap_put(out, ini.lines[i].name, i);
	}
	ini_release(&ini);
	beneath_release(&root);
	strbuf_release(&text);
	strbuf_release(&why);
	return ret;
}

/* The new DHCP VMs with no address after the wait, as the error says. */
static int no_address(const struct inv_run *r, const struct strvec *missing,
		      struct err *e)
{
	struct strbuf names = STRBUF_INIT;
	size_t i, j;

	for (i = 0; i < missing->nr; i++)
		for (j = 0; j < r->vms.nr; j++)
			if (!strcmp(r->vms.v[j].def->name, missing->v[i]))
				strbuf_addf(&names, "%s%s (%s)", i ? "; " : "",
					    missing->v[i],
					    r->vms.v[j].agent_error
						    ? r->vms.v[j].agent_error
						    : "not asked");
	err_setk(e, ERR_TIMEOUT, EXIT_FAIL,
		 "no IPv4 address from the guest agent within %u s "
		 "(dhcp.wait_seconds) for the new DHCP VM%s %s; nothing was "
		 "changed (a static ipconfig0, or agent: 0 to leave it out "
		 "of the inventory)",
		 (unsigned)r->cfg->dhcp.wait_seconds,
		 missing->nr == 1 ? "" : "s", names.buf);
	strbuf_release(&names);
	return -1;
}

/*
 * The addresses of DHCP VMs with agent: 1 from their guest agent: a new
 * one (no inventory line yet) waited for up to dhcp.wait_seconds, and an
 * error when it never reports one; one already listed asked once.
 */
/* The DHCP VMs of vms whose cluster is cluster (NULL: all) asked
 * through cfg's client; an unreachable API is each one's agent error. */
static void agent_wait_on(struct inv_vms *vms, const struct config *cfg,
			  const struct strmap *known, struct strvec *missing)
{
	struct pve_client pc;
	struct err ce = ERR_INIT;
	size_t i;

	if (pve_client_open(&pc, cfg, &ce) < 0) {
		for (i = 0; i < vms->nr; i++)
			if (!vms->v[i].ip && inv_vm_agent_dhcp(&vms->v[i])) {
				free(vms->v[i].agent_error);
				vms->v[i].agent_error = xstrdup(ce.msg.buf);
			}
		inv_vms_agent_wait(vms, NULL, known, 0, missing);
	} else {
		inv_vms_agent_wait(vms, &pc, known,
				   (unsigned)cfg->dhcp.wait_seconds, missing);
		pve_client_release(&pc);
	}
	err_release(&ce);
}

/* Several clusters: each cluster's VMs asked through its own client (a
 * view of shallow copies, copied back). */
static void agent_wait_clusters(struct inv_run *r, const struct strmap *known,
				struct strvec *missing)
{
	const char *names[CONFIG_MAX_CLUSTERS];
	size_t c, i,
		k = config_cluster_names(r->cfg, names, CONFIG_MAX_CLUSTERS);
	struct inv_vms part;
	size_t *at = xcalloc(r->vms.nr + 1, sizeof(*at));
	struct config one;

	for (c = 0; c < k; c++) {
		inv_vms_init(&part);
		part.v = xcalloc(r->vms.nr + 1, sizeof(*part.v));
		for (i = 0; i < r->vms.nr; i++)
			if (!strcmp(r->vms.v[i].def->cluster
					    ? r->vms.v[i].def->cluster
					    : CONFIG_DEFAULT_CLUSTER,
				    names[c])) {
				at[part.nr] = i;
				part.v[part.nr++] = r->vms.v[i];
			}
		config_for_cluster(&one, r->cfg, names[c]);
		if (part.nr)
			agent_wait_on(&part, &one, known, missing);
		for (i = 0; i < part.nr; i++)
			r->vms.v[at[i]] = part.v[i];
		for (i = 0; i < part.warnings.nr; i++)
			strvec_push(&r->vms.warnings, part.warnings.v[i]);
		free(part.v);
		strvec_clear(&part.warnings);
	}
	free(at);
}

static int agent_addresses(struct inv_run *r, struct err *e)
{
	struct strmap known = STRMAP_INIT;
	struct strvec missing = STRVEC_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; i < r->vms.nr; i++)
		if (!r->vms.v[i].ip && inv_vm_agent_dhcp(&r->vms.v[i]))
			break;
	if (i == r->vms.nr)
		return 0;
	if (inventory_names(r->cfg, &known, e) < 0)
		return -1;
	if (config_multi_cluster(r->cfg))
		agent_wait_clusters(r, &known, &missing);
	else
		agent_wait_on(&r->vms, r->cfg, &known, &missing);
	if (missing.nr)
		ret = no_address(r, &missing, e);
	strvec_clear(&missing);
	strmap_release(&known);
	return ret;
}

/* After a rebase: the definitions the outputs do not know keep their lines
 * (the other side's commits brought them; the last apply never saw them). */
static void keep_unknown(struct inv_run *r)
{
	size_t i;

	for (i = 0; i < r->rp.in.nr_defs; i++)
		if (!strmap_has(&r->want.by_name, r->rp.defs[i]->name))
			inv_want_keep(&r->want, r->rp.defs[i]->name);
}

/* The definitions, the VMs that exist and the hosts they make; agent: ask
 * the guest agents of DHCP VMs (not the dynamic inventory). */
static int load(struct inv_run *r, bool live, bool quiet, bool agent,
		struct err *e)
{
	const struct config *cfg = r->cfg;
	struct strbuf why = STRBUF_INIT;
	size_t i;

	if (repo_plan_read(&r->rp, cfg, e) < 0 || read_vms(r, live, e) < 0 ||
	    (agent && agent_addresses(r, e) < 0))
		return -1;
	for (i = 0; !quiet && i < r->vms.warnings.nr; i++)
		report_warning("%s", r->vms.warnings.v[i]);
	for (i = 0; !quiet && i < r->vms.nr; i++)
		if (!r->vms.v[i].ip && r->vms.v[i].agent_error)
			report_warning("%s: %s", r->vms.v[i].def->name,
				       r->vms.v[i].agent_error);
	if (inv_rules_compile(&r->rules, cfg, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s", why.buf);
		strbuf_release(&why);
		return -1;
	}
	inv_want_init(&r->want, &r->rules);
	for (i = 0; i < r->vms.nr; i++) {
		const struct inv_vm *v = &r->vms.v[i];

		if (!selected(cfg, v->def))
			continue;
		inv_want_add(&r->want, &r->rules, v->def->name, v->ip, v->user,
			     (unsigned)cfg->ssh.port, &v->def->ansible_groups);
	}
	for (i = 0; i < r->rp.keep.nr; i++)
		inv_want_keep(&r->want, r->rp.keep.v[i]);
	for (i = 0; i < r->rp.in.nr_defs; i++) /* --cluster: another's */
		if (!selected(cfg, r->rp.defs[i]))
			inv_want_keep(&r->want, r->rp.defs[i]->name);
	if (r->req && r->req->rebased)
		keep_unknown(r);
	return 0;
}

/* ---- planning the files ------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* new_hosts.txt from the "IP,NAME" entries of the change. */
static void encode_new_hosts(struct strbuf *out, const struct strvec *lines)
{
	struct new_hosts nh = NEW_HOSTS_INIT;
	struct strbuf ip = STRBUF_INIT;
	size_t i;

	for (i = 0; i < lines->nr; i++) {
		const char *comma = strchr(lines->v[i], ',');

		strbuf_reset(&ip);
		strbuf_add(&ip, lines->v[i], (size_t)(comma - lines->v[i]));
		new_hosts_add(&nh, ip.buf, comma + 1);
	}
	new_hosts_encode(out, &nh);
	new_hosts_release(&nh);
	strbuf_release(&ip);
}

static int plan_inventory(struct inv_run *r, struct err *e)
{
	const struct config *cfg = r->cfg;
	struct filetxn_file *f =
		filetxn_add(&r->txn, cfg->inventory, INVENTORY_MAX, e);
	struct ini ini = INI_INIT, check = INI_INIT;
	struct strbuf why = STRBUF_INIT;
	int line, ret = -1;
	size_t at = 0;

	if (!f)
		goto out;
	f->stage_as = xstrdup(base_name(cfg->inventory));
	if (ini_parse(&ini, f->old.buf, f->old.len, &line, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s:%d: %s", cfg->inventory, line,
			why.buf);
		goto out;
	}
	if (inventory_rewrite(&ini, &r->want, &r->change, &at, &why) < 0) {
		err_set(e, EXIT_INVALID, "%s:%zu: %s", cfg->inventory, at,
			why.buf);
		goto out;
	}
	ini_render(&ini, &f->new);
	if (ini_parse(&check, f->new.buf, f->new.len, &line, &why) < 0) {
		err_set(e, EXIT_FAIL,
			"the rewritten %s would not parse (line %d: %s); "
			"nothing was changed",
			cfg->inventory, line, why.buf);
		goto out;
	}
	f = filetxn_add(&r->txn, cfg->new_hosts, INVENTORY_MAX, e);
	if (!f)
		goto out;
	encode_new_hosts(&f->new, &r->change.new_hosts);
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

static struct filetxn_file *add_host_vars(struct inv_run *r, const char *name,
					  struct err *e)
{
	struct strbuf path = STRBUF_INIT;
	struct filetxn_file *f;

	strbuf_addf(&path, "%s/%s", r->cfg->host_vars_dir, name);
	f = filetxn_add(&r->txn, path.buf, INVENTORY_MAX, e);
	if (f) {
		strbuf_reset(&path);
		strbuf_addf(&path, "host_vars/%s", name);
		f->stage_as = strbuf_detach(&path, NULL);
	}
	strbuf_release(&path);
	return f;
}

/* host_vars of the VMs that exist (but not files someone else wrote). */
static int plan_host_vars(struct inv_run *r, struct err *e)
{
	struct strbuf name = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; i < r->vms.nr && !ret; i++) {
		const struct inv_vm *v = &r->vms.v[i];
		struct filetxn_file *f;
		json_t *vars;

		strbuf_reset(&name);
		strbuf_addf(&name, "%s.yml", v->def->name);
		f = add_host_vars(r, name.buf, e);
		if (!f) {
			ret = -1;
		} else if (f->existed && !written_by_us(&f->old)) {
			report_warning("%s was not written by pve-gitops; "
				       "left as it is",
				       f->path);
			strbuf_add(&f->new, f->old.buf, f->old.len);
		} else {
			strbuf_addf(&f->new,
				    INVENTORY_HOST_VARS_MARK
				    " from %s; `pve-gitops inventory` "
				    "rewrites it.\n",
				    v->def->file);
			vars = inv_host_vars(v, config_multi_cluster(r->cfg));
			yemit(&f->new, vars);
			json_decref(vars);
		}
	}
	strbuf_release(&name);
	return ret;
}

/* Ours for VMs that are gone are removed; the rest are left as they are. */
static int plan_host_vars_gone(struct inv_run *r, struct err *e)
{
	struct strbuf name = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (repo_opendir(r->cfg->host_vars_dir, &d, e) < 0)
		return -1;

	while (d && !ret && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct filetxn_file *f;

		if (n < 5 || strcmp(de->d_name + n - 4, ".yml") ||
		    de->d_name[0] == '.')
			continue;
		strbuf_reset(&name);
		strbuf_add(&name, de->d_name, n - 4);
		if (strmap_has(&r->want.by_name, name.buf) ||
		    strmap_has(&r->want.keep, name.buf))
			continue;
		f = add_host_vars(r, de->d_name, e);
		if (!f)
			ret = -1;
		else if (written_by_us(&f->old))
			f->remove = true;
		else
			strbuf_add(&f->new, f->old.buf, f->old.len);
	}
	if (d)
		closedir(d);
	strbuf_release(&name);
	return ret;
}

/* ---- the operation ------------------------------------------------------ */

static void warn_unknown(const struct inv_change *c)
{
	size_t i;

	for (i = 0; i < c->unknown_ip.nr; i++)
		report_warning("%s has no known IPv4 address (DHCP, and no "
			       "address from the guest agent): left out of "
			       "the inventory",
			       c->unknown_ip.v[i]);
	for (i = 0; i < c->unknown_kept.nr; i++)
		report_warning("%s has no known IPv4 address (DHCP, and no "
			       "address from the guest agent): its inventory "
			       "line is left as it is",
			       c->unknown_kept.v[i]);
}

/*
 * What Ansible's check must read: the INI file (every host and group),
 * new_hosts.txt, and the host_vars files that change or that could give a
 * host another address than its line; not the thousands that stay as they
 * are and cannot (reading them was 96% of a run at 10,000 VMs). What the
 * check proves holds all the same: the hosts, their groups and addresses
 * as Ansible reads them from the files as they will be.
 */
static void leave_out_of_check(struct inv_run *r)
{
	size_t i;

	for (i = 0; i < r->txn.nr; i++) {
		struct filetxn_file *f = &r->txn.files[i];

		if (f->stage_as && !strncmp(f->stage_as, "host_vars/", 10) &&
		    !filetxn_file_changes(f) &&
		    !inventory_vars_may_set_address(f->new.buf, f->new.len))
			f->unstaged = true;
	}
}

static int rewrite(struct inv_run *r, bool dry_run, struct err *e)
{
	const struct config *cfg = r->cfg;
	size_t changed;
	bool check;

	if (plan_inventory(r, e) < 0 || plan_host_vars(r, e) < 0 ||
	    plan_host_vars_gone(r, e) < 0)
		return -1;
	changed = filetxn_changes(&r->txn);
	/* a private copy only for Ansible's check and for the diff */
	check = ansible_inventory_will_check(cfg->validate_with_ansible);
	if (check)
		leave_out_of_check(r);
	if ((check || (dry_run && changed)) &&
	    filetxn_stage(&r->txn, cfg->env ? cfg->env->tmpdir : NULL,
			  "pve-gitops-inventory", e) < 0)
		return -1;
	if (check && ansible_inventory_check(
			     r->txn.dir, base_name(cfg->inventory), &r->want,
			     cfg->validate_with_ansible, e) < 0)
		return err_prefix(e, "nothing was changed");
	if (dry_run && !cfg->json && changed && filetxn_diff(&r->txn, e) < 0)
		return -1;
	if (!dry_run && changed && filetxn_commit(&r->txn, 0644, e) < 0)
		return -1;
	return 0;
}

void inventory_result_init(struct inventory_result *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->new_hosts);
	inv_change_init(&r->change);
}

void inventory_result_release(struct inventory_result *r)
{
	strvec_clear(&r->new_hosts);
	inv_change_release(&r->change);
}

int inventory_run(const struct config *cfg, const struct inventory_req *req,
		  struct inventory_result *out, struct err *e)
{
	struct inv_run r;
	size_t i;
	int ret = -1;

	run_init(&r, cfg);
	r.req = req;
	if (load(&r, req->live, false, true, e) < 0 ||
	    rewrite(&r, req->dry_run, e) < 0)
		goto out;
	warn_unknown(&r.change);
	out->dry_run = req->dry_run;
	out->files_changed = filetxn_changes(&r.txn);
	out->changed_any = out->files_changed > 0;
	out->added = r.change.added.nr;
	out->removed = r.change.removed.nr;
	out->changed = r.change.updated.nr;
	for (i = 0; i < r.change.new_hosts.nr; i++)
		strvec_push(&out->new_hosts, r.change.new_hosts.v[i]);
	inv_change_release(&out->change);
	out->change = r.change;
	inv_change_init(&r.change);
	ret = 0;
out:
	run_release(&r);
	return ret;
}

int inventory_dynamic(const struct config *cfg, bool live, const char *host,
		      struct strbuf *out, struct err *e)
{
	struct config quiet = *cfg;
	struct inv_run r;
	json_t **vars = NULL;
	size_t i;
	int ret = -1;

	quiet.verbosity = -1; /* the definitions' warnings too */
	run_init(&r, &quiet);
	if (load(&r, live, true, false, e) < 0)
		goto out;
	vars = xcalloc(r.vms.nr + 1, sizeof(*vars));
	for (i = 0; i < r.vms.nr; i++)
		vars[i] = inv_host_vars(&r.vms.v[i], config_multi_cluster(cfg));
	if (!host) {
		dyninv_encode_list(out, &r.want, vars);
	} else if (strmap_get(&r.want.by_name, host, &i) &&
		   r.want.hosts[i].ip) {
		dyninv_encode_host(out, &r.want.hosts[i], vars[i]);
	} else {
		err_setk(e, ERR_NOTFOUND, EXIT_FAIL,
			 "no host '%s' in the inventory", host);
		goto out;
	}
	ret = 0;
out:
	for (i = 0; vars && i < r.vms.nr; i++)
		json_decref(vars[i]);
	free(vars);
	run_release(&r);
	return ret;
}

/* ---- the result, as `pve-gitops inventory` prints it -------------------- */

static void print_names(const char *what, const struct strvec *v)
{
	size_t i;

	if (!v->nr)
		return;
	report_print(stdout, "  %s:", what);
	for (i = 0; i < v->nr; i++)
		report_print(stdout, " %s", v->v[i]);
	report_print(stdout, "\n");
}

static void print_json(const struct inventory_result *r)
{
	const struct inv_change *c = &r->change;
	json_t *o = json_pack("{s:b, s:i}", "dry_run", r->dry_run,
			      "files_changed", (int)r->files_changed);
	const struct strvec *lists[] = { &c->added,	     &c->updated,
					 &c->removed,	     &c->unknown_ip,
					 &c->unknown_kept,   &c->groups_added,
					 &c->groups_removed, &c->new_hosts };
	static const char *const names[] = { "added",		"updated",
					     "removed",		"unknown_ip",
					     "unknown_ip_kept", "groups_added",
					     "groups_removed",	"new_hosts" };
	size_t i, j;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *a = json_array();

		for (j = 0; j < lists[i]->nr; j++)
			json_array_append_new(a, json_string(lists[i]->v[j]));
		json_object_set_new(o, names[i], a);
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	puts("");
	json_decref(o);
}

void inventory_print(const struct config *cfg, const struct inventory_result *r)
{
	const struct inv_change *c = &r->change;

	if (cfg->json) {
		print_json(r);
		return;
	}
	if (cfg->verbosity < 0)
		return;
	if (!r->changed_any) {
		printf("%s: no changes\n", cfg->inventory);
		return;
	}
	printf("%s: %zu added, %zu updated, %zu removed; %s: %zu new "
	       "host%s%s\n",
	       cfg->inventory, c->added.nr, c->updated.nr, c->removed.nr,
	       cfg->new_hosts, c->new_hosts.nr, c->new_hosts.nr == 1 ? "" : "s",
	       r->dry_run ? " (dry run: nothing written)" : "");
	print_names("added", &c->added);
	print_names("updated", &c->updated);
	print_names("removed", &c->removed);
	print_names("groups added", &c->groups_added);
	print_names("groups removed", &c->groups_removed);
}
