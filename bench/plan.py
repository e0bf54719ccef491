#!/usr/bin/python3
"""bench/plan.py - `pve-gitops plan` with N definitions against a
proxmox-sim that already holds those N VMs, as apply would have left them:
API calls (goal: 1), wall time (goal < 0.5 s for 1,000) and peak RSS
(goal <= 16 MiB).

The baseline, timed in this same run, is `pve-gitops validate` on the same
repository: the ratio is what asking Proxmox adds to reading and checking
the definitions. The floor adds to it the one request plan cannot do
without, GET /cluster/resources?type=vm, timed from here over its own TLS
connection to the same simulator (the certificate pinned by its SHA-256
fingerprint, as plan pins it) and read to the end but not parsed: plan's
ratio to the floor is what it spends beyond reading the files and
receiving the answer.

Usage: plan.py PVE_GITOPS PROXMOX_SIM [COUNT...]   (default 1000)
"""

import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import ssl
import tempfile
import time

SECRET = "b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e"
RUNS = 5
TIME = "/usr/bin/time"  # GNU time: -f %M is the peak RSS in KiB
# the VMs' vmids: above the template's 9000, so that any count fits
VMID_BASE = 10000


def write_repo(d, count, url="http://127.0.0.1:1", fingerprint=None):
    vms = os.path.join(d, "proxmox", "vms")
    os.makedirs(vms, exist_ok=True)
    for i in range(count):
        with open(os.path.join(vms, "vm-%04d.yaml" % i), "w") as f:
            f.write("name: vm-%04d\ntarget_node: node0%d\ncores: 2\n"
                    "memory: 2048\nclone: ubuntu24-template\n"
                    "ipconfig0: ip=10.%d.%d.%d/8,gw=10.0.0.1\n"
                    "ciuser: ops\nnetwork: {bridge: vmbr0}\n"
                    "disks: {scsi0: {size: 20G, storage: local-lvm}}\n"
                    % (i, 1 + i % 3, 1 + i // 62500, (i // 250) % 250,
                       1 + i % 250))
    cfg = "proxmox:\n  endpoint: %s\n" % url
    if fingerprint:
        cfg += "  tls_fingerprint: \"%s\"\n" % fingerprint
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write(cfg)


def start_sim(sim, *args):
    p = subprocess.Popen([sim, "--listen", "127.0.0.1:0",
                          "--token", "root@pam!b=" + SECRET] + list(args),
                         stdout=subprocess.PIPE, text=True)
    url = p.stdout.readline().split()[2]
    fp = p.stdout.readline().split()[1]
    return p, url, fp


def get_resources(url, fp):
    """Seconds for one GET /cluster/resources?type=vm over a new TLS
    connection, the server's certificate pinned by fingerprint fp (hex
    pairs with colons), the answer read to its last byte."""
    host, port = url.split("//")[1].split("/")[0].rsplit(":", 1)
    want = fp.replace(":", "").lower()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # pinned below, before any request
    t0 = time.monotonic()
    c = http.client.HTTPSConnection(host, int(port), context=ctx)
    c.connect()
    got = hashlib.sha256(c.sock.getpeercert(binary_form=True)).hexdigest()
    if got != want:
        raise RuntimeError("the simulator's certificate is not the one it "
                           "printed")
    c.request("GET", "/api2/json/cluster/resources?type=vm", headers={
        "Authorization": "PVEAPIToken=root@pam!b=" + SECRET})
    r = c.getresponse()
    body = r.read()
    dt = time.monotonic() - t0
    c.close()
    if r.status != 200 or not body:
        raise RuntimeError("GET /cluster/resources: %d" % r.status)
    return dt


def timed(argv, env):
    """Run argv; return (seconds, peak RSS in KiB, stdout).

    The peak RSS is the program's own, as /usr/bin/time reports it: the
    kernel carries a process's high-water mark over execve (and a fork or
    vfork of this harness starts with the harness's), so wait4's ru_maxrss
    of a child spawned from here is at least Python's. /usr/bin/time is
    small; the program it forks and execs starts from its mark, not ours.
    """
    fd, rss_file = tempfile.mkstemp(prefix="bench-plan-rss.")
    os.close(fd)
    t0 = time.monotonic()
    p = subprocess.Popen([TIME, "-q", "-f", "%M", "-o", rss_file] + argv,
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    status = p.wait()
    dt = time.monotonic() - t0
    with open(rss_file) as f:
        kib = int(f.read().split()[-1])
    os.unlink(rss_file)
    if status != 0:
        raise RuntimeError("%s failed" % argv)
    return dt, kib, out


def bench(binary, sim, count):
    work = tempfile.mkdtemp(prefix="bench-plan.")
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!b",
               PM_API_TOKEN_SECRET=SECRET)
    try:
        # 1. what apply would create: the tags (with digests) of each VM
        proc, url, fp = start_sim(sim)
        write_repo(work, count, url, fp)
        _, _, out = timed([binary, "-C", work, "--json", "plan"], env)
        proc.terminate()
        proc.wait()
        items = json.loads(out)["items"]
        topo = ["nodes:"]
        for n in (1, 2, 3):
            topo += ["  - name: node0%d" % n, "    storages:",
                     "      - {name: local-lvm, capacity: 100T}"]
        topo += ["templates:",
                 "  - {vmid: 9000, name: ubuntu24-template, node: node01,"
                 " disks: {scsi0: {storage: local-lvm, size: 3G}}}",
                 "vms:"]
        for k, it in enumerate(items):
            tags = [c["after"] for c in it["changes"] if c["key"] == "tags"]
            topo.append("  - {vmid: %d, name: %s, node: %s, status: running,"
                        " config: {tags: '%s'}}"
                        % (VMID_BASE + k, it["name"], it["node"], tags[0]))
        with open(os.path.join(work, "topology.yaml"), "w") as f:
            f.write("\n".join(topo) + "\n")

        # 2. the cluster as apply left it; plan should have nothing to do
        proc, url, fp = start_sim(sim, "--topology",
                                  os.path.join(work, "topology.yaml"))
        write_repo(work, 0, url, fp)
        times, rss, calls, summary = [], [], None, None
        for _ in range(RUNS):
            dt, kb, out = timed([binary, "-C", work, "--json", "plan"], env)
            plan = json.loads(out)
            times.append(dt)
            rss.append(kb)
            calls, summary = plan["api_calls"], plan["summary"]
        base = [timed([binary, "-C", work, "validate"], env)[0]
                for _ in range(RUNS)]
        get = [get_resources(url, fp) for _ in range(RUNS)]
        proc.terminate()
        proc.wait()
        t, b = statistics.median(times), statistics.median(base)
        floor = b + statistics.median(get)
        print("%6d definitions  plan %7.3f s  validate baseline %7.3f s  "
              "ratio %5.2fx  floor (+ one GET) %7.3f s  ratio %5.2fx  "
              "API calls %d  peak RSS %6.1f MiB  changes %s"
              % (count, t, b, t / b, floor, t / floor, calls,
                 max(rss) / 1024.0,
                 "none" if not any(summary.values()) else summary))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    counts = [int(c) for c in sys.argv[3:]] or [1000]
    if not os.access(TIME, os.X_OK):
        sys.exit("bench_plan: %s (GNU time) is needed to measure the peak "
                 "RSS of plan itself" % TIME)
    print("bench_plan: median of %d runs of 'pve-gitops --json plan' "
          "against proxmox-sim over HTTPS (pinned certificate)" % RUNS)
    for c in counts:
        bench(sys.argv[1], sys.argv[2], c)


main()
