#!/usr/bin/python3
"""proxmox-sim's read endpoints, as Debian's python3-proxmoxer sees them:
containers (the node's list and /cluster/resources), /storage and a
storage's content, /access/users|groups|domains, a node's network,
/cluster/status, and the guest agent (its index, info, get-osinfo,
get-host-name, ping, network-get-interfaces, its errors in Proxmox's
order, and file-read of the topology's files with the 16 MiB cap and
base64 rules of qemu-server's PVE/API2/Qemu/Agent.pm).

Every answer is checked against the field list and types of the official
schema's `returns` (copied below from the reference, pve-docs apidata.js
of Proxmox VE 9.1), the required fields present.

Usage: sim_readapi.py PROXMOX_SIM
"""

import base64
import os
import subprocess
import sys
import tempfile

import urllib3
from proxmoxer import ProxmoxAPI, ResourceException

from simlib import Sim, Tap, clean_exit, schema_check

urllib3.disable_warnings()
SECRET = "7d1f3c2a-90ab-4cde-8f01-23456789abcd"
MIB = 1 << 20

TOPOLOGY = """\
nodes:
  - name: pve-a
    cpus: 8
    address: 192.0.2.50/24
    bridges: [vmbr0, vmbr1]
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
      - {name: shared-nfs, type: nfs, content: images, capacity: 2T,
         shared: true, config: {server: 192.0.2.9, export: /srv/pve}}
      - {name: backup, type: dir, content: "backup,iso",
         config: {path: /srv/backup}}
  - name: pve-b
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
      - {name: shared-nfs, type: nfs, content: images, capacity: 2T,
         shared: true, config: {server: 192.0.2.9, export: /srv/pve}}
  - name: pve-c
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
templates:
  - {vmid: 9000, name: debian12, node: pve-a,
     disks: {scsi0: {storage: shared-nfs, size: 2G}}}
vms:
  - {vmid: 120, name: db1, node: pve-a, status: running,
     disks: {scsi0: {storage: local-lvm, size: 32G}},
     files: {/etc/hostname: "db-one\\n", /etc/motd: "h\\u00e9llo\\n",
             /var/big: {size: 17M, fill: "0123456789"},
             /var/exact: {size: 1M, fill: "x"},
             /var/two: {size: 2M, fill: "ab"}}}
  - {vmid: 121, name: noagent0, node: pve-a, status: running,
     config: {agent: "0"}}
  - {vmid: 122, name: stopped, node: pve-b}
  - {vmid: 123, name: nokey, node: pve-b, status: running, agent: false}
  - {vmid: 124, name: nokeystopped, node: pve-b, agent: false}
  - {vmid: 1000, name: wide, node: pve-c}
containers:
  - {vmid: 100, hostname: ct-web, node: pve-a, status: running,
     rootfs: {storage: local-lvm, size: 8G},
     config: {cores: 2, memory: 1024, swap: 256, tags: "web;prod"}}
  - {vmid: 201, hostname: ct-idle, node: pve-b}
users:
  - userid: ops@pve
    password: hunter2
    tokens: [{id: ci, secret: s3cr3t}]
groups:
  - {groupid: admins, comment: "the admins", users: [ops@pve, root@pam]}
"""

# ---- the official schema's `returns`, field: type ("!" = required) ----

