#!/usr/bin/python3
"""proxmox-sim's move_disk, shutdown timeouts and pending changes, driven
by Debian's python3-proxmoxer, against what qemu-server 8 (stable-bookworm,
src/PVE/API2/Qemu.pm move_vm_disk, src/PVE/QemuServer.pm _do_vm_stop and
clone_disk) does:

- a linked clone's scsi0 moved from local-lvm to data2 becomes a full
  volume there, keeps its options, with delete=1 the old volume is freed
  (the template's base is not), without it the old one is unused0;
- the refusals answered at once (lock, digest, no such disk, a cdrom, the
  same storage and format, a missing or unsuitable storage, no target)
  and those of the worker (a full storage);
- a cloud-init drive moves (drive_is_cdrom excludes cloud-init drives)
  and gets its size= as clone_disk sets it;
- a running VM's disk moves by drive mirror and the VM keeps running;
- format is honoured on a dir storage only, for clones and moves;
- a guest that ignores ACPI (--guest-ignores-shutdown): shutdown fails
  after its timeout, forceStop=1 stops it, reboot fails; a guest slower
  than the timeout (here timeout=0) fails it too;
- /pending lists every key (and the digest), a reboot applies it;
- the request log holds every call (developers check it against the
  official schema by hand; the test reads nothing outside the project).

Usage: sim_move_disk.py PROXMOX_SIM
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import requests
import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, wait_task

urllib3.disable_warnings()
SECRET = "5e1f0c2a-7d4b-4e8a-9c3d-0123456789ab"
SIZE = 3584 << 20
DEAF = 171

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local, type: dir, content: "images,iso,backup",
         capacity: 100G}
      - {name: local-lvm, type: lvmthin, capacity: 1T}
      - {name: data2, type: lvmthin, capacity: 2T}
      - {name: tiny, type: lvmthin, capacity: 1G}
      - {name: isos, type: dir, content: iso, capacity: 10G}
  - name: node02
    storages:
      - {name: elsewhere, type: lvmthin, capacity: 1T}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: node01,
     cloudinit: local-lvm, disks: {scsi0: {storage: local-lvm, size: 3584M}}}
"""


class Env:
    def __init__(self, t, px, sim):
        self.t, self.px, self.sim = t, px, sim
        self.node = px.nodes("node01")

    def raw_post(self, path, data):
        """A POST through requests: proxmoxer drops the errors member."""
        r = requests.post(self.sim.api(path), data=data, verify=False,
                          timeout=30, headers={
                              "Authorization":
                              "PVEAPIToken=root@pam!ci=" + SECRET})
        return r.status_code, r.reason, r.json().get("errors")

    def wait(self, upid, timeout=30):
        return wait_task(self.node, upid, timeout)

    def run(self, upid):
        """Wait for a task; its exit status and its log lines."""
        st = self.wait(upid)
        log = [x["t"] for x in self.node.tasks(upid).log.get()]
        return st["exitstatus"], log

    def refused(self, fn, **kw):
        """(status, Proxmox's message, parameter errors) of a refusal."""
        try:
            fn(**kw)
        except ResourceException as e:
            return e.status_code, e.content, e.errors
        return 200, None, None

    def used(self, storage):
        return self.node.storage(storage).status.get()["used"]

    def conf(self, vmid):
        return self.node.qemu(vmid).config.get()

    def linked(self, vmid, name):
        upid = self.node.qemu(9000).clone.post(newid=vmid, name=name, full=0)
        self.t.eq(self.run(upid)[0], "OK", "linked clone %d made" % vmid)

    def move(self, vmid, **kw):
        return self.node.qemu(vmid).move_disk.post(**kw)


