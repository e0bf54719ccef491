#!/usr/bin/python3
"""pve-gitops inventory: golden files for the rewrite of k8s.ini, checked
byte for byte and through Ansible's own parser (ansible-inventory --list);
new_hosts.txt; host_vars; idempotence; bad input that changes nothing;
--dry-run; the dynamic inventory (--list/--host and the examples/ wrapper
read by ansible-inventory); and --live against proxmox-sim.

Usage: inventory.py PVE_GITOPS PROXMOX_SIM SOURCE_DIR
"""

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from simlib import Sim, Tap, example_repo, pve_gitops

BIN, SIM, SRC = sys.argv[1], sys.argv[2], sys.argv[3]
SECRET = "5b1d3f7a-2c4e-4a6b-8d0f-1e3a5c7e9b2d"
t = Tap()

HEADER = """# Ansible inventory for the Proxmox VMs.
# Hand-written lines stay as they are.

"""


def vm_yaml(name, ip=None, user=None, groups=None, node="node01"):
    lines = ["name: %s" % name, "target_node: %s" % node,
             "clone: ubuntu24-template"]
    if ip:
        lines.append('ipconfig0: "ip=%s/24,gw=%s"'
                     % (ip, ip.rsplit(".", 1)[0] + ".254"))
    else:
        lines.append('ipconfig0: "ip=dhcp"')
    if user:
        lines.append("ciuser: %s" % user)
    if groups:
        lines.append("ansible_groups: [%s]" % ", ".join(groups))
    lines += ["disks:", "  scsi0: {size: 20G, storage: local-lvm}",
              "  scsi1: {size: 5G, storage: local-lvm, mount: /srv/data}"]
    return "\n".join(lines) + "\n"


def make_repo(vms, before, config="", host_vars=None, new_hosts=None,
              outputs_extra=None):
    """A repository with definitions for vms (name, ip, ...), outputs
    that say they exist, and the inventory before."""
    d = tempfile.mkdtemp(prefix="pve-gitops-inv.")
    os.makedirs(os.path.join(d, "proxmox", "vms"))
    os.makedirs(os.path.join(d, "proxmox", ".pve-gitops"))
    with open(os.path.join(d, "pve-gitops.yaml"), "w") as f:
        f.write("ansible_user: ubuntu\n" + config)
    value = {}
    for i, vm in enumerate(vms):
        name = vm["name"]
        with open(os.path.join(d, "proxmox", "vms", name + ".yaml"),
                  "w") as f:
            f.write(vm_yaml(name, vm.get("ip"), vm.get("user"),
                            vm.get("groups")))
        if vm.get("exists", True):
            value[name] = {"ansible_host": vm.get("ip"),
                           "ansible_user": vm.get("user", "ubuntu"),
                           "node": "node01", "vmid": 100 + i}
    value.update(outputs_extra or {})
    with open(os.path.join(d, "proxmox", ".pve-gitops", "outputs.json"),
              "w") as f:
        json.dump({"ansible_inventory": {"sensitive": False,
                                         "type": [], "value": value}}, f)
    if before is not None:
        with open(os.path.join(d, "proxmox", "k8s.ini"), "wb") as f:
            f.write(before.encode())
    for name, text in (host_vars or {}).items():
        os.makedirs(os.path.join(d, "proxmox", "host_vars"), exist_ok=True)
        with open(os.path.join(d, "proxmox", "host_vars", name), "w") as f:
            f.write(text)
    if new_hosts is not None:
        with open(os.path.join(d, "proxmox", "new_hosts.txt"), "w") as f:
            f.write(new_hosts)
    return d


def run(d, *args):
    return pve_gitops(BIN, d, SECRET, *args)


def read(d, rel, mode="r"):
    with open(os.path.join(d, rel), mode) as f:
        return f.read()


def snapshot(d):
    out = {}
    for root, _, files in os.walk(os.path.join(d, "proxmox")):
        for n in files:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = f.read()
    return out


def ansible_view(path):
    """Groups (name -> sorted hosts) and ansible_host per host, as
    ansible-inventory reads path."""
    env = dict(os.environ, ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="True",
               ANSIBLE_NOCOLOR="1")
    p = subprocess.run(["ansible-inventory", "-i", path, "--list"],
                       capture_output=True, text=True, env=env)
    if p.returncode:
        return ("error", p.stderr)
    data = json.loads(p.stdout)
    groups = {g: sorted(v.get("hosts", [])) for g, v in data.items()
              if g not in ("_meta", "all") and v.get("hosts")}
    hosts = {h: v.get("ansible_host")
             for h, v in data["_meta"]["hostvars"].items()}
    return groups, hosts


