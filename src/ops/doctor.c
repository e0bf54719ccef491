/*
 * doctor.c - the chain of a VM walked link by link; see doctor.h.
 *
 * What every VM shares is read once, when the first VM needs it: the
 * definitions and their plan against the cluster (ops/repoplan), the
 * inventory, the automated commits that wrote new_hosts.txt. The fixes
 * are the seed's Troubleshooting section made concrete (the commands of
 * this tool where it has one).
 */
#include "ops/doctor.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "core/ini.h"
#include "core/inventory.h"
#include "core/kubeconfig.h"
#include "core/new_hosts.h"
#include "core/provcheck.h"
#include "core/tag.h"
#include "core/workspace.h"
#include "io/git.h"
#include "io/hostkeys.h"
#include "io/pve.h"
#include "io/repo.h"
#include "io/tlsprobe.h"
#include "io/vault.h"
#include "ops/kubeconfig.h"
#include "ops/publish.h"
#include "ops/repoplan.h"
#include "ops/workloads.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/url.h"
#include "util/xalloc.h"

#define DOCTOR_SSH_WAIT	     5	/* seconds, unless the request says */
#define DOCTOR_AUTO_COMMITS  50 /* automated commits searched for a host */
#define DOCTOR_INVENTORY_MAX (64 << 20)

/* What the VMs of one walk share; each part read once (0 not yet, 1 read,
 * -1 failed with its error). */
struct walk {
	const struct config *cfg;
	const struct doctor_req *req;
	struct repo_plan rp;
	int defs;
	struct err defs_err;
	/* the definitions read again to tell whose they are, when they fail */
	struct vmset bad;
	struct repo_load bad_rl;
	struct diag_list bad_dl;
	struct inv_rules rules;
	bool rules_ok;
	struct pve_client pc;
	int planned;
	struct err plan_err;
	/* clusters: each cluster's slice, client and plan, made when a VM
	 * of it is walked */
	struct doctor_part *parts;
	size_t nr_parts;
	int inv;
	struct ini ini;
	struct err inv_err;
	int autos;
	struct strvec autos_rev, autos_text;
	struct err autos_err;
};

/* One cluster of several, as ensure_plan reads it. */
struct doctor_part {
	struct config cfg; /* config_for_cluster */
	struct repo_plan rp;
	struct pve_client pc;
	int planned;
	struct err err;
};

/* What one VM's walk has found so far. */
struct vm_walk {
	struct doctor_vm *vm;
	const struct vmdef *def;
	struct strvec groups; /* the groups the rules give it */
	const struct plan_item *item;
	const struct actual_vm *have; /* the VM of the name in the cluster */
	char *rev, *ip; /* the automated commit listing it, its address */
	char *playbook; /* the tag's name */
	enum provision_wait wait; /* how stage two reaches it (its playbook) */
};

static struct doctor_link *link_of(struct vm_walk *v, enum doctor_link_id id)
{
	return doctor_vm_link(v->vm, id);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* file names NAME.yaml or NAME.yml */
static bool file_is(const char *path, const char *name)
{
	const char *b = base_of(path);
	size_t n = strlen(name);

	return !strncmp(b, name, n) &&
	       (!strcmp(b + n, ".yaml") || !strcmp(b + n, ".yml"));
}

/* ---- the shared reads ---------------------------------------------------- */

static void walk_init(struct walk *w, const struct config *cfg,
		      const struct doctor_req *req)
{
	static const struct vmset set0 = VMSET_INIT;
	static const struct repo_load rl0 = REPO_LOAD_INIT;
	static const struct diag_list dl0 = DIAG_LIST_INIT;
	static const struct ini ini0 = INI_INIT;
	static const struct err e0 = ERR_INIT;
	struct strbuf why = STRBUF_INIT;

	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->req = req;
	w->bad = set0;
	w->bad_rl = rl0;
	w->bad_dl = dl0;
	w->ini = ini0;
	w->defs_err = e0;
	w->plan_err = e0;
	w->inv_err = e0;
	w->autos_err = e0;
	strvec_init(&w->autos_rev);
	strvec_init(&w->autos_text);
	w->rules_ok = inv_rules_compile(&w->rules, cfg, &why) == 0;
	strbuf_release(&why);
}

static void walk_release(struct walk *w)
{
	size_t i;

	for (i = 0; i < w->nr_parts; i++) {
		repo_plan_release(&w->parts[i].rp);
		if (w->parts[i].planned)
			pve_client_release(&w->parts[i].pc);
		err_release(&w->parts[i].err);
	}
	free(w->parts);
	repo_plan_release(&w->rp);
	vmset_release(&w->bad);
	repo_load_release(&w->bad_rl);
	diag_list_release(&w->bad_dl);
	if (w->rules_ok)
		inv_rules_release(&w->rules);
	if (w->planned)
		pve_client_release(&w->pc);
	ini_release(&w->ini);
	strvec_clear(&w->autos_rev);
	strvec_clear(&w->autos_text);
	err_release(&w->defs_err);
	err_release(&w->plan_err);
	err_release(&w->inv_err);
	err_release(&w->autos_err);
}

/* The definitions, checked as plan checks them (their diagnostics on
 * stderr); when they fail, read again quietly to tell whose they are. */
static void read_defs(struct walk *w)
{
	struct err e = ERR_INIT;

	if (repo_plan_read(&w->rp, w->cfg, &w->defs_err) == 0) {
		w->defs = 1;
		return;
	}
	w->defs = -1;
	if (repo_load_vms(&w->bad, &w->bad_dl, &w->bad_rl, w->cfg, NULL, 0,
			  &e) == 0) {
		vmset_check(&w->bad, &w->bad_dl);
		vmset_sort(&w->bad);
		diag_list_sort(&w->bad_dl);
	}
	err_release(&e);
}

/* clusters: the part of the VM's cluster, its cluster read and planned
 * once (NULL when the config has no such cluster). */
static struct doctor_part *ensure_part(struct walk *w, const struct vmdef *def)
{
	const char *name =
		def && def->cluster ? def->cluster : CONFIG_DEFAULT_CLUSTER;
	struct doctor_part *c;
	size_t i;

