#!/usr/bin/python3
"""proxmox-sim's migration, unlink, suspend/resume/reset and HA resources,
driven by Debian's python3-proxmoxer, against what qemu-server
(src/PVE/API2/Qemu.pm migrate_vm_precondition, migrate_vm, unlink,
vm_suspend, vm_resume, vm_reset; src/PVE/QemuMigrate.pm prepare and
scan_local_volumes; src/PVE/QemuServer/RunState.pm), pve-guest-common
(AbstractMigrate.pm) and pve-ha-manager (src/PVE/API2/HA/Resources.pm,
PVE/HA/Config.pm) do:

- GET .../migrate lists the allowed nodes, the nodes lacking a storage,
  the local disks and the local resources;
- the refusals before the task (local node, unknown node, a storage the
  target lacks, a running VM without online, root-only force, a bad
  storage map, a lock) and those of the worker, which fail the qmigrate
  task with "migration aborted" (local devices, an offline target, live
  migration of local disks without with-local-disks, a linked clone, a
  template's base used by clones);
- a migration takes its task time with the lock "migrate", then the VM,
  its vmid and its local volumes are on the target (or on targetstorage),
  a shared disk stays, a running VM keeps running; /cluster/resources and
  the node lists follow;
- unlink: without force a drive becomes unusedN, with force its volume is
  freed, unusedN is freed; a running VM's IDE/SATA drive waits in pending;
- suspend (qmpause: qmpstatus paused), resume, reset, suspend to disk
  (qmsuspend: lock suspended, a vmstate volume; start or resume brings it
  back), and their refusals;
- HA resources: create, read (by vm:ID and by ID), update, delete, and the
  refusals; an HA-managed VM migrates through a hamigrate task.

Usage: sim_migrate.py PROXMOX_SIM
"""

import json
import os
import sys
import tempfile

import requests
import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, clean_exit, wait_task

urllib3.disable_warnings()
SECRET = "0b5e2c71-3f4a-4d2e-9a8b-76543210fedc"
OPS = "6c1d9e0f-2b3a-4c5d-8e7f-0123456789ab"
ROOTPW = "sim-root-pw"
G = 1 << 30

STORAGES = """\
      - {name: local, type: dir, content: "images,iso,backup", capacity: 100G}
      - {name: local-lvm, type: lvmthin, capacity: 1T}
      - {name: nfs1, type: nfs, shared: true, capacity: 1T}
"""
TOPOLOGY = """\
nodes:
  - name: node01
    storages:
%(s)s      - {name: data2, type: lvmthin, capacity: 1T}
  - name: node02
    storages:
%(s)s      - {name: data2, type: lvmthin, capacity: 1T}
  - name: node03
    storages:
%(s)s  - name: node04
    online: false
    storages:
%(s)s      - {name: data2, type: lvmthin, capacity: 1T}
templates:
  - {vmid: 9000, name: tpl, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 100, name: offline, node: node01, cloudinit: local-lvm,
     disks: {scsi0: {storage: local-lvm, size: 4G},
             scsi1: {storage: data2, size: 2G}}}
  - {vmid: 101, name: live, node: node01, status: running,
     disks: {scsi0: {storage: local-lvm, size: 4G}}}
  - {vmid: 102, name: shared, node: node01, status: running,
     disks: {scsi0: {storage: nfs1, size: 4G}}}
  - {vmid: 103, name: pci, node: node01, config: {hostpci0: "0000:01:00.0"},
     disks: {scsi0: {storage: local-lvm, size: 4G}}}
  - {vmid: 104, name: unlink, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 4G},
             scsi1: {storage: local-lvm, size: 1G},
             scsi2: {storage: local-lvm, size: 1G}}}
  - {vmid: 105, name: unlinkrun, node: node01, status: running,
     disks: {scsi0: {storage: local-lvm, size: 4G},
             sata0: {storage: local-lvm, size: 1G},
             scsi1: {storage: local-lvm, size: 1G}}}
  - {vmid: 106, name: power, node: node01, status: running,
     disks: {scsi0: {storage: local-lvm, size: 4G}}}
  - {vmid: 107, name: hibernate, node: node01, status: running,
     disks: {scsi0: {storage: local-lvm, size: 4G}}}
  - {vmid: 108, name: ha, node: node01,
     disks: {scsi0: {storage: nfs1, size: 4G}}}
  - {vmid: 109, name: snapped, node: node01, config: {parent: before},
     disks: {scsi0: {storage: local-lvm, size: 4G}}}
  - {vmid: 110, name: snaprun, node: node01, status: running,
     config: {parent: before}, disks: {scsi0: {storage: local-lvm, size: 4G}}}
users:
  - userid: ops@pve
    tokens: [{id: ci, secret: %(ops)s}]
""" % {"s": STORAGES, "ops": OPS}


