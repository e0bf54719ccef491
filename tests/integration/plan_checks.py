#!/usr/bin/python3
"""Plan checks what the cluster can tell (issue 16), the real binary
against proxmox-sim with a topology of two nodes (pve2 offline), storages
that are missing, disabled, inactive or hold no images, two bridges, one
template and a VM no definition holds (its ipconfig0 10.0.0.50):

- one case per mistake (unknown node, offline node, missing storage,
  storage without images, missing bridge, missing template, an IPv4
  address in another VM's ipconfig): plan shows the blocked item with the
  way out (and exits 0, as a blocked plan always did); apply exits 1 and
  sends no POST, PUT or DELETE;
- a good definition plans as a create at the cost of GET /nodes, one GET
  .../storage and one .../network for its node, and one config per other
  VM; once it exists, plan reads nothing more than /cluster/resources
  without --refresh, and checks again with it;
- a refusal Proxmox means for good (a disk moved to a storage that is not
  there, in an update plan does not check: 500) and a parameter that
  fails verification (a disk moved to a storage without images: 400) are
  tried once, not in three rounds, and the error names the endpoint and
  Proxmox's message.

Usage: plan_checks.py PVE_GITOPS PROXMOX_SIM
"""
import json
import os
import shutil
import sys
import tempfile

from simlib import Sim, Tap, point_at, pve_gitops, schema_check

BIN, PSIM = sys.argv[1], sys.argv[2]
SECRET = "5d2c1b0a-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
OUTPUTS = []

TOPOLOGY = """\
nodes:
  - name: pve1
    storages:
      - {name: local, type: dir, content: "iso,vztmpl,backup"}
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
      - {name: off, type: lvmthin, content: images, enabled: false}
      - {name: gone, type: nfs, content: images, active: false}
    bridges: [vmbr0, vmbr1]
  - name: pve2
    online: false
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: pve1,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 200, name: legacy-db, node: pve1, status: running,
     config: {ipconfig0: "ip=10.0.0.50/24,gw=10.0.0.1"},
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
  - {vmid: 201, name: legacy-dhcp, node: pve1,
     config: {ipconfig0: "ip=dhcp"},
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
"""

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
proxmox:
  endpoint: https://x.invalid:8006/api2/json
"""

GOOD = dict(node="pve1", clone="ubuntu24-template", storage="local-lvm",
            bridge="vmbr0", ip="10.0.0.10")

VM = """name: {name}
target_node: {node}
cores: 1
memory: 512
clone: {clone}
ipconfig0: "ip={ip}/24,gw=10.0.0.1"
network: {{bridge: {bridge}}}
disks: {{scsi0: {{size: 4G, storage: {storage}}}}}
"""

MUTATIONS = ("POST", "PUT", "DELETE")


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def log(sim):
    with open(sim.log) as f:
        return [json.loads(x) for x in f if x.strip()]


def mutations(entries):
    return [(e["method"], e["path"]) for e in entries
            if e["method"] in MUTATIONS and
            not e["path"].endswith("/access/ticket")]


class Repo:
    def __init__(self, sim):
        self.d = tempfile.mkdtemp(prefix="pve-gitops-checks.")
        write(os.path.join(self.d, "pve-gitops.yaml"), CONFIG)
        write(os.path.join(self.d, "proxmox/k8s.ini"), "")
        point_at(sim, os.path.join(self.d, "pve-gitops.yaml"))
        self.sim = sim

    def only(self, name, **kw):
        """The one definition of the repository."""
        vms = os.path.join(self.d, "proxmox/vms")
        os.makedirs(vms, exist_ok=True)
        for f in os.listdir(vms):
            os.unlink(os.path.join(vms, f))
        v = dict(GOOD, name=name)
        v.update(kw)
        write(os.path.join(vms, name + ".yaml"), VM.format(**v))

    def pg(self, *args):
        """Run pve-gitops; the requests it sent, from the sim's log."""
        before = len(log(self.sim))
        p = pve_gitops(BIN, self.d, SECRET, *args, outputs=OUTPUTS)
        return p, log(self.sim)[before:]


CASES = [
    ("unknown node", dict(node="node09"),
     "node09 is not a cluster node (nodes: pve1, pve2); set target_node "
     "to one of them"),
    ("offline node", dict(node="pve2"),
     "node pve2 is offline; bring it back online or set target_node to an "
     "online node (pve1)"),
    ("missing storage", dict(storage="nosuch"),
     "storage 'nosuch' does not exist on node pve1; set storage to one "
     "that does (local-lvm)"),
    ("storage without images", dict(storage="local"),
     "storage 'local' on node pve1 does not hold VM disks (content: "
     "iso,vztmpl,backup; add 'images' to it); set storage to one that "
     "does (local-lvm)"),
    ("disabled storage", dict(storage="off"),
     "storage 'off' is disabled on node pve1; set storage to one that "
     "does (local-lvm)"),
    ("inactive storage", dict(storage="gone"),
     "storage 'gone' is not active on node pve1; set storage to one that "
     "does (local-lvm)"),
    ("missing bridge", dict(bridge="vmbr9"),
     "bridge 'vmbr9' does not exist on node pve1 (bridges: vmbr0, vmbr1); "
     "set bridge of net0 to one of them"),
    ("missing template", dict(clone="debian13-template"),
     "there is no template 'debian13-template' to clone in the cluster "
     "(templates: ubuntu24-template); set clone to one of them"),
    ("IPv4 used by another VM", dict(ip="10.0.0.50"),
     "10.0.0.50 is already used by VM 200 'legacy-db' (its ipconfig0); "
     "choose another address in ipconfig0, or change that VM"),
]


