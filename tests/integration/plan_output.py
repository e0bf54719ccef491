#!/usr/bin/python3
"""What plan, apply and pipeline print (issue 16), against proxmox-sim:

- a managed VM whose definition was deleted is listed by plan (text,
  --markdown, --json) as having no definition, with --prune as the way to
  delete it; with --prune it is a destroy item instead;
- plan --detailed-exitcode: 0 with orphans only, 2 with them under
  --prune, 1 when all the plan holds is blocked, 2 for blocked plus work;
- a failed apply prints its errors after the summary: the last lines of
  the output (stderr merged in, or stderr alone) are the errors;
- pipeline --push with nothing to commit says so and never "pushed" (nor
  when another clone pushed since); with an unpushed commit of the user's
  it pushes it and says so.

Usage: plan_output.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import requests
import urllib3

from simlib import Sim, Tap, example_repo, pve_gitops

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "5f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
OUTPUTS = []
KEEP = ("haproxy-prod.yaml", "ci-runner.yaml")


def pg(d, *args):
    return pve_gitops(BIN, d, SECRET, *args, outputs=OUTPUTS)


def pg_merged(d, *args):
    """pve-gitops with stderr into the same pipe as stdout, as a CI log
    shows it: the order of the two streams is the order of the lines."""
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
               PM_API_TOKEN_SECRET=SECRET)
    env.pop("PM_API_URL", None)
    p = subprocess.run([BIN, "-C", d, "--no-color"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, timeout=300,
                       stdin=subprocess.DEVNULL)
    OUTPUTS.append(p.stdout)
    return p


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
    raise RuntimeError("task %s did not finish" % upid)


def vms(sim):
    return {v["name"]: v for v in api(sim, "GET", "/cluster/resources",
                                      type="vm") if not v.get("template")}


def small_repo(sim, keep=KEEP):
    d = example_repo(sim, SRC)
    vdir = os.path.join(d, "proxmox", "vms")
    for n in os.listdir(vdir):
        if n not in keep:
            os.unlink(os.path.join(vdir, n))
    return d


def orphans(t, sim, d):
    p = pg(d, "apply", "--auto-approve")
    t.eq(p.returncode, 0, "apply creates the two VMs")
    ci = vms(sim)["ci-runner"]
    os.unlink(os.path.join(d, "proxmox/vms/ci-runner.yaml"))
    line = "    ci-runner (vmid %d, %s)\n" % (ci["vmid"], ci["node"])

    p = pg(d, "plan")
    t.ok(p.returncode == 0 and "1 managed VM has no definition; --prune "
         "deletes it:\n" + line in p.stdout and
         "Proxmox matches the definitions" not in p.stdout and
         "will be destroyed" not in p.stdout,
         "plan lists the managed VM without a definition", p.stdout)
    p = pg(d, "--json", "plan")
    doc = json.loads(p.stdout)
    t.eq((doc["orphans"], doc["summary"]["orphans"],
          doc["summary"]["destroy"], doc["items"][0]["action"]),
         ([{"name": "ci-runner", "vmid": ci["vmid"], "node": ci["node"]}],
          1, 0, "no-op"), "--json: the orphan, not a destroy")
    p = pg(d, "plan", "--markdown")
    t.ok("0 to destroy, 1 without a definition</summary>" in p.stdout and
         "\n  " + line in p.stdout, "--markdown lists it too", p.stdout)
    p = pg(d, "plan", "--detailed-exitcode")
    t.eq((p.returncode, p.stderr), (0, ""),
         "--detailed-exitcode: an orphan without --prune is no change")
    p = pg(d, "plan", "--prune", "--detailed-exitcode")
    t.ok(p.returncode == 2 and "  - ci-runner (vmid %d, %s) will be "
         "destroyed" % (ci["vmid"], ci["node"]) in p.stdout and
         "no definition" not in p.stdout and "error" not in p.stderr,
         "--prune --detailed-exitcode: a destroy, exit 2",
         (p.returncode, p.stdout, p.stderr))
    p = pg(d, "--json", "plan", "--prune")
    doc = json.loads(p.stdout)
    t.eq((doc["orphans"], doc["summary"]["destroy"]), ([], 1),
         "--json --prune: a destroy item, no orphan")

    wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                  newid=130, name="old-web", full=1))
    api(sim, "PUT", "/nodes/node01/qemu/130/config",
        tags="pve-gitops;pg-00000000")
    wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                  newid=131, name="theirs", full=1))
    p = pg(d, "plan")
    t.ok("2 managed VMs have no definition; --prune deletes them:\n" in
         p.stdout and "    old-web (vmid 130, node01)\n" in p.stdout and
         "theirs" not in p.stdout,
         "two orphans; an unmanaged VM is none of them", p.stdout)
    t.ok("ci-runner" in vms(sim) and "old-web" in vms(sim),
         "plan deleted nothing")
    with open(os.path.join(d, "proxmox/vms/haproxy-prod.yaml"), "a") as f:
        f.write("description: changed\n")
    p = pg(d, "plan")
    t.ok("Plan: 0 to add, 1 to change, 0 to destroy.\n\n2 managed VMs "
         "have no definition" in p.stdout,
         "beside work, the orphans follow the summary", p.stdout)


def blocked(t, sim, d):
    wait(sim, api(sim, "POST", "/nodes/node02/qemu/9001/clone",
                  newid=500, name="db-01", full=1))
    with open(os.path.join(d, "proxmox/vms/db-01.yaml"), "w") as f:
        f.write("name: db-01\ntarget_node: node02\ncores: 2\n"
                "memory: 2048\nclone: ubuntu24-template\n"
                "ipconfig0: ip=192.168.1.70/24,gw=192.168.1.1\n"
                "ciuser: ops\n")
    # the change of orphans() undone, so that db-01 is all there is
    path = os.path.join(d, "proxmox/vms/haproxy-prod.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("description: changed\n", ""))
    p = pg(d, "plan", "--detailed-exitcode")
    t.ok(p.returncode == 1 and "! db-01 (vmid 500, node02)" in p.stdout and
         "pve-gitops: error: 1 VM is blocked" in p.stderr,
         "--detailed-exitcode: blocked only exits 1 with an error, not 2",
         (p.returncode, p.stdout, p.stderr))
    p = pg(d, "-q", "plan", "--detailed-exitcode")
    lines = p.stderr.splitlines()
    t.ok(p.returncode == 1 and p.stdout == "" and len(lines) == 2 and
         lines[0].startswith("pve-gitops: error: db-01: ") and
         lines[1] == "pve-gitops: error: 1 VM is blocked and there is "
         "nothing else to do; see above",
         "-q: the plan is not shown, so its reason comes as an error first",
         (p.returncode, p.stdout, p.stderr))
    p = pg(d, "plan")
    t.eq((p.returncode, p.stderr), (0, ""),
         "without it the same plan exits 0")
    with open(os.path.join(d, "proxmox/vms/web2.yaml"), "w") as f:
        f.write("name: web2\ntarget_node: node01\n"
                "clone: ubuntu24-template\n"
                "ipconfig0: ip=192.168.1.71/24,gw=192.168.1.1\n")
    p = pg(d, "plan", "--detailed-exitcode")
    t.ok(p.returncode == 2 and "error" not in p.stderr,
         "blocked beside work to do: 2, changes present",
         (p.returncode, p.stderr))
    os.unlink(os.path.join(d, "proxmox/vms/web2.yaml"))


def apply_failure(t):
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
             "--fault-rate", "1", "--faults", "task") as sim:
        d = small_repo(sim, ("haproxy-prod.yaml",))
        p = pg_merged(d, "apply", "--auto-approve")
        lines = p.stdout.rstrip("\n").split("\n")
        summary = [i for i, l in enumerate(lines)
                   if l.startswith("Apply incomplete!")]
        errors = [i for i, l in enumerate(lines)
                  if l.startswith("pve-gitops: error:")]
        t.ok(p.returncode == 1 and len(summary) == 1 and len(errors) == 2
             and errors == [len(lines) - 2, len(lines) - 1] and
             summary[0] < errors[0] and "haproxy-prod: task qmclone "
             "failed" in lines[-2] and lines[-1] == "pve-gitops: error: 1 "
             "VM failed; the next apply resumes",
             "apply: the summary, then the errors, last", p.stdout)
        p = pg(d, "apply", "--auto-approve")
        last = p.stderr.rstrip("\n").split("\n")[-2:]
        t.ok(p.returncode == 1 and all(l.startswith("pve-gitops: error:")
                                       for l in last) and
             p.stdout.rstrip("\n").split("\n")[-1].startswith(
                 "Apply incomplete!"),
             "stderr alone ends with the errors", (p.stdout, p.stderr))
        p = pg_merged(d, "--json", "apply", "--auto-approve")
        lines = p.stdout.rstrip("\n").split("\n")
        t.ok(p.returncode == 1 and lines[-1] == "pve-gitops: error: 1 VM "
             "failed; the next apply resumes" and
             lines[-2].startswith("pve-gitops: error: haproxy-prod") and
             lines[-3] == "}", "--json: the summary object, then the "
             "errors", p.stdout[-2000:])
        shutil.rmtree(d)


def git(d, *args):
    p = subprocess.run(["git", "-C", d] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.stdout.strip()


def pipeline(t):
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms",
             "10") as sim:
        d = small_repo(sim, ("haproxy-prod.yaml",))
        remote = tempfile.mkdtemp(prefix="pve-gitops-remote.")
        git(remote, "init", "-q", "--bare", "-b", "main")
        git(d, "init", "-q", "-b", "main")
        git(d, "config", "user.name", "Dev")
        git(d, "config", "user.email", "dev@example.test")
        git(d, "remote", "add", "origin", remote)
        git(d, "add", "-A")
        git(d, "commit", "-q", "-m", "add haproxy-prod [ansible haproxy]")
        git(d, "push", "-q", "origin", "HEAD:main")
        p = pg(d, "pipeline", "--push")
        t.ok(p.returncode == 0 and "pipeline: committed" in p.stdout and
             "pipeline: pushed to origin main" in p.stdout and
             git(remote, "rev-parse", "main") == git(d, "rev-parse", "HEAD"),
             "the first pipeline commits and pushes",
             (p.stdout, p.stderr))
        # the next one empties new_hosts.txt (no host is new any more)
        p = pg(d, "pipeline", "--push")
        t.ok(p.returncode == 0 and "pipeline: pushed to origin main" in
             p.stdout, "the second pipeline commits the emptied "
             "new_hosts.txt", (p.stdout, p.stderr))
        before = git(remote, "rev-parse", "main")
        p = pg(d, "pipeline", "--push")
        t.ok(p.returncode == 0 and "pushed" not in p.stdout + p.stderr and
             "pipeline: the inventory did not change; no commit\n" in
             p.stdout and "pipeline: nothing to push: origin main has HEAD "
             "already\n" in p.stdout and
             git(remote, "rev-parse", "main") == before,
             "nothing to commit: says so, never 'pushed'",
             (p.stdout, p.stderr))
        # another clone pushes a commit this one does not have: HEAD is
        # on the remote's branch all the same, nothing to push
        other = tempfile.mkdtemp(prefix="pve-gitops-other.")
        git(other, "clone", "-q", remote, ".")
        git(other, "-c", "user.name=Dev", "-c", "user.email=dev@example.test",
            "commit", "-q", "--allow-empty", "-m", "docs: elsewhere")
        git(other, "push", "-q", "origin", "HEAD:main")
        theirs = git(remote, "rev-parse", "main")
        p = pg(d, "pipeline", "--push")
        t.ok(p.returncode == 0 and "pushed" not in p.stdout + p.stderr and
             "pipeline: nothing to push: origin main has HEAD already\n" in
             p.stdout and git(remote, "rev-parse", "main") == theirs,
             "the remote moved on: still nothing to push, nothing pushed",
             (p.stdout, p.stderr))
        git(d, "pull", "-q", "--ff-only", "origin", "main")
        shutil.rmtree(other)
        with open(os.path.join(d, "NOTES.md"), "w") as f:
            f.write("notes\n")
        git(d, "add", "NOTES.md")
        git(d, "commit", "-q", "-m", "docs: notes")
        p = pg(d, "pipeline", "--push")
        t.ok(p.returncode == 0 and "no commit\n" in p.stdout and
             "pipeline: pushed to origin main" in p.stdout and
             git(remote, "rev-parse", "main") == git(d, "rev-parse", "HEAD"),
             "no automated commit but one of the user's: pushed, and said",
             (p.stdout, p.stderr))
        shutil.rmtree(remote)
        shutil.rmtree(d)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET,
             "--task-ms", "10") as sim:
        d = small_repo(sim)
        orphans(t, sim, d)
        blocked(t, sim, d)
        shutil.rmtree(d)
    apply_failure(t)
    pipeline(t)
    t.eq([o for o in OUTPUTS if SECRET in o], [],
         "the token secret appears in no output")
    t.done()


main()
