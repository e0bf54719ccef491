#!/usr/bin/env bash
# `pve-gitops validate` as a user runs it: the example repository, --json,
# FILE arguments checked against the rest of the repository, --config,
# exit codes, escaping of hostile file names, and no writes.
# Usage: cli_validate.sh PVE_GITOPS_BINARY SOURCE_DIR
bin=$1
src=$2
. "$src/tests/integration/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$src/examples/infra" "$work/infra"
repo=$work/infra

# --- the example repository ---------------------------------------------
run "$bin" -C "$repo" validate
expect_eq "example validates" "$rc" 0
for vm in k8s-observability haproxy-prod talos-prod-cp01 talos-prod-w01 ci-runner; do
	expect_contains "lists $vm" "$out" "$vm"
done
expect_contains "k8s-observability row" "$out" \
	"k8s-observability        node03         8  16384 MiB  ubuntu24-template      192.168.1.20     2 disks"
expect_contains "excluded k8s-home" "$out" "excluded: proxmox/vms/k8s-home.yaml"
expect_contains "excluded boot-server" "$out" "excluded: proxmox/vms/boot-server.yaml"
expect_not_contains "excluded file not validated" "$out" "boot-server   "
expect_contains "summary" "$out" "5 definitions valid, 2 warnings"
expect_contains "Telmate-only key warning" "$err" \
	"proxmox/vms/ci-runner.yaml:17:1: warning: define_connection_info: a Terraform provider setting with no meaning for pve-gitops; ignored"
expect_not_contains "no colour when stderr is not a terminal" "$err" $'\033'

run "$bin" -C "$repo" -q validate
expect_eq "quiet success prints nothing" "$rc:$out:$err" "0::"

