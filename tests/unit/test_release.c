/*
 * test_release.c - core/release/ over tables: commit parsing, reverted
 * commits, the release type, versions and tags, repository URLs, string
 * order, release notes, CHANGELOG.md, and every error path.
 *
 * The expected values of the parse, filter, analyze, notes, semver,
 * collate, tag and repo tables are what the JavaScript that
 * semantic-release 24.2.9 runs gave for the same input (Node 20, offline):
 * conventional-commits-parser 6.4.0's CommitParser with the angular
 * preset's options (conventional-changelog-angular 8.3.1) and the default
 * host's reference keywords; conventional-commits-filter's
 * filterRevertedCommitsSync; @semantic-release/commit-analyzer 13.0.1's
 * analyzeCommits (extra types as releaseRules = the default angular rules
 * plus {type, release}); @semantic-release/release-notes-generator
 * 14.1.1's generateNotes (whose run date was 2026-11-24); semver 7's
 * valid(); String.prototype.localeCompare; get-tags.js's tag pattern with
 * semver.clean(); the repository URL code of release-notes-generator's
 * index.js. Where this implementation deliberately differs, the row says
 * why.
 */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/release.h"

struct parse_row {
	const char *msg;
	const char *type, *scope, *subject;
	const char *notes[4];
	const char *refs[6]; /* "action:owner/repository#issue" */
	const char *revert;  /* "header|hash" */
};

struct analyze_row {
	const char *msgs[9];
	const char *hashes[9];
	struct release_rule rules[3];
	size_t nr_rules;
	enum release_type want;
};

struct notes_row {
	const char *url, *last, *version;
	const char *commits[5][2];
	const char *want;
};

struct filter_row {
	const char *commits[4][2];
	size_t nr;
	bool keep[4];
};

struct semver_row {
	const char *s;
	bool valid;
};

struct collate_row {
	const char *a, *b;
	int want;
};

struct tag_row {
	const char *format, *tag, *version; /* version: NULL for no match */
};

struct repo_row {
	const char *url, *host, *owner, *repository; /* host NULL: no links */
};

