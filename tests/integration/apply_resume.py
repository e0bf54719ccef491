#!/usr/bin/python3
"""An apply killed with SIGKILL at random moments is finished by the next
one: after each kill ONE apply exits 0, and `plan --detailed-exitcode`
after it exits 0 (nothing left to do); at the end, and after every round,
there is exactly one VM per definition, none half made (the "being
created" description, no digest tag) and none that no definition names
(an orphan, or a vmid taken by a VM without a name).

The kills land while VMs are cloned, configured, started, tagged or
updated: every third round removes VMs (all, or two), the others change a
definition. The delays come from a seeded generator; the seed is
printed, and APPLY_RESUME_SEED=N replays a run.

Usage: apply_resume.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import random
import re
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
SECRET = "5b1c7e2a-3d4f-4e6a-9b8c-7d6e5f4a3b2c"
TOKEN = "root@pam!ci"
AUTH = {"Authorization": "PVEAPIToken=%s=%s" % (TOKEN, SECRET)}
KILLS = int(os.environ.get("APPLY_RESUME_KILLS", "30"))


def env():
    e = dict(os.environ, PM_API_TOKEN_ID=TOKEN, PM_API_TOKEN_SECRET=SECRET)
    e.pop("PM_API_URL", None)
    return e


def run(d, *args):
    p = subprocess.run([BIN, "-C", d, "--no-color"] + list(args),
                       capture_output=True, text=True, env=env(),
                       timeout=300, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


HTTP = requests.Session()


def api(sim, method, path, **kw):
    r = HTTP.request(method, sim.api(path), headers=AUTH, verify=False,
                     timeout=30, **kw)
    r.raise_for_status()
    return r.json()["data"]


def guests(sim):
    return [v for v in api(sim, "GET", "/cluster/resources",
                           params={"type": "vm"})
            if not v.get("template")]


def wipe(sim, rng, n):
    """Remove n guests (all with n 0): the next apply creates them."""
    vms = guests(sim)
    if n:
        vms = rng.sample(vms, n)
    for v in vms:
        if v.get("status") == "running":
            api(sim, "POST", "/nodes/%s/qemu/%d/status/stop"
                % (v["node"], v["vmid"]))
    deadline = time.time() + 30
    for v in vms:
        while True:
            try:
                api(sim, "DELETE", "/nodes/%s/qemu/%d"
                    % (v["node"], v["vmid"]), params={"purge": 1})
                break
            except requests.HTTPError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)  # its stop task still holds the lock
    gone = set(v["vmid"] for v in vms)
    while time.time() < deadline and \
            gone & set(v["vmid"] for v in guests(sim)):
        time.sleep(0.05)


def problems(sim, want):
    """What is wrong with the cluster: duplicates, orphans, half-made."""
    bad = []
    vms = guests(sim)
    names = [v.get("name", "") for v in vms]
    for n in sorted(set(names)):
        if names.count(n) > 1:
            bad.append("duplicate %s: %d VMs" % (n, names.count(n)))
    for v in vms:
        name = v.get("name", "")
        if name not in want:
            bad.append("orphan vmid %d %r" % (v["vmid"], name))
        elif not re.search(r"(^|;)pg-[0-9a-f]{8}", v.get("tags", "")):
            # the digest tag comes last, with the marker's removal
            bad.append("half made %s (vmid %d)" % (name, v["vmid"]))
        if v.get("lock"):
            bad.append("%s still locked (%s)" % (name, v["lock"]))
    missing = set(want) - set(names)
    if missing:
        bad.append("missing: " + ", ".join(sorted(missing)))
    return bad


def edit(d, k):
    """Flip a definition's memory, so the next apply updates a VM."""
    f = os.path.join(d, "proxmox", "vms", "ci-runner.yaml")
    with open(f) as fh:
        text = fh.read()
    text = re.sub(r"(?m)^memory: .*$", "memory: %d" % (2048 + 512 * (k % 2)),
                  text)
    with open(f, "w") as fh:
        fh.write(text)


def main():
    t = Tap()
    seed = int(os.environ.get("APPLY_RESUME_SEED") or
               random.SystemRandom().randrange(1, 1 << 31))
    print("# seed %d (APPLY_RESUME_SEED=%d replays it)" % (seed, seed))
    rng = random.Random(seed)
    with Sim(SIM, "--token", "%s=%s" % (TOKEN, SECRET), "--task-ms",
             "20,qmclone=300,qmstart=100", "--boot-ms", "0") as sim:
        d = example_repo(sim, SRC)
        rc, text = run(d, "apply", "--auto-approve")
        want = sorted(v["name"] for v in guests(sim))
        t.ok(rc == 0 and len(want) == 5, "a first apply creates the VMs",
             text)
        first_fail = []
        broken = []
        for kill in range(KILLS):
            if kill % 3 == 0:
                # five creates take about 1.3 s, two about 0.7 s
                n = 0 if kill % 6 == 0 else 2
                wipe(sim, rng, n)
                delay = rng.uniform(0.02, 0.8 if n else 1.3)
            else:
                edit(d, kill)  # an update: well under 0.2 s
                delay = rng.uniform(0.0, 0.15)
            p = subprocess.Popen([BIN, "-C", d, "-q", "apply",
                                  "--auto-approve"], env=env(),
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL,
                                 stdin=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            rc, text = run(d, "apply", "--auto-approve")
            prc, ptext = run(d, "plan", "--detailed-exitcode")
            if rc != 0 or prc != 0:
                first_fail.append("kill %d after %.3f s: apply %d, plan %d"
                                  % (kill, delay, rc, prc))
                first_fail += [line for line in (text + ptext).splitlines()
                               if "error" in line or line.startswith("  !")]
                # converge anyway so the next round starts clean
                for _ in range(3):
                    if run(d, "apply", "--auto-approve")[0] == 0:
                        break
            bad = problems(sim, want)
            if bad:
                broken.append((kill, round(delay, 3), bad))
        nfail = sum(x.startswith("kill ") for x in first_fail)
        t.ok(not first_fail, "%d SIGKILLs at random moments: after each "
             "one the first apply exits 0 and plan has nothing left to do "
             "(failed %d of %d, seed %d)" % (KILLS, nfail, KILLS, seed),
             "\n".join(first_fail))
        t.ok(not broken, "no duplicate, no orphan, nothing half made after "
             "any round", broken)
        t.eq(problems(sim, want), [], "and none at the end")
        shutil.rmtree(d)
    t.done()


main()
