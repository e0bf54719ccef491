#!/usr/bin/python3
"""bench/provision.py - stage two of the chain for 10 new hosts, on
loopback only: `pve-gitops provision` (ssh wait, host keys, cloud-init
check, ONE ansible-playbook over the new hosts) against the seed's
per-host loop run the same way (for each line of new_hosts.txt: one
ssh-keyscan into known_hosts, one `ansible-playbook --limit HOST`).

The setup is chain.py's (tests/e2e/e2elib.py): a git repository with a
bare remote, proxmox-sim (--boot-ms 0, --task-ms 10), vault-sim, and real
sshd servers on 127.0.0.11..127.0.0.20 (one port) standing in for 10 new
VMs bench-01..10 (ciuser root, no guest agent: host keys come from
ssh-keyscan). The playbook is trivial: gather_facts false, one
`command: "true"` per host.
`pve-gitops pipeline` on a commit tagged [ansible bench] creates the VMs
and the automated commit (not timed); then, in rounds, each approach runs
from the same known_hosts state (restored before every run) with no
OpenSSH ControlPersist master left over from an earlier run, and the
median of the rounds is printed. A third figure, one direct
ansible-playbook over the 10 hosts with keys already known, is the part
of provision's time that is Ansible's own.

Usage: provision.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR [ROUNDS]
"""

import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

BIN, PSIM, VSIM, SRC = (os.path.abspath(a) for a in sys.argv[1:5])
ROUNDS = int(sys.argv[5]) if len(sys.argv) > 5 else 3
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))

import e2elib  # noqa: E402
import sshdlib  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

N = 10
HOSTS = [("127.0.0.%d" % (11 + i), "bench-%02d" % (i + 1)) for i in range(N)]
SECRET = "3f1d2c4b-6a5e-4f7d-9c8b-0a1e2d3c4b5a"
VTOKEN = "s.benchprovisiontoken0000"
W = e2elib.Workdir("pve-gitops-bench-provision.")
D, REPO = W.dir, W.repo
KNOWN = os.path.join(D, "ssh", "known_hosts")
HOME = W.path("home")  # what W.env gives the binary and Ansible
WRAPDIR = os.path.join(D, "wrap")
RUNS = os.path.join(D, "ansible-playbook-runs")
PLAYBOOK = "proxmox/playbooks/bench.yml"


sh, git = W.sh, W.git


def setup(psim, vsim, sshd):
    W.infra_repo(SRC)
    text = W.configure(psim, sshd, KNOWN, vault=vsim)
    if text.count(str(sshd.port)) < 1 or psim.url not in text:
        raise RuntimeError("pve-gitops.yaml of the example changed shape")
    with open(os.path.join(REPO, PLAYBOOK), "w") as f:
        # target_hosts: provision passes it (all, over its inventory of the
        # new hosts); the seed's loop does not, hence the default
        f.write("""- hosts: "{{ target_hosts | default('all') }}"
  gather_facts: false
  tasks:
    - name: reach the host
      ansible.builtin.command: "true"
      changed_when: false
""")
    W.commit("chore: the infrastructure repository")
    for ip, name in HOSTS:
        W.vm_file(name, ip, node="node0%d" % (1 + int(name[-2:]) % 3))
    W.commit("feat: ten bench hosts [ansible bench]", push=False)


def wrapper():
    """ansible-playbook on PATH, first: a wrapper only for counting the
    ansible-playbook processes each approach starts (one line per process
    in RUNS, with its start and end time from bash's $EPOCHREALTIME, so no
    extra process is forked); it runs the real one with the same
    arguments, environment, stdio and exit status. Its cost (one bash
    start, well under 10 ms) is paid by every ansible-playbook of both
    approaches."""
    real = shutil.which("ansible-playbook")
    if not real:
        raise RuntimeError("ansible-playbook is not installed")
    os.makedirs(WRAPDIR)
    path = os.path.join(WRAPDIR, "ansible-playbook")
    with open(path, "w") as f:
        f.write('#!/bin/bash\ns=$EPOCHREALTIME\n%s "$@"\nrc=$?\n'
                'echo "$s $EPOCHREALTIME" >> %s\nexit $rc\n' % (real, RUNS))
    os.chmod(path, 0o755)


