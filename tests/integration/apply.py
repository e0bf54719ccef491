#!/usr/bin/python3
"""pve-gitops apply against proxmox-sim: the example repository from
nothing (every field checked in the simulator's state), a no-op plan after
it, drift fixed, an update, prune and protection, a same-name unmanaged VM
and --adopt, an interrupted create finished by the next apply, convergence
under injected faults without duplicates, and no secret in any output.

Usage: apply.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.parse

import requests
import urllib3
import yaml

from simlib import Sim, Tap, example_repo, pve_gitops

urllib3.disable_warnings()
BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "2f4e6a8c-1b3d-4f5a-9c7e-0d2b4f6a8c1e"
AUTH = {"Authorization": "PVEAPIToken=root@pam!ci=" + SECRET}
OUTPUTS = []


def repo(sim):
    return example_repo(sim, SRC)


def pg(d, *args):
    return pve_gitops(BIN, d, SECRET, *args, outputs=OUTPUTS)


def api(sim, method, path, **data):
    """The test's own calls; reads ride out injected faults."""
    for _ in range(20):
        try:
            r = requests.request(method, sim.api(path), data=data,
                                 headers=AUTH, verify=False, timeout=30)
            if method != "GET" or r.status_code == 200:
                return r.json()["data"]
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise RuntimeError("%s %s keeps failing" % (method, path))


def wait(sim, upid):
    node = upid.split(":")[1]
    for _ in range(1000):
        st = api(sim, "GET", "/nodes/%s/tasks/%s/status" % (node, upid))
        if st["status"] == "stopped":
            return st
        time.sleep(0.01)


def vms(sim):
    return {v["name"]: v for v in api(sim, "GET", "/cluster/resources",
                                      type="vm") if not v.get("template")}


def size(v):
    m = re.search(r"size=(\d+)([KMGT])", v)
    return int(m.group(1)) << {"K": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]


def units(s):
    n, u = int(s[:-1]), s[-1]
    return n << {"K": 10, "M": 20, "G": 30, "T": 40}[u]


def check_state(t, sim, d):
    """Every field of every definition against the simulator."""
    have = vms(sim)
    bad = []
    for f in sorted(os.listdir(os.path.join(d, "proxmox/vms"))):
        if f in ("k8s-home.yaml", "boot-server.yaml"):
            continue
        spec = yaml.safe_load(open(os.path.join(d, "proxmox/vms", f)))
        vm = have.get(spec["name"])
        if not vm:
            bad.append((spec["name"], "missing"))
            continue
        conf = api(sim, "GET", "/nodes/%s/qemu/%d/config"
                   % (vm["node"], vm["vmid"]))
        want = {"cores": spec.get("cores", 1),
                "sockets": spec.get("sockets", 1),
                "memory": str(spec.get("memory", 1024)),
                "cpu": spec.get("cpu_type", "host"),
                "ipconfig0": spec.get("ipconfig0"),
                "ciuser": spec.get("ciuser")}
        for k, v in want.items():
            if v is not None and conf.get(k) != v:
                bad.append((spec["name"], k, conf.get(k), v))
        net = spec.get("network", {})
        if isinstance(net, dict) and net:
            n0 = conf.get("net0", "")
            if not n0.startswith(net.get("model", "virtio") + "=") or \
               "bridge=" + net.get("bridge", "vmbr0") not in n0 or \
               ("firewall=1" in n0) != bool(net.get("firewall", True)):
                bad.append((spec["name"], "net0", n0))
        for slot, dk in (spec.get("disks") or {}).items() \
                if isinstance(spec.get("disks"), dict) else []:
            if "size" in dk and size(conf.get(slot, "size=0K")) != \
                    units(dk["size"]):
                bad.append((spec["name"], slot, conf.get(slot)))
        if "onboot" in spec and conf.get("onboot") != int(spec["onboot"]):
            bad.append((spec["name"], "onboot", conf.get("onboot")))
        if "agent" in spec and str(conf.get("agent")) != \
                str(int(spec["agent"])):
            bad.append((spec["name"], "agent", conf.get("agent")))
        tags = set(conf.get("tags", "").split(";"))
        if "pve-gitops" not in tags or not any(x.startswith("pg-")
                                               for x in tags) or \
                not set(spec.get("tags", [])) <= tags:
            bad.append((spec["name"], "tags", conf.get("tags")))
        if spec.get("sshkeys") and urllib.parse.unquote(
                conf.get("sshkeys", "")).strip() != spec["sshkeys"].strip():
            bad.append((spec["name"], "sshkeys"))
        if vm["status"] != ("stopped" if spec.get("vm_state") == "stopped"
                            else "running"):
            bad.append((spec["name"], "status", vm["status"]))
        if conf.get("description", "").startswith("pve-gitops: being"):
            bad.append((spec["name"], "marker left"))
    return bad

