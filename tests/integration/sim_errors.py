#!/usr/bin/python3
"""Requests Proxmox would refuse are refused by proxmox-sim, with
Proxmox's shapes: 400 "Parameter verification failed." with an "errors"
object naming the parameter, 401 for authentication, and 500 with the
message in the status line (as Proxmox's reason phrase) otherwise.

Usage: sim_errors.py PROXMOX_SIM
"""

import sys
import time

import requests
import urllib3

from simlib import Sim, Tap

urllib3.disable_warnings()
SECRET = "5f0e6b1c-0d0e-4c62-8a11-2f8e3d6a7b90"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}


def call(sim, method, path, data=None, headers=AUTH, **kw):
    r = requests.request(method, sim.api(path), data=data, headers=headers,
                         verify=False, timeout=30, **kw)
    try:
        body = r.json()
    except ValueError:
        body = None
    return r.status_code, r.reason, body


def param_error(t, got, param, text, name):
    status, reason, body = got
    errors = (body or {}).get("errors") or {}
    t.ok(status == 400 and reason == "Parameter verification failed."
         and body.get("data") is None and text in errors.get(param, ""),
         name, got)


def wait_task(sim, upid):
    node = upid.split(":")[1]
    for _ in range(600):
        _, _, body = call(sim, "GET", "/nodes/%s/tasks/%s/status" %
                          (node, upid))
        if body["data"]["status"] == "stopped":
            return body["data"]
        time.sleep(0.02)
    raise RuntimeError("task did not stop")


