#!/usr/bin/python3
"""ssh.connect through the chain (issue 22), on loopback only: a VM whose
own address is 127.0.0.9 (nothing listens there) is reached at a real
sshd on 127.0.0.6 and a port that is not 22, as a guest behind a port
forward is; proxmox-sim's guest agent reports that sshd's host key.
The agent answers 1.5 s after the VM starts (--boot-ms), while the sshd
answers at once: the key is read once the agent runs, not given up on.

`run --push` on a commit tagged [ansible web] that adds the VM, with
ssh.port 22 and ssh.connect {127.0.0.9: "127.0.0.6:PORT"}: run exits 0,
the wait, the login and the playbook went to the forward (the playbook
ran on the VM with host key checking strict), the key is recorded in
known_hosts under the VM's own bare address (HostKeyAlias), the
repository's inventory still says ansible_host=127.0.0.9, and doctor's
ssh-port and known-host links are ok. Two new VMs sent to one HOST:PORT
are refused (one master connection would check one host key for both),
and so is a forwarded VM without a guest agent (a key scanned through the
forward is never recorded under its address); neither runs a playbook or
changes known_hosts. A bad ssh.connect value is refused with its
file:line.

Usage: ssh_connect.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402

BIN, PSIM, SRC = sys.argv[1:4]
SECRET = "6b1f0c3e-2a4d-4e5f-9a8b-7c6d5e4f3a2b"
VM_ADDR = "127.0.0.9"  # the VM's own address: nothing listens there
FWD_ADDR = "127.0.0.6"  # the port forward: a real sshd
t = Tap()
W = e2elib.Workdir("pve-gitops-ssh-connect.")
D = W.dir
KNOWN = os.path.join(D, "ssh", "known_hosts")
RUNS = os.path.join(D, "web-runs.log")

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir",
         capacity: 100G}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
"""


def setup(psim, sshd):
    W.infra_repo(SRC)
    text = W.configure(psim, sshd, KNOWN, extra=e2elib.asan_ansible(BIN))
    text = text.replace("ssh:\n  port: %d\n" % sshd.port,
                        "ssh:\n  port: 22\n  connect:\n    %s: \"%s:%d\"\n"
                        % (VM_ADDR, FWD_ADDR, sshd.port))
    assert "connect:" in text
    with open(W.config, "w") as f:
        f.write(text)
    W.record_playbook("web", RUNS)
    W.commit("chore: the infrastructure repository")


