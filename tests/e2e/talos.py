#!/usr/bin/python3
"""A Talos cluster through the whole chain, on loopback only, with no SSH
server anywhere: real git (a bare repository as the remote), proxmox-sim,
vault-sim, the real ansible-playbook running the shipped talos.yml, and
kubectl to read the published kubeconfig.

Stand-ins, because the real programs cannot be had here (talosctl cannot
be downloaded, and there is no Talos node to talk to):

- each Talos node is a loopback address (127.0.77.x) where this test runs
  a small TLS listener on port 50000 (Python's ssl, a self-signed
  certificate) standing in for apid in maintenance mode; one of them
  starts late, so stage two has to wait for it;
- `talosctl` on PATH is a RECORDING stand-in written by this test: it
  appends its argv to a log, writes fake secrets, machine configs and a
  talosconfig for `gen secrets`/`gen config`, checks for `apply-config`
  that the config file exists and is 0600, and for `kubeconfig` writes a
  kubeconfig whose server is the cluster endpoint, where this test runs a
  loopback TLS server standing in for the Kubernetes API;
- `ssh` and `ssh-keyscan` on PATH are recording stand-ins that fail: they
  must never be run for these hosts.

Checked: `run --push` on a commit tagged [ansible talos] exits 0 without
SSH (no host key step, no cloud-init step, no known_hosts written); the
stand-in's calls come in order (gen secrets, gen config with the first
control plane's endpoint, apply-config --insecure once per node with its
role's config, bootstrap once on the first control plane, health,
kubeconfig); the configs are 0600 in a 0700 directory; the kubeconfig is
in vault-sim under the context talos-e2e with the endpoint as its server,
which answers TLS; no secret shows in the output; a Talos node whose
API never answers fails after the bounded wait, still without SSH; one
that accepts TCP but no TLS handshake fails too, unless
provision.talos_api_tls is false; and with provision.wait_for {talos:
none} a worker added later is not waited for and joins with the configs
already there (apply-config only: no gen, no bootstrap).

Usage: talos.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap, make_cert  # noqa: E402
from sshdlib import free_port  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "0b6c2f8e-4a1d-4c3b-9e7f-2d5a8c1e6f40"
VTOKEN = "s.talose2etesttoken00000"
MARK = "TALOS-SECRET-MARKER-5f1e"  # in every fake secret the stand-in writes
CP1, CP2, W1, SILENT = "127.0.77.11", "127.0.77.12", "127.0.77.21", \
    "127.0.77.29"
PLAIN, LATE = "127.0.77.31", "127.0.77.32"
NODES = {"talos-e2e-cp01": CP1, "talos-e2e-cp02": CP2,
         "talos-e2e-w01": W1}
t = Tap()
W = e2elib.Workdir("pve-gitops-talos.")
D = W.dir
CALLS = W.path("talosctl.log")
SSH_CALLS = W.path("ssh.log")
KNOWN = W.path("ssh", "known_hosts")
TMP = W.path("tmp")

FAKE_TALOSCTL = r'''#!/usr/bin/python3
# A recording stand-in for talosctl (tests/e2e/talos.py): no real Talos.
import base64, json, os, stat, sys
args = sys.argv[1:]
rec = {"argv": args}

def opt(name):
    return args[args.index(name) + 1] if name in args else None

def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, text.encode())
    os.close(fd)

rc = 0
if args[:2] == ["gen", "secrets"]:
    write(opt("-o"), "cluster:\n  id: x\n  secret: %(mark)s\n")
elif args[:2] == ["gen", "config"]:
    name, endpoint, out = args[2], args[3], opt("-o")
    if not os.path.exists(opt("--with-secrets") or ""):
        print("no secrets bundle", file=sys.stderr)
        sys.exit(1)
    for role in ("controlplane", "worker"):
        write(os.path.join(out, role + ".yaml"),
              "machine:\n  type: %%s\n  token: %(mark)s\ncluster:\n"
              "  clusterName: %%s\n  controlPlane:\n    endpoint: %%s\n"
              %% (role, name, endpoint))
    write(os.path.join(out, "talosconfig"),
          "context: %%s\n# endpoint: %%s\ncontexts:\n  %%s:\n"
          "    key: %(mark)s\n" %% (name, endpoint, name))
elif args[:1] == ["apply-config"]:
    f = opt("-f")
    if "--insecure" not in args or not f or not os.path.exists(f):
        print("apply-config: no --insecure or no config file",
              file=sys.stderr)
        sys.exit(1)
    rec["mode"] = oct(stat.S_IMODE(os.stat(f).st_mode))
elif args[:1] in (["bootstrap"], ["health"]):
    if not os.path.exists(opt("--talosconfig") or ""):
        print("no talosconfig", file=sys.stderr)
        sys.exit(1)
elif args[:1] == ["kubeconfig"]:
    tc = open(opt("--talosconfig")).read()
    name = tc.split("\n")[0].split(": ")[1]
    endpoint = tc.split("# endpoint: ")[1].split("\n")[0]
    key = base64.b64encode(b"%(mark)s").decode()
    write(args[1], """apiVersion: v1
