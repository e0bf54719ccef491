/*
 * kubeconfig.c - kubeconfigs as JSON, checked, and merged; see
 * kubeconfig.h.
 */
#include "core/kubeconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ytree.h"
#include "util/xalloc.h"

/* ---- YAML to JSON ------------------------------------------------------- */

static json_t *scalar_json(const struct ynode *n)
{
	char *end;

	switch (n->stype) {
	case YS_NULL:
		return json_null();
	case YS_BOOL:
		return json_boolean(n->bval);
	case YS_INT: {
		long long v;

		errno = 0;
		v = strtoll(n->str, &end, 0);
		if (!errno && !*end)
			return json_integer(v);
		break;
	}
	case YS_FLOAT: {
		double d = strtod(n->str, &end);

		if (!*end)
			return json_real(d);
		break;
	}
	case YS_STR:
		break;
	}
	return json_stringn(n->str, n->len);
}

/* The conversion's budget: aliases are expanded here, so count. */
struct conv {
	struct diag_list *dl;
	const char *file;
	size_t nodes, text;
};

/* An alias points back at a node defined earlier than its own place. */
static int before(const struct ynode *a, const struct ynode *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* Count n against the budget; via is where the alias that brought it
 * here is used (NULL: not through an alias). */
static int spend(struct conv *c, const struct ynode *n, const struct ynode *via)
{
	const struct ynode *at = via ? via : n;

	c->nodes++;
	if (n->kind == YNODE_SCALAR)
		c->text += n->len;
	if (c->nodes <= KUBECONFIG_MAX_NODES && c->text <= KUBECONFIG_MAX_TEXT)
		return 0;
	diag_add(c->dl, DIAG_ERROR, c->file, at->line, at->col,
		 "aliases expand the kubeconfig past %s (a kubeconfig holds "
		 "at most %d values and %d bytes of text)",
		 c->nodes > KUBECONFIG_MAX_NODES ? "the value limit"
						 : "the text limit",
		 KUBECONFIG_MAX_NODES, KUBECONFIG_MAX_TEXT);
	return -1;
}

static json_t *to_json(struct conv *c, const struct ynode *n,
		       const struct ynode *via);

static const struct ynode *via_of(const struct ynode *via,
				  const struct ynode *parent,
				  const struct ynode *kid)
{
	return via ? via : before(kid, parent) ? parent : NULL;
}

static json_t *seq_json(struct conv *c, const struct ynode *n,
			const struct ynode *via)
{
	json_t *v = json_array(), *kid;
	size_t i;

	for (i = 0; i < n->nr; i++) {
		if (!(kid = to_json(c, n->kids[i],
				    via_of(via, n, n->kids[i])))) {
			json_decref(v);
			return NULL;
		}
		json_array_append_new(v, kid);
	}
	return v;
}

static json_t *map_json(struct conv *c, const struct ynode *n,
			const struct ynode *via)
{
	json_t *v = json_object(), *kid;
	size_t i;

	for (i = 0; i < ymap_size(n); i++) {
		const struct ynode *k = ymap_key(n, i), *val = ymap_value(n, i);

		if (k->kind != YNODE_SCALAR || strlen(k->str) != k->len) {
			diag_add(c->dl, DIAG_ERROR, c->file, k->line, k->col,
				 "a key must be a string");
			goto fail;
		}
		if (spend(c, k, via_of(via, n, k)) < 0)
			goto fail;
		if (json_object_get(v, k->str)) {
			diag_add(c->dl, DIAG_ERROR, c->file, k->line, k->col,
				 "duplicate key '%s'", k->str);
			goto fail;
		}
		if (!(kid = to_json(c, val, via_of(via, n, val))))
			goto fail;
		json_object_set_new(v, k->str, kid);
	}
	return v;
fail:
	json_decref(v);
	return NULL;
}

static json_t *to_json(struct conv *c, const struct ynode *n,
		       const struct ynode *via)
{
	if (spend(c, n, via) < 0)
		return NULL;
	if (n->kind == YNODE_SCALAR)
		return scalar_json(n);
	if (n->kind == YNODE_SEQ)
		return seq_json(c, n, via);
	return map_json(c, n, via);
}

void kubeconfig_problem_release(struct kubeconfig_problem *p)
{
	strbuf_release(&p->path);
	strbuf_release(&p->msg);
	p->side = KUBECONFIG_SIDE_NONE;
	p->fact = KUBECONFIG_FACT_NONE;
}

void kubeconfig_problem_format(struct strbuf *out,
			       const struct kubeconfig_problem *p)
{
	if (p->path.len)
		strbuf_addf(out, "%s: ", p->path.buf);
	strbuf_addstr(out, p->msg.buf);
}

/* Set why to "path: msg"; returns -1. */
static int problem(struct kubeconfig_problem *why, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int problem(struct kubeconfig_problem *why, const char *path,
		   const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&why->path);
	strbuf_reset(&why->msg);
	strbuf_addstr(&why->path, path);
	va_start(ap, fmt);
	strbuf_vaddf(&why->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void kubeconfig_doc_new(struct kubeconfig_doc *out, const char *file)
{
	out->kc = kubeconfig_new();
	out->file = xstrdup(file);
	out->tree = (struct ytree)YTREE_INIT;
}

void kubeconfig_doc_release(struct kubeconfig_doc *d)
{
	json_decref(d->kc);
	free(d->file);
	ytree_release(&d->tree);
	d->kc = NULL;
	d->file = NULL;
}

/* The value of key (n bytes) in map, or NULL. */
static const struct ynode *map_get(const struct ynode *map, const char *key,
				   size_t n)
{
	size_t i;

	for (i = 0; map->kind == YNODE_MAP && i < ymap_size(map); i++) {
		const struct ynode *k = ymap_key(map, i);

		if (k->len == n && !memcmp(k->str, key, n))
			return ymap_value(map, i);
	}
	return NULL;
}

/* One step of a path ("name" or "[3]") from n, or NULL; *p moves on. */
static const struct ynode *path_step(const struct ynode *n, const char **p)
{
	const char *s = *p;
	size_t len;

	if (*s == '[') {
		char *end;
		unsigned long i = strtoul(s + 1, &end, 10);

		if (*end != ']' || n->kind != YNODE_SEQ || i >= n->nr)
			return NULL;
		*p = end + 1;
		return n->kids[i];
	}
	len = strcspn(s, ".[");
	*p = s + len;
	return map_get(n, s, len);
}

void kubeconfig_doc_position(const struct kubeconfig_doc *d, const char *path,
			     int *line, int *col)
{
	const struct ynode *n = d->tree.root, *next;
	const char *p = path;

	*line = 1;
	*col = 1;
	if (!n)
		return;
	while (*p) {
		if (*p == '.')
			p++;
		if (!(next = path_step(n, &p)))
			break;
		n = next;
	}
	*line = n->line;
	*col = n->col;
}

void kubeconfig_doc_diag(struct diag_list *dl, const struct kubeconfig_doc *d,
			 enum diag_severity sev,
			 const struct kubeconfig_problem *p)
{
	struct strbuf msg = STRBUF_INIT;
	int line, col;

	kubeconfig_doc_position(d, p->path.buf, &line, &col);
	kubeconfig_problem_format(&msg, p);
	diag_add(dl, sev, d->file, line, col, "%s", msg.buf);
	strbuf_release(&msg);
}

int kubeconfig_load(struct kubeconfig_doc *out, struct diag_list *dl,
		    const char *file, const char *buf, size_t len)
{
	struct conv c = { dl, file, 0, 0 };
	struct kubeconfig_problem why = KUBECONFIG_PROBLEM_INIT;
	int ret = -1;

	out->kc = NULL;
	out->file = xstrdup(file);
	out->tree = (struct ytree)YTREE_INIT;
	if (len > KUBECONFIG_MAX_SIZE) {
		diag_add(dl, DIAG_ERROR, file, 1, 0,
			 "larger than the %d bytes a kubeconfig may have",
			 KUBECONFIG_MAX_SIZE);
		return -1;
	}
	if (ytree_parse(&out->tree, dl, file, buf, len) < 0)
		return -1;
	if (!out->tree.root) {
		out->kc = kubeconfig_new();
		return 0;
	}
	if (out->tree.root->kind != YNODE_MAP) {
		diag_add(dl, DIAG_ERROR, file, out->tree.root->line,
			 out->tree.root->col,
			 "a kubeconfig is a mapping, not %s",
			 ynode_describe(out->tree.root));
		return -1;
	}
	if (!(out->kc = to_json(&c, out->tree.root, NULL)))
		goto out;
	if (kubeconfig_check(out->kc, &why) < 0) {
		kubeconfig_doc_diag(dl, out, DIAG_ERROR, &why);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		json_decref(out->kc);
		out->kc = NULL;
	}
	kubeconfig_problem_release(&why);
	return ret;
}

int kubeconfig_parse(json_t **out, struct diag_list *dl, const char *file,
		     const char *buf, size_t len)
{
	struct kubeconfig_doc d = KUBECONFIG_DOC_INIT;
	int ret = kubeconfig_load(&d, dl, file, buf, len);

	*out = ret < 0 ? NULL : json_incref(d.kc);
	kubeconfig_doc_release(&d);
	return ret;
}

/* ---- shape ----------------------------------------------------------------
 */

/* Standard base64 with padding, as Go's []byte fields are decoded. */
static int valid_base64(const char *s)
{
	size_t n = strlen(s), i, pad = 0;

	if (n % 4)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' ||
			     s[i] == '/'))
			return 0;
	}
	return pad <= 2;
}

