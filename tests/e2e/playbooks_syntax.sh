#!/usr/bin/env bash
# The shipped playbooks (examples/infra/proxmox/playbooks) and GitHub
# Actions workflows (examples/github-actions), checked with the real
# ansible-playbook, everything on this machine:
#   - every playbook passes --syntax-check, and every task in the playbooks
#     and their task files uses a module of ansible-core itself
#     (ansible.builtin.*), since nothing else is installed where they run;
#   - k8s.yml runs for real against localhost (ansible_connection=local) the
#     way `pve-gitops provision` calls it (-e target_hosts=NAME -e @VARS,
#     VAULT_TOKEN only in the environment, pve_disks from host_vars), with
#     a stand-in for the K3s install script: it installs once, passes
#     --default-local-storage-path for a disk with a mount, formats a blank
#     data disk (an image file) once and never one that holds something
#     else, writes fstab by UUID, fails when the install pipeline fails, and
#     publishes through a 0600 temporary file it removes, with no token on
#     the command line and no key in Ansible's output;
#   - haproxy.yml renders its configuration from an inventory group, and
#     from the repository's inventory when given provision's temporary
#     inventory of new hosts only; myapp.yml runs;
#   - the workflow files are YAML that call pve-gitops and keep secrets out
#     of command lines.
# With PVE_GITOPS and VAULT_SIM, k8s.yml also runs with the real binary
# against vault-sim on 127.0.0.1 and the kubeconfig is read back.
#
# Usage: playbooks_syntax.sh SOURCE_DIR [PVE_GITOPS VAULT_SIM]
set -euo pipefail

src=$(cd "$1" && pwd)
bin=${2:+$(realpath "$2")}
vsim=${3:+$(realpath "$3")}
playbooks=$src/examples/infra/proxmox/playbooks
workflows=$src/examples/github-actions
py=/usr/bin/python3

. "$src/tests/integration/lib.sh"
set -euo pipefail # lib.sh sets only -u

# run CMD...: sets $out, $err and $rc without tripping set -e
run() {
	local o=$work/run.out e=$work/run.err
	rc=0
	"$@" </dev/null >"$o" 2>"$e" || rc=$?
	out=$(cat "$o")
	err=$(cat "$e")
}

# expect_rc WHAT WANT: the last run's exit status; its output on a mismatch
expect_rc() {
	expect_eq "$1" "$rc" "$2"
	if [[ $rc != "$2" ]]; then
		printf '%s\n%s\n' "$out" "$err" | tail -n 40 | sed 's/^/#   /'
	fi
}

