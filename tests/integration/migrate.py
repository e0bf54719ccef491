#!/usr/bin/python3
"""Live migration on a target_node change (issue 19), the real binary
against proxmox-sim with node01 and node02 (local, unshared storages),
node03 offline, node04 with 256 MiB of memory, node05 whose incoming
migrations fail (the simulator's migration_error), node06 with 1 GiB of
which a running VM uses 768 MiB:

- a running VM whose target_node changes: plan --detailed-exitcode exits
  2 and shows `~ node = node01 -> node02 (live migration)` (text,
  Markdown, JSON); apply sends one POST .../migrate with online=1,
  with-local-disks=1 and targetstorage, no stop, shutdown or start; the
  VM ran throughout (its status polled during the apply), and is on
  node02 with the same vmid and net0 MAC;
- a stopped VM migrates offline (no online=1);
- a VM whose disks are all on a shared storage migrates live without
  with-local-disks;
- migrate: false in the definition, or in the config's defaults, blocks
  it as before, and apply sends nothing;
- an offline target, too little memory on the target (small, or filled
  by its running VMs): blocked with the reason, no POST;
- a failed migration (node05): exit 1, the VM still on node02 and
  running, and the error says so with the task's exit status;
- a VM the HA stack manages: its migrate POST only makes a hamigrate
  task (it asks ha-manager), so apply waits for the qmigrate the HA stack
  starts (by root@pam) and returns with the VM on its new node; when the
  HA stack's migration fails, exit 1 with that task's status, the VM
  where it was and running.

Usage: migrate.py PVE_GITOPS PROXMOX_SIM
"""
import json
import os
import shutil
import sys
import tempfile
import threading
import time

import requests
import urllib3

from simlib import Sim, Tap, clean_exit, point_at, pve_gitops, schema_check

urllib3.disable_warnings()
BIN, PSIM = sys.argv[1], sys.argv[2]
SECRET = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
OUTPUTS = []

ST = """    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
      - {name: nfs1, type: nfs, shared: true, content: images}
"""
TOPOLOGY = ("nodes:\n  - name: node01\n" + ST + "  - name: node02\n" + ST +
            "  - name: node03\n    online: false\n" + ST +
            "  - name: node04\n    memory: 256M\n" + ST +
            "  - name: node05\n    migration_error: \"unable to detect "
            "remote migration address\"\n" + ST +
            "  - name: node06\n    memory: 1G\n" + ST +
            """templates:
  - {vmid: 9000, name: tpl, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 300, name: big, node: node06, status: running,
     config: {memory: 768}, disks: {scsi0: {storage: local-lvm, size: 2G}}}
""")

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
%s
proxmox:
  endpoint: https://x.invalid:8006/api2/json
"""

VM = """name: {name}
target_node: {node}
cores: 1
memory: 512
clone: tpl
full_clone: true
vm_state: {state}
network: {{bridge: vmbr0}}
disks: {{scsi0: {{size: 4G, storage: {storage}}}}}
{extra}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def log(sim):
    with open(sim.log) as f:
        return [json.loads(x) for x in f if x.strip()]


def mutations(reqs):
    return [e["method"] + " " + e["path"] for e in reqs
            if e["method"] in ("POST", "PUT", "DELETE") and
            not e["path"].endswith("/access/ticket")]


class Repo:
    def __init__(self, sim):
        self.d = tempfile.mkdtemp(prefix="pve-gitops-migrate.")
        self.sim = sim
        self.config("")
        write(os.path.join(self.d, "proxmox/k8s.ini"), "")

    def config(self, extra):
        cfg = os.path.join(self.d, "pve-gitops.yaml")
        write(cfg, CONFIG % extra)
        point_at(self.sim, cfg)

    def vm(self, name, node, state="running", extra="",
           storage="local-lvm"):
        write(os.path.join(self.d, "proxmox/vms", name + ".yaml"),
              VM.format(name=name, node=node, state=state, extra=extra,
                        storage=storage))

    def pg(self, *args):
        before = len(log(self.sim))
        p = pve_gitops(BIN, self.d, SECRET, *args, outputs=OUTPUTS)
        return p, log(self.sim)[before:]