	for (i = 0; i < w->nr_parts; i++)
		if (!strcmp(w->parts[i].cfg.cluster, name))
			break;
	if (i == w->nr_parts) {
		if (!config_cluster(w->cfg, name))
			return NULL;
		if (!w->parts) /* never moved: a slice points into itself */
			w->parts =
				xcalloc(CONFIG_MAX_CLUSTERS, sizeof(*w->parts));
		c = &w->parts[w->nr_parts++];
		memset(c, 0, sizeof(*c));
		c->err = (struct err)ERR_INIT;
		config_for_cluster(&c->cfg, w->cfg, name);
		repo_plan_slice(&c->rp, &w->rp, &c->cfg);
	}
	c = &w->parts[i];
	if (!c->planned) {
		c->planned = 1;
		if (pve_client_open(&c->pc, &c->cfg, &c->err) < 0 ||
		    repo_plan_build(&c->rp, &c->pc, false, &c->err) < 0)
			c->planned = -1;
	}
	return c;
}

/* Read the cluster and plan against it, once. */
static int ensure_plan(struct walk *w)
{
	if (!w->planned) {
		w->planned = 1;
		if (pve_client_open(&w->pc, w->cfg, &w->plan_err) < 0 ||
		    repo_plan_build(&w->rp, &w->pc, false, &w->plan_err) < 0)
			w->planned = -1;
	}
	return w->planned;
}

static int ensure_inventory(struct walk *w)
{
	struct beneath root = BENEATH_INIT;
	struct strbuf text = STRBUF_INIT, why = STRBUF_INIT;
	int line;

	if (w->inv)
		return w->inv;
	w->inv = -1;
	if (beneath_root(&root, ".", &w->inv_err) == 0 &&
	    beneath_read(&root, w->cfg->inventory, &text, DOCTOR_INVENTORY_MAX,
			 &w->inv_err) == 0) {
		if (ini_parse(&w->ini, text.buf, text.len, &line, &why) < 0)
			err_setk(&w->inv_err, ERR_INVALID, EXIT_INVALID,
				 "%s:%d: %s", w->cfg->inventory, line, why.buf);
		else
			w->inv = 1;
	}
	beneath_release(&root);
	strbuf_release(&text);
	strbuf_release(&why);
	return w->inv;
}

/* The automated commits that wrote new_hosts.txt, newest first, with the
 * file as each has it. */
static int ensure_autos(struct walk *w)
{
	struct strbuf text = STRBUF_INIT;
	size_t i;

	if (w->autos)
		return w->autos;
	w->autos = -1;
	if (git_log_touching(w->cfg->new_hosts, "^" PUBLISH_SUBJECT,
			     DOCTOR_AUTO_COMMITS, &w->autos_rev,
			     &w->autos_err) < 0)
		return -1;
	for (i = 0; i < w->autos_rev.nr; i++) {
		strbuf_setlen(&text, 0);
		if (git_show_file(w->autos_rev.v[i], w->cfg->new_hosts, &text,
				  &w->autos_err) < 0)
			goto out;
		strvec_push(&w->autos_text, text.buf); /* 1: deleted, "" */
	}
	w->autos = 1;
out:
	strbuf_release(&text);
	return w->autos;
}

/* ---- definition and credentials ------------------------------------------ */

/* The excluded definition file that names the VM, or NULL. */
static const char *excluded_file(const struct walk *w, const char *name)
{
	const struct repo_load *rl = w->defs > 0 ? &w->rp.rl : &w->bad_rl;
	size_t i;

	for (i = 0; i < rl->excluded.nr; i++)
		if ((w->defs > 0 && i < w->rp.keep.nr &&
		     !strcmp(w->rp.keep.v[i], name)) ||
		    file_is(rl->excluded.v[i], name))
			return rl->excluded.v[i];
	return NULL;
}

/* The definition of name in set: by its name:, else by its file name. */
static const struct vmdef *find_def(const struct vmset *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->nr; i++)
		if (set->items[i].name && !strcmp(set->items[i].name, name))
			return &set->items[i];
	for (i = 0; i < set->nr; i++)
		if (!set->items[i].name && file_is(set->items[i].file, name))
			return &set->items[i];
	return NULL;
}

static int def_missing(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_DEFINITION);
	const char *file = excluded_file(w, v->vm->name);

	if (file) {
		doctor_set(l, DOCTOR_FAILED,
			   "%s is excluded (exclude: in pve-gitops.yaml): "
			   "pve-gitops does not create, change or provision it",
			   file);
		doctor_fix(l,
			   "to manage it, remove '%s' from exclude: in "
			   "pve-gitops.yaml (the seed's setsubtract() list in "
			   "main.tf); an excluded VM is managed by hand",
			   base_of(file));
		return -1;
	}
	doctor_set(l, DOCTOR_FAILED, "no definition in %s names %s",
		   w->cfg->vms_dir, v->vm->name);
	doctor_fix(l, "add %s/%s.yaml (pve-gitops validate checks it)",
		   w->cfg->vms_dir, v->vm->name);
	return -1;
}

/* The definitions did not load: this one's errors, or the others'. */
static int def_invalid(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_DEFINITION);
	const struct vmdef *def = find_def(&w->bad, v->vm->name);
	const struct diag *first = NULL, *mine = NULL;
	struct strbuf where = STRBUF_INIT;
	size_t i, own = 0;

	if (!def)
		return def_missing(w, v);
	for (i = 0; i < w->bad_dl.nr; i++) {
		const struct diag *d = &w->bad_dl.items[i];

		if (d->severity != DIAG_ERROR)
			continue;
		first = first ? first : d;
		if (d->file && def->file && !strcmp(d->file, def->file)) {
			mine = mine ? mine : d;
			own++;
		}
	}
	if (mine || first)
		diag_format(&where, mine ? mine : first);
	strbuf_trim(&where);
	if (mine)
		doctor_set(l, DOCTOR_FAILED, "%s (%zu error%s in %s)",
			   where.buf, own, own == 1 ? "" : "s", def->file);
	else
		doctor_set(l, DOCTOR_FAILED,
			   "%s is valid, but the other definitions have "
			   "errors and apply stops for every VM: %s",
			   def->file, first ? where.buf : w->defs_err.msg.buf);
	if (mine)
		doctor_fix(l,
			   "fix it and check it with pve-gitops validate %s "
			   "(the seed's yamllint step)",
			   def->file);
	else
		doctor_fix(l, "pve-gitops validate lists every error; one "
			      "invalid definition stops apply for all VMs");
	strbuf_release(&where);
	return -1;
}

