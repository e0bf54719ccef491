/*
 * dyninv.c - the dynamic inventory JSON; see dyninv.h.
 */
#include "core/dyninv.h"

#include <stdlib.h>
#include <string.h>

json_t *dyninv_host_vars(const struct inv_host *h, json_t *vars)
{
	json_object_set_new(vars, "ansible_host", json_string(h->ip));
	json_object_set_new(vars, "ansible_user", json_string(h->user));
	if (h->port != 22)
		json_object_set_new(vars, "ansible_port",
				    json_integer(h->port));
	return vars;
}

static void dump(struct strbuf *out, json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2));

	if (s)
		strbuf_addstr(out, s);
	strbuf_addch(out, '\n');
	free(s);
}

/* The members of every group and _meta.hostvars; groups as in w. */
static void add_hosts(json_t *root, json_t *hv, json_t *ungrouped,
		      const struct inv_want *w, json_t *const *vars)
{
	size_t i, j;

	for (i = 0; i < w->nr; i++) {
		const struct inv_host *h = &w->hosts[i];
		json_t *g;

		if (!h->ip)
			continue;
		json_object_set_new(
			hv, h->name,
			dyninv_host_vars(h, json_deep_copy(vars[i])));
		if (!h->groups.nr)
			json_array_append_new(ungrouped, json_string(h->name));
		for (j = 0; j < h->groups.nr; j++) {
			g = json_object_get(root, h->groups.v[j]);
			json_array_append_new(json_object_get(g, "hosts"),
					      json_string(h->name));
		}
	}
}

void dyninv_encode_list(struct strbuf *out, const struct inv_want *w,
			json_t *const *vars)
{
	json_t *root = json_object(), *hv = json_object();
	json_t *children = json_array(), *ungrouped = json_array(), *g;
	size_t i;

	for (i = 0; i < w->groups.nr; i++)
		json_object_set_new(root, w->groups.v[i],
				    json_pack("{s:[]}", "hosts"));
	add_hosts(root, hv, ungrouped, w, vars);
	for (i = 0; i < w->groups.nr; i++) {
		g = json_object_get(root, w->groups.v[i]);
		if (!json_array_size(json_object_get(g, "hosts")))
			json_object_del(root, w->groups.v[i]);
		else
			json_array_append_new(children,
					      json_string(w->groups.v[i]));
	}
	json_array_insert_new(children, 0, json_string("ungrouped"));
	json_object_set_new(root, "ungrouped",
			    json_pack("{s:o}", "hosts", ungrouped));
	json_object_set_new(root, "all",
			    json_pack("{s:o}", "children", children));
	json_object_set_new(root, "_meta", json_pack("{s:o}", "hostvars", hv));
	dump(out, root);
	json_decref(root);
}

void dyninv_encode_host(struct strbuf *out, const struct inv_host *h,
			json_t *vars)
{
	json_t *o = dyninv_host_vars(h, json_deep_copy(vars));

	dump(out, o);
	json_decref(o);
}

void dyninv_init(struct dyninv *d)
{
	static const struct strmap m0 = STRMAP_INIT;

	d->members = m0;
	d->hosts = m0;
	strvec_init(&d->addr);
}

void dyninv_release(struct dyninv *d)
{
	strmap_release(&d->members);
	strmap_release(&d->hosts);
	strvec_clear(&d->addr);
}

static void decode_members(struct dyninv *d, json_t *root)
{
	struct strbuf key = STRBUF_INIT;
	const char *group;
	json_t *g, *h;
	size_t i;

	json_object_foreach(root, group, g)
	{
		json_array_foreach(json_object_get(g, "hosts"), i, h)
		{
			if (!json_is_string(h))
				continue;
			strbuf_reset(&key);
			strbuf_addf(&key, "%s\n%s", group,
				    json_string_value(h));
			strmap_put(&d->members, key.buf, 0);
		}
	}
	strbuf_release(&key);
}

int dyninv_decode(struct dyninv *d, const char *text, size_t len,
		  struct strbuf *why)
{
	json_t *root = json_loadb(text, len, 0, NULL), *hv, *vars;
	const char *name, *addr;

	if (!json_is_object(root)) {
		json_decref(root);
		strbuf_addstr(why, "no JSON object");
		return -1;
	}
	decode_members(d, root);
	hv = json_object_get(json_object_get(root, "_meta"), "hostvars");
	json_object_foreach(hv, name, vars)
	{
		if (!json_is_object(vars) || strmap_has(&d->hosts, name))
			continue;
		addr = json_string_value(json_object_get(vars, "ansible_host"));
		strmap_put(&d->hosts, name, d->addr.nr);
		strvec_push(&d->addr, addr ? addr : "");
	}
	json_decref(root);
	return 0;
}

const char *dyninv_address(const struct dyninv *d, const char *host)
{
	size_t i;

	if (!strmap_get(&d->hosts, host, &i) || !*d->addr.v[i])
		return NULL;
	return d->addr.v[i];
}

bool dyninv_is_member(const struct dyninv *d, const char *group,
		      const char *host)
{
	struct strbuf key = STRBUF_INIT;
	bool ret;

	strbuf_addf(&key, "%s\n%s", group, host);
	ret = strmap_has(&d->members, key.buf);
	strbuf_release(&key);
	return ret;
}