# Each case: vms, the inventory before, the inventory expected, the
# new_hosts.txt expected, and Ansible's view (groups, ansible_host).
SEED_BEFORE = HEADER + """# Individual hosts
haproxy-prod ansible_host=192.168.1.10 ansible_user=ubuntu
talos-prod-cp01 ansible_host=192.168.1.30 ansible_user=ubuntu

[all:vars]
ansible_python_interpreter=/usr/bin/python3

[haproxy]
haproxy-prod

[talos_control_plane]
talos-prod-cp01
"""

CASES = [
    {
        "name": "the seed's example: k8s-observability new, others kept",
        "vms": [{"name": "haproxy-prod", "ip": "192.168.1.10"},
                {"name": "k8s-observability", "ip": "192.168.1.20",
                 "user": "suporte"},
                {"name": "talos-prod-cp01", "ip": "192.168.1.30"}],
        "before": SEED_BEFORE,
        "after": HEADER + """# Individual hosts
haproxy-prod ansible_host=192.168.1.10 ansible_user=ubuntu
talos-prod-cp01 ansible_host=192.168.1.30 ansible_user=ubuntu
k8s-observability ansible_host=192.168.1.20 ansible_user=suporte

[all:vars]
ansible_python_interpreter=/usr/bin/python3

[haproxy]
haproxy-prod

[talos_control_plane]
talos-prod-cp01

[k3s]
k8s-observability
""",
        "new_hosts": "192.168.1.20,k8s-observability\n",
        "groups": {"haproxy": ["haproxy-prod"], "k3s": ["k8s-observability"],
                   "talos_control_plane": ["talos-prod-cp01"]},
    },
    {
        "name": "removal: from the block, every group, hand-made too",
        "vms": [{"name": "k8s-a", "ip": "10.0.0.1"}],
        "before": HEADER + """# Individual hosts
k8s-a ansible_host=10.0.0.1 ansible_user=ubuntu
k8s-gone ansible_host=10.0.0.2 ansible_user=ubuntu

[k3s]
k8s-a
k8s-gone

[monitoring]
# watched by hand
k8s-gone
pve1.example.com

[web]
k8s-gone ansible_port=2222
""",
        "after": HEADER + """# Individual hosts
k8s-a ansible_host=10.0.0.1 ansible_user=ubuntu

[k3s]
k8s-a

[monitoring]
# watched by hand
pve1.example.com

[web]
""",
        "new_hosts": "",
        "groups": {"k3s": ["k8s-a"], "monitoring": ["pve1.example.com"]},
    },
    {
        "name": "a changed IP rewrites the line in place",
        "vms": [{"name": "db1", "ip": "10.0.0.12"},
                {"name": "db2", "ip": "10.0.0.13", "user": "admin"}],
        "before": HEADER + """# Individual hosts
db1 ansible_host=10.0.0.11 ansible_user=ubuntu
db2 ansible_host=10.0.0.13 ansible_user=ubuntu
""",
        "after": HEADER + """# Individual hosts
db1 ansible_host=10.0.0.12 ansible_user=ubuntu
db2 ansible_host=10.0.0.13 ansible_user=admin
""",
        "new_hosts": "",
        "groups": {"ungrouped": ["db1", "db2"]},
    },
    {
        "name": "empty managed groups go, unless something refers to them",
        "vms": [{"name": "web1", "ip": "10.0.1.1"}],
        "before": HEADER + """# Individual hosts
web1 ansible_host=10.0.1.1 ansible_user=ubuntu
haproxy-old ansible_host=10.0.1.2 ansible_user=ubuntu
talos-x-cp1 ansible_host=10.0.1.3 ansible_user=ubuntu

[haproxy]
haproxy-old

[talos_control_plane]
talos-x-cp1

[talos_workers]

[talos:children]
talos_control_plane

[k3s]
""",
        "after": HEADER + """# Individual hosts
web1 ansible_host=10.0.1.1 ansible_user=ubuntu

[talos_control_plane]

[talos:children]
talos_control_plane
""",
        "new_hosts": "",
        "groups": {"ungrouped": ["web1"]},
    },
    {
        "name": "custom rules and ansible_groups",
        "config": """inventory_groups:
  - { pattern: '^db[0-9]+$', group: databases }
  - { pattern: '^k8s-.*$', group: k3s }
""",
        "vms": [{"name": "db1", "ip": "10.0.2.1"},
                {"name": "k8s-dev-x", "ip": "10.0.2.2",
                 "groups": ["monitored", "k3s"]},
                {"name": "haproxy-a", "ip": "10.0.2.3",
                 "groups": ["monitored"]}],
        "before": HEADER + "# Individual hosts\n",
        "after": HEADER + """# Individual hosts
db1 ansible_host=10.0.2.1 ansible_user=ubuntu
haproxy-a ansible_host=10.0.2.3 ansible_user=ubuntu
k8s-dev-x ansible_host=10.0.2.2 ansible_user=ubuntu

[databases]
db1

[k3s]
k8s-dev-x

[monitored]
haproxy-a
k8s-dev-x
""",
        "new_hosts": "10.0.2.1,db1\n10.0.2.3,haproxy-a\n10.0.2.2,k8s-dev-x\n",
        "groups": {"databases": ["db1"], "k3s": ["k8s-dev-x"],
                   "monitored": ["haproxy-a", "k8s-dev-x"]},
    },
    {
        "name": "hand-made groups, vars, children and comments kept",
        "vms": [{"name": "k8s-b", "ip": "10.0.3.2"},
                {"name": "k8s-a", "ip": "10.0.3.1"}],
        "before": """; an old-style comment
# Individual hosts
k8s-a ansible_host=10.0.3.1 ansible_user=ubuntu   # inline comment

[all:vars]
ansible_user=override   ; not a comment in :vars
proxy=http://10.0.0.1:3128

[k3s]
k8s-a

[k3s:vars]
k3s_version=v1.29.0+k3s1

[edge]
router1 ansible_host=10.9.9.9 ansible_port=2200
k8s-a

[site:children]
k3s
edge
""",
        "after": """; an old-style comment
# Individual hosts
k8s-a ansible_host=10.0.3.1 ansible_user=ubuntu   # inline comment
k8s-b ansible_host=10.0.3.2 ansible_user=ubuntu

[all:vars]
ansible_user=override   ; not a comment in :vars
proxy=http://10.0.0.1:3128

[k3s]
k8s-a
k8s-b

[k3s:vars]
k3s_version=v1.29.0+k3s1

[edge]
router1 ansible_host=10.9.9.9 ansible_port=2200
k8s-a

[site:children]
k3s
edge
""",
        "new_hosts": "10.0.3.2,k8s-b\n",
        "groups": {"edge": ["k8s-a", "router1"], "k3s": ["k8s-a", "k8s-b"]},
    },
    {
        "name": "CRLF input stays CRLF",
        "vms": [{"name": "k8s-a", "ip": "10.0.4.1"},
                {"name": "k8s-b", "ip": "10.0.4.2"}],
        "before": "# Individual hosts\r\nk8s-a ansible_host=10.0.4.9 "
                  "ansible_user=ubuntu\r\n\r\n[k3s]\r\nk8s-a\r\n",
        "after": "# Individual hosts\r\nk8s-a ansible_host=10.0.4.1 "
                 "ansible_user=ubuntu\r\nk8s-b ansible_host=10.0.4.2 "
                 "ansible_user=ubuntu\r\n\r\n[k3s]\r\nk8s-a\r\nk8s-b\r\n",
        "new_hosts": "10.0.4.2,k8s-b\n",
        "groups": {"k3s": ["k8s-a", "k8s-b"]},
    },
    {
        "name": "no marker: it is added above the first section",
        "vms": [{"name": "k8s-a", "ip": "10.0.5.1"}],
        "before": """# header

[all:vars]
x=1
""",
        "after": """# header

# Individual hosts
k8s-a ansible_host=10.0.5.1 ansible_user=ubuntu

[all:vars]
x=1

[k3s]
k8s-a
""",
        "new_hosts": "10.0.5.1,k8s-a\n",
        "groups": {"k3s": ["k8s-a"]},
    },
    {
        "name": "no file at all: it is created",
        "vms": [{"name": "solo", "ip": "10.0.6.1"}],
        "before": None,
        "after": "# Individual hosts\nsolo ansible_host=10.0.6.1 "
                 "ansible_user=ubuntu\n",
        "new_hosts": "10.0.6.1,solo\n",
        "groups": {"ungrouped": ["solo"]},
    },
    {
        "name": "names and addresses that are prefixes of each other",
        "vms": [{"name": "k8s-dev2", "ip": "192.168.1.12"},
                {"name": "k8s-dev", "ip": "192.168.1.1"}],
        "before": HEADER + """# Individual hosts
k8s-dev2 ansible_host=192.168.1.12 ansible_user=ubuntu
k8s-dev22 ansible_host=192.168.1.122 ansible_user=ubuntu

[k3s]
k8s-dev2
k8s-dev22
""",
        "after": HEADER + """# Individual hosts
k8s-dev2 ansible_host=192.168.1.12 ansible_user=ubuntu
k8s-dev ansible_host=192.168.1.1 ansible_user=ubuntu

[k3s]
k8s-dev2
k8s-dev
""",
        "new_hosts": "192.168.1.1,k8s-dev\n",
        "groups": {"k3s": ["k8s-dev", "k8s-dev2"]},
        "hosts": {"k8s-dev": "192.168.1.1", "k8s-dev2": "192.168.1.12"},
    },
    {
        "name": "a renamed VM: old name out, new name in, SSH port",
        "config": "ssh: {port: 2222}\n",
        "vms": [{"name": "k8s-new", "ip": "10.0.7.1"}],
        "before": HEADER + """# Individual hosts
k8s-old ansible_host=10.0.7.1 ansible_user=ubuntu

[k3s]
k8s-old
""",
        "after": HEADER + """# Individual hosts
k8s-new ansible_host=10.0.7.1 ansible_user=ubuntu ansible_port=2222

[k3s]
k8s-new
""",
        "new_hosts": "10.0.7.1,k8s-new\n",
        "groups": {"k3s": ["k8s-new"]},
    },
    {
        "name": "DHCP without an address: new one left out, known one kept",
        "vms": [{"name": "dyn-old"}, {"name": "dyn-new"},
                {"name": "k8s-c", "ip": "10.0.8.3"}],
        "before": HEADER + """# Individual hosts
dyn-old ansible_host=10.0.8.1 ansible_user=ubuntu
""",
        "after": HEADER + """# Individual hosts
dyn-old ansible_host=10.0.8.1 ansible_user=ubuntu
k8s-c ansible_host=10.0.8.3 ansible_user=ubuntu

[k3s]
k8s-c
""",
        "new_hosts": "10.0.8.3,k8s-c\n",
        "groups": {"k3s": ["k8s-c"], "ungrouped": ["dyn-old"]},
        "stderr": ["dyn-new has no known IPv4 address",
                   "dyn-old has no known IPv4 address"],
    },
    {
        "name": "an excluded definition's host is never removed",
        "config": "exclude: [k8s-home.yaml]\n",
        "vms": [{"name": "k8s-a", "ip": "10.0.9.1"},
                {"name": "k8s-home", "ip": "10.0.9.9", "exists": False}],
        "before": HEADER + """# Individual hosts
k8s-home ansible_host=10.0.9.9 ansible_user=ubuntu
k8s-a ansible_host=10.0.9.1 ansible_user=ubuntu

[k3s]
k8s-home
k8s-a
""",
        "after": None,  # unchanged
        "new_hosts": "",
        "groups": {"k3s": ["k8s-a", "k8s-home"]},
    },
    {
        "name": "a VM not created yet is not listed",
        "vms": [{"name": "k8s-a", "ip": "10.0.10.1"},
                {"name": "k8s-b", "ip": "10.0.10.2", "exists": False}],
        "before": "# Individual hosts\n",
        "after": "# Individual hosts\nk8s-a ansible_host=10.0.10.1 "
                 "ansible_user=ubuntu\n\n[k3s]\nk8s-a\n",
        "new_hosts": "10.0.10.1,k8s-a\n",
        "groups": {"k3s": ["k8s-a"]},
    },
    {
        "name": "a file without a final newline, marker in [all]",
        "vms": [{"name": "k8s-a", "ip": "10.0.11.1"}],
        "before": "[all]\n# Individual hosts\nk8s-z ansible_host=10.0.11.9 "
                  "ansible_user=ubuntu",
        "after": "[all]\n# Individual hosts\nk8s-a ansible_host=10.0.11.1 "
                 "ansible_user=ubuntu\n\n[k3s]\nk8s-a\n",
        "new_hosts": "10.0.11.1,k8s-a\n",
        "groups": {"k3s": ["k8s-a"]},
    },
]