def guest_home():
    """The "VMs" log in as root on this machine, and sshd runs root's shell
    with -c for every command; bash then reads /root/.bashrc, which here
    runs `pyenv init` and costs ~2.5 s per command (a fresh VM's default
    .bashrc costs nothing). So the servers get SetEnv HOME=<an empty
    directory> through a wrapper for sshdlib's sshd (same config, one -o
    more; sshd keeps the absolute path it must re-exec itself with). With
    BENCH_ROOT_HOME=1 they keep /root, for the record."""
    if os.environ.get("BENCH_ROOT_HOME") == "1":
        return "/root (root's own shell start-up, BENCH_ROOT_HOME=1)"
    home = os.path.join(D, "guest-home")
    os.makedirs(home)
    path = os.path.join(D, "sshd")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nexec %s -o "SetEnv HOME=%s" "$@"\n'
                % (sshdlib.SSHD, home))
    os.chmod(path, 0o755)
    sshdlib.SSHD = path
    return "an empty directory (see guest_home())"


def make_env(sshd):
    os.makedirs(os.path.join(D, "remote-tmp"), exist_ok=True)
    return W.env(sshd, SECRET, path=[WRAPDIR, os.path.dirname(BIN)],
                 drop=["ANSIBLE_CONFIG", "ANSIBLE_INVENTORY",
                       "ANSIBLE_HOST_KEY_CHECKING", "VAULT_ADDR"],
                 VAULT_TOKEN=VTOKEN,
                 # Ansible's temporary files on the "hosts" (this machine)
                 # stay in the temporary directory
                 ANSIBLE_REMOTE_TMP=os.path.join(D, "remote-tmp"))


def pg(env, *args):
    return W.run(BIN, env, *args, timeout=900)


# ---- the state every run starts from ----------------------------------


def restore_known(saved):
    if saved is None:
        if os.path.exists(KNOWN):
            os.unlink(KNOWN)
    else:
        with open(KNOWN, "w") as f:
            f.write(saved)


def close_masters(env):
    """End the ControlPersist masters Ansible's ssh left (60 s by default)
    so that no run reuses a connection of the one before."""
    for sock in glob.glob(os.path.join(HOME, ".ansible", "cp", "*")):
        subprocess.run(["ssh", "-o", "ControlPath=" + sock, "-O", "exit",
                        "bench"], capture_output=True, env=env)
        try:  # the master may remove it itself meanwhile
            os.unlink(sock)
        except FileNotFoundError:
            pass


def runs_since(n0):
    lines = open(RUNS).read().splitlines() if os.path.exists(RUNS) else []
    return [tuple(map(float, ln.split())) for ln in lines[n0:]]


def nruns():
    return len(runs_since(0))


def recap_ok(out, names):
    """Every host in the play recap: ok=1 (the one task), nothing failed
    or unreachable."""
    got = dict(re.findall(r"^(bench-\d\d)\s+:\s+(.*)$", out, re.M))
    bad = [n for n in names if n not in got or
           not re.search(r"\bok=1\b.*\bunreachable=0\b.*\bfailed=0\b",
                         got[n])]
    return not bad, bad


def known_count():
    if not os.path.exists(KNOWN):
        return 0
    return len(set(ln.split()[0] for ln in open(KNOWN)
                   if ln.strip() and not ln.startswith("#")))


# ---- the three ways ----------------------------------------------------


