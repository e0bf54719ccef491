#!/usr/bin/python3
"""proxmox-sim's containers, one at a time, as Debian's python3-proxmoxer
sees them: GET /nodes/{node}/lxc/{vmid} (the index), .../config (with
`current` and `snapshot`), .../status/current and .../snapshot, as
pve-container's API2/LXC.pm, API2/LXC/Config.pm, Status.pm and Snapshot.pm
answer; the error of pve-guest-common's load_config for a container the
node does not hold; a VM created or cloned onto a container's vmid
(pve-cluster's check_vmid_unused, pmxcfs's refused rename); and HA
resources `ct:N` (pve-ha-manager's HA/Config.pm parse_sid and
HA/Resources/PVECT.pm exists).

Every answer is checked against the field list and types of the official
schema's `returns` (copied below from pve-docs apidata.js, the commit
sim/proxmox/pve-api-extra.json names), the required fields present.

Usage: sim_lxc.py PROXMOX_SIM
"""

import os
import re
import shutil
import sys
import tempfile
import time

import requests
import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, clean_exit

urllib3.disable_warnings()
SECRET = "4b6e0c1d-7a2f-4e8b-9c3d-5f6a7b8c9d0e"

TOPOLOGY = """\
nodes:
  - name: pve-a
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
  - name: pve-b
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
templates:
  - {vmid: 9000, name: debian12, node: pve-a,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 120, name: db1, node: pve-a, status: running}
  - {vmid: 122, name: idle, node: pve-b}
containers:
  - {vmid: 100, hostname: ct-web, node: pve-a, status: running,
     rootfs: {storage: local-lvm, size: 8G},
     config: {cores: 2, memory: 1024, swap: 256, tags: "web;prod",
              cpulimit: "1.5", onboot: 1}}
  - {vmid: 201, hostname: ct-idle, node: pve-b}
"""

# ---- the official schema's `returns`, field: type ("!" = required) ----

CONFIG = {
    "arch": "string", "cmode": "string", "console": "boolean",
    "cores": "integer", "cpulimit": "number", "cpuunits": "integer",
    "debug": "boolean", "description": "string", "dev[n]": "string",
    "digest": "string!", "entrypoint": "string", "env": "string",
    "features": "string", "hookscript": "string", "hostname": "string",
    "lock": "string", "lxc": "array", "memory": "integer",
    "mp[n]": "string", "nameserver": "string", "net[n]": "string",
    "onboot": "boolean", "ostype": "string", "protection": "boolean",
    "rootfs": "string", "searchdomain": "string", "startup": "string",
    "swap": "integer", "tags": "string", "template": "boolean",
    "timezone": "string", "tty": "integer", "unprivileged": "boolean",
    "unused[n]": "string",
}
STATUS = {
    "cpu": "number", "cpus": "number", "disk": "integer",
    "diskread": "integer", "diskwrite": "integer", "ha": "object!",
    "lock": "string", "maxdisk": "integer", "maxmem": "integer",
    "maxswap": "integer", "mem": "integer", "name": "string",
    "netin": "integer", "netout": "integer", "pressurecpusome": "number",
    "pressureiofull": "number", "pressureiosome": "number",
    "pressurememoryfull": "number", "pressurememorysome": "number",
    "status": "string!", "tags": "string", "template": "boolean",
    "uptime": "integer", "vmid": "integer!",
}
SNAPSHOT = {"description": "string!", "name": "string!",
            "parent": "string", "snaptime": "integer"}
INDEX = {"subdir": "string!"}
# fields pve-container gives beyond the schema's: vmstatus' type, pid,
# swap and pressurecpufull, the current entry's digest and running
STATUS_MORE = {"type", "pid", "pressurecpufull", "swap"}
SNAPSHOT_MORE = {"digest", "running"}