class Env:
    def __init__(self, t, sim):
        self.t, self.sim = t, sim
        self.px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                             token_name="ci", token_value=SECRET,
                             verify_ssl=False, timeout=30)

    def node(self, name="node01"):
        return self.px.nodes(name)

    def vm(self, vmid, node="node01"):
        return self.px.nodes(node).qemu(vmid)

    def raw(self, method, path, data=None, token=("root@pam!ci", SECRET)):
        """A call through requests: proxmoxer drops the errors member."""
        r = requests.request(method, self.sim.api(path), data=data,
                             verify=False, timeout=30, headers={
                                 "Authorization":
                                 "PVEAPIToken=%s=%s" % token})
        return r.status_code, r.reason, r.json().get("errors")

    def refused(self, fn, **kw):
        """(status, Proxmox's message) of a refusal."""
        try:
            fn(**kw)
        except ResourceException as e:
            return e.status_code, e.content
        return 200, None

    def wait(self, upid, timeout=30):
        node = self.px.nodes(upid.split(":")[1])
        st = wait_task(node, upid, timeout)
        return st["exitstatus"], [x["t"] for x in node.tasks(upid).log.get()]

    def hastate(self, vmid):
        """/cluster/resources' hastate for vmid (None: not managed)."""
        for r in self.px.cluster.resources.get(type="vm"):
            if r["vmid"] == vmid:
                return r.get("hastate")
        return None

    def used(self, storage, node="node01"):
        return self.node(node).storage(storage).status.get()["used"]

    def where(self, vmid):
        """The node /cluster/resources names for vmid."""
        for r in self.px.cluster.resources.get(type="vm"):
            if r["vmid"] == vmid:
                return r["node"]
        return None


def precondition(e):
    t = e.t
    pre = e.vm(100).migrate.get()
    t.eq((pre["running"], sorted(pre["allowed_nodes"]),
          pre["not_allowed_nodes"], pre["local_resources"]),
         (0, ["node02", "node04"],
          {"node03": {"unavailable_storages": ["data2"]}}, []),
         "GET migrate: allowed nodes, the node lacking data2, no local "
         "resources")
    disks = {d["volid"]: d for d in pre["local_disks"]}
    t.eq(sorted(disks), ["data2:vm-100-disk-1", "local-lvm:vm-100-cloudinit",
                         "local-lvm:vm-100-disk-0"],
         "every local volume is a local disk")
    d0 = disks["local-lvm:vm-100-disk-0"]
    t.eq((d0["size"], d0["drivename"], d0["is_unused"], d0["cdrom"]),
         (4 * G, "scsi0", 0, 0), "with its size and drive")
    t.eq((disks["local-lvm:vm-100-cloudinit"]["is_cloudinit"],
          disks["local-lvm:vm-100-cloudinit"]["cdrom"]), (1, 1),
         "the cloud-init drive is a cdrom")
    t.eq(e.vm(103).migrate.get()["local_resources"], ["hostpci0"],
         "a passed-through PCI device is a local resource")
    pre = e.vm(102).migrate.get()
    t.eq((pre["running"], pre["local_disks"]), (1, []),
         "a disk on shared storage is no local disk")


def refusals(e):
    t = e.t
    path = "/nodes/node01/qemu/100/migrate"
    t.eq(e.raw("POST", path, {"target": "node01"}),
         (400, "Parameter verification failed.",
          {"target": "target is local node."}), "the local node is refused")
    m = e.vm(100).migrate.post
    t.eq(e.refused(m, target="node09"),
         (500, "no such cluster node 'node09'"), "an unknown node is refused")
    t.eq(e.refused(m, target="node03"),
         (500, "storage 'data2' is not available on node 'node03'"),
         "a node lacking a storage of a drive is refused")
    t.eq(e.refused(e.vm(101).migrate.post, target="node02"),
         (500, "can't migrate running VM without --online"),
         "a running VM without online is refused")
    t.eq(e.raw("POST", path, {"target": "node02", "force": "1"},
               token=("ops@pve!ci", OPS)),
         (400, "Parameter verification failed.",
          {"force": "Only root may use this option."}),
         "force is root's only")
    t.eq(e.raw("POST", path, {"target": "node02",
                              "targetstorage": "data2:local-lvm,data2:nfs1"}),
         (400, "Parameter verification failed.",
          {"targetstorage": "failed to parse storage map: duplicate "
           "mapping for source 'data2'\n"}), "a bad storage map is refused")
    t.eq(e.refused(m, target="node02", targetstorage="nosuch"),
         (500, "storage 'nosuch' does not exist"),
         "an unknown target storage is refused")


