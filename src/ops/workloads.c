/*
 * workloads.c - check, render and apply the workspaces of clusters_dir;
 * see workloads.h.
 */
#include "ops/workloads.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/inventory.h"
#include "core/kubeconfig.h"
#include "core/workspace.h"
#include "core/yemit.h"
#include "io/filetxn.h"
#include "io/git.h"
#include "io/repo.h"
#include "io/terraform.h"
#include "io/tlsprobe.h"
#include "ops/kubeconfig.h"
#include "util/beneath.h"
#include "util/exitcode.h"
#include "util/fileio.h"
#include "util/sigclean.h"
#include "util/xalloc.h"

#define WORKSPACE_MAX_SIZE (1024 * 1024)
#define K3S_GROUP	   "k3s"

struct wsset {
	struct workspace *v;
	size_t nr, alloc;
};

static void wsset_release(struct wsset *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		workspace_release(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void workloads_result_init(struct workloads_result *r)
{
	r->diags = (struct diag_list)DIAG_LIST_INIT;
	strvec_init(&r->lines);
	r->changed = 0;
}

void workloads_result_release(struct workloads_result *r)
{
	diag_list_release(&r->diags);
	strvec_clear(&r->lines);
	workloads_result_init(r);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The workspace names: one (checked), or every NAME.yaml of the dir. */
static int list_names(struct strvec *out, const struct config *cfg,
		      const char *one, struct err *e)
{
	struct strbuf why = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	if (one) {
		if (workspace_name_check(one, &why) < 0) {
			err_setk(e, ERR_INVALID, EXIT_INVALID, "'%s': %s", one,
				 why.buf);
			strbuf_release(&why);
			return -1;
		}
		strvec_push(out, one);
		return 0;
	}
	if (repo_opendir(cfg->clusters_dir, &d, e) < 0)
		return -1;
	if (!d)
		return err_setk(e, ERR_NOTFOUND, EXIT_INVALID,
				"no workspaces: '%s' does not exist (set "
				"clusters_dir in %s)",
				cfg->clusters_dir, CONFIG_FILE_NAME);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] != '.' && n > 5 &&
		    !strcmp(de->d_name + n - 5, ".yaml"))
			strvec_pushf(out, "%.*s", (int)(n - 5), de->d_name);
	}
	closedir(d);
	qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
	if (!out->nr)
		return err_setk(e, ERR_NOTFOUND, EXIT_INVALID,
				"no workspaces: '%s' has no NAME.yaml file",
				cfg->clusters_dir);
	return 0;
}

/* Read and decode path into the next entry of set; 1 when it does not
 * exist (nothing added), else 0 (its problems in dl). */
static int load_one(struct wsset *set, struct diag_list *dl,
		    const struct beneath *root, const char *path,
		    const char *name, const char *const *known)
{
	struct strbuf buf = STRBUF_INIT;
	struct err e = ERR_INIT;
	struct workspace *ws;
	int ret = 0, rc;

	rc = beneath_read(root, path, &buf, WORKSPACE_MAX_SIZE, &e);
	if (rc < 0 && err_is(&e, ERR_NOTFOUND)) {
		ret = 1;
		goto out;
	}
	ALLOC_GROW(set->v, set->nr + 1, set->alloc);
	ws = &set->v[set->nr++];
	if (rc < 0) {
		workspace_init(ws);
		ws->file = xstrdup(path);
		ws->name = xstrdup(name);
		if (err_is(&e, ERR_TOOLARGE))
			diag_add(dl, DIAG_ERROR, path, 1, 1,
				 "the file is larger than the limit of %d "
				 "bytes",
				 WORKSPACE_MAX_SIZE);
		else
			diag_add(dl, DIAG_ERROR, path, 0, 0, "%s", e.msg.buf);
	} else {
		workspace_parse(ws, dl, path, name, buf.buf, buf.len, known);
	}
out:
	err_release(&e);
	strbuf_release(&buf);
	return ret;
}