def golden(case):
    d = make_repo(case["vms"], case["before"], case.get("config", ""),
                  new_hosts="10.255.0.1,stale\n")
    name = case["name"]
    p = run(d, "inventory")
    if not t.eq(p.returncode, 0, name + ": exit 0"):
        print("#", p.stderr)
        return
    want = case["after"] if case["after"] is not None else case["before"]
    t.eq(read(d, "proxmox/k8s.ini", "rb").decode(), want,
         name + ": the inventory, byte for byte")
    t.eq(read(d, "proxmox/new_hosts.txt"), case["new_hosts"],
         name + ": new_hosts.txt")
    for s in case.get("stderr", []):
        t.ok(s in p.stderr, name + ": warns '%s'" % s, p.stderr)
    view = ansible_view(os.path.join(d, "proxmox", "k8s.ini"))
    if t.ok(view[0] != "error", name + ": ansible-inventory parses it",
            view[1]):
        t.eq(view[0], case["groups"], name + ": Ansible's groups")
        for h, ip in case.get("hosts", {}).items():
            t.eq(view[1].get(h), ip, name + ": ansible_host of " + h)
        for vm in case["vms"]:
            if vm.get("ip") and vm.get("exists", True):
                t.eq(view[1].get(vm["name"]), vm["ip"],
                     name + ": Ansible sees " + vm["name"])
    before = snapshot(d)
    p = run(d, "inventory")
    after = snapshot(d)
    t.eq(p.returncode, 0, name + ": second run exits 0")
    t.eq(after.get("proxmox/k8s.ini"), before.get("proxmox/k8s.ini"),
         name + ": second run changes no byte of the inventory")
    t.eq(after.get("proxmox/new_hosts.txt"), b"",
         name + ": second run writes an empty new_hosts.txt")
    p = run(d, "inventory")
    t.ok("no changes" in p.stdout and snapshot(d) == after,
         name + ": third run: no changes", p.stdout)
    shutil.rmtree(d)


