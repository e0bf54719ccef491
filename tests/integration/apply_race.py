#!/usr/bin/python3
"""Two `pve-gitops apply` runs started at once against one proxmox-sim
create no duplicate VM: both clone, the clone with the higher vmid is
removed by its own apply, which says why; an apply after them has at most
the finishing left to do. Then an apply killed with SIGKILL at random
moments, 30 times, never leaves a duplicate or an orphan: the next apply
finishes what it left.

Usage: apply_race.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import time

import requests
import urllib3

from simlib import Sim, Tap, example_repo

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}


def repo(sim):
    return example_repo(sim, SRC)


def start(d):
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
               PM_API_TOKEN_SECRET=SECRET)
    return subprocess.Popen([BIN, "-C", d, "-q", "apply", "--auto-approve"],
                            env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def guests(sim):
    r = requests.get(sim.api("/cluster/resources"), params={"type": "vm"},
                     headers=AUTH, verify=False, timeout=30)
    return [v for v in r.json()["data"] if not v.get("template")]


def converge(d):
    for _ in range(5):
        p = start(d)
        out, err = p.communicate(timeout=300)
        if p.returncode == 0:
            return True, out + err
    return False, out + err


def main():
    t = Tap()
    for attempt, clone_ms in enumerate((400, 150, 700)):
        with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms",
                 "20,qmclone=%d" % clone_ms, "--boot-ms", "0") as sim:
            d = repo(sim)
            a, b = start(d), start(d)
            out_a = a.communicate(timeout=300)
            out_b = b.communicate(timeout=300)
            names = [v["name"] for v in guests(sim)]
            t.ok(len(names) == len(set(names)),
                 "two applies at once (clone %d ms): no duplicate" % clone_ms,
                 (names, out_a, out_b))
            said = ("left it to that one" in out_a[1] + out_b[1] or
                    "being created and has no name yet" in
                    out_a[0] + out_b[0] or "is locked (clone)" in
                    out_a[0] + out_b[0])
            t.ok(said or (a.returncode == 0 and b.returncode == 0),
                 "the one that stepped back says why",
                 (a.returncode, b.returncode, out_a[1], out_b[1]))
            ok, text = converge(d)
            names = sorted(v["name"] for v in guests(sim))
            t.ok(ok and len(names) == 5 and len(set(names)) == 5,
                 "an apply after them converges", (names, text))
            shutil.rmtree(d)

    rng = random.Random(20261124)
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET,
             "--task-ms", "30,qmclone=150", "--boot-ms", "0") as sim:
        d = repo(sim)
        bad = None
        for kill in range(30):
            if kill % 3 == 0:
                # start from nothing now and then, so creates get killed
                vms = guests(sim)
                for v in vms:
                    requests.post(sim.api("/nodes/%s/qemu/%d/status/stop"
                                          % (v["node"], v["vmid"])),
                                  headers=AUTH, verify=False, timeout=30)
                time.sleep(0.2)
                for v in vms:
                    requests.delete(sim.api("/nodes/%s/qemu/%d"
                                            % (v["node"], v["vmid"])),
                                    params={"purge": 1}, headers=AUTH,
                                    verify=False, timeout=30)
                time.sleep(0.2)
            p = start(d)
            time.sleep(rng.uniform(0.05, 1.2))
            p.send_signal(signal.SIGKILL)
            p.communicate()
            ok, text = converge(d)
            vms = guests(sim)
            names = [v["name"] for v in vms]
            untagged = [v["name"] for v in vms
                        if "pve-gitops" not in v.get("tags", "")]
            if not (ok and len(names) == 5 and len(set(names)) == 5
                    and not untagged):
                bad = (kill, names, untagged, text)
                break
        t.ok(bad is None, "30 SIGKILLs at random moments, and after each "
             "one the next apply converged: no duplicate, no orphan", bad)
        shutil.rmtree(d)
    t.done()


main()
