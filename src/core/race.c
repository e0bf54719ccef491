/*
 * race.c - the create protocol's decisions; see race.h.
 */
#include "core/race.h"

#include <string.h>

int race_rival(const struct actual_vm *vms, size_t n, const char *name,
	       int vmid)
{
	bool finished = false;
	int rival = 0;
	size_t i, len;

	for (i = 0; i < n; i++) {
		const struct actual_vm *a = &vms[i];

		if (!a->name || strcmp(a->name, name) || a->vmid == vmid ||
		    a->template_)
			continue;
		if (a->tags && desired_find_digest(a->tags, &len)) {
			finished = true; /* done: it wins whatever its id */
			rival = a->vmid;
		} else if (!finished && a->vmid < vmid &&
			   (!rival || a->vmid < rival)) {
			rival = a->vmid;
		}
	}
	return rival;
}

bool race_answer_lost(long status)
{
	return status == 0 || status == 502 || status == 504 || status == 596;
}

bool race_look_up(bool lost, long status, bool exists)
{
	return lost && (status == 0 || status >= 502 || exists);
}

bool race_is_ours(const char *conf_name, const char *conf_descr,
		  const char *name)
{
	return conf_name && !strcmp(conf_name, name) && conf_descr &&
	       !strncmp(conf_descr, PLAN_CREATING_MARKER,
			strlen(PLAN_CREATING_MARKER));
}
