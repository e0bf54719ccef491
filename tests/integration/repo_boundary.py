#!/usr/bin/python3
"""The repository is a boundary (issue 13), with the real binary, real git
and proxmox-sim: a committed link that leaves the repository makes pipeline
refuse before it sends anything or commits anything, whichever file or
directory it is; the outside stays unchanged and its content shows nowhere;
an excluded definition that is a FIFO does not hang plan; a commit
subject's escape sequences are printed escaped; the operator's PM_API_URL
and VAULT_ADDR win over the repository's endpoints, so a merged change
cannot send the tokens elsewhere.

Usage: repo_boundary.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR VAULT_SIM
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from simlib import Sim, Tap, example_repo, pve_gitops
from vault_simlib import VaultSim

BIN, SIM, SRC, VSIM = sys.argv[1:5]
SECRET = "5d0c7a1e-3b9f-4e2d-8a6c-1f4b7e9d2c3a"
TOKEN = "hvs.CAESIexfiltrate-me-0123456789"
t = Tap()


def git(d, *args):
    p = subprocess.run(["git", "-C", d] + list(args), capture_output=True,
                       text=True, stdin=subprocess.DEVNULL)
    return p.stdout.strip()


def snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        for n in files:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = f.read()
    return out


def requests_of(sim):
    with open(sim.log) as f:
        return [json.loads(l) for l in f]


def mutations(sim):
    return [r for r in requests_of(sim) if r.get("method") != "GET"]


def pushed_repo(sim, remote):
    """The examples with one new definition, committed with a tag and
    pushed (the commit before it) to a bare remote."""
    d = example_repo(sim, SRC)
    git(remote, "init", "-q", "--bare", "-b", "main")
    git(d, "init", "-q", "-b", "main")
    git(d, "config", "user.name", "Dev")
    git(d, "config", "user.email", "dev@example.test")
    git(d, "remote", "add", "origin", remote)
    vms = os.path.join(d, "proxmox", "vms")
    for n in os.listdir(vms):
        os.unlink(os.path.join(vms, n))
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", "the repository")
    git(d, "push", "-q", "origin", "HEAD:main")
    with open(os.path.join(vms, "k8s-x.yaml"), "w") as f:
        f.write("name: k8s-x\ntarget_node: node01\n"
                "clone: ubuntu24-template\n"
                "ipconfig0: ip=10.0.0.7/24,gw=10.0.0.1\n")
    return d


def commit_all(d, msg):
    git(d, "add", "-A")
    git(d, "commit", "-q", "-m", msg)


def link_cases(sim, outside, token_file):
    """(what, set-up in the repository d) for each hostile link."""

    def k8s_ini(d):
        os.unlink(os.path.join(d, "proxmox", "k8s.ini"))
        os.symlink(token_file, os.path.join(d, "proxmox", "k8s.ini"))
        return "proxmox/k8s.ini"

    def host_vars(d):
        hv = os.path.join(d, "proxmox", "host_vars")
        shutil.rmtree(hv, ignore_errors=True)
        os.symlink(outside, hv)
        return "proxmox/host_vars"

    def new_hosts(d):
        nh = os.path.join(d, "proxmox", "new_hosts.txt")
        if os.path.lexists(nh):
            os.unlink(nh)
        os.symlink(os.path.join(outside, "new_hosts.txt"), nh)
        return "proxmox/new_hosts.txt"

    def proxmox_dir(d):
        # the whole proxmox/ directory, moved outside and linked back
        shutil.rmtree(outside)
        shutil.move(os.path.join(d, "proxmox"), outside)
        os.symlink(outside, os.path.join(d, "proxmox"))
        return "proxmox"

    def inventory_dir(d):
        # a configured inventory in a directory that is a link out
        cfg = os.path.join(d, "pve-gitops.yaml")
        with open(cfg) as f:
            text = f.read()
        with open(cfg, "w") as f:
            f.write(text.replace("inventory: proxmox/k8s.ini",
                                 "inventory: inv/k8s.ini"))
        shutil.copy(os.path.join(d, "proxmox", "k8s.ini"),
                    os.path.join(outside, "k8s.ini"))
        os.symlink(outside, os.path.join(d, "inv"))
        return "inv"

    return [("k8s.ini linked to a token file", k8s_ini),
            ("host_vars linked outside", host_vars),
            ("new_hosts.txt linked to a file outside", new_hosts),
            ("proxmox/ itself linked outside", proxmox_dir),
            ("the configured inventory's directory linked outside",
             inventory_dir)]


def pipeline_links(t):
    work = tempfile.mkdtemp(prefix="pve-gitops-boundary.")
    token_file = os.path.join(work, "vault-token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    outside = os.path.join(work, "outside")
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim:
        for what, setup in link_cases(sim, outside, token_file):
            shutil.rmtree(outside, ignore_errors=True)
            os.mkdir(outside)
            remote = os.path.join(work, "remote.git")
            shutil.rmtree(remote, ignore_errors=True)
            os.mkdir(remote)
            d = pushed_repo(sim, remote)
            rel = setup(d)
            commit_all(d, "add k8s-x [ansible k8s.yml]")
            head = git(remote, "rev-parse", "main")
            before_out = snapshot(outside)
            n0 = len(mutations(sim))
            p = pve_gitops(BIN, d, SECRET, "pipeline", "--push")
            text = p.stdout + p.stderr
            t.ok(p.returncode == 2 and rel in p.stderr and
                 "leaves the repository" in p.stderr,
                 what + ": pipeline refuses and names it", text)
            t.eq(len(mutations(sim)) - n0, 0,
                 what + ": before any change to Proxmox")
            t.eq(git(remote, "rev-parse", "main"), head,
                 what + ": nothing is pushed")
            t.ok(TOKEN not in git(d, "log", "--all", "-p") + text,
                 what + ": the token is in no commit and no output")
            t.ok(snapshot(outside) == before_out,
                 what + ": the outside is unchanged")
            shutil.rmtree(d)
    shutil.rmtree(work)


def excluded_fifo(t):
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET) as sim:
        d = example_repo(sim, SRC)
        fifo = os.path.join(d, "proxmox", "vms", "k8s-home.yaml")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)  # excluded by the example's pve-gitops.yaml
        start = time.monotonic()
        p = pve_gitops(BIN, d, SECRET, "plan")
        t.ok(p.returncode == 0 and time.monotonic() - start < 10,
             "an excluded definition that is a FIFO does not hang plan",
             p.stdout + p.stderr)
        shutil.rmtree(d)


def escaped_subject(t):
    """release --dry-run prints notes made of commit subjects."""
    d = tempfile.mkdtemp(prefix="pve-gitops-esc.")
    git(d, "init", "-q", "-b", "main")
    git(d, "config", "user.name", "Dev")
    git(d, "config", "user.email", "dev@example.test")
    with open(os.path.join(d, "README"), "w") as f:
        f.write("x\n")
    commit_all(d, "feat: add \033]0;owned\007\033[2J thing")
    p = pve_gitops(BIN, d, SECRET, "release", "--dry-run")
    t.ok(p.returncode == 0 and "\\x1b[2J thing" in p.stdout and
         "\033" not in p.stdout + p.stderr,
         "release notes print a commit subject's ESC escaped, never raw",
         repr(p.stdout + p.stderr))
    shutil.rmtree(d)


def catcher():
    """A loopback listener that must never be connected to."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    s.setblocking(False)
    return s


