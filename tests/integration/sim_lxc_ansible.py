#!/usr/bin/python3
"""Debian's ansible-inventory with community.general's Proxmox inventory
plugin (ansible 7.7.0, plugins/inventory/proxmox.py) against proxmox-sim,
a topology with containers and VMs on two nodes, want_facts: true and
want_proxmox_nodes_ansible_host: true. The plugin reads /nodes, each
node's network, lxc and qemu lists, and for every guest that is not a
template its status/current, config and snapshot list (and the agent's
interfaces where the config enables the agent), then /pools and each
pool. Every guest must appear with its facts (proxmox_* variables from
those answers), in its groups, and the nodes with their addresses;
ansible-inventory must exit 0 with a non-empty inventory, and the
simulator must not have answered any of the plugin's requests with an
error (but the agent of a stopped VM, as qemu-server does).

python-requests honours REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE over
validate_certs: false, so the plugin gets an environment without them.

Usage: sim_lxc_ansible.py PROXMOX_SIM
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from simlib import Sim, Tap

SECRET = "0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
INVENTORY = "/usr/bin/ansible-inventory"

TOPOLOGY = """\
nodes:
  - name: pve-a
    address: 192.0.2.50/24
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
  - name: pve-b
    address: 192.0.2.51/24
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
templates:
  - {vmid: 9000, name: debian12, node: pve-a,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 120, name: db1, node: pve-a, status: running,
     config: {tags: "db;prod"}}
  - {vmid: 121, name: noagent, node: pve-a, status: running,
     config: {agent: "0"}}
  - {vmid: 122, name: idle, node: pve-b}
containers:
  - {vmid: 100, hostname: ct-web, node: pve-a, status: running,
     rootfs: {storage: local-lvm, size: 8G},
     config: {cores: 2, memory: 1024, tags: "web;prod"}}
  - {vmid: 201, hostname: ct-idle, node: pve-b}