kind: Config
clusters:
- name: %%s
  cluster:
    server: %%s
    certificate-authority-data: QUJD
contexts:
- name: admin@%%s
  context:
    cluster: %%s
    namespace: default
    user: admin@%%s
current-context: admin@%%s
users:
- name: admin@%%s
  user:
    client-certificate-data: REVG
    client-key-data: %%s
""" %% (name, endpoint, name, name, name, name, name, key))
else:
    rc = 2
with open(%(log)r, "a") as log:
    log.write(json.dumps(rec) + "\n")
sys.exit(rc)
''' % {"mark": MARK, "log": CALLS}

FAKE_SSH = """#!/bin/sh
# A recording stand-in for %s: it must never run for a Talos node.
echo "%s $*" >> %s
exit 255
"""


class TlsListener:
    """A TLS server on addr:port (self-signed), each connection's
    handshake done and the connection closed: apid or the Kubernetes API
    standing in. start_after: seconds before it listens, counted from
    the first handshake on the listener after, if given."""

    def __init__(self, addr, port, cert, key, start_after=0.0,
                 after=None):
        self.addr, self.port = addr, port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.sock = None
        self.stopped = False
        self.handshakes = 0
        self.after = after
        self.thread = threading.Thread(target=self.serve,
                                       args=(start_after,), daemon=True)
        self.thread.start()

    def serve(self, start_after):
        while self.after and not self.after.handshakes and \
                not self.stopped:
            time.sleep(0.05)
        time.sleep(start_after)
        if self.stopped:
            return
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(16)
        s.settimeout(0.2)
        self.sock = s
        while not self.stopped:
            try:
                c, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            try:
                c.settimeout(5)
                with self.ctx.wrap_socket(c, server_side=True):
                    self.handshakes += 1
            except (ssl.SSLError, OSError):
                pass
            finally:
                c.close()
        s.close()

    def stop(self):
        self.stopped = True
        self.thread.join(timeout=5)


class TcpListener(TlsListener):
    """A port that accepts connections and closes them: no TLS."""

    def __init__(self, addr, port):
        self.addr, self.port = addr, port
        self.stopped = False
        self.thread = threading.Thread(target=self.serve_plain, daemon=True)
        self.thread.start()

    def serve_plain(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(16)
        s.settimeout(0.2)
        while not self.stopped:
            try:
                c, _ = s.accept()
            except (socket.timeout, OSError):
                continue
            c.close()
        s.close()


class NoSshd:
    """What e2elib wants of an sshd, with none running: a port nothing
    listens on and no client key to speak of."""

    def __init__(self):
        self.port = free_port()
        self.client_key = W.path("no-such-key")


def stand_ins():
    bindir = W.path("bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "talosctl"), "w") as f:
        f.write(FAKE_TALOSCTL)
    for name in ("ssh", "ssh-keyscan"):
        with open(os.path.join(bindir, name), "w") as f:
            f.write(FAKE_SSH % (name, name, SSH_CALLS))
    for name in os.listdir(bindir):
        os.chmod(os.path.join(bindir, name), 0o755)
    return bindir


def calls():
    if not os.path.exists(CALLS):
        return []
    return [json.loads(line) for line in open(CALLS)]


def ssh_calls():
    """What ssh and ssh-keyscan were run for, without ansible-playbook's
    own `ssh -o ControlPersist` (it asks the local ssh, with no host,
    whether it knows the option, whatever the play's connection)."""
    if not os.path.exists(SSH_CALLS):
        return ""
    return "".join(line for line in open(SSH_CALLS)
                   if line.strip() != "ssh -o ControlPersist")


def check_calls():
    got = calls()
    argvs = [c["argv"] for c in got]
    verbs = [" ".join(a[:2]) if a[0] == "gen" else a[0] for a in argvs]
    t.eq(verbs, ["gen secrets", "gen config", "apply-config", "apply-config",
                 "apply-config", "bootstrap", "health", "kubeconfig"],
         "talosctl: gen secrets, gen config, apply-config per node, "
         "bootstrap once, health, kubeconfig, in that order")
    gen = next((a for a in argvs if a[:2] == ["gen", "config"]), [])
    t.eq(gen[2:4], ["talos-e2e", "https://%s:6443" % CP1],
         "gen config: the cluster's name and the first control plane's "
         "endpoint")
    applied = {}
    for c in got:
        a = c["argv"]
        if a[0] == "apply-config":
            applied[a[a.index("-n") + 1]] = (os.path.basename(
                a[a.index("-f") + 1]), c.get("mode"), "--insecure" in a)
    t.eq(applied, {CP1: ("controlplane.yaml", "0o600", True),
                   CP2: ("controlplane.yaml", "0o600", True),
                   W1: ("worker.yaml", "0o600", True)},
         "apply-config --insecure on each node with its role's config, "
         "0600 when applied")
    boot = [a for a in argvs if a[0] == "bootstrap"]
    t.ok(len(boot) == 1 and boot[0][boot[0].index("-n") + 1] == CP1,
         "bootstrap: once, on the first control plane", boot)


def check_files():
    d = W.path("home", ".pve-gitops", "talos", "talos-e2e")
    modes = {}
    if os.path.isdir(d):
        for n in sorted(os.listdir(d)):
            modes[n] = oct(stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode))
    t.eq(modes, {"controlplane.yaml": "0o600", "secrets.yaml": "0o600",
                 "talosconfig": "0o600", "worker.yaml": "0o600"},
         "the secrets bundle, the configs and the talosconfig are 0600")
    t.eq(oct(stat.S_IMODE(os.stat(d).st_mode)) if os.path.isdir(d) else None,
         "0o700", "their directory is 0700")
    left = [n for n in os.listdir(TMP) if n.startswith("pve-gitops")]
    t.eq(left, [], "no temporary kubeconfig or provision directory is left")


