#!/usr/bin/python3
"""IP addresses from pools (issue 19): two repositories share one /26 pool
kept in vault-sim; each has 20 definitions with `ip_pool: lan`, and both
apply at the same moment against one proxmox-sim. Result: 40 VMs with 40
distinct addresses, none the gateway, an excluded address or the address
another VM of the cluster has; the secret in Vault holds exactly those;
the next plan of either repository has nothing to do and shows the same
addresses; a prune releases the VM's address (the secret no longer holds
it); a switch to a static ipconfig0 keeps the allocation when the address
is the same and releases it when it is another; a plan shows a new VM's tentative address "(from pool lan)"; an
exhausted pool blocks the VM with the reason and sends no POST for it.
The Vault token is never in argv or output.

Usage: ip_pools.py PVE_GITOPS PROXMOX_SIM VAULT_SIM
"""

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

import requests
import urllib3

from simlib import Sim, Tap, point_at, schema_check
from vault_simlib import VaultSim

urllib3.disable_warnings()
BIN, PSIM, VSIM = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "3f9e8d7c-6b5a-4f3e-9d2c-1b0a9f8e7d6c"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
VTOKEN = "s.ippooltest0123456789abcdef"
SECRET_PATH = "pve-gitops/ip-pools/lan"
OUTPUTS = []
t = Tap()

TOPOLOGY = """\
nodes:
  - name: pve1
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
    bridges: [vmbr0]
templates:
  - {vmid: 9000, name: ubuntu24-template, node: pve1,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
vms:
  - {vmid: 200, name: legacy-db, node: pve1, status: running,
     config: {ipconfig0: "ip=10.77.0.6/26,gw=10.77.0.1"},
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
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
    cidr: 10.77.0.0/26
    gateway: 10.77.0.1
    exclude: [10.77.0.2-10.77.0.5, 10.77.0.30]
    nameserver: 10.77.0.53
  tiny:
    cidr: 10.78.0.0/30
    gateway: 10.78.0.1
"""

VM = """name: {name}
target_node: pve1
cores: 1
memory: 512
clone: ubuntu24-template
ip_pool: {pool}
network: {{bridge: vmbr0}}
disks: {{scsi0: {{size: 4G, storage: local-lvm}}}}
"""

GATEWAY = "10.77.0.1"
EXCLUDED = {"10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5", "10.77.0.30"}
LEGACY = "10.77.0.6"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


class Repo:
    def __init__(self, psim, owner, prefix, n, pool="lan"):
        self.d = tempfile.mkdtemp(prefix="pve-gitops-ippool.")
        self.owner = owner
        write(os.path.join(self.d, "pve-gitops.yaml"),
              CONFIG.format(owner=owner))
        write(os.path.join(self.d, "proxmox/k8s.ini"), "")
        point_at(psim, os.path.join(self.d, "pve-gitops.yaml"))
        self.names = ["%s%02d" % (prefix, i) for i in range(1, n + 1)]
        for name in self.names:
            self.add(name, pool)

    def add(self, name, pool="lan"):
        write(os.path.join(self.d, "proxmox/vms", name + ".yaml"),
              VM.format(name=name, pool=pool))

    def add_static(self, name, ipconfig):
        write(os.path.join(self.d, "proxmox/vms", name + ".yaml"),
              VM.format(name=name, pool="x").replace(
                  "ip_pool: x", "ipconfig0: %s\nnameserver: 10.77.0.53"
                  % ipconfig))

    def remove(self, name):
        os.unlink(os.path.join(self.d, "proxmox/vms", name + ".yaml"))


def env(vsim):
    e = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
             PM_API_TOKEN_SECRET=SECRET, VAULT_ADDR=vsim.url,
             VAULT_TOKEN=VTOKEN)
    e.pop("PM_API_URL", None)
    return e