def move_stopped(e):
    t = e.t
    e.linked(150, "moved")
    e.node.qemu(150).config.put(
        scsi0="local-lvm:base-9000-disk-0/vm-150-disk-0,discard=on,"
              "iothread=1")
    before = e.conf(150)
    lvm, d2 = e.used("local-lvm"), e.used("data2")
    upid = e.move(150, disk="scsi0", storage="data2", delete=1)
    t.ok(upid.startswith("UPID:node01:") and ":qmmove:150:" in upid,
         "move_disk answers a qmmove task", upid)
    t.eq(e.conf(150)["scsi0"], before["scsi0"],
         "the drive is unchanged while the disk is copied")
    status, log = e.run(upid)
    t.eq(status, "OK", "the move ends OK")
    t.ok("create full clone of drive scsi0 "
         "(local-lvm:base-9000-disk-0/vm-150-disk-0)" in log,
         "the task log says what is copied", log)
    conf = e.conf(150)
    t.eq(conf["scsi0"], "data2:vm-150-disk-0,discard=on,iothread=1,"
         "size=3584M", "the disk is a full volume on data2, options kept")
    t.eq(sorted(k for k in conf if k.startswith("unused")), [],
         "delete=1 leaves no unused0")
    t.ok(conf["digest"] != before["digest"], "the digest changes")
    t.eq((e.used("local-lvm"), e.used("data2")), (lvm - SIZE, d2 + SIZE),
         "the clone's volume is freed and one as large is on data2 "
         "(the base is not freed)")
    t.eq(e.conf(9000)["scsi0"], "local-lvm:base-9000-disk-0,size=3584M",
         "the template's base volume is untouched")

    e.linked(151, "keeps")
    lvm = e.used("local-lvm")
    status, _ = e.run(e.move(151, disk="scsi0", storage="data2"))
    conf = e.conf(151)
    t.eq((status, conf["scsi0"], conf.get("unused0")),
         ("OK", "data2:vm-151-disk-0,size=3584M",
          "local-lvm:base-9000-disk-0/vm-151-disk-0"),
         "without delete the old volume becomes unused0")
    t.eq(e.used("local-lvm"), lvm, "and stays allocated")


def refusals(e):
    t = e.t
    q = e.node.qemu(151).move_disk.post
    t.eq(e.refused(q, disk="scsi0", storage="data2")[:2],
         (500, "you can't move to the same storage with same format"),
         "the same storage is refused")
    t.eq(e.refused(q, disk="scsi5", storage="data2")[:2],
         (500, "disk 'scsi5' does not exist"), "a missing disk is refused")
    e.node.qemu(151).config.put(ide0="none,media=cdrom")
    t.eq(e.refused(q, disk="ide0", storage="data2")[:2],
         (500, "you can't move a cdrom"), "a cdrom drive is refused")
    t.eq(e.refused(q, disk="scsi0", storage="local-lvm", digest="0" * 40)
         [:2], (500, "detected modified configuration - file changed by "
                "other user? Try again."), "a stale digest is refused")
    t.eq(e.refused(q, disk="scsi0", storage="nosuch")[:2],
         (500, "storage 'nosuch' does not exist"),
         "an unknown storage is refused")
    t.eq(e.refused(q, disk="scsi0", storage="elsewhere")[:2],
         (500, "storage 'elsewhere' is not available on node 'node01'"),
         "another node's storage is refused")
    path = "/nodes/node01/qemu/151/move_disk"
    t.eq(e.raw_post(path, {"disk": "scsi0", "storage": "isos"}),
         (400, "Parameter verification failed.",
          {"storage": "storage 'isos' does not support vm images"}),
         "a storage without images is a parameter error")
    none = ("both 'storage' and 'target-vmid' missing, either needs to be "
            "set")
    t.eq(e.raw_post(path, {"disk": "scsi0"}),
         (400, "Parameter verification failed.",
          {"storage": none, "target-vmid": none}),
         "a move without target is a parameter error")
    t.eq(e.refused(q, disk="scsi0", **{"target-vmid": 150})[0], 501,
         "reassigning to another VM is not simulated")
    status, log = e.run(q(disk="scsi0", storage="tiny"))
    t.eq(status, "storage migration failed: not enough space on storage "
         "'tiny'", "a full storage fails the task")
    t.eq(e.used("tiny"), 0, "and leaves nothing on it")

    upid = e.node.qemu(9000).clone.post(newid=160, name="busy", full=0)
    t.eq(e.refused(e.node.qemu(160).move_disk.post, disk="scsi0",
                   storage="data2")[:2],
         (500, "VM 160 is locked (clone)"), "a locked VM is refused")
    e.wait(upid)