def caught(s):
    try:
        s.accept()[0].close()
        return True
    except BlockingIOError:
        return False


def endpoints_from_repo(t):
    trap = catcher()
    bad = "https://127.0.0.1:%d" % trap.getsockname()[1]
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET) as sim:
        d = example_repo(sim, SRC)
        cfg = os.path.join(d, "pve-gitops.yaml")
        text = open(cfg).read().replace(sim.url, bad)
        text = text.replace("vault:\n", "vault:\n  addr: %s\n" % bad)
        open(cfg, "w").write(text)
        env = dict(os.environ, PM_API_URL=sim.url,
                   PM_API_TOKEN_ID="root@pam!ci", PM_API_TOKEN_SECRET=SECRET)
        p = subprocess.run([BIN, "-C", d, "--no-color", "plan"],
                           capture_output=True, text=True, env=env,
                           timeout=120, stdin=subprocess.DEVNULL)
        t.ok(p.returncode == 0 and "proxmox.endpoint %s in "
             "pve-gitops.yaml is ignored: PM_API_URL is set" % bad
             in p.stderr, "PM_API_URL wins over the repository's endpoint, "
             "and says so", p.stdout + p.stderr)
        with VaultSim(VSIM, token="hvs.operator") as vs:
            env = dict(os.environ, VAULT_ADDR=vs.url,
                       VAULT_TOKEN="hvs.operator", HOME=d)
            p = subprocess.run([BIN, "-C", d, "--no-color", "kubeconfig",
                                "get"], capture_output=True, text=True,
                               env=env, timeout=120,
                               stdin=subprocess.DEVNULL)
            t.ok("vault.addr %s in pve-gitops.yaml is ignored: VAULT_ADDR "
                 "is set" % bad in p.stderr,
                 "VAULT_ADDR wins over the repository's vault.addr",
                 p.stdout + p.stderr)
        t.ok(not caught(trap), "the repository's endpoints got no "
             "connection, so no token")
        shutil.rmtree(d)
    trap.close()


