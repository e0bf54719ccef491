/*
 * counters.h - a small thread-safe table of event counters, each a count
 * and an error count under a short key ("proxmox/vm"), for the metrics a
 * long-running process shows (watch --listen, core/metrics.h).
 *
 * Bounded: at most COUNTERS_MAX keys of at most COUNTERS_KEY_MAX bytes;
 * once full, new keys count under COUNTERS_OVERFLOW, and a longer key is
 * cut. The callers' keys come from fixed tables, so the set stays small.
 * A NULL table counts nothing, so code that is not watched pays nothing.
 */
#ifndef PVE_GITOPS_COUNTERS_H
#define PVE_GITOPS_COUNTERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTERS_MAX	  64
#define COUNTERS_KEY_MAX  63
#define COUNTERS_OVERFLOW "other/other"

struct counter {
	char key[COUNTERS_KEY_MAX + 1];
	uint64_t count, errors;
};

struct counters {
	pthread_mutex_t mu;
	struct counter v[COUNTERS_MAX];
	size_t n;
};

void counters_init(struct counters *c);
void counters_release(struct counters *c);

/* Count one event under key (error: one error too). c NULL: nothing. */
void counters_add(struct counters *c, const char *key, bool error);

/* Copy up to max counters, sorted by key, into out; returns how many. */
size_t counters_snapshot(struct counters *c, struct counter *out, size_t max);

#endif
