#!/usr/bin/python3
"""bench/inventory_seed.py - `pve-gitops inventory` against the original
system's own update-inventory.sh, on the same VMs, in one run.

The original script is not part of this project: pass its path. It is
proxmox/update-inventory.sh of github.com/fullstack-pw/infra at commit
fe9287b (the version the seed's README describes: `terraform output
-json` on line 24, new_hosts.txt on line 294, the check from line 326).

For each count, a repository is generated as bench/inventory.c makes it
(names that hit each group rule and none, one address each, a third with
a data disk): the definitions, the outputs of an apply and a hand-made
k8s.ini with an "# Individual hosts" section. The script gets the same
VMs from a stand-in `terraform` on its PATH that prints what the seed's
outputs.tf gives (`vm_ips`: name -> ipconfig0). Three scenarios, each from
the state the same tool left: (a) the first run, every host new; (b) a
second run, nothing changed; (c) 10% of the VMs gone and 10% with a new
address. Each runs with the Ansible check off on both (pve-gitops:
validate_with_ansible: never; the script: a stand-in ansible-inventory
that exits 0) and on (always; the real ansible-inventory). The tree is
copied fresh before every run (not timed). Each figure is the median
wall time of the runs (pve-gitops: 3; the script: --seed-runs, default 3
up to 1,000 VMs and 1 above), with the CPU time of the process and its
children (wait4).

The script writes /tmp/new_vms.txt and /tmp/current_vms.txt (it names
them itself); nothing else leaves the temporary directory. Nothing
connects to the network.

Usage: inventory_seed.py PVE_GITOPS UPDATE_INVENTORY_SH [--seed-runs N]
                         [--check off|on|both] [COUNT...]
                         (default counts 100 1000 10000)
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

INI = """\
# Ansible inventory for the Proxmox VMs (bench).

# Individual hosts

[all:vars]
ansible_python_interpreter=/usr/bin/python3

[monitoring]
grafana ansible_host=192.0.2.10 ansible_user=ops
prometheus ansible_host=192.0.2.11 ansible_user=ops

[backup]
nas01 ansible_host=192.0.2.20 ansible_user=ops

