#!/usr/bin/env bash
# The second half of the demo: the whole chain on one machine. A fresh git
# repository with a bare remote, a VM definition on 127.0.0.2 committed
# with [ansible k8s-demo], a real sshd on 127.0.0.2 standing in for the VM,
# proxmox-sim and vault-sim on loopback; `pve-gitops run --push`, then what
# it did. Nothing connects beyond 127.0.0.0/8.
# Usage: demo-chain.sh BIN_DIR
set -euo pipefail
bin=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@" || true; }

say "9. The whole chain: one tagged commit becomes a provisioned K3s VM"
echo "A fresh git repository with a bare remote, a VM definition on 127.0.0.2,"
echo "a real sshd on 127.0.0.2 standing in for the VM, proxmox-sim and vault-sim."
user=$(id -un)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])')
mkdir -p "$work/home" "$work/k3s"
ssh-keygen -q -t ed25519 -N '' -C demo-host -f "$work/hostkey"
ssh-keygen -q -t ed25519 -N '' -C demo-client -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
{
	echo "ListenAddress 127.0.0.2:$port"
	echo "HostKey $work/hostkey"
	echo "PidFile $work/sshd.pid"
	echo "AuthorizedKeysFile $work/authorized_keys"
	echo "PasswordAuthentication no"
	echo "KbdInteractiveAuthentication no"
	echo "UsePAM no"
	echo "StrictModes no"
	echo "PermitRootLogin prohibit-password"
	echo "Subsystem sftp internal-sftp"
	echo "LogLevel ERROR"
} >"$work/sshd_config"
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
/usr/sbin/sshd -D -e -f "$work/sshd_config" 2>"$work/sshd.log" &
pids+=($!)
"$bin/vault-sim" --listen 127.0.0.1:0 >"$work/vault.out" 2>"$work/vault.err" &
pids+=($!)
"$bin/proxmox-sim" --listen 127.0.0.1:0 --boot-ms 0 --task-ms 20 \
	--guest-host-key "127.0.0.2=$work/hostkey.pub" \
	>"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
for _ in $(seq 100); do
	if grep -q '^token ' "$work/sim.out" 2>/dev/null &&
		grep -q '^root-token ' "$work/vault.out" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/sim.out")
fp=$(sed -n 's/^fingerprint //p' "$work/sim.out")
token=$(sed -n 's/^token //p' "$work/sim.out")
vault_url=$(sed -n 's/^listening on //p' "$work/vault.out")
# secrets through the environment, never on a command line
export PM_API_TOKEN_ID=${token%%=*} PM_API_TOKEN_SECRET=${token#*=}
VAULT_TOKEN=$(sed -n 's/^root-token //p' "$work/vault.out")
export VAULT_ADDR=$vault_url VAULT_TOKEN
export HOME=$work/home ANSIBLE_PRIVATE_KEY_FILE=$work/id_ed25519
export ANSIBLE_NOCOLOR=1 PATH="$bin:$PATH"
echo "proxmox-sim: $url   vault-sim: $vault_url   sshd: 127.0.0.2:$port"

git init -q --bare -b main "$work/remote.git"
git init -q -b main "$work/repo"
cd "$work/repo"
git config user.name Demo
git config user.email demo@example.test
cp -r "$root/examples/infra/proxmox" "$root/examples/infra/pve-gitops.yaml" \
	"$root/examples/infra/.gitignore" .
rm -f proxmox/vms/*.yaml # they say 192.168.x: nothing may reach those
sed -i -e "s|^  endpoint: .*|  endpoint: $url\n  tls_fingerprint: \"$fp\"|" \
	-e "s|^  port: 22$|  port: $port|" \
	-e "s|^  known_hosts: .*|  known_hosts: $work/home/.ssh/known_hosts|" \
	-e "s|^vault:$|vault:\n  addr: $vault_url|" pve-gitops.yaml
# K3s cannot be downloaded here: a stand-in writes what K3s would
{
	echo '#!/bin/sh'
	echo "cat >$work/k3s/k3s.yaml <<'YAML'"
	echo 'apiVersion: v1'
	echo 'clusters:'
	echo '- cluster: {certificate-authority-data: QUJD, server: "https://127.0.0.1:6443"}'
	echo '  name: default'
	echo 'contexts:'
	echo '- context: {cluster: default, user: default}'
	echo '  name: default'
	echo 'current-context: default'
	echo 'kind: Config'
	echo 'users:'
	echo '- name: default'
	echo '  user: {client-certificate-data: REVG, client-key-data: R0hJ}'
	echo 'YAML'
} >"$work/k3s-install.sh"
chmod +x "$work/k3s-install.sh"
mkdir -p proxmox/group_vars
printf 'k3s_install_command: %s\nk3s_kubeconfig_path: %s\n' \
	"$work/k3s-install.sh" "$work/k3s/k3s.yaml" >proxmox/group_vars/k3s.yml
git add -A
git commit -q -m "chore: the infrastructure repository"
git remote add origin "$work/remote.git"
git push -q origin HEAD:main
{
	echo "name: k8s-demo"
	echo "target_node: node01"
	echo "cores: 2"
	echo "memory: 4096"
	echo "clone: ubuntu24-template"
	echo 'ipconfig0: "ip=127.0.0.2/8,gw=127.0.0.1"'
	echo "ciuser: $user"
	echo "agent: 1"
	echo "disks:"
	echo "  scsi0: {size: 20G, storage: local-lvm}"
} >proxmox/vms/k8s-demo.yaml
git add -A
git commit -q -m "feat: add the k8s-demo cluster [ansible k8s-demo]"
git push -q origin HEAD:main
show git log --oneline -2
show "$bin/pve-gitops" run --push

say "10. What happened"
show git -C "$work/remote.git" log --oneline -3 main
show git show --stat --format='%s%n' HEAD
show cat proxmox/new_hosts.txt
show "$bin/pve-gitops" plan
echo "The contexts now in Vault, as kubectl reads them:"
"$bin/pve-gitops" -q kubeconfig get --out "$work/kubeconfig"
show kubectl config get-contexts --kubeconfig "$work/kubeconfig"
show kubectl config view --kubeconfig "$work/kubeconfig" \
	-o 'jsonpath={.clusters[0].cluster.server}{"\n"}'
