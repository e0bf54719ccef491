#!/usr/bin/python3
"""Clones land where the definition says (issue 14), against proxmox-sim,
whose ubuntu24-template keeps its disks on local-lvm:

- a linked clone (full_clone unset: false, the original's default) whose
  nested_disks scsi0 is on data2: Proxmox's clone takes no storage for a
  linked clone, so the clone request has none and scsi0 is moved after
  (move_disk delete=1): on data2, no unusedN left (the old volume went);
- the same with full_clone: true: the clone request carries storage=data2
  and nothing is moved;
- ide1 cloudinit in the definition: the VM has exactly one cloud-init
  drive, on ide1 (the template's ide2 is deleted in the same write);
- a definition changed to put an existing VM's disk on data2: the update
  moves it;
- under dropped answers, 500s and locks repeated applies converge on the
  same placement, each VM once; a move whose answer was lost is looked
  up once its task is gone, never sent again;
- host_vars say data2, `plan --refresh` has nothing to do after each apply,
  and every request matches the official schema
  (when PVE_SCHEMA_CHECK names the schema tool: a developer's check).

Usage: apply_storage.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

import requests
import urllib3

from simlib import Sim, Tap, example_repo, pve_gitops

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "7c2e4a6b-8d1f-4c3e-9a5b-6e7f8a9b0c1d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}

BASE = """target_node: node01
cores: 1
memory: 1024
clone: ubuntu24-template
vm_state: running
"""

DEFS = {
    "st-linked": BASE + """ipconfig0: "ip=192.168.1.71/24,gw=192.168.1.1"
nested_disks:
  scsi:
    scsi0:
      disk:
        storage: data2
        size: 10G
""",
    "st-full": BASE + """full_clone: true
ipconfig0: "ip=192.168.1.72/24,gw=192.168.1.1"
nested_disks:
  scsi:
    scsi0:
      disk:
        storage: data2
        size: 10G
""",
    "st-ci": BASE + """ipconfig0: "ip=192.168.1.73/24,gw=192.168.1.1"
nested_disks:
  scsi:
    scsi0:
      disk:
        storage: local-lvm
        size: 8G
  ide:
    ide1:
      cloudinit:
        storage: local-lvm
""",
}


def api(sim, path):
    """The test's own reads; they ride out injected faults."""
    for _ in range(30):
        try:
            r = requests.get(sim.api(path), headers=AUTH, verify=False,
                             timeout=30)
            if r.status_code == 200:
                return r.json()["data"]
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError("GET %s keeps failing" % path)


def vms(sim):
    return {v["name"]: v for v in api(sim, "/cluster/resources?type=vm")
            if not v.get("template")}


def config(sim, v):
    return api(sim, "/nodes/%s/qemu/%d/config" % (v["node"], v["vmid"]))


def cloudinit_drives(conf):
    return sorted(k for k, v in conf.items()
                  if re.match(r"(ide|sata|scsi|virtio)\d+$", k) and
                  isinstance(v, str) and
                  re.match(r"[^:,]+:(\d+/)?vm-\d+-cloudinit", v))


def requests_log(sim):
    with open(sim.log) as f:
        return [json.loads(line) for line in f if line.strip()]


def calls(sim, method, suffix):
    return [x for x in requests_log(sim)
            if x.get("method") == method and x["path"].endswith(suffix)]


def write_defs(d, defs):
    vdir = os.path.join(d, "proxmox", "vms")
    for f in glob.glob(os.path.join(vdir, "*.yaml")):
        os.unlink(f)
    for name, body in defs.items():
        with open(os.path.join(vdir, name + ".yaml"), "w") as f:
            f.write("name: %s\n%s" % (name, body))


def host_vars(d, name):
    """What `pve-gitops inventory` (the chain's step after apply) writes."""
    p = pve_gitops(BIN, d, SECRET, "inventory")
    if p.returncode != 0:
        return "inventory failed: " + p.stdout + p.stderr
    with open(os.path.join(d, "proxmox", "host_vars", name + ".yml")) as f:
        return f.read()