def main():
    topo = os.path.join(D, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sshds([FWD_ADDR]) as sshd, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--boot-ms", "1500",
                       "--topology", topo,
                       "--guest-host-key",
                       VM_ADDR + "=" + sshd.host_pub_file(FWD_ADDR)) as psim:
        t.ok(sshd.port != 22, "the forward is on a port other than 22")
        setup(psim, sshd)
        W.vm_file("web-1", VM_ADDR, agent=True)
        W.commit("feat: a web server behind a port forward [ansible web]")
        env = W.env(sshd, SECRET, drop=["VAULT_TOKEN"])
        p = W.run(BIN, env, "run", "--push")
        out = p.stdout + p.stderr
        t.eq(p.returncode, 0, "run --push exits 0")
        if p.returncode:
            print("#", out[-3000:].replace("\n", "\n# "))
        t.ok("waiting for SSH at %s:%d (ssh.connect" % (FWD_ADDR, sshd.port)
             in out, "the SSH wait went to the forward", out)
        t.ok("from the guest agent recorded" in out,
             "the host key came through the guest agent", out)
        t.eq(open(RUNS).read().split() if os.path.exists(RUNS) else [],
             ["web-1"], "the playbook ran once, on the VM, through the "
             "forward with strict host key checking")
        kh = open(KNOWN).read() if os.path.exists(KNOWN) else ""
        key = " ".join(sshd.host_pub[FWD_ADDR].split()[:2])
        t.ok("%s %s" % (VM_ADDR, key) in kh.splitlines(),
             "known_hosts has the key under the VM's bare address", kh)
        t.ok("127.0.0.6" not in kh and ":%d" % sshd.port not in kh,
             "known_hosts does not name the forward", kh)
        ini = W.git("show", "main:proxmox/k8s.ini", cwd=W.remote)
        t.ok("web-1 ansible_host=%s " % VM_ADDR in ini and
             FWD_ADDR not in ini,
             "the repository's inventory keeps the VM's own address", ini)
        p = W.run(BIN, env, "doctor", "--json", "web-1")
        try:
            links = {x["name"]: x for x in
                     json.loads(p.stdout)["vms"][0]["links"]}
        except (ValueError, KeyError, IndexError):
            links = {}
        ssh, known = links.get("ssh-port", {}), links.get("known-host", {})
        t.ok(ssh.get("status") == "ok" and "ssh.connect" in
             ssh.get("detail", ""), "doctor: ssh-port ok through the forward",
             p.stdout[-3000:] + p.stderr)
        t.ok(known.get("status") == "ok" and VM_ADDR in
             known.get("detail", ""), "doctor: known-host ok for the "
             "VM's address", p.stdout[-3000:] + p.stderr)
        # two new VMs sent to one HOST:PORT: refused before any SSH (one
        # master connection would serve both, one host key checked)
        with open(W.config) as f:
            text = f.read()
        fwd = '"%s:%d"' % (FWD_ADDR, sshd.port)
        with open(W.config, "w") as f:
            f.write(text.replace("    %s: %s\n" % (VM_ADDR, fwd),
                                 "    %s: %s\n    127.0.0.10: %s\n"
                                 "    127.0.0.11: %s\n"
                                 % (VM_ADDR, fwd, fwd, fwd)))
        W.vm_file("web-2", "127.0.0.10", agent=True)
        W.vm_file("web-3", "127.0.0.11", agent=True)
        W.commit("feat: two web servers behind one forward [ansible web]")
        kh_before = open(KNOWN).read()
        p = W.run(BIN, env, "run", "--push")
        out = p.stdout + p.stderr
        t.ok(p.returncode != 0 and "ssh.connect sends web-2 and web-3 to "
             "the same %s:%d" % (FWD_ADDR, sshd.port) in out,
             "two new VMs sent to one HOST:PORT: refused, with both names",
             out[-3000:])
        t.ok(open(RUNS).read().split() == ["web-1"] and
             open(KNOWN).read() == kh_before,
             "... no playbook ran and known_hosts is unchanged")
        # a forwarded VM without a guest agent: no key scanned through
        # the forward is recorded under its address (another server's?)
        with open(W.config, "w") as f:
            f.write(text.replace("    %s: %s\n" % (VM_ADDR, fwd),
                                 "    %s: %s\n    127.0.0.12: %s\n"
                                 % (VM_ADDR, fwd, fwd)))
        W.vm_file("web-4", "127.0.0.12", agent=False)
        W.commit("feat: a web server without an agent [ansible web]")
        p = W.run(BIN, env, "run", "--push")
        out = p.stdout + p.stderr
        t.ok(p.returncode != 0 and "web-4: ssh.connect sends its SSH to "
             "%s:%d and the guest agent gave no host key" %
             (FWD_ADDR, sshd.port) in out and
             open(KNOWN).read() == kh_before and
             open(RUNS).read().split() == ["web-1"],
             "no guest agent behind a forward: refused, known_hosts "
             "unchanged, no playbook", out[-3000:])
        with open(W.config, "w") as f:
            f.write(text)
        # a bad value: refused with file:line, nothing run
        with open(W.config, "w") as f:
            f.write(text.replace('"%s:%d"' % (FWD_ADDR, sshd.port),
                                 '"localhost:%d"' % sshd.port))
        p = W.run(BIN, env, "doctor", "web-1")
        t.ok(p.returncode != 0 and "pve-gitops.yaml:" in p.stderr and
             "expected \"HOST:PORT\"" in p.stderr,
             "a bad ssh.connect value is refused with file:line",
             p.stdout + p.stderr)
    W.cleanup()
    t.done()


main()