def worker_refusals(e):
    t = e.t
    status, log = e.wait(e.vm(103).migrate.post(target="node02"))
    t.eq(status, "migration aborted", "local devices fail the task")
    t.ok(any("can't migrate VM which uses local devices: hostpci0" in x
             for x in log), "with Proxmox's reason in the log", log)
    upid = e.vm(101).migrate.post(target="node02", online=1)
    t.ok(":qmigrate:101:" in upid, "a migration is a qmigrate task", upid)
    status, log = e.wait(upid)
    t.eq(status, "migration aborted",
         "a live migration of a local disk needs with-local-disks")
    t.ok(any("can't live migrate attached local disks without "
             "with-local-disks option" in x for x in log) and
         any("can't migrate VM - check log" in x for x in log),
         "the log says why", log)
    t.eq((e.where(101), e.vm(101).config.get().get("lock")),
         ("node01", None), "the VM stays, unlocked")
    status, log = e.wait(e.vm(100).migrate.post(target="node04"))
    t.ok(status == "migration aborted" and
         any("Can't connect to destination address using public key" in x
             for x in log), "an offline target fails the task", log)
    status, log = e.wait(e.node().qemu(9000).clone.post(newid=150,
                                                        name="lc", full=0))
    status, log = e.wait(e.vm(150).migrate.post(target="node02"))
    t.ok(status == "migration aborted" and any(
        "can't migrate 'local-lvm:base-9000-disk-0/vm-150-disk-0' as it's a "
        "clone of 'base-9000-disk-0'" in x for x in log),
        "a linked clone on local storage fails", log)
    status, log = e.wait(e.vm(9000).migrate.post(target="node02"))
    t.ok(status == "migration aborted" and any(
        "can't migrate local disk 'local-lvm:base-9000-disk-0': referenced "
        "by linked clone(s)" in x for x in log),
        "a template whose base a clone uses fails", log)
    # QemuMigrate.pm scan_local_volumes: a local disk a snapshot holds
    status, log = e.wait(e.vm(109).migrate.post(target="node02"))
    t.ok(status == "migration aborted" and any(
        "can't migrate local disk 'local-lvm:vm-109-disk-0': non-migratable "
        "snapshot exists" in x for x in log),
        "an lvmthin disk with a snapshot does not migrate offline", log)
    status, log = e.wait(e.vm(110).migrate.post(
        target="node02", online=1, **{"with-local-disks": 1}))
    t.ok(status == "migration aborted" and any(
        "can't migrate local disk 'local-lvm:vm-110-disk-0': online storage "
        "migration not possible if non-replicated snapshot exists" in x
        for x in log), "nor live with with-local-disks", log)
    t.eq((e.where(109), e.where(110), e.vm(109).config.get().get("lock")),
         ("node01", "node01", None), "both stay, unlocked")


def offline(e):
    t = e.t
    before = (e.used("local-lvm"), e.used("local-lvm", "node02"))
    upid = e.vm(100).migrate.post(target="node02")
    conf = e.vm(100).config.get()
    t.eq(conf.get("lock"), "migrate", "the VM is locked during the task")
    t.eq(e.refused(e.vm(100).config.put, memory=2048),
         (500, "VM 100 is locked (migrate)"), "a change is refused then")
    t.eq(e.refused(e.vm(100).migrate.post, target="node02"),
         (500, "VM 100 is locked (migrate)"), "and a second migration")
    t.eq(e.where(100), "node01", "the VM is on its node until the end")
    status, _ = e.wait(upid)
    t.eq(status, "OK", "the offline migration ends OK")
    t.eq(e.refused(e.vm(100).config.get),
         (500, "Configuration file 'nodes/node01/qemu-server/100.conf' does "
          "not exist"), "the source node has no VM 100 any more")
    conf = e.vm(100, "node02").config.get()
    t.eq((conf.get("lock"), conf["scsi0"], conf["scsi1"], conf["ide2"]),
         (None, "local-lvm:vm-100-disk-0,size=4G",
          "data2:vm-100-disk-1,size=2G",
          "local-lvm:vm-100-cloudinit,media=cdrom"),
         "VM 100 is on node02, unlocked, its volumes with it")
    t.eq((e.where(100), [v["vmid"] for v in e.node("node02").qemu.get()],
          100 in [v["vmid"] for v in e.node().qemu.get()]),
         ("node02", [100], False),
         "/cluster/resources and the node lists show it on node02")
    t.eq((e.used("local-lvm"), e.used("local-lvm", "node02")),
         (before[0] - 4 * G - (4 << 20), before[1] + 4 * G + (4 << 20)),
         "its local-lvm volumes moved from node01 to node02")
    t.eq(e.refused(e.vm(103).migrate.post, target="node02", force=1)[0],
         400, "force is refused to a token of root too")
    root = ProxmoxAPI("127.0.0.1", port=e.sim.port, user="root@pam",
                      password=ROOTPW, verify_ssl=False, timeout=30)
    upid = root.nodes("node01").qemu(103).migrate.post(target="node02",
                                                        force=1)
    status, log = e.wait(upid)
    t.eq((status, e.where(103)), ("OK", "node02"),
         "root@pam's force migrates a VM with local devices offline")
    t.ok("migrating VM which uses local devices" in log, "and says so",
         log)


