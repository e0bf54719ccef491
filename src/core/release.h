/*
 * release.h - the next semantic version and its release notes, computed
 * the way semantic-release 24 does with its default plugins.
 *
 * A commit message is parsed as conventional-commits-parser 6 does with
 * the angular preset (header "type(scope): subject", BREAKING CHANGE
 * notes, references, reverts); commits reverted inside the range drop out
 * with their reverts (conventional-commits-filter); the release type is
 * the highest one @semantic-release/commit-analyzer's default rules give
 * any commit, plus extra type rules from the configuration; the version is
 * the last one bumped (1.0.0 for a first release); the notes are what
 * @semantic-release/release-notes-generator writes with the angular
 * templates; CHANGELOG.md is prepended as @semantic-release/changelog
 * does. Pure: the caller reads tags and commits from git and passes the
 * date. Every returned string is owned by the struct that holds it.
 */
#ifndef PVE_GITOPS_RELEASE_H
#define PVE_GITOPS_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

#define RELEASE_TAG_FORMAT    "v${version}"
#define RELEASE_FIRST_VERSION "1.0.0"
#define RELEASE_MAX_RULES     64

enum release_type {
	RELEASE_NONE = 0,
	RELEASE_PATCH,
	RELEASE_MINOR,
	RELEASE_MAJOR,
};

/* "patch", "minor", "major", or NULL for RELEASE_NONE. */
const char *release_type_name(enum release_type t);
/* Parse "patch", "minor" or "major"; -1 for anything else. */
int release_type_parse(enum release_type *out, const char *s);

/* An extra rule: commits of this type trigger at least this release. */
struct release_rule {
	const char *type; /* a conventional type: [A-Za-z0-9_]{1,32} */
	enum release_type release;
};

/* What the configuration may change. Borrowed strings. */
struct release_opts {
	const char *tag_format; /* holds "${version}" once */
	const struct release_rule *rules;
	size_t nr_rules;
};

#define RELEASE_OPTS_INIT                   \
	{                                   \
		RELEASE_TAG_FORMAT, NULL, 0 \
	}

/* 0, or -1 with e set (EXIT_INVALID) saying what is wrong with opts. */
int release_opts_check(const struct release_opts *o, struct err *e);

struct semver {
	uint64_t major, minor, patch;
	bool prerelease;
};

/*
 * Parse a strict semantic version ("1.2.3", "1.2.3-rc.1+b5", an optional
 * leading "v"), as node-semver does: at most 256 characters, numbers
 * without leading zeros and at most 2^53-1. Returns 0 or -1.
 */
int semver_parse(struct semver *out, const char *s, size_t len);
/* <0, 0, >0 by precedence (build metadata ignored). */
int semver_cmp(const struct semver *a, const struct semver *b);
/* "X.Y.Z" of v bumped by t (RELEASE_NONE: v itself) into out. */
int semver_bump(struct strbuf *out, const struct semver *v, enum release_type t,
		struct err *e);

/*
 * The version a tag name stands for under format: 1 with *out set when it
 * matches (prefix, version, suffix) and the version is valid, else 0.
 */
int release_tag_match(struct semver *out, const char *format, const char *tag);
/* The tag name for version under format, into out. */
void release_tag_name(struct strbuf *out, const char *format,
		      const char *version);

/*
 * The last release among tags (names, one each): the highest version that
 * is not a prerelease; the first listed wins a tie. Returns its index, or
 * -1 when no tag is a release.
 */
long release_last_tag(const char *const *tags, size_t nr, const char *format,
		      struct semver *out);

/* Where links in the notes point; from the repository URL. */
struct release_repo {
	char *host;	  /* "https://github.com" */
	char *owner;	  /* "acme", or NULL */
	char *repository; /* "provisioner" ("sub/proj" on GitLab) */
	const char *issue_path, *commit_path; /* "issues", "commit" */
	const char *const *actions;	      /* closing keywords */
	const char *const *prefixes;	      /* "#", "gh-" */
};

/*
 * Parse a remote URL (https://, ssh://, git://, http://, or scp-like
 * user@host:path) as release-notes-generator does. Returns 0, or -1 when
 * the URL gives no web address (a local path, file://): then out is the
 * default host configuration without links.
 */
int release_repo_parse(struct release_repo *out, const char *url);
void release_repo_release(struct release_repo *r);

struct release_ref {
	char *action; /* "closes", or NULL */
	char *owner, *repository, *issue, *raw;
};

