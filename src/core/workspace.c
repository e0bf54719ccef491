/*
 * workspace.c - clusters_dir/NAME.yaml decoded, checked and rendered as
 * NAME.auto.tfvars.json; see workspace.h.
 */
#include "core/workspace.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/suggest.h"
#include "core/ydecode.h"
#include "util/xalloc.h"

const char *const workspace_default_workloads[] = {
	"externaldns",
	"cert_manager",
	"external_secrets",
	"observability",
	"argocd",
	"istio",
	NULL,
};

#define WS(t) ((struct workspace *)(t))

void workspace_init(struct workspace *ws)
{
	memset(ws, 0, sizeof(*ws));
	strvec_init(&ws->workloads);
}

void workspace_release(struct workspace *ws)
{
	free(ws->file);
	free(ws->name);
	free(ws->context);
	strvec_clear(&ws->workloads);
	json_decref(ws->config);
	workspace_init(ws);
}

int workspace_name_check(const char *name, struct strbuf *why)
{
	size_t n = strlen(name);

	if (n && n <= 64 && name[0] != '-' && name[0] != '_' &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == n)
		return 0;
	strbuf_addstr(why, "a workspace name is 1 to 64 letters, digits, '-' "
			   "and '_', starting with a letter or digit");
	return -1;
}

/* A context name: 1-253 printable characters, no spaces (as publish's). */
static int check_context(const char *s, struct strbuf *why)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			break;
	if (i && !s[i] && i <= 253)
		return 0;
	strbuf_addstr(why, "a context name is 1 to 253 characters without "
			   "spaces or control characters");
	return -1;
}

static int w_context(struct ydecoder *d, void *t, const struct ynode *k,
		     const struct ynode *v, const char *path)
{
	(void)k;
	WS(t)->context_line = v->line;
	WS(t)->context_col = v->col;
	return yd_checked_string(d, v, path, &WS(t)->context, check_context);
}

static bool listed(const char *const *list, const char *s, size_t len)
{
	for (; *list; list++)
		if (strlen(*list) == len && !memcmp(*list, s, len))
			return true;
	return false;
}

/* One entry of workloads: a known name, not given before. */
static int one_workload(struct ydecoder *d, struct workspace *ws,
			const struct ynode *n, const char *path,
			const char *const *known)
{
	struct strbuf shown = STRBUF_INIT;
	const char *near;
	size_t i;
	int ret = -1;

	if (n->kind != YNODE_SCALAR || n->stype != YS_STR) {
		yd_error(d, n, path, "expected a workload name, got %s",
			 ynode_describe(n));
		return -1;
	}
	yd_shown(&shown, n->str, n->len, 64);
	if (!listed(known, n->str, n->len)) {
		near = suggest_nearest(n->str, n->len, known);
		if (near)
			yd_error(d, n, path,
				 "unknown workload '%s'; did you mean '%s'?",
				 shown.buf, near);
		else
			yd_error(d, n, path,
				 "unknown workload '%s' (known: the seed's "
				 "modules and the config's workload_modules)",
				 shown.buf);
		goto out;
	}
	for (i = 0; i < ws->workloads.nr; i++)
		if (!strcmp(ws->workloads.v[i], n->str)) {
			yd_error(d, n, path, "workload '%s' is listed twice",
				 shown.buf);
			goto out;
		}
	strvec_push(&ws->workloads, n->str);
	ret = 0;
out:
	strbuf_release(&shown);
	return ret;
}

struct wsdecode {
	struct workspace *ws;
	const char *const *known;
};

static int w_workloads(struct ydecoder *d, void *t, const struct ynode *k,
		       const struct ynode *v, const char *path)
{
	struct wsdecode *x = t;
	struct strbuf p = STRBUF_INIT;
	size_t i;
	int ret = 0;

	(void)k;
	if (v->kind != YNODE_SEQ || !v->nr) {
		yd_error(d, v, path,
			 "expected a list of one or more workload names, got "
			 "%s",
			 v->kind == YNODE_SEQ ? "an empty list"
					      : ynode_describe(v));
		return -1;
	}
	for (i = 0; i < v->nr; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		if (one_workload(d, x->ws, v->kids[i], p.buf, x->known) < 0)
			ret = -1;
	}
	strbuf_release(&p);
	return ret;
}

/* ---- the free-form config, as JSON -------------------------------------- */

struct conv {
	struct ydecoder *d;
	size_t values;
};

