#!/usr/bin/python3
"""Rough edges of issue 16, each against the real binary and proxmox-sim:
a wrong TLS pin says "fingerprint mismatch" and prints the server's
fingerprint; a self-signed certificate without a pin suggests
tls_fingerprint with the fingerprint to put there; a pin without colons is
accepted, a malformed one refused by validate at pve-gitops.yaml:LINE;
[ansible k8s-ha.yml] names the playbook k8s-ha; PM_API_URL beside a
different proxmox.endpoint warns once, naming the one used; inventory keeps
the inline comment of a host line it rewrites, and ansible-inventory reads
the result as before.

Usage: rough_edges.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from simlib import Sim, Tap, example_repo, make_cert, pve_gitops

BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
OUTPUTS = []


def pg(d, *args):
    return pve_gitops(BIN, d, SECRET, *args, outputs=OUTPUTS)


def set_pin(d, pin):
    """Replace (or, with None, drop) the tls_fingerprint line."""
    cfg = os.path.join(d, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"  tls_fingerprint: .*\n", "", text)
    if pin is not None:
        text = re.sub(r"(  endpoint: .*\n)",
                      lambda m: m.group(1) + '  tls_fingerprint: "%s"\n'
                      % pin, text, count=1)
    with open(cfg, "w") as f:
        f.write(text)


def openssl_fingerprint(cert):
    p = subprocess.run(["openssl", "x509", "-noout", "-fingerprint",
                        "-sha256", "-in", cert], capture_output=True,
                       text=True, check=True, timeout=60)
    return p.stdout.strip().split("=", 1)[1]


def tls(t):
    work = tempfile.mkdtemp(prefix="pve-gitops-edges.")
    cert, key = make_cert(work)
    fp = openssl_fingerprint(cert)
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--tls-cert", cert,
             "--tls-key", key) as sim:
        t.eq(sim.fingerprint.upper(), fp.upper(),
             "the simulator serves the certificate made for the test")
        d = example_repo(sim, SRC)
        wrong = ":".join(["AB"] * 32)
        set_pin(d, wrong)
        p = pg(d, "plan")
        t.ok(p.returncode == 1 and "fingerprint mismatch" in p.stderr and
             fp in p.stderr and wrong in p.stderr,
             "a wrong pin: 'fingerprint mismatch' with the server's "
             "fingerprint (and the pinned one)", p.stderr)
        t.ok(p.stderr.count("\n") <= 3, "in one message, not a retry "
             "per attempt", p.stderr)

        set_pin(d, None)
        p = pg(d, "plan")
        t.ok(p.returncode == 1 and "tls_fingerprint" in p.stderr and
             fp in p.stderr and "tls_ca_file" in p.stderr,
             "a self-signed certificate without a pin: the error suggests "
             "tls_fingerprint with the server's fingerprint", p.stderr)

        # the fingerprint the message printed, pasted into the config, works
        m = re.search(r"fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})",
                      p.stderr)
        set_pin(d, m.group(1) if m else "none")
        p = pg(d, "plan")
        t.eq(p.returncode, 0, "the printed fingerprint, pinned, is accepted")

        set_pin(d, fp.replace(":", "").lower())
        v = pg(d, "validate")
        p = pg(d, "plan")
        t.ok(v.returncode == 0 and p.returncode == 0,
             "a pin without colons, lower case, passes validate and plan",
             v.stderr + p.stderr)

        bad = fp.replace(":", "")[:-1]
        set_pin(d, bad)
        with open(os.path.join(d, "pve-gitops.yaml")) as f:
            line = 1 + f.read().split("tls_fingerprint")[0].count("\n")
        n0 = len(open(sim.log).readlines())
        for cmd in ("validate", "plan"):
            p = pg(d, cmd)
            t.ok(p.returncode == 2 and
                 ("pve-gitops.yaml:%d:" % line) in p.stderr and
                 "not a SHA-256 fingerprint" in p.stderr,
                 "%s: a 63-digit pin is refused at pve-gitops.yaml:%d"
                 % (cmd, line), p.stderr)
        t.eq(len(open(sim.log).readlines()), n0,
             "before any request reaches Proxmox")
        shutil.rmtree(d)
    shutil.rmtree(work)


def tag(t):
    p = subprocess.run([BIN, "--no-color", "tag",
                        "feat: HA [ansible k8s-ha.yml]"],
                       capture_output=True, text=True, timeout=60)
    t.ok(p.returncode == 0 and p.stdout == "k8s-ha\n" and
         "'k8s-ha.yml' is taken as 'k8s-ha'" in p.stderr,
         "[ansible k8s-ha.yml] names the playbook k8s-ha, with a note",
         (p.returncode, p.stdout, p.stderr))
    p = subprocess.run([BIN, "--no-color", "tag", "[ansible k8s.yml.yml]"],
                       capture_output=True, text=True, timeout=60)
    t.ok(p.returncode == 2 and not p.stdout,
         "[ansible k8s.yml.yml] is refused", (p.returncode, p.stdout,
                                              p.stderr))


def main():
    t = Tap()
    tls(t)
    tag(t)
    t.eq([o for o in OUTPUTS if SECRET in o], [],
         "the token secret appears in no output")
    t.done()


main()
