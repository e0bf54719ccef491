/*
 * fault.h - the simulators' fault injection: a seeded, deterministic
 * sequence that decides for the n-th faultable request whether a fault
 * hits it and which kind. Each simulator names its own kinds (one bit
 * each, in the order of its names table); the same seed, rate and mask
 * always give the same sequence, so a failing test run can be replayed.
 */
#ifndef SIM_COMMON_FAULT_H
#define SIM_COMMON_FAULT_H

#include <pthread.h>
#include <stdint.h>

#include "util/err.h"

struct sim_faults {
	double rate;   /* share of requests hit, 0 to 1 */
	unsigned mask; /* the kinds allowed: bit i is names[i] */
	uint64_t seed;
	const char *const *names; /* NULL-terminated, one per bit */
	pthread_mutex_t mu;	  /* guards seq */
	uint64_t seq;		  /* faultable requests so far */
};

/*
 * The fault for the n-th request with this seed: 0 or one bit of mask,
 * chosen uniformly among mask's bits when one hits (probability rate).
 */
unsigned fault_pick(uint64_t seed, uint64_t n, double rate, unsigned mask);

/* Set up f with no faults (rate 0), every kind of names allowed, seed 1. */
void sim_faults_init(struct sim_faults *f, const char *const *names);
void sim_faults_release(struct sim_faults *f);
/* The fault for the next faultable request (thread-safe). */
unsigned sim_faults_next(struct sim_faults *f);
/* The name of fault bit f ("http500", ...), NULL for 0 or an unknown bit. */
const char *sim_fault_name(const char *const *names, unsigned f);
/* All bits of names. */
unsigned sim_fault_all(const char *const *names);
/*
 * Parse a --faults list ("http500,drop") into *mask; an unknown name is
 * an EXIT_INVALID error that lists the allowed ones.
 */
int sim_faults_parse(unsigned *mask, const char *list, const char *const *names,
		     struct err *e);

#endif