CI_TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: fast, type: lvmthin, content: "images,rootdir", capacity: 100G}
templates:
  - {vmid: 9000, name: tagged-template, node: node01,
     config: {ciuser: cloudinit, tags: cloudinit, boot: "order=scsi0"},
     disks: {scsi0: {storage: fast, size: 2G}}}
  - {vmid: 9001, name: plain-template, node: node01,
     disks: {scsi0: {storage: fast, size: 2G}}}
"""


def cloudinit_drive(t):
    """Issue 12: a template without a cloud-init drive gets one, on its
    boot disk's storage, even when some other value says "cloudinit"."""
    work = tempfile.mkdtemp(prefix="apply-ci.")
    topo = os.path.join(work, "topology.yaml")
    with open(topo, "w") as f:
        f.write(CI_TOPOLOGY)
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0", "--topology", topo) as sim:
        d = repo(sim)
        vdir = os.path.join(d, "proxmox/vms")
        shutil.rmtree(vdir)
        os.makedirs(vdir)
        for name, tmpl in (("ci-a", "tagged-template"),
                           ("ci-b", "plain-template")):
            with open(os.path.join(vdir, name + ".yaml"), "w") as f:
                f.write("name: %s\ntarget_node: node01\nclone: %s\n"
                        "ipconfig0: ip=192.168.3.%d/24,gw=192.168.3.1\n"
                        % (name, tmpl, 10 + len(name) + ord(name[-1])))
        p = pg(d, "apply", "--auto-approve")
        have = vms(sim)
        for name in ("ci-a", "ci-b"):
            conf = api(sim, "GET", "/nodes/node01/qemu/%d/config" %
                       have[name]["vmid"]) if name in have else {}
            t.ok(p.returncode == 0 and re.match(
                r"fast:vm-\d+-cloudinit,media=cdrom$", conf.get("ide2", "")),
                 "%s: a cloud-init drive on the boot disk's storage" % name,
                 (p.stdout[-800:] + p.stderr[-800:], conf))
        shutil.rmtree(d)
    shutil.rmtree(work)


def outputs_link(t):
    """Issue 13: proxmox/.pve-gitops linked out of the repository: apply
    refuses before it sends anything, and writes nothing outside."""
    out = tempfile.mkdtemp(prefix="apply-outside.")
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "0",
             "--boot-ms", "0") as sim:
        d = repo(sim)
        state = os.path.join(d, "proxmox/.pve-gitops")
        if os.path.isdir(state):
            shutil.rmtree(state)
        os.symlink(out, state)
        before = vms(sim)
        p = pg(d, "apply", "--auto-approve")
        t.ok(p.returncode == 2 and "leaves the repository" in p.stderr,
             "a linked proxmox/.pve-gitops: apply refused",
             (p.returncode, p.stderr[-600:]))
        t.eq(vms(sim), before, "and nothing was sent to Proxmox")
        t.eq(os.listdir(out), [], "and nothing was written outside")
        shutil.rmtree(d)
    shutil.rmtree(out)