def run_provision(env, saved):
    restore_known(saved)
    close_masters(env)
    n0 = nruns()
    t0 = time.monotonic()
    p = pg(env, "provision", "--commit", "HEAD")
    dt = time.monotonic() - t0
    runs = runs_since(n0)
    ok, bad = recap_ok(p.stdout, [h[1] for h in HOSTS])
    if p.returncode or not ok or known_count() != N:
        raise RuntimeError("provision misbehaved: exit %d, hosts not ok %s,"
                           " %d hosts in known_hosts\n--- stdout\n%s\n"
                           "--- stderr\n%s" % (p.returncode, bad,
                                               known_count(), p.stdout,
                                               p.stderr))
    return dt, runs, p


def run_loop(env, saved, port, ssh_extra):
    """The seed's workflow, run the same way: a loop over new_hosts.txt,
    ssh-keyscan >> known_hosts and ansible-playbook --limit HOST each."""
    restore_known(saved)
    close_masters(env)
    lines = open(os.path.join(REPO, "proxmox", "new_hosts.txt")).read()
    pairs = [ln.split(",") for ln in lines.split() if ln]
    n0 = nruns()
    keyscan = 0.0
    t0 = time.monotonic()
    for ip, name in pairs:
        k0 = time.monotonic()
        ks = subprocess.run(["ssh-keyscan", "-p", str(port), ip],
                            capture_output=True, text=True, env=env)
        with open(KNOWN, "a") as f:
            f.write(ks.stdout)
        keyscan += time.monotonic() - k0
        p = subprocess.run(["ansible-playbook", "-i", "proxmox/k8s.ini",
                            "--limit", name, PLAYBOOK, "-e", ssh_extra],
                           cwd=REPO, capture_output=True, text=True, env=env,
                           timeout=600)
        ok, _ = recap_ok(p.stdout, [name])
        if p.returncode or not ok:
            raise RuntimeError("the loop failed on %s:\n%s%s"
                               % (name, p.stdout, p.stderr))
    dt = time.monotonic() - t0
    return dt, runs_since(n0), keyscan, len(pairs)


def run_direct(env, full_known, ssh_extra):
    """One ansible-playbook over the 10 hosts, keys already known: what
    provision's single run costs by itself."""
    restore_known(full_known)
    close_masters(env)
    n0 = nruns()
    t0 = time.monotonic()
    p = subprocess.run(["ansible-playbook", "-i", "proxmox/k8s.ini",
                        PLAYBOOK, "-e", ssh_extra], cwd=REPO,
                       capture_output=True, text=True, env=env, timeout=600)
    dt = time.monotonic() - t0
    ok, bad = recap_ok(p.stdout, [h[1] for h in HOSTS])
    if p.returncode or not ok:
        raise RuntimeError("the direct run failed (%s):\n%s%s"
                           % (bad, p.stdout, p.stderr))
    return dt, runs_since(n0)


def note(msg):
    print("# " + msg, file=sys.stderr, flush=True)


def med(xs):
    return statistics.median(xs)


def span(xs):
    return "  [%s]" % ", ".join("%.2f" % x for x in xs)