def bad_input():
    cases = [
        ("[k3s]\nk8s-a novalue\n", 2,
         "proxmox/k8s.ini:2: Expected key=value host variable assignment, "
         "got: novalue"),
        ("[bad section]\n", 1,
         "proxmox/k8s.ini:1: Invalid section entry: '[bad section]'"),
        ("[p:children]\nmissing\n", 2,
         "proxmox/k8s.ini:2: Section [p:children] includes undefined "
         "group: missing"),
        ('[g]\nh x="open\n', 2,
         "proxmox/k8s.ini:2: Error parsing host definition 'h x=\"open': "
         "No closing quotation"),
        ("[all:vars]\n# Individual hosts\nx=1\n", 0,
         "'# Individual hosts' is in [all:vars]"),
    ]
    for text, line, msg in cases:
        d = make_repo([{"name": "k8s-a", "ip": "10.1.0.1"}], text,
                      new_hosts="10.255.0.1,stale\n")
        before = snapshot(d)
        p = run(d, "inventory")
        t.eq(p.returncode, 2, "refused (exit 2): %r" % text)
        t.ok(msg in p.stderr, "the error names file, line and cause: %r"
             % text, p.stderr)
        t.eq(snapshot(d), before, "nothing changed: %r" % text)
        shutil.rmtree(d)
    # outputs missing or broken
    d = make_repo([{"name": "k8s-a", "ip": "10.1.0.1"}], "")
    os.unlink(os.path.join(d, "proxmox", ".pve-gitops", "outputs.json"))
    p = run(d, "inventory")
    t.ok(p.returncode == 1 and "outputs" in p.stderr
         and not os.path.exists(os.path.join(d, "proxmox", "new_hosts.txt")),
         "no outputs: a clear error, nothing written", p.stderr)
    with open(os.path.join(d, "proxmox", ".pve-gitops", "outputs.json"),
              "w") as f:
        f.write('{"ansible_inventory": {"value": {"k8s-a": {"node": 1}}}}')
    p = run(d, "inventory")
    t.ok(p.returncode == 2 and "ansible_inventory.value.k8s-a" in p.stderr,
         "malformed outputs: the error names the field", p.stderr)
    shutil.rmtree(d)
    # an invalid definition stops everything
    d = make_repo([{"name": "k8s-a", "ip": "10.1.0.1"}], "")
    with open(os.path.join(d, "proxmox", "vms", "bad.yaml"), "w") as f:
        f.write("name: Bad_Name\ntarget_node: n\n")
    before = snapshot(d)
    p = run(d, "inventory")
    t.ok(p.returncode == 2 and "bad.yaml:1" in p.stderr
         and snapshot(d) == before,
         "a bad definition: exit 2 with file:line, nothing written",
         p.stderr)
    shutil.rmtree(d)


