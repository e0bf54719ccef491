/*
 * recost.h - how large a POSIX extended regular expression becomes once
 * compiled. glibc's regcomp copies a sub-expression once per count of a
 * bounded repetition ("(a{1,200}){1,200}" is 40,000 copies) and once more
 * for every "+" (X+ is X X*, so "a+++..." doubles each time), which takes
 * gigabytes or crashes; patterns from configuration files are measured
 * here first and refused when they would expand past a limit. Compile
 * time also grows faster than the size (epsilon closures), so the limit
 * is low: real host-name patterns expand to a few dozen elements.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef PVE_GITOPS_RECOST_H
#define PVE_GITOPS_RECOST_H

#include <stddef.h>

/* Pattern elements after expanding counted repetitions (saturating). */
size_t regex_expanded_size(const char *pattern);

/* The limit for patterns we accept from configuration. */
#define REGEX_MAX_EXPANDED 500

#endif