def cloudinit(e):
    t = e.t
    ci = e.conf(151)["ide2"]
    t.eq(ci, "local-lvm:vm-151-cloudinit,media=cdrom",
         "the clone has a cloud-init drive")
    status, _ = e.run(e.move(151, disk="ide2", storage="data2", delete=1))
    conf = e.conf(151)
    t.eq((status, conf["ide2"]),
         ("OK", "data2:vm-151-cloudinit,media=cdrom,size=4M"),
         "a cloud-init drive moves (qemu-server excludes it from cdroms)")


def running(e):
    t = e.t
    e.linked(152, "live")
    e.run(e.node.qemu(152).status.start.post())
    status, log = e.run(e.move(152, disk="scsi0", storage="data2",
                               delete=1))
    t.eq((status, e.conf(152)["scsi0"]),
         ("OK", "data2:vm-152-disk-0,size=3584M"),
         "a running VM's disk moves")
    t.ok("drive mirror is starting for drive-scsi0" in log,
         "by drive mirror", log)
    t.eq(e.node.qemu(152).status.current.get()["status"], "running",
         "and the VM keeps running")


def formats(e):
    t = e.t
    q = e.node.qemu(9000).clone.post
    t.eq(e.refused(q, newid=159, full=0, format="qcow2")[:2],
         (500, "parameter 'format' not allowed for linked clones"),
         "a linked clone refuses format")
    t.eq(e.refused(q, newid=159, full=0, storage="data2")[:2],
         (500, "parameter 'storage' not allowed for linked clones"),
         "a linked clone refuses storage")
    e.run(q(newid=153, name="qcow", full=1, storage="local",
            format="qcow2"))
    t.eq(e.conf(153)["scsi0"], "local:153/vm-153-disk-0.qcow2,size=3584M",
         "a full clone to a dir storage takes the format asked for")
    e.run(q(newid=154, name="block", full=1, storage="data2",
            format="qcow2"))
    t.eq(e.conf(154)["scsi0"], "data2:vm-154-disk-0,size=3584M",
         "on a block storage it is raw whatever was asked")
    status, _ = e.run(e.move(153, disk="scsi0", storage="local",
                             format="raw", delete=1))
    t.eq((status, e.conf(153)["scsi0"]),
         ("OK", "local:153/vm-153-disk-1.raw,size=3584M"),
         "a move on the same dir storage to another format is allowed")
    t.eq(e.refused(e.node.qemu(153).move_disk.post, disk="scsi0",
                   storage="local", format="raw")[:2],
         (500, "you can't move to the same storage with same format"),
         "to the same format it is refused")
    status, _ = e.run(e.move(153, disk="scsi0", storage="data2",
                             format="qcow2", delete=1))
    t.eq((status, e.conf(153)["scsi0"]),
         ("OK", "data2:vm-153-disk-0,size=3584M"),
         "a move to a block storage is raw")


