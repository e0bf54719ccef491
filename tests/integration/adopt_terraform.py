#!/usr/bin/env python3
"""Taking over a VM the original's Terraform made (issue 14).

A VM is made in proxmox-sim the way Telmate 3.x with the original's main.tf
leaves it (a linked clone tagged "terraform", described "Managed by
Terraform.", its cloud-init drive moved to ide1, agent 0, onboot 1,
virtio-scsi-single, net0 with the firewall), next to a definition written
in the original's forms. Then:

- validate shows the warnings about Terraform-only keys, plan does not;
- plan blocks the VM and offers it for adoption with the exact command;
- apply --adopt takes it over in place (same vmid, still running) and the
  next plan, and plan --refresh, say "No changes".

Usage: adopt_terraform.py PVE_GITOPS PROXMOX_SIM
"""

import os
import shutil
import sys
import tempfile
import time

import requests
import urllib3

from simlib import Sim, Tap, pve_gitops

urllib3.disable_warnings()
BIN, SIM = sys.argv[1], sys.argv[2]
SECRET = "8d0c6b4a-2e1f-4a3b-9c5d-6e7f8a9b0c1d"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
VMID = 150
NAME = "k01.lab.example"

DEFINITION = """\
name: k01.lab.example
target_node: node01
cores: 2
sockets: 1
memory: 2048
cpu_type: x86-64-v2-AES
onboot: "true"
clone: ubuntu24-template
boot: order=scsi0
nested_disks:
  scsi:
    scsi0:
      disk:
        storage: local-lvm
        size: 3584M
        format: raw
  ide:
    ide1:
      cloudinit:
        storage: local-lvm
network:
  bridge: vmbr0
  model: virtio
  firewall: true
ipconfig0: "ip=10.20.0.11/24,gw=10.20.0.1"
ciuser: ops
nameserver: 10.20.0.1
vm_state: running
serial: true
agent: 0
define_connection_info: true
skip_ipv6: true
"""


def api(sim, method, path, **data):
    r = requests.request(method, sim.api(path), data=data, headers=AUTH,
                         verify=False, timeout=30)
    r.raise_for_status()
    return r.json()["data"]


def wait(sim, upid):
    node = upid.split(":")[1]
    for _ in range(3000):
        st = api(sim, "GET", "/nodes/%s/tasks/%s/status" % (node, upid))
        if st["status"] == "stopped":
            return st
        time.sleep(0.01)
    raise RuntimeError("task %s did not end" % upid)


def telmate_vm(sim):
    """What Telmate 3.x with the original's main.tf leaves in Proxmox."""
    wait(sim, api(sim, "POST", "/nodes/node01/qemu/9000/clone",
                  newid=VMID, name=NAME, target="node01", full=0))
    path = "/nodes/node01/qemu/%d/config" % VMID
    api(sim, "PUT", path, delete="ide2")
    net0 = api(sim, "GET", path)["net0"]
    api(sim, "PUT", path, cores=2, sockets=1, memory=2048,
        cpu="x86-64-v2-AES", onboot=1, agent=0, scsihw="virtio-scsi-single",
        boot="order=scsi0", tags="terraform",
        description="Managed by Terraform.",
        net0=net0.split(",")[0] + ",bridge=vmbr0,firewall=1",
        ipconfig0="ip=10.20.0.11/24,gw=10.20.0.1", ciuser="ops",
        nameserver="10.20.0.1", serial0="socket",
        ide1="local-lvm:cloudinit,format=raw")
    wait(sim, api(sim, "POST", "/nodes/node01/qemu/%d/status/start" % VMID))


def repo(sim):
    d = tempfile.mkdtemp(prefix="pve-gitops-adopt.")
    os.makedirs(os.path.join(d, "proxmox/vms"))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("proxmox:\n  endpoint: %s\n  tls_fingerprint: \"%s\"\n"
                % (sim.url, sim.fingerprint))
    with open(os.path.join(d, "proxmox/vms/k01.yaml"), "w") as f:
        f.write(DEFINITION)
    return d


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10") as sim:
        telmate_vm(sim)
        d = repo(sim)
        try:
            run(t, sim, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
    t.done()


def run(t, sim, d):
    p = pve_gitops(BIN, d, SECRET, "validate")
    t.ok(p.returncode == 0 and
         "define_connection_info: a Terraform provider setting" in p.stderr,
         "validate accepts the original's forms and warns about the "
         "Terraform-only keys", p.stdout + p.stderr)
    p = pve_gitops(BIN, d, SECRET, "plan")
    t.ok("Terraform provider setting" not in p.stderr,
         "plan does not repeat those warnings", p.stderr)
    t.ok(p.returncode == 0 and
         ("VM %d '%s' was made by Terraform (tagged terraform); take it "
          "over with: pve-gitops apply --adopt --target %s"
          % (VMID, NAME, NAME)) in p.stdout
         and "`pve-gitops apply --adopt` takes it over" in p.stdout,
         "plan offers the VM for adoption with the command",
         p.stdout + p.stderr)
    # the command the plan printed
    p = pve_gitops(BIN, d, SECRET, "apply", "--adopt", "--target", NAME,
                   "--auto-approve")
    t.eq(p.returncode, 0, "apply --adopt --target NAME takes it over")
    if p.returncode:
        print("#   " + (p.stdout + p.stderr).replace("\n", "\n#   "))
    vms = [v for v in api(sim, "GET", "/cluster/resources", type="vm")
           if not v.get("template")]
    conf = api(sim, "GET", "/nodes/node01/qemu/%d/config" % VMID)
    t.eq(([(v["vmid"], v["status"]) for v in vms],
          "pve-gitops" in conf.get("tags", ""),
          "terraform" in conf.get("tags", "")),
         ([(VMID, "running")], True, False),
         "in place: the same VM, still running, tagged pve-gitops")
    for args in (["plan"], ["plan", "--refresh"]):
        p = pve_gitops(BIN, d, SECRET, *args)
        t.ok(p.returncode == 0 and "No changes." in p.stdout,
             "the next %s is clean" % " ".join(args), p.stdout + p.stderr)


if __name__ == "__main__":
    main()
