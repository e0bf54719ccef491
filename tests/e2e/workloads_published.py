#!/usr/bin/python3
"""The chain's workloads step on its other trigger (issue 17): a workspace
whose context stage two just published. The workspace file
clusters/e2e.yaml (context k8s-e2e) is in the repository before; a later
commit tagged [ansible k8s-e2e] adds the K3s VM k8s-e2e and changes no
workspace file. `run --commit HEAD` creates the VM, runs the example
k8s.yml on it (real ansible-playbook, real sshd on 127.0.0.2; K3s itself
replaced by a stand-in install script: it cannot be downloaded here), the
playbook publishes the context to vault-sim, and then `workloads apply`
runs for that workspace with the kubeconfig just published.

Terraform cannot be installed on these machines as a test dependency, so
a RECORDING stand-in `terraform` comes first on PATH: it records its argv
and the context and server of the kubeconfig it was given.

Usage: workloads_published.py PVE_GITOPS PROXMOX_SIM VAULT_SIM SOURCE_DIR
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from kubelib import asan_build  # noqa: E402
from simlib import Sim, Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "3e5f7a9b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
VTOKEN = "s.wlpublishede2e000000000"
t = Tap()
D = tempfile.mkdtemp(prefix="pve-gitops-wlp.")
REPO = os.path.join(D, "repo")
REMOTE = os.path.join(D, "remote.git")
KNOWN = os.path.join(D, "ssh", "known_hosts")
STUB_DIR = os.path.join(D, "stub")
RECORD = os.path.join(D, "record.jsonl")

STUB = """#!/usr/bin/python3
import json, os, sys
rec = {"argv": sys.argv[1:]}
kc = os.environ.get("KUBECONFIG")
if kc:
    rec["kubeconfig"] = open(kc).read()
with open(os.environ["STUB_RECORD"], "a") as f:
    f.write(json.dumps(rec) + "\\n")