static int check_data_fields(const json_t *obj, const char *where,
			     struct kubeconfig_problem *why)
{
	static const char *const data[] = { "certificate-authority-data",
					    "client-certificate-data",
					    "client-key-data", NULL };
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int ret = 0;

	for (i = 0; data[i] && !ret; i++) {
		const json_t *v = json_object_get(obj, data[i]);

		if (!v ||
		    (json_is_string(v) && valid_base64(json_string_value(v))))
			continue;
		strbuf_addf(&path, "%s.%s", where, data[i]);
		ret = problem(why, path.buf, "not base64");
	}
	strbuf_release(&path);
	return ret;
}

/* Entry i of list (an array): {name, field: mapping}, name not in seen. */
static int check_entry(const json_t *item, const char *list, const char *field,
		       size_t i, struct strvec *seen,
		       struct kubeconfig_problem *why)
{
	const json_t *name = json_object_get(item, "name");
	const json_t *body = json_object_get(item, field);
	struct strbuf where = STRBUF_INIT;
	size_t j;
	int ret = -1;

	strbuf_addf(&where, "%s[%zu]", list, i);
	if (!json_is_object(item) || !json_is_string(name) ||
	    !*json_string_value(name)) {
		problem(why, where.buf, "expected {name, %s}", field);
		goto out;
	}
	for (j = 0; j < seen->nr; j++)
		if (!strcmp(seen->v[j], json_string_value(name))) {
			strbuf_addstr(&where, ".name");
			problem(why, where.buf, "a second %s named '%s'", field,
				seen->v[j]);
			goto out;
		}
	strvec_push(seen, json_string_value(name));
	strbuf_addf(&where, ".%s", field);
	if (body && !json_is_null(body) && !json_is_object(body)) {
		problem(why, where.buf, "expected a mapping");
		goto out;
	}
	if (body && check_data_fields(body, where.buf, why) < 0)
		goto out;
	ret = 0;
out:
	strbuf_release(&where);
	return ret;
}

