#!/usr/bin/env python3
"""DHCP VMs in stage one, and the guest agent's file-read (issue 16).

The real binary and real git against proxmox-sim, whose topology gives
the DHCP VM a lease (dhcp_leases: its guest agent reports that address):
- `pipeline` on a commit adding a DHCP VM with agent: 1, the agent not up
  yet when apply is done (--boot-ms): stage one asks again until it
  answers, and the automated commit lists the VM with the lease; a VM with
  a static ipconfig0 is never asked;
- an agent that never comes up within dhcp.wait_seconds: pipeline exits 1
  after about that long, naming the VM and the key, with nothing changed
  and no commit; a DHCP VM that already has an inventory line is asked
  once, not waited for, and its line kept;
- provision reads the host keys through the agent: a key file the guest
  does not have is asked for once (not retried as if transient).

Usage: dhcp_agent.py PVE_GITOPS PROXMOX_SIM
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from simlib import Sim, Tap, point_at, schema_check

BIN, PSIM = os.path.abspath(sys.argv[1]), sys.argv[2]
SECRET = "5b1f0c2e-7a3d-4e8f-9b6a-1c2d3e4f5a6b"

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
  dhcp-a: 127.0.0.5
"""

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
playbooks_dir: proxmox/playbooks
host_vars_dir: proxmox/host_vars
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
proxmox:
  endpoint: https://x.invalid:8006/api2/json
ssh:
  port: %d
  known_hosts: %s/known_hosts
  wait_seconds: 5
dhcp:
  wait_seconds: %d
"""

PLAYBOOK = """- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - ansible.builtin.command: "true"
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def vm(name, ipconfig=None):
    return ("name: %s\ntarget_node: node01\ncores: 1\nmemory: 1024\n"
            "clone: ubuntu24-template\nciuser: root\nagent: 1\n%s"
            % (name, 'ipconfig0: "%s"\n' % ipconfig if ipconfig else ""))


class Repo:
    def __init__(self, d, sim, wait, port=22):
        self.dir = os.path.join(d, "repo")
        write(os.path.join(self.dir, "pve-gitops.yaml"),
              CONFIG % (port, d, wait))
        point_at(sim, os.path.join(self.dir, "pve-gitops.yaml"))
        write(os.path.join(self.dir, "proxmox", "playbooks", "reach.yml"),
              PLAYBOOK)
        write(os.path.join(self.dir, "proxmox", "vms", ".keep"), "")
        self.env = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
                        PM_API_TOKEN_SECRET=SECRET, HOME=d,
                        ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=d + "/at")
        self.env.pop("PM_API_URL", None)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.test")
        self.commit("chore: the repository")

    def git(self, *args):
        return subprocess.run(["git", "-C", self.dir] + list(args),
                              check=True, capture_output=True,
                              text=True).stdout

    def commit(self, msg):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg)

    def add_vm(self, name, ipconfig=None):
        write(os.path.join(self.dir, "proxmox", "vms", name + ".yaml"),
              vm(name, ipconfig))

    def read(self, rel):
        p = os.path.join(self.dir, rel)
        return open(p).read() if os.path.exists(p) else None

    def pg(self, *args):
        return subprocess.run([BIN, "-C", self.dir, "--no-color"] +
                              list(args), capture_output=True, text=True,
                              env=self.env, timeout=300,
                              stdin=subprocess.DEVNULL)


def requests(sim, suffix):
    with open(sim.log) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r for r in rows if r["path"].endswith(suffix)]


def sim_args(*extra):
    return ("--token", "root@pam!ci=" + SECRET, "--task-ms", "10") + extra


def agent_late(t):
    """The agent answers 2.5 s after the start: stage one waits for it."""
    with tempfile.TemporaryDirectory() as d:
        topo = os.path.join(d, "topology.yaml")
        write(topo, TOPOLOGY)
        with Sim(PSIM, *sim_args("--topology", topo,
                                 "--boot-ms", "2500")) as sim:
            r = Repo(d, sim, 30)
            r.add_vm("dhcp-a", "ip=dhcp")
            r.add_vm("static-b", "ip=127.0.0.7/8,gw=127.0.0.1")
            r.commit("feat: two VMs [ansible reach]")
            p = r.pg("pipeline")
            t.ok(p.returncode == 0, "late agent: pipeline exits 0",
                 p.stdout + p.stderr)
            nh = r.git("show", "HEAD:proxmox/new_hosts.txt").split()
            t.eq(sorted(nh), ["127.0.0.5,dhcp-a", "127.0.0.7,static-b"],
                 "late agent: the automated commit lists the DHCP VM with "
                 "its lease")
            t.ok("dhcp-a ansible_host=127.0.0.5 " in
                 (r.read("proxmox/k8s.ini") or ""),
                 "late agent: the inventory line has the agent's address")
            asks = requests(sim, "/agent/network-get-interfaces")
            t.ok(len(asks) >= 2 and asks[0]["status"] == 500 and
                 asks[-1]["status"] == 200,
                 "late agent: asked while it was not up, until it answered",
                 asks)
            t.eq(len({a["path"] for a in asks}), 1,
                 "late agent: the VM with a static ipconfig0 is never asked")
            t.ok("no known IPv4 address" not in p.stderr,
                 "late agent: no warning about the address", p.stderr)
            schema_check(t, sim)