static json_t *to_json(struct conv *c, const struct ynode *n, const char *path);

static json_t *scalar_json(struct conv *c, const struct ynode *n,
			   const char *path)
{
	long long ll;
	double dv;
	char *end;

	switch (n->stype) {
	case YS_NULL:
		return json_null();
	case YS_BOOL:
		return json_boolean(n->bval);
	case YS_INT:
		errno = 0;
		ll = strtoll(n->str, &end, 0);
		if (!errno && !*end && end != n->str)
			return json_integer(ll);
		yd_error(c->d, n, path,
			 "integer out of range (write it in quotes for a "
			 "string)");
		return NULL;
	case YS_FLOAT:
		dv = strtod(n->str, &end);
		if (!*end && isfinite(dv))
			return json_real(dv);
		yd_error(c->d, n, path,
			 "%s has no JSON form (write it in quotes for a "
			 "string)",
			 n->str);
		return NULL;
	case YS_STR:
		break;
	}
	return json_stringn(n->str, n->len);
}

static json_t *seq_json(struct conv *c, const struct ynode *n, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	json_t *v = json_array(), *kid;
	size_t i;

	for (i = 0; i < n->nr; i++) {
		strbuf_reset(&p);
		strbuf_addf(&p, "%s[%zu]", path, i);
		if (!(kid = to_json(c, n->kids[i], p.buf))) {
			json_decref(v);
			v = NULL;
			break;
		}
		json_array_append_new(v, kid);
	}
	strbuf_release(&p);
	return v;
}

static json_t *map_json(struct conv *c, const struct ynode *n, const char *path)
{
	struct strbuf p = STRBUF_INIT;
	json_t *v = json_object(), *kid;
	size_t i;

	for (i = 0; v && i < ymap_size(n); i++) {
		const struct ynode *k = ymap_key(n, i), *val = ymap_value(n, i);

		if (k->kind != YNODE_SCALAR || strlen(k->str) != k->len ||
		    !k->len) {
			yd_error(c->d, k, path,
				 "a key must be a non-empty string");
			goto fail;
		}
		strbuf_reset(&p);
		yd_path(&p, path, k->str);
		if (!(kid = to_json(c, val, p.buf)))
			goto fail;
		json_object_set_new(v, k->str, kid);
		continue;
	fail:
		json_decref(v);
		v = NULL;
	}
	strbuf_release(&p);
	return v;
}

/* Aliases point at their anchor's node: count what they expand to. */
static json_t *to_json(struct conv *c, const struct ynode *n, const char *path)
{
	if (++c->values > WORKSPACE_MAX_VALUES) {
		if (c->values == WORKSPACE_MAX_VALUES + 1)
			yd_error(c->d, n, path,
				 "config holds more than %d values (aliases "
				 "count as what they expand to)",
				 WORKSPACE_MAX_VALUES);
		return NULL;
	}
	if (n->kind == YNODE_SCALAR)
		return scalar_json(c, n, path);
	if (n->kind == YNODE_SEQ)
		return seq_json(c, n, path);
	return map_json(c, n, path);
}

static int w_config(struct ydecoder *d, void *t, const struct ynode *k,
		    const struct ynode *v, const char *path)
{
	struct wsdecode *x = t;
	struct conv c = { d, 0 };
	size_t i;

	(void)k;
	if (v->kind != YNODE_MAP) {
		yd_error(d, v, path, "expected a mapping, got %s",
			 ynode_describe(v));
		return -1;
	}
	for (i = 0; i < ymap_size(v); i++) {
		const struct ynode *key = ymap_key(v, i);

		if (key->kind == YNODE_SCALAR &&
		    !strcmp(key->str, "kubernetes_context")) {
			yd_error(d, key, path,
				 "kubernetes_context belongs at the top of "
				 "the file, not in config");
			return -1;
		}
	}
	json_decref(x->ws->config);
	x->ws->config = to_json(&c, v, path);
	return x->ws->config ? 0 : -1;
}

static int ws_context(struct ydecoder *d, void *t, const struct ynode *k,
		      const struct ynode *v, const char *path)
{
	return w_context(d, ((struct wsdecode *)t)->ws, k, v, path);
}