static int check_definition(struct walk *w, struct vm_walk *v)
{
	if (w->defs < 0)
		return def_invalid(w, v);
	v->def = find_def(&w->rp.set, v->vm->name);
	if (!v->def)
		return def_missing(w, v);
	return doctor_set(link_of(v, DL_DEFINITION), DOCTOR_OK, "%s",
			  v->def->file);
}

/* Where the Proxmox credentials come from, by the variable or key that
 * gave each (never a secret). */
static void pve_sources(struct strbuf *out, const struct pve_conn *c,
			const struct config *cfg)
{
	const struct env *env = cfg->env;

	strbuf_addf(out, "Proxmox endpoint from %s",
		    c->endpoint == env->pm_api_url ? "PM_API_URL"
		    : c->endpoint == env->proxmox_ve_endpoint
			    ? "PROXMOX_VE_ENDPOINT"
			    : "proxmox.endpoint");
	if (c->token_full)
		strbuf_addstr(out, ", API token from PROXMOX_VE_API_TOKEN "
				   "(environment)");
	else if (c->token_id)
		strbuf_addf(out,
			    ", API token %s (from %s), its secret from "
			    "PM_API_TOKEN_SECRET (environment)",
			    c->token_id,
			    c->token_id == cfg->proxmox.token_id
				    ? "proxmox.token_id"
				    : "PM_API_TOKEN_ID");
	else
		strbuf_addf(out,
			    ", user %s (from %s), password from PM_PASS "
			    "(environment)",
			    c->user,
			    c->user == cfg->proxmox.user ? "proxmox.user"
							 : "PM_USER");
}

static int check_credentials(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_CREDENTIALS);
	const struct config *cfg = w->cfg;
	struct vault_client vc;
	struct pve_conn conn;
	struct err e = ERR_INIT;
	int ret = -1;

	const char *cl = v->def && v->def->cluster ? v->def->cluster : NULL;
	const char *q;

	if (cl && strcmp(cl, CONFIG_DEFAULT_CLUSTER)) {
		/* clusters: the VM's cluster's token, from its variable */
		const struct proxmox_cfg *p = config_cluster(cfg, cl);

		if (!p ||
		    pve_conn_for_cluster(&conn, cfg->env, cl, p, &e) < 0) {
			doctor_set(l, DOCTOR_FAILED, "%s",
				   p ? e.msg.buf : "no such cluster");
			doctor_fix(l, "set clusters.NAME.token_id and export "
				      "PM_API_TOKEN_SECRET_NAME (NAME "
				      "upper-cased, '-' as '_') where "
				      "pve-gitops runs");
			goto out;
		}
		doctor_set(l, DOCTOR_OK,
			   "cluster %s: endpoint from clusters.%s.endpoint, "
			   "%s %s (clusters.%s), its %s from %s_",
			   cl, cl, conn.token_id ? "API token" : "user",
			   conn.token_id ? conn.token_id : conn.user, cl,
			   conn.token_id ? "secret" : "password",
			   conn.token_id ? "PM_API_TOKEN_SECRET" : "PM_PASS");
		for (q = cl; *q; q++)
			strbuf_addch(&l->detail,
				     *q == '-' ? '_'
					       : toupper((unsigned char)*q));
		strbuf_addstr(&l->detail, " (environment)");
		goto vault;
	}
	if (pve_conn_from_env(&conn, cfg->env, cfg->proxmox.endpoint,
			      cfg->proxmox.token_id, cfg->proxmox.user,
			      &e) < 0) {
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
		doctor_fix(l, "export PM_API_TOKEN_ID and PM_API_TOKEN_SECRET "
			      "(or PROXMOX_VE_API_TOKEN, or PM_USER and "
			      "PM_PASS) where pve-gitops runs: in CI, the "
			      "pipeline's secrets");
		goto out;
	}
	doctor_set(l, DOCTOR_OK, "%s", "");
	pve_sources(&l->detail, &conn, cfg);
vault:
	if (v->vm->k3s) {
		if (vault_client_init(&vc, cfg, NULL, &e) < 0) {
			strbuf_addf(&l->detail, "; Vault: %s", e.msg.buf);
			l->status = DOCTOR_FAILED;
			doctor_fix(l, "export VAULT_TOKEN (or write it to "
				      "~/.vault-token) and VAULT_ADDR (or set "
				      "vault.addr); a K3s VM's kubeconfig "
				      "goes to Vault");
		} else {
			strbuf_addf(&l->detail, "; Vault token from %s",
				    vc.token_from);
		}
		vault_client_release(&vc);
	}
	ret = l->status == DOCTOR_OK ? 0 : -1;
out:
	err_release(&e);
	return ret;
}

/* ---- the VM in Proxmox ----------------------------------------------------
 */

static const struct plan_item *find_item(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nr; i++)
		if (p->items[i].op != PLAN_DESTROY && p->items[i].name &&
		    !strcmp(p->items[i].name, name))
			return &p->items[i];
	return NULL;
}

/* The VM of the name the cluster has (a blocked item may not say). */
static const struct actual_vm *find_vm(const struct cluster *c,
				       const char *name)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (!c->vms[i].template_ && c->vms[i].name &&
		    !strcmp(c->vms[i].name, name))
			return &c->vms[i];
	return NULL;
}