def host_vars():
    ours = "# Managed by pve-gitops from proxmox/vms/old.yaml\npve_vmid: 1\n"
    d = make_repo([{"name": "k8s-a", "ip": "10.2.0.1"},
                   {"name": "web", "ip": "10.2.0.2"}],
                  "# Individual hosts\n",
                  host_vars={"old.yml": ours,
                             "web.yml": "# mine\nrole: web\n",
                             "hand.yml": "x: 1\n",
                             "README": "notes\n"})
    p = run(d, "inventory")
    t.eq(p.returncode, 0, "host_vars: exit 0")
    hv = os.path.join(d, "proxmox", "host_vars")
    t.eq(sorted(os.listdir(hv)), ["README", "hand.yml", "k8s-a.yml",
                                  "web.yml"],
         "host_vars: ours for a gone VM removed, others untouched")
    t.eq(read(d, "proxmox/host_vars/web.yml"), "# mine\nrole: web\n",
         "host_vars: a file we did not write is never rewritten")
    t.ok("web.yml was not written by pve-gitops" in p.stderr,
         "host_vars: and that is said", p.stderr)
    text = read(d, "proxmox/host_vars/k8s-a.yml")
    t.ok(text.startswith("# Managed by pve-gitops from "
                         "proxmox/vms/k8s-a.yaml"), "host_vars: marked",
         text)
    import yaml
    data = yaml.safe_load(text)
    t.eq(data, {"pve_node": "node01", "pve_vmid": 100, "pve_tags": [],
                "pve_disks": [
                    {"slot": "scsi0", "size": "20G",
                     "size_bytes": 20 << 30, "storage": "local-lvm"},
                    {"slot": "scsi1", "size": "5G",
                     "size_bytes": 5 << 30, "storage": "local-lvm",
                     "mount": "/srv/data"}]},
         "host_vars: node, vmid, tags, disks with mount")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    q = subprocess.run(["ansible-inventory", "-i",
                        os.path.join(d, "proxmox", "k8s.ini"), "--host",
                        "k8s-a"], capture_output=True, text=True, env=env)
    t.ok(q.returncode == 0 and
         json.loads(q.stdout).get("pve_disks", [{}])[-1].get("mount")
         == "/srv/data",
         "host_vars: Ansible reads them next to the inventory", q.stderr)
    shutil.rmtree(d)


