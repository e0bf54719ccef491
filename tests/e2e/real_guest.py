#!/usr/bin/python3
"""The whole chain against a machine that booted (issue 22): real git (a
bare repository as the remote), proxmox-sim --guests qemu booting the
Debian 12 image of scripts/build-guest-image.sh as a real QEMU guest
(KVM, else TCG) with the NoCloud drive Proxmox would write and its real
qemu-guest-agent, real ansible-playbook; the guest's SSH reached through
ssh.connect (guestlib.Forward: loopback only).

A definition with ciuser, sshkeys (a key the test makes), a static
ipconfig0 and a second disk; `run --push` on a commit tagged
[ansible data], whose playbook formats and mounts the data disk. Checks:
provisioning logged in with the key cloud-init installed, the host key
came from the guest agent and is what the guest's sshd presents,
`cloud-init status --wait` reported done, the disk is mounted in the
guest (ssh in and look), doctor reports every link ok; a second run
changes nothing and starts no playbook. Prints the boot time (qemu's
start to the first SSH banner) and the accelerator.

Exit 77 (ctest's SKIP_RETURN_CODE) only when QEMU cannot start at all.

Usage: real_guest.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import subprocess
import sys
import time
import re

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
import guestlib  # noqa: E402
from simlib import Tap, schema_check  # noqa: E402
from sshdlib import keygen  # noqa: E402

BIN, PSIM, SRC = sys.argv[1:4]
SECRET = "3e7a9c1d-5b2f-4d6e-8a0b-1c2d3e4f5a6b"
NAME = "data-real"
ADDR = "10.77.0.10"  # the guest's own address (cloud-init's); never dialled
USER = "tester"
T0 = time.monotonic()

why = guestlib.qemu_unusable()
if why:
    print("# SKIP: %s" % why)
    sys.exit(77)

t = Tap()
W = e2elib.Workdir("pve-gitops-real-guest.")
D = W.dir
KNOWN = os.path.join(D, "ssh", "known_hosts")
RUNS = os.path.join(D, "data-runs.log")


class Key:
    """What e2elib.Workdir.configure and env want of an sshd: the port
    (the guest's own, 22) and the client key (the one cloud-init
    installs)."""

    def __init__(self, d):
        self.port = 22
        self.client_key = os.path.join(d, "id_ed25519")
        self.client_pub = keygen(self.client_key)


TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir",
         capacity: 100G}
templates:
  - {vmid: 9000, name: debian12-template, node: node01, image: "%s",
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
"""

PLAYBOOK = """\
- hosts: "{{ target_hosts }}"
  gather_facts: false
  become: true
  tasks:
    - name: record the run
      ansible.builtin.shell: >-
        echo "{{ ansible_play_hosts_all | sort | join(',') }}" >> %s
      delegate_to: localhost
      become: false
      run_once: true
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
"""


def vm_file(key):
    with open(os.path.join(W.repo, "proxmox", "vms", NAME + ".yaml"),
              "w") as f:
        f.write("""name: %s
target_node: node01
cores: 1
memory: 1024
clone: debian12-template
agent: 1
ipconfig0: "ip=%s/24,gw=10.77.0.2"
nameserver: "10.77.0.3"
ciuser: %s
sshkeys: "%s"
disks:
  scsi0: {size: 2G, storage: local-lvm}
  scsi1: {size: 1G, storage: local-lvm}
""" % (NAME, ADDR, USER, key.client_pub))


def setup(psim, key, fwd):
    W.infra_repo(SRC)
    text = W.configure(psim, key, KNOWN, extra=e2elib.asan_ansible(BIN))
    text = text.replace(
        "ssh:\n  port: 22\n  known_hosts: %s\n  wait_seconds: 20\n" % KNOWN,
        "ssh:\n  port: 22\n  known_hosts: %s\n  wait_seconds: 900\n"
        "  connect:\n    %s: \"127.0.0.1:%d\"\n" % (KNOWN, ADDR, fwd.port))
    assert "connect:" in text, text
    with open(W.config, "w") as f:
        f.write(text)
    with open(os.path.join(W.repo, "proxmox", "playbooks", "data.yml"),
              "w") as f:
        f.write(PLAYBOOK % RUNS)
    W.commit("chore: the infrastructure repository")


def guest_ssh(key, fwd, *cmd):
    """cmd in the guest as USER, through the forward, its host key checked
    against the recorded known_hosts (HostKeyAlias, as the chain does)."""
    return subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
         "-o", "UserKnownHostsFile=" + KNOWN, "-o", "HostKeyAlias=" + ADDR,
         "-o", "ConnectTimeout=20", "-i", key.client_key, "-p",
         str(fwd.port), USER + "@127.0.0.1", "--"] + list(cmd),
        capture_output=True, text=True, timeout=120)


def vmid_of(psim):
    for g in guestlib.sim_guests(psim, e2elib.TOKEN_ID, SECRET):
        return g.get("vmid")
    return None


def main():
    try:
        image = guestlib.image_dir(SRC)
    except RuntimeError as e:
        t.ok(False, "the guest image builds (scripts/build-guest-image.sh)",
             str(e))
        t.done()
    t.ok(os.path.exists(os.path.join(image, "done")),
         "the guest image is there: %s" % image)
    topo = os.path.join(D, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY % image)
    key = Key(D)
    gdir = os.path.join(D, "guests")
    with e2elib.sim(PSIM, SECRET, "--topology", topo, "--guests", "qemu",
                    "--guest-dir", gdir) as psim:
        # the one guest, whichever vmid the clone gets
        fwd = guestlib.Forward(psim, e2elib.TOKEN_ID, SECRET, None)
        try:
            check(psim, key, fwd)
        finally:
            fwd.stop()
            g = fwd.guest
            if g and g.get("console") and t.failed:
                try:
                    with open(g["console"], errors="replace") as f:
                        print("# console (last lines):\n# " +
                              "\n# ".join(f.read().splitlines()[-40:]))
                except OSError:
                    pass
    W.cleanup()
    print("# total %.0f s" % (time.monotonic() - T0))
    t.done()