/* The names of the K3s VMs of the repository: the contexts published. */
static void k3s_names(struct strvec *out, const struct config *cfg)
{
	struct vmset set = VMSET_INIT;
	struct diag_list quiet = DIAG_LIST_INIT;
	struct repo_load rl = REPO_LOAD_INIT;
	struct inv_rules rules = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct err e = ERR_INIT;
	size_t i, j;

	if (repo_load_vms(&set, &quiet, &rl, cfg, NULL, 0, &e) < 0 ||
	    inv_rules_compile(&rules, cfg, &why) < 0)
		goto out;
	for (i = 0; i < set.nr; i++) {
		const struct vmdef *vm = &set.items[i];
		const char *g =
			vm->name ? inv_rules_match(&rules, vm->name) : NULL;
		bool k3s = g && !strcmp(g, K3S_GROUP);

		for (j = 0; vm->name && j < vm->ansible_groups.nr; j++)
			k3s |= !strcmp(vm->ansible_groups.v[j], K3S_GROUP);
		if (k3s)
			strvec_push(out, vm->name);
	}
out:
	inv_rules_release(&rules);
	strbuf_release(&why);
	err_release(&e);
	repo_load_release(&rl);
	diag_list_release(&quiet);
	vmset_release(&set);
}

static void known_workloads(struct strvec *out, const struct config *cfg)
{
	size_t i;

	for (i = 0; workspace_default_workloads[i]; i++)
		strvec_push(out, workspace_default_workloads[i]);
	for (i = 0; i < cfg->workloads.more.nr; i++)
		strvec_push(out, cfg->workloads.more.v[i]);
}

static int file_errors(struct workloads_result *r, struct err *e)
{
	diag_list_sort(&r->diags);
	return err_setk(e, ERR_INVALID, EXIT_INVALID,
			"%zu error%s in the workspace files; nothing was done",
			r->diags.errors, r->diags.errors == 1 ? "" : "s");
}

/* Load, decode and cross-check the workspaces asked for. */
static int load(struct wsset *set, struct workloads_result *r,
		const struct config *cfg, const char *one, struct err *e)
{
	struct strvec names = STRVEC_INIT, known = STRVEC_INIT;
	struct strvec k3s = STRVEC_INIT;
	struct beneath root = BENEATH_INIT;
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = -1;

	if (list_names(&names, cfg, one, e) < 0 ||
	    beneath_root(&root, ".", e) < 0)
		goto out;
	known_workloads(&known, cfg);
	for (i = 0; i < names.nr; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%s.yaml", cfg->clusters_dir, names.v[i]);
		if (load_one(set, &r->diags, &root, path.buf, names.v[i],
			     (const char *const *)known.v) == 1) {
			/* only a name asked for can be missing */
			err_setk(e, ERR_NOTFOUND, EXIT_INVALID,
				 "no workspace '%s': %s does not exist",
				 names.v[i], path.buf);
			goto out;
		}
	}
	k3s_names(&k3s, cfg);
	workspace_check_contexts(&r->diags, set->v, set->nr, &k3s);
	ret = r->diags.errors ? file_errors(r, e) : 0;
out:
	strvec_clear(&names);
	strvec_clear(&known);
	strvec_clear(&k3s);
	strbuf_release(&path);
	beneath_release(&root);
	return ret;
}

int workloads_validate(struct diag_list *dl, size_t *nr,
		       const struct config *cfg, struct err *e)
{
	struct workloads_result r;
	struct wsset set = { 0 };
	int ret;

	workloads_result_init(&r);
	ret = load(&set, &r, cfg, NULL, e);
	/* no workspaces is no error here; wrong ones are in the diags */
	if (ret < 0 &&
	    (err_is(e, ERR_INVALID) || (err_is(e, ERR_NOTFOUND) && !set.nr))) {
		err_clear(e);
		ret = 0;
	}
	*nr = set.nr;
	diag_list_move(dl, &r.diags);
	wsset_release(&set);
	workloads_result_release(&r);
	return ret;
}

/* ---- the kubeconfig in Vault ------------------------------------------- */

static int vault_kubeconfig(json_t **kc, struct strbuf *where,
			    struct workloads_result *r,
			    const struct config *cfg, struct err *e)
{
	struct kubeconfig_get_request req;
	struct kubeconfig_result kr;
	int ret = -1;

	memset(&req, 0, sizeof(req));
	kubeconfig_result_init(&kr);
	if (kubeconfig_get(&kr, cfg, &req, e) < 0) {
		diag_list_move(&r->diags, &kr.diags);
		err_prefix(e, "cannot read the kubeconfig from Vault");
		goto out;
	}
	strbuf_addf(where, "vault:%s#%s", kr.path.buf, kr.key.buf);
	if (kubeconfig_parse(kc, &r->diags, where->buf, kr.text.buf,
			     kr.text.len) < 0) {
		err_setk(e, ERR_INVALID, EXIT_FAIL,
			 "the kubeconfig in %s cannot be read", where->buf);
		goto out;
	}
	ret = 0;
out:
	kubeconfig_result_release(&kr);
	return ret;
}