LXC_LIST = {
    "cpu": "number", "cpus": "number", "disk": "integer",
    "diskread": "integer", "diskwrite": "integer", "lock": "string",
    "maxdisk": "integer", "maxmem": "integer", "maxswap": "integer",
    "mem": "integer", "name": "string", "netin": "integer",
    "netout": "integer", "pressurecpusome": "number",
    "pressureiofull": "number", "pressureiosome": "number",
    "pressurememoryfull": "number", "pressurememorysome": "number",
    "status": "string!", "tags": "string", "template": "boolean",
    "uptime": "integer", "vmid": "integer!",
}
RESOURCES = {
    "cgroup-mode": "integer", "content": "string", "cpu": "number",
    "disk": "integer", "diskread": "integer", "diskwrite": "integer",
    "hastate": "string", "id": "string!", "level": "string",
    "lock": "string", "maxcpu": "number", "maxdisk": "integer",
    "maxmem": "integer", "mem": "integer", "memhost": "integer",
    "name": "string", "netin": "integer", "netout": "integer",
    "network": "string", "network-type": "string", "node": "string",
    "plugintype": "string", "pool": "string", "protocol": "string",
    "sdn": "string", "shared": "boolean", "status": "string",
    "storage": "string", "tags": "string", "template": "boolean",
    "type": "string!", "uptime": "integer", "vmid": "integer",
    "zone-type": "string",
}
STORAGE_LIST = {"storage": "string!"}
CONTENT = {
    "ctime": "integer", "encrypted": "string", "format": "string!",
    "notes": "string", "parent": "string", "protected": "boolean",
    "size": "integer!", "used": "integer", "verification": "object",
    "vmid": "integer", "volid": "string!",
}
USERS = {
    "comment": "string", "email": "string", "enable": "boolean",
    "expire": "integer", "firstname": "string", "groups": "string",
    "keys": "string", "lastname": "string", "realm-type": "string",
    "tfa-locked-until": "integer", "tokens": "array",
    "totp-locked": "boolean", "userid": "string!",
}
GROUPS = {"comment": "string", "groupid": "string!", "users": "string"}
DOMAINS = {"comment": "string", "realm": "string!", "tfa": "string",
           "type": "string!"}
NETWORK = {
    "active": "boolean", "address": "string", "address6": "string",
    "autostart": "boolean", "bond-primary": "string",
    "bond_mode": "string", "bond_xmit_hash_policy": "string",
    "bridge-access": "integer", "bridge-arp-nd-suppress": "boolean",
    "bridge-learning": "boolean", "bridge-multicast-flood": "boolean",
    "bridge-unicast-flood": "boolean", "bridge_ports": "string",
    "bridge_vids": "string", "bridge_vlan_aware": "boolean",
    "cidr": "string", "cidr6": "string", "comments": "string",
    "comments6": "string", "exists": "boolean", "families": "array",
    "gateway": "string", "gateway6": "string", "iface": "string!",
    "link-type": "string", "method": "string", "method6": "string",
    "mtu": "integer", "netmask": "string", "netmask6": "integer",
    "options": "array", "options6": "array", "ovs_bonds": "string",
    "ovs_bridge": "string", "ovs_options": "string", "ovs_ports": "string",
    "ovs_tag": "integer", "priority": "integer", "slaves": "string",
    "type": "string!", "uplink-id": "string", "vlan-id": "integer",
    "vlan-protocol": "string", "vlan-raw-device": "string",
    "vxlan-id": "integer", "vxlan-local-tunnelip": "string",
    "vxlan-physdev": "string", "vxlan-svcnodeip": "string",
}
CLUSTER_STATUS = {
    "id": "string!", "ip": "string", "level": "string", "local": "boolean",
    "name": "string!", "nodeid": "integer", "nodes": "integer",
    "online": "boolean", "quorate": "boolean", "type": "string!",
    "version": "integer",
}
FILE_READ = {"content": "string!", "truncated": "boolean"}


def type_ok(v, t):
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t == "boolean":  # Proxmox's booleans are 0 and 1
        return isinstance(v, bool) or v in (0, 1)
    if t == "string":
        return isinstance(v, str)
    if t == "array":
        return isinstance(v, list)
    return isinstance(v, dict)


def schema_problems(item, props):
    """Required fields missing and fields of the wrong type."""
    bad = [k for k, t in props.items()
           if t.endswith("!") and k not in item]
    bad += ["%s=%r" % (k, item[k]) for k, t in props.items()
            if k in item and not type_ok(item[k], t.rstrip("!"))]
    return bad


def check_list(t, items, props, name, want_fields=()):
    bad = {}
    for it in items:
        p = schema_problems(it, props)
        p += ["missing " + f for f in want_fields if f not in it]
        if p:
            bad[str(it.get("id", it.get("vmid", it.get("iface",
                                                         ""))))] = p
    t.ok(isinstance(items, list) and items and not bad,
         name + ": every item has the schema's fields and types", bad)


def error_of(fn):
    try:
        fn()
    except ResourceException as e:
        return (e.status_code, str(e))
    return (200, "")