static const struct parse_row parse_rows[] = {
	{ "feat: add x", "feat", NULL, "add x", { NULL }, { NULL }, NULL },
	{ "feat(api): add x",
	  "feat",
	  "api",
	  "add x",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat(*): star", "feat", "*", "star", { NULL }, { NULL }, NULL },
	{ "feat!: bang", NULL, NULL, "feat!: bang", { NULL }, { NULL }, NULL },
	{ "feat(api)!: bang",
	  NULL,
	  NULL,
	  "feat(api)!: bang",
	  { NULL },
	  { NULL },
	  NULL },
	{ "Feat: upper", "Feat", NULL, "upper", { NULL }, { NULL }, NULL },
	{ "feat:x", NULL, NULL, "feat:x", { NULL }, { NULL }, NULL },
	{ "feat : x", NULL, NULL, "feat : x", { NULL }, { NULL }, NULL },
	{ "feat(): empty scope",
	  "feat",
	  NULL,
	  "empty scope",
	  { NULL },
	  { NULL },
	  NULL },
	{ ": empty type", NULL, NULL, "empty type", { NULL }, { NULL }, NULL },
	{ "feat(a)(b): nested",
	  "feat",
	  "a)(b",
	  "nested",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat(a): b (c): d",
	  "feat",
	  "a): b (c",
	  "d",
	  { NULL },
	  { NULL },
	  NULL },
	{ "WIP", NULL, NULL, "WIP", { NULL }, { NULL }, NULL },
	{ "Merge branch 'topic'",
	  NULL,
	  NULL,
	  "Merge branch 'topic'",
	  { NULL },
	  { NULL },
	  NULL },
	{ "Merge pull request #7 from acme/fix\n\nfeat: z",
	  NULL,
	  NULL,
	  "Merge pull request #7 from acme/fix",
	  { NULL },
	  { "null:/#7", NULL },
	  NULL },
	{ "fix: a (#42)",
	  "fix",
	  NULL,
	  "a (#42)",
	  { NULL },
	  { "null:/#42", NULL },
	  NULL },
	{ "fix: a\n\ncloses #1, fixes acme/other#2\nresolves gh-3",
	  "fix",
	  NULL,
	  "a",
	  { NULL },
	  { "closes:/#1", "fixes:acme/other#2", "resolves:/#3", NULL },
	  NULL },
	{ "fix: see #4 and #5",
	  "fix",
	  NULL,
	  "see #4 and #5",
	  { NULL },
	  { "null:/#4", "null:/#5", NULL },
	  NULL },
	{ "fix: c\n\nRefs: https://example.com/x#7",
	  "fix",
	  NULL,
	  "c",
	  { NULL },
	  { NULL },
	  NULL },
	{ "fix: prefix #7",
	  "fix",
	  NULL,
	  "prefix #7",
	  { NULL },
	  { "fix:/#7", NULL },
	  NULL },
	{ "fix: closes #8, closes #8",
	  "fix",
	  NULL,
	  "closes #8, closes #8",
	  { NULL },
	  { "closes:/#8", NULL },
	  NULL },
	{ "fix: x\n\nFixes: GH-9; closing #10)",
	  "fix",
	  NULL,
	  "x",
	  { NULL },
	  { "closing:/#10", NULL },
	  NULL },
	{ "feat: a\n\nBREAKING CHANGE: one\nmore\n\nsecond",
	  "feat",
	  NULL,
	  "a",
	  { "one\nmore\n\nsecond", NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\nBREAKING CHANGE: one\nBREAKING CHANGE: two",
	  "feat",
	  NULL,
	  "a",
	  { "one", "two", NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\n  * breaking change: lower",
	  "feat",
	  NULL,
	  "a",
	  { "lower", NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\n| BREAKING CHANGE:",
	  "feat",
	  NULL,
	  "a",
	  { "", NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\nBREAKING-CHANGE: hyphen",
	  "feat",
	  NULL,
	  "a",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\nBREAKING CHANGES: plural",
	  "feat",
	  NULL,
	  "a",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\nBREAKING CHANGE:\ntext on next line",
	  "feat",
	  NULL,
	  "a",
	  { "text on next line", NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\nBREAKING CHANGE: x\nsee #12\nafter",
	  "feat",
	  NULL,
	  "a",
	  { "x", NULL },
	  { "null:/#12", NULL },
	  NULL },
	{ "feat: a\n\n---\nBREAKING CHANGE: swallowed",
	  "feat",
	  NULL,
	  "a",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat: a\n\n--\nBREAKING CHANGE: kept",
	  "feat",
	  NULL,
	  "a",
	  { "kept", NULL },
	  { NULL },
	  NULL },
	{ "chore: a\n\n-type-\nfeat",
	  "chore\nfeat",
	  NULL,
	  "a",
	  { NULL },
	  { NULL },
	  NULL },
	{ "weird\n\n-type-\nfeat",
	  "feat",
	  NULL,
	  "weird",
	  { NULL },
	  { NULL },
	  NULL },
	{ "weird\n\n-scope-\nx\n-subject-\ny",
	  NULL,
	  "x",
	  "y",
	  { NULL },
	  { NULL },
	  NULL },
	{ "fix: crlf\r\n\r\nBREAKING CHANGE: w\r\n",
	  "fix",
	  NULL,
	  "crlf",
	  { "w", NULL },
	  { NULL },
	  NULL },
	{ "gpg: sig\nfix: signed",
	  "fix",
	  NULL,
	  "signed",
	  { NULL },
	  { NULL },
	  NULL },
	{ "Revert \"feat: risky\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
	  NULL,
	  NULL,
	  "Revert \"feat: risky\"",
	  { NULL },
	  { NULL },
	  "feat: risky|0123456789abcdef0123456789abcdef01234567" },
	{ "revert: feat: x\n\nThis reverts commit abcdef1.",
	  "revert",
	  NULL,
	  "feat: x",
	  { NULL },
	  { NULL },
	  "feat: x|abcdef1" },
	{ "Revert \"feat: x\"",
	  NULL,
	  NULL,
	  "Revert \"feat: x\"",
	  { NULL },
	  { NULL },
	  NULL },
	{ "REVERT \"a\" this REVERTS commit 1234567",
	  NULL,
	  NULL,
	  "REVERT \"a\" this REVERTS commit 1234567",
	  { NULL },
	  { NULL },
	  "a|1234567" },
	{ "Revert \"\"quoted\"\"\n\nThis reverts commit 1234567890.",
	  NULL,
	  NULL,
	  "Revert \"\"quoted\"\"",
	  { NULL },
	  { NULL },
	  "\"quoted\"|1234567890" },
	{ "Revert \"x\"\n\nThis reverts commit aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.",
	  NULL,
	  NULL,
	  "Revert \"x\"",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat: multi\nline first paragraph\n\nbody",
	  "feat",
	  NULL,
	  "multi",
	  { NULL },
	  { NULL },
	  NULL },
	{ "fix: lone\rcr",
	  NULL,
	  NULL,
	  "fix: lone\rcr",
	  { NULL },
	  { NULL },
	  NULL },
	{ "feat: tab\there",
	  "feat",
	  NULL,
	  "tab\there",
	  { NULL },
	  { NULL },
	  NULL },
	{ "  fix: leading spaces  ",
	  "fix",
	  NULL,
	  "leading spaces",
	  { NULL },
	  { NULL },
	  NULL },
	{ "fix: mention @octocat",
	  "fix",
	  NULL,
	  "mention @octocat",
	  { NULL },
	  { NULL },
	  NULL },
	{ "fix(a\342\200\250b): sep",
	  NULL,
	  NULL,
	  "fix(a\342\200\250b): sep",
	  { NULL },
	  { NULL },
	  NULL },
};

static const struct filter_row filter_rows[] = {
	{ { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "1111111111222222222233333333334444444444", "feat: a" } },
	  2,
	  { false, false } },
	{ { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd", "fix: b" },
	    { "1111111111222222222233333333334444444444", "feat: a" },
	    { "5555555555666666666677777777778888888888", "docs: c" } },
	  4,
	  { false, true, false, true } },
	{ { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111." },
	    { "1111111111222222222233333333334444444444", "feat: a" } },
	  2,
	  { true, true } },
	{ { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: b\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "1111111111222222222233333333334444444444", "feat: a" } },
	  2,
	  { true, true } },
	{ { { "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd",
	      "Revert \"Revert \"feat: a\"\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567." },
	    { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "1111111111222222222233333333334444444444", "feat: a" } },
	  3,
	  { false, false, true } },
	{ { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "5555555555666666666677777777778888888888",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." },
	    { "1111111111222222222233333333334444444444", "feat: a" } },
	  3,
	  { false, true, false } },
	{ { { "1111111111222222222233333333334444444444", "feat: a" },
	    { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444." } },
	  2,
	  { true, true } },
};

static const struct analyze_row analyze_rows[] = {
	{ { "fix: a", "docs: b", "chore: c", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_PATCH },
	{ { "feat: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_MINOR },
	{ { "perf: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_PATCH },
	{ { "docs: a", "style: b", "refactor: c", "test: d", "build: e",
	    "ci: f", "chore: g", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_NONE },
	{ { "feat!: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_NONE },
	{ { "Feat: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_NONE },
	{ { "FEAT: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_MINOR },
	{ { "FIX: a", NULL }, { NULL }, { { 0 } }, 0, RELEASE_PATCH },
	{ { "chore: a\n\nBREAKING CHANGE: b", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_MAJOR },
	{ { "feat: a\n\nBREAKING CHANGES: b", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_MINOR },
	{ { "x\n\n-tag-\nFEATURE", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_MINOR },
	{ { "x\n\n-tag-\nBreaking", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_MAJOR },
	{ { "x\n\n-emoji-\n:bug:", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_PATCH },
	{ { "x\n\n-component-\ndeps", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_PATCH },
	{ { "revert: feat: x", NULL }, { NULL }, { { 0 } }, 0, RELEASE_NONE },
	{ { "Revert \"x\"\n\nThis reverts commit 1234567.", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_PATCH },
	{ { "Revert \"feat: a\"\n\nThis reverts commit 1111111111222222222233333333334444444444.",
	    "feat: a", NULL },
	  { "0123456789abcdef0123456789abcdef01234567",
	    "1111111111222222222233333333334444444444", NULL },
	  { { 0 } },
	  0,
	  RELEASE_NONE },
	{ { "Merge pull request #7 from a/b\n\nfeat: z", "docs: y", NULL },
	  { NULL },
	  { { 0 } },
	  0,
	  RELEASE_NONE },
	{ { "chore: a", "docs: b", NULL },
	  { NULL },
	  { { "chore", RELEASE_PATCH },
	    { "docs", RELEASE_PATCH },
	    { "style", RELEASE_PATCH } },
	  3,
	  RELEASE_PATCH },
	{ { "style: a", NULL },
	  { NULL },
	  { { "style", RELEASE_MINOR } },
	  1,
	  RELEASE_MINOR },
	{ { "test: a", NULL },
	  { NULL },
	  { { "chore", RELEASE_PATCH } },
	  1,
	  RELEASE_NONE },
	{ { "chore: a\n\nBREAKING CHANGE: b", NULL },
	  { NULL },
	  { { "chore", RELEASE_PATCH } },
	  1,
	  RELEASE_MAJOR },
	{ { "feat: a", NULL },
	  { NULL },
	  { { "feat", RELEASE_PATCH } },
	  1,
	  RELEASE_MINOR },
};

static const struct notes_row notes_rows[] = {
	{ "https://github.com/acme/provisioner.git",
	  "v1.2.3",
	  "2.0.0",
	  { { "0123456789abcdef0123456789abcdef01234567",
	      "feat(api): add clone (#42)\n\ncloses #1, fixes acme/other#2" },
	    { "1111111111222222222233333333334444444444",
	      "fix: thanks @octocat" },
	    { "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd",
	      "refactor(core): drop v1\n\nBREAKING CHANGE: v1 is gone\nuse v2" },
	    { "5555555555666666666677777777778888888888", "docs: not shown" } },
	  "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) (2026-11-24)\n"
	  "\n"
	  "\n"
	  "### Bug Fixes\n"
	  "\n"
	  "* thanks [@octocat](https://github.com/octocat) ([1111111](https://github.com/acme/provisioner/commit/1111111111222222222233333333334444444444))\n"
	  "\n"
	  "\n"
	  "### Code Refactoring\n"
	  "\n"
	  "* **core:** drop v1 ([aaaaaaa](https://github.com/acme/provisioner/commit/aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd))\n"
	  "\n"
	  "\n"
	  "### Features\n"
	  "\n"
	  "* **api:** add clone ([#42](https://github.com/acme/provisioner/issues/42)) ([0123456](https://github.com/acme/provisioner/commit/0123456789abcdef0123456789abcdef01234567)), closes [#1](https://github.com/acme/provisioner/issues/1) [acme/other#2](https://github.com/acme/other/issues/2)\n"
	  "\n"
	  "\n"
	  "### BREAKING CHANGES\n"
	  "\n"
	  "* **core:** v1 is gone\n"
	  "use v2\n" },
	{ "https://github.com/acme/provisioner.git",
	  "v1.2.3",
	  "1.2.4",
	  { { "0123456789abcdef0123456789abcdef01234567",
	      "Revert \"feat: risky\"\n\nThis reverts commit 9999999999999999999999999999999999999999." },
	    { "1111111111222222222233333333334444444444",
	      "fix(*): star scope" } },
	  "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) (2026-11-24)\n"
	  "\n"
	  "\n"
	  "### Bug Fixes\n"
	  "\n"
	  "* star scope ([1111111](https://github.com/acme/provisioner/commit/1111111111222222222233333333334444444444))\n"
	  "\n"
	  "\n"
	  "### Reverts\n"
	  "\n"
	  "* Revert \"feat: risky\" ([0123456](https://github.com/acme/provisioner/commit/0123456789abcdef0123456789abcdef01234567))\n" },
	{ "git@gitlab.com:group/sub/proj.git",
	  "v0.4.0",
	  "0.5.0",
	  { { "0123456789abcdef0123456789abcdef01234567",
	      "feat(b): x\n\ncloses #3, gh-4" },
	    { "1111111111222222222233333333334444444444", "feat(a): y" },
	    { "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd", "feat: z" } },
	  "# [0.5.0](https://gitlab.com/group/sub/proj/compare/v0.4.0...v0.5.0) (2026-11-24)\n"
	  "\n"
	  "\n"
	  "### Features\n"
	  "\n"
	  "* **a:** y ([1111111](https://gitlab.com/group/sub/proj/commit/1111111111222222222233333333334444444444))\n"
	  "* **b:** x ([0123456](https://gitlab.com/group/sub/proj/commit/0123456789abcdef0123456789abcdef01234567)), closes [#3](https://gitlab.com/group/sub/proj/issues/3)\n"
	  "* z ([aaaaaaa](https://gitlab.com/group/sub/proj/commit/aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd))\n" },
	{ "https://bitbucket.org/team/app",
	  "v2.0.0",
	  "2.0.1",
	  { { "0123456789abcdef0123456789abcdef01234567",
	      "fix: a\n\nfixes #2" } },
	  "## [2.0.1](https://bitbucket.org/team/app/compare/v2.0.0...v2.0.1) (2026-11-24)\n"
	  "\n"
	  "\n"
	  "### Bug Fixes\n"
	  "\n"
	  "* a ([0123456](https://bitbucket.org/team/app/commits/0123456789abcdef0123456789abcdef01234567)), closes [#2](https://bitbucket.org/team/app/issue/2)\n" },
	{ "ssh://git@git.example.com:2222/team/app.git",
	  NULL,
	  "1.0.0",
	  { { "0123456789abcdef0123456789abcdef01234567", "fix: first" } },
	  "# 1.0.0 (2026-11-24)\n"
	  "\n"
	  "\n"
	  "### Bug Fixes\n"
	  "\n"
	  "* first ([0123456](https://git.example.com/team/app/commit/0123456789abcdef0123456789abcdef01234567))\n" },
	{ "https://github.com/acme/provisioner.git",
	  "v1.2.3",
	  "2.0.0",
	  { { "0123456789abcdef0123456789abcdef01234567",
	      "Update everything\n\nBREAKING CHANGE: all new" },
	    { "1111111111222222222233333333334444444444",
	      "chore(deps): bump\n\nBREAKING CHANGE: node 20" },
	    { "aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd",
	      "Feat: upper\n\nBREAKING CHANGE: typed" },
	    { "5555555555666666666677777777778888888888", "perf: fast" } },
	  "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) (2026-11-24)\n"
	  "\n"
	  "\n"
	  "* Update everything ([0123456](https://github.com/acme/provisioner/commit/0123456789abcdef0123456789abcdef01234567))\n"
	  "\n"
	  "\n"
	  "### chore\n"
	  "\n"
	  "* **deps:** bump ([1111111](https://github.com/acme/provisioner/commit/1111111111222222222233333333334444444444))\n"
	  "\n"
	  "\n"
	  "### Feat\n"
	  "\n"
	  "* upper ([aaaaaaa](https://github.com/acme/provisioner/commit/aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd))\n"
	  "\n"
	  "\n"
	  "### Performance Improvements\n"
	  "\n"
	  "* fast ([5555555](https://github.com/acme/provisioner/commit/5555555555666666666677777777778888888888))\n"
	  "\n"
	  "\n"
	  "### BREAKING CHANGES\n"
	  "\n"
	  "* all new\n"
	  "* **deps:** node 20\n"
	  "* typed\n" },
};

static const struct semver_row semver_rows[] = {
	{ "1.2.3", true },
	{ "v1.2.3", true },
	{ "1.2", false },
	{ "01.2.3", false },
	{ "1.02.3", false },
	{ "0.0.0", true },
	{ "1.2.3-rc.1", true },
	{ "1.2.3-01", false },
	{ "1.2.3-0a", true },
	{ "1.2.3+build.01", true },
	{ "1.2.3-", false },
	{ "1.2.3+", false },
	{ "1.2.3-a..b", false },
	{ "1.2.3-a.b-c", true },
	{ "9007199254740991.0.0", true },
	{ "9007199254740992.0.0", false },
	{ "=1.2.3", false },
	{ "vv1.2.3", false },
	{ "1.2.3.4", false },
	{ "1.2.3-alpha+", false },
	{ "", false },
	{ "V1.2.3", false },
	/* node-semver trims; a tag name never holds white space */
	{ "1.2.3 ", false },
	{ "1.11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111.0",
	  false },
};
static const struct collate_row collate_rows[] = {
	{ "a", "A", -1 },
	{ "ab", "Aa", 1 },
	{ "a b", "ab", -1 },
	{ "a-b", "ab", -1 },
	{ "a_b", "ab", -1 },
	{ "1", "a", -1 },
	{ "\303\251", "f", -1 },
	{ "\303\251", "e", 1 },
	{ "", "a", -1 },
	{ "a", "a ", -1 },
	{ "Ab", "ab", 1 },
	{ "r\303\251sum\303\251", "resume", 1 },
	{ "x\001", "x", 0 },
	{ "aB", "Ab", -1 },
	{ "chore", "Features", -1 },
	{ "Bug Fixes", "BREAKING CHANGES", 1 },
	{ "[#1]", "a", -1 },
	{ "_under", "9lives", -1 },
	{ "\342\234\250", "apple", -1 },
	{ "\303\237", "ss", 1 },
	{ "\303\246", "af", -1 },
	{ "Zebra", "zebra", 1 },
	{ "~", "$", -1 },
	{ "\342\202\254", "1", -1 },
	{ "\305\202", "m", -1 },
	{ "\344\270\255", "z", 1 },
	{ "a\tb", "a b", -1 },
	{ "\302\240", " ", 1 },
};
static const struct tag_row tag_rows[] = {
	{ "v${version}", "v1.2.3", "1.2.3" },
	{ "v${version}", "1.2.3", NULL },
	{ "v${version}", "v1.2", NULL },
	{ "v${version}", "v1.2.3-rc.1", "1.2.3-rc.1" },
	{ "v${version}", "vv1.2.3", "v1.2.3" },
	/* semantic-release keeps it, then throws on "=1.2.3" */
	{ "v${version}", "v=1.2.3", NULL },
	{ "v${version}", "v1.2.3+b.1", "1.2.3+b.1" },
	{ "v${version}", "release-2", NULL },
	{ "release-${version}", "release-1.2.3", "1.2.3" },
	{ "${version}", "1.2.3", "1.2.3" },
	{ "${version}-final", "1.2.3-final", "1.2.3" },
	{ "${version}-final", "1.2.3-final-x", "1.2.3" },
	{ "app/v${version}", "app/v2.0.0", "2.0.0" },
	{ "app/v${version}", "v2.0.0", NULL },
	{ "v${version}", "v01.2.3", NULL },
	{ "v${version}", "v", NULL },
};
static const struct repo_row repo_rows[] = {
	{ "https://github.com/acme/provisioner.git", "https://github.com",
	  "acme", "provisioner" },
	{ "git@github.com:acme/provisioner.git", "https://github.com", "acme",
	  "provisioner" },
	{ "https://user:s3cret@github.com/acme/provisioner.git",
	  "https://github.com", "acme", "provisioner" },
	{ "ssh://git@git.example.com:2222/team/app.git",
	  "https://git.example.com", "team", "app" },
	{ "http://git.example.com:8080/team/app.git",
	  "http://git.example.com:8080", "team", "app" },
	{ "https://git.example.com:443/team/app", "https://git.example.com",
	  "team", "app" },
	{ "http://git.example.com:80/team/app", "http://git.example.com",
	  "team", "app" },
	{ "https://gitlab.com/group/sub/proj.git", "https://gitlab.com",
	  "group", "sub/proj" },
	{ "git://host.example/o/r", "https://host.example", "o", "r" },
	{ "https://GitHub.com/Acme/X.GIT", "https://github.com", "Acme", "X" },
	{ "git+https://github.com/acme/x.git", "https://github.com", "acme",
	  "x" },
	{ "https://github.com/acme/x.git/", "https://github.com", "acme",
	  "x.git/" },
	{ "https://github.com/acme/x?y=1#z", "https://github.com", "acme",
	  "x" },
};

#define DATE "2026-11-24"
#define HASH "0123456789abcdef0123456789abcdef01234567"

static void expect_str(const char *got, const char *want, const char *what,
		       size_t row)
{
	if ((!got && !want) || (got && want && !strcmp(got, want)))
		return;
	fail_msg("row %zu: %s: got %s%s%s, want %s%s%s", row, what,
		 got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		 want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

static struct release_raw raw_of(const char *hash, const char *msg)
{
	struct release_raw r = { hash, NULL, msg, strlen(msg) };

	return r;
}

static void release__parse(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(parse_rows); i++) {
		const struct parse_row *row = &parse_rows[i];
		struct release_raw raw = raw_of(HASH, row->msg);
		struct release_commit c;
		struct strbuf sb = STRBUF_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 1);
		expect_str(c.type, row->type, "type", i);
		expect_str(c.scope, row->scope, "scope", i);
		expect_str(c.subject, row->subject, "subject", i);
		for (j = 0; row->notes[j] || j < c.notes.nr; j++)
			expect_str(j < c.notes.nr ? c.notes.v[j] : NULL,
				   row->notes[j], "note", i);
		for (j = 0; row->refs[j] || j < c.nr_refs; j++) {
			const struct release_ref *r = &c.refs[j];

			strbuf_reset(&sb);
			if (j < c.nr_refs)
				strbuf_addf(&sb, "%s:%s/%s#%s",
					    r->action ? r->action : "null",
					    r->owner ? r->owner : "",
					    r->repository ? r->repository : "",
					    r->issue);
			expect_str(j < c.nr_refs ? sb.buf : NULL, row->refs[j],
				   "reference", i);
		}
		strbuf_reset(&sb);
		if (c.revert_hash)
			strbuf_addf(&sb, "%s|%s", c.revert_header,
				    c.revert_hash);
		expect_str(c.revert_hash ? sb.buf : NULL, row->revert, "revert",
			   i);
		assert_true(c.revert == !!row->revert);
		strbuf_release(&sb);
		release_commit_release(&c);
		err_release(&e);
	}
}

static void release__parse_subject_from_git(void **state)
{
	struct release_raw raw = { HASH, "Merge pull request #7", "x\n\ny", 3 };
	struct release_commit c;
	struct err e = ERR_INIT;

	(void)state;
	/* a header that is not conventional keeps git's %s as subject */
	assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 1);
	assert_string_equal(c.subject, "Merge pull request #7");
	assert_string_equal(c.header, "x");
	release_commit_release(&c);
	/* a conventional one its own */
	raw.msg = "fix: own";
	raw.len = 8;
	assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 1);
	assert_string_equal(c.subject, "own");
	release_commit_release(&c);
}

static void release__parse_invalid_utf8(void **state)
{
	static const char msg[] = "fix: caf\xe9 \xed\xa0\x80!\xf0\x9f";
	struct release_raw raw = raw_of(HASH, msg);
	struct release_commit c;
	struct err e = ERR_INIT;

	(void)state;
	/* Node's decoder: one U+FFFD per maximal invalid subpart */
	assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 1);
	assert_string_equal(c.subject,
			    "caf\357\277\275 \357\277\275\357\277\275"
			    "\357\277\275!\357\277\275");
	release_commit_release(&c);
}

static void release__parse_empty(void **state)
{
	static const char *const msgs[] = { "", " \n\t\r\n", "\n\n" };
	struct release_commit c;
	struct err e = ERR_INIT;
	size_t i;

	(void)state;
	/* semantic-release skips commits whose message is empty */
	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		struct release_raw raw = raw_of(HASH, msgs[i]);

		assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 0);
		release_commit_release(&c);
	}
}

/* Messages semantic-release itself throws on: an error, not a guess. */
static void release__parse_errors(void **state)
{
	static const struct {
		const char *msg, *why;
	} rows[] = {
		{ "feat: a\n\n-notes-\nx",
		  "a '-notes-' or '-references-' line" },
		{ "feat: a\n\n-references-\nx",
		  "a '-notes-' or '-references-' line" },
		{ "feat: a\n\n-mentions-\nx @bob", "a '-mentions-' line and an "
						   "@mention" },
		{ "feat: a\n\nBREAKING CHANGE: x\n--",
		  "a meta line ('-x-') as the last line of a BREAKING CHANGE "
		  "note" },
	};
	struct release_commit c;
	struct strbuf want = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct release_raw raw = raw_of(HASH, rows[i].msg);
		struct err e = ERR_INIT;

		assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), -1);
		assert_int_equal(e.exit_code, EXIT_FAIL);
		strbuf_reset(&want);
		strbuf_addf(&want,
			    "commit 0123456789ab: semantic-release cannot "
			    "parse its message (%s)",
			    rows[i].why);
		assert_string_equal(e.msg.buf, want.buf);
		assert_null(c.hash);
		err_release(&e);
	}
	/* "-mentions-" without an @mention is harmless */
	{
		struct release_raw raw =
			raw_of(HASH, "feat: a\n\n-mentions-\nx");
		struct err e = ERR_INIT;

		assert_int_equal(release_commit_parse(&c, &raw, NULL, &e), 1);
		release_commit_release(&c);
	}
	strbuf_release(&want);
}

static void release__filter_reverted(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(filter_rows); i++) {
		const struct filter_row *row = &filter_rows[i];
		struct release_commit c[4];
		bool keep[4];
		struct err e = ERR_INIT;

		for (j = 0; j < row->nr; j++) {
			struct release_raw raw =
				raw_of(row->commits[j][0], row->commits[j][1]);

			assert_int_equal(
				release_commit_parse(&c[j], &raw, NULL, &e), 1);
		}
		release_filter_reverted(c, row->nr, keep);
		for (j = 0; j < row->nr; j++) {
			if (keep[j] != row->keep[j])
				fail_msg("row %zu: commit %zu kept %d", i, j,
					 keep[j]);
			release_commit_release(&c[j]);
		}
	}
}

static void release__analyze(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(analyze_rows); i++) {
		const struct analyze_row *row = &analyze_rows[i];
		struct release_opts o = RELEASE_OPTS_INIT;
		struct release_raw raw[9];
		struct release_result r;
		struct err e = ERR_INIT;
		static const char zeros[] =
			"0000000000000000000000000000000000000000";
		char hashes[9][41];

		for (n = 0; row->msgs[n]; n++) {
			snprintf(hashes[n], sizeof(hashes[n]), "%.*s%zu", 39,
				 zeros, n);
			raw[n] = raw_of(row->hashes[0] ? row->hashes[n]
						       : hashes[n],
					row->msgs[n]);
		}
		o.rules = row->rules;
		o.nr_rules = row->nr_rules;
		assert_int_equal(release_compute(&r, &o, NULL, NULL, raw, n,
						 NULL, DATE, &e),
				 0);
		if (r.type != row->want)
			fail_msg("row %zu: release %s, want %s", i,
				 release_type_name(r.type),
				 release_type_name(row->want));
		release_result_release(&r);
	}
}

static void release__notes(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(notes_rows); i++) {
		const struct notes_row *row = &notes_rows[i];
		struct release_opts o = RELEASE_OPTS_INIT;
		struct release_raw raw[5];
		struct release_result r;
		struct semver last;
		struct err e = ERR_INIT;

		for (n = 0; row->commits[n][0]; n++)
			raw[n] = raw_of(row->commits[n][0], row->commits[n][1]);
		if (row->last)
			assert_true(release_tag_match(&last, "v${version}",
						      row->last));
		assert_int_equal(release_compute(&r, &o, row->last,
						 row->last ? &last : NULL, raw,
						 n, row->url, DATE, &e),
				 0);
		expect_str(r.version, row->version, "version", i);
		expect_str(r.notes, row->want, "notes", i);
		release_result_release(&r);
	}
}

/* Without a web address: what the writer makes without a repository
 * (short hashes, plain #N, no compare link). */
static void release__notes_without_links(void **state)
{
	static const char *const urls[] = { NULL, "", "/srv/git/infra.git",
					    "file:///srv/git/infra.git",
					    "https://github.com/acme" };
	static const char want[] =
		"# 1.3.0 (" DATE ")\n\n\n### Bug Fixes\n\n"
		"* a (#3) 0123456, closes #3 #4 acme/x#5\n\n\n"
		"### Features\n\n* **api:** b @bob 1111111\n";
	struct release_raw raw[] = {
		raw_of("1111111111222222222233333333334444444444",
		       "feat(api): b @bob"),
		raw_of(HASH, "fix: a (#3)\n\ncloses #4, acme/x#5"),
	};
	struct release_opts o = RELEASE_OPTS_INIT;
	struct semver last = { 1, 2, 3, false };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(urls); i++) {
		struct release_result r;
		struct err e = ERR_INIT;

		assert_int_equal(release_compute(&r, &o, "v1.2.3", &last, raw,
						 2, urls[i], DATE, &e),
				 0);
		expect_str(r.notes, want, "notes", i);
		release_result_release(&r);
	}
}

static void release__compute(void **state)
{
	struct release_opts o = RELEASE_OPTS_INIT;
	struct release_raw fix = raw_of(HASH, "fix: x"),
			   docs = raw_of(HASH, "docs: x"),
			   empty = raw_of(HASH, "");
	struct release_raw both[] = { docs, empty, fix };
	struct semver last = { 1, 2, 3, false };
	struct release_result r;
	struct err e = ERR_INIT;

	(void)state;
	/* a first release is 1.0.0 whatever the type, heading without link */
	assert_int_equal(release_compute(&r, &o, NULL, NULL, &fix, 1,
					 "https://github.com/a/b", DATE, &e),
			 0);
	assert_int_equal(r.type, RELEASE_PATCH);
	assert_string_equal(r.version, "1.0.0");
	assert_string_equal(r.tag, "v1.0.0");
	assert_null(r.last_version);
	assert_null(r.last_tag);
	assert_true(!strncmp(r.notes, "# 1.0.0 (" DATE ")\n", 20));
	release_result_release(&r);
	/* nothing releasable */
	assert_int_equal(release_compute(&r, &o, "v1.2.3", &last, &docs, 1,
					 NULL, DATE, &e),
			 0);
	assert_int_equal(r.type, RELEASE_NONE);
	assert_null(r.version);
	assert_null(r.notes);
	assert_string_equal(r.last_version, "1.2.3");
	assert_string_equal(r.last_tag, "v1.2.3");
	release_result_release(&r);
	/* no commits at all */
	assert_int_equal(release_compute(&r, &o, "v1.2.3", &last, NULL, 0, NULL,
					 DATE, &e),
			 0);
	assert_int_equal(r.type, RELEASE_NONE);
	release_result_release(&r);
	/* empty messages are skipped, not counted */
	assert_int_equal(release_compute(&r, &o, "v1.2.3", &last, both, 3, NULL,
					 DATE, &e),
			 0);
	assert_int_equal(r.nr_commits, 2);
	assert_string_equal(r.version, "1.2.4");
	release_result_release(&r);
	/* a custom tag format names the tag */
	o.tag_format = "release-${version}-final";
	assert_int_equal(release_compute(&r, &o, "release-1.2.3-final", &last,
					 &fix, 1, NULL, DATE, &e),
			 0);
	assert_string_equal(r.tag, "release-1.2.4-final");
	release_result_release(&r);
}

static void release__compute_errors(void **state)
{
	struct release_opts o = RELEASE_OPTS_INIT;
	struct release_raw bad = raw_of(HASH, "feat: a\n\n-notes-\nx");
	struct semver last = { 9007199254740991ULL, 0, 0, false };
	struct release_raw feat =
		raw_of(HASH, "feat!: x\n\nBREAKING CHANGE: y");
	struct release_result r;
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(
		release_compute(&r, &o, NULL, NULL, &bad, 1, NULL, DATE, &e),
		-1);
	assert_int_equal(e.exit_code, EXIT_FAIL);
	assert_null(r.version);
	err_release(&e);
	assert_int_equal(release_compute(&r, &o, "v9007199254740991.0.0", &last,
					 &feat, 1, NULL, DATE, &e),
			 -1);
	assert_string_equal(e.msg.buf, "cannot bump version "
				       "9007199254740991.0.0: the number would "
				       "exceed 2^53-1");
	assert_int_equal(e.exit_code, EXIT_INVALID);
	err_release(&e);
	o.tag_format = "v";
	assert_int_equal(
		release_compute(&r, &o, NULL, NULL, &feat, 1, NULL, DATE, &e),
		-1);
	assert_int_equal(e.exit_code, EXIT_INVALID);
	err_release(&e);
}

static void release__opts_check(void **state)
{
	static const struct release_rule bad_type[] = { { "a-b",
							  RELEASE_PATCH } };
	static const struct release_rule empty_type[] = { { "",
							    RELEASE_PATCH } };
	static const struct release_rule long_type[] = {
		{ "t23456789012345678901234567890123", RELEASE_PATCH }
	};
	static const struct release_rule no_release[] = { { "chore",
							    RELEASE_NONE } };
	static const struct release_rule good[] = {
		{ "chore", RELEASE_PATCH },
		{ "docs", RELEASE_MINOR },
		{ "t2345678901234567890123456789012", RELEASE_MAJOR }
	};
	static const struct {
		const char *format;
		const struct release_rule *rules;
		size_t nr;
		const char *msg; /* NULL: valid */
	} rows[] = {
		{ "v${version}", NULL, 0, NULL },
		{ "app/v${version}-final", good, 3, NULL },
		{ "${version}", NULL, 0, NULL },
		{ "v", NULL, 0,
		  "tag format 'v' must contain '${version}' exactly once" },
		{ "v${version}${version}", NULL, 0,
		  "tag format 'v${version}${version}' must contain "
		  "'${version}' exactly once" },
		{ "v<%= version %>", NULL, 0,
		  "tag format 'v<%= version %>' must contain '${version}' "
		  "exactly once" },
		{ "-v${version}", NULL, 0,
		  "tag format '-v${version}' may not start with '-'" },
		{ "/v${version}", NULL, 0,
		  "tag format '/v${version}' may not start with '/'" },
		{ "v ${version}", NULL, 0,
		  "tag format 'v ${version}': ' ' is not allowed (a git tag "
		  "name around '${version}')" },
		{ "v${version}~1", NULL, 0,
		  "tag format 'v${version}~1': '~' is not allowed (a git tag "
		  "name around '${version}')" },
		{ "v${version}\t", NULL, 0,
		  "tag format 'v${version}\t': '?' is not allowed (a git tag "
		  "name around '${version}')" },
		{ "${x}${version}", NULL, 0,
		  "tag format '${x}${version}': '$' is not allowed (a git tag "
		  "name around '${version}')" },
		{ "v..${version}", NULL, 0,
		  "tag format 'v..${version}' does not give a valid git tag "
		  "name" },
		{ "v${version}.lock", NULL, 0,
		  "tag format 'v${version}.lock' does not give a valid git tag "
		  "name" },
		{ "v${version}/", NULL, 0,
		  "tag format 'v${version}/' does not give a valid git tag "
		  "name" },
		{ "v${version}@{x", NULL, 0,
		  "tag format 'v${version}@{x': '{' is not allowed (a git tag "
		  "name around '${version}')" },
		{ "v${version}"
		  "01234567890123456789012345678901234567890123456789"
		  "01234567890123456789012345678901234567890",
		  NULL, 0, "tag format is longer than 100 characters" },
		{ "v${version}", bad_type, 1,
		  "release type 'a-b': a commit type is 1 to 32 letters, "
		  "digits or '_'" },
		{ "v${version}", empty_type, 1,
		  "release type '': a commit type is 1 to 32 letters, digits "
		  "or '_'" },
		{ "v${version}", long_type, 1,
		  "release type 't23456789012345678901234567890123': a commit "
		  "type is 1 to 32 letters, digits or '_'" },
		{ "v${version}", no_release, 1,
		  "release type 'chore': the release must be patch, minor or "
		  "major" },
		{ "v${version}", good, RELEASE_MAX_RULES + 1,
		  "65 release types given (at most 64)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct release_opts o = { rows[i].format, rows[i].rules,
					  rows[i].nr };
		struct err e = ERR_INIT;
		int r = release_opts_check(&o, &e);

		if (!rows[i].msg) {
			if (r)
				fail_msg("row %zu: %s", i, e.msg.buf);
		} else {
			assert_int_equal(r, -1);
			assert_int_equal(e.exit_code, EXIT_INVALID);
			expect_str(e.msg.buf, rows[i].msg, "message", i);
		}
		err_release(&e);
	}
}

static void release__semver_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(semver_rows); i++) {
		struct semver v;
		int r = semver_parse(&v, semver_rows[i].s,
				     strlen(semver_rows[i].s));

		if ((r == 0) != semver_rows[i].valid)
			fail_msg("row %zu: '%s' valid: %d", i, semver_rows[i].s,
				 r == 0);
	}
}

static void release__semver_order_and_bump(void **state)
{
	static const struct {
		const char *from;
		enum release_type t;
		const char *to;
	} bumps[] = {
		{ "1.2.3", RELEASE_PATCH, "1.2.4" },
		{ "1.2.3", RELEASE_MINOR, "1.3.0" },
		{ "1.2.3", RELEASE_MAJOR, "2.0.0" },
		{ "1.2.3", RELEASE_NONE, "1.2.3" },
		{ "0.4.0", RELEASE_MINOR, "0.5.0" },
		{ "0.4.0", RELEASE_MAJOR, "1.0.0" },
		{ "v1.2.3+b.5", RELEASE_PATCH, "1.2.4" },
		{ "9007199254740990.0.0", RELEASE_MAJOR,
		  "9007199254740991.0.0" },
	};
	struct semver a, b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bumps); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct err e = ERR_INIT;

		assert_int_equal(
			semver_parse(&a, bumps[i].from, strlen(bumps[i].from)),
			0);
		assert_int_equal(semver_bump(&sb, &a, bumps[i].t, &e), 0);
		expect_str(sb.buf, bumps[i].to, "bump", i);
		strbuf_release(&sb);
	}
	assert_int_equal(semver_parse(&a, "1.2.3", 5), 0);
	assert_int_equal(semver_parse(&b, "1.10.0", 6), 0);
	assert_true(semver_cmp(&a, &b) < 0);
	assert_int_equal(semver_parse(&b, "1.2.3-rc.1", 10), 0);
	assert_true(semver_cmp(&a, &b) > 0);
	assert_int_equal(semver_parse(&b, "1.2.3+x", 7), 0);
	assert_int_equal(semver_cmp(&a, &b), 0);
}

static void release__tag_match(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(tag_rows); i++) {
		struct semver got, want;
		int r = release_tag_match(&got, tag_rows[i].format,
					  tag_rows[i].tag);

		if (!tag_rows[i].version) {
			if (r)
				fail_msg("row %zu: '%s' matched", i,
					 tag_rows[i].tag);
			continue;
		}
		if (!r)
			fail_msg("row %zu: '%s' did not match", i,
				 tag_rows[i].tag);
		assert_int_equal(semver_parse(&want, tag_rows[i].version,
					      strlen(tag_rows[i].version)),
				 0);
		assert_int_equal(semver_cmp(&got, &want), 0);
	}
}

static void release__tag_name_and_last(void **state)
{
	static const char *const tags[] = {
		"v1.2.3", "junk", "v2.0.0", "v1.5.0", "v3.0.0-rc.1", "vv2.0.0"
	};
	static const char *const ties[] = { "v1.2.3+a", "v1.2.3+b" };
	static const char *const none[] = { "1.2.3", "release-2" };
	struct strbuf sb = STRBUF_INIT;
	struct semver v;

	(void)state;
	release_tag_name(&sb, "app/v${version}-x", "1.2.3");
	assert_string_equal(sb.buf, "app/v1.2.3-x");
	strbuf_release(&sb);
	/* the highest release; prereleases do not count; first of a tie */
	assert_int_equal(
		release_last_tag(tags, ARRAY_SIZE(tags), "v${version}", &v), 2);
	assert_true(v.major == 2 && v.minor == 0 && v.patch == 0);
	assert_int_equal(release_last_tag(ties, 2, "v${version}", &v), 0);
	assert_int_equal(release_last_tag(none, 2, "v${version}", &v), -1);
	assert_int_equal(release_last_tag(none, 2, "${version}", &v), 0);
	assert_int_equal(release_last_tag(NULL, 0, "v${version}", &v), -1);
}

static void release__repo_parse(void **state)
{
	static const char *const no_links[] = {
		"",
		"/srv/git/infra.git",
		"file:///srv/git/infra.git",
		"origin",
		"https://github.com/",
		"https://github.com/onlyowner",
		"https://user@/x/y",
		"https://host:port/x/y",
	};
	struct release_repo r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(repo_rows); i++) {
		assert_int_equal(release_repo_parse(&r, repo_rows[i].url), 0);
		expect_str(r.host, repo_rows[i].host, "host", i);
		expect_str(r.owner, repo_rows[i].owner, "owner", i);
		expect_str(r.repository, repo_rows[i].repository, "repository",
			   i);
		release_repo_release(&r);
	}
	for (i = 0; i < ARRAY_SIZE(no_links); i++) {
		if (release_repo_parse(&r, no_links[i]) != -1)
			fail_msg("'%s' gave links", no_links[i]);
		assert_null(r.host);
		assert_non_null(r.actions);
		release_repo_release(&r);
	}
	assert_int_equal(release_repo_parse(&r, NULL), -1);
	release_repo_release(&r);
	/* the host's keywords and paths */
	assert_int_equal(release_repo_parse(&r, "https://bitbucket.org/t/a"),
			 0);
	assert_string_equal(r.issue_path, "issue");
	assert_string_equal(r.commit_path, "commits");
	release_repo_release(&r);
}

static void release__collate(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(collate_rows); i++) {
		int r = release_collate(collate_rows[i].a, collate_rows[i].b);

		r = r < 0 ? -1 : r > 0;
		if (r != collate_rows[i].want)
			fail_msg("row %zu: '%s' vs '%s': %d, want %d", i,
				 collate_rows[i].a, collate_rows[i].b, r,
				 collate_rows[i].want);
	}
}

static void release__changelog(void **state)
{
	static const struct {
		const char *old, *want;
	} rows[] = {
		{ NULL, "## 1.0.0\n\n* a\n" },
		{ "", "## 1.0.0\n\n* a\n" },
		{ " \n\t\n", "## 1.0.0\n\n* a\n" },
		{ "# 0.9.0\n", "## 1.0.0\n\n* a\n\n# 0.9.0\n" },
		{ "\n\n# 0.9.0\n\n\n", "## 1.0.0\n\n* a\n\n# 0.9.0\n" },
		{ "\357\273\277# 0.9.0", "## 1.0.0\n\n* a\n\n# 0.9.0\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf sb = STRBUF_INIT;

		release_changelog_prepend(
			&sb, "\n## 1.0.0\n\n* a\n\n", rows[i].old,
			rows[i].old ? strlen(rows[i].old) : 0);
		expect_str(sb.buf, rows[i].want, "CHANGELOG.md", i);
		strbuf_release(&sb);
	}
}

static void release__commit_message(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	release_commit_message(&sb, "1.3.0", "# 1.3.0 (x)\n\n\n### F\n");
	assert_string_equal(sb.buf, "chore(release): 1.3.0 [skip ci]\n\n"
				    "# 1.3.0 (x)\n\n\n### F\n");
	strbuf_release(&sb);
}

static void release__type_names(void **state)
{
	enum release_type t;

	(void)state;
	assert_null(release_type_name(RELEASE_NONE));
	assert_int_equal(release_type_parse(&t, "minor"), 0);
	assert_int_equal(t, RELEASE_MINOR);
	assert_string_equal(release_type_name(t), "minor");
	assert_int_equal(release_type_parse(&t, "none"), -1);
	assert_int_equal(release_type_parse(&t, "Major"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(release__parse),
		cmocka_unit_test(release__parse_subject_from_git),
		cmocka_unit_test(release__parse_invalid_utf8),
		cmocka_unit_test(release__parse_empty),
		cmocka_unit_test(release__parse_errors),
		cmocka_unit_test(release__filter_reverted),
		cmocka_unit_test(release__analyze),
		cmocka_unit_test(release__notes),
		cmocka_unit_test(release__notes_without_links),
		cmocka_unit_test(release__compute),
		cmocka_unit_test(release__compute_errors),
		cmocka_unit_test(release__opts_check),
		cmocka_unit_test(release__semver_parse),
		cmocka_unit_test(release__semver_order_and_bump),
		cmocka_unit_test(release__tag_match),
		cmocka_unit_test(release__tag_name_and_last),
		cmocka_unit_test(release__repo_parse),
		cmocka_unit_test(release__collate),
		cmocka_unit_test(release__changelog),
		cmocka_unit_test(release__commit_message),
		cmocka_unit_test(release__type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
