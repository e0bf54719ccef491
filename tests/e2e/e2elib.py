"""The set-up the end-to-end tests (chain.py, dhcp_chain.py, runners.py,
push_conflict.py, workloads_published.py, ...) and bench/provision.py
share: a temporary directory holding a bare git repository as the remote
and clones of it with a git identity, the infrastructure repository
copied from examples/infra and pointed at proxmox-sim, the sshd servers
of sshdlib.py (and vault-sim if any), the environment the binary runs
with, running it, waiting, cleanup.

Loopback only: the simulators and sshd listen on 127.0.0.0/8.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "integration"))

from kubelib import asan_build  # noqa: E402
from simlib import Sim  # noqa: E402

TOKEN_ID = "root@pam!ci"


def sim(binary, secret, *args):
    """proxmox-sim with the API token TOKEN_ID=secret (a context
    manager, simlib.Sim)."""
    return Sim(binary, "--token", "%s=%s" % (TOKEN_ID, secret), *args)


def wait_for(cond, timeout, step=0.1):
    """Poll cond every step seconds until it is true (True) or timeout
    seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False


def run_session(args, env, timeout):
    """args with stdin /dev/null in a session of its own, so that on a
    timeout its children go with it (its process group killed, stderr
    saying so): the finished process (subprocess.CompletedProcess)."""
    proc = subprocess.Popen(list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += "\n(killed after %d s)" % timeout
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class Workdir:
    """A temporary directory: dir/remote.git (bare, branch main) and the
    working clone dir/REPO_NAME, whose commands default to it."""

    def __init__(self, prefix, repo_name="repo"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        self.repo = os.path.join(self.dir, repo_name)
        self.remote = os.path.join(self.dir, "remote.git")
        self.config = os.path.join(self.repo, "pve-gitops.yaml")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def sh(self, *args, cwd=None, check=True, env=None):
        """Run args in cwd (the working clone); its stdout, stripped. With
        check, a non-zero exit raises RuntimeError with the output."""
        p = subprocess.run(list(args), cwd=cwd or self.repo, env=env,
                           capture_output=True, text=True)
        if check and p.returncode:
            raise RuntimeError("%s: exit %d\n%s%s" % (args, p.returncode,
                                                      p.stdout, p.stderr))
        return p.stdout.strip()

    def git(self, *args, cwd=None):
        return self.sh("git", *args, cwd=cwd)

    def infra_repo(self, src):
        """The bare remote, the working clone (user Dev) with origin set,
        and examples/infra of the source tree src copied into it, with no
        VM definition (the examples say 192.168.x: loopback only here)."""
        self.git("init", "-q", "--bare", "-b", "main", self.remote,
                 cwd=self.dir)
        os.makedirs(self.repo)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Dev")
        self.git("config", "user.email", "dev@example.test")
        for item in ("pve-gitops.yaml", ".gitignore", "proxmox"):
            s = os.path.join(src, "examples", "infra", item)
            if os.path.isdir(s):
                shutil.copytree(s, os.path.join(self.repo, item))
            else:
                shutil.copy(s, self.repo)
        vms = os.path.join(self.repo, "proxmox", "vms")
        for n in os.listdir(vms):
            os.unlink(os.path.join(vms, n))
        self.git("remote", "add", "origin", self.remote)

    def configure(self, psim, sshd, known, vault=None, extra=""):
        """Point pve-gitops.yaml at psim (its certificate pinned), at the
        servers' ssh port with known_hosts known and a 20 s wait, at
        vault's address if given; extra is appended."""
        with open(self.config) as f:
            text = f.read()
        text = re.sub(r"  endpoint: .*", "  endpoint: %s\n  tls_fingerprint: "
                      "\"%s\"" % (psim.url, psim.fingerprint), text)
        text = re.sub(r"ssh:\n  port: 22\n  known_hosts: .*\n  wait_seconds: "
                      r"300", "ssh:\n  port: %d\n  known_hosts: %s\n  "
                      "wait_seconds: 20" % (sshd.port, known), text)
        if vault is not None:
            text = text.replace("vault:\n", "vault:\n  addr: %s\n" % vault.url)
        with open(self.config, "w") as f:
            f.write(text + extra)
        return text + extra

    def record_playbook(self, name, log, extra_tasks=""):
        """proxmox/playbooks/NAME.yml: appends the play's hosts, sorted and
        joined by commas, as one line to log (one line a run), then the
        tasks extra_tasks, then reaches each host."""
        with open(os.path.join(self.repo, "proxmox", "playbooks",
                               name + ".yml"), "w") as f:
            f.write("""- hosts: "{{ target_hosts }}"
  gather_facts: false
  tasks:
    - name: record the run
      ansible.builtin.shell: >-
        echo "{{ ansible_play_hosts_all | sort | join(',') }}" >> %s
      delegate_to: localhost
      run_once: true
%s    - name: reach each host
      ansible.builtin.command: "true"
""" % (log, extra_tasks))

    def vm_file(self, name, ip, node="node01", agent=False, extra="",
                cwd=None):
        """proxmox/vms/NAME.yaml in cwd (the working clone): one core,
        1 GiB, a clone of ubuntu24-template on node, user root, address
        ip/8 (or "dhcp")."""
        ipconfig = ("ip=dhcp" if ip == "dhcp"
                    else '"ip=%s/8,gw=127.0.0.1"' % ip)
        with open(os.path.join(cwd or self.repo, "proxmox", "vms",
                               name + ".yaml"), "w") as f:
            f.write("name: %s\ntarget_node: %s\ncores: 1\nmemory: 1024\n"
                    "clone: ubuntu24-template\nipconfig0: %s\nciuser: root\n"
                    "%s%s" % (name, node, ipconfig,
                              "agent: 1\n" if agent else "", extra))

    def commit(self, msg, push=True, cwd=None):
        """Commit everything in cwd (the working clone); push it to
        main."""
        self.git("add", "-A", cwd=cwd)
        self.git("commit", "-q", "-m", msg, cwd=cwd)
        if push:
            self.git("push", "-q", "origin", "HEAD:main", cwd=cwd)

    def clone(self, name, user=None, email=None):
        """dir/NAME, a clone of the remote with its own git identity."""
        d = self.path(name)
        self.git("clone", "-q", self.remote, d, cwd=self.dir)
        self.git("config", "user.name", user or name, cwd=d)
        self.git("config", "user.email", email or name + "@example.test",
                 cwd=d)
        return d

    def remote_log(self, *opts):
        """The subjects on the remote's main, newest first."""
        return self.git("log", *opts, "--format=%s", "main",
                        cwd=self.remote).splitlines()

    def env(self, sshd, secret, path=(), drop=(), **extra):
        """The environment for the binary: the API token, HOME an empty
        dir/home, Ansible's key the servers' client key, no colour, no
        PM_API_URL nor the variables in drop; the directories in path
        before PATH; extra on top."""
        home = self.path("home")
        os.makedirs(home, exist_ok=True)
        e = dict(os.environ, PM_API_TOKEN_ID=TOKEN_ID,
                 PM_API_TOKEN_SECRET=secret, HOME=home,
                 ANSIBLE_PRIVATE_KEY_FILE=sshd.client_key,
                 ANSIBLE_NOCOLOR="1", **extra)
        if path:
            e["PATH"] = ":".join(list(path) + [os.environ["PATH"]])
        for k in ("PM_API_URL",) + tuple(drop):
            e.pop(k, None)
        return e

    def run(self, binary, env, *args, timeout=600, cwd=None):
        """binary -C CWD --no-color ARGS (CWD the working clone unless
        given): the finished process."""
        return subprocess.run([binary, "-C", cwd or self.repo,
                               "--no-color"] + list(args),
                              capture_output=True, text=True, env=env,
                              timeout=timeout)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def asan_ansible(binary):
    """The config lines a playbook that runs binary needs: an ASan build
    cannot start under Ansible's address-space limit."""
    return "ansible:\n  memory_limit: 0\n" if asan_build(binary) else ""
