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


def endpoint(t):
    """run opens a Proxmox client for stage one and again for stage two
    (the guest agent's host keys): the warning that PM_API_URL wins over
    proxmox.endpoint comes once, names the URL used, and shows no
    userinfo."""
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim:
        d = example_repo(sim, SRC)
        cfg = os.path.join(d, "pve-gitops.yaml")
        with open(cfg) as f:
            text = f.read()
        text = re.sub(r"  endpoint: .*",
                      "  endpoint: https://ops:hunter2@pve.invalid:8006",
                      text)
        # loopback addresses, nothing listening on port 9: stage two
        # stops at once, after it has opened its client
        text = text.replace("  port: 22\n", "  port: 9\n").replace(
            "wait_seconds: 300", "wait_seconds: 1")
        with open(cfg, "w") as f:
            f.write(text)
        vms = os.path.join(d, "proxmox", "vms")
        for name in os.listdir(vms):
            with open(os.path.join(vms, name)) as f:
                text = f.read()
            text = re.sub(r"ip=192\.168\.1\.(\d+)/24,gw=192\.168\.1\.1",
                          r"ip=127.0.1.\1/24,gw=127.0.1.1", text)
            with open(os.path.join(vms, name), "w") as f:
                f.write(text)
        env = dict(os.environ, PM_API_URL=sim.url,
                   PM_API_TOKEN_ID="root@pam!ci", PM_API_TOKEN_SECRET=SECRET,
                   GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org",
                   HOME=d)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["commit", "-qm", "add [ansible haproxy]"]):
            subprocess.run(["git", "-C", d] + args, env=env, check=True,
                           capture_output=True, timeout=60)
        p = subprocess.run([BIN, "-C", d, "--no-color", "run", "--commit",
                            "HEAD"], capture_output=True, text=True,
                           env=env, timeout=300, stdin=subprocess.DEVNULL)
        OUTPUTS.append(p.stdout + p.stderr)
        want = ("warning: proxmox.endpoint https://***@pve.invalid:8006 in "
                "pve-gitops.yaml is ignored: PM_API_URL is set (%s)"
                % sim.url)
        t.ok("waiting for SSH" in p.stdout and p.stderr.count(want) == 1
             and p.stderr.count("is ignored") == 1,
             "run: PM_API_URL over proxmox.endpoint is warned about once, "
             "naming the URL used", p.stdout[-800:] + p.stderr)
        t.ok("hunter2" not in p.stdout + p.stderr,
             "the endpoint's password is shown in no message")
        shutil.rmtree(d)


BEFORE = """# Individual hosts
k8s-e2e ansible_host=127.0.0.2 ansible_user=ubuntu  # rack 4
k8s-b ansible_host=127.0.0.9 ansible_user=ubuntu\t#unchanged;  
k8s-c ansible_host=127.0.0.4 ansible_user=ubuntu # quoted "a # b"

[k3s]
k8s-e2e
k8s-b
k8s-c
"""


def ansible_hosts(path):
    env = dict(os.environ, ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="True",
               ANSIBLE_NOCOLOR="1")
    p = subprocess.run(["ansible-inventory", "-i", path, "--list"],
                       capture_output=True, text=True, env=env, timeout=120)
    if p.returncode:
        return ("error", p.stderr)
    data = json.loads(p.stdout)
    return (data["_meta"]["hostvars"], sorted(data["k3s"]["hosts"]))


def inventory(t):
    """Host lines the inventory rewrites keep their inline comments."""
    d = tempfile.mkdtemp(prefix="pve-gitops-edges-inv.")
    os.makedirs(os.path.join(d, "proxmox", "vms"))
    os.makedirs(os.path.join(d, "proxmox", ".pve-gitops"))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("ansible_user: ubuntu\n")
    ips = {"k8s-e2e": "127.0.0.3", "k8s-b": "127.0.0.9", "k8s-c": "127.0.0.5"}
    value = {}
    for i, (name, ip) in enumerate(sorted(ips.items())):
        with open(os.path.join(d, "proxmox", "vms", name + ".yaml"),
                  "w") as f:
            f.write("name: %s\ntarget_node: node01\nclone: ubuntu24\n"
                    "ipconfig0: \"ip=%s/24,gw=127.0.0.1\"\n" % (name, ip))
        value[name] = {"ansible_host": ip, "ansible_user": "ubuntu",
                       "node": "node01", "vmid": 100 + i}
    with open(os.path.join(d, "proxmox", ".pve-gitops", "outputs.json"),
              "w") as f:
        json.dump({"ansible_inventory": {"sensitive": False, "type": [],
                                         "value": value}}, f)
    ini = os.path.join(d, "proxmox", "k8s.ini")
    with open(ini, "w") as f:
        f.write(BEFORE)
    before = ansible_hosts(ini)
    p = pg(d, "inventory")
    with open(ini) as f:
        after = f.read()
    t.ok(p.returncode == 0 and
         "k8s-e2e ansible_host=127.0.0.3 ansible_user=ubuntu  # rack 4\n"
         in after and
         "k8s-c ansible_host=127.0.0.5 ansible_user=ubuntu # quoted \"a # b\"\n"
         in after,
         "inventory rewrites a host line and keeps its inline comment",
         p.stderr + after)
    t.ok("k8s-b ansible_host=127.0.0.9 ansible_user=ubuntu\t#unchanged;  \n"
         in after,
         "a line that needs no change stays byte for byte", after)
    view = ansible_hosts(ini)
    want = {"k8s-e2e": {"ansible_host": "127.0.0.3",
                        "ansible_user": "ubuntu"},
            "k8s-b": {"ansible_host": "127.0.0.9", "ansible_user": "ubuntu"},
            "k8s-c": {"ansible_host": "127.0.0.5", "ansible_user": "ubuntu"}}
    t.ok(before[0] != "error" and view[0] != "error", "ansible-inventory "
         "reads the file before and after", (before, view))
    if view[0] != "error" and before[0] != "error":
        def plain(hv):  # host_vars adds pve_*: not the inventory's
            return {h: {k: v for k, v in x.items()
                        if not k.startswith("pve_")} for h, x in hv.items()}
        t.eq((plain(view[0]), view[1]),
             (want, ["k8s-b", "k8s-c", "k8s-e2e"]),
             "ansible-inventory: the new addresses, no variable out of a "
             "comment")
        t.eq(set(plain(before[0])["k8s-c"]), set(want["k8s-c"]),
             "and the comments were comments before the rewrite too")
    p = pg(d, "inventory")
    with open(ini) as f:
        t.ok(p.returncode == 0 and f.read() == after,
             "a second run changes nothing", p.stderr)
    shutil.rmtree(d)


def main():
    t = Tap()
    tls(t)
    tag(t)
    endpoint(t)
    inventory(t)
    t.eq([o for o in OUTPUTS if SECRET in o], [],
         "the token secret appears in no output")
    t.done()


main()
