/*
 * fault.c - the seeded fault sequence (see fault.h): splitmix64 of the
 * seed and the request number, one draw for "hit or not", one for the
 * kind.
 */
#include "fault.h"

#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

static uint64_t splitmix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

unsigned fault_pick(uint64_t seed, uint64_t n, double rate, unsigned mask)
{
	uint64_t r1 = splitmix(seed ^ splitmix(2 * n));
	uint64_t r2 = splitmix(seed ^ splitmix(2 * n + 1));
	unsigned kinds[32], nr = 0, i;

	if (rate <= 0 || (double)(r1 >> 11) / 9007199254740992.0 >= rate)
		return 0;
	for (i = 0; i < 32; i++)
		if (mask & (1u << i))
			kinds[nr++] = 1u << i;
	return nr ? kinds[r2 % nr] : 0;
}

unsigned sim_fault_all(const char *const *names)
{
	unsigned mask = 0, i;

	for (i = 0; names[i] && i < 32; i++)
		mask |= 1u << i;
	return mask;
}

void sim_faults_init(struct sim_faults *f, const char *const *names)
{
	f->rate = 0;
	f->names = names;
	f->mask = sim_fault_all(names);
	f->seed = 1;
	f->seq = 0;
	pthread_mutex_init(&f->mu, NULL);
}

void sim_faults_release(struct sim_faults *f)
{
	pthread_mutex_destroy(&f->mu);
}

unsigned sim_faults_next(struct sim_faults *f)
{
	unsigned fault;

	pthread_mutex_lock(&f->mu);
	fault = fault_pick(f->seed, f->seq++, f->rate, f->mask);
	pthread_mutex_unlock(&f->mu);
	return fault;
}

const char *sim_fault_name(const char *const *names, unsigned f)
{
	unsigned i;

	for (i = 0; names[i] && i < 32; i++)
		if (f == 1u << i)
			return names[i];
	return NULL;
}

static int unknown_fault(const char *tok, const char *const *names,
			 struct err *e)
{
	struct strbuf all = STRBUF_INIT;
	size_t i;

	for (i = 0; names[i]; i++)
		strbuf_addf(&all, "%s%s", i ? ", " : "", names[i]);
	err_set(e, EXIT_INVALID, "--faults: '%s' is not one of %s", tok,
		all.buf);
	strbuf_release(&all);
	return -1;
}

int sim_faults_parse(unsigned *mask, const char *list, const char *const *names,
		     struct err *e)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	int ret = 0;
	size_t i;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; names[i] && strcmp(names[i], tok); i++)
			;
		if (!names[i]) {
			ret = unknown_fault(tok, names, e);
			break;
		}
		*mask |= 1u << i;
	}
	free(copy);
	return ret;
}
