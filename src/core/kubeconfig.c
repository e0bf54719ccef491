/*
 * kubeconfig.c - kubeconfigs as JSON, checked, and merged; see
 * kubeconfig.h.
 */
#include "core/kubeconfig.h"

#include <ctype.h>
#include <errno.h>
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

static json_t *to_json(const struct ynode *n, struct diag_list *dl,
		       const char *file)
{
	json_t *v, *kid;
	size_t i;

	if (n->kind == YNODE_SCALAR)
		return scalar_json(n);
	if (n->kind == YNODE_SEQ) {
		v = json_array();
		for (i = 0; i < n->nr; i++) {
			if (!(kid = to_json(n->kids[i], dl, file))) {
				json_decref(v);
				return NULL;
			}
			json_array_append_new(v, kid);
		}
		return v;
	}
	v = json_object();
	for (i = 0; i < ymap_size(n); i++) {
		const struct ynode *k = ymap_key(n, i);

		if (k->kind != YNODE_SCALAR || strlen(k->str) != k->len) {
			diag_add(dl, DIAG_ERROR, file, k->line, k->col,
				 "a key must be a string");
			json_decref(v);
			return NULL;
		}
		if (json_object_get(v, k->str)) {
			diag_add(dl, DIAG_ERROR, file, k->line, k->col,
				 "duplicate key '%s'", k->str);
			json_decref(v);
			return NULL;
		}
		if (!(kid = to_json(ymap_value(n, i), dl, file))) {
			json_decref(v);
			return NULL;
		}
		json_object_set_new(v, k->str, kid);
	}
	return v;
}

int kubeconfig_parse(json_t **out, struct diag_list *dl, const char *file,
		     const char *buf, size_t len)
{
	struct ytree t = YTREE_INIT;
	struct strbuf why = STRBUF_INIT;
	int ret = -1;

	*out = NULL;
	if (ytree_parse(&t, dl, file, buf, len) < 0)
		goto out;
	if (!t.root) {
		*out = kubeconfig_new();
		ret = 0;
		goto out;
	}
	if (t.root->kind != YNODE_MAP) {
		diag_add(dl, DIAG_ERROR, file, t.root->line, t.root->col,
			 "a kubeconfig is a mapping, not %s",
			 ynode_describe(t.root));
		goto out;
	}
	if (!(*out = to_json(t.root, dl, file)))
		goto out;
	if (kubeconfig_check(*out, &why) < 0) {
		diag_add(dl, DIAG_ERROR, file, 0, 0, "%s", why.buf);
		json_decref(*out);
		*out = NULL;
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&why);
	ytree_release(&t);
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
			     struct strbuf *why)
{
	static const char *const data[] = { "certificate-authority-data",
					    "client-certificate-data",
					    "client-key-data", NULL };
	size_t i;

	for (i = 0; data[i]; i++) {
		const json_t *v = json_object_get(obj, data[i]);

		if (!v)
			continue;
		if (!json_is_string(v) || !valid_base64(json_string_value(v))) {
			strbuf_addf(why, "%s.%s: not base64", where, data[i]);
			return -1;
		}
	}
	return 0;
}

static int check_list(const json_t *kc, const char *list, const char *field,
		      struct strbuf *why)
{
	const json_t *l = json_object_get(kc, list), *item, *name, *body;
	struct strvec seen;
	struct strbuf where = STRBUF_INIT;
	size_t i, j;
	int ret = -1;

	strvec_init(&seen);
	if (!l || json_is_null(l))
		return 0;
	if (!json_is_array(l)) {
		strbuf_addf(why, "%s: expected a list", list);
		return -1;
	}
	json_array_foreach(l, i, item)
	{
		strbuf_reset(&where);
		strbuf_addf(&where, "%s[%zu]", list, i);
		name = json_object_get(item, "name");
		body = json_object_get(item, field);
		if (!json_is_object(item) || !json_is_string(name) ||
		    !*json_string_value(name)) {
			strbuf_addf(why, "%s: expected {name, %s}", where.buf,
				    field);
			goto out;
		}
		if (body && !json_is_null(body) && !json_is_object(body)) {
			strbuf_addf(why, "%s.%s: expected a mapping", where.buf,
				    field);
			goto out;
		}
		for (j = 0; j < seen.nr; j++)
			if (!strcmp(seen.v[j], json_string_value(name))) {
				strbuf_addf(why, "%s: a second %.*s named '%s'",
					    where.buf, (int)strlen(list) - 1,
					    list, seen.v[j]);
				goto out;
			}
		strvec_push(&seen, json_string_value(name));
		if (body && check_data_fields(body, where.buf, why) < 0)
			goto out;
	}
	ret = 0;
out:
	strvec_clear(&seen);
	strbuf_release(&where);
	return ret;
}

