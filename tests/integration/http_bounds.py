#!/usr/bin/python3
"""Broken servers do not hold pve-gitops: against a listener that never
accepts (the connect timeout), a proxmox-sim that reads
the request and never answers (fault "hang") or trickles its answer one
byte at a time ("trickle"), plan fails within the configured http: limits
(retries included) with an error naming the request and the limit; the
same for a kubeconfig publish against a vault-sim that hangs. A failed
task's exitstatus holding ESC sequences reaches the terminal escaped. A
status/current or task status answer without its status is an error
naming the endpoint, not a wait. Credentials written into PM_API_URL or
VAULT_ADDR never show. A 10 MB pve-gitops.yaml is refused with file:line.

Usage: http_bounds.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from kubelib import K3S
from simlib import Sim, Tap, example_repo
from vault_simlib import VaultSim

BIN, SIM, VSIM, SRC = sys.argv[1:5]
SECRET = "5d7f9b1e-3a5c-4e7f-8b9d-1f3a5c7e9b2d"
URLPASS = "urlpass-9f8e7d6c"
VTOKEN = "s.httpboundsvaulttoken0123456"
OUTPUTS = []
t = Tap()


def run(d, *args, env_extra=None, timeout=120):
    """pve-gitops in d; (process, seconds it took)."""
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
               PM_API_TOKEN_SECRET=SECRET)
    env.pop("PM_API_URL", None)
    env.update(env_extra or {})
    t0 = time.monotonic()
    p = subprocess.run([BIN, "-C", d, "--no-color"] + list(args),
                       capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    OUTPUTS.append(p.stdout + p.stderr)
    return p, time.monotonic() - t0


def repo(sim, http_section):
    """The example repository against sim, with an http: section."""
    d = example_repo(sim, SRC)
    cfg = os.path.join(d, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"  tls_fingerprint: .*\n", "", text)  # plain HTTP
    with open(cfg, "w") as f:
        f.write(text + "\nhttp:\n" + http_section)
    return d


def sim(*faults, rate="1"):
    return Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
               "--boot-ms", "10", "--fault-rate", rate, "--faults",
               ",".join(faults), "--fault-trickle-ms", "3000", http=True)


def plan_hangs():
    with sim("hang") as s:
        d = repo(s, "  timeout_seconds: 2\n  low_speed_seconds: 30\n")
        p, took = run(d, "plan")
        t.ok(p.returncode != 0, "hang: plan fails", p.stderr)
        t.ok(took < 6, "hang: within the 2 s deadline, retries included "
             "(took %.1f s)" % took)
        t.ok("GET " in p.stderr and "/cluster/resources" in p.stderr,
             "hang: the error names the request", p.stderr)
        t.ok("http.timeout_seconds" in p.stderr,
             "hang: the error names the limit hit", p.stderr)
        shutil.rmtree(d, ignore_errors=True)


def plan_cannot_connect():
    """A listener whose accept queue is full drops the SYN: connect hangs
    (on Linux, with tcp_abort_on_overflow 0)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    port = ls.getsockname()[1]
    fill = []
    for _ in range(8):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.2)
    d = tempfile.mkdtemp(prefix="pve-gitops-httpb.")
    os.makedirs(os.path.join(d, "proxmox", "vms"))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("proxmox: {endpoint: 'http://127.0.0.1:%d'}\n"
                "http: {connect_timeout_seconds: 1}\n" % port)
    p, took = run(d, "plan")
    t.ok(p.returncode != 0 and took < 5,
         "connect: plan fails within the 1 s connect timeout (took %.1f s)"
         % took, p.stderr)
    t.ok("/cluster/resources" in p.stderr and
         "http.connect_timeout_seconds" in p.stderr,
         "connect: the error names the request and the limit", p.stderr)
    for c in fill:
        c.close()
    ls.close()
    shutil.rmtree(d, ignore_errors=True)


def plan_trickles():
    with sim("trickle") as s:
        d = repo(s, "  timeout_seconds: 120\n  low_speed_seconds: 2\n")
        p, took = run(d, "plan")
        t.ok(p.returncode != 0, "trickle: plan fails", p.stderr)
        t.ok(took < 20, "trickle: the low-speed limit stops it (took %.1f "
             "s, the total deadline is 120 s)" % took)
        t.ok("/cluster/resources" in p.stderr and
             "http.low_speed_seconds" in p.stderr,
             "trickle: the error names the request and the limit", p.stderr)
        shutil.rmtree(d, ignore_errors=True)


def password_redacted():
    """A password in PM_API_URL never shows, in an error or a warning."""
    with sim("hang") as s:
        d = repo(s, "  timeout_seconds: 1\n")
        cfg = os.path.join(d, "pve-gitops.yaml")
        with open(cfg) as f:
            text = re.sub(r"  endpoint: .*\n", "", f.read())
        with open(cfg, "w") as f:
            f.write(text)
        url = s.url.replace("http://", "http://admin:%s@" % URLPASS)
        p, _ = run(d, "plan", env_extra={"PM_API_URL": url})
        t.ok(p.returncode != 0 and "***@127.0.0.1" in p.stderr,
             "PM_API_URL: the failing plan shows the URL redacted", p.stderr)
        t.ok(URLPASS not in p.stdout + p.stderr,
             "PM_API_URL: the password never shows", p.stderr)
        p, _ = run(d, "-v", "plan", env_extra={"PM_API_URL": url})
        t.ok(URLPASS not in p.stdout + p.stderr,
             "PM_API_URL: not with -v either", p.stderr)
        shutil.rmtree(d, ignore_errors=True)


