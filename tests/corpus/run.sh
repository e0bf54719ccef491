#!/usr/bin/env bash
# Bad-input corpus runner: every case must be refused with exit code 2 and
# exactly the diagnostics in its .expect file (stderr, no colour).
#
#   NAME.yaml          pve-gitops -q validate NAME.yaml       (vmdef corpus)
#                      pve-gitops -q --config NAME.yaml validate (config corpus)
#   NAME.dir/          pve-gitops -q -C NAME.dir validate     (a repository)
#   workspace/NAME.yaml  clusters/NAME.yaml of a repository with the K3s VM
#                      k8s-a: pve-gitops -q workloads render --dry-run NAME
#   generated cases    built here: a huge file, deep nesting, many nodes
#
# Usage: run.sh PVE_GITOPS_BINARY CORPUS_DIR [--update]
set -u
bin=$1
dir=$2
update=${3:-}
kind=$(basename "$dir")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$dir"/. "$work"/
cd "$work" || exit 1

# Generated inputs (too big to keep in the repository).
gen() {
	if [ "$kind" = vmdef ]; then
		head -c 1100000 /dev/zero | tr '\0' '#' > gen-huge-file.yaml
		{ printf 'name: '; head -c 100000 /dev/zero | tr '\0' '['; } > gen-deep-nesting.yaml
		{ printf 'name: vm\ntarget_node: n\ntags:\n'; yes '  - a' | head -n 100010; } > gen-many-nodes.yaml
		{ printf 'name: vm\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\ndescription: "'
		  head -c 300000 /dev/zero | tr '\0' 'x'; printf '"\n'; } > gen-huge-scalar.yaml
		{ printf 'name: vm\ntarget_node: n\nclone: t\nipconfig0: ip=dhcp\n'
		  for i in $(seq 1 60); do printf 'bad%d: 1\n' "$i"; done; } > gen-many-errors.yaml
	fi
	if [ "$kind" = workspace ]; then
		{ printf 'kubernetes_context: k8s-a\nworkloads: [istio]\nconfig:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n'
		  for i in 1 2 3 4 5 6 7 8; do j=$((i - 1))
		  printf '  a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n' $i $i $j $j $j $j $j $j $j $j $j
		  done; } > gen-alias-bomb.yaml
		head -c 1100000 /dev/zero | tr '\0' '#' > gen-huge-file.yaml
	fi
}
gen

fail=0
pass=0
run_case() {
	local name=$1 out rc
	shift
	out=$("$bin" -q --no-color "$@" 2>&1 >/dev/null)
	rc=$?
	if [ -n "$update" ]; then
		printf '%s\n' "$out" > "$dir/$name.expect"
		return
	fi
	if [ ! -f "$dir/$name.expect" ]; then
		echo "FAIL $name: no $name.expect"
		fail=$((fail + 1))
		return
	fi
	if [ $rc -ne 2 ]; then
		echo "FAIL $name: exit code $rc, expected 2"
		printf '%s\n' "$out" | sed 's/^/    /'
		fail=$((fail + 1))
	elif ! diff -u "$dir/$name.expect" <(printf '%s\n' "$out") > diff.out; then
		echo "FAIL $name: diagnostics differ"
		sed 's/^/    /' diff.out
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}

if [ "$kind" = config ]; then
	# a valid repository, so that only the config can be at fault
	mkdir -p proxmox/vms
	printf 'name: vm\ntarget_node: node01\nclone: tpl\nipconfig0: ip=dhcp\n' > proxmox/vms/vm.yaml
fi
for f in *.yaml; do
	name=${f%.yaml}
	if [ "$kind" = workspace ]; then
		mkdir -p "repo.$name/proxmox/vms" "repo.$name/clusters"
		printf 'name: k8s-a\ntarget_node: node01\nclone: tpl\nipconfig0: ip=dhcp\n' > "repo.$name/proxmox/vms/k8s-a.yaml"
		cp "$f" "repo.$name/clusters/$name.yaml"
		run_case "$name" -C "repo.$name" workloads render --dry-run "$name"
	elif [ "$kind" = config ]; then
		run_case "$name" --config "$f" validate
	else
		run_case "$name" validate "$f"
	fi
done
for d in *.dir; do
	[ -d "$d" ] || continue
	run_case "$d" -C "$d" validate
done
[ -n "$update" ] && exit 0
echo "corpus $kind: $pass passed, $fail failed"
[ $fail -eq 0 ]
