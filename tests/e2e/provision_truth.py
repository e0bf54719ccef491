#!/usr/bin/env python3
"""Provisioning tells the truth (issue 16), with the real binary, real git,
real ansible-playbook and real sshd servers on loopback standing in for
new VMs:

- 127.0.0.11 (web-ok): a healthy host, cloud-init says "status: done";
- 127.0.0.12 (web-cierr): cloud-init says "status: error" (exit 1);
- 127.0.0.13 (web-denied): its sshd does not authorise the client key.

cloud-init is a stub: a script on the PATH sshd gives each session
(SetEnv), printing what `cloud-init status --wait` prints and exiting with
its status; the real program cannot be made to fail on demand here (and is
not installed). The playbooks touch a file per host they reach, on the
host itself (raw, over SSH), so the files say which hosts were provisioned.

- a cloud-init error fails that host: the playbook runs on the healthy one
  only, the summary and an error name the failed host, exit 1; the same
  through `run` (stage two of the catch-up loop);
- provision.on_cloud_init_error: continue: both hosts provisioned, a
  warning, exit 0;
- a refused SSH login fails the host whatever that setting says;
- every new host failed: the playbook does not run at all, exit 1;
- k8s.yml with target_hosts (the whole inventory): the failed host is left
  out with --limit, the other hosts of the inventory are provisioned.

Usage: provision_truth.py PVE_GITOPS
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
from sshdlib import Sshds, keygen  # noqa: E402
from simlib import Tap  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
USER = pwd.getpwuid(os.getuid()).pw_name
OK, CIERR, DENIED = "127.0.0.11", "127.0.0.12", "127.0.0.13"
NAMES = {OK: "web-ok", CIERR: "web-cierr", DENIED: "web-denied"}

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
playbooks_dir: proxmox/playbooks
host_vars_dir: proxmox/host_vars
outputs: proxmox/.pve-gitops/outputs.json
ssh:
  port: %(port)d
  user: %(user)s
  known_hosts: '%(known)s'
  wait_seconds: 5
ansible:
  memory_limit: 0
"""

# On each host, over SSH: the file names the host that was reached.
TOUCH = """- hosts: %s
  gather_facts: false
  tasks:
    - name: mark the host
      ansible.builtin.raw: touch %s/touched-{{ inventory_hostname }}
"""

