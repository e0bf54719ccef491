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
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap, schema_check  # noqa: E402
from sshdlib import Sshds  # noqa: E402

BIN, PSIM, SRC = sys.argv[1:4]
SECRET = "0d6c2b9e-3f4a-4b5c-8d7e-9f0a1b2c3d4e"
ADDR = "127.0.0.5"
t = Tap()
W = e2elib.Workdir("pve-gitops-dhcp.")
D, REMOTE = W.dir, W.remote
KNOWN = os.path.join(D, "ssh", "known_hosts")
git = W.git

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


def setup(psim, sshd):
    W.infra_repo(SRC)
    text = W.configure(psim, sshd, KNOWN, extra=e2elib.asan_ansible(BIN))
    assert "dhcp:\n  wait_seconds: 120\n" in text
    with open(W.config, "w") as f:
        f.write(text.replace("dhcp:\n  wait_seconds: 120\n",
                             "dhcp:\n  wait_seconds: 30\n"))
    W.record_playbook("haproxy", os.path.join(D, "haproxy-runs.log"))
    W.commit("chore: the infrastructure repository")


def main():
    topo = os.path.join(D, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sshds([ADDR]) as sshd, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--topology", topo,
                       "--boot-ms", "1500", "--guest-host-key",
                       ADDR + "=" + sshd.host_pub_file(ADDR)) as psim:
        setup(psim, sshd)
        W.vm_file("haproxy-dhcp", "dhcp", agent=True)
        W.commit("feat: a DHCP load balancer [ansible haproxy]")
        p = W.run(BIN, W.env(sshd, SECRET, drop=["VAULT_TOKEN"]), "run",
                  "--push")
        out = p.stdout + p.stderr
        t.eq(p.returncode, 0, "dhcp: run --push exits 0")
        if p.returncode:
            print("#", out[-3000:].replace("\n", "\n# "))
        log = W.remote_log()
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
    W.cleanup()
    t.done()


main()