static int check_exists(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_PROXMOX_VM);
	const struct plan_item *it;
	const struct actual_vm *a;
	const struct repo_plan *rp = &w->rp;
	const struct doctor_part *c = NULL;
	struct strbuf on = STRBUF_INIT;

	if (config_multi_cluster(w->cfg)) { /* the VM's own cluster */
		c = ensure_part(w, v->def);
		strbuf_addf(&on, " of cluster %s",
			    c ? c->cfg.cluster : "(unknown)");
	}
	if (c ? c->planned < 0 : ensure_plan(w) < 0) {
		if (c)
			doctor_set(l, DOCTOR_FAILED,
				   "cannot read cluster %s: %s", c->cfg.cluster,
				   c->err.msg.buf);
		else
			doctor_set(l, DOCTOR_FAILED,
				   "cannot read the cluster: %s",
				   w->plan_err.msg.buf);
		doctor_fix(l, "check the Proxmox endpoint and credentials (the "
			      "token's permissions) and that the API answers: "
			      "pvesh get /cluster/resources --type vm");
		strbuf_release(&on);
		return -1;
	}
	if (c)
		rp = &c->rp;
	it = v->item = find_item(&rp->plan, v->vm->name);
	a = v->have =
		it && it->have ? it->have : find_vm(&rp->cluster, v->vm->name);
	if (it && a) {
		doctor_set(l, DOCTOR_OK, "VM %d on %s%s", a->vmid,
			   a->node ? a->node : "?", on.buf);
		strbuf_release(&on);
		return 0;
	}
	strbuf_release(&on);
	if (it && it->op == PLAN_BLOCKED) {
		doctor_set(l, DOCTOR_FAILED,
			   "no VM named %s in Proxmox, and apply cannot make "
			   "it: %s",
			   v->vm->name, it->reason ? it->reason : "blocked");
		doctor_fix(l, "pve-gitops plan says what blocks it");
		return -1;
	}
	doctor_set(l, DOCTOR_FAILED, "no VM named %s in Proxmox", v->vm->name);
	doctor_fix(l,
		   "pve-gitops plan shows the create, pve-gitops apply makes "
		   "it (stage one of run does); when apply fails, check that "
		   "the template %s exists on %s and the node has room",
		   v->def->clone ? v->def->clone : "(clone:)",
		   v->def->target_node ? v->def->target_node : "its node");
	return -1;
}

static int check_managed(struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_MANAGED);
	const struct actual_vm *a = v->have;

	if (actual_is_managed(a))
		return doctor_set(l, DOCTOR_OK, "tagged pve-gitops");
	doctor_set(l, DOCTOR_FAILED,
		   "VM %d is not managed by pve-gitops (no pve-gitops tag)",
		   a->vmid);
	if (v->item->adoptable)
		doctor_fix(
			l,
			"pve-gitops apply --adopt --target %s takes it over, "
			"once you are sure it is the VM of the definition",
			v->vm->name);
	else
		doctor_fix(l, "%s",
			   v->item->reason ? v->item->reason
					   : "rename the definition or the VM");
	return -1;
}

static int check_running(struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_RUNNING);
	const struct actual_vm *a = v->have;
	bool running = a->status && !strcmp(a->status, "running");

	if (v->def->vm_state == VM_STATE_STOPPED)
		return doctor_set(l, running ? DOCTOR_FAILED : DOCTOR_OK,
				  "%s; vm_state: stopped", a->status);
	if (running)
		return doctor_set(l, DOCTOR_OK, "running");
	doctor_set(l, DOCTOR_FAILED, "VM %d is %s", a->vmid,
		   a->status ? a->status : "in no known state");
	doctor_fix(l,
		   "pve-gitops apply starts it (vm_state: running), or start "
		   "it by hand: qm start %d on %s; then check why it stopped",
		   a->vmid, a->node ? a->node : "its node");
	return -1;
}

/* The item's changes (pending ones or the others) as "key (a -> b), ...". */
static size_t list_changes(struct strbuf *out, const struct plan_item *it,
			   bool pending)
{
	size_t i, n = 0;

	for (i = 0; i < it->nr_changes; i++) {
		const struct plan_change *c = &it->changes[i];

		if (c->pending != pending)
			continue;
		strbuf_addf(out, "%s%s (%s -> %s)", n++ ? ", " : "", c->key,
			    c->from ? c->from : "unset",
			    c->to ? c->to : "removed");
	}
	return n;
}

static int check_digest(struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_DIGEST);
	const struct plan_item *it = v->item;
	struct strbuf ch = STRBUF_INIT;
	size_t n;

	if (it->op == PLAN_BLOCKED) {
		doctor_set(l, DOCTOR_FAILED, "%s",
			   it->reason ? it->reason : "blocked");
		doctor_fix(l, "pve-gitops plan says what blocks it");
		return -1;
	}
	n = list_changes(&ch, it, false);
	if (it->op == PLAN_NOOP || !n) {
		strbuf_release(&ch);
		return doctor_set(l, DOCTOR_OK, "pg-%s, as the definition",
				  it->want ? it->want->digest : "?");
	}
	doctor_set(l, DOCTOR_FAILED,
		   "the VM differs from its definition, %zu change%s not "
		   "applied: %s",
		   n, n == 1 ? "" : "s", ch.buf);
	doctor_fix(l, "pve-gitops plan shows them, pve-gitops apply makes "
		      "them (the seed: terraform plan, terraform apply)");
	strbuf_release(&ch);
	return -1;
}

static int check_pending(struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_PENDING);
	const struct plan_item *it = v->item;
	struct strbuf ch = STRBUF_INIT;
	size_t n = list_changes(&ch, it, true);

	if (!n) {
		strbuf_release(&ch);
		return doctor_set(l, DOCTOR_OK, "nothing waits for a boot");
	}
	doctor_set(l, DOCTOR_FAILED,
		   "%zu change%s wait%s in Proxmox for the next boot: %s", n,
		   n == 1 ? "" : "s", n == 1 ? "s" : "", ch.buf);
	doctor_fix(l,
		   "reboot it (qm reboot %d), or let apply do it with "
		   "automatic_reboot: true",
		   v->have->vmid);
	strbuf_release(&ch);
	return -1;
}

/* ---- the inventory --------------------------------------------------------
 */

/* The groups the inventory rules (and ansible_groups) give name; true
 * when they hold k3s: a K3s VM. */