def online(e):
    t = e.t
    upid = e.vm(101).migrate.post(target="node02", online=1,
                                  **{"with-local-disks": 1,
                                     "targetstorage": "data2"})
    status, log = e.wait(upid)
    t.eq(status, "OK", "a live migration with local disks ends OK")
    st = e.vm(101, "node02").status.current.get()
    conf = e.vm(101, "node02").config.get()
    t.eq((st["status"], st["qmpstatus"], conf["scsi0"]),
         ("running", "running", "data2:vm-101-disk-0,size=4G"),
         "the VM runs on node02, its disk on the target storage")
    status, _ = e.wait(e.vm(102).migrate.post(target="node03", online=1))
    conf = e.vm(102, "node03").config.get()
    t.eq((status, conf["scsi0"], e.where(102)),
         ("OK", "nfs1:vm-102-disk-0,size=4G", "node03"),
         "a shared disk needs no with-local-disks and stays where it is")


def unlink(e):
    t = e.t
    vm = e.vm(104)
    used = e.used("local-lvm")
    t.eq(vm.unlink.put(idlist="scsi1"), None, "unlink answers null")
    conf = vm.config.get()
    t.eq(("scsi1" in conf, conf.get("unused0")),
         (False, "local-lvm:vm-104-disk-1"),
         "without force the drive becomes unused0")
    t.eq(e.used("local-lvm"), used, "and its volume stays")
    vm.unlink.put(idlist="scsi2", force=1)
    conf = vm.config.get()
    t.eq(("scsi2" in conf, sorted(k for k in conf if "unused" in k)),
         (False, ["unused0"]), "with force the drive goes with no unusedN")
    t.eq(e.used("local-lvm"), used - G, "and its volume is freed")
    vm.unlink.put(idlist="unused0")
    t.eq(("unused0" in vm.config.get(), e.used("local-lvm")),
         (False, used - 2 * G), "unlinking unused0 frees its volume")
    t.eq(e.raw("PUT", "/nodes/node01/qemu/104/unlink", {"idlist": "bogus"}),
         (400, "Parameter verification failed.",
          {"delete": "unknown option 'bogus'"}),
         "an unknown key is refused as delete's")
    run = e.vm(105)
    run.unlink.put(idlist="sata0,scsi1")
    conf = run.config.get()
    pend = {x["key"]: x for x in run.pending.get()}
    t.eq((pend["sata0"].get("value"), pend["sata0"].get("delete"),
          "scsi1" in conf, conf.get("unused0")),
         ("local-lvm:vm-105-disk-1,size=1G", 1, False,
          "local-lvm:vm-105-disk-2"),
         "a running VM's SATA drive waits in pending, SCSI unplugs")