def t_containers(t, px):
    a = px.nodes("pve-a").lxc.get()
    t.eq([c["vmid"] for c in a], [100], "pve-a lists its container")
    check_list(t, a, LXC_LIST, "GET /nodes/pve-a/lxc",
               ["name", "cpus", "maxmem", "maxswap", "maxdisk", "mem",
                "disk", "uptime", "cpu", "netin", "netout", "diskread",
                "diskwrite", "type"])
    c = a[0]
    t.eq((c["name"], c["status"], c["cpus"], c["maxmem"], c["maxswap"],
          c["maxdisk"], c["tags"], c["type"]),
         ("ct-web", "running", 2, 1024 * MIB, 256 * MIB, 8 << 30,
          "web;prod", "lxc"), "the container's figures from its config")
    t.ok(c["uptime"] > 0 and "template" not in c,
         "a running container has an uptime, no template key", c)
    b = px.nodes("pve-b").lxc.get()
    t.eq([(x["vmid"], x["status"], x["maxmem"], x["maxdisk"], x["uptime"])
          for x in b], [(201, "stopped", 512 * MIB, 4 << 30, 0)],
         "a stopped container with pct's defaults (512 MiB, 4 GiB)")
    t.eq(px.nodes("pve-c").lxc.get(), [], "a node without containers: []")
    res = px.cluster.resources.get()
    check_list(t, res, RESOURCES, "GET /cluster/resources")
    cts = {r["id"]: r for r in res if r["type"] == "lxc"}
    t.eq(sorted(cts), ["lxc/100", "lxc/201"],
         "containers in /cluster/resources")
    r = cts["lxc/100"]
    t.eq((r["vmid"], r["node"], r["name"], r["status"], r["maxcpu"],
          r["template"], r["tags"]),
         (100, "pve-a", "ct-web", "running", 2, 0, "web;prod"),
         "a container's resource entry (extract_vm_stats)")
    missing = [f for f in ("maxmem", "mem", "maxdisk", "disk", "uptime",
                           "cpu", "netin", "netout", "diskread",
                           "diskwrite") if f not in r]
    t.eq(missing, [], "a container's entry has the rrd figures")
    vm = [x["id"] for x in px.cluster.resources.get(type="vm")]
    t.eq(vm, ["lxc/100", "qemu/1000", "qemu/120", "qemu/121", "qemu/122",
              "qemu/123", "qemu/124", "lxc/201", "qemu/9000"],
         "type=vm: VMs and containers by vmid as strings (sort keys)")
    q = {r["id"]: r for r in res}["qemu/120"]
    t.eq(("cpus" in q, q["maxcpu"], q["template"], q["netout"]),
         (False, 1, 0, 0), "a VM's entry: maxcpu, template 0, counters")
    t.eq([r["type"] for r in res][:9], ["lxc", "qemu"] + ["qemu"] * 5 +
         ["lxc", "qemu"], "guests come first (Cluster.pm's order)")
    t.ok(not [x for x in px.cluster.resources.get(type="node")
              if x["type"] == "lxc"], "type=node lists no container")
    t.eq(px.cluster.nextid.get(), "101", "nextid skips a container's id")
    t.eq(error_of(lambda: px.cluster.nextid.get(vmid=201))[0], 400,
         "nextid refuses a container's id")