static bool want_groups(struct walk *w, const char *name,
			const struct vmdef *def, struct strvec *out)
{
	struct inv_want want;
	bool k3s = false;
	size_t i;

	if (!w->rules_ok)
		return false;
	inv_want_init(&want, &w->rules);
	inv_want_add(&want, &w->rules, name, NULL, "", 22,
		     def ? &def->ansible_groups : NULL);
	for (i = 0; want.nr && i < want.hosts[0].groups.nr; i++) {
		strvec_push(out, want.hosts[0].groups.v[i]);
		k3s = k3s || !strcmp(want.hosts[0].groups.v[i], "k3s");
	}
	inv_want_release(&want);
	return k3s;
}

/* Whether the inventory lists name in group (NULL: anywhere); the line. */
static size_t host_line(const struct ini *ini, const char *name,
			const char *group)
{
	size_t i;

	for (i = 0; i < ini->nr_lines; i++) {
		const struct ini_line *l = &ini->lines[i];

		if (l->kind != INI_HOST || l->deleted || !l->name ||
		    strcmp(l->name, name))
			continue;
		if (!group || (l->section >= 0 &&
			       !strcmp(ini->sections[l->section].group, group)))
			return i + 1;
	}
	return 0;
}

static int check_inventory(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_INVENTORY);
	size_t line;

	if (ensure_inventory(w) < 0) {
		doctor_set(l, DOCTOR_FAILED, "%s", w->inv_err.msg.buf);
		doctor_fix(l,
			   "pve-gitops inventory rewrites it; check it with "
			   "ansible-inventory -i %s --list (duplicate hosts, "
			   "INI syntax, circular groups)",
			   w->cfg->inventory);
		return -1;
	}
	line = host_line(&w->ini, v->vm->name, NULL);
	if (line)
		return doctor_set(l, DOCTOR_OK, "%s:%zu", w->cfg->inventory,
				  line);
	doctor_set(l, DOCTOR_FAILED, "%s has no host line for %s",
		   w->cfg->inventory, v->vm->name);
	doctor_fix(l,
		   "pve-gitops inventory adds it from the last apply's "
		   "outputs (stage one does it after apply), then commit it");
	return -1;
}

static int check_groups(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_GROUPS);
	struct strbuf missing = STRBUF_INIT, have = STRBUF_INIT;
	size_t i;

	for (i = 0; i < v->groups.nr; i++)
		strbuf_addf(host_line(&w->ini, v->vm->name, v->groups.v[i])
				    ? &have
				    : &missing,
			    "%s[%s]", i ? " " : "", v->groups.v[i]);
	strbuf_trim(&have);
	strbuf_trim(&missing);
	if (missing.len) {
		doctor_set(l, DOCTOR_FAILED, "%s is not in %s", v->vm->name,
			   missing.buf);
		doctor_fix(l, "pve-gitops inventory puts it there (the rules "
			      "of inventory_groups and its ansible_groups say "
			      "which)");
	} else if (have.len) {
		doctor_set(l, DOCTOR_OK, "in %s", have.buf);
	} else {
		doctor_set(l, DOCTOR_OK,
			   "no rule names a group for it: an individual "
			   "host");
	}
	strbuf_release(&missing);
	strbuf_release(&have);
	return l->status == DOCTOR_OK ? 0 : -1;
}

/* ---- the automated commit and its playbook ---------------------------------
 */

/* The address new_hosts.txt text gives name, or NULL. */
static char *listed_ip(const char *text, const char *name)
{
	struct new_hosts nh = NEW_HOSTS_INIT;
	struct strbuf why = STRBUF_INIT;
	char *ip = NULL;
	size_t i, line;

	new_hosts_decode(&nh, text, strlen(text), &line, &why);
	for (i = 0; i < nh.nr && !ip; i++)
		if (!strcmp(nh.v[i].name, name))
			ip = xstrdup(nh.v[i].ip);
	new_hosts_release(&nh);
	strbuf_release(&why);
	return ip;
}

static int check_new_hosts(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_NEW_HOSTS);
	size_t i;

	if (ensure_autos(w) < 0) {
		doctor_set(l, DOCTOR_FAILED, "%s", w->autos_err.msg.buf);
		doctor_fix(l, "run doctor in a git clone of the repository");
		return -1;
	}
	for (i = 0; i < w->autos_rev.nr && !v->ip; i++)
		v->ip = listed_ip(w->autos_text.v[i], v->vm->name);
	if (v->ip) {
		v->rev = xstrdup(w->autos_rev.v[i - 1]);
		return doctor_set(l, DOCTOR_OK, "%.12s lists %s,%s in %s",
				  v->rev, v->ip, v->vm->name,
				  w->cfg->new_hosts);
	}
	doctor_set(l, DOCTOR_FAILED,
		   "no automated commit (\"%s\", the last %zu that changed "
		   "%s) lists %s: stage two never ran on it",
		   PUBLISH_SUBJECT, w->autos_rev.nr, w->cfg->new_hosts,
		   v->vm->name);
	doctor_fix(
		l,
		"stage one lists a VM it creates; for one made otherwise, "
		"run the playbook by hand: ansible-playbook -i %s %s/NAME.yml "
		"-e target_hosts=%s",
		w->cfg->inventory, w->cfg->playbooks_dir, v->vm->name);
	return -1;
}

static int check_tag(struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_TAG);
	struct strbuf name = STRBUF_INIT;
	struct err e = ERR_INIT;
	int rc = git_commit_tag(v->rev, &name, &e);

	if (rc > 0) {
		v->playbook = strbuf_detach(&name, NULL);
		doctor_set(l, DOCTOR_OK, "%.12s carries [ansible %s]", v->rev,
			   v->playbook);
	} else if (rc == 0) {
		doctor_set(l, DOCTOR_FAILED,
			   "%.12s carries no [ansible NAME] tag: stage two did "
			   "not run the playbook on %s",
			   v->rev, v->vm->name);
		doctor_fix(l,
			   "the tag was lost (the commit that triggered stage "
			   "one had none): run the playbook on the commit's "
			   "hosts with pve-gitops provision --commit %s "
			   "--playbook NAME",
			   v->rev);
	} else {
		doctor_set(l, DOCTOR_FAILED, "%.12s: %s", v->rev, e.msg.buf);
		doctor_fix(l, "a tag names a playbook: [ansible NAME], NAME of "
			      "letters, digits, '.', '_' and '-'");
	}
	strbuf_release(&name);
	err_release(&e);
	return rc > 0 ? 0 : -1;
}