FAKE_CLOUD_INIT = """#!/bin/sh
# cloud-init status --wait, as a host in this state answers it; while the
# flag file exists, as one whose cloud-init never finishes
[ -e %s ] && exec sleep 120
echo "status: %s"
exit %d
"""


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Repo:
    def __init__(self, d, sshd):
        self.d = d
        self.repo = os.path.join(d, "repo")
        self.sshd = sshd
        self.marks = os.path.join(d, "marks")
        os.makedirs(self.marks)
        write(os.path.join(self.repo, "proxmox", "vms", ".keep"), "")
        write(os.path.join(self.repo, "proxmox", "playbooks", "web.yml"),
              TOUCH % ('"{{ target_hosts }}"', self.marks))
        # all, not target_hosts: the whole inventory, as --limit cuts it
        write(os.path.join(self.repo, "proxmox", "playbooks", "k8s.yml"),
              TOUCH % ("all", self.marks))
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.test")

    def git(self, *args):
        return subprocess.run(["git", "-C", self.repo] + list(args),
                              check=True, capture_output=True,
                              text=True).stdout

    def setup(self, hosts, tag, cloud_init_error=None, others=(),
              cloud_init_wait=None, inv_extra="", extra=""):
        """A commit that adds hosts to new_hosts.txt, tagged with tag."""
        config = CONFIG % {"port": self.sshd.port, "user": USER,
                           "known": os.path.join(self.d, "known_hosts")}
        if cloud_init_error or cloud_init_wait:
            config += "provision:\n"
        if cloud_init_error:
            config += "  on_cloud_init_error: %s\n" % cloud_init_error
        if cloud_init_wait:
            config += "  cloud_init_wait_seconds: %d\n" % cloud_init_wait
        config += extra
        write(os.path.join(self.repo, "pve-gitops.yaml"), config)
        inv = "[web]\n"
        for name, ip in [(NAMES[ip], ip) for ip in hosts] + list(others):
            inv += "%s ansible_host=%s ansible_port=%d ansible_user=%s\n" % (
                name, ip, self.sshd.port, USER)
        write(os.path.join(self.repo, "proxmox", "k8s.ini"), inv + inv_extra)
        write(os.path.join(self.repo, "proxmox", "new_hosts.txt"), "")
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "chore: setup")
        write(os.path.join(self.repo, "proxmox", "new_hosts.txt"),
              "".join("%s,%s\n" % (ip, NAMES[ip]) for ip in hosts))
        self.git("commit", "-q", "-am", "feat: new hosts [ansible %s]" % tag)
        for n in os.listdir(self.marks):
            os.unlink(os.path.join(self.marks, n))

    def touched(self):
        return sorted(n[len("touched-"):] for n in os.listdir(self.marks))

    def env(self):
        env = dict(os.environ, HOME=self.d, ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=self.d + "/at",
                   ANSIBLE_PRIVATE_KEY_FILE=self.sshd.client_key)
        for k in ("ANSIBLE_CONFIG", "ANSIBLE_SSH_ARGS", "VAULT_TOKEN",
                  "ANSIBLE_HOST_KEY_CHECKING", "PM_API_URL"):
            env.pop(k, None)
        return env

    def pg(self, *args):
        return e2elib.run_session([BIN, "-C", self.repo, "--no-color"] +
                                  list(args), self.env(), 180)

    def provision_meanwhile(self, flag, meanwhile):
        """provision while the flag keeps a host's cloud-init waiting:
        once the lease is taken, meanwhile() runs. (rc, stdout, stderr)."""
        open(flag, "w").close()
        try:
            proc = subprocess.Popen(
                [BIN, "-C", self.repo, "--no-color", "provision"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=self.env(), stdin=subprocess.DEVNULL)
            e2elib.wait_for(lambda: self.git(
                "for-each-ref", "refs/pve-gitops/lease").strip(), 30, 0.05)
            meanwhile()
            out, err = proc.communicate(timeout=120)
        finally:
            os.unlink(flag)
        return proc.returncode, out, err


def eq(t, got, want, name, out):
    return t.ok(got == want, name, "got:  %r\nwant: %r\n%s" % (got, want,
                                                             out[-3000:]))


def summary_line(p, name):
    """The line of the summary (after the playbook's output) about name."""
    lines = p.stdout.split("\nprovision summary:\n")[-1].splitlines()
    for line in lines:
        if line.strip().startswith(name + " "):
            return line
    return ""


def cloud_init_error(t, r):
    r.setup([OK, CIERR], "web")
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "cloud-init error: provision exits 1", out)
    eq(t, r.touched(), ["web-ok"],
         "cloud-init error: the playbook ran on the healthy host only", out)
    t.ok("error: web-cierr (%s): cloud-init reported an error" % CIERR
         in p.stderr, "cloud-init error: an error names the host and why",
         p.stderr)
    t.ok("1 of 2 new hosts failed and were left out of web.yml: web-cierr"
         in p.stderr, "cloud-init error: the command's error names it",
         p.stderr)
    t.ok("FAILED" in summary_line(p, "web-cierr") and
         "cloud-init reported an error" in summary_line(p, "web-cierr"),
         "cloud-init error: the summary says the host failed and why",
         p.stdout)
    t.ok("cloud-init done" in summary_line(p, "web-ok"),
         "cloud-init error: the summary shows the healthy host's cloud-init",
         p.stdout)
    t.ok("ansible-playbook exit status 0" in p.stdout,
         "cloud-init error: the playbook itself succeeded", p.stdout)

    # the same commit through run: stage two of the catch-up loop
    for n in os.listdir(r.marks):
        os.unlink(os.path.join(r.marks, n))
    p = r.pg("run")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "cloud-init error: run exits 1", out)
    eq(t, r.touched(), ["web-ok"],
         "cloud-init error: run's playbook ran on the healthy host only",
         out)
    t.ok("web-cierr" in p.stderr, "cloud-init error: run names the host",
         p.stderr)