[infra:children]
monitoring
backup
"""


def vm_name(i):
    return ["haproxy-%d" % i, "k8s-x%d" % i, "talos-p%d-cp%d" % (i // 50, i),
            "talos-p%d-w%d" % (i // 50, i), "app%05d" % i][i % 5]


def vm_ip(i):
    r = i % 60000
    return "10.%d.%d.%d" % (10 + i // 60000, 1 + r // 250, 1 + r % 250)


def moved_ip(i):
    return "172.%d.%d.%d" % (16 + i // 65536, i // 256 % 256, i % 256)


def gone(i):
    return i % 10 == 0


def moved(i):
    return i % 10 == 1


def gw(i):
    return "10.%d.0.1" % (10 + i // 60000)


def definition(i):
    text = ("name: %s\ntarget_node: node01\nclone: ubuntu24-template\n"
            "ipconfig0: \"ip=%s/16,gw=%s\"\ndisks:\n"
            "  scsi0:\n    size: 20G\n    storage: local-lvm\n"
            % (vm_name(i), vm_ip(i), gw(i)))
    if i % 3 == 0:
        text += ("  scsi1:\n    size: 100G\n    storage: data2\n"
                 "    mount: /srv/data\n")
    return text


def vms(count, changed):
    for i in range(count):
        if changed and gone(i):
            continue
        yield i, vm_name(i), moved_ip(i) if changed and moved(i) else vm_ip(i)


def outputs(count, changed):
    value = {name: {"ansible_host": ip, "ansible_user": "ubuntu",
                    "node": "node01", "vmid": 100 + i}
             for i, name, ip in vms(count, changed)}
    return {"ansible_inventory": {"sensitive": False, "type": [],
                                  "value": value}}


def tf_output(count, changed):
    # outputs.tf's vm_ips: name -> the VM's ipconfig0
    value = {name: "ip=%s/16,gw=%s" % (ip, gw(i))
             for i, name, ip in vms(count, changed)}
    return {"vm_ips": {"sensitive": False, "type": ["object", {}],
                       "value": value}}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def generate(root, count, check):
    write(os.path.join(root, "pve-gitops.yaml"),
          "validate_with_ansible: %s\n" % ("always" if check else "never"))
    write(os.path.join(root, "proxmox", "k8s.ini"), INI)
    for i in range(count):
        write(os.path.join(root, "proxmox", "vms", vm_name(i) + ".yaml"),
              definition(i))
    write(os.path.join(root, "proxmox", ".pve-gitops", "outputs.json"),
          json.dumps(outputs(count, False)))


def stubs(dirpath, check):
    os.makedirs(dirpath)
    write(os.path.join(dirpath, "terraform"),
          "#!/bin/sh\n# the seed's `terraform output -json`\n"
          "exec cat \"$BENCH_TF_OUTPUT\"\n")
    os.chmod(os.path.join(dirpath, "terraform"), 0o755)
    if not check:
        write(os.path.join(dirpath, "ansible-inventory"),
              "#!/bin/sh\n# the check off\nexit 0\n")
        os.chmod(os.path.join(dirpath, "ansible-inventory"), 0o755)


def timed(argv, cwd, env, log):
    with open(log, "w") as out:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out,
                             stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        t = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        sys.exit("%s failed (%d); its output: %s\n%s" % (
            argv[0], p.returncode, log, open(log).read()[-2000:]))
    return t, ru.ru_utime + ru.ru_stime


def hosts_in(ini):
    return sum(1 for line in open(ini)
               if " ansible_host=" in line and not line.startswith(
                   ("grafana", "prometheus", "nas01")))


class Runner:
    def __init__(self, tmp, binary, seed, check):
        self.tmp, self.bin, self.seed, self.check = tmp, binary, seed, check
        self.stubdir = os.path.join(tmp, "stubs")
        stubs(self.stubdir, check)
        self.env = {"PATH": self.stubdir + ":/usr/bin:/bin",
                    "HOME": os.path.join(tmp, "home"), "LC_ALL": "C.UTF-8",
                    "ANSIBLE_LOCAL_TEMP": os.path.join(tmp, "home", "a")}
        os.makedirs(self.env["HOME"], exist_ok=True)

    def ours(self, start, runs, expect_hosts):
        times, cpus = [], []
        for k in range(runs):
            d = os.path.join(self.tmp, "ours-run")
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(start, d, symlinks=True)
            t, c = timed([self.bin, "--no-color", "-C", d, "inventory"], d,
                         self.env, os.path.join(self.tmp, "ours.log"))
            times.append(t)
            cpus.append(c)
            if hosts_in(os.path.join(d, "proxmox", "k8s.ini")) != \
                    expect_hosts:
                sys.exit("pve-gitops left %d hosts, not %d" % (
                    hosts_in(os.path.join(d, "proxmox", "k8s.ini")),
                    expect_hosts))
        return statistics.median(times), statistics.median(cpus), d

    def theirs(self, start, tf, runs, expect_hosts):
        times, cpus = [], []
        env = dict(self.env, BENCH_TF_OUTPUT=tf)
        for k in range(runs):
            d = os.path.join(self.tmp, "seed-run")
            shutil.rmtree(d, ignore_errors=True)
            shutil.copytree(start, d, symlinks=True)
            t, c = timed(["/bin/bash", self.seed], d, env,
                         os.path.join(self.tmp, "seed.log"))
            times.append(t)
            cpus.append(c)
            got = hosts_in(os.path.join(d, "proxmox", "k8s.ini"))
            if got != expect_hosts:
                sys.exit("the script left %d hosts, not %d" %
                         (got, expect_hosts))
        return statistics.median(times), statistics.median(cpus), d


def keep(src, dst):
    shutil.rmtree(dst, ignore_errors=True)
    shutil.move(src, dst)


def bench(binary, seed, count, check, seed_runs):
    tmp = tempfile.mkdtemp(prefix="pvegitops-bench-seed-")
    try:
        r = Runner(tmp, binary, seed, check)
        base = os.path.join(tmp, "base")
        generate(base, count, check)
        tf_a = os.path.join(tmp, "tf-a.json")
        tf_c = os.path.join(tmp, "tf-c.json")
        write(tf_a, json.dumps(tf_output(count, False)))
        write(tf_c, json.dumps(tf_output(count, True)))
        n_c = sum(1 for _ in vms(count, True))
        rows = []
        # (a) from the generated tree
        o = r.ours(base, 3, count)
        keep(o[2], os.path.join(tmp, "ours-a"))
        s = r.theirs(base, tf_a, seed_runs, count)
        keep(s[2], os.path.join(tmp, "seed-a"))
        rows.append(("(a) first run, all new", o, s))
        # (b) from what each left
        o = r.ours(os.path.join(tmp, "ours-a"), 3, count)
        s = r.theirs(os.path.join(tmp, "seed-a"), tf_a, seed_runs, count)
        rows.append(("(b) second run, nothing new", o, s))
        # (c) 10% gone, 10% moved
        write(os.path.join(tmp, "ours-a", "proxmox", ".pve-gitops",
                           "outputs.json"), json.dumps(outputs(count, True)))
        o = r.ours(os.path.join(tmp, "ours-a"), 3, n_c)
        s = r.theirs(os.path.join(tmp, "seed-a"), tf_c, seed_runs, n_c)
        rows.append(("(c) 10% gone, 10% moved", o, s))
        print("%d VMs, Ansible check %s" % (count, "on" if check else "off"))
        for label, o, s in rows:
            print("  %-28s pve-gitops %7.3f s (CPU %7.3f s)  "
                  "update-inventory.sh %8.2f s (CPU %8.2f s)  ratio %7.0fx"
                  % (label, o[0], o[1], s[0], s[1], s[0] / o[0]))
        sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    args = sys.argv[1:]
    seed_runs, check = None, "both"
    counts = []
    if len(args) < 2:
        sys.exit(__doc__)
    binary, seed = os.path.abspath(args[0]), os.path.abspath(args[1])
    rest = args[2:]
    while rest:
        a = rest.pop(0)
        if a == "--seed-runs":
            seed_runs = int(rest.pop(0))
        elif a == "--check":
            check = rest.pop(0)
        else:
            counts.append(int(a))
    if check not in ("off", "on", "both"):
        sys.exit("--check is off, on or both")
    for path in (binary, seed):
        if not os.path.isfile(path):
            sys.exit("%s: no such file" % path)
    print("bench/inventory_seed: '%s -C DIR inventory' against '%s', "
          "each from the state it left; median wall time" % (binary, seed))
    for count in counts or [100, 1000, 10000]:
        runs = seed_runs or (3 if count <= 1000 else 1)
        for c in ([False, True] if check == "both" else [check == "on"]):
            bench(binary, seed, count, c, runs)


if __name__ == "__main__":
    main()