def check_vault(env):
    out = W.path("kc.yaml")
    q = W.run(BIN, env, "kubeconfig", "get", "--out", out)
    t.eq(q.returncode, 0, "the kubeconfig is in vault-sim")
    v = subprocess.run(["kubectl", "config", "view", "--kubeconfig", out,
                        "--raw", "-o", "json"], capture_output=True,
                       text=True)
    kc = json.loads(v.stdout) if v.returncode == 0 else {}
    ctx = {c["name"]: c["context"] for c in kc.get("contexts") or []}
    t.ok("talos-e2e" in ctx, "kubectl sees the context talos-e2e",
         v.stdout + v.stderr)
    servers = {c["name"]: c["cluster"]["server"]
               for c in kc.get("clusters") or []}
    server = servers.get(ctx.get("talos-e2e", {}).get("cluster"))
    t.eq(server, "https://%s:6443" % CP1,
         "its server is the cluster endpoint")
    try:
        ctx_tls = ssl.create_default_context()
        ctx_tls.check_hostname = False
        ctx_tls.verify_mode = ssl.CERT_NONE
        with socket.create_connection((CP1, 6443), timeout=5) as s:
            with ctx_tls.wrap_socket(s):
                answered = True
    except OSError:
        answered = False
    t.ok(answered, "the server in the published kubeconfig answers TLS")