def mistakes(t, r):
    for what, kw, reason in CASES:
        r.only("web", **kw)
        p, reqs = r.pg("plan")
        out = p.stdout + p.stderr
        # a blocked plan exits 0, as before (--detailed-exitcode aside)
        t.ok(p.returncode == 0 and "! web (%s): %s" % (kw.get("node", "pve1"), reason) in out,
             "%s: plan shows the blocked item with the way out, exit 0"
             % what, "rc %d\n%s" % (p.returncode, out))
        p, reqs = r.pg("apply", "--auto-approve")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 1 and reason in out,
             "%s: apply blocks it, exit 1" % what,
             "rc %d\n%s" % (p.returncode, out))
        t.eq(mutations(reqs), [], "%s: apply sends no POST/PUT/DELETE" %
             what)


def paths(reqs):
    return [e["method"] + " " + e["path"].split("?")[0] for e in reqs]


def costs(t, r):
    r.only("web")
    p, reqs = r.pg("plan")
    t.ok(p.returncode == 0 and "web" in p.stdout,
         "a good definition plans as a create", p.stdout + p.stderr)
    got = sorted(paths(reqs))
    want = sorted([
        "GET /api2/json/cluster/resources", "GET /api2/json/nodes",
        "GET /api2/json/nodes/pve1/storage",
        "GET /api2/json/nodes/pve1/network",
        # the two VMs no definition holds: no list endpoint has ipconfig
        "GET /api2/json/nodes/pve1/qemu/200/config",
        "GET /api2/json/nodes/pve1/qemu/201/config"])
    t.eq(got, want, "the create's checks: GET /nodes, one storage and one "
         "network list of its node, one config per other VM")
    net = [e for e in reqs if "/network" in e["path"]]
    t.ok(net and net[0].get("params", {}).get("type") == "any_bridge",
         "the bridges are asked for with type=any_bridge", net)

    p, reqs = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 0, "the good definition applies",
         p.stdout + p.stderr)
    p, reqs = r.pg("plan")
    t.ok(p.returncode == 0 and "No changes" in p.stdout,
         "the VM exists: no changes", p.stdout + p.stderr)
    t.eq(paths(reqs), ["GET /api2/json/cluster/resources"],
         "an existing managed VM is not checked without --refresh: one "
         "request")
    p, reqs = r.pg("plan", "--refresh")
    got = paths(reqs)
    t.ok(p.returncode == 0 and "GET /api2/json/nodes" in got and
         "GET /api2/json/nodes/pve1/storage" in got and
         "GET /api2/json/nodes/pve1/network" in got and
         "GET /api2/json/nodes/pve1/qemu/200/config" in got,
         "with --refresh it is checked again", got)


def permanent(t, r):
    """The VM of costs() moved to a storage that is not there: no check
    without --refresh, and Proxmox's refusal is tried once."""
    r.only("web", storage="nosuch")
    p, reqs = r.pg("plan")
    t.ok(p.returncode == 0 and "storage=nosuch" in p.stdout,
         "without --refresh the update is not checked", p.stdout + p.stderr)
    p, reqs = r.pg("apply", "--auto-approve")
    out = p.stdout + p.stderr
    moves = [e for e in reqs if e["path"].endswith("/move_disk")]
    t.ok(p.returncode == 1 and len(moves) == 1,
         "a storage that does not exist: one attempt",
         "rc %d, %d move_disk\n%s" % (p.returncode, len(moves), out))
    t.ok("round 2" not in out and "planning again" not in out and
         out.count("does not exist") == 1,
         "no retry round; the error once", out)
    print("\n".join("# apply: " + x for x in out.splitlines()[-6:]))
    t.ok("/move_disk" in out and "storage 'nosuch' does not exist" in out,
         "the error names the endpoint and Proxmox's message", out)
    t.ok("1 VM failed: Proxmox refused what was asked (above); change the "
         "definition and apply again" in p.stderr and
         "the next apply resumes" not in p.stderr,
         "the last error says applying again as it is will not help",
         p.stderr)
    p, reqs = r.pg("plan", "--refresh")
    t.ok(p.returncode == 0 and "storage 'nosuch' does not exist on node "
         "pve1" in p.stdout + p.stderr,
         "with --refresh plan blocks it", p.stdout + p.stderr)


def bad_parameter(t, r):
    """A 400 (a parameter that fails verification): the disk moved to a
    storage that holds no images, which qemu-server refuses as a
    parameter. Tried once."""
    r.only("web", storage="local")
    p, reqs = r.pg("plan")
    t.ok(p.returncode == 0 and "storage=local" in p.stdout,
         "400: the update is planned without --refresh", p.stdout + p.stderr)
    p, reqs = r.pg("apply", "--auto-approve")
    out = p.stdout + p.stderr
    moves = [e for e in reqs if e["path"].endswith("/move_disk")]
    t.ok(p.returncode == 1 and [e["status"] for e in moves] == [400],
         "400: one attempt", "rc %d, %r\n%s" % (p.returncode, moves, out))
    t.ok("planning again" not in out and "/move_disk: 400" in out and
         "does not support vm images" in out,
         "400: no retry round; the endpoint and Proxmox's message", out)
    print("\n".join("# apply: " + x for x in out.splitlines()[-6:]))


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="pve-gitops-checks-topo.")
    topo = os.path.join(d, "topology.yaml")
    write(topo, TOPOLOGY)
    with Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--topology",
             topo) as sim:
        r = Repo(sim)
        mistakes(t, r)
        costs(t, r)
        permanent(t, r)
        bad_parameter(t, r)
        schema_check(t, sim)
        shutil.rmtree(r.d, ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)
    t.ok(not any(SECRET in o for o in OUTPUTS), "no secret in any output")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
