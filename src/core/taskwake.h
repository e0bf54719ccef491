/*
 * taskwake.h - the decisions of the shared task poller (io/pve.c), pure.
 *
 * One request lists a node's running tasks (GET /nodes/{node}/tasks
 * ?source=active) for every worker waiting on a task there. A waiter
 * registered after that request was sent may have a task the answer does
 * not know yet, so each registration and each poll carries a sequence
 * number: a poll judges only the waiters registered before it was sent.
 */
#ifndef PVE_GITOPS_TASKWAKE_H
#define PVE_GITOPS_TASKWAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Whether the waiter registered as number seq should read its task's
 * status after the poll sent when poll_seq waiters had registered: it was
 * registered before the poll, and the poll failed or was cut short
 * (unsure: every judged waiter looks itself) or its task (upid) is not
 * among the active[0..n) the poll listed.
 */
bool taskwake_ended(const char *upid, unsigned long seq, unsigned long poll_seq,
		    const char *const *active, size_t n, bool unsure);

/*
 * How often a task that has run age_ms wants its node polled: a
 * twenty-fifth of its age, so that its end is seen within 4% of its run
 * time, between min_ms and max_ms. A node is polled at the interval its
 * youngest waiter wants: the load is one request per node per interval,
 * whatever the number of tasks, and a long task alone polls rarely.
 */
long taskwake_interval(uint64_t age_ms, long min_ms, long max_ms);

/*
 * When a waiter on a node wakes next (ms, monotonic): at the node's next
 * poll (next_ms) unless a poll is on its way (polling: its answer wakes
 * it), and never after its deadline. 0 means no timed wake-up.
 */
uint64_t taskwake_wake_at(bool polling, uint64_t next_ms, uint64_t deadline);

#endif
