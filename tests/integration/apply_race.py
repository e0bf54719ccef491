#!/usr/bin/python3
"""Four `pve-gitops apply` runs started at once against one proxmox-sim,
two from one clone of the repository and two from another (a second CI
runner: no local lock covers both), 15 times: every one exits 0, there is
exactly one VM per definition, and a `plan --detailed-exitcode` after them
has nothing to do. The applies that lose a race say "another apply is
working on NAME" (a note, not an error) and wait for the winner.

Usage: apply_race.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import shutil
import subprocess
import sys

import requests
import urllib3

from simlib import Sim, Tap, example_repo

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
TRIALS = 15


def env():
    e = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
             PM_API_TOKEN_SECRET=SECRET)
    e.pop("PM_API_URL", None)
    return e


def start(d, *args):
    return subprocess.Popen([BIN, "-C", d, "--no-color"] + list(args),
                            env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def guests(sim):
    r = requests.get(sim.api("/cluster/resources"), params={"type": "vm"},
                     headers=AUTH, verify=False, timeout=30)
    return [v for v in r.json()["data"] if not v.get("template")]


def main():
    t = Tap()
    nonzero, dups, unconverged, said = [], [], [], 0
    for trial in range(TRIALS):
        # clones long enough for the four to overlap
        with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms",
                 "20,qmclone=%d" % (60 + 40 * (trial % 4)),
                 "--boot-ms", "0") as sim:
            repos = [example_repo(sim, SRC), example_repo(sim, SRC)]
            ps = [start(repos[i % 2], "apply", "--auto-approve")
                  for i in range(4)]
            outs = [p.communicate(timeout=300) for p in ps]
            for p, (out, err) in zip(ps, outs):
                if p.returncode:
                    nonzero.append("trial %d: exit %d\n%s" % (
                        trial, p.returncode,
                        "\n".join(line for line in (out + err).splitlines()
                                  if "error" in line or
                                  line.startswith("  !"))))
                said += "another apply is working on" in out + err
            names = [v.get("name") for v in guests(sim)]
            if len(names) != 5 or len(set(names)) != 5:
                dups.append("trial %d: %s" % (trial, sorted(names)))
            p = start(repos[1], "plan", "--detailed-exitcode")
            out, err = p.communicate(timeout=300)
            if p.returncode:
                unconverged.append("trial %d: plan %d\n%s" % (
                    trial, p.returncode, out + err))
            for d in repos:
                shutil.rmtree(d)
    t.ok(not nonzero, "4 applies at once, %d times: every one exits 0 "
         "(%d did not)" % (TRIALS, len(nonzero)), "\n".join(nonzero))
    t.ok(not dups, "exactly one VM per definition every time",
         "\n".join(dups))
    t.ok(not unconverged, "and a plan after them has nothing to do",
         "\n".join(unconverged))
    t.ok(said > 0, "the applies that lost a race said another apply was "
         "working on the VM (%d of %d)" % (said, 4 * TRIALS))
    t.done()


main()
