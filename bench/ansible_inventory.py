#!/usr/bin/python3
"""bench/ansible_inventory.py - the same proxmox-sim holding N VMs, listed
by Debian's ansible-inventory with community.general's Proxmox inventory
plugin (`ansible-inventory -i proxmox.yml --list`, without and with
want_facts: true) and by `pve-gitops inventory --list --live`: wall time
(median of RUNS) and the requests each made (the sim's --request-log).

What each one needs to know is not the same: the plugin without facts
reads the node lists only (no addresses); with want_facts it reads every
guest's status, config, snapshots and agent, which is what it takes to
give it addresses; pve-gitops reads /cluster/resources and each managed
VM's config (its address from ipconfig0, the agent only for DHCP).

Usage: ansible_inventory.py PVE_GITOPS PROXMOX_SIM [COUNT...]
       (default 100 500)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
from simlib import make_cert  # noqa: E402

SECRET = "c0ffee00-1234-4abc-8def-0123456789ab"
RUNS = 3
NODES = ("node01", "node02", "node03")


def ip(i):
    return "10.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, 1 + i % 250)


def write_topology(path, count):
    topo = ["nodes:"]
    for n in NODES:
        topo += ["  - name: %s" % n, "    storages:",
                 "      - {name: local-lvm, capacity: 100T}"]
    topo += ["templates:",
             "  - {vmid: 9000, name: ubuntu24-template, node: node01,"
             " disks: {scsi0: {storage: local-lvm, size: 3G}}}", "vms:"]
    for i in range(count):
        topo.append("  - {vmid: %d, name: vm-%04d, node: %s, status: "
                    "running, config: {tags: pve-gitops, ciuser: ops, "
                    "ipconfig0: 'ip=%s/8,gw=10.0.0.1'}}"
                    % (1000 + i, i, NODES[i % 3], ip(i)))
    with open(path, "w") as f:
        f.write("\n".join(topo) + "\n")


def write_repo(d, count, url, fingerprint):
    vms = os.path.join(d, "proxmox", "vms")
    os.makedirs(vms, exist_ok=True)
    for i in range(count):
        with open(os.path.join(vms, "vm-%04d.yaml" % i), "w") as f:
            f.write("name: vm-%04d\ntarget_node: %s\ncores: 2\n"
                    "memory: 2048\nclone: ubuntu24-template\n"
                    "ipconfig0: ip=%s/8,gw=10.0.0.1\n"
                    "ciuser: ops\nnetwork: {bridge: vmbr0}\n"
                    "disks: {scsi0: {size: 20G, storage: local-lvm}}\n"
                    % (i, NODES[i % 3], ip(i)))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("proxmox:\n  endpoint: %s\n  tls_fingerprint: \"%s\"\n"
                % (url, fingerprint))


def write_plugin(d, url, facts):
    path = os.path.join(d, "facts" if facts else "plain", "proxmox.yml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("plugin: community.general.proxmox\nurl: %s\n"
                "user: root@pam\ntoken_id: b\nvalidate_certs: true\n" % url)
        if facts:
            f.write("want_facts: true\ncompose:\n  ansible_host: "
                    "proxmox_ipconfig0.ip | default('') "
                    "| regex_replace('/.*$', '')\n")
    return path


def log_len(log):
    with open(log) as f:
        return sum(1 for line in f if line.strip())


def timed(argv, env, log, cwd):
    """Run argv; return (seconds, requests logged, parsed stdout)."""
    before = log_len(log)
    t0 = time.monotonic()
    p = subprocess.run(argv, env=env, capture_output=True, text=True,
                       timeout=1800, stdin=subprocess.DEVNULL, cwd=cwd)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (argv, p.stderr[-2000:]))
    return dt, log_len(log) - before, json.loads(p.stdout)


def hosts_with_address(inv):
    return sum(1 for n, v in inv.get("_meta", {}).get("hostvars", {}).items()
               if n.startswith("vm-") and v.get("ansible_host"))


def bench(binary, sim, count):
    work = tempfile.mkdtemp(prefix="bench-ansible-inventory.")
    proc = None
    try:
        cert, key = make_cert(work)
        topo = os.path.join(work, "topology.yaml")
        log = os.path.join(work, "requests.jsonl")
        write_topology(topo, count)
        proc = subprocess.Popen(
            [sim, "--listen", "127.0.0.1:0", "--tls-cert", cert,
             "--tls-key", key, "--topology", topo, "--request-log", log,
             "--token", "root@pam!b=" + SECRET], stdout=subprocess.PIPE,
            text=True)
        url = proc.stdout.readline().split()[2]
        fp = proc.stdout.readline().split()[1]
        repo = os.path.join(work, "repo")
        write_repo(repo, count, url, fp)
        home = os.path.join(work, "home")
        os.makedirs(home)
        ansible_env = {
            "PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "TMPDIR": work, "REQUESTS_CA_BUNDLE": cert,
            "PROXMOX_TOKEN_SECRET": SECRET,
            "ANSIBLE_CONFIG": os.path.join(work, "ansible.cfg"),
            "ANSIBLE_INVENTORY_ENABLED": "community.general.proxmox",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        }
        with open(ansible_env["ANSIBLE_CONFIG"], "w") as f:
            f.write("[defaults]\n")
        gitops_env = {"PATH": "/usr/bin:/bin", "HOME": home,
                      "LANG": "C.UTF-8", "PM_API_TOKEN_ID": "root@pam!b",
                      "PM_API_TOKEN_SECRET": SECRET}
        runs = {
            "pve-gitops inventory --list --live":
                ([binary, "-C", repo, "inventory", "--list", "--live"],
                 gitops_env),
            "ansible-inventory (no facts)":
                (["ansible-inventory", "-i",
                  write_plugin(work, url, False), "--list"], ansible_env),
            "ansible-inventory (want_facts)":
                (["ansible-inventory", "-i",
                  write_plugin(work, url, True), "--list"], ansible_env),
        }
        figures = {}
        for name, (argv, env) in runs.items():
            times, reqs, inv = [], None, None
            try:
                for _ in range(RUNS):
                    dt, reqs, inv = timed(argv, env, log, work)
                    times.append(dt)
            except RuntimeError as e:
                print("%5d VMs  %-36s failed: %s" % (count, name, " ".join(
                    str(e).split())[-300:]))
                continue
            listed = len([h for h in inv.get("_meta", {}).get(
                "hostvars", {}) if h.startswith("vm-")]) or len(
                {h for g, v in inv.items() if g != "_meta"
                 for h in v.get("hosts", []) if h.startswith("vm-")})
            figures[name] = (statistics.median(times), reqs, listed,
                             hosts_with_address(inv))
        base_t, base_r = figures.get("pve-gitops inventory --list --live",
                                     (None, None))[:2]
        if not base_t:
            return
        for name, (t, r, listed, addr) in figures.items():
            print("%5d VMs  %-36s %7.3f s (%5.2fx)  %6d requests "
                  "(%6.2fx)  %d listed, %d with an address"
                  % (count, name, t, t / base_t, r, r / base_r, listed,
                     addr))
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    counts = [int(c) for c in sys.argv[3:]] or [100, 500]
    print("bench_ansible_inventory: median of %d runs against one "
          "proxmox-sim over HTTPS; ratios against pve-gitops" % RUNS)
    for c in counts:
        bench(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
              c)


main()
