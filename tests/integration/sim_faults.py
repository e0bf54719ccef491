#!/usr/bin/python3
"""Fault injection in proxmox-sim is reproducible: the same seed gives the
same faults on the same requests, a different seed different ones; every
kind happens; an injected task failure shows in the task's exitstatus and
a dropped answer leaves the work done. The faults used only when named:
hang (no answer, the simulator still stops), trickle, escape, nodata and
taskstatus.

Usage: sim_faults.py PROXMOX_SIM
"""

import json
import sys
import time

import requests

from simlib import Sim, Tap

SECRET = "8c1f3e2a-7b6d-4e5f-9a0b-1c2d3e4f5a6b"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}


def run(binary, seed, rate="0.3"):
    """Send a fixed sequence; return [(path, status, fault)] from the log."""
    with Sim(binary, "--token", "root@pam!ci=" + SECRET, "--seed", seed,
             "--fault-rate", rate, "--fault-delay-ms", "5",
             "--task-ms", "0", http=True) as sim:
        s = requests.Session()
        for i in range(120):
            try:
                k = i % 4
                if k == 0:
                    s.get(sim.api("/nodes"), headers=AUTH, timeout=10)
                elif k == 1:
                    s.put(sim.api("/nodes/node01/qemu/9000/config"),
                          data={"description": "n%d" % i}, headers=AUTH,
                          timeout=10)
                elif k == 2:
                    s.post(sim.api("/nodes/node01/qemu/9000/clone"),
                           data={"newid": 200 + i, "name": "c%d" % i},
                           headers=AUTH, timeout=10)
                else:
                    s.get(sim.api("/cluster/tasks"), headers=AUTH,
                          timeout=10)
            except requests.ConnectionError:
                s = requests.Session()  # a dropped connection
        tasks = s.get(sim.api("/cluster/tasks"), headers=AUTH,
                      timeout=10).json()["data"]
        resources = s.get(sim.api("/cluster/resources?type=vm"),
                          headers=AUTH, timeout=10).json()["data"]
        sim.stop()
        with open(sim.log) as f:
            log = [json.loads(line) for line in f]
    seq = [(e["method"], e["path"], e["status"], e.get("fault"))
           for e in log]
    dropped = [int(e["params"]["newid"]) for e in log[:120]
               if e.get("fault") == "drop" and e["method"] == "POST"]
    return seq[:120], tasks, (resources, dropped)


def main():
    t = Tap()
    a, tasks, resources = run(sys.argv[1], "42")
    b, _, _ = run(sys.argv[1], "42")
    c, _, _ = run(sys.argv[1], "43")
    faults = [f for (_, _, _, f) in a if f]
    t.ok(len(faults) > 10, "faults are injected (%d of 120)" % len(faults),
         a)
    t.eq(a, b, "the same seed gives the same faults in the same order")
    t.ok(a != c, "another seed gives other faults")
    t.eq(sorted(set(faults)), ["delay", "drop", "http500", "lock", "task"],
         "every kind of fault happens")
    t.ok(all(f != "lock" or m != "GET" for (m, _, _, f) in a),
         "lock faults only hit writes")
    failed = [x for x in tasks if x.get("status", "OK") != "OK"]
    t.ok(failed and all("injected" in x["status"] or
                        "can't lock file" in x["status"] for x in failed),
         "injected task and lock failures show in the task's status",
         failed)
    resources, dropped = resources
    vmids = {r["vmid"] for r in resources}
    t.ok(dropped and set(dropped) <= vmids,
         "a clone whose answer was dropped was made", (dropped, vmids))
    t.eq([(m, p, s) for (m, p, s, f) in a if f == "http500" and s != 500],
         [], "http500 faults answer 500")
    broken_servers(t, sys.argv[1])
    t.done()


def named_sim(binary, fault):
    return Sim(binary, "--token", "root@pam!ci=" + SECRET, "--fault-rate",
               "1", "--faults", fault, "--fault-trickle-ms", "5",
               "--task-ms", "0", http=True)


def broken_servers(t, binary):
    """The faults used only when named: hang, trickle, escape, nodata,
    taskstatus."""
    with named_sim(binary, "hang") as sim:
        try:
            requests.get(sim.api("/nodes"), headers=AUTH, timeout=1)
            t.ok(False, "hang: no answer")
        except requests.exceptions.ReadTimeout:
            t.ok(True, "hang: no answer")
        t0 = time.monotonic()
        sim.stop()
        t.ok(time.monotonic() - t0 < 5, "hang: the simulator still stops "
             "at once")
        with open(sim.log) as f:
            log = [json.loads(line) for line in f]
        t.eq([(e["path"], e["status"], e.get("fault")) for e in log],
             [("/api2/json/nodes", 0, "hang")], "hang: logged")
    with named_sim(binary, "trickle") as sim:
        t0 = time.monotonic()
        r = requests.get(sim.api("/nodes"), headers=AUTH, timeout=30)
        took = time.monotonic() - t0
        t.ok(r.status_code == 200 and r.json()["data"] and
             took >= 0.005 * (len(r.content) - 1) * 0.9,
             "trickle: the whole answer, one byte per 5 ms (%d bytes in "
             "%.2f s)" % (len(r.content), took))
    with named_sim(binary, "escape") as sim:
        upid = requests.post(sim.api("/nodes/node01/qemu/9000/clone"),
                             data={"newid": 300, "name": "e"}, headers=AUTH,
                             timeout=10).json()["data"]
        st = requests.get(sim.api("/nodes/node01/tasks/%s/status" % upid),
                          headers=AUTH, timeout=10).json()["data"]
        t.ok(st["status"] == "stopped" and "\x1b[31m" in st["exitstatus"],
             "escape: the task fails with ESC in its exitstatus", st)
    with named_sim(binary, "nodata") as sim:
        cur = requests.get(sim.api("/nodes/node01/qemu/9000/status/current"),
                           headers=AUTH, timeout=10).json()
        other = requests.get(sim.api("/nodes/node01/qemu/9000/config"),
                             headers=AUTH, timeout=10).json()
        t.ok(cur == {} and other.get("data"),
             "nodata: status/current without data, other calls untouched",
             (cur, other))
    with named_sim(binary, "taskstatus") as sim:
        upid = requests.post(sim.api("/nodes/node01/qemu/9000/clone"),
                             data={"newid": 301, "name": "f"}, headers=AUTH,
                             timeout=10).json()["data"]
        st = requests.get(sim.api("/nodes/node01/tasks/%s/status" % upid),
                          headers=AUTH, timeout=10).json()
        t.ok(isinstance(st.get("data"), dict) and "status" not in st["data"]
             and "upid" in st["data"],
             "taskstatus: the task status without its status", st)


main()