static int check_list(const json_t *kc, const char *list, const char *field,
		      struct kubeconfig_problem *why)
{
	const json_t *l = json_object_get(kc, list), *item;
	struct strvec seen;
	size_t i;
	int ret = 0;

	if (!l || json_is_null(l))
		return 0;
	if (!json_is_array(l))
		return problem(why, list, "expected a list");
	strvec_init(&seen);
	json_array_foreach(l, i, item)
	{
		if ((ret = check_entry(item, list, field, i, &seen, why)) < 0)
			break;
	}
	strvec_clear(&seen);
	return ret;
}

/* apiVersion v1 and kind Config, both present unless kc is empty. */
static int check_header(const json_t *kc, struct kubeconfig_problem *why)
{
	const json_t *kind = json_object_get(kc, "kind");
	const json_t *api = json_object_get(kc, "apiVersion");

	if (!json_object_size(kc))
		return 0;
	if (!kind)
		return problem(why, "",
			       "not a kubeconfig: no 'kind: Config' (a "
			       "kubeconfig says apiVersion: v1 and kind: "
			       "Config)");
	if (!json_is_string(kind) || strcmp(json_string_value(kind), "Config"))
		return problem(why, "kind", "a kubeconfig is kind Config");
	if (!api)
		return problem(why, "",
			       "not a kubeconfig: no 'apiVersion: v1' (a "
			       "kubeconfig says apiVersion: v1 and kind: "
			       "Config)");
	if (!json_is_string(api) || strcmp(json_string_value(api), "v1"))
		return problem(why, "apiVersion", "a kubeconfig is v1");
	return 0;
}

