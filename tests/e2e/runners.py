#!/usr/bin/python3
"""Several runners on one repository, end to end on loopback: real git (a
bare repository as the remote, one clone per runner), proxmox-sim, real
ansible-playbook and real sshd servers on 127.0.0.x for the new VMs.

- two `watch` processes on two clones and a `run --push` from a third, all
  started at once on one tagged commit: one VM, one automated commit, one
  playbook run (the lease in the git server, refs/pve-gitops/lease);
- the same with the holder killed (SIGKILL) in the middle of its apply:
  the next runner takes the lease over after it expired and finishes,
  without a second VM or a second automated commit;
- three tagged commits pushed without a run: one `run --push` provisions
  the three commits' hosts, in commit order (the progress marker,
  refs/pve-gitops/done);
- `watch --once` finishes stage two of the automated commit it just made;
- a server that refuses refs/pve-gitops/* (a pre-receive hook): exit 1 at
  once with its reason, nothing applied, and the next run does the commit;
- a lease held by another, not expired, with lease_wait_seconds 0: exit 1
  naming the holder, and nothing applied or pushed;
- a `watch` waiting for that lease stops within 2 s of SIGTERM, exits 0
  ("watch: stopped"), and leaves the other's lease as it was.

Usage: runners.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR [STAGE,...]
(STAGE: at_once, killed, three_commits, watch_once, refused, held; all by
default,
as ctest runs it; the others for working on one case.)
"""

import os
import re
import signal
import subprocess
import sys
import time

import requests
import urllib3

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402

urllib3.disable_warnings()
BIN, PSIM, SRC = sys.argv[1:4]
STAGES = sys.argv[4].split(",") if len(sys.argv) > 4 else None
SECRET = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
t = Tap()
W = e2elib.Workdir("pve-gitops-runners.", "dev")
D, DEV, REMOTE = W.dir, W.repo, W.remote
RUNS = os.path.join(D, "runs.log")
TTL = 4


sh, git, vm_file, clone = W.sh, W.git, W.vm_file, W.clone


def commit(msg):
    W.commit(msg, push=False)
    sh("git", "pull", "-q", "--rebase", "origin", "main", check=False)
    git("push", "-q", "origin", "HEAD:main")


def setup(psim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, os.path.join(D, "known_hosts"))
    # the example's runner: section, shorter
    text = open(W.config).read()
    for key, want in (("lease_ttl_seconds", TTL), ("lease_wait_seconds", 120)):
        text, n = re.subn(r"(?m)^  %s: \d+" % key, "  %s: %d" % (key, want),
                          text)
        if n != 1:
            raise RuntimeError("the example config has no runner.%s" % key)
    open(W.config, "w").write(text)
    # a direct playbook that records each run and its hosts
    W.record_playbook("haproxy", RUNS)
    commit("chore: the infrastructure repository")
    # everything so far is done: the runners start from here
    git("update-ref", "refs/pve-gitops/done", "main", cwd=REMOTE)
    return W.env(sshd, SECRET)


def start(env, d, *args):
    out = open(os.path.join(D, "%s-%d.out" % (os.path.basename(d),
                                               time.monotonic_ns())), "w+")
    p = subprocess.Popen([BIN, "-C", d, "--no-color"] + list(args),
                         stdout=out, stderr=subprocess.STDOUT, env=env,
                         stdin=subprocess.DEVNULL)
    p.out = out
    return p


def finish(p, timeout=300):
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    p.out.seek(0)
    return rc, p.out.read()


def guests(sim, name=None):
    r = requests.get(sim.api("/cluster/resources"), params={"type": "vm"},
                     headers=AUTH, verify=False, timeout=30)
    return [v for v in r.json()["data"] if not v.get("template") and
            (name is None or v.get("name") == name)]


def runs():
    return open(RUNS).read().split() if os.path.exists(RUNS) else []


def remote_log():
    return W.remote_log("--first-parent")


def automated(log=None):
    return [s for s in (log or remote_log())
            if s.startswith("Auto-update Ansible inventory")]