/* The context of ws from kc (new reference), or a diagnostic at its line. */
static json_t *context_of(struct workloads_result *r, const json_t *kc,
			  const char *where, const struct workspace *ws)
{
	struct strvec names = STRVEC_INIT;
	struct strbuf list = STRBUF_INIT;
	json_t *one = kubeconfig_select(kc, ws->context);
	size_t i;

	if (one)
		return one;
	kubeconfig_context_names(kc, &names);
	for (i = 0; i < names.nr; i++)
		strbuf_addf(&list, "%s%s", i ? ", " : "", names.v[i]);
	diag_add(&r->diags, DIAG_ERROR, ws->file, ws->context_line,
		 ws->context_col,
		 "kubernetes_context: context '%s' is not in the kubeconfig "
		 "in %s (there: %s); publish it (the K3s playbook's "
		 "`pve-gitops kubeconfig publish`) or fix the name",
		 ws->context, where, list.len ? list.buf : "none");
	strvec_clear(&names);
	strbuf_release(&list);
	return NULL;
}

/* The context's server answers a TLS handshake; else a diagnostic. */
static void probe_server(struct workloads_result *r, const struct config *cfg,
			 const struct workspace *ws, const json_t *one)
{
	const json_t *cl = json_object_get(
		json_array_get(json_object_get(one, "clusters"), 0), "cluster");
	const char *server = json_string_value(json_object_get(cl, "server"));
	const char *ca = json_string_value(
		json_object_get(cl, "certificate-authority-data"));
	struct err e = ERR_INIT;

	if (!server)
		diag_add(&r->diags, DIAG_ERROR, ws->file, ws->context_line,
			 ws->context_col,
			 "kubernetes_context: context '%s' has no server",
			 ws->context);
	else if (tls_probe(server, ca,
			   (long)cfg->http.connect_timeout_seconds * 1000,
			   &e) < 0)
		diag_add(&r->diags, DIAG_ERROR, ws->file, ws->context_line,
			 ws->context_col,
			 "kubernetes_context: the server of context '%s': %s",
			 ws->context, e.msg.buf);
	else
		strvec_pushf(&r->lines,
			     "%s: context %s, server %s answers TLS; %zu "
			     "workload%s",
			     ws->name, ws->context, server, ws->workloads.nr,
			     ws->workloads.nr == 1 ? "" : "s");
	err_release(&e);
}

int workloads_check(struct workloads_result *r, const struct config *cfg,
		    const struct workloads_request *req, struct err *e)
{
	struct wsset set = { 0 };
	struct strbuf where = STRBUF_INIT;
	json_t *kc = NULL, *one;
	size_t i;
	int ret = -1;

	if (load(&set, r, cfg, req->name, e) < 0 ||
	    vault_kubeconfig(&kc, &where, r, cfg, e) < 0)
		goto out;
	for (i = 0; i < set.nr; i++) {
		if (!(one = context_of(r, kc, where.buf, &set.v[i])))
			continue;
		probe_server(r, cfg, &set.v[i], one);
		json_decref(one);
	}
	ret = r->diags.errors ? file_errors(r, e) : 0;
out:
	json_decref(kc);
	strbuf_release(&where);
	wsset_release(&set);
	return ret;
}

/* ---- render ------------------------------------------------------------- */

static void tfvars_path(struct strbuf *out, const struct config *cfg,
			const struct workspace *ws)
{
	strbuf_reset(out);
	strbuf_addf(out, "%s/%s.auto.tfvars.json", cfg->clusters_dir, ws->name);
}

