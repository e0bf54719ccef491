#!/usr/bin/python3
"""proxmox-sim's VM snapshots, driven by Debian's python3-proxmoxer, against
what qemu-server (src/PVE/API2/Qemu.pm snapshot_list, snapshot,
snapshot_cmd_idx, get/update_snapshot_config, rollback, delsnapshot,
template, move_vm_disk, vm_config; src/PVE/QemuConfig.pm) and
pve-guest-common (src/PVE/AbstractConfig.pm __snapshot_prepare,
__snapshot_commit, snapshot_delete, snapshot_rollback) do:

- the list: every snapshot (snaptime, vmstate, description, parent) and
  "current" (digest, running, "You are here!", parent);
- create (a qmsnapshot task): the section in snapstate "prepare" and the
  lock "snapshot" while it runs, then the VM's parent; the section's and
  GET config?snapshot=NAME's keys; vmstate=1 saved on a running VM (a
  volume vm-VMID-state-NAME on the state storage) and ignored on a stopped
  one;
- the refusals: reserved names (answered at once), a name used already,
  a template, a locked VM, storages without the snapshot feature (raw on
  dir, lvm) against qcow2 on dir (all in the task);
- rollback (a qmrollback task, the lock "rollback"): the configuration
  of the snapshot with the VM's description and the disks it lacks as
  unusedN, stopped, or running with start=1 or a vmstate; an incomplete
  snapshot refused;
- delete (a qmdelsnapshot task, the lock "snapshot-delete"): the
  children re-parented, the vmstate volume freed;
- a snapshot waits for the lock file (a clone of the VM); a clone with
  snapname takes the snapshot's config, no clone a parent; a template of
  a VM with snapshots, a move_disk with delete=1 of a
  snapshotted disk refused; destroy frees the state volumes; a topology
  "parent" is a snapshot; --state keeps them.

Usage: sim_snapshots.py PROXMOX_SIM
"""

import json
import os
import shutil
import sys
import tempfile
import time

import requests
import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, clean_exit, schema_check, wait_task

urllib3.disable_warnings()
SECRET = "0b8f3c1e-5a2d-4c6b-9e7f-3456789abcde"
SLOW = 600  # ms of the tasks whose lock is checked while they run

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local, type: dir, content: "images,iso,backup",
         capacity: 100G}
      - {name: local-lvm, type: lvmthin, capacity: 1T}
      - {name: plain, type: lvm, capacity: 1T}
templates:
  - {vmid: 9000, name: ubuntu24-template, node: node01,
     cloudinit: local-lvm, disks: {scsi0: {storage: local-lvm, size: 3584M}}}
vms:
  - {vmid: 300, name: rawdir, node: node01,
     disks: {scsi0: {storage: local, size: 1G}}}
  - {vmid: 301, name: onlvm, node: node01,
     disks: {scsi0: {storage: plain, size: 1G}}}
  - {vmid: 302, name: hassnap, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 1G}},
     config: {parent: before-upgrade}}
