#!/usr/bin/python3
"""Several Proxmox clusters from one repository (issue 19): two
proxmox-sim instances, each with its own token and topology, as the
clusters east and west of one pve-gitops.yaml; definitions on both.

- apply creates each VM on its own cluster (each simulator's API);
- the next plan is a no-op and costs exactly one request per cluster;
- --cluster west sends nothing to east;
- each secret reaches only its own cluster: every simulator knows only its
  own token (another's would be answered 401) and logs the token id of
  each request's Authorization header (--log-caller; the log never holds
  the header itself): east's log names east's token only, west's west's;
  no secret is in any output;
- a VM whose definition moves to the other cluster is refused at plan
  (blocked with the reason), nothing is sent for it;
- with east stopped (a listener on its port counts the connections), plan
  and apply converge west, east's VMs are blocked with the cluster's name
  and endpoint, the exit status is 1 and the summary says partial; east
  was sent no more than one call's attempts;
- an unknown cluster: in a definition, an error at FILE:LINE with a
  did-you-mean; 'default' in clusters:, an error at the config's line.

Usage: clusters.py PVE_GITOPS PROXMOX_SIM
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests
import urllib3

from simlib import Sim, Tap, clean_exit, schema_check

urllib3.disable_warnings()
BIN, PSIM = sys.argv[1], sys.argv[2]
SECRET_E = "e1e1e1e1-0000-4000-8000-eeeeeeeeeeee"
SECRET_W = "a2a2a2a2-0000-4000-8000-aaaaaaaaaaaa"
OUTPUTS = []
t = Tap()

ST = """    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir"}
      - {name: nfs1, type: nfs, shared: true, content: images}
    bridges: [vmbr0]
"""
EAST_TOPO = ("nodes:\n  - name: east1\n" + ST + "  - name: east2\n" + ST +
             """templates:
  - {vmid: 9000, name: tpl, node: east1,
     disks: {scsi0: {storage: nfs1, size: 2G}}}
""")
WEST_TOPO = ("nodes:\n  - name: west1\n" + ST + """templates:
  - {vmid: 9100, name: tpl, node: west1,
     disks: {scsi0: {storage: local-lvm, size: 2G}}}
""")

CONFIG = """vms_dir: proxmox/vms
inventory: proxmox/k8s.ini
new_hosts: proxmox/new_hosts.txt
outputs: proxmox/.pve-gitops/outputs.json
validate_with_ansible: never
clusters:
  east:
    endpoint: {east_url}
    tls_fingerprint: "{east_fp}"
    token_id: root@pam!east
  west:
    endpoint: {west_url}
    tls_fingerprint: "{west_fp}"
    token_id: root@pam!west
    parallel: 2
