#!/usr/bin/python3
"""The leftover of a race: two applies clone the same VM, the loser (the
higher vmid) is killed after it lost but before it removed its clone. That
clone still carries the creating marker ("pve-gitops: being created"), with
or without the pve-gitops tag, next to the finished VM of its name. ONE
apply removes it (exit 0, one VM of the name left, the finished one), and
`plan --detailed-exitcode` then exits 0. A VM of that name without the
marker, or a leftover with protection set, is never touched.

The leftovers are made through the API, as a killed loser leaves them.

Usage: apply_leftover.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import re
import shutil
import sys
import time

import requests
import urllib3

from simlib import Sim, Tap, example_repo, pve_gitops

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "5b1c7e2a-3d4f-4e6a-9b8c-7d6e5f4a3b2c"
TOKEN = "root@pam!ci"
AUTH = {"Authorization": "PVEAPIToken=%s=%s" % (TOKEN, SECRET)}
MARKER = "pve-gitops: being created"
NAME = "ci-runner"
HTTP = requests.Session()


def api(sim, method, path, **kw):
    r = HTTP.request(method, sim.api(path), headers=AUTH, verify=False,
                     timeout=30, **kw)
    r.raise_for_status()
    return r.json()["data"]


def vms(sim):
    return api(sim, "GET", "/cluster/resources", params={"type": "vm"})


def named(sim, name):
    return sorted(v["vmid"] for v in vms(sim)
                  if v.get("name") == name and not v.get("template"))


def run(d, *args):
    p = pve_gitops(BIN, d, SECRET, *args)
    return p.returncode, p.stdout + p.stderr


def unlocked(sim, node, vmid):
    deadline = time.time() + 30
    while time.time() < deadline:
        st = api(sim, "GET", "/nodes/%s/qemu/%d/status/current"
                 % (node, vmid))
        if not st.get("lock"):
            return
        time.sleep(0.05)
    raise RuntimeError("VM %d stays locked" % vmid)


def leftover(sim, winner, tags=None, description=MARKER, protect=False):
    """A second clone of the winner's template with the winner's name, as
    an apply that lost the race leaves it when killed: the marker, and
    with tags the pve-gitops tag its configure step set."""
    tpl = sorted((v["node"] != winner["node"], v["vmid"], v)
                 for v in vms(sim) if v.get("template") and
                 v.get("name") == "ubuntu24-template")[0][2]
    newid = int(api(sim, "GET", "/cluster/nextid"))
    api(sim, "POST", "/nodes/%s/qemu/%d/clone" % (tpl["node"], tpl["vmid"]),
        data={"newid": newid, "name": NAME, "target": winner["node"],
              "full": 0, "description": description})
    unlocked(sim, winner["node"], newid)
    conf = {}
    if tags:
        conf["tags"] = tags
    if protect:
        conf["protection"] = 1
    if conf:
        api(sim, "PUT", "/nodes/%s/qemu/%d/config" % (winner["node"], newid),
            data=conf)
    return newid


def main():
    t = Tap()
    with Sim(SIM, "--token", "%s=%s" % (TOKEN, SECRET), "--task-ms",
             "20,qmclone=100", "--boot-ms", "0") as sim:
        d = example_repo(sim, SRC)
        cfg = d + "/pve-gitops.yaml"
        with open(cfg) as f:
            text = f.read()
        # a race that never settles blocks after this, not after 600 s
        with open(cfg, "w") as f:
            f.write(re.sub(r"(?m)^  parallel: 4$",
                           "  parallel: 4\n  timeout_seconds: 15", text))
        rc, out = run(d, "apply", "--auto-approve")
        t.ok(rc == 0, "a first apply creates the VMs", out)
        winner = [v for v in vms(sim) if v.get("name") == NAME][0]

        for what, tags in (("with the marker only", None),
                           ("with the marker and the pve-gitops tag",
                            "pve-gitops")):
            left = leftover(sim, winner, tags)
            rc, out = run(d, "plan")
            t.ok(re.search(r"(?m)^  - %s \(vmid %d, [^)]*\): leftover of an "
                           r"interrupted race, will be destroyed$"
                           % (NAME, left), out) is not None,
                 "%s: plan says the leftover will be destroyed" % what, out)
            t0 = time.time()
            rc, out = run(d, "apply", "--auto-approve")
            t.ok(rc == 0 and time.time() - t0 < 10,
                 "%s: ONE apply exits 0, without waiting" % what, out)
            t.eq(named(sim, NAME), [winner["vmid"]],
                 "%s: only the finished VM is left" % what)
            rc, out = run(d, "plan", "--detailed-exitcode")
            t.ok(rc == 0, "%s: plan --detailed-exitcode exits 0" % what, out)

        # no marker: somebody else's VM of that name; left alone
        other = leftover(sim, winner, description="the team's runner")
        rc, out = run(d, "apply", "--auto-approve")
        t.ok(other in named(sim, NAME) and "leftover" not in out,
             "a VM of the name without the marker is never destroyed", out)
        api(sim, "DELETE", "/nodes/%s/qemu/%d" % (winner["node"], other))

        # protection set: refused, with the reason, and kept
        prot = leftover(sim, winner, protect=True)
        rc, out = run(d, "apply", "--auto-approve")
        t.ok(rc != 0 and prot in named(sim, NAME) and
             "has protection set" in out,
             "a protected leftover is refused and kept", out)
        shutil.rmtree(d)
    t.done()


main()
