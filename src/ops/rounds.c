/*
 * rounds.c - the retry-round decisions of apply; see rounds.h.
 */
#include "ops/rounds.h"

#include <string.h>

size_t rounds_retry_names(struct strvec *again, const struct strvec *names,
			  const enum err_kind *kinds)
{
	size_t i, pushed = 0;

	for (i = 0; i < names->nr; i++) {
		/* a task that ran out of time may still be running: not
		 * again in this run; what Proxmox refused as wrong (a
		 * parameter, a node or storage that is not there) is
		 * refused again */
		if (kinds[i] == ERR_TIMEOUT || kinds[i] == ERR_PERMANENT ||
		    kinds[i] == ERR_INVALID || !*names->v[i])
			continue;
		strvec_push(again, names->v[i]);
		pushed++;
	}
	return pushed;
}

bool rounds_all_refused(const struct strvec *names, const enum err_kind *kinds)
{
	size_t i;

	for (i = 0; i < names->nr; i++)
		if (kinds[i] != ERR_PERMANENT && kinds[i] != ERR_INVALID)
			return false;
	return names->nr > 0;
}

void rounds_keep_only(struct plan *p, const struct strvec *names)
{
	size_t i, j;

	for (i = 0; i < p->nr; i++) {
		bool keep = false;

		for (j = 0; j < names->nr && !keep; j++)
			keep = !strcmp(p->items[i].name, names->v[j]);
		if (!keep)
			p->items[i].op = PLAN_NOOP;
	}
}