def cloud_init_continue(t, r):
    r.setup([OK, CIERR], "web", cloud_init_error="continue")
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 0, "continue: provision exits 0", out)
    eq(t, r.touched(), ["web-cierr", "web-ok"],
         "continue: both hosts provisioned", out)
    t.ok("warning: web-cierr (%s): cloud-init reported an error; "
         "provisioned anyway (provision.on_cloud_init_error: continue)"
         % CIERR in p.stderr, "continue: a warning names the host",
         p.stderr)
    t.ok("pve-gitops: error:" not in p.stderr, "continue: no error",
         p.stderr)
    t.ok("cloud-init error: warning" in summary_line(p, "web-cierr"),
         "continue: the summary shows the warning", p.stdout)


def login_refused(t, r):
    r.setup([OK, DENIED], "web", cloud_init_error="continue")
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "refused login: provision exits 1 (even with "
         "on_cloud_init_error: continue)", out)
    eq(t, r.touched(), ["web-ok"],
         "refused login: the playbook ran on the other host only", out)
    t.ok("error: web-denied (%s): SSH login failed: " % DENIED in p.stderr
         and "Permission denied" in p.stderr,
         "refused login: an error names the host and ssh's reason",
         p.stderr)
    t.ok("FAILED" in summary_line(p, "web-denied"),
         "refused login: the summary says the host failed", p.stdout)


def none_ready(t, r):
    r.setup([CIERR, DENIED], "web")
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "no host ready: provision exits 1", out)
    eq(t, r.touched(), [], "no host ready: the playbook did not run", out)
    t.ok("ansible-playbook" not in p.stdout and "PLAY [" not in p.stdout,
         "no host ready: ansible-playbook never started", p.stdout)
    t.ok("no new host is ready (web-cierr, web-denied): web.yml did not "
         "run" in p.stderr, "no host ready: the error says so", p.stderr)
    t.ok("not run, no new host is ready" in p.stdout,
         "no host ready: the summary says so", p.stdout)


def whole_inventory(t, r):
    # k8s-t: no k8s-t.yml, so k8s.yml on the inventory (target_hosts)
    r.setup([OK, CIERR], "k8s-t", others=[("old-host", OK)])
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "whole inventory: provision exits 1", out)
    eq(t, r.touched(), ["old-host", "web-ok"],
         "whole inventory: --limit leaves only the failed host out", out)
    # the failed host's name is also a group's: a pattern cannot tell
    r.setup([OK, CIERR], "k8s-t", others=[("old-host", OK)],
            inv_extra="[web-cierr]\nold-host\n")
    p = r.pg("provision")
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "host named like a group: provision exits 1", out)
    eq(t, r.touched(), [], "host named like a group: the playbook did not "
         "run", out)
    t.ok("web-cierr failed, and proxmox/k8s.ini has a group of that name"
         in p.stderr, "host named like a group: the error says why", p.stderr)


def cloud_init_slow(t, r, flag):
    # cloud-init that never finishes: stopped after the bound, the host
    # failed even with continue (it is not an error cloud-init reported)
    r.setup([OK, CIERR], "web", cloud_init_error="continue",
            cloud_init_wait=2)
    open(flag, "w").close()
    start = time.monotonic()
    try:
        p = r.pg("provision")
    finally:
        os.unlink(flag)
    took = time.monotonic() - start
    out = p.stdout + p.stderr
    eq(t, p.returncode, 1, "slow cloud-init: provision exits 1", out)
    eq(t, r.touched(), ["web-ok"],
         "slow cloud-init: the playbook ran on the other host only", out)
    t.ok("web-cierr (%s): cloud-init had not finished: stopped waiting "
         "after 2 s (provision.cloud_init_wait_seconds)" % CIERR in p.stderr,
         "slow cloud-init: an error names the host and the bound", p.stderr)
    t.ok(took < 60, "slow cloud-init: stopped at the bound, not after the "
         "stub's 120 s (took %.1f s)" % took, out)