def plan_clean(t, d, what):
    p = pve_gitops(BIN, d, SECRET, "plan", "--refresh",
                   "--detailed-exitcode")
    t.ok(p.returncode == 0 and "No changes" in p.stdout,
         "plan --refresh is clean " + what,
         "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))


def check_placed(t, sim, d, name, storage):
    v = vms(sim)[name]
    conf = config(sim, v)
    t.ok(conf.get("scsi0", "").startswith(storage + ":"),
         "%s: scsi0 is on %s" % (name, storage), conf.get("scsi0"))
    unused = sorted(k for k in conf if k.startswith("unused"))
    t.eq(unused, [], "%s: no unusedN left behind" % name)
    t.ok(re.search(r"size=10G", conf.get("scsi0", "")) is not None,
         "%s: and grown to 10G" % name, conf.get("scsi0"))
    hv = host_vars(d, name)
    t.ok(re.search(r"storage: (!unsafe )?'?%s'?\n" % storage, hv)
         is not None, "%s: host_vars say %s" % (name, storage), hv)
    return v, conf


def check_linked(t, sim, d):
    v, conf = check_placed(t, sim, d, "st-linked", "data2")
    clone = [x for x in calls(sim, "POST", "/qemu/9000/clone")
             if x["params"].get("name") == "st-linked"]
    t.ok(len(clone) == 1 and clone[0]["params"].get("full") == "0" and
         "storage" not in clone[0]["params"],
         "st-linked: a linked clone, without a target storage",
         [c["params"] for c in clone])
    moves = [x["params"] for x in
             calls(sim, "POST", "/qemu/%d/move_disk" % v["vmid"])]
    t.ok(len(moves) == 1 and moves[0].get("disk") == "scsi0" and
         moves[0].get("storage") == "data2" and
         moves[0].get("delete") == "1",
         "st-linked: then scsi0 moved to data2 (delete=1)", moves)
    t.eq(cloudinit_drives(conf), ["ide2"],
         "st-linked: the template's cloud-init drive stays (none defined)")


def check_full(t, sim, d):
    v, conf = check_placed(t, sim, d, "st-full", "data2")
    clone = [x for x in calls(sim, "POST", "/qemu/9000/clone")
             if x["params"].get("name") == "st-full"]
    t.ok(len(clone) == 1 and clone[0]["params"].get("full") == "1" and
         clone[0]["params"].get("storage") == "data2",
         "st-full: the full clone request carries storage=data2",
         [c["params"] for c in clone])
    t.eq(calls(sim, "POST", "/qemu/%d/move_disk" % v["vmid"]), [],
         "st-full: nothing to move after it")


def check_ci(t, sim):
    conf = config(sim, vms(sim)["st-ci"])
    t.eq(cloudinit_drives(conf), ["ide1"],
         "st-ci: exactly one cloud-init drive, on ide1")
    t.ok("ide2" not in conf, "st-ci: the template's ide2 is gone",
         conf.get("ide2"))


def schema_violations(sim):
    """The schema tool's verdict on the request log: None when it is not
    there, else "" (no violation) or its report."""
    # a developer's check, only when asked for: the project's tests read
    # nothing outside it (PVE_SCHEMA_CHECK=/path/to/pve_schema_check.py)
    tool = os.environ.get("PVE_SCHEMA_CHECK")
    if not tool:
        return None
    n = len(requests_log(sim))
    p = subprocess.run(["/usr/bin/python3", tool, sim.log],
                       capture_output=True, text=True, timeout=300)
    if p.returncode == 0 and p.stdout.strip().splitlines()[-1:] == \
            ["%d requests, 0 violations" % n]:
        return ""
    return p.stdout + p.stderr


def schema_check(t, sim, what):
    v = schema_violations(sim)
    if v is not None:
        t.eq(v, "", "every request %s matches the official schema" % what)


def faults(t):
    """Lost answers (a move carried out, its answer dropped), 500s and
    locks: repeated applies converge on the same placement, once."""
    defs = {k: DEFS[k] for k in ("st-linked", "st-ci")}
    for seed in (1, 2, 3):
        with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
                 "--boot-ms", "0", "--fault-rate", "0.12", "--faults",
                 "drop,http500,lock", "--seed", str(seed)) as sim:
            d = example_repo(sim, SRC)
            write_defs(d, defs)
            for runs in range(1, 11):
                p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
                if p.returncode == 0:
                    break
            vs = [v for v in api(sim, "/cluster/resources?type=vm")
                  if not v.get("template")]
            got = {}
            for v in vs:
                conf = config(sim, v)
                got.setdefault(v["name"], []).append(
                    (conf.get("scsi0", "").split(":")[0],
                     cloudinit_drives(conf),
                     sorted(k for k in conf if k.startswith("unused"))))
            what = ("seed %d: converges in %d applies under faults, each "
                    "VM once, placed as defined" % (seed, runs))
            t.eq((p.returncode, got),
                 (0, {"st-linked": [("data2", ["ide2"], [])],
                      "st-ci": [("local-lvm", ["ide1"], [])]}), what)
            shutil.rmtree(d)


