#!/usr/bin/python3
"""Debian's ansible (7.7.0: community.general 6.6.2), unmodified: the
Proxmox inventory plugin (plugin: community.general.proxmox) lists
proxmox-sim's guests with `ansible-inventory -i proxmox.yml --list`, once
without and once with want_facts: true. The topology has three nodes, VMs
running and stopped (some with a guest agent, static or DHCP addresses),
a template (never listed), containers and a pool. Every guest must appear
with its groups (proxmox_all_qemu / _lxc, proxmox_<node>_qemu / _lxc,
proxmox_all_running / _stopped, proxmox_pool_<pool>) and, with want_facts,
its facts and the address compose takes from the guest agent or from
ipconfig0. An inventory that ansible-inventory prints without these
guests, even with exit status 0, fails the test.

HTTPS is verified against the simulator's own CA (validate_certs: true,
REQUESTS_CA_BUNDLE naming that CA), the token secret comes from
PROXMOX_TOKEN_SECRET, and the child environment is built from nothing.

Usage: ansible_inventory.py PROXMOX_SIM
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from proxmoxer import ProxmoxAPI

from simlib import Sim, Tap, schema_check, make_cert

SECRET = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"

TOPOLOGY = """\
nodes:
  - name: pve1
    storages: [{name: local-lvm, capacity: 1T}]
  - name: pve2
    storages: [{name: local-lvm, capacity: 1T}]
  - name: pve3
    storages: [{name: local-lvm, capacity: 1T}]
templates:
  - {vmid: 9000, name: tmpl, node: pve1,
     disks: {scsi0: {storage: local-lvm, size: 3G}}}
vms:
  - {vmid: 101, name: web1, node: pve1, status: running,
     config: {tags: "prod;web", ipconfig0: "ip=127.0.1.11/8,gw=127.0.0.1"}}
  - {vmid: 102, name: web2, node: pve2, status: running,
     config: {tags: web, ipconfig0: "ip=dhcp"}}
  - {vmid: 103, name: db1, node: pve2, status: stopped,
     config: {ipconfig0: "ip=127.0.1.13/8,gw=127.0.0.1"}}
  - {vmid: 104, name: batch1, node: pve3, status: running, agent: false}
  - {vmid: 105, name: legacy1, node: pve3, status: stopped, agent: false}
containers:
  - {vmid: 201, hostname: dns1, node: pve1, status: running}
  - {vmid: 202, hostname: cache1, node: pve3, status: stopped}
"""

# name: (type, node, status)
GUESTS = {
    "web1": ("qemu", "pve1", "running"),
    "web2": ("qemu", "pve2", "running"),
    "db1": ("qemu", "pve2", "stopped"),
    "batch1": ("qemu", "pve3", "running"),
    "legacy1": ("qemu", "pve3", "stopped"),
    "dns1": ("lxc", "pve1", "running"),
    "cache1": ("lxc", "pve3", "stopped"),
}
POOL = {"prod": ["web1", "db1", "dns1"]}

# ansible_host: the first agent address that is not loopback's, else the
# static ipconfig0 address; none at all: not set
COMPOSE = """\
compose:
  ansible_host: >-
    (proxmox_agent_interfaces | default([])
     | rejectattr('name', 'equalto', 'lo')
     | map(attribute='ip-addresses') | flatten
     | select('match', '^[0-9.]+/') | list
     + [proxmox_ipconfig0.ip | default('')]
    ) | reject('equalto', '') | reject('equalto', 'dhcp')
    | map('regex_replace', '/.*$', '') | first | default(omit)
