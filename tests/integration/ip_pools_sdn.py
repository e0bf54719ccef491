#!/usr/bin/python3
"""IP pools kept in Proxmox's SDN IPAM (issue 19): a pool with `vnet:` and
`zone:` stores its allocations as PVE IPAM entries of the vnet's subnet,
not in Vault. Two repositories with 20 definitions each of one /26 pool
apply at the same moment against one proxmox-sim: 40 VMs with 40 distinct
addresses, none the gateway, an excluded address, an address the IPAM
holds for another VM or one another VM has (static, or reported by its
guest agent); the IPAM lists exactly those 40 (with the VMs' vmids and
MACs) beside the entries that were there; the next plan has nothing to do;
Proxmox's refusal of a taken address ("already exist") makes the runner
take the next free one. A definition switched to a static ipconfig0 with
its address keeps its entry, and to another address loses it; switching
back gets the kept address again. A prune deletes the VM's entry. No
Vault is involved.

Usage: ip_pools_sdn.py PVE_GITOPS PROXMOX_SIM
"""

import ipaddress
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile

import requests
import urllib3

from simlib import Sim, Tap, point_at, schema_check

urllib3.disable_warnings()
BIN, PSIM = sys.argv[1], sys.argv[2]
SECRET = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
OUTPUTS = []
t = Tap()

TOPOLOGY = """\
nodes:
  - name: pve1
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
    bridges: [vmbr0, vnet1]
templates:
  - {vmid: 9000, name: ubuntu24-template, node: pve1,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 200, name: legacy-db, node: pve1, status: running,
     config: {ipconfig0: "ip=10.88.0.6/26,gw=10.88.0.1"},
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
  - {vmid: 201, name: legacy-dhcp, node: pve1, status: running,
     config: {agent: "1", ipconfig0: "ip=dhcp"},
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
dhcp_leases:
  legacy-dhcp: 10.88.0.9
sdn:
  zones:
    - {zone: lab, ipam: pve, dhcp: dnsmasq}
  vnets:
    - vnet: vnet1
      zone: lab
      subnets:
        - {cidr: 10.88.0.0/26, gateway: 10.88.0.1}
  ips:
    - {vnet: vnet1, ip: 10.88.0.7, mac: "BC:24:11:00:00:07", vmid: 300}
"""

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
proxmox:
  endpoint: https://x.invalid:8006/api2/json
ip_pools_owner: {owner}
ip_pools:
  lan:
    cidr: 10.88.0.0/26
    gateway: 10.88.0.1
    exclude: [10.88.0.2-10.88.0.5, 10.88.0.30]
    vnet: vnet1
    zone: lab
