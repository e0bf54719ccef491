#!/usr/bin/python3
"""The original's files applied: the VMs are those Telmate 3.x with the
original's main.tf made, key by key, except where pve-gitops differs on
purpose (issue 14).

The last version of tests/original's history (make-history.sh) is applied
against proxmox-sim, whose ubuntu24-template (one per node, vmid 9000 +
node index) has scsi0 on local-lvm, a cloud-init drive on ide2, net0,
serial0, agent 1 and scsihw virtio-scsi-pci. Five of its VMs (a full clone
on data2, a linked clone with a passthrough disk, a dotted-name linked clone
moved to data2, a clone with no network, serial or cloud-init slot, an
empty VM with a quoted boolean) are then read back (GET
/nodes/N/qemu/ID/config, and the request log for the clone and move
requests) and compared with TABLE below: per row, the definition key,
what Telmate 3.x with that main.tf would have left in Proxmox (read from
Telmate's public source, terraform-provider-proxmox 3.0.1-rc6's
resource_vm_qemu.go (TP:) and the proxmox-api-go it pins (API:); each row
names its place), what pve-gitops is meant to make,
and "same" or the reason for a deliberate difference. Every row is asserted
on the real result: a "same" row against Telmate's value, a deliberate
one against pve-gitops' documented behaviour (so that a difference the
README promises is a real one). The table is printed. Then `plan
--refresh` must be clean, and every request must match the official
schema (when PVE_SCHEMA_CHECK names the schema tool: a developer's check).

Then the migration the README walks through ("Migrating from Terraform"):
on a fresh simulator two VMs are made the way Telmate made them (the
requests of telmate-facts.md's final table: a clone with no storage,
delete=ide2, move_disk and resize, one PUT with tags=terraform, the
description, balloon=0, ciupgrade=0, replicate=0, ..., a start); plan
offers them for adoption with the command, apply without --adopt leaves
them alone, `apply --adopt` changes nothing but their tags, and the next
`plan --refresh --detailed-exitcode` is clean.

Usage: telmate_table.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests
import urllib3

from simlib import Sim, Tap, point_at, pve_gitops, schema_check

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "3f8a1c5e-7b2d-4e9f-8a6c-1d3b5e7f9a2c"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}

KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIKeBH30kSnJIV+Cc2146kzpjzmWUNZ"
       "ILNq0kSqVPMm9 ops@workstation")
PASSTHROUGH = "/dev/disk/by-id/ata-Example_SSD_2TB_EX2T0123456789"


def telmate_sshkeys(keys):
    """proxmox-api-go's sshkeys: each key (whitespace runs collapsed) as
    url.PathEscape(key + "\\n") with + @ = : escaped too (facts Q11):
    PathEscape leaves only the unreserved characters and $ & unescaped
    once those four are replaced."""
    out = ""
    for k in keys.split("\n"):
        out += urllib.parse.quote(" ".join(k.split()) + "\n", safe="-._~$&")
    return out


# ---- reading the result ----------------------------------------------

def api(sim, path):
    r = requests.get(sim.api(path), headers=AUTH, verify=False, timeout=30)
    r.raise_for_status()
    return r.json()["data"]


def log(sim):
    with open(sim.log) as f:
        return [json.loads(line) for line in f if line.strip()]


def opts(value):
    """A drive or NIC string as (first item, {option: value})."""
    items = (value or "").split(",")
    rest = {}
    for it in items[1:]:
        k, _, v = it.partition("=")
        rest[k] = v
    return items[0], rest


def volume(value):
    """'data2:vm-106-disk-0,size=130G' -> ('data2', 'vm-106-disk-0')."""
    first, _ = opts(value)
    st, _, name = first.partition(":")
    return st, name


def disk_format(value):
    """The format a drive has: format=, the file's extension, else raw
    (a block storage: lvm, lvm-thin, zfs, rbd hold raw volumes only)."""
    first, o = opts(value)
    if "format" in o:
        return o["format"]
    m = re.search(r"\.(qcow2|vmdk|raw)$", first)
    return m.group(1) if m else "raw"


def cloudinit_drives(conf):
    return sorted(k for k, v in conf.items()
                  if re.match(r"(ide|sata|scsi)\d+$", k) and
                  re.match(r"[^:,]+:(\d+/)?vm-\d+-cloudinit", str(v)))


def nic(value):
    """net0 without its MAC: 'virtio,bridge=vmbr0,firewall=1'."""
    first, o = opts(value)
    model = first.split("=")[0]
    return ",".join([model] + ["%s=%s" % kv for kv in o.items()])


def drive_options(value, defaults):
    """A drive's options with Proxmox's defaults filled in (replicate and
    backup are 1 unless written 0), size left out (Proxmox's bookkeeping)."""
    _, o = opts(value)
    o.pop("size", None)
    return dict(defaults, **o)


# ---- the table ---------------------------------------------------------

SAME = "same"


class Ctx:
    """What the rows look at: the VMs' configs, the template's, the log."""

    def __init__(self, sim):
        self.vms = {v["name"]: v for v in api(sim, "/cluster/resources?"
                                              "type=vm")}
        self.conf = {}
        for name, v in self.vms.items():
            self.conf[name] = api(sim, "/nodes/%s/qemu/%d/config"
                                  % (v["node"], v["vmid"]))
        self.log = log(sim)

    def c(self, name, key):
        return self.conf[name].get(key)

    def calls(self, name, suffix):
        vmid = self.vms[name]["vmid"]
        return [x["params"] for x in self.log if x.get("method") == "POST"
                and x["path"].endswith("/qemu/%d/%s" % (vmid, suffix))]

    def clone_of(self, name):
        return [x["params"] for x in self.log if x.get("method") == "POST"
                and x["path"].endswith("/clone") and
                x["params"].get("name") == name]


M, D, K, S = "kube-metrics", "kube-media", "k01.home.example", "scratch"
G = "gateway"
TELMATE_EXTRA = ("balloon", "ciupgrade", "numa", "bios", "hotplug", "kvm",
                 "protection", "tablet")


def clone_desc(c, name):
    cl = c.clone_of(name)
    if len(cl) != 1:
        return "%d clone requests" % len(cl)
    p = cl[0]
    s = "clone full=%s" % p.get("full")
    s += " storage=%s" % p["storage"] if "storage" in p else " (no storage)"
    mv = c.calls(name, "move_disk")
    s += "".join(", move_disk %s %s delete=%s" % (m.get("disk"),
                                                  m.get("storage"),
                                                  m.get("delete"))
                 for m in mv)
    return s


# (vm, definition key, Telmate 3.x result, pve-gitops result, verdict,
#  source in telmate-facts.md, what the VM shows). For a "same" row the
# Telmate and pve-gitops columns are the same value.
TABLE = [
    (S, "onboot (unset)", "1", "1", SAME,
     "Q13: main.tf default true; TP:709",
     lambda c: str(c.c(S, "onboot"))),
    (M, "onboot: false", "0", "0", SAME, "Q13",
     lambda c: str(c.c(M, "onboot"))),
    (G, 'onboot: "true" (a quoted string)', "1", "1", SAME,
     "Q15: the string \"true\" converts to true",
     lambda c: str(c.c(G, "onboot"))),
    (S, "agent (unset; template 1)", "0", "0", SAME,
     "Q13: main.tf default 0, sent as agent=0",
     lambda c: str(c.c(S, "agent"))),
    (M, "agent: 1", "1", "1", SAME, "Q13",
     lambda c: str(c.c(M, "agent"))),
    (S, "scsihw (unset; template virtio-scsi-pci)", "virtio-scsi-single",
     "virtio-scsi-single", SAME, "Q13: main.tf default; TP:720",
     lambda c: c.c(S, "scsihw")),
    (S, "full_clone (unset)", "clone full=0 (no storage)",
     "clone full=0 (no storage)", SAME,
     "Q13: main.tf default false; Q1: TP:812-839",
     lambda c: clone_desc(c, S)),
    (S, "full_clone (unset): scsi0 volume", "base-9000-disk-0/vm-N-disk-0",
     "base-9000-disk-0/vm-N-disk-0", SAME,
     "Q1: a linked clone shares the template's base volume",
     lambda c: re.sub(r"vm-\d+-", "vm-N-", volume(c.c(S, "scsi0"))[1])),
    (D, "full_clone: false: scsi0 volume", "base-9001-disk-0/vm-N-disk-0",
     "base-9001-disk-0/vm-N-disk-0", SAME, "Q1",
     lambda c: re.sub(r"vm-\d+-", "vm-N-", volume(c.c(D, "scsi0"))[1])),
    (K, "full_clone: false, scsi0 on data2 (template on local-lvm)",
     "clone full=0 (no storage), move_disk scsi0 data2 delete=1",
     "clone full=0 (no storage), move_disk scsi0 data2 delete=1", SAME,
     "Q2: markDiskChanges, config_qemu_disk.go:798-823; Proxmox refuses "
     "storage for a linked clone",
     lambda c: clone_desc(c, K)),
    (M, "full_clone: true, scsi0 on data2",
     "clone full=1 (no storage), move_disk scsi0 data2 delete=1",
     "clone full=1 storage=data2", "deliberate: the disk is copied once, "
     "straight to data2, instead of copied then moved; the VM is the same",
     "Q1: storage never sent (QemuDisks unused); Q2: then moved",
     lambda c: clone_desc(c, M)),
    (M, "boot: order=scsi0", "order=scsi0", "order=scsi0", SAME,
     "Q7: boot sent when given", lambda c: c.c(M, "boot")),
    (M, "ostype (main.tf sets none; template l26)", "l26", "l26", SAME,
     "Q7: qemu_os empty is not sent", lambda c: c.c(M, "ostype")),
    (M, "cores / sockets / memory / cpu_type", "4 / 2 / 12288 / host",
     "4 / 2 / 12288 / host", SAME, "Q7: TP:1868-1874, cpu/sdk.go",
     lambda c: "%s / %s / %s / %s" % (c.c(M, "cores"), c.c(M, "sockets"),
                                      c.c(M, "memory"), c.c(M, "cpu"))),
    (K, "cores / sockets / memory / cpu_type", "1 / 4 / 8192 / x86-64-v2-AES",
     "1 / 4 / 8192 / x86-64-v2-AES", SAME, "Q7",
     lambda c: "%s / %s / %s / %s" % (c.c(K, "cores"), c.c(K, "sockets"),
                                      c.c(K, "memory"), c.c(K, "cpu"))),
    (M, "network {bridge, model, firewall: false}", "virtio,bridge=vmbr0",
     "virtio,bridge=vmbr0", SAME, "Q5: firewall written only when true",
     lambda c: nic(c.c(M, "net0"))),
    (D, "network {bridge, model} (firewall unset)",
     "virtio,bridge=vmbr0,firewall=1", "virtio,bridge=vmbr0,firewall=1",
     SAME, "Q5: main.tf default firewall true",
     lambda c: nic(c.c(D, "net0"))),
    (K, "network: the MAC", "a new one, not the template's",
     "a new one, not the template's", SAME,
     "Q5: no MAC on the first write (Proxmox picks one); the clone's is "
     "new too",
     lambda c: "a new one, not the template's"
     if opts(c.c(K, "net0"))[0] != opts(c.tpl[K].get("net0"))[0]
     else "the template's"),
    (M, "serial: true", "socket", "socket", SAME, "Q6: serial0: socket",
     lambda c: c.c(M, "serial0")),
    (M, "scsi0 storage / size / format (data2, 130G, raw)",
     "data2 / 130G / raw", "data2 / 130G / raw", SAME,
     "Q2: move, then resize; lvm-thin volumes are raw",
     lambda c: "%s / %s / %s" % (volume(c.c(M, "scsi0"))[0],
                                 opts(c.c(M, "scsi0"))[1].get("size"),
                                 disk_format(c.c(M, "scsi0")))),
    (K, "scsi0 storage / size / format (data2, 42G, raw)",
     "data2 / 42G / raw", "data2 / 42G / raw", SAME, "Q2",
     lambda c: "%s / %s / %s" % (volume(c.c(K, "scsi0"))[0],
                                 opts(c.c(K, "scsi0"))[1].get("size"),
                                 disk_format(c.c(K, "scsi0")))),
    (K, "scsi0: the linked clone's disk moved off the base volume",
     "an independent volume", "an independent volume", SAME,
     "Q2: move_disk copies fully (qemu-server move_vm_disk)",
     lambda c: "an independent volume" if "base-" not in c.c(K, "scsi0")
     else c.c(K, "scsi0")),
    (M, "ide1 cloudinit on data2 (template: ide2)", "ide1 on data2 only",
     "ide1 on data2 only", SAME,
     "Q2: cloudInitRemove deletes ide2 first, then ide1 is created",
     lambda c: "ide1 on %s only" % volume(c.c(M, "ide1"))[0]
     if cloudinit_drives(c.conf[M]) == ["ide1"]
     else "drives %s" % cloudinit_drives(c.conf[M])),
    (D, "ide1 cloudinit on local-lvm", "ide1 on local-lvm only",
     "ide1 on local-lvm only", SAME, "Q2",
     lambda c: "ide1 on %s only" % volume(c.c(D, "ide1"))[0]
     if cloudinit_drives(c.conf[D]) == ["ide1"]
     else "drives %s" % cloudinit_drives(c.conf[D])),
    (D, "scsi1 passthrough file", PASSTHROUGH, PASSTHROUGH, SAME,
     "Q3: the file as given",
     lambda c: opts(c.c(D, "scsi1"))[0]),
    (D, "scsi1 passthrough options (iops_r_burst 400, iops_wr_burst 200, "
        "mbps_r_concurrent 80, mbps_wr_concurrent 40.5, replicate true)",
     "backup=1 iops_rd_max=400 iops_wr_max=200 mbps_rd=80 mbps_wr=40.5 "
     "replicate=1",
     "backup=1 iops_rd_max=400 iops_wr_max=200 mbps_rd=80 mbps_wr=40.5 "
     "replicate=1", SAME,
     "Q3: Telmate writes nothing for replicate true and backup true, "
     "Proxmox's defaults (1); mbps as floatToTrimmedString",
     lambda c: " ".join("%s=%s" % kv for kv in sorted(drive_options(
         c.c(D, "scsi1"), {"replicate": "1", "backup": "1"}).items()))),
    (M, "ipconfig0", "ip=10.44.0.20/24,gw=10.44.0.1,ip6=dhcp",
     "ip=10.44.0.20/24,gw=10.44.0.1,ip6=dhcp", SAME,
     "Q11: re-emitted as ip,gw,ip6,gw6",
     lambda c: c.c(M, "ipconfig0")),
    (M, "nameserver", "10.44.0.3", "10.44.0.3", SAME, "Q11",
     lambda c: c.c(M, "nameserver")),
    (M, "ciuser", "ops", "ops", SAME, "Q11",
     lambda c: c.c(M, "ciuser")),
    (M, "sshkeys", telmate_sshkeys(KEY), telmate_sshkeys(KEY), SAME,
     "Q11: PathEscape(key + newline), + @ = : escaped",
     lambda c: c.c(M, "sshkeys")),
    (M, "vm_state: running", "running", "running", SAME, "Q9",
     lambda c: c.vms[M].get("status")),
    (M, "tags (main.tf: always terraform)", "terraform",
     "pg-XXXXXXXX;pve-gitops",
     "deliberate: pve-gitops' own tag and the digest that tells an "
     "unchanged VM without reading its config",
     "Q12: tags=terraform replaces the set",
     lambda c: ";".join(sorted(re.sub(r"pg-[0-9a-f]{8}", "pg-XXXXXXXX",
                                      c.c(M, "tags") or "").split(";")))),
    (M, "description (main.tf sets none)", "Managed by Terraform.",
     "(none)", "deliberate: pve-gitops writes no description of its own; "
     "a definition's description is written as given",
     "Q7: TP desc default, util.go:19",
     lambda c: c.c(M, "description") or "(none)"),
    (S, "no network block (template: net0)", "(none: delete=net0)",
     "virtio,bridge=vmbr0 (the template's)",
     "deliberate: a clone without a NIC cannot be reached to be "
     "provisioned; the template's NIC is kept",
     "Q5: all 32 NICs marked Delete, network/sdk.go:18-20",
     lambda c: nic(c.c(S, "net0")) + " (the template's)"
     if nic(c.c(S, "net0")) == nic(c.tpl[S].get("net0"))
     else nic(c.c(S, "net0")) or "(none)"),
    (S, "serial absent (template: serial0 socket)", "(none: delete=serial0)",
     "socket (the template's)",
     "deliberate: pve-gitops changes only what a definition says; the "
     "template's serial console (and its vga: serial0) keep working",
     "Q6: serial0-3 marked Delete, serial/sdk.go:11-14",
     lambda c: (c.c(S, "serial0") or "(none)") + " (the template's)"),
    (S, "template disk slots absent (template: ide2 cloud-init)",
     "(none: delete=ide2)", "ide2 kept",
     "deliberate: pve-gitops never deletes a disk a definition does not "
     "name; a cloud-init drive the definition puts elsewhere replaces it",
     "Q2: every unlisted slot deleted, config_qemu_disk.go:1019-1022",
     lambda c: "ide2 kept" if cloudinit_drives(c.tpl[S]) == ["ide2"] and
     cloudinit_drives(c.conf[S]) == ["ide2"]
     else "cloud-init drives %s" % cloudinit_drives(c.conf[S])),
    (M, "scsi0 replicate (unset)", "replicate=0", "(not written: Proxmox's "
     "replicate=1)",
     "deliberate: pve-gitops writes only the options a definition gives",
     "Q2: replicate has no default, so false, on every disk",
     lambda c: "replicate=%s" % opts(c.c(M, "scsi0"))[1]["replicate"]
     if "replicate" in opts(c.c(M, "scsi0"))[1]
     else "(not written: Proxmox's replicate=1)"),
    (M, "balloon ciupgrade numa bios hotplug kvm protection tablet "
        "(main.tf sets none)",
     "balloon=0 ciupgrade=0 numa=0 bios=seabios hotplug=network,disk,usb "
     "kvm=1 protection=0 tablet=1",
     "(none written: Proxmox's defaults, ballooning on and a package "
     "upgrade on first boot)",
     "deliberate: pve-gitops leaves unnamed keys to Proxmox",
     "Q7: TP schema defaults (TP:162-319, 489-493)",
     lambda c: " ".join("%s=%s" % (k, c.c(M, k)) for k in TELMATE_EXTRA
                        if c.c(M, k) is not None) or
     "(none written: Proxmox's defaults, ballooning on and a package "
     "upgrade on first boot)"),
]


def print_table(rows):
    print("# %-18s | %-48s | %-40s | %-40s | %s" %
          ("VM", "definition key", "Telmate 3.x", "pve-gitops", "verdict"))
    for vm, key, tm, _, verdict, src, got in rows:
        print("# %-18s | %-48s | %-40s | %-40s | %s [%s]" %
              (vm, key, tm, got, verdict, src))


def run_table(t, c):
    shown = []
    for vm, key, tm, ours, verdict, src, fn in TABLE:
        if verdict == SAME:
            assert tm == ours, key
        try:
            got = fn(c)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            got = "(error: %r)" % e
        t.ok(got == ours, "%s: %s: %s (%s)" % (vm, key, verdict if verdict
                                               == SAME else "deliberate",
                                               ours),
             "got:  %r\nwant: %r\nTelmate: %r" % (got, ours, tm))
        shown.append((vm, key, tm, ours, verdict, src, got))
    print_table(shown)


def repo(sim):
    d = tempfile.mkdtemp(prefix="pve-gitops-telmate.")
    r = os.path.join(d, "repo")
    subprocess.run([os.path.join(SRC, "tests", "original", "make-history.sh"),
                    r], check=True, capture_output=True, text=True)
    point_at(sim, os.path.join(r, "pve-gitops.yaml"))
    return d, r


# ---- the migration -----------------------------------------------------

def call(sim, method, path, **data):
    """A request as Telmate's client sends it, waiting for its task."""
    r = requests.request(method, sim.api(path), headers=AUTH, verify=False,
                         data=data, timeout=30)
    r.raise_for_status()
    upid = r.json()["data"]
    if isinstance(upid, str) and upid.startswith("UPID:"):
        node = path.split("/")[2]
        for _ in range(500):
            st = api(sim, "/nodes/%s/tasks/%s/status" % (node, upid))
            if st.get("status") == "stopped":
                assert st.get("exitstatus") == "OK", (path, st)
                break
            time.sleep(0.02)
    return upid


# What Telmate 3.x sends on every create and update whatever the YAML says
# (telmate-facts.md Q7).
TELMATE_ALWAYS = {"tags": "terraform", "description": "Managed by Terraform.",
                  "bios": "seabios", "hotplug": "network,disk,usb",
                  "kvm": "1", "protection": "0", "tablet": "1",
                  "balloon": "0", "numa": "0", "ciupgrade": "0"}


def telmate_create(sim, node, template, vmid, name, full, size_kib, conf):
    """A clone with a scsi0 on data2 and ide1 cloudinit on data2, as
    resource_vm_qemu.go and proxmox-api-go make it (facts Q1, Q2, Q8)."""
    base = "/nodes/%s/qemu/%d" % (node, vmid)
    call(sim, "POST", "/nodes/%s/qemu/%d/clone" % (node, template),
         newid=str(vmid), name=name, target=node, full=full)
    call(sim, "PUT", base + "/config", delete="ide2")  # cloudInitRemove
    call(sim, "POST", base + "/move_disk", disk="scsi0", storage="data2",
         delete="1")
    call(sim, "PUT", base + "/resize", disk="scsi0", size="%dK" % size_kib)
    vol = api(sim, base + "/config")["scsi0"].split(",")[0]
    put = dict(TELMATE_ALWAYS, name=name, scsihw="virtio-scsi-single",
               boot="order=scsi0", serial0="socket",
               ide1="data2:cloudinit,format=raw", scsi0=vol + ",replicate=0",
               nameserver="10.44.0.3", ciuser="ops",
               sshkeys=telmate_sshkeys(KEY), **conf)
    call(sim, "PUT", base + "/config", **put)
    call(sim, "POST", base + "/status/start")


def migration(t):
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
             "--boot-ms", "0") as sim:
        telmate_create(sim, "node03", 9002, 120, M, "1", 130 << 20, dict(
            cores="4", sockets="2", memory="12288", cpu="host", onboot="0",
            agent="1", net0="virtio,bridge=vmbr0",
            ipconfig0="ip=10.44.0.20/24,gw=10.44.0.1,ip6=dhcp"))
        telmate_create(sim, "node01", 9000, 121, K, "0", 42 << 20, dict(
            cores="1", sockets="4", memory="8192", cpu="x86-64-v2-AES",
            onboot="1", agent="0", net0="virtio,bridge=vmbr0,firewall=1",
            ipconfig0="ip=10.44.0.21/24,gw=10.44.0.1,ip6=dhcp"))
        before = {n: api(sim, "/nodes/%s/qemu/%d/config" % v)
                  for n, v in ((M, ("node03", 120)), (K, ("node01", 121)))}
        tmp, r = repo(sim)
        vdir = os.path.join(r, "proxmox", "vms")
        for f in os.listdir(vdir):
            if f not in ("kube-metrics.yaml", "k01.yaml"):
                os.unlink(os.path.join(vdir, f))
        p = pve_gitops(BIN, r, SECRET, "plan")
        t.ok(p.returncode == 0 and all(
            "VM %d '%s' was made by Terraform (tagged terraform); take it "
            "over with: pve-gitops apply --adopt --target %s (after "
            "terraform state rm of it, so that Terraform lets it go)"
            % (vmid, n, n) in p.stdout
            for vmid, n in ((120, M), (121, K))) and
            "2 of them not managed by pve-gitops: `pve-gitops apply "
            "--adopt` takes them over." in p.stdout,
            "migration: plan offers Telmate's VMs for adoption, with the "
            "command", p.stdout + p.stderr)
        p = pve_gitops(BIN, r, SECRET, "apply", "--auto-approve")
        t.ok(p.returncode == 1 and "2 VMs are blocked" in p.stderr,
             "migration: apply without --adopt leaves them alone (exit 1)",
             p.stdout + p.stderr)
        p = pve_gitops(BIN, r, SECRET, "apply", "--auto-approve", "--adopt")
        t.ok(p.returncode == 0 and "0 added, 2 changed, 0 destroyed"
             in p.stdout, "migration: apply --adopt takes both over",
             p.stdout + p.stderr)
        for n, v in ((M, ("node03", 120)), (K, ("node01", 121))):
            after = api(sim, "/nodes/%s/qemu/%d/config" % v)
            changed = sorted(k for k in set(before[n]) | set(after)
                             if k != "digest" and
                             before[n].get(k) != after.get(k))
            t.eq(changed, ["tags"], "migration: %s: only its tags changed"
                 % n)
            t.ok(re.fullmatch(r"pg-[0-9a-f]{8};pve-gitops",
                              ";".join(sorted(after["tags"].split(";"))))
                 is not None and after.get("description") ==
                 "Managed by Terraform.", "migration: %s: tagged "
                 "pve-gitops and its digest; Telmate's description kept" % n,
                 after.get("tags"))
        p = pve_gitops(BIN, r, SECRET, "plan", "--refresh",
                       "--detailed-exitcode")
        t.ok(p.returncode == 0 and "No changes" in p.stdout,
             "migration: the next plan --refresh is clean",
             p.stdout + p.stderr)
        schema_check(t, sim)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
             "--boot-ms", "0") as sim:
        # the templates as they are before any clone
        tpl = {}
        for v in api(sim, "/cluster/resources?type=vm"):
            if v.get("template") and v["name"] == "ubuntu24-template":
                tpl[v["node"]] = (v["vmid"], api(
                    sim, "/nodes/%s/qemu/%d/config" % (v["node"],
                                                       v["vmid"])))
        tmp, r = repo(sim)
        p = pve_gitops(BIN, r, SECRET, "apply", "--auto-approve")
        t.ok(p.returncode == 0, "the last version of the history applies",
             p.stdout[-3000:] + p.stderr[-3000:])
        c = Ctx(sim)
        c.tpl = {n: tpl[c.vms[n]["node"]][1] for n in (M, D, K, S)}
        run_table(t, c)
        p = pve_gitops(BIN, r, SECRET, "plan", "--refresh",
                       "--detailed-exitcode")
        t.ok(p.returncode == 0 and "No changes" in p.stdout,
             "plan --refresh is clean after the apply",
             "exit %d\n%s%s" % (p.returncode, p.stdout, p.stderr))
        schema_check(t, sim)
        shutil.rmtree(tmp, ignore_errors=True)
    migration(t)
    t.done()


main()