"""

# the agent of web2 (DHCP) answers 127.0.100.(2 + vmid % 250)
ADDRESSES = {"web1": "127.0.1.11", "web2": "127.0.100.104",
             "db1": "127.0.1.13"}


def child_env(d, ca):
    home = os.path.join(d, "home")
    os.makedirs(home, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TMPDIR": d,
        "REQUESTS_CA_BUNDLE": ca,
        "PROXMOX_TOKEN_SECRET": SECRET,
        "ANSIBLE_CONFIG": os.path.join(d, "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(d, "tmp"),
        "ANSIBLE_INVENTORY_ENABLED": "community.general.proxmox",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_NOCOLOR": "1",
    }


def inventory(d, env, url, extra=""):
    path = os.path.join(d, "proxmox.yml")
    with open(path, "w") as f:
        f.write("plugin: community.general.proxmox\nurl: %s\n"
                "user: root@pam\ntoken_id: inv\nvalidate_certs: true\n%s"
                % (url, extra))
    p = subprocess.run(["ansible-inventory", "-i", path, "--list"],
                       env=env, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL, cwd=d)
    try:
        inv = json.loads(p.stdout)
    except ValueError:
        inv = {}
    return p, inv


def members(inv, group):
    return set(inv.get(group, {}).get("hosts", []))


def check_groups(t, inv, how):
    hosts = set(inv.get("_meta", {}).get("hostvars", {})) | members(
        inv, "ungrouped")
    for g, v in inv.items():
        if g != "_meta":
            hosts |= set(v.get("hosts", []))
    t.ok(set(GUESTS) <= hosts, how + ": every guest is listed",
         sorted(hosts))
    t.ok("tmpl" not in hosts, how + ": the template is not listed")
    t.eq(members(inv, "proxmox_nodes"), {"pve1", "pve2", "pve3"},
         how + ": proxmox_nodes")
    for kind in ("qemu", "lxc"):
        want = {n for n, g in GUESTS.items() if g[0] == kind}
        t.eq(members(inv, "proxmox_all_" + kind), want,
             how + ": proxmox_all_" + kind)
        for node in ("pve1", "pve2", "pve3"):
            want = {n for n, g in GUESTS.items()
                    if g[0] == kind and g[1] == node}
            group = "proxmox_%s_%s" % (node, kind)
            t.eq(members(inv, group), want, how + ": " + group)
    for status in ("running", "stopped"):
        want = {n for n, g in GUESTS.items() if g[2] == status}
        t.eq(members(inv, "proxmox_all_" + status), want,
             how + ": proxmox_all_" + status)
    for pool, names in POOL.items():
        t.eq(members(inv, "proxmox_pool_" + pool), set(names),
             how + ": proxmox_pool_" + pool)


def check_facts(t, inv):
    hv = inv.get("_meta", {}).get("hostvars", {})
    for name, (kind, node, status) in GUESTS.items():
        v = hv.get(name, {})
        t.eq((v.get("proxmox_vmtype"), v.get("proxmox_node"),
              v.get("proxmox_status")), (kind, node, status),
             "want_facts: %s's type, node and status" % name)
        t.eq(v.get("ansible_host"), ADDRESSES.get(name),
             "want_facts: %s's ansible_host" % name)
    t.eq(hv.get("web1", {}).get("proxmox_tags_parsed"), ["prod", "web"],
         "want_facts: web1's tags parsed")
    t.eq(hv.get("web1", {}).get("proxmox_snapshots"), [],
         "want_facts: web1 has no snapshots")
    agent = [i.get("name") for i in
             hv.get("web2", {}).get("proxmox_agent_interfaces", [])]
    t.eq(agent, ["lo", "eth0"], "want_facts: web2's agent interfaces")
    t.ok("proxmox_agent_interfaces" not in hv.get("db1", {}),
         "want_facts: no agent interfaces for a stopped VM")
    t.eq(hv.get("dns1", {}).get("proxmox_vmid"), 201,
         "want_facts: dns1's vmid (a container's config read)")


def make_pools(t, px):
    """The pools of POOL, through proxmoxer (the topology has none)."""
    for pool, names in POOL.items():
        px.pools.post(poolid=pool, comment="production")
        ids = sorted(int(r["vmid"]) for r in px.cluster.resources.get(
            type="vm") if r.get("name") in names)
        try:
            px.pools(pool).put(vms=",".join(str(i) for i in ids))
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            t.ok(False, "PUT /pools/%s vms=%s" % (pool, ids), e)


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="ansible-inventory.")
    topo = os.path.join(d, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with open(os.path.join(d, "ansible.cfg"), "w") as f:
        f.write("[defaults]\n")
    cert, key = make_cert(d)
    env = child_env(d, cert)
    with Sim(sys.argv[1], "--tls-cert", cert, "--tls-key", key,
             "--topology", topo, "--token", "root@pam!inv=" + SECRET,
             "--boot-ms", "0") as sim:
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="inv", token_value=SECRET,
                        verify_ssl=cert)
        make_pools(t, px)

        p, inv = inventory(d, env, sim.url)
        t.eq(p.returncode, 0, "ansible-inventory --list exits 0",
             ) or print("# " + p.stderr.replace("\n", "\n# "))
        check_groups(t, inv, "without facts")
        t.ok(not any(k.startswith("proxmox_") for v in
                     inv.get("_meta", {}).get("hostvars", {}).values()
                     for k in v), "without facts: no proxmox_ facts")

        p, inv = inventory(d, env, sim.url, "want_facts: true\n" + COMPOSE)
        t.eq(p.returncode, 0, "want_facts: ansible-inventory --list exits "
             "0") or print("# " + p.stderr.replace("\n", "\n# "))
        check_groups(t, inv, "want_facts")
        check_facts(t, inv)

        # the same file with a wrong secret: an error, not an empty list
        bad = dict(env, PROXMOX_TOKEN_SECRET="wrong")
        p2 = subprocess.run(["ansible-inventory", "-i",
                             os.path.join(d, "proxmox.yml"), "--list"],
                            env=bad, capture_output=True, text=True,
                            timeout=300, stdin=subprocess.DEVNULL, cwd=d)
        t.ok(p2.returncode != 0, "a refused token fails ansible-inventory "
             "(not an empty inventory)", p2.stdout[-300:])
        schema_check(t, sim)
    shutil.rmtree(d, ignore_errors=True)
    t.done()


main()