/* One commit as git gives it. */
struct release_raw {
	const char *hash;    /* full hash */
	const char *subject; /* git's %s, or NULL to derive it from msg */
	const char *msg;     /* the raw message (%B) */
	size_t len;
};

struct release_commit {
	char *hash;
	char *header, *type, *scope, *subject; /* NULL when absent */
	struct strvec notes;		       /* BREAKING CHANGE texts */
	struct release_ref *refs;
	size_t nr_refs, alloc_refs;
	bool revert;			   /* a revert commit */
	char *revert_header, *revert_hash; /* what it reverts, or NULL */
	char *tag, *emoji, *component;	   /* meta fields (-tag-) */
	bool subject_set; /* by the header or a meta field, not git's %s */
};

/*
 * Parse one commit message (any bytes; invalid UTF-8 is read as U+FFFD
 * like Node does) with the reference keywords of repo (NULL: the
 * defaults). A header that is not "type(scope): subject" leaves git's
 * subject (%s) as the subject, as semantic-release's commit objects do.
 * Returns 1 with *out filled, 0 for an empty message (which
 * semantic-release skips), -1 when semantic-release itself would fail on
 * the message (a "-notes-" meta line).
 */
int release_commit_parse(struct release_commit *out,
			 const struct release_raw *raw,
			 const struct release_repo *repo, struct err *e);
void release_commit_release(struct release_commit *c);

/*
 * Mark in keep[] the commits that survive: a revert and the commit it
 * reverts (same header and full hash) both drop when both are in the list.
 * Commits are in git log order (newest first).
 */
void release_filter_reverted(const struct release_commit *c, size_t nr,
			     bool *keep);

/* The release type of one commit, and of the kept commits together. */
enum release_type release_commit_type(const struct release_commit *c,
				      const struct release_opts *o);
enum release_type release_analyze(const struct release_commit *c, size_t nr,
				  const bool *keep,
				  const struct release_opts *o);

struct release_notes_ctx {
	const char *version;	  /* "1.3.0" */
	const char *previous_tag; /* "v1.2.3", or NULL for a first release */
	const char *current_tag;  /* "v1.3.0" */
	const char *date;	  /* "2026-11-24", UTC */
	const struct release_repo *repo; /* NULL or no host: no links */
};

/* The release notes in the angular format, appended to out. */
void release_notes(struct strbuf *out, const struct release_commit *c,
		   size_t nr, const bool *keep,
		   const struct release_notes_ctx *ctx);

/*
 * The new CHANGELOG.md: notes, then the old content (trimmed) after a
 * blank line, as @semantic-release/changelog writes it.
 */
void release_changelog_prepend(struct strbuf *out, const char *notes,
			       const char *old, size_t old_len);

/* The message of the release commit (@semantic-release/git's default). */
void release_commit_message(struct strbuf *out, const char *version,
			    const char *notes);

struct release_result {
	enum release_type type;
	char *last_tag;	    /* "v1.2.3", or NULL without a last release */
	char *last_version; /* "1.2.3", or NULL without a last release */
	char *version;	    /* the next version; NULL with RELEASE_NONE */
	char *tag;	    /* its tag name */
	char *notes;	    /* the release notes */
	size_t nr_commits;  /* commits read (empty messages excluded) */
};

/*
 * Everything semantic-release decides from the commits since the last
 * release (commits newest first, as git log lists them): the type, the
 * version (1.0.0 without last), its tag and notes, with links when
 * repo_url gives a web address. date is "YYYY-MM-DD". Returns 0 (also
 * when there is nothing to release: out->type is RELEASE_NONE), or -1
 * with e set. Free out with release_result_release().
 */
int release_compute(struct release_result *out, const struct release_opts *o,
		    const char *last_tag, const struct semver *last,
		    const struct release_raw *commits, size_t nr,
		    const char *repo_url, const char *date, struct err *e);
void release_result_release(struct release_result *r);

/*
 * String order of String.prototype.localeCompare (ICU root collation) as
 * release-notes-generator sorts with it: from ICU's own order for ASCII,
 * Latin-1, Latin Extended-A, General Punctuation and currency signs (with
 * accents and case as secondary and tertiary differences); other symbols
 * and emoji by code point among the symbols, other scripts after Latin by
 * code point. <0, 0, >0.
 */
int release_collate(const char *a, const char *b);

#endif