int kubeconfig_check(const json_t *kc, struct kubeconfig_problem *why)
{
	const json_t *cur = json_object_get(kc, "current-context");

	if (!json_is_object(kc))
		return problem(why, "", "a kubeconfig is a mapping");
	if (check_header(kc, why) < 0)
		return -1;
	if (cur && !json_is_null(cur) && !json_is_string(cur))
		return problem(why, "current-context", "expected a string");
	if (check_list(kc, "clusters", "cluster", why) < 0 ||
	    check_list(kc, "users", "user", why) < 0 ||
	    check_list(kc, "contexts", "context", why) < 0)
		return -1;
	return 0;
}

json_t *kubeconfig_new(void)
{
	return json_pack("{s:s, s:[], s:[], s:s, s:s, s:{}, s:[]}",
			 "apiVersion", "v1", "clusters", "contexts",
			 "current-context", "", "kind", "Config", "preferences",
			 "users");
}

/* ---- lookups --------------------------------------------------------------
 */

static json_t *list_of(json_t *kc, const char *list)
{
	json_t *l = json_object_get(kc, list);

	if (!json_is_array(l)) {
		l = json_array();
		json_object_set_new(kc, list, l);
	}
	return l;
}

static long find_named(const json_t *l, const char *name)
{
	const json_t *item;
	size_t i;

	if (!name)
		return -1;
	json_array_foreach(l, i, item)
	{
		const char *n =
			json_string_value(json_object_get(item, "name"));

		if (n && !strcmp(n, name))
			return (long)i;
	}
	return -1;
}

static const char *ref_of(const json_t *ctx_item, const char *field)
{
	return json_string_value(
		json_object_get(json_object_get(ctx_item, "context"), field));
}

/* The index of a context of kc other than skip that refers to name in
 * field, or -1. */
static long referenced(const json_t *kc, const char *field, const char *name,
		       const char *skip)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(kc, "contexts"), i, item)
	{
		const char *n =
			json_string_value(json_object_get(item, "name"));
		const char *r = ref_of(item, field);

		if (n && skip && !strcmp(n, skip))
			continue;
		if (r && !strcmp(r, name))
			return (long)i;
	}
	return -1;
}

void kubeconfig_context_names(const json_t *kc, struct strvec *out)
{
	const json_t *item;
	size_t i;

	json_array_foreach(json_object_get(kc, "contexts"), i, item)
		strvec_push(out,
			    json_string_value(json_object_get(item, "name")));
}

int kubeconfig_is_loopback(const char *host, size_t len)
{
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if ((len == 9 && !strncasecmp(host, "localhost", 9)) ||
	    (len == 3 && !memcmp(host, "::1", 3)) ||
	    (len == 15 && !memcmp(host, "0:0:0:0:0:0:0:1", 15)))
		return 1;
	return len >= 4 && !memcmp(host, "127.", 4) &&
	       strspn(host, "0123456789.") == len;
}

