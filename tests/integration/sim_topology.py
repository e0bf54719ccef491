#!/usr/bin/python3
"""proxmox-sim's topology file, --state persistence across a restart, the
start-up lines (with a generated token), and refusals of bad start-up
input with file:line.

Usage: sim_topology.py PROXMOX_SIM
"""

import os
import subprocess
import sys
import tempfile

import requests
import urllib3

from simlib import Sim, Tap

urllib3.disable_warnings()

TOPOLOGY = """\
nodes:
  - name: pve-a
    cpus: 8
    memory: 32G
    storages:
      - {name: fast, type: lvmthin, content: "images,rootdir", capacity: 100G}
      - {name: shared-nfs, type: nfs, content: images, capacity: 2T,
         shared: true}
  - name: pve-b
    storages:
      - {name: fast, capacity: 50G}
      - {name: shared-nfs, type: nfs, content: images, capacity: 2T,
         shared: true}
templates:
  - {vmid: 8000, name: debian12, node: pve-a, cloudinit: shared-nfs,
     disks: {scsi0: {storage: shared-nfs, size: 2G}}}
vms:
  - {vmid: 120, name: legacy-db, node: pve-b, status: running,
     config: {cores: 4, tags: "db;prod", ipconfig0: "ip=127.0.0.9/8"},
     disks: {virtio0: {storage: fast, size: 32G}}}
users:
  - userid: ops@pve
    password: hunter2
    tokens: [{id: ci, secret: s3cr3t}]
"""


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-topology.")
    topo = os.path.join(work, "topology.yaml")
    state = os.path.join(work, "state.json")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    auth = {"Authorization": "PVEAPIToken=ops@pve!ci=s3cr3t"}
    with Sim(sys.argv[1], "--topology", topo, "--state", state,
             "--task-ms", "0") as sim:
        get = lambda p: requests.get(sim.api(p), headers=auth,
                                     verify=False, timeout=10).json()["data"]
        t.eq(sorted(n["node"] for n in get("/nodes")), ["pve-a", "pve-b"],
             "nodes from the topology")
        st = {s["storage"]: s for s in get("/nodes/pve-b/storage")}
        t.eq((st["fast"]["total"], st["shared-nfs"]["shared"]),
             (50 << 30, 1), "storages with capacity and sharing")
        vms = {v["vmid"]: v for v in get("/cluster/resources?type=vm")}
        t.eq((vms[8000]["template"], vms[120]["status"],
              vms[120]["tags"]), (1, "running", "db;prod"),
             "templates and existing VMs")
        # a cross-node clone works from shared storage
        requests.post(sim.api("/pools"), data={"poolid": "web"},
                      headers=auth, verify=False, timeout=10)
        r = requests.post(sim.api("/nodes/pve-a/qemu/8000/clone"),
                          data={"newid": 130, "name": "web", "target":
                                "pve-b", "full": 1, "pool": "web"},
                          headers=auth, verify=False, timeout=10)
        t.eq(r.status_code, 200, "clone to another node (shared storage)")
        r = requests.post(sim.api("/nodes/pve-b/qemu/120/clone"),
                          data={"newid": 131, "target": "pve-a"},
                          headers=auth, verify=False, timeout=10)
        t.eq((r.status_code, r.reason),
             (500, "can't clone VM to node 'pve-a' (VM uses local storage)"),
             "not from local storage")
        t.eq(get("/nodes/pve-b/qemu/130/config")["name"], "web",
             "the clone is on the target node")
        sim.stop()
    with Sim(sys.argv[1], "--topology", topo, "--state", state) as sim:
        get = lambda p: requests.get(sim.api(p), headers=auth,
                                     verify=False, timeout=10).json()["data"]
        vms = {v["vmid"] for v in get("/cluster/resources?type=vm")}
        t.ok(130 in vms, "--state keeps VMs across a restart", vms)
        members = get("/pools/web")["members"]
        t.eq([m["vmid"] for m in members], [130], "and pools")
        t.eq(os.stat(state).st_mode & 0o777, 0o600, "the state file is 0600")

    with Sim(sys.argv[1], "--listen", "127.0.0.1:0") as sim:
        line = sim.proc.stdout.readline().split()
        t.eq(line[0], "token", "a token is generated without credentials")
        t.ok(line[1].startswith("root@pam!sim="), "root@pam!sim token",
             line)
        t.eq(len(sim.fingerprint.split(":")), 32,
             "the fingerprint is SHA-256 in pairs")
        r = requests.get(sim.api("/version"), verify=False, timeout=10,
                         headers={"Authorization": "PVEAPIToken=" + line[1]})
        t.eq(r.status_code, 200, "the generated token works")

    with open(topo, "w") as f:
        f.write("nodes:\n  - name: a\n  - cpus: 4\n")
    p = subprocess.run([sys.argv[1], "--listen", "127.0.0.1:0",
                        "--topology", topo], capture_output=True, text=True,
                       timeout=30)
    t.eq((p.returncode, p.stderr.strip()),
         (2, "proxmox-sim: error: %s:3: 'name' is required (a string)"
          % topo), "a bad topology names file:line and exits 2")
    p = subprocess.run([sys.argv[1], "--fault-rate", "2"],
                       capture_output=True, text=True, timeout=30)
    t.eq((p.returncode, p.stderr.strip()),
         (2, "proxmox-sim: error: --fault-rate: '2' is not a number from 0 "
          "to 1"), "a bad option exits 2")
    p = subprocess.run([sys.argv[1], "--help"], capture_output=True,
                       text=True, timeout=30)
    flags = ["--listen", "--http", "--tls-cert", "--tls-key", "--token",
             "--user", "--topology", "--task-ms", "--boot-ms",
             "--ticket-lifetime", "--guest-host-key", "--fault-rate",
             "--faults", "--fault-delay-ms", "--seed", "--latency-ms",
             "--request-log", "--state", "--lock-wait-ms"]
    t.eq([f for f in flags if f not in p.stdout], [],
         "--help documents every flag")
    t.done()


main()
