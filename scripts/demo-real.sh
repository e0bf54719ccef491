#!/usr/bin/env bash
# `make demo-real` (issue 22): the chain against a machine that really boots.
# Builds or reuses the Debian 12 guest image (scripts/build-guest-image.sh),
# starts proxmox-sim --guests qemu, and runs one tagged commit through
# `pve-gitops run --push`: the clone boots under QEMU (KVM, else TCG) with
# the NoCloud drive Proxmox would write, its qemu-guest-agent hands over the
# host keys, stage two waits for SSH and cloud-init through ssh.connect (a
# forward on 127.0.0.1 to the port the simulator reports), and the playbook
# formats and mounts the guest's second disk. Nothing connects beyond
# 127.0.0.0/8. Takes a few minutes (a minute or two of it the guest's boot).
# Usage: demo-real.sh BIN_DIR
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

say "1. The guest image: Debian 12 from Debian's archive (built once, cached)"
image=$("$root/scripts/build-guest-image.sh" | tail -1)
show ls -lh "$image"
show cat "$image/done"

say "2. proxmox-sim --guests qemu, a template whose image is that one"
cat >"$work/topology.yaml" <<EOF
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir", capacity: 100G}
templates:
  - {vmid: 9000, name: debian12-template, node: node01, image: "$image",
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
EOF
show cat "$work/topology.yaml"
"$bin/proxmox-sim" --listen 127.0.0.1:0 --topology "$work/topology.yaml" \
	--guests qemu --guest-dir "$work/guests" \
	>"$work/sim.out" 2>"$work/sim.err" &
pids+=($!)
for _ in $(seq 100); do
	grep -q '^token ' "$work/sim.out" 2>/dev/null && break
	sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/sim.out")
fp=$(sed -n 's/^fingerprint //p' "$work/sim.out")
token=$(sed -n 's/^token //p' "$work/sim.out")
# secrets through the environment, never on a command line
export PM_API_TOKEN_ID=${token%%=*} PM_API_TOKEN_SECRET=${token#*=}
mkdir -p "$work/home"
ssh-keygen -q -t ed25519 -N '' -C demo-real -f "$work/id_ed25519"
export HOME=$work/home ANSIBLE_PRIVATE_KEY_FILE=$work/id_ed25519
export ANSIBLE_NOCOLOR=1 PATH="$bin:$PATH"
unset VAULT_TOKEN
# The guest's port 22 is forwarded to a port the simulator picks when the
# VM starts; the config is read before that, so a forward on a port known
# now relays to it (tests/e2e/guestlib.py), as a NAT would.
python3 "$root/tests/e2e/guestlib.py" forward "$url" "$work/fwd.port" &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$work/fwd.port" ] && break
	sleep 0.1
done
fwd=$(cat "$work/fwd.port")
echo "proxmox-sim: $url   the guest's SSH: 127.0.0.1:$fwd (ssh.connect)"

say "3. A repository: one VM with ciuser, sshkeys, a static address, a data disk"
git init -q --bare -b main "$work/remote.git"
git init -q -b main "$work/repo"
cd "$work/repo"
git config user.name Demo
git config user.email demo@example.test
cp -r "$root/examples/infra/proxmox" "$root/examples/infra/pve-gitops.yaml" \
	"$root/examples/infra/.gitignore" .
rm -f proxmox/vms/*.yaml # they say 192.168.x: nothing may reach those
sed -i -e "s|^  endpoint: .*|  endpoint: $url\n  tls_fingerprint: \"$fp\"|" \
	-e "s|^  known_hosts: .*|  known_hosts: $work/home/.ssh/known_hosts\n  connect:\n    10.77.0.10: \"127.0.0.1:$fwd\"|" \
	-e "s|^  wait_seconds: 300$|  wait_seconds: 900|" pve-gitops.yaml
cat >proxmox/playbooks/data.yml <<'EOF'
- hosts: "{{ target_hosts }}"
  gather_facts: false
  become: true
  tasks:
    - name: find the data disk (the disk that is not the root's)
      ansible.builtin.shell: >-
        lsblk -dnpo NAME,TYPE | awk '$2 == "disk" && $1 != "/dev/vda"
        { print $1; exit }'
      register: disk
      changed_when: false
      failed_when: disk.stdout == ""
    - name: format it (once)
      ansible.builtin.shell: >-
        blkid {{ disk.stdout }} || mkfs.ext4 -q -L data {{ disk.stdout }}
    - name: mount it on /data, and at boot
      ansible.builtin.shell: >-
        mkdir -p /data &&
        (grep -q '^LABEL=data ' /etc/fstab ||
         echo 'LABEL=data /data ext4 defaults 0 2' >> /etc/fstab) &&
        (mountpoint -q /data || mount /data)
EOF
git add -A
git commit -q -m "chore: the infrastructure repository"
git remote add origin "$work/remote.git"
git push -q origin HEAD:main
cat >proxmox/vms/data-real.yaml <<EOF
name: data-real
target_node: node01
cores: 1
memory: 1024
clone: debian12-template
agent: 1
ipconfig0: "ip=10.77.0.10/24,gw=10.77.0.2"
nameserver: "10.77.0.3"
ciuser: demo
sshkeys: "$(cat "$work/id_ed25519.pub")"
disks:
  scsi0: {size: 2G, storage: local-lvm}
  scsi1: {size: 1G, storage: local-lvm}
EOF
show cat proxmox/vms/data-real.yaml
show grep -A4 '^ssh:' pve-gitops.yaml
git add -A
git commit -q -m "feat: a VM with a data disk [ansible data]"
git push -q origin HEAD:main
show git log --oneline -2

say "4. pve-gitops run --push: the VM is cloned, boots, is provisioned"
start=$(date +%s)
show "$bin/pve-gitops" run --push
echo "(run took $(($(date +%s) - start)) s)"

say "5. What happened"
echo "GET /api2/json/sim/guests (the simulator's own endpoint):"
PYTHONPATH=$root/tests/e2e python3 -c '
import json, os, sys, guestlib
print(json.dumps(guestlib.sim_guests(guestlib._Api(sys.argv[1]),
      os.environ["PM_API_TOKEN_ID"], os.environ["PM_API_TOKEN_SECRET"])))' "$url"
show git -C "$work/remote.git" log --oneline -3 main
show cat proxmox/new_hosts.txt
show cat "$work/home/.ssh/known_hosts"
ssh_guest() {
	printf '$ ssh demo@10.77.0.10 %s\n' "$*"
	ssh -o BatchMode=yes -o StrictHostKeyChecking=yes \
		-o "UserKnownHostsFile=$work/home/.ssh/known_hosts" \
		-o HostKeyAlias=10.77.0.10 -i "$work/id_ed25519" -p "$fwd" \
		demo@127.0.0.1 -- "$@" || true
}
ssh_guest cloud-init status
ssh_guest findmnt /data
ssh_guest ip -4 -br addr
show "$bin/pve-gitops" doctor data-real

say "6. A second run: nothing to do"
show "$bin/pve-gitops" run --push