"""

VM = """name: {name}
target_node: pve1
cores: 1
memory: 512
clone: ubuntu24-template
{address}
network: {{bridge: vnet1}}
disks: {{scsi0: {{size: 4G, storage: local-lvm}}}}
"""

GATEWAY = "10.88.0.1"
EXCLUDED = {"10.88.0.2", "10.88.0.3", "10.88.0.4", "10.88.0.5", "10.88.0.30"}
TAKEN = {"10.88.0.6": "legacy-db's static address",
         "10.88.0.7": "the IPAM's entry for VM 300",
         "10.88.0.9": "legacy-dhcp's address (its guest agent)"}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Repo:
    def __init__(self, psim, owner, prefix, n):
        self.d = tempfile.mkdtemp(prefix="pve-gitops-ippool-sdn.")
        self.owner = owner
        write(os.path.join(self.d, "pve-gitops.yaml"),
              CONFIG.format(owner=owner))
        write(os.path.join(self.d, "proxmox/k8s.ini"), "")
        point_at(psim, os.path.join(self.d, "pve-gitops.yaml"))
        self.names = ["%s%02d" % (prefix, i) for i in range(1, n + 1)]
        for name in self.names:
            self.add(name)

    def add(self, name, address="ip_pool: lan"):
        write(os.path.join(self.d, "proxmox/vms", name + ".yaml"),
              VM.format(name=name, address=address))

    def remove(self, name):
        os.unlink(os.path.join(self.d, "proxmox/vms", name + ".yaml"))


def env():
    e = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
             PM_API_TOKEN_SECRET=SECRET)
    for k in ("PM_API_URL", "VAULT_ADDR", "VAULT_TOKEN"):
        e.pop(k, None)
    return e


def start(repo, *args):
    argv = [BIN, "-C", repo.d, "--no-color"] + list(args)
    return subprocess.Popen(argv, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def run(repo, *args):
    p = start(repo, *args)
    out, err = p.communicate(timeout=300)
    OUTPUTS.append(out + err)
    return p.returncode, out, err


def get(psim, path):
    r = requests.get(psim.api(path), headers=AUTH, verify=False, timeout=30)
    assert r.status_code == 200, (path, r.status_code, r.reason)
    return r.json()["data"]


def ipam(psim):
    """The IPAM's entries of the pool's subnet, by address."""
    return {e["ip"]: e for e in get(psim, "/cluster/sdn/ipams/pve/status")
            if e.get("vnet") == "vnet1" and e.get("subnet") == "10.88.0.0/26"}


def guests(psim):
    return {v["name"]: v for v in get(psim, "/cluster/resources?type=vm")
            if not v.get("template")}


def config_of(psim, vm):
    return get(psim, "/nodes/%s/qemu/%d/config" % (vm["node"], vm["vmid"]))


def address(conf):
    ip = conf.get("ipconfig0", "")
    return ip.split("ip=", 1)[1].split("/", 1)[0] if "ip=" in ip else None


def mac(conf):
    net = conf.get("net0", "")
    first = net.split(",", 1)[0]
    return first.split("=", 1)[1].upper() if "=" in first else None


def plog(psim):
    with open(psim.log) as f:
        return [json.loads(x) for x in f if x.strip()]


def two_runners(psim, a, b):
    ps = [start(a, "apply", "--auto-approve"),
          start(b, "apply", "--auto-approve")]
    outs = [p.communicate(timeout=300) for p in ps]
    for p, (out, err) in zip(ps, outs):
        OUTPUTS.append(out + err)
        t.ok(p.returncode == 0, "two runners at once: exit 0",
             (out + err)[-3000:])
    vms = guests(psim)
    mine = a.names + b.names
    t.eq(sorted(n for n in vms if n in mine), sorted(mine),
         "40 VMs created, one per definition")
    got = {n: config_of(psim, vms[n]) for n in mine if n in vms}
    ips = [address(c) for c in got.values()]
    t.eq(len(set(ips)), 40, "40 distinct addresses")
    net = ipaddress.ip_network("10.88.0.0/26")
    t.ok(all(ip and ipaddress.ip_address(ip) in net for ip in ips),
         "every address inside 10.88.0.0/26", ips)
    bad = [ip for ip in ips if ip in EXCLUDED or ip in TAKEN or ip in
           (GATEWAY, "10.88.0.0", "10.88.0.63")]
    t.eq(bad, [], "none is the gateway, an excluded address, the network "
         "or broadcast, an IPAM entry of another VM, another VM's static "
         "address or the address its guest agent reports")
    entries = ipam(psim)
    ours = {ip: e for ip, e in entries.items()
            if ip not in ("10.88.0.1", "10.88.0.7")}
    want = {address(got[n]): (vms[n]["vmid"], mac(got[n])) for n in got}
    t.eq({ip: (e.get("vmid"), (e.get("mac") or "").upper())
          for ip, e in ours.items()}, want,
         "the IPAM lists exactly the 40 addresses, each with its VM's "
         "vmid and MAC")
    t.ok(entries.get("10.88.0.1", {}).get("gateway") == 1 and
         entries.get("10.88.0.7", {}).get("vmid") == 300,
         "the gateway's and VM 300's entries are untouched",
         json.dumps(entries.get("10.88.0.7")))
    log = plog(psim)
    posts = [e for e in log if e["method"] == "POST"
             and e["path"].endswith("/cluster/sdn/vnets/vnet1/ips")]
    refused = [e for e in posts if e["status"] != 200]
    moved = sum(o.count("was taken meanwhile") for o in OUTPUTS[-2:])
    t.ok(len(posts) - len(refused) == 40,
         "40 POSTs of an address accepted (%d refused)" % len(refused))
    # both planned on the same IPAM: the second either had a POST refused
    # or found the first's entries when it read again, and picked again
    t.ok(len(refused) + moved >= 1, "the two runners raced: %d POST(s) refused "
         "as 'already exist', %d address(es) picked again at apply"
         % (len(refused), moved))
    t.ok(not [e for e in log if "/kv/" in e["path"]], "no Vault involved")
    return got


def replan(psim, repo):
    n = len(plog(psim))
    rc, out, err = run(repo, "plan", "--detailed-exitcode")
    t.eq(rc, 0, "%s: the next plan has nothing to do" % repo.owner)
    t.ok("from pool" not in out, "%s: and no new address" % repo.owner,
         out[-2000:])
    writes = [e for e in plog(psim)[n:] if e["method"] != "GET"]
    t.eq(writes, [], "%s: a plan writes nothing" % repo.owner)


def tentative(psim, a):
    a.add("a21")
    before = ipam(psim)
    rc, out, err = run(a, "plan")
    line = [x for x in out.splitlines() if "ipconfig0" in x]
    t.ok(rc == 0 and len(line) == 1 and "(from pool lan)" in line[0]
         and "ip=10.88.0." in line[0],
         "plan shows a new VM's tentative address '(from pool lan)'",
         out[-2000:])
    t.eq(ipam(psim), before, "plan changes nothing in the IPAM")
    a.remove("a21")


def apply_at_prompt(repo, between):
    """apply on a terminal: between(plan text) runs while it waits for
    'yes' (after its plan, before anything is sent)."""
    m, sl = pty.openpty()
    p = subprocess.Popen([BIN, "-C", repo.d, "--no-color", "apply"],
                         env=env(), stdin=sl, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    os.close(sl)
    buf = b""
    while b"Enter a value" not in buf:
        r, _, _ = select.select([p.stdout], [], [], 60)
        chunk = os.read(p.stdout.fileno(), 65536) if r else b""
        if not chunk:
            break
        buf += chunk
    between(buf.decode())
    os.write(m, b"yes\n")
    out, err = p.communicate(timeout=300)
    os.close(m)
    text = (buf + out).decode() + err.decode()
    OUTPUTS.append(text)
    return p.returncode, text


def refused_at_apply(psim, a, got):
    """An address taken in the IPAM after apply's plan: its POST is
    refused ("already exist"), the next free one is taken."""
    a.add("a22")
    taken = []

    def take(plan):
        shown = [x for x in plan.splitlines() if "ipconfig0" in x]
        ip = shown[0].split("ip=", 1)[1].split("/", 1)[0] if shown else None
        taken.append(ip)
        r = requests.post(psim.api("/cluster/sdn/vnets/vnet1/ips"),
                          headers=AUTH, verify=False, timeout=30,
                          data={"zone": "lab", "ip": ip,
                                "mac": "BC:24:11:00:00:99"})
        t.eq(r.status_code, 200, "another client takes %s in the IPAM "
             "while apply waits for its yes" % ip)
        r2 = requests.post(psim.api("/cluster/sdn/vnets/vnet1/ips"),
                           headers=AUTH, verify=False, timeout=30,
                           data={"zone": "lab", "ip": ip,
                                 "mac": "BC:24:11:00:00:98"})
        t.eq((r2.status_code, r2.reason), (500, "IP '%s' already exist" % ip),
             "the sim refuses it a second time with PVE IPAM's message")

    n = len(plog(psim))
    rc, out = apply_at_prompt(a, take)
    ip = taken[0]
    vm = guests(psim).get("a22")
    conf = config_of(psim, vm) if vm else {}
    refused = [e for e in plog(psim)[n:] if e["method"] == "POST" and
               e["path"].endswith("/cluster/sdn/vnets/vnet1/ips") and
               e["params"].get("ip") == ip and e["status"] == 500]
    t.ok(rc == 0 and len(refused) == 2 and
         address(conf) not in (None, ip) and "was taken meanwhile" in out,
         "apply: its POST of %s is refused, the VM gets the next free one "
         "(%s)" % (ip, address(conf)), out[-2500:])
    e = ipam(psim).get(address(conf), {})
    t.eq((e.get("vmid"), e.get("mac", "").upper()),
         (vm and vm["vmid"], mac(conf)), "and its entry has a22's vmid")
    got["a22"] = conf
    a.names.append("a22")


def static_switch(psim, a, got):
    x = address(got["a01"])
    a.add("a01", "ipconfig0: ip=%s/26,gw=10.88.0.1" % x)
    rc, out, err = run(a, "apply", "--auto-approve")
    e = ipam(psim).get(x, {})
    t.ok(rc == 0 and e.get("mac", "").upper() == mac(got["a01"]),
         "a01 switched to a static ipconfig0 with its address: its entry "
         "stays", (out + err)[-1500:])
    rc, out, err = run(a, "plan", "--detailed-exitcode")
    t.eq(rc, 0, "and the next plan has nothing to do")
    # back to ip_pool: the kept address; the definition's MAC is written
    # out again, so only its hash tag changes
    a.add("a01")
    rc, out, err = run(a, "plan", "--detailed-exitcode")
    changes = [x.split()[1] for x in out.splitlines()
               if x.strip().startswith("~ ") and "=" in x]
    t.ok(rc == 2 and "from pool" not in out and changes == ["tags"],
         "a01 back to ip_pool: it gets the kept address (only its tag "
         "changes)", out[-1500:])
    rc, out, err = run(a, "apply", "--auto-approve")
    t.eq((rc, ipam(psim).get(x, {}).get("mac", "").upper()),
         (0, mac(got["a01"])), "and the entry is still a01's")
    y = address(got["a02"])
    a.add("a02", "ipconfig0: ip=10.88.0.62/26,gw=10.88.0.1")
    rc, out, err = run(a, "apply", "--auto-approve")
    entries = ipam(psim)
    vm = guests(psim)["a02"]
    t.ok(rc == 0 and y not in entries and
         address(config_of(psim, vm)) == "10.88.0.62",
         "a02 switched to another static address: its entry is deleted",
         (out + err)[-1500:])
    t.ok("released %s in pool lan" % y in out + err,
         "and the apply says so")
    a.add("a02")
    rc, out, err = run(a, "apply", "--auto-approve")
    e = ipam(psim).get("10.88.0.62", {})
    t.eq((rc, e.get("vmid"), e.get("mac", "").upper()),
         (0, vm["vmid"], mac(config_of(psim, vm))),
         "a02 back to ip_pool after the release: a new entry for the "
         "address its VM has")


def unknown_vnet(psim):
    """A vnet Proxmox does not have: apply fails naming the endpoint and
    Proxmox's message, and creates nothing."""
    c = Repo(psim, "third", "u", 1)
    cfg = os.path.join(c.d, "pve-gitops.yaml")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write(text.replace("vnet: vnet1", "vnet: nosuch"))
    n = len(plog(psim))
    rc, out, err = run(c, "apply", "--auto-approve")
    clones = [e for e in plog(psim)[n:] if e["path"].endswith("/clone")]
    t.ok(rc != 0 and "ip pool lan: cannot allocate for u01" in err and
         "/cluster/sdn/vnets/nosuch/ips" in err and
         "can't find any subnet for ip" in err and not clones,
         "a vnet Proxmox lacks: apply fails with the endpoint and "
         "Proxmox's message, nothing created", (out + err)[-1500:])
    shutil.rmtree(c.d)


