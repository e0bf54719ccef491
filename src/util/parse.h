/*
 * parse.h - bounded number parsing for untrusted text.
 *
 * The replacements for atoi and friends: whole-string matches only, no
 * leading whitespace or sign surprises, explicit bounds.
 */
#ifndef PVE_GITOPS_PARSE_H
#define PVE_GITOPS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s[0..len) as a decimal unsigned integer in [min, max]. Returns 0 and
 * sets *out, or -1 when s is not all digits, is empty or out of range.
 */
int parse_u64(uint64_t *out, const char *s, size_t len, uint64_t min,
	      uint64_t max);
/* The same for a NUL-terminated string. */
int parse_u64z(uint64_t *out, const char *s, uint64_t min, uint64_t max);

/*
 * 1 when s is a non-empty identifier of letters, digits and '_' that does
 * not start with a digit: what an environment variable and an Ansible group
 * (without its warning) may be called.
 */
int is_identifier(const char *s);

#endif
