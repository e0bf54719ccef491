#!/usr/bin/python3
"""A DHCP VM through the chain (issue 16), on loopback only: real git (a
bare repository as the remote), proxmox-sim whose topology leases the
address 127.0.0.5 to the VM (its guest agent reports it, and answers only
1.5 s after the start), a real sshd on 127.0.0.5 and real ansible-playbook
with a direct playbook that records the hosts it ran on.

`run --push` on a commit tagged [ansible haproxy] that adds haproxy-dhcp
(ipconfig0: ip=dhcp, agent: 1): the pushed automated commit's
new_hosts.txt lists the VM with the agent's address, its host key came
through the guest agent, the playbook ran on it, and run exits 0.

Usage: dhcp_chain.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from kubelib import asan_build  # noqa: E402
from simlib import Sim, Tap, schema_check  # noqa: E402
from sshdlib import Sshds  # noqa: E402

BIN, PSIM, SRC = sys.argv[1:4]
SECRET = "0d6c2b9e-3f4a-4b5c-8d7e-9f0a1b2c3d4e"
ADDR = "127.0.0.5"
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-dhcp.")
REPO = os.path.join(D, "repo")
REMOTE = os.path.join(D, "remote.git")
KNOWN = os.path.join(D, "ssh", "known_hosts")

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir",
         capacity: 100G}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
dhcp_leases:
  haproxy-dhcp: %s
""" % ADDR


def git(*args, cwd=REPO):
    p = subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True,
                       text=True)
    if p.returncode:
        raise RuntimeError("git %s: %s" % (args, p.stderr))
    return p.stdout.strip()


def commit(msg):
    git("add", "-A")
    git("commit", "-q", "-m", msg)
    git("push", "-q", "origin", "HEAD:main")


def setup(psim, sshd):
    git("init", "-q", "--bare", "-b", "main", REMOTE, cwd=D)
    os.makedirs(REPO)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Dev")
    git("config", "user.email", "dev@example.test")
    for item in ("pve-gitops.yaml", ".gitignore", "proxmox"):
        src = os.path.join(SRC, "examples", "infra", item)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(REPO, item))
        else:
            shutil.copy(src, REPO)
    vms = os.path.join(REPO, "proxmox", "vms")
    for n in os.listdir(vms):
        os.unlink(os.path.join(vms, n))
    cfg = os.path.join(REPO, "pve-gitops.yaml")
    text = open(cfg).read()
    text = re.sub(r"  endpoint: .*", "  endpoint: %s\n  tls_fingerprint: "
                  "\"%s\"" % (psim.url, psim.fingerprint), text)
    text = re.sub(r"ssh:\n  port: 22\n  known_hosts: .*\n  wait_seconds: "
                  r"300", "ssh:\n  port: %d\n  known_hosts: %s\n  "
                  "wait_seconds: 20" % (sshd.port, KNOWN), text)
    assert "dhcp:\n  wait_seconds: 120\n" in text
    text = text.replace("dhcp:\n  wait_seconds: 120\n",
                        "dhcp:\n  wait_seconds: 30\n")
    if asan_build(BIN):
        text += "ansible:\n  memory_limit: 0\n"
    open(cfg, "w").write(text)
    with open(os.path.join(REPO, "proxmox", "playbooks", "haproxy.yml"),
              "w") as f:
        f.write("""- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: record the run
      ansible.builtin.shell: >-
        echo "{{ ansible_play_hosts_all | sort | join(',') }}"
        >> %s/haproxy-runs.log
      delegate_to: localhost
      run_once: true
    - name: reach each host
      ansible.builtin.command: "true"
""" % D)
    git("remote", "add", "origin", REMOTE)
    commit("chore: the infrastructure repository")


def env_for(sshd):
    home = os.path.join(D, "home")
    os.makedirs(home, exist_ok=True)
    e = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
             PM_API_TOKEN_SECRET=SECRET, HOME=home,
             ANSIBLE_PRIVATE_KEY_FILE=sshd.client_key, ANSIBLE_NOCOLOR="1")
    e.pop("PM_API_URL", None)
    e.pop("VAULT_TOKEN", None)
    return e


def main():
    topo = os.path.join(D, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sshds([ADDR]) as sshd, \
            Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
                "--topology", topo, "--boot-ms", "1500", "--guest-host-key",
                ADDR + "=" + sshd.host_pub_file(ADDR)) as psim:
        setup(psim, sshd)
        with open(os.path.join(REPO, "proxmox", "vms", "haproxy-dhcp.yaml"),
                  "w") as f:
            f.write("name: haproxy-dhcp\ntarget_node: node01\ncores: 1\n"
                    "memory: 1024\nclone: ubuntu24-template\n"
                    "ipconfig0: ip=dhcp\nciuser: root\nagent: 1\n")
        commit("feat: a DHCP load balancer [ansible haproxy]")
        p = subprocess.run([BIN, "-C", REPO, "--no-color", "run", "--push"],
                           capture_output=True, text=True, env=env_for(sshd),
                           timeout=600)
        out = p.stdout + p.stderr
        t.eq(p.returncode, 0, "dhcp: run --push exits 0")
        if p.returncode:
            print("#", out[-3000:].replace("\n", "\n# "))
        log = git("log", "--format=%s", "main", cwd=REMOTE).splitlines()
        t.eq(log[0], "Auto-update Ansible inventory [ansible haproxy]",
             "dhcp: the automated commit is on the remote")
        t.eq(git("show", "main:proxmox/new_hosts.txt", cwd=REMOTE),
             ADDR + ",haproxy-dhcp",
             "dhcp: new_hosts.txt lists the VM with the agent's address")
        ini = git("show", "main:proxmox/k8s.ini", cwd=REMOTE)
        t.ok("haproxy-dhcp ansible_host=%s " % ADDR in ini,
             "dhcp: the inventory line has the agent's address", ini)
        runs = os.path.join(D, "haproxy-runs.log")
        t.eq(open(runs).read().split() if os.path.exists(runs) else [],
             ["haproxy-dhcp"], "dhcp: the playbook ran once, on the VM")
        t.ok("from the guest agent recorded" in p.stdout,
             "dhcp: its host key came through the guest agent", out)
        kh = open(KNOWN).read() if os.path.exists(KNOWN) else ""
        t.ok("[%s]:%d %s" % (ADDR, sshd.port,
                             " ".join(sshd.host_pub[ADDR].split()[:2]))
             in kh, "dhcp: the host key is in known_hosts", kh)
        t.ok("no known IPv4 address" not in out,
             "dhcp: no 'no known IPv4 address' warning", out)
        schema_check(t, psim)
    shutil.rmtree(D, ignore_errors=True)
    t.done()


main()
