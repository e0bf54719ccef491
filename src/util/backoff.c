/*
 * backoff.c - clock, sleep and backoff; see backoff.h.
 */
#include "util/backoff.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void backoff_init(struct backoff *b, long base_ms, long max_ms, uint64_t seed)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
	if (!seed)
		seed = mono_ms() * 2654435761u ^ (uint64_t)getpid() << 32;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

long backoff_delay(struct backoff *b, unsigned attempt)
{
	long ms = b->base_ms;

	while (attempt-- > 0 && ms < b->max_ms)
		ms *= 2;
	if (ms > b->max_ms)
		ms = b->max_ms;
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return ms / 2 + (long)(b->rng % (uint64_t)(ms / 2 + 1));
}