def shutdown(e):
    t = e.t
    e.linked(DEAF, "deaf")
    vm = e.node.qemu(DEAF)
    e.run(vm.status.start.post())
    began = time.time()
    status, _ = e.run(vm.status.shutdown.post(timeout=1))
    took = time.time() - began
    t.eq(status, "VM quit/powerdown failed - got timeout",
         "a guest that ignores shutdown fails it after the timeout")
    t.ok(took >= 1.0, "after the timeout", "took %.2fs" % took)
    t.eq(vm.status.current.get()["status"], "running", "the VM still runs")
    status, _ = e.run(vm.status.reboot.post(timeout=1))
    t.eq(status, "VM quit/powerdown failed - got timeout",
         "a reboot fails the same way")
    status, log = e.run(vm.status.shutdown.post(timeout=1, forceStop=1))
    t.eq((status, vm.status.current.get()["status"]), ("OK", "stopped"),
         "with forceStop=1 it is stopped after the timeout")
    t.ok("VM still running - terminating now with SIGTERM" in log,
         "and the log says so", log)
    other = e.node.qemu(152)
    status, _ = e.run(other.status.shutdown.post(timeout=0))
    t.eq((status, other.status.current.get()["status"]),
         ("VM quit/powerdown failed - got timeout", "running"),
         "timeout=0 is no time at all, as _do_vm_stop counts it")
    status, _ = e.run(other.status.shutdown.post(timeout=1))
    t.eq((status, other.status.current.get()["status"]), ("OK", "stopped"),
         "a guest that listens shuts down")


def pending(e):
    t = e.t
    vm = e.node.qemu(152)
    e.run(vm.status.start.post())
    vm.config.put(cores=4, delete="agent")
    items = {x["key"]: x for x in vm.pending.get()}
    t.eq((items["cores"].get("value"), items["cores"].get("pending")),
         (1, 4), "a running VM's change is pending with its value")
    t.eq(items["agent"].get("delete"), 1, "a delete is pending")
    t.eq(items["name"], {"key": "name", "value": "live"},
         "every key is listed, with no pending")
    t.eq(items["digest"].get("value"), e.conf(152)["digest"],
         "the digest is listed as Proxmox's parsed config holds it")
    e.run(vm.status.reboot.post())
    items = {x["key"]: x for x in vm.pending.get()}
    t.eq([k for k, x in items.items() if "pending" in x or "delete" in x],
         [], "a reboot applies the pending changes")
    t.eq((items["cores"]["value"], "agent" in items), (4, False),
         "cores and the delete took effect")
    vm.config.put(memory=2048)
    e.run(vm.status.shutdown.post(timeout=5))
    e.run(vm.status.start.post())
    items = {x["key"]: x for x in vm.pending.get()}
    t.eq((str(items["memory"].get("value")), "pending" in items["memory"]),
         ("2048", False), "a start applies them too")


def request_log(t, path):
    with open(path) as f:
        lines = [json.loads(x) for x in f]
    moves = [x for x in lines if x["path"].endswith("/move_disk")]
    t.ok(moves and all(x["method"] == "POST" and "disk" in x["params"]
                       for x in moves),
         "the request log records every move_disk with its parameters",
         moves[:2])
    t.ok(any(x["path"].endswith("/status/shutdown") and
             x["params"].get("forceStop") == "1" for x in lines),
         "and the shutdowns with forceStop")



def bad_flag(t, binary):
    p = subprocess.run([binary, "--guest-ignores-shutdown", "5"],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    t.eq((p.returncode, p.stderr.strip()),
         (2, "proxmox-sim: error: --guest-ignores-shutdown: '5' is not a "
          "VM id (100-999999999)"), "a bad --guest-ignores-shutdown is "
         "refused")


def main():
    t = Tap()
    bad_flag(t, sys.argv[1])
    work = tempfile.mkdtemp(prefix="sim-move-disk.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--topology",
             topo, "--task-ms", "20,qmmove=300,qmclone=500", "--boot-ms",
             "0", "--guest-ignores-shutdown", str(DEAF)) as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False, timeout=30)
        e = Env(t, px, sim)
        move_stopped(e)
        refusals(e)
        cloudinit(e)
        running(e)
        formats(e)
        shutdown(e)
        pending(e)
        request_log(t, sim.log)
    t.done()


if __name__ == "__main__":
    main()
