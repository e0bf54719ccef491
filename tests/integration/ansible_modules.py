#!/usr/bin/python3
"""Debian's ansible (7.7.0: community.general 6.6.2), unmodified, drives
proxmox-sim through a VM's whole life with the playbook
ansible/vm_life.yml: the info modules, a full and a linked clone, an
update, a NIC added and removed, a disk added, resized, moved and removed,
a snapshot created, rolled back and deleted, a start, the task list, a live
migration (through python3-proxmoxer: proxmox_kvm 6.6.2 has no migrate), a
stop on the new node and both VMs deleted.

Every module call runs twice (the playbook's loop) and the second must
report changed=false, except where the module always reports a change:
proxmox_kvm with update: true (it never compares) and proxmox_snap with
state: rollback (a rollback is always done again).

The client side is what a user runs: HTTPS verified against the
simulator's own CA (validate_certs: true, REQUESTS_CA_BUNDLE naming that
CA and nothing else), an API token whose secret is in a vars file, and a
child environment built from nothing (no inherited REQUESTS_CA_BUNDLE or
CURL_CA_BUNDLE, HOME in a temporary directory).

Usage: ansible_modules.py PROXMOX_SIM
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from proxmoxer import ProxmoxAPI

from simlib import Sim, Tap, schema_check, make_cert

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOK = os.path.join(HERE, "ansible", "vm_life.yml")
SECRET = "6f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
FULL, LINKED = 201, 202

TOPOLOGY = """\
nodes:
  - name: node01
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir",
         capacity: 1T}
      - {name: data2, type: lvmthin, content: "images,rootdir",
         capacity: 1T}
  - name: node02
    storages:
      - {name: local-lvm, type: lvmthin, content: "images,rootdir",
         capacity: 1T}
      - {name: data2, type: lvmthin, content: "images,rootdir",
         capacity: 1T}
templates:
  - {vmid: 9000, name: debian12, node: node01,
     disks: {scsi0: {storage: local-lvm, size: 3G}}}
users:
  - userid: ops@pve
    password: hunter2
groups:
  - {groupid: admins, comment: operators, users: [ops@pve]}
