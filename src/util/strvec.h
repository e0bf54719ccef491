/*
 * strvec.h - a NULL-terminated vector of owned strings, for argv and env.
 *
 * v is always a valid NULL-terminated array (a shared empty one until the
 * first push), so it can be handed to posix_spawn as it is.
 */
#ifndef PVE_GITOPS_STRVEC_H
#define PVE_GITOPS_STRVEC_H

#include <stddef.h>

extern const char *strvec_empty[];

struct strvec {
	const char **v;
	size_t nr;
	size_t alloc;
};

#define STRVEC_INIT                \
	{                          \
		strvec_empty, 0, 0 \
	}

void strvec_init(struct strvec *sv);
/* Append a copy of s. */
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append copies of each argument up to a terminating NULL. */
void strvec_pushl(struct strvec *sv, ...);
void strvec_clear(struct strvec *sv);

#endif
