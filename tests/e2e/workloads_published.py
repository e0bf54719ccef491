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
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import e2elib  # noqa: E402
from simlib import Tap  # noqa: E402
from sshdlib import Sshds  # noqa: E402
from vault_simlib import VaultSim  # noqa: E402

BIN, PSIM, VSIM, SRC = sys.argv[1:5]
SECRET = "3e5f7a9b-1c3d-4e5f-8a9b-0c1d2e3f4a5b"
VTOKEN = "s.wlpublishede2e000000000"
t = Tap()
W = e2elib.Workdir("pve-gitops-wlp.")
D, REPO = W.dir, W.repo
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


git, commit = W.git, W.commit


def setup(psim, vsim, sshd):
    W.infra_repo(SRC)
    W.configure(psim, sshd, KNOWN, vault=vsim,
                extra="workloads: true\n" + e2elib.asan_ansible(BIN))
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
    commit("chore: the infrastructure repository and its workspace")


def env_for(vsim, sshd):
    os.makedirs(STUB_DIR)
    with open(os.path.join(STUB_DIR, "terraform"), "w") as f:
        f.write(STUB)
    os.chmod(os.path.join(STUB_DIR, "terraform"), 0o755)
    path = [STUB_DIR, os.path.dirname(os.path.abspath(BIN))] + [
        p for p in os.environ["PATH"].split(":") if p != "/usr/local/bin"]
    return W.env(sshd, SECRET, VAULT_ADDR=vsim.url, VAULT_TOKEN=VTOKEN,
                 STUB_RECORD=RECORD, PATH=":".join(path))


def records():
    if not os.path.exists(RECORD):
        return []
    with open(RECORD) as f:
        return [json.loads(line) for line in f]


def stage_published(env):
    W.vm_file("k8s-e2e", "127.0.0.2", agent=True)
    commit("feat: add the k8s-e2e cluster [ansible k8s-e2e]")
    t.ok(git("show", "--name-only", "--format=", "HEAD").split() ==
         ["proxmox/vms/k8s-e2e.yaml"], "the tagged commit changes no "
         "workspace file")
    p = W.run(BIN, env, "run", "--commit", "HEAD")
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
            e2elib.sim(PSIM, SECRET, "--task-ms", "10", "--boot-ms", "0",
                       "--guest-host-key",
                       "127.0.0.2=" + sshd.host_pub_file("127.0.0.2")) as psim:
        setup(psim, vsim, sshd)
        env = env_for(vsim, sshd)
        stage_published(env)
    W.cleanup()
    t.done()


main()