def dry_run():
    d = make_repo([{"name": "k8s-a", "ip": "10.3.0.1"}], SEED_BEFORE)
    before = snapshot(d)
    p = run(d, "inventory", "--dry-run")
    t.eq(p.returncode, 0, "--dry-run exits 0")
    t.eq(snapshot(d), before, "--dry-run changes nothing")
    t.ok("--- a/proxmox/k8s.ini" in p.stdout
         and "+k8s-a ansible_host=10.3.0.1 ansible_user=ubuntu" in p.stdout
         and "-haproxy-prod ansible_host=192.168.1.10" in p.stdout
         and "+++ b/proxmox/host_vars/k8s-a.yml" in p.stdout,
         "--dry-run prints the diff", p.stdout)
    run(d, "inventory")
    run(d, "inventory")
    p = run(d, "inventory", "--dry-run")
    t.ok(p.returncode == 0 and "no changes" in p.stdout
         and "---" not in p.stdout, "--dry-run after a run: no changes",
         p.stdout)
    p = run(d, "--json", "inventory", "--dry-run")
    t.ok(p.returncode == 0 and json.loads(p.stdout)["files_changed"] == 0,
         "--json summary", p.stdout)
    shutil.rmtree(d)


def dynamic():
    d = make_repo([{"name": "k8s-a", "ip": "10.4.0.1", "user": "suporte"},
                   {"name": "web", "ip": "10.4.0.2", "groups": ["edge"]},
                   {"name": "dyn"}], None, "ssh: {port: 2200}\n")
    before = snapshot(d)
    p = run(d, "inventory", "--list")
    t.eq(p.returncode, 0, "--list exits 0")
    data = json.loads(p.stdout)
    t.eq(data["k3s"], {"hosts": ["k8s-a"]}, "--list: groups by the rules")
    t.eq(data["edge"], {"hosts": ["web"]}, "--list: ansible_groups")
    t.eq(sorted(data["all"]["children"]), ["edge", "k3s", "ungrouped"],
         "--list: all's children")
    hv = data["_meta"]["hostvars"]
    t.eq(sorted(hv), ["k8s-a", "web"], "--list: DHCP without an address "
         "left out")
    t.eq({k: hv["k8s-a"][k] for k in ("ansible_host", "ansible_user",
                                       "ansible_port", "pve_vmid")},
         {"ansible_host": "10.4.0.1", "ansible_user": "suporte",
          "ansible_port": 2200, "pve_vmid": 100}, "--list: hostvars")
    p = run(d, "inventory", "--host", "web")
    t.ok(p.returncode == 0 and json.loads(p.stdout)["ansible_host"]
         == "10.4.0.2", "--host web", p.stdout + p.stderr)
    p = run(d, "inventory", "--host", "nosuch")
    t.ok(p.returncode == 1 and "no host 'nosuch'" in p.stderr,
         "--host of an unknown host fails", p.stderr)
    t.eq(snapshot(d), before, "--list/--host write nothing")
    # the shipped wrapper, run by Ansible itself
    wrapper = os.path.join(SRC, "examples", "infra", "proxmox",
                           "pve-gitops-inventory")
    t.ok(os.access(wrapper, os.X_OK), "the wrapper is executable")
    shutil.copy(wrapper, os.path.join(d, "proxmox"))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="True",
               PATH=os.path.dirname(BIN) + ":" + os.environ["PATH"])
    q = subprocess.run(["ansible-inventory", "-i",
                        os.path.join(d, "proxmox", "pve-gitops-inventory"),
                        "--list"], capture_output=True, text=True, env=env)
    ok = q.returncode == 0
    view = json.loads(q.stdout) if ok else {}
    t.eq(q.stderr.strip(), "", "the wrapper prints nothing Ansible would "
         "show as an error")
    t.ok(ok and view.get("k3s", {}).get("hosts") == ["k8s-a"]
         and view["_meta"]["hostvars"]["web"]["ansible_port"] == 2200,
         "ansible-inventory runs the wrapper as a dynamic inventory",
         q.stderr + q.stdout)
    shutil.rmtree(d)