def main():
    t = Tap()
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET, "--user",
             "root@pam:pw", "--task-ms", "50,qmclone=1500",
             "--lock-wait-ms", "200") as sim:
        cfg = "/nodes/node01/qemu/9000/config"
        param_error(t, call(sim, "PUT", cfg, {"cores": 2, "bogus": 1}),
                    "bogus", "property is not defined in schema",
                    "unknown parameter")
        param_error(t, call(sim, "PUT", cfg,
                            {"net0": "model=fancy,bridge=vmbr0"}),
                    "net0", "does not have a value in the enumeration",
                    "bad enum inside net0")
        param_error(t, call(sim, "PUT", cfg,
                            {"ipconfig0": "ip=10.0.0.300/24"}),
                    "ipconfig0", "invalid format", "bad ipconfig0")
        param_error(t, call(sim, "PUT", cfg, {"cores": "two"}),
                    "cores", "type check ('integer') failed",
                    "wrong type")
        param_error(t, call(sim, "POST", "/nodes/node01/qemu/9000/clone",
                            {"name": "x"}),
                    "newid", "property is missing and it is not optional",
                    "missing required parameter")

        got = call(sim, "GET", "/nodes", headers={
            "Authorization": "PVEAPIToken=root@pam!ci=wrong"})
        t.eq(got[0], 401, "a bad token gets 401")
        got = call(sim, "GET", "/nodes", headers={})
        t.eq(got[:2], (401, "No ticket"), "no credentials get 401")

        _, _, body = call(sim, "POST", "/access/ticket",
                          {"username": "root@pam", "password": "pw"},
                          headers={})
        cookie = {"PVEAuthCookie": body["data"]["ticket"]}
        got = call(sim, "PUT", cfg, {"description": "x"}, headers={},
                   cookies=cookie)
        t.eq(got[:2], (401, "Permission denied - invalid csrf token"),
             "a write without the CSRF token is refused")
        got = call(sim, "PUT", cfg, {"description": "x"}, cookies=cookie,
                   headers={"CSRFPreventionToken":
                            body["data"]["CSRFPreventionToken"]})
        t.eq(got[0], 200, "the same write with the CSRF token passes")
        t.eq(call(sim, "GET", "/nodes", headers={}, cookies=cookie)[0], 200,
             "a read with the ticket needs no CSRF token")

        _, _, body = call(sim, "POST", "/nodes/node01/qemu/9000/clone",
                          {"newid": 101, "name": "a"})
        upid = body["data"]
        got = call(sim, "PUT", "/nodes/node01/qemu/101/config",
                   {"cores": 2})
        t.eq(got[:2], (500, "VM 101 is locked (clone)"),
             "the clone being made is locked")
        got = call(sim, "PUT", cfg, {"cores": 2})
        t.eq(got[:2], (500, "can't lock file "
                       "'/var/lock/qemu-server/lock-9000.conf' - got "
                       "timeout"),
             "the source's lock file is held during the clone")
        got = call(sim, "POST", "/nodes/node01/qemu/9000/clone",
                   {"newid": 101, "name": "b"})
        t.eq(got[:2], (500, "unable to create VM 101: config file "
                       "already exists"),
             "a clone to an existing vmid fails")
        t.eq(wait_task(sim, upid)["exitstatus"], "OK", "the clone ends")
        t.eq(call(sim, "PUT", "/nodes/node01/qemu/101/config",
                  {"cores": 2})[0], 200, "and the lock is gone")

        got = call(sim, "PUT", "/nodes/node01/qemu/101/resize",
                   {"disk": "scsi0", "size": "1G"})
        t.eq(wait_task(sim, got[2]["data"])["exitstatus"],
             "shrinking disks is not supported",
             "a shrink is refused (by the resize task, as in Proxmox)")
        _, _, body = call(sim, "GET", "/nodes/node01/qemu/101/config")
        digest = body["data"]["digest"]
        t.eq(call(sim, "PUT", "/nodes/node01/qemu/101/config",
                  {"cores": 3, "digest": "0" * 40})[:2],
             (500, "checksum mismatch (file change by other user?)"),
             "a stale digest is refused")
        t.eq(call(sim, "PUT", "/nodes/node01/qemu/101/config",
                  {"cores": 3, "digest": digest})[0], 200,
             "the current digest is accepted")
        t.eq(call(sim, "GET", "/nodes/node01/qemu/101/config",
                  {"current": 1})[0], 200, "GET with a body is fine")
        got = call(sim, "DELETE", "/nodes/node01/qemu/101",
                   params={"vmid": 9000})
        t.ok(got[0] == 400 and "conflicting values" in
             got[2]["errors"]["vmid"],
             "a query may not override a path parameter", got)
        t.ok(call(sim, "GET", "/nodes/node01/qemu/9000/config")[0] == 200,
             "and nothing was destroyed")
        t.eq(call(sim, "PUT", "/nodes/node01/qemu/101/config", {})[:2],
             (500, "no options specified"), "a write without options")
        got = call(sim, "POST", "/nodes/node01/qemu/101/status/start",
                   {"skiplock": 1})
        t.ok(got[0] == 400 and "Only root may use this option." in
             str(got), "skiplock is for root@pam only", got)
        got = call(sim, "GET", "/cluster/nextid", params={"vmid": 101})
        t.ok(got[0] == 400 and "already exists" in
             got[2]["errors"]["vmid"], "nextid?vmid= of a taken id", got)
        got = call(sim, "GET", "/nodes/node01/qemu/777/config")
        t.eq(got[:2], (500, "Configuration file "
                       "'nodes/node01/qemu-server/777.conf' does not exist"),
             "an unknown VM")
        got = call(sim, "GET", "/nodes/node01/lxc/200/config")
        t.eq(got[:2], (500, "Configuration file "
                       "'nodes/node01/lxc/200.conf' does not exist"),
             "an unknown container")
        got = call(sim, "GET", "/nodes/node01/qemu/777/rrddata")
        t.eq(got[0], 501, "an unknown path is not implemented")
        got = call(sim, "PUT", "/nodes/node01/qemu/101/config",
                   '{"cores": 4, "onboot": true}',
                   headers=dict(AUTH, **{"Content-Type":
                                         "application/json"}))
        t.eq(got[0], 200, "a JSON body is accepted")
        conf = call(sim, "GET", "/nodes/node01/qemu/101/config")[2]["data"]
        t.eq((conf["cores"], conf["onboot"]), (4, 1), "and applied")
        t.eq(sim.stop(), 0, "proxmox-sim exits cleanly")
        t.ok("ERROR" not in sim.stderr_text(), "no sanitizer report",
             sim.stderr_text())
    t.done()


main()