work=$(mktemp -d)
vsim_pid=
cleanup() {
	if [[ -n $vsim_pid ]]; then
		kill "$vsim_pid" 2>/dev/null || true
		wait "$vsim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

command -v ansible-playbook >/dev/null || {
	echo "ansible-playbook is not installed (scripts/install-deps.sh)" >&2
	exit 1
}
"$py" -c 'import yaml' || {
	echo "$py cannot import yaml (python3-yaml)" >&2
	exit 1
}

# Ansible sees nothing of this machine's or this user's configuration and
# finds only ansible-core's own modules.
mkdir -p "$work/home" "$work/collections" "$work/tmp"
: >"$work/ansible.cfg"
export HOME=$work/home TMPDIR=$work/tmp ANSIBLE_CONFIG=$work/ansible.cfg ANSIBLE_NOCOLOR=1 \
	ANSIBLE_FORCE_COLOR=0 ANSIBLE_LOCAL_TEMP=$work/tmp \
	ANSIBLE_REMOTE_TEMP=$work/tmp ANSIBLE_RETRY_FILES_ENABLED=False \
	ANSIBLE_COLLECTIONS_PATH=$work/collections \
	ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False \
	ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=True
unset VAULT_ADDR VAULT_TOKEN VAULT_NAMESPACE ANSIBLE_INVENTORY || true
cd "$work"

# ---- syntax -------------------------------------------------------------

printf '[local]\nlocalhost ansible_connection=local\n' >"$work/syntax.ini"
found=0
for p in "$playbooks"/*.yml; do
	found=$((found + 1))
	run ansible-playbook --syntax-check -i "$work/syntax.ini" \
		-e target_hosts=all "$p"
	expect_rc "syntax: $(basename "$p")" 0
done
for p in k8s k8s-ha haproxy myapp; do
	expect_eq "playbook $p.yml is shipped" "$(test -f "$playbooks/$p.yml" && echo yes)" yes
done
expect_eq "playbook talos.yml is shipped" "$(test -f "$playbooks/talos.yml" && echo yes)" yes
expect_eq "the README describes the playbooks" \
	"$(grep -c -e k8s.yml -e haproxy.yml -e myapp.yml "$playbooks/README.md" | awk '$1>0{print "yes"}')" yes
expect_eq "the README describes k8s-ha.yml" \
	"$(grep -c -F '## k8s-ha.yml' "$playbooks/README.md" | awk '$1>0{print "yes"}')" yes

run "$py" - "$playbooks" <<'PY'
import glob, os, sys, yaml
KEYWORDS = set("""name when loop loop_control vars register become become_user
become_method become_flags delegate_to delegate_facts run_once changed_when
failed_when ignore_errors ignore_unreachable no_log notify tags environment
args check_mode diff until retries delay block rescue always listen
any_errors_fatal throttle timeout collections module_defaults connection
debugger remote_user port""".split())
bad = []
def tasks(seq, where):
    for t in seq or []:
        if not isinstance(t, dict):
            bad.append("%s: a task that is not a mapping" % where); continue
        if "block" in t:
            for k in ("block", "rescue", "always"):
                tasks(t.get(k), where)
            continue
        mods = [k for k in t if k not in KEYWORDS and not k.startswith("with_")]
        if len(mods) != 1 or not mods[0].startswith("ansible.builtin."):
            bad.append("%s: task %r uses %s" % (where, t.get("name"), mods))
root = sys.argv[1]
files = sorted(glob.glob(os.path.join(root, "*.yml")) + glob.glob(os.path.join(root, "tasks", "*.yml")))
for f in files:
    doc = yaml.safe_load(open(f))
    rel = os.path.relpath(f, root)
    if os.path.dirname(rel) == "tasks":
        tasks(doc, rel)
        continue
    for play in doc:
        for sect in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            tasks(play.get(sect), rel)
    text = open(f).read()
    if "vault_token" in text or "--vault-token" in text:
        bad.append("%s: a Vault token on a command line" % rel)
print("\n".join(bad) if bad else "%d files, builtin modules only" % len(files))
sys.exit(1 if bad else 0)
PY
expect_rc "every task uses an ansible.builtin module" 0

# ---- stand-ins ----------------------------------------------------------

# The K3s install script cannot be downloaded here. This stand-in does what
# the playbook relies on: it records INSTALL_K3S_EXEC and writes a
# kubeconfig shaped like K3s's (server 127.0.0.1, everything named
# default) at the path it was built for.
cat >"$work/get-k3s.sh" <<'SH'
set -eu
kc=$1
printf '%s\n' "${INSTALL_K3S_EXEC-(unset)}" >>"$STANDIN_LOG"
mkdir -p "$(dirname "$kc")"
umask 077
cat >"$kc" <<'YAML'
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVC1EQVRB
    client-key-data: UFJJVkFURS1LRVktTUFSS0VS
YAML
SH
export STANDIN_LOG=$work/install.log
: >"$STANDIN_LOG"
# The way the seed installs it (curl ... | sh -s -), with cat for curl.
install_cmd() { echo "cat $work/get-k3s.sh | sh -s - $1"; }

# A stub for the pve-gitops binary. It stands in for the real one only
# because this part checks the playbook (the command line, environment and
# file it hands to `kubeconfig publish`), not the tool; publish itself is
# tested against vault-sim in integration/kubeconfig_vault, and the real
# binary runs this playbook at the end when it is given.
cat >"$work/pve-gitops-stub" <<'SH'
#!/bin/sh
set -eu
d=$PUBLISH_DIR
n=$(find "$d" -name '*.args' | wc -l)
n=$((n + 1))
printf '%s\n' "$@" >"$d/$n.args"
env >"$d/$n.env"
kc=
prev=
for a in "$@"; do
	[ "$prev" = --kubeconfig ] && kc=$a
	prev=$a
done
if [ -n "$kc" ]; then
	printf '%s\n' "$kc" >"$d/$n.path"
	stat -c %a "$kc" >"$d/$n.mode"
	cp "$kc" "$d/$n.kubeconfig"
fi
echo "published (stub)"
SH
chmod +x "$work/pve-gitops-stub"
export PUBLISH_DIR=$work/published
mkdir -p "$PUBLISH_DIR"
publishes() { find "$PUBLISH_DIR" -name '*.args' | wc -l; }

token=s.playbook-test-token-7f3a
mkdir -p "$work/repo/proxmox"
cat >"$work/repo/proxmox/k8s.ini" <<'INI'
# Individual hosts
haproxy-test ansible_host=127.0.0.4 ansible_user=test
k8s-c ansible_host=127.0.0.7 ansible_user=test

[haproxy]
haproxy-test

[k3s]
k8s-c
INI

# vars_file FILE PVE_GITOPS VAULT_ADDR: what provision writes (mode 0600)
vars_file() {
	(umask 077 && cat >"$1" <<YAML
vault_addr: "$3"
vault_path: kv/cluster-secret-store/secrets/KUBECONFIG
vault_key: KUBECONFIG
pve_gitops: "$2"
pve_gitops_root: "$work/repo"
ansible_ssh_extra_args: "-o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=yes"
YAML
	)
}
vars_file "$work/vars.yml" "$work/pve-gitops-stub" http://127.0.0.1:9

# inventory DIR HOSTVARS: the host k8s-test on this machine, its host_vars
# as `pve-gitops inventory` writes them (plus what a test adds)
inventory() {
	mkdir -p "$1/host_vars"
	cat >"$1/hosts.ini" <<'INI'
# Individual hosts
k8s-test ansible_host=127.0.0.2 ansible_user=test ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false

[k3s]
k8s-test
INI
	printf '# Managed by pve-gitops\npve_node: node01\npve_vmid: 123\npve_tags: [lab]\n%s\n' \
		"$2" >"$1/host_vars/k8s-test.yml"
}

# k8s INVENTORY_DIR KUBECONFIG [EXTRA...]: run k8s.yml like provision does
k8s() {
	local inv=$1 kc=$2
	shift 2
	run env VAULT_TOKEN=$token ansible-playbook -v "$playbooks/k8s.yml" \
		-i "$inv/hosts.ini" -e target_hosts=k8s-test -e @"$work/vars.yml" \
		-e "k3s_install_command='$(install_cmd "$kc")'" \
		-e "k3s_kubeconfig_path=$kc" "$@"
}

# ---- k8s.yml without a data disk ----------------------------------------

inventory "$work/inv-a" 'pve_disks: []'
k8s "$work/inv-a" "$work/k3s-a/k3s.yaml"
expect_rc "k8s.yml runs" 0
expect_not_contains "no disk steps without a disk to mount" "$out" "Data disk"
expect_eq "K3s installed once" "$(wc -l <"$STANDIN_LOG")" 1
expect_eq "no storage path without a disk to mount" "$(cat "$STANDIN_LOG")" ""
expect_eq "publish ran once" "$(publishes)" 1
args=$(cat "$PUBLISH_DIR/1.args" 2>/dev/null || true)
expect_eq "publish command line" "$args" "-C
$work/repo
kubeconfig
publish
--kubeconfig
$(cat "$PUBLISH_DIR/1.path")
--inventory-name
k8s-test
--host-address
127.0.0.2
--vault-path
kv/cluster-secret-store/secrets/KUBECONFIG
--vault-key
KUBECONFIG"
expect_not_contains "no token on the command line" "$args" "$token"
expect_not_contains "no token flag" "$args" "--vault-token"
expect_contains "the token reaches publish through the environment" \
	"$(cat "$PUBLISH_DIR/1.env")" "VAULT_TOKEN=$token"
expect_contains "VAULT_ADDR from vault_addr" "$(cat "$PUBLISH_DIR/1.env")" \
	"VAULT_ADDR=http://127.0.0.1:9"
expect_eq "the temporary kubeconfig was private" "$(cat "$PUBLISH_DIR/1.mode")" 600
expect_eq "publish read K3s's kubeconfig" \
	"$(cmp -s "$PUBLISH_DIR/1.kubeconfig" "$work/k3s-a/k3s.yaml" && echo same)" same
expect_eq "the temporary kubeconfig is removed" \
	"$(test -e "$(cat "$PUBLISH_DIR/1.path")" && echo left || echo gone)" gone
expect_not_contains "the key stays out of Ansible's output" "$out$err" \
	"UFJJVkFURS1LRVktTUFSS0VS"
expect_not_contains "so does the kubeconfig as slurp reads it (base64)" \
	"$out$err" "$(base64 -w 0 "$work/k3s-a/k3s.yaml" | cut -c 1-60)"
expect_not_contains "the token stays out of Ansible's output" "$out$err" "$token"

k8s "$work/inv-a" "$work/k3s-a/k3s.yaml"
expect_rc "k8s.yml runs again" 0
expect_eq "an installed K3s is not installed again" "$(wc -l <"$STANDIN_LOG")" 1
expect_eq "the kubeconfig is published again" \
	"$(publishes)" 2

# The install pipeline fails: with pipefail the task fails (sh alone would
# read an empty script and succeed).
run env VAULT_TOKEN=$token ansible-playbook "$playbooks/k8s.yml" \
	-i "$work/inv-a/hosts.ini" -e target_hosts=k8s-test -e @"$work/vars.yml" \
	-e "k3s_install_command='cat $work/no-such-script | sh -s -'" \
	-e "k3s_kubeconfig_path=$work/k3s-f/k3s.yaml" -e k3s_wait_seconds=2
expect_rc "a failed download fails the play" 2
expect_contains "at the install task" \
	"$(grep -A 1 '^TASK \[Install K3s\]' <<<"$out")" "fatal: [k8s-test]"
expect_eq "and nothing is published" "$(publishes)" 2

# ---- k8s.yml with a data disk (an image file stands for the device) -----

truncate -s 32M "$work/data.img"
inventory "$work/inv-b" "pve_disks:
  - {slot: scsi0, size: 50G, size_bytes: 53687091200, storage: local-lvm}
  - {slot: scsi1, size: 200G, size_bytes: 214748364800, storage: local-lvm, mount: $work/mnt/storage}
k3s_data_device: $work/data.img
data_disk_fstab_path: $work/fstab
data_disk_mount_now: false"
printf '# static file system information\nUUID=1111 / ext4 defaults 0 1\n' >"$work/fstab"
k8s "$work/inv-b" "$work/k3s-b/k3s.yaml"
expect_rc "k8s.yml with a data disk runs" 0
expect_eq "K3s stores volumes on the disk's mount" "$(tail -n 1 "$STANDIN_LOG")" \
	"--default-local-storage-path=$work/mnt/storage"
fstype=$(blkid -p -o value -s TYPE "$work/data.img" || true)
expect_eq "the blank disk got ext4" "$fstype" ext4
uuid=$(blkid -p -o value -s UUID "$work/data.img" || true)
expect_eq "fstab mounts it by UUID" "$(grep -c " $work/mnt/storage " "$work/fstab")" 1
expect_contains "fstab line" "$(cat "$work/fstab")" \
	"UUID=$uuid $work/mnt/storage ext4 defaults,nofail 0 2"
expect_contains "other fstab lines stay" "$(cat "$work/fstab")" "UUID=1111 / ext4"
expect_eq "the mount point exists" "$(test -d "$work/mnt/storage" && echo yes)" yes

k8s "$work/inv-b" "$work/k3s-b/k3s.yaml"
expect_rc "k8s.yml with a data disk runs again" 0
expect_eq "the disk is not formatted again" \
	"$(blkid -p -o value -s UUID "$work/data.img" || true)" "$uuid"
expect_eq "fstab keeps one line for it" "$(grep -c " $work/mnt/storage " "$work/fstab")" 1

# A disk with a partition table (no filesystem) is left alone.
"$py" - "$work/parted.img" <<'PY'
import struct, sys
mbr = bytearray(512)
mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, 30720)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "wb") as f:
    f.write(mbr)
    f.truncate(32 << 20)
PY
before=$(md5sum <"$work/parted.img")
inventory "$work/inv-c" "pve_disks:
  - {slot: scsi1, size: 32M, storage: local-lvm, mount: $work/mnt/other}
k3s_data_device: $work/parted.img
data_disk_fstab_path: $work/fstab-c
data_disk_mount_now: false"
installs=$(wc -l <"$STANDIN_LOG")
k8s "$work/inv-c" "$work/k3s-c/k3s.yaml"
expect_rc "a disk with a partition table fails the play" 2
expect_contains "and says why" "$out" "is not blank and holds no filesystem"
expect_eq "it is not written to" "$(md5sum <"$work/parted.img")" "$before"
expect_eq "K3s is not installed on that host" "$(wc -l <"$STANDIN_LOG")" "$installs"

# A slot with no stable name and no device given is refused.
inventory "$work/inv-d" "pve_disks:
  - {slot: virtio1, size: 32M, storage: local-lvm, mount: $work/mnt/v}"
k8s "$work/inv-d" "$work/k3s-d/k3s.yaml"
expect_rc "a virtio disk without a device name fails" 2
expect_contains "and names the setting" "$out" "set pve_disk_devices"

# ---- haproxy.yml --------------------------------------------------------

haproxy_check=false
command -v haproxy >/dev/null && haproxy_check=true
cat >"$work/haproxy.ini" <<'INI'
haproxy-test ansible_host=127.0.0.4 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false
k8s-a ansible_host=127.0.0.5
k8s-b ansible_host=127.0.0.6

[haproxy]
haproxy-test

[k3s]
k8s-a
k8s-b
INI
haproxy() {
	run ansible-playbook "$playbooks/haproxy.yml" -i "$1" -e target_hosts="$2" \
		-e haproxy_install=false -e haproxy_manage_service=false \
		-e haproxy_validate=$haproxy_check -e haproxy_config_path="$3" \
		-e @"$work/vars.yml"
}
haproxy "$work/haproxy.ini" haproxy "$work/haproxy-1.cfg"
expect_rc "haproxy.yml renders from the inventory's k3s group" 0
cfg=$(cat "$work/haproxy-1.cfg" 2>/dev/null || true)
expect_contains "API backend k8s-a" "$cfg" "server k8s-a 127.0.0.5:6443 check"
expect_contains "API backend k8s-b" "$cfg" "server k8s-b 127.0.0.6:6443 check"
expect_contains "HTTPS backend" "$cfg" "server k8s-b 127.0.0.6:443 check"
expect_contains "HTTP frontend" "$cfg" "bind *:80"
expect_not_contains "the repository inventory is not read" "$cfg" "k8s-c"

# What provision gives a direct playbook: an inventory of the new hosts only.
printf 'haproxy-test ansible_host=127.0.0.4 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 ansible_become=false\n' \
	>"$work/new-hosts.ini"
haproxy "$work/new-hosts.ini" all "$work/haproxy-2.cfg"
expect_rc "haproxy.yml on provision's inventory of new hosts" 0
cfg=$(cat "$work/haproxy-2.cfg" 2>/dev/null || true)
expect_contains "backends from the repository inventory" "$cfg" \
	"server k8s-c 127.0.0.7:6443 check"

# ---- myapp.yml ----------------------------------------------------------

run ansible-playbook "$playbooks/myapp.yml" -i "$work/inv-a/hosts.ini" \
	-e target_hosts=all -e @"$work/vars.yml"
expect_rc "myapp.yml runs on the new hosts" 0
expect_contains "with the host_vars pve-gitops writes" "$out" \
	"Proxmox VM 123 on node node01"

# ---- workflows ----------------------------------------------------------

run "$py" - "$workflows" <<'PY'
import glob, os, re, sys, yaml
bad, names = [], []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yml"))):
    n = os.path.basename(f)
    names.append(n)
    doc = yaml.safe_load(open(f))
    on = doc.get("on", doc.get(True))
    if not isinstance(doc, dict) or not on or not isinstance(doc.get("jobs"), dict):
        bad.append(n + ": not a workflow (on, jobs)"); continue
    calls = 0
    for jn, job in doc["jobs"].items():
        for i, st in enumerate(job.get("steps", [])):
            r = st.get("run", "")
            where = "%s: jobs.%s.steps[%d]" % (n, jn, i)
            if "secrets." in r:
                bad.append(where + ": a secret inside a run script")
            if re.search(r"\$\{\{\s*github\.event\.(head_commit|commits|inputs)", r):
                bad.append(where + ": untrusted text inside a run script")
            if re.search(r"--vault-token|PM_API_TOKEN_SECRET=|VAULT_TOKEN=", r):
                bad.append(where + ": a secret on a command line")
            calls += len(re.findall(r"^\s*pve-gitops\b", r, re.M))
    if calls == 0:
        bad.append(n + ": never calls pve-gitops")
if len(names) < 3:
    bad.append("expected three workflows, found %s" % names)
print("\n".join(bad) if bad else " ".join(names))
sys.exit(1 if bad else 0)
PY
expect_rc "the workflows are valid YAML that call pve-gitops" 0
expect_eq "the workflows have a README" "$(test -f "$workflows/README.md" && echo yes)" yes

# ---- the real binary against vault-sim ----------------------------------

if [[ -n $bin && -n $vsim ]]; then
	"$vsim" --listen 127.0.0.1:0 --root-token "$token" >"$work/vsim.out" \
		2>"$work/vsim.err" &
	vsim_pid=$!
	url=
	for _ in $(seq 100); do
		url=$(awk '$1 == "listening" && $2 == "on" {print $3; exit}' "$work/vsim.out")
		[[ -n $url ]] && break
		sleep 0.1
	done
	expect_contains "vault-sim listens on loopback" "$url" "http://127.0.0.1:"
	vars_file "$work/vars-real.yml" "$bin" "$url"
	run env VAULT_TOKEN=$token ansible-playbook "$playbooks/k8s.yml" \
		-i "$work/inv-a/hosts.ini" -e target_hosts=k8s-test \
		-e @"$work/vars-real.yml" \
		-e "k3s_install_command='$(install_cmd "$work/k3s-a/k3s.yaml")'" \
		-e "k3s_kubeconfig_path=$work/k3s-a/k3s.yaml"
	expect_rc "k8s.yml publishes with the real pve-gitops" 0
	run env VAULT_ADDR="$url" VAULT_TOKEN=$token "$bin" -C "$work/repo" \
		kubeconfig get --context k8s-test
	expect_rc "the kubeconfig is in Vault" 0
	expect_contains "its server is the host's address" "$out" \
		"server: https://127.0.0.2:6443"
	expect_contains "its context is the inventory name" "$out" "name: k8s-test"
fi

finish
