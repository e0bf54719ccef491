#!/usr/bin/python3
"""The files of a Terraform user's repository validate as committed, in
every version (issue 14).

tests/original/make-history.sh builds a repository shaped like the
original's proxmox/vms/*.yaml history (our own files: k3s nodes with dotted
names, serial: true, quoted booleans, nested_disks on data2 next to an old
disks list kept for reference, a passthrough disk with Telmate's I/O limit
names, list disks with a cloudinit: true entry and an empty cdrom,
clear-text cipassword until a commit removes it). For EVERY commit, every
VM file of that commit is checked out and validated on its own
(`pve-gitops validate FILE`, run in the repository as a user does), and
the whole tree with `pve-gitops -C REPO validate`: all must exit 0, the
tree must list every file as a definition, and a version with a
clear-text cipassword must be warned about. The number of versions
checked (and of distinct file contents) is printed.

Usage: original_history.py PVE_GITOPS SOURCE_DIR
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Tap  # noqa: E402

BIN, SRC = os.path.abspath(sys.argv[1]), sys.argv[2]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          capture_output=True, text=True).stdout


def validate(repo, *args, whole=False):
    argv = [BIN, "--no-color"] + (["-C", repo] if whole else []) + \
        ["validate"] + list(args)
    env = dict(os.environ)
    for k in ("PM_API_URL", "PM_API_TOKEN_ID", "PM_API_TOKEN_SECRET"):
        env.pop(k, None)
    p = subprocess.run(argv, cwd=repo, capture_output=True, text=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def first_error(text):
    for line in text.splitlines():
        if ": error: " in line:
            return line
    return text.strip().splitlines()[-1] if text.strip() else "(no output)"


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="pve-gitops-original.")
    repo = os.path.join(work, "repo")
    try:
        subprocess.run([os.path.join(SRC, "tests", "original",
                                     "make-history.sh"), repo],
                       check=True, capture_output=True, text=True)
        commits = git(repo, "rev-list", "--reverse", "main").split()
        t.ok(15 <= len(commits) <= 25, "the history has %d commits"
             % len(commits))
        checked = 0
        blobs, names, refused, trees_refused = set(), set(), [], []
        bad_blobs = set()
        warned_pw = pw_versions = 0
        trees_ok = 0
        for c in commits:
            git(repo, "checkout", "-q", "--detach", c)
            files = [f for f in git(repo, "ls-tree", "-r", "--name-only", c,
                                    "proxmox/vms").split()
                     if f.endswith(".yaml")]
            for f in files:
                blob = git(repo, "rev-parse", "%s:%s" % (c, f)).strip()
                rc, out, err = validate(repo, f)
                checked += 1
                blobs.add(blob)
                names.add(f)
                if rc != 0:
                    bad_blobs.add(blob)
                    refused.append("%s %s: exit %d: %s"
                                   % (c[:7], f, rc, first_error(err)))
                with open(os.path.join(repo, f)) as fh:
                    has_pw = re.search(r"(?m)^cipassword:", fh.read())
                if has_pw:
                    pw_versions += 1
                    warned_pw += "clear-text password" in err
            rc, out, err = validate(repo, whole=True)
            want = "%d definition%s valid" % (len(files),
                                             "" if len(files) == 1 else "s")
            if rc == 0 and want in out:
                trees_ok += 1
            else:
                trees_refused.append("%s (whole tree): exit %d: %s"
                               % (c[:7], rc, first_error(err) if rc
                                  else "not '%s'" % want))
        print("# %d file versions checked (%d distinct contents of %d "
              "files) over %d commits; refused: %d versions (%d distinct "
              "contents) and %d trees"
              % (checked, len(blobs), len(names), len(commits),
                 len(refused), len(bad_blobs), len(trees_refused)))
        t.ok(checked >= 100 and len(names) >= 8,
             "every VM file of every commit was validated (%d)" % checked)
        t.ok(not refused, "no version of any file is refused",
             "\n".join(refused))
        t.ok(trees_ok == len(commits) and not trees_refused,
             "the whole tree validates at every commit",
             "\n".join(trees_refused))
        t.ok(pw_versions > 0 and warned_pw == pw_versions,
             "a clear-text cipassword is warned about (%d of %d versions)"
             % (warned_pw, pw_versions))

        # the last version, read as the original's main.tf reads it
        git(repo, "checkout", "-q", "main")
        rc, out, err = validate(repo, whole=True)
        rows = {line.split()[0]: line for line in out.splitlines()[1:]
                if line and not line[0].isdigit()}
        t.ok(re.search(r"kube-media +node02 +8 +32768 MiB +ubuntu24-template"
                       r" +10\.44\.0\.16 +2 disks",
                       rows.get("kube-media", "")) is not None,
             "kube-media: its passthrough disk is a second disk",
             rows.get("kube-media"))
        t.ok("k01.home.example" in rows and "10.44.0.21" in
             rows["k01.home.example"], "a dotted name is a definition",
             out)
        t.ok("disks: ignored: with nested_disks given" in err,
             "the disks list next to nested_disks is left aside, with "
             "advice", err)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    t.done()


main()