def api(sim, path):
    r = requests.get(sim.api(path), verify=False, timeout=10, headers={
        "Authorization": "PVEAPIToken=root@pam!ci=" + SECRET})
    r.raise_for_status()
    return r.json()["data"]


def post(sim, path, **params):
    r = requests.post(sim.api(path), data=params, verify=False, timeout=10,
                      headers={"Authorization":
                               "PVEAPIToken=root@pam!ci=" + SECRET})
    r.raise_for_status()
    return r.json()["data"]


def where(sim, name):
    for v in api(sim, "/cluster/resources?type=vm"):
        if v.get("name") == name:
            return v
    return None


class Poller(threading.Thread):
    """The VM's status from /cluster/resources, polled until stopped,
    and once more after."""

    def __init__(self, sim, name):
        super().__init__(daemon=True)
        self.sim, self.name, self.seen, self.stop = sim, name, [], False

    def sample(self):
        v = where(self.sim, self.name)
        self.seen.append((v["node"], v["status"]) if v else None)

    def run(self):
        while not self.stop:
            self.sample()
            time.sleep(0.05)
        # One sample after the apply returned: the loop may have slept
        # through the migration's end.
        self.sample()


def migrates(reqs):
    return [e for e in reqs if e["method"] == "POST" and
            e["path"].endswith("/migrate")]


def live(t, r, sim):
    r.vm("web", "node01")
    p, _ = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 0, "web is created on node01, running",
         p.stdout + p.stderr)
    before = where(sim, "web")
    vmid = before["vmid"]
    mac = api(sim, "/nodes/node01/qemu/%d/config" % vmid)["net0"]
    r.vm("web", "node02")
    p, reqs = r.pg("plan", "--detailed-exitcode")
    line = "      ~ node         = node01 -> node02 (live migration)"
    t.ok(p.returncode == 2 and line in p.stdout,
         "plan --detailed-exitcode: 2, the live migration shown",
         "rc %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
    t.ok("GET /api2/json/nodes" in ["%s %s" % (e["method"], e["path"])
                                    for e in reqs],
         "the plan checks the target (GET /nodes)", reqs)
    p, _ = r.pg("plan", "--markdown")
    t.ok("!     node         = node01 -> node02 (live migration)" in
         p.stdout, "Markdown shows the migration", p.stdout)
    p, _ = r.pg("--json", "plan")
    item = [i for i in json.loads(p.stdout)["items"]
            if i["name"] == "web"][0]
    t.eq((item["action"], item["migration"], item["migrate_from"],
          item["node"], [c for c in item["changes"] if c["key"] == "node"]),
         ("update", "live", "node01", "node02",
          [{"key": "node", "before": "node01", "after": "node02",
            "reboot": False, "migration": "live"}]),
         "JSON: an update with the live migration")
    poll = Poller(sim, "web")
    poll.start()
    p, reqs = r.pg("apply", "--auto-approve")
    poll.stop = True
    poll.join()
    t.ok(p.returncode == 0, "apply migrates web", p.stdout + p.stderr)
    mig = migrates(reqs)
    t.eq([(e["path"], e.get("params")) for e in mig],
         [("/api2/json/nodes/node01/qemu/%d/migrate" % vmid,
           {"target": "node02", "online": "1", "with-local-disks": "1",
            "targetstorage": "local-lvm", "node": "node01",
            "vmid": str(vmid)})],
         "one migrate POST: online=1, with-local-disks=1, targetstorage")
    t.eq([m for m in mutations(reqs) if "/status/" in m], [],
         "no stop, shutdown or start")
    t.ok(poll.seen and all(s and s[1] == "running" for s in poll.seen) and
         ("node01", "running") in poll.seen and poll.seen[-1] ==
         ("node02", "running"),
         "the VM ran throughout (polled %d times)" % len(poll.seen),
         poll.seen)
    after = where(sim, "web")
    cfg = api(sim, "/nodes/node02/qemu/%d/config" % vmid)
    t.eq((after["node"], after["vmid"], after["status"], cfg["net0"]),
         ("node02", vmid, "running", mac), "web is on node02, same vmid "
         "and MAC, running")
    p, reqs = r.pg("plan", "--detailed-exitcode")
    t.eq(p.returncode, 0, "the next plan has nothing to do")
    return vmid


def offline(t, r, sim):
    r.vm("db", "node01", state="stopped")
    p, _ = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 0, "db is created stopped", p.stdout + p.stderr)
    r.vm("db", "node02", state="stopped")
    p, _ = r.pg("plan")
    t.ok("~ node         = node01 -> node02 (offline migration)" in
         p.stdout, "plan: an offline migration", p.stdout + p.stderr)
    p, reqs = r.pg("apply", "--auto-approve")
    mig = migrates(reqs)
    t.ok(p.returncode == 0 and len(mig) == 1 and
         "online" not in mig[0].get("params", {}),
         "apply migrates db offline (no online=1)",
         "%r\n%s%s" % (mig, p.stdout, p.stderr))
    v = where(sim, "db")
    t.eq((v["node"], v["status"]), ("node02", "stopped"),
         "db is on node02, stopped")
    os.unlink(os.path.join(r.d, "proxmox/vms/db.yaml"))


