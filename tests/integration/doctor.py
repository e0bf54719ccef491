#!/usr/bin/python3
"""`pve-gitops doctor`: each link of the chain broken on purpose, one case
a link, checking the verdict and the suggested fix in the text and in the
JSON (version 1: per VM an array of links {name, status, detail, fix}).

The environment is the end-to-end one, loopback only: a git repository
with a bare remote (tests/e2e/e2elib.py), proxmox-sim, vault-sim and real
sshd servers on 127.0.0.2 and 127.0.0.3 (tests/e2e/sshdlib.py) standing in
for two VMs, web-doc and the K3s VM k8s-doc, provisioned for real first
by `run --push` (real ansible-playbook, a playbook that records its run).
K3s itself is not installed: its kubeconfig is published with
`pve-gitops kubeconfig publish`, as k8s.yml would, its server a TLS port
of this machine (proxmox-sim's, with a certificate for 127.0.0.1 as the
cluster's CA), or a closed one.

Cases: all ok (exit 0, table and JSON); the kubeconfig context missing in
Vault; its server unreachable; no workspace for the context (not reached),
one that passes `workloads check` and one that does not; an invalid definition; an excluded VM;
missing credentials (Proxmox's, Vault's); a VM missing in Proxmox; a
stopped VM; a VM that is not managed; digest drift; a change pending for the next boot; not in the
inventory; not in its group; a commit without the tag; not in
new_hosts.txt of any automated commit; the playbook missing; the host
key not recorded; the SSH port closed; a broken config (it still runs,
and says so). No secret appears in any output.

Usage: doctor.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import base64
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import requests  # noqa: E402
import urllib3  # noqa: E402

import e2elib  # noqa: E402
from kubelib import K3S  # noqa: E402
from simlib import Tap, make_cert  # noqa: E402
from sshdlib import Sshds, free_port  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

urllib3.disable_warnings()
BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "3e8a1c5f-7b9d-4f1a-8c3e-5a7b9d1f3c5e"
VTOKEN = "s.doctortesttoken0000000000"
t = Tap()
W = e2elib.Workdir("pve-gitops-doctor.")
KNOWN = os.path.join(W.dir, "ssh", "known_hosts")
OUTPUTS = []  # every output, checked for secrets at the end
WEB, K8S = "web-doc", "k8s-doc"
IPS = {WEB: "127.0.0.2", K8S: "127.0.0.3"}


def repo(*parts):
    return os.path.join(W.repo, *parts)


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def pg(env, *args):
    p = W.run(BIN, env, *args)
    OUTPUTS.append(p.stdout + p.stderr)
    return p


def doctor(env, *args):
    """doctor ARGS as text and as --json: (text process, parsed JSON,
    json process)."""
    p = pg(env, "doctor", "--ssh-wait", "2", *args)
    j = pg(env, "doctor", "--ssh-wait", "2", "--json", *args)
    try:
        js = json.loads(j.stdout)
    except ValueError:
        js = {}
    return p, js, j


def links_of(js, vm):
    for v in js.get("vms", []):
        if v["name"] == vm:
            return v["links"]
    return []


def check(case, env, vm, name, status, detail, fix, rc=1):
    """doctor VM: link name has status, its detail matches the regular
    expression detail and its fix fix (None: no fix), in the text and the
    JSON; the links after a failed one are not reached; exit status rc."""
    p, js, j = doctor(env, vm)
    out = p.stdout + p.stderr
    t.eq((p.returncode, j.returncode), (rc, rc), "%s: exit %d" % (case, rc))
    words = {"ok": "ok", "failed": "failed", "not_reached": "not reached"}
    line = re.search(r"^  %s +%s +(.*)$" % (re.escape(name), words[status]),
                     p.stdout, re.M)
    t.ok(line and re.search(detail, line.group(1)),
         "%s: text says %s %s (%s)" % (case, name, words[status], detail),
         out)
    if fix:
        after = p.stdout[line.end():].split("\n")[1] if line else ""
        t.ok(re.search(r"^ +fix: .*" + fix, after),
             "%s: text suggests %s" % (case, fix), out)
    links = links_of(js, vm)
    got = [x for x in links if x["name"] == name]
    lk = got[0] if got else {}
    t.ok(lk.get("status") == status and re.search(detail, lk.get("detail",
                                                               "")),
         "%s: JSON says %s %s" % (case, name, status), j.stdout[-3000:])
    if fix:
        t.ok(re.search(fix, lk.get("fix") or ""),
             "%s: JSON suggests %s" % (case, fix), json.dumps(lk))
    else:
        t.ok(lk.get("fix") is None, "%s: no fix in the JSON" % case,
             json.dumps(lk))
    if status == "failed" and lk in links:
        rest = links[links.index(lk) + 1:]
        t.ok(all(x["status"] == "not_reached" for x in rest),
             "%s: the links after %s are not reached" % (case, name),
             json.dumps(rest))
    return p, js


def api(psim, method, path, **kw):
    r = requests.request(method, psim.api(path), verify=False, timeout=30,
                         headers={"Authorization": "PVEAPIToken=%s=%s" %
                                  (e2elib.TOKEN_ID, SECRET)}, **kw)
    r.raise_for_status()
    return r.json()["data"]


def vm_of(psim, name):
    for v in api(psim, "GET", "/cluster/resources", params={"type": "vm"}):
        if v.get("name") == name:
            return v
    return None


def publish(env, port, cert):
    """k3s.yaml as K3s writes it, its server's port port and its CA the
    certificate cert (proxmox-sim's, for 127.0.0.1), published."""
    path = W.path("k3s.yaml")
    with open(cert, "rb") as f:
        ca = base64.b64encode(f.read()).decode()
    write(path, K3S.replace(":6443", ":%d" % port).replace("QUJD", ca))
    # as k8s.yml does, the loopback server of k3s.yaml replaced by the
    # host's address (here, where the TLS server listens)
    return pg(env, "kubeconfig", "publish", "--kubeconfig", path,
              "--context", K8S, "--server-host", "127.0.0.1")


def restore(*paths):
    W.git("checkout", "--", *paths)


def setup(psim, vsim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, KNOWN, vault=vsim)
    W.record_playbook("site", W.path("site-runs.log"))
    W.vm_file(WEB, IPS[WEB])
    W.vm_file(K8S, IPS[K8S])
    W.commit("feat: two VMs [ansible site]")


def case_baseline(env, psim):
    p = pg(env, "run", "--push")
    ok = t.eq(p.returncode, 0, "baseline: run --push provisions both VMs")
    if not ok:
        print("#", p.stdout[-3000:], p.stderr[-3000:])
    return ok


def case_k3s(env, psim, cert):
    check("context missing", env, K8S, "kube-context", "failed",
          "no secret at|no context 'k8s-doc'", "kubeconfig publish")
    closed = free_port()
    pub = publish(env, closed, cert)
    t.ok(pub.returncode == 0, "kubeconfig publish (closed port)",
         pub.stdout + pub.stderr)
    check("server unreachable", env, K8S, "kube-server", "failed",
          "127.0.0.1:%d" % closed, "systemctl status k3s")
    pub = publish(env, psim.port, cert)
    t.ok(pub.returncode == 0, "kubeconfig publish (a TLS server)",
         pub.stdout + pub.stderr)
    check("k3s ok", env, K8S, "kube-server", "ok", "TLS handshake", None,
          rc=0)
    check("no workloads", env, K8S, "workloads", "not_reached",
          "workloads are not configured", None, rc=0)
    os.makedirs(repo("clusters"))
    ws = repo("clusters", "observability.yaml")
    write(ws, "kubernetes_context: %s\nworkloads: [externaldns]\n" % K8S)
    check("workloads ok", env, K8S, "workloads", "ok",
          "observability: context k8s-doc, server .* answers TLS", None,
          rc=0)
    write(ws, "kubernetes_context: %s\nworkloads: [certmanager]\n" % K8S)
    check("workloads check fails", env, K8S, "workloads", "failed",
          "observability.yaml:2:.*unknown workload 'certmanager'",
          "pve-gitops workloads check observability")
    shutil.rmtree(repo("clusters"))


def case_all_ok(env):
    p, js, j = doctor(env)
    t.eq((p.returncode, j.returncode), (0, 0), "all ok: exit 0")
    for ln in p.stdout.splitlines():
        print("# " + ln)
    rows = [ln.split()[:3] for ln in p.stdout.splitlines()
            if ln.startswith(("web-doc", "k8s-doc"))]
    t.eq(sorted(rows), [[K8S, "ok", "16/17"], [WEB, "ok", "14/14"]],
         "all ok: the table, one row a VM (workloads not reached)")
    t.ok(p.stdout.startswith("config ") and "VM " in p.stdout,
         "all ok: the config line and the table's header", p.stdout)
    q = pg(env, "doctor", "-q")
    t.ok(q.returncode == 0 and q.stdout == p.stdout and not q.stderr,
         "all ok: -q prints the same report and nothing else",
         q.stdout + q.stderr)
    t.eq((js.get("version"), js.get("ok"), js.get("config", {}).get(
        "status")), (1, True, "ok"), "all ok: JSON version, ok, config")
    names = [x["name"] for x in links_of(js, K8S)]
    t.eq(names, ["definition", "credentials", "proxmox-vm", "managed",
                 "running", "digest", "pending", "inventory", "groups",
                 "new-hosts", "tag", "playbook", "ssh-port", "known-host",
                 "kube-context", "kube-server", "workloads"],
         "all ok: the links of a K3s VM, in chain order")
    t.eq(len(links_of(js, WEB)), 14, "all ok: a VM that is not K3s has "
         "no K3s links")
    cred = [x for x in links_of(js, K8S) if x["name"] == "credentials"]
    t.ok(cred and "PM_API_TOKEN_SECRET (environment)" in cred[0]["detail"]
         and "VAULT_TOKEN (environment)" in cred[0]["detail"],
         "all ok: the credentials' sources, by name", json.dumps(cred))
    for v in js.get("vms", []):
        for x in v["links"]:
            if not set(x) >= {"name", "status", "detail", "fix"}:
                t.ok(False, "all ok: every link has name, status, detail, "
                     "fix", json.dumps(x))
                return


def case_definition(env):
    f = repo("proxmox", "vms", WEB + ".yaml")
    text = read(f)
    write(f, text.replace("cores: 1", "cores: many"))
    check("invalid definition", env, WEB, "definition", "failed",
          r"web-doc\.yaml:\d+:\d+: error: .*cores",
          r"pve-gitops validate proxmox/vms/web-doc\.yaml")
    check("invalid definition elsewhere", env, K8S, "definition", "failed",
          "other definitions have errors", "pve-gitops validate")
    write(f, text)
    cfg = read(W.config)
    write(W.config, cfg.replace("  - boot-server.yaml\n",
                                "  - boot-server.yaml\n  - web-doc.yaml\n"))
    check("excluded", env, WEB, "definition", "failed", "is excluded",
          "remove 'web-doc.yaml' from exclude:")
    p, js, j = doctor(env)
    t.ok(WEB not in [v["name"] for v in js.get("vms", [])],
         "excluded: not walked without a NAME", j.stdout[-2000:])
    write(W.config, cfg)


def case_credentials(env):
    bare = dict(env)
    for k in ("PM_API_TOKEN_ID", "PM_API_TOKEN_SECRET"):
        bare.pop(k)
    check("no Proxmox credentials", bare, WEB, "credentials", "failed",
          "no Proxmox credentials", "PM_API_TOKEN_ID and PM_API_TOKEN_SECRET")
    novault = dict(env)
    novault.pop("VAULT_TOKEN")
    check("no Vault token", novault, K8S, "credentials", "failed",
          "no Vault token", "VAULT_TOKEN")
    token_file = W.path("home", ".vault-token")
    write(token_file, VTOKEN + "\n")
    check("Vault token from a file", novault, K8S, "credentials", "ok",
          r"Vault token from ~/\.vault-token \(file\)", None, rc=0)
    os.unlink(token_file)


def case_proxmox(env, psim):
    ghost = repo("proxmox", "vms", "ghost-doc.yaml")
    W.vm_file("ghost-doc", "127.0.0.9")
    check("VM missing", env, "ghost-doc", "proxmox-vm", "failed",
          "no VM named ghost-doc", "pve-gitops apply")
    os.unlink(ghost)
    v = vm_of(psim, WEB)
    api(psim, "POST", "/nodes/%s/qemu/%d/status/stop" % (v["node"],
                                                           v["vmid"]))
    e2elib.wait_for(lambda: vm_of(psim, WEB)["status"] == "stopped", 30)
    check("VM stopped", env, WEB, "running", "failed", "is stopped",
          "qm start %d" % v["vmid"])
    api(psim, "POST", "/nodes/%s/qemu/%d/status/start" % (v["node"],
                                                            v["vmid"]))
    e2elib.wait_for(lambda: vm_of(psim, WEB)["status"] == "running", 30)
    path = "/nodes/%s/qemu/%d/config" % (v["node"], v["vmid"])
    tags = api(psim, "GET", path)["tags"]
    api(psim, "PUT", path, data={"tags": ";".join(
        x for x in tags.split(";") if x != "pve-gitops")})
    check("not managed", env, WEB, "managed", "failed", "not managed",
          "pve-gitops apply --adopt")
    api(psim, "PUT", path, data={"tags": tags})
    f = repo("proxmox", "vms", WEB + ".yaml")
    text = read(f)
    write(f, text.replace("cores: 1", "cores: 2"))
    check("digest drift", env, WEB, "digest", "failed",
          r"cores \(1 -> 2\)", "pve-gitops apply")
    write(f, text)


def case_pending(env):
    f = repo("proxmox", "vms", K8S + ".yaml")
    write(f, read(f).replace("cores: 1", "cores: 2") +
          "automatic_reboot: false\n")
    p = pg(env, "apply", "--auto-approve")
    t.eq(p.returncode, 0, "pending: apply leaves the change for a boot")
    check("pending", env, K8S, "pending", "failed",
          "wait.* for the next boot: cores", "qm reboot")


def case_inventory(env):
    inv = repo("proxmox", "k8s.ini")
    text = read(inv)
    write(inv, "".join(ln for ln in text.splitlines(True)
                       if not ln.startswith(WEB)))
    check("not in the inventory", env, WEB, "inventory", "failed",
          "no host line for web-doc", "pve-gitops inventory")
    lines, group = [], None
    for ln in text.splitlines(True):
        if ln.startswith("["):
            group = ln.strip()
        if not (group == "[k3s]" and ln.startswith(K8S)):
            lines.append(ln)
    write(inv, "".join(lines))
    check("not in its group", env, K8S, "groups", "failed",
          r"not in \[k3s\]", "pve-gitops inventory")
    write(inv, text)


def case_commits(env):
    nh = repo("proxmox", "new_hosts.txt")
    write(nh, "%s,%s\n" % (IPS[WEB], WEB))
    W.commit("Auto-update Ansible inventory", push=False)
    rev = W.git("rev-parse", "HEAD")
    check("commit without the tag", env, WEB, "tag", "failed",
          "carries no \\[ansible NAME\\] tag",
          "pve-gitops provision --commit %s --playbook" % rev)
    W.git("reset", "-q", "--hard", "HEAD~1")
    book = repo("proxmox", "playbooks", "site.yml")
    shutil.move(book, book + ".away")
    check("playbook missing", env, WEB, "playbook", "failed", "site",
          "add proxmox/playbooks/site.yml")
    shutil.move(book + ".away", book)
    shutil.move(KNOWN, KNOWN + ".away")
    check("host key not recorded", env, WEB, "known-host", "failed",
          r"no host key for \[127\.0\.0\.2\]:\d+", "ssh-keyscan -p")
    shutil.move(KNOWN + ".away", KNOWN)


def case_new_hosts(env):
    W.vm_file("db-doc", "127.0.0.4")
    p = pg(env, "apply", "--auto-approve")
    q = pg(env, "inventory")
    t.eq((p.returncode, q.returncode), (0, 0), "new hosts: apply and "
         "inventory by hand")
    W.commit("chore: db-doc by hand", push=False)
    check("not in new_hosts.txt", env, "db-doc", "new-hosts", "failed",
          "no automated commit", "ansible-playbook -i proxmox/k8s.ini")


def case_ssh(env, sshd):
    check("ssh ok", env, WEB, "ssh-port", "ok", "SSH banner", None, rc=0)
    sshd.procs[IPS[WEB]].terminate()
    sshd.procs[IPS[WEB]].wait(timeout=10)
    check("SSH port closed", env, WEB, "ssh-port", "failed", "127.0.0.2",
          "ping 127.0.0.2")


def case_no_definitions(env):
    p = pg(env, "-C", W.dir, "doctor")
    t.ok(p.returncode == 1 and "no VM definitions" in p.stderr and
         not p.stdout, "no definitions directory: an error, exit 1",
         p.stdout + p.stderr)


def case_config(env):
    cfg = read(W.config)
    write(W.config, cfg + "vms_dir: [\n")
    p, js, j = doctor(env)
    t.eq((p.returncode, j.returncode), (1, 1), "broken config: exit 1")
    t.ok(re.search(r"^config +failed +.*pve-gitops\.yaml:\d+", p.stdout,
                   re.M) and "fix: " in p.stdout,
         "broken config: the config link fails, with where and a fix",
         p.stdout + p.stderr)
    t.eq((js.get("ok"), js.get("config", {}).get("status"), js.get("vms")),
         (False, "failed", []), "broken config: JSON")
    p, js, j = doctor(env, WEB)
    t.ok(p.returncode == 1 and links_of(js, WEB) and
         all(x["status"] == "not_reached" and
             x["detail"] == "the configuration did not load"
             for x in links_of(js, WEB)),
         "broken config: a named VM's links are not reached, and say why",
         j.stdout[-2000:])
    write(W.config, cfg)


def main():
    cert, key = make_cert(W.dir)
    with Sshds(list(IPS.values())) as sshd, \
            VaultSim(VSIM, token=VTOKEN) as vsim, \
            e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--boot-ms", "0",
                       "--tls-cert", cert, "--tls-key", key) as psim:
        setup(psim, vsim, sshd)
        env = W.env(sshd, SECRET, VAULT_ADDR=vsim.url, VAULT_TOKEN=VTOKEN)
        if case_baseline(env, psim):
            case_k3s(env, psim, cert)
            case_all_ok(env)
            case_definition(env)
            case_credentials(env)
            case_proxmox(env, psim)
            case_inventory(env)
            case_commits(env)
            case_new_hosts(env)
            case_pending(env)
            case_ssh(env, sshd)
            case_config(env)
            case_no_definitions(env)
        leaked = [o for o in OUTPUTS if SECRET in o or VTOKEN in o]
        t.ok(not leaked, "no secret in any output", "".join(leaked)[:2000])
    W.cleanup()
    t.done()


main()