def power(e):
    t = e.t
    vm = e.vm(106)
    upid = vm.status.suspend.post()
    t.ok(":qmpause:106:" in upid, "suspend is a qmpause task", upid)
    e.wait(upid)
    st = vm.status.current.get()
    t.eq((st["status"], st["qmpstatus"]), ("running", "paused"),
         "a suspended VM is running, qmpstatus paused")
    upid = vm.status.resume.post()
    t.eq((":qmresume:106:" in upid, e.wait(upid)[0],
          vm.status.current.get()["qmpstatus"]), (True, "OK", "running"),
         "resume is a qmresume task and it runs again")
    t.eq(e.wait(vm.status.resume.post())[0], "OK",
         "resuming a running guest has nothing to do")
    upid = vm.status.reset.post()
    t.eq((":qmreset:106:" in upid, e.wait(upid)[0],
          vm.status.current.get()["status"]), (True, "OK", "running"),
         "reset is a qmreset task, the VM runs on")
    for name in ("suspend", "resume", "reset"):
        fn = getattr(e.vm(104).status, name).post
        t.eq(e.refused(fn), (500, "VM 104 not running"),
             "%s of a stopped VM is refused" % name)
    e.wait(vm.status.suspend.post())
    for name in ("shutdown", "reboot"):
        fn = getattr(vm.status, name).post
        t.eq(e.refused(fn), (500, "VM is paused - cannot shutdown"),
             "%s of a paused VM is refused" % name)
    e.wait(vm.status.shutdown.post(forceStop=1))
    st = vm.status.current.get()
    t.eq((st["status"], st["qmpstatus"]), ("stopped", "stopped"),
         "shutdown with forceStop stops a paused VM")


def hibernate(e):
    t = e.t
    vm = e.vm(107)
    used = e.used("local-lvm")
    upid = vm.status.suspend.post(todisk=1)
    t.ok(":qmsuspend:107:" in upid, "suspend to disk is a qmsuspend task")
    t.eq(vm.config.get().get("lock"), "suspending", "locked while saving")
    e.wait(upid)
    conf = vm.config.get()
    st = vm.status.current.get()
    t.eq((st["status"], conf.get("lock"),
          conf.get("vmstate", "").startswith(
              "local-lvm:vm-107-state-suspend-")),
         ("stopped", "suspended", True),
         "then stopped, locked suspended, with a vmstate")
    t.eq(e.used("local-lvm"), used + (2 * 1024 + 500) * (1 << 20),
         "the state volume is twice the memory and 500M")
    t.eq(e.refused(vm.unlink.put, idlist="scsi0"),
         (500, "VM 107 is locked (suspended)"), "unlink of a locked VM is "
         "refused")
    upid = vm.status.start.post()
    t.eq(e.wait(upid)[0], "OK", "start resumes it")
    conf = vm.config.get()
    t.eq((vm.status.current.get()["status"], conf.get("lock"),
          "vmstate" in conf, e.used("local-lvm")),
         ("running", None, False, used),
         "running, unlocked, the state gone")
    e.wait(vm.status.suspend.post(todisk=1))
    t.eq((e.wait(vm.status.resume.post())[0],
          vm.status.current.get()["status"]), ("OK", "running"),
         "resume brings a hibernated VM back too")
    # QemuServer.pm destroy_vm: the lock "suspended" does not keep it
    e.wait(vm.status.suspend.post(todisk=1))
    st, log = e.wait(vm.delete())
    t.eq((st, e.where(107), e.used("local-lvm")), ("OK", None, used - 4 * G),
         "a hibernated VM is destroyed with its disk and state")


