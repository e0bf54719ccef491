#!/usr/bin/env bash
# End to end with real git: `pve-gitops tag --commit REV` reads the
# commit's whole message (HEAD by default) and never takes REV as an
# option; hostile names in a real commit are refused with exit 2.
# Usage: tag_commit.sh PVE_GITOPS_BINARY SOURCE_DIR
bin=$1
src=$2
. "$src/tests/integration/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work
git config --global user.name test
git config --global user.email test@localhost
git config --global init.defaultBranch main

git init -q "$work/repo"
cd "$work/repo" || exit 1
git commit -q --allow-empty -m "feat: add observability

Creates the cluster.

[ansible k8s-observability]"
first=$(git rev-parse HEAD)
git commit -q --allow-empty -m 'fix: [ansible $(touch pwned)]'

run "$bin" tag --commit "$first"
expect_eq "tag --commit REV reads that commit" "$rc" 0
expect_contains "the name from the body" "$out" "k8s-observability"
run "$bin" tag
expect_eq "HEAD by default: a hostile name is refused" "$rc" 2
expect_contains "and the error says why" "$err" \
	"refused playbook name '\$(touch pwned)'"
expect_eq "nothing ran" "$(ls)" ""
run "$bin" tag --commit --output=x
expect_eq "a revision that looks like an option is refused" "$rc" 2
run "$bin" tag --commit no-such-rev
expect_eq "an unknown revision is an error" "$rc" 2
git commit -q --allow-empty -m "chore: no tag"
run "$bin" tag
expect_eq "no tag: exit 1" "$rc" 1
finish