def t_storage(t, px):
    st = px.storage.get()
    check_list(t, st, STORAGE_LIST, "GET /storage",
               ["type", "content", "digest"])
    t.eq([s["storage"] for s in st], ["backup", "local-lvm", "shared-nfs"],
         "every storage once, sorted")
    by = {s["storage"]: s for s in st}
    t.eq((by["local-lvm"]["type"], by["local-lvm"]["vgname"],
          by["local-lvm"]["thinpool"], "nodes" in by["local-lvm"],
          "shared" in by["local-lvm"]),
         ("lvmthin", "pve", "data", False, False),
         "an lvmthin storage on every node: vgname, thinpool, no nodes")
    n = by["shared-nfs"]
    t.eq((n["type"], n["server"], n["export"], n["path"], n["shared"]),
         ("nfs", "192.0.2.9", "/srv/pve", "/mnt/pve/shared-nfs", 1),
         "an nfs storage: server, export, mount path, shared")
    bk = by["backup"]
    t.eq((bk["type"], bk["path"], bk["content"], bk["nodes"]),
         ("dir", "/srv/backup", "backup,iso", "pve-a"),
         "a storage on one node names it in nodes")
    t.eq(len({s["digest"] for s in st}) == 1 and len(st[0]["digest"]),
         40, "one digest of storage.cfg on every section")
    t.eq([s["storage"] for s in px.storage.get(type="nfs")], ["shared-nfs"],
         "the type filter")
    t.eq(px.storage("backup").get(), bk, "GET /storage/{storage}")
    t.eq(error_of(lambda: px.storage("nope").get()),
         (500, "500 Internal Server Error: storage 'nope' does not exist"),
         "an unknown storage: 500")
    c = px.nodes("pve-a").storage("local-lvm").content.get()
    check_list(t, c, CONTENT, "GET .../storage/local-lvm/content",
               ["content"])
    t.eq([(v["volid"], v["vmid"], v["format"], v["content"]) for v in c],
         [("local-lvm:vm-100-disk-0", 100, "raw", "rootdir"),
          ("local-lvm:vm-120-disk-0", 120, "raw", "images")],
         "the node's volumes, sorted by volid, a container's as rootdir")
    t.eq(c[0]["size"], 8 << 30, "a volume's size in bytes")
    t.eq([v["volid"] for v in
          px.nodes("pve-a").storage("local-lvm").content.get(vmid=120)],
         ["local-lvm:vm-120-disk-0"], "the vmid filter")
    t.eq([v["volid"] for v in px.nodes("pve-a").storage("local-lvm")
          .content.get(content="rootdir")],
         ["local-lvm:vm-100-disk-0"], "the content filter")
    t.eq([v["volid"] for v in
          px.nodes("pve-b").storage("shared-nfs").content.get()],
         ["shared-nfs:base-9000-disk-0"],
         "a shared storage shows its volumes on every node")
    t.eq(px.nodes("pve-c").storage("local-lvm").content.get(), [],
         "an empty storage: []")
    t.eq(error_of(lambda: px.nodes("pve-b").storage("backup").content
                  .get())[1],
         "500 Internal Server Error: storage 'backup' is not available "
         "on node 'pve-b'", "a storage of another node: 500")


def t_access(t, px):
    u = px.access.users.get()
    check_list(t, u, USERS, "GET /access/users",
               ["enable", "expire", "realm-type"])
    t.eq([(x["userid"], x["realm-type"], x["enable"]) for x in u],
         [("ops@pve", "pve", 1), ("root@pam", "pam", 1)],
         "the users, sorted, with their realm's type")
    t.ok("groups" not in u[0] and "tokens" not in u[0],
         "without full: no groups or tokens", u[0])
    f = {x["userid"]: x for x in px.access.users.get(full=1)}
    t.eq((f["ops@pve"]["groups"], f["ops@pve"]["tokens"],
          f["root@pam"]["groups"]),
         ("admins", [{"tokenid": "ci", "expire": 0, "privsep": 0}],
          "admins"), "full=1: groups and tokens")
    t.eq(px.access.users.get(enabled=0), [], "enabled=0: no user")
    g = px.access.groups.get()
    check_list(t, g, GROUPS, "GET /access/groups")
    t.eq(g, [{"groupid": "admins", "comment": "the admins",
              "users": "ops@pve,root@pam"}], "the topology's group")
    d = px.access.domains.get()
    check_list(t, d, DOMAINS, "GET /access/domains")
    t.eq(sorted((x["realm"], x["type"]) for x in d),
         [("pam", "pam"), ("pve", "pve")], "pam and pve always exist")


def t_network(t, px):
    n = px.nodes("pve-a").network.get()
    check_list(t, n, NETWORK, "GET /nodes/pve-a/network",
               ["method", "active", "families"])
    t.eq([(i["iface"], i["type"]) for i in n],
         [("eno1", "eth"), ("vmbr0", "bridge"), ("vmbr1", "bridge")],
         "the port and the topology's bridges")
    br = {i["iface"]: i for i in n}
    t.eq((br["vmbr0"]["address"], br["vmbr0"]["netmask"],
          br["vmbr0"]["cidr"], br["vmbr0"]["bridge_ports"],
          br["vmbr0"]["method"], br["vmbr1"]["method"]),
         ("192.0.2.50", "24", "192.0.2.50/24", "eno1", "static", "manual"),
         "vmbr0 carries the node's address")
    t.eq({(i["active"], i.get("autostart", i.get("exists"))) for i in n},
         {(1, 1)}, "active, autostart and exists are 0/1 as Perl gives them")
    t.eq([i["iface"] for i in px.nodes("pve-a").network.get(type="bridge")],
         ["vmbr0", "vmbr1"], "type=bridge")
    c = px.nodes("pve-c").network.get()
    t.eq([(i["iface"], i.get("address")) for i in c],
         [("eno1", None), ("vmbr0", "192.0.2.13")],
         "a node without address: eno1 and vmbr0 with a TEST-NET-1 one")
    s = px.cluster.status.get()
    check_list(t, s, CLUSTER_STATUS, "GET /cluster/status")
    t.eq([(x["type"], x["id"]) for x in s],
         [("cluster", "cluster"), ("node", "node/pve-a"),
          ("node", "node/pve-b"), ("node", "node/pve-c")],
         "the cluster entry and one per node")
    t.eq((s[0]["nodes"], s[0]["quorate"], s[1]["ip"], s[3]["ip"],
          s[1]["local"], s[2]["local"], s[1]["online"]),
         (3, 1, "192.0.2.50", "192.0.2.13", 1, 0, 1),
         "members: address (vmbr0's), local, online")