def start(vsim, repo, *args):
    argv = [BIN, "-C", repo.d, "--no-color"] + list(args)
    assert VTOKEN not in " ".join(argv)
    return subprocess.Popen(argv, env=env(vsim), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def run(vsim, repo, *args):
    p = start(vsim, repo, *args)
    out, err = p.communicate(timeout=300)
    OUTPUTS.append(out + err)
    return p.returncode, out, err


def secret(vsim):
    r = requests.get(vsim.api("kv/data/" + SECRET_PATH),
                     headers={"X-Vault-Token": VTOKEN}, timeout=30)
    if r.status_code == 404:
        return {}
    return r.json()["data"]["data"]


def guests(psim):
    r = requests.get(psim.api("/cluster/resources"), params={"type": "vm"},
                     headers=AUTH, verify=False, timeout=30)
    return [v for v in r.json()["data"] if not v.get("template")]


def address_of(psim, vm):
    r = requests.get(psim.api("/nodes/%s/qemu/%d/config"
                              % (vm["node"], vm["vmid"])),
                     headers=AUTH, verify=False, timeout=30)
    conf = r.json()["data"]
    ip = conf.get("ipconfig0", "")
    ip = ip.split("ip=", 1)[1].split("/", 1)[0] if "ip=" in ip else None
    return ip, conf.get("nameserver")


def plog(psim):
    with open(psim.log) as f:
        return [json.loads(x) for x in f if x.strip()]


def two_runners(psim, vsim, a, b):
    ps = [start(vsim, a, "apply", "--auto-approve"),
          start(vsim, b, "apply", "--auto-approve")]
    outs = [p.communicate(timeout=300) for p in ps]
    for p, (out, err) in zip(ps, outs):
        OUTPUTS.append(out + err)
        t.ok(p.returncode == 0, "two runners at once: exit 0",
             (out + err)[-3000:])
    vms = {v["name"]: v for v in guests(psim)}
    mine = a.names + b.names
    t.eq(sorted(n for n in vms if n in mine), sorted(mine),
         "40 VMs created, one per definition")
    got = {}
    for n in mine:
        if n in vms:
            got[n] = address_of(psim, vms[n])
    ips = [ip for ip, _ in got.values()]
    t.eq(len(set(ips)), 40, "40 distinct addresses")
    net = ipaddress.ip_network("10.77.0.0/26")
    t.ok(all(ip and ipaddress.ip_address(ip) in net for ip in ips),
         "every address inside 10.77.0.0/26", ips)
    bad = [ip for ip in ips if ip in EXCLUDED or ip in
           (GATEWAY, LEGACY, "10.77.0.0", "10.77.0.63")]
    t.eq(bad, [], "none is the gateway, an excluded address, the network, "
         "the broadcast or legacy-db's address")
    t.ok(all(ns == "10.77.0.53" for _, ns in got.values()),
         "the pool's nameserver written")
    with open(os.path.join(a.d, "proxmox/.pve-gitops/outputs.json")) as f:
        outputs = json.load(f)
    t.eq(outputs["ansible_inventory"]["value"]["a01"]["ansible_host"]
         if "value" in outputs["ansible_inventory"] else
         outputs["ansible_inventory"]["a01"]["ansible_host"],
         got["a01"][0], "the outputs carry the pool's address")
    s = secret(vsim)
    want = {"%s/%s" % (r.owner, n): got[n][0] for r in (a, b)
            for n in r.names if n in got}
    t.eq(s, want, "the secret in Vault holds exactly the 40 allocations "
         "(OWNER/NAME -> address)")
    with open(vsim.log) as f:
        vl = [json.loads(x) for x in f if x.strip()]
    conflicts = sum(1 for e in vl if e.get("cas_conflict"))
    moved = sum(o.count("was taken meanwhile") for o in OUTPUTS[-2:])
    # both planned on the same empty secret: the second to confirm either
    # lost a check-and-set round or found the first's allocations when
    # it read again, and picked again either way
    t.ok(conflicts + moved >= 1, "the two runners raced: %d check-and-set "
         "round(s) lost, %d address(es) picked again at apply"
         % (conflicts, moved))
    return got


def replan(vsim, repo, got):
    rc, out, err = run(vsim, repo, "plan", "--detailed-exitcode")
    t.eq(rc, 0, "%s: the next plan has nothing to do" % repo.owner)
    t.ok("from pool" not in out, "%s: and no new address" % repo.owner,
         out[-2000:])
    rc, out, err = run(vsim, repo, "plan", "--json", "--refresh")
    t.eq(rc, 0, "%s: a refreshed plan has nothing to do either"
         % repo.owner)


def lost_allocation(vsim, b, got):
    """An allocation gone from Vault: the VM keeps the address it has,
    and the next apply writes it back."""
    s = secret(vsim)
    del s["infra-b/b01"]
    r = requests.post(vsim.api("kv/data/" + SECRET_PATH),
                      headers={"X-Vault-Token": VTOKEN},
                      json={"data": s}, timeout=30)
    assert r.status_code == 200, r.text
    rc, out, err = run(vsim, b, "plan", "--detailed-exitcode")
    t.eq(rc, 0, "a lost allocation: the plan keeps the VM's address (no "
         "change)")
    rc, out, err = run(vsim, b, "apply", "--auto-approve")
    t.eq((rc, secret(vsim).get("infra-b/b01")), (0, got["b01"][0]),
         "a lost allocation: apply writes the VM's address back")


def tentative(psim, vsim, a):
    a.add("a21")
    before = secret(vsim)
    rc, out, err = run(vsim, a, "plan")
    line = [x for x in out.splitlines() if "ipconfig0" in x]
    t.ok(rc == 0 and len(line) == 1 and "(from pool lan)" in line[0]
         and "ip=10.77.0." in line[0],
         "plan shows a new VM's tentative address '(from pool lan)'",
         out[-2000:])
    t.eq(secret(vsim), before, "plan writes nothing to Vault")
    rc3, out3, _ = run(vsim, a, "plan", "--json")
    items = [i for i in json.loads(out3)["items"] if i["name"] == "a21"] \
        if rc3 == 0 else []
    t.ok(items and items[0].get("ip_pool") == "lan",
         "plan --json: the item names its pool", out3[-1500:])
    rc2, out2, _ = run(vsim, a, "plan")
    line2 = [x for x in out2.splitlines() if "ipconfig0" in x]
    t.eq(line2, line, "the tentative address is the same on a re-plan")
    a.remove("a21")


def static_switch(psim, vsim, a, got):
    """ip_pool: to a static ipconfig0 with the same address keeps the
    allocation (and a switch back gets it again); to another address
    releases it."""
    x = got["a01"][0]
    a.add_static("a01", "ip=%s/26,gw=10.77.0.1" % x)
    rc, out, err = run(vsim, a, "apply", "--auto-approve")
    t.eq((rc, secret(vsim).get("infra-a/a01")), (0, x),
         "a01 switched to a static ipconfig0 with its address: the "
         "allocation stays")
    a.add("a01")
    rc, out, err = run(vsim, a, "plan")
    t.ok(rc == 0 and "from pool" not in out and "ipconfig0" not in out,
         "a01 back to ip_pool: it gets the kept address", out[-1500:])
    rc, out, err = run(vsim, a, "apply", "--auto-approve")
    t.eq((rc, secret(vsim).get("infra-a/a01")), (0, x),
         "and the allocation is still a01's")
    y = got["a02"][0]
    a.add_static("a02", "ip=10.77.0.61/26,gw=10.77.0.1")
    rc, out, err = run(vsim, a, "apply", "--auto-approve")
    vm = [v for v in guests(psim) if v["name"] == "a02"][0]
    t.ok(rc == 0 and "infra-a/a02" not in secret(vsim) and
         address_of(psim, vm)[0] == "10.77.0.61",
         "a02 switched to another static address: its allocation is "
         "released", (out + err)[-1500:])
    t.ok("released %s in pool lan" % y in out + err, "and the apply says so")
    a.add("a02")
    rc, out, err = run(vsim, a, "apply", "--auto-approve")
    t.eq((rc, secret(vsim).get("infra-a/a02")), (0, "10.77.0.61"),
         "a02 back to ip_pool after the release: the pool gives it the "
         "address its VM has")


def prune(psim, vsim, a):
    a.remove("a20")
    rc, out, err = run(vsim, a, "apply", "--auto-approve", "--prune")
    t.eq(rc, 0, "apply --prune of a20: exit 0")
    t.ok("a20" not in [v["name"] for v in guests(psim)], "a20 destroyed")
    s = secret(vsim)
    t.ok("%s/a20" % a.owner not in s and len(s) == 39,
         "the prune released a20's address: the secret no longer holds it",
         s)


def exhausted(psim, vsim):
    c = Repo(psim, "third", "t", 2, pool="tiny")
    n = len(plog(psim))
    rc, out, err = run(vsim, c, "apply", "--auto-approve")
    posts = [e for e in plog(psim)[n:] if e["method"] == "POST"
             and "/clone" in e["path"]]
    t.ok(rc != 0 and "ip pool tiny is exhausted" in out + err,
         "an exhausted pool: the VM is blocked with the reason",
         (out + err)[-2000:])
    t.eq(len(posts), 1, "an exhausted pool: one clone (t01), none for "
         "the blocked t02")
    names = [v["name"] for v in guests(psim)]
    t.ok("t01" in names and "t02" not in names, "t02 was not created")
    shutil.rmtree(c.d)


def unknown_pool(psim, vsim):
    c = Repo(psim, "fourth", "u", 1, pool="wan")
    rc, out, err = run(vsim, c, "validate")
    t.ok(rc == 2 and "u01.yaml:6:10: error: ip_pool: no pool 'wan'" in err,
         "validate: a pool the config lacks, at the definition's line",
         err[-2000:])
    n = len(plog(psim))
    rc, out, err = run(vsim, c, "plan")
    t.ok(rc == 2 and len(plog(psim)) == n,
         "plan: the same error, nothing sent to Proxmox", err[-2000:])
    shutil.rmtree(c.d)


def bad_token(psim, vsim, a):
    """Vault refuses the token: the plan fails naming the pool and the
    secret, the token is not shown, and nothing is sent to Proxmox."""
    a.add("a22")
    e = env(vsim)
    e["VAULT_TOKEN"] = "s.wrongtoken0123456789abcdef"
    n = len(plog(psim))
    p = subprocess.run([BIN, "-C", a.d, "--no-color", "apply",
                        "--auto-approve"], env=e, capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    OUTPUTS.append(p.stdout + p.stderr)
    muts = [x for x in plog(psim)[n:] if x["method"] in ("POST", "PUT",
                                                         "DELETE")
            and not x["path"].endswith("/access/ticket")]
    t.ok(p.returncode != 0 and "ip pool lan: cannot find the mount of kv/"
         + SECRET_PATH in p.stderr and "403: permission denied" in p.stderr,
         "a token Vault refuses: apply fails naming the pool's secret",
         p.stderr[-2000:])
    t.ok("wrongtoken" not in p.stdout + p.stderr, "and the token is not "
         "shown")
    t.eq(muts, [], "and nothing is sent to Proxmox")
    a.remove("a22")


def main():
    # every Vault request slow: the two runners' reads and check-and-set
    # writes overlap, and one loses a round
    vsim = VaultSim(VSIM, "--latency-ms", "150", token=VTOKEN)
    with vsim, Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--topology",
                   write_topology(),
                   "--task-ms", "5", "--boot-ms", "0") as psim:
        a = Repo(psim, "infra-a", "a", 20)
        b = Repo(psim, "infra-b", "b", 20)
        got = two_runners(psim, vsim, a, b)
        replan(vsim, a, got)
        replan(vsim, b, got)
        lost_allocation(vsim, b, got)
        tentative(psim, vsim, a)
        bad_token(psim, vsim, a)
        static_switch(psim, vsim, a, got)
        prune(psim, vsim, a)
        exhausted(psim, vsim)
        unknown_pool(psim, vsim)
        leaked = [o for o in OUTPUTS if VTOKEN in o]
        t.eq(leaked, [], "the Vault token never in any output")
        if os.environ.get("PVE_SIM_KEEP"):
            print("# proxmox-sim log: " + psim.log)
        schema_check(t, psim)
        for r in (a, b):
            shutil.rmtree(r.d)
    t.done()


TOPO_DIR = tempfile.mkdtemp(prefix="pve-gitops-ippool-topo.")


def write_topology():
    p = os.path.join(TOPO_DIR, "topology.yaml")
    write(p, TOPOLOGY)
    return p


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TOPO_DIR, ignore_errors=True)