"""

K3S = ("apiVersion: v1\nclusters:\n- cluster:\n"
       "    certificate-authority-data: QUJD\n"
       "    server: https://127.0.0.1:6443\n  name: default\n"
       "contexts:\n- context:\n    cluster: default\n"
       "    user: default\n  name: default\n"
       "current-context: default\nkind: Config\npreferences: {}\n"
       "users:\n- name: default\n  user:\n"
       "    client-certificate-data: REVG\n"
       "    client-key-data: R0hJ\n")


def git(*args, cwd=REPO):
    p = subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True,
                       text=True)
    if p.returncode:
        raise RuntimeError("%s: %s" % (args, p.stderr))
    return p.stdout.strip()


def commit(msg):
    git("add", "-A")
    git("commit", "-q", "-m", msg)
    git("push", "-q", "origin", "HEAD:main")


def configure(psim, vsim, sshd):
    cfg = os.path.join(REPO, "pve-gitops.yaml")
    text = open(cfg).read()
    text = re.sub(r"  endpoint: .*", "  endpoint: %s\n  tls_fingerprint: "
                  "\"%s\"" % (psim.url, psim.fingerprint), text)
    text = re.sub(r"ssh:\n  port: 22\n  known_hosts: .*\n  wait_seconds: "
                  r"300", "ssh:\n  port: %d\n  known_hosts: %s\n  "
                  "wait_seconds: 20" % (sshd.port, KNOWN), text)
    text = text.replace("vault:\n", "vault:\n  addr: %s\n" % vsim.url)
    text += "workloads: true\n"
    if asan_build(BIN):
        text += "ansible:\n  memory_limit: 0\n"
    open(cfg, "w").write(text)


def setup(psim, vsim, sshd):
    git("init", "-q", "--bare", "-b", "main", REMOTE, cwd=D)
    os.makedirs(REPO)
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Dev")
    git("config", "user.email", "dev@example.test")
    for item in ("pve-gitops.yaml", ".gitignore", "proxmox"):
        src = os.path.join(SRC, "examples", "infra", item)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(REPO, item))
        else:
            shutil.copy(src, REPO)
    vms = os.path.join(REPO, "proxmox", "vms")
    for n in os.listdir(vms):
        os.unlink(os.path.join(vms, n))
    configure(psim, vsim, sshd)
    fake = os.path.join(D, "fake-k3s-install.sh")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\nset -e\nmkdir -p %s\ncat > %s/k3s.yaml <<EOF\n"
                "%sEOF\n" % (D, D, K3S))
    os.chmod(fake, 0o755)
    os.makedirs(os.path.join(REPO, "proxmox", "group_vars"))
    with open(os.path.join(REPO, "proxmox", "group_vars", "k3s.yml"),
              "w") as f:
        f.write("k3s_install_command: %s\nk3s_kubeconfig_path: "
                "%s/k3s.yaml\nk3s_wait_seconds: 10\n" % (fake, D))
    os.makedirs(os.path.join(REPO, "clusters"))
    with open(os.path.join(REPO, "clusters", "e2e.yaml"), "w") as f:
        f.write("kubernetes_context: k8s-e2e\n"
                "workloads: [externaldns, cert_manager]\n")
    git("remote", "add", "origin", REMOTE)
    commit("chore: the infrastructure repository and its workspace")


def env_for(vsim, sshd):
    home = os.path.join(D, "home")
    os.makedirs(home, exist_ok=True)
    os.makedirs(STUB_DIR)
    with open(os.path.join(STUB_DIR, "terraform"), "w") as f:
        f.write(STUB)
    os.chmod(os.path.join(STUB_DIR, "terraform"), 0o755)
    path = [STUB_DIR, os.path.dirname(os.path.abspath(BIN))] + [
        p for p in os.environ["PATH"].split(":") if p != "/usr/local/bin"]
    e = dict(os.environ, PM_API_TOKEN_ID="root@pam!ci",
             PM_API_TOKEN_SECRET=SECRET, VAULT_ADDR=vsim.url,
             VAULT_TOKEN=VTOKEN, HOME=home, STUB_RECORD=RECORD,
             ANSIBLE_PRIVATE_KEY_FILE=sshd.client_key, ANSIBLE_NOCOLOR="1",
             PATH=":".join(path))
    e.pop("PM_API_URL", None)
    return e


def records():
    if not os.path.exists(RECORD):
        return []
    with open(RECORD) as f:
        return [json.loads(line) for line in f]


def stage_published(env):
    with open(os.path.join(REPO, "proxmox", "vms", "k8s-e2e.yaml"),
              "w") as f:
        f.write("name: k8s-e2e\ntarget_node: node01\ncores: 1\n"
                "memory: 1024\nclone: ubuntu24-template\n"
                'ipconfig0: "ip=127.0.0.2/8,gw=127.0.0.1"\nciuser: root\n'
                "agent: 1\n")
    commit("feat: add the k8s-e2e cluster [ansible k8s-e2e]")
    t.ok(git("show", "--name-only", "--format=", "HEAD").split() ==
         ["proxmox/vms/k8s-e2e.yaml"], "the tagged commit changes no "
         "workspace file")
    p = subprocess.run([BIN, "-C", REPO, "--no-color", "run", "--commit",
                        "HEAD"], capture_output=True, text=True, env=env,
                       timeout=600)
    if not t.eq(p.returncode, 0, "run --commit HEAD exits 0"):
        print("#", p.stdout[-3000:], p.stderr[-3000:])
        return
    recs = records()
    t.eq([r["argv"] for r in recs], [
        ["init", "-input=false"],
        ["workspace", "select", "-or-create", "e2e"],
        ["apply", "-input=false", "-auto-approve",
         "-var-file=e2e.auto.tfvars.json"]],
        "the workspace whose context stage two published is applied")
    kc = recs[-1].get("kubeconfig", "") if recs else ""
    t.ok("k8s-e2e" in kc and "https://127.0.0.2:6443" in kc,
         "with the kubeconfig the playbook just published", kc)
    out = p.stdout
    done = "workloads: e2e: terraform apply done (context k8s-e2e)"
    t.ok(done in out and "ansible-playbook" in out.lower() and
         out.index(done) > out.lower().rindex("ansible-playbook"),
         "after stage two", out[-2000:])
    t.ok(VTOKEN not in out + p.stderr, "the Vault token never shows")


def main():
    with Sshds(["127.0.0.2"]) as sshd, \
            VaultSim(VSIM, token=VTOKEN) as vsim, \
            Sim(PSIM, "--token", "root@pam!ci=" + SECRET, "--task-ms", "10",
                "--boot-ms", "0", "--guest-host-key",
                "127.0.0.2=" + sshd.host_pub_file("127.0.0.2")) as psim:
        setup(psim, vsim, sshd)
        env = env_for(vsim, sshd)
        stage_published(env)
    shutil.rmtree(D, ignore_errors=True)
    t.done()


main()