"""


class Env:
    def __init__(self, t, px, sim):
        self.t, self.px, self.sim = t, px, sim
        self.node = px.nodes("node01")

    def vm(self, vmid):
        return self.node.qemu(vmid)

    def raw(self, method, path, data=None):
        """A call through requests: proxmoxer drops the errors member."""
        r = requests.request(method, self.sim.api(path), data=data,
                             verify=False, timeout=30, headers={
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
        """(status, Proxmox's message) of a refusal answered at once."""
        try:
            fn(**kw)
        except ResourceException as e:
            return e.status_code, e.content
        return 200, None

    def snaps(self, vmid):
        return {x["name"]: x for x in self.vm(vmid).snapshot.get()}

    def conf(self, vmid):
        return self.vm(vmid).config.get()

    def snap(self, vmid, name, **kw):
        return self.run(self.vm(vmid).snapshot.post(snapname=name, **kw))

    def used(self, storage):
        return self.node.storage(storage).status.get()["used"]

    def clone_of(self, src, vmid, name, **kw):
        upid = self.vm(src).clone.post(newid=vmid, name=name, **kw)
        self.t.eq(self.run(upid)[0], "OK", "clone %d made" % vmid)

    def clone(self, vmid, name, **kw):
        upid = self.vm(9000).clone.post(newid=vmid, name=name, **kw)
        self.t.eq(self.run(upid)[0], "OK", "clone %d made" % vmid)


def create(e):
    t = e.t
    e.clone(150, "snappy", full=0)
    lst = e.vm(150).snapshot.get()
    t.eq([(x["name"], x["description"], x["running"], "parent" in x)
          for x in lst], [("current", "You are here!", 0, False)],
         "a VM without snapshots lists only 'current'")
    t.eq(lst[0]["digest"], e.conf(150)["digest"],
         "'current' carries the config's digest")
    before = int(time.time())
    upid = e.vm(150).snapshot.post(snapname="s1", description="first")
    t.ok(":qmsnapshot:150:" in upid, "create answers a qmsnapshot task", upid)
    t.eq(e.conf(150).get("lock"), "snapshot",
         "the VM is locked (snapshot) while the task runs")
    t.eq(e.snaps(150)["s1"].get("snapstate"), "prepare",
         "the snapshot is listed in snapstate 'prepare' meanwhile")
    t.eq(e.refused(e.vm(150).config.put, name="other"),
         (500, "VM 150 is locked (snapshot)"),
         "a config change is refused during the task")
    second = e.vm(150).snapshot.post(snapname="s2")
    back = e.vm(150).snapshot("s1").rollback.post()
    st, log = e.run(upid)
    t.eq(st, "OK", "the qmsnapshot task ends OK")
    t.ok("snapshotting 'drive-scsi0' (local-lvm:base-9000-disk-0/"
         "vm-150-disk-0)" in log and not any("ide2" in x for x in log),
         "its log names the disk, not the cloud-init drive", log)
    t.eq(e.run(second)[0], "VM 150 is locked (snapshot)",
         "a second snapshot during the first fails its task")
    t.eq(e.run(back)[0], "unable to rollback to incomplete snapshot "
         "(snapstate = prepare)", "a rollback to the snapshot being taken "
         "fails its task")
    conf = e.conf(150)
    t.eq((conf.get("parent"), "lock" in conf), ("s1", False),
         "after it the VM's parent is s1 and the lock is gone")
    s1 = e.snaps(150)["s1"]
    t.eq((s1["description"], s1["vmstate"], "parent" in s1,
          "snapstate" in s1), ("first", 0, False, False),
         "s1 is listed: description, no vmstate, no parent")
    t.ok(isinstance(s1["snaptime"], int) and
         before <= s1["snaptime"] <= time.time() + 1,
         "with its snaptime", s1)
    t.eq(e.snaps(150)["current"].get("parent"), "s1",
         "'current' names s1 as its parent")
    sc = e.vm(150).snapshot("s1").config.get()
    t.eq((sc["scsi0"], sc["name"], sc["description"], sc["memory"],
          "lock" in sc, "digest" in sc),
         (conf["scsi0"], "snappy", "first", conf["memory"], False, False),
         "the snapshot's config: the VM's keys and its description")
    t.ok(isinstance(sc["snaptime"], int), "snaptime is an integer there "
         "too (check_type of the config schema)", sc.get("snaptime"))
    via = e.vm(150).config.get(snapshot="s1")
    t.eq((via["scsi0"], via["snaptime"], via["digest"]),
         (sc["scsi0"], sc["snaptime"], conf["digest"]),
         "GET config with snapshot= answers the section and the digest")
    t.eq(e.vm(150).snapshot("s1").get(),
         [{"cmd": "rollback"}, {"cmd": "config"}],
         "the snapshot's index: rollback and config")


def chain(e):
    t = e.t
    e.vm(150).config.put(memory=2048, name="changed",
                         description="the VM's own")
    st, _ = e.snap(150, "s2", vmstate=1)
    t.eq(st, "OK", "s2 of a stopped VM with vmstate=1")
    s2 = e.snaps(150)["s2"]
    t.eq((s2["vmstate"], s2.get("parent")), (0, "s1"),
         "vmstate=1 is ignored on a stopped VM; s2's parent is s1")
    t.ok("vmstate" not in e.vm(150).snapshot("s2").config.get(),
         "s2's section has no vmstate")
    t.eq(e.snap(150, "s3")[0], "OK", "s3 taken")
    t.eq(e.snap(150, "s1")[0], "snapshot name 's1' already used",
         "a name in use fails the task with Proxmox's message")
    for name, word in (("current", "current"), ("Pending", "pending")):
        t.eq(e.refused(e.vm(150).snapshot.post, snapname=name),
             (500, "unable to use snapshot name '%s' (reserved name)" %
              word), "the name %s is refused at once" % name)
    code, _, errors = e.raw("POST", "/nodes/node01/qemu/150/snapshot",
                            {"snapname": "1st"})
    t.ok(code == 400 and "snapname" in (errors or {}),
         "a name that is no configid is a parameter error", errors)
    code, _, errors = e.raw("GET", "/nodes/node01/qemu/150/config",
                            {"snapshot": "s1", "current": "1"})
    t.eq((code, sorted(errors or {})), (400, ["current", "snapshot"]),
         "snapshot= with current=1 is refused")
    t.eq(e.refused(e.vm(150).config.get, snapshot="nope"),
         (500, "snapshot 'nope' does not exist"),
         "GET config of a missing snapshot")
    t.eq(e.refused(e.vm(150).snapshot("nope").config.get),
         (500, "snapshot 'nope' does not exist"),
         "GET snapshot config of a missing snapshot")
    digest = e.conf(150)["digest"]
    t.eq(e.vm(150).snapshot("s2").config.put(description="second"), None,
         "PUT a snapshot's description answers null")
    t.eq((e.snaps(150)["s2"]["description"], e.conf(150)["digest"] != digest),
         ("second", True), "the description is set, the digest changed")
    t.eq(e.refused(e.vm(150).snapshot("nope").config.put, description="x"),
         (500, "snapshot 'nope' does not exist"),
         "PUT the description of a missing snapshot")


def rollback(e):
    t = e.t
    e.run(e.vm(150).status.start.post())
    upid = e.vm(150).snapshot("s1").rollback.post()
    t.ok(":qmrollback:150:" in upid, "rollback answers a qmrollback task")
    t.eq(e.conf(150).get("lock"), "rollback",
         "the VM is locked (rollback) while it runs")
    t.eq(e.run(upid)[0], "OK", "the rollback ends OK")
    conf = e.conf(150)
    t.eq((str(conf["memory"]), conf["name"], conf["description"],
          conf.get("parent"), "lock" in conf, "snaptime" in conf),
         ("1024", "snappy", "the VM's own", "s1", False, False),
         "the config is s1's, the VM's description stays, parent is s1")
    st = e.vm(150).status.current.get()["status"]
    t.eq(st, "stopped", "a running VM is stopped by a rollback")
    t.eq(e.run(e.vm(150).snapshot("s3").rollback.post(start=1))[0], "OK",
         "rollback to s3 with start=1")
    t.eq((e.vm(150).status.current.get()["status"],
          str(e.conf(150)["memory"])),
         ("running", "2048"), "start=1 starts it after the rollback")
    # __snapshot_rollback_vm_stop stops the process, paused or not
    e.run(e.vm(150).status.suspend.post())
    e.run(e.vm(150).snapshot("s3").rollback.post(start=1))
    t.eq(e.vm(150).status.current.get()["qmpstatus"], "running",
         "a paused VM rolled back with start=1 runs, not paused")
    e.vm(150).config.put(scsi1="local-lvm:1")
    added = e.conf(150)["scsi1"].split(",")[0]
    e.run(e.vm(150).snapshot("s3").rollback.post(start=1))
    conf = e.conf(150)
    t.eq(("scsi1" in conf, conf.get("unused0")), (False, added),
         "a disk added after the snapshot is unused0 after a rollback")
    e.vm(150).config.put(delete="unused0")
    st, _ = e.run(e.vm(150).snapshot("nope").rollback.post())
    t.eq(st, "snapshot 'nope' does not exist",
         "a rollback to a missing snapshot fails its task")
    st, _ = e.run(e.node.qemu(999).snapshot("s1").rollback.post())
    t.eq(st, "Configuration file 'nodes/node01/qemu-server/999.conf' does "
         "not exist", "a rollback of a missing VM fails its task")


def vmstate(e):
    t = e.t
    used = e.used("local-lvm")
    st, log = e.snap(150, "live", vmstate=1)
    t.eq(st, "OK", "a snapshot with vmstate=1 of a running VM")
    sec = e.vm(150).snapshot("live").config.get()
    t.eq((sec.get("vmstate"), "runningmachine" in sec),
         ("local-lvm:vm-150-state-live", True),
         "the section names the state volume and the machine")
    t.ok("saving VM state and RAM using storage 'local-lvm'" in log, "the "
         "log says where the state goes", log)
    t.eq(e.used("local-lvm") - used, (2048 * 2 + 500) << 20,
         "the state volume has twice the memory and 500 MiB")
    t.eq(e.snaps(150)["live"]["vmstate"], 1, "the list says vmstate 1")
    e.run(e.vm(150).status.stop.post())
    e.run(e.vm(150).snapshot("live").rollback.post())
    conf = e.conf(150)
    t.eq((e.vm(150).status.current.get()["status"], "vmstate" in conf,
          "runningmachine" in conf), ("running", False, False),
         "a rollback to a state starts the VM; the state keys stay behind")
    upid = e.vm(150).snapshot("live").delete()
    t.ok(":qmdelsnapshot:150:" in upid, "delete answers a qmdelsnapshot task")
    t.eq((e.conf(150).get("lock"), e.snaps(150)["live"].get("snapstate")),
         ("snapshot-delete", "delete"),
         "the lock snapshot-delete and snapstate delete while it runs")
    t.eq(e.run(upid)[0], "OK", "the delete ends OK")
    t.eq(e.used("local-lvm"), used, "the state volume is freed")


def delete(e):
    t = e.t
    e.run(e.vm(150).status.stop.post())
    t.eq(e.snaps(150)["s3"].get("parent"), "s2", "s3's parent is s2")
    t.eq(e.run(e.vm(150).snapshot("s2").delete())[0], "OK", "s2 deleted")
    lst = e.snaps(150)
    t.eq((sorted(lst), lst["s3"].get("parent")),
         (["current", "s1", "s3"], "s1"),
         "s2 is gone and its child s3 has s1 as its parent")
    t.eq(e.run(e.vm(150).snapshot("s1").rollback.post())[0], "OK",
         "back to s1")
    t.eq(e.run(e.vm(150).snapshot("s1").delete(force=1))[0], "OK",
         "s1 deleted (force=1)")
    lst = e.snaps(150)
    t.eq(("parent" in lst["s3"], "parent" in lst["current"]), (False, False),
         "s1's children (s3 and the VM) have no parent left")
    t.ok("parent" not in e.conf(150), "the VM's config has no parent")
    st, _ = e.run(e.vm(150).snapshot("nope").delete())
    t.eq(st, "snapshot 'nope' does not exist",
         "a delete of a missing snapshot fails its task")


def refusals(e):
    t = e.t
    t.eq(e.refused(e.vm(150).template.post),
         (500, "unable to create template, because VM contains snapshots"),
         "a VM with snapshots is no template")
    code, reason, _ = e.raw("POST", "/nodes/node01/qemu/150/move_disk",
                            {"disk": "scsi0", "storage": "local",
                             "delete": "1"})
    t.eq((code, reason), (500, "you can't move a disk with snapshots and "
                          "delete the source"),
         "move_disk with delete=1 of a snapshotted disk is refused")
    st, log = e.run(e.vm(150).move_disk.post(disk="scsi0", storage="local"))
    t.ok(st == "OK" and "moving disk with snapshots, snapshots will not be "
         "moved!" in log, "without delete it moves, with Proxmox's warning",
         (st, log))
    for vmid, why in ((300, "raw on dir"), (301, "on lvm")):
        t.eq(e.snap(vmid, "snap")[0], "snapshot feature is not available",
             "a disk %s: the task fails without the snapshot feature" % why)
        t.eq(sorted(e.snaps(vmid)), ["current"], "and leaves no snapshot")
    e.clone(160, "qcow", full=1, storage="local", format="qcow2")
    t.eq(e.snap(160, "snap")[0], "OK", "qcow2 on dir has the feature")
    t.eq(e.snap(9000, "snap")[0], "you can't take a snapshot if it's a template",
         "a template's snapshot fails its task")
    lst = e.snaps(302)
    t.eq((sorted(lst), lst["current"].get("parent")),
         (["before-upgrade", "current"], "before-upgrade"),
         "a topology 'parent' is a snapshot of the VM")


def lockfile(e):
    t = e.t
    clone = e.vm(160).clone.post(newid=175, name="copy", full=1)
    upid = e.vm(160).snapshot.post(snapname="meanwhile")
    t.eq(e.node.tasks(clone).status.get()["status"], "stopped",
         "a snapshot waits for the lock file a clone of the VM holds")
    t.eq((e.run(clone)[0], e.run(upid)[0]), ("OK", "OK"),
         "then both tasks end OK")


def clones(e):
    t = e.t
    s3 = e.vm(150).snapshot("s3").config.get()
    e.clone_of(150, 176, "froms3", full=1, snapname="s3")
    conf = e.conf(176)
    t.eq((str(conf["memory"]), "parent" in conf, "snaptime" in conf),
         (str(s3["memory"]), False, False),
         "a clone with snapname takes the snapshot's config, no parent")
    t.ok(e.conf(160).get("parent") and "parent" not in e.conf(175),
         "a clone of a VM with a parent has none")
    t.eq(e.refused(e.vm(150).clone.post, newid=177, snapname="nope"),
         (500, "snapshot 'nope' does not exist"),
         "a clone of a missing snapshot is refused")


def destroy(e):
    t = e.t
    used = e.used("local-lvm")
    e.clone(170, "gone", full=1)
    e.run(e.vm(170).status.start.post())
    t.eq(e.snap(170, "live", vmstate=1)[0], "OK", "170 has a state")
    e.run(e.vm(170).status.stop.post())
    t.eq(e.run(e.vm(170).delete())[0], "OK", "170 destroyed")
    t.eq(e.used("local-lvm"), used,
         "destroy_vm frees the snapshots' state volumes too")


def persist(t, binary, topo):
    work = tempfile.mkdtemp(prefix="sim-snapshots-state.")
    state = os.path.join(work, "state.json")
    args = ("--token", "root@pam!ci=" + SECRET, "--topology", topo,
            "--task-ms", "20", "--state", state)
    with Sim(binary, *args) as sim:
        e = Env(t, ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                              token_name="ci", token_value=SECRET,
                              verify_ssl=False, timeout=30), sim)
        e.snap(302, "kept", description="over a restart")
        want = e.snaps(302)
    with Sim(binary, *args) as sim:
        e = Env(t, ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                              token_name="ci", token_value=SECRET,
                              verify_ssl=False, timeout=30), sim)
        t.eq(e.snaps(302), want, "--state keeps the snapshots")
    shutil.rmtree(work, ignore_errors=True)


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-snapshots.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    slow = ",".join("%s=%d" % (k, SLOW) for k in
                    ("qmsnapshot", "qmrollback", "qmdelsnapshot",
                     "qmclone"))
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--topology",
             topo, "--task-ms", "20," + slow, "--boot-ms", "0") as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False, timeout=30)
        e = Env(t, px, sim)
        create(e)
        chain(e)
        rollback(e)
        vmstate(e)
        delete(e)
        refusals(e)
        lockfile(e)
        clones(e)
        destroy(e)
        with open(sim.log) as f:
            paths = [json.loads(x)["path"] for x in f]
        t.ok(any("/snapshot/s1/rollback" in p for p in paths),
             "the request log records the snapshot calls")
        schema_check(t, sim, clean=False)
        clean_exit(t, sim)
    persist(t, sys.argv[1], topo)
    shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