def main():
    load0 = os.getloadavg()[0]
    wrapper()
    ghome = guest_home()
    os.makedirs(os.path.dirname(KNOWN))
    with Sshds([ip for ip, _ in HOSTS]) as sshd, \
            VaultSim(VSIM, token=VTOKEN) as vsim, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10",
                       "--boot-ms", "0") as psim:
        env = make_env(sshd)
        try:
            setup(psim, vsim, sshd)
            note("pipeline (not timed)")
            p = pg(env, "pipeline")
            if p.returncode:
                raise RuntimeError("pipeline: exit %d\n%s%s"
                                   % (p.returncode, p.stdout, p.stderr))
            head = git("log", "-1", "--format=%s")
            nh = open(os.path.join(REPO, "proxmox", "new_hosts.txt")).read()
            if "[ansible bench]" not in head or len(nh.split()) != N:
                raise RuntimeError("pipeline: unexpected result: %r, %r"
                                   % (head, nh))
            saved = open(KNOWN).read() if os.path.exists(KNOWN) else None
            # the ssh options provision gives Ansible, as one -e JSON
            ssh_extra = json.dumps({"ansible_ssh_extra_args":
                                    "-o UserKnownHostsFile=%s -o "
                                    "StrictHostKeyChecking=yes" % KNOWN})
            # one untimed provision: a check, and warm caches for all
            note("provision, warm-up (not timed)")
            dt, _, first = run_provision(env, saved)
            note("  %.2f s" % dt)
            if os.environ.get("BENCH_VERBOSE") == "1":
                for line in (first.stdout + first.stderr).splitlines():
                    note("  | " + line)
            full_known = open(KNOWN).read()
            warn = first.stderr.count("host key taken by ssh-keyscan")
            prov, prov_ap, prov_n = [], [], []
            loop, loop_ap, loop_ks, loop_n = [], [], [], []
            direct = []
            for r in range(ROUNDS):
                note("round %d: provision" % (r + 1))
                dt, runs, _ = run_provision(env, saved)
                prov.append(dt)
                prov_n.append(len(runs))
                prov_ap.append(sum(e - s for s, e in runs))
                note("  %.2f s; round %d: per-host loop" % (dt, r + 1))
                dt, runs, ks, count = run_loop(env, saved, sshd.port,
                                               ssh_extra)
                loop.append(dt)
                loop_n.append(len(runs))
                loop_ap.append(sum(e - s for s, e in runs))
                loop_ks.append(ks)
                if count != N or known_count() != N:
                    raise RuntimeError("the loop saw %d hosts, recorded %d"
                                       % (count, known_count()))
                note("  %.2f s; round %d: one direct ansible-playbook"
                     % (dt, r + 1))
                dt, runs = run_direct(env, full_known, ssh_extra)
                direct.append(dt)
                note("  %.2f s" % dt)
        finally:
            close_masters(env)
    version = sh("ansible-playbook", "--version", cwd=D).splitlines()[0]
    rest = [a - b for a, b in zip(prov, prov_ap)]

    def row(label, xs):
        print("  %-48s %7.2f s  [%s]" % (label, med(xs), ", ".join(
            "%.2f" % x for x in xs)))

    def ratio(label, num, den):
        print("  %-48s %7.2fx  [each round: %s]" % (
            label, med(num) / med(den), ", ".join(
                "%.2f" % (a / b) for a, b in zip(num, den))))

    print("bench_provision: %d new hosts (sshd on 127.0.0.11..127.0.0.%d "
          "port %d), playbook: 1 task (command: true), gather_facts false"
          % (N, 10 + N, sshd.port))
    print("  %s, forks %s; %d CPUs, load %.1f -> %.1f; %d rounds: median "
          "[each round]" % (version, os.environ.get("ANSIBLE_FORKS",
                                                    "5 (default)"),
                            os.cpu_count(), load0, os.getloadavg()[0],
                            ROUNDS))
    print("  the hosts' login shell runs with HOME = %s" % ghome)
    row("pve-gitops provision --commit HEAD, total", prov)
    row("  of which its one ansible-playbook", prov_ap)
    row("  the rest (ssh wait, keyscan, cloud-init, git)", rest)
    row("one direct ansible-playbook over the 10 hosts", direct)
    row("seed's per-host loop, total", loop)
    row("  of which 10 ansible-playbook", loop_ap)
    row("  of which 10 ssh-keyscan", loop_ks)
    ratio("ratio loop / provision", loop, prov)
    ratio("ratio of their ansible-playbook time", loop_ap, prov_ap)
    print("  ansible-playbook processes started per round: provision %s, "
          "loop %s" % ("/".join(map(str, prov_n)),
                       "/".join(map(str, loop_n))))
    print("  provision's ssh-keyscan warnings: %d (one per host: no agent)"
          % warn)

try:
    main()
finally:
    W.cleanup()