"""

VM = """name: {name}
cluster: {cluster}
target_node: {node}
cores: 1
memory: 512
clone: tpl
full_clone: true
network: {{bridge: vmbr0}}
disks: {{scsi0: {{size: 4G, storage: nfs1}}}}
ipconfig0: ip={ip}/24,gw=10.9.0.1
"""

# the same address on both clusters: addresses are checked per cluster
VMS = [("e1", "east", "east1", "10.9.0.11"),
       ("e2", "east", "east2", "10.9.0.12"),
       ("w1", "west", "west1", "10.9.0.11")]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def log(sim):
    with open(sim.log) as f:
        return [json.loads(x) for x in f if x.strip()]


def env():
    e = dict(os.environ, PM_API_TOKEN_SECRET_EAST=SECRET_E,
             PM_API_TOKEN_SECRET_WEST=SECRET_W)
    for k in ("PM_API_URL", "PM_API_TOKEN_ID", "PM_API_TOKEN_SECRET",
              "PROXMOX_VE_API_TOKEN", "PROXMOX_VE_ENDPOINT"):
        e.pop(k, None)
    return e


def run(d, *args, extra_env=None):
    argv = [BIN, "-C", d, "--no-color"] + list(args)
    e = env()
    e.update(extra_env or {})
    p = subprocess.run(argv, capture_output=True, text=True, env=e,
                       timeout=300, stdin=subprocess.DEVNULL)
    OUTPUTS.append(p.stdout + p.stderr)
    return p


def callers(east, west, when):
    """The Authorization header's token id of every request (the log's
    caller, --log-caller; the log never holds the header itself): each
    cluster saw its own token only."""
    for sim, name in ((east, "east"), (west, "west")):
        got = sorted({str(e.get("caller")) for e in log(sim)})
        t.eq(got, ["root@pam!" + name],
             "%s: every request carried %s's token, never the other's (%s)"
             % (name, name, when))


def guests(sim, secret, tokenid):
    r = requests.get(sim.api("/cluster/resources"), params={"type": "vm"},
                     headers={"Authorization": "PVEAPIToken=%s=%s"
                              % (tokenid, secret)},
                     verify=False, timeout=30)
    return {v["name"]: v for v in r.json()["data"] if not v.get("template")}


class Counter:
    """A listener on a stopped simulator's port (or a free one, port 0):
    counts connections and closes each at once (a cluster that is down)."""

    def __init__(self, port):
        self.n = 0
        self.s = socket.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", port))
        self.port = self.s.getsockname()[1]
        self.s.listen(16)
        self.th = threading.Thread(target=self.loop, daemon=True)
        self.th.start()

    def loop(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            self.n += 1
            c.close()

    def close(self):
        self.s.close()


def main():
    topos = [write_topo(EAST_TOPO), write_topo(WEST_TOPO)]
    east = Sim(PSIM, "--token", "root@pam!east=" + SECRET_E, "--topology",
               topos[0], "--log-caller")
    west = Sim(PSIM, "--token", "root@pam!west=" + SECRET_W, "--topology",
               topos[1], "--log-caller")
    d = tempfile.mkdtemp(prefix="pve-gitops-clusters.")
    cfg = CONFIG.format(east_url=east.url, east_fp=east.fingerprint,
                        west_url=west.url, west_fp=west.fingerprint)
    write(os.path.join(d, "pve-gitops.yaml"), cfg)
    write(os.path.join(d, "proxmox/k8s.ini"), "")
    for name, cl, node, ip in VMS:
        write(os.path.join(d, "proxmox/vms", name + ".yaml"),
              VM.format(name=name, cluster=cl, node=node, ip=ip))
    try:
        checks(d, east, west)
    finally:
        if east.proc.poll() is None:
            east.stop()
        clean_exit(t, west)
        if not os.environ.get("PVE_SIM_KEEP"):
            for sim in (east, west):
                shutil.rmtree(sim.dir, ignore_errors=True)
            shutil.rmtree(d, ignore_errors=True)
            for f in topos:
                os.unlink(f)
    parallel_reads()
    text = "\n".join(OUTPUTS)
    t.ok(SECRET_E not in text and SECRET_W not in text,
         "no secret in any output")
    t.done()


def parallel_reads():
    """Two slow clusters (1.5 s an answer): a plan reads them at once."""
    sims = [Sim(PSIM, "--token", "root@pam!%s=%s" % (n, SECRET_E),
                "--latency-ms", "1500") for n in ("east", "west")]
    d = tempfile.mkdtemp(prefix="pve-gitops-clusters.")
    try:
        write(os.path.join(d, "pve-gitops.yaml"), CONFIG.format(
            east_url=sims[0].url, east_fp=sims[0].fingerprint,
            west_url=sims[1].url, west_fp=sims[1].fingerprint))
        write(os.path.join(d, "proxmox/k8s.ini"), "")
        os.makedirs(os.path.join(d, "proxmox/vms"))
        e = env()
        e["PM_API_TOKEN_SECRET_WEST"] = SECRET_E
        t0 = time.monotonic()
        p = subprocess.run([BIN, "-C", d, "--no-color", "plan"],
                           capture_output=True, text=True, env=e,
                           timeout=120, stdin=subprocess.DEVNULL)
        took = time.monotonic() - t0
        OUTPUTS.append(p.stdout + p.stderr)
        t.ok(p.returncode == 0 and took < 2.7,
             "two clusters of 1.5 s answers are read at once (%.2f s)"
             % took, (p.stdout + p.stderr)[-1000:])
    finally:
        for sim in sims:
            sim.stop()
            shutil.rmtree(sim.dir, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)


def write_topo(text):
    fd, path = tempfile.mkstemp(prefix="topo.", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def checks(d, east, west):
    # --- validation: an unknown cluster, 'default' in clusters: -------
    bad = os.path.join(d, "proxmox/vms/bad.yaml")
    write(bad, VM.format(name="bad", cluster="wset", node="west1",
                         ip="10.9.0.99"))
    p = run(d, "validate")
    t.ok(p.returncode == 2 and "bad.yaml:2:" in p.stderr and
         "did you mean 'west'" in p.stderr,
         "an unknown cluster: error at FILE:LINE with a did-you-mean",
         p.stderr[-2000:])
    write(bad, VM.format(name="bad", cluster="east", node="east1",
                         ip="10.9.0.99") + "coress: 2\n")
    p = run(d, "--cluster", "west", "validate")
    q = run(d, "validate")
    t.ok(p.returncode == 0 and q.returncode == 2 and
         "bad.yaml" in q.stderr and "bad.yaml" not in p.stderr,
         "--cluster west validate leaves east's definitions out",
         p.stderr[-1000:] + q.stderr[-1000:])
    os.unlink(bad)
    cfgfile = os.path.join(d, "pve-gitops.yaml")
    with open(cfgfile) as f:
        good = f.read()
    write(cfgfile, good + "  default:\n    endpoint: https://127.0.0.1:1\n")
    p = run(d, "validate")
    t.ok(p.returncode == 2 and "pve-gitops.yaml:" in p.stderr and
         "'default'" in p.stderr,
         "clusters: may not define 'default' (error at the config's line)",
         p.stderr[-2000:])
    write(cfgfile, good)

    # --- apply: each VM on its own cluster -----------------------------
    p = run(d, "apply", "--auto-approve")
    t.ok(p.returncode == 0, "apply on two clusters: exit 0",
         (p.stdout + p.stderr)[-3000:])
    t.ok("Cluster east:" in p.stdout and "Cluster west:" in p.stdout,
         "the plan has a heading per cluster", p.stdout[-3000:])
    ge = guests(east, SECRET_E, "root@pam!east")
    gw = guests(west, SECRET_W, "root@pam!west")
    t.eq(sorted(ge), ["e1", "e2"], "east holds e1 and e2")
    t.eq(sorted(gw), ["w1"], "west holds w1")
    t.eq((ge.get("e1", {}).get("node"), ge.get("e2", {}).get("node")),
         ("east1", "east2"), "each on its node")
    for sim, name in ((east, "east"), (west, "west")):
        st = sorted({e["status"] for e in log(sim)})
        t.eq(st, [200], "%s answered every request with 200: only its own "
             "token reached it" % name)
    callers(east, west, "after apply")
    with open(os.path.join(d, "proxmox/.pve-gitops/outputs.json")) as f:
        inv = json.load(f)["ansible_inventory"]["value"]
    t.eq({n: inv[n].get("cluster") for n in inv},
         {"e1": "east", "e2": "east", "w1": "west"},
         "the outputs file names each VM's cluster")

    # --- inventory (outputs and --live), host_vars, doctor --------------
    p = run(d, "inventory")
    t.ok(p.returncode == 0, "inventory: exit 0", p.stderr[-2000:])
    hv = {}
    for n in ("e1", "w1"):
        with open(os.path.join(d, "proxmox/host_vars", n + ".yml")) as f:
            hv[n] = [x for x in f.read().splitlines()
                     if x.startswith("pve_cluster:")]
    t.ok(len(hv["e1"]) == 1 and "east" in hv["e1"][0] and
         len(hv["w1"]) == 1 and "west" in hv["w1"][0],
         "host_vars name the cluster (pve_cluster)", hv)
    p = run(d, "inventory", "--live", "--list")
    t.ok(p.returncode == 0 and all(n in p.stdout for n in
                                   ("e1", "e2", "w1")),
         "inventory --live --list reads both clusters",
         (p.stdout + p.stderr)[-2000:])
    p = run(d, "doctor", "w1", "--ssh-wait", "0")
    out = p.stdout + p.stderr
    t.ok("of cluster west" in out and "cluster west: endpoint from" in out,
         "doctor checks w1 on its own cluster and names it", out[-3000:])

    # --- a no-op plan: one request per cluster -------------------------
    ne, nw = len(log(east)), len(log(west))
    p = run(d, "--json", "plan")
    t.ok(p.returncode == 0, "second plan: exit 0", p.stderr[-2000:])
    doc = json.loads(p.stdout) if p.returncode == 0 else {}
    s = doc.get("summary", {})
    t.eq((s.get("add"), s.get("change"), s.get("destroy")), (0, 0, 0),
         "second plan: nothing to do")
    t.eq(sorted({i.get("cluster") for i in doc.get("items", [])}),
         ["east", "west"], "JSON items name their cluster")
    le, lw = log(east)[ne:], log(west)[nw:]
    t.eq([(e["method"], e["path"]) for e in le],
         [("GET", "/api2/json/cluster/resources")],
         "no-op plan: exactly one request to east")
    t.eq([(e["method"], e["path"]) for e in lw],
         [("GET", "/api2/json/cluster/resources")],
         "no-op plan: exactly one request to west")
    p = run(d, "plan")
    t.ok(p.returncode == 0 and "No changes." in p.stdout,
         "text no-op plan: 'No changes.'", p.stdout[-2000:])

    # --- --cluster west: nothing to east -------------------------------
    write(os.path.join(d, "proxmox/vms/w2.yaml"),
          VM.format(name="w2", cluster="west", node="west1",
                    ip="10.9.0.12"))
    write(os.path.join(d, "proxmox/vms/e3.yaml"),
          VM.format(name="e3", cluster="east", node="east1",
                    ip="10.9.0.13"))
    ne = len(log(east))
    p = run(d, "--cluster", "west", "apply", "--auto-approve")
    t.ok(p.returncode == 0, "--cluster west apply: exit 0",
         (p.stdout + p.stderr)[-3000:])
    t.eq(len(log(east)), ne, "--cluster west: no request sent to east")
    t.ok("w2" in guests(west, SECRET_W, "root@pam!west"),
         "--cluster west created w2 on west")
    t.ok("e3" not in guests(east, SECRET_E, "root@pam!east"),
         "--cluster west left east's new VM alone")
    with open(os.path.join(d, "proxmox/.pve-gitops/outputs.json")) as f:
        inv = json.load(f)["ansible_inventory"]["value"]
    t.eq(sorted(inv), ["e1", "e2", "w1", "w2"],
         "--cluster west: the outputs keep east's VMs")
    t.ok("Cluster " not in p.stdout,
         "one cluster: no cluster heading", p.stdout[-2000:])
    p = run(d, "--cluster", "north", "plan")
    t.ok(p.returncode == 2 and "north" in p.stderr,
         "--cluster with an unknown name: exit 2", p.stderr[-1000:])

    # --- a saved plan records each item's cluster, and is carried out ----
    planfile = os.path.join(d, "saved.plan")
    p = run(d, "plan", "--out", planfile)
    with open(planfile) as f:
        saved = json.load(f)
    t.ok(p.returncode == 0 and
         {"name": "e3", "action": "create", "cluster": "east"}
         in saved.get("items", []),
         "a saved plan records the cluster of each item", saved)
    p = run(d, "apply", planfile)
    t.ok(p.returncode == 0 and
         "e3" in guests(east, SECRET_E, "root@pam!east"),
         "apply of the saved plan creates e3 on east",
         (p.stdout + p.stderr)[-2000:])
    os.unlink(planfile)

    # --- a definition moved to the other cluster: refused --------------
    w1 = os.path.join(d, "proxmox/vms/w1.yaml")
    write(w1, VM.format(name="w1", cluster="east", node="east1",
                        ip="10.9.0.21"))
    ne, nw = len(log(east)), len(log(west))
    p = run(d, "apply", "--auto-approve")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1 and "cannot move between clusters" in out and
         "cluster west" in out,
         "a VM moved to another cluster: blocked with the reason, exit 1",
         out[-3000:])
    muts = [e for e in log(east)[ne:] + log(west)[nw:]
            if e["method"] in ("POST", "PUT", "DELETE")]
    t.eq(muts, [], "nothing sent for the moved VM (no create, no destroy)")
    write(w1, VM.format(name="w1", cluster="west", node="west1",
                        ip="10.9.0.11"))

    # --- PM_API_URL_EAST wins over a changed clusters.east.endpoint -----
    cfgp = os.path.join(d, "pve-gitops.yaml")
    with open(cfgp) as f:
        good = f.read()
    # a merged change points east at a server that would take its token
    trap = Counter(0)
    write(cfgp, good.replace(east.url, "https://127.0.0.1:%d/api2/json" %
                             trap.port))
    ne = len(log(east))
    p = run(d, "plan", extra_env={"PM_API_URL_EAST": east.url})
    t.ok(p.returncode == 0 and "No changes." in p.stdout and
         "clusters.east.endpoint" in p.stderr and
         "PM_API_URL_EAST is set" in p.stderr and trap.n == 0 and
         len(log(east)) > ne,
         "PM_API_URL_EAST wins over the file's clusters.east.endpoint "
         "(warned; nothing sent to the file's endpoint)",
         "rc %d, %d connections to the file's endpoint\n%s%s" %
         (p.returncode, trap.n, p.stdout[-1500:], p.stderr))
    trap.close()
    write(cfgp, good)

    # --- east down: west converges, east's VMs blocked -----------------
    callers(east, west, "after every run with both up")
    east_url, port = east.url, east.port
    schema_check(t, east)
    schema_check(t, west)
    east.stop()
    cnt = Counter(port)
    write(os.path.join(d, "proxmox/vms/w3.yaml"),
          VM.format(name="w3", cluster="west", node="west1",
                    ip="10.9.0.13"))
    p = run(d, "plan")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1, "plan with east down: exit 1", out[-3000:])
    t.ok("e1" in p.stdout and "cluster east (%s" % east_url in p.stdout,
         "east's VMs blocked with the cluster's name and endpoint",
         p.stdout[-3000:])
    t.ok("+ w3" in p.stdout, "west's new VM planned", p.stdout[-3000:])
    t.ok("partial" in p.stderr.lower() and "Partial" in p.stdout,
         "the summary says the run was partial", out[-2000:])
    plan_conns = cnt.n
    p = run(d, "apply", "--auto-approve")
    out = p.stdout + p.stderr
    t.ok(p.returncode == 1 and "partial" in p.stderr.lower(),
         "apply with east down: exit 1, partial", out[-3000:])
    t.ok("w3" in guests(west, SECRET_W, "root@pam!west"),
         "west converged: w3 created")
    apply_conns = cnt.n - plan_conns
    # one call (GET /cluster/resources) and its 5 retries, no more
    t.ok(1 <= plan_conns <= 6 and 1 <= apply_conns <= 6,
         "east was sent one call's attempts at most per run (%d, %d)"
         % (plan_conns, apply_conns))
    with open(os.path.join(d, "proxmox/.pve-gitops/outputs.json")) as f:
        inv = json.load(f)["ansible_inventory"]["value"]
    t.eq(sorted(inv), ["e1", "e2", "e3", "w1", "w2", "w3"],
         "the outputs keep east's VMs while east is down")
    cnt.close()
    p = run(d, "--cluster", "west", "plan")
    t.ok(p.returncode == 0 and "No changes." in p.stdout,
         "--cluster west with east down: a clean no-op", p.stdout[-2000:])
    got = sorted({str(e.get("caller")) for e in log(west)})
    t.eq(got, ["root@pam!west"], "west never saw east's token, to the end")


main()