"""

# (task name, [changed on the first run, on the second]); None: not checked
# (a module that always reports a change is listed with True, True)
EXPECT = {
    "info": [("info storage", [False, False]), ("info users", [False, False]),
             ("info groups", [False, False]),
             ("info domains", [False, False])],
    "clone": [("clone full", [True, False]), ("clone linked", [True, False])],
    # proxmox_kvm update: true exits changed=True unconditionally
    "update": [("update", [True, True])],
    "nic": [("nic add", [True, False]), ("nic remove", [True, False])],
    "disk": [("disk add", [True, False]), ("disk resize", [True, False]),
             ("disk move", [True, False]), ("disk remove", [True, False])],
    # proxmox_snap state: rollback exits changed=True unconditionally
    "snapshot": [("snapshot create", [True, False]),
                 ("snapshot rollback", [True, True]),
                 ("snapshot delete", [True, False])],
    "start": [("start", [True, False]), ("tasks info", [False, False])],
    "stop": [("stop", [True, False]), ("current", [False, False])],
    "delete": [("delete full", [True, False]),
               ("delete linked", [True, False])],
}


def child_env(d, ca):
    """Ansible's environment, from nothing but what it needs."""
    home = os.path.join(d, "home")
    os.makedirs(home, exist_ok=True)
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "TMPDIR": d,
        "REQUESTS_CA_BUNDLE": ca,
        "ANSIBLE_CONFIG": os.path.join(d, "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_LOCAL_TEMP": os.path.join(d, "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
    }


def log_lines(sim):
    with open(sim.log) as f:
        return [json.loads(line) for line in f if line.strip()]


class Run:
    def __init__(self, t, sim, d, env):
        self.t, self.sim, self.d, self.env = t, sim, d, env
        self.seen = 0

    def phase(self, tag):
        p = subprocess.run(
            ["ansible-playbook", "-i", "localhost,", "-e",
             "@" + os.path.join(self.d, "vars.yml"), "--tags", tag,
             PLAYBOOK], env=self.env, capture_output=True, text=True,
            timeout=600, stdin=subprocess.DEVNULL, cwd=self.d)
        tasks = {}
        try:
            out = json.loads(p.stdout)
            for task in out["plays"][0]["tasks"]:
                tasks[task["task"]["name"]] = task["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError):
            pass
        lines = log_lines(self.sim)
        new, self.seen = lines[self.seen:], len(lines)
        bad = ["%s %s %s -> %d" % (r["method"], r["path"],
                                   json.dumps(r.get("params", {})),
                                   r["status"])
               for r in new if r["status"] >= 400]
        failed = False
        for name, want in EXPECT[tag]:
            runs = tasks.get(name, {}).get("results", [])
            got = ["failed" if r.get("failed") else r.get("changed")
                   for r in runs]
            msgs = [(str(r.get("msg", ""))[:400] + " "
                     + str(r.get("module_stderr", ""))[-400:]).strip()
                    for r in runs if r.get("failed")]
            if not self.t.eq(got, want, "%s: changed on the first and the "
                             "second run" % name):
                failed = True
                print("# " + "\n# ".join(msgs))
        if failed:
            print("# %s: the refused requests:\n# " % tag
                  + "\n# ".join(bad) + "\n# " + p.stderr[-800:].replace(
                      "\n", "\n# "))
        return tasks

    def result(self, tasks, name, i=0):
        runs = tasks.get(name, {}).get("results", [])
        return runs[i] if len(runs) > i else {}


def wait(px, node, upid, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = px.nodes(node).tasks(upid).status.get()
        if st["status"] == "stopped":
            return st
        time.sleep(0.1)
    raise RuntimeError("task %s did not finish" % upid)


def main():
    t = Tap()
    d = tempfile.mkdtemp(prefix="ansible-modules.")
    topo = os.path.join(d, "topology.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY)
    with open(os.path.join(d, "ansible.cfg"), "w") as f:
        f.write("[defaults]\n")
    cert, key = make_cert(d)
    env = child_env(d, cert)
    with Sim(sys.argv[1], "--tls-cert", cert, "--tls-key", key,
             "--topology", topo, "--token", "root@pam!ansible=" + SECRET,
             "--task-ms", "50", "--boot-ms", "100") as sim:
        with open(os.path.join(d, "vars.yml"), "w") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write("pve_host: 127.0.0.1:%d\npve_user: root@pam\n"
                    "pve_token_id: ansible\npve_token_secret: %s\n"
                    "full_id: %d\nlinked_id: %d\n"
                    % (sim.port, SECRET, FULL, LINKED))
        px = ProxmoxAPI("127.0.0.1", port=sim.port, user="root@pam",
                        token_name="ansible", token_value=SECRET,
                        verify_ssl=cert)
        scenario(t, Run(t, sim, d, env), px, sim)
        schema_check(t, sim)
        if os.environ.get("PVE_SIM_KEEP"):
            shutil.copy(sim.log, os.path.join(d, "requests.jsonl"))
            print("# kept " + d)
    if not os.environ.get("PVE_SIM_KEEP"):
        shutil.rmtree(d, ignore_errors=True)
    t.done()


def ask(t, what, fn, default):
    """fn() through proxmoxer; its failure is a failed check."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        t.ok(False, what, e)
        return default


def config(t, px, node, vmid):
    return ask(t, "GET config of %d" % vmid,
               lambda: px.nodes(node).qemu(vmid).config.get(), {})


def scenario(t, run, px, sim):
    tasks = run.phase("info")
    st = run.result(tasks, "info storage").get("proxmox_storages", [])
    t.ok(any(s.get("storage") == "local-lvm" for s in st),
         "proxmox_storage_info lists local-lvm", st)
    users = run.result(tasks, "info users").get("proxmox_users", [])
    t.ok({"root@pam", "ops@pve"} <= {u.get("userid") for u in users},
         "proxmox_user_info lists root@pam and ops@pve", users)
    groups = run.result(tasks, "info groups").get("proxmox_groups", [])
    t.ok(any(g.get("groupid") == "admins" for g in groups),
         "proxmox_group_info lists admins", groups)
    doms = run.result(tasks, "info domains").get("proxmox_domains", [])
    t.ok({"pam", "pve"} <= {x.get("realm") for x in doms},
         "proxmox_domain_info lists pam and pve", doms)

    run.phase("clone")
    full = config(t, px, "node01", FULL)
    linked = config(t, px, "node01", LINKED)
    t.eq(full.get("scsi0", "").split(",")[0],
         "local-lvm:vm-%d-disk-0" % FULL, "full clone: its own disk")
    t.eq(linked.get("scsi0", "").split(",")[0],
         "local-lvm:base-9000-disk-0/vm-%d-disk-0" % LINKED,
         "linked clone: a disk on the template's base")

    run.phase("update")
    c = config(t, px, "node01", FULL)
    t.eq((c.get("cores"), str(c.get("memory")), c.get("ciuser"),
          c.get("ipconfig0"), c.get("agent")),
         (2, "2048", "ops", "ip=127.0.0.21/8,gw=127.0.0.1", "1"),
         "update: cores, memory, ciuser, ipconfig0, agent set")
    t.eq(c.get("tags"), "prod;web",
         "update: tags sorted, ';'-joined, the duplicate dropped")

    run.phase("nic")
    t.ok("net1" not in config(t, px, "node01", FULL), "nic: net1 gone again")

    run.phase("disk")
    c = config(t, px, "node01", FULL)
    t.ok("scsi1" not in c and not any(k.startswith("unused") for k in c),
         "disk: scsi1 removed, no unused volume left", c)

    run.phase("snapshot")
    snaps = ask(t, "GET snapshot",
                lambda: px.nodes("node01").qemu(FULL).snapshot.get(), [])
    t.eq([s["name"] for s in snaps], ["current"],
         "snapshot: only 'current' left")

    tasks = run.phase("start")
    listed = run.result(tasks, "tasks info").get("proxmox_tasks", [])
    t.ok(any(x.get("type") == "qmstart" and str(x.get("id")) == str(FULL)
             for x in listed), "proxmox_tasks_info lists the qmstart",
         listed[:5])

    migrate(t, px)

    tasks = run.phase("stop")
    t.eq(run.result(tasks, "current").get("status"), "stopped",
         "current: stopped")

    run.phase("delete")
    vms = [r["vmid"] for r in ask(
        t, "GET cluster/resources",
        lambda: px.cluster.resources.get(type="vm"), [])]
    t.eq(sorted(vms), [9000], "delete: only the template left")


def migrate(t, px):
    try:
        upid = px.nodes("node01").qemu(FULL).migrate.post(
            target="node02", online=1, **{"with-local-disks": 1})
        st = wait(px, "node01", upid)
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        t.ok(False, "migrate to node02 (proxmoxer)", e)
        return
    t.eq((st["type"], st["exitstatus"]), ("qmigrate", "OK"),
         "migrate to node02 (proxmoxer): task ends OK")
    where = {r["vmid"]: r["node"] for r in ask(
        t, "GET cluster/resources",
        lambda: px.cluster.resources.get(type="vm"), [])}
    t.eq(where.get(FULL), "node02", "migrate: the VM is on node02")


main()