def t_agent(t, px):
    vm = px.nodes("pve-a").qemu(120)
    idx = [c["name"] for c in vm.agent.get()]
    t.ok(idx == sorted(idx) and {"file-read", "exec", "get-osinfo", "info",
                                 "ping", "network-get-interfaces",
                                 "get-host-name"} <= set(idx),
         "the agent's command index, sorted", idx)
    t.eq(vm.agent("get-host-name").get(), {"result": {"host-name": "db-one"}},
         "get-host-name from the guest's /etc/hostname")
    t.eq(px.nodes("pve-b").qemu(123).status.current.get()["status"],
         "running", "VM 123 runs")
    os_ = vm.agent("get-osinfo").get()
    t.eq((list(os_), os_["result"]["id"], os_["result"]["version-id"]),
         (["result"], "debian", "12"), "get-osinfo wrapped in result")
    info = vm.agent.info.get()["result"]
    t.ok(isinstance(info["version"], str) and
         {"name": "guest-file-read", "enabled": True,
          "success-response": True} in info["supported_commands"],
         "info: version and supported commands", info)
    t.eq(vm.agent.ping.post(), {"result": {}}, "ping: {result: {}}")
    ifs = vm.agent("network-get-interfaces").get()
    t.eq((list(ifs), [i["name"] for i in ifs["result"]]),
         (["result"], ["lo", "eth0"]), "network-get-interfaces wrapped")
    t.eq(vm.agent.post(command="get-host-name"),
         {"result": {"host-name": "db-one"}}, "POST agent {command}")
    errs = [
        error_of(lambda: px.nodes("pve-b").qemu(123).agent.ping.post()),
        error_of(lambda: px.nodes("pve-b").qemu(124).agent.info.get()),
        error_of(lambda: px.nodes("pve-b").qemu(122).agent.info.get()),
        error_of(lambda: px.nodes("pve-a").qemu(121).agent
                 ("get-osinfo").get()),
    ]
    t.eq(errs, [
        (500, "500 Internal Server Error: No QEMU guest agent configured"),
        (500, "500 Internal Server Error: No QEMU guest agent configured"),
        (500, "500 Internal Server Error: VM 122 is not running"),
        (500, "500 Internal Server Error: QEMU guest agent is not running"),
    ], "no agent key (even stopped), stopped, agent: 0 (Agent.pm's order)")