def lease_lost(t, r, flag):
    # the lease taken from us while a host is prepared: the playbook does
    # not start (another runner may be at work by then)
    r.setup([OK, CIERR], "web", cloud_init_wait=6,
            extra="runner:\n  lease_ttl_seconds: 3\n")

    def take_it():
        tree = r.git("mktree").strip()
        other = subprocess.run(
            ["git", "-C", r.repo, "commit-tree", tree], check=True,
            capture_output=True, text=True,
            input="pve-gitops lease\n\nholder: another 1 ff\n"
            "expires: %d\n" % (time.time() + 600)).stdout.strip()
        r.git("update-ref", "refs/pve-gitops/lease", other)

    rc, out, err = r.provision_meanwhile(flag, take_it)
    eq(t, rc, 1, "lease lost: provision exits 1", out + err)
    eq(t, r.touched(), [], "lease lost: the playbook did not start",
       out + err)
    t.ok("lost the lease" in err and "another 1 ff" in err,
         "lease lost: the error names the new holder", err)
    r.git("update-ref", "-d", "refs/pve-gitops/lease")


def renewal_refused(t, r, flag):
    # the server refuses the lease's renewal for good (a hook installed
    # meanwhile): lost at once, with the server's reason, no playbook
    r.setup([OK, CIERR], "web", cloud_init_wait=6,
            extra="runner:\n  lease_ttl_seconds: 3\n")
    hook = os.path.join(r.repo, ".git", "hooks", "pre-receive")
    try:
        rc, out, err = r.provision_meanwhile(flag, lambda: write(
            hook, "#!/bin/sh\necho 'lease refs are frozen' >&2\nexit 1\n",
            0o755))
    finally:
        if os.path.exists(hook):
            os.unlink(hook)
    eq(t, rc, 1, "renewal refused: provision exits 1", out + err)
    eq(t, r.touched(), [], "renewal refused: the playbook did not start",
       out + err)
    t.ok("its renewal was refused" in err and "lease refs are frozen" in err,
         "renewal refused: the error gives the server's reason", err)
    r.git("update-ref", "-d", "refs/pve-gitops/lease")


def main():
    t = Tap()
    with tempfile.TemporaryDirectory() as d:
        bins = {}
        flags = {ip: os.path.join(d, "slow-" + ip)
                 for ip in (OK, CIERR, DENIED)}
        for ip, (word, status) in ((OK, ("done", 0)), (CIERR, ("error", 1)),
                                   (DENIED, ("done", 0))):
            bins[ip] = os.path.join(d, "bin-" + ip)
            write(os.path.join(bins[ip], "cloud-init"),
                  FAKE_CLOUD_INIT % (flags[ip], word, status), 0o755)
        other = keygen(os.path.join(d, "other_key"))
        write(os.path.join(d, "other_keys"), other + "\n", 0o600)
        extra = {ip: "SetEnv PATH=%s:/usr/local/bin:/usr/bin:/bin\n" % b
                 for ip, b in bins.items()}
        extra[DENIED] += "AuthorizedKeysFile %s\n" % os.path.join(
            d, "other_keys")
        with Sshds([OK, CIERR, DENIED], extra=extra) as sshd:
            r = Repo(d, sshd)
            cloud_init_error(t, r)
            cloud_init_continue(t, r)
            login_refused(t, r)
            none_ready(t, r)
            whole_inventory(t, r)
            cloud_init_slow(t, r, flags[CIERR])
            lease_lost(t, r, flags[CIERR])
            renewal_refused(t, r, flags[CIERR])
    print("1..%d" % t.n)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