def type_ok(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":  # Proxmox's booleans are 0 and 1
        return v in (0, 1) and not isinstance(v, float)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    return isinstance(v, dict)


def schema_key(k, props):
    """net0 -> net[n] when the schema has net[n]."""
    m = re.fullmatch(r"([a-z]+)(\d+)", k)
    if k not in props and m and m.group(1) + "[n]" in props:
        return m.group(1) + "[n]"
    return k


def problems(item, props, more=()):
    """Required fields missing, unknown fields, wrong types."""
    bad = ["missing " + k for k, t in props.items()
           if t.endswith("!") and k not in item]
    for k, v in item.items():
        sk = schema_key(k, props)
        if sk not in props:
            if k not in more:
                bad.append("unknown " + k)
        elif not type_ok(v, props[sk].rstrip("!")):
            bad.append("%s=%r" % (k, v))
    return bad


def error_of(fn):
    try:
        fn()
    except ResourceException as e:
        return (e.status_code, str(e))
    return (200, "")


def param_errors(sim, path, params):
    """GET path: the status and the body's per-parameter errors (which
    proxmoxer's exception drops)."""
    r = requests.get(sim.api(path), params=params, verify=False,
                     timeout=60, headers={
                         "Authorization": "PVEAPIToken=root@pam!ci=" +
                         SECRET})
    return (r.status_code, r.json().get("errors"))


def t_index(t, px):
    got = px.nodes("pve-a").lxc(100).get()
    t.ok(not [p for p in (problems(i, INDEX) for i in got) if p],
         "the index's items have the schema's fields", got)
    t.eq([i["subdir"] for i in got],
         ["config", "pending", "status", "vncproxy", "termproxy",
          "vncwebsocket", "spiceproxy", "migrate", "clone", "rrd",
          "rrddata", "firewall", "snapshot", "resize", "interfaces"],
         "the index lists vmdiridx's subdirectories in its order")


def t_config(t, px, sim):
    cfg = px.nodes("pve-a").lxc(100).config.get()
    t.eq(problems(cfg, CONFIG), [],
         "config: the schema's fields and types (numbers as numbers)")
    t.ok(re.fullmatch(r"[0-9a-f]{40}", cfg.get("digest", "")),
         "config has a SHA-1 digest", cfg)
    want = {"arch": "amd64", "cores": 2, "hostname": "ct-web",
            "memory": 1024, "swap": 256, "ostype": "debian",
            "tags": "web;prod", "cpulimit": 1.5, "onboot": 1}
    t.eq({k: cfg.get(k) for k in want}, want,
         "config holds the topology's keys, typed")
    t.ok(cfg.get("rootfs", "").startswith("local-lvm:") and
         "size=8G" in cfg["rootfs"], "rootfs names its volume and size",
         cfg.get("rootfs"))
    t.ok(re.fullmatch(r"name=eth0,bridge=vmbr0,hwaddr=[0-9A-F:]{17},"
                      r"ip=dhcp,type=veth", cfg.get("net0", "")),
         "net0 is a veth on vmbr0", cfg.get("net0"))
    t.eq(px.nodes("pve-a").lxc(100).config.get(current=1), cfg,
         "current=1: the same keys (no pending changes)")
    t.eq(error_of(lambda: px.nodes("pve-a").lxc(100).config.get(
        snapshot="before")),
        (500, "500 Internal Server Error: snapshot 'before' does not "
         "exist"), "a snapshot it does not have: load_snapshot_config")
    why = "cannot use 'snapshot' parameter with 'current'"
    t.eq(param_errors(sim, "/nodes/pve-a/lxc/100/config",
                      {"snapshot": "before", "current": 1}),
        (400, {"snapshot": why, "current": why}),
        "snapshot with current: a parameter error on both")
    cfg2 = px.nodes("pve-b").lxc(201).config.get()
    t.eq((cfg2["hostname"], cfg2["cores"], cfg2["memory"]),
         ("ct-idle", 1, 512), "pct's defaults: 1 core, 512 MiB")
    t.ok(cfg2["digest"] != cfg["digest"], "digests differ between files")


def t_status(t, px):
    st = px.nodes("pve-a").lxc(100).status.current.get()
    t.eq(problems(st, STATUS, STATUS_MORE), [],
         "status/current: the schema's fields and types")
    t.eq({k: st.get(k) for k in ("vmid", "status", "name", "type", "cpus",
                                 "maxmem", "maxswap", "maxdisk", "tags",
                                 "ha")},
         {"vmid": 100, "status": "running", "name": "ct-web",
          "type": "lxc", "cpus": 2, "maxmem": 1024 << 20,
          "maxswap": 256 << 20, "maxdisk": 8 << 30, "tags": "web;prod",
          "ha": {"managed": 0}},
         "status/current: vmstatus' figures of the running container")
    t.ok(isinstance(st.get("pid"), int) and "pressurecpusome" in st,
         "a running container has a pid and pressures", st)
    st2 = px.nodes("pve-b").lxc(201).status.current.get()
    t.eq((st2["status"], st2["uptime"], "pid" in st2,
          "pressurecpusome" in st2), ("stopped", 0, False, False),
         "a stopped container: no pid, no pressures, uptime 0")
    listed = [c for c in px.nodes("pve-a").lxc.get() if c["vmid"] == 100]
    t.eq(listed[0]["status"], st["status"],
         "the list and status/current agree")


def t_snapshots(t, px):
    got = px.nodes("pve-a").lxc(100).snapshot.get()
    digest = px.nodes("pve-a").lxc(100).config.get()["digest"]
    t.ok(not [p for p in (problems(i, SNAPSHOT, SNAPSHOT_MORE)
                          for i in got) if p],
         "snapshot: the schema's fields and types", got)
    t.eq(got, [{"name": "current", "digest": digest, "running": 1,
                "description": "You are here!"}],
         "a container without snapshots lists only 'current'")
    t.eq(px.nodes("pve-b").lxc(201).snapshot.get()[0]["running"], 0,
         "a stopped container's current entry: running 0")


def t_errors(t, px, sim):
    for sub, name in ((None, "index"), ("config", "config"),
                      ("status/current", "status/current"),
                      ("snapshot", "snapshot")):
        for node, vmid, why in (("pve-a", 999, "no such container"),
                                ("pve-a", 201, "a container of pve-b"),
                                ("pve-a", 120, "a VM's vmid")):
            r = px.nodes(node).lxc(vmid)
            if sub:
                for part in sub.split("/"):
                    r = getattr(r, part)
            t.eq(error_of(r.get),
                 (500, "500 Internal Server Error: Configuration file "
                  "'nodes/%s/lxc/%d.conf' does not exist" % (node, vmid)),
                 "%s of %s: load_config's error" % (name, why))
    st, msg = error_of(lambda: px.nodes("nowhere").lxc(100).config.get())
    t.ok(st == 500 and "no such cluster node 'nowhere'" in msg,
         "an unknown node", msg)
    st, errs = param_errors(sim, "/nodes/pve-a/lxc/99/config", {})
    t.ok(st == 400 and "vmid" in (errs or {}),
         "vmid 99: below the schema's minimum", errs)


def wait_task(px, node, upid):
    for _ in range(600):
        s = px.nodes(node).tasks(upid).status.get()
        if s["status"] == "stopped":
            return s
        time.sleep(0.05)
    return s


def t_vmid_taken(t, px):
    t.eq(error_of(lambda: px.nodes("pve-b").qemu.post(vmid=100,
                                                      name="x")),
         (500, "500 Internal Server Error: unable to create VM 100 - CT "
          "100 already exists on node 'pve-a'"),
         "create onto a container's vmid: check_vmid_unused's error")
    t.eq(error_of(lambda: px.nodes("pve-a").qemu.post(vmid=122,
                                                      name="x")),
         (500, "500 Internal Server Error: unable to create VM 122 - VM "
          "122 already exists on node 'pve-b'"),
         "create onto a VM's vmid: the same check names the VM")
    upid = px.nodes("pve-a").qemu(9000).clone.post(newid=201, name="c")
    s = wait_task(px, "pve-a", upid)
    t.eq(s.get("exitstatus"),
         "close (rename) atomic file '/etc/pve/nodes/pve-a/qemu-server/"
         "201.conf' failed: File exists",
         "clone onto a container's vmid: the task fails at pmxcfs")
    res = [(r["type"], r["vmid"]) for r in
           px.cluster.resources.get(type="vm") if r["vmid"] == 201]
    t.eq(res, [("lxc", 201)], "and no VM 201 was made")
    t.ok(error_of(lambda: px.nodes("pve-b").qemu(201).config.get())[0]
         == 500, "no qemu config for 201")


def t_ha(t, px):
    ha = px.cluster.ha.resources
    t.eq(error_of(lambda: ha.post(sid="ct:100", state="started")),
         (200, ""), "ct:100 becomes an HA resource")
    got = ha("ct:100").get()
    t.eq((got["sid"], got["type"], got["state"]),
         ("ct:100", "ct", "started"), "it reads back as type ct")
    t.eq(px.nodes("pve-a").lxc(100).status.current.get()["ha"],
         {"managed": 1, "state": "started"},
         "status/current's ha: get_service_status of ct:100")
    t.eq(error_of(lambda: ha.post(sid="201")), (200, ""),
         "a bare vmid of a container")
    t.eq([r["sid"] for r in ha.get(type="ct")], ["ct:100", "ct:201"],
         "parse_sid made it ct:201; type=ct lists both")
    t.eq(error_of(lambda: ha.post(sid="ct:120")),
         (500, "500 Internal Server Error: resource 'ct:120' - guest "
          "with ID 120 is not a container"), "ct: of a VM is refused")
    t.eq(error_of(lambda: ha.post(sid="vm:100")),
         (500, "500 Internal Server Error: resource 'vm:100' - guest "
          "with ID 100 is not a VM"), "vm: of a container is refused")
    t.eq(error_of(lambda: ha.post(sid="ct:555")),
         (500, "500 Internal Server Error: resource 'ct:555' does not "
          "exist in cluster"), "ct: of no guest is refused")
    t.eq(error_of(lambda: ha("201").delete()), (200, ""),
         "delete by bare vmid")
    t.eq(error_of(lambda: ha("ct:100").delete()), (200, ""),
         "delete ct:100")
    t.eq(ha.get(), [], "no resources left")
    t.eq(px.nodes("pve-a").lxc(100).status.current.get()["ha"],
         {"managed": 0}, "status/current's ha: not managed again")


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-lxc.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--topology", topo, "--token",
             "root@pam!ci=" + SECRET, "--task-ms", "0") as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False, timeout=60)
        t_index(t, px)
        t_config(t, px, sim)
        t_status(t, px)
        t_snapshots(t, px)
        t_errors(t, px, sim)
        t_vmid_taken(t, px)
        t_ha(t, px)
        if os.environ.get("PVE_SIM_KEEP"):
            shutil.copy(sim.log, os.path.join(work, "requests.jsonl"))
            print("# kept " + work)
        clean_exit(t, sim)
    if not os.environ.get("PVE_SIM_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
