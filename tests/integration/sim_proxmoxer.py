#!/usr/bin/python3
"""Debian's python3-proxmoxer, unmodified, drives proxmox-sim over HTTPS:
once with an API token, once with ticket login. It lists nodes, clones the
template, waits for the task, configures the clone (cores, memory, net0,
ipconfig0, ciuser, sshkeys), resizes scsi0, adds scsi1, starts the VM,
reads the guest agent's interfaces, stops and deletes it.

Usage: sim_proxmoxer.py PROXMOX_SIM
"""

import sys
import time
import urllib.parse

import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap

urllib3.disable_warnings()
SECRET = "0b6a2d58-5b2c-4e1c-9a57-d1b9a1c0ffee"
PASSWORD = "correct horse battery staple"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBz2 admin@example"


def wait(px, node, upid, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = px.nodes(node).tasks(upid).status.get()
        if st["status"] == "stopped":
            return st
        time.sleep(0.05)
    raise RuntimeError("task %s did not finish" % upid)


def scenario(t, px, newid, ip, how):
    nodes = sorted(n["node"] for n in px.nodes.get())
    t.eq(nodes, ["node01", "node02", "node03"], how + ": lists nodes")

    upid = px.nodes("node01").qemu(9000).clone.post(
        newid=newid, name="vm%d" % newid, full=1, target="node01")
    t.ok(upid.startswith("UPID:node01:"), how + ": clone returns a UPID",
         upid)
    st = wait(px, "node01", upid)
    t.eq((st["status"], st["exitstatus"], st["type"]),
         ("stopped", "OK", "qmclone"), how + ": clone task ends OK")

    vm = px.nodes("node01").qemu(newid)
    vm.config.put(cores=2, memory=2048, net0="virtio,bridge=vmbr0",
                  ipconfig0="ip=%s/24,gw=127.0.0.1" % ip, ciuser="ubuntu",
                  sshkeys=urllib.parse.quote(KEY + "\n", safe=""))
    conf = vm.config.get()
    t.eq((conf["cores"], str(conf["memory"]), conf["ciuser"]),
         (2, "2048", "ubuntu"), how + ": config set")
    t.ok(conf["net0"].startswith("virtio=BC:24:11:")
         and conf["net0"].endswith(",bridge=vmbr0"),
         how + ": net0 normalised with a MAC", conf["net0"])
    t.eq(urllib.parse.unquote(conf["sshkeys"]), KEY + "\n",
         how + ": sshkeys stored URL-encoded")
    t.ok(len(conf["digest"]) == 40, how + ": config has a digest")

    upid = vm.resize.put(disk="scsi0", size="+10G")
    wait(px, "node01", upid)
    conf = vm.config.get()
    t.ok(conf["scsi0"].endswith("size=13824M"),
         how + ": scsi0 resized by 10G", conf["scsi0"])

    vm.config.put(scsi1="local-lvm:20")
    conf = vm.config.get()
    t.eq(conf.get("scsi1"), "local-lvm:vm-%d-disk-1,size=20G" % newid,
         how + ": scsi1 allocated")

    wait(px, "node01", vm.status.start.post())
    t.eq(vm.status.current.get()["status"], "running",
         how + ": VM running")

    ifaces = None
    for _ in range(100):
        try:
            ifaces = vm.agent("network-get-interfaces").get()
            break
        except ResourceException as e:
            if "guest agent is not running" not in str(e):
                raise
            time.sleep(0.05)
    addrs = [a["ip-address"] for i in (ifaces or {}).get("result", [])
             for a in i.get("ip-addresses", [])]
    t.ok(ip in addrs, how + ": agent reports the address", addrs)

    wait(px, "node01", vm.status.stop.post())
    t.eq(vm.status.current.get()["status"], "stopped",
         how + ": VM stopped")
    st = wait(px, "node01", vm.delete(purge=1))
    t.eq(st["exitstatus"], "OK", how + ": destroy task ends OK")
    ids = [r["vmid"] for r in px.cluster.resources.get(type="vm")]
    t.ok(newid not in ids, how + ": VM gone", ids)
    try:
        vm.config.get()
        t.ok(False, how + ": config of a deleted VM is refused")
    except ResourceException as e:
        t.ok(e.status_code == 500 and "does not exist" in str(e),
             how + ": config of a deleted VM is refused", e)


def main():
    t = Tap()
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--user",
             "root@pam:" + PASSWORD, "--task-ms", "50",
             "--boot-ms", "100") as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False)
        scenario(t, px, 101, "127.0.0.51", "token")
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        password=PASSWORD, verify_ssl=False)
        scenario(t, px, 102, "127.0.0.52", "ticket")
        try:
            ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                       password="wrong", verify_ssl=False).nodes.get()
            t.ok(False, "a wrong password is refused")
        except Exception as e:  # proxmoxer's AuthenticationError
            t.ok("authenticate" in str(e), "a wrong password is refused", e)
        rc = sim.stop()
        t.eq(rc, 0, "proxmox-sim exits cleanly")
        t.ok("ERROR" not in sim.stderr_text(), "no sanitizer report",
             sim.stderr_text())
    t.done()


main()