/* Write (or with dry_run, diff) the tfvars of every workspace of set. */
static int render_set(struct workloads_result *r, const struct config *cfg,
		      const struct wsset *set, bool dry_run, struct err *e)
{
	struct filetxn txn;
	struct strbuf path = STRBUF_INIT;
	struct filetxn_file *f;
	size_t i;
	int ret = -1;

	filetxn_init(&txn);
	for (i = 0; i < set->nr; i++) {
		tfvars_path(&path, cfg, &set->v[i]);
		if (!(f = filetxn_add(&txn, path.buf, WORKSPACE_MAX_SIZE, e)))
			goto out;
		workspace_render(&f->new, &set->v[i]);
		strvec_pushf(&r->lines, "%s: %s", path.buf,
			     !filetxn_file_changes(f) ? "unchanged"
			     : dry_run		      ? "would be written"
						      : "written");
	}
	r->changed = filetxn_changes(&txn);
	if (dry_run && r->changed &&
	    (filetxn_stage(&txn, cfg->env ? cfg->env->tmpdir : NULL,
			   "pve-gitops-workloads", e) < 0 ||
	     filetxn_diff(&txn, e) < 0))
		goto out;
	if (!dry_run && r->changed && filetxn_commit(&txn, 0644, e) < 0)
		goto out;
	ret = 0;
out:
	filetxn_release(&txn);
	strbuf_release(&path);
	return ret;
}

int workloads_render(struct workloads_result *r, const struct config *cfg,
		     const struct workloads_request *req, struct err *e)
{
	struct wsset set = { 0 };
	int ret = -1;

	if (load(&set, r, cfg, req->name, e) == 0)
		ret = render_set(r, cfg, &set, req->dry_run, e);
	wsset_release(&set);
	return ret;
}

/* ---- apply -------------------------------------------------------------- */

/* One Terraform step; a failure's status becomes e's exit code. */
static int step(const char *prog, const struct config *cfg,
		const char *const *args, const char *kubeconfig,
		const char *what, struct err *e)
{
	int status = 0;

	if (terraform_run(prog, cfg->clusters_dir, args, kubeconfig, &status,
			  e) < 0)
		return err_prefix(e, "cannot run %s %s", prog, what);
	if (!status)
		return 0;
	return err_setk(e, ERR_CHILD, status, "%s %s exited with status %d",
			prog, what, status);
}

/* The private directory and the one-context kubeconfig in it. */
struct scratch {
	struct strbuf dir, file;
};

static int scratch_write(struct scratch *s, const struct config *cfg,
			 const json_t *one, struct err *e)
{
	const char *tmp = cfg->env && cfg->env->tmpdir && *cfg->env->tmpdir
				  ? cfg->env->tmpdir
				  : "/tmp";
	struct strbuf text = STRBUF_INIT;
	int ret = -1;

	strbuf_addf(&s->dir, "%s/pve-gitops-kube.XXXXXX", tmp);
	if (!mkdtemp(s->dir.buf)) {
		err_errno(e, errno, "cannot make a directory in '%s'", tmp);
		strbuf_reset(&s->dir);
		goto out;
	}
	strbuf_addf(&s->file, "%s/kubeconfig", s->dir.buf);
	if (sigclean_arm(s->file.buf, s->dir.buf) < 0) {
		err_set(e, EXIT_FAIL, "the path '%s' is too long", s->dir.buf);
		goto out;
	}
	yemit(&text, one);
	ret = file_write_scratch(s->file.buf, text.buf, text.len, e);
out:
	strbuf_wipe(&text);
	return ret;
}

static void scratch_remove(struct scratch *s)
{
	if (s->file.len)
		unlink(s->file.buf);
	if (s->dir.len)
		rmdir(s->dir.buf);
	sigclean_disarm();
	strbuf_release(&s->dir);
	strbuf_release(&s->file);
}

static int apply_one(struct workloads_result *r, const struct config *cfg,
		     const char *prog, const struct workspace *ws,
		     const json_t *one, bool plan, struct err *e)
{
	struct scratch s = { STRBUF_INIT, STRBUF_INIT };
	struct strbuf var = STRBUF_INIT, what = STRBUF_INIT;
	const char *select[] = { "workspace", "select", "-or-create", ws->name,
				 NULL };
	const char *run_plan[] = { "plan", "-input=false", NULL, NULL };
	const char *run_apply[] = { "apply", "-input=false", "-auto-approve",
				    NULL, NULL };
	int ret = -1;

	strbuf_addf(&var, "-var-file=%s.auto.tfvars.json", ws->name);
	run_plan[2] = run_apply[3] = var.buf;
	strbuf_addf(&what, "workspace select %s", ws->name);
	if (scratch_write(&s, cfg, one, e) < 0 ||
	    step(prog, cfg, select, s.file.buf, what.buf, e) < 0)
		goto out;
	strbuf_reset(&what);
	strbuf_addf(&what, "%s (workspace %s)", plan ? "plan" : "apply",
		    ws->name);
	if (step(prog, cfg, plan ? run_plan : run_apply, s.file.buf, what.buf,
		 e) < 0)
		goto out;
	strvec_pushf(&r->lines, "%s: %s %s done (context %s)", ws->name, prog,
		     plan ? "plan" : "apply", ws->context);
	ret = 0;
out:
	scratch_remove(&s);
	strbuf_release(&var);
	strbuf_release(&what);
	return ret;
}