def marker():
    return sh("git", "for-each-ref", "--format=%(objectname)",
              "refs/pve-gitops/done", cwd=REMOTE)


def lease():
    return sh("git", "for-each-ref", "--format=%(objectname)",
              "refs/pve-gitops/lease", cwd=REMOTE)


def settled(name):
    t.eq(marker(), git("rev-parse", "main", cwd=REMOTE),
         "%s: the marker is at the remote's head" % name)
    t.eq(lease(), "", "%s: the lease was released" % name)


def stage_three_at_once(env, sim, w1, w2, r3):
    vm_file("haproxy-a", "127.0.0.2")
    commit("feat: a balancer [ansible haproxy]")
    n_auto = len(automated())
    git("pull", "-q", "origin", "main", cwd=r3)
    ps = [start(env, w1, "watch", "--remote", REMOTE, "--interval", "1"),
          start(env, w2, "watch", "--remote", REMOTE, "--interval", "1"),
          start(env, r3, "run", "--push")]
    rc, out = finish(ps[2])
    t.eq(rc, 0, "at once: run --push exits 0")
    # the watchers see the marker at the head on their next passes
    ok = e2elib.wait_for(
        lambda: marker() == git("rev-parse", "main", cwd=REMOTE)
        and not lease(), 120)
    time.sleep(3)
    texts = [out]
    for p in ps[:2]:
        p.send_signal(signal.SIGTERM)
        rc, text = finish(p)
        t.ok(rc == 0 and "watch: stopped" in text, "at once: a watch stops "
             "cleanly on SIGTERM", text[-2000:])
        texts.append(text)
    t.ok(ok, "at once: the marker reached the head", "\n".join(texts))
    t.eq(len(guests(sim, "haproxy-a")), 1, "at once: one VM")
    t.eq(len(automated()) - n_auto, 1, "at once: one automated commit",
         ) or print("#", remote_log())
    t.eq(runs(), ["haproxy-a"], "at once: one playbook run") or \
        print("#", "\n".join(texts)[-4000:])
    t.ok(sum("pipeline: " in x for x in texts) == 1,
         "at once: one runner did stage one", "\n".join(texts)[-4000:])
    t.ok(any("held by" in x and "waiting up to 120 s" in x for x in texts),
         "at once: a runner waited for the lease, saying who held it",
         "\n".join(texts)[-4000:])
    settled("at once")


def stage_killed(env, sim, w1, w2, r3):
    vm_file("haproxy-b", "127.0.0.3")
    commit("feat: another balancer [ansible haproxy]")
    n_auto, n_runs = len(automated()), len(runs())
    git("pull", "-q", "origin", "main", cwd=r3)
    victim = start(env, r3, "run", "--push")
    seen = e2elib.wait_for(lambda: guests(sim, "haproxy-b"), 120)
    held = lease()
    victim.send_signal(signal.SIGKILL)
    rc, vout = finish(victim)
    t.ok(seen and held, "killed: SIGKILLed while holding the lease, its VM "
         "being made", vout[-2000:])
    t.ok(lease() != "", "killed: the lease stays behind")
    ps = [start(env, w1, "watch", "--remote", REMOTE, "--once"),
          start(env, w2, "run", "--push")]
    res = [finish(p) for p in ps]
    text = "\n".join(x for _, x in res)
    t.eq([rc for rc, _ in res], [0, 0], "killed: the next runners exit 0") \
        or print("#", text[-4000:])
    # whichever of the two polls first after the expiry takes it over: the
    # watch names the remote by its URL, run by its name
    t.ok(re.search(r"took over the lease on (%s|origin) from"
                   % re.escape(REMOTE), text),
         "killed: one took the lease over after it expired", text[-3000:])
    t.eq(len(guests(sim, "haproxy-b")), 1, "killed: no duplicate VM")
    t.eq(len(automated()) - n_auto, 1, "killed: no duplicate automated "
         "commit") or print("#", remote_log())
    t.eq(runs()[n_runs:], ["haproxy-b"], "killed: the playbook ran once")
    settled("killed")