def check(psim, key, fwd):
    setup(psim, key, fwd)
    vm_file(key)
    W.commit("feat: a VM with a data disk [ansible data]")
    env = W.env(key, SECRET, drop=["VAULT_TOKEN"])
    start = time.monotonic()
    p = W.run(BIN, env, "run", "--push", timeout=1500)
    out = p.stdout + p.stderr
    print("# run took %.0f s" % (time.monotonic() - start))
    t.eq(p.returncode, 0, "run --push exits 0")
    if p.returncode:
        print("# " + out[-4000:].replace("\n", "\n# "))
    g = fwd.guest or {}
    t.ok(vmid_of(psim) is not None and vmid_of(psim) == g.get("vmid"),
         "the guest runs (VM %s), reached through the forward" %
         g.get("vmid"))
    began = guestlib.proc_start(g.get("pid", 0))
    if began is not None and fwd.first_banner:
        print("# boot: %.1f s from qemu's start to the first SSH banner, "
              "accel %s" % (fwd.first_banner - began, g.get("accel")))
    else:
        print("# boot: not measured, accel %s" % g.get("accel"))
    t.ok("waiting for SSH at 127.0.0.1:%d (ssh.connect" % fwd.port in out,
         "stage two waited for SSH through the forward", out)
    t.ok(re.search(r"%s: \d+ host keys? from the guest agent recorded" % NAME,
                   out), "the host keys came through the real guest agent",
         out)
    t.ok("%s: cloud-init done" % NAME in out,
         "cloud-init status --wait reported done", out)
    t.eq(open(RUNS).read().split() if os.path.exists(RUNS) else [], [NAME],
         "the playbook ran once, on the guest")

    # the keys recorded are the ones the guest's sshd presents
    kh = open(KNOWN).read() if os.path.exists(KNOWN) else ""
    recorded = sorted(" ".join(x.split()[1:3]) for x in kh.splitlines()
                      if x.split()[:1] == [ADDR])
    scan = subprocess.run(["ssh-keyscan", "-p", str(fwd.port), "127.0.0.1"],
                          capture_output=True, text=True, timeout=60)
    presented = sorted(" ".join(x.split()[1:3]) for x in
                       scan.stdout.splitlines() if x and x[0] != "#")
    t.ok(recorded and recorded == presented,
         "known_hosts has, under %s, exactly the keys the guest's sshd "
         "presents" % ADDR,
         "recorded: %r\npresented: %r" % (recorded, presented))
    # one string: ssh hands the remote shell its arguments joined
    r = guest_ssh(key, fwd,
                  "cat /etc/ssh/ssh_host_*_key.pub; echo ---; "
                  "cat ~/.ssh/authorized_keys; echo ---; "
                  "cloud-init status; echo ---; "
                  "findmnt -n -o FSTYPE,TARGET /data; echo ---; "
                  "ip -4 -o addr show scope global")
    parts = r.stdout.split("---\n")
    t.eq(r.returncode, 0, "ssh into the guest with the test's key and the "
         "recorded host key (strict)")
    if r.returncode:
        print("# " + r.stderr[-2000:].replace("\n", "\n# "))
    parts += [""] * (5 - len(parts))
    # sshd 9.2 offers no DSA key, though cloud-init makes one
    guest_keys = sorted(" ".join(x.split()[:2]) for x in
                        parts[0].splitlines()
                        if x and not x.startswith("ssh-dss "))
    t.ok(guest_keys and guest_keys == recorded,
         "the recorded keys are the guest's own host key files",
         "guest: %r\nrecorded: %r" % (guest_keys, recorded))
    t.ok(" ".join(key.client_pub.split()[:2]) in parts[1],
         "cloud-init installed the definition's sshkeys for %s" % USER,
         parts[1])
    t.ok("status: done" in parts[2], "cloud-init says done in the guest",
         parts[2])
    t.eq(parts[3].split(), ["ext4", "/data"],
         "the data disk is formatted and mounted on /data in the guest")
    t.ok(" %s/24 " % ADDR in parts[4],
         "the guest has the address ipconfig0 gave it", parts[4])

    p = W.run(BIN, env, "doctor", "--json", NAME, timeout=300)
    try:
        links = json.loads(p.stdout)["vms"][0]["links"]
    except (ValueError, KeyError, IndexError):
        links = []
    bad = [x for x in links if x.get("status") != "ok"]
    t.ok(links and not bad, "doctor reports every link ok (%d)" % len(links),
         json.dumps(bad, indent=1) + p.stdout[-2000:] + p.stderr)

    head = W.git("rev-parse", "main", cwd=W.remote)
    p = W.run(BIN, env, "run", "--push", timeout=600)
    t.eq(p.returncode, 0, "a second run exits 0")
    t.eq(W.git("rev-parse", "main", cwd=W.remote), head,
         "a second run pushes nothing")
    t.eq(open(RUNS).read().split() if os.path.exists(RUNS) else [], [NAME],
         "a second run starts no playbook")
    t.ok("running data.yml" not in p.stdout + p.stderr,
         "a second run says no playbook run", p.stdout + p.stderr)
    schema_check(t, psim)


main()
