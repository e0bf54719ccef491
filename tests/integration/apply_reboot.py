#!/usr/bin/python3
"""Changes that need a reboot are carried out (issue 14), against
proxmox-sim, which keeps a running VM's cores, memory and ipconfig0 in
/pending until the VM boots again:

- automatic_reboot unset (true, the original's default): after an apply
  that changes cores, memory and ipconfig0 of a running VM, the sim shows
  its shutdown (with reboot.timeout_seconds, forceStop=0) and its start,
  /pending is empty, the config has the new values, no pg-pending tag, and
  `plan --refresh` is clean;
- automatic_reboot: false: no shutdown, the VM carries the pg-pending tag
  and /pending shows the changes;
- a guest that ignores the shutdown (--guest-ignores-shutdown): the apply
  fails with "did not shut down within 2 s", the VM keeps running, the tag
  and /pending say what waits; with reboot.force: true (another repository
  on the same sim) it is stopped after the timeout and started;
- every request matches the official schema
  (when PVE_SCHEMA_CHECK names the schema tool: a developer's check).

Usage: apply_reboot.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import requests
import urllib3

from simlib import Sim, Tap, example_repo, pve_gitops, schema_check

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "3e5a7c9b-1d2f-4a6c-8e0b-2c4d6f8a0b1c"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
DEAF, FORCED = 4200, 4300  # guests that ignore an ACPI shutdown
ADDRESS = 4400  # a VM whose address alone changes


def definition(name, vmid, ip, extra="", cores=1, memory=1024):
    return """name: %s
