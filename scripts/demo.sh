#!/usr/bin/env bash
# The demo: what pve-gitops does today, on the example repository.
# Usage: demo.sh BIN_DIR
set -euo pipefail
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" || true; }

say "1. Validate the example infrastructure repository (examples/infra)"
echo "Five VM definitions in the seed's layout, two excluded by pve-gitops.yaml;"
echo "ci-runner.yaml is written in the Telmate 3.x style and reads as it is."
cd "$root/examples/infra"
show "$bin/pve-gitops" validate

say "2. The same repository with three mistakes in one new file"
cp -r "$root/examples/infra" "$work/infra"
cat > "$work/infra/proxmox/vms/k8s-dev.yaml" <<'YAML'
name: k8s-dev
target_node: node01
corse: 4
memory: 4096
clone: ubuntu24-template
ipconfig0: "ip=192.168.1.20/24,gw=192.168.2.1"
disks:
  scsi0: {size: 30g, storage: local-lvm}
YAML
cd "$work/infra"
sed 's/^/    /' proxmox/vms/k8s-dev.yaml
show "$bin/pve-gitops" validate
echo "(exit status 2: invalid input; nothing was changed)"

say "3. Machine-readable diagnostics for CI annotations"
show "$bin/pve-gitops" -q validate --json proxmox/vms/k8s-dev.yaml

say "4. Plan against a simulated Proxmox VE cluster (proxmox-sim)"
echo "proxmox-sim speaks the real /api2/json API over HTTPS with a self-signed"
echo "certificate; pve-gitops pins its fingerprint instead of turning TLS off."
rm -f proxmox/vms/k8s-dev.yaml
"$bin/proxmox-sim" --listen 127.0.0.1:0 >"$work/sim.out" 2>"$work/sim.err" &
sim=$!
trap 'kill $sim 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
	grep -q '^token ' "$work/sim.out" 2>/dev/null && break
	sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/sim.out")
fp=$(sed -n 's/^fingerprint //p' "$work/sim.out")
token=$(sed -n 's/^token //p' "$work/sim.out")
sed -i "s|^  endpoint: .*|  endpoint: $url\n  tls_fingerprint: \"$fp\"|" pve-gitops.yaml
echo "proxmox-sim: $url (fingerprint ${fp:0:23}...)"
export PM_API_TOKEN_ID=${token%%=*}
# the secret goes through the environment, never the command line
export PM_API_TOKEN_SECRET=${token#*=}
show "$bin/pve-gitops" plan

say "5. Apply: clone, configure, resize, start, tag (five VMs, four at a time)"
show "$bin/pve-gitops" apply --auto-approve

say "6. Outputs (terraform output -json shape) and a plan with nothing to do"
show "$bin/pve-gitops" output vm_ips
show "$bin/pve-gitops" plan

say "7. The Ansible inventory, rewritten from what was created"
echo "Only the '# Individual hosts' block and the managed groups change; the"
echo "header, [all:vars] and hand-made groups stay byte for byte."
show "$bin/pve-gitops" -q inventory --dry-run
show "$bin/pve-gitops" inventory
show cat proxmox/new_hosts.txt
show "$bin/pve-gitops" inventory
echo "(a second run changes nothing but emptying new_hosts.txt)"
show "$bin/pve-gitops" inventory --host k8s-observability

say "8. The playbook the commit asks for"
show "$bin/pve-gitops" tag "feat: add observability cluster [ansible k8s-observability]"
show "$bin/pve-gitops" tag 'fix: [ansible $(reboot)]'

kill $sim 2>/dev/null || true
bash "$root/scripts/demo-chain.sh" "$bin"

say "Done"
echo "Every process the demo started is stopped and its files are removed."