def shared(t, r, sim):
    """Disks on a shared storage only: live, without with-local-disks."""
    r.vm("nas", "node01", storage="nfs1")
    p, _ = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 0, "nas is created on nfs1", p.stdout + p.stderr)
    vmid = where(sim, "nas")["vmid"]
    cfg = api(sim, "/nodes/node01/qemu/%d/config" % vmid)
    drives = sorted(v.split(":")[0] for k, v in cfg.items()
                    if k[:4] in ("scsi", "ide0", "ide1", "ide2", "ide3",
                                 "sata", "virt") and k != "scsihw" and
                    "media=cdrom" not in v)
    t.eq(drives, ["nfs1"], "nas's drives are all on nfs1")
    r.vm("nas", "node02", storage="nfs1")
    p, reqs = r.pg("apply", "--auto-approve")
    mig = migrates(reqs)
    params = mig[0].get("params", {}) if mig else {}
    t.ok(p.returncode == 0 and len(mig) == 1 and
         params.get("online") == "1" and
         params.get("targetstorage") == "nfs1",
         "nas migrates live, targetstorage=nfs1",
         "%r\n%s%s" % (mig, p.stdout, p.stderr))
    t.ok("with-local-disks" not in params,
         "no with-local-disks: no drive is on a local storage", params)
    t.eq(where(sim, "nas")["node"], "node02", "nas is on node02")
    os.unlink(os.path.join(r.d, "proxmox/vms/nas.yaml"))


def blocked(t, r, what, reason):
    p, _ = r.pg("plan")
    t.ok(p.returncode == 0 and reason in p.stdout,
         "%s: plan shows it blocked with the reason" % what,
         p.stdout + p.stderr)
    p, reqs = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 1 and reason in p.stdout + p.stderr,
         "%s: apply exits 1 with the reason" % what, p.stdout + p.stderr)
    t.eq(mutations(reqs), [], "%s: apply sends no POST/PUT/DELETE" % what)


def refusals(t, r):
    r.vm("web", "node01", extra="migrate: false")
    blocked(t, r, "migrate: false", "'web' is on node node02, the "
            "definition says node01; migrate is false: move it by hand, "
            "or set migrate: true")
    r.config("defaults:\n  migrate: false")
    r.vm("web", "node01")
    blocked(t, r, "defaults: migrate: false", "migrate is false")
    r.config("")
    r.vm("web", "node03")
    blocked(t, r, "offline target", "cannot migrate 'web' from node02 to "
            "node03: node node03 is offline; bring it back online or set "
            "target_node to an online node")
    r.vm("web", "node04")
    blocked(t, r, "not enough memory", "cannot migrate 'web' from node02 "
            "to node04: node node04 has 224 MiB of memory free (of 256 "
            "MiB), the VM needs 512 MiB")
    # node06's running VM uses 768 MiB of its 1 GiB (and the host 128)
    r.vm("web", "node06")
    blocked(t, r, "memory used by running VMs", "cannot migrate 'web' from "
            "node02 to node06: node node06 has 128 MiB of memory free (of "
            "1024 MiB), the VM needs 512 MiB")