/* ---- merge ------------------------------------------------------------- */

void kubeconfig_merge_report_init(struct kubeconfig_merge_report *r)
{
	memset(r, 0, sizeof(*r));
	strvec_init(&r->removed_clusters);
	strvec_init(&r->removed_users);
}

void kubeconfig_merge_report_release(struct kubeconfig_merge_report *r)
{
	free(r->cluster_name);
	free(r->server);
	strvec_clear(&r->removed_clusters);
	strvec_clear(&r->removed_users);
	memset(r, 0, sizeof(*r));
}

/* A server kubectl can use: http(s)://HOST..., no control character. */
static int check_server(const char *server, const char *path,
			struct kubeconfig_problem *why)
{
	const char *p;

	for (p = server; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return problem(why, path,
				       "the cluster's server '%s' holds a "
				       "control character (0x%02x)",
				       server, (unsigned char)*p);
	if (strncasecmp(server, "https://", 8) &&
	    strncasecmp(server, "http://", 7))
		return problem(why, path,
			       "the cluster's server '%s' is not a URL "
			       "(https://HOST:PORT)",
			       server);
	p = strstr(server, "://") + 3;
	if (!*p || *p == '/' || *p == ':' || strchr(" \t", *p))
		return problem(why, path,
			       "the cluster's server '%s' is not a URL: no "
			       "host",
			       server);
	return 0;
}

/*
 * The server URL (at path in from) with a loopback host replaced by host;
 * NULL with why set when it is loopback and no host was given, or
 * malformed.
 */
static char *server_for(const char *server, const char *path, const char *host,
			struct kubeconfig_problem *why)
{
	const char *h, *end;
	struct strbuf out = STRBUF_INIT;

	if (check_server(server, path, why) < 0)
		return NULL;
	h = strstr(server, "://") + 3;
	if (*h == '[') {
		end = strchr(h, ']');
		end = end ? end + 1 : h + strlen(h);
	} else {
		end = h + strcspn(h, ":/");
	}
	if (!kubeconfig_is_loopback(h, (size_t)(end - h)))
		return xstrdup(server);
	if (!host) {
		problem(why, path,
			"the cluster's server %s is a loopback address: "
			"give the host's address to put in its place",
			server);
		why->fact = KUBECONFIG_FACT_LOOPBACK;
		return NULL;
	}
	strbuf_add(&out, server, (size_t)(h - server));
	if (strchr(host, ':') && host[0] != '[')
		strbuf_addf(&out, "[%s]", host);
	else
		strbuf_addstr(&out, host);
	strbuf_addstr(&out, end);
	return strbuf_detach(&out, NULL);
}

/* The index of the context of from to merge: current-context, else the
 * only one; -1 with why set. */
static long source_context(const json_t *from, struct kubeconfig_problem *why)
{
	const json_t *l = json_object_get(from, "contexts");
	const char *cur =
		json_string_value(json_object_get(from, "current-context"));
	long i = cur && *cur ? find_named(l, cur) : -1;

	if (i >= 0)
		return i;
	if (json_array_size(l) == 1)
		return 0;
	if (!json_array_size(l) &&
	    !json_array_size(json_object_get(from, "clusters")) &&
	    !json_array_size(json_object_get(from, "users")))
		return problem(why, "",
			       "the kubeconfig to merge is empty: no cluster, "
			       "user or context");
	if (!json_array_size(l))
		return problem(why, l ? "contexts" : "",
			       "the kubeconfig to merge has no context");
	return problem(why, cur && *cur ? "current-context" : "contexts",
		       "the kubeconfig to merge has %zu contexts and %s",
		       json_array_size(l),
		       cur && *cur ? "its current-context names none of them"
				   : "no current-context");
}

static const char *choose_name(const json_t *into,
			       const struct kubeconfig_merge_opts *o,
			       struct kubeconfig_problem *why)
{
	const json_t *ctxs = json_object_get(into, "contexts");
	long old = find_named(ctxs, o->context);
	const char *name = o->cluster_name;

