/*
 * savedplan.c - the saved plan file; see savedplan.h.
 */
#include "core/savedplan.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv64(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ 0xff; /* a separator between fields */
}

static uint64_t item_hash(uint64_t h, const struct plan_item *it)
{
	char num[32];
	size_t j;

	h = fnv64(h, plan_op_name(it->op));
	h = fnv64(h, it->name);
	h = fnv64(h, it->node);
	snprintf(num, sizeof(num), "%d", it->vmid);
	h = fnv64(h, num);
	h = fnv64(h, it->reason ? it->reason : "");
	if (it->cluster) /* several clusters: the item's */
		h = fnv64(h, it->cluster);
	h = fnv64(h, it->want ? it->want->digest : "");
	for (j = 0; j < it->nr_changes; j++) {
		h = fnv64(h, it->changes[j].key);
		h = fnv64(h, it->changes[j].from ? it->changes[j].from : "\1");
		h = fnv64(h, it->changes[j].to ? it->changes[j].to : "\1");
	}
	/* a VM that stopped or started since: another kind of migration */
	if (it->migration)
		h = fnv64(h, it->migration == PLAN_MIGRATION_LIVE ? "live"
								  : "offline");
	return h;
}

void savedplan_fingerprint(const struct plan *p, const struct plan_input *in,
			   char out[17])
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	h = fnv64(h, in->prune ? "prune" : "-");
	h = fnv64(h, in->adopt ? "adopt" : "-");
	h = fnv64(h, in->refresh ? "refresh" : "-");
	for (i = 0; i < p->nr; i++)
		h = item_hash(h, &p->items[i]);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

char *savedplan_encode(const struct plan *p, const struct plan_input *in)
{
	char fp[17], *text;
	json_t *o;

	savedplan_fingerprint(p, in, fp);
	o = json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b}, s:{s:i, s:i, s:i, "
		      "s:i}}",
		      "format_version", "1", "kind", "pve-gitops-plan",
		      "fingerprint", fp, "options", "prune", in->prune, "adopt",
		      in->adopt, "refresh", in->refresh, "summary", "add",
		      p->add, "change", p->change, "destroy", p->destroy,
		      "blocked", p->blocked);
	if (p->by_cluster) { /* several clusters: each item's */
		json_t *items = json_array();
		size_t i;

		for (i = 0; i < p->nr; i++)
			json_array_append_new(
				items,
				json_pack("{s:s, s:s, s:s?}", "name",
					  p->items[i].name, "action",
					  plan_op_name(p->items[i].op),
					  "cluster", p->items[i].cluster));
		json_object_set_new(o, "items", items);
	}
	text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return text;
}

int savedplan_decode(struct savedplan *out, const char *text, size_t len,
		     const char *file, struct err *e)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, 0, &jerr), *opts;
	const char *fp =
		json_string_value(json_object_get(root, "fingerprint"));
	const char *kind = json_string_value(json_object_get(root, "kind"));
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!root) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "cannot read the saved plan '%s': %s", file,
			 jerr.text);
		goto out;
	}
	if (!kind || strcmp(kind, "pve-gitops-plan") || !fp ||
	    strlen(fp) != 16) {
		err_setk(e, ERR_INVALID, EXIT_INVALID,
			 "'%s' is not a plan saved by 'pve-gitops plan --out'",
			 file);
		goto out;
	}
	opts = json_object_get(root, "options");
	out->prune = json_is_true(json_object_get(opts, "prune"));
	out->adopt = json_is_true(json_object_get(opts, "adopt"));
	out->refresh = json_is_true(json_object_get(opts, "refresh"));
	memcpy(out->fingerprint, fp, 17);
	ret = 0;
out:
	json_decref(root);
	return ret;
}