def stray_files(t):
    """The automated commit holds the host_vars pve-gitops wrote, never
    another file of the runner's work tree."""
    work = tempfile.mkdtemp(prefix="pve-gitops-stray.")
    remote = os.path.join(work, "remote.git")
    os.mkdir(remote)
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim:
        d = pushed_repo(sim, remote)
        hv = os.path.join(d, "proxmox", "host_vars")
        os.makedirs(hv, exist_ok=True)
        with open(os.path.join(hv, "secret.env"), "w") as f:
            f.write("AWS_SECRET=" + TOKEN + "\n")
        with open(os.path.join(hv, "notes.yml"), "w") as f:
            f.write("# someone's notes\n")
        git(d, "add", "proxmox/vms")
        git(d, "commit", "-q", "-m", "add k8s-x [ansible k8s.yml]")
        p = pve_gitops(BIN, d, SECRET, "pipeline", "--push")
        files = git(remote, "ls-tree", "-r", "--name-only", "main")
        t.ok(p.returncode == 0 and "proxmox/host_vars/k8s-x.yml" in files,
             "pipeline commits the host_vars it wrote", p.stdout + p.stderr)
        t.ok("secret.env" not in files and "notes.yml" not in files and
             TOKEN not in git(remote, "log", "-p", "main"),
             "and no other file of the work tree", files)
        shutil.rmtree(d)
    shutil.rmtree(work)


def bad_inventory_first(t):
    """An inventory that does not parse stops pipeline before apply."""
    work = tempfile.mkdtemp(prefix="pve-gitops-badinv.")
    remote = os.path.join(work, "remote.git")
    os.mkdir(remote)
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim:
        d = pushed_repo(sim, remote)
        with open(os.path.join(d, "proxmox", "k8s.ini"), "a") as f:
            f.write("\n[k3s]\nvm[0:99999999]\n")
        commit_all(d, "add k8s-x [ansible k8s.yml]")
        n0 = len(mutations(sim))
        p = pve_gitops(BIN, d, SECRET, "pipeline", "--push")
        t.ok(p.returncode == 2 and re.search(r"proxmox/k8s\.ini:\d+: ",
                                             p.stderr),
             "a k8s.ini that does not parse: pipeline refuses at its line",
             p.stdout + p.stderr)
        t.eq(len(mutations(sim)) - n0, 0, "before anything is sent to "
             "Proxmox")
        shutil.rmtree(d)
    shutil.rmtree(work)


def main():
    bad_inventory_first(t)
    stray_files(t)
    endpoints_from_repo(t)
    pipeline_links(t)
    excluded_fifo(t)
    escaped_subject(t)
    t.done()


main()
