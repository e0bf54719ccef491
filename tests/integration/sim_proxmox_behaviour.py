#!/usr/bin/python3
"""proxmox-sim answers as Proxmox VE does where it used to differ silently
(issue 15), one group of checks per difference, each naming the Proxmox
source it follows. Debian's python3-proxmoxer is the client.

1. tags are normalised on write (create, config PUT and POST);
2. drive and NIC options are printed in print_property_string's order;
3. a node's task list filters as pve-manager's API2/Tasks.pm does;
4. a linked clone with storage or format is a 500 with Proxmox's text;
5. thin pools over-commit, plain LVM and dir storages do not;
6. resize refuses a shrink, and an equal size changes nothing;
7. a passthrough path with ':' is accepted and stored as sent.

Usage: sim_proxmox_behaviour.py PROXMOX_SIM
"""

import os
import sys
import tempfile
import time

import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, wait_task

urllib3.disable_warnings()
SECRET = "3f9a1c7e-2b4d-4e6f-8a0c-1d2e3f4a5b6c"

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local, type: dir, content: "images,iso,backup",
         capacity: 20G}
      - {name: local-lvm, type: lvmthin, capacity: 100G}
      - {name: data2, type: lvmthin, capacity: 1T}
      - {name: thick, type: lvm, capacity: 20G}
      - {name: isos, type: dir, content: iso, capacity: 10G}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: node01,
     cloudinit: local-lvm, disks: {scsi0: {storage: local-lvm, size: 3584M}}}