def t_file_read(t, px):
    fr = px.nodes("pve-a").qemu(120).agent("file-read")
    r = fr.get(file="/etc/hostname")
    t.eq(schema_problems(r, FILE_READ), [], "file-read: the schema's fields")
    t.eq(r, {"content": "db-one\n", "bytes-read": 7},
         "a small file whole, not truncated")
    t.eq(fr.get(file="/etc/motd")["content"], "h\u00c3\u00a9llo\n",
         "bytes above 0x7f come out as Latin-1 characters (Perl's JSON)")
    t.eq(fr.get(file="/etc/motd", decode=0)["content"],
         base64.b64encode("h\u00e9llo\n".encode()).decode(),
         "decode=0: the agent's base64")
    big = fr.get(file="/var/big")
    t.eq((len(big["content"]), big["bytes-read"], big.get("truncated"),
          big["content"][:12]), (16 * MIB, 16 * MIB, 1, "012345678901"),
         "17 MiB: 16 MiB read, truncated")
    part = fr.get(file="/var/big", offset=3, count=5)
    t.eq((part["content"], part.get("truncated")), ("34567", 1),
         "offset and count")
    t.eq(fr.get(file="/var/exact", count=MIB).get("truncated"), 1,
         "a read that ends at the end of the file says truncated (feof)")
    whole = fr.get(file="/var/exact", count=MIB + 1)
    t.eq((len(whole["content"]), "truncated" in whole), (MIB, False),
         "a count past the end: the whole file, not truncated")
    b = fr.get(file="/var/two", decode=0, offset=1)["content"]
    raw = (b"ab" * MIB)[1:]
    want = "".join(base64.b64encode(raw[i:i + MIB]).decode()
                   for i in range(0, len(raw), MIB))
    t.ok(b == want and "=" in b[:-4],
         "decode=0: each 1 MiB chunk's base64 joined (padding inside)",
         b[1398096:1398110])
    t.eq(fr.get(file="/var/exact", offset=5 * MIB),
         {"content": "", "bytes-read": 0}, "an offset past the end: ''")
    t.eq(error_of(lambda: fr.get(file="/etc/nope")),
         (500, "500 Internal Server Error: Agent error: failed to open "
          "file '/etc/nope' (mode: 'r'): No such file or directory"),
         "a missing file: qemu-ga's error")
    t.eq(error_of(lambda: fr.get(file="/etc/hostname",
                                 count=16 * MIB + 1))[0],
         400, "count above 16 MiB is refused")
    t.eq(error_of(lambda: px.nodes("pve-b").qemu(122).agent("file-read")
                  .get(file="/etc/hostname")),
         (500, "500 Internal Server Error: VM 122 is not running"),
         "file-read of a stopped VM")


def t_lone_node(t, work):
    """A node without a cluster: Cluster.pm's fake entry, nodeid 0."""
    topo = os.path.join(work, "lone.yaml")
    with open(topo, "w") as f:
        f.write("nodes:\n  - {name: solo, address: 192.0.2.77/24}\n")
    with Sim(sys.argv[1], "--topology", topo, "--token",
             "root@pam!ci=" + SECRET) as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False, timeout=60)
        t.eq(px.cluster.status.get(),
             [{"type": "node", "id": "node/solo", "name": "solo",
               "nodeid": 0, "local": 1, "online": 1, "ip": "192.0.2.77",
               "level": ""}], "a lone node: one entry, nodeid 0")


BAD = [
    ("containers:\n  - {vmid: 300, node: nowhere}\n", 6, "no such node"),
    ("containers:\n  - {vmid: 120, node: a}\n", 6, "vmid listed twice"),
    ("containers:\n  - {vmid: 300, node: a, rootfs: {storage: x}}\n", 6,
     "no such storage on the node"),
    ("", 4, "a file's path is absolute", "{etc/x: y}"),
    ("", 4, "a file is a string or {size: N, fill: S} (at most 256M)",
     "{/x: [1]}"),
]


def t_refusals(t, work):
    topo = os.path.join(work, "bad.yaml")
    for case in BAD:
        files = case[3] if len(case) > 3 else "{}"
        with open(topo, "w") as f:
            f.write("nodes:\n  - name: a\nvms:\n"
                    "  - {vmid: 120, name: v, node: a, files: %s}\n%s"
                    % (files, case[0]))
        p = subprocess.run([sys.argv[1], "--listen", "127.0.0.1:0",
                            "--topology", topo], capture_output=True,
                           text=True, timeout=30)
        t.eq((p.returncode, p.stderr.strip()),
             (2, "proxmox-sim: error: %s:%d: %s" % (topo, case[1], case[2])),
             "topology refused: " + case[2])


def main():
    t = Tap()
    work = tempfile.mkdtemp(prefix="sim-readapi.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--topology", topo, "--token",
             "root@pam!ci=" + SECRET, "--task-ms", "0") as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ci", token_value=SECRET,
                        verify_ssl=False, timeout=60)
        t_containers(t, px)
        t_storage(t, px)
        t_access(t, px)
        t_network(t, px)
        t_agent(t, px)
        t_file_read(t, px)
        schema_check(t, sim, clean=False)
        clean_exit(t, sim)
    t_lone_node(t, work)
    t_refusals(t, work)
    t.done()


if __name__ == "__main__":
    main()