/* The tag's playbook resolved as stage two resolves it. */
static int check_playbook(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_PLAYBOOK);
	const char *dir = w->cfg->playbooks_dir;
	struct playbook pb = { NULL, NULL };
	struct strvec files = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	struct err e = ERR_INIT;

	if (repo_list_playbooks(dir, &files, &e) < 0)
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
	else if (playbook_resolve(&pb, &files, v->playbook, &why) < 0)
		doctor_set(l, DOCTOR_FAILED, "%s", why.buf);
	else if (repo_check_playbook(dir, pb.file, &e) < 0)
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
	else
		doctor_set(l, DOCTOR_OK, "%s/%s%s%s", dir, pb.file,
			   pb.target_hosts ? " with target_hosts=" : "",
			   pb.target_hosts ? pb.target_hosts : "");
	if (pb.file) /* as stage two decides it (provision.wait_for) */
		v->wait = provcheck_wait_for(w->cfg, v->playbook, pb.file);
	if (l->status == DOCTOR_FAILED)
		doctor_fix(l,
			   "add %s/%s.yml, or name one that exists in the "
			   "tag; check it with ansible-playbook --syntax-check",
			   dir, v->playbook);
	playbook_release(&pb);
	strvec_clear(&files);
	strbuf_release(&why);
	err_release(&e);
	return l->status == DOCTOR_OK ? 0 : -1;
}

/* ---- SSH -------------------------------------------------------------------
 */

static int check_ssh(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_SSH_PORT);
	unsigned port = (unsigned)w->cfg->ssh.port;
	struct err e = ERR_INIT;
	const char *host;
	long ms = 0;
	int ret;

	if (v->wait == PROVISION_WAIT_NONE) {
		doctor_set(l, DOCTOR_OK,
			   "nothing to wait for (provision.wait_for: none)");
		return 0;
	}
	if (v->wait == PROVISION_WAIT_TALOS) {
		port = (unsigned)w->cfg->provision.talos_api_port;
		ret = hostkeys_wait_port(
			v->ip, port, w->cfg->provision.talos_api_tls,
			w->req->ssh_wait ? w->req->ssh_wait : DOCTOR_SSH_WAIT,
			&ms, &e);
		if (!ret)
			doctor_set(l, DOCTOR_OK,
				   "%s:%u (the Talos API) answered in %ld ms",
				   v->ip, port, ms);
		else {
			doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
			doctor_fix(l,
				   "check that the VM booted Talos and is "
				   "reachable (ping %s), and that apid listens "
				   "on port %u (provision.talos_api_port)",
				   v->ip, port);
		}
		err_release(&e);
		return ret;
	}
	if (config_ssh_target(w->cfg, v->vm->name, v->ip, &host, &port)) {
		ret = hostkeys_wait_ssh(host, port,
					w->req->ssh_wait ? w->req->ssh_wait
							 : DOCTOR_SSH_WAIT,
					&ms, &e);
		if (!ret)
			doctor_set(l, DOCTOR_OK,
				   "%s:%u (ssh.connect for %s) sent an SSH "
				   "banner in %ld ms",
				   host, port, v->ip, ms);
		else {
			doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
			doctor_fix(l,
				   "check that %s:%u (ssh.connect) forwards "
				   "to the SSH server of %s, and that "
				   "cloud-init completed there",
				   host, port, v->ip);
		}
		err_release(&e);
		return ret;
	}
	ret = hostkeys_wait_ssh(
		v->ip, port,
		w->req->ssh_wait ? w->req->ssh_wait : DOCTOR_SSH_WAIT, &ms, &e);
	if (!ret) {
		doctor_set(l, DOCTOR_OK, "%s:%u sent an SSH banner in %ld ms",
			   v->ip, port, ms);
	} else {
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
		doctor_fix(l,
			   "check that the VM is reachable (ping %s), that its "
			   "SSH server listens on port %u (ssh.port) and that "
			   "cloud-init completed (ssh %s@%s cloud-init status)",
			   v->ip, port,
			   w->cfg->ssh.user ? w->cfg->ssh.user
			   : v->def->ciuser ? v->def->ciuser
					    : w->cfg->ansible_user,
			   v->ip);
	}
	err_release(&e);
	return ret;
}

/* ssh.known_hosts with a leading ~/ taken as $HOME, as provision does. */
static void known_hosts_path(struct strbuf *out, const struct config *cfg)
{
	const char *p = cfg->ssh.known_hosts;
	const char *home = cfg->env ? cfg->env->home : NULL;

	if (home && *home && p[0] == '~' && p[1] == '/') {
		strbuf_addstr(out, home);
		p++;
	}
	strbuf_addstr(out, p);
}

static int check_known_host(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_KNOWN_HOST);
	unsigned port = (unsigned)w->cfg->ssh.port, scan_port;
	const struct ssh_connect *conn;
	const char *host;
	struct strbuf file = STRBUF_INIT, spec = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t n = 0;

	if (v->wait != PROVISION_WAIT_SSH) {
		doctor_set(l, DOCTOR_OK,
			   "no SSH, no host key (provision.wait_for: "
			   "%s)",
			   provcheck_wait_name(v->wait));
		return 0;
	}
	known_hosts_path(&file, w->cfg);
	/* with ssh.connect the key is the bare address's (HostKeyAlias) */
	conn = config_ssh_target(w->cfg, v->vm->name, v->ip, &host, &scan_port);
	if (conn)
		port = 22;
	hostkeys_hostspec(&spec, v->ip, port);
	if (hostkeys_known(file.buf, v->ip, port, &n, &e) < 0)
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
	else if (n)
		doctor_set(l, DOCTOR_OK, "%zu key%s for %s in %s", n,
			   n == 1 ? "" : "s", spec.buf, file.buf);
	else
		doctor_set(l, DOCTOR_FAILED, "no host key for %s in %s",
			   spec.buf, file.buf);
	if (l->status == DOCTOR_FAILED && conn)
		doctor_fix(l,
			   "stage two records it (through the guest agent with "
			   "agent: 1, else ssh-keyscan): pve-gitops provision "
			   "--commit %s; by hand, after checking the "
			   "fingerprint: ssh-keyscan -p %u %s (ssh.connect), "
			   "each line's first field replaced with %s, >> %s",
			   v->rev, scan_port, host, v->ip, file.buf);
	else if (l->status == DOCTOR_FAILED)
		doctor_fix(l,
			   "stage two records it (through the guest agent with "
			   "agent: 1, else ssh-keyscan): pve-gitops provision "
			   "--commit %s; by hand, after checking the "
			   "fingerprint: ssh-keyscan -p %u %s >> %s",
			   v->rev, port, v->ip, file.buf);
	strbuf_release(&file);
	strbuf_release(&spec);
	err_release(&e);
	return l->status == DOCTOR_OK ? 0 : -1;
}

