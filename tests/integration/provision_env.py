#!/usr/bin/env python3
"""provision without SSH: what a playbook can see, and new_hosts.txt errors.

The real binary, real git and real ansible-playbook (a playbook on
localhost with ansible_connection=local that only prints), in a scratch
repository:
- the children of pve-gitops get no Proxmox credential: the playbook's
  lookup('env', ...) of PM_API_TOKEN_SECRET, PM_PASS, PM_API_TOKEN_ID and
  PROXMOX_VE_API_TOKEN is empty, while VAULT_TOKEN is there (this
  playbook names it; one that does not runs without it, see
  tests/e2e/ansible_hostile.py), and strict inventory parsing is on;
- a bad new_hosts.txt entry is named by its physical line: blank lines
  before it count (issue 12: line 4 was reported as line 2);
- a playbook linked out of playbooks_dir (or a FIFO), and an inventory
  linked out of the repository, are refused before ansible-playbook runs
  (issue 13).

Usage: provision_env.py PVE_GITOPS
"""
import os
import subprocess
import sys
import tempfile

from simlib import Tap

BIN = os.path.abspath(sys.argv[1])
SECRET = "s3cr3t-token-value"

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
playbooks_dir: proxmox/playbooks
host_vars_dir: proxmox/host_vars
outputs: proxmox/.pve-gitops/outputs.json
ansible_user: ubuntu
ssh:
  port: 22
  known_hosts: %s/known_hosts
  wait_seconds: 2
"""

PLAYBOOK = """- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: what the environment holds
      ansible.builtin.debug:
        msg: >-
          ENV
          secret=[{{ lookup('env', 'PM_API_TOKEN_SECRET') }}]
          pass=[{{ lookup('env', 'PM_PASS') }}]
          id=[{{ lookup('env', 'PM_API_TOKEN_ID') }}]
          bpg=[{{ lookup('env', 'PROXMOX_VE_API_TOKEN') }}]
          vault=[{{ lookup('env', 'VAULT_TOKEN') }}]
          strict=[{{ lookup('env', 'ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED') }}]
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    t = Tap()
    with tempfile.TemporaryDirectory() as d:
        repo = os.path.join(d, "repo")

        def git(*args):
            return subprocess.run(["git", "-C", repo] + list(args),
                                  check=True, capture_output=True,
                                  text=True).stdout

        def pg(*args):
            env = dict(os.environ, PM_API_TOKEN_SECRET=SECRET,
                       PM_PASS=SECRET, PM_API_TOKEN_ID="root@pam!ci",
                       PROXMOX_VE_API_TOKEN="root@pam!ci=" + SECRET,
                       VAULT_TOKEN="vault-visible", HOME=d,
                       ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=d + "/at",
                       ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="False")
            return subprocess.run([BIN, "-C", repo, "--no-color"] +
                                  list(args), capture_output=True,
                                  text=True, env=env, timeout=300)

        os.makedirs(os.path.join(repo, "proxmox", "vms"))
        os.makedirs(os.path.join(repo, "proxmox", "host_vars"))
        write(os.path.join(repo, "pve-gitops.yaml"), CONFIG % d)
        write(os.path.join(repo, "proxmox", "k8s.ini"),
              "[local]\nlocalhost ansible_connection=local\n")
        write(os.path.join(repo, "proxmox", "playbooks", "envcheck.yml"),
              PLAYBOOK)
        write(os.path.join(repo, "proxmox", "vms", ".keep"), "")
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        git("config", "user.name", "Test")
        git("config", "user.email", "test@example.test")
        git("add", "-A")
        git("commit", "-q", "-m", "feat: the repository [ansible envcheck]")

        p = pg("provision")
        out = p.stdout + p.stderr
        t.ok(p.returncode == 0, "provision runs the playbook (exit 0)", out)
        t.ok("vault=[vault-visible]" in p.stdout,
             "the playbook reads the environment (VAULT_TOKEN is there)",
             out)
        for name in ("secret", "pass", "id", "bpg"):
            t.ok("%s=[]" % name in p.stdout,
                 "no Proxmox credential reaches the playbook: %s" % name,
                 out)
        t.ok(SECRET not in out, "the token secret never shows", out)
        t.ok("strict=[True]" in p.stdout,
             "strict inventory parsing overrides the caller's False", out)

        # a bad entry after two blank lines is on line 4
        write(os.path.join(repo, "proxmox", "new_hosts.txt"),
              "10.0.0.1,good\n\n\nnot-an-entry\n")
        git("add", "-A")
        git("commit", "-q", "-m", "feat: a host [ansible envcheck]")
        p = pg("provision")
        t.ok(p.returncode == 2 and
             "proxmox/new_hosts.txt:4: expected IP,hostname (at HEAD)"
             in p.stderr,
             "a bad new_hosts.txt entry is named by its own line (4)",
             p.stdout + p.stderr)
        t.ok("waiting for SSH" not in p.stdout,
             "a bad new_hosts.txt stops before any host is waited for",
             p.stdout)
        links(t, d, repo, git, pg)
    print("1..%d" % t.n)
    return 1 if t.failed else 0


def links(t, d, repo, git, pg):
    """Issue 13: what ansible-playbook is given stays in the repository."""
    os.unlink(os.path.join(repo, "proxmox", "new_hosts.txt"))
    marker = os.path.join(d, "ran-outside")
    outside = os.path.join(d, "outside.yml")
    write(outside, "- hosts: all\n  gather_facts: false\n  tasks:\n"
          "    - ansible.builtin.file: {path: %s, state: touch}\n" % marker)
    books = os.path.join(repo, "proxmox", "playbooks")
    os.symlink(outside, os.path.join(books, "outside.yml"))
    os.makedirs(os.path.join(repo, "shared"))
    write(os.path.join(repo, "shared", "other.yml"), open(outside).read())
    os.symlink("../../shared/other.yml", os.path.join(books, "other.yml"))
    os.mkfifo(os.path.join(books, "fifo.yml"))
    for name, what in (("outside", "linked out of the repository"),
                       ("other", "linked to another directory of it"),
                       ("fifo", "a FIFO")):
        git("add", "-A")
        git("commit", "-q", "--allow-empty", "-m",
            "chore: run %s [ansible %s]" % (name, name))
        p = pg("provision")
        t.ok(p.returncode == 2 and "proxmox/playbooks/%s.yml" % name in
             p.stderr and not os.path.exists(marker),
             "a playbook %s is refused and does not run" % what,
             p.stdout + p.stderr)
    inv = os.path.join(repo, "proxmox", "k8s.ini")
    write(os.path.join(d, "outside.ini"), open(inv).read())
    os.unlink(inv)
    os.symlink(os.path.join(d, "outside.ini"), inv)
    git("add", "-A")
    git("commit", "-q", "-m", "chore: inventory out [ansible envcheck]")
    p = pg("provision")
    t.ok(p.returncode == 2 and "proxmox/k8s.ini" in p.stderr and
         "leaves the repository" in p.stderr and "ENV" not in p.stdout,
         "an inventory linked out of the repository is refused",
         p.stdout + p.stderr)


if __name__ == "__main__":
    sys.exit(main())