"""


class Env:
    def __init__(self, t, sim):
        self.t, self.sim = t, sim
        self.px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                             token_name="ci", token_value=SECRET,
                             verify_ssl=False)
        self.node = self.px.nodes("node01")

    def wait(self, upid, timeout=30):
        return wait_task(self.node, upid, timeout)

    def refused(self, fn, **kw):
        """(status, Proxmox's message) of a refusal, (200, None) else."""
        try:
            fn(**kw)
        except ResourceException as e:
            return e.status_code, e.content
        return 200, None

    def conf(self, vmid):
        return self.node.qemu(vmid).config.get()

    def clone(self, newid, full=1, **kw):
        upid = self.node.qemu(9000).clone.post(newid=newid, full=full, **kw)
        self.t.eq(self.wait(upid)["exitstatus"], "OK",
                  "clone %d made" % newid)
        return upid

    def storage(self, name):
        return self.node.storage(name).status.get()

    def tasks(self, **kw):
        return self.node.tasks.get(**kw)


def tags(e):
    """pve-guest-common's PVE::GuestHelpers::get_unique_tags, called by
    qemu-server's API2/Qemu.pm create_vm and update_vm: split as
    PVE::Tools::split_list (',', ';', white space), lower-cased (tag-style
    case-sensitive off by default), sorted (ordering 'alphabetical' by
    default), duplicates dropped, joined with ';'."""
    t = e.t
    upid = e.node.qemu.post(vmid=300, name="tagged", memory=512,
                            tags="Web,db;web  Alpha")
    e.wait(upid)
    t.eq(e.conf(300)["tags"], "alpha;db;web",
         "create: tags sorted, lower-cased, de-duplicated, ';'-joined")
    e.node.qemu(300).config.put(tags="zeta b;B,a")
    t.eq(e.conf(300)["tags"], "a;b;zeta", "config PUT normalises tags")
    e.wait(e.node.qemu(300).config.post(tags="pg-managed Ops ops"))
    t.eq(e.conf(300)["tags"], "ops;pg-managed",
         "config POST normalises tags")
    e.clone(301, name="tagclone")
    e.node.qemu(301).config.put(tags="b,a")
    upid = e.node.qemu(301).clone.post(newid=302, full=1)
    e.wait(upid)
    t.eq(e.conf(302).get("tags"), "a;b",
         "a clone keeps its source's (normalised) tags")


def drive_order(e):
    """qemu-server's Drive.pm print_drive and Network.pm print_net call
    pve-common's JSONSchema print_property_string: the default key first
    (the volume; for a NIC model=MAC through keyAlias), then the other keys
    sorted by name, size among them. create_disks drops 'format' of a new
    volume and sets the volume's size on an existing one."""
    t = e.t
    vm = e.node.qemu(301)
    vm.config.put(scsi1="local-lvm:2,ssd=1,discard=on,iothread=1,"
                        "cache=writeback,format=raw")
    t.eq(e.conf(301)["scsi1"], "local-lvm:vm-301-disk-1,cache=writeback,"
         "discard=on,iothread=1,size=2G,ssd=1",
         "a new disk: options by name, size among them, no format")
    vm.config.put(virtio0="data2:1,serial=abc,backup=0,aio=native")
    t.eq(e.conf(301)["virtio0"], "data2:vm-301-disk-0,aio=native,backup=0,"
         "serial=abc,size=1G", "virtio options by name")
    e.wait(vm.resize.put(disk="scsi1", size="+1G"))
    t.eq(e.conf(301)["scsi1"], "local-lvm:vm-301-disk-1,cache=writeback,"
         "discard=on,iothread=1,size=3G,ssd=1",
         "resize (print_drive) keeps the order")
    e.wait(vm.move_disk.post(disk="scsi1", storage="data2", delete=1))
    t.eq(e.conf(301)["scsi1"], "data2:vm-301-disk-1,cache=writeback,"
         "discard=on,iothread=1,size=3G,ssd=1",
         "move_disk (print_drive) keeps the order")
    vm.config.put(delete="virtio0")
    vm.config.put(sata0="data2:vm-301-disk-0,ssd=1,size=9G,backup=0")
    t.eq(e.conf(301)["sata0"], "data2:vm-301-disk-0,backup=0,size=1G,"
         "ssd=1", "an existing volume: its own size, options by name")
    vm.config.put(ide3="none,media=cdrom,size=4M")
    t.eq(e.conf(301)["ide3"], "none,media=cdrom",
         "'none' keeps no size")
    vm.config.put(net1="tag=5,firewall=1,model=virtio,bridge=vmbr0")
    net1 = e.conf(301)["net1"]
    t.ok(net1.startswith("virtio=BC:24:11:")
         and net1.endswith(",bridge=vmbr0,firewall=1,tag=5"),
         "print_net: model=MAC, then the rest by name", net1)


def task_list(e):
    """pve-manager's API2/Tasks.pm node_tasks: vmid matches the task's id
    (the UPID's ID part); source 'archive' (default) lists finished tasks,
    'active' running ones with status RUNNING; statusfilter is a list of
    ok/warning/error/unknown (PVE::UPID normalize_status_type), errors=1
    only drops 'ok'; typefilter, userfilter (case-insensitive part of the
    user), since/until on the start time, start/limit after the filter."""
    t = e.t
    e.clone(310, name="tasks")
    e.wait(e.node.qemu(310).resize.put(disk="scsi0", size="1G"))
    kinds = [(x["type"], x["id"]) for x in e.tasks(vmid=310)]
    t.ok(("resize", "310") in kinds and ("qmclone", "9000") not in kinds,
         "vmid=310: the VM's own tasks, not the clone that made it", kinds)
    kinds = [(x["type"], x["id"]) for x in e.tasks(vmid=9000, limit=500)]
    t.ok(("qmclone", "9000") in kinds and ("resize", "310") not in kinds,
         "vmid=9000: the clones of 9000", kinds)
    errs = e.tasks(errors=1, limit=500)
    t.ok(errs and all(x["status"] != "OK" for x in errs)
         and any(x["status"] == "shrinking disks is not supported"
                 for x in errs), "errors=1: only tasks that did not end OK",
         errs)
    t.eq(e.tasks(statusfilter="error", limit=500), errs,
         "statusfilter=error lists the same")
    oks = e.tasks(statusfilter="OK", limit=500)
    t.ok(oks and all(x["status"] == "OK" for x in oks),
         "statusfilter=OK (case-insensitive): only OK tasks", len(oks))
    t.eq(len(e.tasks(statusfilter="ok,error", limit=500)),
         len(oks) + len(errs), "statusfilter as a list")
    t.eq(e.tasks(statusfilter="ok", errors=1, limit=500), errs,
         "errors=1 wins over statusfilter")
    t.eq({x["type"] for x in e.tasks(typefilter="qmclone", limit=500)},
         {"qmclone"}, "typefilter")
    every = e.tasks(limit=500)
    t.eq(e.tasks(start=2, limit=3), every[2:5], "start and limit")
    t.eq(e.tasks(limit=0), [], "limit=0 lists nothing")
    t.eq(len(e.tasks(userfilter="ROOT@", limit=500)), len(every),
         "userfilter matches part of the user, case-insensitive")
    t.eq(e.tasks(userfilter="nobody@pve"), [], "userfilter excludes")
    t0 = min(x["starttime"] for x in every)
    t.eq(e.tasks(until=t0 - 1), [], "until: nothing started before")
    t.eq(len(e.tasks(since=t0, limit=500)), len(every), "since")
    t.eq(e.tasks(since=int(time.time()) + 3600), [], "since the future")

    upid = e.node.qemu(310).status.start.post()
    active = e.tasks(source="active")
    t.eq([(x["upid"], x.get("status")) for x in active], [(upid, "RUNNING")],
         "source=active: the running start, status RUNNING")
    t.ok(upid not in [x["upid"] for x in e.tasks(limit=500)],
         "the default (archive) lists no running task")
    t.eq([x["upid"] for x in e.tasks(source="all", limit=1)], [upid],
         "source=all: active first")
    t.eq(e.tasks(source="active", statusfilter="ok"), [],
         "a running task's status type is 'unknown'")
    e.wait(upid)
    t.ok(upid in [x["upid"] for x in e.tasks(limit=500)],
         "once ended it is in the archive")


def linked_clone(e):
    """qemu-server's API2/Qemu.pm clone_vm: load_and_check dies (HTTP 500,
    the message as reason) with 'storage' or 'format' for a linked clone,
    before any look at the disks (a VM that is no template)."""
    t = e.t
    q = e.node.qemu(9000).clone.post
    t.eq(e.refused(q, newid=320, full=0, storage="data2"),
         (500, "parameter 'storage' not allowed for linked clones"),
         "linked clone of the template with storage: 500")
    t.eq(e.refused(q, newid=320, full=0, format="qcow2"),
         (500, "parameter 'format' not allowed for linked clones"),
         "linked clone with format: 500")
    t.eq(e.refused(e.node.qemu(310).clone.post, newid=320, full=0,
                   storage="data2"),
         (500, "parameter 'storage' not allowed for linked clones"),
         "a VM that is no template: the same 500 comes first")
    t.eq(e.refused(q, newid=320, full=0, storage="isos")[0], 400,
         "a storage without images is a parameter error first")
    t.ok(not any(v.get("vmid") == 320
                 for v in e.px.cluster.resources.get(type="vm")),
         "no VM made")


def linked_clone_new_disk(e):
    """pve-storage's find_free_diskname skips the names on the storage: a
    linked clone's base-9000-disk-0/vm-N-disk-0 holds vm-N-disk-0, so a
    disk added to the clone is vm-N-disk-1."""
    t = e.t
    e.clone(330, full=0, name="linked")
    t.ok(e.conf(330)["scsi0"].startswith(
        "local-lvm:base-9000-disk-0/vm-330-disk-0"),
        "the linked clone's disk is on the base volume", e.conf(330))
    e.wait(e.node.qemu(330).config.post(scsi1="local-lvm:2"))
    t.ok(e.conf(330)["scsi1"].startswith("local-lvm:vm-330-disk-1,"),
         "a new disk of the linked clone is vm-330-disk-1",
         e.conf(330)["scsi1"])


def thin(e):
    """pve-storage's LvmThinPlugin alloc_image runs lvcreate --thinpool
    without a free-space check: a thin pool over-commits (ZFSPoolPlugin
    likewise with 'sparse'). A plain LVM volume group and the sim's dir
    storage refuse. A thin pool's status is its data usage: never more
    than its size."""
    t = e.t
    vm = e.node.qemu(301)
    t.eq(e.refused(vm.config.put, scsi3="local-lvm:150"), (200, None),
         "an over-commit of a thin pool is no error")
    t.eq(e.conf(301).get("scsi3"), "local-lvm:vm-301-disk-1,size=150G",
         "150G on a 100G thin pool is allocated")
    st = e.storage("local-lvm")
    t.eq((st["total"], st["used"], st["avail"]), (100 << 30, 100 << 30, 0),
         "the over-committed pool reports itself full, not beyond")
    e.wait(vm.resize.put(disk="scsi3" if "scsi3" in e.conf(301) else
                         "scsi1", size="+50G"))
    t.eq(e.conf(301).get("scsi3"), "local-lvm:vm-301-disk-1,size=200G",
         "a thin volume grows past the pool")
    for name in ("thick", "local"):
        code, msg = e.refused(vm.config.put, scsi4="%s:25" % name)
        t.eq((code, msg), (500, "unable to create image: not enough space "
                                "on storage '%s'" % name),
             "%s (25G on 20G) refuses" % name)
        t.eq(e.storage(name)["used"], 0, "and %s holds nothing" % name)
    t.ok("scsi4" not in e.conf(301), "no scsi4")


def shrink(e):
    """qemu-server's API2/Qemu.pm resize_vm, in its worker (the task
    fails): "shrinking disks is not supported" when the new size (absolute,
    or '+' added to the volume's size) is below the volume's; an equal one
    returns before anything is written. The size pattern refuses '-'."""
    t = e.t
    vm = e.node.qemu(310)
    before = e.conf(310)
    for size in ("3G", "3583M", "1"):
        st = e.wait(vm.resize.put(disk="scsi0", size=size))
        t.eq(st["exitstatus"], "shrinking disks is not supported",
             "resize to %s below 3584M: the task fails" % size)
    for size in ("3584M", "+0", "+0G"):
        st = e.wait(vm.resize.put(disk="scsi0", size=size))
        t.eq(st["exitstatus"], "OK", "resize to %s: OK" % size)
    after = e.conf(310)
    t.eq((after["scsi0"], after["digest"]), (before["scsi0"],
                                               before["digest"]),
         "nothing changed, the digest neither")
    t.eq(e.refused(vm.resize.put, disk="scsi0", size="-1G")[0], 400,
         "a negative size does not match the pattern")
    vm.config.put(scsi0=before["scsi0"].replace("size=3584M", "size=1G"))
    t.ok(e.conf(310)["scsi0"].endswith(",size=3584M"),
         "a config write cannot shrink: the volume's size is kept",
         e.conf(310)["scsi0"])


def passthrough(e):
    """qemu-server's create_disks: a path is no volume id, ':' in it or
    not (issue 14 fixed the refusal); the options are printed by name."""
    t = e.t
    vm = e.node.qemu(301)
    path = "/dev/disk/by-id/usb-Generic_Flash_Disk_1234-0:0"
    vm.config.put(scsi5=path + ",backup=0")
    t.eq(e.conf(301)["scsi5"], path + ",backup=0",
         "a passthrough path with ':' is accepted and kept")
    vm.config.put(scsi6=path + ",replicate=0,backup=0")
    t.eq(e.conf(301)["scsi6"], path + ",backup=0,replicate=0",
         "its options by name")


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-behaviour.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--topology", topo, "--token",
             "root@pam!ci=" + SECRET, "--task-ms", "30,qmstart=1500",
             "--boot-ms", "50") as sim:
        e = Env(t, sim)
        tags(e)
        drive_order(e)
        task_list(e)
        linked_clone(e)
        linked_clone_new_disk(e)
        thin(e)
        shrink(e)
        passthrough(e)
        rc = sim.stop()
        t.eq(rc, 0, "proxmox-sim exits cleanly")
        t.ok("ERROR" not in sim.stderr_text(), "no sanitizer report",
             sim.stderr_text())
    t.done()


main()
