/*
 * release_int.h - what the files of src/core/release/ share and nothing
 * else may use: the JS text helpers (text.c), the host defaults of a
 * repository (repo.c), the reference scan (refs.c) and the collator the
 * notes sort with (collate.c). The public interface is core/release.h.
 *
 * The upstream code is JavaScript built on regular expressions; each one
 * is reproduced here by hand as a linear scan that finds what the JS
 * engine finds (greedy and lazy parts, its \s, \w and '.', ASCII-only case
 * folding), with the pattern quoted above the function. Text is UTF-8;
 * invalid bytes are first replaced by U+FFFD as Node's decoder does, so
 * that every later scan sees what Node saw.
 *
 * Checked against semantic-release 24.2.9 itself: the table of histories
 * in tests/integration/release.py, the tables of tests/unit/test_release.c,
 * and differential runs of random commit sets through its JS API. Where
 * this code knowingly differs: a message semantic-release throws on is an
 * error here; tags whose version part starts with "=" or "vv" (which pass
 * its semver.clean() and then make it throw) are not releases; without a
 * web URL for the remote there are no links (semantic-release builds
 * broken ones from file:// URLs); sorting outside the characters listed
 * in collation_table is by code point.
 */
#ifndef PVE_GITOPS_RELEASE_INT_H
#define PVE_GITOPS_RELEASE_INT_H

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/release.h"
#include "util/utf8.h"
#include "util/xalloc.h"

/* ---- text.c: characters as ECMAScript regular expressions see them ---- */

/* Length of the WhiteSpace or LineTerminator (JS \s) at p[0..n), or 0. */
size_t js_space(const char *p, size_t n);
/* 1 when p[0..n) starts with a character JS '.' does not match. */
int js_terminator(const char *p, size_t n);
/* JS \w: ASCII letters, digits and '_'. */
int js_is_word(int c);
/* ASCII lower case, as JS /i folds. */
int js_lower(int c);
/* s[0..n) starts with word (ASCII, case-insensitive as JS /i). */
int js_ci_prefix(const char *s, size_t n, const char *word);
/* String.prototype.trim() on s[0..*len): *s and *len narrowed. */
void js_trim(const char **s, size_t *len);
/* s[0..len) as Node decodes it, appended to out: invalid UTF-8 becomes
 * U+FFFD, one for each maximal subpart. */
void js_decode_utf8(struct strbuf *out, const char *s, size_t len);
/* A JS string's truthiness: not NULL and not empty. */
int js_truthy(const char *s);

/* ---- repo.c ---- */

/* lib/hosts-config.js: the keywords, prefixes and paths of hostname
 * (NULL or an unknown host: the defaults). */
void release_repo_defaults(struct release_repo *r, const char *hostname);

/* ---- refs.c ---- */

/* parseReferences(): the references of line s[0..n), added to c with the
 * keywords and prefixes of r. Returns how many were found. */
size_t release_refs_parse(struct release_commit *c,
			  const struct release_repo *r, const char *s,
			  size_t n);

/* ---- collate.c ---- */

struct collation_element {
	uint32_t primary; /* 0: ignorable */
	unsigned char secondary, tertiary;
};

struct collator_entry {
	uint32_t cp;
	struct collation_element ce;
};

struct collator {
	struct collator_entry *e;
	size_t nr;
	uint32_t arrows, symbols, last; /* for the characters not listed */
};

/* Build the collation table; release with release_collator_release(). */
void release_collator_init(struct collator *c);
void release_collator_release(struct collator *c);
/* The sort key of s appended to out; memcmp() order of two keys (see
 * release_key_cmp) is the collation order of the strings. */
void release_collation_key(struct strbuf *out, const struct collator *c,
			   const char *s);
/* <0, 0, >0 for two sort keys. */
int release_key_cmp(const struct strbuf *a, const struct strbuf *b);

#endif
