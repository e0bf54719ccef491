#!/usr/bin/python3
"""pve-gitops release against real git repositories.

A table of small histories (merge commits, reverts, squash-merge subjects
with (#123), scopes, '!' in the header, malformed headers, BREAKING CHANGE
footers, extra release types, histories with nothing to release), each
built with real git in a temporary repository with fixed names and dates
so that every commit hash is the same on every run. For each one the
expected next version and release notes are what semantic-release itself
gave on the same history:

    semantic-release 24.2.9 (@semantic-release/commit-analyzer 13.0.1,
    @semantic-release/release-notes-generator 14.1.1) run offline in
    --dry-run --no-ci mode with only those two plugins, on a mirror of
    the repository, the remote URL of the row as repositoryUrl, branch
    main, tagFormat v${version}, reading result.nextRelease.version and
    .notes through its JS API. The rows with extra release types ran with
    releaseRules = the default angular rules plus {type, release} for each
    extra type (what the release_types configuration means).

`release.py BIN SRCDIR --record CMD` rebuilds the histories and prints the
table with what CMD gives (CMD REPO prints the version or "none" and writes
the notes to $SEMREL_NOTES_FILE; $SEMREL_RELEASE_RULES_JSON carries the
rules); the test itself never runs semantic-release. The date in a
heading is the run date, so "{date}" stands for it.

Then each history is released for real: CHANGELOG.md, the commit
"chore(release): X.Y.Z [skip ci]" with the notes as its body, the
lightweight tag, the configured author, and a second run that releases
nothing. Last, the edges: no tags, tags that are not releases, a dirty
work tree, an untracked CHANGELOG.md, a tag that already exists elsewhere,
a failing commit hook (everything is put back), no remote, not a
repository, no commits, bad usage.

Usage: release.py PVE_GITOPS SRCDIR [--record CMD]
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Tap  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
GH = "https://github.com/acme/provisioner.git"
BASE_TIME = 1700000000
EXTRA = {"chore": "patch", "docs": "patch", "style": "patch"}
DEFAULT_RULES = [
    {"breaking": True, "release": "major"},
    {"revert": True, "release": "patch"},
    {"type": "feat", "release": "minor"},
    {"type": "fix", "release": "patch"},
    {"type": "perf", "release": "patch"},
]
TMP = tempfile.mkdtemp(prefix="pve-gitops-release.")


def git_env(step):
    """A clean git environment with a fixed identity and clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    when = "@%d +0000" % (BASE_TIME + 60 * step)
    env.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.com",
               GIT_COMMITTER_NAME="Test",
               GIT_COMMITTER_EMAIL="test@example.com",
               GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return env


