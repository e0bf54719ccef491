#!/usr/bin/env bash
# End to end with real git: the shipped pre-commit hook runs
# `pve-gitops validate` on what is being committed. A bad definition is
# refused and HEAD does not move; a good one is committed and pushed to a
# bare remote.
# Usage: precommit_hook.sh PVE_GITOPS_BINARY SOURCE_DIR
bin=$1
src=$2
. "$src/tests/integration/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work
git config --global user.name test
git config --global user.email test@localhost
git config --global init.defaultBranch main

git init -q --bare "$work/remote.git"
cp -r "$src/examples/infra" "$work/infra"
cd "$work/infra" || exit 1
git init -q
git remote add origin "$work/remote.git"
cp "$src/examples/hooks/pre-commit" .git/hooks/pre-commit
export PVE_GITOPS=$bin
git add -A
run git commit -q -m "chore: import infrastructure"
expect_eq "the example repository commits" "$rc" 0
head0=$(git rev-parse HEAD)

cat > proxmox/vms/k8s-dev.yaml <<'YAML'
name: k8s-dev
target_node: node01
cores: 2
memory: 4096
clone: ubuntu24-template
ipconfig0: "ip=192.168.1.20/24,gw=192.168.1.1"
disks:
  scsi0: {size: 30g, storage: local-lvm}
YAML
git add proxmox/vms/k8s-dev.yaml
run git commit -q -m "feat(proxmox): add k8s-dev VM [ansible k8s-dev]"
expect_eq "a bad definition is refused" "$rc" 1
expect_contains "the hook names the size error" "$err" \
	"proxmox/vms/k8s-dev.yaml:8:17: error: disks.scsi0.size: unit 'g' must be upper case (30G)"
expect_contains "the hook names the duplicate address" "$err" \
	"proxmox/vms/k8s-dev.yaml:6:13: error: IPv4 address '192.168.1.20' is also used by proxmox/vms/k8s-observability.yaml"
expect_contains "and in the file it clashes with" "$err" \
	"proxmox/vms/k8s-observability.yaml:9:13: error: IPv4 address '192.168.1.20' is also used by proxmox/vms/k8s-dev.yaml"
expect_eq "HEAD did not move" "$(git rev-parse HEAD)" "$head0"

# Fixing only the work tree is not enough: the hook checks the index.
sed -i 's/30g/30G/; s/192.168.1.20/192.168.1.21/' proxmox/vms/k8s-dev.yaml
run git commit -q -m "feat(proxmox): add k8s-dev VM [ansible k8s-dev]"
expect_eq "an unstaged fix is not enough" "$rc" 1

git add proxmox/vms/k8s-dev.yaml
run git commit -q -m "feat(proxmox): add k8s-dev VM [ansible k8s-dev]"
expect_eq "the fixed definition commits" "$rc" 0
expect_eq "the commit message is kept" "$(git log -1 --format=%s)" \
	"feat(proxmox): add k8s-dev VM [ansible k8s-dev]"
run git push -q origin main
expect_eq "pushed to the bare remote" "$rc:$(git --git-dir="$work/remote.git" rev-parse main)" \
	"0:$(git rev-parse HEAD)"

finish
