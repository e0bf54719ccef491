#!/usr/bin/env python3
"""What a hostile repository can make Ansible do through pve-gitops, tried
with the real binary, real git, real ansible-playbook and a real sshd on
127.0.0.5 (issue 13, "Ansible gets values, not templates"):

- Jinja in vault.addr or VAULT_ADDR (a pipe lookup that would create a
  file) runs nothing: the vars file marks every value !unsafe and the
  playbook sees the literal text;
- the Proxmox token never reaches a playbook, and the Vault token only a
  playbook that names VAULT_TOKEN;
- a known_hosts path with a space works against sshd; one that holds
  " -oProxyCommand=touch FILE" runs nothing and still works; one with
  touch${IFS}FILE (which the shell of a ProxyCommand would split) runs
  nothing either: ssh would expand ${IFS} itself, so it is refused;
- ansible.cfg ([defaults] host_key_checking = False, [ssh_connection]
  ssh_args = -o StrictHostKeyChecking=no), the inventory's
  ansible_ssh_common_args and group_vars' ansible_host_key_checking do not
  turn host key checking off: against an sshd whose key is not in
  known_hosts the play fails with a host key failure, and each file is
  named in a warning;
- a playbook that runs past ansible.timeout is stopped with its children;
- an inventory whose ranges expand past the limit, and a marker inside a
  :vars section, are refused with FILE:LINE before Ansible runs.

Usage: ansible_hostile.py PVE_GITOPS
"""
import os
import pwd
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))
import e2elib  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from simlib import Tap  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
SECRET = "s3cr3t-token-value"
VTOKEN = "vault-token-value"
ADDR = "127.0.0.5"
USER = pwd.getpwuid(os.getuid()).pw_name

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
playbooks_dir: proxmox/playbooks
host_vars_dir: proxmox/host_vars
outputs: proxmox/.pve-gitops/outputs.json
ansible_user: ubuntu
vault:
  addr: "%(vault_addr)s"
ssh:
  port: %(port)d
  known_hosts: '%(known_hosts)s'
  wait_seconds: 2
"""

# Reads the token without naming it: the rule is textual (io/ansible.h).
SHOW = """- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: what the playbook sees
      ansible.builtin.debug:
        msg: >-
          SHOW
          addr=[{{ vault_addr }}]
          secret=[{{ lookup('env', 'PM_API_TOKEN_SECRET') }}]
          token=[{{ lookup('env', 'VAULT_' + 'TOKEN') }}]
"""

NEEDS_VAULT = "# this playbook needs VAULT_TOKEN\n" + SHOW

REMOTE = """- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: a command on the host
      ansible.builtin.raw: echo REMOTE-RAN
      register: r
    - name: its output
      ansible.builtin.debug:
        msg: "{{ r.stdout | trim }}"
"""

# A duration no other process on the machine has in its argv, so the
# check that the play's children are gone looks at ours only.
SLOW_SLEEP = "sleep 120.%d" % (os.getpid() % 100000)
SLOW = """- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: longer than ansible.timeout
      ansible.builtin.command: %s
""" % SLOW_SLEEP

WEAK_CFG = """[defaults]
host_key_checking = False
[ssh_connection]
ssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Repo:
    def __init__(self, d, sshd):
        self.d = d
        self.repo = os.path.join(d, "repo")
        self.sshd = sshd
        os.makedirs(os.path.join(self.repo, "proxmox", "vms"))
        os.makedirs(os.path.join(self.repo, "proxmox", "host_vars"))
        write(os.path.join(self.repo, "proxmox", "vms", ".keep"), "")
        for name, text in (("show", SHOW), ("needsvault", NEEDS_VAULT),
                           ("remote", REMOTE), ("slow", SLOW)):
            write(os.path.join(self.repo, "proxmox", "playbooks",
                               name + ".yml"), text)
        subprocess.run(["git", "init", "-q", "-b", "main", self.repo],
                       check=True)
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.test")

    def git(self, *args):
        return subprocess.run(["git", "-C", self.repo] + list(args),
                              check=True, capture_output=True,
                              text=True).stdout

    def setup(self, inventory, known_hosts, vault_addr="https://v.test",
              timeout=None, files=None):
        config = CONFIG % {"vault_addr": vault_addr, "port": self.sshd.port,
                           "known_hosts": known_hosts}
        if timeout is not None:
            config += "ansible:\n  timeout: %d\n" % timeout
        write(os.path.join(self.repo, "pve-gitops.yaml"), config)
        write(os.path.join(self.repo, "proxmox", "k8s.ini"), inventory)
        for rel in ("ansible.cfg", "proxmox/group_vars/web.yml"):
            if os.path.exists(os.path.join(self.repo, rel)):
                os.unlink(os.path.join(self.repo, rel))
        for rel, text in (files or {}).items():
            write(os.path.join(self.repo, rel), text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "chore: setup")

    def pg(self, *args, **env_extra):
        env = dict(os.environ, PM_API_TOKEN_SECRET=SECRET,
                   PM_API_TOKEN_ID="root@pam!ci", VAULT_TOKEN=VTOKEN,
                   HOME=self.d, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=self.d + "/at",
                   ANSIBLE_PRIVATE_KEY_FILE=self.sshd.client_key)
        for k in ("ANSIBLE_CONFIG", "VAULT_ADDR", "ANSIBLE_SSH_ARGS",
                  "ANSIBLE_HOST_KEY_CHECKING"):
            env.pop(k, None)
        env.update(env_extra)
        t0 = time.monotonic()
        # its own session: on a timeout its children (an ansible-inventory
        # expanding a huge range, before the fix) go with it
        p = e2elib.run_session([BIN, "-C", self.repo, "--no-color"] +
                               list(args), env, 120)
        p.seconds = time.monotonic() - t0
        return p