/* The context of every workspace, in set's order (NULL-free on 0). */
static int contexts(json_t **out, struct workloads_result *r,
		    const struct config *cfg, const struct wsset *set,
		    struct err *e)
{
	struct strbuf where = STRBUF_INIT;
	json_t *kc = NULL;
	size_t i;
	int ret = -1;

	if (vault_kubeconfig(&kc, &where, r, cfg, e) < 0)
		goto out;
	for (i = 0; i < set->nr; i++)
		out[i] = context_of(r, kc, where.buf, &set->v[i]);
	ret = r->diags.errors ? file_errors(r, e) : 0;
out:
	json_decref(kc);
	strbuf_release(&where);
	return ret;
}

/* Render, then Terraform's steps for every workspace of set. */
static int apply_set(struct workloads_result *r, const struct config *cfg,
		     const struct wsset *set, bool plan, struct err *e)
{
	static const char *const init[] = { "init", "-input=false", NULL };
	json_t **ctx = NULL;
	const char *prog;
	size_t i;
	int ret = -1;

	if (terraform_find(&prog, cfg, e) < 0)
		return -1;
	ctx = xcalloc(set->nr ? set->nr : 1, sizeof(*ctx));
	if (contexts(ctx, r, cfg, set, e) < 0 ||
	    render_set(r, cfg, set, false, e) < 0 ||
	    step(prog, cfg, init, NULL, "init", e) < 0)
		goto out;
	for (i = 0; i < set->nr; i++)
		if (apply_one(r, cfg, prog, &set->v[i], ctx[i], plan, e) < 0)
			goto out;
	ret = 0;
out:
	for (i = 0; i < set->nr; i++)
		json_decref(ctx[i]);
	free(ctx);
	return ret;
}

int workloads_apply(struct workloads_result *r, const struct config *cfg,
		    const struct workloads_request *req, struct err *e)
{
	struct wsset set = { 0 };
	int ret = -1;

	if (load(&set, r, cfg, req->name, e) == 0)
		ret = apply_set(r, cfg, &set, req->plan, e);
	wsset_release(&set);
	return ret;
}

/* Keep the workspaces of set that rev changed or whose context is in
 * published; the others are released. */
static int chain_select(struct wsset *set, const char *rev,
			const struct strvec *published, struct err *e)
{
	size_t i, j, kept = 0;
	int rc = 0;

	for (i = 0; i < set->nr; i++) {
		struct workspace *ws = &set->v[i];
		bool want = false;

		for (j = 0; published && j < published->nr; j++)
			want |= !strcmp(published->v[j], ws->context);
		if (!want && (rc = git_commit_touches(rev, ws->file, e)) < 0)
			break;
		if (want || rc)
			set->v[kept++] = *ws;
		else
			workspace_release(ws);
	}
	for (; i < set->nr; i++)
		workspace_release(&set->v[i]);
	set->nr = kept;
	return rc < 0 ? -1 : 0;
}

int workloads_chain_apply(struct workloads_result *r, const struct config *cfg,
			  const char *rev, const struct strvec *published,
			  struct err *e)
{
	struct wsset set = { 0 };
	DIR *d = NULL;
	int ret = -1;

	if (!cfg->workloads.chain)
		return 0;
	if (repo_opendir(cfg->clusters_dir, &d, e) < 0)
		return -1;
	if (!d)
		return 0; /* no clusters_dir: no workspaces */
	closedir(d);
	if (load(&set, r, cfg, NULL, e) < 0) {
		if (err_is(e, ERR_NOTFOUND)) { /* no NAME.yaml */
			err_clear(e);
			ret = 0;
		}
		goto out;
	}
	if (chain_select(&set, rev, published, e) < 0)
		goto out;
	ret = set.nr ? apply_set(r, cfg, &set, false, e) : 0;
out:
	wsset_release(&set);
	return ret;
}