def failure(t, r, sim, vmid):
    r.vm("web", "node05")
    p, reqs = r.pg("apply", "--auto-approve")
    out = p.stdout + p.stderr
    t.eq(len(migrates(reqs)), 1, "failure: one migrate POST")
    t.ok(p.returncode == 1 and "cannot migrate VM %d from node02 to node05"
         % vmid in out and "migration problems" in out and
         "the VM stays on node node02 (running)" in out,
         "failure: exit 1, the task's status and where the VM is", out)
    v = where(sim, "web")
    t.eq((v["node"], v["status"], v.get("lock")), ("node02", "running",
                                                    None),
         "failure: the VM is still on node02, running, unlocked")
    print("\n".join("# " + x for x in out.splitlines()[-4:]))


def ha(t, r, sim):
    r.vm("web", "node02")  # where failure() left it
    r.vm("hav", "node01")
    p, _ = r.pg("apply", "--auto-approve")
    t.ok(p.returncode == 0, "hav is created on node01", p.stdout + p.stderr)
    vmid = where(sim, "hav")["vmid"]
    post(sim, "/cluster/ha/resources", sid="vm:%d" % vmid)
    r.vm("hav", "node02")
    p, reqs = r.pg("apply", "--auto-approve")
    out = p.stdout + p.stderr
    v = where(sim, "hav")
    tasks = api(sim, "/nodes/node01/tasks?vmid=%d&source=all" % vmid)
    kinds = sorted((x["type"], x["user"]) for x in tasks
                   if x["type"] in ("hamigrate", "qmigrate"))
    t.ok(p.returncode == 0 and len(migrates(reqs)) == 1 and
         "migrated to node02 by the HA stack" in out and
         (v["node"], v["status"], v.get("hastate")) ==
         ("node02", "running", "started") and
         kinds == [("hamigrate", "root@pam!ci"), ("qmigrate", "root@pam")],
         "HA: apply waits for the HA stack's qmigrate; the VM is on node02 "
         "when it returns", "%r %r\n%s" % (v, kinds, out))
    t.ok(any(e["method"] == "GET" and
             e["path"] == "/api2/json/nodes/node01/tasks" and
             e.get("params", {}).get("typefilter") == "qmigrate"
             for e in reqs),
         "HA: the HA stack's task is found in the node's task list", reqs)
    r.vm("hav", "node05")
    p, reqs = r.pg("apply", "--auto-approve")
    out = p.stdout + p.stderr
    v = where(sim, "hav")
    t.ok(p.returncode == 1 and "the HA stack's migration" in out and
         "migration problems" in out and
         "stays on node node02 (running)" in out and
         (v["node"], v["status"]) == ("node02", "running"),
         "HA: a failed HA migration: exit 1, its task's status, the VM on "
         "node02 and running", "%r\n%s" % (v, out))
    os.unlink(os.path.join(r.d, "proxmox/vms/hav.yaml"))


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="pve-gitops-migrate-topo.")
    topo = os.path.join(d, "topology.yaml")
    write(topo, TOPOLOGY)
    with Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--topology", topo,
             "--task-ms", "qmigrate=600") as sim:
        r = Repo(sim)
        vmid = live(t, r, sim)
        offline(t, r, sim)
        shared(t, r, sim)
        refusals(t, r)
        failure(t, r, sim, vmid)
        ha(t, r, sim)
        schema_check(t, sim)
        shutil.rmtree(r.d, ignore_errors=True)
        clean_exit(t, sim)
    shutil.rmtree(d, ignore_errors=True)
    t.ok(not any(SECRET in o for o in OUTPUTS), "no secret in any output")
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