def stage_three_commits(env, sim, r):
    n_auto, n_runs = len(automated()), len(runs())
    for i, ip in ((1, "127.0.0.4"), (2, "127.0.0.5"), (3, "127.0.0.6")):
        vm_file("haproxy-c%d" % i, ip)
        commit("feat: balancer c%d [ansible haproxy]" % i)
    git("pull", "-q", "origin", "main", cwd=r)
    rc, out = finish(start(env, r, "run", "--push"))
    t.eq(rc, 0, "three commits: one run --push exits 0") or \
        print("#", out[-4000:])
    t.eq(runs()[n_runs:], ["haproxy-c1", "haproxy-c2", "haproxy-c3"],
         "three commits: each commit's host provisioned, in commit order")
    t.eq(len(automated()) - n_auto, 3, "three commits: an automated commit "
         "for each") or print("#", remote_log())
    t.eq(sum(len(guests(sim, "haproxy-c%d" % i)) for i in (1, 2, 3)), 3,
         "three commits: three VMs")
    t.eq(git("rev-parse", "HEAD", cwd=r), git("rev-parse", "main",
                                                cwd=REMOTE),
         "three commits: the clone is left at the last pushed commit")
    settled("three commits")


def stage_watch_once(env, w):
    n_runs = len(runs())
    vm_file("haproxy-d", "127.0.0.7")
    commit("feat: balancer d [ansible haproxy]")
    rc, out = finish(start(env, w, "watch", "--remote", REMOTE, "--once"))
    t.eq(rc, 0, "watch --once exits 0") or print("#", out[-3000:])
    t.eq(runs()[n_runs:], ["haproxy-d"], "watch --once: stage two of the "
         "automated commit it just made, in the same invocation")
    t.eq(remote_log()[0], "Auto-update Ansible inventory [ansible haproxy]",
         "watch --once: its automated commit is on the remote")
    settled("watch --once")


def stage_refused(env, sim, r):
    """The server refuses refs/pve-gitops/* (a hook, as a protection rule
    or credentials without the right would): a clear error at once."""
    hook = os.path.join(REMOTE, "hooks", "pre-receive")
    with open(hook, "w") as f:
        f.write("#!/bin/sh\nwhile read old new ref; do\n"
                "  case $ref in refs/pve-gitops/*)\n"
                "    echo 'refs/pve-gitops/ is protected' >&2; exit 1;;\n"
                "  esac\ndone\n")
    os.chmod(hook, 0o755)
    vm_file("haproxy-f", "127.0.0.9")
    commit("feat: balancer f [ansible haproxy]")
    git("pull", "-q", "origin", "main", cwd=r)
    n_log = len(open(sim.log).read().splitlines())
    t0 = time.monotonic()
    rc, out = finish(start(env, r, "run", "--push"), timeout=60)
    took = time.monotonic() - t0
    os.unlink(hook)
    t.ok(rc == 1 and "cannot push refs/pve-gitops/lease to " in out and
         "the remote refused it: [remote rejected] (pre-receive hook "
         "declined)" in out and "refs/pve-gitops/ is protected" in out and
         "the runner's git credentials must be allowed to push "
         "refs/pve-gitops/*" in out and took < 30,
         "refused: exit 1 at once (%.1f s), naming the ref and the "
         "server's reason" % took, out[-2000:])
    t.eq(len(open(sim.log).read().splitlines()), n_log,
         "refused: not one request reached Proxmox")
    t.eq(lease(), "", "refused: no lease")
    # the commit is left for the next run: the marker stays before it
    rc, out = finish(start(env, r, "run", "--push"))
    t.eq(rc, 0, "refused: the next run, allowed, does the commit") or \
        print("#", out[-3000:])
    settled("refused")