def stage_cluster(env, cert, key, listeners):
    for name, ip in NODES.items():
        W.vm_file(name, ip)
    W.commit("feat(proxmox): add the Talos e2e cluster [ansible talos]")
    # a node that boots later: stage two, which has reached the first
    # control plane by then, waits for it
    listeners.append(TlsListener(W1, 50000, cert, key, start_after=3.0,
                                 after=listeners[0]))
    p = W.run(BIN, env, "run", "--push")
    if not t.eq(p.returncode, 0, "run --push on [ansible talos] exits 0"):
        print("#", p.stdout[-4000:].replace("\n", "\n# "))
        print("#", p.stderr[-4000:].replace("\n", "\n# "))
    t.eq(W.remote_log()[0], "Auto-update Ansible inventory [ansible talos]",
         "the automated commit reached the remote")
    t.ok("waiting for the Talos API on port 50000" in p.stdout and
         "waiting for SSH" not in p.stdout,
         "stage two waited for the Talos API, not SSH", p.stdout)
    t.ok("Talos API after" in p.stdout and "no SSH" in p.stdout,
         "the summary says how each node was reached", p.stdout)
    t.eq(ssh_calls(), "", "ssh and ssh-keyscan never ran")
    t.ok(not os.path.exists(KNOWN), "no known_hosts file was written")
    t.ok("cloud-init" not in p.stdout.replace("no cloud-init check", ""),
         "no cloud-init step", p.stdout)
    t.ok(MARK not in p.stdout + p.stderr and VTOKEN not in
         p.stdout + p.stderr, "no secret in the output")
    waited = [line for line in p.stdout.splitlines()
              if line.strip().startswith("talos-e2e-w01") and
              "Talos API after" in line]
    t.ok(waited and float(waited[0].split("after ")[1].split(" s")[0]) >= 1,
         "stage two waited for the node that booted late", waited)
    check_calls()
    check_files()
    check_vault(env)
    check_doctor(env)


def check_doctor(env):
    """doctor follows stage two: the Talos API, not SSH, for these VMs."""
    name = next(iter(NODES))
    p = W.run(BIN, env, "doctor", "--json", name)
    try:
        links = {x["name"]: x for x in
                 json.loads(p.stdout)["vms"][0]["links"]}
    except (ValueError, KeyError, IndexError):
        links = {}
    ssh, known = links.get("ssh-port", {}), links.get("known-host", {})
    t.ok(ssh.get("status") == "ok" and "the Talos API" in
         ssh.get("detail", "") and known.get("status") == "ok" and
         "no SSH" in known.get("detail", ""),
         "doctor: the Talos API answered, no host key wanted",
         p.stdout[-3000:] + p.stderr)
    t.eq(ssh_calls(), "", "doctor ran no ssh or ssh-keyscan either")


def stage_silent(env):
    """A Talos node whose API never answers: failed after the wait."""
    text = open(W.config).read()
    open(W.config, "w").write(text.replace("wait_seconds: 20",
                                           "wait_seconds: 3"))
    n = len(calls())
    W.vm_file("talos-e2e-w02", SILENT)
    W.commit("feat(proxmox): a Talos worker that never boots "
             "[ansible talos]")
    p = W.run(BIN, env, "run", "--push")
    t.ok(p.returncode == 1 and
         "%s port 50000 did not accept a TLS connection" % SILENT in
         p.stderr and "within 3 s" in p.stderr,
         "a Talos node whose API never answers fails after the bounded "
         "wait", p.stdout[-2000:] + p.stderr)
    t.eq(len(calls()), n, "talosctl did not run: no node was ready")
    t.eq(ssh_calls(), "", "ssh and ssh-keyscan still never ran")
    open(W.config, "w").write(text)


