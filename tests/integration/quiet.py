#!/usr/bin/python3
"""-q prints errors only, against proxmox-sim: validate, plan, apply (a
create), plan again, inventory, output, tag, pipeline (no remote: its
local lease, no push) and provision each exit 0 with nothing on stderr and
nothing on stdout but their data (tag, output, --json, inventory --list,
plan --out's file); the same commands without -q do print, so the checks
can fail. On failure (a bad definition for validate and plan, an endpoint
that refuses connections, a VM apply must block, an unknown command)
stderr holds error lines only; a failed playbook's own output is shown,
before the error.

Usage: quiet.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import requests
import urllib3

from simlib import Sim, Tap, example_repo, pve_gitops

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "5d3c0b7a-1e2f-4a6b-9c8d-7e6f5a4b3c2d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
ERROR_LINE = re.compile(r"^(pve-gitops: error: |[^\s:]+:\d+:\d+: error: )")
PLAYBOOK = """- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - %s
"""


def pg(d, *args):
    return pve_gitops(BIN, d, SECRET, *args)


def git(d, *args):
    return subprocess.run(["git", "-C", d, "-c", "user.name=t", "-c",
                           "user.email=t@example.org"] + list(args),
                          check=True, capture_output=True, text=True).stdout


def api(sim, method, path, **data):
    r = requests.request(method, sim.api(path), data=data, headers=AUTH,
                         verify=False, timeout=30)
    return r.json()["data"]


def silent(t, p, name, rc=0):
    """Exit rc with nothing on stdout or stderr."""
    return t.eq((p.returncode, p.stdout, p.stderr), (rc, "", ""),
                "-q %s: exit %d, no output" % (name, rc))


def data_only(t, p, name):
    """Exit 0 with nothing on stderr; the caller checks stdout."""
    return t.eq((p.returncode, p.stderr), (0, ""),
                "-q %s: exit 0, nothing on stderr" % name)


def errors_only(t, p, name, rc, want):
    """Exit rc, nothing on stdout, stderr only error lines, one with want."""
    lines = p.stderr.splitlines()
    bad = [l for l in lines if not ERROR_LINE.match(l)]
    t.eq((p.returncode, p.stdout), (rc, ""),
         "-q %s: exit %d, nothing on stdout" % (name, rc))
    t.ok(lines and not bad, "-q %s: stderr holds error lines only" % name,
         p.stderr)
    t.ok(want in p.stderr, "-q %s: the error says %r" % (name, want),
         p.stderr)


def make_repo(sim):
    d = example_repo(sim, SRC)
    books = os.path.join(d, "proxmox", "playbooks")
    with open(os.path.join(books, "hello.yml"), "w") as f:
        f.write(PLAYBOOK % "debug: {msg: hello-from-the-playbook}")
    with open(os.path.join(books, "boom.yml"), "w") as f:
        f.write(PLAYBOOK % "fail: {msg: boom-from-the-playbook}")
    git(d, "init", "-q", "-b", "main")
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "feat: the VMs [ansible haproxy]")
    return d


def read_only(t, d):
    """validate and plan before anything exists; the controls without -q."""
    p = pg(d, "validate")
    t.ok("warning:" in p.stderr and "definitions valid" in p.stdout,
         "control: validate without -q prints its table and warnings",
         p.stdout + p.stderr)
    silent(t, pg(d, "-q", "validate"), "validate")
    p = pg(d, "plan")
    t.ok("Plan: 5 to add" in p.stdout, "control: plan without -q prints "
         "the plan", p.stdout + p.stderr)
    silent(t, pg(d, "-q", "plan"), "plan")
    silent(t, pg(d, "-q", "plan", "--detailed-exitcode"),
           "plan --detailed-exitcode (changes)", rc=2)
    saved = os.path.join(d, "saved.plan")
    silent(t, pg(d, "-q", "plan", "--out", saved), "plan --out")
    t.ok(os.path.getsize(saved) > 0, "-q plan --out writes its file")
    os.unlink(saved)
    p = pg(d, "-q", "--json", "plan")
    if data_only(t, p, "--json plan"):
        t.eq(json.loads(p.stdout)["summary"]["add"], 5,
             "-q --json plan prints the JSON plan")
    p = pg(d, "-q", "plan", "--markdown")
    data_only(t, p, "plan --markdown")
    t.ok("haproxy-prod" in p.stdout, "-q plan --markdown prints it", p.stdout)


def apply_and_after(t, sim, d):
    silent(t, pg(d, "-q", "apply", "--auto-approve"), "apply (5 creates)")
    names = sorted(v["name"] for v in api(sim, "GET", "/cluster/resources",
                                          type="vm") if not v["template"])
    t.eq(len(names), 5, "the quiet apply created the five VMs")
    silent(t, pg(d, "-q", "plan"), "plan again (no changes)")
    silent(t, pg(d, "-q", "plan", "--detailed-exitcode"),
           "plan --detailed-exitcode (no changes)")
    p = pg(d, "plan")
    t.ok("No changes." in p.stdout, "control: plan without -q says so",
         p.stdout)
    silent(t, pg(d, "-q", "inventory"), "inventory")
    with open(os.path.join(d, "proxmox", "k8s.ini")) as f:
        t.ok("haproxy-prod" in f.read(), "-q inventory wrote the inventory")
    p = pg(d, "-q", "inventory", "--list")
    if data_only(t, p, "inventory --list"):
        t.ok("haproxy-prod" in json.loads(p.stdout)["_meta"]["hostvars"],
             "-q inventory --list prints the dynamic inventory", p.stdout)
    p = pg(d, "-q", "output", "vm_ips")
    if data_only(t, p, "output vm_ips"):
        t.eq(json.loads(p.stdout)["haproxy-prod"],
             "ip=192.168.1.30/24,gw=192.168.1.1", "-q output prints it")
    p = pg(d, "-q", "output")
    data_only(t, p, "output")
    t.ok(p.stdout.startswith("ansible_inventory = {"),
         "-q output prints every output", p.stdout)
    p = pg(d, "-q", "tag")
    t.eq((p.returncode, p.stdout, p.stderr), (0, "haproxy\n", ""),
         "-q tag (HEAD) prints the playbook only")
    p = pg(d, "-q", "tag", "fix: more [ansible k8s]")
    t.eq((p.returncode, p.stdout, p.stderr), (0, "k8s\n", ""),
         "-q tag MESSAGE prints the playbook only")


def chain(t, d):
    silent(t, pg(d, "-q", "pipeline"), "pipeline (the automated commit)")
    t.eq(git(d, "log", "-1", "--format=%s"),
         "Auto-update Ansible inventory [ansible haproxy]\n",
         "the quiet pipeline made its commit")
    t.eq(git(d, "status", "--porcelain", "--untracked-files=no"), "",
         "nothing left to commit")
    head = git(d, "rev-parse", "HEAD")
    silent(t, pg(d, "-q", "pipeline"), "pipeline (nothing to commit)")
    t.eq(git(d, "rev-parse", "HEAD"), head, "and it made no commit")
    p = pg(d, "provision", "--playbook", "hello")
    t.ok("hello-from-the-playbook" in p.stdout and "provision:" in p.stdout,
         "control: provision without -q shows the playbook and its steps",
         p.stdout + p.stderr)
    silent(t, pg(d, "-q", "provision", "--playbook", "hello"),
           "provision (the playbook passes)")
    p = pg(d, "-q", "provision", "--playbook", "boom")
    lines = p.stderr.splitlines()
    t.eq((p.returncode, p.stdout), (1, ""),
         "-q provision (the playbook fails): exit 1, nothing on stdout")
    t.ok("boom-from-the-playbook" in p.stderr and lines and
         lines[-1] == "pve-gitops: error: ansible-playbook boom.yml exited "
         "with status 2",
         "-q: a failed playbook's output is shown, then the error",
         p.stderr)
    t.ok("provision:" not in p.stderr + p.stdout,
         "-q: no progress line of provision", p.stderr)


def blocked(t, sim, d):
    """An unmanaged VM of a defined name: apply blocks it, as errors."""
    src = os.path.join(d, "proxmox", "vms", "haproxy-prod.yaml")
    with open(src) as f:
        text = f.read().replace("haproxy-prod", "haproxy-two")
    text = text.replace("192.168.1.30", "192.168.1.31")
    with open(os.path.join(d, "proxmox", "vms", "haproxy-two.yaml"),
              "w") as f:
        f.write(text)
    upid = api(sim, "POST", "/nodes/node01/qemu/9000/clone", newid=150,
               name="haproxy-two", full=1)
    for _ in range(500):
        st = api(sim, "GET", "/nodes/node01/tasks/%s/status" % upid)
        if st["status"] == "stopped":
            break
        time.sleep(0.01)
    p = pg(d, "-q", "apply", "--auto-approve")
    errors_only(t, p, "apply (a VM blocked)", 1, "haproxy-two: ")
    t.ok("--adopt" in p.stderr, "-q: the blocked item's way out is said",
         p.stderr)


def failures(t, sim):
    d = example_repo(sim, SRC)
    with open(os.path.join(d, "proxmox", "vms", "haproxy-prod.yaml"),
              "a") as f:
        f.write("cores: many\n")
    for cmd in ("validate", "plan"):
        errors_only(t, pg(d, "-q", cmd), "%s (a bad definition)" % cmd, 2,
                    "haproxy-prod.yaml:")
    shutil.rmtree(d)

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    d = example_repo(sim, SRC)
    cfg = os.path.join(d, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(re.sub(r"endpoint: \S+",
                       "endpoint: https://127.0.0.1:%d/api2/json" % port,
                       text))
    errors_only(t, pg(d, "-q", "plan"), "plan (an unreachable endpoint)", 1,
                "127.0.0.1:%d" % port)
    shutil.rmtree(d)
    p = pg(SRC, "frobnicate")
    t.ok("try 'pve-gitops --help'" in p.stderr,
         "control: a usage error without -q gives the hint", p.stderr)
    errors_only(t, pg(SRC, "-q", "frobnicate"), "frobnicate (usage)", 2,
                "unknown command 'frobnicate'")


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET,
             "--task-ms", "10") as sim:
        d = make_repo(sim)
        read_only(t, d)
        apply_and_after(t, sim, d)
        chain(t, d)
        blocked(t, sim, d)
        failures(t, sim)
        shutil.rmtree(d)
    t.done()


if __name__ == "__main__":
    main()