def stage_held(env, sim, r):
    cfg = W.config
    text = open(cfg).read()
    open(cfg, "w").write(text.replace("lease_wait_seconds: 120",
                                      "lease_wait_seconds: 0"))
    vm_file("haproxy-e", "127.0.0.8")
    commit("feat: balancer e [ansible haproxy]")
    tree = sh("git", "mktree", cwd=REMOTE)
    expires = int(time.time()) + 600
    oid = sh("git", "-c", "user.name=x", "-c", "user.email=x@x",
             "commit-tree", tree, "-m", "pve-gitops lease\n\nholder: "
             "elsewhere.example 4242 00c0ffee\nexpires: %d" % expires,
             cwd=REMOTE)
    git("update-ref", "refs/pve-gitops/lease", oid, cwd=REMOTE)
    head = git("rev-parse", "main", cwd=REMOTE)
    git("pull", "-q", "origin", "main", cwd=r)
    n_log = len(open(sim.log).read().splitlines())
    rc, out = finish(start(env, r, "run", "--push"))
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    t.ok(rc == 1 and "held by elsewhere.example 4242 00c0ffee until %s"
         % until in out, "held: exit 1 naming the holder and its expiry",
         out[-2000:])
    t.eq(len(open(sim.log).read().splitlines()), n_log,
         "held: not one request reached Proxmox")
    t.eq(guests(sim, "haproxy-e"), [], "held: no VM")
    t.eq(git("rev-parse", "main", cwd=REMOTE), head,
         "held: nothing pushed")
    t.eq(lease(), oid, "held: the other's lease is untouched")
    return oid


def stage_held_watch(env, sim, w, oid):
    """A watch waiting for the other's lease, stopped by SIGTERM."""
    cfg = W.config
    text = open(cfg).read()
    open(cfg, "w").write(text.replace("lease_wait_seconds: 0",
                                      "lease_wait_seconds: 120"))
    commit("chore: wait for the lease")
    head = git("rev-parse", "main", cwd=REMOTE)
    git("fetch", "-q", "origin", cwd=w)
    git("reset", "-q", "--hard", "origin/main", cwd=w)
    n_log = len(open(sim.log).read().splitlines())
    p = start(env, w, "watch", "--remote", REMOTE, "--interval", "1")

    def waiting():
        p.out.seek(0)
        return "waiting up to 120 s" in p.out.read() or p.poll() is not None
    t.ok(e2elib.wait_for(waiting, 60) and p.poll() is None,
         "held, watch: it waits for the other's lease")
    time.sleep(0.5)  # in the pause between two looks at the lease
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc, out = finish(p, timeout=10)
    took = time.monotonic() - t0
    t.ok(took < 2, "held, watch: stopped %.2f s after SIGTERM" % took)
    t.ok(rc == 0 and "watch: stopped" in out and
         "stopped while waiting for the lease" in out,
         "held, watch: exit 0, saying it stopped while waiting", out[-2000:])
    t.eq(lease(), oid, "held, watch: the other's lease is untouched")
    t.eq(git("rev-parse", "main", cwd=REMOTE), head,
         "held, watch: nothing pushed")
    t.eq(len(open(sim.log).read().splitlines()), n_log,
         "held, watch: not one request reached Proxmox")


def main():
    with Sshds(["127.0.0.%d" % i for i in range(2, 10)]) as sshd, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10,qmclone=300",
                       "--boot-ms", "0") as psim:
        env = setup(psim, sshd)
        w1, w2, r3 = clone("w1"), clone("w2"), clone("r3")
        if not STAGES or "at_once" in STAGES:
            stage_three_at_once(env, psim, w1, w2, r3)
        if not STAGES or "killed" in STAGES:
            stage_killed(env, psim, w1, w2, r3)
        if not STAGES or "three_commits" in STAGES:
            stage_three_commits(env, psim, w2)
        if not STAGES or "watch_once" in STAGES:
            stage_watch_once(env, w1)
        if not STAGES or "refused" in STAGES:
            stage_refused(env, psim, w2)
        if not STAGES or "held" in STAGES:
            oid = stage_held(env, psim, w2)
            stage_held_watch(env, psim, w1, oid)
    W.cleanup()
    t.done()


main()