def git(repo, *args, check=True):
    r = subprocess.run(["git", "-C", repo] + list(args), env=git_env(0),
                       capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError("git %s: %s" % (" ".join(args), r.stderr))
    return r.stdout.strip()


def build(repo, steps, remote=GH):
    """Make the history: ("c", msg[, label]) a commit adding a file,
    ("file", path, content, msg) one writing path,
    ("tag"|"atag", name), ("br"|"co", branch), ("merge", branch, msg)
    with --no-ff, ("squash", branch, msg), ("revert", label[, label])
    with git's message written out (newer git says "Reapply")."""
    n = [0]

    def g(*args):
        n[0] += 1
        r = subprocess.run(["git", "-C", repo] + list(args),
                           env=git_env(n[0]), capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError("git %s: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    os.makedirs(repo)
    g("init", "-q", "-b", "main")
    if remote:
        g("remote", "add", "origin", remote)
    labels, k = {}, 0
    for s in steps:
        op = s[0]
        if op == "c":
            k += 1
            with open(os.path.join(repo, "f%d.txt" % k), "w") as f:
                f.write("%d\n" % k)
            g("add", "f%d.txt" % k)
            g("commit", "-q", "--cleanup=verbatim", "-m", s[1])
            if len(s) > 2:
                labels[s[2]] = g("rev-parse", "HEAD")
        elif op == "file":
            with open(os.path.join(repo, s[1]), "w") as f:
                f.write(s[2])
            g("add", s[1])
            g("commit", "-q", "-m", s[3])
        elif op == "tag":
            g("tag", s[1])
        elif op == "atag":
            g("tag", "-a", "-m", s[1], s[1])
        elif op == "br":
            g("checkout", "-q", "-b", s[1])
        elif op == "co":
            g("checkout", "-q", s[1])
        elif op == "merge":
            g("merge", "-q", "--no-ff", "-m", s[2], s[1])
        elif op == "squash":
            g("merge", "-q", "--squash", s[1])
            g("commit", "-q", "-m", s[2])
        elif op == "revert":
            h = labels[s[1]]
            subject = g("log", "-1", "--format=%s", h)
            g("revert", "--no-commit", h)
            g("commit", "-q", "-m",
              'Revert "%s"\n\nThis reverts commit %s.' % (subject, h))
            if len(s) > 2:
                labels[s[2]] = g("rev-parse", "HEAD")
        else:
            raise ValueError(op)


I = [("c", "chore: initial"), ("tag", "v1.2.3")]


def row(name, steps, version, notes, remote=GH, extra=None):
    return {"name": name, "steps": steps, "version": version,
            "notes": notes, "remote": remote, "extra": extra}


# The table. version and notes are semantic-release's (see above).
ROWS = [
    row('patch',
        I + [
         ('c', 'fix: handle empty config'),
         ('c', 'docs: readme'),
         ('c', 'chore: tidy')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* handle empty config ([dbeb607](https://github.com/acme/provisioner/commit/dbeb6078b77ed541eac474841b406a215db4a495))\n"),
    row('minor',
        I + [
         ('c', 'fix: handle empty config'),
         ('c', 'feat(api): add vm clone endpoint'),
         ('c', 'docs: readme')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* handle empty config ([dbeb607](https://github.com/acme/provisioner/commit/dbeb6078b77ed541eac474841b406a215db4a495))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **api:** add vm clone endpoint ([0e1c434](https://github.com/acme/provisioner/commit/0e1c4346b2d258eb22f1a6b41a457c1ddc17be04))\n"),
    row('major-footer',
        I + [
         ('c', 'feat: new thing'),
         ('c', 'refactor(core): drop v1 api\n\nBREAKING CHANGE: the v1 api is removed')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Code Refactoring\n"
        "\n"
        "* **core:** drop v1 api ([4ef41fe](https://github.com/acme/provisioner/commit/4ef41fe751f448a3dc28d5626ed49a3ba9ba7697))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* new thing ([d0606bd](https://github.com/acme/provisioner/commit/d0606bd3ca612bcfbca32b80c16f648f14910f9e))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* **core:** the v1 api is removed\n"),
    row('no-release-types',
        I + [
         ('c', 'docs: a'),
         ('c', 'chore: b'),
         ('c', 'style: c'),
         ('c', 'test: d'),
         ('c', 'ci: e'),
         ('c', 'build: f'),
         ('c', 'refactor: g')],
        None,
        ""),
    row('perf',
        I + [
         ('c', 'perf: faster')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Performance Improvements\n"
        "\n"
        "* faster ([04da89e](https://github.com/acme/provisioner/commit/04da89eed600f6f0835d09bef5ff0d972c1ce33a))\n"),
    row('bang-type',
        I + [
         ('c', 'feat!: drop legacy flag')],
        None,
        ""),
    row('bang-scope',
        I + [
         ('c', 'fix: small'),
         ('c', 'feat(api)!: x')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* small ([51b3a90](https://github.com/acme/provisioner/commit/51b3a90c78b29c33f29a8bc02153ce7388063888))\n"),
    row('breaking-hyphen',
        I + [
         ('c', 'feat: a\n\nBREAKING-CHANGE: hyphen')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([9611fb5](https://github.com/acme/provisioner/commit/9611fb5850e0ff625a9300e35259241bd9cf5c52))\n"),
    row('breaking-plural',
        I + [
         ('c', 'feat: a\n\nBREAKING CHANGES: plural')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([f1fa7ea](https://github.com/acme/provisioner/commit/f1fa7ea25a505ef454477c42edaa481d15acf774))\n"),
    row('breaking-no-colon',
        I + [
         ('c', 'feat: a\n\nBREAKING CHANGE without colon')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([0e496e1](https://github.com/acme/provisioner/commit/0e496e12109207640dbf63e2b1ba7f3c30861b68))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* without colon\n"),
    row('breaking-lowercase',
        I + [
         ('c', 'fix: a\n\nbreaking change: lower case counts')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([7e453b1](https://github.com/acme/provisioner/commit/7e453b1a595f1a8545ec509bc0e6d0ebc86d50ce))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* lower case counts\n"),
    row('breaking-chore',
        I + [
         ('c', 'chore(deps): bump\n\nBREAKING CHANGE: node 20 required')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### chore\n"
        "\n"
        "* **deps:** bump ([e2f5d8d](https://github.com/acme/provisioner/commit/e2f5d8dfb2be89059c47646eb2735cd591b9cff8))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* **deps:** node 20 required\n"),
    row('breaking-malformed-header',
        I + [
         ('c', 'Update everything\n\nBREAKING CHANGE: all new')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "* Update everything ([0bda808](https://github.com/acme/provisioner/commit/0bda808f530b7fb582a8cd1d2274fa395c47b73f))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* all new\n"),
    row('breaking-continuation',
        I + [
         ('c', 'feat(cli): flags\n\nBREAKING CHANGE: --old is gone\nuse --new instead\nsee #12 for why\nnot part of the note')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **cli:** flags ([078e2ab](https://github.com/acme/provisioner/commit/078e2abb0d2c70a21e45f60548a714ed2d1f2e52)), closes [#12](https://github.com/acme/provisioner/issues/12)\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* **cli:** --old is gone\n"
        "use --new instead\n"),
    row('breaking-two-notes',
        I + [
         ('c', 'feat: a\n\nBREAKING CHANGE: one\nBREAKING CHANGE: two'),
         ('c', 'fix(x): b\n\n  * BREAKING CHANGE: three')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* **x:** b ([f54cefa](https://github.com/acme/provisioner/commit/f54cefa211af7d4fed93837c079fd4f1118f282c))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([3b81b52](https://github.com/acme/provisioner/commit/3b81b521bc59a1e3d056ab5c7358139436b9003d))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* **x:** three\n"
        "* one\n"
        "* two\n"),
    row('upper-type',
        I + [
         ('c', 'Feat: upper')],
        None,
        ""),
    row('jshint-FEAT',
        I + [
         ('c', 'FEAT: shouting')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"),
    row('no-space',
        I + [
         ('c', 'feat:x'),
         ('c', 'fix :y'),
         ('c', 'feat (api): z')],
        None,
        ""),
    row('malformed',
        I + [
         ('c', 'feat(scope: oops'),
         ('c', ': empty type'),
         ('c', 'WIP'),
         ('c', 'fix(a)(b): nested scope'),
         ('c', 'fix(): empty scope')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* **a)(b:** nested scope ([ef32058](https://github.com/acme/provisioner/commit/ef32058fd0d18608dac9716e3c6c6f16401fdd93))\n"
        "* empty scope ([cbbd24d](https://github.com/acme/provisioner/commit/cbbd24d2f4085c13095a4fa2e74082abedbf6b15))\n"),
    row('squash-subjects',
        I + [
         ('c', 'feat: add thing (#42)'),
         ('c', 'fix(vm): reject empty vmid (#43)\n\n* fix: squashed one\n* feat: squashed two')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* **vm:** reject empty vmid ([#43](https://github.com/acme/provisioner/issues/43)) ([a9ccebe](https://github.com/acme/provisioner/commit/a9ccebe065daabca1d1583b54a5e06c3506951cf))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* add thing ([#42](https://github.com/acme/provisioner/issues/42)) ([750a04a](https://github.com/acme/provisioner/commit/750a04ad1eecb5ef4740e9ef0f0583db00482bb6))\n"),
    row('references',
        I + [
         ('c', 'fix: a\n\ncloses #1, fixes acme/other#2\nresolves gh-3'),
         ('c', 'fix(b): see #4 and #5'),
         ('c', 'fix: c\n\nRefs: https://example.com/x#7')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([f52a996](https://github.com/acme/provisioner/commit/f52a99606a329ffc6ce7f8f6ccbd634a7a5e692f)), closes [#1](https://github.com/acme/provisioner/issues/1) [acme/other#2](https://github.com/acme/other/issues/2) [#3](https://github.com/acme/provisioner/issues/3)\n"
        "* **b:** see [#4](https://github.com/acme/provisioner/issues/4) and [#5](https://github.com/acme/provisioner/issues/5) ([9b4319b](https://github.com/acme/provisioner/commit/9b4319bf8f1751e6bf52c0e48ee2fa1400091298))\n"
        "* c ([b771ea7](https://github.com/acme/provisioner/commit/b771ea79be6b3df2dab33911a6cf545da4b37a07))\n"),
    row('scopes-sorted',
        I + [
         ('c', 'feat(zeta): z'),
         ('c', 'feat(alpha): a'),
         ('c', 'feat: plain'),
         ('c', 'feat(*): star'),
         ('c', 'fix(Beta): B'),
         ('c', 'fix(beta): b'),
         ('c', 'fix: _under'),
         ('c', 'fix: 9lives')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* _under ([31fd6cd](https://github.com/acme/provisioner/commit/31fd6cd8d549b4728f8a614531e2880a7ed86676))\n"
        "* 9lives ([427805c](https://github.com/acme/provisioner/commit/427805c81a8d7af12d70285c4e74f2b38a2bbf94))\n"
        "* **beta:** b ([325f81e](https://github.com/acme/provisioner/commit/325f81e131c6a66b4fe3d8d0588267c98fa144b5))\n"
        "* **Beta:** B ([e2fabcc](https://github.com/acme/provisioner/commit/e2fabcc6dae86883f7cdfb910a91dc5d897f36a8))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **alpha:** a ([b572e42](https://github.com/acme/provisioner/commit/b572e42b21ae6a85dd3ec90209690381d374a94d))\n"
        "* plain ([a8cb800](https://github.com/acme/provisioner/commit/a8cb800e95cafcc963e9cab3947a3978dbf849fa))\n"
        "* star ([ed002c2](https://github.com/acme/provisioner/commit/ed002c2d6e1187d1d78336042fdc8a1e491e4be1))\n"
        "* **zeta:** z ([bba8f70](https://github.com/acme/provisioner/commit/bba8f70728a9ab735a83acc8d84221f233209329))\n"),
    row('mentions',
        I + [
         ('c', 'fix: thanks @octocat and `@code`'),
         ('c', 'feat: ask @org/team and mail a@b.c')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* thanks [@octocat](https://github.com/octocat) and `@code` ([e6c6650](https://github.com/acme/provisioner/commit/e6c6650d458e27a9c2f36477de06cfa58203777a))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* ask @org/team and mail a@b.c ([930e398](https://github.com/acme/provisioner/commit/930e3988b57d10ddc58555eb9e7052f850ed339e))\n"),
    row('revert-same-range',
        I + [
         ('c', 'feat: risky', 'r'),
         ('revert', 'r')],
        None,
        ""),
    row('revert-released',
        I + [
         ('c', 'feat: risky', 'r'),
         ('tag', 'v1.3.0'),
         ('revert', 'r')],
        '1.3.1',
        "## [1.3.1](https://github.com/acme/provisioner/compare/v1.3.0...v1.3.1) ({date})\n"
        "\n"
        "\n"
        "### Reverts\n"
        "\n"
        "* Revert \"feat: risky\" ([720a2e1](https://github.com/acme/provisioner/commit/720a2e1619d3ff55ba6d606b73987351494092b2))\n"),
    row('revert-of-revert',
        I + [
         ('c', 'feat: risky', 'r'),
         ('tag', 'v1.3.0'),
         ('revert', 'r', 'rr'),
         ('tag', 'v1.3.1'),
         ('c', 'docs: x'),
         ('revert', 'rr')],
        '1.3.2',
        "## [1.3.2](https://github.com/acme/provisioner/compare/v1.3.1...v1.3.2) ({date})\n"
        "\n"
        "\n"
        "### Reverts\n"
        "\n"
        "* Revert \"Revert \"feat: risky\"\" ([a2c4d51](https://github.com/acme/provisioner/commit/a2c4d516b3f486d74e78e6bc5e655ecceb7afb2b))\n"),
    row('revert-short-hash',
        I + [
         ('c', 'Revert "feat: old"\n\nThis reverts commit 1234567.')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Reverts\n"
        "\n"
        "* Revert \"feat: old\" ([161dbc3](https://github.com/acme/provisioner/commit/161dbc37c84c68015cc11ba3ff31b60e842f7e59))\n"),
    row('revert-angular',
        I + [
         ('c', 'revert: feat: old thing')],
        None,
        ""),
    row('merge-topic',
        I + [
         ('br', 'topic'),
         ('c', 'feat(vm): add disks'),
         ('co', 'main'),
         ('c', 'docs: x'),
         ('merge', 'topic', "Merge branch 'topic'")],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **vm:** add disks ([fdabbd4](https://github.com/acme/provisioner/commit/fdabbd4fa5f13f2aeb42c860881ec7fdbd523316))\n"),
    row('merge-titled',
        I + [
         ('br', 'hot'),
         ('c', 'wip'),
         ('co', 'main'),
         ('merge', 'hot', 'fix: merged hotfix')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* merged hotfix ([d45bbf9](https://github.com/acme/provisioner/commit/d45bbf9ce216e0ead69fe758ee8bd90cfe4ab344))\n"),
    row('merge-pr-body',
        I + [
         ('br', 'pr'),
         ('c', 'fix: y'),
         ('co', 'main'),
         ('merge', 'pr', 'Merge pull request #7 from acme/pr\n\nfeat: z')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* y ([3e8c109](https://github.com/acme/provisioner/commit/3e8c1095dac905c1d16687d8749b5c2655e3719b))\n"),
    row('merge-breaking-body',
        I + [
         ('br', 'pr'),
         ('c', 'docs: y'),
         ('co', 'main'),
         ('merge', 'pr', 'Merge pull request #8 from acme/pr\n\nBREAKING CHANGE: merged break')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "* Merge pull request [#8](https://github.com/acme/provisioner/issues/8) from acme/pr ([b6e06f8](https://github.com/acme/provisioner/commit/b6e06f867ea544b9ba139bb507131f52e474c6ca))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* merged break\n"),
    row('squash-merge',
        I + [
         ('br', 'sq'),
         ('c', 'wip 1'),
         ('c', 'wip 2'),
         ('co', 'main'),
         ('squash', 'sq', 'feat(net): bridges (#51)\n\n* wip 1\n* wip 2')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **net:** bridges ([#51](https://github.com/acme/provisioner/issues/51)) ([d67ceea](https://github.com/acme/provisioner/commit/d67ceea17e70bda790c710930dcca779c7dc6aea))\n"),
    row('first-release',
        [
         ('c', 'chore: initial'),
         ('c', 'feat: x')],
        '1.0.0',
        "# 1.0.0 ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* x ([c2df120](https://github.com/acme/provisioner/commit/c2df1202d9f5bdf8cc1eab1e030d3da99846bd80))\n"),
    row('first-release-fix',
        [
         ('c', 'fix: only a fix')],
        '1.0.0',
        "# 1.0.0 ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* only a fix ([28464ad](https://github.com/acme/provisioner/commit/28464adfe63adda56f4290e53325b2fe96118604))\n"),
    row('first-release-none',
        [
         ('c', 'chore: initial'),
         ('c', 'docs: x')],
        None,
        ""),
    row('non-matching-tags',
        [
         ('c', 'chore: initial'),
         ('tag', '1.2.3'),
         ('tag', 'release-2'),
         ('c', 'fix: x')],
        '1.0.0',
        "# 1.0.0 ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* x ([cd3d850](https://github.com/acme/provisioner/commit/cd3d8509959caffe224836b4a6a3a8fcab21ead5))\n"),
    row('zero-major',
        [
         ('c', 'chore: initial'),
         ('tag', 'v0.4.0'),
         ('c', 'feat: a'),
         ('c', 'fix: b')],
        '0.5.0',
        "# [0.5.0](https://github.com/acme/provisioner/compare/v0.4.0...v0.5.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* b ([04a9669](https://github.com/acme/provisioner/commit/04a966985c59f75b00ef2553b0c4a42d599a9425))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([8323cee](https://github.com/acme/provisioner/commit/8323cee3a0660aef0310fb180ac749ca09462828))\n"),
    row('prerelease-tag-ignored',
        I + [
         ('c', 'feat: beta thing'),
         ('tag', 'v1.3.0-beta.1'),
         ('c', 'fix: y')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* y ([39cbc96](https://github.com/acme/provisioner/commit/39cbc9673581173301b08cbc7a2fd47fa79ccf37))\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* beta thing ([55053a0](https://github.com/acme/provisioner/commit/55053a0b9c2b27bfeaed654a30797719dea18a30))\n"),
    row('highest-tag',
        [
         ('c', 'chore: initial'),
         ('tag', 'v2.0.0'),
         ('c', 'fix: a'),
         ('tag', 'v1.5.0'),
         ('c', 'fix: b')],
        '2.0.1',
        "## [2.0.1](https://github.com/acme/provisioner/compare/v2.0.0...v2.0.1) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([621ceae](https://github.com/acme/provisioner/commit/621ceae7ac75a4903d13ba791c29da8cf4073d2d))\n"
        "* b ([e074209](https://github.com/acme/provisioner/commit/e074209dbd0acb862fe68854069198362293ca4b))\n"),
    row('unreachable-tag',
        I + [
         ('br', 'other'),
         ('c', 'feat: elsewhere'),
         ('tag', 'v9.0.0'),
         ('co', 'main'),
         ('c', 'feat: here')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* here ([766de7b](https://github.com/acme/provisioner/commit/766de7ba59f79d1ded09eed7e7214a3ee8d59d6f))\n"),
    row('annotated-tag',
        [
         ('c', 'chore: initial'),
         ('atag', 'v1.2.3'),
         ('c', 'fix: x')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* x ([0e73161](https://github.com/acme/provisioner/commit/0e73161afeb4d11450bb617bd5103e5457ed94cc))\n"),
    row('build-metadata-tag',
        [
         ('c', 'chore: initial'),
         ('tag', 'v1.2.3+build.5'),
         ('c', 'feat: x')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3+build.5...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* x ([e6aad8f](https://github.com/acme/provisioner/commit/e6aad8f10b47cd061e2889d8dc3094d5b5e92bc6))\n"),
    row('double-v-tag',
        [
         ('c', 'chore: initial'),
         ('tag', 'vv1.2.3'),
         ('c', 'fix: x')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/vv1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* x ([0e73161](https://github.com/acme/provisioner/commit/0e73161afeb4d11450bb617bd5103e5457ed94cc))\n"),
    row('crlf',
        I + [
         ('c', 'fix: crlf\r\n\r\nBREAKING CHANGE: windows\r\n')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* crlf ([ae0b290](https://github.com/acme/provisioner/commit/ae0b2905eb2963091553c518775f814dd5d6d6a3))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* windows\n"),
    row('gpg-line',
        I + [
         ('c', 'gpg: Signature made\nfix: signed')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* signed ([d0bd6a0](https://github.com/acme/provisioner/commit/d0bd6a0d9ef1cdebe1a86a95cebd5656b26f3346))\n"),
    row('meta-dashes',
        I + [
         ('c', 'feat: a\n\n---\nBREAKING CHANGE: swallowed')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([fcddb65](https://github.com/acme/provisioner/commit/fcddb651d4fdd6d403aef62967bf9febd3546056))\n"),
    row('unicode-sort',
        I + [
         ('c', 'feat: éclair'),
         ('c', 'feat: zebra'),
         ('c', 'feat: apple'),
         ('c', 'feat: Banana'),
         ('c', 'feat: ünter'),
         ('c', 'feat: ✨ sparkle')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* ✨ sparkle ([9ba3d75](https://github.com/acme/provisioner/commit/9ba3d751c9114d667dc5162577a68a672ce12484))\n"
        "* apple ([608d803](https://github.com/acme/provisioner/commit/608d803feac059d2ed58e6270d98e97bae8ff53c))\n"
        "* Banana ([80a0ef1](https://github.com/acme/provisioner/commit/80a0ef1662265870ae5a8c2810bf7b64e42ae33a))\n"
        "* éclair ([b034ba8](https://github.com/acme/provisioner/commit/b034ba8579c70750cc47db5ac49edf2952d8d2bb))\n"
        "* ünter ([5048a97](https://github.com/acme/provisioner/commit/5048a978b984759a2cac0a00a09b6da7e904da33))\n"
        "* zebra ([3d1725b](https://github.com/acme/provisioner/commit/3d1725bbb9c15ccfd533bc0cb4b179836804bcbb))\n"),
    row('nothing-since',
        I,
        None,
        ""),
    row('gitlab-subgroup',
        I + [
         ('c', 'fix: a\n\ncloses #3'),
         ('c', 'feat(x): b')],
        '1.3.0',
        "# [1.3.0](https://gitlab.com/group/sub/proj/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([9319027](https://gitlab.com/group/sub/proj/commit/93190275d4af2e44800ddfc4060d6d86ab37d73c)), closes [#3](https://gitlab.com/group/sub/proj/issues/3)\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* **x:** b ([857bea1](https://gitlab.com/group/sub/proj/commit/857bea130691454a9a4b7db77963de4cc8aabe02))\n",
        remote='https://gitlab.com/group/sub/proj.git'),
    row('scp-remote',
        I + [
         ('c', 'feat: a (#9)')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([#9](https://github.com/acme/provisioner/issues/9)) ([cd7262a](https://github.com/acme/provisioner/commit/cd7262a17dac14f2fc6dbacec90236ad5107ef82))\n",
        remote='git@github.com:acme/provisioner.git'),
    row('bitbucket',
        I + [
         ('c', 'fix: a\n\nfixes #2')],
        '1.2.4',
        "## [1.2.4](https://bitbucket.org/team/app/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([8e9d73d](https://bitbucket.org/team/app/commits/8e9d73d16a801c9e3a6825ce8bd22ff0881b0dec)), closes [#2](https://bitbucket.org/team/app/issue/2)\n",
        remote='https://bitbucket.org/team/app.git'),
    row('self-hosted-port',
        I + [
         ('c', 'fix: a')],
        '1.2.4',
        "## [1.2.4](http://git.example.com:8080/team/app/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* a ([621ceae](http://git.example.com:8080/team/app/commit/621ceae7ac75a4903d13ba791c29da8cf4073d2d))\n",
        remote='http://git.example.com:8080/team/app.git'),
    row('ssh-port',
        I + [
         ('c', 'feat: a')],
        '1.3.0',
        "# [1.3.0](https://git.example.com/team/app/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([8323cee](https://git.example.com/team/app/commit/8323cee3a0660aef0310fb180ac749ca09462828))\n",
        remote='ssh://git@git.example.com:2222/team/app.git'),
    row('credentials-url',
        I + [
         ('c', 'feat: a')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* a ([8323cee](https://github.com/acme/provisioner/commit/8323cee3a0660aef0310fb180ac749ca09462828))\n",
        remote='https://user:s3cret@github.com/acme/provisioner.git'),
    row('extra-patch',
        I + [
         ('c', 'chore: tidy'),
         ('c', 'docs: readme'),
         ('c', 'style: fmt')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n",
        extra=EXTRA),
    row('extra-with-feat',
        I + [
         ('c', 'chore: tidy'),
         ('c', 'feat: x')],
        '1.3.0',
        "# [1.3.0](https://github.com/acme/provisioner/compare/v1.2.3...v1.3.0) ({date})\n"
        "\n"
        "\n"
        "### Features\n"
        "\n"
        "* x ([c5092bc](https://github.com/acme/provisioner/commit/c5092bccb952b5f7fbb92115ecace4f0f2c9ea81))\n",
        extra=EXTRA),
    row('extra-breaking-chore',
        I + [
         ('c', 'chore: x\n\nBREAKING CHANGE: still major')],
        '2.0.0',
        "# [2.0.0](https://github.com/acme/provisioner/compare/v1.2.3...v2.0.0) ({date})\n"
        "\n"
        "\n"
        "### chore\n"
        "\n"
        "* x ([df8be46](https://github.com/acme/provisioner/commit/df8be4670c2e177a19888aa04578959d6dff6721))\n"
        "\n"
        "\n"
        "### BREAKING CHANGES\n"
        "\n"
        "* still major\n",
        extra=EXTRA),
    row('extra-unlisted',
        I + [
         ('c', 'test: t'),
         ('c', 'ci: c')],
        None,
        "",
        extra=EXTRA),
    row('changelog-exists',
        [
         ('file', 'CHANGELOG.md', '# Changelog\n\n## 1.2.3\n\n* old\n', 'docs: changelog'),
         ('tag', 'v1.2.3'),
         ('c', 'fix: with a changelog')],
        '1.2.4',
        "## [1.2.4](https://github.com/acme/provisioner/compare/v1.2.3...v1.2.4) ({date})\n"
        "\n"
        "\n"
        "### Bug Fixes\n"
        "\n"
        "* with a changelog ([8a4ad92](https://github.com/acme/provisioner/commit/8a4ad9257f61bc5535da26442cfa2173fb53d922))\n"),
]


def pve(*args, cwd=None):
    r = subprocess.run([BIN] + list(args), capture_output=True, text=True,
                       cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def state(repo):
    """What a release may change: HEAD, tags, the work tree."""
    return (git(repo, "rev-parse", "HEAD"), git(repo, "tag"),
            git(repo, "status", "--porcelain"))


def config(name, text):
    """A configuration file outside the repository: --config FILE."""
    path = os.path.join(TMP, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    return ["--config", path]


def git_cleanup(msg):
    """git commit --cleanup=whitespace, then %B as git log prints it."""
    lines = [line.rstrip() for line in msg.split("\n")]
    out = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def py_lines(text, indent):
    """text as adjacent string literals, one line each."""
    if not text:
        return indent + '""'
    parts = text.splitlines(keepends=True)
    return "\n".join(indent + json.dumps(p, ensure_ascii=False)
                     for p in parts)


def fmt_row(r):
    steps = r["steps"]
    if steps[:2] == I:
        head, steps = "I", steps[2:]
    else:
        head = None
    items = ",\n".join("         " + repr(st) for st in steps)
    if head and steps:
        steps_src = "I + [\n%s]" % items
    elif head:
        steps_src = "I"
    else:
        steps_src = "[\n%s]" % items
    extra = ""
    if r["remote"] != GH:
        extra += ",\n        remote=%r" % r["remote"]
    if r["extra"]:
        extra += ",\n        extra=EXTRA"
    return "    row(%r,\n        %s,\n        %r,\n%s%s)," % (
        r["name"], steps_src, r["version"],
        py_lines(r["notes"], "        "), extra)


def record(cmd):
    """Print ROWS with what semantic-release (cmd) gives."""
    print("ROWS = [")
    for r in ROWS:
        repo = os.path.join(TMP, "rec-" + r["name"])
        build(repo, r["steps"], r["remote"])
        env = dict(os.environ, SEMREL_NOTES_FILE=repo + ".notes")
        if r["extra"]:
            env["SEMREL_RELEASE_RULES_JSON"] = json.dumps(
                DEFAULT_RULES + [{"type": t, "release": v}
                                 for t, v in r["extra"].items()])
        out = subprocess.run([cmd, repo], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        with open(repo + ".notes") as f:
            notes = f.read()
        if notes:
            first, rest = notes.split("\n", 1)
            notes = first[:first.rindex(" (")] + " ({date})\n" + rest
        print(fmt_row(dict(r, version=None if out == "none" else out,
                           notes=notes)))
    print("]")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


def check_row(t, r):
    name = r["name"]
    repo = os.path.join(TMP, name)
    build(repo, r["steps"], r["remote"])
    args = []
    if r["extra"]:
        args = config(name, "release_types:\n" + "".join(
            "  %s: %s\n" % kv for kv in r["extra"].items()))
    before = state(repo)
    rc, out, err = pve("-C", repo, *args, "--json", "release", "--dry-run")
    if not t.eq((rc, err), (0, ""), "%s: --dry-run exits 0" % name):
        return
    got = json.loads(out)
    notes = r["notes"].replace("{date}", today()) if r["version"] else None
    t.eq(got["version"], r["version"], "%s: version" % name)
    t.eq(got.get("notes"), notes, "%s: notes" % name)
    t.eq(state(repo), before, "%s: --dry-run changes nothing" % name)

    old = read(os.path.join(repo, "CHANGELOG.md"))
    rc, out, err = pve("-C", repo, *args, "release")
    t.eq((rc, err), (0, ""), "%s: release exits 0" % name)
    if not r["version"]:
        t.eq(state(repo), before, "%s: no release, nothing changed" % name)
        t.ok(out.startswith("nothing to release: no commit"),
             "%s: says so" % name, out)
        return
    tag = "v" + r["version"]
    t.eq(out, "released %s (%s release, tag %s)\n" % (
        r["version"], got["type"], tag), "%s: says what it released" % name)
    want = notes.strip() + "\n"
    if old and old.strip():
        want += "\n" + old.strip() + "\n"
    t.eq(read(os.path.join(repo, "CHANGELOG.md")), want,
         "%s: the notes are on top of CHANGELOG.md" % name)
    t.eq(git(repo, "log", "-1", "--format=%B"), git_cleanup(
        "chore(release): %s [skip ci]\n\n%s" % (r["version"], notes)),
        "%s: the release commit's message" % name)
    t.eq(git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>"),
         "pve-gitops <pve-gitops@localhost>|pve-gitops <pve-gitops@localhost>",
         "%s: the configured author" % name)
    t.eq(git(repo, "show", "--name-only", "--format=", "HEAD"),
         "CHANGELOG.md", "%s: the commit holds CHANGELOG.md only" % name)
    t.eq(git(repo, "tag", "--points-at", "HEAD"), tag,
         "%s: the tag is on the release commit" % name)
    t.eq(git(repo, "cat-file", "-t", "refs/tags/" + tag), "commit",
         "%s: a lightweight tag, as semantic-release makes" % name)
    t.eq(git(repo, "status", "--porcelain"), "",
         "%s: the work tree is clean" % name)
    after = state(repo)
    rc, out, err = pve("-C", repo, *args, "release")
    t.eq((rc, out, err), (0, "nothing to release: no commit since %s "
                          "warrants a release\n" % tag, ""),
         "%s: a second release does nothing" % name)
    t.eq(state(repo), after, "%s: and changes nothing" % name)


def main():
    if len(sys.argv) > 4 and sys.argv[3] == "--record":
        record(sys.argv[4])
        return
    t = Tap()
    try:
        for r in ROWS:
            check_row(t, r)
        edges(t)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    t.done()


def short(repo, rev):
    return git(repo, "rev-parse", "--short=7", rev)


def edge_no_remote(t):
    """Without a remote URL the notes have no links: what the writer makes
    without a repository (short hashes, plain #N), no compare link."""
    repo = os.path.join(TMP, "no-remote")
    build(repo, I + [("c", "fix: a (#3)\n\ncloses #4, acme/x#5"),
                     ("c", "feat(api): b @bob\n\nBREAKING CHANGE: gone")],
          remote=None)
    want = ("# 2.0.0 (%s)\n\n\n### Bug Fixes\n\n* a (#3) %s, closes #3 #4 "
            "acme/x#5\n\n\n### Features\n\n* **api:** b @bob %s\n\n\n"
            "### BREAKING CHANGES\n\n* **api:** gone\n" % (
                today(), short(repo, "HEAD~1"), short(repo, "HEAD")))
    rc, out, err = pve("-C", repo, "release", "--dry-run")
    t.eq((rc, out, err), (0, "2.0.0\n\n" + want, ""),
         "no remote: --dry-run prints the version, then notes without links")


def edge_dirty(t):
    repo = os.path.join(TMP, "dirty")
    build(repo, I + [("c", "fix: x")])
    with open(os.path.join(repo, "f1.txt"), "a") as f:
        f.write("edit\n")
    before = state(repo)
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, out, err), (1, "", "pve-gitops: error: cannot release: the "
                          "work tree has uncommitted changes (f1.txt); "
                          "commit or stash them, or use --dry-run\n"),
         "dirty work tree: refused with exit 1")
    t.eq(state(repo), before, "dirty work tree: nothing changed")
    t.ok(not os.path.exists(os.path.join(repo, "CHANGELOG.md")),
         "dirty work tree: no CHANGELOG.md")
    rc, out, err = pve("-C", repo, "release", "--dry-run")
    t.eq((rc, out.split("\n")[0]), (0, "1.2.4"),
         "dirty work tree: --dry-run still tells the version")
    git(repo, "add", "f1.txt")
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, "f1.txt" in err), (1, True), "staged change: refused too")
    git(repo, "reset", "-q", "--hard")
    with open(os.path.join(repo, "CHANGELOG.md"), "w") as f:
        f.write("hand-written\n")
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, "(CHANGELOG.md)" in err), (1, True),
         "untracked CHANGELOG.md: refused (it would be committed)")
    os.unlink(os.path.join(repo, "CHANGELOG.md"))
    with open(os.path.join(repo, "notes.tmp"), "w") as f:
        f.write("scratch\n")
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, out, err), (0, "released 1.2.4 (patch release, tag v1.2.4)\n",
                          ""), "another untracked file: released")
    t.eq(git(repo, "show", "--name-only", "--format=", "HEAD"),
         "CHANGELOG.md", "another untracked file: left out of the commit")


def edge_tags(t):
    repo = os.path.join(TMP, "tags")
    build(repo, [("c", "chore: initial"), ("tag", "1.2.3"),
                 ("tag", "release-2"), ("tag", "v1.2"), ("tag", "v01.2.3"),
                 ("c", "feat: x")])
    rc, out, err = pve("-C", repo, "-v", "release", "--dry-run")
    t.eq((rc, out.split("\n")[0]), (0, "1.0.0"),
         "tags that are not releases: a first release")
    t.ok("pve-gitops: last release: none\n" in err,
         "tags that are not releases: -v says there is no last release", err)
    t.ok(out.split("\n")[2].startswith("# 1.0.0 ("),
         "first release: a heading without a compare link", out)
    repo = os.path.join(TMP, "notags")
    build(repo, [("c", "docs: only docs")])
    rc, out, err = pve("-C", repo, "--json", "release")
    t.eq((rc, json.loads(out), err), (0, {"version": None}, ""),
         "no tags, nothing releasable: --json gives a null version")
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, out), (0, "nothing to release: no commit warrants a first "
                     "release\n"), "no tags, nothing releasable: says so")


def edge_tag_exists(t):
    repo = os.path.join(TMP, "tag-exists")
    build(repo, I + [("br", "other"), ("c", "feat: there"),
                     ("tag", "v1.3.0"), ("co", "main"), ("c", "feat: here")])
    before = state(repo)
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, err), (1, "pve-gitops: error: cannot release v1.3.0: tag "
                     "'v1.3.0' already exists on a commit that HEAD does not "
                     "contain\n"), "the next tag exists elsewhere: exit 1")
    t.eq(state(repo), before, "the next tag exists elsewhere: no change")


def edge_hook(t):
    """A commit hook that refuses: CHANGELOG.md and the index are put back
    as they were."""
    repo = os.path.join(TMP, "hook")
    build(repo, [("file", "CHANGELOG.md", "## 1.2.3\n\n* old\n",
                  "docs: changelog"), ("tag", "v1.2.3"), ("c", "fix: x")])
    hook = os.path.join(repo, ".git", "hooks", "pre-commit")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    os.chmod(hook, 0o755)
    before = state(repo)
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, err.startswith("pve-gitops: error: cannot commit the release: "
                             "git exit status 1: hook says no")),
         (1, True), "a failing commit hook: exit 1 with git's message")
    t.eq(state(repo), before, "a failing commit hook: nothing changed")
    t.eq(read(os.path.join(repo, "CHANGELOG.md")), "## 1.2.3\n\n* old\n",
         "a failing commit hook: CHANGELOG.md as it was")
    t.ok(not os.path.exists(os.path.join(repo, ".git",
                                         "PVE_GITOPS_RELEASE_MSG")),
         "a failing commit hook: no message file left behind")


def edge_author(t):
    repo = os.path.join(TMP, "author")
    build(repo, I + [("c", "perf: x")])
    args = config("author", "git:\n  author_name: Release Bot\n"
                  "  author_email: bot@example.com\n")
    rc, out, err = pve("-C", repo, *args, "release")
    t.eq(rc, 0, "configured author: released")
    t.eq(git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>"),
         "Release Bot <bot@example.com>|Release Bot <bot@example.com>",
         "configured author: author and committer of the release commit")


def edge_not_a_repo(t):
    d = os.path.join(TMP, "plain")
    os.makedirs(d)
    rc, out, err = pve("-C", d, "release")
    t.eq((rc, err), (2, "pve-gitops: error: cannot release: this is not a "
                     "git work tree\n"), "not a repository: exit 2")
    git(d, "init", "-q", "-b", "main")
    rc, out, err = pve("-C", d, "release", "--dry-run")
    t.eq((rc, err), (1, "pve-gitops: error: cannot release: the repository "
                     "has no commits yet\n"), "no commits: exit 1")


def edge_usage(t):
    repo = os.path.join(TMP, "usage")
    build(repo, I)
    rc, out, err = pve("-C", repo, "release", "extra")
    t.eq((rc, err), (2, "pve-gitops: error: release takes no arguments\n"),
         "an argument: exit 2")
    rc, out, err = pve("-C", repo, "release", "--bogus")
    t.eq(rc, 2, "an unknown option: exit 2")
    rc, out, err = pve("-C", repo, "release", "--help")
    t.ok(rc == 0 and "--dry-run" in out, "--help lists --dry-run", out)


def edge_symlink(t):
    repo = os.path.join(TMP, "symlink")
    build(repo, I + [("c", "fix: x")])
    os.symlink("/etc/hostname", os.path.join(repo, "CHANGELOG.md"))
    git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "-q", "-m", "docs: link")
    rc, out, err = pve("-C", repo, "release")
    t.eq((rc, err), (1, "pve-gitops: error: cannot release: 'CHANGELOG.md' "
                     "is not a regular file\n"),
         "CHANGELOG.md a symbolic link: refused")
    t.eq(git(repo, "tag"), "v1.2.3", "CHANGELOG.md a symbolic link: no tag")


def edges(t):
    edge_no_remote(t)
    edge_dirty(t)
    edge_tags(t)
    edge_tag_exists(t)
    edge_hook(t)
    edge_author(t)
    edge_not_a_repo(t)
    edge_usage(t)
    edge_symlink(t)


if __name__ == "__main__":
    main()