static const struct yd_field workspace_fields[] = {
	{ "kubernetes_context", ws_context, 0,
	  YD_REQUIRED("kubeconfig context of the cluster: the name of a K3s "
		      "VM (kubeconfig merge names contexts after them)",
		      NULL) },
	{ "workloads",
	  w_workloads,
	  0,
	  { YT_LIST,
	    "workloads to install, each once: the seed's modules "
	    "and those workload_modules adds",
	    NULL, workspace_default_workloads, 1, 0, NULL, NULL, NULL, 1 } },
	{ "config", w_config, 0,
	  YD_DOC(YT_DICT,
		 "settings per workload (WORKLOAD: {variable: value}), "
		 "passed to its module",
		 "{}") },
	{ NULL, NULL, 0, { 0 } },
};

const struct yd_field *workspace_fields_doc(void)
{
	return workspace_fields;
}

int workspace_decode(struct workspace *out, struct diag_list *dl,
		     const char *file, const char *name,
		     const struct ynode *root, const char *const *known)
{
	struct ydecoder d = { dl, file, 0 };
	struct wsdecode x = { out, known };
	struct strbuf why = STRBUF_INIT;
	int ret = 0;

	workspace_init(out);
	out->file = xstrdup(file);
	out->name = xstrdup(name);
	if (workspace_name_check(name, &why) < 0) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "%s", why.buf);
		ret = -1;
	}
	strbuf_release(&why);
	if (!root || (root->kind == YNODE_SCALAR && root->stype == YS_NULL)) {
		diag_add(dl, DIAG_ERROR, file, 1, 1,
			 "an empty workspace: kubernetes_context and "
			 "workloads are required");
		return -1;
	}
	if (yd_map(&d, root, "", workspace_fields, &x) < 0)
		return -1;
	if (!out->context)
		yd_error(&d, root, "", "kubernetes_context is required");
	if (!out->workloads.nr)
		yd_error(&d, root, "", "workloads is required");
	if (!out->config)
		out->config = json_object();
	return ret < 0 || d.errors ? -1 : 0;
}

int workspace_parse(struct workspace *out, struct diag_list *dl,
		    const char *file, const char *name, const char *buf,
		    size_t len, const char *const *known)
{
	struct ytree tree = YTREE_INIT;
	int ret;

	if (ytree_parse(&tree, dl, file, buf, len) < 0) {
		workspace_init(out);
		out->file = xstrdup(file);
		out->name = xstrdup(name);
		ytree_release(&tree);
		return -1;
	}
	ret = workspace_decode(out, dl, file, name, tree.root, known);
	ytree_release(&tree);
	return ret;
}

size_t workspace_check_contexts(struct diag_list *dl,
				const struct workspace *ws, size_t nr,
				const struct strvec *k3s)
{
	size_t i, j, bad = 0;

	for (i = 0; i < nr; i++) {
		const char *c = ws[i].context, *near;

		if (!c)
			continue;
		for (j = 0; j < k3s->nr; j++)
			if (!strcmp(k3s->v[j], c))
				break;
		if (j < k3s->nr)
			continue;
		bad++;
		near = suggest_nearest(c, strlen(c),
				       (const char *const *)k3s->v);
		if (near)
			diag_add(dl, DIAG_ERROR, ws[i].file, ws[i].context_line,
				 ws[i].context_col,
				 "kubernetes_context: no K3s VM of the "
				 "repository publishes context '%s'; did you "
				 "mean '%s'?",
				 c, near);
		else
			diag_add(dl, DIAG_ERROR, ws[i].file, ws[i].context_line,
				 ws[i].context_col,
				 "kubernetes_context: no K3s VM of the "
				 "repository publishes context '%s' (a VM "
				 "definition named so, in the k3s group)",
				 c);
	}
	return bad;
}

void workspace_render(struct strbuf *out, const struct workspace *ws)
{
	json_t *list = json_array(), *obj = json_object(), *root;
	const char *key;
	json_t *val;
	char *text;
	size_t i;

	for (i = 0; i < ws->workloads.nr; i++)
		json_array_append_new(list, json_string(ws->workloads.v[i]));
	json_object_set_new(obj, "kubernetes_context",
			    json_string(ws->context ? ws->context : ""));
	json_object_foreach(ws->config, key, val)
	{
		json_object_set(obj, key, val);
	}
	root = json_pack("{s:{s:o}, s:{s:o}}", "workload", ws->name, list,
			 "config", ws->name, obj);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	strbuf_addstr(out, text);
	strbuf_addch(out, '\n');
	free(text);
	json_decref(root);
}
