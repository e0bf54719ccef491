#!/usr/bin/python3
"""bench/plan_callgrind.py - instruction counts (valgrind --tool=callgrind)
of `pve-gitops --json plan` with N definitions against a proxmox-sim holding
those N VMs as apply left them, and of `validate` on the same repository:
figures a noisy machine does not blur. The floor of plan is validate plus
the one GET (cluster_read_vms in the profile, kept in
/tmp/pp-cg-BINARY-N.out for callgrind_annotate).

Usage: plan_callgrind.py bench/plan.py PVE_GITOPS PROXMOX_SIM COUNT...
"""

import os, sys, subprocess, tempfile, json, shutil, re
src = open(sys.argv[1]).read().rsplit("\nmain()", 1)[0]
g = {"__name__": "x"}
exec(compile(src, "plan.py", "exec"), g)
binary, sim = sys.argv[2], sys.argv[3]
for count in [int(c) for c in sys.argv[4:]]:
    work = tempfile.mkdtemp(prefix="pp-cg.")
    env = dict(os.environ, PM_API_TOKEN_ID="root@pam!b", PM_API_TOKEN_SECRET=g["SECRET"])
    proc, url, fp = g["start_sim"](sim)
    g["write_repo"](work, count, url, fp)
    out = subprocess.run([binary, "-C", work, "--json", "plan"], env=env, capture_output=True).stdout
    proc.terminate(); proc.wait()
    items = json.loads(out)["items"]
    topo = ["nodes:"]
    for n in (1, 2, 3):
        topo += ["  - name: node0%d" % n, "    storages:", "      - {name: local-lvm, capacity: 100T}"]
    topo += ["templates:", "  - {vmid: 9000, name: ubuntu24-template, node: node01, disks: {scsi0: {storage: local-lvm, size: 3G}}}", "vms:"]
    for k, it in enumerate(items):
        tags = [c["after"] for c in it["changes"] if c["key"] == "tags"]
        topo.append("  - {vmid: %d, name: %s, node: %s, status: running, config: {tags: '%s'}}" % (10000 + k, it["name"], it["node"], tags[0]))
    open(os.path.join(work, "topology.yaml"), "w").write("\n".join(topo) + "\n")
    proc, url, fp = g["start_sim"](sim, "--topology", os.path.join(work, "topology.yaml"))
    g["write_repo"](work, 0, url, fp)
    res = {}
    for cmd in ("plan", "validate"):
        cg = os.path.join(work, "cg.out." + cmd)
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, binary, "-C", work, "--json", cmd],
                           env=env, capture_output=True, text=True)
        m = re.search(r"Collected : (\d+)", r.stderr)
        res[cmd] = int(m.group(1))
        if cmd == "plan":
            summ = json.loads(r.stdout)["summary"]
            shutil.copy(cg, "/tmp/pp-cg-%s-%d.out" % (os.path.basename(binary), count))
    proc.terminate(); proc.wait()
    print("%s %6d  plan Ir %14d  validate Ir %14d  ratio %.2f  summary %s" % (os.path.basename(binary), count, res["plan"], res["validate"], res["plan"]/res["validate"], summ), flush=True)
    shutil.rmtree(work, ignore_errors=True)
