/*
 * taskwake.c - the shared task poller's decisions; see taskwake.h.
 */
#include "core/taskwake.h"

#include <string.h>

bool taskwake_ended(const char *upid, unsigned long seq, unsigned long poll_seq,
		    const char *const *active, size_t n, bool unsure)
{
	size_t i;

	if (seq > poll_seq)
		return false; /* the poll may not know this task yet */
	if (unsure)
		return true;
	for (i = 0; i < n; i++)
		if (active[i] && !strcmp(active[i], upid))
			return false;
	return true;
}

uint64_t taskwake_wake_at(bool polling, uint64_t next_ms, uint64_t deadline)
{
	if (polling || (deadline && deadline < next_ms))
		return deadline;
	return next_ms;
}

long taskwake_interval(uint64_t age_ms, long min_ms, long max_ms)
{
	uint64_t iv = age_ms / 25;

	if (iv < (uint64_t)min_ms)
		return min_ms;
	return iv > (uint64_t)max_ms ? max_ms : (long)iv;
}