	if (!name && old >= 0)
		name = ref_of(json_array_get(ctxs, (size_t)old), "cluster");
	if (!name || !*name) {
		name = o->generated;
		if (name &&
		    find_named(json_object_get(into, "clusters"), name) >= 0) {
			problem(why, "", "the generated name '%s' is taken",
				name);
			return NULL;
		}
	}
	if (!name || !*name) {
		problem(why, "", "no cluster name given or generated");
		return NULL;
	}
	if ((old = referenced(into, "cluster", name, o->context)) >= 0 ||
	    (old = referenced(into, "user", name, o->context)) >= 0) {
		struct strbuf path = STRBUF_INIT;

		strbuf_addf(&path, "contexts[%ld]", old);
		problem(why, path.buf,
			"cluster name '%s' is in use by another context", name);
		strbuf_release(&path);
		return NULL;
	}
	return name;
}

/* Put item (new reference) in list: in place of name, else at the end. */
static void put_named(json_t *list, const char *name, json_t *item)
{
	long i = find_named(list, name);

	if (i >= 0)
		json_array_set_new(list, (size_t)i, item);
	else
		json_array_append_new(list, item);
}

static void remove_named(json_t *list, const char *name)
{
	long i = find_named(list, name);

	if (i >= 0)
		json_array_remove(list, (size_t)i);
}

/* An entry {body_key: copy of body, name: name} in kubectl's key order. */
static json_t *entry(const char *body_key, const json_t *body, const char *name)
{
	json_t *e = json_object();

	/* kubectl writes keys in alphabetical order: "name" before "user" */
	if (strcmp(body_key, "name") > 0)
		json_object_set_new(e, "name", json_string(name));
	json_object_set_new(e, body_key,
			    body ? json_deep_copy(body) : json_object());
	json_object_set_new(e, "name", json_string(name));
	return e;
}

/* Remove the cluster and user the replaced context pointed to when no
 * other context uses them. */
static void drop_orphans(json_t *into, const char *ctx, const char *cluster,
			 const char *user, const char *keep,
			 struct kubeconfig_merge_report *rep)
{
	if (cluster && strcmp(cluster, keep) &&
	    referenced(into, "cluster", cluster, ctx) < 0 &&
	    find_named(json_object_get(into, "clusters"), cluster) >= 0) {
		remove_named(list_of(into, "clusters"), cluster);
		strvec_push(&rep->removed_clusters, cluster);
	}
	if (user && strcmp(user, keep) &&
	    referenced(into, "user", user, ctx) < 0 &&
	    find_named(json_object_get(into, "users"), user) >= 0) {
		remove_named(list_of(into, "users"), user);
		strvec_push(&rep->removed_users, user);
	}
}

/* The context to merge from a source kubeconfig, with the cluster and the
 * user it names (both must be defined there); -1 with why set. */
struct merge_source {
	const json_t *body; /* the context's "context" object */
	const json_t *cluster, *user;
	struct strbuf server_path; /* "clusters[N].cluster.server" */
};

/* The entry of list in kc that ref (the field of context i) names;
 * NULL with why set. */
static const json_t *named_in(const json_t *kc, const char *list, long ctx,
			      const char *field, struct kubeconfig_problem *why)
{
	const json_t *items = json_object_get(kc, list);
	const json_t *body = json_object_get(
		json_array_get(json_object_get(kc, "contexts"), (size_t)ctx),
		"context");
	const char *ref = json_string_value(json_object_get(body, field));
	long i = find_named(items, ref);
	struct strbuf path = STRBUF_INIT;

	if (i >= 0)
		return json_array_get(items, (size_t)i);
	strbuf_addf(&path, "contexts[%ld].context", ctx);
	if (ref)
		strbuf_addf(&path, ".%s", field);
	if (!ref)
		problem(why, path.buf, "the context to merge names no %s",
			field);
	else
		problem(why, path.buf,
			"the context to merge names a %s it does not define "
			"('%s'; %s has %zu)",
			field, ref, list, json_array_size(items));
	strbuf_release(&path);
	return NULL;
}

static int merge_source(struct merge_source *out, const json_t *from,
			struct kubeconfig_problem *why)
{
	long ctx = source_context(from, why), ci;
	const char *cname;

