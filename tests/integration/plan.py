#!/usr/bin/python3
"""pve-gitops plan against proxmox-sim: a plan of the example repository
from nothing; a no-op plan costs one request; hand-made drift shows with
--refresh only; a same-name unmanaged VM blocks and names --adopt; prune
and protection; bad definitions stop before any request; exit codes; and
no secret in any output.

Usage: plan.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

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
SECRET = "7e5b1a2c-9d8f-4e3a-b6c1-0f2e3d4c5b6a"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
OUTPUTS = []


def repo(sim):
    return example_repo(sim, SRC)


def pg(d, *args):
    return pve_gitops(BIN, d, SECRET, *args, outputs=OUTPUTS)


def log_lines(sim):
    with open(sim.log) as f:
        return [json.loads(l) for l in f]


def api(sim, method, path, **data):
    r = requests.request(method, sim.api(path), data=data, headers=AUTH,
                         verify=False, timeout=30)
    return r.json()["data"]


def wait(sim, upid):
    node = upid.split(":")[1]
    for _ in range(500):
        st = api(sim, "GET", "/nodes/%s/tasks/%s/status" % (node, upid))
        if st["status"] == "stopped":
            return st
        time.sleep(0.01)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET,
             "--task-ms", "10") as sim:
        d = repo(sim)
        n0 = len(log_lines(sim))
        p = pg(d, "plan")
        t.eq(p.returncode, 0, "plan of the examples exits 0")
        t.ok("Plan: 5 to add, 0 to change, 0 to destroy." in p.stdout,
             "five VMs to add", p.stdout + p.stderr)
        # /cluster/resources, and what the creates are checked against
        # (issue 16): GET /nodes, then the storages and bridges of each of
        # the three nodes used; no other VM's ipconfig to read
        checks = 1 + 3 * 2
        t.eq(len(log_lines(sim)) - n0, 1 + checks,
             "one API request for the plan, and the creates' checks")
        p = pg(d, "plan", "--detailed-exitcode")
        t.eq((p.returncode, p.stderr.count("error")), (2, 0),
             "--detailed-exitcode: 2 with changes, no error printed")
        p = pg(d, "--json", "plan")
        plan = json.loads(p.stdout)
        t.eq((plan["summary"]["add"], plan["api_calls"]), (5, 1 + checks),
             "--json summary and API calls")
        haproxy = [i for i in plan["items"] if i["name"] == "haproxy-prod"][0]
        want = {c["key"]: c["after"] for c in haproxy["changes"]}
        t.eq((haproxy["action"], want["memory"], want["scsi0"]),
             ("create", "2048", "local-lvm:20"), "the create's attributes")

        # haproxy-prod as an apply would have made it
        wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                      newid=101, name="haproxy-prod", full=1))
        cfg = {k: v for k, v in want.items()
               if not re.match(r"scsi[0-9]+$", k)}
        api(sim, "PUT", "/nodes/node01/qemu/101/config", **cfg)
        wait(sim, api(sim, "PUT", "/nodes/node01/qemu/101/resize",
                      disk="scsi0", size="20G"))
        wait(sim, api(sim, "POST", "/nodes/node01/qemu/101/status/start"))
        n0 = len(log_lines(sim))
        p = pg(d, "--json", "plan")
        plan = json.loads(p.stdout)
        item = [i for i in plan["items"] if i["name"] == "haproxy-prod"][0]
        t.eq((item["action"], item["vmid"]), ("no-op", 101),
             "an unchanged managed VM is a no-op")
        t.eq(len(log_lines(sim)) - n0, 1 + checks,
             "still one request (and the other creates' checks)")

        api(sim, "PUT", "/nodes/node01/qemu/101/config", memory=1024)
        p = pg(d, "--json", "plan")
        item = [i for i in json.loads(p.stdout)["items"]
                if i["name"] == "haproxy-prod"][0]
        t.eq(item["action"], "no-op", "drift is not seen without --refresh")
        p = pg(d, "--json", "plan", "--refresh")
        item = [i for i in json.loads(p.stdout)["items"]
                if i["name"] == "haproxy-prod"][0]
        t.eq((item["action"], [(c["key"], c["before"], c["after"],
                                c["reboot"]) for c in item["changes"]]),
             ("update", [("memory", "1024", "2048", True)]),
             "--refresh finds the hand-made change (and the reboot)")
        api(sim, "PUT", "/nodes/node01/qemu/101/config", memory=2048)
        p = pg(d, "plan", "--refresh")
        t.ok("haproxy-prod" not in p.stdout,
             "a no-op --refresh reports nothing for it", p.stdout)

        wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                      newid=102, name="ci-runner", full=1))
        p = pg(d, "plan")
        t.ok("! ci-runner (vmid 102, node02): VM 102 'ci-runner' exists and "
             "is not managed by pve-gitops; take it over with: pve-gitops "
             "apply --adopt" in p.stdout,
             "a same-name unmanaged VM blocks and names --adopt", p.stdout)
        p = pg(d, "--json", "plan", "--adopt")
        item = [i for i in json.loads(p.stdout)["items"]
                if i["name"] == "ci-runner"][0]
        t.ok(item["action"] in ("update", "blocked") and item["vmid"] == 102,
             "--adopt plans to take it over", item)

        wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                      newid=130, name="old-web", full=1))
        api(sim, "PUT", "/nodes/node01/qemu/130/config",
            tags="pve-gitops;pg-00000000")
        p = pg(d, "plan")
        t.ok("old-web" not in p.stdout.split("no definition")[0] and
             "    old-web (vmid 130, node01)\n" in p.stdout,
             "without --prune nothing is deleted: listed as an orphan",
             p.stdout)
        p = pg(d, "plan", "--prune")
        t.ok("- old-web (vmid 130, node01) will be destroyed" in p.stdout,
             "--prune plans to destroy it", p.stdout)
        api(sim, "PUT", "/nodes/node01/qemu/130/config", protection=1)
        p = pg(d, "plan", "--prune")
        t.ok("! old-web (vmid 130, node01): VM 130 'old-web' has protection "
             "set" in p.stdout, "never a protected VM", p.stdout)

        with open(os.path.join(d, "proxmox/vms/broken.yaml"), "w") as f:
            f.write("name: broken\ntarget_node: node01\ncores: lots\n")
        n0 = len(log_lines(sim))
        p = pg(d, "plan")
        t.ok(p.returncode == 2 and "broken.yaml:3:8" in p.stderr and
             "nothing was sent to Proxmox" in p.stderr,
             "a bad definition stops the plan", p.stderr)
        t.eq(len(log_lines(sim)) - n0, 0, "and no request was made")
        p = pg(d, "plan", "--detailed-exitcode")
        t.ok(p.returncode == 1 and "broken.yaml:3:8" in p.stderr and
             "nothing was sent to Proxmox" in p.stderr,
             "--detailed-exitcode: a bad definition exits 1, never 2 "
             "(2 means changes)", (p.returncode, p.stderr))
        os.unlink(os.path.join(d, "proxmox/vms/broken.yaml"))
        p = pg(d, "plan", "--detailed-exitcode", "--no-such-flag")
        t.ok(p.returncode == 1 and "--no-such-flag" in p.stderr,
             "--detailed-exitcode: a usage error exits 1 too",
             (p.returncode, p.stderr))
        with open(os.path.join(d, "pve-gitops.yaml"), "a") as f:
            f.write("no_such_key: 1\n")
        p = pg(d, "plan", "--detailed-exitcode")
        t.ok(p.returncode == 1 and "pve-gitops.yaml:" in p.stderr,
             "--detailed-exitcode: a bad pve-gitops.yaml exits 1 too",
             (p.returncode, p.stderr))
        p = pg(d, "plan")
        t.eq(p.returncode, 2, "without it a bad pve-gitops.yaml exits 2")
        # a pin says TLS is expected: an http:// PM_API_URL is refused
        # before a connection is made (127.0.0.1:9 would refuse it)
        with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
            f.write("proxmox:\n  tls_fingerprint: \"%s\"\n" %
                    ":".join(["AB"] * 32))
        env = dict(os.environ, PM_API_URL="http://127.0.0.1:9",
                   PM_API_TOKEN_ID="root@pam!ci", PM_API_TOKEN_SECRET=SECRET)
        p = subprocess.run([BIN, "-C", d, "plan"], capture_output=True,
                           text=True, env=env, timeout=60)
        t.ok(p.returncode == 2 and "plain HTTP" in p.stderr and
             "http://127.0.0.1:9" in p.stderr and SECRET not in p.stderr,
             "a pinned certificate with an http:// PM_API_URL is refused",
             (p.returncode, p.stderr))
        shutil.rmtree(d)

    with Sim(SIM, "--token", "root@pam!ci=" + SECRET) as sim:
        d = repo(sim)
        with open(os.path.join(d, "pve-gitops.yaml")) as f:
            text = f.read()
        with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
            f.write(re.sub(r"  tls_fingerprint: .*\n", "", text))
        p = pg(d, "plan")
        t.ok(p.returncode == 1 and "certificate" in p.stderr.lower(),
             "an unpinned self-signed certificate is refused", p.stderr)
        shutil.rmtree(d)
    t.eq([o for o in OUTPUTS if SECRET in o], [],
         "the token secret appears in no output")
    t.done()


main()