def main():
    t = Tap()
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "20",
             "--boot-ms", "0") as sim:
        d = repo(sim)
        p = pg(d, "apply")
        t.ok(p.returncode == 2 and "--auto-approve" in p.stderr,
             "without a terminal apply wants --auto-approve", p.stderr)
        t.eq(vms(sim), {}, "and changed nothing")
        saved = os.path.join(d, "tfplan.json")
        p = pg(d, "plan", "--markdown", "--out", saved)
        t.ok(p.returncode == 0 and "```diff\n" in p.stdout and
             "\n+ haproxy-prod (node01) will be created" in p.stdout and
             os.stat(saved).st_mode & 0o777 == 0o600,
             "plan --markdown --out: a diff block and a 0600 plan file",
             p.stdout)
        p = pg(d, "apply", saved)
        t.ok(p.returncode == 0 and "Apply complete! Resources: 5 added, 0 "
             "changed, 0 destroyed." in p.stdout,
             "apply PLANFILE creates the examples", p.stdout + p.stderr)
        p = pg(d, "apply", saved)
        t.ok(p.returncode == 1 and "is stale" in p.stderr,
             "the same plan file again is refused as stale", p.stderr)
        t.eq(check_state(t, sim, d), [],
             "the simulator matches every field of every definition")
        p = pg(d, "output", "-json")
        out = json.loads(p.stdout)
        with open(os.path.join(d, "proxmox/.pve-gitops/outputs.json")) as f:
            saved = json.load(f)
        t.ok(out == saved and out["vm_ips"]["value"]["haproxy-prod"] ==
             "ip=192.168.1.30/24,gw=192.168.1.1" and
             out["k8s_nodes"]["value"] == {"k8s-observability": {
                 "ip": "192.168.1.20", "node": "node03"}} and
             out["vm_ips"]["sensitive"] is False and
             out["vm_ips"]["type"] == ["map", "string"],
             "outputs in terraform output -json shape, in the outputs file",
             out)
        p = pg(d, "output", "vm_ips")
        t.ok(json.loads(p.stdout)["ci-runner"].startswith("ip=192.168.1.60"),
             "output NAME", p.stdout)
        with open(sim.log) as f:
            n0 = len(f.readlines())
        p = pg(d, "plan")
        with open(sim.log) as f:
            n1 = len(f.readlines())
        t.ok("No changes." in p.stdout and n1 - n0 == 1,
             "the next plan is empty and one request", (p.stdout, n1 - n0))

        web = vms(sim)["haproxy-prod"]
        api(sim, "PUT", "/nodes/node01/qemu/%d/config" % web["vmid"],
            memory=1024)
        p = pg(d, "plan", "--refresh")
        t.ok("~ memory       = current=1024 -> 2048" in p.stdout or
             "~ memory       = 1024 -> 2048" in p.stdout,
             "hand-made drift shows with --refresh", p.stdout)
        p = pg(d, "apply", "--refresh", "--auto-approve")
        t.eq(p.returncode, 0, "apply --refresh fixes it")
        p = pg(d, "plan", "--refresh")
        t.ok("No changes." in p.stdout, "a no-op --refresh after it",
             p.stdout)

        path = os.path.join(d, "proxmox/vms/haproxy-prod.yaml")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("cores: 2", "cores: 4"))
        p = pg(d, "apply", "--auto-approve")
        conf = api(sim, "GET", "/nodes/node01/qemu/%d/config"
                   % web["vmid"])
        # automatic_reboot (the default) reboots it: cores takes effect
        t.ok(p.returncode == 0 and "rebooted: cores took effect" in p.stdout
             and conf["cores"] == 4, "an update in place, rebooted",
             p.stdout)

        with open(path, "w") as f:
            f.write(text.replace("cores: 2", "cores: 3"))
        p = pg(d, "--json", "apply", "--auto-approve")
        summary = json.loads(p.stdout)
        t.ok(p.returncode == 0 and summary["changed"] == 1 and
             summary["added"] == 0 and summary["errors"] == [] and
             "will be updated" in p.stderr,
             "--json: the summary on stdout, the plan on stderr",
             (p.stdout, p.stderr))
        os.remove(os.path.join(d, "proxmox/vms/talos-prod-w01.yaml"))
        p = pg(d, "apply", "--auto-approve")
        t.ok("talos-prod-w01" in vms(sim), "no prune, no delete")
        p = pg(d, "apply", "--auto-approve", "--prune")
        t.ok(p.returncode == 0 and "talos-prod-w01" not in vms(sim),
             "--prune deletes it", p.stdout + p.stderr)
        ci = vms(sim)["ci-runner"]
        api(sim, "PUT", "/nodes/%s/qemu/%d/config" % (ci["node"], ci["vmid"]),
            protection=1)
        os.remove(os.path.join(d, "proxmox/vms/ci-runner.yaml"))
        p = pg(d, "apply", "--auto-approve", "--prune")
        t.ok(p.returncode == 1 and "protection" in p.stdout and
             "ci-runner" in vms(sim), "never a protected VM",
             p.stdout + p.stderr)

        wait(sim, api(sim, "POST", "/nodes/node02/qemu/9001/clone",
                      newid=500, name="db-01", full=1))
        with open(os.path.join(d, "proxmox/vms/db-01.yaml"), "w") as f:
            f.write("name: db-01\ntarget_node: node02\ncores: 2\n"
                    "memory: 2048\nclone: ubuntu24-template\n"
                    "ipconfig0: ip=192.168.1.70/24,gw=192.168.1.1\n"
                    "ciuser: ops\n")
        p = pg(d, "apply", "--auto-approve")
        t.ok(p.returncode == 1 and
             "take it over with: pve-gitops apply --adopt" in p.stdout,
             "a same-name unmanaged VM is left alone", p.stdout)
        p = pg(d, "apply", "--auto-approve", "--adopt")
        conf = api(sim, "GET", "/nodes/node02/qemu/500/config")
        t.ok(p.returncode == 0 and "pve-gitops" in conf.get("tags", ""),
             "--adopt takes it over", p.stdout + p.stderr)

        # an apply killed right after its clone: the next one finishes it
        wait(sim, api(sim, "POST", "/nodes/node03/qemu/9002/clone",
                      newid=600, name="half-made", full=1,
                      description="pve-gitops: being created"))
        with open(os.path.join(d, "proxmox/vms/half-made.yaml"), "w") as f:
            f.write("name: half-made\ntarget_node: node03\ncores: 2\n"
                    "memory: 1024\nclone: ubuntu24-template\n"
                    "ipconfig0: ip=192.168.1.71/24,gw=192.168.1.1\n")
        p = pg(d, "apply", "--auto-approve")
        named = [v for v in api(sim, "GET", "/cluster/resources", type="vm")
                 if v.get("name") == "half-made"]
        t.ok(p.returncode == 0 and len(named) == 1 and named[0]["vmid"] ==
             600 and "pve-gitops" in named[0].get("tags", ""),
             "an interrupted create is finished, not duplicated",
             (p.stdout + p.stderr, named))
        t.eq(check_state(t, sim, d), [], "and everything matches")

        with open(os.path.join(d, "proxmox/vms/pxe-01.yaml"), "w") as f:
            f.write("name: pxe-01\ntarget_node: node01\ncores: 2\n"
                    "memory: 2048\nboot: order=net0\n"
                    "network: {bridge: vmbr0}\n"
                    "disks: {scsi0: {size: 16G, storage: data2}}\n")
        p = pg(d, "apply", "--auto-approve")
        pxe = vms(sim).get("pxe-01")
        conf = api(sim, "GET", "/nodes/node01/qemu/%d/config" % pxe["vmid"]) \
            if pxe else {}
        t.ok(p.returncode == 0 and pxe and pxe["status"] == "running" and
             conf.get("scsi0", "").endswith("size=16G") and
             conf.get("boot") == "order=net0",
             "a definition without clone gives an empty VM",
             (p.stdout + p.stderr, conf))
        shutil.rmtree(d)

    cloudinit_drive(t)
    outputs_link(t)

    for seed in os.environ.get("APPLY_SEEDS", "1 2 3").split():
        with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
                 "--boot-ms", "0", "--fault-rate", "0.1", "--seed", seed,
                 "--fault-delay-ms", "50", "--lock-wait-ms", "500") as sim:
            d = repo(sim)
            for i in range(5):  # ten VMs in all
                with open(os.path.join(d, "proxmox/vms/extra-%d.yaml" % i),
                          "w") as f:
                    f.write("name: extra-%d\ntarget_node: node0%d\n"
                            "clone: ubuntu24-template\n"
                            "ipconfig0: ip=192.168.2.%d/24,gw=192.168.2.1\n"
                            % (i, 1 + i % 3, 10 + i))
            runs = 0
            for runs in range(1, 9):
                p = pg(d, "apply", "--auto-approve")
                if p.returncode == 0:
                    break
            names = [v["name"] for v in api(sim, "GET", "/cluster/resources",
                                            type="vm")
                     if not v.get("template")]
            t.ok(p.returncode == 0 and sorted(names) == sorted(set(names))
                 and len(names) == 10,
                 "seed %s: converges in %d applies, no duplicate" %
                 (seed, runs), (names, p.stdout[-500:], p.stderr[-500:]))
            shutil.rmtree(d)

    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--fault-rate", "1",
             "--faults", "http500") as sim:
        d = repo(sim)
        t0 = time.monotonic()
        p = pg(d, "plan")
        t.ok(p.returncode == 1 and "pve-gitops: error: GET "
             "/cluster/resources: 500 internal error (injected fault)" in
             p.stderr, "when retries run out: the endpoint and Proxmox's "
             "message (%.1f s of retries)" % (time.monotonic() - t0),
             p.stderr)
        shutil.rmtree(d)

    t.eq([o for o in OUTPUTS if SECRET in o], [],
         "the token secret appears in no output")
    t.done()


main()