/* ---- K3s: the context in Vault, its server, the workloads -----------------
 */

/* The cluster of the one context of a kubeconfig selected for it (new
 * reference), or NULL. */
static json_t *context_cluster(const char *yaml)
{
	struct diag_list dl = DIAG_LIST_INIT;
	json_t *kc = NULL, *cl;

	kubeconfig_parse(&kc, &dl, "vault", yaml, strlen(yaml));
	cl = json_object_get(json_array_get(json_object_get(kc, "clusters"), 0),
			     "cluster");
	if (!json_is_string(json_object_get(cl, "server")))
		cl = NULL;
	json_incref(cl);
	json_decref(kc);
	diag_list_release(&dl);
	return cl;
}

static int check_context(struct walk *w, struct vm_walk *v, json_t **cluster)
{
	struct doctor_link *l = link_of(v, DL_KUBE_CONTEXT);
	struct kubeconfig_get_request req = { .context = v->vm->name };
	struct kubeconfig_result res;
	struct err e = ERR_INIT;

	kubeconfig_result_init(&res);
	if (kubeconfig_get(&res, w->cfg, &req, &e) < 0) {
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
		doctor_fix(
			l,
			"k8s.yml publishes it after installing K3s; by hand: "
			"ssh to %s, sudo cat /etc/rancher/k3s/k3s.yaml into "
			"FILE, then pve-gitops kubeconfig publish --kubeconfig "
			"FILE --context %s --server-host %s; check that the "
			"Vault token may write %s/%s",
			v->ip, v->vm->name, v->ip, w->cfg->vault.mount,
			w->cfg->vault.path);
	} else if (!(*cluster = context_cluster(res.text.buf))) {
		doctor_set(l, DOCTOR_FAILED,
			   "context %s in %s has no cluster server",
			   v->vm->name, res.path.buf);
		doctor_fix(l, "publish the kubeconfig again (pve-gitops "
			      "kubeconfig publish)");
	} else {
		doctor_set(l, DOCTOR_OK, "context %s in %s#%s", v->vm->name,
			   res.path.buf, res.key.buf);
	}
	kubeconfig_result_release(&res);
	err_release(&e);
	return l->status == DOCTOR_OK ? 0 : -1;
}

/* The context's server completes a TLS handshake, its certificate checked
 * against the cluster's certificate-authority-data (io/tlsprobe, as
 * workloads check does). */
static int check_server(struct walk *w, struct vm_walk *v,
			const json_t *cluster)
{
	struct doctor_link *l = link_of(v, DL_KUBE_SERVER);
	const char *server =
		json_string_value(json_object_get(cluster, "server"));
	const char *ca = json_string_value(
		json_object_get(cluster, "certificate-authority-data"));
	struct strbuf shown = STRBUF_INIT;
	struct err e = ERR_INIT;

	url_redacted(&shown, server);
	if (tls_probe(server, ca,
		      (long)w->cfg->http.connect_timeout_seconds * 1000,
		      &e) == 0) {
		doctor_set(l, DOCTOR_OK, "%s completed a TLS handshake%s",
			   shown.buf,
			   ca ? " (its certificate from the cluster's CA)"
			      : "");
	} else {
		doctor_set(l, DOCTOR_FAILED, "%s", e.msg.buf);
		doctor_fix(
			l,
			"check that K3s runs on %s (systemctl status k3s) "
			"and that %s is the address it serves (the context's "
			"server is the VM's address when k8s.yml publishes "
			"it); publish it again if the address or its "
			"certificate changed",
			v->vm->name, shown.buf);
	}
	strbuf_release(&shown);
	err_release(&e);
	return l->status == DOCTOR_OK ? 0 : -1;
}

/* The workspaces of clusters_dir (NAME.yaml) whose kubernetes_context is
 * context, their names pushed to out. */
static void workspaces_of(const struct config *cfg, const char *context,
			  struct strvec *out)
{
	static const char *const none[] = { NULL };
	struct beneath root = BENEATH_INIT;
	struct strbuf path = STRBUF_INIT, buf = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct dirent *de;
	DIR *d = NULL;

	if (repo_opendir(cfg->clusters_dir, &d, &e) < 0 || !d ||
	    beneath_root(&root, ".", &e) < 0)
		goto out;
	while ((de = readdir(d))) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct workspace ws;
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' || n <= 5 ||
		    strcmp(de->d_name + n - 5, ".yaml"))
			continue;
		strbuf_setlen(&path, 0);
		strbuf_setlen(&buf, 0);
		strbuf_addf(&path, "%s/%s", cfg->clusters_dir, de->d_name);
		workspace_init(&ws);
		if (beneath_read(&root, path.buf, &buf, 1 << 20, &e) == 0)
			workspace_parse(&ws, &dl, path.buf, de->d_name, buf.buf,
					buf.len, none);
		if (ws.context && !strcmp(ws.context, context))
			strvec_pushf(out, "%.*s", (int)(n - 5), de->d_name);
		workspace_release(&ws);
		diag_list_release(&dl);
		err_clear(&e);
	}
out:
	if (d)
		closedir(d);
	beneath_release(&root);
	strbuf_release(&path);
	strbuf_release(&buf);
	err_release(&e);
}

/*
 * The workloads link: `workloads check` (ops/workloads.h) of every
 * workspace whose kubernetes_context is the VM's context. None: not
 * reached, which is no failure.
 */