"""

# name: (vmtype, node, vmid, status)
GUESTS = {
    "ct-web": ("lxc", "pve-a", 100, "running"),
    "ct-idle": ("lxc", "pve-b", 201, "stopped"),
    "db1": ("qemu", "pve-a", 120, "running"),
    "noagent": ("qemu", "pve-a", 121, "running"),
    "idle": ("qemu", "pve-b", 122, "stopped"),
}


def run_inventory(sim, work):
    cfg = os.path.join(work, "proxmox.yml")
    with open(cfg, "w") as f:
        f.write("plugin: community.general.proxmox\n"
                "url: %s\n"
                "user: root@pam\n"
                "token_id: ci\n"
                "token_secret: %s\n"
                "validate_certs: false\n"
                "want_facts: true\n"
                "want_proxmox_nodes_ansible_host: true\n"
                % (sim.url, SECRET))
    env = {k: v for k, v in os.environ.items()
           if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
           and not k.startswith("ANSIBLE_")}
    env.update({"HOME": work, "ANSIBLE_LOCAL_TEMP": work,
                "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True",
                "ANSIBLE_NOCOLOR": "1"})
    return subprocess.run([INVENTORY, "-i", cfg, "--list"], cwd=work,
                          env=env, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)


def requests_of(sim):
    with open(sim.log) as f:
        return [json.loads(line) for line in f if line.strip()]


def check_guest(t, hv, name, want):
    vmtype, node, vmid, status = want
    v = hv.get(name, {})
    t.eq({k: v.get(k) for k in ("proxmox_vmtype", "proxmox_node",
                                "proxmox_vmid", "proxmox_status")},
         {"proxmox_vmtype": vmtype, "proxmox_node": node,
          "proxmox_vmid": vmid, "proxmox_status": status},
         "%s: vmtype, node, vmid and status/current's status" % name)
    t.eq(v.get("proxmox_snapshots"), [],
         "%s: the snapshot list read, no snapshots" % name)
    t.ok(len(v.get("proxmox_digest", "")) == 40,
         "%s: the config's digest" % name, v)
    if vmtype == "qemu":
        t.ok(v.get("proxmox_qmpstatus") == status and
             ("proxmox_scsi0" not in v or
              "disk_image" in v["proxmox_scsi0"]),
             "%s: qmpstatus and drives as the plugin parses them" % name, v)


def check(t, p, sim):
    t.eq(p.returncode, 0, "ansible-inventory exits 0")
    try:
        inv = json.loads(p.stdout)
    except ValueError:
        inv = {}
    hv = inv.get("_meta", {}).get("hostvars", {})
    t.ok(hv, "the inventory is not empty", p.stderr[-3000:])
    for name, want in sorted(GUESTS.items()):
        check_guest(t, hv, name, want)
    t.ok("debian12" not in hv, "the template is left out")
    web = hv.get("ct-web", {})
    t.eq((web.get("proxmox_hostname"), web.get("proxmox_cores"),
          web.get("proxmox_memory"), web.get("proxmox_tags_parsed"),
          web.get("proxmox_ostype")),
         ("ct-web", 2, 1024, ["web", "prod"], "debian"),
         "ct-web: its config as facts (tags parsed)")
    t.eq(sorted(web.get("proxmox_net0", {})),
         ["bridge", "hwaddr", "ip", "name", "type"],
         "ct-web: net0 split into a dict")
    t.ok("disk_image" in web.get("proxmox_rootfs", {}),
         "ct-web: rootfs as the plugin's disk_image dict", web)
    t.eq(hv.get("db1", {}).get("proxmox_tags_parsed"), ["db", "prod"],
         "db1: its tags parsed")
    # the plugin takes the first interface's address; Proxmox lists them
    # in hash order, the simulator by name (eno1 first, no address)
    t.ok("ansible_host" in hv.get("pve-a", {}) and
         "ansible_host" in hv.get("pve-b", {}),
         "the nodes get an ansible_host from their network", hv.get("pve-a"))
    groups = {g: sorted(inv.get(g, {}).get("hosts", []))
              for g in ("proxmox_all_lxc", "proxmox_all_qemu",
                        "proxmox_all_running", "proxmox_all_stopped",
                        "proxmox_pve_a_lxc", "proxmox_pve_b_qemu")}
    t.eq(groups,
         {"proxmox_all_lxc": ["ct-idle", "ct-web"],
          "proxmox_all_qemu": ["db1", "idle", "noagent"],
          "proxmox_all_running": ["ct-web", "db1", "noagent"],
          "proxmox_all_stopped": ["ct-idle", "idle"],
          "proxmox_pve_a_lxc": ["ct-web"],
          "proxmox_pve_b_qemu": ["idle"]},
         "every guest in its type, status and node groups")
    reqs = requests_of(sim)
    bad = [(r.get("method"), r.get("path"), r.get("status"))
           for r in reqs if int(r.get("status", 0)) >= 400]
    # the agent of a stopped VM: "VM 122 is not running", as qemu-server
    # answers; the plugin ignores it
    t.eq(bad, [("GET", "/api2/json/nodes/pve-b/qemu/122/agent/"
                "network-get-interfaces", 500)],
         "no request of the plugin was answered with an error but the "
         "stopped VM's agent")
    paths = {r.get("path") for r in reqs}
    for want in ("/api2/json/nodes/pve-a/lxc/100/config",
                 "/api2/json/nodes/pve-a/lxc/100/status/current",
                 "/api2/json/nodes/pve-a/lxc/100/snapshot",
                 "/api2/json/nodes/pve-b/qemu/122/snapshot",
                 "/api2/json/nodes/pve-a/network"):
        t.ok(want in paths, "the plugin asked " + want, sorted(paths))


def main():
    t = Tap()
    if not os.access(INVENTORY, os.X_OK):
        t.ok(False, "Debian's ansible is installed (%s)" % INVENTORY)
        t.done()
    work = tempfile.mkdtemp(prefix="sim-lxc-ansible.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with Sim(sys.argv[1], "--topology", topo, "--token",
             "root@pam!ci=" + SECRET) as sim:
        p = run_inventory(sim, work)
        check(t, p, sim)
        if os.environ.get("PVE_SIM_KEEP"):
            shutil.copy(sim.log, os.path.join(work, "requests.jsonl"))
            print("# kept " + work)
    if not os.environ.get("PVE_SIM_KEEP"):
        shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
