#!/usr/bin/python3
"""bench/apply.py - `pve-gitops apply` of N new VMs against proxmox-sim
with Proxmox-like task times (clone 2 s, start 0.5 s, the rest instant),
at --parallel 1, 4 and 8, as a ratio to the ideal critical path: the
task time per VM times the VMs each worker must take, ceil(N / P).

Usage: apply.py PVE_GITOPS PROXMOX_SIM [COUNT] [PARALLEL...]
"""

import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

SECRET = "c5d6e7f8-a9b0-4c1d-8e2f-3a4b5c6d7e8f"
CLONE, START = 2.0, 0.5


def run(binary, sim, count, parallel):
    work = tempfile.mkdtemp(prefix="bench-apply.")
    p = subprocess.Popen([sim, "--listen", "127.0.0.1:0", "--token",
                          "root@pam!b=" + SECRET, "--task-ms",
                          "0,qmclone=%d,qmstart=%d" % (CLONE * 1000,
                                                       START * 1000)],
                         stdout=subprocess.PIPE, text=True)
    url = p.stdout.readline().split()[2]
    fp = p.stdout.readline().split()[1]
    try:
        vms = os.path.join(work, "proxmox", "vms")
        os.makedirs(vms)
        for i in range(count):
            with open(os.path.join(vms, "b%03d.yaml" % i), "w") as f:
                f.write("name: b%03d\ntarget_node: node0%d\ncores: 2\n"
                        "memory: 2048\nclone: ubuntu24-template\n"
                        "ipconfig0: ip=10.1.%d.%d/16,gw=10.1.255.254\n"
                        "disks: {scsi0: {size: 20G, storage: local-lvm}}\n"
                        % (i, 1 + i % 3, i // 250, 1 + i % 250))
        with open(os.path.join(work, "pve-gitops.yaml"), "w") as f:
            f.write("proxmox:\n  endpoint: %s\n  tls_fingerprint: \"%s\"\n"
                    "  per_node_limit: 8\n" % (url, fp))
        env = dict(os.environ, PM_API_TOKEN_ID="root@pam!b",
                   PM_API_TOKEN_SECRET=SECRET)
        t0 = time.monotonic()
        r = subprocess.run([binary, "-C", work, "-q", "apply",
                            "--auto-approve", "--parallel", str(parallel)],
                           env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        dt = time.monotonic() - t0
        if r.returncode:
            raise RuntimeError(r.stderr)
        return dt
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    binary, sim = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    levels = [int(x) for x in sys.argv[4:]] or [1, 4, 8]
    print("bench_apply: %d new VMs, clone %.1f s + start %.1f s per VM "
          "(proxmox-sim task times)" % (count, CLONE, START))
    for par in levels:
        ideal = math.ceil(count / par) * (CLONE + START)
        dt = run(binary, sim, count, par)
        print("  --parallel %d  wall %6.2f s  ideal %6.2f s  ratio %.3fx"
              % (par, dt, ideal, dt / ideal))


main()