def lost_move(t):
    """A move_disk whose answer is dropped (the sim did the work) is looked
    up after its task, never sent again. Seeds that drop no move_disk
    answer say nothing; at least one of them must."""
    hits, bad = [], []
    for seed in range(1, 16):
        with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
                 "--boot-ms", "0", "--fault-rate", "0.3", "--faults", "drop",
                 "--seed", str(seed)) as sim:
            d = example_repo(sim, SRC)
            write_defs(d, {"st-linked": DEFS["st-linked"]})
            p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
            moves = [x.get("fault") for x in requests_log(sim)
                     if x["path"].endswith("/move_disk")]
            if moves[:1] == ["drop"]:
                hits.append(seed)
                conf = config(sim, vms(sim)["st-linked"])
                if p.returncode != 0 or len(moves) != 1 or \
                        not conf["scsi0"].startswith("data2:") or \
                        any(k.startswith("unused") for k in conf):
                    bad.append((seed, p.returncode, moves, conf["scsi0"],
                                p.stdout[-800:] + p.stderr[-800:]))
                if len(hits) == 1:
                    schema_check(t, sim, "after a lost move_disk answer")
            shutil.rmtree(d)
    t.ok(hits and not bad, "a dropped move_disk answer is looked up, not "
         "sent again (seeds %s)" % hits, bad)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
             "--boot-ms", "0") as sim:
        d = example_repo(sim, SRC)
        write_defs(d, DEFS)
        p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
        t.ok(p.returncode == 0, "apply creates the three VMs",
             p.stdout + p.stderr)
        t.ok("st-linked: scsi0 moved to data2" in p.stdout,
             "and says it moved st-linked's scsi0", p.stdout)
        check_linked(t, sim, d)
        check_full(t, sim, d)
        check_ci(t, sim)
        plan_clean(t, d, "after the creates")

        # an existing VM's disk to another storage: the update moves it
        ci = DEFS["st-ci"].replace("storage: local-lvm\n        size: 8G",
                                   "storage: data2\n        size: 10G")
        write_defs(d, dict(DEFS, **{"st-ci": ci}))
        p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
        t.ok(p.returncode == 0 and "st-ci: scsi0 moved to data2" in p.stdout,
             "an update moves st-ci's scsi0 to data2", p.stdout + p.stderr)
        check_placed(t, sim, d, "st-ci", "data2")
        check_ci(t, sim)
        plan_clean(t, d, "after the update")

        # options the disk lacks (I/O limits, ssd): planned and set
        opt = ci.replace("storage: data2\n        size: 10G",
                         "storage: data2\n        size: 10G\n"
                         "        iops_r_burst: 500\n"
                         "        mbps_wr_concurrent: 12.5\n"
                         "        emulatessd: true")
        write_defs(d, dict(DEFS, **{"st-ci": opt}))
        p = pve_gitops(BIN, d, SECRET, "plan")
        t.ok("ssd=0,iops_rd_max=(unset),mbps_wr=(unset) -> "
             "ssd=1,iops_rd_max=500,mbps_wr=12.5   (after a reboot)"
             in p.stdout and "then rebooted" in p.stdout,
             "the plan shows the disk options st-ci's scsi0 lacks",
             p.stdout + p.stderr)
        p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
        v = vms(sim)["st-ci"]
        scsi0 = config(sim, v).get("scsi0", "")
        t.ok(p.returncode == 0 and all(
            o in scsi0.split(",") for o in
            ("iops_rd_max=500", "mbps_wr=12.5", "ssd=1", "size=10G")) and
            scsi0.startswith("data2:"),
            "apply sets them on the drive, volume and size kept",
            (scsi0, p.stdout + p.stderr))
        plan_clean(t, d, "after the options")
        schema_check(t, sim, "of these applies")
        shutil.rmtree(d)
    faults(t)
    lost_move(t)
    t.done()


main()
