/*
 * kubeinert.c - fields of a kubeconfig that are code, files or switched-off
 * safety; see kubeinert.h.
 */
#include "core/kubeinert.h"

#include <string.h>

struct rule {
	const char *list, *entry; /* "users" / "user" */
	const char *field;
	const char *why;
};

/* kubectl's own field names (client-go's clientcmd/api/v1 types). */
static const struct rule rules[] = {
	{ "users", "user", "exec",
	  "runs a command on every machine that uses the kubeconfig" },
	{ "users", "user", "auth-provider",
	  "runs a credential plugin (its cmd-path) on every machine that uses "
	  "the kubeconfig" },
	{ "users", "user", "tokenFile",
	  "names a local file; only inline data may be merged" },
	{ "users", "user", "client-certificate",
	  "names a local file; use client-certificate-data" },
	{ "users", "user", "client-key",
	  "names a local file; use client-key-data" },
	{ "clusters", "cluster", "certificate-authority",
	  "names a local file; use certificate-authority-data" },
	{ "clusters", "cluster", "insecure-skip-tls-verify",
	  "turns TLS verification off for every user of the kubeconfig" },
	{ "clusters", "cluster", "proxy-url",
	  "sends every request through a proxy the VM chose" },
};

/* insecure-skip-tls-verify: false is harmless; any other value is not. */
static int harmless(const struct rule *r, const json_t *v)
{
	return !strcmp(r->field, "insecure-skip-tls-verify") &&
	       json_is_false(v);
}

static size_t check_entry(const json_t *entry, const char *list, size_t index,
			  struct strvec *paths, struct strvec *whys)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		const json_t *body, *v;

		if (strcmp(r->list, list))
			continue;
		body = json_object_get(entry, r->entry);
		v = json_is_object(body) ? json_object_get(body, r->field)
					 : NULL;
		if (!v || json_is_null(v) || harmless(r, v))
			continue;
		strvec_pushf(paths, "%s[%zu].%s.%s", list, index, r->entry,
			     r->field);
		strvec_push(whys, r->why);
		n++;
	}
	return n;
}

size_t kubeconfig_find_active_at(const json_t *kc, struct strvec *paths,
				 struct strvec *whys)
{
	static const char *const lists[] = { "clusters", "users" };
	size_t i, k, n = 0;

	for (k = 0; k < 2; k++) {
		const json_t *arr = json_object_get(kc, lists[k]);

		for (i = 0; json_is_array(arr) && i < json_array_size(arr); i++)
			n += check_entry(json_array_get(arr, i), lists[k], i,
					 paths, whys);
	}
	return n;
}

size_t kubeconfig_find_active(const json_t *kc, struct strvec *problems)
{
	struct strvec paths = STRVEC_INIT, whys = STRVEC_INIT;
	size_t i, n = kubeconfig_find_active_at(kc, &paths, &whys);

	for (i = 0; i < n; i++)
		strvec_pushf(problems, "%s: %s", paths.v[i], whys.v[i]);
	strvec_clear(&paths);
	strvec_clear(&whys);
	return n;
}