int kubeconfig_check(const json_t *kc, struct strbuf *why)
{
	const json_t *kind = json_object_get(kc, "kind");
	const json_t *api = json_object_get(kc, "apiVersion");
	const json_t *cur = json_object_get(kc, "current-context");

	if (!json_is_object(kc)) {
		strbuf_addstr(why, "a kubeconfig is a mapping");
		return -1;
	}
	if (kind && !(json_is_string(kind) &&
		      !strcmp(json_string_value(kind), "Config"))) {
		strbuf_addstr(why, "kind: a kubeconfig is kind Config");
		return -1;
	}
	if (api &&
	    !(json_is_string(api) && !strcmp(json_string_value(api), "v1"))) {
		strbuf_addstr(why, "apiVersion: a kubeconfig is v1");
		return -1;
	}
	if (cur && !json_is_null(cur) && !json_is_string(cur)) {
		strbuf_addstr(why, "current-context: expected a string");
		return -1;
	}
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

/* 1 when a context of kc other than skip refers to name in field. */
static int referenced(const json_t *kc, const char *field, const char *name,
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
			return 1;
	}
	return 0;
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

/*
 * The server URL of cluster with a loopback host replaced by host; NULL
 * with why set when it is loopback and no host was given, or malformed.
 */
static char *server_for(const char *server, const char *host,
			struct strbuf *why)
{
	const char *h = strstr(server, "://"), *end;
	struct strbuf out = STRBUF_INIT;

	if (!h) {
		strbuf_addf(why, "the cluster's server '%s' is not a URL",
			    server);
		return NULL;
	}
	h += 3;
	if (*h == '[') {
		end = strchr(h, ']');
		end = end ? end + 1 : h + strlen(h);
	} else {
		end = h + strcspn(h, ":/");
	}
	if (!kubeconfig_is_loopback(h, (size_t)(end - h)))
		return xstrdup(server);
	if (!host) {
		strbuf_addf(why,
			    "the cluster's server %s is a loopback address: "
			    "give the host's address to put in its place",
			    server);
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

/* The context of from to merge: current-context, else the only one. */
static const json_t *source_context(const json_t *from, struct strbuf *why)
{
	const json_t *l = json_object_get(from, "contexts");
	const char *cur =
		json_string_value(json_object_get(from, "current-context"));
	long i = cur && *cur ? find_named(l, cur) : -1;

	if (i >= 0)
		return json_array_get(l, (size_t)i);
	if (json_array_size(l) == 1)
		return json_array_get(l, 0);
	strbuf_addf(why, "the kubeconfig to merge has %zu contexts and %s",
		    json_array_size(l),
		    cur && *cur ? "its current-context names none of them"
				: "no current-context");
	return NULL;
}

static const char *choose_name(const json_t *into,
			       const struct kubeconfig_merge_opts *o,
			       struct strbuf *why)
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
			strbuf_addf(why, "the generated name '%s' is taken",
				    name);
			return NULL;
		}
	}
	if (!name || !*name) {
		strbuf_addstr(why, "no cluster name given or generated");
		return NULL;
	}
	if (referenced(into, "cluster", name, o->context) ||
	    referenced(into, "user", name, o->context)) {
		strbuf_addf(why,
			    "cluster name '%s' is in use by another context",
			    name);
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
	    !referenced(into, "cluster", cluster, ctx) &&
	    find_named(json_object_get(into, "clusters"), cluster) >= 0) {
		remove_named(list_of(into, "clusters"), cluster);
		strvec_push(&rep->removed_clusters, cluster);
	}
	if (user && strcmp(user, keep) &&
	    !referenced(into, "user", user, ctx) &&
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
};

static const json_t *named_in(const json_t *kc, const char *list,
			      const json_t *name)
{
	const json_t *items = json_object_get(kc, list);
	long i = find_named(items, json_string_value(name));

	return i >= 0 ? json_array_get(items, (size_t)i) : NULL;
}

static int merge_source(struct merge_source *out, const json_t *from,
			struct strbuf *why)
{
	const json_t *sctx = source_context(from, why);

	if (!sctx)
		return -1;
	out->body = json_object_get(sctx, "context");
	out->cluster = named_in(from, "clusters",
				json_object_get(out->body, "cluster"));
	out->user = named_in(from, "users", json_object_get(out->body, "user"));
	if (!out->cluster || !out->user) {
		strbuf_addf(why,
			    "the context to merge names a %s it does not "
			    "define",
			    out->cluster ? "user" : "cluster");
		return -1;
	}
	if (!json_is_string(json_object_get(
		    json_object_get(out->cluster, "cluster"), "server"))) {
		strbuf_addstr(why, "the cluster to merge has no server");
		return -1;
	}
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
		     struct kubeconfig_merge_report *rep, struct strbuf *why)
{
	struct merge_source src;
	const char *cname;
	char *server = NULL, *old_cluster, *old_user;

	if (merge_source(&src, from, why) < 0)
		return -1;
	server = server_for(
		json_string_value(json_object_get(
			json_object_get(src.cluster, "cluster"), "server")),
		o->server_host, why);
	if (!server || !(cname = choose_name(into, o, why))) {
		free(server);
		return -1;
	}
	rep->cluster_name = xstrdup(cname);
	rep->server = xstrdup(server);
	replaced_refs(into, o->context, rep, &old_cluster, &old_user);
	put_entries(into, &src, o->context, rep->cluster_name, server);
	drop_orphans(into, o->context, old_cluster, old_user, rep->cluster_name,
		     rep);
	set_defaults(into, o->context);
	free(server);
	free(old_cluster);
	free(old_user);
	return 0;
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
