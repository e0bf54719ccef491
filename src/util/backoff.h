/*
 * backoff.h - time for retries and polls: a monotonic clock, a sleep that
 * survives signals, and jittered exponential backoff.
 *
 * Every retry loop and poll in the program (the Proxmox and Vault clients,
 * the SSH wait, watch) uses these, so they agree on EINTR and on the clock.
 */
#ifndef PVE_GITOPS_BACKOFF_H
#define PVE_GITOPS_BACKOFF_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (not affected by changes of the date). */
uint64_t mono_ms(void);

/* Sleep ms milliseconds; a signal does not cut the sleep short. */
void sleep_ms(long ms);

struct backoff {
	long base_ms; /* the first delay */
	long max_ms;  /* no delay above this */
	uint64_t rng; /* xorshift state, never 0 */
};

/* Set up a backoff; seed 0 picks one from the clock and the pid. */
void backoff_init(struct backoff *b, long base_ms, long max_ms, uint64_t seed);

/*
 * The delay before retry number attempt (0 for the first retry): the
 * exponential step min(base * 2^attempt, max), jittered uniformly between
 * its half and the whole so that clients that failed together do not retry
 * together.
 */
long backoff_delay(struct backoff *b, unsigned attempt);

#endif