def agent_never(t):
    """The agent never answers within dhcp.wait_seconds: a clear failure."""
    with tempfile.TemporaryDirectory() as d:
        topo = os.path.join(d, "topology.yaml")
        write(topo, TOPOLOGY)
        with Sim(PSIM, *sim_args("--topology", topo,
                                 "--boot-ms", "600000")) as sim:
            r = Repo(d, sim, 2)
            r.add_vm("dhcp-a")  # no ipconfig0: DHCP too
            r.commit("feat: a DHCP VM [ansible reach]")
            head = r.git("rev-parse", "HEAD")
            start = time.monotonic()
            p = r.pg("pipeline")
            took = time.monotonic() - start
            t.ok(p.returncode == 1 and "dhcp-a" in p.stderr and
                 "dhcp.wait_seconds" in p.stderr and
                 "within 2 s" in p.stderr and
                 "QEMU guest agent is not running" in p.stderr,
                 "never: pipeline exits 1 naming the VM, the key and the "
                 "agent's answer", p.stdout + p.stderr)
            asks = requests(sim, "/agent/network-get-interfaces")
            t.ok(2 <= len(asks) <= 6 and took < 20,
                 "never: polled a few times for about the wait (%d asks, "
                 "%.1f s)" % (len(asks), took), asks)
            t.ok(r.read("proxmox/k8s.ini") is None and
                 r.read("proxmox/new_hosts.txt") is None,
                 "never: nothing was written")
            t.eq(r.git("rev-parse", "HEAD"), head, "never: no commit")
            # a DHCP VM the inventory already lists: asked once, kept
            write(os.path.join(r.dir, "proxmox", "k8s.ini"),
                  "# Individual hosts\n"
                  "dhcp-a ansible_host=127.0.0.5 ansible_user=root\n")
            n0 = len(asks)
            p = r.pg("inventory")
            asks = requests(sim, "/agent/network-get-interfaces")
            t.ok(p.returncode == 0 and len(asks) == n0 + 1 and
                 "its inventory line is left as it is" in p.stderr,
                 "never: a listed DHCP VM is asked once and kept",
                 p.stderr)
            t.ok("dhcp-a ansible_host=127.0.0.5" in
                 r.read("proxmox/k8s.ini"), "never: its line is kept")
            schema_check(t, sim)


def banner_server(addr):
    """Answers as an SSH server would on connect (the banner), then
    closes: what the SSH wait needs to reach the host key step."""
    s = socket.socket()
    s.bind((addr, 0))
    s.listen(16)

    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            try:
                c.sendall(b"SSH-2.0-OpenSSH_9.2p1 stand-in\r\n")
            except OSError:
                pass
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return s


def file_read_once(t):
    """A key file the guest does not have: one file-read, not a dozen."""
    with tempfile.TemporaryDirectory() as d:
        key = os.path.join(d, "hostkey")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-f", key], check=True)
        srv = banner_server("127.0.0.6")
        try:
            with Sim(PSIM, *sim_args("--boot-ms", "0", "--guest-host-key",
                                     "127.0.0.6=" + key + ".pub")) as sim:
                r = Repo(d, sim, 30, port=srv.getsockname()[1])
                r.add_vm("keys-c", "ip=127.0.0.6/8,gw=127.0.0.1")
                r.commit("feat: a VM [ansible reach]")
                p = r.pg("pipeline")
                t.ok(p.returncode == 0, "file-read: stage one exits 0",
                     p.stdout + p.stderr)
                start = time.monotonic()
                p = r.pg("provision")
                took = time.monotonic() - start
                reads = requests(sim, "/agent/file-read")
                files = [x["params"].get("file") for x in reads]
                t.eq(sorted(files),
                     ["/etc/ssh/ssh_host_%s_key.pub" % k
                      for k in ("ecdsa", "ed25519", "rsa")],
                     "file-read: each key file asked for once")
                t.eq(sorted(x["status"] for x in reads), [200, 500, 500],
                     "file-read: the guest has the ed25519 key only")
                t.ok("1 host key from the guest agent" in p.stdout,
                     "file-read: the key came through the agent",
                     p.stdout + p.stderr)
                t.ok(took < 60, "file-read: provision took %.1f s" % took)
                schema_check(t, sim)
        finally:
            srv.close()


def main():
    t = Tap()
    agent_late(t)
    agent_never(t)
    file_read_once(t)
    t.done()


main()