def set_config(old, new):
    text = open(W.config).read()
    if not t.ok(old in text, "the example config has %r" % old):
        return
    open(W.config, "w").write(text.replace(old, new))


def stage_plain_tcp(env, listeners):
    """TCP without TLS is not apid: failed, unless talos_api_tls is
    false."""
    listeners.append(TcpListener(PLAIN, 50000))
    set_config("wait_seconds: 20", "wait_seconds: 3")
    W.vm_file("talos-e2e-w03", PLAIN)
    W.commit("feat(proxmox): a worker that speaks no TLS [ansible talos]")
    p = W.run(BIN, env, "pipeline", "--push")
    t.eq(p.returncode, 0, "plain TCP: stage one")
    n = len(calls())
    p = W.run(BIN, env, "provision")
    t.ok(p.returncode == 1 and "%s port 50000 did not accept a TLS "
         "connection" % PLAIN in p.stderr, "a port that accepts TCP but "
         "no TLS handshake is not the Talos API", p.stdout[-2000:] +
         p.stderr)
    t.eq(len(calls()), n, "plain TCP: talosctl did not run")
    set_config("talos_api_tls: true", "talos_api_tls: false")
    p = W.run(BIN, env, "provision")
    t.ok(p.returncode == 0 and "Talos API after" in p.stdout,
         "with provision.talos_api_tls: false a TCP connection is enough",
         p.stdout[-3000:] + p.stderr)
    applied = [c["argv"] for c in calls()[n:]]
    t.eq([a[:5] for a in applied],
         [["apply-config", "--insecure", "-n", PLAIN, "-f"]],
         "a worker added later: only apply-config, with the configs "
         "already there")
    set_config("talos_api_tls: false", "talos_api_tls: true")


def stage_none(env):
    """provision.wait_for {talos: none}: nothing is waited for."""
    set_config("wait_for: {talos: talos}", "wait_for: {talos: none}")
    W.vm_file("talos-e2e-w04", LATE)
    W.commit("feat(proxmox): a worker nobody waits for [ansible talos]")
    p = W.run(BIN, env, "pipeline", "--push")
    t.eq(p.returncode, 0, "none: stage one")
    n = len(calls())
    started = time.monotonic()
    p = W.run(BIN, env, "provision")
    t.ok(p.returncode == 0 and "not waited for (provision.wait_for: "
         "none)" in p.stdout, "wait_for none: the playbook runs without "
         "waiting for anything", p.stdout[-3000:] + p.stderr)
    t.ok(time.monotonic() - started < 60, "wait_for none: no wait")
    t.eq([c["argv"][:4] for c in calls()[n:]],
         [["apply-config", "--insecure", "-n", LATE]],
         "wait_for none: the playbook applied the worker's config")
    t.eq(ssh_calls(), "", "wait_for none: ssh and ssh-keyscan never ran")
    set_config("wait_for: {talos: none}", "wait_for: {talos: talos}")


def main():
    os.makedirs(TMP)
    cert, key = make_cert(D)
    bindir = stand_ins()
    listeners = [TlsListener(CP1, 50000, cert, key),
                 TlsListener(CP2, 50000, cert, key),
                 TlsListener(CP1, 6443, cert, key)]
    sshd = NoSshd()
    try:
        with VaultSim(VSIM, token=VTOKEN) as vsim, \
                e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--boot-ms",
                           "0") as psim:
            W.infra_repo(SRC)
            W.configure(psim, sshd, KNOWN, vault=vsim,
                        extra=e2elib.asan_ansible(BIN))
            W.commit("chore: the infrastructure repository")
            env = W.env(sshd, SECRET, path=[
                bindir, os.path.dirname(os.path.abspath(BIN))],
                VAULT_ADDR=vsim.url, VAULT_TOKEN=VTOKEN, TMPDIR=TMP)
            stage_cluster(env, cert, key, listeners)
            stage_silent(env)
            stage_plain_tcp(env, listeners)
            stage_none(env)
    finally:
        for li in listeners:
            li.stop()
    W.cleanup()
    t.done()


main()
