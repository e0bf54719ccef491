#!/usr/bin/env bash
# The man pages the build generates (pve-gitops __man, issue 21): one per
# command and pve-gitops.yaml(5), pve-gitops-vm(5). Each renders without a
# warning from man, each command's page lists every option its --help
# lists (its subcommands' too), and the file pages every key of the JSON
# Schema (the same tables). doc/pve-gitops.1, the overview, renders too.
#
# Usage: manpages.sh PVE_GITOPS MAN_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"
bin=$1
dir=$2
src=$3
export MANWIDTH=80 LC_ALL=C.UTF-8

render() { man --warnings -l "$1" 2>&1 >/dev/null; }

pages=$("$bin" __man)
expect_eq "the build wrote every page" "$(cd "$dir" && ls | sort)" "$(printf '%s\n' $pages | sort)"
for p in $pages "$src/doc/pve-gitops.1"; do
	f=$p
	[ -f "$f" ] || f=$dir/$p
	if [ "$f" = "$dir/$p" ]; then
		if "$bin" __man "$p" | cmp -s - "$f"; then ok "$p is what __man prints"
		else not_ok "$p is what __man prints (rebuild?)"; fi
	fi
	expect_eq "$p renders without warnings" "$(render "$f")" ""
done

# the options of a --help text
opts_of() { sed -n '/^options:/,$p' | grep -o -- '--[a-z][a-z-]*' | grep -v -- '^--help$' | sort -u; }
for p in $pages; do
	case $p in pve-gitops-*.1) ;; *) continue ;; esac
	c=${p#pve-gitops-}
	c=${c%.1}
	text=$(man -l "$dir/$p" 2>/dev/null)
	want=$("$bin" "$c" --help | opts_of)
	for s in $("$bin" "$c" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
		want="$want $("$bin" "$c" "$s" --help | opts_of)"
		expect_contains "$p names subcommand $s" "$text" "pve-gitops $c $s"
	done
	missing=
	for o in $want; do
		grep -Eq -- "^ *(-[a-zA-Z], )?$o( |$)" <<<"$text" || missing="$missing $o"
	done
	expect_eq "$p lists every option of $c" "$missing" ""
done
# every command of --help has its page
for c in $("$bin" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}'); do
	[ -f "$dir/pve-gitops-$c.1" ] && ok "pve-gitops-$c.1 exists" || not_ok "pve-gitops-$c.1 exists"
done

# the file pages name every key the schema has, nested ones as a.b
keys_of() {
	"$bin" schema "$1" | /usr/bin/python3 -c '
import json, sys
def walk(s, prefix):
    for alt in [s] + s.get("anyOf", []):
        if alt.get("type") == "array":
            walk(alt.get("items", {}), prefix)
        extra = alt.get("additionalProperties")
        if isinstance(extra, dict):
            walk(extra, prefix)
        for k, v in alt.get("properties", {}).items():
            print(prefix + k)
            walk(v, prefix + k + ".")
walk(json.load(sys.stdin), "")' | sed 's/.*\.//' | sort -u
}
for kind in config:pve-gitops.yaml.5 vmdef:pve-gitops-vm.5; do
	text=$(man -l "$dir/${kind#*:}" 2>/dev/null)
	missing=
	for k in $(keys_of "${kind%%:*}"); do
		grep -Eq -- "^ *([a-z_0-9]+(\[\]|\.SLOT)?\.)*$k( |$)" <<<"$text" || missing="$missing $k"
	done
	expect_eq "${kind#*:} describes every key of the schema" "$missing" ""
done

finish