vmid: %d
target_node: node01
cores: %d
memory: %d
clone: ubuntu24-template
vm_state: running
ipconfig0: "ip=%s/24,gw=192.168.1.1"
%s""" % (name, vmid, cores, memory, ip, extra)


VMS = {  # name: (vmid, first address, extra keys)
    "rb-auto": (4000, "192.168.1.81", ""),
    "rb-manual": (4100, "192.168.1.82", "automatic_reboot: false\n"),
    "rb-deaf": (DEAF, "192.168.1.83", ""),
}


def api(sim, path):
    r = requests.get(sim.api(path), headers=AUTH, verify=False, timeout=30)
    r.raise_for_status()
    return r.json()["data"]


def vm_path(vmid, sub):
    return "/nodes/node01/qemu/%d/%s" % (vmid, sub)


def pending(sim, vmid):
    """What waits for a boot: /pending, and the cloud-init settings the
    drive does not hold yet (/cloudinit, qemu-server 7.2 and later)."""
    keys = set()
    for sub in ("pending", "cloudinit"):
        keys |= {x["key"] for x in api(sim, vm_path(vmid, sub))
                 if "pending" in x or x.get("delete")}
    return sorted(keys)


def log(sim):
    with open(sim.log) as f:
        return [json.loads(line) for line in f if line.strip()]


def power_calls(sim, vmid, since):
    """The status/ACTION POSTs for vmid after request number since."""
    return [(x["path"].rsplit("/", 1)[1], x["params"])
            for x in log(sim)[since:] if x["method"] == "POST" and
            x["path"].endswith(tuple("/qemu/%d/status/%s" % (vmid, a)
                                     for a in ("shutdown", "start", "stop",
                                               "reboot")))]


def write_repo(d, vms, changed, config=""):
    vdir = os.path.join(d, "proxmox", "vms")
    for f in glob.glob(os.path.join(vdir, "*.yaml")):
        os.unlink(f)
    for name, (vmid, ip, extra) in vms.items():
        if changed:  # cores, memory and ipconfig0 wait for a boot
            ip = re.sub(r"\.(\d+)$", lambda m: ".%d" % (int(m.group(1)) + 10),
                        ip)
            body = definition(name, vmid, ip, extra, cores=2, memory=2048)
        else:
            body = definition(name, vmid, ip, extra)
        with open(os.path.join(vdir, name + ".yaml"), "w") as f:
            f.write(body)
    cfg = os.path.join(d, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    text = re.sub(r"(?ms)^reboot:\n(  .*\n)*", "", text)
    with open(cfg, "w") as f:
        f.write(text + "reboot:\n  timeout_seconds: 2\n" + config)


def tags(sim, vmid):
    return api(sim, vm_path(vmid, "config")).get("tags", "").split(";")


def status(sim, vmid):
    return api(sim, vm_path(vmid, "status/current"))["status"]


def check_auto(t, sim, text, since):
    t.ok("reboot" in (vm_block(text, "rb-auto").splitlines() or [""])[0],
         "rb-auto: the plan says it will be rebooted", text)
    calls = power_calls(sim, 4000, since)
    t.ok([c[0] for c in calls] == ["shutdown", "start"] and
         calls[0][1].get("timeout") == "2" and
         calls[0][1].get("forceStop") == "0",
         "rb-auto: shut down (timeout=2, forceStop=0) and started", calls)
    m = re.search(r"rb-auto: rebooted: (.*) took effect", text)
    t.ok(m is not None and sorted(m.group(1).split(", ")) ==
         ["cores", "ipconfig0", "memory"],
         "rb-auto: says which changes took effect", text)
    t.eq(pending(sim, 4000), [], "rb-auto: nothing pending")
    conf = api(sim, vm_path(4000, "config?current=1"))
    t.ok(conf.get("cores") == 2 and str(conf.get("memory")) == "2048" and
         "192.168.1.91/24" in conf.get("ipconfig0", ""),
         "rb-auto: the running config has the new values", conf)
    t.ok("pg-pending" not in tags(sim, 4000) and status(sim, 4000) ==
         "running", "rb-auto: running, without the pg-pending tag",
         tags(sim, 4000))


def check_manual(t, sim, since):
    t.eq(power_calls(sim, 4100, since), [],
         "rb-manual (automatic_reboot: false): not rebooted")
    t.ok("pg-pending" in tags(sim, 4100), "rb-manual: tagged pg-pending",
         tags(sim, 4100))
    t.eq(pending(sim, 4100), ["cores", "ipconfig0", "memory"],
         "rb-manual: /pending shows the changes")


def check_deaf(t, sim, p, since):
    t.ok(p.returncode != 0 and
         "VM %d did not shut down within 2 s; not rebooted" % DEAF
         in p.stderr and "reboot.force: true" in p.stderr,
         "rb-deaf: a guest that ignores the shutdown fails the apply",
         p.stdout + p.stderr)
    calls = power_calls(sim, DEAF, since)
    t.ok([c[0] for c in calls] == ["shutdown"] and
         status(sim, DEAF) == "running",
         "rb-deaf: asked once, not killed, still running", calls)
    t.ok("pg-pending" in tags(sim, DEAF) and
         pending(sim, DEAF) == ["cores", "ipconfig0", "memory"],
         "rb-deaf: tagged pg-pending, its changes still pending",
         (tags(sim, DEAF), pending(sim, DEAF)))


def vm_block(text, name):
    """The lines of the plan text about VM name: its header ("  ~ NAME (",
    "    NAME (") and the change lines below it."""
    out, inside = [], False
    for line in text.splitlines():
        m = re.match(r" {2,4}(?:[~+!-] )?([\w.-]+) \(", line)
        if m:
            inside = m.group(1) == name
        if inside:
            out.append(line)
    return "\n".join(out)


def check_plan(t, d):
    """Every later plan shows what waits (the plan side of issue 14)."""
    for args in (["plan"], ["plan", "--refresh"]):
        p = pve_gitops(BIN, d, SECRET, *args)
        what = " ".join(args)
        t.ok("rb-auto" not in p.stdout, what + ": nothing for rb-auto",
             p.stdout + p.stderr)
        block = vm_block(p.stdout, "rb-manual")
        t.ok(all(k in block for k in ("cores", "memory", "ipconfig0")) and
             "pending" in block,
             what + ": shows rb-manual's pending cores, memory, ipconfig0",
             p.stdout + p.stderr)


def forced(t, sim):
    """reboot.force: true: a deaf guest is stopped after the timeout."""
    d = example_repo(sim, SRC)
    vms = {"rb-forced": (FORCED, "192.168.1.84", "")}
    write_repo(d, vms, False, "  force: true\n")
    p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
    t.ok(p.returncode == 0, "rb-forced: created", p.stdout + p.stderr)
    since = len(log(sim))
    write_repo(d, vms, True, "  force: true\n")
    p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
    calls = power_calls(sim, FORCED, since)
    t.ok(p.returncode == 0 and [c[0] for c in calls] ==
         ["shutdown", "start"] and calls[0][1].get("forceStop") == "1",
         "rb-forced: with reboot.force it is stopped after the timeout "
         "and started", (calls, p.stdout + p.stderr))
    t.ok(pending(sim, FORCED) == [] and "pg-pending" not in
         tags(sim, FORCED) and status(sim, FORCED) == "running",
         "rb-forced: running, nothing pending", pending(sim, FORCED))
    shutil.rmtree(d)


def address_only(t, sim):
    """Only ipconfig0 changes: Proxmox (7.2 and later) writes it at once and
    nothing is in /pending, but the cloud-init drive keeps the old address
    until the next start (GET .../cloudinit): apply reboots all the same,
    and the next plan --refresh is clean."""
    d = example_repo(sim, SRC)
    vdir = os.path.join(d, "proxmox", "vms")
    for f in glob.glob(os.path.join(vdir, "*.yaml")):
        os.unlink(f)
    path = os.path.join(vdir, "rb-ip.yaml")
    with open(path, "w") as f:
        f.write(definition("rb-ip", ADDRESS, "192.168.1.85"))
    p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
    t.ok(p.returncode == 0, "rb-ip: created", p.stdout + p.stderr)
    since = len(log(sim))
    with open(path, "w") as f:
        f.write(definition("rb-ip", ADDRESS, "192.168.1.95"))
    p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
    calls = power_calls(sim, ADDRESS, since)
    t.ok(p.returncode == 0 and [c[0] for c in calls] == ["shutdown", "start"]
         and "rb-ip: rebooted: ipconfig0 took effect" in p.stdout,
         "rb-ip: a new address alone reboots the VM", (calls, p.stdout))
    ci = [x for x in api(sim, vm_path(ADDRESS, "cloudinit"))
          if x["key"] == "ipconfig0"]
    t.ok(pending(sim, ADDRESS) == [] and ci and
         "192.168.1.95/24" in ci[0].get("value", ""),
         "rb-ip: the drive holds the new address", ci)
    p = pve_gitops(BIN, d, SECRET, "plan", "--refresh")
    t.ok(p.returncode == 0 and "No changes." in p.stdout,
         "rb-ip: the next plan --refresh is clean", p.stdout + p.stderr)
    shutil.rmtree(d)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
             "--boot-ms", "0", "--guest-ignores-shutdown", str(DEAF),
             "--guest-ignores-shutdown", str(FORCED)) as sim:
        d = example_repo(sim, SRC)
        write_repo(d, VMS, False)
        p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
        t.ok(p.returncode == 0 and "rebooted" not in p.stdout,
             "apply creates the VMs running, without a reboot",
             p.stdout + p.stderr)
        t.ok(all(pending(sim, v[0]) == [] and "pg-pending" not in
                 tags(sim, v[0]) for v in VMS.values()),
             "nothing pending after the creates")
        since = len(log(sim))
        write_repo(d, VMS, True)
        p = pve_gitops(BIN, d, SECRET, "apply", "--auto-approve")
        check_auto(t, sim, p.stdout, since)
        check_manual(t, sim, since)
        check_deaf(t, sim, p, since)
        check_plan(t, d)
        shutil.rmtree(d)
        forced(t, sim)
        address_only(t, sim)
        schema_check(t, sim)
    t.done()


main()
