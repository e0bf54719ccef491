#!/usr/bin/python3
"""32 concurrent clients send 10,000 mixed requests to proxmox-sim (each
clones, configures, starts, stops and deletes its own VMs between reads);
no request may fail unexpectedly, and the simulator must exit cleanly with
no sanitizer report (this test runs in the ASan suite too).

Usage: sim_stress.py PROXMOX_SIM [TOTAL] [CLIENTS]
"""

import http.client
import json
import sys
import threading
import time
import urllib.parse

from simlib import Sim, Tap

SECRET = "a3b4c5d6-e7f8-4a1b-8c2d-3e4f5a6b7c8d"
HEADERS = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET,
           "Content-Type": "application/x-www-form-urlencoded"}


class Client(threading.Thread):
    def __init__(self, port, n, budget, counter):
        super().__init__()
        self.port, self.n, self.budget = port, n, budget
        self.counter = counter
        self.errors = []
        self.sent = 0

    def call(self, method, path, data=None):
        body = urllib.parse.urlencode(data) if data else None
        self.conn.request(method, "/api2/json" + path, body=body,
                          headers=HEADERS)
        r = self.conn.getresponse()
        payload = r.read()
        self.sent += 1
        return r.status, r.reason, json.loads(payload)["data"]

    def expect(self, what, got):
        if got[0] != 200:
            self.errors.append((what, got[:2]))
        return got[2]

    def wait(self, upid):
        if not upid:
            return
        node = upid.split(":")[1]
        deadline = time.time() + 60
        while time.time() < deadline:
            st = self.expect("task", self.call(
                "GET", "/nodes/%s/tasks/%s/status" % (node, upid)))
            if st and st["status"] == "stopped":
                if st["exitstatus"] != "OK":
                    self.errors.append(("task", st["exitstatus"]))
                return
            time.sleep(0.005)
        self.errors.append(("task", "did not stop: " + upid))

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=60)
        vmid = 1000 + self.n
        vm = "/nodes/node01/qemu/%d" % vmid
        try:
            while self.sent < self.budget:
                upid = self.expect("clone", self.call(
                    "POST", "/nodes/node01/qemu/9000/clone",
                    {"newid": vmid, "name": "s%d" % vmid, "full": 1}))
                self.wait(upid)
                self.expect("config", self.call(
                    "PUT", vm + "/config",
                    {"cores": 2, "memory": 2048,
                     "ipconfig0": "ip=127.0.1.%d/24" % (self.n + 2)}))
                for _ in range(10):
                    self.expect("read", self.call("GET", vm + "/config"))
                    self.expect("list", self.call(
                        "GET", "/cluster/resources?type=vm"))
                self.wait(self.expect("start", self.call(
                    "POST", vm + "/status/start")))
                self.call("GET", vm + "/agent/network-get-interfaces")
                self.wait(self.expect("stop", self.call(
                    "POST", vm + "/status/stop")))
                self.wait(self.expect("delete", self.call("DELETE", vm)))
        except Exception as e:  # a dead server shows up here
            self.errors.append(("exception", repr(e)))


def main():
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    t = Tap()
    with Sim(sys.argv[1], "--token", "root@pam!ci=" + SECRET,
             "--task-ms", "5", "--boot-ms", "0", http=True) as sim:
        start = time.time()
        threads = [Client(sim.port, i, total // clients, None)
                   for i in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        took = time.time() - start
        sent = sum(th.sent for th in threads)
        errors = [e for th in threads for e in th.errors]
        print("# %d requests from %d clients in %.1f s (%.0f/s)"
              % (sent, clients, took, sent / took))
        t.ok(sent >= total - clients, "%d requests sent" % sent)
        t.eq(errors[:5], [], "no request failed")
        t.eq(sim.stop(), 0, "proxmox-sim exits cleanly")
        t.ok("ERROR" not in sim.stderr_text(), "no sanitizer report",
             sim.stderr_text()[-3000:])
    t.done()


main()