	if (ctx < 0)
		return -1;
	out->body = json_object_get(
		json_array_get(json_object_get(from, "contexts"), (size_t)ctx),
		"context");
	if (!(out->cluster = named_in(from, "clusters", ctx, "cluster", why)) ||
	    !(out->user = named_in(from, "users", ctx, "user", why)))
		return -1;
	cname = json_string_value(json_object_get(out->cluster, "name"));
	ci = find_named(json_object_get(from, "clusters"), cname);
	strbuf_addf(&out->server_path, "clusters[%ld].cluster", ci);
	if (!json_is_string(json_object_get(
		    json_object_get(out->cluster, "cluster"), "server")))
		return problem(why, out->server_path.buf,
			       "the cluster to merge has no server");
	strbuf_addstr(&out->server_path, ".server");
	return 0;
}

/* The cluster and user the context being replaced pointed to (copies, or
 * NULL), and the report told a context is replaced. */
static void replaced_refs(const json_t *into, const char *context,
			  struct kubeconfig_merge_report *rep, char **cluster,
			  char **user)
{
	long i = find_named(json_object_get(into, "contexts"), context);
	const json_t *old;

	*cluster = *user = NULL;
	if (i < 0)
		return;
	old = json_array_get(json_object_get(into, "contexts"), (size_t)i);
	rep->replaced_context = 1;
	if (ref_of(old, "cluster"))
		*cluster = xstrdup(ref_of(old, "cluster"));
	if (ref_of(old, "user"))
		*user = xstrdup(ref_of(old, "user"));
}

/* The merged cluster (with its new server), user and context, each in place
 * of the one of that name or at the end. */
static void put_entries(json_t *into, const struct merge_source *src,
			const char *context, const char *name,
			const char *server)
{
	json_t *cluster, *ctxbody;

	cluster = entry("cluster", json_object_get(src->cluster, "cluster"),
			name);
	json_object_set_new(json_object_get(cluster, "cluster"), "server",
			    json_string(server));
	put_named(list_of(into, "clusters"), name, cluster);
	put_named(list_of(into, "users"), name,
		  entry("user", json_object_get(src->user, "user"), name));
	ctxbody = json_deep_copy(src->body ? src->body : json_object());
	json_object_set_new(ctxbody, "cluster", json_string(name));
	json_object_set_new(ctxbody, "user", json_string(name));
	put_named(list_of(into, "contexts"), context,
		  entry("context", ctxbody, context));
	json_decref(ctxbody);
}

/* What an empty kubeconfig lacks: current-context, apiVersion, kind. */
static void set_defaults(json_t *into, const char *context)
{
	const char *cur =
		json_string_value(json_object_get(into, "current-context"));

	if (!cur || !*cur)
		json_object_set_new(into, "current-context",
				    json_string(context));
	if (!json_object_get(into, "apiVersion"))
		json_object_set_new(into, "apiVersion", json_string("v1"));
	if (!json_object_get(into, "kind"))
		json_object_set_new(into, "kind", json_string("Config"));
}

int kubeconfig_merge(json_t *into, const json_t *from,
		     const struct kubeconfig_merge_opts *o,
		     struct kubeconfig_merge_report *rep,
		     struct kubeconfig_problem *why)
{
	struct merge_source src = { NULL, NULL, NULL, STRBUF_INIT };
	const char *cname = NULL;
	char *server = NULL, *old_cluster, *old_user;
	int ret = -1;

