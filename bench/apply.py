#!/usr/bin/python3
"""bench/apply.py - `pve-gitops apply` of N new VMs against proxmox-sim
with Proxmox-like task times, as a ratio to the critical path: the task
time per VM (clone + resize + start) times the VMs each worker must take,
ceil(N / P). Three figures:

  1. 50 clones at --parallel 8, clone 0.3 s to 5 s + resize 0.1 s +
     start 0.2 s: the ratio to the critical path at each clone time;
  2. clone 1 s at 10, 50 and 200 VMs (1,000 with --big): the same ratio;
  3. apply's own cost with 0-ms tasks (and no resize): ms per VM at 100 and
     1,000 VMs (--parallel 8) and the exponent of its growth, twice: the
     wall time (which holds the simulator's work too: it answers every
     request and lists every VM, on the same CPUs) and apply's own CPU
     time (user + system of the apply process, from wait4), which is the
     figure of apply's own cost.

With --baseline OLD_PVE_GITOPS, every figure is measured for OLD too, in
the same run, and the ratio new / old printed next to it. A figure, not a
test: nothing fails on a slow run.

Usage: apply.py PVE_GITOPS PROXMOX_SIM [--baseline OLD] [--big] [--quick]
                [--own-cost]   (--own-cost: figure 3 only)
"""

import argparse
import math
import os
import shutil
import subprocess
import tempfile
import time

SECRET = "c5d6e7f8-a9b0-4c1d-8e2f-3a4b5c6d7e8f"
RESIZE, START = 0.1, 0.2
PARALLEL = 8


def run(binary, sim, count, clone, resize, start, parallel=PARALLEL):
    """Wall time of one apply of count new VMs (a fresh simulator), and
    the CPU time (user + system) of the apply process."""
    work = tempfile.mkdtemp(prefix="bench-apply.")
    spec = "0,qmclone=%d,resize=%d,qmstart=%d" % (
        clone * 1000, resize * 1000, start * 1000)
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        # storage for 1,000 clones; a template on each node
        f.write("nodes:\n")
        for n in range(1, 4):
            f.write("  - name: node0%d\n    storages:\n"
                    "      - {name: local-lvm, capacity: 100T}\n" % n)
        f.write("templates:\n")
        for n in range(1, 4):
            f.write("  - {vmid: %d, name: ubuntu24-template, node: node0%d,"
                    " disks: {scsi0: {storage: local-lvm, size: 3584M}}}\n"
                    % (8999 + n, n))
    p = subprocess.Popen([sim, "--listen", "127.0.0.1:0", "--token",
                          "root@pam!b=" + SECRET, "--task-ms", spec,
                          "--topology", topo],
                         stdout=subprocess.PIPE, text=True)
    url = p.stdout.readline().split()[2]
    fp = p.stdout.readline().split()[1]
    try:
        vms = os.path.join(work, "proxmox", "vms")
        os.makedirs(vms)
        for i in range(count):
            with open(os.path.join(vms, "b%04d.yaml" % i), "w") as f:
                f.write("name: b%04d\ntarget_node: node0%d\ncores: 2\n"
                        "memory: 2048\nclone: ubuntu24-template\n"
                        "ipconfig0: ip=10.%d.%d.%d/8,gw=10.255.255.254\n"
                        % (i, 1 + i % 3, 1 + i // 62500, i // 250 % 250,
                           1 + i % 250))
                if resize:
                    f.write("disks: {scsi0: {size: 20G, storage: "
                            "local-lvm}}\n")
        with open(os.path.join(work, "pve-gitops.yaml"), "w") as f:
            f.write("proxmox:\n  endpoint: %s\n  tls_fingerprint: \"%s\"\n"
                    "  per_node_limit: %d\n" % (url, fp, parallel))
        env = dict(os.environ, PM_API_TOKEN_ID="root@pam!b",
                   PM_API_TOKEN_SECRET=SECRET)
        t0 = time.monotonic()
        r = subprocess.Popen([binary, "-C", work, "-q", "apply",
                              "--auto-approve", "--parallel", str(parallel)],
                             env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        err = r.stderr.read()
        _, status, ru = os.wait4(r.pid, 0)
        dt = time.monotonic() - t0
        r.returncode = os.waitstatus_to_exitcode(status)
        if r.returncode:
            raise RuntimeError(err)
        return dt, ru.ru_utime + ru.ru_stime
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(work, ignore_errors=True)


def critical(count, clone, parallel=PARALLEL):
    return math.ceil(count / parallel) * (clone + RESIZE + START)


def row(label, bins, sim, count, clone, resize, start):
    """One line: per binary its wall time and ratio to the critical path,
    then new / old."""
    ideal = critical(count, clone) if clone else None
    cells, walls, cpus = [], [], []
    for name, b in bins:
        dt, cpu = run(b, sim, count, clone, resize, start)
        walls.append(dt)
        cpus.append(cpu)
        if ideal:
            cells.append("%s %6.2f s %.3fx" % (name, dt, dt / ideal))
        else:
            cells.append("%s wall %6.2f s %5.2f ms/VM, CPU %5.2f ms/VM"
                         % (name, dt, dt * 1000 / count, cpu * 1000 / count))
    line = "  %-22s" % label
    if ideal:
        line += " path %6.2f s  " % ideal
    line += "  ".join(cells)
    if len(walls) == 2:
        line += "  new/old %.3f" % (walls[0] / walls[1])
        if not ideal:
            line += " (CPU %.3f)" % (cpus[0] / cpus[1])
    print(line, flush=True)
    return walls, cpus


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("sim")
    ap.add_argument("--baseline")
    ap.add_argument("--big", action="store_true",
                    help="also 1,000 VMs at clone 1 s (about 3 min each)")
    ap.add_argument("--quick", action="store_true",
                    help="clone times 0.3 and 1 s only")
    ap.add_argument("--own-cost", action="store_true",
                    help="figure 3 only: apply's own cost, 0-ms tasks")
    a = ap.parse_args()
    bins = [("new", a.binary)]
    if a.baseline:
        bins.append(("old", a.baseline))
    clones = [0.3, 1.0] if a.quick else [0.3, 1.0, 2.0, 5.0]
    if a.own_cost:
        own_cost(bins, a.sim)
        return
    print("bench_apply 1: 50 clones, --parallel %d, clone C + resize %.1f s"
          " + start %.1f s; wall, ratio to the critical path" %
          (PARALLEL, RESIZE, START))
    for c in clones:
        row("clone %.1f s" % c, bins, a.sim, 50, c, RESIZE, START)
    print("bench_apply 2: clone 1 s + resize + start, --parallel %d, by VM "
          "count" % PARALLEL)
    for n in [10, 200] + ([1000] if a.big else []):
        row("%d VMs" % n, bins, a.sim, n, 1.0, RESIZE, START)
    own_cost(bins, a.sim)


def own_cost(bins, sim):
    print("bench_apply 3: apply's own cost, 0-ms tasks, --parallel %d"
          % PARALLEL)
    small = row("100 VMs", bins, sim, 100, 0, 0, 0)
    large = row("1000 VMs", bins, sim, 1000, 0, 0, 0)
    for i, (name, _) in enumerate(bins):
        print("  %s: growth exponent 100 -> 1000 VMs: wall %.2f, CPU %.2f" %
              (name, math.log(large[0][i] / small[0][i]) / math.log(10),
               math.log(large[1][i] / small[1][i]) / math.log(10)))


main()