LOCAL_INV = "[local]\nlocalhost ansible_connection=local\n"


def web_inventory(port, extra=""):
    return ("[web]\nweb1 ansible_host=%s ansible_port=%d ansible_user=%s%s\n"
            % (ADDR, port, USER, extra))


def known_line(sshd):
    return "[%s]:%d %s\n" % (ADDR, sshd.port,
                             " ".join(sshd.host_pub[ADDR].split()[:2]))


def templates(t, r, d):
    """vault.addr and VAULT_ADDR with Jinja: text, never run."""
    mark = os.path.join(d, "x")
    addr = ("https://vault.test/{{lookup('pipe','touch${IFS}%s')}}" % mark)
    r.setup(LOCAL_INV, os.path.join(d, "kh"), vault_addr=addr)
    p = r.pg("provision", "--playbook", "show")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 0, "vault.addr with Jinja: provision runs", out)
    t.ok(not os.path.exists(mark),
         "vault.addr's pipe lookup ran nothing (no file created)", out)
    t.ok("addr=[%s]" % addr in p.stdout,
         "the playbook sees vault.addr as the literal string", out)
    t.ok("secret=[]" in p.stdout,
         "lookup('env', 'PM_API_TOKEN_SECRET') in a playbook is empty", out)
    t.ok(SECRET not in out, "the Proxmox token never shows", out)
    t.ok("token=[]" in p.stdout,
         "a playbook that does not name VAULT_TOKEN runs without it", out)

    mark2 = os.path.join(d, "x2")
    env_addr = "https://v.test/{{ lookup('pipe', 'touch %s') }}" % mark2
    r.setup(LOCAL_INV, os.path.join(d, "kh"), vault_addr="")
    # an empty vault.addr in the file: VAULT_ADDR from the environment
    cfg = os.path.join(r.repo, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read().replace('vault:\n  addr: ""\n', "")
    write(cfg, text)
    r.git("commit", "-qam", "chore: no vault.addr")
    p = r.pg("provision", "--playbook", "needsvault", VAULT_ADDR=env_addr)
    out = p.stdout + p.stderr
    t.ok(p.returncode == 0 and not os.path.exists(mark2),
         "VAULT_ADDR's pipe lookup ran nothing", out)
    t.ok("addr=[%s]" % env_addr in p.stdout,
         "the playbook sees VAULT_ADDR as the literal string", out)
    t.ok("token=[%s]" % VTOKEN in p.stdout,
         "a playbook that names VAULT_TOKEN gets the Vault token", out)


def known_hosts_paths(t, r, d, sshd):
    spaced = os.path.join(d, "my dir", "known hosts")
    write(spaced, known_line(sshd))
    r.setup(web_inventory(sshd.port), spaced)
    p = r.pg("provision", "--playbook", "remote")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 0 and "REMOTE-RAN" in p.stdout,
         "a known_hosts path with a space works against sshd", out)

    mark = os.path.join(d, "y")
    hostile = os.path.join(d, "k -oProxyCommand=touch " + mark)
    write(hostile, known_line(sshd))
    r.setup(web_inventory(sshd.port), hostile)
    p = r.pg("provision", "--playbook", "remote")
    out = p.stdout + p.stderr
    t.ok(not os.path.exists(mark),
         "a known_hosts path with -oProxyCommand runs nothing", out)
    t.ok(p.returncode == 0 and "REMOTE-RAN" in p.stdout,
         "... and is used as the path it is", out)

    # the same with a command that needs no space (sh runs ProxyCommand)
    mark = os.path.join(d, "y2")
    hostile = os.path.join(d, "k2 -oProxyCommand=touch${IFS}" + mark)
    write(hostile, known_line(sshd))
    r.setup(web_inventory(sshd.port), hostile)
    p = r.pg("provision", "--playbook", "remote")
    out = p.stdout + p.stderr
    t.ok(not os.path.exists(mark) and p.returncode == 2 and
         "ssh.known_hosts" in p.stderr and "REMOTE-RAN" not in p.stdout,
         "a known_hosts path with -oProxyCommand=touch${IFS}FILE runs "
         "nothing (refused: ssh expands ${} there)", out)

    r.setup(web_inventory(sshd.port), os.path.join(d, 'a"b'))
    p = r.pg("provision", "--playbook", "remote")
    t.ok(p.returncode == 2 and "ssh.known_hosts" in p.stderr and
         "REMOTE-RAN" not in p.stdout,
         "a known_hosts path ssh cannot be given is refused", p.stderr)