def ha(e):
    t = e.t
    res = e.px.cluster.ha.resources
    t.eq((res.get(), e.px.cluster.ha.groups.get()), ([], []),
         "no HA resources and no groups at first")
    t.eq(res.post(sid="vm:108", state="started", comment="db"), None,
         "an HA resource is created")
    t.eq(e.refused(res.post, sid="108"),
         (500, "resource ID 'vm:108' already defined"),
         "a second one is refused")
    t.eq(e.refused(res.post, sid="999"),
         (500, "unable to detect SID from VMID - VM/CT 999 does not exist"),
         "an unknown VM id is refused")
    t.eq(e.refused(res.post, sid="vm:999"),
         (500, "resource 'vm:999' does not exist in cluster"),
         "an unknown vm: resource is refused")
    t.eq(e.refused(res.post, sid="vm:106", group="g1"),
         (500, "invalid parameter 'group': ha groups have been migrated to "
          "rules"), "a group is refused (Proxmox VE 9 has rules)")
    got = res("108").get()
    t.eq((got["sid"], got["type"], got["state"], got["comment"],
          len(got["digest"])), ("vm:108", "vm", "started", "db", 40),
         "it reads back by VM id")
    res("vm:108").put(state="stopped", max_restart=3, delete="comment")
    got = res("vm:108").get()
    t.eq((got["state"], got["max_restart"], "comment" in got),
         ("stopped", 3, False), "an update sets and deletes options")
    t.eq(e.refused(res("vm:108").put, state="started", digest="0" * 40),
         (500, "detected modified configuration - file changed by other "
          "user? Try again."), "a stale digest is refused")
    t.eq([x["sid"] for x in res.get(type="vm")], ["vm:108"],
         "the list shows it")
    t.eq((e.vm(108).status.current.get()["ha"],
          e.vm(106).status.current.get()["ha"]),
         ({"managed": 1, "state": "stopped"}, {"managed": 0}),
         "status/current shows which VM HA manages")
    t.eq(e.vm(108).migrate.get()["running"], 0, "GET migrate answers")
    upid = e.vm(108).migrate.post(target="node02")
    status, log = e.wait(upid)
    t.ok(":hamigrate:108:" in upid and status == "OK" and
         "Requesting HA migration for VM 108 to node node02" in log,
         "an HA-managed VM's migrate is a hamigrate task that only asks",
         (upid, log))
    # the CRM's LRM then migrates it: a qmigrate of root@pam on its node,
    # the service state "migrate" until it ends (Cluster.pm's hastate)
    crm = e.node("node01").tasks.get(vmid=108, typefilter="qmigrate",
                                      source="all")
    t.ok(len(crm) == 1 and crm[0]["user"] == "root@pam" and
         e.hastate(108) in ("migrate", "stopped"),
         "the HA stack's qmigrate follows, by root@pam", crm)
    status, log = e.wait(crm[0]["upid"])
    t.ok(status == "OK" and e.where(108) == "node02" and
         e.hastate(108) == "stopped",
         "it ends on node02, the service state back to the one asked",
         (status, log, e.hastate(108)))
    e.wait(e.vm(108, "node02").status.start.post())
    t.eq(e.refused(e.vm(108, "node02").status.suspend.post, todisk=1),
         (500, "Cannot suspend HA managed VM to disk"),
         "an HA-managed VM is not suspended to disk")
    e.wait(e.vm(108, "node02").status.stop.post())
    t.eq(e.refused(e.vm(108, "node02").delete),
         (500, "unable to remove VM 108 - used in HA resources and purge "
          "parameter not set."), "destroy of an HA resource needs purge")
    res.post(sid="vm:104")
    e.wait(e.vm(104).delete(purge=1))
    t.eq([x["sid"] for x in res.get()], ["vm:108"],
         "destroy with purge removes the VM's HA resource")
    t.eq(res("vm:108").delete(), None, "the resource is deleted")
    t.eq((res.get(), e.refused(res("vm:108").delete)),
         ([], (500, "cannot delete service 'vm:108', not HA managed!")),
         "and a second delete is refused")
    t.eq(e.refused(res("vm:108").get), (500, "no such resource 'vm:108'"),
         "a read of no resource is refused")


def state(t, binary, topo):
    """HA resources and a paused guest survive a restart with --state."""
    path = os.path.join(os.path.dirname(topo), "state.json")
    args = (binary, "--token", "root@pam!ci=" + SECRET, "--topology", topo,
            "--task-ms", "20", "--state", path)
    with Sim(*args) as sim:
        e = Env(t, sim)
        e.px.cluster.ha.resources.post(sid="vm:108", max_relocate=2)
        e.wait(e.vm(106).status.suspend.post())
    with Sim(*args) as sim:
        e = Env(t, sim)
        t.eq(([x.get("max_relocate") for x in
               e.px.cluster.ha.resources.get()],
              e.vm(106).status.current.get()["qmpstatus"]),
             ([2], "paused"), "--state keeps HA resources and the pause")


def request_log(t, path):
    with open(path) as f:
        lines = [json.loads(x) for x in f]
    t.ok(any(x["path"].endswith("/migrate") and x["method"] == "POST" and
             x["params"].get("with-local-disks") == "1" for x in lines),
         "the request log records the migrations with their parameters")


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-migrate.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--user",
             "root@pam:" + ROOTPW, "--topology",
             topo, "--task-ms", "20,qmigrate=600,qmsuspend=300",
             "--boot-ms", "0") as sim:
        e = Env(t, sim)
        precondition(e)
        refusals(e)
        worker_refusals(e)
        offline(e)
        online(e)
        unlink(e)
        power(e)
        hibernate(e)
        ha(e)
        request_log(t, sim.log)
        tool = os.environ.get("PVE_SCHEMA_CHECK")
        if tool:
            print("# request log: " + sim.log)
        clean_exit(t, sim)
    state(t, sys.argv[1], topo)
    t.done()


if __name__ == "__main__":
    main()