def live():
    with Sim(SIM, "--token", "root@pam!ci=" + SECRET, "--task-ms",
             "10") as sim:
        d = example_repo(sim, SRC)
        cfg = os.path.join(d, "pve-gitops.yaml")
        with open(cfg) as f:
            text = f.read().replace("validate_with_ansible: auto",
                                    "validate_with_ansible: always")
        with open(cfg, "w") as f:
            f.write(text)
        p = run(d, "apply", "--auto-approve")
        if not t.eq(p.returncode, 0, "live: apply the examples"):
            print("#", p.stderr)
            return
        p = run(d, "inventory", "--dry-run")
        from_outputs = p.stdout
        p = run(d, "inventory", "--live", "--dry-run")
        t.eq(p.returncode, 0, "live: --live --dry-run exits 0")
        t.eq(p.stdout, from_outputs, "live: Proxmox says what the outputs "
             "say")
        p = run(d, "inventory", "--live")
        t.eq(p.returncode, 0, "live: --live writes")
        ini = read(d, "proxmox/k8s.ini")
        t.ok("k8s-observability ansible_host=192.168.1.20 "
             "ansible_user=suporte\n" in ini, "live: the example host line",
             ini)
        # a DHCP VM: the address comes from the guest agent
        with open(os.path.join(d, "proxmox", "vms", "dhcp-box.yaml"),
                  "w") as f:
            f.write("name: dhcp-box\ntarget_node: node01\n"
                    "clone: ubuntu24-template\nipconfig0: ip=dhcp\n"
                    "agent: 1\n")
        p = run(d, "apply", "--auto-approve")
        t.eq(p.returncode, 0, "live: apply a DHCP VM")
        time.sleep(0.6)  # the simulated guest agent answers 500 ms in
        p = run(d, "inventory", "--live")
        ini = read(d, "proxmox/k8s.ini")
        t.ok(p.returncode == 0 and "dhcp-box ansible_host=127.0.100." in ini
             and "127.0.100." in read(d, "proxmox/new_hosts.txt"),
             "live: the agent's address for a DHCP VM", p.stderr + ini)
        # issue 16: from the outputs too, the address of a DHCP VM with
        # agent: 1 comes from its guest agent (was: a warning)
        p = run(d, "inventory")
        t.ok(p.returncode == 0 and
             "dhcp-box has no known IPv4 address" not in p.stderr,
             "from outputs, the DHCP VM's address comes from the agent",
             p.stderr)
        t.ok("dhcp-box ansible_host=127.0.100." in read(d, "proxmox/k8s.ini"),
             "and the line is still there")
        shutil.rmtree(d)