run "$bin" -C "$repo" validate --json
expect_eq "--json exit code" "$rc" 0
summary=$(printf '%s' "$out" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(len(d), sorted(set(x["severity"] for x in d)), sorted(d[0].keys()))')
expect_eq "--json is an array of diagnostics" "$summary" \
	"2 ['warning'] ['column', 'file', 'line', 'message', 'severity']"

# --- FILE arguments are checked against the whole repository -------------
cat > "$work/new.yaml" <<'YAML'
name: k8s-dev
target_node: node01
clone: ubuntu24-template
ipconfig0: "ip=192.168.1.20/24,gw=192.168.1.1"
YAML
run "$bin" -C "$repo" -q validate "$work/new.yaml"
expect_eq "duplicate address in a new file: exit 2" "$rc" 2
expect_contains "duplicate address names the other file" "$err" \
	"$work/new.yaml:4:13: error: IPv4 address '192.168.1.20' is also used by proxmox/vms/k8s-observability.yaml"
expect_contains "error summary" "$err" "pve-gitops: error: 1 error in 1 file"

run "$bin" -C "$repo" validate proxmox/vms/haproxy-prod.yaml
expect_eq "one file of the repository" "$rc" 0
expect_contains "only that file is listed" "$out" "1 definition valid, 0 warnings"

# --- --config --------------------------------------------------------------
mkdir -p "$work/alt/defs"
cp "$repo/proxmox/vms/haproxy-prod.yaml" "$work/alt/defs/"
printf 'vms_dir: defs\nexclude: []\n' > "$work/alt/cfg.yaml"
run "$bin" -C "$work/alt" --config cfg.yaml validate
expect_eq "--config with another vms_dir" "$rc:$(printf '%s' "$out" | tail -n1)" \
	"0:1 definition valid, 0 warnings"

# --- exit codes and usage errors -----------------------------------------
run "$bin"
expect_eq "no command: exit 2" "$rc" 2
expect_contains "no command: usage" "$err" "usage: pve-gitops"
run "$bin" --help
expect_eq "--help: exit 0" "$rc" 0
expect_contains "--help lists validate" "$out" "validate     parse and check VM definitions offline"
run "$bin" --version
expect_eq "--version" "$rc:$out" "0:pve-gitops 0.1.0"
run "$bin" frobnicate
expect_eq "unknown command" "$rc:$err" "2:pve-gitops: error: unknown command 'frobnicate'
try 'pve-gitops --help'"
run "$bin" validate --frob
expect_eq "unknown option" "$rc:$err" "2:pve-gitops: error: validate: unknown option '--frob'"
run "$bin" -C "$work/nowhere" validate
expect_eq "missing -C directory" "$rc:$err" \
	"2:pve-gitops: error: cannot change to directory '$work/nowhere': No such file or directory"
run "$bin" -C "$work" validate
expect_eq "no vms directory" "$rc" 2
expect_contains "no vms directory: says what to do" "$err" "no VM definitions (set vms_dir in pve-gitops.yaml or use -C DIR)"
run "$bin" -C "$repo" --config missing.yaml validate
expect_eq "missing --config file" "$rc:$err" \
	"2:pve-gitops: error: cannot read 'missing.yaml': No such file or directory"
run "$bin" validate --help
expect_eq "command --help" "$rc" 0
expect_contains "command usage" "$out" "usage: pve-gitops validate [OPTIONS] [FILE...]"

# --- hostile file names are escaped; non-yaml files are reported ---------
mkdir -p "$work/evil/proxmox/vms"
printf 'name: x\n' > "$work/evil/proxmox/vms/$(printf 'a\033[2Jb.yaml')"
printf 'name: y\ntarget_node: n\n' > "$work/evil/proxmox/vms/y.yml"
run "$bin" -C "$work/evil" validate
expect_eq "bad file in the repository: exit 2" "$rc" 2
expect_contains "escape sequence in a file name is escaped" "$err" 'proxmox/vms/a\x1b[2Jb.yaml:1:1: error:'
expect_not_contains "no raw escape reaches the terminal" "$err" $'\033'

rm "$work/evil/proxmox/vms/"a*
run "$bin" -C "$work/evil" validate
expect_contains "a .yml file is reported, not read" "$out" "ignored (not *.yaml): proxmox/vms/y.yml"

# --- messages are escaped once, where they are printed ---------------------
run "$bin" -C "$repo" tag 'x [ansible a\b]'
expect_eq "a backslash in a refused tag is escaped once" "$rc:$err" \
	"2:pve-gitops: error: refused playbook name 'a\\\\b': a playbook name holds only letters, digits, '.', '_' and '-'"
run "$bin" -C "$repo" tag "$(printf 'x [ansible a\033b]')"
expect_eq "an ESC in a refused tag is printed as \\x1b" "$rc:$err" \
	"2:pve-gitops: error: refused playbook name 'a\\x1bb': a playbook name holds only letters, digits, '.', '_' and '-'"
expect_not_contains "no raw ESC from a tag reaches the terminal" "$err" $'\033'

# --- CMD_SETUP_GENTLY: tag runs with a broken config, validate does not ----
mkdir -p "$work/badcfg"
printf 'vms_dir: [\n' > "$work/badcfg/pve-gitops.yaml"
run "$bin" -C "$work/badcfg" validate
expect_eq "a broken pve-gitops.yaml stops validate (CMD_SETUP)" "$rc" 2
expect_contains "validate says the configuration is invalid" "$err" \
	"pve-gitops: error: invalid configuration"
run "$bin" -C "$work/badcfg" tag 'x [ansible k8s-obs]'
expect_eq "a broken pve-gitops.yaml does not stop tag (CMD_SETUP_GENTLY)" \
	"$rc:$out:$err" "0:k8s-obs:"
run "$bin" -C "$work/badcfg" -v tag 'x [ansible k8s-obs]'
expect_eq "tag -v: the config's error handed to the handler" "$rc:$err" \
	"0:pve-gitops: the configuration is not used by tag: invalid configuration"
run "$bin" -C "$repo" --config missing.yaml tag 'x [ansible k8s-obs]'
expect_eq "a missing --config file does not stop tag" "$rc:$out" "0:k8s-obs"

# --- subcommands: help and usage from the same tables -----------------------
run "$bin" kubeconfig --help
expect_eq "kubeconfig --help: exit 0" "$rc" 0
for sub in merge publish get; do
	expect_contains "kubeconfig --help lists $sub" "$out" "
  $sub "
done
run "$bin" kubeconfig merge --help
expect_contains "kubeconfig merge --help: its usage" "$rc:$out" \
	"0:usage: pve-gitops kubeconfig merge [OPTIONS]"
expect_contains "kubeconfig merge --help: its options" "$out" "--into FILE"
expect_not_contains "kubeconfig merge --help: not publish's" "$out" "--vault-path"
run "$bin" kubeconfig get --help
expect_contains "kubeconfig get --help: its options" "$out" "--out FILE"
expect_not_contains "kubeconfig get --help: not merge's" "$out" "--into"
run "$bin" kubeconfig bogus
expect_eq "an unknown subcommand: usage error naming the valid ones" \
	"$rc:$err" "2:pve-gitops: error: unknown kubeconfig command 'bogus': it takes merge, publish or get
try 'pve-gitops kubeconfig --help'"
run "$bin" kubeconfig
expect_eq "no subcommand: usage error" "$rc:$err" \
	"2:pve-gitops: error: kubeconfig takes a command: merge, publish or get
try 'pve-gitops kubeconfig --help'"
run "$bin" kubeconfig merge --vault-path kv/x
expect_eq "an option of another subcommand: usage error" "$rc:$err" \
	"2:pve-gitops: error: kubeconfig merge: unknown option '--vault-path'"

# --- the repository is a boundary (issue 13) -------------------------------
hostile=$work/hostile
mkdir -p "$hostile/proxmox/vms"
printf 'name: ok-vm\ntarget_node: node01\n' >"$hostile/proxmox/vms/ok-vm.yaml"
mkfifo "$hostile/proxmox/vms/fifo.yaml"
ln -s /etc/passwd "$hostile/proxmox/vms/leak.yaml"
start=$(date +%s)
run timeout 20 "$bin" -C "$hostile" validate
expect_eq "a FIFO and a link out: refused, without hanging" "$rc" 2
expect_eq "within a second or two" "$(($(date +%s) - start <= 2))" 1
expect_contains "the FIFO is named" "$err" \
	"proxmox/vms/fifo.yaml: error: 'proxmox/vms/fifo.yaml': not a regular file"
expect_contains "the link is named" "$err" \
	"proxmox/vms/leak.yaml: error: 'proxmox/vms/leak.yaml': the path leaves the repository"
expect_not_contains "nothing of the outside file is shown" "$err" "root:x:0"

# the config file, the definitions' directory, an excluded definition and
# the outputs file: below the repository only, never a FIFO
cfgout=$work/cfg-out
mkdir -p "$cfgout/proxmox/vms"
printf 'vms_dir: /etc\n' >"$work/outside.yaml"
ln -s "$work/outside.yaml" "$cfgout/pve-gitops.yaml"
run timeout 20 "$bin" -C "$cfgout" validate
expect_eq "a config file linked out of the repository: refused" "$rc" 2
expect_contains "and named" "$err" \
	"'pve-gitops.yaml': the path leaves the repository"
rm "$cfgout/pve-gitops.yaml"
mkfifo "$cfgout/pve-gitops.yaml"
start=$(date +%s)
run timeout 20 "$bin" -C "$cfgout" validate
expect_eq "a FIFO config file: refused without hanging" "$rc:$(($(date +%s) - start <= 2))" 2:1
expect_contains "as not a regular file" "$err" "'pve-gitops.yaml': not a regular file"
rm "$cfgout/pve-gitops.yaml"
rmdir "$cfgout/proxmox/vms"
ln -s /etc "$cfgout/proxmox/vms"
run timeout 20 "$bin" -C "$cfgout" validate
expect_eq "a vms_dir linked out of the repository: refused" "$rc" 2
expect_contains "and named" "$err" "'proxmox/vms': the path leaves the repository"
rm "$cfgout/proxmox/vms"
mkdir "$cfgout/proxmox/vms"
printf 'name: ok-vm\ntarget_node: node01\n' >"$cfgout/proxmox/vms/ok-vm.yaml"
mkdir -p "$cfgout/proxmox/.pve-gitops"
ln -s /etc/passwd "$cfgout/proxmox/.pve-gitops/outputs.json"
run timeout 20 "$bin" -C "$cfgout" output
expect_eq "an outputs file linked out: refused" "$rc" 2
expect_not_contains "and not shown" "$out$err" "root:x:0"

# a file name is text from outside: printed escaped
esc=$work/esc
mkdir -p "$esc/proxmox/vms"
printf 'name: ok-vm\ntarget_node: node01\n' >"$esc/proxmox/vms/ok-vm.yaml"
: >"$esc/proxmox/vms/$(printf 'x\033[2Jy.txt')"
run "$bin" -C "$esc" validate
expect_contains "a file name's ESC is printed escaped" "$out" 'ignored (not *.yaml): proxmox/vms/x\x1b[2Jy.txt'
expect_not_contains "and never raw" "$out" "$(printf '\033')"

# the outputs file is in the repository: its text is printed escaped
mkdir -p "$esc/proxmox/.pve-gitops"
printf '{"vm_ips": {"value": "a\\u001b[2Jb\\nc"}, "x\\u001b]0;t\\u0007": {"value": 1}}\n' \
	>"$esc/proxmox/.pve-gitops/outputs.json"
run "$bin" -C "$esc" output vm_ips
expect_eq "output NAME: the value's ESC is escaped, its line break kept" "$out" 'a\x1b[2Jb
c'
run "$bin" -C "$esc" output
expect_not_contains "output: a name's ESC never raw" "$out" "$(printf '\033')"

# a saved plan that is a FIFO: refused, not waited on
mkfifo "$work/plan.fifo"
start=$(date +%s)
run timeout 20 "$bin" -C "$esc" apply --auto-approve "$work/plan.fifo"
expect_eq "a saved plan that is a FIFO: refused at once" "$rc:$(($(date +%s) - start <= 2))" 2:1
expect_contains "and named" "$err" "plan.fifo' is not a regular file"

# --- validate writes nothing ---------------------------------------------
before=$(cd "$repo" && find . -type f -exec sha256sum {} + | sort)
"$bin" -C "$repo" validate >/dev/null 2>&1
"$bin" -C "$repo" validate "$work/new.yaml" >/dev/null 2>&1
after=$(cd "$repo" && find . -type f -exec sha256sum {} + | sort)
expect_eq "the repository is unchanged" "$after" "$before"

finish
