#!/usr/bin/python3
"""pipeline with release: true against proxmox-sim and a bare remote: the
release comes first (CHANGELOG.md, chore(release) commit, tag), then the
automated inventory commit, and --push sends the branch and the tag; a
second pipeline releases nothing.

Usage: pipeline_release.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import os
import shutil
import subprocess
import sys
import tempfile

from simlib import Sim, Tap, example_repo, pve_gitops

BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "0b2d4f6a-8c1e-4a3b-9d5f-7e9a1c3b5d7f"
t = Tap()


def main():
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms",
             "10") as sim:
        d = example_repo(sim, SRC)
        remote = tempfile.mkdtemp(prefix="pve-gitops-remote.")
        cfg = os.path.join(d, "pve-gitops.yaml")
        text = open(cfg).read().replace("release: false", "release: true")
        open(cfg, "w").write(text)
        vms = os.path.join(d, "proxmox", "vms")
        for n in os.listdir(vms):
            os.unlink(os.path.join(vms, n))

        def git(*args, cwd=d):
            p = subprocess.run(["git", "-C", cwd] + list(args),
                               capture_output=True, text=True)
            return p.stdout.strip()

        git("init", "-q", "--bare", "-b", "main", cwd=remote)
        git("init", "-q", "-b", "main")
        git("config", "user.name", "Dev")
        git("config", "user.email", "dev@example.test")
        git("remote", "add", "origin", remote)
        git("add", "-A")
        git("commit", "-q", "-m", "feat: the repository")
        git("push", "-q", "origin", "HEAD:main")
        with open(os.path.join(vms, "web1.yaml"), "w") as f:
            f.write("name: web1\ntarget_node: node01\n"
                    "clone: ubuntu24-template\n"
                    "ipconfig0: ip=10.0.0.5/24,gw=10.0.0.1\n")
        git("add", "-A")
        git("commit", "-q", "-m", "fix: add web1 [ansible web]")
        p = pve_gitops(BIN, d, SECRET, "pipeline", "--push")
        t.eq(p.returncode, 0, "pipeline with release: true exits 0")
        log = git("log", "--format=%s", "-4", "main", cwd=remote).split("\n")
        t.eq(log, ["Auto-update Ansible inventory [ansible web]",
                   "chore(release): 1.0.0 [skip ci]",
                   "fix: add web1 [ansible web]", "feat: the repository"],
             "the release first, then the automated commit, on the remote")
        t.eq(git("tag", "--list", cwd=remote), "v1.0.0",
             "the tag was pushed")
        changelog = git("show", "main:CHANGELOG.md", cwd=remote)
        t.ok(changelog.startswith("# 1.0.0 (") and "### Bug Fixes" in
             changelog and "### Features" in changelog,
             "CHANGELOG.md in semantic-release's format", changelog)
        p = pve_gitops(BIN, d, SECRET, "pipeline", "--push")
        t.ok(p.returncode == 0 and git("tag", "--list") == "v1.0.0",
             "a second pipeline releases nothing", p.stdout + p.stderr)
        shutil.rmtree(remote)
        shutil.rmtree(d)
    t.done()


main()