def weak_settings(t, r, d, sshd):
    empty = os.path.join(d, "empty_known_hosts")
    write(empty, "")
    inv = web_inventory(sshd.port, " ansible_ssh_common_args='-o "
                        "StrictHostKeyChecking=no -o "
                        "UserKnownHostsFile=/dev/null'")
    files = {
        "ansible.cfg": WEAK_CFG,
        "proxmox/group_vars/web.yml":
            "ansible_host_key_checking: false\n"
            "ansible_ssh_host_key_checking: false\n",
    }
    r.setup(inv, empty, files=files)
    p = r.pg("provision", "--playbook", "remote")
    out = p.stdout + p.stderr
    t.ok(p.returncode != 0 and "REMOTE-RAN" not in p.stdout,
         "ansible.cfg, inventory and group_vars do not turn host key "
         "checking off: the play fails", out)
    t.ok("Host key verification failed" in p.stdout,
         "... as a host key failure", out)
    for where in ("ansible.cfg:2", "proxmox/k8s.ini:2",
                  "proxmox/group_vars/web.yml:1"):
        t.ok("warning: %s: turns host key checking off (or moves its "
             "known_hosts); overridden: StrictHostKeyChecking=yes with %s"
             % (where, empty) in p.stderr,
             "a warning names %s" % where, p.stderr)
    with open(empty) as f:
        t.ok(f.read() == "", "known_hosts is left as it was")

    # the same repository with the key known: the play runs
    write(empty, known_line(sshd))
    p = r.pg("provision", "--playbook", "remote")
    t.ok(p.returncode == 0 and "REMOTE-RAN" in p.stdout,
         "with the key in known_hosts the same repository's play runs",
         p.stdout + p.stderr)


def timeout(t, r, d):
    r.setup(LOCAL_INV, os.path.join(d, "kh"), timeout=2)
    p = r.pg("provision", "--playbook", "slow")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1 and "did not finish within 2.0 s" in p.stderr,
         "a playbook past ansible.timeout is stopped", out)
    t.ok(p.seconds < 30, "... within the deadline and the grace period "
         "(%.1f s)" % p.seconds, out)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                        text=True).stdout
    t.ok(SLOW_SLEEP not in ps, "... with its children", ps)


def inventories(t, r, d):
    cases = [
        ("[web]\nvm[0:99999999]\n", "proxmox/k8s.ini:2: host pattern "
         "'vm[0:99999999]' takes the file past 100000 hosts"),
        ("[all:vars]\nx=1\n# Individual hosts\n", "proxmox/k8s.ini:3: "
         "'# Individual hosts' is in [all:vars]"),
    ]
    for text, msg in cases:
        r.setup(text, os.path.join(d, "kh"))
        write(os.path.join(r.repo, "proxmox", ".pve-gitops",
                           "outputs.json"),
              '{"ansible_inventory": {"sensitive": false, "type": [], '
              '"value": {}}}')
        before = open(os.path.join(r.repo, "proxmox", "k8s.ini")).read()
        p = r.pg("inventory")
        t.ok(p.returncode == 2 and msg in p.stderr,
             "refused with FILE:LINE: %s" % msg, p.stdout + p.stderr)
        t.ok(p.seconds < 20, "... at once (%.1f s)" % p.seconds)
        t.ok(open(os.path.join(r.repo, "proxmox", "k8s.ini")).read() ==
             before, "... and the inventory is unchanged")


def main():
    t = Tap()
    with tempfile.TemporaryDirectory() as d, Sshds([ADDR]) as sshd:
        r = Repo(d, sshd)
        templates(t, r, d)
        known_hosts_paths(t, r, d, sshd)
        weak_settings(t, r, d, sshd)
        timeout(t, r, d)
        inventories(t, r, d)
    print("1..%d" % t.n)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
