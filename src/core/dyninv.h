/*
 * dyninv.h - Ansible's dynamic inventory JSON: what `inventory --list` and
 * `inventory --host NAME` print, and what `ansible-inventory --list` prints
 * back when the rewritten inventory is checked.
 *
 * The --list shape: one object per group {"hosts": [...]} (managed groups
 * with members, "ungrouped"), "all": {"children": [...]} and
 * "_meta": {"hostvars": {HOST: {...}}}. The decoder reads only what the
 * check needs (group members, each host's ansible_host) and checks the
 * types of what it reads. Pure: no I/O.
 */
#ifndef PVE_GITOPS_DYNINV_H
#define PVE_GITOPS_DYNINV_H

#include <jansson.h>
#include <stdbool.h>

#include "core/inventory.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"

/*
 * One host's variables for --host and _meta.hostvars: vars (stolen; the
 * VM's own variables) with ansible_host, ansible_user and, when not 22,
 * ansible_port of h. Returns vars.
 */
json_t *dyninv_host_vars(const struct inv_host *h, json_t *vars);

/*
 * The --list text of w (indented, with a final newline) into out. vars[i]
 * holds the variables of w->hosts[i] (borrowed); hosts without an address
 * are left out.
 */
void dyninv_encode_list(struct strbuf *out, const struct inv_want *w,
			json_t *const *vars);
/* The --host text of h with the VM's variables vars (borrowed). */
void dyninv_encode_host(struct strbuf *out, const struct inv_host *h,
			json_t *vars);

struct dyninv {
	struct strmap members; /* "GROUP\nHOST" for every listed member */
	struct strmap hosts;   /* host in _meta.hostvars -> index in addr */
	struct strvec addr;    /* its ansible_host, "" when none */
};

void dyninv_init(struct dyninv *d);
void dyninv_release(struct dyninv *d);
/*
 * Read --list text into d (initialised by the caller). Returns -1 with why
 * set when it is not a JSON object; members that are not strings and
 * hostvars that are not objects are skipped.
 */
int dyninv_decode(struct dyninv *d, const char *text, size_t len,
		  struct strbuf *why);
/* The ansible_host of host, or NULL when it has none. */
const char *dyninv_address(const struct dyninv *d, const char *host);
bool dyninv_is_member(const struct dyninv *d, const char *group,
		      const char *host);

#endif