	why->side = KUBECONFIG_FROM;
	if (merge_source(&src, from, why) < 0 ||
	    !(server = server_for(
		      json_string_value(json_object_get(
			      json_object_get(src.cluster, "cluster"),
			      "server")),
		      src.server_path.buf, o->server_host, why)))
		goto out;
	why->side = KUBECONFIG_INTO;
	if (!(cname = choose_name(into, o, why)))
		goto out;
	why->side = KUBECONFIG_SIDE_NONE;
	rep->cluster_name = xstrdup(cname);
	rep->server = xstrdup(server);
	replaced_refs(into, o->context, rep, &old_cluster, &old_user);
	put_entries(into, &src, o->context, rep->cluster_name, server);
	drop_orphans(into, o->context, old_cluster, old_user, rep->cluster_name,
		     rep);
	set_defaults(into, o->context);
	free(old_cluster);
	free(old_user);
	ret = 0;
out:
	free(server);
	strbuf_release(&src.server_path);
	return ret;
}

json_t *kubeconfig_select(const json_t *kc, const char *context)
{
	const json_t *ctxs = json_object_get(kc, "contexts"), *ctx;
	long i = find_named(ctxs, context), c, u;
	json_t *out;

	if (i < 0)
		return NULL;
	ctx = json_array_get(ctxs, (size_t)i);
	c = find_named(json_object_get(kc, "clusters"), ref_of(ctx, "cluster"));
	u = find_named(json_object_get(kc, "users"), ref_of(ctx, "user"));
	out = kubeconfig_new();
	if (c >= 0)
		json_array_append(
			json_object_get(out, "clusters"),
			json_array_get(json_object_get(kc, "clusters"),
				       (size_t)c));
	if (u >= 0)
		json_array_append(json_object_get(out, "users"),
				  json_array_get(json_object_get(kc, "users"),
						 (size_t)u));
	json_array_append(json_object_get(out, "contexts"), (json_t *)ctx);
	json_object_set_new(out, "current-context", json_string(context));
	if (json_object_get(kc, "preferences"))
		json_object_set(out, "preferences",
				json_object_get(kc, "preferences"));
	return out;
}

void kubeconfig_generate_name(struct strbuf *out, uint64_t r)
{
	static const char *const adj[64] = {
		"amber",  "bold",   "brave",  "bright", "calm",	  "clever",
		"cosmic", "cozy",   "crisp",  "dapper", "eager",  "early",
		"fancy",  "fast",   "fluffy", "gentle", "glad",	  "golden",
		"grand",  "happy",  "hidden", "honest", "humble", "jolly",
		"keen",	  "kind",   "lively", "lucky",	"merry",  "mighty",
		"misty",  "modest", "noble",  "polite", "proud",  "quick",
		"quiet",  "rapid",  "ready",  "rosy",	"royal",  "rustic",
		"shiny",  "silent", "silver", "sleek",	"smart",  "snowy",
		"solid",  "sunny",  "swift",  "tidy",	"tiny",	  "urban",
		"vivid",  "warm",   "wild",   "wise",	"witty",  "young",
		"zany",	  "zesty",  "agile",  "breezy",
	};
	static const char *const noun[64] = {
		"anchor",  "aurora", "badger", "beacon",  "birch",   "breeze",
		"brook",   "canyon", "cedar",  "comet",	  "coral",   "crane",
		"delta",   "dune",   "ember",  "falcon",  "fern",    "fjord",
		"forest",  "galaxy", "garden", "glacier", "grove",   "harbor",
		"haven",   "hawk",   "heron",  "island",  "lagoon",  "lake",
		"lantern", "maple",  "meadow", "mesa",	  "moon",    "otter",
		"panda",   "pebble", "pine",   "planet",  "prairie", "quartz",
		"raven",   "reef",   "ridge",  "river",	  "robin",   "sage",
		"shore",   "sky",    "spruce", "star",	  "stone",   "summit",
		"thicket", "tide",   "trail",  "valley",  "willow",  "wind",
		"wren",	   "yarrow", "zenith", "zephyr",
	};

	strbuf_addf(out, "%s-%s", adj[r % 64], noun[(r / 64) % 64]);
}