def escaped_exitstatus():
    with sim("escape") as s:
        d = repo(s, "  timeout_seconds: 30\n")
        p, _ = run(d, "apply", "--auto-approve")
        out = p.stdout + p.stderr
        t.ok(p.returncode != 0, "escape: apply fails on the failed task",
             out)
        t.ok("task failed" in out, "escape: the exit status is shown", out)
        t.ok("\x1b" not in out and "\x07" not in out,
             "escape: no raw ESC or BEL reaches the terminal",
             repr(out[-2000:]))
        t.ok("\\x1b[31m" in out, "escape: ESC shown as \\x1b", out)
        shutil.rmtree(d, ignore_errors=True)


ESC_TOPOLOGY = """\
nodes:
  - name: "evil\\e[31m"
    storages:
      - {name: local-lvm, capacity: 100G}
vms:
  - {vmid: 120, name: legacy-db, node: "evil\\e[31m", status: running,
     config: {cores: 4, tags: "pve-gitops;pg-12345678"}}
"""


def escaped_node_name():
    """A node name with ESC from /cluster/resources: the -v trace and the
    errors show it escaped (the trace went to stderr raw), and it goes
    into request paths percent-encoded."""
    work = tempfile.mkdtemp(prefix="pve-gitops-httpb.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(ESC_TOPOLOGY)
    with Sim(SIM, "--topology", topo, "--token", "root@pam!ci=" + SECRET,
             http=True) as s:
        d = os.path.join(work, "repo")
        os.makedirs(os.path.join(d, "proxmox", "vms"))
        with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
            f.write("proxmox: {endpoint: '%s'}\nprune: true\n" % s.url)
        p, _ = run(d, "-v", "plan", "--refresh")
        out = p.stdout + p.stderr
        t.ok("/qemu/120/config" in p.stderr and "\x1b" not in out,
             "ESC in a node name: no raw ESC with -v", repr(out[-1500:]))
        paths = [l for l in open(s.log) if "/qemu/120/config" in l]
        # curl refused the raw name (nothing sent, retried six times)
        t.eq(len(paths), 1, "ESC in a node name: percent-encoded in the "
             "path, the request is sent once")
    shutil.rmtree(work, ignore_errors=True)


def missing_status():
    for fault, what in (("nodata", "status/current"),
                        ("taskstatus", "/tasks/")):
        with sim(fault) as s:
            d = repo(s, "  timeout_seconds: 30\n")
            p, took = run(d, "apply", "--auto-approve")
            out = p.stdout + p.stderr
            if fault == "taskstatus":  # nodata: round 2 reads the VM
                t.ok(p.returncode != 0, "%s: apply fails" % fault, out)
            t.ok(took < 20, "%s: at once, not after a wait (took %.1f s)"
                 % (fault, took))
            t.ok(what in p.stderr and "no " in p.stderr and
                 "status" in p.stderr,
                 "%s: the error names the endpoint" % fault, p.stderr)
            shutil.rmtree(d, ignore_errors=True)




def publish_hangs():
    d = tempfile.mkdtemp(prefix="pve-gitops-httpb.")
    with open(os.path.join(d, "k3s.yaml"), "w") as f:
        f.write(K3S)
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("http:\n  timeout_seconds: 2\n")
    for fault in ("hang", "trickle"):
        with VaultSim(VSIM, "--fault-rate", "1", "--faults", fault,
                      token=VTOKEN) as vs:
            url = vs.url.replace("http://", "http://v:%s@" % URLPASS)
            p, took = run(d, "kubeconfig", "publish", "--kubeconfig",
                          os.path.join(d, "k3s.yaml"), "--inventory-name",
                          "k8s-obs", "--host-address", "10.0.0.20",
                          env_extra={"VAULT_ADDR": url, "VAULT_TOKEN": VTOKEN,
                                     "HOME": d})
            t.ok(p.returncode != 0 and took < 8,
                 "vault %s: publish fails within the 2 s deadline (took "
                 "%.1f s)" % (fault, took), p.stderr)
            t.ok("http.timeout_seconds" in p.stderr and "/v1/" in p.stderr,
                 "vault %s: the error names the request and the limit" %
                 fault, p.stderr)
            t.ok(URLPASS not in p.stdout + p.stderr and
                 "***@127.0.0.1" in p.stderr,
                 "vault %s: VAULT_ADDR shown without its password" % fault,
                 p.stderr)
    shutil.rmtree(d, ignore_errors=True)


def huge_config():
    d = tempfile.mkdtemp(prefix="pve-gitops-httpb.")
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("# padding\n" * (1024 * 1024))
    os.makedirs(os.path.join(d, "proxmox", "vms"))
    p, took = run(d, "validate")
    t.eq(p.returncode, 2, "10 MB pve-gitops.yaml: exit 2")
    t.ok(re.search(r"^pve-gitops\.yaml:\d+:(\d+:)? error: .*limit",
                   p.stderr, re.M),
         "10 MB pve-gitops.yaml: refused with file:line", p.stderr)
    shutil.rmtree(d, ignore_errors=True)


def main():
    plan_hangs()
    plan_cannot_connect()
    plan_trickles()
    password_redacted()
    escaped_exitstatus()
    escaped_node_name()
    missing_status()
    publish_hangs()
    huge_config()
    t.ok(not any(SECRET in o or VTOKEN in o or URLPASS in o
                 for o in OUTPUTS), "no secret in any output")
    t.done()


if __name__ == "__main__":
    main()