def explicit_mac(psim):
    """A MAC set in the definition could claim another VM's IPAM entry
    (the IPAM knows entries by MAC): refused with file:line, nothing sent."""
    c = Repo(psim, "fourth", "m", 1)
    write(os.path.join(c.d, "proxmox/vms/m01.yaml"),
          VM.format(name="m01", address="ip_pool: lan").replace(
              "network: {bridge: vnet1}",
              "network: {bridge: vnet1, macaddr: 'BC:24:11:00:00:07'}"))
    n = len(plog(psim))
    rc, out, err = run(c, "apply", "--auto-approve")
    muts = [e for e in plog(psim)[n:] if e["method"] != "GET"]
    t.ok(rc != 0 and "m01.yaml:" in err and
         "macaddr: a VM of pool 'lan' (an SDN vnet) gets its net0 MAC "
         "from pve-gitops" in err and not muts and
         "10.88.0.7" in ipam(psim),
         "an explicit net0 macaddr in an SDN pool: refused at file:line, "
         "nothing sent, VM 300's entry untouched", (out + err)[-1500:])
    shutil.rmtree(c.d)


def prune(psim, a):
    conf = config_of(psim, guests(psim)["a20"])
    ip = address(conf)
    a.remove("a20")
    rc, out, err = run(a, "apply", "--auto-approve", "--prune")
    t.eq(rc, 0, "apply --prune of a20: exit 0")
    t.ok("a20" not in guests(psim), "a20 destroyed")
    t.ok(ip not in ipam(psim), "the prune deleted a20's IPAM entry (%s)" % ip)
    dels = [e for e in plog(psim) if e["method"] == "DELETE"
            and e["path"].endswith("/cluster/sdn/vnets/vnet1/ips")]
    t.ok(dels and dels[-1]["status"] == 200, "with DELETE .../ips")


def main():
    # every request a little slow: the two runners' POSTs overlap
    with Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--topology",
             write_topology(), "--task-ms", "5", "--boot-ms", "0",
             "--latency-ms", "20") as psim:
        a = Repo(psim, "infra-a", "a", 20)
        b = Repo(psim, "infra-b", "b", 20)
        got = two_runners(psim, a, b)
        replan(psim, a)
        replan(psim, b)
        tentative(psim, a)
        refused_at_apply(psim, a, got)
        static_switch(psim, a, got)
        unknown_vnet(psim)
        explicit_mac(psim)
        prune(psim, a)
        if os.environ.get("PVE_SIM_KEEP"):
            print("# proxmox-sim log: " + psim.log)
        schema_check(t, psim)
        for r in (a, b):
            shutil.rmtree(r.d)
    t.done()


TOPO_DIR = tempfile.mkdtemp(prefix="pve-gitops-ippool-sdn-topo.")


def write_topology():
    p = os.path.join(TOPO_DIR, "topology.yaml")
    write(p, TOPOLOGY)
    return p


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TOPO_DIR, ignore_errors=True)
