#!/usr/bin/python3
"""The rest of proxmox-sim's endpoints: linked clones, pending changes of
a running VM, delete, template, cloud-init, task logs, the guest agent's
file-read with --guest-host-key, ticket expiry and 64 simultaneous
connections.

Usage: sim_endpoints.py PROXMOX_SIM
"""

import http.client
import os
import sys
import tempfile
import time

import requests
import urllib3

from simlib import Sim, Tap

urllib3.disable_warnings()
SECRET = "c0ffee00-1111-4222-8333-444455556666"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx0ZXN0a2V5 root@e2e"


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-endpoints.")
    keyfile = os.path.join(work, "ssh_host_ed25519_key.pub")
    with open(keyfile, "w") as f:
        f.write(HOSTKEY + "\n")
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--user",
             "root@pam:pw", "--task-ms", "20", "--boot-ms", "0",
             "--ticket-lifetime", "1", "--guest-host-key",
             "127.0.0.77=" + keyfile) as sim:
        def call(method, path, data=None, **kw):
            r = requests.request(method, sim.api(path), data=data,
                                 headers=kw.pop("headers", AUTH),
                                 verify=False, timeout=30, **kw)
            return r.status_code, r.reason, r.json()["data"]

        def wait(upid):
            node = upid.split(":")[1]
            for _ in range(500):
                st = call("GET", "/nodes/%s/tasks/%s/status" %
                          (node, upid))[2]
                if st["status"] == "stopped":
                    return st
                time.sleep(0.01)
            raise RuntimeError("task hangs")

        call("POST", "/nodes/node01/qemu/9000/clone",
             {"newid": 160, "name": "waits"})
        t.eq(call("PUT", "/nodes/node01/qemu/9000/config",
                  {"description": "while cloning"})[0], 200,
             "a write waits for the lock file a clone holds")

        def used():
            return {x["storage"]: x["used"] for x in
                    call("GET", "/nodes/node01/storage")[2]}["local-lvm"]
        before = used()
        got = call("PUT", "/nodes/node01/qemu/160/config",
                   {"scsi1": "local-lvm:100", "scsi2": "nosuch:1"})
        t.eq((got[:2], used()), ((500, "storage 'nosuch' does not exist"),
                                 before),
             "a refused write allocates nothing")

        upid = call("POST", "/nodes/node01/qemu/9000/clone",
                    {"newid": 150, "name": "linked", "full": 0})[2]
        st = wait(upid)
        conf = call("GET", "/nodes/node01/qemu/150/config")[2]
        t.eq(conf["scsi0"],
             "local-lvm:base-9000-disk-0/vm-150-disk-0,size=3584M",
             "a linked clone's disk is based on the template's")
        log = call("GET", "/nodes/node01/tasks/%s/log" % upid)[2]
        t.eq(log[-1], {"n": len(log), "t": "TASK OK"},
             "the task log ends with TASK OK")
        t.eq(call("POST", "/nodes/node01/qemu/150/clone",
                  {"newid": 151, "full": 0})[:2],
             (500, "Linked clone feature is not supported for "
              "'local-lvm:base-9000-disk-0/vm-150-disk-0' (scsi0)"),
             "a linked clone of a VM that is no template is refused")

        call("PUT", "/nodes/node01/qemu/150/config",
             {"ipconfig0": "ip=127.0.0.77/8", "ciuser": "ops",
              "cores": 1})
        wait(call("POST", "/nodes/node01/qemu/150/status/start")[2])
        call("PUT", "/nodes/node01/qemu/150/config",
             {"cores": 4, "description": "now", "delete": "ciuser",
              "ide0": "none,media=cdrom"})
        pending = {p["key"]: p for p in
                   call("GET", "/nodes/node01/qemu/150/pending")[2]}
        t.eq((pending["cores"]["value"], pending["cores"].get("pending")),
             (1, 4), "cores changed on a running VM is pending")
        t.eq(("ciuser" in pending, pending.get("ide0", {}).get("pending")),
             (False, "none,media=cdrom"),
             "a cloud-init key is written at once (qemu-server 7.2), an "
             "IDE drive waits for a boot")
        ci = {c["key"]: c for c in
              call("GET", "/nodes/node01/qemu/150/cloudinit")[2]}
        t.eq(ci["ciuser"].get("delete"), 1,
             "the drive still holds it: GET .../cloudinit says it goes")
        t.eq(pending["description"].get("pending"), None,
             "description applies at once")
        t.eq(call("GET", "/nodes/node01/qemu/150/config")[2]["cores"], 4,
             "config shows pending values")
        t.eq(call("GET", "/nodes/node01/qemu/150/config",
                  params={"current": 1})[2]["cores"], 1,
             "config?current=1 shows the running ones")
        ci = {c["key"]: c for c in
              call("GET", "/nodes/node01/qemu/150/cloudinit")[2]}
        t.eq(ci["ipconfig0"].get("value"), "ip=127.0.0.77/8",
             "cloud-init shows what the drive holds")
        dump = call("GET", "/nodes/node01/qemu/150/cloudinit/dump",
                    params={"type": "network"})[2]
        t.ok("address: '127.0.0.77'" in dump, "cloud-init network dump",
             dump)

        got = call("GET", "/nodes/node01/qemu/150/agent/file-read",
                   params={"file": "/etc/ssh/ssh_host_ed25519_key.pub"})
        t.eq(got[2], {"content": HOSTKEY + "\n",
                      "bytes-read": len(HOSTKEY) + 1},
             "file-read returns the --guest-host-key key for the address")
        got = call("GET", "/nodes/node01/qemu/150/agent/file-read",
                   params={"file": "/etc/shadow"})
        t.eq(got[0], 500, "other files are not there")
        t.eq(call("POST", "/nodes/node01/qemu/150/agent/ping")[2],
             {"result": {}}, "agent ping")

        wait(call("POST", "/nodes/node01/qemu/150/status/reboot")[2])
        conf = call("GET", "/nodes/node01/qemu/150/config",
                    params={"current": 1})[2]
        t.ok(conf["cores"] == 4 and "ciuser" not in conf,
             "a reboot applies pending changes", conf)
        wait(call("POST", "/nodes/node01/qemu/150/status/shutdown")[2])
        st = wait(call("POST", "/nodes/node01/qemu/150/status/shutdown")[2])
        t.eq(st["exitstatus"], "OK", "shutdown of a stopped VM does nothing")

        call("PUT", "/nodes/node01/qemu/150/config", {"scsi1": "data2:4"})
        call("PUT", "/nodes/node01/qemu/150/config", {"delete": "scsi1"})
        conf = call("GET", "/nodes/node01/qemu/150/config")[2]
        t.eq((conf.get("scsi1"), conf.get("unused0")),
             (None, "data2:vm-150-disk-0"),
             "a deleted disk becomes unused0")
        call("PUT", "/nodes/node01/qemu/150/config", {"protection": 1})
        t.eq(call("DELETE", "/nodes/node01/qemu/150")[:2],
             (500, "can't remove VM 150 - protection mode enabled"),
             "a protected VM is not destroyed")
        call("PUT", "/nodes/node01/qemu/150/config", {"delete": "protection"})
        st = wait(call("POST", "/nodes/node01/qemu/150/template")[2])
        conf = call("GET", "/nodes/node01/qemu/150/config")[2]
        t.eq((st["exitstatus"], conf.get("template")), ("OK", 1),
             "template conversion")
        st = wait(call("POST", "/nodes/node01/qemu/150/status/start")[2])
        t.eq(st["exitstatus"], "you can't start a vm if it's a template",
             "a template does not start (the task fails)")

        _, _, tk = call("POST", "/access/ticket",
                        {"username": "root@pam", "password": "pw"},
                        headers={})
        cookie = {"PVEAuthCookie": tk["ticket"]}
        t.eq(call("GET", "/nodes", headers={}, cookies=cookie)[0], 200,
             "a fresh ticket works")
        _, _, renewed = call("POST", "/access/ticket",
                             {"username": "root@pam",
                              "password": tk["ticket"]}, headers={})
        t.ok(renewed and renewed["ticket"] != tk["ticket"],
             "a ticket renews itself")
        time.sleep(1.2)
        t.eq(call("GET", "/nodes", headers={}, cookies=cookie)[0], 401,
             "an expired ticket is refused")

        t.eq(call("POST", "/pools", {"poolid": "prod",
                                     "comment": "production"})[0], 200,
             "create a pool")
        t.eq(call("POST", "/nodes/node01/qemu/9000/clone",
                  {"newid": 170, "pool": "nosuch"})[:2],
             (500, "pool 'nosuch' does not exist"), "clone into no pool")
        wait(call("POST", "/nodes/node01/qemu/9000/clone",
                  {"newid": 170, "pool": "prod", "name": "pooled"})[2])
        members = call("GET", "/pools/prod")[2]["members"]
        t.eq([m["vmid"] for m in members], [170], "the clone joined the pool")
        t.eq(call("DELETE", "/pools/prod")[:2],
             (500, "pool 'prod' is not empty"), "a pool in use stays")
        vms = {r["vmid"]: r for r in
               call("GET", "/cluster/resources", params={"type": "vm"})[2]}
        t.eq(vms[170].get("pool"), "prod", "resources show the pool")

        conns = [http.client.HTTPSConnection(
            "127.0.0.1", sim.port, timeout=30,
            context=__import__("ssl")._create_unverified_context())
            for _ in range(64)]
        for c in conns:
            c.connect()
        for c in conns:
            c.request("GET", "/api2/json/version", headers=AUTH)
        codes = [c.getresponse().status for c in conns]
        t.eq(codes, [200] * 64, "64 simultaneous connections are served")
        for c in conns:
            c.close()
        t.eq(sim.stop(), 0, "proxmox-sim exits cleanly")
        t.ok("ERROR" not in sim.stderr_text(), "no sanitizer report",
             sim.stderr_text())
    t.done()


main()