static int check_workloads(struct walk *w, struct vm_walk *v)
{
	struct doctor_link *l = link_of(v, DL_WORKLOADS);
	struct strvec names = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT;
	size_t i, j;

	workspaces_of(w->cfg, v->vm->name, &names);
	if (!names.nr)
		doctor_set(l, DOCTOR_NOT_REACHED,
			   "workloads are not configured: no workspace in %s "
			   "names the context %s",
			   w->cfg->clusters_dir, v->vm->name);
	else
		doctor_set(l, DOCTOR_OK, "workspace%s",
			   names.nr == 1 ? "" : "s");
	for (i = 0; i < names.nr && l->status == DOCTOR_OK; i++) {
		struct workloads_request req = { .name = names.v[i] };
		struct workloads_result r;
		struct err e = ERR_INIT;

		workloads_result_init(&r);
		if (workloads_check(&r, w->cfg, &req, &e) < 0) {
			strbuf_setlen(&why, 0);
			if (r.diags.nr)
				diag_format(&why, &r.diags.items[0]);
			strbuf_trim(&why);
			doctor_set(l, DOCTOR_FAILED, "%s",
				   why.len ? why.buf : e.msg.buf);
			doctor_fix(l,
				   "pve-gitops workloads check %s; its "
				   "kubernetes_context must match the context "
				   "name exactly, its workloads be known ones",
				   names.v[i]);
		} else {
			for (j = 0; j < r.lines.nr; j++)
				strbuf_addf(&l->detail, "%s%s",
					    l->detail.len ? "; " : "",
					    r.lines.v[j]);
		}
		workloads_result_release(&r);
		err_release(&e);
	}
	strvec_clear(&names);
	strbuf_release(&why);
	return l->status == DOCTOR_FAILED ? -1 : 0;
}

static int check_k3s(struct walk *w, struct vm_walk *v)
{
	json_t *cluster = NULL;
	int ret = check_context(w, v, &cluster) < 0 ||
				  check_server(w, v, cluster) < 0
			  ? -1
			  : check_workloads(w, v);

	json_decref(cluster);
	return ret;
}

/* ---- the walk --------------------------------------------------------------
 */

static int walk_links(struct walk *w, struct vm_walk *v)
{
	if (check_definition(w, v) < 0 || check_credentials(w, v) < 0 ||
	    check_exists(w, v) < 0 || check_managed(v) < 0 ||
	    check_running(v) < 0 || check_digest(v) < 0 ||
	    check_pending(v) < 0 || check_inventory(w, v) < 0 ||
	    check_groups(w, v) < 0 || check_new_hosts(w, v) < 0 ||
	    check_tag(v) < 0 || check_playbook(w, v) < 0 ||
	    check_ssh(w, v) < 0 || check_known_host(w, v) < 0)
		return -1;
	return v->vm->k3s ? check_k3s(w, v) : 0;
}

/* The VM of name: a K3s VM when its groups hold k3s. */
static void walk_one(struct walk *w, struct doctor_report *out,
		     const char *name)
{
	const struct vmset *set = w->defs > 0 ? &w->rp.set : &w->bad;
	struct vm_walk v;

	memset(&v, 0, sizeof(v));
	strvec_init(&v.groups);
	v.vm = doctor_report_add(
		out, name,
		want_groups(w, name, find_def(set, name), &v.groups));
	walk_links(w, &v);
	doctor_vm_close(v.vm);
	strvec_clear(&v.groups);
	free(v.rev);
	free(v.ip);
	free(v.playbook);
}

/* The config did not load: the link says why, nothing else is reached. */
static void config_failed(const struct config *cfg,
			  const struct doctor_req *req,
			  struct doctor_report *out)
{
	struct doctor_vm *vm;
	struct strvec groups = STRVEC_INIT;
	struct walk w;
	size_t i;

	doctor_set(&out->config, DOCTOR_FAILED, "%s",
		   req->config_error ? req->config_error : "it did not load");
	doctor_fix(&out->config,
		   "fix pve-gitops.yaml (pve-gitops validate lists every "
		   "problem); nothing runs until it loads");
	if (!req->name)
		return;
	walk_init(&w, cfg, req);
	vm = doctor_report_add(out, req->name,
			       want_groups(&w, req->name, NULL, &groups));
	for (i = 0; i < vm->nr; i++)
		doctor_set(&vm->links[i], DOCTOR_NOT_REACHED,
			   "the configuration did not load");
	strvec_clear(&groups);
	walk_release(&w);
}

int doctor_run(const struct config *cfg, const struct doctor_req *req,
	       struct doctor_report *out, struct err *e)
{
	const struct vmset *set;
	struct walk w;
	size_t i;

	if (req->config_failed) {
		config_failed(cfg, req, out);
		return 0;
	}
	doctor_set(&out->config, DOCTOR_OK, "loaded with %zu warning%s",
		   req->config_warnings, req->config_warnings == 1 ? "" : "s");
	walk_init(&w, cfg, req);
	read_defs(&w);
	set = w.defs > 0 ? &w.rp.set : &w.bad;
	if (!req->name && w.defs < 0 && !set->nr) {
		/* not even a definition to walk: why is the error */
		struct err tmp = *e;

		*e = w.defs_err;
		e->exit_code = EXIT_FAIL; /* doctor's failures are 1 */
		w.defs_err = tmp;
		walk_release(&w);
		return -1;
	}
	if (req->name)
		walk_one(&w, out, req->name);
	for (i = 0; !req->name && i < set->nr; i++) {
		const struct vmdef *d = &set->items[i];
		struct strbuf base = STRBUF_INIT;

		if (cfg->only_cluster && config_multi_cluster(cfg) &&
		    strcmp(d->cluster ? d->cluster : CONFIG_DEFAULT_CLUSTER,
			   cfg->only_cluster))
			continue; /* --cluster: another cluster's */
		if (!d->name)	  /* a definition with no name: its file's */
			strbuf_add(&base, base_of(d->file),
				   strcspn(base_of(d->file), "."));
		walk_one(&w, out, d->name ? d->name : base.buf);
		strbuf_release(&base);
	}
	walk_release(&w);
	return 0;
}
