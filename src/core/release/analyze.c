/*
 * analyze.c - which commits count and what release they make: reverted
 * commits drop out with their reverts (conventional-commits-filter), then
 * commit-analyzer's default release rules and the configured extra rules
 * give each commit a type and the range the highest one.
 */
#include "core/release/release_int.h"

/* isMatch(): both headers and hashes equal after trim(). */
static int reverts(const struct release_commit *rev,
		   const struct release_commit *c)
{
	const char *a, *b;
	size_t al, bl;

	if (!rev->revert_hash || !c->header || !c->hash)
		return 0;
	a = rev->revert_header;
	al = strlen(a);
	b = c->header;
	bl = strlen(b);
	js_trim(&a, &al);
	js_trim(&b, &bl);
	if (al != bl || memcmp(a, b, al))
		return 0;
	a = rev->revert_hash;
	al = strlen(a);
	b = c->hash;
	bl = strlen(b);
	js_trim(&a, &al);
	js_trim(&b, &bl);
	return al == bl && !memcmp(a, b, al);
}

/*
 * RevertedCommitsFilter: a revert is held back, and while one is held so
 * is every other commit; a commit a held revert matches drops together
 * with that revert (the first one held). Whatever is still held at the
 * end survives, in its order.
 */
void release_filter_reverted(const struct release_commit *c, size_t nr,
			     bool *keep)
{
	size_t *hold = xcalloc(nr ? nr : 1, sizeof(*hold));
	size_t nhold = 0, reverts_held = 0, i, j;

	for (i = 0; i < nr; i++) {
		keep[i] = false;
		for (j = 0; j < nhold; j++)
			if (c[hold[j]].revert && reverts(&c[hold[j]], &c[i]))
				break;
		if (j < nhold) {
			memmove(hold + j, hold + j + 1,
				(nhold - j - 1) * sizeof(*hold));
			nhold--;
			reverts_held--;
			continue;
		}
		if (c[i].revert) {
			hold[nhold++] = i;
			reverts_held++;
		} else if (reverts_held) {
			hold[nhold++] = i;
		} else {
			for (j = 0; j < nhold; j++)
				keep[hold[j]] = true;
			nhold = 0;
			keep[i] = true;
		}
	}
	for (j = 0; j < nhold; j++)
		keep[hold[j]] = true;
	free(hold);
}

/* ---- the release type (commit-analyzer's default-release-rules.js) ---- */

enum rule_field { F_TYPE, F_TAG, F_EMOJI, F_COMPONENT };

static const struct {
	enum rule_field field;
	const char *value;
	enum release_type release;
} default_rules[] = {
	/* Angular */
	{ F_TYPE, "feat", RELEASE_MINOR },
	{ F_TYPE, "fix", RELEASE_PATCH },
	{ F_TYPE, "perf", RELEASE_PATCH },
	/* Atom */
	{ F_EMOJI, ":racehorse:", RELEASE_PATCH },
	{ F_EMOJI, ":bug:", RELEASE_PATCH },
	{ F_EMOJI, ":penguin:", RELEASE_PATCH },
	{ F_EMOJI, ":apple:", RELEASE_PATCH },
	{ F_EMOJI, ":checkered_flag:", RELEASE_PATCH },
	/* Ember */
	{ F_TAG, "BUGFIX", RELEASE_PATCH },
	{ F_TAG, "FEATURE", RELEASE_MINOR },
	{ F_TAG, "SECURITY", RELEASE_PATCH },
	/* ESLint */
	{ F_TAG, "Breaking", RELEASE_MAJOR },
	{ F_TAG, "Fix", RELEASE_PATCH },
	{ F_TAG, "Update", RELEASE_MINOR },
	{ F_TAG, "New", RELEASE_MINOR },
	/* Express */
	{ F_COMPONENT, "perf", RELEASE_PATCH },
	{ F_COMPONENT, "deps", RELEASE_PATCH },
	/* JSHint */
	{ F_TYPE, "FEAT", RELEASE_MINOR },
	{ F_TYPE, "FIX", RELEASE_PATCH },
};

static const char *rule_value(const struct release_commit *c, enum rule_field f)
{
	switch (f) {
	case F_TYPE:
		return c->type;
	case F_TAG:
		return c->tag;
	case F_EMOJI:
		return c->emoji;
	case F_COMPONENT:
		return c->component;
	}
	return NULL;
}

/*
 * The highest release of the rules a commit matches: a BREAKING CHANGE
 * note is major, a revert patch, then the type rules. The extra rules
 * join the defaults (semantic-release with releaseRules set to the
 * default rules plus these); the highest wins.
 */
enum release_type release_commit_type(const struct release_commit *c,
				      const struct release_opts *o)
{
	enum release_type t = RELEASE_NONE;
	const char *v;
	size_t i;

	if (c->notes.nr)
		return RELEASE_MAJOR;
	if (c->revert)
		t = RELEASE_PATCH;
	for (i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++) {
		v = rule_value(c, default_rules[i].field);
		if (v && !strcmp(v, default_rules[i].value) &&
		    default_rules[i].release > t)
			t = default_rules[i].release;
	}
	for (i = 0; o && i < o->nr_rules; i++)
		if (c->type && !strcmp(c->type, o->rules[i].type) &&
		    o->rules[i].release > t)
			t = o->rules[i].release;
	return t;
}

enum release_type release_analyze(const struct release_commit *c, size_t nr,
				  const bool *keep,
				  const struct release_opts *o)
{
	enum release_type t = RELEASE_NONE, one;
	size_t i;

	for (i = 0; i < nr && t != RELEASE_MAJOR; i++) {
		if (keep && !keep[i])
			continue;
		one = release_commit_type(&c[i], o);
		if (one > t)
			t = one;
	}
	return t;
}
