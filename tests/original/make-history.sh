#!/bin/sh
# make-history.sh DIR: build, in the new directory DIR, a git repository
# shaped like one a Terraform user kept for the Telmate provider and the
# original's main.tf: proxmox/vms/*.yaml written over a year, commit by
# commit, with the keys and forms such files have (serial: true, quoted
# booleans, dotted names, nested_disks next to an old disks list kept for
# reference, a passthrough disk with Telmate's I/O limit names, clear-text
# cipassword until a commit removes it, ...).
#
# Each versions/NNN/ is one commit, applied in order: its files (paths
# relative to the repository) are added or replace the earlier ones, the
# paths listed in DELETE are removed, COMMIT_MSG is the message and DATE
# the author and committer date. The files are this project's own, written
# for the test: no name, address or key in them comes from a real
# repository.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$1
mkdir "$repo"
export GIT_AUTHOR_NAME="Lab Operator" GIT_AUTHOR_EMAIL="ops@lab.example"
export GIT_COMMITTER_NAME="Lab Operator" GIT_COMMITTER_EMAIL="ops@lab.example"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
g() { git -C "$repo" -c commit.gpgsign=false -c core.hooksPath=/dev/null "$@"; }
g init -q -b main
for v in "$here"/versions/[0-9][0-9][0-9]; do
	if [ -f "$v/DELETE" ]; then
		while IFS= read -r p; do
			[ -n "$p" ] && g rm -q -- "$p"
		done <"$v/DELETE"
	fi
	(cd "$v" && find . -type f ! -name COMMIT_MSG ! -name DATE \
		! -name DELETE | sort) | while IFS= read -r f; do
		mkdir -p "$(dirname "$repo/$f")"
		cp "$v/$f" "$repo/$f"
		g add -- "$f"
	done
	d=$(cat "$v/DATE")
	GIT_AUTHOR_DATE=$d GIT_COMMITTER_DATE=$d g commit -q -F "$v/COMMIT_MSG"
done