def links_out():
    """The repository is untrusted (issue 13): a committed symlink must not
    make inventory read a file outside it (and write its content back as
    an inventory, for the automated commit to push) or write through a
    linked directory. Each is refused, and nothing changes, inside or
    outside."""
    out = tempfile.mkdtemp(prefix="pve-gitops-outside.")
    token = os.path.join(out, "vault-token")
    with open(token, "w") as f:
        f.write("hvs.s3cr3t\n")
    cases = [("proxmox/k8s.ini", token, "a k8s.ini linked to a token file"),
             ("proxmox/host_vars", out, "a host_vars linked outside"),
             ("proxmox/new_hosts.txt", os.path.join(out, "nh"),
              "a new_hosts.txt linked to a missing file outside")]
    for rel, target, name in cases:
        d = make_repo([{"name": "k8s-a", "ip": "10.1.0.1"}],
                      None if rel.endswith("k8s.ini") else "[k3s]\n")
        os.symlink(target, os.path.join(d, rel))
        before = sorted(os.listdir(out))
        p = run(d, "inventory")
        t.ok(p.returncode == 2 and rel in p.stderr and
             "leaves the repository" in p.stderr, "refused: " + name,
             (p.returncode, p.stderr))
        t.ok(os.path.islink(os.path.join(d, rel)) and
             sorted(os.listdir(out)) == before and
             "hvs.s3cr3t" not in p.stdout + p.stderr,
             name + ": nothing written inside or outside, nothing shown")
        shutil.rmtree(d)
    # the outputs the inventory reads, in a linked proxmox/.pve-gitops
    d = make_repo([{"name": "k8s-a", "ip": "10.1.0.1"}], "[k3s]\n")
    state = os.path.join(d, "proxmox", ".pve-gitops")
    shutil.move(os.path.join(state, "outputs.json"),
                os.path.join(out, "outputs.json"))
    os.rmdir(state)
    os.symlink(out, state)
    before = snapshot(d)
    p = run(d, "inventory")
    t.ok(p.returncode == 2 and "leaves the repository" in p.stderr,
         "refused: outputs in a linked proxmox/.pve-gitops", p.stderr)
    t.eq(snapshot(d), before, "a linked .pve-gitops: nothing changed")
    shutil.rmtree(d)
    with open(token) as f:
        t.eq(f.read(), "hvs.s3cr3t\n", "the outside file is untouched")
    shutil.rmtree(out)


def ansible_check():
    """validate_with_ansible: always: Ansible's own reading of the new
    files judges them. It is read with --export (a host's own variables
    apart from its groups'; two to three times faster at 10,000
    hosts) and, only
    when a host has no address of its own, again merged: a line of the
    user's that gives a managed host another address, a host_vars file of
    the user's that does, and one that takes it away are each refused
    with what Ansible read, and nothing changes."""
    wrap = tempfile.mkdtemp(prefix="pve-gitops-ansinv.")
    log = os.path.join(wrap, "argv.log")
    with open(os.path.join(wrap, "ansible-inventory"), "w") as f:
        f.write('#!/bin/sh\necho "$3 $4" >> %s\nexec %s "$@"\n'
                % (shlex.quote(log),
                   shlex.quote(shutil.which("ansible-inventory"))))
    os.chmod(os.path.join(wrap, "ansible-inventory"), 0o755)
    path = os.environ["PATH"]
    os.environ["PATH"] = wrap + ":" + path
    vms = [{"name": "k8s-a", "ip": "10.3.0.1"},
           {"name": "web", "ip": "10.3.0.2"}]
    ini = "# Individual hosts\n\n[k3s]\n"
    cases = [
        ("a line of the user's gives k8s-a another address",
         ini + "\n[mine]\nk8s-a ansible_host=10.9.9.9\n", {},
         "reads k8s-a in 'k8s.ini' with ansible_host 10.9.9.9, not "
         "10.3.0.1", ["--list --export"]),
        ("a host_vars file of the user's does", ini,
         {"web.yml": "ansible_host: 10.8.8.8\n"},
         "reads web in 'k8s.ini' with ansible_host 10.8.8.8, not 10.3.0.2",
         ["--list --export"]),
        ("one takes it away (read again merged)", ini + "[k3s:vars]\n"
         "ansible_host=10.3.0.1\n", {"k8s-a.yml": "ansible_host: null\n"},
         "reads k8s-a in 'k8s.ini' with ansible_host (none), not 10.3.0.1",
         ["--list --export", "--list "]),
    ]
    try:
        for name, before, hv, want, calls in cases:
            d = make_repo(vms, before, "validate_with_ansible: always\n",
                          host_vars=hv)
            snap = snapshot(d)
            if os.path.exists(log):
                os.unlink(log)
            p = run(d, "inventory")
            t.ok(p.returncode == 1 and "ansible-inventory " + want
                 in p.stderr and "nothing was changed" in p.stderr,
                 "check: " + name + ": refused", p.stderr)
            t.eq(snapshot(d), snap, "check: " + name + ": nothing changed")
            with open(log) as f:
                t.eq(f.read().splitlines(), calls,
                     "check: " + name + ": ansible-inventory " +
                     " then ".join(calls))
            shutil.rmtree(d)
        d = make_repo(vms, ini, "validate_with_ansible: always\n")
        os.unlink(log)
        p = run(d, "inventory")
        with open(log) as f:
            calls = f.read().splitlines()
        t.ok(p.returncode == 0 and calls == ["--list --export"],
             "check: a good inventory is read once, with --export",
             (p.stderr, calls))
        shutil.rmtree(d)
    finally:
        os.environ["PATH"] = path
        shutil.rmtree(wrap)


for c in CASES:
    golden(c)
bad_input()
links_out()
host_vars()
ansible_check()
dry_run()
dynamic()
live()
t.done()
